import InboxStore

/// The audit rows of one build, sorted into the audit log's order.
///
/// A full build has a row for every journal line: 600k rows and ~240 MB of HTML for a 100k-message
/// inbox, which held in memory was most of the build's peak RSS. So only a small key per row stays in
/// memory; the HTML is appended to a nameless scratch file once it passes a few megabytes, and read
/// back a page at a time. An incremental build's few rows never leave memory.
final class AuditSpool {
    /// Where a row sorts and where its HTML is.
    private struct Key {
        var ts: Int64
        /// The row's HTML: `length` bytes at `offset` in the spool (file, then `pending`).
        var offset: Int
        var length: Int32
        /// An index into `journals`.
        var journal: Int32
        var seq: Int32
    }

    /// HTML kept in memory up to this size before it is appended to the scratch file.
    static let defaultSpillThreshold = 4 << 20

    private var keys: [Key] = []
    private var journals: [String] = []
    private var journalNumbers: [String: Int32] = [:]
    /// HTML not yet spilled; it starts at byte `file.size` of the spool.
    private var pending: [UInt8] = []
    private var file: ScratchFile?
    private let scratchFolder: String
    private let spillThreshold: Int

    /// `scratchFolder` is where the scratch file goes, if one is needed.
    init(scratchFolder: String, spillThreshold: Int = defaultSpillThreshold) {
        self.scratchFolder = scratchFolder
        self.spillThreshold = spillThreshold
    }

    var count: Int { keys.count }

    /// Adds a row (in any order; `sort()` orders them).
    func append(_ row: AuditPages.Row) throws {
        keys.append(try store(row))
    }

    /// Orders the rows oldest first, as `AuditPages.Row.ascending` does.
    func sort() {
        keys.sort { a, b in
            if a.ts != b.ts { return a.ts < b.ts }
            if a.journal != b.journal {
                return journals[Int(b.journal)].utf8.lexicographicallyPrecedes(journals[Int(a.journal)].utf8)
            }
            return a.seq < b.seq
        }
    }

    /// Puts `rows`, which sort before every row already here, in front of them.
    func prepend(sorted rows: [AuditPages.Row]) throws {
        keys.insert(contentsOf: try rows.map(store), at: 0)
    }

    /// The rows at `range` of the current order.
    func rows(_ range: Range<Int>) throws -> [AuditPages.Row] {
        var rows: [AuditPages.Row] = []
        rows.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            // Rows stored one after another (the usual case: one journal's lines) are read at once.
            var end = index + 1
            while end < range.upperBound, keys[end].offset == keys[end - 1].offset + Int(keys[end - 1].length) {
                end += 1
            }
            let start = keys[index].offset
            let bytes = try read(at: start, count: keys[end - 1].offset + Int(keys[end - 1].length) - start)
            for key in keys[index..<end] {
                let html = bytes[(key.offset - start)..<(key.offset - start + Int(key.length))]
                rows.append(
                    AuditPages.Row(
                        ts: key.ts, journal: journals[Int(key.journal)], seq: Int(key.seq),
                        html: String(decoding: html, as: UTF8.self)))
            }
            index = end
        }
        return rows
    }

    private func store(_ row: AuditPages.Row) throws -> Key {
        let journal: Int32
        if let known = journalNumbers[row.journal] {
            journal = known
        } else {
            journal = Int32(journals.count)
            journals.append(row.journal)
            journalNumbers[row.journal] = journal
        }
        let offset = (file?.size ?? 0) + pending.count
        pending.append(contentsOf: row.html.utf8)
        let key = Key(
            ts: row.ts, offset: offset, length: Int32((file?.size ?? 0) + pending.count - offset), journal: journal,
            seq: Int32(row.seq))
        if pending.count >= spillThreshold { try spill() }
        return key
    }

    private func spill() throws {
        if file == nil {
            try FileSystem.createDirectory(scratchFolder)
            file = try ScratchFile(in: scratchFolder)
        }
        try file?.append(pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// `count` bytes of the spool from `offset`, from the file, `pending`, or both.
    private func read(at offset: Int, count: Int) throws -> [UInt8] {
        let spilled = file?.size ?? 0
        if offset >= spilled { return Array(pending[(offset - spilled)..<(offset - spilled + count)]) }
        guard let file else { return [] }
        let fromFile = try file.read(at: offset, count: min(count, spilled - offset))
        if offset + count <= spilled { return fromFile }
        return fromFile + pending[..<(offset + count - spilled)]
    }
}
