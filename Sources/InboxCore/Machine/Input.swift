public import ChatModel

/// Everything that can happen to the daemon, as the machine sees it: the shell turns watcher events,
/// file reads, timers and workers' results into these (docs/daemon.md, "The pipeline").
public enum Input: Sendable {
    /// A file in a thread folder was written or moved in (`path` relative to the thread folder), or
    /// an entry appeared that no write will follow (a link, a FIFO).
    case fileWritten(thread: String, path: String)
    /// A file or the thread folder itself (`path` empty) was removed or moved away.
    case fileRemoved(thread: String, path: String)
    /// A thread folder appeared (or a `controls/` folder in one).
    case folderCreated(thread: String)
    /// A thread was read from disk, as `InboxMachine.Effects.loads` asked (or for the catch-up).
    case threadLoaded(ThreadLoad)
    /// A thread could not be read (its journal is damaged, or not a regular file): it is left alone.
    case threadUnreadable(thread: String, reason: String)
    /// Files read as `Effects.reads` asked.
    case filesRead(thread: String, [FileRead])
    /// Thread folders listed again, with the inbox root (the periodic rescan, an inotify overflow) or
    /// without it (`Effects.listings`). Threads the machine let go of (`isIdle`) come as the
    /// `listingStamp` of their files in `idle`, so a rescan of a large inbox never holds every listing.
    case rescanned(root: [RootItem]?, listings: [String: [DiskFile]], idle: [String: String] = [:])
    /// A worker finished something, or a run moved.
    case outcome(Outcome)
    /// Time passed: timers that are due fire (settle windows, retries, reply snapshots).
    case tick
    /// Time to pull from runtimes that list threads.
    case syncDue
    /// A thread's journal was replaced under the daemon and read again: `load` when the new file
    /// continues what the daemon wrote, nil (with `reason`) when lines are missing.
    case journalReplaced(thread: String, load: ThreadLoad?, reason: String)
    /// The inbox journal was replaced under the daemon and opened again: `entries` is what it holds
    /// now, `unwritten` the lines the machine had decided that never reached the old file.
    case inboxJournalReplaced(entries: [JournalEntry], unwritten: [JournalEntry])
    /// Stop taking work (SIGTERM).
    case stop(reason: String?)
}

/// An entry of the inbox root.
public struct RootItem: Sendable, Hashable {
    public var name: String
    public var type: EntryType

    public init(name: String, type: EntryType) {
        self.name = name
        self.type = type
    }
}

/// A thread as the shell read it: its journal, `thread.md`, its files, and (when asked) their texts.
public struct ThreadLoad: Sendable {
    public var id: String
    /// The journal's entries (a torn tail already cut off and its repair journaled).
    public var entries: [JournalEntry]
    /// `thread.md`'s bytes, nil when there is none, or why it could not be read.
    public var meta: Result<[UInt8], FileProblem>?
    /// The folder's classified files (top level and `controls/`).
    public var files: [DiskFile]
    /// The bytes of the thread's message, reply, tool and remote files, by file name, when the load
    /// was asked for them (histories and messages still to send are built from them); nil otherwise.
    public var contents: [String: [UInt8]]?

    public init(
        id: String, entries: [JournalEntry], meta: Result<[UInt8], FileProblem>?, files: [DiskFile],
        contents: [String: [UInt8]]?
    ) {
        self.id = id
        self.entries = entries
        self.meta = meta
        self.files = files
        self.contents = contents
    }

    /// Whether a file of this kind is among `contents`.
    public static func keepsContents(_ kind: FileKind) -> Bool {
        switch kind {
        case .message, .reply, .toolCall, .remote: true
        default: false
        }
    }
}

/// Why a file could not be read (its message names the file's problem and what to do).
public struct FileProblem: Error, Sendable, Hashable {
    public var message: String
    public init(_ message: String) { self.message = message }
}

/// One file read for the machine: what `lstat` saw, and its bytes (or why there are none).
public struct FileRead: Sendable, Hashable {
    /// The path relative to the thread folder.
    public var path: String
    /// The entry as `lstat` saw it; nil when it is gone.
    public var file: DiskFile?
    public var type: EntryType
    /// The bytes, or why they could not be read; nil when the kind of file is not read.
    public var content: Result<[UInt8], FileProblem>?

    public init(path: String, file: DiskFile?, type: EntryType, content: Result<[UInt8], FileProblem>?) {
        self.path = path
        self.file = file
        self.type = type
        self.content = content
    }

    /// How many bytes of a file of this kind the shell reads (nil: none; the name says enough).
    public static func readLimit(_ kind: FileKind, type: EntryType, messageBytes: Int) -> Int? {
        guard type == .file else { return nil }
        switch kind {
        case .message: return messageBytes
        case .approval: return 1 << 20
        case .control, .threadMeta: return 64 * 1024
        // Read only to hash a rejection; a larger file is rejected from its size (fstat), never read, so a
        // 50 MB file costs nothing however often it is written.
        case .reply, .toolCall, .remote, .unsupported: return messageBytes
        case .artefact, .draft, .journal: return nil
        }
    }
}

/// What a worker reports: one typed outcome per event, through one stream.
public enum Outcome: Sendable {
    /// The runtime acknowledged a message.
    case delivered(runtime: String, thread: String, message: String, attempt: Int, accepted: Accepted)
    /// An attempt failed.
    case deliveryFailed(runtime: String, thread: String, message: String, attempt: Int, error: RuntimeError)
    /// A run moved.
    case runUpdate(thread: String, run: String, update: RunUpdate)
    /// A run's updates ended (normally, with an error, or because it was cancelled).
    case runStreamEnded(thread: String, run: String, error: RuntimeError?)
    /// The runtime accepted a regenerate request.
    case regenerateAccepted(thread: String, run: String, reference: RunReference, runtime: String)
    case regenerateFailed(thread: String, run: String, error: RuntimeError)
    /// Approval answers reached the runtime (`error` nil), or did not.
    case answersDelivered(thread: String, run: String, approvals: [String], error: RuntimeError?)
    /// The runtime's abort endpoint answered (or could not be reached).
    case abortDelivered(thread: String, run: String, error: RuntimeError?)
    case agentsListed(runtime: String, result: Result<[RuntimeAgent], RuntimeError>)
    /// A runtime that lists threads listed them.
    case remoteThreads(runtime: String, threads: [RemoteThread])
    /// A runtime thread's messages, as asked by `Job.fetchMessages`.
    case remoteMessages(runtime: String, thread: RemoteThread, messages: [RemoteMessage])
    /// Pulling from a runtime failed.
    case syncFailed(runtime: String, error: RuntimeError)
}

/// What the runtime said when it took a message.
public struct Accepted: Sendable, Hashable {
    public var runtimeMessageID: String
    public var runtimeThreadID: String?
    public var reference: RunReference

    public init(runtimeMessageID: String, runtimeThreadID: String?, reference: RunReference) {
        self.runtimeMessageID = runtimeMessageID
        self.runtimeThreadID = runtimeThreadID
        self.reference = reference
    }
}
