/// A thread as the runtime lists it.
public struct RemoteThread: Sendable, Hashable {
    public var id: String
    public var title: String?
    public var agent: String?
    /// When it last changed, as the runtime spells it (compared for equality only).
    public var updatedAt: String?

    public init(id: String, title: String?, agent: String?, updatedAt: String?) {
        self.id = id
        self.title = title
        self.agent = agent
        self.updatedAt = updatedAt
    }
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

    public init(
        id: String, seq: Int, role: String, content: String, status: String, replyTo: String?,
        clientMessageID: String? = nil
    ) {
        self.id = id
        self.seq = seq
        self.role = role
        self.content = content
        self.status = status
        self.replyTo = replyTo
        self.clientMessageID = clientMessageID
    }
}
