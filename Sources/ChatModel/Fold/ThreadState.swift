/// Where a message is on its way to the runtime (docs/format.md §7.5).
public enum DeliveryState: Sendable, Hashable {
    /// On disk or accepted, waiting to be sent (behind a running reply, or for the daemon).
    case queued
    /// Attempt `attempt` is in flight.
    case sending(attempt: Int)
    /// Attempt `attempt` failed for `reason`; the next one starts at `notBefore`.
    case retrying(attempt: Int, notBefore: Timestamp, reason: String)
    /// The runtime acknowledged it.
    case sent
    /// Its latest reply is complete.
    case replied
    /// Delivery gave up for `reason`.
    case failed(reason: String)

    /// The state's name as pages, `status --json` and the docs spell it.
    public var name: String {
        switch self {
        case .queued: "queued"
        case .sending: "sending"
        case .retrying: "retrying"
        case .sent: "sent"
        case .replied: "replied"
        case .failed: "failed"
        }
    }

    /// Whether a message in this state can take a `reply_started` line: the runtime acknowledged it
    /// (`sent`), or it was answered and a regenerate starts another reply (`replied`).
    public var acceptsReply: Bool {
        switch self {
        case .sent, .replied: true
        case .queued, .sending, .retrying, .failed: false
        }
    }
}

/// The state of one run (a reply being produced).
public enum RunStatus: String, Sendable, Hashable, CaseIterable {
    case streaming
    case awaitingApproval = "awaiting_approval"
    case complete, aborted, errored

    /// Whether the run has ended.
    public var isFinished: Bool { self == .complete || self == .aborted || self == .errored }
}

/// One delivery attempt and how it ended.
public struct AttemptRecord: Sendable, Hashable {
    public var number: Int
    public var startedAt: Timestamp
    /// Nil while in flight.
    public var outcome: Outcome?

    public enum Outcome: Sendable, Hashable {
        case sent(runtimeID: String)
        case retry(reason: String, notBefore: Timestamp)
        case failed(reason: String)
    }

    /// When it ended.
    public var endedAt: Timestamp?
}

/// An edit of a message file after it was accepted.
public struct EditRecord: Sendable, Hashable {
    public var at: Timestamp
    public var sha256: String
}

/// A tool call made during a run.
public struct ToolCallRecord: Sendable, Hashable {
    public var id: String
    public var tool: String
    public var file: String
    public var status: String
    public var at: Timestamp
    /// The runtime's id for the record, if it has one.
    public var runtimeID: String?
}

/// An approval request and its answer.
public struct ApprovalState: Sendable, Hashable {
    public var id: String
    public var run: String
    public var file: String
    public var toolCall: String?
    public var tool: String?
    public var requestedAt: Timestamp
    /// The runtime's id for the request (an approval id, an AG-UI interrupt id), used to answer it.
    public var runtimeID: String?
    public var answer: Answer?
    /// Whether the runtime has taken the answer.
    public var delivered: Bool = false
    /// Why saved files were not answers, newest last.
    public var invalidAnswers: [String] = []
    /// The decisions offered (only what the runtime can express).
    public var decisions: [Decision] = Decision.basic
    /// When it expires (the runtime's `expiresAt`, or the configured default); nil: never.
    public var expiresAt: Timestamp?
    /// The `expires_at` passed unanswered: it can only be cancelled now.
    public var expired = false
    /// The JSON Schema edited arguments must meet, when the runtime gave one.
    public var schema: String?
    /// The digest of the proposed arguments' canonical JSON.
    public var argumentsSHA256: String?
    /// How many later edits of the file were ignored (the first valid decision is final).
    public var ignoredEdits = 0

    /// The operator's answer.
    public struct Answer: Sendable, Hashable {
        public var decision: Decision
        /// The reason (reject), the text (respond), or a note.
        public var note: String?
        public var at: Timestamp
        public var file: String?
        /// The edited arguments (JSON), for `edit`.
        public var arguments: String?
    }

    /// Whether it still waits for the operator.
    public var isPending: Bool { answer == nil }

    /// The decisions that can be made now: only cancel once it expired.
    public var decisionsNow: [Decision] { expired ? [.cancel] : decisions }

    /// Its state in words, for pages and status: waiting, expired, or what was decided.
    public var stateWords: String {
        guard let answer else { return expired ? "expired (can only be cancelled)" : "waiting for your decision" }
        switch answer.decision {
        case .approve: return "approved"
        case .edit: return "approved with edited arguments"
        case .reject: return "rejected"
        case .respond: return "answered"
        case .cancel: return "cancelled"
        }
    }

    /// The front matter `status` of its file: `pending`, `expired`, or the decision's past tense.
    public var fileStatus: String {
        guard let answer else { return expired ? "expired" : "pending" }
        switch answer.decision {
        case .approve: return "approved"
        case .edit: return "edited"
        case .reject: return "rejected"
        case .respond: return "responded"
        case .cancel: return "cancelled"
        }
    }
}

