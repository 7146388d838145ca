/// One real effect the reference runtime performed, for tests that assert "exactly once".
///
/// Replayed idempotent requests and fault responses never add an effect; a fault with `afterEffect` adds the
/// effect of the real request it answers for. Test-only: see docs/runtime-api.md, "Test control".
public struct ReferenceEffect: Sendable, Equatable, Codable {
    /// What happened.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// An operator message was stored (`POST /external/chat/messages`, not a replay).
        case messageAccepted = "message_accepted"
        /// An agent run started answering an operator message.
        case runStarted = "run_started"
        /// A run was aborted (`POST /external/chat/threads/{id}/abort`).
        case runAborted = "run_aborted"
        /// An approval was answered for the first time.
        case approvalAnswered = "approval_answered"
        /// An operator message's answer was regenerated.
        case regenerated
    }

    /// 1, 2, 3…: the order effects happened in.
    public var seq: Int
    /// What happened.
    public var kind: Kind
    /// The `Idempotency-Key` of the request that caused it (`message_accepted` and its first `run_started`).
    public var idempotencyKey: String?
    /// The thread it happened in.
    public var threadId: String
    /// `message_accepted`, `run_started`, `run_aborted`, `regenerated`: the operator message concerned;
    /// `approval_answered`: the approval message.
    public var messageId: String?
    /// The agent concerned.
    public var agentId: String?
    /// `message_accepted`: the message text; `approval_answered`: `approve` or `reject`;
    /// `run_aborted`: the aborted reply's text so far; `regenerated`: the new assistant message id.
    public var content: String?

    /// An effect with every field given.
    public init(
        seq: Int, kind: Kind, idempotencyKey: String?, threadId: String, messageId: String?, agentId: String?,
        content: String?
    ) {
        self.seq = seq
        self.kind = kind
        self.idempotencyKey = idempotencyKey
        self.threadId = threadId
        self.messageId = messageId
        self.agentId = agentId
        self.content = content
    }

    private enum CodingKeys: String, CodingKey { case seq, kind, idempotencyKey, threadId, messageId, agentId, content }

    /// Encodes every field, writing `null` for absent optional ones.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(seq, forKey: .seq)
        try container.encode(kind, forKey: .kind)
        try container.encode(idempotencyKey, forKey: .idempotencyKey)
        try container.encode(threadId, forKey: .threadId)
        try container.encode(messageId, forKey: .messageId)
        try container.encode(agentId, forKey: .agentId)
        try container.encode(content, forKey: .content)
    }
}
