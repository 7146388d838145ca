import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import ReferenceRuntime
import Testing

@testable import InboxDaemon

/// Approval decisions end to end (docs/format.md §6.4): by file and by the CLI's path, against the
/// reference runtime's control plane and AG-UI endpoint and against pydantic-ai's AG-UI adapter.
@Suite("Approval decisions against real runtimes: edit, reject with a reason, cancel, CLI checks", .processSlot)
struct DecisionDaemonTests {
    /// Replaces the ```json args block of an approval file and ticks Edit.
    static func edit(_ scratch: Scratch, _ file: String, arguments: String) throws {
        var text = try #require(scratch.read(file))
        let start = try #require(text.range(of: "```json args\n"))
        let end = try #require(text.range(of: "\n```", range: start.upperBound..<text.endIndex))
        text.replaceSubrange(start.upperBound..<end.lowerBound, with: arguments)
        try scratch.write(file, text.replacingOccurrences(of: "- [ ] Edit", with: "- [x] Edit"))
    }

    static func status(_ text: String?) -> String? {
        text?.split(separator: "\n").first { $0.hasPrefix("status:") }.map {
            $0.dropFirst("status:".count).trimmingCharacters(in: .whitespaces)
        }
    }

    @Test("Control plane, by file: edited arguments reach the tool; the file's status becomes edited")
    func editByFile() async throws {
        let scratch = try Scratch()
        try scratch.thread("runbook", agent: "operator")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("runbook/restart.md", "Restart the backup service.")
            await scratch.waitUntil("the approval request") { scratch.exists("runbook/restart.reply.approval-1.md") }
            let request = try #require(scratch.read("runbook/restart.reply.approval-1.md"))
            #expect(request.contains("- [ ] Edit") && !request.contains("Respond"), "the runtime's decisions")
            // Unchanged arguments are not an edit: journaled, nothing sent.
            try Self.edit(
                scratch, "runbook/restart.reply.approval-1.md", arguments: #"{"service":"backup","host":"db-1"}"#)
            await scratch.waitUntil("not ready") {
                try scratch.state("runbook").approval("restart.reply.approval-1")?.invalidAnswers.last?.contains(
                    "unchanged") == true
            }
            try Self.edit(
                scratch, "runbook/restart.reply.approval-1.md", arguments: #"{"host":"db-2","service":"backup"}"#)
            await scratch.waitUntil("the run completes") {
                try scratch.state("runbook").message("restart")?.delivery == .replied
            }
            let tool = try #require(scratch.read("runbook/restart.reply.tool-1.md"))
            #expect(tool.contains("backup restarted on db-2"), "the tool ran with the edited arguments")
            #expect(tool.contains(#""host":"db-2""#), "the tool record shows the arguments it ran with")
            #expect(scratch.read("runbook/restart.reply.md")?.contains("restarted `backup` on `db-2`") == true)
            #expect(Self.status(scratch.read("runbook/restart.reply.approval-1.md")) == "edited")
            #expect(await runtime.effects(.approvalAnswered).map(\.content) == ["edit"])
            let answer = try #require(try scratch.state("runbook").approval("restart.reply.approval-1")?.answer)
            #expect(answer.decision == .edit && answer.arguments == #"{"host":"db-2","service":"backup"}"#)
        }
    }

    @Test("Control plane, by the CLI's path: reject with a reason reaches the answer; nothing pending is refused")
    func rejectByCommand() async throws {
        let scratch = try Scratch()
        try scratch.thread("runbook", agent: "operator")
        try await DaemonHarness.run(scratch) { runtime in
            #expect(throws: ControlPlan.Refusal.self) {
                try Outbox.decide(
                    ControlRequest(action: .approve), thread: "runbook", stamp: "t0", in: scratch.workspace)
            }
            try scratch.write("runbook/drop.md", "Restart it.")
            await scratch.waitUntil("the approval request") { try scratch.state("runbook").pendingApprovals.count == 1 }
            // Respond is not offered for a tool call: refused before any file is written.
            #expect(throws: FormatError.self) {
                try Outbox.decide(
                    ControlRequest(action: .respond, note: "done"), thread: "runbook", stamp: "t1",
                    in: scratch.workspace)
            }
            let decided = try Outbox.decide(
                ControlRequest(action: .reject, note: "db-1 is the primary"), thread: "runbook", stamp: "t2",
                in: scratch.workspace)
            #expect(decided.approval == "drop.reply.approval-1")
            await scratch.waitUntil("the run completes") {
                try scratch.state("runbook").message("drop")?.delivery == .replied
            }
            #expect(await runtime.effects(.approvalAnswered).map(\.content) == ["reject"])
            #expect(scratch.read("runbook/drop.reply.md")?.contains("Your reason: db-1 is the primary") == true)
            let record = try #require(scratch.read("runbook/drop.reply.tool-1.md"))
            #expect(record.contains("status: not-run") && record.contains("Not run: the operator rejected it"))
            #expect(!record.contains("Waiting for the result"))
            #expect(Self.status(scratch.read("runbook/drop.reply.approval-1.md")) == "rejected")
            #expect(throws: ControlPlan.Refusal.self) {
                try Outbox.decide(
                    ControlRequest(action: .cancel), thread: "runbook", stamp: "t3", in: scratch.workspace)
            }
        }
    }

    @Test("Reference AG-UI: an edit goes out as editedArgs and the resumed run's tool result uses it")
    func referenceAGUIEdit() async throws {
        let scratch = try Scratch(extraConfig: ReferenceAGUITests.config)
        try scratch.thread("runbook", agent: "operator")
        try await DaemonHarness.run(scratch, streamInterval: .milliseconds(10), runtimePath: "/ag-ui") { runtime in
            try scratch.write("runbook/restart.md", "Restart the backup service")
            await scratch.waitUntil("the approval request") { scratch.exists("runbook/restart.reply.approval-1.md") }
            let request = try #require(scratch.read("runbook/restart.reply.approval-1.md"))
            #expect(request.contains("- [ ] Edit"), "responseSchema has editedArgs, so Edit is offered")
            try Self.edit(
                scratch, "runbook/restart.reply.approval-1.md", arguments: #"{"host":"db-7","service":"backup"}"#)
            await scratch.waitUntil("the run completes") {
                try ReferenceAGUITests.run(scratch, "runbook", "restart")?.status == .complete
            }
            #expect(scratch.read("runbook/restart.reply.tool-1.md")?.contains("backup restarted on db-7") == true)
            #expect(scratch.read("runbook/restart.reply.md")?.contains("with the arguments you edited") == true)
            #expect(await runtime.effects(.approvalAnswered).map(\.content) == ["edit"])
        }
    }

    /// Ticks Respond in an approval file and writes `answer` below its Note line.
    static func respond(_ scratch: Scratch, _ file: String, answer: String) throws {
        let text = try #require(scratch.read(file))
        #expect(text.contains("- [ ] Respond"), "a question offers Respond")
        let ticked = text.replacingOccurrences(of: "- [ ] Respond", with: "- [x] Respond")
        try scratch.write(file, ticked + (ticked.hasSuffix("\n") ? "" : "\n") + "\n" + answer + "\n")
    }

    @Test("Control plane, by file: a question offers only Respond and Cancel; the answer reaches the reply")
    func respondByFile() async throws {
        let scratch = try Scratch()
        try scratch.thread("runbook", agent: "operator")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("runbook/which.md", "ask: Which host should I restart?")
            await scratch.waitUntil("the question") { scratch.exists("runbook/which.reply.approval-1.md") }
            let request = try #require(scratch.read("runbook/which.reply.approval-1.md"))
            #expect(request.contains("Which host should I restart?"))
            #expect(request.contains("- [ ] Respond") && request.contains("- [ ] Cancel"))
            #expect(!request.contains("Approve") && !request.contains("- [ ] Reject") && !request.contains("Edit"))
            #expect(!scratch.exists("runbook/which.reply.tool-1.md"), "a question proposes no tool call")
            // Respond with nothing written is not ready: journaled, nothing sent.
            try scratch.write(
                "runbook/which.reply.approval-1.md",
                request.replacingOccurrences(of: "- [ ] Respond", with: "- [x] Respond"))
            await scratch.waitUntil("not ready") {
                try scratch.state("runbook").approval("which.reply.approval-1")?.invalidAnswers.isEmpty == false
            }
            #expect(await runtime.effects(.approvalAnswered).isEmpty)
            try scratch.write("runbook/which.reply.approval-1.md", request)
            try Self.respond(scratch, "runbook/which.reply.approval-1.md", answer: "db-2, the replica")
            await scratch.waitUntil("the run completes") {
                try scratch.state("runbook").message("which")?.delivery == .replied
            }
            #expect(scratch.read("runbook/which.reply.md")?.contains("You answered: db-2, the replica") == true)
            #expect(Self.status(scratch.read("runbook/which.reply.approval-1.md")) == "responded")
            #expect(await runtime.effects(.approvalAnswered).map(\.content) == ["respond"])
            let answer = try #require(try scratch.state("runbook").approval("which.reply.approval-1")?.answer)
            #expect(answer.decision == .respond && answer.note == "db-2, the replica")
        }
    }

    @Test("Control plane, by the CLI's path: respond answers a question; approve and reject are refused for it")
    func respondByCommand() async throws {
        let scratch = try Scratch()
        try scratch.thread("runbook", agent: "operator")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("runbook/when.md", "ask: When may I restart the backup?")
            await scratch.waitUntil("the question") { try scratch.state("runbook").pendingApprovals.count == 1 }
            for action in [ControlRequest.Action.approve, .reject] {
                #expect(throws: FormatError.self) {
                    try Outbox.decide(
                        ControlRequest(action: action, note: "now"), thread: "runbook", stamp: "t0",
                        in: scratch.workspace)
                }
            }
            #expect(throws: FormatError.self, "respond needs the answer") {
                try Outbox.decide(
                    ControlRequest(action: .respond), thread: "runbook", stamp: "t1", in: scratch.workspace)
            }
            let decided = try Outbox.decide(
                ControlRequest(action: .respond, note: "after 22:00 UTC"), thread: "runbook", stamp: "t2",
                in: scratch.workspace)
            #expect(decided.approval == "when.reply.approval-1")
            await scratch.waitUntil("the run completes") {
                try scratch.state("runbook").message("when")?.delivery == .replied
            }
            #expect(await runtime.effects(.approvalAnswered).map(\.content) == ["respond"])
            #expect(scratch.read("runbook/when.reply.md")?.contains("You answered: after 22:00 UTC") == true)
            #expect(Self.status(scratch.read("runbook/when.reply.approval-1.md")) == "responded")
            #expect(throws: ControlPlan.Refusal.self) {
                try Outbox.decide(
                    ControlRequest(action: .cancel), thread: "runbook", stamp: "t3", in: scratch.workspace)
            }
        }
    }

    @Test("Reference AG-UI: a question (input interrupt, no tool call) is answered by Respond; the text goes back")
    func referenceAGUIRespond() async throws {
        let scratch = try Scratch(extraConfig: ReferenceAGUITests.config)
        try scratch.thread("runbook", agent: "operator")
        try await DaemonHarness.run(scratch, streamInterval: .milliseconds(10), runtimePath: "/ag-ui") { runtime in
            try scratch.write("runbook/which.md", "ask: Which host should I restart?")
            await scratch.waitUntil("the question") { scratch.exists("runbook/which.reply.approval-1.md") }
            let request = try #require(scratch.read("runbook/which.reply.approval-1.md"))
            #expect(request.contains("Which host should I restart?"))
            #expect(request.contains("- [ ] Respond") && request.contains("- [ ] Cancel"))
            #expect(!request.contains("Approve") && !request.contains("Edit"), "no approved in the responseSchema")
            try Self.respond(scratch, "runbook/which.reply.approval-1.md", answer: "db-2")
            await scratch.waitUntil("the run completes") {
                try ReferenceAGUITests.run(scratch, "runbook", "which")?.status == .complete
            }
            #expect(scratch.read("runbook/which.reply.md")?.contains("You answered: db-2") == true)
            #expect(Self.status(scratch.read("runbook/which.reply.approval-1.md")) == "responded")
            #expect(await runtime.effects(.approvalAnswered).map(\.content) == ["respond"])
        }
    }

    @Test("pydantic-ai: an edit's editedArgs replace the call's arguments; the tool deletes the edited path")
    func pydanticEdit() async throws {
        try await AGUIPeerTests.withPydantic { scratch, peer in
            try scratch.write("t/del.md", "Please delete report.md")
            await scratch.waitUntil("the approval request") { scratch.exists("t/del.reply.approval-1.md") }
            let request = try #require(scratch.read("t/del.reply.approval-1.md"))
            #expect(request.contains("- [ ] Edit") && !request.contains("Respond"))
            try Self.edit(scratch, "t/del.reply.approval-1.md", arguments: #"{"path": "draft.md"}"#)
            await scratch.waitUntil("replied") { try AGUIPeerTests.replied(scratch, "t", "del") }
            #expect(AGUIPeerTests.body(scratch, "t/del.reply.md").text == "Done: deleted draft.md.")
            #expect(scratch.read("t/del.reply.tool-1.md")?.contains("deleted draft.md") == true)
            #expect(peer.log("request").last?["resume"] == true)
            #expect(Self.status(scratch.read("t/del.reply.approval-1.md")) == "edited")
        }
    }

    @Test("pydantic-ai: cancel withdraws the interrupt; the tool does not run and the model is told")
    func pydanticCancel() async throws {
        try await AGUIPeerTests.withPydantic { scratch, _ in
            try scratch.write("t/del.md", "Please delete report.md")
            await scratch.waitUntil("the approval request") { scratch.exists("t/del.reply.approval-1.md") }
            try AGUIPeerTests.tick(scratch, "t/del.reply.approval-1.md", "Cancel")
            await scratch.waitUntil("replied") { try AGUIPeerTests.replied(scratch, "t", "del") }
            #expect(AGUIPeerTests.body(scratch, "t/del.reply.md").text.hasPrefix("I did not delete report.md"))
            #expect(Self.status(scratch.read("t/del.reply.approval-1.md")) == "cancelled")
        }
    }

    @Test("on_attention runs without a shell, with thread, file and reason, for an approval and for a failed message")
    func attentionCommand() async throws {
        let scratch = try Scratch(extraConfig: "on_attention: [./notify.sh, --from-letterbox]")
        let log = scratch.root + "/attention.log"
        let script = "#!/bin/sh\nprintf '%s|%s|%s|%s\\n' \"$1\" \"$2\" \"$3\" \"$4\" >> '\(log)'\n"
        try Data(script.utf8).write(to: URL(fileURLWithPath: scratch.root + "/notify.sh"))
        chmod(scratch.root + "/notify.sh", 0o755)
        try scratch.thread("runbook", agent: "operator")
        try scratch.thread("lost", agent: "nobody")
        try await DaemonHarness.run(scratch) { _ in
            try scratch.write("runbook/restart.md", "Restart the backup service.")
            try scratch.write("lost/hi.md", "Anyone there? $(touch pwned) `id`")
            await scratch.waitUntil("two notices") {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count >= 2
            }
            let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").sorted()
            let approval = try #require(lines.first { $0.contains("|runbook|") })
            #expect(
                approval
                    == "--from-letterbox|runbook|\(scratch.inbox)/runbook/restart.reply.approval-1.md|approval needed for restart_service"
            )
            let failed = try #require(lines.first { $0.contains("|lost|") })
            #expect(failed.hasPrefix("--from-letterbox|lost|\(scratch.inbox)/lost/hi.md|"))
            #expect(failed.contains("nobody"), "the reason names the unknown agent: \(failed)")
            #expect(!FileManager.default.fileExists(atPath: scratch.root + "/pwned"))
            // The same two in `status --json`'s attention section, oldest first.
            let report = StatusReport(try InboxReader.read(scratch.workspace), workspace: try scratch.workspace)
            #expect(Set(report.attention.map(\.kind)) == ["approval", "failed"])
            #expect(report.attention.first { $0.kind == "approval" }?.file == "restart.reply.approval-1.md")
            #expect(report.attention.first { $0.kind == "failed" }?.thread == "lost")
            let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
            #expect(json.contains(#""attention":["#))
        }
    }
}