/// One run: a reply to a message, with its tool calls and approvals.
public struct RunState: Sendable, Hashable {
    public var id: String
    /// The message it answers.
    public var message: String
    /// The reply file.
    public var file: String
    public var agent: String
    public var runtimeID: String?
    public var status: RunStatus
    /// Why it was aborted or errored.
    public var reason: String?
    public var startedAt: Timestamp
    public var endedAt: Timestamp?
    public var toolCalls: [ToolCallRecord] = []
    public var approvals: [ApprovalState] = []
    public var abortRequested: Bool = false
    /// Usage or other detail the runtime reported at the end (JSON).
    public var detail: String?
    /// The last shared state the runtime sent (JSON).
    public var sharedState: String?
    /// CUSTOM / RAW events (JSON), in order.
    public var customEvents: [String] = []
    /// The reply's sha256 once complete.
    public var sha256: String?
}

/// Where a message came from.
public enum MessageOrigin: Sendable, Hashable {
    /// An operator's file in the thread folder.
    case `operator`
    /// Pulled from the runtime.
    case remote(runtimeID: String)
}

/// One message and everything that happened to it.
public struct MessageState: Sendable, Hashable {
    public var id: String
    public var file: String
    public var origin: MessageOrigin
    /// The hash of the bytes detected (and, once accepted, sent).
    public var sha256: String
    public var requestID: String?
    public var agent: String?
    public var delivery: DeliveryState
    public var attempts: [AttemptRecord] = []
    public var runtimeID: String?
    public var edits: [EditRecord] = []
    /// Runs answering this message, oldest first: regenerated answers are later branches.
    public var runs: [String] = []
    public var detectedAt: Timestamp
    public var acceptedAt: Timestamp?
    /// A regenerate was asked for and has not started yet.
    public var regeneratePending: Bool = false
    /// Why the last regenerate request was refused, if it was.
    public var regenerateError: String?
    /// The message is on disk but the daemon has not journaled it yet.
    public var notYetSeen: Bool = false
    /// The journal knows it but the file is gone.
    public var fileMissing: Bool = false

    /// Whether it is accepted and waits to be (re)sent.
    public var isAwaitingDelivery: Bool {
        guard acceptedAt != nil else { return false }
        switch delivery {
        case .queued, .sending, .retrying: return true
        case .sent, .replied, .failed: return false
        }
    }

    /// Whether the runtime has it but its answer has not begun here: queued behind another run, or
    /// sent just before the daemon stopped.
    public var isAwaitingItsRun: Bool {
        origin == .operator && delivery == .sent && runs.isEmpty
    }
}

/// A file the daemon refused, and why (the latest reason per file).
public struct RejectedFile: Sendable, Hashable {
    public var file: String
    public var reason: String
    public var sha256: String?
    public var at: Timestamp
}

/// A control file that was acted on.
public struct ControlRecord: Sendable, Hashable {
    public var file: String
    public var outcome: JournalEvent.Outcome
    public var reason: String?
    public var at: Timestamp
}

/// Everything the journal says about a thread: a pure fold of its lines.
public struct ThreadState: Sendable, Hashable {
    public var id: String
    public var runtimeThreadID: String?
    /// Messages in the order they were detected (operator and remote).
    public var messages: [MessageState] = []
    /// Runs by id.
    public var runs: [String: RunState] = [:]
    /// Rejected files, by file name.
    public var rejected: [String: RejectedFile] = [:]
    public var controls: [ControlRecord] = []
    /// The time of the newest line.
    public var lastActivity: Timestamp?
    /// The seq of the newest line folded.
    public var lastSeq: Int = 0
    /// The hash of the newest line folded.
    public var lastHash: String = JournalCodec.genesis

    var messageIndex: [String: Int] = [:]
    var approvalRun: [String: String] = [:]

    public init(id: String) { self.id = id }

    /// The message with this id.
    public func message(_ id: String) -> MessageState? { messageIndex[id].map { messages[$0] } }

    /// The run that is streaming or waiting for approval, if any (at most one per thread).
    public var activeRun: RunState? {
        runs.values.filter { !$0.status.isFinished }.min { $0.startedAt < $1.startedAt }
    }

    /// Approvals still waiting for the operator. Unanswered requests of a run that ended (aborted,
    /// errored) are closed, not pending: nothing would take the answer.
    public var pendingApprovals: [ApprovalState] {
        runs.values.filter { !$0.status.isFinished }.sorted { $0.startedAt < $1.startedAt }
            .flatMap { $0.approvals.filter(\.isPending) }
    }

    /// The approval with this id.
    public func approval(_ id: String) -> ApprovalState? {
        guard let run = approvalRun[id] else { return nil }
        return runs[run]?.approvals.first { $0.id == id }
    }

    /// The runs of `message`, oldest first.
    public func runs(of message: MessageState) -> [RunState] { message.runs.compactMap { runs[$0] } }
}
