import AsyncHTTPClient
import ChatModel
import Foundation
import InboxCore
import Logging
import Testing

@testable import InboxDaemon

@Suite("OpenAI-compatible stream accumulator and request (pure)")
struct OpenAIStreamTests {
    static func chunk(_ delta: String, finish: String? = nil, id: String = "chatcmpl-1") -> String {
        let reason = finish.map { "\"\($0)\"" } ?? "null"
        return
            #"{"id":"\#(id)","object":"chat.completion.chunk","choices":[{"index":0,"delta":\#(delta),"logprobs":null,"finish_reason":\#(reason)}],"usage":null}"#
    }

    static func feed(_ chunks: [String]) -> (OpenAIStream, [RunUpdate]) {
        var stream = OpenAIStream()
        let updates = chunks.flatMap { stream.receive($0) }
        return (stream, updates)
    }

    static func texts(_ updates: [RunUpdate]) -> [String] {
        updates.compactMap { if case let .text(text) = $0 { text } else { nil } }
    }

    static func calls(_ updates: [RunUpdate]) -> [ToolCallUpdate] {
        updates.compactMap { if case let .toolCall(call) = $0 { call } else { nil } }
    }

    @Test("text deltas (as the scripted peer sends them), then the usage chunk and [DONE]")
    func text() {
        let (stream, updates) = Self.feed(
            [Self.chunk(#"{"role":"assistant","content":"","refusal":null}"#)]
                + ["The", " answer", " is", " 42", "."].map { Self.chunk(#"{"content":"\#($0)"}"#) }
                + [
                    Self.chunk("{}", finish: "stop"),
                    #"{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":5,"total_tokens":14}}"#,
                    "[DONE]",
                ])
        #expect(updates.first == .replyID("chatcmpl-1"))
        #expect(Self.texts(updates) == ["The", "The answer", "The answer is", "The answer is 42", "The answer is 42."])
        #expect(
            updates.last == .finished(.complete(usage: #"{"completion_tokens":5,"prompt_tokens":9,"total_tokens":14}"#))
        )
        #expect(stream.finishReason == "stop")
    }

    @Test("tool calls gathered by index: reported when they appear and when complete; tool_calls completes the run")
    func tools() {
        let (stream, updates) = Self.feed([
            Self.chunk(
                #"{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_weather_1","type":"function","function":{"name":"get_weather","arguments":""}}]}"#
            ),
            Self.chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]}"#),
            Self.chunk(#"{"tool_calls":[{"index":0,"function":{"arguments":"ty\": \"Paris\"}"}}]}"#),
            Self.chunk(
                #"{"tool_calls":[{"index":1,"id":"call_time_2","type":"function","function":{"name":"get_time","arguments":""}}]}"#
            ),
            Self.chunk(#"{"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]}"#),
            Self.chunk("{}", finish: "tool_calls"), "[DONE]",
        ])
        #expect(
            Self.calls(updates) == [
                ToolCallUpdate(id: "call_weather_1", name: "get_weather", arguments: ""),
                ToolCallUpdate(id: "call_weather_1", name: "get_weather", arguments: #"{"city": "Paris"}"#),
                ToolCallUpdate(id: "call_time_2", name: "get_time", arguments: ""),
                ToolCallUpdate(id: "call_time_2", name: "get_time", arguments: "{}"),
            ])
        #expect(stream.toolCalls.count == 2)
        #expect(updates.last == .finished(.complete(usage: nil)))
    }

    @Test("reasoning_content (llama.cpp, vLLM) and reasoning (Ollama) are the reasoning")
    func reasoning() {
        let (_, updates) = Self.feed([
            Self.chunk(#"{"reasoning_content":"Let me "}"#), Self.chunk(#"{"reasoning":"think."}"#),
            Self.chunk(#"{"content":"42"}"#, finish: "stop"), "[DONE]",
        ])
        #expect(updates.contains(.reasoning("Let me think.")))
        #expect(Self.texts(updates) == ["42"])
    }

    @Test("an error object mid-stream ends the run as errored with the server's message; the text is kept")
    func midstreamError() {
        var (stream, updates) = Self.feed([
            Self.chunk(#"{"content":"The"}"#),
            #"{"error":{"message":"The model stopped unexpectedly.","type":"server_error","param":null,"code":"stream_error"}}"#,
        ])
        #expect(
            updates.last
                == .finished(
                    .errored(
                        reason:
                            "the runtime reported an error mid-stream: The model stopped unexpectedly. (stream_error)"))
        )
        #expect(stream.text == "The")
        #expect(stream.streamEnded().isEmpty, "already ended")
    }

    @Test("the body ends: complete after a finish_reason even without [DONE], errored before one")
    func endings() {
        var (finished, _) = Self.feed([Self.chunk(#"{"content":"ok"}"#, finish: "stop")])
        #expect(finished.streamEnded() == [.finished(.complete(usage: nil))])
        var (cut, _) = Self.feed([Self.chunk(#"{"content":"The"}"#), Self.chunk(#"{"content":" answer"}"#)])
        var lost = cut
        guard
            case let .errored(reason)? = cut.streamEnded().last.flatMap({
                if case let .finished(end) = $0 { end } else { nil }
            })
        else {
            Issue.record("not errored")
            return
        }
        #expect(reason.contains("ended before [DONE]"))
        #expect(lost.connectionLost("reset").last.map { "\($0)" }?.contains("lost mid-stream (reset)") == true)
        var (garbage, updates) = Self.feed(["{not json"])
        #expect("\(updates)".contains("stream chunk 1 is not JSON"))
        #expect(garbage.receive("[DONE]").isEmpty)
    }

    @Test("a non-streamed completion (a server that ignored stream: true) is read whole")
    func whole() {
        var stream = OpenAIStream()
        let updates = stream.receiveCompletion(
            #"{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"Hi.","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}],"usage":{"total_tokens":3}}"#
        )
        #expect(
            updates == [
                .replyID("c"), .text("Hi."), .toolCall(ToolCallUpdate(id: "t", name: "f", arguments: "{}")),
                .finished(.complete(usage: #"{"total_tokens":3}"#)),
            ])
    }

    static func client(baseURL: String) -> OpenAIClient {
        let http = HTTPTransport(client: .shared, baseURL: baseURL, token: nil, timeout: .seconds(5))
        let agent = OpenAIClient.Agent(
            agent: RuntimeAgent(id: "terse", name: nil, scopes: ["chat"], runtime: "oai"), model: "llama3.2",
            systemPrompt: "You are terse.")
        return OpenAIClient(name: "oai", http: http, agents: [agent], logger: Logger(label: "test"))
    }

    @Test("the request: the agent's model and system prompt, the history, then the message; stream with usage")
    func request() throws {
        var message = OutgoingMessage(
            thread: "t", threadTitle: "t", runtimeThreadID: nil, message: "m2", requestID: "r", agent: "terse",
            content: "And now?", run: "m2.run-1",
            history: [
                HistoryItem(role: .user, id: "m1", content: "Weather?"),
                HistoryItem(
                    role: .assistant, id: "x-tools", content: "",
                    toolCalls: [ToolCallSummary(id: "c1", name: "get_weather", arguments: "{}")]),
                HistoryItem(role: .tool, id: "x-c1", content: "", toolCallID: "c1"),
                HistoryItem(role: .assistant, id: "x", content: ""),
            ])
        message.runSoFar = []
        let body = try OpenAIWire.encoder.encode(Self.client(baseURL: "http://h:1").request(for: message))
        let value = try JSONValue(parsing: Array(body))
        #expect(value["model"] == "llama3.2")
        #expect(value["stream"] == true && value["stream_options"] == ["include_usage": true])
        #expect(
            value["messages"]
                == [
                    ["role": "system", "content": "You are terse."], ["role": "user", "content": "Weather?"],
                    [
                        "role": "assistant",
                        "tool_calls": [
                            ["id": "c1", "type": "function", "function": ["name": "get_weather", "arguments": "{}"]]
                        ],
                    ],
                    ["role": "tool", "content": "", "tool_call_id": "c1"], ["role": "user", "content": "And now?"],
                ])
    }

    @Test("base URLs with or without /v1 (Ollama, llama.cpp, vLLM) reach /v1/chat/completions")
    func paths() {
        #expect(Self.client(baseURL: "http://127.0.0.1:11434/v1").completionsPath == "/chat/completions")
        #expect(Self.client(baseURL: "http://127.0.0.1:8080/v1/").completionsPath == "/chat/completions")
        #expect(Self.client(baseURL: "http://127.0.0.1:8000").completionsPath == "/v1/chat/completions")
    }
}
