import ChatModel
import InboxStore

/// Threads as earlier incremental builds read them, so that a new message costs its own journal lines
/// and files, not the thread's (docs/site.md, "The thread cache").
///
/// Kept per thread: how far its journal was verified (the byte count and SHA-256 of that prefix), what
/// pages need of those lines (`JournalSummary`) and their pure fold; `thread.md`; and each message,
/// reply, tool call and approval file's stamp (inode, size, nanosecond mtime), front matter and, while
/// in memory, its text. A rebuild reads the journal, checks that its first bytes hash to what was
/// verified, then decodes, verifies and folds only the lines after them; it reads only files whose
/// stamp changed (and the others' text when a page needs it). Anything that does not match (a journal
/// rewritten or shortened, a tail that does not decode, chain or fold) is read from scratch, never
/// patched.
///
/// Two levels: the `threadLimit` threads read most recently are in memory; with a `folder`, `save()`
/// writes those read since the last save there, and a later build or process starts from that copy.
/// A saved thread is used only when it decodes whole, names the same thread and was made under the
/// same `key` (the builder version, the theme and the site title); anything else is ignored and
/// overwritten. Full builds neither read nor fill either level.
final class ThreadCache {
    struct Journal {
        var byteCount: Int
        var digest: String
        var summary: JournalSummary
        /// `ThreadState.fold` of those lines, before the files on disk are merged in.
        var fold: ThreadState
    }

    struct File {
        var stamp: String
        /// The Markdown body, once read (a saved thread keeps only stamps and front matter).
        var body: String?
        var fields: [String: FrontMatterValue]?
    }

    struct Meta {
        var stamp: String
        var meta: ThreadMeta
        /// Not saved: a `thread.md` with a problem is read again.
        var error: FormatError?
    }

    struct Thread {
        var journal: Journal?
        var meta: Meta?
        var files: [String: File] = [:]
    }

    static let defaultThreadLimit = 16

    let threadLimit: Int
    /// Where threads are saved (nil: memory only), and what a saved thread must have been made under.
    let folder: String?
    let key: String
    private var threads: [String: Thread] = [:]
    private var recency: [String] = []
    /// Threads read since they were last saved.
    private var unsaved: Set<String> = []
    /// Journal lines decoded, files read and threads loaded from the folder so far (for tests and profiling).
    private(set) var linesDecoded = 0
    private(set) var filesRead = 0
    private(set) var threadsLoaded = 0

    init(
        threadLimit: Int = defaultThreadLimit, folder: String? = nil, key: String = ""
    ) {
        self.threadLimit = threadLimit
        self.folder = folder
        self.key = key
    }

