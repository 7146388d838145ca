import ChatModel
import InboxCore

/// An OpenAI chat completions stream as a pure accumulator: each SSE `data:` payload in, `RunUpdate`s
/// out. No IO (Tests/InboxDaemonTests/OpenAIStreamTests.swift).
///
/// - `delta.content` pieces make the reply text; `delta.reasoning_content` (llama.cpp, vLLM) or
///   `delta.reasoning` (Ollama) make the reasoning.
/// - `delta.tool_calls` fragments are gathered by `index`; a call is reported when it first appears
///   and again once it is complete (another call starts, `finish_reason` arrives or the stream ends),
///   not for every fragment. Letterbox runs no tools: a `finish_reason` of `tool_calls` completes the
///   run with the calls recorded.
/// - The last chunk's `usage` (asked for with `stream_options.include_usage`) is the run's usage.
/// - `data: [DONE]` ends the run. An `{"error": …}` object mid-stream ends it as errored with the
///   server's message. A stream that ends after a `finish_reason` but without `[DONE]` is complete
///   (some servers omit it); one that ends before either is errored, keeping the text.
struct OpenAIStream: Sendable {
    private(set) var text = ""
    private(set) var reasoning = ""
    private(set) var finishReason: String?
    private(set) var usage: JSONValue?
    private(set) var end: RunEnd?
    private(set) var chunkCount = 0
    private var calls: [Int: ToolCallUpdate] = [:]
    private var callOrder: [Int] = []
    private var reported: [Int: ToolCallUpdate] = [:]
    private var replyID: String?
    private var textChanged = false
    private var reasoningChanged = false

    /// When set, `.text` and `.reasoning` go out only with the next other update or `flushText()`
    /// (see `AGUIRun.coalescesText`: each carries the whole text).
    var coalescesText = false

    var isEnded: Bool { end != nil }

    /// The tool calls so far, in the order they started.
    var toolCalls: [ToolCallUpdate] { callOrder.compactMap { calls[$0] } }

    /// One SSE event's data.
    mutating func receive(_ data: String) -> [RunUpdate] {
        guard end == nil else { return [] }
        let updates = consume(data)
        return coalescesText && updates.isEmpty ? [] : withTextChanges(updates)
    }

    /// The `.text` / `.reasoning` updates held back by `coalescesText`.
    mutating func flushText() -> [RunUpdate] { withTextChanges([]) }

    private mutating func consume(_ data: String) -> [RunUpdate] {
        chunkCount += 1
        if data.trimmingWhitespace == "[DONE]" {
            return reportCalls() + finish(.complete(usage: usage?.jsonText))
        }
        let chunk: JSONValue
        do {
            chunk = try JSONValue(parsing: data)
        } catch {
            return finish(
                .errored(
                    reason:
                        "stream chunk \(chunkCount) is not JSON (\(error.reason)): \(HTTPTransport.excerpt(Array(data.utf8), limit: 80)); the text that arrived is kept"
                ))
        }
        if let error = chunk["error"], !error.isNull {
            return finish(.errored(reason: "the runtime reported an error mid-stream: \(Self.describe(error))"))
        }
        var updates: [RunUpdate] = []
        if replyID == nil, let id = chunk["id"]?.stringValue {
            replyID = id
            updates.append(.replyID(id))
        }
        if let usage = chunk["usage"], !usage.isNull { self.usage = usage }
        let choice = chunk["choices"]?.arrayValue?.first { ($0["index"] ?? 0).equals(0) }
        if let delta = choice?["delta"] {
            if let piece = delta["content"]?.stringValue, !piece.isEmpty {
                text += piece
                textChanged = true
            }
            if let piece = delta["reasoning_content"]?.stringValue ?? delta["reasoning"]?.stringValue, !piece.isEmpty {
                reasoning += piece
                reasoningChanged = true
            }
            for fragment in delta["tool_calls"]?.arrayValue ?? [] { updates += toolCallFragment(fragment) }
        }
        if let reason = choice?["finish_reason"]?.stringValue {
            finishReason = reason
            updates += reportCalls()
        }
        return updates
    }

