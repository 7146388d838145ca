import ChatModel
import Foundation
import InboxCore

/// AG-UI's JSON, as the public protocol spells it (docs.ag-ui.com; `ag_ui.core` 1.0): the request
/// (`RunAgentInput`) and the events of the answer. camelCase; unset optional fields are left out, never
/// sent as `null` (the TypeScript client rejects a `null` where an object is optional).
enum AGUIWire {
    /// The body of a run request.
    struct RunAgentInput: Encodable, Sendable {
        var threadId: String
        var runId: String
        /// The protocol version Letterbox speaks (1.0 requires a consumer to declare it).
        var protocolVersion: String = AGUIWire.protocolVersion
        var state: JSONValue?
        var messages: [Message]
        var tools: [Tool] = []
        var context: [Context] = []
        var forwardedProps: JSONValue?
        var resume: Resume?
    }

    /// A message of the conversation. One struct for every role: the fields a role does not have are
    /// nil and so left out.
    struct Message: Encodable, Sendable, Hashable {
        var id: String
        var role: String
        var content: String?
        var toolCalls: [ToolCall]?
        var toolCallId: String?
    }

    struct ToolCall: Encodable, Sendable, Hashable {
        struct Function: Encodable, Sendable, Hashable {
            var name: String
            /// JSON text, as the model wrote it.
            var arguments: String
        }
        var id: String
        var type = "function"
        var function: Function
    }

    /// A tool the client offers (Letterbox offers none: it runs no tools itself).
    struct Tool: Encodable, Sendable, Hashable {
        var name: String
        var description: String
        var parameters: JSONValue?
    }

    struct Context: Encodable, Sendable, Hashable {
        var description: String
        var value: String
    }

    /// Answers to interrupts: an array of entries (AG-UI), or one object without `status` (Umbraco AI).
    enum Resume: Encodable, Sendable, Hashable {
        case entries([ResumeEntry])
        case umbraco(UmbracoResume)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case let .entries(entries): try entries.encode(to: encoder)
            case let .umbraco(resume): try resume.encode(to: encoder)
            }
        }
    }

    struct ResumeEntry: Encodable, Sendable, Hashable {
        var interruptId: String
        /// "resolved" or "cancelled".
        var status: String
        var payload: JSONValue?
    }

    struct UmbracoResume: Encodable, Sendable, Hashable {
        var interruptId: String
        var payload: JSONValue?
    }

    /// The AG-UI version this client implements, declared on every request.
    static let protocolVersion = "1.0"

    /// The prefix of the approval runtime id of an interrupt that arrived as a `CUSTOM` event
    /// (`on_interrupt`, the LangGraph / dojo / Mastra dialect) rather than in RUN_FINISHED: such an
    /// interrupt is answered through `forwardedProps.command.resume`, not a `resume` entry.
    static let customInterruptPrefix = "custom:"

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        // Sorted keys make the same request the same bytes, so a resume repeated after a crash is
        // byte-identical to the first.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// An AG-UI event, read from one SSE `data:` block. Only what Letterbox uses is kept; unknown event
/// types are `unknown` (the protocol grows; a client must not fail on a new event).
enum AGUIEvent: Sendable, Hashable {
    /// `protocolVersion` is the producer's declaration (AG-UI 1.0), nil when it sent none.
    case runStarted(threadID: String, runID: String, protocolVersion: String? = nil)
    case runFinished(RunFinished)
    case runError(message: String, code: String?)
    case stepStarted(String)
    case stepFinished(String)
    case textMessageStart(messageID: String, role: String)
    case textMessageContent(messageID: String, delta: String)
    case textMessageEnd(messageID: String)
    case textMessageChunk(messageID: String?, role: String?, delta: String?)
    case toolCallStart(toolCallID: String, name: String)
    case toolCallArgs(toolCallID: String, delta: String)
    case toolCallEnd(toolCallID: String)
    case toolCallChunk(toolCallID: String?, name: String?, delta: String?)
    case toolCallResult(messageID: String, toolCallID: String, content: String)
    case stateSnapshot(JSONValue)
    case stateDelta(JSONValue)
    case messagesSnapshot([JSONValue])
    case reasoningStart(messageID: String)
    case reasoningEnd(messageID: String)
    case reasoningMessageStart(messageID: String)
    case reasoningMessageContent(messageID: String, delta: String)
    case reasoningMessageEnd(messageID: String)
    case reasoningMessageChunk(messageID: String?, delta: String?)
    /// `REASONING_ENCRYPTED_VALUE`: valid, and nothing Letterbox records (it is never sent back).
    case ignored(type: String)
    /// `ACTIVITY_SNAPSHOT`: an activity message's content; `replace: false` keeps content already there.
    case activitySnapshot(messageID: String, activityType: String, content: JSONValue, replace: Bool)
    /// `ACTIVITY_DELTA`: an RFC 6902 patch to an activity message's content.
    case activityDelta(messageID: String, activityType: String, patch: JSONValue)
    /// `SUBAGENT_STARTED`: later events carrying `subagentRunId` are the subagent's work.
    case subagentStarted(Subagent)
    /// `SUBAGENT_FINISHED`: `suspended` when it waits for the run's interrupts (`interruptIDs`).
    case subagentFinished(subagentRunID: String, suspended: Bool, interruptIDs: [String], result: JSONValue?)
    /// `SUBAGENT_ERROR`: the subagent failed; the run may go on.
    case subagentError(subagentRunID: String, message: String, code: String?)
    /// Deprecated `THINKING_*` events, read as reasoning.
    case thinkingStart
    case thinkingEnd
    case thinkingTextMessageStart
    case thinkingTextMessageContent(delta: String)
    case thinkingTextMessageEnd
    case custom(name: String, value: JSONValue)
    case raw(event: JSONValue, source: String?)
    case unknown(type: String)

