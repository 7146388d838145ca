/// The global audit view: every journal merged, newest first (docs/format.md §7.7).
public enum AuditLog {
    /// One line of the merged view.
    public struct Row: Sendable, Hashable {
        /// The journal it came from: `inbox` or a thread id.
        public var journal: String
        public var entry: JournalEntry
    }

    /// A journal's chain status.
    public struct ChainStatus: Sendable, Hashable {
        public var journal: String
        public var lines: Int
        /// Nil when intact; else the first broken line and why.
        public var problem: FormatError?
        public var isIntact: Bool { problem == nil }

        public init(journal: String, lines: Int, problem: FormatError?) {
            self.journal = journal
            self.lines = lines
            self.problem = problem
        }
    }

    /// Merges journals newest first (without `anchor` lines): by time, then journal name, then seq (so the order is total and
    /// the same on every build).
    public static func merge(_ journals: [(name: String, entries: [JournalEntry])]) -> [Row] {
        // Anchor lines are bookkeeping for `audit verify` (docs/format.md §7.3), left out of the view.
        journals.flatMap { journal in
            journal.entries.filter { $0.event.name != "anchor" }.map { Row(journal: journal.name, entry: $0) }
        }
        .sorted { a, b in
            if a.entry.ts != b.entry.ts { return a.entry.ts > b.entry.ts }
            if a.journal != b.journal { return a.journal.utf8.lexicographicallyPrecedes(b.journal.utf8) }
            return a.entry.seq > b.entry.seq
        }
    }

    /// Verifies one journal's chain; `readError` is a problem found while reading (a bad or torn line).
    public static func status(journal: String, entries: [JournalEntry], readError: FormatError?) -> ChainStatus {
        let chainError = JournalText.verifyChain(entries)
        return ChainStatus(journal: journal, lines: entries.count, problem: chainError ?? readError)
    }

    /// A one-line summary of an entry's fields beyond event and target, for lists.
    public static func summary(_ entry: JournalEntry) -> String {
        entry.event.fields
            .filter { $0.0 != "event" && $0.0 != "target" && $0.0 != "detail" }
            .map { key, value in
                switch value {
                case let .string(text): "\(key)=\(text)"
                case let .int(number): "\(key)=\(number)"
                }
            }
            .joined(separator: " ")
    }
}