    /// A whole (non-streamed) `chat.completion` object, for a server that ignored `stream: true`.
    mutating func receiveCompletion(_ data: String) -> [RunUpdate] {
        guard let completion = try? JSONValue(parsing: data), let choice = completion["choices"]?.arrayValue?.first
        else {
            return finish(.errored(reason: "the runtime's answer is not a chat completion"))
        }
        var updates: [RunUpdate] = []
        if let id = completion["id"]?.stringValue { updates.append(.replyID(id)) }
        let message = choice["message"]
        text = message?["content"]?.stringValue ?? ""
        if !text.isEmpty { updates.append(.text(text)) }
        for (index, call) in (message?["tool_calls"]?.arrayValue ?? []).enumerated() {
            let update = ToolCallUpdate(
                id: call["id"]?.stringValue ?? "call_\(index)", name: call["function"]?["name"]?.stringValue ?? "tool",
                arguments: call["function"]?["arguments"]?.stringValue ?? "")
            calls[index] = update
            callOrder.append(index)
            updates.append(.toolCall(update))
        }
        finishReason = choice["finish_reason"]?.stringValue
        if let usage = completion["usage"], !usage.isNull { self.usage = usage }
        return updates + finish(.complete(usage: usage?.jsonText))
    }

    /// The body ended cleanly.
    mutating func streamEnded() -> [RunUpdate] {
        guard end == nil else { return [] }
        if finishReason != nil { return withTextChanges(reportCalls() + finish(.complete(usage: usage?.jsonText))) }
        return withTextChanges(reportCalls())
            + finish(
                .errored(
                    reason:
                        "the runtime's stream ended before [DONE] (after \(chunkCount) chunks); the text that arrived is kept"
                ))
    }

    /// The connection broke mid-stream.
    mutating func connectionLost(_ reason: String) -> [RunUpdate] {
        guard end == nil else { return [] }
        return withTextChanges(reportCalls())
            + finish(
                .errored(
                    reason:
                        "the connection to the runtime was lost mid-stream (\(reason)) after \(chunkCount) chunks; the text that arrived is kept"
                ))
    }

    /// An SSE line went over the parser's limit.
    mutating func lineTooLong(_ error: SSEParser.LineTooLong) -> [RunUpdate] {
        guard end == nil else { return [] }
        return withTextChanges(finish(.errored(reason: "\(error.description); the stream was closed there")))
    }

    /// Puts the changed text and reasoning first (after a reply id), so they precede what follows.
    private mutating func withTextChanges(_ updates: [RunUpdate]) -> [RunUpdate] {
        defer { (textChanged, reasoningChanged) = (false, false) }
        return RunUpdate.textFirst(
            text: textChanged ? text : nil, reasoning: reasoningChanged ? reasoning : nil, updates)
    }

    private mutating func toolCallFragment(_ fragment: JSONValue) -> [RunUpdate] {
        let index: Int
        switch fragment["index"] {
        case let .integer(value)?: index = Int(value)
        default: index = callOrder.last ?? 0
        }
        var updates: [RunUpdate] = []
        if calls[index] == nil {
            // A new call: the previous ones are complete.
            updates += reportCalls()
            calls[index] = ToolCallUpdate(id: "call_\(index)", name: "", arguments: "")
            callOrder.append(index)
        }
        guard var call = calls[index] else { return updates }
        if let id = fragment["id"]?.stringValue, !id.isEmpty { call.id = id }
        if let name = fragment["function"]?["name"]?.stringValue, !name.isEmpty { call.name = name }
        if let piece = fragment["function"]?["arguments"]?.stringValue { call.arguments += piece }
        calls[index] = call
        if reported[index] == nil, !call.name.isEmpty {
            reported[index] = call
            updates.append(.toolCall(call))
        }
        return updates
    }

    /// Reports the calls whose last report is out of date.
    private mutating func reportCalls() -> [RunUpdate] {
        var updates: [RunUpdate] = []
        for index in callOrder {
            guard var call = calls[index], reported[index] != call else { continue }
            if call.name.isEmpty { call.name = "tool" }
            reported[index] = call
            updates.append(.toolCall(call))
        }
        return updates
    }

    private mutating func finish(_ end: RunEnd) -> [RunUpdate] {
        self.end = end
        return [.finished(end)]
    }

    /// "message (code)" from an OpenAI error object.
    static func describe(_ error: JSONValue) -> String {
        let message = error["message"]?.stringValue ?? error.stringValue ?? error.jsonText
        let code = error["code"]?.stringValue ?? error["type"]?.stringValue
        return code.map { "\(message) (\($0))" } ?? message
    }
}
