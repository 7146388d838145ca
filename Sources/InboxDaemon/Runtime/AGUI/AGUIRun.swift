import ChatModel
import Foundation
import InboxCore

/// One AG-UI run as a pure state machine: events in, `RunUpdate`s out. No IO, so every ordering rule
/// and every misbehaviour is tested without a socket (Tests/InboxDaemonTests/AGUIRunTests.swift).
///
/// What it does with the stream:
/// - `*_CHUNK` events are expanded into START/CONTENT/END triplets exactly as the TypeScript client's
///   `transformChunks` does (a chunk with a new id, or any other lifecycle event, closes the open one).
/// - The ordering rules of the TypeScript client's `verifyEvents` are enforced, plus the same rules for
///   reasoning: the first event is RUN_STARTED; nothing follows RUN_ERROR or RUN_FINISHED; a message,
///   tool call, reasoning block or step cannot start twice, get content or end unless it is open; and
///   RUN_FINISHED cannot come while any of them is open. A violation ends the run as errored with a
///   reason that names the event; what arrived before it is kept.
/// - The reply's text is every assistant text message of the run, in order, joined by a blank line
///   (after the text of the run it resumes, if any); reasoning likewise.
/// - Tool calls are reported when they start, when their arguments are complete (TOOL_CALL_END) and
///   when their result arrives; not for every argument fragment, since each report rewrites a file.
/// - The shared state follows STATE_SNAPSHOT and STATE_DELTA (RFC 6902 JSON Patch; for the Umbraco
///   dialect an object delta is merged into the state, as Umbraco's client does).
/// - CUSTOM and RAW become `.custom` (journaled); MESSAGES_SNAPSHOT fills in tool results the stream
///   did not carry; REASONING_ENCRYPTED_VALUE is valid and not recorded; unknown event types are
///   skipped, as the protocol asks of clients.
/// - A CUSTOM `on_interrupt` event (the dialect of LangGraph's and Mastra's adapters, which predates
///   interrupt outcomes) is an interrupt like one in RUN_FINISHED: the run ends `interrupted` with an
///   approval for it, its runtime id prefixed `custom:` so the client answers it the dialect's way.
/// - SUBAGENT_* events and the `subagentRunId` of attributable events say which subagent did what:
///   a subagent's text messages are its own (not the reply's), its tool calls are listed on its
///   record, and the record goes out as `.custom` JSON `{"type":"SUBAGENT", …}` when it starts, when
///   it finishes or fails, and (for one still running) when the run ends.
/// - ACTIVITY_SNAPSHOT / ACTIVITY_DELTA keep each activity message's latest content; it goes out as
///   `.custom` JSON `{"type":"ACTIVITY", …}` once, when the run ends (not per delta: each is a journal
///   line). Activity is never sent back to the agent (AG-UI 1.0 strips activity messages from input).
/// - RUN_STARTED's `protocolVersion` (the peer's declaration) goes out as `.custom` JSON
///   `{"type":"RUN_STARTED","protocolVersion":…}` when the peer sent one.
struct AGUIRun: Sendable {
    enum Phase: Sendable, Hashable {
        case awaitingStart, running, ended
    }

    let dialect: AGUIDialect
    /// The text of the run this one resumes (an interrupted run's reply goes on in the same file).
    let priorText: String
    private(set) var phase = Phase.awaitingStart
    /// From RUN_STARTED.
    private(set) var threadID: String?
    private(set) var runID: String?
    /// The shared state after the last STATE_* event (or as given).
    private(set) var state: JSONValue?
    /// How the run ended, once it has.
    private(set) var end: RunEnd?
    /// How many events were read, and the type of the last one, for messages.
    private(set) var eventCount = 0
    private(set) var lastEventType: String?

    private var texts: [String] = []
    private var textIndex: [String: Int] = [:]
    private var openMessages: [String: String] = [:]
    private var text = ""
    private var textChanged = false

    private var reasonings: [String] = []
    private var reasoningIndex: [String: Int] = [:]
    private var openReasoningMessages: Set<String> = []
    private var openReasoningBlocks: Set<String> = []
    private var reasoningChanged = false
    private var thinkingBlocks = 0
    private var thinkingMessages = 0

