import AsyncHTTPClient
import ChatModel
import Foundation
import InboxCore
import Logging
import NIOCore
import NIOHTTP1

/// An OpenAI-compatible chat completions endpoint: OpenAI itself, Ollama, llama.cpp's server, vLLM.
/// They differ only in the base URL (and model names), which come from configuration.
///
/// - One `POST …/chat/completions` per run with `stream: true`, the agent's model and system prompt
///   from configuration, and the thread's history rebuilt from its files. `send` returns once the
///   200 response headers arrive; the run's updates read the SSE chunks from the same body to
///   `[DONE]` (OpenAIStream).
/// - The base URL may or may not end in `/v1` (OpenAI's own convention includes it; a bare
///   `http://host:port` gets `/v1/chat/completions`).
/// - Errors before the stream are classified by status: 4xx fails the message with the server's
///   message, 401/403 pauses delivery, 429 and 5xx are retried (429 honours `Retry-After`).
/// - Tool calls are recorded from the deltas; Letterbox runs no tools, so a run that ends with
///   `finish_reason: tool_calls` completes with its calls recorded. There are no approvals.
/// - Abort is closing the connection (the worker cancels the task reading the stream); the protocol
///   has no cancel request, so `abort` has nothing to send.
public struct OpenAIClient: ChatRuntime {
    /// An agent: a model and an optional system prompt.
    public struct Agent: Sendable {
        public var agent: RuntimeAgent
        public var model: String
        public var systemPrompt: String?

        public init(agent: RuntimeAgent, model: String, systemPrompt: String?) {
            self.agent = agent
            self.model = model
            self.systemPrompt = systemPrompt
        }
    }

    public let name: String
    let http: HTTPTransport
    let configured: [String: Agent]
    let agentList: [RuntimeAgent]
    let maxLineBytes: Int
    let logger: Logger

    public init(name: String, http: HTTPTransport, agents: [Agent], maxLineBytes: Int = 8 << 20, logger: Logger) {
        self.name = name
        self.http = http
        self.configured = Dictionary(agents.map { ($0.agent.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.agentList = agents.map(\.agent)
        self.maxLineBytes = maxLineBytes
        self.logger = logger
    }

    public var capabilities: RuntimeCapabilities {
        RuntimeCapabilities(
            streaming: true, toolCalls: true, approvals: false, abort: true, regenerate: true, threadListing: false,
            serverHistory: false, agentListing: false)
    }

    public func agents() async throws(RuntimeError) -> [RuntimeAgent] { agentList }

    public func send(_ message: OutgoingMessage) async throws(RuntimeError) -> Acceptance {
        let body: [UInt8]
        do {
            body = Array(try OpenAIWire.encoder.encode(request(for: message)))
        } catch {
            throw RuntimeError(.rejected, "could not encode the request: \(error)")
        }
        let response = try await http.openStream(completionsPath, body: body, deadline: http.timeout)
        let streamed =
            !(response.headers.first(name: "Content-Type")?.lowercased().hasPrefix("application/json") ?? false)
        let maxLineBytes = maxLineBytes
        logger.debug("chat completion started", metadata: ["thread.id": "\(message.thread)", "run": "\(message.run)"])
        let updates = RunUpdates { emit in
            if streamed {
                try await Self.read(EventStreamReader(response, maxLineBytes: maxLineBytes), emit: emit)
            } else {
                try await Self.readWhole(response, emit: emit)
            }
        }
        return Acceptance(
            runtimeMessageID: message.message, runtimeThreadID: nil, updates: updates,
            reference: RunReference(run: message.run, runtimeThreadID: nil, runtimeMessageID: message.message))
    }

    public func follow(_ reference: RunReference) -> RunUpdates? { nil }

    /// Nothing to send: closing the stream (the worker cancels its task) is how a completion is stopped.
    public func abort(_ reference: RunReference) async throws(RuntimeError) {}

    public func regenerate(_ message: OutgoingMessage, previous: RunReference) async throws(RuntimeError)
        -> Acceptance
    {
        try await send(message)
    }

    public func answer(_ answers: [ApprovalAnswer], for reference: RunReference, message: OutgoingMessage)
        async throws(RuntimeError) -> RunUpdates?
    {
        throw RuntimeError(.unsupported, "OpenAI-compatible runtimes have no approvals")
    }

    // MARK: Requests (pure)

    /// `/chat/completions` under a base URL that ends in `/v1`, else `/v1/chat/completions`.
    var completionsPath: String {
        http.baseURL.hasSuffix("/v1") ? "/chat/completions" : "/v1/chat/completions"
    }

    /// The request: the agent's model, its system prompt, the history, then the operator's message.
    func request(for message: OutgoingMessage) -> OpenAIWire.Request {
        let agent = configured[message.agent]
        var messages: [OpenAIWire.Message] = []
        if let prompt = agent?.systemPrompt, !prompt.isEmpty {
            messages.append(OpenAIWire.Message(role: "system", content: prompt))
        }
        messages += message.history.compactMap(Self.wireMessage)
        messages.append(OpenAIWire.Message(role: "user", content: message.content))
        return OpenAIWire.Request(model: agent?.model ?? message.agent, messages: messages)
    }

    static func wireMessage(_ item: HistoryItem) -> OpenAIWire.Message? {
        switch item.role {
        case .user: return OpenAIWire.Message(role: "user", content: item.content)
        case .system: return OpenAIWire.Message(role: "system", content: item.content)
        case .tool: return OpenAIWire.Message(role: "tool", content: item.content, toolCallID: item.toolCallID)
        case .assistant:
            guard !item.content.isEmpty || !item.toolCalls.isEmpty else { return nil }
            let calls = item.toolCalls.map {
                OpenAIWire.ToolCall(id: $0.id, function: .init(name: $0.name, arguments: $0.arguments))
            }
            return OpenAIWire.Message(
                role: "assistant", content: item.content.isEmpty ? nil : item.content,
                toolCalls: calls.isEmpty ? nil : calls)
        }
    }

    // MARK: Reading

    private static func read(_ reader: EventStreamReader, emit: @Sendable (RunUpdate) async throws -> Void)
        async throws
    {
        var stream = OpenAIStream()
        stream.coalescesText = true
        while !stream.isEnded {
            var updates: [RunUpdate]
            do {
                if let event = try await reader.next() {
                    updates = stream.receive(event.data)
                } else {
                    try Task.checkCancellation()
                    updates = stream.streamEnded()
                }
            } catch let error as SSEParser.LineTooLong {
                updates = stream.lineTooLong(error)
            } catch {
                let failure = HTTPTransport.classify(error)
                if Task.isCancelled || failure.kind == .cancelled { throw RuntimeError(.cancelled, "aborted") }
                updates = stream.connectionLost(failure.message)
            }
            if !reader.hasBuffered { updates += stream.flushText() }
            for update in updates { try await emit(update) }
        }
    }

    private static func readWhole(_ response: HTTPClientResponse, emit: @Sendable (RunUpdate) async throws -> Void)
        async throws
    {
        var stream = OpenAIStream()
        let updates: [RunUpdate]
        do {
            let body = try await response.body.collect(upTo: HTTPTransport.maxBody)
            updates = stream.receiveCompletion(String(decoding: body.readableBytesView, as: UTF8.self))
        } catch {
            let failure = HTTPTransport.classify(error)
            if Task.isCancelled || failure.kind == .cancelled { throw RuntimeError(.cancelled, "aborted") }
            updates = stream.connectionLost(failure.message)
        }
        for update in updates { try await emit(update) }
    }
}
