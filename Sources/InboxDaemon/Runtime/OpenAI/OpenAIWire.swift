import Foundation
import InboxCore

/// The OpenAI chat completions request, as OpenAI-compatible servers (OpenAI, Ollama, llama.cpp's
/// server, vLLM) accept it. Replies are read as `JSONValue` (OpenAIStream), which tolerates the small
/// differences between those servers.
enum OpenAIWire {
    struct Request: Encodable, Sendable {
        var model: String
        var messages: [Message]
        var stream = true
        var streamOptions = StreamOptions(includeUsage: true)

        enum CodingKeys: String, CodingKey {
            case model, messages, stream
            case streamOptions = "stream_options"
        }
    }

    struct StreamOptions: Encodable, Sendable {
        /// Asks for a last chunk with the token usage.
        var includeUsage: Bool

        enum CodingKeys: String, CodingKey {
            case includeUsage = "include_usage"
        }
    }

    /// One message; fields a role does not have are nil and left out.
    struct Message: Encodable, Sendable, Hashable {
        var role: String
        var content: String?
        var toolCalls: [ToolCall]?
        var toolCallID: String?

        enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
            case toolCallID = "tool_call_id"
        }
    }

    struct ToolCall: Encodable, Sendable, Hashable {
        struct Function: Encodable, Sendable, Hashable {
            var name: String
            var arguments: String
        }
        var id: String
        var type = "function"
        var function: Function
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
