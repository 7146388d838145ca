/// A conversation with one agent, as `GET /external/chat/threads` lists it.
public struct ChatThread: Sendable, Equatable, Codable {
    /// The thread id (`thr_000001`).
    public var id: String
    /// The title given when it was created, or the first line of its first message.
    public var title: String
    /// The agent every message in the thread goes to.
    public var agentId: String
    /// When it was created.
    public var createdAt: RuntimeTimestamp
    /// When any of its messages last changed.
    public var updatedAt: RuntimeTimestamp

    /// A thread with every field given.
    public init(id: String, title: String, agentId: String, createdAt: RuntimeTimestamp, updatedAt: RuntimeTimestamp) {
        self.id = id
        self.title = title
        self.agentId = agentId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
