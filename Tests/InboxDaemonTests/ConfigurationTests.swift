import ChatModel
import InboxStore
import Testing

@testable import InboxDaemon

/// How the file, the environment and the flags combine (docs/daemon.md, "Configuration").
@Suite("The daemon's configuration: file, then environment, then flags")
struct ConfigurationTests {
    func configuration(
        _ extra: String = "", overrides: DaemonConfiguration.Overrides = .init(), environment: [String: String] = [:]
    ) throws -> DaemonConfiguration {
        let scratch = try Scratch(extraConfig: extra)
        return DaemonConfiguration(workspace: try scratch.workspace, overrides: overrides, environment: environment)
    }

    @Test("With no flags the workspace's control plane and default agent are used")
    func fileOnly() throws {
        let config = try configuration()
        #expect(config.runtimes.map(\.kind) == [.controlPlane])
        #expect(config.defaultAgent == "assistant")
        #expect(config.agents.isEmpty)
    }

    @Test("LETTERBOX_RUNTIME_URL and LETTERBOX_RUNTIME_KIND apply, and flags win over them")
    func environmentThenFlags() throws {
        let fromEnvironment = try configuration(
            environment: ["LETTERBOX_RUNTIME_URL": "http://127.0.0.1:9/v1", "LETTERBOX_RUNTIME_KIND": "openai"])
        #expect(fromEnvironment.runtimes[0].url == "http://127.0.0.1:9/v1")
        #expect(fromEnvironment.runtimes[0].kind == .openAI)
        var flags = DaemonConfiguration.Overrides()
        flags.runtimeURL = "http://127.0.0.1:10/agent"
        flags.runtimeKind = .agUI
        let both = try configuration(
            overrides: flags,
            environment: ["LETTERBOX_RUNTIME_URL": "http://127.0.0.1:9/v1", "LETTERBOX_RUNTIME_KIND": "openai"])
        #expect(both.runtimes[0].url == "http://127.0.0.1:10/agent")
        #expect(both.runtimes[0].kind == .agUI)
    }

    @Test(
        "--runtime-kind ag-ui with no agents configured: one chat agent that threads naming none use, even when the workspace names the reference runtime's default"
    )
    func synthesisedAgent() throws {
        var flags = DaemonConfiguration.Overrides()
        flags.runtimeKind = .agUI
        let unnamed = try configuration(overrides: flags)
        #expect(unnamed.agents.map(\.id) == ["agent"])
        #expect(unnamed.defaultAgent == "agent")

        flags.runtimeKind = .openAI
        flags.agent = "qwen"
        flags.model = "qwen2.5:7b"
        let named = try configuration(overrides: flags)
        #expect(named.agents.map(\.id) == ["qwen"])
        #expect(named.agents.first?.model == "qwen2.5:7b")
        #expect(named.defaultAgent == "qwen")
    }

    @Test("Configured agents on an AG-UI runtime keep the configured default")
    func configuredAgents() throws {
        let config = try configuration(
            """
            runtimes:
              - name: local
                kind: ag-ui
                url: http://127.0.0.1:8000
            agents:
              - id: assistant
                path: /assistant
              - id: planner
                path: /planner
            """)
        #expect(config.agents.map(\.id) == ["assistant", "planner"])
        #expect(config.defaultAgent == "assistant")
    }
}