    /// A subagent invocation, as SUBAGENT_STARTED announces it.
    struct Subagent: Sendable, Hashable {
        var id: String
        var name: String
        var description: String?
        var parentSubagentRunID: String?
        var parentToolCallID: String?
    }

    /// How a run finished.
    struct RunFinished: Sendable, Hashable {
        enum Outcome: Sendable, Hashable {
            case success
            case interrupt([Interrupt])
            /// ag-ui-protocol 1.0's first-party cancel.
            case cancelled
            /// Umbraco AI's `outcome: "error"`.
            case error(String)
        }
        var threadID: String
        var runID: String
        var outcome: Outcome
        var usage: JSONValue?
    }

    /// A question the agent asks before it goes on.
    struct Interrupt: Sendable, Hashable {
        var id: String
        var reason: String?
        var message: String?
        var toolCallID: String?
        /// Umbraco AI carries the tool and its arguments in the interrupt's payload.
        var toolName: String?
        var arguments: String?
        /// What a resume's payload may hold (AG-UI 1.0); pydantic-ai's: `approved`, `editedArgs`, `reason`.
        var responseSchema: JSONValue?
        /// When the agent stops waiting (AG-UI 1.0 `expiresAt`, RFC 3339).
        var expiresAt: String?
    }

    /// The event's wire name, for messages.
    var typeName: String {
        switch self {
        case .runStarted: "RUN_STARTED"
        case .runFinished: "RUN_FINISHED"
        case .runError: "RUN_ERROR"
        case .stepStarted: "STEP_STARTED"
        case .stepFinished: "STEP_FINISHED"
        case .textMessageStart: "TEXT_MESSAGE_START"
        case .textMessageContent: "TEXT_MESSAGE_CONTENT"
        case .textMessageEnd: "TEXT_MESSAGE_END"
        case .textMessageChunk: "TEXT_MESSAGE_CHUNK"
        case .toolCallStart: "TOOL_CALL_START"
        case .toolCallArgs: "TOOL_CALL_ARGS"
        case .toolCallEnd: "TOOL_CALL_END"
        case .toolCallChunk: "TOOL_CALL_CHUNK"
        case .toolCallResult: "TOOL_CALL_RESULT"
        case .stateSnapshot: "STATE_SNAPSHOT"
        case .stateDelta: "STATE_DELTA"
        case .messagesSnapshot: "MESSAGES_SNAPSHOT"
        case .reasoningStart: "REASONING_START"
        case .reasoningEnd: "REASONING_END"
        case .reasoningMessageStart: "REASONING_MESSAGE_START"
        case .reasoningMessageContent: "REASONING_MESSAGE_CONTENT"
        case .reasoningMessageEnd: "REASONING_MESSAGE_END"
        case .reasoningMessageChunk: "REASONING_MESSAGE_CHUNK"
        case let .ignored(type): type
        case .activitySnapshot: "ACTIVITY_SNAPSHOT"
        case .activityDelta: "ACTIVITY_DELTA"
        case .subagentStarted: "SUBAGENT_STARTED"
        case .subagentFinished: "SUBAGENT_FINISHED"
        case .subagentError: "SUBAGENT_ERROR"
        case .thinkingStart: "THINKING_START"
        case .thinkingEnd: "THINKING_END"
        case .thinkingTextMessageStart: "THINKING_TEXT_MESSAGE_START"
        case .thinkingTextMessageContent: "THINKING_TEXT_MESSAGE_CONTENT"
        case .thinkingTextMessageEnd: "THINKING_TEXT_MESSAGE_END"
        case .custom: "CUSTOM"
        case .raw: "RAW"
        case let .unknown(type): type
        }
    }

