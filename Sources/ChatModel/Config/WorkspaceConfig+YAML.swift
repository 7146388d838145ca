internal import Yams

extension WorkspaceConfig {
    /// Parses the text of `letterbox.yaml`. Errors name the line and what to do.
    public static func parse(_ text: String) throws(FormatError) -> WorkspaceConfig {
        try YAMLGuard.check(text)
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw FormatError(.config, "invalid YAML: \(error); check the syntax")
        }
        guard let node else { return WorkspaceConfig() }
        var reader = ConfigReader()
        return try reader.config(node)
    }

    /// The configuration `letterbox init` writes, with comments.
    public static let initialText = """
        # Letterbox configuration (docs/format.md §9, docs/runtimes.md).
        version: 1
        inbox: inbox
        site: site
        title: Letterbox

        delivery:
          settle_ms: 150          # quiet window before a saved message is read
          max_parallel_threads: 8
          retry:
            base_ms: 500
            max_ms: 60000
            max_age_seconds: 86400   # retried (through outages) for up to a day, then failed

        # Where messages go. The first runtime is the default; an agent names its own with `runtime:`.
        # Tokens come from $LETTERBOX_TOKEN (or `token_env`) or `token_file` (which must not be readable
        # by group or others); they are never written anywhere else. docs/runtimes.md shows how to
        # point Letterbox at Ollama, llama.cpp, vLLM, an AG-UI agent or a control plane.
        runtimes:
          # The reference runtime (`letterbox runtime serve`, which `make demo` starts): demo agents
          # behind the control plane's chat API; it lists its agents (assistant, writer, operator).
          - name: reference
            kind: control-plane     # control-plane | ag-ui | openai
            url: http://127.0.0.1:8787
          # The same demo agents over AG-UI.
          - name: reference-ag-ui
            kind: ag-ui
            url: http://127.0.0.1:8787/ag-ui

        # Agents of runtimes that do not list their own (AG-UI, OpenAI-compatible); only agents with
        # the `chat` scope (the default) can be used.
        agents:
          - id: ag-ui-writer
            name: Writer (AG-UI)
            runtime: reference-ag-ui
            path: writer
          - id: ag-ui-operator
            name: Ops runner (AG-UI)
            runtime: reference-ag-ui
            path: operator

        default_agent: assistant

        """
}

/// Reads a composed YAML tree into the typed configuration, refusing unknown keys with their line.
private struct ConfigReader {
    mutating func config(_ node: Node) throws(FormatError) -> WorkspaceConfig {
        var config = WorkspaceConfig()
        for (key, value) in try mapping(
            node,
            allowed: [
                "version", "inbox", "site", "theme", "title", "delivery", "limits", "runtime", "runtimes", "agents",
                "default_agent", "git", "on_attention",
            ])
        {
            switch key {
            case "version":
                config.version = try int(value, key)
                guard config.version == 1 else {
                    throw FormatError(
                        .config, "version \(config.version) is not supported by this Letterbox (it reads version 1)",
                        line: line(value))
                }
            case "inbox": config.inbox = try string(value, key)
            case "site": config.site = try string(value, key)
            case "theme": config.theme = try string(value, key)
            case "title": config.title = try string(value, key)
            case "default_agent": config.defaultAgent = try string(value, key)
            case "on_attention":
                let command: [String]
                if case .scalar = value {
                    command = [try string(value, key)]
                } else {
                    command = try sequence(value, key).map { item throws(FormatError) in try string(item, key) }
                }
                guard let program = command.first, !program.trimmingWhitespace.isEmpty else {
                    throw FormatError(
                        .config, "on_attention needs a program (a path, or a list: program then arguments)",
                        line: line(value))
                }
                config.onAttention = command
            case "delivery": config.delivery = try delivery(value)
            case "limits":
                for (key, value) in try mapping(value, allowed: ["message_bytes", "front_matter_bytes"]) {
                    switch key {
                    case "message_bytes": config.limits.messageBytes = try int(value, key, min: 1)
                    default: config.limits.frontMatterBytes = try int(value, key, min: 1)
                    }
                }
            case "runtime": config.runtimes.insert(try runtime(value), at: 0)
            case "runtimes":
                for item in try sequence(value, key) { config.runtimes.append(try runtime(item)) }
            case "agents":
                for item in try sequence(value, key) { config.agents.append(try agent(item)) }
            default:
                for (key, value) in try mapping(
                    value,
                    allowed: ["commit", "quiet_seconds", "name", "email", "sync_seconds", "remote", "lease_seconds"])
                {
                    switch key {
                    case "commit": config.git.commit = try bool(value, key)
                    case "name": config.git.name = try string(value, key)
                    case "email": config.git.email = try string(value, key)
                    case "sync_seconds": config.git.syncSeconds = try int(value, key, min: 0)
                    case "remote": config.git.remote = try string(value, key)
                    case "lease_seconds": config.git.leaseSeconds = try int(value, key, min: 2)
                    default: config.git.quietSeconds = try int(value, key, min: 0)
                    }
                }
                if let sync = config.git.syncSeconds, sync > 0, config.git.leaseSeconds < 2 * sync {
                    throw FormatError(
                        .config,
                        "git.lease_seconds (\(config.git.leaseSeconds)) must be at least twice git.sync_seconds (\(sync)), so that a lease is renewed before it expires; raise lease_seconds",
                        line: line(value))
                }
            }
        }
        let names = config.runtimes.map(\.name)
        if Set(names).count != names.count {
            throw FormatError(.config, "two runtimes have the same name; give each a unique name:")
        }
        return config
    }

