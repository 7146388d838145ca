/// A whole journal file read into entries, with what (if anything) is wrong with it.
public struct JournalText: Sendable {
    /// The entries that decoded, in file order, up to the first bad line.
    public var entries: [JournalEntry]
    /// A last line that is incomplete: no newline, or cut mid-JSON. Nil when the file ends cleanly.
    public var tornTail: TornTail?
    /// The first line that is bad for a reason other than being a torn tail. Nil when all lines read.
    public var firstError: FormatError?

    /// A cut-off last line.
    public struct TornTail: Sendable, Hashable {
        /// The byte offset where the torn line starts (the length to truncate the file to).
        public var offset: Int
        /// The torn bytes.
        public var bytes: [UInt8]
    }

    /// Reads `bytes` (a whole journal file). Never throws: problems are reported in the result.
    ///
    /// A final segment without `\n` is a torn tail. A final `\n`-terminated line that does not decode
    /// is also treated as torn when it is the last line (a crash can write part of a line plus a
    /// newline only if something else wrote the newline, so this is kept conservative: only a
    /// segment that does not parse as JSON at all counts).
    public static func read(_ bytes: [UInt8]) -> JournalText {
        var result = JournalText(entries: [], tornTail: nil, firstError: nil)
        var start = 0
        var lineNumber = 0
        while start < bytes.count {
            lineNumber += 1
            guard let newline = bytes[start...].firstIndex(of: 10) else {
                result.tornTail = TornTail(offset: start, bytes: Array(bytes[start...]))
                return result
            }
            let line = bytes[start..<newline]
            do {
                let entry = try JournalCodec.decode(line)
                result.entries.append(entry)
            } catch {
                result.firstError = error.atLine(lineNumber)
                return result
            }
            start = newline + 1
        }
        return result
    }

    /// Checks the chain of entries read from one file: seq 1, 2, 3, ..., each `prev` the previous `hash`.
    /// (Each line's own hash was checked when it was decoded.) Returns the first broken line, or nil.
    public static func verifyChain(_ entries: [JournalEntry]) -> FormatError? {
        verifyChain(entries[...], after: JournalCodec.genesis)
    }

    /// Checks `entries`, the lines of a file from line `entries.startIndex + 1` on, given the hash of
    /// the line before them (for verifying only what was appended since the last check).
    public static func verifyChain(_ entries: ArraySlice<JournalEntry>, after previousHash: String) -> FormatError? {
        verifyChain(entries, after: previousHash, firstLine: entries.startIndex + 1)
    }

    /// Checks `entries`, the lines of a file from line `firstLine` (1-based) on, given the hash of the
    /// line before them.
    public static func verifyChain(
        _ entries: some Collection<JournalEntry>, after previousHash: String, firstLine: Int
    ) -> FormatError? {
        var prev = previousHash
        for (offset, entry) in entries.enumerated() {
            let line = firstLine + offset
            guard entry.seq == line else {
                return FormatError(
                    .journal, "seq is \(entry.seq) but this is line \(line): a line was dropped, inserted or reordered",
                    line: line)
            }
            guard entry.prev == prev else {
                return FormatError(
                    .journal,
                    "prev does not match the previous line's hash: a line before it was changed, dropped or reordered",
                    line: line)
            }
            prev = entry.hash
        }
        return nil
    }
}

extension FormatError {
    func atLine(_ line: Int) -> FormatError {
        var copy = self
        copy.line = line
        return copy
    }
}