    /// An event that is not what the protocol says: names the event type (or says there was none).
    struct Malformed: Error, Sendable, Hashable, CustomStringConvertible {
        var type: String?
        var reason: String
        var description: String { type.map { "\($0): \(reason)" } ?? reason }
    }

    /// Reads one event's JSON text, with the subagent it is attributed to (`attribution`).
    static func decodeAttributed(_ data: String, dialect: AGUIDialect) throws(Malformed) -> (AGUIEvent, String?) {
        let value: JSONValue
        do {
            value = try JSONValue(parsing: data)
        } catch {
            throw Malformed(
                type: nil,
                reason:
                    "an event is not valid JSON (\(error.reason)): \(HTTPTransport.excerpt(Array(data.utf8), limit: 80))"
            )
        }
        return (try decode(value, dialect: dialect), attribution(value))
    }

    static func decode(_ value: JSONValue, dialect: AGUIDialect) throws(Malformed) -> AGUIEvent {
        guard let fields = value.objectValue else {
            throw Malformed(type: nil, reason: "an event is \(JSONPatch.kind(value)), not a JSON object")
        }
        guard let type = fields["type"]?.stringValue else {
            throw Malformed(type: nil, reason: "an event has no string 'type'")
        }
        let read = FieldReader(type: type, fields: fields)
        switch type {
        case "RUN_STARTED":
            return .runStarted(
                threadID: try read.string("threadId"), runID: try read.string("runId"),
                protocolVersion: try read.optionalString("protocolVersion"))
        case "RUN_FINISHED":
            return .runFinished(try runFinished(read, dialect: dialect))
        case "RUN_ERROR":
            return .runError(message: try read.string("message"), code: try read.optionalString("code"))
        case "STEP_STARTED": return .stepStarted(try read.string("stepName"))
        case "STEP_FINISHED": return .stepFinished(try read.string("stepName"))
        case "TEXT_MESSAGE_START":
            return .textMessageStart(
                messageID: try read.string("messageId"), role: try read.optionalString("role") ?? "assistant")
        case "TEXT_MESSAGE_CONTENT":
            return .textMessageContent(messageID: try read.string("messageId"), delta: try read.string("delta"))
        case "TEXT_MESSAGE_END": return .textMessageEnd(messageID: try read.string("messageId"))
        case "TEXT_MESSAGE_CHUNK":
            return .textMessageChunk(
                messageID: try read.optionalString("messageId"), role: try read.optionalString("role"),
                delta: try read.optionalString("delta"))
        case "TOOL_CALL_START":
            return .toolCallStart(toolCallID: try read.string("toolCallId"), name: try read.string("toolCallName"))
        case "TOOL_CALL_ARGS":
            return .toolCallArgs(toolCallID: try read.string("toolCallId"), delta: try read.string("delta"))
        case "TOOL_CALL_END": return .toolCallEnd(toolCallID: try read.string("toolCallId"))
        case "TOOL_CALL_CHUNK":
            return .toolCallChunk(
                toolCallID: try read.optionalString("toolCallId"), name: try read.optionalString("toolCallName"),
                delta: try read.optionalString("delta"))
        case "TOOL_CALL_RESULT":
            return .toolCallResult(
                messageID: try read.string("messageId"), toolCallID: try read.string("toolCallId"),
                content: try toolResultText(fields["content"], type))
        case "STATE_SNAPSHOT":
            // Umbraco's own client reads `state`; its server (and the spec) send `snapshot`.
            guard let snapshot = fields["snapshot"] ?? (dialect == .umbraco ? fields["state"] : nil) else {
                throw Malformed(type: type, reason: "has no 'snapshot'")
            }
            return .stateSnapshot(snapshot)
        case "STATE_DELTA":
            guard let delta = fields["delta"] else { throw Malformed(type: type, reason: "has no 'delta'") }
            return .stateDelta(delta)
        case "MESSAGES_SNAPSHOT":
            guard let messages = fields["messages"]?.arrayValue else {
                throw Malformed(type: type, reason: "has no 'messages' array")
            }
            return .messagesSnapshot(messages)
        case "REASONING_START": return .reasoningStart(messageID: try read.string("messageId"))
        case "REASONING_END": return .reasoningEnd(messageID: try read.string("messageId"))
        case "REASONING_MESSAGE_START": return .reasoningMessageStart(messageID: try read.string("messageId"))
        case "REASONING_MESSAGE_CONTENT":
            return .reasoningMessageContent(messageID: try read.string("messageId"), delta: try read.string("delta"))
        case "REASONING_MESSAGE_END": return .reasoningMessageEnd(messageID: try read.string("messageId"))
        case "REASONING_MESSAGE_CHUNK":
            return .reasoningMessageChunk(
                messageID: try read.optionalString("messageId"), delta: try read.optionalString("delta"))
        case "REASONING_ENCRYPTED_VALUE":
            return .ignored(type: type)
        case "ACTIVITY_SNAPSHOT":
            guard let content = fields["content"], content.objectValue != nil else {
                throw Malformed(type: type, reason: "has no 'content' object")
            }
            let replace: Bool
            switch fields["replace"] {
            case nil, .null?: replace = true
            case let .bool(flag)?: replace = flag
            case let other?: throw Malformed(type: type, reason: "'replace' is \(JSONPatch.kind(other)), not a boolean")
            }
            return .activitySnapshot(
                messageID: try read.string("messageId"), activityType: try read.string("activityType"),
                content: content, replace: replace)
        case "ACTIVITY_DELTA":
            guard let patch = fields["patch"], patch.arrayValue != nil else {
                throw Malformed(type: type, reason: "has no 'patch' array (RFC 6902)")
            }
            return .activityDelta(
                messageID: try read.string("messageId"), activityType: try read.string("activityType"), patch: patch)
        case "SUBAGENT_STARTED":
            return .subagentStarted(
                Subagent(
                    id: try read.string("subagentRunId"), name: try read.string("name"),
                    description: try read.optionalString("description"),
                    parentSubagentRunID: try read.optionalString("parentSubagentRunId"),
                    parentToolCallID: try read.optionalString("parentToolCallId")))
        case "SUBAGENT_FINISHED":
            let id = try read.string("subagentRunId")
            let outcome = fields["outcome"].flatMap { $0.isNull ? nil : $0 }
            let suspended = outcome?["type"]?.stringValue == "suspended"
            let interrupts = outcome?["interruptIds"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return .subagentFinished(
                subagentRunID: id, suspended: suspended, interruptIDs: interrupts,
                result: fields["result"].flatMap { $0.isNull ? nil : $0 })
        case "SUBAGENT_ERROR":
            return .subagentError(
                subagentRunID: try read.string("subagentRunId"), message: try read.string("message"),
                code: try read.optionalString("code"))
        case "THINKING_START": return .thinkingStart
        case "THINKING_END": return .thinkingEnd
        case "THINKING_TEXT_MESSAGE_START": return .thinkingTextMessageStart
        case "THINKING_TEXT_MESSAGE_CONTENT": return .thinkingTextMessageContent(delta: try read.string("delta"))
        case "THINKING_TEXT_MESSAGE_END": return .thinkingTextMessageEnd
        case "CUSTOM":
            return .custom(name: try read.string("name"), value: fields["value"] ?? .null)
        case "RAW":
            guard let event = fields["event"] else { throw Malformed(type: type, reason: "has no 'event'") }
            return .raw(event: event, source: try read.optionalString("source"))
        default:
            return .unknown(type: type)
        }
    }

    /// The subagent an attributable event belongs to (AG-UI 1.0 `subagentRunId`); nil for the parent
    /// agent's own events. SUBAGENT_* events name the subagent itself, not an enclosing one.
    static func attribution(_ value: JSONValue) -> String? {
        guard let type = value["type"]?.stringValue, !type.hasPrefix("SUBAGENT_"), !type.hasPrefix("RUN_") else {
            return nil
        }
        return value["subagentRunId"]?.stringValue
    }

    /// A tool result's content as text: a string as it is; AG-UI 1.0's list of content parts with
    /// the text parts kept and every other part (image, audio, video, document) named by a safe
    /// placeholder, `[image/png, 1234 bytes]` or `[document: https://…]`, never fetched or embedded.
    static func toolResultText(_ value: JSONValue?, _ type: String) throws(Malformed) -> String {
        switch value {
        case let .string(text)?:
            return text
        case let .array(parts)?:
            return parts.map { part -> String in
                let kind = part["type"]?.stringValue ?? "part"
                if kind == "text" { return part["text"]?.stringValue ?? "" }
                let source = part["source"]
                let mime = source?["mimeType"]?.stringValue ?? part["mimeType"]?.stringValue ?? kind
                if let data = source?["data"]?.stringValue ?? part["data"]?.stringValue {
                    return "[\(mime), \(data.utf8.count * 3 / 4) bytes]"
                }
                if let url = source?["url"]?.stringValue ?? part["url"]?.stringValue { return "[\(kind): \(url)]" }
                return "[\(kind)]"
            }.joined(separator: "\n")
        default:
            throw Malformed(type: type, reason: "'content' is neither a string nor a list of content parts")
        }
    }

    private static func runFinished(_ read: FieldReader, dialect: AGUIDialect) throws(Malformed) -> RunFinished {
        let threadID = try read.string("threadId")
        let runID = try read.string("runId")
        let usage = read.fields["usage"].flatMap { $0.isNull ? nil : $0 }
        let outcome: RunFinished.Outcome
        switch read.fields["outcome"] {
        case nil, .null?:
            outcome = .success  // legacy: no outcome means success
        case let .string(text)?:
            guard dialect == .umbraco else {
                throw Malformed(
                    type: read.type,
                    reason:
                        "'outcome' is the string \"\(text)\", not an object {type, …} (Umbraco AI sends strings; set dialect: umbraco for that runtime)"
                )
            }
            outcome = try umbracoOutcome(text, read)
        case let .object(members)?:
            switch members["type"]?.stringValue {
            case "success"?: outcome = .success
            case "cancelled"?: outcome = .cancelled
            case "interrupt"?:
                guard let list = members["interrupts"]?.arrayValue, !list.isEmpty else {
                    throw Malformed(type: read.type, reason: "an interrupt outcome needs a non-empty 'interrupts' list")
                }
                outcome = .interrupt(try list.map { item throws(Malformed) in try interrupt(item, read.type) })
            case let other:
                throw Malformed(
                    type: read.type, reason: "unknown outcome type \(other.map { "'\($0)'" } ?? "(none)")")
            }
        case let other?:
            throw Malformed(type: read.type, reason: "'outcome' is \(JSONPatch.kind(other)), not an object")
        }
        return RunFinished(threadID: threadID, runID: runID, outcome: outcome, usage: usage)
    }

    /// Umbraco AI: `outcome: "success" | "interrupt" | "error"`, one `interrupt: {id, reason, payload?}`.
    private static func umbracoOutcome(_ text: String, _ read: FieldReader) throws(Malformed) -> RunFinished.Outcome {
        switch text.lowercased() {
        case "success": return .success
        case "error":
            let error = read.fields["error"]
            return .error(error?.stringValue ?? error?["message"]?.stringValue ?? "the agent reported an error")
        case "interrupt":
            guard let item = read.fields["interrupt"] else {
                throw Malformed(type: read.type, reason: "outcome \"interrupt\" without an 'interrupt' object")
            }
            return .interrupt([try interrupt(item, read.type)])
        default:
            throw Malformed(type: read.type, reason: "unknown outcome '\(text)'")
        }
    }

    private static func interrupt(_ value: JSONValue, _ type: String) throws(Malformed) -> Interrupt {
        guard let id = value["id"]?.stringValue, !id.isEmpty else {
            throw Malformed(type: type, reason: "an interrupt has no string 'id'")
        }
        let payload = value["payload"]
        let arguments: String? =
            switch payload?["args"] {
            case nil, .null?: nil
            case let .string(text)?: text
            case let other?: other.jsonText
            }
        return Interrupt(
            id: id, reason: value["reason"]?.stringValue,
            message: value["message"]?.stringValue ?? payload?["message"]?.stringValue
                ?? value["title"]?.stringValue,
            toolCallID: value["toolCallId"]?.stringValue ?? payload?["toolCallId"]?.stringValue,
            toolName: payload?["toolName"]?.stringValue, arguments: arguments,
            responseSchema: value["responseSchema"].flatMap { $0.isNull ? nil : $0 },
            expiresAt: value["expiresAt"]?.stringValue)
    }

    /// Required and optional string fields, with errors that name the event.
    private struct FieldReader {
        let type: String
        let fields: [String: JSONValue]

        func string(_ key: String) throws(Malformed) -> String {
            guard let value = fields[key] else { throw Malformed(type: type, reason: "has no '\(key)'") }
            guard let text = value.stringValue else {
                throw Malformed(type: type, reason: "'\(key)' is \(JSONPatch.kind(value)), not a string")
            }
            return text
        }

        func optionalString(_ key: String) throws(Malformed) -> String? {
            guard let value = fields[key], !value.isNull else { return nil }
            return try string(key)
        }
    }
}

/// Which variant of AG-UI a server speaks.
enum AGUIDialect: Sendable, Hashable {
    /// The public protocol.
    case standard
    /// Umbraco AI: a string `outcome` with one `interrupt`; `resume` is one object without `status`;
    /// `STATE_DELTA` may be an object merged into the state instead of a JSON Patch.
    case umbraco
}
