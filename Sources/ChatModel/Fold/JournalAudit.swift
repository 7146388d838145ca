/// `letterbox audit verify`: every journal checked on its own (each line's hash, the chain, the fold)
/// and the thread journals checked against the heads the inbox journal anchored (docs/format.md §7.3).
///
/// Pure: the caller reads the files. A finding names the first line that is not what was written, as
/// exactly as the journals allow: a changed, dropped, inserted or reordered line is named exactly; a
/// cut tail or a deleted journal by the anchor that still names the lost lines; a run of lines rewritten
/// with recomputed hashes by the lines after the last anchor that still holds (`line...lastLine`).
public enum JournalAudit {
    /// The first thing wrong with one journal.
    public struct Finding: Sendable, Hashable {
        /// `inbox` or the thread id.
        public var journal: String
        /// The first line that is not what was written (1 when the whole file is missing).
        public var line: Int
        /// When the change can only be placed in a range of lines: the last line of it.
        public var lastLine: Int?
        /// What is wrong, in words an operator can act on.
        public var message: String

        public init(journal: String, line: Int, lastLine: Int? = nil, message: String) {
            self.journal = journal
            self.line = line
            self.lastLine = lastLine
            self.message = message
        }
    }

    /// What verifying found.
    public struct Report: Sendable {
        /// At most one finding per journal (its first bad line), inbox first, then threads by id.
        public var findings: [Finding]
        public var journals = 0
        public var lines = 0
        /// Threads whose journal the inbox journal anchors.
        public var anchoredThreads = 0
        /// The inbox journal's last line, to publish as an external anchor (docs/format.md §7.3).
        public var inboxHead: JournalEntry?
    }

    /// One anchored head, with the inbox journal line that recorded it.
    public struct Anchor: Sendable, Hashable {
        public var seq: Int
        public var hash: String
        public var inboxLine: Int
    }

    /// One line of a file: the entry, or why it is not one.
    public typealias Line = Result<JournalEntry, FormatError>

    /// Splits a whole journal file into lines and decodes each (a bad line does not stop the others:
    /// anchors after it still vouch for what they name). A last line without `\n` is an error.
    public static func lines(_ bytes: [UInt8]) -> [Line] {
        var out: [Line] = []
        var start = 0
        while start < bytes.count {
            guard let newline = bytes[start...].firstIndex(of: 10) else {
                out.append(
                    .failure(
                        FormatError(
                            .journal, "the last line is incomplete (no newline: a torn write, or the file was cut)")))
                break
            }
            do {
                out.append(.success(try JournalCodec.decode(bytes[start..<newline])))
            } catch {
                out.append(.failure(error))
            }
            start = newline + 1
        }
        return out
    }

    /// The anchors in the inbox journal's lines, by thread, in order.
    public static func anchors(in inbox: [Line]) -> [String: [Anchor]] {
        var anchors: [String: [Anchor]] = [:]
        for (index, line) in inbox.enumerated() {
            guard case let .success(entry) = line, case let .anchor(heads) = entry.event else { continue }
            for head in heads {
                anchors[head.thread, default: []].append(Anchor(seq: head.seq, hash: head.hash, inboxLine: index + 1))
            }
        }
        return anchors
    }

    /// Verifies the inbox journal (`nil`: there is none) and the thread journals that exist, by thread
    /// id. A thread that the inbox journal anchors and that is not in `threads` is reported missing.
    public static func verify(inbox: [UInt8]?, threads: [String: [UInt8]]) -> Report {
        let inboxLines = inbox.map(Self.lines) ?? []
        let anchors = Self.anchors(in: inboxLines)
        var report = Report(findings: [])
        if inbox != nil {
            report.journals += 1
            report.lines += inboxLines.count
            if case let .success(entry)? = inboxLines.last { report.inboxHead = entry }
            if let finding = verifyInbox(inboxLines) { report.findings.append(finding) }
        }
        report.anchoredThreads = anchors.count
        let ids = Set(threads.keys).union(anchors.keys).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for id in ids {
            let threadAnchors = anchors[id] ?? []
            guard let bytes = threads[id] else {
                let last = threadAnchors.max { $0.seq < $1.seq }
                report.findings.append(
                    Finding(
                        journal: id, line: 1, lastLine: last?.seq,
                        message:
                            "the journal is missing, but the inbox journal anchored its \(last?.seq ?? 0) lines (inbox journal line \(last?.inboxLine ?? 0)): it was deleted or moved; restore it from git or a backup"
                    ))
                continue
            }
            let threadLines = lines(bytes)
            report.journals += 1
            report.lines += threadLines.count
            if let finding = verifyThread(id, threadLines, anchors: threadAnchors) { report.findings.append(finding) }
        }
        return report
    }

    /// The inbox journal: each line, the chain and the fold. (What would anchor it is outside it: a
    /// published head, git history.)
    public static func verifyInbox(_ lines: [Line]) -> Finding? {
        var candidates = chainFindings(lines)
        if let fold = foldFinding(
            lines, InboxState(), apply: { state, entry throws(FormatError) in try state.apply(entry) })
        {
            candidates.append(fold)
        }
        return candidates.min { $0.line < $1.line }.map {
            Finding(journal: "inbox", line: $0.line, message: $0.message)
        }
    }

