public import ChatModel

/// A thread as read from disk: metadata, journal, fold and files.
public struct ThreadSnapshot: Sendable {
    public var id: String
    /// `thread.md`, when present and valid.
    public var meta: ThreadMeta
    /// Why `thread.md` could not be used.
    public var metaError: FormatError?
    /// The journal's lines (up to the first bad one).
    public var entries: [JournalEntry]
    /// The fold of `entries` merged with the files on disk.
    public var state: ThreadState
    /// A journal problem: a bad line, a torn tail, or a line the fold refuses.
    public var journalError: FormatError?
    /// The classified files of the folder (top level, plus `controls/` entries).
    public var files: [DiskFile]

    /// The title shown for the thread.
    public var title: String { meta.title ?? id }

    public init(
        id: String, meta: ThreadMeta, metaError: FormatError?, entries: [JournalEntry], state: ThreadState,
        journalError: FormatError?, files: [DiskFile]
    ) {
        self.id = id
        self.meta = meta
        self.metaError = metaError
        self.entries = entries
        self.state = state
        self.journalError = journalError
        self.files = files
    }
}

/// Everything the inbox holds, read without changing anything (for `status`, `audit` and `build`).
public struct InboxSnapshot: Sendable {
    public var threads: [ThreadSnapshot]
    public var inboxEntries: [JournalEntry]
    public var inbox: InboxState
    public var inboxJournalError: FormatError?
    /// Top-level entries that are not threads, with the reason (from the scan, not the journal).
    public var rejectedRoot: [(name: String, reason: String)]
}

/// Reads an inbox: pure folds over what `FileSystem` returns. Never writes.
public enum InboxReader {
    /// Reads every thread of `workspace`'s inbox, sorted by id.
    public static func read(_ workspace: Workspace, only thread: String? = nil) throws(StoreError) -> InboxSnapshot {
        guard let root = try FileSystem.entry(at: workspace.inbox), root.type == .directory else {
            throw StoreError(.notFound, "the inbox folder does not exist; run `letterbox init`", path: workspace.inbox)
        }
        var threads: [ThreadSnapshot] = []
        var rejectedRoot: [(String, String)] = []
        for entry in try FileSystem.listTypes(workspace.inbox) {
            switch FileClassifier.classifyRoot(entry.name, type: entry.type) {
            case let .thread(id):
                if let thread, thread != id { continue }
                threads.append(try readThread(id, in: workspace))
            case let .rejected(reason):
                rejectedRoot.append((entry.name, reason))
            case .journal, .ignored:
                break
            }
        }
        let (entries, inboxError) = readJournal(workspace.inboxJournalPath, beneath: workspace.inbox)
        var inbox = InboxState()
        var foldError = inboxError
        do {
            inbox = try InboxState.fold(entries)
        } catch {
            foldError = foldError ?? error.located(in: workspace.relative(workspace.inboxJournalPath))
        }
        return InboxSnapshot(
            threads: threads, inboxEntries: entries, inbox: inbox, inboxJournalError: foldError,
            rejectedRoot: rejectedRoot)
    }

    /// Reads one thread folder.
    public static func readThread(_ id: String, in workspace: Workspace) throws(StoreError) -> ThreadSnapshot {
        try readThread(
            id, in: workspace, files: try listThreadFiles(workspace.threadFolder(id), inbox: workspace.inbox))
    }

    /// Reads one thread folder whose listing is already known.
    public static func readThread(_ id: String, in workspace: Workspace, files: [DiskFile]) throws(StoreError)
        -> ThreadSnapshot
    {
        let folder = workspace.threadFolder(id)
        var meta = ThreadMeta()
        var metaError: FormatError?
        if files.contains(where: { $0.kind == .threadMeta }) {
            do {
                meta = try ThreadMeta.parse(
                    bytes: try FileSystem.readFile(
                        folder + "/" + FileClassifier.threadMetaName, maxBytes: 64 * 1024, beneath: workspace.inbox))
            } catch let error as FormatError {
                metaError = error.located(in: workspace.relative(folder + "/" + FileClassifier.threadMetaName))
            } catch {
                metaError = FormatError(
                    .unsupported, "\(error)", path: workspace.relative(folder + "/" + FileClassifier.threadMetaName))
            }
        }
        let journalPath = folder + "/" + FileClassifier.journalName
        let (entries, readError) = readJournal(journalPath, beneath: workspace.inbox)
        var state = ThreadState(id: id)
        var journalError = readError.map { $0.located(in: workspace.relative(journalPath)) }
        do {
            state = try ThreadState.fold(entries, thread: id)
        } catch {
            journalError = journalError ?? error.located(in: workspace.relative(journalPath))
        }
        return ThreadSnapshot(
            id: id, meta: meta, metaError: metaError, entries: entries, state: state.merging(disk: files),
            journalError: journalError, files: files)
    }