    private(set) var toolCalls: [String: ToolCallUpdate] = [:]
    private var openToolCalls: Set<String> = []
    private var openSteps: Set<String> = []
    private var replyIDReported = false

    private enum Chunk: Sendable, Hashable {
        case none, text(String), tool(String), reasoning(String)
    }
    private var chunk = Chunk.none

    /// The subagent the event being handled is attributed to (`subagentRunId`), nil for the parent.
    private var attributedTo: String?
    /// Subagents seen in this run, in order, and which are still running.
    private var subagents: [String: SubagentRecord] = [:]
    private var subagentOrder: [String] = []
    private var openSubagents: Set<String> = []
    /// Text messages that belong to a subagent, by message id.
    private var subagentMessages: [String: (subagent: String, index: Int)] = [:]
    /// Interrupts that arrived as CUSTOM `on_interrupt` events.
    private var customInterrupts: [AGUIEvent.Interrupt] = []
    /// Activity messages' latest content, and the order they first appeared in.
    private var activities: [String: (type: String, content: JSONValue)] = [:]
    private var activityOrder: [String] = []
    /// The protocol version the peer declared on RUN_STARTED.
    private(set) var peerProtocolVersion: String?

    /// What a subagent did in this run.
    struct SubagentRecord: Sendable, Hashable {
        var id: String
        var name: String?
        var description: String?
        var parentSubagentRunID: String?
        var parentToolCallID: String?
        /// `running`, `complete`, `suspended`, `errored`, or `unfinished` (the run ended first).
        var status = "running"
        var result: JSONValue?
        var error: String?
        var code: String?
        var interruptIDs: [String] = []
        var toolCalls: [String] = []
        var texts: [String] = []

        /// The journaled record: `{"type":"SUBAGENT", …}`; `full` adds what it did (its tool calls
        /// and text), which only the record that ends its part of the run carries.
        func json(full: Bool) -> String {
            var members: [String: JSONValue] = [
                "type": "SUBAGENT", "subagentRunId": .string(id), "status": .string(status),
            ]
            if let name { members["name"] = .string(name) }
            if let description { members["description"] = .string(description) }
            if let parentSubagentRunID { members["parentSubagentRunId"] = .string(parentSubagentRunID) }
            if let parentToolCallID { members["parentToolCallId"] = .string(parentToolCallID) }
            if let result { members["result"] = result }
            if let error { members["error"] = .string(error) }
            if let code { members["code"] = .string(code) }
            if !interruptIDs.isEmpty { members["interruptIds"] = .array(interruptIDs.map { .string($0) }) }
            if full {
                if !toolCalls.isEmpty { members["toolCalls"] = .array(toolCalls.map { .string($0) }) }
                let text = texts.filter { !$0.isEmpty }.joined(separator: "\n\n")
                if !text.isEmpty { members["text"] = .string(text) }
            }
            return JSONValue.object(members).jsonText
        }
    }
    /// A THINKING_TEXT_MESSAGE has no id; its text is kept under this one.
    private static let thinkingID = "\u{0}thinking"

    /// A broken ordering rule or a malformed event.
    struct Violation: Error, Sendable, Hashable {
        var event: String
        var reason: String
    }

    /// - Parameters:
    ///   - priorText: the reply so far, when this run resumes an interrupted one.
    ///   - knownToolCalls: tool calls of the interrupted run, so that a TOOL_CALL_RESULT for one of them
    ///     is reported with its name and arguments.
    ///   - state: the thread's shared state before the run.
    init(
        dialect: AGUIDialect = .standard, priorText: String = "", knownToolCalls: [ToolCallUpdate] = [],
        state: JSONValue? = nil
    ) {
        self.dialect = dialect
        self.priorText = priorText
        self.text = priorText
        self.state = state
        for call in knownToolCalls { toolCalls[call.id] = call }
        replyIDReported = !priorText.isEmpty || !knownToolCalls.isEmpty
    }

    var isEnded: Bool { phase == .ended }

