import AsyncHTTPClient
import ChatModel
import Foundation
import InboxCore
import Logging
import NIOHTTP1
import Synchronization

/// An AG-UI agent endpoint (docs.ag-ui.com): one POST of a `RunAgentInput` per run, answered by an SSE
/// stream of events on the same connection.
///
/// - `send` returns once RUN_STARTED arrives; the run's updates read on from the same response body
///   (AGUIRun turns the events into updates and enforces the protocol's ordering rules).
/// - The conversation lives in the client (AG-UI servers are stateless): every request carries the
///   history the daemon rebuilt from the thread's files.
/// - Interrupts end the run (`RUN_FINISHED` outcome `interrupt`); `answer` sends every answer at once
///   as a new run with `resume` entries and the interrupted run's assistant message and tool calls in
///   the history. The request is deterministic (same run id, same bytes), so sending it again after a
///   crash is a replay, which the protocol requires servers to treat idempotently.
/// - Interrupts sent as a CUSTOM `on_interrupt` event (LangGraph's and Mastra's adapters) are answered
///   the way those adapters read answers: `forwardedProps.command.resume` holds the payload (one
///   interrupt), or an object from interrupt id to payload (several); they get no `resume` entry.
/// - `protocolVersion: "1.0"` is declared on every request; the peer's declaration on RUN_STARTED is
///   journaled, and one newer than 1.x is logged as a warning (the run proceeds, as 1.0 asks).
/// - Abort: AG-UI has no cancel event. Closing the connection is the abort (the worker cancels the task
///   reading the stream, and AsyncHTTPClient closes the connection); pydantic-ai sees a client
///   disconnect and stops the agent run. `abort` itself has nothing to send.
/// - There is no agent list and no thread list: agents come from configuration, and a stream cannot
///   be re-attached after a restart (`follow` is nil).
/// - Shared state (STATE_SNAPSHOT / STATE_DELTA) is kept here, per AG-UI thread, for the life of the
///   process, and sent back as `state` with the thread's next run. It is also journaled (`state`);
///   after a restart the client falls back to `OutgoingMessage.sharedState`, the journal's last one
///   (when the daemon fills it; without it the first run sends no `state`, which AG-UI reads as none).
public struct AGUIClient: ChatRuntime {
    public let name: String
    let http: HTTPTransport
    let dialect: AGUIDialect
    /// The agents configured for this runtime, and each one's endpoint (a path or a URL).
    let configuredAgents: [RuntimeAgent]
    let paths: [String: String]
    /// How long to wait for RUN_STARTED.
    let acknowledgeTimeout: Duration
    /// The longest SSE line (one event) read; a longer one ends the run as errored.
    let maxLineBytes: Int
    let states: SharedStates
    let logger: Logger

    /// - Parameters:
    ///   - agents: the configured agents of this runtime, with their endpoint `path` (relative to the
    ///     runtime URL, or a full URL; nil for the runtime URL itself).
    public init(
        name: String, http: HTTPTransport, umbracoDialect: Bool = false,
        agents: [(agent: RuntimeAgent, path: String?)], maxLineBytes: Int = 8 << 20, logger: Logger
    ) {
        self.name = name
        self.http = http
        self.dialect = umbracoDialect ? .umbraco : .standard
        self.configuredAgents = agents.map(\.agent)
        var paths: [String: String] = [:]
        for (agent, path) in agents { if let path { paths[agent.id] = path } }
        self.paths = paths
        self.acknowledgeTimeout = http.timeout
        self.maxLineBytes = maxLineBytes
        self.states = SharedStates()
        self.logger = logger
    }

    public var capabilities: RuntimeCapabilities {
        RuntimeCapabilities(
            streaming: true, toolCalls: true, approvals: true, abort: true, regenerate: true, threadListing: false,
            serverHistory: false, agentListing: false)
    }

    public func agents() async throws(RuntimeError) -> [RuntimeAgent] { configuredAgents }

    public func send(_ message: OutgoingMessage) async throws(RuntimeError) -> Acceptance {
        try await start(message, run: message.run)
    }

    public func follow(_ reference: RunReference) -> RunUpdates? { nil }

    /// Nothing to send: the protocol has no cancel event. The worker has already cancelled the task
    /// reading the stream, which closes the connection; the server sees the client go away.
    public func abort(_ reference: RunReference) async throws(RuntimeError) {}

    /// A new run from the operator message (history up to and including it) with the new run id; its
    /// reply goes to a new file beside the old one.
    public func regenerate(_ message: OutgoingMessage, previous: RunReference) async throws(RuntimeError)
        -> Acceptance
    {
        try await start(message, run: message.run)
    }