    /// The classified files of a thread folder in `inbox`: top level and `controls/` (no symlink on
    /// the way is followed).
    public static func listThreadFiles(_ folder: String, inbox: String?) throws(StoreError) -> [DiskFile] {
        var files: [DiskFile] = []
        for entry in try FileSystem.list(folder, beneath: inbox) {
            let kind = FileClassifier.classify([entry.name], type: entry.type)
            files.append(
                DiskFile(name: entry.name, kind: kind, mtime: entry.mtime, size: entry.size, stamp: entry.stamp))
            if entry.name == FileClassifier.controlsFolder && entry.type == .directory {
                for control in try FileSystem.list(folder + "/" + entry.name, beneath: inbox) {
                    let name = FileClassifier.controlsFolder + "/" + control.name
                    let kind = FileClassifier.classify(
                        [FileClassifier.controlsFolder, control.name], type: control.type)
                    files.append(
                        DiskFile(name: name, kind: kind, mtime: control.mtime, size: control.size, stamp: control.stamp)
                    )
                }
            }
        }
        return files
    }

    /// A digest of a thread folder's listing: every name (top level and `controls/`) with its stamp
    /// (inode, size, nanosecond mtime), in listing order. Any file added, removed, renamed or written
    /// changes it. Equal to `listingStamp(of: listThreadFiles(folder, inbox:))`, without classifying
    /// a name: a build with nothing new computes one per thread.
    public static func listingStamp(_ folder: String, inbox: String?) throws(StoreError) -> String {
        var stamp = ListingStampWriter()
        for entry in try FileSystem.list(folder, beneath: inbox) {
            stamp.add(entry.name, entry.stamp)
            if entry.name == FileClassifier.controlsFolder && entry.type == .directory {
                for control in try FileSystem.list(folder + "/" + entry.name, beneath: inbox) {
                    stamp.add(FileClassifier.controlsFolder + "/" + control.name, control.stamp)
                }
            }
        }
        return stamp.digest
    }

    /// The digest `listingStamp(_:inbox:)` gives for a folder listed as `files`.
    public static func listingStamp(of files: [DiskFile]) -> String {
        var stamp = ListingStampWriter()
        for file in files { stamp.add(file.name, file.stamp) }
        return stamp.digest
    }

    /// Reads a journal file in `inbox`: its decodable entries and the first problem (a bad or torn line,
    /// or a file that is not a regular file with one link).
    public static func readJournal(_ path: String, beneath inbox: String?) -> ([JournalEntry], FormatError?) {
        let bytes: [UInt8]
        do {
            guard try FileSystem.entry(at: path) != nil else { return ([], nil) }
            if let inbox {
                bytes = try FileSystem.readFile(path, maxBytes: Int.max, beneath: inbox)
            } else {
                bytes = try FileSystem.readFile(path, maxBytes: Int.max)
            }
        } catch {
            return ([], FormatError(.journal, "cannot read: \(error.message)", path: path))
        }
        let text = JournalText.read(bytes)
        if let error = text.firstError { return (text.entries, error) }
        if let torn = text.tornTail {
            return (
                text.entries,
                FormatError(
                    .journal,
                    "the last line is incomplete (\(torn.bytes.count) bytes, a torn write); the daemon cuts it off (keeping its bytes in .letterbox/torn/) the next time it opens this journal",
                    line: text.entries.count + 1)
            )
        }
        return (text.entries, nil)
    }
}

/// The bytes a listing stamp digests: `name NUL stamp`, joined by SOH.
private struct ListingStampWriter {
    var bytes: [UInt8] = []

    mutating func add(_ name: String, _ stamp: String) {
        if !bytes.isEmpty { bytes.append(1) }
        bytes += name.utf8
        bytes.append(0)
        bytes += stamp.utf8
    }

    var digest: String { SHA256Hex.digest(bytes) }
}
