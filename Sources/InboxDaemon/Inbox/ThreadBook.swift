import ChatModel
import InboxStore
import Synchronization

/// Everything the daemon holds for one thread: its open journal, the fold of it, and what is in flight.
/// Owned by the `InboxCoordinator` actor; never shared.
final class ThreadBook {
    let id: String
    let folder: String
    var journal: JournalFile?
    var state: ThreadState
    var meta = ThreadMeta()
    /// Set when the journal cannot be used (damaged): the thread is left alone, and the reason shown.
    var problem: String?
    /// Accepted messages as parsed, kept until sent (re-read and checked against the journaled hash
    /// after a restart).
    var accepted: [String: OperatorMessage] = [:]
    /// The hash of each approval file as last read, so a save that changes nothing is not re-read.
    var approvalHashes: [String: String] = [:]
    /// Control files already acted on.
    var controlsDone: Set<String> = []
    /// The run in progress.
    var active: ActiveRun?
    /// A delivery attempt (or a regenerate request) is in flight.
    var busy = false
    /// A message delivered while `active` runs (the runtime queues it behind that run), in flight.
    var sending: String?
    /// The scheduler found nothing to start here, and nothing was journaled since: skip the thread.
    var quiet = false

    /// Whether a run is in progress here or a request is on its way (the scheduler's count of busy
    /// threads); tested without copying `active`.
    var holdsSlot: Bool {
        if busy || sending != nil { return true }
        if case .some = active { return true }
        return false
    }
    /// Stamps of files already rejected, so a rescan does not read them again.
    var rejectedStamps: [String: String] = [:]
    /// Approval answers are on their way to the runtime; or, after a failure, when to send them again.
    var answersInFlight = false
    var answersRetryAt: ContinuousClock.Instant?
    /// Files to create or replace once the journal lines before them are durable, in order.
    var queuedWrites: [QueuedWrite] = []
    /// Jobs held back while the thread is stalled: they start once its lines and files are written.
    var heldJobs: [DaemonJob] = []
    /// Set while the thread's journal or files cannot be written (a full disk): it is retried.
    var stall: Stall?
    /// How a run ended while its reply file could not be written yet; applied when it can.
    var pendingEnd: RunEnd?
    /// Failed regenerate requests per message, for backoff.
    var regenerateFailures: [String: Int] = [:]
    var regenerateRetryAt: ContinuousClock.Instant?

    init(id: String, folder: String) {
        self.id = id
        self.folder = folder
        state = ThreadState(id: id)
    }

    /// The agent a message goes to: its own `agent:`, the thread's, or the configured default.
    func agent(for messageAgent: String?, default defaultAgent: String?) -> String? {
        messageAgent ?? meta.agent ?? defaultAgent
    }
}

/// A file the daemon writes in a thread folder, waiting for the journal line that names it.
struct QueuedWrite {
    var file: String
    var bytes: [UInt8]
    var mode: WriteMode
}

/// How a daemon file is written (docs/daemon.md, "Journal first").
enum WriteMode {
    /// A new name, without fsync (a streaming first version a durable one replaces).
    case create
    /// A new name, durably.
    case createDurably
    /// A new version of a file this daemon created, without fsync (streaming snapshots).
    case replace
    /// A new version of a file this daemon created, durably (a final reply, a tool result).
    case replaceDurably

    /// Whether it makes a new name (which must wait for its journal line).
    var creates: Bool { self == .create || self == .createDurably }
}

/// Why a thread (or the inbox journal) cannot be written now, and when to try again.
struct Stall {
    var reason: String
    var retryAt: ContinuousClock.Instant
    var backoffMilliseconds: Int64
}

/// A run the daemon is recording.
struct ActiveRun {
    var run: String
    var message: String
    /// The reply file name, once the run has produced anything.
    var file: String?
    var agent: String
    var runtime: String
    var reference: RunReference
    var text = ""
    var reasoning = ""
    var replyRuntimeID: String?
    /// When the reply file was last rewritten, and whether it is behind the text.
    var lastFlush: ContinuousClock.Instant?
    var dirty = false
    /// Tool call id -> its record file.
    var toolFiles: [String: String] = [:]
    var toolCalls: [String: ToolCallUpdate] = [:]
    /// Runtime approval id -> approval id (the file's stem).
    var approvals: [String: String] = [:]
    /// The operator asked to stop it.
    var abortRequested = false
    let abort = AbortSignal()
}

/// Lets a run's worker notice an abort while it waits on the network.
final class AbortSignal: Sendable {
    private struct State {
        var fired = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    var isFired: Bool { state.withLock { $0.fired } }

    /// Returns when fired, at once if it already was, or when the waiting task is cancelled.
    func wait() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