    /// When set, `.text` and `.reasoning` go out only with the next other update or `flushText()`,
    /// not after every delta: each carries the whole text, and a reply of thousands of deltas would
    /// otherwise cost a copy of the whole text per delta (the client flushes when no event is buffered).
    var coalescesText = false

    /// The reply's text so far.
    var replyText: String { text }

    // MARK: Input

    /// One SSE event's data: decoded, then applied.
    mutating func receive(_ data: String) -> [RunUpdate] {
        guard phase != .ended else { return [] }
        do {
            let (event, subagent) = try AGUIEvent.decodeAttributed(data, dialect: dialect)
            return apply(event, subagent: subagent)
        } catch {
            eventCount += 1
            return fail(Violation(event: error.type ?? "an event", reason: error.reason))
        }
    }

    /// One decoded event, attributed to `subagent` (its `subagentRunId`) if it carried one.
    mutating func apply(_ event: AGUIEvent, subagent: String? = nil) -> [RunUpdate] {
        guard phase != .ended else { return [] }
        eventCount += 1
        lastEventType = event.typeName
        attributedTo = subagent
        var updates: [RunUpdate] = []
        do {
            try expand(event, into: &updates)
        } catch {
            updates += fail(error)
            return updates
        }
        return coalescesText && updates.isEmpty ? [] : withTextChanges(updates)
    }

    /// The `.text` / `.reasoning` updates held back by `coalescesText`.
    mutating func flushText() -> [RunUpdate] { withTextChanges([]) }

    /// The body ended cleanly, but perhaps before the run did.
    mutating func streamEnded() -> [RunUpdate] {
        guard phase != .ended else { return [] }
        let reason =
            phase == .awaitingStart
            ? "the runtime's stream ended before RUN_STARTED"
            : "the runtime's stream ended before RUN_FINISHED (after \(eventCount) events, the last \(lastEventType ?? "none")); the text that arrived is kept"
        return withTextChanges(finish(.errored(reason: reason)))
    }

    /// The connection broke mid-stream.
    mutating func connectionLost(_ reason: String) -> [RunUpdate] {
        guard phase != .ended else { return [] }
        return withTextChanges(
            finish(
                .errored(
                    reason:
                        "the connection to the runtime was lost mid-stream (\(reason)) after \(eventCount) events; the text that arrived is kept"
                )))
    }

    /// An SSE line went over the parser's limit: the stream cannot be read on.
    mutating func lineTooLong(_ error: SSEParser.LineTooLong) -> [RunUpdate] {
        guard phase != .ended else { return [] }
        eventCount += 1
        let type = Self.eventType(inPrefix: error.prefix)
        lastEventType = type
        return fail(Violation(event: type ?? "an event", reason: "\(error.description); the stream was closed there"))
    }

    /// `"type":"X"` near the start of a line, to name an event whose line is too long to parse.
    static func eventType(inPrefix prefix: [UInt8]) -> String? {
        let text = String(decoding: prefix, as: UTF8.self)
        guard let key = text.range(of: "\"type\"") else { return nil }
        let rest = text[key.upperBound...].drop { $0 == " " || $0 == ":" }
        guard rest.first == "\"" else { return nil }
        let name = rest.dropFirst().prefix { $0 != "\"" }
        return name.isEmpty || !name.allSatisfy({ $0.isLetter || $0 == "_" }) ? nil : String(name)
    }

    // MARK: Chunks