    public func answer(_ answers: [ApprovalAnswer], for reference: RunReference, message: OutgoingMessage)
        async throws(RuntimeError) -> RunUpdates?
    {
        guard !answers.isEmpty else { throw RuntimeError(.rejected, "there are no answers to send") }
        let custom = answers.filter { $0.runtimeID.hasPrefix(AGUIWire.customInterruptPrefix) }
        let standard = answers.filter { !$0.runtimeID.hasPrefix(AGUIWire.customInterruptPrefix) }
        let resume = standard.isEmpty ? nil : try Self.resume(standard, dialect: dialect)
        let threadID = Self.threadID(message)
        let input = Self.runInput(
            message, threadID: threadID, runID: Self.resumeRunID(run: message.run, answers: answers),
            state: state(for: message), resume: resume, includeRunSoFar: true,
            command: Self.commandResume(custom))
        var known: [String: ToolCallUpdate] = [:]
        var order: [String] = []
        for item in message.runSoFar {
            for call in item.toolCalls where known[call.id] == nil {
                known[call.id] = ToolCallUpdate(id: call.id, name: call.name, arguments: call.arguments)
                order.append(call.id)
            }
            if item.role == .tool, let id = item.toolCallID { known[id]?.result = item.content }
        }
        let prior = message.runSoFar.first { $0.role == .assistant }?.content ?? ""
        let run = AGUIRun(
            dialect: dialect, priorText: prior, knownToolCalls: order.compactMap { known[$0] },
            state: state(for: message))
        logger.debug(
            "resuming an interrupted AG-UI run",
            metadata: ["thread.id": "\(message.thread)", "run": "\(message.run)", "answers": "\(answers.count)"])
        return try await open(input, agent: message.agent, run: run).updates
    }

    // MARK: Running

    private func start(_ message: OutgoingMessage, run: String) async throws(RuntimeError) -> Acceptance {
        let threadID = Self.threadID(message)
        let input = Self.runInput(
            message, threadID: threadID, runID: run, state: state(for: message), resume: nil, includeRunSoFar: false)
        let opened = try await open(
            input, agent: message.agent, run: AGUIRun(dialect: dialect, state: input.state))
        let reference = RunReference(run: message.run, runtimeThreadID: threadID, runtimeMessageID: message.message)
        return Acceptance(
            runtimeMessageID: message.message, runtimeThreadID: threadID, updates: opened.updates,
            reference: reference)
    }

    /// POSTs the input and reads up to RUN_STARTED; the updates read the rest of the same body.
    private func open(_ input: AGUIWire.RunAgentInput, agent: String, run: AGUIRun) async throws(RuntimeError)
        -> (updates: RunUpdates, runID: String)
    {
        let body: [UInt8]
        do {
            body = Array(try AGUIWire.encoder.encode(input))
        } catch {
            throw RuntimeError(.rejected, "could not encode the AG-UI request: \(error)")
        }
        let response = try await http.openStream(endpoint(for: agent), body: body, deadline: acknowledgeTimeout)
        try Self.checkContentType(response.headers)
        let maxLineBytes = maxLineBytes
        let started: (reader: EventStreamReader, run: AGUIRun, updates: [RunUpdate])?
        do {
            started = try await withDeadline(acknowledgeTimeout) {
                let reader = EventStreamReader(response, maxLineBytes: maxLineBytes)
                var run = run
                var updates: [RunUpdate] = []
                while run.phase == .awaitingStart {
                    do {
                        guard let event = try await reader.next() else {
                            updates += run.streamEnded()
                            break
                        }
                        updates += run.receive(event.data)
                    } catch let error as SSEParser.LineTooLong {
                        updates += run.lineTooLong(error)
                    }
                }
                return (reader, run, updates)
            }
        } catch {
            throw HTTPTransport.classify(error)
        }
        guard let started else {
            throw RuntimeError(
                .transient(retryAfter: nil),
                "the runtime accepted the request but sent no RUN_STARTED within \(acknowledgeTimeout)")
        }
        if case let .finished(.errored(reason))? = started.updates.last {
            // Refused before the run started: a delivery failure, not a run.
            if started.run.lastEventType == "RUN_ERROR" { throw RuntimeError(.rejected, reason) }
            if started.run.eventCount == 0 { throw RuntimeError(.transient(retryAfter: nil), reason) }
            throw RuntimeError(.protocolViolation, reason)
        }
        let threadKey = input.threadId
        if let version = started.run.peerProtocolVersion, !Self.speaks(version) {
            logger.warning(
                "the AG-UI runtime declares a protocol version newer than the 1.0 Letterbox speaks; reading it as 1.0",
                metadata: ["runtime": "\(name)", "protocolVersion": "\(version)"])
        }
        logger.debug(
            "AG-UI run started", metadata: ["run": "\(input.runId)", "thread.runtime": "\(threadKey)"])
        let reader = started.reader
        let machine = started.run
        let initial = started.updates
        let updates = RunUpdates { emit in
            try await Self.read(
                reader: reader, run: machine, initial: initial, states: states, thread: threadKey, emit: emit)
        }
        return (updates, input.runId)
    }

