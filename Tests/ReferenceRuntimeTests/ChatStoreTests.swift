import Foundation
import Testing

@testable import ReferenceRuntime

/// The store's rules, with no sockets, no clock and no tasks.
@Suite("ChatStore: the runtime's rules without IO")
struct ChatStoreTests {
    static func request(_ content: String, agent: String = "writer", thread: String? = nil) -> PostMessageRequest {
        PostMessageRequest(threadId: thread, title: nil, agentId: agent, content: content, clientMessageId: nil)
    }

    static func at(_ millisecond: Int64) -> RuntimeTimestamp { RuntimeTimestamp(milliseconds: millisecond) }

    @Test("A post stores the message, announces the change and starts one run; a second post waits in the queue")
    func postAndQueue() throws {
        var store = ChatStore(maxContentBytes: 1024, pageSize: 10)
        let (first, replayed) = try store.post(Self.request("one"), idempotencyKey: "a", now: Self.at(1))
        #expect(!replayed)
        var outbox = store.takeOutbox()
        #expect(outbox.changes == [first.threadId: 1])
        #expect(outbox.jobs == [.start(.init(runId: 1, agent: .writer, question: "one"))])

        let (second, _) = try store.post(
            Self.request("two", thread: first.threadId), idempotencyKey: "b", now: Self.at(2))
        outbox = store.takeOutbox()
        #expect(second.message.seq == 2)
        #expect(outbox.jobs.isEmpty)  // queued behind run 1

        let running = store.appendReply(run: 1, text: "partial", complete: false, now: Self.at(3))
        let waiting = store.appendReply(run: 2, text: "not yet", complete: false, now: Self.at(3))
        #expect(running && !waiting)
        let aborted = try store.abort(threadId: first.threadId, now: Self.at(4))
        #expect(aborted == ["msg_000003"])
        outbox = store.takeOutbox()
        #expect(outbox.jobs == [.start(.init(runId: 2, agent: .writer, question: "two"))])
        let late = store.appendReply(run: 1, text: "too late", complete: false, now: Self.at(5))
        #expect(!late)

        let messages = try store.messages(in: first.threadId, after: 0)
        #expect(messages.map(\.seq) == [1, 2, 4])  // the reply took seq 3, then 4 when aborted
        #expect(messages.last?.status == .aborted)
        #expect(messages.last?.content == "partial")
        #expect(
            store.effects.map(\.kind) == [.messageAccepted, .runStarted, .messageAccepted, .runAborted, .runStarted])
    }

    @Test(
        "An abort names the operator message whose run it ends: a queued run too; a run with no reply yet gets an empty aborted one"
    )
    func abortByMessage() throws {
        var store = ChatStore(maxContentBytes: 1024, pageSize: 10)
        let (first, _) = try store.post(Self.request("one"), idempotencyKey: "a", now: Self.at(1))
        let (second, _) = try store.post(
            Self.request("two", thread: first.threadId), idempotencyKey: "b", now: Self.at(2))
        let (third, _) = try store.post(
            Self.request("three", thread: first.threadId), idempotencyKey: "c", now: Self.at(3))
        _ = store.takeOutbox()

        // The queued run of "two" ends before it starts; "one" keeps running.
        let queued = try store.abort(threadId: first.threadId, messageId: second.message.id, now: Self.at(4))
        #expect(queued.count == 1)
        let stillGoing = store.appendReply(run: 1, text: "still going", complete: false, now: Self.at(5))
        #expect(stillGoing)
        // Aborting it again, or a message whose run is over, changes nothing.
        let again = try store.abort(threadId: first.threadId, messageId: second.message.id, now: Self.at(6))
        #expect(again.isEmpty)
        // A message of another thread, or an unknown one, is not found.
        #expect(throws: APIError.self) {
            try store.abort(threadId: first.threadId, messageId: "msg_999999", now: Self.at(6))
        }

        // "one" ends; "three" starts and is aborted before it writes anything.
        _ = store.appendReply(run: 1, text: "", complete: true, now: Self.at(7))
        store.finish(1)
        #expect(store.takeOutbox().jobs == [.start(.init(runId: 3, agent: .writer, question: "three"))])
        let running = try store.abort(threadId: first.threadId, now: Self.at(8))
        #expect(running.count == 1)

        let replies = try store.messages(in: first.threadId, after: 0).filter { $0.role == .assistant }
        let byQuestion = Dictionary(grouping: replies) { $0.replyTo ?? "" }
        #expect(byQuestion[second.message.id]?.map(\.status) == [.aborted])
        #expect(byQuestion[second.message.id]?.first?.content == "")
        #expect(byQuestion[third.message.id]?.map(\.status) == [.aborted])
        #expect(byQuestion[first.message.id]?.map(\.status) == [.complete])
    }

    @Test("Replays return the remembered answer and add nothing")
    func replay() throws {
        var store = ChatStore(maxContentBytes: 1024, pageSize: 10)
        let first = try store.post(Self.request("same"), idempotencyKey: "k", now: Self.at(1))
        _ = store.takeOutbox()
        let again = try store.post(Self.request("same"), idempotencyKey: "k", now: Self.at(99))
        #expect(again.replayed)
        #expect(again.response == first.response)
        let nothing = store.takeOutbox()
        #expect(nothing == ChatStore.Outbox())
        #expect(store.effects.count == 2)
        #expect(throws: APIError.self) {
            try store.post(Self.request("different"), idempotencyKey: "k", now: Self.at(100))
        }
    }

    @Test("The approval flow: propose parks the run; answering resumes it once")
    func approvals() throws {
        var store = ChatStore(maxContentBytes: 1024, pageSize: 10)
        _ = try store.post(Self.request("restart", agent: "operator"), idempotencyKey: "o", now: Self.at(1))
        let proposed = store.proposeToolCall(
            run: 1, name: "t", arguments: "{}", text: "call", prompt: "ok?", now: Self.at(2))
        #expect(proposed)
        _ = store.takeOutbox()
        let parked = store.appendReply(run: 1, text: "waiting", complete: false, now: Self.at(3))
        #expect(!parked)

        #expect(throws: APIError.self) {
            try store.answer(
                approvalId: "apr_000001", decision: .respond, note: "done", arguments: nil, now: Self.at(4))
        }
        #expect(throws: APIError.self) {
            try store.answer(
                approvalId: "apr_000001", decision: .edit, note: nil, arguments: #"{"host":""}"#, now: Self.at(4))
        }
        let record = try store.answer(
            approvalId: "apr_000001", decision: .edit, note: "yes", arguments: #"{"service":"web","host":"db-2"}"#,
            now: Self.at(4))
        #expect(record.status == .approved && record.decision == "edit")
        #expect(record.arguments == #"{"host":"db-2","service":"web"}"#)
        let resumed = store.takeOutbox().jobs
        #expect(
            resumed == [
                .resume(
                    .init(runId: 1, agent: .operator, question: "restart"),
                    verdict: .approved(arguments: #"{"host":"db-2","service":"web"}"#, edited: true), note: "yes")
            ])
        let again = try store.answer(
            approvalId: "apr_000001", decision: .edit, note: nil, arguments: #"{"host":"db-2","service":"web"}"#,
            now: Self.at(5))
        #expect(again == record)
        let quiet = store.takeOutbox().jobs
        #expect(quiet.isEmpty)
        #expect(throws: APIError.self) {
            try store.answer(approvalId: "apr_000001", decision: .reject, note: nil, arguments: nil, now: Self.at(6))
        }
    }

    @Test("The operator asks when the message's first line starts with ask:, and only then")
    func questionRule() {
        #expect(DemoAgent.question(for: "ask: Which host should I restart?") == "Which host should I restart?")
        #expect(DemoAgent.question(for: "\n  ASK:which one?\nmore text") == "which one?")
        #expect(DemoAgent.question(for: "ask:") == "What should I do next?")
        #expect(DemoAgent.question(for: "Restart the backup?") == nil, "a question mark alone is a request")
        #expect(DemoAgent.question(for: "Restart it.\nask: later") == nil, "only the first line counts")
    }

    @Test("A question offers respond and cancel only; respond needs text and resumes with it; cancel ends it")
    func questions() throws {
        var store = ChatStore(maxContentBytes: 1024, pageSize: 10)
        _ = try store.post(Self.request("ask: Which host?", agent: "operator"), idempotencyKey: "q", now: Self.at(1))
        let asked = store.askQuestion(run: 1, prompt: "Which host?", now: Self.at(2))
        #expect(asked)
        _ = store.takeOutbox()
        let asking = try #require(try store.messages(in: "thr_000001", after: 0).last)
        #expect(asking.role == .approval && asking.toolCall == nil)
        #expect(asking.approval?.toolCallId == nil && asking.approval?.decisions == ["respond", "cancel"])
        #expect(asking.approval?.argumentsSchema == nil)

        func refusal(_ decision: ApprovalAnswer.Decision, note: String?, arguments: String? = nil) -> String? {
            do {
                _ = try store.answer(
                    approvalId: "apr_000001", decision: decision, note: note, arguments: arguments, now: Self.at(3))
                return nil
            } catch let error as APIError { return error.code } catch { return "\(error)" }
        }
        #expect(refusal(.approve, note: nil) == "decision_not_offered")
        #expect(refusal(.reject, note: "no") == "decision_not_offered")
        #expect(refusal(.edit, note: nil, arguments: #"{"host":"db-2","service":"backup"}"#) == "decision_not_offered")
        #expect(refusal(.respond, note: nil) == "missing_field")
        #expect(refusal(.respond, note: "  \n") == "missing_field")
        let refusedJobs = store.takeOutbox().jobs
        #expect(refusedJobs.isEmpty, "nothing refused resumes the run")

        let record = try store.answer(
            approvalId: "apr_000001", decision: .respond, note: "db-2", arguments: nil, now: Self.at(4))
        #expect(record.status == .approved && record.decision == "respond" && record.note == "db-2")
        #expect(record.toolCallId == nil)
        let respondedJobs = store.takeOutbox().jobs
        #expect(
            respondedJobs == [
                .resume(
                    .init(runId: 1, agent: .operator, question: "ask: Which host?"),
                    verdict: .responded(answer: "db-2"), note: "db-2")
            ])
        #expect(store.message(asking.id)?.approval?.status == .approved)
        #expect(store.message(asking.id)?.status == .complete)
        let carriesOn = store.finishToolCall(run: 1, result: nil, now: Self.at(5))
        #expect(carriesOn, "no tool message: the run carries on")
        let replied = store.appendReply(
            run: 1, text: DemoAgent.respondedOutcome("db-2"), complete: true, now: Self.at(6))
        #expect(replied)
        #expect(DemoAgent.outcome(.responded(answer: "db-2"), note: nil).hasPrefix("You answered: db-2"))
        store.finish(1)

        _ = try store.post(
            Self.request("ask: Which day?", agent: "operator", thread: "thr_000001"), idempotencyKey: "q2",
            now: Self.at(7))
        let askedAgain = store.askQuestion(run: 2, prompt: "Which day?", now: Self.at(8))
        #expect(askedAgain)
        _ = store.takeOutbox()
        let cancelled = try store.answer(
            approvalId: "apr_000002", decision: .cancel, note: nil, arguments: nil, now: Self.at(9))
        #expect(cancelled.status == .cancelled)
        let cancelledJobs = store.takeOutbox().jobs
        #expect(
            cancelledJobs == [
                .resume(
                    .init(runId: 2, agent: .operator, question: "ask: Which day?"), verdict: .questionCancelled,
                    note: nil)
            ])
        #expect(DemoAgent.outcome(.questionCancelled, note: nil).contains("nothing was answered"))
    }

    @Test(
        "Timestamps print RFC 3339 UTC with milliseconds and parse back",
        arguments: [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_767_225_600_123, "2026-01-01T00:00:00.123Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ] as [(Int64, String)])
    func timestamps(milliseconds: Int64, text: String) {
        let timestamp = RuntimeTimestamp(milliseconds: milliseconds)
        #expect(timestamp.description == text)
        #expect(RuntimeTimestamp(rfc3339: text) == timestamp)
    }

    @Test(
        "Timestamps refuse anything but the exact form",
        arguments: [
            "2026-01-01T00:00:00Z", "2026-01-01 00:00:00.000Z", "2026-13-01T00:00:00.000Z",
            "2026-01-01T00:00:00.000+00:00",
        ])
    func badTimestamps(text: String) {
        #expect(RuntimeTimestamp(rfc3339: text) == nil)
    }

    @Test("The writer's chunks put back together are its whole answer, and there are many")
    func writerChunks() {
        let chunks = DemoAgent.writerChunks(for: "Why?")
        #expect(chunks.joined() == DemoAgent.writerAnswer(to: "Why?"))
        #expect(chunks.count > 20)
        #expect(chunks.allSatisfy { !$0.isEmpty })
    }
}
