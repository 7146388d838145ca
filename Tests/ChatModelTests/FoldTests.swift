import PropertyBased
import Testing

@testable import ChatModel

@Suite("The fold (docs/format.md §4.4, §7.5)")
struct FoldTests {
    func fold(_ journal: JournalBuilder) throws(FormatError) -> ThreadState {
        try ThreadState.fold(journal.entries, thread: "ops")
    }

    @Test("§7.5: detected -> accepted -> attempt -> sent -> reply -> replied")
    func happyPath() throws {
        var journal = JournalBuilder()
        journal.add(.detected(message: "m", file: "m.md", sha256: "h"))
        #expect(try fold(journal).message("m")?.delivery == .queued)
        journal.add(.accepted(message: "m", requestID: "k", agent: "ops", sha256: "h"))
        #expect(try fold(journal).message("m")?.delivery == .queued)
        journal.add(.attempt(message: "m", requestID: "k", attempt: 1))
        #expect(try fold(journal).message("m")?.delivery == .sending(attempt: 1))
        #expect(try fold(journal).message("m")?.isAwaitingItsRun == false)
        journal.add(.sent(message: "m", requestID: "k", attempt: 1, runtimeID: "rt"))
        #expect(try fold(journal).message("m")?.delivery == .sent)
        #expect(try fold(journal).message("m")?.isAwaitingItsRun == true, "the runtime has it; no answer yet")
        journal.add(.replyStarted(run: "r", message: "m", file: "m.reply.md", agent: "ops", runtimeID: nil))
        #expect(try fold(journal).activeRun?.status == .streaming)
        #expect(try fold(journal).message("m")?.isAwaitingItsRun == false)
        journal.add(.replyCompleted(run: "r", file: "m.reply.md", sha256: "x", detail: nil))
        let state = try fold(journal)
        #expect(state.message("m")?.delivery == .replied)
        #expect(state.runs["r"]?.status == .complete)
        #expect(state.activeRun == nil)
    }

    @Test("§7.5: retries keep their reasons and times; the request id stays the same")
    func retries() throws {
        var journal = JournalBuilder()
        journal.add(.detected(message: "m", file: "m.md", sha256: "h"))
        journal.add(.accepted(message: "m", requestID: "k", agent: "ops", sha256: "h"))
        journal.add(.attempt(message: "m", requestID: "k", attempt: 1))
        let later = journal.clock.adding(milliseconds: 5000)
        journal.add(.retryScheduled(message: "m", attempt: 1, reason: "HTTP 503", notBefore: later))
        var state = try fold(journal)
        #expect(state.message("m")?.delivery == .retrying(attempt: 1, notBefore: later, reason: "HTTP 503"))
        journal.add(.attempt(message: "m", requestID: "k", attempt: 2))
        journal.add(.sent(message: "m", requestID: "k", attempt: 2, runtimeID: "rt"))
        state = try fold(journal)
        let message = try #require(state.message("m"))
        #expect(message.attempts.map(\.number) == [1, 2])
        #expect(message.attempts[0].outcome == .retry(reason: "HTTP 503", notBefore: later))
        #expect(message.delivery == .sent)
    }

    @Test("§7.5: failed, then retried by the operator with the same key")
    func failedAndRetried() throws {
        var journal = JournalBuilder()
        journal.add(.detected(message: "m", file: "m.md", sha256: "h"))
        journal.add(.accepted(message: "m", requestID: "k", agent: "nope", sha256: "h"))
        journal.add(.failed(message: "m", reason: "unknown agent 'nope' (valid: ops)", attempt: nil))
        #expect(try fold(journal).message("m")?.delivery == .failed(reason: "unknown agent 'nope' (valid: ops)"))
        journal.add(.retryRequested(message: "m"), actor: .operator)
        journal.add(.attempt(message: "m", requestID: "k", attempt: 1))
        #expect(try fold(journal).message("m")?.delivery == .sending(attempt: 1))
    }

