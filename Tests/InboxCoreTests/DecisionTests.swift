import ChatModel
import Foundation
import InboxCore
import Testing

/// Approval decisions as machine rules (docs/format.md §6.4): no IO, a manual clock.
@Suite("Approval decisions: approve, edit, reject, respond, cancel; every interrupt; expiry")
struct DecisionTests {
    static let schema =
        #"{"type":"object","properties":{"host":{"type":"string","minLength":1},"service":{"type":"string"}},"required":["host","service"],"additionalProperties":false}"#

    /// A run of `hello` waiting on `requests` (each becomes `hello.reply.approval-N.md`).
    func waiting(
        _ requests: [ApprovalRequest], capabilities: RuntimeCapabilities = Simulation.controlPlane,
        tune: @escaping (inout WorkspaceConfig.Delivery) -> Void = { _ in }
    ) -> Simulation {
        let sim = Simulation(capabilities: capabilities, tune: tune)
        sim.save("ops", "hello.md", "Restart the backup")
        sim.advance(100)
        sim.accept("ops", "hello", attempt: 1)
        for request in requests { sim.update("ops", "hello.run-1", .approval(request)) }
        _ = sim.takeJobs()
        return sim
    }

    static func toolCall(_ id: String = "int-1", call: String = "call-1", expiresAt: Timestamp? = nil)
        -> ApprovalRequest
    {
        ApprovalRequest(
            runtimeID: id, prompt: "Restart backup on db-1?", toolCallID: call, tool: "restart_service",
            arguments: #"{"host":"db-1","service":"backup"}"#, decisions: [.approve, .edit, .reject, .cancel],
            expiresAt: expiresAt, schema: schema)
    }

    /// The file's text with the box starting with `word` ticked and, optionally, a note and new arguments.
    func decide(
        _ sim: Simulation, _ file: String = "hello.reply.approval-1.md", tick word: String, note: String? = nil,
        arguments: String? = nil
    ) {
        var text = sim.text("ops", file).replacing("- [ ] \(word)", with: "- [x] \(word)")
        if let arguments {
            let start = text.range(of: "```json args\n")!
            let end = text.range(of: "\n```", range: start.upperBound..<text.endIndex)!
            text.replaceSubrange(start.upperBound..<end.lowerBound, with: arguments)
        }
        if let note { text += note + "\n" }
        sim.save("ops", file, text)
        sim.advance(100)
    }

    func answers(_ sim: Simulation) -> [ApprovalAnswer] {
        sim.takeJobs().flatMap { job -> [ApprovalAnswer] in
            if case let .answer(_, _, _, answers, _, _) = job { answers } else { [] }
        }
    }

    func status(_ sim: Simulation, _ file: String = "hello.reply.approval-1.md") -> String? {
        let text = sim.text("ops", file)
        return text.split(separator: "\n").first { $0.hasPrefix("status:") }.map {
            String($0.dropFirst("status:".count)).trimmingCharacters(in: .whitespaces)
        }
    }

