public import ChatModel

/// What a runtime can do; the daemon and the site adapt to it and say so when asked for more.
public struct RuntimeCapabilities: Sendable, Hashable, Codable {
    /// Replies arrive in pieces while they are written.
    public var streaming: Bool
    /// The runtime reports tool calls.
    public var toolCalls: Bool
    /// The runtime can ask the operator to approve something.
    public var approvals: Bool
    /// A running reply can be stopped.
    public var abort: Bool
    /// A reply can be produced again for the same message.
    public var regenerate: Bool
    /// The runtime lists its threads (so messages from other channels can be pulled).
    public var threadListing: Bool
    /// The runtime keeps the conversation; otherwise the daemon sends the whole history each time.
    public var serverHistory: Bool
    /// The runtime lists its agents and their scopes; otherwise they come from configuration.
    public var agentListing: Bool

    public init(
        streaming: Bool, toolCalls: Bool, approvals: Bool, abort: Bool, regenerate: Bool, threadListing: Bool,
        serverHistory: Bool, agentListing: Bool
    ) {
        self.streaming = streaming
        self.toolCalls = toolCalls
        self.approvals = approvals
        self.abort = abort
        self.regenerate = regenerate
        self.threadListing = threadListing
        self.serverHistory = serverHistory
        self.agentListing = agentListing
    }

    /// The names of what is missing from `needed`, for messages.
    public func lacking(_ feature: KeyPath<RuntimeCapabilities, Bool>) -> Bool { !self[keyPath: feature] }
}

/// An agent a runtime offers.
public struct RuntimeAgent: Sendable, Hashable, Codable {
    public var id: String
    public var name: String?
    public var scopes: [String]
    /// The runtime (by configured name) that serves it.
    public var runtime: String

    public init(id: String, name: String?, scopes: [String], runtime: String) {
        self.id = id
        self.name = name
        self.scopes = scopes
        self.runtime = runtime
    }

    /// Whether it may be used from Letterbox (its scopes include `chat`).
    public var isChat: Bool { scopes.contains("chat") }
}

/// One earlier message of the conversation, for runtimes that need the whole history each run.
public struct HistoryItem: Sendable, Hashable {
    public enum Role: String, Sendable, Hashable { case user, assistant, tool, system }
    public var role: Role
    public var id: String
    public var content: String
    /// For assistant messages that called tools.
    public var toolCalls: [ToolCallSummary] = []
    /// For tool results: the call they answer.
    public var toolCallID: String?

    public init(role: Role, id: String, content: String, toolCalls: [ToolCallSummary] = [], toolCallID: String? = nil) {
        self.role = role
        self.id = id
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }
}

/// A tool call as history carries it.
public struct ToolCallSummary: Sendable, Hashable {
    public var id: String
    public var name: String
    public var arguments: String
    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// A message on its way to a runtime.
public struct OutgoingMessage: Sendable, Hashable {
    /// The Letterbox thread.
    public var thread: String
    public var threadTitle: String
    /// The runtime's id for the thread, once it has one.
    public var runtimeThreadID: String?
    /// The Letterbox message id.
    public var message: String
    /// The idempotency key, fixed when the message was accepted.
    public var requestID: String
    public var agent: String
    public var content: String
    /// The Letterbox run id the answer will be recorded under.
    public var run: String
    /// Earlier messages (for runtimes without server-side history), oldest first, this one excluded.
    public var history: [HistoryItem]
    /// When answering approvals: what the interrupted run produced so far (the assistant message with
    /// its tool calls, and tool results already known), rebuilt from the journal and files so that a
    /// resume after a restart sends the same thing.
    public var runSoFar: [HistoryItem] = []
    /// The thread's shared state as last journaled (AG-UI `STATE_*`, JSON), for runtimes that want it
    /// sent back with each run; the AG-UI client falls back to it after a restart. Nil when none.
    public var sharedState: String?

    public init(
        thread: String, threadTitle: String, runtimeThreadID: String?, message: String, requestID: String,
        agent: String,
        content: String, run: String, history: [HistoryItem]
    ) {
        self.thread = thread
        self.threadTitle = threadTitle
        self.runtimeThreadID = runtimeThreadID
        self.message = message
        self.requestID = requestID
        self.agent = agent
        self.content = content
        self.run = run
        self.history = history
    }
}

/// Identifies a run in the runtime, enough to follow, abort or resume it.
public struct RunReference: Sendable, Hashable, Codable {
    public var run: String
    public var runtimeThreadID: String?
    /// The runtime's id of the operator message the run answers.
    public var runtimeMessageID: String?
    /// Runtime ids of earlier answers to the same message (so a regenerated run ignores them).
    public var excludedRuntimeIDs: [String] = []

