public import ChatModel

/// Everything the machine holds for one thread: the fold of its journal, what is in flight, and the
/// texts it knows. Owned by `InboxMachine`; never shared.
public final class ThreadMachine {
    public let id: String
    /// The journal's fold, including every line the machine has decided (written or about to be).
    public internal(set) var state: ThreadState
    /// The journal's last line, which the next one chains to.
    var tail: JournalEntry?
    var meta = ThreadMeta()
    public internal(set) var phase: Phase = .idle

    /// Where a thread is. One run at a time per thread (docs/daemon.md).
    public enum Phase {
        /// Nothing in flight.
        case idle
        /// A run is going: requested, streaming, or waiting for approval answers.
        case running(ActiveRun)
        /// A message delivered behind a run that has ended since is still on its way.
        case acknowledging(message: String)
        /// The journal cannot be used (damaged, replaced with lines missing): left alone, the reason shown.
        case stopped(reason: String)
    }

    /// Accepted messages as parsed, kept until sent (after a restart, parsed again from `contents` and
    /// checked against the journaled hash).
    var accepted: [String: OperatorMessage] = [:]
    /// The bytes of the thread's message, reply and tool files, by name, as read at load or as written
    /// here; nil until a load brought them. Histories are built from these.
    var contents: [String: [UInt8]]?
    /// The hash of each approval file as last read, so a save that changes nothing is not read again.
    var approvalHashes: [String: String] = [:]
    /// The text of each approval file as last read or written, so its front matter `status` can be
    /// brought up to date once it is decided or expires.
    var approvalTexts: [String: String] = [:]
    /// Approval files read only to bring their `status` up to date (not an operator's save).
    var approvalStatusReads: Set<String> = []
    /// Control files already acted on.
    var controlsDone: Set<String> = []
    /// Stamps of files already rejected, so a rescan does not read them again.
    var rejectedStamps: [String: String] = [:]
    /// The scheduler found nothing to start here, and nothing was journaled since: skip the thread.
    var quiet = false
    /// Approval answers are on their way; or, after a failure, when to send them again.
    var answersInFlight = false
    var answersRetryAt: Moment?
    /// Failed regenerate requests per message, for backoff.
    var regenerateFailures: [String: Int] = [:]
    var regenerateRetryAt: Moment?
    /// Names in the folder as last listed, plus those written since: new daemon files take free names.
    var knownFiles: Set<String> = []

    init(id: String) {
        self.id = id
        state = ThreadState(id: id)
    }

    /// The run in progress, if any.
    var active: ActiveRun? {
        get { if case let .running(run) = phase { run } else { nil } }
        set {
            if case .stopped = phase { return }  // a stopped thread stays stopped
            if let newValue {
                phase = .running(newValue)
            } else if case .running = phase {
                phase = .idle
            }
        }
    }

    /// Why the thread is stopped, if it is.
    public var problem: String? { if case let .stopped(reason) = phase { reason } else { nil } }

    /// Whether a run is in progress here or a request is on its way (the scheduler's count of busy threads).
    var holdsSlot: Bool {
        switch phase {
        case .running, .acknowledging: true
        case .idle, .stopped: false
        }
    }

    /// The agent a message goes to: its own `agent:`, the thread's, or the configured default.
    func agent(for messageAgent: String?, default defaultAgent: String?) -> String? {
        messageAgent ?? meta.agent ?? defaultAgent
    }
}

/// A run the machine is recording.
public struct ActiveRun: Sendable {
    public var run: String
    public var message: String
    /// The reply file name, once the run has produced anything.
    public var file: String?
    public var agent: String
    public var runtime: String
    public var reference: RunReference
    /// The request that starts the run (a delivery, a regenerate) has not been answered yet.
    var requesting = false
    /// A message delivered behind this run (the runtime queues it), still on its way.
    var queuedSend: String?
    var text = ""
    var reasoning = ""
    var replyRuntimeID: String?
    /// When the reply file was last rewritten, and whether it is behind the text.
    var lastFlush: Moment?
    var dirty = false
    /// Tool call id -> its record file.
    var toolFiles: [String: String] = [:]
    var toolCalls: [String: ToolCallUpdate] = [:]
    /// Runtime approval id -> approval id (the file's stem).
    var approvals: [String: String] = [:]
    /// The operator asked to stop it.
    var abortRequested = false
}
