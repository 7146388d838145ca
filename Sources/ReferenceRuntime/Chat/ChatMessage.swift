/// One message in a thread, as `GET /external/chat/threads/{id}/messages` returns it.
///
/// Optional fields (`replyTo`, `toolCall`, `approval`) are always present in the JSON, as `null` when they do not
/// apply, so every message has the same shape; `clientMessageId` appears only on operator messages posted with one. An in-progress assistant reply keeps its `id` and takes a new `seq`
/// each time it grows.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// Who wrote a message.
    public enum Role: String, Sendable, Codable, CaseIterable {
        /// The human operator (what Letterbox delivers).
        case `operator`
        /// The agent's answer.
        case assistant
        /// A tool call the agent made or wants to make.
        case tool
        /// A request for the operator's approval.
        case approval
        /// A note from the runtime itself.
        case system
    }

    /// Where a message is in its life.
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Stored (operator messages).
        case accepted
        /// Still being written, or waiting (a pending approval, a tool call not yet run).
        case inProgress = "in_progress"
        /// Finished.
        case complete
        /// The run failed.
        case failed
        /// The run was aborted, or a rejected tool call was never made; the content written so far is kept.
        case aborted
    }

    /// The message id (`msg_000001`).
    public var id: String
    /// The thread it belongs to.
    public var threadId: String
    /// The thread's change number of this message's latest create or update.
    public var seq: Int
    /// Who wrote it.
    public var role: Role
    /// Markdown text.
    public var content: String
    /// When it was created.
    public var createdAt: RuntimeTimestamp
    /// When it last changed.
    public var updatedAt: RuntimeTimestamp
    /// Where it is in its life.
    public var status: Status
    /// The operator message this answers (assistant, tool and approval messages).
    public var replyTo: String?
    /// The tool call, for `tool` messages.
    public var toolCall: ToolCall?
    /// The approval request, for `approval` messages.
    public var approval: Approval?
    /// The client's own id, echoed on operator messages posted with one (absent otherwise).
    public var clientMessageId: String?

    /// A message with every field given.
    public init(
        id: String, threadId: String, seq: Int, role: Role, content: String, createdAt: RuntimeTimestamp,
        updatedAt: RuntimeTimestamp, status: Status, replyTo: String? = nil, toolCall: ToolCall? = nil,
        approval: Approval? = nil, clientMessageId: String? = nil
    ) {
        self.id = id
        self.threadId = threadId
        self.seq = seq
        self.role = role
        self.content = content
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.status = status
        self.replyTo = replyTo
        self.toolCall = toolCall
        self.approval = approval
        self.clientMessageId = clientMessageId
    }

    private enum CodingKeys: String, CodingKey {
        case id, threadId, seq, role, content, createdAt, updatedAt, status, replyTo, toolCall, approval,
            clientMessageId
    }

    /// Encodes every field, writing `null` for absent optional ones.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(threadId, forKey: .threadId)
        try container.encode(seq, forKey: .seq)
        try container.encode(role, forKey: .role)
        try container.encode(content, forKey: .content)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(status, forKey: .status)
        try container.encode(replyTo, forKey: .replyTo)
        try container.encode(toolCall, forKey: .toolCall)
        try container.encode(approval, forKey: .approval)
        try container.encodeIfPresent(clientMessageId, forKey: .clientMessageId)
    }
}

/// A tool call carried by a `tool` message.
public struct ToolCall: Sendable, Equatable, Codable {
    /// The call id (`call_000001`), which an approval refers to.
    public var id: String
    /// The tool's name (`restart_service`).
    public var name: String
    /// The arguments as JSON text (`{"host":"db-1","service":"backup"}`), as OpenAI-style APIs carry them.
    public var arguments: String
    /// The tool's output as text, or `null` until the call has run (and for good when it never runs).
    public var result: String?

    /// A tool call with every field given.
    public init(id: String, name: String, arguments: String, result: String? = nil) {
        self.id = id
        self.name = name
        self.arguments = arguments
        self.result = result
    }

    private enum CodingKeys: String, CodingKey { case id, name, arguments, result }

    /// Encodes every field, writing `null` for a missing result.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(arguments, forKey: .arguments)
        try container.encode(result, forKey: .result)
    }
}

/// The approval request carried by an `approval` message.
public struct Approval: Sendable, Equatable, Codable {
    /// Where an approval is.
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Waiting for the operator.
        case pending
        /// The operator approved (with the proposed or edited arguments).
        case approved
        /// The operator rejected.
        case rejected
        /// The operator withdrew the request.
        case cancelled
    }

    /// The approval id (`apr_000001`), used in `POST /external/chat/approvals/{id}`.
    public var id: String
    /// The tool call it gates, or nil for a question (the agent asks for an answer, not a go-ahead).
    public var toolCallId: String?
    /// The question for the operator.
    public var prompt: String
    /// Pending, approved, rejected or cancelled.
    public var status: Status
    /// The decisions the approvals endpoint takes for it (`approve`, `edit`, `reject`, `respond`, `cancel`).
    public var decisions: [String]
    /// The JSON Schema of the tool's arguments as JSON text (what an `edit` must meet), or nil.
    public var argumentsSchema: String?
    /// When the agent stops waiting for an answer, or nil for never.
    public var expiresAt: RuntimeTimestamp?

    /// An approval request with every field given.
    public init(
        id: String, toolCallId: String?, prompt: String, status: Status,
        decisions: [String] = ["approve", "reject", "cancel"], argumentsSchema: String? = nil,
        expiresAt: RuntimeTimestamp? = nil
    ) {
        self.id = id
        self.toolCallId = toolCallId
        self.prompt = prompt
        self.status = status
        self.decisions = decisions
        self.argumentsSchema = argumentsSchema
        self.expiresAt = expiresAt
    }

    private enum CodingKeys: String, CodingKey {
        case id, toolCallId, prompt, status, decisions, argumentsSchema, expiresAt
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        toolCallId = try container.decodeIfPresent(String.self, forKey: .toolCallId)
        prompt = try container.decode(String.self, forKey: .prompt)
        status = try container.decode(Status.self, forKey: .status)
        decisions = try container.decodeIfPresent([String].self, forKey: .decisions) ?? ["approve", "reject"]
        argumentsSchema = try container.decodeIfPresent(String.self, forKey: .argumentsSchema)
        expiresAt = try container.decodeIfPresent(RuntimeTimestamp.self, forKey: .expiresAt)
    }

    /// Encodes every field, writing `null` for absent optional ones.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(toolCallId, forKey: .toolCallId)
        try container.encode(prompt, forKey: .prompt)
        try container.encode(status, forKey: .status)
        try container.encode(decisions, forKey: .decisions)
        try container.encode(argumentsSchema, forKey: .argumentsSchema)
        try container.encode(expiresAt, forKey: .expiresAt)
    }
}
