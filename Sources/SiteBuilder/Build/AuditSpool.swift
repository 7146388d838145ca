import InboxStore

/// The audit rows of one build, sorted into the audit log's order.
///
/// A full build has a row for every journal line: 600k rows and ~240 MB of HTML for a 100k-message
/// inbox, which held in memory was most of the build's peak RSS. So only a small key per row stays in
/// memory; the HTML is appended to a nameless spool file once it passes a few megabytes, and read
/// back a page at a time. An incremental build's few rows never leave memory. Rows rendered by worker
/// processes stay in the workers' spool files (`absorb`), which this build reads the same way.
final class AuditSpool {
    /// Where a row sorts and where its HTML is.
    private struct Key {
        var ts: Int64
        /// The row's HTML: `length` bytes at `offset` in its file (for `file` -1, this spool's own
        /// bytes: its file, then `pending`).
        var offset: Int
        var length: Int32
        /// An index into `journals`.
        var journal: Int32
        var seq: Int32
        /// An index into `others`, or -1.
        var file: Int32
    }

    /// A row as a worker reports it: its sort keys and where its HTML is in the worker's spool file.
    struct Located: Sendable, Hashable {
        var ts: Int64
        var journal: String
        var seq: Int
        var offset: Int
        var length: Int
    }

    /// HTML kept in memory up to this size before it is appended to the spool file.
    static let defaultSpillThreshold = 4 << 20

    private var keys: [Key] = []
    private var journals: [String] = []
    private var journalNumbers: [String: Int32] = [:]
    /// HTML not yet spilled; it starts at byte `file.size` of the spool.
    private var pending: [UInt8] = []
    private var file: SpoolFile?
    /// Worker processes' spool files.
    private var others: [SpoolFile] = []
    private let scratchFolder: String
    private let spillThreshold: Int

    /// `scratchFolder` is where the spool file goes, if one is needed.
    init(scratchFolder: String, spillThreshold: Int = defaultSpillThreshold) {
        self.scratchFolder = scratchFolder
        self.spillThreshold = spillThreshold
    }

    /// A spool that writes its rows to `file` (a worker's, shared with the build that started it).
    init(file: SpoolFile, spillThreshold: Int = defaultSpillThreshold) {
        self.file = file
        self.scratchFolder = ""
        self.spillThreshold = spillThreshold
    }

    var count: Int { keys.count }

    /// Adds a row (in any order; `sort()` orders them).
    func append(_ row: AuditPages.Row) throws {
        keys.append(try store(row))
    }

    /// Adds rows whose HTML is in `file` (a worker's spool), in any order.
    func absorb(_ rows: [Located], from file: SpoolFile) {
        let index = Int32(others.count)
        others.append(file)
        keys.reserveCapacity(keys.count + rows.count)
        for row in rows {
            keys.append(
                Key(
                    ts: row.ts, offset: row.offset, length: Int32(row.length), journal: number(row.journal),
                    seq: Int32(row.seq), file: index))
        }
    }

    /// Writes every row still in memory to the spool file and returns where each row is (a worker's
    /// result). Only for a spool made with `init(file:)`.
    func located() throws -> [Located] {
        if !pending.isEmpty { try spill() }
        return keys.map {
            Located(
                ts: $0.ts, journal: journals[Int($0.journal)], seq: Int($0.seq), offset: $0.offset,
                length: Int($0.length))
        }
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
            while end < range.upperBound, keys[end].file == keys[index].file,
                keys[end].offset == keys[end - 1].offset + Int(keys[end - 1].length)
            {
                end += 1
            }
            let start = keys[index].offset
            let count = keys[end - 1].offset + Int(keys[end - 1].length) - start
            let bytes =
                keys[index].file < 0
                ? try read(at: start, count: count) : try others[Int(keys[index].file)].read(at: start, count: count)
            for key in keys[index..<end] {
                let html = bytes[(key.offset - start)..<(key.offset - start + Int(key.length))]
                rows.append(
                    AuditPages.Row(
                        ts: key.ts, journal: journals[Int(key.journal)], seq: Int(key.seq),
                        html: Array(html)))
            }
            index = end
        }
        return rows
    }

    private func number(_ journal: String) -> Int32 {
        if let known = journalNumbers[journal] { return known }
        let number = Int32(journals.count)
        journals.append(journal)
        journalNumbers[journal] = number
        return number
    }

    private func store(_ row: AuditPages.Row) throws -> Key {
        let journal = number(row.journal)
        let offset = (file?.size ?? 0) + pending.count
        pending.append(contentsOf: row.html)
        let key = Key(
            ts: row.ts, offset: offset, length: Int32((file?.size ?? 0) + pending.count - offset), journal: journal,
            seq: Int32(row.seq), file: -1)
        if pending.count >= spillThreshold { try spill() }
        return key
    }

    private func spill() throws {
        if file == nil {
            try FileSystem.createDirectory(scratchFolder)
            file = try SpoolFile(in: scratchFolder)
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
