import ChatModel
import Foundation
import NIOCore

/// What an AG-UI client posts: `RunAgentInput`, the parts the demo agents read. Unknown fields are
/// ignored; `tools`, `context` and `state` are accepted and not used.
struct AGUIRunInput: Decodable, Sendable {
    var threadId: String
    var runId: String
    var messages: [AGUIMessage]
    var resume: [AGUIResumeEntry]?
    var forwardedProps: ForwardedProps?

    /// Letterbox sends its idempotency key here (`forwardedProps.letterbox.requestId`).
    struct ForwardedProps: Decodable, Sendable {
        struct Letterbox: Decodable, Sendable {
            var requestId: String?
        }

        var letterbox: Letterbox?
    }

    /// The newest user message: what the agent answers.
    var question: AGUIMessage? { messages.last { $0.role == "user" } }
}

/// A message of the conversation, as the client keeps it. Content that is not a string (AG-UI's
/// multimodal parts) is read as no text.
struct AGUIMessage: Codable, Sendable, Equatable {
    var id: String
    var role: String
    var content: String?
    var toolCalls: [ToolCall]?
    var toolCallId: String?

    struct ToolCall: Codable, Sendable, Equatable {
        struct Function: Codable, Sendable, Equatable {
            var name: String
            var arguments: String
        }

        var id: String
        var type = "function"
        var function: Function
    }

    init(id: String, role: String, content: String?, toolCalls: [ToolCall]? = nil, toolCallId: String? = nil) {
        self.id = id
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallId = toolCallId
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id) ?? ""
        role = try container.decode(String.self, forKey: .role)
        content = try? container.decodeIfPresent(String.self, forKey: .content)
        toolCalls = try container.decodeIfPresent([ToolCall].self, forKey: .toolCalls)
        toolCallId = try container.decodeIfPresent(String.self, forKey: .toolCallId)
    }
}

/// One answer to an interrupt: `resolved` with a payload, or `cancelled`.
struct AGUIResumeEntry: Codable, Sendable, Equatable {
    /// Any JSON value: an approval's `{approved, editedArgs?, reason?}`, or a question's answer
    /// (a string, or any other JSON value, read as its JSON text).
    struct Payload: Codable, Sendable, Equatable {
        var value: JSONValue

        init(_ value: JSONValue) { self.value = value }

        init(from decoder: any Decoder) throws { value = try JSONValue(from: decoder) }

        func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }

        var approved: Bool? { if case let .bool(flag)? = value["approved"] { flag } else { nil } }
        /// The arguments to run the tool with instead of the proposal (a full replacement).
        var editedArgs: JSONValue? { value["editedArgs"] }
        var reason: String? { if case let .string(text)? = value["reason"] { text } else { nil } }

        /// The answer to a question: a string as it is, any other value as its JSON text; nil when
        /// it is empty or null.
        var answer: String? {
            let text: String
            switch value {
            case .null: return nil
            case let .string(string): text = string
            default: text = value.jsonText
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : text
        }
    }

    var interruptId: String
    var status: String
    var payload: Payload?
}

/// One AG-UI event as sent: camelCase, unset fields left out, keys sorted (the same run always
/// gives the same bytes).
struct AGUIEvent: Encodable, Sendable, Equatable {
    var type: String
    var threadId: String?
    var runId: String?
    var messageId: String?
    var role: String?
    var delta: String?
    var toolCallId: String?
    var toolCallName: String?
    var parentMessageId: String?
    var content: String?
    var message: String?
    var code: String?
    var snapshot: [String: String]?
    var messages: [AGUIMessage]?
    var outcome: Outcome?

    struct Outcome: Encodable, Sendable, Equatable {
        var type: String
        var interrupts: [Interrupt]?
    }

    /// A request for the operator: a tool call that needs approval, or a question (no tool call,
    /// `reason: "input"`) that needs an answer.
    struct Interrupt: Encodable, Sendable, Equatable {
        var id: String
        var reason: String
        var message: String?
        var toolCallId: String?
        /// What a resume's payload may hold: `approved`, `editedArgs` (the tool's own schema), `reason`
        /// for a tool call; a string for a question.
        var responseSchema: JSONValue?

        /// It asks a question rather than gating a tool call.
        var isQuestion: Bool { toolCallId == nil }
    }

    init(_ type: String) { self.type = type }

    /// The interrupts this event opens, if it ends a run with them.
    var interrupts: [Interrupt] { outcome?.interrupts ?? [] }

    /// `data: {json}` and a blank line.
    func frame() throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(try encoder.encode(self))
        buffer.writeString("\n\n")
        return buffer
    }
}
