import ChatModel
import InboxCore
import Logging

/// Builds clients for runtime kinds other than the control plane.
enum RuntimeFactory {
    /// A configuration that cannot work, reported at start.
    struct ConfigurationError: Error, CustomStringConvertible {
        var description: String
    }

    static func make(
        _ runtime: WorkspaceConfig.Runtime, http: HTTPTransport, configuration: DaemonConfiguration, logger: Logger
    ) throws
        -> any ChatRuntime
    {
        // Runtimes without an agent list serve the agents configured for them (an agent naming no
        // runtime belongs to the first one).
        let agents = configuration.agents.filter { ($0.runtime ?? configuration.runtimes[0].name) == runtime.name }
        let listed = agents.map { agent in
            RuntimeAgent(id: agent.id, name: agent.name, scopes: agent.scopes, runtime: runtime.name)
        }
        switch runtime.kind {
        case .agUI:
            for agent in agents {
                if let path = agent.path, path.contains("://"),
                    !(path.hasPrefix("http://") || path.hasPrefix("https://"))
                {
                    throw ConfigurationError(
                        description: "agent '\(agent.id)': path must be a path or an http(s) URL, not '\(path)'")
                }
            }
            return AGUIClient(
                name: runtime.name, http: http, umbracoDialect: runtime.dialect == .umbraco,
                agents: zip(listed, agents).map { ($0, $1.path) }, logger: logger)
        case .openAI:
            return OpenAIClient(
                name: runtime.name, http: http,
                agents: zip(listed, agents).map { listed, agent in
                    OpenAIClient.Agent(
                        agent: listed, model: agent.model ?? agent.id, systemPrompt: agent.systemPrompt)
                },
                logger: logger)
        case .controlPlane:
            throw ConfigurationError(description: "the control plane's client is built by the daemon itself")
        }
    }
}
