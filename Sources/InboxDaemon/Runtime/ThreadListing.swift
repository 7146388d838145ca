/// A runtime that lists its threads and messages (the control plane), so messages that reach it from
/// elsewhere, or while the daemon was down, can be pulled into the inbox: the runtime is the source
/// of truth for what was said in it (docs/daemon.md, *Pulling from the runtime*).
public protocol ThreadListing: ChatRuntime {
    /// Every thread, across pages.
    func threads() async throws(RuntimeError) -> [RemoteThread]
    /// Every message of a thread, in change order, as it is now.
    func messages(inThread id: String) async throws(RuntimeError) -> [RemoteMessage]
}

/// A thread as the runtime lists it.
public struct RemoteThread: Sendable, Hashable {
    public var id: String
    public var title: String?
    public var agent: String?
    /// When it last changed, as the runtime spells it (compared for equality only).
    public var updatedAt: String?
}

/// A message as the runtime holds it.
public struct RemoteMessage: Sendable, Hashable {
    public var id: String
    public var seq: Int
    /// `operator`, `assistant`, `tool`, `approval` or `system`.
    public var role: String
    public var content: String
    /// `accepted`, `in_progress`, `complete`, `failed` or `aborted`.
    public var status: String
    public var replyTo: String?
    /// The client id an operator message was posted with, when the runtime echoes it (Letterbox
    /// posts `THREAD/MESSAGE`).
    public var clientMessageID: String?
}