    private mutating func expand(_ event: AGUIEvent, into updates: inout [RunUpdate]) throws(Violation) {
        switch event {
        case let .textMessageChunk(id, role, delta):
            var open: String
            if case let .text(current) = chunk, id == nil || id == current {
                open = current
            } else {
                try closeChunk(into: &updates)
                guard let id else {
                    throw Violation(event: "TEXT_MESSAGE_CHUNK", reason: "the first chunk has no messageId")
                }
                try handle(.textMessageStart(messageID: id, role: role ?? "assistant"), into: &updates)
                open = id
                chunk = .text(id)
            }
            if let delta { try handle(.textMessageContent(messageID: open, delta: delta), into: &updates) }
        case let .toolCallChunk(id, name, delta):
            var open: String
            if case let .tool(current) = chunk, id == nil || id == current {
                open = current
            } else {
                try closeChunk(into: &updates)
                guard let id else {
                    throw Violation(event: "TOOL_CALL_CHUNK", reason: "the first chunk has no toolCallId")
                }
                guard let name else {
                    throw Violation(event: "TOOL_CALL_CHUNK", reason: "the first chunk of '\(id)' has no toolCallName")
                }
                try handle(.toolCallStart(toolCallID: id, name: name), into: &updates)
                open = id
                chunk = .tool(id)
            }
            if let delta { try handle(.toolCallArgs(toolCallID: open, delta: delta), into: &updates) }
        case let .reasoningMessageChunk(id, delta):
            var open: String
            if case let .reasoning(current) = chunk, id == nil || id == current {
                open = current
            } else {
                try closeChunk(into: &updates)
                guard let id else {
                    throw Violation(event: "REASONING_MESSAGE_CHUNK", reason: "the first chunk has no messageId")
                }
                try handle(.reasoningMessageStart(messageID: id), into: &updates)
                open = id
                chunk = .reasoning(id)
            }
            if let delta { try handle(.reasoningMessageContent(messageID: open, delta: delta), into: &updates) }
        case .raw, .ignored, .unknown:
            // transformChunks lets these through without closing an open chunk.
            try handle(event, into: &updates)
        default:
            try closeChunk(into: &updates)
            try handle(event, into: &updates)
        }
    }

    private mutating func closeChunk(into updates: inout [RunUpdate]) throws(Violation) {
        let open = chunk
        chunk = .none
        switch open {
        case .none: break
        case let .text(id): try handle(.textMessageEnd(messageID: id), into: &updates)
        case let .tool(id): try handle(.toolCallEnd(toolCallID: id), into: &updates)
        case let .reasoning(id): try handle(.reasoningMessageEnd(messageID: id), into: &updates)
        }
    }

    // MARK: Events