    public init(run: String, runtimeThreadID: String?, runtimeMessageID: String?, excludedRuntimeIDs: [String] = []) {
        self.run = run
        self.runtimeThreadID = runtimeThreadID
        self.runtimeMessageID = runtimeMessageID
        self.excludedRuntimeIDs = excludedRuntimeIDs
    }
}

/// A tool call as it develops during a run.
public struct ToolCallUpdate: Sendable, Hashable {
    public var id: String
    public var name: String
    /// The arguments so far (JSON text).
    public var arguments: String
    /// The result, once known.
    public var result: String?
    /// The runtime's id for the record (a message id), if any.
    public var runtimeID: String?

    public init(id: String, name: String, arguments: String, result: String? = nil, runtimeID: String? = nil) {
        self.id = id
        self.name = name
        self.arguments = arguments
        self.result = result
        self.runtimeID = runtimeID
    }
}

/// A question the runtime asks the operator.
public struct ApprovalRequest: Sendable, Hashable {
    /// The runtime's id for it (an approval id, an AG-UI interrupt id).
    public var runtimeID: String
    public var prompt: String
    public var toolCallID: String?
    public var tool: String?
    public var arguments: String?
    /// The decisions the runtime can express for it (docs/format.md §6.4): never `respond` for a tool
    /// call, `edit` only where edited arguments can be sent.
    public var decisions: [Decision] = Decision.basic
    /// When the runtime stops waiting for it (AG-UI `expiresAt`); nil: the configured default.
    public var expiresAt: Timestamp?
    /// The JSON Schema of the tool's arguments (edited arguments must meet it), if the runtime gave one.
    public var schema: String?

    public init(
        runtimeID: String, prompt: String, toolCallID: String?, tool: String?, arguments: String?,
        decisions: [Decision] = Decision.basic, expiresAt: Timestamp? = nil, schema: String? = nil
    ) {
        self.runtimeID = runtimeID
        self.prompt = prompt
        self.toolCallID = toolCallID
        self.tool = tool
        self.arguments = arguments
        self.decisions = decisions
        self.expiresAt = expiresAt
        self.schema = schema
    }
}

/// The operator's answer to an approval, on its way back.
public struct ApprovalAnswer: Sendable, Hashable {
    public var runtimeID: String
    public var decision: Decision
    /// The reason (reject), the answer (respond), or a note (approve, edit).
    public var note: String?
    public var toolCallID: String?
    /// The edited arguments (canonical JSON), for `edit`.
    public var arguments: String?
    /// The request is withdrawn rather than answered: the operator aborted the run while it waited
    /// (AG-UI's `status: "cancelled"`, which closes the interrupt). `decision` and `note` are unused.
    public var withdrawn = false

    public init(
        runtimeID: String, decision: Decision, note: String?, toolCallID: String?, arguments: String? = nil
    ) {
        self.runtimeID = runtimeID
        self.decision = decision
        self.note = note
        self.toolCallID = toolCallID
        self.arguments = arguments
    }

    /// A withdrawal of the request `runtimeID`.
    public static func withdrawal(of runtimeID: String, toolCallID: String?) -> ApprovalAnswer {
        var answer = ApprovalAnswer(runtimeID: runtimeID, decision: .cancel, note: nil, toolCallID: toolCallID)
        answer.withdrawn = true
        return answer
    }
}

/// Something that happened during a run.
public enum RunUpdate: Sendable, Hashable {
    /// The reply's whole text so far.
    case text(String)
    /// The model's reasoning so far (shown collapsed).
    case reasoning(String)
    /// A tool call was made or progressed.
    case toolCall(ToolCallUpdate)
    /// The run waits for the operator.
    case approval(ApprovalRequest)
    /// The runtime's shared state (JSON).
    case state(String)
    /// A CUSTOM or RAW event (JSON).
    case custom(String)
    /// The runtime's id for the reply, once known.
    case replyID(String)
    /// The run ended.
    case finished(RunEnd)
}

/// How a run ended.
public enum RunEnd: Sendable, Hashable {
    case complete(usage: String?)
    case aborted(reason: String)
    case errored(reason: String)
    /// The run stopped to wait for the operator's answers (AG-UI interrupts); answering resumes it.
    case interrupted
}