    @Test("§6.4 and §7.5: an approval pauses the run until answered and delivered")
    func approvals() throws {
        var journal = JournalBuilder()
        journal.add(.detected(message: "m", file: "m.md", sha256: "h"))
        journal.add(.accepted(message: "m", requestID: "k", agent: "ops", sha256: "h"))
        journal.add(.attempt(message: "m", requestID: "k", attempt: 1))
        journal.add(.sent(message: "m", requestID: "k", attempt: 1, runtimeID: "rt"))
        journal.add(.replyStarted(run: "r", message: "m", file: "m.reply.md", agent: "ops", runtimeID: nil))
        journal.add(
            .toolCall(
                run: "r", toolCall: "t1", tool: "delete_file", file: "m.reply.tool-1.md", status: "pending",
                runtimeID: nil))
        journal.add(
            .approvalRequested(
                approval: "m.reply.approval-1", run: "r", file: "m.reply.approval-1.md", toolCall: "t1",
                tool: "delete_file", runtimeID: nil))
        var state = try fold(journal)
        #expect(state.runs["r"]?.status == .awaitingApproval)
        #expect(state.pendingApprovals.map(\.id) == ["m.reply.approval-1"])
        journal.add(.approvalAnswerInvalid(approval: "m.reply.approval-1", reason: "two ticks"), actor: .operator)
        journal.add(
            .approvalAnswered(approval: "m.reply.approval-1", decision: .approve, note: "ok", file: nil),
            actor: .operator)
        state = try fold(journal)
        #expect(state.pendingApprovals.isEmpty)
        #expect(state.runs["r"]?.status == .awaitingApproval)
        journal.add(.approvalSent(approval: "m.reply.approval-1", runtimeID: nil))
        state = try fold(journal)
        #expect(state.runs["r"]?.status == .streaming)
        #expect(state.approval("m.reply.approval-1")?.invalidAnswers == ["two ticks"])
        journal.add(
            .toolCall(
                run: "r", toolCall: "t1", tool: "delete_file", file: "m.reply.tool-1.md", status: "complete",
                runtimeID: nil))
        journal.add(.replyCompleted(run: "r", file: "m.reply.md", sha256: "x", detail: nil))
        state = try fold(journal)
        #expect(state.runs["r"]?.toolCalls.map(\.status) == ["complete"])
        #expect(state.message("m")?.delivery == .replied)
    }

    @Test("§7.5: regenerate keeps the old reply as a branch; abort and errors keep the message sent")
    func regenerateAbortError() throws {
        var journal = JournalBuilder()
        journal.deliveredAndReplied("m", run: "r1")
        journal.add(.regenerateRequested(message: "m"), actor: .operator)
        #expect(try fold(journal).message("m")?.regeneratePending == true)
        journal.add(.replyStarted(run: "r2", message: "m", file: "m.reply-2.md", agent: "ops", runtimeID: nil))
        journal.add(.abortRequested(run: "r2"), actor: .operator)
        journal.add(.replyAborted(run: "r2", file: "m.reply-2.md", reason: "aborted by the operator"))
        var state = try fold(journal)
        #expect(state.message("m")?.runs == ["r1", "r2"])
        #expect(state.message("m")?.delivery == .sent)
        #expect(state.runs["r2"]?.status == .aborted && state.runs["r2"]?.abortRequested == true)
        journal.add(.regenerateRequested(message: "m"), actor: .operator)
        journal.add(.replyStarted(run: "r3", message: "m", file: "m.reply-3.md", agent: "ops", runtimeID: nil))
        journal.add(.replyErrored(run: "r3", file: "m.reply-3.md", reason: "RUN_ERROR: model overloaded"))
        state = try fold(journal)
        #expect(state.runs["r3"]?.status == .errored)
        #expect(state.runs["r1"]?.status == .complete)
    }