    private mutating func handle(_ event: AGUIEvent, into updates: inout [RunUpdate]) throws(Violation) {
        let type = event.typeName
        func violation(_ reason: String) -> Violation { Violation(event: type, reason: reason) }
        switch phase {
        case .awaitingStart:
            guard case .runStarted = event else {
                if case let .runError(message, code) = event {
                    updates += finish(.errored(reason: Self.runErrorReason(message, code)))
                    return
                }
                throw violation("the first event must be RUN_STARTED")
            }
        case .running:
            if case .runStarted = event { throw violation("a second RUN_STARTED while the run is still going") }
        case .ended:
            return
        }

        switch event {
        case let .runStarted(threadID, runID, version):
            self.threadID = threadID
            self.runID = runID
            phase = .running
            if let version {
                peerProtocolVersion = version
                updates.append(
                    .custom(
                        JSONValue.object(["type": "RUN_STARTED", "protocolVersion": .string(version)]).jsonText))
            }

        case let .runFinished(finished):
            if let runID, finished.runID != runID {
                throw violation("it finishes run '\(finished.runID)', but the run that started is '\(runID)'")
            }
            try checkNothingOpen(type)
            switch finished.outcome {
            case .success where !customInterrupts.isEmpty:
                for interrupt in customInterrupts { updates.append(.approval(approval(for: interrupt))) }
                updates += finish(.interrupted)
            case .success:
                updates += finish(.complete(usage: finished.usage?.jsonText))
            case .cancelled:
                updates += finish(.aborted(reason: "the runtime cancelled the run (RUN_FINISHED outcome cancelled)"))
            case let .error(message):
                updates += finish(.errored(reason: "the runtime reported an error: \(message)"))
            case let .interrupt(interrupts):
                for interrupt in interrupts + customInterrupts {
                    updates.append(.approval(approval(for: interrupt)))
                }
                updates += finish(.interrupted)
            }

        case let .runError(message, code):
            updates += finish(.errored(reason: Self.runErrorReason(message, code)))

        case let .stepStarted(name):
            guard openSteps.insert(name).inserted else { throw violation("step '\(name)' is already running") }
        case let .stepFinished(name):
            guard openSteps.remove(name) != nil else { throw violation("step '\(name)' was never started") }

        case let .textMessageStart(id, role):
            guard openMessages[id] == nil else {
                throw violation("message '\(id)' is already open (TEXT_MESSAGE_END first)")
            }
            openMessages[id] = role
            if role == "assistant", let subagent = attributedTo {
                touchSubagent(subagent)
                subagentMessages[id] = (subagent, subagents[subagent]?.texts.count ?? 0)
                subagents[subagent]?.texts.append("")
            } else if role == "assistant", subagentMessages[id] == nil, textIndex[id] == nil {
                textIndex[id] = texts.count
                texts.append("")
                if !replyIDReported {
                    replyIDReported = true
                    updates.append(.replyID(id))
                }
            }
        case let .textMessageContent(id, delta):
            guard let role = openMessages[id] else {
                throw violation("message '\(id)' is not open (it needs a TEXT_MESSAGE_START first)")
            }
            if role == "assistant", let (subagent, index) = subagentMessages[id] {
                subagents[subagent]?.texts[index] += delta
            } else if role == "assistant", let index = textIndex[id] {
                appendText(delta, at: index)
            }
        case let .textMessageEnd(id):
            guard openMessages.removeValue(forKey: id) != nil else {
                throw violation("message '\(id)' is not open (no TEXT_MESSAGE_START)")
            }

        case let .toolCallStart(id, name):
            guard !openToolCalls.contains(id) else {
                throw violation("tool call '\(id)' is already open (TOOL_CALL_END first)")
            }
            openToolCalls.insert(id)
            if let subagent = attributedTo {
                touchSubagent(subagent)
                if subagents[subagent]?.toolCalls.contains(id) == false { subagents[subagent]?.toolCalls.append(id) }
            }
            let call = ToolCallUpdate(id: id, name: name, arguments: "")
            toolCalls[id] = call
            updates.append(.toolCall(call))
        case let .toolCallArgs(id, delta):
            guard openToolCalls.contains(id), var call = toolCalls[id] else {
                throw violation("tool call '\(id)' is not open (it needs a TOOL_CALL_START first)")
            }
            call.arguments += delta
            toolCalls[id] = call
        case let .toolCallEnd(id):
            guard openToolCalls.remove(id) != nil, let call = toolCalls[id] else {
                throw violation("tool call '\(id)' is not open (no TOOL_CALL_START)")
            }
            updates.append(.toolCall(call))
        case let .toolCallResult(messageID, id, content):
            // A resumed run reports the result of a call made in the interrupted run (AG-UI
            // interrupts spec), so a call need not have started in this run.
            var call = toolCalls[id] ?? ToolCallUpdate(id: id, name: "unknown tool", arguments: "")
            call.result = content
            call.runtimeID = messageID
            toolCalls[id] = call
            updates.append(.toolCall(call))

        case let .stateSnapshot(snapshot):
            state = snapshot
            updates.append(.state(snapshot.jsonText))
        case let .stateDelta(delta):
            let base = state ?? .object([:])
            if dialect == .umbraco, case let .object(changes) = delta, case var .object(members) = base {
                for (key, value) in changes { members[key] = value }
                state = .object(members)
            } else {
                do {
                    state = try JSONPatch.apply(delta, to: base)
                } catch {
                    throw violation("the JSON Patch cannot be applied to the state (\(error))")
                }
            }
            updates.append(.state((state ?? .null).jsonText))
        case let .messagesSnapshot(messages):
            for message in messages where message["role"]?.stringValue == "tool" {
                guard let id = message["toolCallId"]?.stringValue, var call = toolCalls[id], call.result == nil,
                    let content = message["content"]?.stringValue
                else { continue }
                call.result = content
                call.runtimeID = message["id"]?.stringValue
                toolCalls[id] = call
                updates.append(.toolCall(call))
            }

        case let .reasoningStart(id):
            guard openReasoningBlocks.insert(id).inserted else { throw violation("reasoning '\(id)' is already open") }
        case let .reasoningEnd(id):
            guard openReasoningBlocks.remove(id) != nil else { throw violation("reasoning '\(id)' is not open") }
        case let .reasoningMessageStart(id):
            try startReasoning(id, violation)
        case let .reasoningMessageContent(id, delta):
            guard openReasoningMessages.contains(id), let index = reasoningIndex[id] else {
                throw violation("reasoning message '\(id)' is not open (it needs a REASONING_MESSAGE_START first)")
            }
            reasonings[index] += delta
            reasoningChanged = reasoningChanged || !delta.isEmpty
        case let .reasoningMessageEnd(id):
            guard openReasoningMessages.remove(id) != nil else {
                throw violation("reasoning message '\(id)' is not open")
            }
        case .thinkingStart:
            thinkingBlocks += 1
        case .thinkingEnd:
            guard thinkingBlocks > 0 else { throw violation("no THINKING_START is open") }
            thinkingBlocks -= 1
        case .thinkingTextMessageStart:
            guard thinkingMessages == 0 else { throw violation("a thinking message is already open") }
            thinkingMessages = 1
            reasoningIndex[Self.thinkingID] = reasonings.count
            reasonings.append("")
        case let .thinkingTextMessageContent(delta):
            guard thinkingMessages == 1, let index = reasoningIndex[Self.thinkingID] else {
                throw violation("no THINKING_TEXT_MESSAGE_START is open")
            }
            reasonings[index] += delta
            reasoningChanged = reasoningChanged || !delta.isEmpty
        case .thinkingTextMessageEnd:
            guard thinkingMessages == 1 else { throw violation("no THINKING_TEXT_MESSAGE_START is open") }
            thinkingMessages = 0

        case let .custom(name, value) where name == "on_interrupt":
            customInterrupts.append(Self.customInterrupt(value, index: customInterrupts.count + 1))
            updates.append(
                .custom(JSONValue.object(["type": "CUSTOM", "name": .string(name), "value": value]).jsonText))
        case let .custom(name, value):
            updates.append(
                .custom(JSONValue.object(["type": "CUSTOM", "name": .string(name), "value": value]).jsonText))
        case let .raw(event, source):
            var members: [String: JSONValue] = ["type": "RAW", "event": event]
            if let source { members["source"] = .string(source) }
            updates.append(.custom(JSONValue.object(members).jsonText))

        case let .activitySnapshot(id, activityType, content, replace):
            if activities[id] == nil { activityOrder.append(id) }
            if replace || activities[id] == nil { activities[id] = (activityType, content) }
        case let .activityDelta(id, activityType, patch):
            if activities[id] == nil { activityOrder.append(id) }
            do {
                let content = try JSONPatch.apply(patch, to: activities[id]?.content ?? .object([:]))
                activities[id] = (activityType, content)
            } catch {
                throw violation("the JSON Patch cannot be applied to activity '\(id)' (\(error))")
            }

        case let .subagentStarted(subagent):
            if subagents[subagent.id] == nil { subagentOrder.append(subagent.id) }
            var record = subagents[subagent.id] ?? SubagentRecord(id: subagent.id)
            record.name = subagent.name
            record.description = subagent.description
            record.parentSubagentRunID = subagent.parentSubagentRunID
            record.parentToolCallID = subagent.parentToolCallID
            record.status = "running"
            subagents[subagent.id] = record
            openSubagents.insert(subagent.id)
            updates.append(.custom(record.json(full: false)))
        case let .subagentFinished(id, suspended, interruptIDs, result):
            guard openSubagents.remove(id) != nil, var record = subagents[id] else {
                throw violation("subagent '\(id)' is not running (no SUBAGENT_STARTED)")
            }
            record.status = suspended ? "suspended" : "complete"
            record.interruptIDs = interruptIDs
            record.result = result
            subagents[id] = record
            updates.append(.custom(record.json(full: true)))
        case let .subagentError(id, message, code):
            guard openSubagents.remove(id) != nil, var record = subagents[id] else {
                throw violation("subagent '\(id)' is not running (no SUBAGENT_STARTED)")
            }
            record.status = "errored"
            record.error = message
            record.code = code
            subagents[id] = record
            updates.append(.custom(record.json(full: true)))

        case .ignored, .unknown:
            break
        case .textMessageChunk, .toolCallChunk, .reasoningMessageChunk:
            break  // expanded before they get here
        }
    }

