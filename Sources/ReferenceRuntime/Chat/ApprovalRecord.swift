/// An approval as `POST /external/chat/approvals/{id}` returns it: the request plus where and how it was answered.
public struct ApprovalRecord: Sendable, Equatable, Codable {
    /// The approval id.
    public var id: String
    /// The thread it belongs to.
    public var threadId: String
    /// The `approval` message that carries it.
    public var messageId: String
    /// The tool call it gates.
    public var toolCallId: String
    /// The question for the operator.
    public var prompt: String
    /// Pending, approved or rejected.
    public var status: Approval.Status
    /// The operator's note with the answer, if any.
    public var note: String?
    /// When it was answered, or `null` while pending.
    public var answeredAt: RuntimeTimestamp?

    /// An approval record with every field given.
    public init(
        id: String, threadId: String, messageId: String, toolCallId: String, prompt: String, status: Approval.Status,
        note: String? = nil, answeredAt: RuntimeTimestamp? = nil
    ) {
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
        case id, threadId, messageId, toolCallId, prompt, status, note, answeredAt
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
        try container.encode(note, forKey: .note)
        try container.encode(answeredAt, forKey: .answeredAt)
    }
}
