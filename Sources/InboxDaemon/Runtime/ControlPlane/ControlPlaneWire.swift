import InboxCore

/// The control plane's JSON, exactly as docs/runtime-api.md spells it.
enum ControlPlaneWire {
    struct Agents: Decodable {
        struct Agent: Decodable {
            var id: String
            var name: String?
            var scopeIds: [String]
        }
        var agents: [Agent]
    }

    struct Threads: Decodable {
        struct Thread: Decodable {
            var id: String
            var title: String?
            var agentId: String?
            var createdAt: String?
            var updatedAt: String?
        }
        var threads: [Thread]
        var nextCursor: String?
    }

    struct Message: Decodable, Sendable {
        struct ToolCall: Decodable, Sendable {
            var id: String
            var name: String
            var arguments: String?
            var result: String?
        }
        struct Approval: Decodable, Sendable {
            var id: String
            var toolCallId: String?
            var prompt: String?
            var status: String
            /// The decisions the approvals endpoint takes; absent (an older runtime): approve and reject.
            var decisions: [String]?
            /// The JSON Schema of the tool's arguments, as JSON text.
            var argumentsSchema: String?
            var expiresAt: String?
        }
        var id: String
        var threadId: String?
        var seq: Int
        var role: String
        var content: String?
        var createdAt: String?
        var updatedAt: String?
        var status: String
        var replyTo: String?
        var toolCall: ToolCall?
        var approval: Approval?
        var clientMessageId: String?
    }

    struct Messages: Decodable {
        var messages: [Message]
    }

    struct Post: Encodable {
        var threadId: String?
        var title: String?
        var agentId: String
        var content: String
        var clientMessageId: String?
    }

    struct Accepted: Decodable {
        var threadId: String
        var message: Message
    }

    struct Regenerated: Decodable {
        var message: Message
    }

    /// `POST /external/chat/threads/{id}/abort`: the operator message whose run to end, so an abort never
    /// lands on the run of a message queued behind it.
    struct AbortRequest: Encodable {
        var messageId: String?
    }

    struct ApprovalAnswer: Encodable {
        var decision: String
        var note: String?
        /// For `edit`: the arguments as JSON text.
        var arguments: String?
    }
}
