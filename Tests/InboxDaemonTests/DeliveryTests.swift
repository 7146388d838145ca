import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import ReferenceRuntime
import Testing

@testable import InboxDaemon

@Suite("Delivery against the reference runtime (real inotify, files and HTTP)", .processSlot)
struct DeliveryTests {
    @Test("A dropped message gets a reply file and a site page with its delivery history (plain agent)")
    func plainAgent() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops", agent: "assistant")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("ops/backup.md", "Is the nightly **backup** healthy?\n")
            await scratch.waitUntil("the reply is complete") {
                try scratch.state("ops").message("backup")?.delivery == .replied
            }
            let reply = try #require(scratch.read("ops/backup.reply.md"))
            #expect(reply.contains("status: complete"))
            #expect(reply.contains("> Is the nightly **backup** healthy?"))
            let events = try scratch.journal("ops").map(\.event.name)
            #expect(
                events == [
                    "detected", "accepted", "attempt", "thread_bound", "sent", "reply_started", "reply_completed",
                ])
            #expect(await runtime.effects(.messageAccepted).count == 1)
            await scratch.waitUntil("the site shows the reply") {
                let page = try String(contentsOfFile: scratch.root + "/site/threads/ops.html", encoding: .utf8)
                return page.contains("backup.reply.md") && page.contains("state-replied")
            }
        }
    }

    @Test("§6.2: a streaming reply is visible while it grows, replaced whole (never torn), and ends complete")
    func streamingAgent() async throws {
        let scratch = try Scratch()
        try scratch.thread("notes", agent: "writer")
        try await DaemonHarness.run(scratch, streamInterval: .milliseconds(30)) { _ in
            try scratch.write("notes/release.md", "Draft the release notes.")
            await scratch.waitUntil("the reply file appears") { scratch.exists("notes/release.reply.md") }
            var sizes: [Int] = []
            var sawStreaming = false
            for _ in 0..<40 {
                let text = scratch.read("notes/release.reply.md") ?? ""
                // Every read is a whole file: front matter closed, status present.
                #expect(text.hasPrefix("---\n") && text.contains("\n---\n") && text.contains("status: "))
                if text.contains("status: streaming") { sawStreaming = true }
                sizes.append(text.utf8.count)
                if text.contains("status: complete") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(sawStreaming)
            #expect(Set(sizes).count > 2, "the file grew in several steps: \(sizes)")
            await scratch.waitUntil("complete") { try scratch.state("notes").message("release")?.delivery == .replied }
        }
    }

    @Test("Tool call and approval: ticking Approve in the file resumes the run")
    func approvalByTick() async throws {
        let scratch = try Scratch()
        try scratch.thread("runbook", agent: "operator")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("runbook/restart.md", "Restart the backup service on db-1.")
            await scratch.waitUntil("the approval request") { scratch.exists("runbook/restart.reply.approval-1.md") }
            #expect(try scratch.state("runbook").pendingApprovals.map(\.id) == ["restart.reply.approval-1"])
            #expect(scratch.read("runbook/restart.reply.tool-1.md")?.contains("restart_service") == true)
            // Two ticks is not an answer.
            let request = try #require(scratch.read("runbook/restart.reply.approval-1.md"))
            try scratch.write(
                "runbook/restart.reply.approval-1.md",
                request.replacingOccurrences(of: "- [ ] Approve", with: "- [x] Approve").replacingOccurrences(
                    of: "- [ ] Reject", with: "- [x] Reject"))
            await scratch.waitUntil("the invalid answer is recorded") {
                try scratch.state("runbook").approval("restart.reply.approval-1")?.invalidAnswers.isEmpty == false
            }
            #expect(await runtime.effects(.approvalAnswered).isEmpty)
            try scratch.write(
                "runbook/restart.reply.approval-1.md",
                request.replacingOccurrences(of: "- [ ] Approve", with: "- [x] Approve") + "Off-peak now.\n")
            await scratch.waitUntil("the run completes") {
                try scratch.state("runbook").message("restart")?.delivery == .replied
            }
            let state = try scratch.state("runbook")
            let run = try #require(state.runs.values.first)
            #expect(run.approvals.first?.answer?.decision == .approve)
            #expect(run.approvals.first?.answer?.note == "Off-peak now.")
            #expect(run.toolCalls.last?.status == "complete")
            #expect(scratch.read("runbook/restart.reply.md")?.contains("Off-peak now.") == true)
            #expect(await runtime.effects(.approvalAnswered).map(\.content) == ["approve"])
        }
    }

    @Test("Reject with the CLI's control file: the tool never runs")
    func rejectByControl() async throws {
        let scratch = try Scratch()
        try scratch.thread("runbook", agent: "operator")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("runbook/drop.md", "Restart it.")
            await scratch.waitUntil("the approval request") { try scratch.state("runbook").pendingApprovals.count == 1 }
            _ = try Outbox.control(
                ControlRequest(action: .reject, note: "not today"), thread: "runbook", stamp: "t1",
                in: scratch.workspace)
            await scratch.waitUntil("the run completes") {
                try scratch.state("runbook").message("drop")?.delivery == .replied
            }
            #expect(try scratch.state("runbook").controls.map(\.outcome) == [.ok])
            #expect(await runtime.effects(.approvalAnswered).map(\.content) == ["reject"])
            let record = try #require(scratch.read("runbook/drop.reply.tool-1.md"))
            #expect(!record.contains("### Result"))
            #expect(record.contains("status: not-run"), "a rejected call never ran")
            let run = try #require(try scratch.state("runbook").runs.values.first)
            #expect(run.toolCalls.map(\.status) == ["not-run"])
        }
    }

    @Test("Abort by control file really stops the runtime's run and keeps the text")
    func abort() async throws {
        let scratch = try Scratch()
        try scratch.thread("notes", agent: "writer")
        try await DaemonHarness.run(scratch, streamInterval: .milliseconds(60)) { runtime in
            try scratch.write("notes/long.md", "Write a lot.")
            await scratch.waitUntil("streaming") {
                scratch.read("notes/long.reply.md")?.contains("status: streaming") == true
            }
            try await Task.sleep(for: .milliseconds(300))
            try scratch.write("notes/controls/abort.md", "")
            await scratch.waitUntil("aborted") { try scratch.state("notes").runs.values.first?.status == .aborted }
            #expect(await runtime.effects(.runAborted).count == 1)
            let reply = try #require(scratch.read("notes/long.reply.md"))
            #expect(reply.contains("status: aborted"))
            #expect(reply.count > 200, "the text that arrived is kept")
            // A second abort has nothing to stop, and says so.
            try scratch.write("notes/controls/abort-2.md", "")
            await scratch.waitUntil("the second control is recorded") { try scratch.state("notes").controls.count == 2 }
            #expect(try scratch.state("notes").controls.last?.reason == "nothing is running in this thread")
        }
    }

    @Test("A message saved while a reply streams is delivered at once and answered after it, in order, once")
    func pipelinedDelivery() async throws {
        let scratch = try Scratch()
        try scratch.thread("notes", agent: "writer")
        try await DaemonHarness.run(scratch, streamInterval: .milliseconds(40)) { runtime in
            try scratch.write("notes/first.md", "Write the first part.")
            await scratch.waitUntil("the first reply streams") {
                scratch.read("notes/first.reply.md")?.contains("status: streaming") == true
            }
            try scratch.write("notes/second.md", "Then the second part.")
            await scratch.waitUntil("both replied", timeout: .seconds(60)) {
                let state = try scratch.state("notes")
                return state.message("first")?.delivery == .replied && state.message("second")?.delivery == .replied
            }
            let events = try scratch.journal("notes").map { "\($0.event.name) \($0.event.target ?? "")" }
            let index = { (line: String) in try #require(events.firstIndex(of: line), "\(line) in \(events)") }
            // The runtime had the second message while the first reply was still streaming...
            #expect(try index("sent second") < index("reply_completed first.run-1"))
            // ...and answered it only after, one run at a time.
            #expect(try index("reply_completed first.run-1") < index("reply_started second.run-1"))
            #expect(await runtime.effects(.messageAccepted).count == 2)
            #expect(scratch.read("notes/second.reply.md")?.contains("status: complete") == true)
        }
    }

    @Test("A queued message whose acknowledgement outlasts the run ahead of it is sent once, then answered")
    func pipelinedSlowAcknowledgement() async throws {
        let scratch = try Scratch()
        try scratch.thread("notes", agent: "writer")
        // The reply streams for about a second; the acknowledgement takes 1.8 s (the daemon's timeout is 3 s,
        // with room to spare on a busy machine).
        try await DaemonHarness.run(scratch, streamInterval: .milliseconds(10)) { runtime in
            try scratch.write("notes/first.md", "Write the first part.")
            await scratch.waitUntil("the first reply streams") {
                scratch.read("notes/first.reply.md")?.contains("status: streaming") == true
            }
            try await runtime.control.addFaults([
                ReferenceFault(
                    method: "POST", path: "/external/chat/messages", hangSeconds: 1.8, count: 1, afterEffect: true)
            ])
            try scratch.write("notes/second.md", "Then the second part.")
            await scratch.waitUntil("both replied", timeout: .seconds(60)) {
                let state = try scratch.state("notes")
                return state.message("first")?.delivery == .replied && state.message("second")?.delivery == .replied
            }
            let state = try scratch.state("notes")
            #expect(state.message("second")?.attempts.count == 1)
            #expect(await runtime.effects(.messageAccepted).count == 2)
            #expect(scratch.read("notes/second.reply.md")?.contains("status: complete") == true)
        }
    }

    @Test("Regenerate writes reply-2 beside the old reply, which is kept")
    func regenerate() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("ops/q.md", "What changed?")
            await scratch.waitUntil("replied") { try scratch.state("ops").message("q")?.delivery == .replied }
            let first = try #require(scratch.read("ops/q.reply.md"))
            _ = try Outbox.control(
                ControlRequest(action: .regenerate), thread: "ops", stamp: "t1", in: scratch.workspace)
            await scratch.waitUntil("second reply") {
                try scratch.state("ops").message("q")?.runs.count == 2 && scratch.state("ops").activeRun == nil
            }
            #expect(scratch.read("ops/q.reply.md") == first)
            #expect(scratch.read("ops/q.reply-2.md")?.contains("status: complete") == true)
            #expect(await runtime.effects(.regenerated).count == 1)
        }
    }

    @Test("An unknown agent fails the message with the valid agents; retry sends it with the same key once fixed")
    func unknownAgentThenRetry() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("ops/x.md", "---\nagent: nobody\n---\nHello?")
            await scratch.waitUntil("failed") {
                if case .failed = try scratch.state("ops").message("x")?.delivery { return true }
                return false
            }
            guard case let .failed(reason)? = try scratch.state("ops").message("x")?.delivery else { return }
            // Letterbox's own check, or the runtime's 422 if the message went out before the agent list came.
            #expect(reason.contains("'nobody'"))
            #expect(reason.contains("assistant") && reason.contains("writer") && reason.contains("operator"))
            #expect(!reason.contains("copilot"), "only chat-scoped agents are listed")
            #expect(await runtime.effects(.messageAccepted).isEmpty)
            // Copilot exists but is not a chat agent.
            try scratch.write("ops/y.md", "---\nagent: copilot\n---\nHello?")
            await scratch.waitUntil("failed") {
                if case let .failed(why)? = try scratch.state("ops").message("y")?.delivery {
                    return why.contains("not in the chat scope")
                }
                return false
            }
            // A thread pointing at a missing agent fails too; the operator fixes thread.md and retries:
            // the same key, delivered once.
            try scratch.write("ops/thread.md", "---\nagent: nobody\n---\n")
            try await Task.sleep(for: .milliseconds(150))
            try scratch.write("ops/z.md", "Hello again.")
            await scratch.waitUntil("z failed") {
                if case .failed = try scratch.state("ops").message("z")?.delivery { return true }
                return false
            }
            try scratch.write("ops/thread.md", "---\nagent: assistant\n---\n")
            try scratch.write("ops/x.md.swp", "vim noise")
            try await Task.sleep(for: .milliseconds(150))
            _ = try Outbox.control(
                ControlRequest(action: .retry, target: "z"), thread: "ops", stamp: "t1", in: scratch.workspace)
            await scratch.waitUntil("replied after retry") {
                try scratch.state("ops").message("z")?.delivery == .replied
            }
            let keys = await runtime.effects(.messageAccepted).map(\.idempotencyKey)
            #expect(keys == [try scratch.state("ops").message("z")?.requestID])
        }
    }

    @Test("Sent messages are immutable: an edit is recorded, never sent")
    func editAfterSend() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("ops/m.md", "First version.")
            await scratch.waitUntil("replied") { try scratch.state("ops").message("m")?.delivery == .replied }
            try scratch.write("ops/m.md", "Second version, edited.")
            await scratch.waitUntil("edit recorded") { try scratch.state("ops").message("m")?.edits.count == 1 }
            try await Task.sleep(for: .milliseconds(200))
            #expect(await runtime.effects(.messageAccepted).map(\.content) == ["First version."])
        }
    }

    @Test("Bad files are rejected with a reason naming the file and line; the daemon goes on")
    func rejections() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("ops/bad.md", "---\nagnet: x\n---\nHi")
            try scratch.write("ops/binary.md", "\u{0}\u{1}PNG")
            try scratch.write("ops/notes.txt", "text")
            try scratch.write("ops/fake.reply.md", "I wrote this myself")
            try scratch.write("ops/good.md", "Still delivered.")
            await scratch.waitUntil("good replied") { try scratch.state("ops").message("good")?.delivery == .replied }
            await scratch.waitUntil("all rejected") { try scratch.state("ops").rejected.count == 4 }
            let rejected = try scratch.state("ops").rejected
            #expect(rejected["bad.md"]?.reason.contains("inbox/ops/bad.md:2: unknown key 'agnet'") == true)
            #expect(rejected["binary.md"]?.reason.contains("binary") == true)
            #expect(rejected["notes.txt"]?.reason.contains("only .md files") == true)
            #expect(rejected["fake.reply.md"]?.reason.contains("reserved") == true)
            #expect(await runtime.effects(.messageAccepted).map(\.content) == ["Still delivered."])
            // The operator's files are never touched.
            #expect(scratch.read("ops/bad.md") == "---\nagnet: x\n---\nHi")
            #expect(scratch.read("ops/fake.reply.md") == "I wrote this myself")
        }
    }
}
