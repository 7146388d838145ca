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
    /// The last entry known to be on disk (written and fsynced, or read at open).
    public private(set) var durable: JournalEntry?
    /// The file size after the last append.
    public private(set) var size: Int
    private let fd: Int32
    /// The open file's device and inode: a file at `path` with others is not this journal any more.
    private let device: UInt64
    private let inode: UInt64

    /// What opening found.
    public struct Opened {
        public var journal: JournalFile
        /// Every entry in the file, in order (including the repair event, if any).
        public var entries: [JournalEntry]
        /// Set when a torn tail was cut off: where its bytes were kept.
        public var repairedTo: String?
    }

    private init(path: String, fd: Int32, info: stat, last: JournalEntry?, size: Int) {
        self.path = path
        self.fd = fd
        self.last = last
        self.durable = last
        self.size = size
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    deinit { close(fd) }

    /// Opens (creating if needed) the journal at `path`; with `root` (the inbox), no symlink between
    /// `root` and the journal is followed.
    ///
    /// Only a regular file with one link is a journal: a FIFO is refused without blocking, a hard link
    /// (which could append lines to a file outside the inbox) is refused with what to do.
    ///
    /// A torn last line is cut off, its bytes kept in `tornFolder`, and a `journal_repaired` event is
    /// appended at `now`. A bad line that is not the last one is damage or tampering: opening fails
    /// with a `FormatError` naming the line, and nothing is written.
    public static func open(path: String, tornFolder: String, now: Timestamp, beneath root: String? = nil) throws
        -> Opened
    {
        if let existing = try FileSystem.entry(at: path), existing.type != .file {
            var info = stat()
            _ = lstat(path, &info)
            throw StoreError(
                .notAllowed,
                "is \(FileSystem.typeName(info.st_mode)), not a journal; only a regular file can be one (remove it; the thread's history is in git or a backup)",
                path: path)
        }
        let fd = try FileSystem.openNoFollow(
            path, beneath: root, flags: O_RDWR | O_CREAT | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode: 0o666)
        var info = stat()
        let bytes: [UInt8]
        do {
            guard fstat(fd, &info) == 0 else { throw StoreError.system("fstat", path: path) }
            try FileSystem.requireRegular(info, path: path, singleLink: true)
            bytes = try FileSystem.readAll(fd, path: path, maxBytes: Int.max)
        } catch {
            close(fd)
            throw error
        }
        let text = JournalText.read(bytes)
        if let error = text.firstError {
            close(fd)
            throw error.located(in: path)
        }
        let journal = JournalFile(path: path, fd: fd, info: info, last: text.entries.last, size: bytes.count)
        var entries = text.entries
        var keptAt: String?
        if let torn = text.tornTail {
            try FileSystem.createDirectory(tornFolder)
            let digest = SHA256Hex.digest(torn.bytes)
            let name = "\(digest.prefix(16)).torn"
            let kept = "\(tornFolder)/\(name)"
            try DurableWriter.write(torn.bytes, to: kept, mode: .replace)
            guard ftruncate(fd, off_t(torn.offset)) == 0 else { throw StoreError.system("ftruncate", path: path) }
            guard fsync(fd) == 0 else { throw StoreError.system("fsync", path: path) }
            journal.size = torn.offset
            let repair = try journal.append(
                // The file's name only: the journal travels (git), the machine's folders do not.
                [(now, .daemon, .journalRepaired(bytes: torn.bytes.count, sha256: digest, file: name))])
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

    /// Stages entries already chained elsewhere (by the delivery machine) without writing them. Each
    /// must follow the journal's last entry (seq and hash); a break in the chain is refused whole.
    public func stage(entries: [JournalEntry]) throws(StoreError) {
        var tail = last
        var lines: [UInt8] = []
        for entry in entries {
            guard entry.seq == (tail?.seq ?? 0) + 1, entry.prev == (tail?.hash ?? JournalCodec.genesis) else {
                throw StoreError(
                    .notAllowed,
                    "line \(entry.seq) does not follow line \(tail?.seq ?? 0) of the journal (a daemon bug): nothing was written",
                    path: path)
            }
            lines += JournalCodec.encode(entry)
            lines.append(10)
            tail = entry
        }
        staged += lines
        last = tail
    }

    /// Writes the staged lines with one write and one fsync.
    ///
    /// First it checks that the file at `path` is still the one this journal has open, at the length
    /// it wrote (a `git pull` or a restore may have replaced it): if not, it throws a `.changed` error
    /// and writes nothing. A failed write or fsync (a full disk) cuts the file back to its last good
    /// length and keeps the lines staged, so calling `commit()` again later retries them whole; the
    /// file never holds half a line followed by the next one.
    public func commit() throws(StoreError) {
        guard !staged.isEmpty else { return }
        try checkUnchanged()
        do throws(StoreError) {
            try DurableWriter.writeAll(fd, staged, path: path)
            guard fsync(fd) == 0 else { throw StoreError.system("fsync", path: path) }
        } catch {
            // Back to the last good length (the retry writes the same lines again from there).
            _ = ftruncate(fd, off_t(size))
            throw error
        }
        size += staged.count
        staged = []
        durable = last
    }

    /// Forgets the staged lines (after `.changed`: they were decided on a history that is gone).
    public func discardStaged() {
        staged = []
        last = durable
    }

    /// Throws `.changed` when the file at `path` is no longer the open one or not at the length written.
    public func checkUnchanged() throws(StoreError) {
        var open = stat()
        var atPath = stat()
        guard fstat(fd, &open) == 0 else { throw .system("fstat", path: path) }
        guard lstat(path, &atPath) == 0 else {
            throw StoreError(.changed, "was removed or moved away while the daemon had it open", path: path)
        }
        guard UInt64(atPath.st_dev) == device, UInt64(atPath.st_ino) == inode else {
            throw StoreError(
                .changed, "was replaced by another file while the daemon had it open (a git pull, a restore)",
                path: path)
        }
        guard Int(open.st_size) == size else {
            throw StoreError(
                .changed,
                "was changed by another program while the daemon had it open (\(open.st_size) bytes, \(size) expected)",
                path: path)
        }
        guard open.st_nlink <= 1 else {
            throw StoreError(
                .notAllowed,
                "got a second hard link while the daemon had it open; hard-linked journals are not written (remove the other link)",
                path: path)
        }
    }
}