    /// Reads the rest of a run's stream into updates, until the run ends or the task is cancelled.
    private static func read(
        reader: EventStreamReader, run: AGUIRun, initial: [RunUpdate], states: SharedStates, thread: String,
        emit: @Sendable (RunUpdate) async throws -> Void
    ) async throws {
        var run = run
        run.coalescesText = true
        for update in initial { try await emit(update) }
        while !run.isEnded {
            var updates: [RunUpdate]
            do {
                if let event = try await reader.next() {
                    updates = run.receive(event.data)
                } else {
                    try Task.checkCancellation()
                    updates = run.streamEnded()
                }
            } catch let error as SSEParser.LineTooLong {
                updates = run.lineTooLong(error)
            } catch {
                let failure = HTTPTransport.classify(error)
                if Task.isCancelled || failure.kind == .cancelled { throw RuntimeError(.cancelled, "aborted") }
                updates = run.connectionLost(failure.message)
            }
            if updates.contains(where: { if case .state = $0 { true } else { false } }), let state = run.state {
                states[thread] = state
            }
            if let end = run.end, Self.endsNormally(end) {
                // Read to the end of the body first, so the connection closes cleanly (and is reused)
                // rather than being cut while the server writes its last bytes.
                _ = try? await withDeadline(.seconds(1)) {
                    while try await reader.next() != nil {}
                }
            }
            if !reader.hasBuffered { updates += run.flushText() }
            for update in updates { try await emit(update) }
        }
    }