    @Test("§4.4: an edit after send is recorded, never re-sent")
    func editedAfterSend() throws {
        var journal = JournalBuilder()
        journal.deliveredAndReplied("m")
        journal.add(.editedAfterSend(message: "m", file: "m.md", sha256: "h2"))
        let state = try fold(journal)
        #expect(state.message("m")?.edits.map(\.sha256) == ["h2"])
        #expect(state.message("m")?.delivery == .replied)
        #expect(state.message("m")?.sha256 == "h-m")
    }

    @Test("§7.5: files on disk that the journal does not know are queued; deleted files are flagged")
    func mergingDisk() throws {
        var journal = JournalBuilder()
        journal.deliveredAndReplied("old")
        let state = try fold(journal).merging(disk: [
            DiskFile(name: "new.md", kind: .message(id: "new"), mtime: Timestamp(milliseconds: 5), size: 3),
            DiskFile(name: "draft.draft.md", kind: .draft, mtime: Timestamp(milliseconds: 5), size: 3),
        ])
        #expect(state.message("new")?.delivery == .queued)
        #expect(state.message("new")?.notYetSeen == true)
        #expect(state.message("old")?.fileMissing == true)
        #expect(state.message("draft") == nil)
    }

    struct Impossible: Sendable, CustomTestStringConvertible {
        var name: String
        var events: [JournalEvent]
        var testDescription: String { name }
    }

    static let impossible: [Impossible] = [
        .init(
            name: "sent before accepted",
            events: [
                .detected(message: "m", file: "m.md", sha256: "h"),
                .sent(message: "m", requestID: "k", attempt: 1, runtimeID: "x"),
            ]),
        .init(name: "attempt for an unknown message", events: [.attempt(message: "m", requestID: "k", attempt: 1)]),
        .init(
            name: "accepted twice",
            events: [
                .detected(message: "m", file: "m.md", sha256: "h"),
                .accepted(message: "m", requestID: "k", agent: "a", sha256: "h"),
                .accepted(message: "m", requestID: "k", agent: "a", sha256: "h"),
            ]),
        .init(
            name: "attempt numbers skip",
            events: [
                .detected(message: "m", file: "m.md", sha256: "h"),
                .accepted(message: "m", requestID: "k", agent: "a", sha256: "h"),
                .attempt(message: "m", requestID: "k", attempt: 2),
            ]),
        .init(
            name: "reply to a message never sent",
            events: [
                .detected(message: "m", file: "m.md", sha256: "h"),
                .replyStarted(run: "r", message: "m", file: "m.reply.md", agent: "a", runtimeID: nil),
            ]),
        .init(
            name: "completed run that never started",
            events: [.replyCompleted(run: "r", file: "f", sha256: "x", detail: nil)]),
        .init(
            name: "answer to an approval never requested",
            events: [
                .approvalAnswered(approval: "a", decision: .approve, note: nil, file: nil)
            ]),
        .init(
            name: "retry of a message that has not failed",
            events: [
                .detected(message: "m", file: "m.md", sha256: "h"), .retryRequested(message: "m"),
            ]),
        .init(name: "daemon event in a thread journal", events: [.daemonStarted(detail: "{}")]),
    ]

    @Test("§7.5: orders that cannot happen are errors naming the line", arguments: impossible)
    func impossibleOrders(_ case: Impossible) {
        var journal = JournalBuilder()
        for event in `case`.events { journal.add(event) }
        do {
            _ = try fold(journal)
            Issue.record("folded")
        } catch {
            #expect(error.code == .fold)
            #expect(error.line == `case`.events.count, "\(error)")
            #expect(error.description.contains("cannot happen here") || error.description.contains("belongs"))
        }
    }