    func delivery(_ node: Node) throws(FormatError) -> WorkspaceConfig.Delivery {
        var delivery = WorkspaceConfig.Delivery()
        for (key, value) in try mapping(
            node,
            allowed: [
                "settle_ms", "max_parallel_threads", "rescan_seconds", "timeout_seconds", "poll_wait_seconds",
                "sync_seconds", "approval_expiry_seconds", "retry", "breaker",
            ])
        {
            switch key {
            case "settle_ms": delivery.settleMilliseconds = try int(value, key, min: 0)
            case "max_parallel_threads": delivery.maxParallelThreads = try int(value, key, min: 1)
            case "rescan_seconds": delivery.rescanSeconds = try int(value, key, min: 1)
            case "timeout_seconds": delivery.timeoutSeconds = try int(value, key, min: 1)
            case "poll_wait_seconds": delivery.pollWaitSeconds = try int(value, key, min: 0)
            case "sync_seconds": delivery.syncSeconds = try int(value, key, min: 1)
            case "approval_expiry_seconds": delivery.approvalExpirySeconds = try int(value, key, min: 1)
            case "retry":
                for (key, value) in try mapping(
                    value, allowed: ["base_ms", "max_ms", "max_age_seconds", "max_attempts"])
                {
                    switch key {
                    case "base_ms": delivery.retry.baseMilliseconds = try int(value, key, min: 1)
                    case "max_ms": delivery.retry.maxMilliseconds = try int(value, key, min: 1)
                    case "max_age_seconds": delivery.retry.maxAgeSeconds = try int(value, key, min: 1)
                    default: delivery.retry.maxAttempts = try int(value, key, min: 1)
                    }
                }
            default:
                for (key, value) in try mapping(value, allowed: ["failures", "cooldown_ms"]) {
                    switch key {
                    case "failures": delivery.breaker.failures = try int(value, key, min: 1)
                    default: delivery.breaker.cooldownMilliseconds = try int(value, key, min: 1)
                    }
                }
            }
        }
        return delivery
    }

