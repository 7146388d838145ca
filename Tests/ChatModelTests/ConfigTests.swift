import Testing

@testable import ChatModel

@Suite("letterbox.yaml (docs/format.md §9)")
struct ConfigTests {
    @Test("§9: an empty file is the default configuration")
    func empty() throws {
        #expect(try WorkspaceConfig.parse("") == WorkspaceConfig())
    }

    @Test("§9: the file `letterbox init` writes parses")
    func initial() throws {
        let config = try WorkspaceConfig.parse(WorkspaceConfig.initialText)
        #expect(config.runtimes.map(\.kind) == [.controlPlane, .agUI])
        #expect(config.runtimes.last?.url == "http://127.0.0.1:8787/ag-ui")
        #expect(config.agents.map(\.id) == ["ag-ui-writer", "ag-ui-operator"])
        #expect(config.agents.allSatisfy { $0.runtime == "reference-ag-ui" && $0.scopes == ["chat"] })
        #expect(config.delivery.settleMilliseconds == 150)
        #expect(config.defaultAgent == "assistant")
    }

    @Test("§9: runtimes and agents")
    func runtimesAndAgents() throws {
        let config = try WorkspaceConfig.parse(
            """
            runtimes:
              - name: local
                kind: openai
                url: http://127.0.0.1:11434
              - name: agents
                kind: ag-ui
                url: http://127.0.0.1:9000/
                dialect: umbraco
            agents:
              - id: llama
                runtime: local
                model: llama3.2
                system_prompt: Be brief.
              - id: helper
                runtime: agents
                scopes: [chat, copilot]
            git:
              commit: true
            """)
        #expect(config.runtimes.map(\.kind) == [.openAI, .agUI])
        #expect(config.runtimes[1].dialect == .umbraco)
        #expect(config.agents.map(\.id) == ["llama", "helper"])
        #expect(config.agents[0].model == "llama3.2")
        #expect(config.agents[1].scopes == ["chat", "copilot"])
        #expect(config.git.commit == true)
    }

    @Test(
        "§9: mistakes name the line",
        arguments: [
            ("delivery:\n  settle: 10\n", 2, "unknown key 'settle'"),
            ("runtime:\n  kind: grpc\n", 2, "unknown runtime kind"),
            ("runtime:\n  url: ftp://x\n", 2, "http://"),
            ("delivery:\n  settle_ms: soon\n", 2, "whole number"),
            ("version: 2\n", 1, "version 2"),
            ("agents:\n  - name: x\n", 2, "needs an id"),
            ("a: &x 1\nb: *x\n", 1, "anchors"),
        ] as [(String, Int, String)])
    func errors(text: String, line: Int, fragment: String) {
        do {
            _ = try WorkspaceConfig.parse(text)
            Issue.record("accepted")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    @Test("git sync and lease keys: defaults, values, and a lease too short for the sync interval")
    func gitSync() throws {
        let defaults = try WorkspaceConfig.parse("version: 1\n")
        #expect(defaults.git.syncSeconds == nil && defaults.git.remote == nil && defaults.git.leaseSeconds == 120)
        let set = try WorkspaceConfig.parse("git:\n  sync_seconds: 5\n  lease_seconds: 20\n  remote: upstream\n")
        #expect(set.git.syncSeconds == 5 && set.git.leaseSeconds == 20 && set.git.remote == "upstream")
        #expect(try WorkspaceConfig.parse("git:\n  sync_seconds: 0\n").git.syncSeconds == 0)
        do {
            _ = try WorkspaceConfig.parse("git:\n  sync_seconds: 10\n  lease_seconds: 15\n")
            Issue.record("accepted a lease shorter than two syncs")
        } catch {
            #expect(error.message.contains("at least twice git.sync_seconds"), "\(error)")
        }
    }
}