    @Test("§7.5: a second run cannot start while one is in flight (one run per thread)")
    func oneRunPerThread() {
        var journal = JournalBuilder()
        journal.deliveredAndReplied("a")
        journal.add(.detected(message: "b", file: "b.md", sha256: "h"))
        journal.add(.accepted(message: "b", requestID: "kb", agent: "ops", sha256: "h"))
        journal.add(.attempt(message: "b", requestID: "kb", attempt: 1))
        journal.add(.sent(message: "b", requestID: "kb", attempt: 1, runtimeID: "rb"))
        journal.add(.regenerateRequested(message: "a"))
        journal.add(.replyStarted(run: "ra2", message: "a", file: "a.reply-2.md", agent: "ops", runtimeID: nil))
        journal.add(.replyStarted(run: "rb", message: "b", file: "b.reply.md", agent: "ops", runtimeID: nil))
        #expect(throws: FormatError.self) { try fold(journal) }
    }

    @Test("§7.4: the inbox journal folds into runtime health with incidents")
    func inboxHealth() throws {
        var journal = JournalBuilder()
        journal.add(.inboxCreated(detail: "{}"), actor: .operator)
        journal.add(.daemonStarted(detail: "{}"))
        journal.add(.runtimeDegraded(reason: "5 failures in a row: connection refused"))
        let degradedAt = journal.clock
        journal.add(.runtimeDegraded(reason: "still failing"))
        var state = try InboxState.fold(journal.entries)
        #expect(state.runtime == .degraded(since: degradedAt, reason: "5 failures in a row: connection refused"))
        journal.add(.runtimeRecovered)
        journal.add(.authFailed(reason: "HTTP 401"))
        state = try InboxState.fold(journal.entries)
        guard case .authFailing = state.runtime else {
            Issue.record("\(state.runtime)")
            return
        }
        #expect(state.incidents.map(\.kind) == ["degraded", "auth_failed"])
        #expect(state.incidents[0].end != nil)
        #expect(throws: FormatError.self) {
            try InboxState.fold(JournalBuilderWith(.retryRequested(message: "m")).entries)
        }
    }

    @Test("§7.5: any valid sequence of events folds to the state a reference model predicts")
    func randomWalks() throws {
        try seededCheck(seed: 0xF01D, count: 300, Gen.int(in: 0...Int(Int32.max)).array(of: 1...60)) { choices in
            var model = ReferenceModel()
            for choice in choices { model.step(choice) }
            let state = try ThreadState.fold(model.journal.entries, thread: "t")
            for (id, expected) in model.delivery {
                #expect(state.message(id)?.delivery.name == expected, "\(id) after \(choices)")
            }
            for (run, expected) in model.runStatus {
                #expect(state.runs[run]?.status == expected, "\(run) after \(choices)")
            }
        }
    }
}

func JournalBuilderWith(_ event: JournalEvent) -> JournalBuilder {
    var journal = JournalBuilder()
    journal.add(event)
    return journal
}

/// A deliberately simple model of what the daemon may journal, used to generate valid orders.
struct ReferenceModel {
    var journal = JournalBuilder()
    var delivery: [String: String] = [:]
    var attempts: [String: Int] = [:]
    var runStatus: [String: RunStatus] = [:]
    var runMessage: [String: String] = [:]
    var pendingApproval: [String: String] = [:]  // approval -> run
    var answered: Set<String> = []
    var messages: [String] { delivery.keys.sorted() }
    var activeRun: String? { runStatus.first { !$0.value.isFinished }?.key }
    var counter = 0

    mutating func step(_ choice: Int) {
        counter += 1
        // Try actions starting at `choice`, in turn, until one applies.
        for offset in 0..<6 {
            let applied: Bool
            switch (choice + offset) % 6 {
            case 0: applied = newMessage()
            case 1: applied = attempt(choice)
            case 2: applied = outcome(choice)
            case 3: applied = startRun(choice)
            case 4: applied = runEvent(choice)
            default: applied = operatorRetry(choice)
            }
            if applied { return }
        }
    }

    func pick<T>(_ items: [T], _ choice: Int) -> T? { items.isEmpty ? nil : items[(choice / 7) % items.count] }

