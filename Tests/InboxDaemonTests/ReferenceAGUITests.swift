import ChatModel
import Foundation
import LetterboxTestSupport
import ReferenceRuntime
import Testing

/// The daemon against the reference runtime's AG-UI endpoint: the demo agents that `make demo` shows,
/// end to end through real files, inotify and HTTP.
@Suite("The reference runtime over AG-UI: streaming, a tool call, an approval by tick", .processSlot)
struct ReferenceAGUITests {
    static let config = """
        runtimes:
          - name: reference-ag-ui
            kind: ag-ui
            url: http://127.0.0.1:9/ag-ui
        agents:
          - id: assistant
            path: assistant
          - id: writer
            path: writer
          - id: operator
            path: operator
        """

    static func run(_ scratch: Scratch, _ thread: String, _ message: String) throws -> RunState? {
        try scratch.state(thread).runs.values.filter { $0.message == message }.max { $0.startedAt < $1.startedAt }
    }

    static func tick(_ scratch: Scratch, _ file: String, _ box: String) throws {
        let text = try #require(scratch.read(file))
        try scratch.write(file, text.replacingOccurrences(of: "- [ ] \(box)", with: "- [x] \(box)"))
    }

    @Test(
        "Each demo agent: the assistant answers, the writer's reply is seen streaming, the operator's tool call waits for a ticked Approve"
    )
    func demoAgents() async throws {
        let scratch = try Scratch(extraConfig: Self.config)
        for (thread, agent) in [("hello", "assistant"), ("notes", "writer"), ("runbook", "operator")] {
            try scratch.thread(thread, agent: agent)
        }
        try await DaemonHarness.run(scratch, streamInterval: .milliseconds(25), runtimePath: "/ag-ui") { runtime in
            try scratch.write("hello/q.md", "Is the nightly backup healthy?")
            try scratch.write("notes/q.md", "Release notes")
            try scratch.write("runbook/restart.md", "Restart the backup service")

            var sawStreaming = false
            await scratch.waitUntil("the writer finished") {
                if scratch.read("notes/q.reply.md")?.contains("status: streaming") == true { sawStreaming = true }
                return try Self.run(scratch, "notes", "q")?.status == .complete
            }
            #expect(sawStreaming, "the reply file grows while the answer streams")
            #expect(scratch.read("notes/q.reply.md")?.contains("| step | what | why |") == true)
            #expect(try Self.run(scratch, "hello", "q")?.status == .complete)
            #expect(scratch.read("hello/q.reply.md")?.contains("> Is the nightly backup healthy?") == true)

            await scratch.waitUntil("the approval request") { scratch.exists("runbook/restart.reply.approval-1.md") }
            let request = try #require(scratch.read("runbook/restart.reply.approval-1.md"))
            #expect(request.contains("Restart backup on db-1?") && request.contains("restart_service"))
            #expect(try Self.run(scratch, "runbook", "restart")?.status == .awaitingApproval)
            #expect(try Self.run(scratch, "runbook", "restart")?.sharedState?.contains("pendingApproval") == true)
            try Self.tick(scratch, "runbook/restart.reply.approval-1.md", "Approve")
            await scratch.waitUntil("the operator finished") {
                try Self.run(scratch, "runbook", "restart")?.status == .complete
            }
            let reply = try #require(scratch.read("runbook/restart.reply.md"))
            #expect(reply.contains("Calling `restart_service`") && reply.contains("Done: I restarted `backup`"))
            #expect(scratch.read("runbook/restart.reply.tool-1.md")?.contains("backup restarted on db-1") == true)

            let effects = await runtime.control.effects()
            #expect(effects.filter { $0.kind == .messageAccepted }.count == 3, "each message reached the runtime once")
            #expect(effects.filter { $0.kind == .approvalAnswered }.map(\.content) == ["approve"])
        }
    }

    @Test("Aborting the operator while it waits withdraws the request; the thread goes on")
    func abortWhileWaiting() async throws {
        let scratch = try Scratch(extraConfig: Self.config)
        try scratch.thread("runbook", agent: "operator")
        try await DaemonHarness.run(scratch, runtimePath: "/ag-ui") { runtime in
            try scratch.write("runbook/restart.md", "Restart the backup service")
            await scratch.waitUntil("waiting for approval") {
                try Self.run(scratch, "runbook", "restart")?.status == .awaitingApproval
            }
            try scratch.write("runbook/controls/abort.md", "")
            await scratch.waitUntil("aborted, and the runtime saw the withdrawal") {
                let withdrawn = await runtime.control.effects().contains { $0.kind == .approvalAnswered }
                return try withdrawn && Self.run(scratch, "runbook", "restart")?.status == .aborted
            }
            #expect(
                await runtime.control.effects().filter { $0.kind == .approvalAnswered }.map(\.content) == ["cancel"])
            try scratch.write("runbook/again.md", "Restart it after all")
            await scratch.waitUntil("asked again") {
                try Self.run(scratch, "runbook", "again")?.status == .awaitingApproval
            }
        }
    }
}