    /// Whether a declared version is one Letterbox reads as its own: 1.x (or older, a downgrade the
    /// spec asks to notice quietly). Anything else (2.0, or not `MAJOR.MINOR`) is newer or unknown.
    static func speaks(_ version: String) -> Bool {
        let parts = version.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), Int(parts[1]) != nil else { return false }
        return major <= 1
    }

    static func endsNormally(_ end: RunEnd) -> Bool {
        switch end {
        case .complete, .interrupted, .aborted: true
        case .errored: false
        }
    }

    /// The thread's shared state: as this process last saw it, else as the journal last recorded it.
    func state(for message: OutgoingMessage) -> JSONValue? {
        states[Self.threadID(message)] ?? message.sharedState.flatMap { try? JSONValue(parsing: $0) }
    }

    // MARK: Requests (pure)

    /// The AG-UI thread id: the one the thread is bound to, else the Letterbox thread's name.
    static func threadID(_ message: OutgoingMessage) -> String {
        message.runtimeThreadID ?? message.thread
    }

    /// The request body: history rebuilt from the thread's files, then the operator's message, then
    /// (when resuming) what the interrupted run produced.
    static func runInput(
        _ message: OutgoingMessage, threadID: String, runID: String, state: JSONValue?, resume: AGUIWire.Resume?,
        includeRunSoFar: Bool, command: JSONValue? = nil
    ) -> AGUIWire.RunAgentInput {
        var messages = message.history.compactMap(wireMessage)
        messages.append(AGUIWire.Message(id: message.message, role: "user", content: message.content))
        if includeRunSoFar { messages += message.runSoFar.compactMap(wireMessage) }
        var props: [String: JSONValue] = [
            "letterbox": [
                "thread": .string(message.thread), "message": .string(message.message),
                "requestId": .string(message.requestID),
            ]
        ]
        if let command { props["command"] = ["resume": command] }
        return AGUIWire.RunAgentInput(
            threadId: threadID, runId: runID, state: state, messages: messages, tools: [], context: [],
            forwardedProps: .object(props), resume: resume)
    }

    /// One history item as an AG-UI message; nil for an empty assistant message without tool calls.
    static func wireMessage(_ item: HistoryItem) -> AGUIWire.Message? {
        switch item.role {
        case .user: return AGUIWire.Message(id: item.id, role: "user", content: item.content)
        case .system: return AGUIWire.Message(id: item.id, role: "system", content: item.content)
        case .tool:
            return AGUIWire.Message(id: item.id, role: "tool", content: item.content, toolCallId: item.toolCallID)
        case .assistant:
            guard !item.content.isEmpty || !item.toolCalls.isEmpty else { return nil }
            let calls = item.toolCalls.map { call in
                AGUIWire.ToolCall(id: call.id, function: .init(name: call.name, arguments: call.arguments))
            }
            return AGUIWire.Message(
                id: item.id, role: "assistant", content: item.content.isEmpty ? nil : item.content,
                toolCalls: calls.isEmpty ? nil : calls)
        }
    }

    /// The answers as `resume`: all of them in one array of entries (the protocol requires one resume
    /// to address every open interrupt), or Umbraco AI's single object.
    static func resume(_ answers: [ApprovalAnswer], dialect: AGUIDialect) throws(RuntimeError) -> AGUIWire.Resume {
        guard !answers.isEmpty else { throw RuntimeError(.rejected, "there are no answers to send") }
        let sorted = answers.sorted { $0.runtimeID < $1.runtimeID }
        switch dialect {
        case .standard:
            return .entries(
                sorted.map {
                    $0.withdrawn || $0.decision == .cancel
                        ? AGUIWire.ResumeEntry(interruptId: $0.runtimeID, status: "cancelled", payload: nil)
                        : AGUIWire.ResumeEntry(interruptId: $0.runtimeID, status: "resolved", payload: payload($0))
                })
        case .umbraco:
            guard sorted.count == 1 else {
                throw RuntimeError(
                    .rejected,
                    "the Umbraco AI dialect answers one interrupt at a time, but \(sorted.count) answers are waiting")
            }
            return .umbraco(AGUIWire.UmbracoResume(interruptId: sorted[0].runtimeID, payload: payload(sorted[0])))
        }
    }

    /// `{approved, editedArgs?, reason?}`: the payload AG-UI recommends and pydantic-ai reads (a
    /// denial's reason becomes the tool's result, which the model sees; `editedArgs` replaces the
    /// arguments). A respond sends the operator's text: as JSON when it is JSON, else as a string.
    /// A withdrawal, in the Umbraco dialect (which has no status), is `{cancelled: true}`.
    static func payload(_ answer: ApprovalAnswer) -> JSONValue {
        if answer.withdrawn || answer.decision == .cancel { return ["cancelled": true] }
        let note = answer.note.flatMap { $0.isEmpty ? nil : $0 }
        switch answer.decision {
        case .approve, .edit:
            var members: [String: JSONValue] = ["approved": true]
            if answer.decision == .edit, let text = answer.arguments,
                let edited = try? JSONValue(parsing: Array(text.utf8))
            {
                members["editedArgs"] = edited
            }
            if let note { members["reason"] = .string(note) }
            return .object(members)
        case .reject:
            return ["approved": false, "reason": .string(note ?? "rejected by the operator")]
        case .respond:
            let text = note ?? ""
            return (try? JSONValue(parsing: Array(text.utf8))) ?? .string(text)
        case .cancel:
            return ["cancelled": true]
        }
    }

    /// The answers to CUSTOM `on_interrupt` interrupts as `forwardedProps.command.resume`: the one
    /// answer's payload, or an object from interrupt id (without the `custom:` prefix) to payload.
    static func commandResume(_ answers: [ApprovalAnswer]) -> JSONValue? {
        let prefix = AGUIWire.customInterruptPrefix.count
        switch answers.count {
        case 0: return nil
        case 1: return payload(answers[0])
        default:
            var members: [String: JSONValue] = [:]
            for answer in answers { members[String(answer.runtimeID.dropFirst(prefix))] = payload(answer) }
            return .object(members)
        }
    }

    /// The resumed run's id: fixed by the run and the interrupts answered, so a resume sent again after
    /// a crash is the same request.
    static func resumeRunID(run: String, answers: [ApprovalAnswer]) -> String {
        let ids = answers.map(\.runtimeID).sorted().joined(separator: "\n")
        return "\(run).resume-\(SHA256Hex.digest(ids).prefix(12))"
    }

    func endpoint(for agent: String) -> String {
        guard let path = paths[agent], !path.isEmpty else { return "" }
        if path.hasPrefix("http://") || path.hasPrefix("https://") || path.hasPrefix("/") { return path }
        return "/" + path
    }

    /// The answer must be an event stream; a JSON or protobuf answer is said so plainly.
    static func checkContentType(_ headers: HTTPHeaders) throws(RuntimeError) {
        let type = headers.first(name: "Content-Type")?.lowercased() ?? ""
        if type.hasPrefix("application/vnd.ag-ui.event+proto") {
            throw RuntimeError(
                .unsupported, "the runtime answered with AG-UI's protobuf encoding; Letterbox reads the SSE encoding")
        }
        if type.hasPrefix("application/json") {
            throw RuntimeError(
                .rejected, "the runtime answered with JSON instead of an event stream (is the URL an AG-UI endpoint?)")
        }
    }
}

/// The shared state of each AG-UI thread, as the agent last set it (see `AGUIClient`).
final class SharedStates: Sendable {
    private let states = Mutex<[String: JSONValue]>([:])

    subscript(thread: String) -> JSONValue? {
        get { states.withLock { $0[thread] } }
        set { states.withLock { $0[thread] = newValue } }
    }
}