    mutating func newMessage() -> Bool {
        guard delivery.count < 6 else { return false }
        let id = "m\(delivery.count)"
        journal.add(.detected(message: id, file: "\(id).md", sha256: "h"))
        journal.add(.accepted(message: id, requestID: "k-\(id)", agent: "a", sha256: "h"))
        delivery[id] = "queued"
        attempts[id] = 0
        return true
    }

    mutating func attempt(_ choice: Int) -> Bool {
        guard let id = pick(messages.filter { delivery[$0] == "queued" || delivery[$0] == "retrying" }, choice) else {
            return false
        }
        let number = attempts[id, default: 0] + 1
        attempts[id] = number
        journal.add(.attempt(message: id, requestID: "k-\(id)", attempt: number))
        delivery[id] = "sending"
        return true
    }

    mutating func outcome(_ choice: Int) -> Bool {
        guard let id = pick(messages.filter { delivery[$0] == "sending" }, choice) else { return false }
        let number = attempts[id, default: 1]
        switch choice % 3 {
        case 0:
            journal.add(.sent(message: id, requestID: "k-\(id)", attempt: number, runtimeID: "rt"))
            delivery[id] = "sent"
        case 1:
            journal.add(
                .retryScheduled(
                    message: id, attempt: number, reason: "503", notBefore: journal.clock.adding(milliseconds: 10)))
            delivery[id] = "retrying"
        default:
            journal.add(.failed(message: id, reason: "422", attempt: number))
            delivery[id] = "failed"
        }
        return true
    }

    mutating func operatorRetry(_ choice: Int) -> Bool {
        if let id = pick(messages.filter { delivery[$0] == "failed" }, choice) {
            journal.add(.retryRequested(message: id), actor: .operator)
            delivery[id] = "queued"
            return true
        }
        return false
    }

    mutating func startRun(_ choice: Int) -> Bool {
        guard activeRun == nil else { return false }
        guard let id = pick(messages.filter { delivery[$0] == "sent" || delivery[$0] == "replied" }, choice) else {
            return false
        }
        let run = "r\(counter)"
        if runMessage.values.contains(id) { journal.add(.regenerateRequested(message: id), actor: .operator) }
        journal.add(.replyStarted(run: run, message: id, file: "\(id).reply.md", agent: "a", runtimeID: nil))
        runStatus[run] = .streaming
        runMessage[run] = id
        delivery[id] = "sent"
        return true
    }

    mutating func runEvent(_ choice: Int) -> Bool {
        guard let run = activeRun, let id = runMessage[run] else { return false }
        if let approval = pendingApproval.first(where: { $0.value == run })?.key {
            if !answered.contains(approval) {
                journal.add(
                    .approvalAnswered(
                        approval: approval, decision: choice % 2 == 0 ? .approve : .reject, note: nil, file: nil),
                    actor: .operator)
                answered.insert(approval)
            } else {
                journal.add(.approvalSent(approval: approval, runtimeID: nil))
                pendingApproval[approval] = nil
                runStatus[run] = .streaming
            }
            return true
        }
        switch choice % 5 {
        case 0:
            let approval = "\(run).approval-\(counter)"
            journal.add(
                .approvalRequested(
                    approval: approval, run: run, file: "\(approval).md", toolCall: nil, tool: nil, runtimeID: nil))
            pendingApproval[approval] = run
            runStatus[run] = .awaitingApproval
        case 1:
            journal.add(.replyAborted(run: run, file: "f", reason: "operator"))
            runStatus[run] = .aborted
        case 2:
            journal.add(.replyErrored(run: run, file: "f", reason: "boom"))
            runStatus[run] = .errored
        default:
            journal.add(.replyCompleted(run: run, file: "f", sha256: "x", detail: nil))
            runStatus[run] = .complete
            delivery[id] = "replied"
        }
        return true
    }
}