    /// The record of subagent `id`, made when an event is attributed to one this run never saw
    /// start (a subagent resumed from an interrupted run, or a peer that skips SUBAGENT_STARTED).
    private mutating func touchSubagent(_ id: String) {
        guard subagents[id] == nil else { return }
        subagents[id] = SubagentRecord(id: id)
        subagentOrder.append(id)
        openSubagents.insert(id)
    }

    /// A CUSTOM `on_interrupt` event's value as an interrupt. LangGraph's adapter sends the value as
    /// JSON text, others as an object or a plain question. The id is the value's `id`, else
    /// `on_interrupt-N` (N counts the run's custom interrupts); either way prefixed `custom:`.
    static func customInterrupt(_ value: JSONValue, index: Int) -> AGUIEvent.Interrupt {
        var value = value
        if case let .string(text) = value, let parsed = try? JSONValue(parsing: text), parsed.objectValue != nil {
            value = parsed
        }
        let prefix = AGUIWire.customInterruptPrefix
        guard value.objectValue != nil else {
            return AGUIEvent.Interrupt(
                id: "\(prefix)on_interrupt-\(index)", reason: "on_interrupt",
                message: value.stringValue ?? value.jsonText)
        }
        func text(_ keys: String...) -> String? { keys.lazy.compactMap { value[$0]?.stringValue }.first }
        let arguments: String? =
            switch value["args"] ?? value["arguments"] {
            case nil, .null?: nil
            case let .string(text)?: text
            case let other?: other.jsonText
            }
        return AGUIEvent.Interrupt(
            id: prefix + (text("id") ?? "on_interrupt-\(index)"), reason: text("reason") ?? "on_interrupt",
            message: text("message", "question", "prompt", "content", "title"),
            toolCallID: text("toolCallId"), toolName: text("toolName", "tool"), arguments: arguments,
            responseSchema: value["responseSchema"].flatMap { $0.isNull ? nil : $0 },
            expiresAt: text("expiresAt"))
    }

