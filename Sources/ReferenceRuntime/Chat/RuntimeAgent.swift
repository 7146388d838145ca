/// An agent as `GET /external/agents` lists it.
public struct RuntimeAgent: Sendable, Equatable, Codable {
    /// The agent id used in `agentId` fields (`assistant`).
    public var id: String
    /// A display name (`Assistant`).
    public var name: String
    /// What the agent can be used for; only agents with `chat` accept chat messages.
    public var scopeIds: [String]

    /// An agent with every field given.
    public init(id: String, name: String, scopeIds: [String]) {
        self.id = id
        self.name = name
        self.scopeIds = scopeIds
    }

    /// Whether the agent takes chat messages.
    public var acceptsChat: Bool { scopeIds.contains("chat") }
}
