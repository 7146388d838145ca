/// An approval as `POST /external/chat/approvals/{id}` returns it: the request plus where and how it was answered.
public struct ApprovalRecord: Sendable, Equatable, Codable {
    /// The approval id.
    public var id: String
    /// The thread it belongs to.
    public var threadId: String
    /// The `approval` message that carries it.
    public var messageId: String
    /// The tool call it gates, or nil for a question.
    public var toolCallId: String?
    /// The question for the operator.
    public var prompt: String
    /// Pending, approved, rejected or cancelled.
    public var status: Approval.Status
    /// The decision taken (`approve`, `edit`, `reject`, `respond`, `cancel`), or nil while pending.
    public var decision: String?
    /// The operator's note with the answer (a rejection's reason, a response's answer), if any.
    public var note: String?
    /// The arguments the tool ran with when the decision was `edit` (JSON text), else nil.
    public var arguments: String?
    /// When it was answered, or `null` while pending.
    public var answeredAt: RuntimeTimestamp?

    /// An approval record with every field given.
    public init(
        id: String, threadId: String, messageId: String, toolCallId: String?, prompt: String, status: Approval.Status,
        note: String? = nil, answeredAt: RuntimeTimestamp? = nil, decision: String? = nil, arguments: String? = nil
    ) {
        self.decision = decision
        self.arguments = arguments
        self.id = id
        self.threadId = threadId
        self.messageId = messageId
        self.toolCallId = toolCallId
        self.prompt = prompt
        self.status = status
        self.note = note
        self.answeredAt = answeredAt
    }

    private enum CodingKeys: String, CodingKey {
        case id, threadId, messageId, toolCallId, prompt, status, decision, note, arguments, answeredAt
    }

    /// Encodes every field, writing `null` for absent optional ones.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(threadId, forKey: .threadId)
        try container.encode(messageId, forKey: .messageId)
        try container.encode(toolCallId, forKey: .toolCallId)
        try container.encode(prompt, forKey: .prompt)
        try container.encode(status, forKey: .status)
        try container.encode(decision, forKey: .decision)
        try container.encode(note, forKey: .note)
        try container.encode(arguments, forKey: .arguments)
        try container.encode(answeredAt, forKey: .answeredAt)
    }
}
