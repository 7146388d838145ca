import ChatModel
import InboxStore

/// Threads as earlier builds of a long-lived `SiteBuild` (the daemon's) read them, so that a new
/// message costs its own journal lines and files, not the thread's.
///
/// Kept per thread: the journal's bytes as verified (their length and SHA-256), its decoded lines and
/// their pure fold; `thread.md` and every message, reply, tool call and approval file's text, by the
/// file's stamp (inode, size, nanosecond mtime). A rebuild reads the journal, checks that its first
/// bytes hash to what was verified, then decodes, verifies and folds only the lines after them; it
/// reads only files whose stamp changed. Anything that does not match (a journal rewritten or
/// shortened, a tail that does not decode, chain or fold) is read from scratch, never patched.
///
/// Memory stays bounded: only the `threadLimit` threads read most recently are kept, and full builds
/// neither read nor fill it.
final class ThreadCache {
    struct Journal {
        var byteCount: Int
        var digest: String
        var entries: [JournalEntry]
        /// `ThreadState.fold(entries)`, before the files on disk are merged in.
        var fold: ThreadState
    }

    struct File {
        var stamp: String
        var body: String
        var fields: [String: FrontMatterValue]?
    }

    struct Thread {
        var journal: Journal?
        var meta: (stamp: String, meta: ThreadMeta, error: FormatError?)?
        var files: [String: File] = [:]
    }

    static let defaultThreadLimit = 16

    let threadLimit: Int
    private var threads: [String: Thread] = [:]
    private var recency: [String] = []
    /// Journal lines decoded and files read by builds so far (for tests and profiling).
    private(set) var linesDecoded = 0
    private(set) var filesRead = 0

    init(threadLimit: Int = defaultThreadLimit) {
        self.threadLimit = threadLimit
    }

    /// Reads thread `id`, whose folder listing is `files`, reusing what was read before.
    func read(_ id: String, workspace: Workspace, files: [DiskFile]) throws -> ThreadContent {
        var thread = threads[id] ?? Thread()
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
                thread.meta = (file.stamp, meta, metaError)
            }
        } else {
            thread.meta = nil
        }

        // The journal: only new lines, when the verified bytes are still there unchanged.
        let path = workspace.journalPath(thread: id)
        var entries: [JournalEntry] = []
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
        if let next = extended, let known = thread.journal {
            linesDecoded += next.entries.count - known.entries.count
            thread.journal = next
            (entries, state) = (next.entries, next.fold)
        } else if let bytes, let clean {
            linesDecoded += clean.entries.count
            entries = clean.entries
            thread.journal = nil
            do {
                state = try ThreadState.fold(entries, thread: id)
                // Only a journal that read, chained and folded cleanly is kept to build on.
                if JournalText.verifyChain(entries) == nil {
                    thread.journal = Journal(
                        byteCount: bytes.count, digest: SHA256Hex.digest(bytes), entries: entries, fold: state)
                }
            } catch {
                journalError = error.located(in: workspace.relative(path))
            }
        } else {
            // No journal, or one with a problem: read as everywhere else, for the same error text.
            let (read, readError) = InboxReader.readJournal(path, beneath: workspace.inbox)
            linesDecoded += read.count
            entries = read
            thread.journal = nil
            journalError = readError.map { $0.located(in: workspace.relative(path)) }
            do {
                state = try ThreadState.fold(entries, thread: id)
            } catch {
                journalError = journalError ?? error.located(in: workspace.relative(path))
            }
        }
        let snapshot = ThreadSnapshot(
            id: id, meta: meta, metaError: metaError, entries: entries, state: state.merging(disk: files),
            journalError: journalError, files: files)

        // Message, reply, tool call and approval files: only those whose stamp changed.
        var bodies: [String: String] = [:]
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
            bodies[file.name] = read.body
            if let front = read.fields { fields[file.name] = front }
        }
        thread.files = kept
        store(id, thread)
        return ThreadContent(snapshot: snapshot, bodies: bodies, fields: fields)
    }

    /// `known` followed by the lines `bytes` holds after it, when its first `known.byteCount` bytes are
    /// the ones verified and every new line decodes, chains and folds; nil otherwise.
    static func extend(_ known: Journal, with bytes: [UInt8]) -> Journal? {
        guard bytes.count >= known.byteCount,
            SHA256Hex.digest(bytes[..<known.byteCount]) == known.digest
        else { return nil }
        if bytes.count == known.byteCount { return known }
        let text = JournalText.read(Array(bytes[known.byteCount...]))
        guard text.firstError == nil, text.tornTail == nil else { return nil }
        let entries = known.entries + text.entries
        guard
            JournalText.verifyChain(
                entries[known.entries.count...], after: known.entries.last?.hash ?? JournalCodec.genesis) == nil
        else { return nil }
        var fold = known.fold
        do {
            for entry in text.entries { try fold.apply(entry) }
        } catch {
            return nil
        }
        return Journal(byteCount: bytes.count, digest: SHA256Hex.digest(bytes), entries: entries, fold: fold)
    }

    private func store(_ id: String, _ thread: Thread) {
        threads[id] = thread
        recency.removeAll { $0 == id }
        recency.append(id)
        while recency.count > threadLimit { threads[recency.removeFirst()] = nil }
    }
}
