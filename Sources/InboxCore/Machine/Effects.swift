public import ChatModel

/// What the machine decided, for the shell to carry out (docs/daemon.md, "Journal first").
///
/// Batches run in order, each always the same way: `preWrites` (new versions of files that already
/// exist: a reply's final text before the line that says it ended) -> every journal's lines, with one
/// durability point -> `writes` (files those lines name, then streaming snapshots) -> `jobs`. No file,
/// request or job exists before the journal line that records it is durable.
public struct Effects: Sendable {
    public var batches: [Batch] = [Batch()]
    /// Thread folders to make (with `thread.md`) before `loads` reads them: threads started elsewhere.
    public var newThreads: [NewThread] = []
    /// Threads to read from disk (`Input.threadLoaded`), with their texts when `bodies`.
    public var loads: [Load] = []
    /// Files to `lstat` and read (`Input.filesRead`), by thread.
    public var reads: [String: [String]] = [:]
    /// Thread folders to list again (`Input.rescanned` with no root).
    public var listings: Set<String> = []
    /// Runs whose worker must stop listening (an abort, a thread read again).
    public var cancels: [RunKey] = []
    /// The earliest time the machine wants a `tick`.
    public var wake: Moment?
    /// Threads whose pages are stale ("" is the inbox as a whole).
    public var siteChanged: Set<String> = []
    /// Things worth logging.
    public var notes: [Note] = []
    /// Threads let go of (idle): the shell closes their journals.
    public var released: [String] = []
    /// Moments worth a commit in the inbox's git history (an accepted message, a finished reply, an
    /// answer, a control), in order; what was journaled in between rides along.
    public var commitPoints: [CommitPoint] = []
    /// Things that now need the operator (an approval waits, a message failed for good), for the
    /// `on_attention` command; each is journaled in this effects' lines.
    public var attention: [AttentionNotice] = []

    public init() {}

    /// A thread to read.
    public struct Load: Sendable, Hashable {
        public var thread: String
        public var bodies: Bool
    }

    /// Whether there is nothing to do.
    public var isEmpty: Bool {
        batches.allSatisfy(\.isEmpty) && newThreads.isEmpty && loads.isEmpty && reads.isEmpty && listings.isEmpty
            && cancels.isEmpty
            && wake == nil
            && siteChanged.isEmpty && notes.isEmpty && attention.isEmpty
    }

    /// Appends `other`'s work after this one's (the shell coalesces the effects of several inputs into
    /// one commit: group commit). A batch with pre-writes stays apart, so its order holds.
    public mutating func append(_ other: Effects) {
        for var batch in other.batches where !batch.isEmpty {
            // A final version of a file that an earlier batch here only just creates: create it final
            // (durably) there instead of creating it and replacing it at once. The order holds: the
            // file still follows its own line and still precedes the lines of this batch.
            var folded = false
            if let last = batches.indices.last {
                batch.preWrites.removeAll { write in
                    guard write.mode == .replaceDurably,
                        let created = batches[last].writes.lastIndex(where: {
                            $0.thread == write.thread && $0.file == write.file
                                && ($0.mode == .create || $0.mode == .createDurably)
                        })
                    else { return false }
                    batches[last].writes.removeAll {
                        $0.thread == write.thread && $0.file == write.file && $0.mode == .replace
                    }
                    let index =
                        batches[last].writes.firstIndex { $0.thread == write.thread && $0.file == write.file }
                        ?? created
                    batches[last].writes[index] = FileWrite(
                        thread: write.thread, file: write.file, bytes: write.bytes, mode: .createDurably)
                    folded = true
                    return true
                }
            }
            // A batch whose pre-write was folded back keeps its lines after that batch's files.
            if batch.preWrites.isEmpty, !folded, var last = batches.popLast() {
                last.merge(batch)
                batches.append(last)
            } else {
                batches.append(batch)
            }
        }
        newThreads += other.newThreads
        for load in other.loads where !loads.contains(load) { loads.append(load) }
        for (thread, paths) in other.reads {
            reads[thread, default: []] += paths.filter { !(reads[thread] ?? []).contains($0) }
        }
        listings.formUnion(other.listings)
        cancels += other.cancels
        if let wake = other.wake { self.wake = min(self.wake ?? wake, wake) }
        siteChanged.formUnion(other.siteChanged)
        notes += other.notes
        released += other.released
        commitPoints += other.commitPoints
        attention += other.attention
    }
}

/// One step of `Effects`, carried out in the fixed order described there.
public struct Batch: Sendable {
    public var preWrites: [FileWrite] = []
    /// Lines for each journal, in order ("" is the inbox journal).
    public var journal: [String: [JournalEntry]] = [:]
    /// The order in which journals were first touched (so the shell writes deterministically).
    public var journalOrder: [String] = []
    public var writes: [FileWrite] = []
    public var jobs: [Job] = []

    public init() {}