    @Test("The file offers only the runtime's decisions, pretty-prints the arguments, and says when it expires")
    func fileShape() throws {
        let sim = waiting([Self.toolCall(expiresAt: Timestamp(milliseconds: 1_800_000_600_000))])
        let text = sim.text("ops", "hello.reply.approval-1.md")
        #expect(
            text.contains("decisions: \"approve,edit,reject,cancel\"")
                || text.contains("decisions: approve,edit,reject,cancel"))
        #expect(text.contains("- [ ] Approve\n- [ ] Edit"))
        #expect(!text.contains("Respond"))
        #expect(text.contains("Note (the reason for Reject; optional otherwise):"))
        #expect(text.contains("```json args\n{\n  \"host\""))
        #expect(text.contains("Expires at 2027-01-15T08:10:00.000Z"))
    }

    @Test("Edit: new arguments parse, differ and fit the schema; they go to the runtime and the file says edited")
    func edit() throws {
        let sim = waiting([Self.toolCall()])
        decide(sim, tick: "Edit", arguments: #"{"service": "backup", "host": "db-2"}"#)
        #expect(sim.events().last == "approval_answered")
        let sent = answers(sim)
        #expect(sent.count == 1 && sent[0].decision == .edit)
        #expect(sent[0].arguments == #"{"host":"db-2","service":"backup"}"#)
        #expect(status(sim) == "edited")
        #expect(try sim.state().approval("hello.reply.approval-1")?.answer?.arguments == sent[0].arguments)
    }

    @Test(
        "Edit that is not ready is journaled with the reason and sends nothing",
        arguments: [
            (#"{"host": "db-1", "service": "backup"}"#, "unchanged"),
            (#"{"host": "db-2" "service": "backup"}"#, "not valid JSON"),
            (#"{"host": "", "service": "backup"}"#, "$.host needs at least 1 characters"),
            (#"{"host": "db-2", "service": "backup", "force": true}"#, "$.force is not an argument"),
            (#"["db-2"]"#, "must be a JSON object"),
        ])
    func editNotReady(arguments: String, reason: String) throws {
        let sim = waiting([Self.toolCall()])
        decide(sim, tick: "Edit", arguments: arguments)
        #expect(sim.events().last == "approval_answer_invalid")
        let why = try #require(sim.state().approval("hello.reply.approval-1")?.invalidAnswers.last)
        #expect(why.contains(reason), "\(why)")
        #expect(answers(sim).isEmpty)
        #expect(status(sim) == "pending")
    }

    @Test("Reject: the reason below the Note line goes with the answer; the file says rejected")
    func rejectWithReason() throws {
        let sim = waiting([Self.toolCall()])
        decide(sim, tick: "Reject", note: "db-1 is the primary; never during business hours")
        let sent = answers(sim)
        #expect(sent.map(\.decision) == [.reject])
        #expect(sent.first?.note == "db-1 is the primary; never during business hours")
        #expect(status(sim) == "rejected")
    }

    @Test("Reject, then the run ends: the tool call's not-run record is on disk before the line that ends the run")
    func rejectedToolCallRecordBeforeRunEnds() throws {
        let sim = Simulation(capabilities: Simulation.controlPlane)
        sim.save("ops", "hello.md", "Restart the backup")
        sim.advance(100)
        sim.accept("ops", "hello", attempt: 1)
        sim.update(
            "ops", "hello.run-1",
            .toolCall(ToolCallUpdate(id: "call-1", name: "restart_service", arguments: #"{"host":"db-1"}"#)))
        sim.update("ops", "hello.run-1", .approval(Self.toolCall()))
        decide(sim, tick: "Reject", note: "db-1 is the primary")
        _ = sim.takeJobs()
        sim.update("ops", "hello.run-1", .text("Not restarted."))
        sim.update("ops", "hello.run-1", .finished(.complete(usage: nil)))
        #expect(sim.text("ops", "hello.reply.tool-1.md").contains("Not run: the operator rejected it"))
        let record = try #require(
            sim.steps.lastIndex(of: .file("ops", "hello.reply.tool-1.md", .replaceDurably)))
        let completed = try #require(sim.steps.firstIndex(of: .line("ops", "reply_completed")))
        #expect(record < completed)
    }

    @Test("Respond is never offered for a tool call, even when the runtime lists it")
    func respondRefusedForToolCall() throws {
        var request = Self.toolCall()
        request.decisions = [.approve, .respond, .reject]
        let sim = waiting([request])
        let text = sim.text("ops", "hello.reply.approval-1.md")
        #expect(!text.contains("Respond"))
        sim.save("ops", "hello.reply.approval-1.md", text + "- [x] Respond\n\nYes, done.\n")
        sim.advance(100)
        let why = try #require(sim.state().approval("hello.reply.approval-1")?.invalidAnswers.last)
        #expect(why.contains("respond is not offered"))
        #expect(answers(sim).isEmpty)
    }

    @Test("Respond answers a question (no tool call) with the text; without text it is not ready")
    func respondToQuestion() throws {
        let question = ApprovalRequest(
            runtimeID: "ask-1", prompt: "Which host?", toolCallID: nil, tool: nil, arguments: nil,
            decisions: [.respond, .cancel])
        let sim = waiting([question])
        decide(sim, tick: "Respond")
        #expect(try sim.state().approval("hello.reply.approval-1")?.invalidAnswers.last?.contains("no answer") == true)
        let text = sim.text("ops", "hello.reply.approval-1.md")
        sim.save("ops", "hello.reply.approval-1.md", text + "db-2, please\n")
        sim.advance(100)
        let sent = answers(sim)
        #expect(sent.map(\.decision) == [.respond] && sent.first?.note == "db-2, please")
        #expect(status(sim) == "responded")
    }

    @Test("No tick, two ticks, or no boxes: not ready, journaled with the reason")
    func exactlyOne() throws {
        let sim = waiting([Self.toolCall()])
        let text = sim.text("ops", "hello.reply.approval-1.md")
        sim.save("ops", "hello.reply.approval-1.md", text + "\n")
        sim.advance(100)
        sim.save(
            "ops", "hello.reply.approval-1.md",
            text.replacing("- [ ] Approve", with: "- [x] Approve")
                .replacing("- [ ] Reject", with: "- [X] Reject"))
        sim.advance(100)
        let reasons = try #require(sim.state().approval("hello.reply.approval-1")?.invalidAnswers)
        #expect(reasons.count == 2)
        #expect(reasons[0].contains("no box is ticked") && reasons[1].contains("more than one box"))
        #expect(answers(sim).isEmpty)
    }

    @Test("The first valid decision wins: a later save is journaled as ignored and counted; the status stays")
    func firstDecisionWins() throws {
        let sim = waiting([Self.toolCall()])
        decide(sim, tick: "Approve")
        #expect(status(sim) == "approved")
        let text = sim.text("ops", "hello.reply.approval-1.md")
        sim.save(
            "ops", "hello.reply.approval-1.md",
            text.replacing("- [x] Approve", with: "- [ ] Approve").replacing("- [ ] Reject", with: "- [x] Reject"))
        sim.advance(100)
        #expect(sim.events().last == "approval_edited_after_answer")
        let approval = try #require(sim.state().approval("hello.reply.approval-1"))
        #expect(approval.answer?.decision == .approve && approval.ignoredEdits == 1)
        #expect(status(sim) == "approved")
    }

    @Test("AG-UI: two interrupts at once get a file each; the run resumes only when both are decided")
    func twoInterrupts() throws {
        let sim = waiting(
            [Self.toolCall("int-a", call: "call-a"), Self.toolCall("int-b", call: "call-b")],
            capabilities: Simulation.agUI)
        #expect(!sim.text("ops", "hello.reply.approval-1.md").isEmpty)
        #expect(!sim.text("ops", "hello.reply.approval-2.md").isEmpty)
        decide(sim, "hello.reply.approval-2.md", tick: "Reject", note: "not that one")
        #expect(answers(sim).isEmpty)
        #expect(try sim.state().runs["hello.run-1"]?.status == .awaitingApproval)
        decide(sim, tick: "Edit", arguments: #"{"host":"db-3","service":"backup"}"#)
        let sent = answers(sim).sorted { $0.runtimeID < $1.runtimeID }
        #expect(sent.map(\.runtimeID) == ["int-a", "int-b"])
        #expect(sent.map(\.decision) == [.edit, .reject])
        #expect(sent[0].arguments == #"{"host":"db-3","service":"backup"}"#)
        #expect(sent[1].note == "not that one")
    }

    @Test("Expiry at the runtime's expiresAt: journaled, the file says expired, and only Cancel is accepted")
    func expiresAt() throws {
        let sim = waiting([Self.toolCall(expiresAt: Timestamp(milliseconds: 1_800_000_060_000))])
        sim.advance(30_000)
        #expect(!sim.events().contains("approval_expired"))
        sim.advance(30_000)
        #expect(sim.events().contains("approval_expired"))
        #expect(status(sim) == "expired")
        decide(sim, tick: "Approve")
        let why = try #require(sim.state().approval("hello.reply.approval-1")?.invalidAnswers.last)
        #expect(why.contains("expired") && why.contains("Cancel"))
        #expect(answers(sim).isEmpty)
        let text = sim.text("ops", "hello.reply.approval-1.md").replacing("- [x] Approve", with: "- [ ] Approve")
        sim.save("ops", "hello.reply.approval-1.md", text.replacing("- [ ] Cancel", with: "- [x] Cancel"))
        sim.advance(100)
        let sent = answers(sim)
        #expect(sent.count == 1 && sent[0].withdrawn && sent[0].decision == .cancel)
        #expect(status(sim) == "cancelled")
    }

    @Test("Expiry by the configured default when the runtime sets none; it survives a restart")
    func defaultExpiry() throws {
        let sim = waiting([Self.toolCall()], tune: { $0.approvalExpirySeconds = 120 })
        let approval = try #require(sim.state().approval("hello.reply.approval-1"))
        #expect(approval.expiresAt == Timestamp(milliseconds: sim.wall + 120_000))
        sim.crash()
        sim.advance(119_000)
        #expect(!sim.events().contains("approval_expired"))
        sim.advance(1_000)
        #expect(sim.events().last == "approval_expired")
        #expect(try sim.state().approval("hello.reply.approval-1")?.stateWords == "expired (can only be cancelled)")
    }

    @Test("Decisions by control file: edit with arguments, reject with a reason; nothing pending is an error")
    func controls() throws {
        let sim = waiting([Self.toolCall()])
        sim.save("ops", "controls/edit.md", "---\narguments: '{\"host\":\"db-9\",\"service\":\"backup\"}'\n---\n")
        sim.advance(100)
        let sent = answers(sim)
        #expect(sent.map(\.decision) == [.edit] && sent.first?.arguments == #"{"host":"db-9","service":"backup"}"#)
        #expect(status(sim) == "edited")
        sim.save("ops", "controls/reject.md", "---\nnote: too late\n---\n")
        sim.advance(100)
        let control = try #require(sim.state().controls.last)
        #expect(control.outcome == .error && control.reason?.contains("nothing is pending") == true)
    }

    @Test("A control decision that is not ready fails with the reason and is journaled")
    func controlNotReady() throws {
        let sim = waiting([Self.toolCall()])
        sim.save("ops", "controls/respond.md", "---\nnote: sure\n---\n")
        sim.advance(100)
        let control = try #require(sim.state().controls.last)
        #expect(control.outcome == .error && control.reason?.contains("respond is not offered") == true)
        #expect(sim.events().contains("approval_answer_invalid"))
        #expect(answers(sim).isEmpty)
    }
}