    private mutating func startReasoning(_ id: String, _ violation: (String) -> Violation) throws(Violation) {
        guard openReasoningMessages.insert(id).inserted else {
            throw violation("reasoning message '\(id)' is already open")
        }
        if reasoningIndex[id] == nil {
            reasoningIndex[id] = reasonings.count
            reasonings.append("")
        }
    }

    private func checkNothingOpen(_ type: String) throws(Violation) {
        func list(_ ids: some Collection<String>) -> String { ids.sorted().map { "'\($0)'" }.joined(separator: ", ") }
        if !openSteps.isEmpty { throw Violation(event: type, reason: "steps are still running: \(list(openSteps))") }
        if !openMessages.isEmpty {
            throw Violation(event: type, reason: "text messages are still open: \(list(openMessages.keys))")
        }
        if !openToolCalls.isEmpty {
            throw Violation(event: type, reason: "tool calls are still open: \(list(openToolCalls))")
        }
        if !openReasoningMessages.isEmpty || thinkingMessages > 0 {
            throw Violation(
                event: type, reason: "reasoning messages are still open: \(list(openReasoningMessages))")
        }
    }

    /// An interrupt as an approval request: its prompt, and the tool call it is about.
    private func approval(for interrupt: AGUIEvent.Interrupt) -> ApprovalRequest {
        let call = interrupt.toolCallID.flatMap { toolCalls[$0] }
        var prompt = interrupt.message ?? ""
        if prompt.isEmpty {
            prompt =
                call.map { "The agent wants to run \($0.name)." }
                ?? "The agent asks for your approval (\(interrupt.reason ?? "no reason given"))."
        }
        let offer = Self.offer(for: interrupt, dialect: dialect)
        return ApprovalRequest(
            runtimeID: interrupt.id, prompt: prompt, toolCallID: interrupt.toolCallID,
            tool: call?.name ?? interrupt.toolName, arguments: call?.arguments ?? interrupt.arguments,
            decisions: offer.decisions, expiresAt: interrupt.expiresAt.flatMap { Timestamp($0) },
            schema: offer.schema)
    }

