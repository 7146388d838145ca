import ChatModel
import Foundation
import HTTPTypes

/// The runtime's data and rules, with no IO.
///
/// Every change takes the time as an argument and leaves what must be announced (threads whose `seq` moved, runs
/// to start or resume) in ``outbox``; ``RuntimeState`` drains it after each call. One run at a time per thread:
/// messages that arrive while a run is going wait their turn in the thread's queue.
struct ChatStore: Sendable {
    /// What a change asks the shell to do.
    struct Outbox: Sendable, Equatable {
        /// Threads whose change counter moved, with its new value.
        var changes: [String: Int] = [:]
        /// Runs to start or resume, in order.
        var jobs: [RunJob] = []
    }

    enum RunPhase: Sendable, Equatable {
        case queued, running, awaitingApproval, finished
    }

    struct Run: Sendable {
        let id: Int
        let threadId: String
        let agent: DemoAgent
        let operatorMessageId: String
        let question: String
        let idempotencyKey: String?
        var phase = RunPhase.queued
        var assistantMessageId: String?
        var toolMessageId: String?
        var approvalId: String?
        /// Every message the run wrote, in order.
        var messageIds: [String] = []

        var ticket: RunJob.Ticket { RunJob.Ticket(runId: id, agent: agent, question: question) }
    }

    private struct ThreadRecord: Sendable {
        var thread: ChatThread
        var seq = 0
        var messageIds: [String] = []
        var activeRun: Int?
        var queue: [Int] = []
    }

    private struct Remembered: Sendable {
        var request: PostMessageRequest
        var response: PostMessageResponse
    }

    let agents: [RuntimeAgent]
    let maxContentBytes: Int
    let pageSize: Int

    private(set) var outbox = Outbox()
    private(set) var effects: [ReferenceEffect] = []
    private var threadOrder: [String] = []
    private var threads: [String: ThreadRecord] = [:]
    private var messages: [String: ChatMessage] = [:]
    private var approvals: [String: ApprovalRecord] = [:]
    private var approvalRuns: [String: Int] = [:]
    private var runs: [Int: Run] = [:]
    private var remembered: [String: Remembered] = [:]
    private var lastThread = 0
    private var lastMessage = 0
    private var lastApproval = 0
    private var lastToolCall = 0
    private var lastRun = 0

    init(agents: [RuntimeAgent] = DemoAgent.catalogue, maxContentBytes: Int, pageSize: Int) {
        self.agents = agents
        self.maxContentBytes = maxContentBytes
        self.pageSize = pageSize
    }

    /// Hands over what must be announced, leaving the outbox empty.
    mutating func takeOutbox() -> Outbox {
        defer { outbox = Outbox() }
        return outbox
    }

    // MARK: Reading

    /// A page of threads in creation order, starting after the thread named by `cursor`.
    func threadPage(after cursor: String?) throws -> ThreadPage {
        var start = 0
        if let cursor {
            guard let index = threadOrder.firstIndex(of: cursor) else {
                throw APIError.badRequest("invalid_cursor", "cursor '\(cursor)' is not one this runtime gave out")
            }
            start = index + 1
        }
        let end = min(start + pageSize, threadOrder.count)
        let ids = threadOrder[start..<end]
        let page = ids.compactMap { threads[$0]?.thread }
        return ThreadPage(threads: page, nextCursor: end < threadOrder.count ? ids.last : nil)
    }

    /// The thread's messages created or updated after change `seq`, in change order.
    func messages(in threadId: String, after seq: Int) throws -> [ChatMessage] {
        guard let record = threads[threadId] else { throw APIError.threadNotFound(threadId) }
        return record.messageIds.compactMap { messages[$0] }.filter { $0.seq > seq }.sorted { $0.seq < $1.seq }
    }

    /// The thread's current change counter, or `nil` for an unknown thread.
    func seq(of threadId: String) -> Int? { threads[threadId]?.seq }

    /// One message by id.
    func message(_ id: String) -> ChatMessage? { messages[id] }

    /// One run by id.
    func run(_ id: Int) -> Run? { runs[id] }

    // MARK: Posting

