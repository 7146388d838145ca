// The JSON envelopes of the external chat API (docs/runtime-api.md). Public model types (`ChatMessage`,
// `ChatThread`, …) live in Chat/; these small wrappers only exist on the wire.

/// `POST /external/chat/messages` body.
struct PostMessageRequest: Decodable, Equatable, Sendable {
    var threadId: String?
    var title: String?
    var agentId: String
    var content: String
    var clientMessageId: String?
}

/// `POST /external/chat/messages` answer (202), stored whole so a replay is byte-identical.
struct PostMessageResponse: Encodable, Equatable, Sendable {
    var threadId: String
    var message: ChatMessage
}

/// `GET /external/agents` answer.
struct AgentList: Encodable {
    var agents: [RuntimeAgent]
}

/// `GET /external/chat/threads` answer.
struct ThreadPage: Encodable, Equatable, Sendable {
    var threads: [ChatThread]
    var nextCursor: String?

    private enum CodingKeys: String, CodingKey { case threads, nextCursor }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(threads, forKey: .threads)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}

/// `GET /external/chat/threads/{id}/messages` answer.
struct MessageList: Encodable {
    var messages: [ChatMessage]
}

/// `POST /external/chat/threads/{id}/abort` body (optional): the operator message whose run to end.
struct AbortRequest: Decodable, Sendable {
    var messageId: String?
}

/// `POST /external/chat/threads/{id}/abort` answer.
struct AbortResult: Encodable {
    var aborted: [String]
}

/// `POST /external/chat/messages/{id}/regenerate` answer (202).
struct RegenerateResult: Encodable {
    var message: ChatMessage
}

/// `POST /external/chat/approvals/{id}` body.
struct ApprovalAnswer: Decodable, Sendable {
    enum Decision: String, Decodable, Sendable {
        case approve, edit, reject, respond, cancel
    }

    var decision: Decision
    /// A rejection's reason (it reaches the agent), an answer for `respond`, or a note.
    var note: String?
    /// For `edit`: the arguments to run the tool with instead, as JSON text.
    var arguments: String?
}

/// `POST /external/chat/approvals/{id}` answer.
struct ApprovalResult: Encodable {
    var approval: ApprovalRecord
}
