import Logging

/// The shell around ``ChatStore``: owns it, stamps each change with the clock, and after each change wakes long
/// polls and hands new run jobs to the agent runner.
actor RuntimeState {
    private var store: ChatStore
    private let clock: RuntimeClock
    private let board: ChangeBoard
    private let jobs: AsyncStream<RunJob>.Continuation

    init(store: ChatStore, clock: RuntimeClock, board: ChangeBoard, jobs: AsyncStream<RunJob>.Continuation) {
        self.store = store
        self.clock = clock
        self.board = board
        self.jobs = jobs
    }

    private var now: RuntimeTimestamp { RuntimeTimestamp(clock.now()) }

    /// Announces what the last change produced.
    private func flush() {
        let outbox = store.takeOutbox()
        for (thread, seq) in outbox.changes { board.publish(thread: thread, seq: seq) }
        for job in outbox.jobs { jobs.yield(job) }
    }

    // MARK: API

    var agents: [RuntimeAgent] { store.agents }

    func threadPage(after cursor: String?) throws -> ThreadPage { try store.threadPage(after: cursor) }

    func messages(in threadId: String, after seq: Int) throws -> [ChatMessage] {
        try store.messages(in: threadId, after: seq)
    }

    func post(_ request: PostMessageRequest, idempotencyKey: String) throws -> (PostMessageResponse, replayed: Bool) {
        defer { flush() }
        return try store.post(request, idempotencyKey: idempotencyKey, now: now)
    }

    func abort(threadId: String, messageId: String? = nil) throws -> [String] {
        defer { flush() }
        return try store.abort(threadId: threadId, messageId: messageId, now: now)
    }

    func regenerate(messageId: String) throws -> ChatMessage {
        defer { flush() }
        return try store.regenerate(messageId: messageId, now: now)
    }

    func answer(approvalId: String, decision: ApprovalAnswer.Decision, note: String?, arguments: String?) throws
        -> ApprovalRecord
    {
        defer { flush() }
        return try store.answer(approvalId: approvalId, decision: decision, note: note, arguments: arguments, now: now)
    }

    var effects: [ReferenceEffect] { store.effects }

    /// Records what an AG-UI run did (the AG-UI routes keep no conversation in the store).
    func recordAGUI(
        _ kind: ReferenceEffect.Kind, key: String?, thread: String, message: String?, agent: DemoAgent,
        content: String?
    ) {
        store.recordExternal(kind, key: key, thread: thread, message: message, agent: agent, content: content)
    }

    // MARK: Run steps

    func appendReply(run: Int, text: String, complete: Bool) -> Bool {
        defer { flush() }
        return store.appendReply(run: run, text: text, complete: complete, now: now)
    }

    func proposeToolCall(run: Int, name: String, arguments: String, text: String, prompt: String) -> Bool {
        defer { flush() }
        return store.proposeToolCall(run: run, name: name, arguments: arguments, text: text, prompt: prompt, now: now)
    }

    func askQuestion(run: Int, prompt: String) -> Bool {
        defer { flush() }
        return store.askQuestion(run: run, prompt: prompt, now: now)
    }

    func finishToolCall(run: Int, result: String?) -> Bool {
        defer { flush() }
        return store.finishToolCall(run: run, result: result, now: now)
    }

    func finish(run: Int) {
        defer { flush() }
        store.finish(run)
    }
}