    /// Reads thread `id`, whose folder listing is `files`, reusing what was read before. The content's
    /// `tail` holds at least the journal lines from line `needing` (0-based) on.
    func read(_ id: String, workspace: Workspace, files: [DiskFile], needing: Int = 0) throws -> ThreadContent {
        var thread = threads[id] ?? load(id) ?? Thread()
        if let known = thread.journal, known.summary.lines > needing { thread.journal = nil }
        let folder = workspace.threadFolder(id)

        // thread.md
        var meta = ThreadMeta()
        var metaError: FormatError?
        if let file = files.first(where: { $0.kind == .threadMeta }) {
            if let known = thread.meta, known.stamp == file.stamp {
                (meta, metaError) = (known.meta, known.error)
            } else {
                let path = folder + "/" + FileClassifier.threadMetaName
                do {
                    meta = try ThreadMeta.parse(
                        bytes: try FileSystem.readFile(path, maxBytes: 64 * 1024, beneath: workspace.inbox))
                } catch let error as FormatError {
                    metaError = error.located(in: workspace.relative(path))
                } catch {
                    metaError = FormatError(.unsupported, "\(error)", path: workspace.relative(path))
                }
                thread.meta = Meta(stamp: file.stamp, meta: meta, error: metaError)
            }
        } else {
            thread.meta = nil
        }

        // The journal: only new lines, when the verified bytes are still there unchanged.
        let path = workspace.journalPath(thread: id)
        var journal = JournalSummary()
        var tail: [JournalEntry] = []
        var tailAfter = JournalCodec.genesis
        var chainProblem: FormatError?
        var state = ThreadState(id: id)
        var journalError: FormatError?
        let bytes: [UInt8]? =
            files.contains { $0.kind == .journal }
            ? try? FileSystem.readFile(path, maxBytes: Int.max, beneath: workspace.inbox) : nil
        let extended = bytes.flatMap { bytes in thread.journal.flatMap { Self.extend($0, with: bytes) } }
        // Decoded in full only when the known lines cannot be built on.
        let clean =
            extended != nil
            ? nil : bytes.map(JournalText.read).flatMap { $0.firstError == nil && $0.tornTail == nil ? $0 : nil }
        if let extended, let known = thread.journal {
            let (next, newLines) = extended
            linesDecoded += newLines.count
            thread.journal = next
            (journal, tail, tailAfter, state) = (next.summary, newLines, known.summary.lastHash, next.fold)
        } else if let bytes, let clean {
            linesDecoded += clean.entries.count
            (journal, tail) = (JournalSummary(clean.entries), clean.entries)
            chainProblem = JournalText.verifyChain(clean.entries)
            thread.journal = nil
            do {
                state = try ThreadState.fold(clean.entries, thread: id)
                // Only a journal that read, chained and folded cleanly is kept to build on.
                if chainProblem == nil {
                    thread.journal = Journal(
                        byteCount: bytes.count, digest: SHA256Hex.digest(bytes), summary: journal, fold: state)
                }
            } catch {
                journalError = error.located(in: workspace.relative(path))
            }
        } else {
            // No journal, or one with a problem: read as everywhere else, for the same error text.
            let (read, readError) = InboxReader.readJournal(path, beneath: workspace.inbox)
            linesDecoded += read.count
            (journal, tail) = (JournalSummary(read), read)
            chainProblem = JournalText.verifyChain(read)
            thread.journal = nil
            journalError = readError.map { $0.located(in: workspace.relative(path)) }
            do {
                state = try ThreadState.fold(read, thread: id)
            } catch {
                journalError = journalError ?? error.located(in: workspace.relative(path))
            }
        }
        let snapshot = ThreadSnapshot(
            id: id, meta: meta, metaError: metaError, entries: [], state: state.merging(disk: files),
            journalError: journalError, files: files)

        // Message, reply, tool call and approval files: only those whose stamp changed.
        let bodies = FileTexts(folder: folder, inbox: workspace.inbox)
        var fields: [String: [String: FrontMatterValue]] = [:]
        var kept: [String: File] = [:]
        for file in files {
            let schema: FrontMatterSchema?
            switch file.kind {
            case .message: schema = .message
            case .remote: schema = .daemonFile
            case .reply, .toolCall, .approval: schema = nil
            default: continue
            }
            let read: File
            if let known = thread.files[file.name], known.stamp == file.stamp {
                read = known
            } else {
                filesRead += 1
                let (body, front) = ThreadContent.readBody(
                    folder + "/" + file.name, name: file.name, schema: schema, inbox: workspace.inbox)
                read = File(stamp: file.stamp, body: body, fields: front)
            }
            kept[file.name] = read
            if let body = read.body {
                bodies.keep(body, for: file.name)
            } else {
                bodies.allow(file.name, schema: schema)
            }
            if let front = read.fields { fields[file.name] = front }
        }
        thread.files = kept
        store(id, thread)
        return ThreadContent(
            snapshot: snapshot, journal: journal, tail: tail, tailAfter: tailAfter, chainProblem: chainProblem,
            bodies: bodies, fields: fields)
    }

    /// `known` followed by the lines `bytes` holds after it, and those lines, when its first
    /// `known.byteCount` bytes are the ones verified and every new line decodes, chains and folds; nil
    /// otherwise.
    static func extend(_ known: Journal, with bytes: [UInt8]) -> (Journal, [JournalEntry])? {
        guard bytes.count >= known.byteCount,
            SHA256Hex.digest(bytes[..<known.byteCount]) == known.digest
        else { return nil }
        if bytes.count == known.byteCount { return (known, []) }
        let text = JournalText.read(Array(bytes[known.byteCount...]))
        guard text.firstError == nil, text.tornTail == nil,
            JournalText.verifyChain(
                text.entries, after: known.summary.lastHash, firstLine: known.summary.lines + 1) == nil
        else { return nil }
        var next = known
        do {
            for entry in text.entries { try next.fold.apply(entry) }
        } catch {
            return nil
        }
        next.summary.add(text.entries)
        (next.byteCount, next.digest) = (bytes.count, SHA256Hex.digest(bytes))
        return (next, text.entries)
    }

    // MARK: The two levels

