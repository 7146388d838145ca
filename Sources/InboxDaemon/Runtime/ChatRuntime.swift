import ChatModel
public import InboxCore

extension RunUpdate {
    /// `updates` with the text and reasoning that changed (non-nil) put first, but after a leading
    /// `.replyID`, so the reply's id is known before its text and the text before what follows it.
    static func textFirst(text: String?, reasoning: String?, _ updates: [RunUpdate]) -> [RunUpdate] {
        let changes = [text.map(RunUpdate.text), reasoning.map(RunUpdate.reasoning)].compactMap { $0 }
        if changes.isEmpty { return updates }
        if case .replyID? = updates.first { return [updates[0]] + changes + updates.dropFirst() }
        return changes + updates
    }
}

/// A run's updates, produced in the caller's task: `forEach` reads the runtime (long polls, an SSE
/// stream) and hands each update to `emit` until the run ends. Cancelling the caller's task stops it,
/// which for a streaming runtime closes the connection. No task is left behind.
public struct RunUpdates: Sendable {
    let body: @Sendable (_ emit: @Sendable (RunUpdate) async throws -> Void) async throws -> Void

    public init(_ body: @escaping @Sendable (_ emit: @Sendable (RunUpdate) async throws -> Void) async throws -> Void) {
        self.body = body
    }

    /// Runs until the run ends, the runtime fails (throws a `RuntimeError`) or the task is cancelled.
    public func forEach(_ emit: @escaping @Sendable (RunUpdate) async throws -> Void) async throws {
        try await body(emit)
    }
}

/// A runtime's answer to a message: its ids, and the run's updates as they come.
public struct Acceptance: Sendable {
    public var runtimeMessageID: String
    public var runtimeThreadID: String?
    public var updates: RunUpdates
    /// Runtime ids the reference needs later (abort, regenerate, resume).
    public var reference: RunReference

    public init(runtimeMessageID: String, runtimeThreadID: String?, updates: RunUpdates, reference: RunReference) {
        self.runtimeMessageID = runtimeMessageID
        self.runtimeThreadID = runtimeThreadID
        self.updates = updates
        self.reference = reference
    }
}

/// One runtime protocol: the control plane's API, AG-UI, or OpenAI-compatible chat completions.
public protocol ChatRuntime: Sendable {
    /// The configured name.
    var name: String { get }
    var capabilities: RuntimeCapabilities { get }
    /// The agents it offers (those declared in configuration for runtimes without a list).
    func agents() async throws(RuntimeError) -> [RuntimeAgent]
    /// Delivers a message. Returns once the runtime has acknowledged it; the run follows in `updates`.
    func send(_ message: OutgoingMessage) async throws(RuntimeError) -> Acceptance
    /// Follows a run that was already going (after a restart); nil if the runtime cannot.
    func follow(_ reference: RunReference) -> RunUpdates?
    /// Stops a run.
    func abort(_ reference: RunReference) async throws(RuntimeError)
    /// Produces a new answer to `message`, keeping the old ones.
    func regenerate(_ message: OutgoingMessage, previous: RunReference) async throws(RuntimeError) -> Acceptance
    /// Sends approval answers. Returns the resumed run's updates when the runtime starts a new request
    /// for them (AG-UI), nil when the existing updates continue (control plane).
    func answer(_ answers: [ApprovalAnswer], for reference: RunReference, message: OutgoingMessage)
        async throws(RuntimeError)
        -> RunUpdates?
}