    public var isEmpty: Bool { preWrites.isEmpty && journal.isEmpty && writes.isEmpty && jobs.isEmpty }

    mutating func append(_ entry: JournalEntry, to journal: String) {
        if self.journal[journal] == nil { journalOrder.append(journal) }
        self.journal[journal, default: []].append(entry)
    }

    mutating func merge(_ other: Batch) {
        preWrites += other.preWrites
        for id in other.journalOrder {
            for entry in other.journal[id] ?? [] { append(entry, to: id) }
        }
        writes += other.writes
        jobs += other.jobs
    }
}

/// A daemon file to write in a thread folder.
public struct FileWrite: Sendable, Hashable {
    public var thread: String
    /// The file name in the thread folder.
    public var file: String
    public var bytes: [UInt8]
    public var mode: Mode

    /// How it is written.
    public enum Mode: Sendable, Hashable {
        /// A new name, without fsync (a streaming first version a durable one replaces).
        case create
        /// A new name, durably (temp, fsync, rename without replacing, fsync the folder).
        case createDurably
        /// A new version of a file this daemon created, without fsync (streaming snapshots).
        case replace
        /// A new version of a file this daemon created, durably (a final reply, a tool result).
        case replaceDurably
    }
}

/// A run, by thread and run id.
public struct RunKey: Sendable, Hashable {
    public var thread: String
    public var run: String

    public init(thread: String, run: String) {
        self.thread = thread
        self.run = run
    }
}

/// Work for the network side: each job's results come back as `Outcome`s.
public enum Job: Sendable {
    /// Deliver a message (its `attempt` is already journaled). With `follow`, then record its run
    /// (reporting the run's updates); without, only deliver: the runtime queues it behind the run in
    /// progress, which is followed later.
    case send(runtime: String, thread: String, message: String, attempt: Int, outgoing: OutgoingMessage, follow: Bool)
    /// Record a run that was going before (after a restart, or queued behind another).
    case follow(runtime: String, thread: String, run: String, reference: RunReference)
    /// Ask for a new answer to a message, then record it.
    case regenerate(runtime: String, thread: String, run: String, outgoing: OutgoingMessage, previous: RunReference)
    /// Send approval answers (and record the resumed run, for runtimes that resume with a new request).
    case answer(
        runtime: String, thread: String, run: String, answers: [ApprovalAnswer], reference: RunReference,
        outgoing: OutgoingMessage)
    /// Stop a run in the runtime. A run waiting for approval on a runtime that resumes with a new
    /// request has its requests withdrawn first (`withdraw`: the answers and the message to send).
    case abort(runtime: String, thread: String, run: String, reference: RunReference, withdraw: Withdrawal?)
    /// Ask a runtime for its agents.
    case listAgents(runtime: String)
    /// Ask a runtime that lists threads for them (`Outcome.remoteThreads`).
    case listThreads(runtime: String)
    /// Ask for one runtime thread's messages (`Outcome.remoteMessages`).
    case fetchMessages(runtime: String, thread: RemoteThread)

    /// The thread a job is about, if any.
    public var thread: String? {
        switch self {
        case let .send(_, thread, _, _, _, _), let .follow(_, thread, _, _), let .regenerate(_, thread, _, _, _),
            let .answer(_, thread, _, _, _, _), let .abort(_, thread, _, _, _):
            thread
        case .listAgents, .listThreads, .fetchMessages:
            nil
        }
    }
}

/// Something that needs the operator: an approval that waits, a message that failed for good.
public struct AttentionNotice: Sendable, Hashable {
    public var thread: String
    /// The file to act on, in the thread folder (the approval request, the failed message).
    public var file: String
    /// `approval` or `failed`.
    public var kind: String
    public var reason: String

    public init(thread: String, file: String, kind: String, reason: String) {
        self.thread = thread
        self.file = file
        self.kind = kind
        self.reason = reason
    }
}

/// Approval requests withdrawn because the run was aborted while they waited.
public struct Withdrawal: Sendable {
    public var answers: [ApprovalAnswer]
    public var outgoing: OutgoingMessage
}

/// A line for the log.
public struct Note: Sendable, Hashable {
    public enum Level: Sendable, Hashable { case debug, info, notice, warning, error }
    public var level: Level
    public var message: String
    public var metadata: [String: String]

    public init(_ level: Level, _ message: String, _ metadata: [String: String] = [:]) {
        self.level = level
        self.message = message
        self.metadata = metadata
    }
}

/// A moment the inbox's history should record, for git (docs/daemon.md, "Git").
public struct CommitPoint: Sendable, Hashable {
    public var thread: String
    /// What happened, for the commit message (`reply from assistant to rollout.md`).
    public var summary: String
    /// An operator's message file accepted at this point: committed on its own, as the operator.
    public var operatorFile: String?

    public init(thread: String, summary: String, operatorFile: String? = nil) {
        self.thread = thread
        self.summary = summary
        self.operatorFile = operatorFile
    }
}
