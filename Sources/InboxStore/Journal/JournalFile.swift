public import ChatModel

#if canImport(Glibc)
    import Glibc
#endif

/// An open journal that this process appends to (docs/format.md §7).
///
/// Only the daemon, holding the inbox lock, opens journals for writing. Appends are one `write` of
/// whole lines followed by `fsync`; a batch of events costs one fsync (group commit). Not Sendable:
/// each journal is owned by one actor.
public final class JournalFile {
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
        guard !events.isEmpty else { return [] }
        var bytes: [UInt8] = []
        var entries: [JournalEntry] = []
        var previous = last
        for (ts, actor, event) in events {
            let entry = JournalCodec.entry(after: previous, ts: ts, actor: actor, event: event)
            bytes += JournalCodec.encode(entry)
            bytes.append(10)
            entries.append(entry)
            previous = entry
        }
        try DurableWriter.writeAll(fd, bytes, path: path)
        guard fsync(fd) == 0 else { throw .system("fsync", path: path) }
        last = previous
        size += bytes.count
        return entries
    }
}