    /// One thread journal against its anchors (in inbox journal order).
    public static func verifyThread(_ id: String, _ lines: [Line], anchors: [Anchor]) -> Finding? {
        var candidates = chainFindings(lines, vouched: vouched(lines, anchors: anchors))
        if let fold = foldFinding(
            lines, ThreadState(id: id), apply: { state, entry throws(FormatError) in try state.apply(entry) })
        {
            candidates.append(fold)
        }
        let found = candidates.map(\.line).min()
        // Anchors that no longer hold, placed between the last one below them that holds and themselves,
        // unless a line-level finding already explains them.
        let intact = Set(
            anchors.filter { anchor in
                guard anchor.seq <= lines.count, case let .success(entry) = lines[anchor.seq - 1] else { return false }
                return entry.hash == anchor.hash
            }.map(\.seq))
        for anchor in anchors where !intact.contains(anchor.seq) {
            let below = intact.filter { $0 < anchor.seq }.max() ?? 0
            if let found, found <= min(anchor.seq, lines.count + 1) { continue }
            if anchor.seq > lines.count {
                candidates.append(
                    (
                        lines.count + 1, anchor.seq,
                        "line \(anchor.seq) is missing: the inbox journal anchored this journal at \(anchor.seq) lines (inbox journal line \(anchor.inboxLine)) but it has \(lines.count); its end was cut off. Restore it from git or a backup"
                    ))
            } else if case .success = lines[anchor.seq - 1] {
                candidates.append(
                    (
                        below + 1, anchor.seq,
                        "line \(anchor.seq) is not the line the inbox journal anchored (inbox journal line \(anchor.inboxLine), hash \(anchor.hash.prefix(12))…): lines \(below + 1)-\(anchor.seq) were rewritten with recomputed hashes, or the journal was replaced. Restore it from git or a backup"
                    ))
            }
        }
        return candidates.min { $0.line < $1.line }.map {
            Finding(
                journal: id, line: $0.line, lastLine: $0.lastLine == $0.line ? nil : $0.lastLine, message: $0.message)
        }
    }

    private typealias Candidate = (line: Int, lastLine: Int?, message: String)

    /// The first bad line by the file alone: a line that does not decode, a `seq` out of place, a `prev`
    /// that is not the previous line's hash. When the line after a break is vouched for by an anchor,
    /// the line before it is the one that changed (it was rewritten with a recomputed hash, or inserted).
    private static func chainFindings(_ lines: [Line], vouched: Set<Int> = []) -> [Candidate] {
        var hashCounts: [String: Int] = [:]
        for case let .success(entry) in lines { hashCounts[entry.hash, default: 0] += 1 }
        for (index, line) in lines.enumerated() {
            let position = index + 1
            let entry: JournalEntry
            switch line {
            case let .failure(error): return [(position, nil, error.message)]
            case let .success(decoded): entry = decoded
            }
            let previousHash: String?
            if index == 0 {
                previousHash = JournalCodec.genesis
            } else if case let .success(previous) = lines[index - 1] {
                previousHash = previous.hash
            } else {
                previousHash = nil
            }
            let seqWrong = entry.seq != position
            let prevWrong = previousHash.map { entry.prev != $0 } ?? false
            guard seqWrong || prevWrong else { continue }
            // A line vouched for by an anchor is original: then the one before it is not.
            let original = vouched.contains(position) && hashCounts[entry.hash] == 1 && entry.seq <= position
            if original, position > 1 {
                return [
                    (
                        position - 1, nil,
                        entry.seq < position
                            ? "this line was inserted: line \(position), which the inbox journal's anchors vouch for, is line \(entry.seq) of the journal as written"
                            : "this line was changed and its hash recomputed: line \(position), which the inbox journal's anchors vouch for, follows a line with another hash"
                    )
                ]
            }
            if seqWrong {
                return [
                    (
                        position, nil,
                        "seq is \(entry.seq) but this is line \(position): a line was dropped, inserted or reordered"
                    )
                ]
            }
            return [
                (
                    position, nil,
                    "prev does not match the previous line's hash: a line before it was changed, dropped or reordered"
                )
            ]
        }
        return []
    }

    /// Positions whose line is vouched for by an anchor: the anchored line itself, and each line whose
    /// hash is the `prev` of a vouched line, back to the first (found by hash, wherever they now are).
    private static func vouched(_ lines: [Line], anchors: [Anchor]) -> Set<Int> {
        var byHash: [String: Int] = [:]
        for (index, line) in lines.enumerated() {
            if case let .success(entry) = line, byHash[entry.hash] == nil { byHash[entry.hash] = index }
        }
        var vouched: Set<Int> = []
        for anchor in anchors {
            var next = byHash[anchor.hash]
            while let index = next, vouched.insert(index + 1).inserted, case let .success(entry) = lines[index] {
                next = byHash[entry.prev]
            }
        }
        return vouched
    }

    /// Replays the fold over the lines before the first bad one: an event that cannot happen there (a
    /// `retry_requested` for a message that never failed, a `sent` with no attempt in flight) is forged.
    /// The finding names the line's place in the file (its `seq` may be forged too).
    private static func foldFinding<State>(
        _ lines: [Line], _ state: State, apply: (inout State, JournalEntry) throws(FormatError) -> Void
    ) -> Candidate? {
        var state = state
        for (index, line) in lines.enumerated() {
            guard case let .success(entry) = line else { return nil }
            do throws(FormatError) {
                try apply(&state, entry)
            } catch {
                return (
                    index + 1, nil,
                    "\(error.message): this event is impossible at this point in the history, so it was forged or edited"
                )
            }
        }
        return nil
    }
}