    /// The decisions an interrupt can take, from what the stream says (capability declarations are
    /// informative, the stream is authoritative): a tool call (`reason: tool_call` or a `toolCallId`)
    /// can be approved, rejected or cancelled, and edited when its `responseSchema` has `editedArgs`
    /// (whose schema, if it describes the arguments, edits must meet); any other interrupt asks for
    /// input, so it can be responded to or cancelled, and approved or rejected when the schema has
    /// `approved` (or there is none).
    static func offer(for interrupt: AGUIEvent.Interrupt, dialect: AGUIDialect) -> (
        decisions: [Decision], schema: String?
    ) {
        let properties = interrupt.responseSchema?["properties"]?.objectValue
        let isToolCall = interrupt.toolCallID != nil || interrupt.reason == "tool_call" || interrupt.toolName != nil
        guard isToolCall else {
            let yesNo = interrupt.responseSchema == nil || properties?["approved"] != nil
            return ((yesNo ? [.approve, .reject] : []) + [.respond, .cancel], nil)
        }
        guard dialect == .standard, let edited = properties?["editedArgs"] else {
            return ([.approve, .reject, .cancel], nil)
        }
        let describes = edited["properties"] != nil || edited["type"] != nil
        return ([.approve, .edit, .reject, .cancel], describes ? edited.jsonText : nil)
    }

    static func runErrorReason(_ message: String, _ code: String?) -> String {
        "the runtime reported an error (RUN_ERROR): \(message)\(code.map { " (code \($0))" } ?? ""); the text that arrived is kept"
    }

    // MARK: Text

    /// Appends to one message's text, keeping the joined reply text current without rebuilding it
    /// (a long reply arrives in thousands of deltas).
    private mutating func appendText(_ delta: String, at index: Int) {
        guard !delta.isEmpty else { return }
        let wasEmpty = texts[index].isEmpty
        texts[index] += delta
        let isLastNonEmpty = texts[(index + 1)...].allSatisfy(\.isEmpty)
        if isLastNonEmpty {
            if wasEmpty && !text.isEmpty { text += "\n\n" }
            text += delta
        } else {
            text = ([priorText] + texts).filter { !$0.isEmpty }.joined(separator: "\n\n")
        }
        textChanged = true
    }

    private var reasoningText: String {
        reasonings.filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    /// Adds `.text` / `.reasoning` updates when they changed, before the updates that follow them.
    private mutating func withTextChanges(_ updates: [RunUpdate]) -> [RunUpdate] {
        defer { (textChanged, reasoningChanged) = (false, false) }
        return RunUpdate.textFirst(
            text: textChanged ? text : nil, reasoning: reasoningChanged ? reasoningText : nil, updates)
    }

    // MARK: Ending

    private mutating func finish(_ end: RunEnd) -> [RunUpdate] {
        phase = .ended
        self.end = end
        return records() + [.finished(end)]
    }

    /// What the run leaves on record when it ends: subagents still running (`unfinished`, with what
    /// they did), then each activity message's latest content.
    private mutating func records() -> [RunUpdate] {
        var updates: [RunUpdate] = []
        for id in subagentOrder where openSubagents.contains(id) {
            guard var record = subagents[id] else { continue }
            record.status = "unfinished"
            subagents[id] = record
            updates.append(.custom(record.json(full: true)))
        }
        openSubagents = []
        for id in activityOrder {
            guard let activity = activities[id] else { continue }
            updates.append(
                .custom(
                    JSONValue.object([
                        "type": "ACTIVITY", "messageId": .string(id), "activityType": .string(activity.type),
                        "content": activity.content,
                    ]).jsonText))
        }
        return updates
    }

    private mutating func fail(_ violation: Violation) -> [RunUpdate] {
        let reason =
            "AG-UI protocol violation at \(violation.event) (event \(eventCount)): \(violation.reason); the text that arrived is kept"
        return withTextChanges(finish(.errored(reason: reason)))
    }
}
