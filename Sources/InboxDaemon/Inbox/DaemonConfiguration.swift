public import ChatModel
import InboxCore
public import InboxStore

#if canImport(Glibc)
    import Glibc
#endif

/// What the daemon runs with: the workspace's configuration, then environment and flags on top.
public struct DaemonConfiguration: Sendable {
    public var workspace: Workspace
    /// The runtimes, the first being the default.
    public var runtimes: [WorkspaceConfig.Runtime]
    public var agents: [WorkspaceConfig.Agent]
    public var defaultAgent: String?
    public var delivery: WorkspaceConfig.Delivery
    /// The `on_attention` command (program first), its program resolved against the workspace when
    /// it is a relative path with a slash.
    public var onAttention: [String]?
    /// Whether the daemon keeps the site current.
    public var buildSite = true
    /// Seconds between heartbeats in `.letterbox/daemon.json`.
    public var heartbeatSeconds = 5

    /// Flags that override the configuration (`letterbox daemon --runtime-url …`).
    public struct Overrides: Sendable {
        public var runtimeURL: String?
        public var runtimeKind: WorkspaceConfig.Runtime.Kind?
        public var agent: String?
        public var model: String?
        public var settleMilliseconds: Int?
        public var buildSite: Bool?
        public init() {}
    }

    /// The effective configuration: the file, then `LETTERBOX_RUNTIME_URL` / `LETTERBOX_RUNTIME_KIND`,
    /// then flags. With `--runtime-kind ag-ui|openai` and no agents configured, the endpoint is one
    /// chat agent (`--agent`, default `agent`), the default for threads that name no agent unless
    /// the configured `default_agent` is one of the configured agents.
    public init(workspace: Workspace, overrides: Overrides = Overrides(), environment: [String: String]) {
        self.workspace = workspace
        let config = workspace.config
        runtimes = config.runtimes.isEmpty ? [WorkspaceConfig.Runtime()] : config.runtimes
        agents = config.agents
        defaultAgent = config.defaultAgent
        delivery = config.delivery
        onAttention = config.onAttention.map { command in
            guard let program = command.first, program.contains("/"), !program.hasPrefix("/") else { return command }
            return [Workspace.absolute(program, base: workspace.root)] + command.dropFirst()
        }
        if let url = overrides.runtimeURL ?? environment["LETTERBOX_RUNTIME_URL"] { runtimes[0].url = url }
        if let kind = overrides.runtimeKind
            ?? environment["LETTERBOX_RUNTIME_KIND"].flatMap(WorkspaceConfig.Runtime.Kind.init)
        {
            runtimes[0].kind = kind
        }
        if let settle = overrides.settleMilliseconds { delivery.settleMilliseconds = settle }
        if let buildSite = overrides.buildSite { self.buildSite = buildSite }
        if runtimes[0].kind != .controlPlane
            && !agents.contains(where: { ($0.runtime ?? runtimes[0].name) == runtimes[0].name })
        {
            var agent = WorkspaceConfig.Agent()
            agent.id = overrides.agent ?? "agent"
            agent.runtime = runtimes[0].name
            agent.model = overrides.model
            // The endpoint's agent is the default unless the configured default is one of the
            // configured agents (a workspace made for the reference runtime names `assistant`).
            if overrides.agent != nil || !agents.contains(where: { $0.id == defaultAgent }) {
                defaultAgent = agent.id
            }
            agents.append(agent)
        } else if let agent = overrides.agent {
            defaultAgent = agent
        }
    }

    /// A problem with the token's source, reported at start.
    public struct TokenError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The bearer token for `runtime`: from its `token_file` (which must not be readable by group or
    /// others, as ssh requires of keys) or its environment variable. Nil when neither is set.
    public func token(for runtime: WorkspaceConfig.Runtime, environment: [String: String]) throws -> Secret? {
        if let file = runtime.tokenFile {
            let path = Workspace.absolute(file, base: workspace.root)
            var info = stat()
            guard lstat(path, &info) == 0 else {
                throw TokenError(
                    description: "\(path): the token file does not exist (runtime '\(runtime.name)', token_file)")
            }
            guard info.st_mode & 0o077 == 0 else {
                let mode = String(info.st_mode & 0o777, radix: 8)
                throw TokenError(
                    description:
                        "\(path): the token file is readable by group or others (mode \(mode)); run: chmod 600 \(path)")
            }
            let bytes = try FileSystem.readFile(path, maxBytes: 64 * 1024)
            let token = String(decoding: bytes, as: UTF8.self).trimmingWhitespace
            guard !token.isEmpty else { throw TokenError(description: "\(path): the token file is empty") }
            return Secret(token)
        }
        if let token = environment[runtime.tokenEnv]?.trimmingWhitespace, !token.isEmpty { return Secret(token) }
        return nil
    }
}