    func runtime(_ node: Node) throws(FormatError) -> WorkspaceConfig.Runtime {
        var runtime = WorkspaceConfig.Runtime()
        for (key, value) in try mapping(
            node, allowed: ["name", "kind", "url", "token_file", "token_env", "timeout_seconds", "dialect"])
        {
            switch key {
            case "name": runtime.name = try string(value, key)
            case "kind":
                let text = try string(value, key)
                guard let kind = WorkspaceConfig.Runtime.Kind(rawValue: text) else {
                    throw FormatError(
                        .config, "unknown runtime kind '\(text)' (use control-plane, ag-ui or openai)",
                        line: line(value))
                }
                runtime.kind = kind
            case "url":
                runtime.url = try string(value, key)
                guard runtime.url.hasPrefix("http://") || runtime.url.hasPrefix("https://") else {
                    throw FormatError(.config, "url must start with http:// or https://", line: line(value))
                }
            case "token_file": runtime.tokenFile = try string(value, key)
            case "token_env": runtime.tokenEnv = try string(value, key)
            case "timeout_seconds": runtime.timeoutSeconds = try int(value, key, min: 1)
            default:
                let text = try string(value, key)
                guard let dialect = WorkspaceConfig.Runtime.Dialect(rawValue: text) else {
                    throw FormatError(.config, "unknown dialect '\(text)' (use standard or umbraco)", line: line(value))
                }
                runtime.dialect = dialect
            }
        }
        return runtime
    }

    func agent(_ node: Node) throws(FormatError) -> WorkspaceConfig.Agent {
        var agent = WorkspaceConfig.Agent()
        for (key, value) in try mapping(
            node, allowed: ["id", "name", "runtime", "scopes", "model", "system_prompt", "path"])
        {
            switch key {
            case "id": agent.id = try string(value, key)
            case "name": agent.name = try string(value, key)
            case "runtime": agent.runtime = try string(value, key)
            case "scopes":
                agent.scopes = try sequence(value, key).map { (item) throws(FormatError) in try string(item, key) }
            case "model": agent.model = try string(value, key)
            case "system_prompt": agent.systemPrompt = try string(value, key)
            default: agent.path = try string(value, key)
            }
        }
        guard !agent.id.isEmpty else { throw FormatError(.config, "every agent needs an id:", line: line(node)) }
        return agent
    }

    // MARK: Typed access

    func mapping(_ node: Node, allowed: [String]) throws(FormatError) -> [(String, Node)] {
        guard case let .mapping(mapping) = node else {
            throw FormatError(.config, "expected key: value lines here", line: line(node))
        }
        var pairs: [(String, Node)] = []
        for (keyNode, value) in mapping {
            guard case let .scalar(scalar) = keyNode, allowed.contains(scalar.string) else {
                throw FormatError(
                    .config,
                    "unknown key '\(keyNode.string ?? "?")' (known keys: \(allowed.joined(separator: ", "))); fix or remove it",
                    line: line(keyNode))
            }
            pairs.append((scalar.string, value))
        }
        return pairs
    }

    func sequence(_ node: Node, _ key: String) throws(FormatError) -> [Node] {
        guard case let .sequence(sequence) = node else {
            throw FormatError(.config, "'\(key)' must be a list", line: line(node))
        }
        return Array(sequence)
    }

    func string(_ node: Node, _ key: String) throws(FormatError) -> String {
        guard case let .scalar(scalar) = node,
            !(scalar.style == .plain && (scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null"))
        else {
            throw FormatError(.config, "'\(key)' must be a single value", line: line(node))
        }
        return scalar.string
    }

    func int(_ node: Node, _ key: String, min: Int = Int.min) throws(FormatError) -> Int {
        let text = try string(node, key)
        guard let value = Int(text), value >= min else {
            throw FormatError(
                .config, "'\(key)' must be a whole number\(min > Int.min ? " of at least \(min)" : ""), not '\(text)'",
                line: line(node))
        }
        return value
    }

    func bool(_ node: Node, _ key: String) throws(FormatError) -> Bool {
        switch try string(node, key).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw FormatError(.config, "'\(key)' must be true or false", line: line(node))
        }
    }

    func line(_ node: Node) -> Int? { node.mark?.line }
}
