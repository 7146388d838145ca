public import ChatModel

#if canImport(Glibc)
    import Glibc
#endif

/// An open journal that this process appends to (docs/format.md §7).
///
/// Only the daemon, holding the inbox lock, opens journals for writing. Appends are one `write` of
/// whole lines followed by `fsync`; a batch of events costs one fsync (group commit).
///
/// `@unchecked Sendable`: each journal is owned by one actor, which may hand several *different*
/// journals to parallel threads for `commit()` and waits for them; one instance is never used from
/// two threads at once, and instances share no state.
public final class JournalFile: @unchecked Sendable {
    /// The journal's path.
    public let path: String
    /// The last entry written or read; the next entry chains to it.
    public private(set) var last: JournalEntry?
    /// The file size after the last append.
    public private(set) var size: Int
    private let fd: Int32

    /// What opening found.
    public struct Opened {
        public var journal: JournalFile
        /// Every entry in the file, in order (including the repair event, if any).
        public var entries: [JournalEntry]
        /// Set when a torn tail was cut off: where its bytes were kept.
        public var repairedTo: String?
    }

    private init(path: String, fd: Int32, last: JournalEntry?, size: Int) {
        self.path = path
        self.fd = fd
        self.last = last
        self.size = size
    }

    deinit { close(fd) }

    /// Opens (creating if needed) the journal at `path`.
    ///
    /// A torn last line is cut off, its bytes kept in `tornFolder`, and a `journal_repaired` event is
    /// appended at `now`. A bad line that is not the last one is damage or tampering: opening fails
    /// with a `FormatError` naming the line, and nothing is written.
    public static func open(path: String, tornFolder: String, now: Timestamp) throws -> Opened {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw StoreError.system("open", path: path) }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, maxBytes: Int.max)
        } catch {
            close(fd)
            throw error
        }
        let text = JournalText.read(bytes)
        if let error = text.firstError {
            close(fd)
            throw error.located(in: path)
        }
        let journal = JournalFile(path: path, fd: fd, last: text.entries.last, size: bytes.count)
        var entries = text.entries
        var keptAt: String?
        if let torn = text.tornTail {
            try FileSystem.createDirectory(tornFolder)
            let digest = SHA256Hex.digest(torn.bytes)
            let kept = "\(tornFolder)/\(digest.prefix(16)).torn"
            try DurableWriter.write(torn.bytes, to: kept, mode: .replace)
            guard ftruncate(fd, off_t(torn.offset)) == 0 else { throw StoreError.system("ftruncate", path: path) }
            guard fsync(fd) == 0 else { throw StoreError.system("fsync", path: path) }
            journal.size = torn.offset
            let repair = try journal.append(
                [(now, .daemon, .journalRepaired(bytes: torn.bytes.count, sha256: digest, file: kept))])
            entries += repair
            keptAt = kept
        }
        return Opened(journal: journal, entries: entries, repairedTo: keptAt)
    }

    /// Appends events as one write and one fsync; returns the entries as written.
    @discardableResult
    public func append(_ events: [(Timestamp, Actor, JournalEvent)]) throws(StoreError) -> [JournalEntry] {
        let entries = stage(events) { _ in }
        try commit()
        return entries
    }

    /// Lines staged by `stage` and not yet written.
    private var staged: [UInt8] = []

    /// Whether `stage` has lines that `commit` has not written yet.
    public var hasStaged: Bool { !staged.isEmpty }

    /// Chains events onto the journal in memory (seq, prev, hash) without writing them: group commit.
    /// Nothing that depends on them may happen before `commit()` returns.
    ///
    /// `accept` sees each entry first (the caller folds it into its state); if it throws, none of
    /// `events` is staged, so a line the fold refuses never reaches the disk.
    public func stage(
        _ events: [(Timestamp, Actor, JournalEvent)], accept: (JournalEntry) throws -> Void
    ) rethrows -> [JournalEntry] {
        var entries: [JournalEntry] = []
        var lines: [UInt8] = []
        var tail = last
        for (ts, actor, event) in events {
            let entry = JournalCodec.entry(after: tail, ts: ts, actor: actor, event: event)
            try accept(entry)
            lines += JournalCodec.encode(entry)
            lines.append(10)
            entries.append(entry)
            tail = entry
        }
        staged += lines
        last = tail
        return entries
    }

    /// Writes the staged lines with one write and one fsync. On failure the lines may be partly on disk
    /// (the next open repairs a torn tail); the caller must stop using this journal.
    public func commit() throws(StoreError) {
        guard !staged.isEmpty else { return }
        let bytes = staged
        staged = []
        try DurableWriter.writeAll(fd, bytes, path: path)
        guard fsync(fd) == 0 else { throw .system("fsync", path: path) }
        size += bytes.count
    }
}
