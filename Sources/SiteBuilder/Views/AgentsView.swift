/// The agents page.
struct AgentsView: Sendable, Hashable {
    var frame: PageFrame
    var agents: [Agent]

    struct Agent: Sendable, Hashable {
        var id: String
        var name: String
        /// The agent's scopes, comma-separated.
        var scopes: String
        var runtime: String
    }
}