    /// Stores an operator message and queues its run, or replays the answer remembered for the same key and body.
    mutating func post(
        _ request: PostMessageRequest, idempotencyKey key: String, now: RuntimeTimestamp
    ) throws -> (response: PostMessageResponse, replayed: Bool) {
        if let earlier = remembered[key] {
            guard earlier.request == request else {
                throw APIError(
                    .conflict, "idempotency_key_reused",
                    "Idempotency-Key '\(key)' was already used with a different body; use a new key for a new message"
                )
            }
            return (earlier.response, true)
        }
        let size = request.content.utf8.count
        if size > maxContentBytes {
            throw APIError(
                .contentTooLarge, "content_too_large",
                "content is \(size) bytes; the limit is \(maxContentBytes) bytes")
        }
        if request.content.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw APIError.badRequest("invalid_request", "content must not be empty")
        }
        if let threadId = request.threadId, threads[threadId] == nil { throw APIError.threadNotFound(threadId) }
        let agent = try chatAgent(request.agentId)
        let threadId: String
        if let existing = request.threadId, let entry = threads[existing] {
            guard entry.thread.agentId == agent.rawValue else {
                throw APIError(
                    .unprocessableContent, "agent_mismatch",
                    "thread '\(existing)' talks to agent '\(entry.thread.agentId)', not '\(agent.rawValue)'")
            }
            threadId = existing
        } else {
            threadId = createThread(title: request.title, content: request.content, agent: agent, now: now)
        }
        var message = appendMessage(
            to: threadId, role: .operator, content: request.content, status: .accepted, now: now)
        if let client = request.clientMessageId {
            message.clientMessageId = client
            messages[message.id] = message
        }
        record(
            .messageAccepted, key: key, thread: threadId, message: message.id, agent: agent, content: request.content)
        let run = newRun(thread: threadId, agent: agent, answering: message, key: key)
        enqueue(run)
        let response = PostMessageResponse(threadId: threadId, message: message)
        remembered[key] = Remembered(request: request, response: response)
        return (response, false)
    }

    private func chatAgent(_ id: String) throws -> DemoAgent {
        let chat = agents.filter(\.acceptsChat).map(\.id)
        let list = chat.joined(separator: ", ")
        guard let descriptor = agents.first(where: { $0.id == id }) else {
            throw APIError(.unprocessableContent, "unknown_agent", "there is no agent '\(id)'; chat agents: \(list)")
        }
        guard descriptor.acceptsChat, let agent = DemoAgent(rawValue: id) else {
            throw APIError(
                .unprocessableContent, "agent_not_chat",
                "agent '\(id)' does not take chat messages (scopes: \(descriptor.scopeIds.joined(separator: ", "))); "
                    + "chat agents: \(list)")
        }
        return agent
    }

    // MARK: Controls

    /// Ends a run of the thread: the one answering `messageId` (running or still queued) when it is given,
    /// else the running one. Its in-progress messages become `aborted`, keeping what they say; a run that
    /// had written no reply yet gets an empty `aborted` one, so whoever follows the operator message sees
    /// its answer end. Returns the ids of the messages that became (or were written) `aborted`.
    mutating func abort(threadId: String, messageId: String? = nil, now: RuntimeTimestamp) throws -> [String] {
        guard let entry = threads[threadId] else { throw APIError.threadNotFound(threadId) }
        let runId: Int?
        if let messageId {
            guard let message = messages[messageId], message.threadId == threadId, message.role == .operator else {
                throw APIError.messageNotFound(messageId)
            }
            runId = ([entry.activeRun].compactMap { $0 } + entry.queue).first {
                runs[$0]?.operatorMessageId == message.id
            }
        } else {
            runId = entry.activeRun
        }
        guard let runId, var run = runs[runId], run.phase != .finished else { return [] }
        var aborted: [String] = []
        for id in run.messageIds where messages[id]?.status == .inProgress {
            update(id, now: now) { $0.status = .aborted }
            aborted.append(id)
        }
        if run.assistantMessageId == nil {
            let reply = appendMessage(
                to: threadId, role: .assistant, content: "", status: .aborted, replyTo: run.operatorMessageId, now: now)
            run.assistantMessageId = reply.id
            run.messageIds.append(reply.id)
            runs[runId] = run
            aborted.append(reply.id)
        }
        let kept = run.assistantMessageId.flatMap { messages[$0]?.content }
        record(.runAborted, key: nil, thread: threadId, message: run.operatorMessageId, agent: run.agent, content: kept)
        finish(runId)
        return aborted
    }

    /// Starts a new answer to an operator message, keeping the old one; returns the new assistant message.
    mutating func regenerate(messageId: String, now: RuntimeTimestamp) throws -> ChatMessage {
        guard let message = messages[messageId] else { throw APIError.messageNotFound(messageId) }
        guard message.role == .operator else {
            throw APIError(
                .unprocessableContent, "not_an_operator_message",
                "message '\(messageId)' is a\(message.role == .assistant ? "n" : "") \(message.role.rawValue) "
                    + "message; regenerate takes the operator message the answer replies to")
        }
        guard let entry = threads[message.threadId], let agent = DemoAgent(rawValue: entry.thread.agentId) else {
            throw APIError.threadNotFound(message.threadId)
        }
        guard entry.activeRun == nil, entry.queue.isEmpty else {
            throw APIError(
                .conflict, "run_in_progress",
                "a run is in progress in thread '\(message.threadId)'; wait for it to finish or abort it first")
        }
        let assistant = appendMessage(
            to: message.threadId, role: .assistant, content: "", status: .inProgress, replyTo: message.id, now: now)
        var run = newRun(thread: message.threadId, agent: agent, answering: message, key: nil)
        run.assistantMessageId = assistant.id
        run.messageIds = [assistant.id]
        runs[run.id] = run
        record(
            .regenerated, key: nil, thread: message.threadId, message: message.id, agent: agent, content: assistant.id)
        enqueue(run)
        return assistant
    }

    /// Answers an approval. The same answer again is a no-op; a different one is a conflict.
    mutating func answer(
        approvalId: String, decision: ApprovalAnswer.Decision, note: String?, arguments: String?,
        now: RuntimeTimestamp
    ) throws -> ApprovalRecord {
        guard var approval = approvals[approvalId] else { throw APIError.approvalNotFound(approvalId) }
        // Each approval carries its own decisions: a tool call's never include respond, a question's
        // are only respond and cancel.
        let isQuestion = approval.toolCallId == nil
        let offered = messages[approval.messageId]?.approval?.decisions ?? DemoAgent.offeredDecisions.map(\.rawValue)
        guard offered.contains(decision.rawValue) else {
            let what = isQuestion ? "it asks a question; nothing runs" : "it gates a tool call"
            throw APIError(
                .unprocessableContent, "decision_not_offered",
                "'\(decision.rawValue)' is not offered for approval '\(approvalId)' (\(what)); use one of \(offered.joined(separator: ", "))"
            )
        }
        if decision == .respond, (note ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw APIError(.badRequest, "missing_field", "a respond needs 'note': the answer to the question")
        }
        var edited: String?
        if decision == .edit {
            guard let arguments else {
                throw APIError(
                    .badRequest, "missing_field", "an edit needs 'arguments': the tool's new arguments as JSON text")
            }
            if let problem = DemoAgent.problem(with: arguments) {
                throw APIError(.unprocessableContent, "invalid_arguments", problem)
            }
            edited = (try? JSONValue(parsing: arguments))?.jsonText ?? arguments
        }
        let wanted: Approval.Status =
            switch decision {
            case .approve, .edit, .respond: .approved
            case .reject: .rejected
            case .cancel: .cancelled
            }
        guard approval.status == .pending else {
            if approval.status == wanted && approval.decision == decision.rawValue && approval.arguments == edited {
                return approval
            }
            throw APIError(
                .conflict, "approval_already_answered",
                "approval '\(approvalId)' was already \(approval.status.rawValue); it cannot be changed")
        }
        guard let runId = approvalRuns[approvalId], var run = runs[runId], run.phase == .awaitingApproval else {
            throw APIError(
                .conflict, "approval_closed",
                "approval '\(approvalId)' can no longer be answered: the run that asked was aborted")
        }
        approval.status = wanted
        approval.decision = decision.rawValue
        approval.note = note
        approval.arguments = edited
        approval.answeredAt = now
        approvals[approvalId] = approval
        update(approval.messageId, now: now) {
            $0.approval?.status = wanted
            $0.status = .complete
        }
        if let edited, let tool = run.toolMessageId {
            // The tool message shows the arguments the call runs with.
            update(tool, now: now) { $0.toolCall?.arguments = edited }
        }
        record(
            .approvalAnswered, key: nil, thread: approval.threadId, message: approval.messageId, agent: run.agent,
            content: decision.rawValue)
        run.phase = .running
        runs[runId] = run
        let verdict: DemoAgent.Verdict =
            switch decision {
            case .approve: .approved(arguments: DemoAgent.toolArguments, edited: false)
            case .respond: .responded(answer: note ?? "")
            case .edit: .approved(arguments: edited ?? DemoAgent.toolArguments, edited: true)
            case .reject: .rejected(reason: note)
            case .cancel: isQuestion ? .questionCancelled : .cancelled
            }
        outbox.jobs.append(.resume(run.ticket, verdict: verdict, note: note))
        return approval
    }

    // MARK: Run steps (the agent runner's side)

    /// Adds text to the run's assistant reply, creating it on first use. `false`: the run is over; stop.
    mutating func appendReply(run runId: Int, text: String, complete: Bool, now: RuntimeTimestamp) -> Bool {
        guard var run = runs[runId], run.phase == .running else { return false }
        let status: ChatMessage.Status = complete ? .complete : .inProgress
        if let id = run.assistantMessageId {
            update(id, now: now) {
                $0.content += text
                $0.status = status
            }
        } else {
            let message = appendMessage(
                to: run.threadId, role: .assistant, content: text, status: status, replyTo: run.operatorMessageId,
                now: now)
            run.assistantMessageId = message.id
            run.messageIds.append(message.id)
            runs[runId] = run
        }
        return true
    }

    /// Writes a tool message and its approval request, and parks the run until the approval is answered.
    mutating func proposeToolCall(
        run runId: Int, name: String, arguments: String, text: String, prompt: String, now: RuntimeTimestamp
    ) -> Bool {
        guard var run = runs[runId], run.phase == .running else { return false }
        lastToolCall += 1
        lastApproval += 1
        let call = ToolCall(id: "call_\(Self.pad(lastToolCall))", name: name, arguments: arguments)
        let approvalId = "apr_\(Self.pad(lastApproval))"
        let tool = appendMessage(
            to: run.threadId, role: .tool, content: text, status: .inProgress, replyTo: run.operatorMessageId,
            toolCall: call, now: now)
        let request = Approval(
            id: approvalId, toolCallId: call.id, prompt: prompt, status: .pending,
            decisions: DemoAgent.offeredDecisions.map(\.rawValue), argumentsSchema: DemoAgent.toolSchema)
        let asking = appendMessage(
            to: run.threadId, role: .approval, content: prompt, status: .inProgress, replyTo: run.operatorMessageId,
            approval: request, now: now)
        approvals[approvalId] = ApprovalRecord(
            id: approvalId, threadId: run.threadId, messageId: asking.id, toolCallId: call.id, prompt: prompt,
            status: .pending)
        approvalRuns[approvalId] = runId
        run.toolMessageId = tool.id
        run.approvalId = approvalId
        run.messageIds += [tool.id, asking.id]
        run.phase = .awaitingApproval
        runs[runId] = run
        return true
    }

    /// Writes an approval message that asks the operator a question (no tool call; decisions `respond`
    /// and `cancel`), and parks the run until it is answered.
    mutating func askQuestion(run runId: Int, prompt: String, now: RuntimeTimestamp) -> Bool {
        guard var run = runs[runId], run.phase == .running else { return false }
        lastApproval += 1
        let approvalId = "apr_\(Self.pad(lastApproval))"
        let request = Approval(
            id: approvalId, toolCallId: nil, prompt: prompt, status: .pending,
            decisions: DemoAgent.questionDecisions.map(\.rawValue))
        let asking = appendMessage(
            to: run.threadId, role: .approval, content: prompt, status: .inProgress, replyTo: run.operatorMessageId,
            approval: request, now: now)
        approvals[approvalId] = ApprovalRecord(
            id: approvalId, threadId: run.threadId, messageId: asking.id, toolCallId: nil, prompt: prompt,
            status: .pending)
        approvalRuns[approvalId] = runId
        run.approvalId = approvalId
        run.messageIds.append(asking.id)
        run.phase = .awaitingApproval
        runs[runId] = run
        return true
    }

    /// Records the tool's result (`nil`: it was never run, so the tool message ends `aborted`).
    mutating func finishToolCall(run runId: Int, result: String?, now: RuntimeTimestamp) -> Bool {
        guard let run = runs[runId], run.phase == .running else { return false }
        // A run that asked a question has no tool message: nothing to record, carry on.
        guard let id = run.toolMessageId else { return true }
        update(id, now: now) {
            $0.toolCall?.result = result
            $0.status = result == nil ? .aborted : .complete
        }
        return true
    }

    /// Ends a run normally and starts the next queued one in its thread.
    mutating func finish(_ runId: Int) {
        guard var run = runs[runId], run.phase != .finished else { return }
        run.phase = .finished
        runs[runId] = run
        guard var entry = threads[run.threadId] else { return }
        if entry.activeRun == runId { entry.activeRun = nil }
        entry.queue.removeAll { $0 == runId }
        threads[run.threadId] = entry
        startNext(in: run.threadId)
    }

    // MARK: Internals

    private mutating func createThread(
        title: String?, content: String, agent: DemoAgent, now: RuntimeTimestamp
    ) -> String {
        lastThread += 1
        let id = "thr_\(Self.pad(lastThread))"
        let given = title?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let thread = ChatThread(
            id: id, title: given.isEmpty ? DemoAgent.firstLine(of: content) : given, agentId: agent.rawValue,
            createdAt: now, updatedAt: now)
        threads[id] = ThreadRecord(thread: thread)
        threadOrder.append(id)
        return id
    }

    private mutating func appendMessage(
        to threadId: String, role: ChatMessage.Role, content: String, status: ChatMessage.Status,
        replyTo: String? = nil, toolCall: ToolCall? = nil, approval: Approval? = nil, now: RuntimeTimestamp
    ) -> ChatMessage {
        lastMessage += 1
        let seq = bump(threadId, now: now)
        let message = ChatMessage(
            id: "msg_\(Self.pad(lastMessage))", threadId: threadId, seq: seq, role: role, content: content,
            createdAt: now, updatedAt: now, status: status, replyTo: replyTo, toolCall: toolCall, approval: approval)
        messages[message.id] = message
        threads[threadId]?.messageIds.append(message.id)
        return message
    }

    private mutating func update(_ id: String, now: RuntimeTimestamp, _ change: (inout ChatMessage) -> Void) {
        guard var message = messages[id] else { return }
        change(&message)
        message.seq = bump(message.threadId, now: now)
        message.updatedAt = now
        messages[id] = message
    }

    /// Takes the thread's next change number.
    private mutating func bump(_ threadId: String, now: RuntimeTimestamp) -> Int {
        guard var entry = threads[threadId] else { return 0 }
        entry.seq += 1
        entry.thread.updatedAt = now
        threads[threadId] = entry
        outbox.changes[threadId] = entry.seq
        return entry.seq
    }

    private mutating func newRun(thread: String, agent: DemoAgent, answering message: ChatMessage, key: String?) -> Run
    {
        lastRun += 1
        let run = Run(
            id: lastRun, threadId: thread, agent: agent, operatorMessageId: message.id, question: message.content,
            idempotencyKey: key)
        runs[run.id] = run
        return run
    }

    private mutating func enqueue(_ run: Run) {
        runs[run.id] = runs[run.id] ?? run
        threads[run.threadId]?.queue.append(run.id)
        startNext(in: run.threadId)
    }

    private mutating func startNext(in threadId: String) {
        guard var entry = threads[threadId], entry.activeRun == nil, !entry.queue.isEmpty else { return }
        let runId = entry.queue.removeFirst()
        entry.activeRun = runId
        threads[threadId] = entry
        guard var run = runs[runId] else { return }
        run.phase = .running
        runs[runId] = run
        record(
            .runStarted, key: run.idempotencyKey, thread: threadId, message: run.operatorMessageId, agent: run.agent,
            content: nil)
        outbox.jobs.append(.start(run.ticket))
    }

    /// Records an effect of a request this store does not hold (an AG-UI run: AG-UI servers keep no
    /// conversation).
    mutating func recordExternal(
        _ kind: ReferenceEffect.Kind, key: String?, thread: String, message: String?, agent: DemoAgent,
        content: String?
    ) {
        record(kind, key: key, thread: thread, message: message, agent: agent, content: content)
    }

    private mutating func record(
        _ kind: ReferenceEffect.Kind, key: String?, thread: String, message: String?, agent: DemoAgent,
        content: String?
    ) {
        effects.append(
            ReferenceEffect(
                seq: effects.count + 1, kind: kind, idempotencyKey: key, threadId: thread, messageId: message,
                agentId: agent.rawValue, content: content))
    }

    private static func pad(_ number: Int) -> String {
        let digits = String(number)
        return digits.count >= 6 ? digits : String(repeating: "0", count: 6 - digits.count) + digits
    }
}