    private func store(_ id: String, _ thread: Thread) {
        threads[id] = thread
        unsaved.insert(id)
        recency.removeAll { $0 == id }
        recency.append(id)
        while recency.count > threadLimit {
            let old = recency.removeFirst()
            threads[old] = nil
            unsaved.remove(old)
        }
    }

    /// Saves every thread read since it was last saved.
    func save() {
        for id in unsaved.sorted() { save(id) }
    }

    /// Saves `id` if it changed since it was last saved. A cache that cannot be written only costs the
    /// next build some reading, so errors are not reported.
    private func save(_ id: String) {
        guard unsaved.remove(id) != nil, let folder, let thread = threads[id] else { return }
        try? FileSystem.createDirectory(folder)
        try? DurableWriter.writeQuickly(thread.encoded(id, key: key), to: path(id, in: folder))
    }

    /// The saved copy of `id`, when there is one made under this key.
    private func load(_ id: String) -> Thread? {
        guard let folder,
            let bytes = try? FileSystem.readFile(path(id, in: folder), maxBytes: 1 << 30),
            let thread = Thread.decoded(bytes, id: id, key: key)
        else { return nil }
        threadsLoaded += 1
        return thread
    }

    /// One file per thread and key: a file made under another key is never even opened.
    private func path(_ id: String, in folder: String) -> String {
        folder + "/" + SHA256Hex.digest(key + "\u{0}" + id).prefix(32) + ".bin"
    }

    /// Removes saved threads other than `threads` under this key (after a full build: threads removed
    /// from the inbox, and every thread saved under an earlier theme or builder).
    func prune(keeping threads: [String]) {
        guard let folder, let names = try? FileSystem.list(folder) else { return }
        let wanted = Set(threads.map { path($0, in: folder) })
        for entry in names where !wanted.contains(folder + "/" + entry.name) {
            try? FileSystem.removeFile(folder + "/" + entry.name)
        }
    }
}

extension ThreadCache.Thread {
    static let magic = "letterbox thread cache\n"
    static let format = 1

    /// The thread's bytes in the cache folder: a magic line, the format, the key and the thread id,
    /// then the journal's verified prefix and fold, `thread.md` and every file's stamp and front matter.
    func encoded(_ id: String, key: String) -> [UInt8] {
        var w = ByteWriter()
        w.bytes.append(contentsOf: Self.magic.utf8)
        w.int(Self.format)
        w.string(key)
        w.string(id)
        w.optional(journal) { w, journal in
            w.int(journal.byteCount)
            w.string(journal.digest)
            journal.summary.encode(to: &w)
            w.value(journal.fold)
        }
        w.optional(meta?.error == nil ? meta : nil) { w, meta in
            w.string(meta.stamp)
            w.value(meta.meta)
        }
        w.array(files.sorted { $0.key < $1.key }) { w, file in
            w.string(file.key)
            w.string(file.value.stamp)
            w.optional(file.value.fields) { w, fields in
                w.array(fields.sorted { $0.key < $1.key }) { w, field in
                    w.string(field.key)
                    w.value(field.value)
                }
            }
        }
        return w.bytes
    }

    /// The thread in `bytes`, when they are a whole cache file of this format for `id` under `key`.
    static func decoded(_ bytes: [UInt8], id: String, key: String) -> Self? {
        guard bytes.starts(with: magic.utf8) else { return nil }
        var r = ByteReader(bytes)
        r.offset = magic.utf8.count
        do throws(ByteReader.Malformed) {
            guard try r.int() == format, try r.string() == key, try r.string() == id else { return nil }
            var thread = Self()
            thread.journal = try r.optional { r throws(ByteReader.Malformed) in
                ThreadCache.Journal(
                    byteCount: try r.int(), digest: try r.string(), summary: try JournalSummary(from: &r),
                    fold: try r.value())
            }
            thread.meta = try r.optional { r throws(ByteReader.Malformed) in
                ThreadCache.Meta(stamp: try r.string(), meta: try r.value())
            }
            for _ in 0..<(try r.count()) {
                let name = try r.string()
                let stamp = try r.string()
                let fields = try r.optional { r throws(ByteReader.Malformed) in
                    var fields: [String: FrontMatterValue] = [:]
                    for _ in 0..<(try r.count()) { fields[try r.string()] = try r.value(FrontMatterValue.self) }
                    return fields
                }
                thread.files[name] = ThreadCache.File(stamp: stamp, fields: fields)
            }
            guard r.isAtEnd, thread.journal.map({ $0.fold.id == id }) != false else { return nil }
            return thread
        } catch {
            return nil
        }
    }
}
