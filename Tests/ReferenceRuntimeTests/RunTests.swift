import Foundation
import NIOHTTP1
import ReferenceRuntime
import Testing

@Suite("Runs: streaming, approvals, abort, regenerate")
struct RunTests {
    @Test("The writer streams: one message id, increasing seq, growing content, then complete")
    func writerStreams() async throws {
        try await withRuntime(streamInterval: .milliseconds(10)) { runtime in
            let posted = try await runtime.post("How do I plan a migration?", agent: "writer")
            let timeline = try await runtime.follow(posted.threadId, after: posted.message.seq) {
                $0.first(.assistant)?.status == .complete
            }
            let reply = try #require(timeline.first(.assistant))
            let versions = timeline.versions.filter { $0.id == reply.id }
            #expect(versions.count >= 3, "saw \(versions.count) versions")
            #expect(zip(versions, versions.dropFirst()).allSatisfy { $0.seq < $1.seq })
            #expect(zip(versions, versions.dropFirst()).allSatisfy { $1.content.hasPrefix($0.content) })
            #expect(zip(versions, versions.dropFirst()).allSatisfy { $0.content.count < $1.content.count })
            #expect(versions.dropLast().allSatisfy { $0.status == .inProgress })
            #expect(reply.content.hasPrefix("# Notes on: How do I plan a migration?"))
            #expect(reply.content.contains("```swift"))
            #expect(reply.content.contains("| step | what | why |"))
            #expect(reply.replyTo == posted.message.id)
            #expect(reply.createdAt < reply.updatedAt)
        }
    }

    @Test("Abort mid-stream: the reply becomes aborted, keeps its text, stops growing; the effect is logged")
    func abortMidStream() async throws {
        try await withRuntime(streamInterval: .milliseconds(100)) { runtime in
            let posted = try await runtime.post("Tell me everything", agent: "writer")
            let started = try await runtime.follow(posted.threadId) { timeline in
                (timeline.first(.assistant)?.content.count ?? 0) > 0
            }
            let partial = try #require(started.first(.assistant))
            #expect(partial.status == .inProgress)

            let reply = try await runtime.send(.POST, "/external/chat/threads/\(posted.threadId)/abort")
            #expect(reply.status == 200)
            struct Aborted: Decodable { var aborted: [String] }
            #expect(try reply.json(Aborted.self).aborted == [partial.id])

            let all = try await runtime.poll(posted.threadId, after: 0)
            let aborted = try #require(all.first { $0.id == partial.id })
            #expect(aborted.status == .aborted)
            #expect(aborted.content.hasPrefix(partial.content))
            #expect(!aborted.content.isEmpty)
            #expect(!aborted.content.contains("That is all for now"))

            // Nothing changes after the abort.
            let head = all.map(\.seq).max() ?? 0
            #expect(try await runtime.poll(posted.threadId, after: head, wait: 0.3).isEmpty)

            let effect = try #require(try await runtime.effects().last)
            #expect(effect.kind == .runAborted)
            #expect(effect.messageId == posted.message.id)
            #expect(effect.content == aborted.content)

            // Nothing left to abort: 200 with an empty list, no new effect.
            let again = try await runtime.send(.POST, "/external/chat/threads/\(posted.threadId)/abort")
            #expect(again.status == 200)
            #expect(try again.json(Aborted.self).aborted.isEmpty)
            #expect(try await runtime.effects().filter { $0.kind == .runAborted }.count == 1)
        }
    }

    /// Posts to the operator agent and waits for its approval request.
    private func awaitApproval(_ runtime: Harness) async throws -> (PostReply, Timeline) {
        let posted = try await runtime.post("Please restart the backup service", agent: "operator")
        let timeline = try await runtime.follow(posted.threadId) { $0.first(.approval) != nil }
        return (posted, timeline)
    }

    @Test("Operator agent: tool call, pending approval, approve → result and a completed answer")
    func approve() async throws {
        try await withRuntime { runtime in
            let (posted, asked) = try await awaitApproval(runtime)
            let tool = try #require(asked.first(.tool))
            let asking = try #require(asked.first(.approval))
            let call = try #require(tool.toolCall)
            let approval = try #require(asking.approval)
            #expect(call.name == "restart_service")
            let arguments = try JSONSerialization.jsonObject(with: Data(call.arguments.utf8)) as? [String: String]
            #expect(arguments == ["service": "backup", "host": "db-1"])
            #expect(call.result == nil)
            #expect(tool.status == .inProgress)
            #expect(approval.status == .pending)
            #expect(approval.toolCallId == call.id)
            #expect(approval.prompt == "Restart backup on db-1?")
            #expect(tool.replyTo == posted.message.id && asking.replyTo == posted.message.id)
            #expect(asked.first(.assistant) == nil)

            let answer = try await runtime.send(
                .POST, "/external/chat/approvals/\(approval.id)", body: #"{"decision":"approve","note":"go ahead"}"#)
            #expect(answer.status == 200, "\(answer.text)")
            struct Answered: Decodable { var approval: ApprovalRecord }
            let record = try answer.json(Answered.self).approval
            #expect(record.status == .approved)
            #expect(record.note == "go ahead")
            #expect(record.messageId == asking.id)
            #expect(record.answeredAt != nil)

            let done = try await runtime.follow(posted.threadId, after: asked.cursor) {
                $0.first(.assistant)?.status == .complete
            }
            var all = asked
            all.add(done.versions)
            let finalTool = try #require(all.first(.tool))
            #expect(finalTool.status == .complete)
            #expect(finalTool.toolCall?.result?.contains("restarted") == true)
            #expect(all.first(.approval)?.approval?.status == .approved)
            #expect(all.first(.approval)?.status == .complete)
            let outcome = try #require(all.first(.assistant))
            #expect(outcome.content.hasPrefix("Done: I restarted `backup` on `db-1`"))
            #expect(outcome.content.contains("go ahead"))
            #expect(outcome.replyTo == posted.message.id)

            // The same answer again is a no-op 200; the other answer is a conflict.
            let same = try await runtime.send(
                .POST, "/external/chat/approvals/\(approval.id)", body: #"{"decision":"approve","note":null}"#)
            #expect(same.status == 200)
            #expect(try same.json(Answered.self).approval == record)
            let other = try await runtime.send(
                .POST, "/external/chat/approvals/\(approval.id)", body: #"{"decision":"reject"}"#)
            #expect(other.status == 409)
            #expect(other.errorCode == "approval_already_answered")
            let bad = try await runtime.send(
                .POST, "/external/chat/approvals/\(approval.id)", body: #"{"decision":"maybe"}"#)
            #expect(bad.status == 400)

            let answered = try await runtime.effects().filter { $0.kind == .approvalAnswered }
            #expect(answered.map(\.content) == ["approve"])
            #expect(answered.first?.messageId == asking.id)
        }
    }

    @Test(
        "Operator agent asked a question (ask:): no tool call; only respond and cancel; the answer quotes the response")
    func question() async throws {
        try await withRuntime { runtime in
            let posted = try await runtime.post("ask: Which host should I restart?", agent: "operator")
            let asked = try await runtime.follow(posted.threadId) { $0.first(.approval) != nil }
            #expect(asked.first(.tool) == nil, "a question proposes no tool call")
            let asking = try #require(asked.first(.approval))
            let approval = try #require(asking.approval)
            #expect(approval.toolCallId == nil && approval.prompt == "Which host should I restart?")
            #expect(approval.decisions == ["respond", "cancel"] && approval.argumentsSchema == nil)
            #expect(asking.content == "Which host should I restart?" && asking.replyTo == posted.message.id)

            let path = "/external/chat/approvals/\(approval.id)"
            for body in [#"{"decision":"approve"}"#, #"{"decision":"reject","note":"no"}"#] {
                let refused = try await runtime.send(.POST, path, body: body)
                #expect(refused.status == 422 && refused.errorCode == "decision_not_offered", "\(refused.text)")
            }
            let empty = try await runtime.send(.POST, path, body: #"{"decision":"respond"}"#)
            #expect(empty.status == 400 && empty.errorCode == "missing_field")

            let answer = try await runtime.send(.POST, path, body: #"{"decision":"respond","note":"db-2, not db-1"}"#)
            #expect(answer.status == 200, "\(answer.text)")
            struct Answered: Decodable { var approval: ApprovalRecord }
            let record = try answer.json(Answered.self).approval
            #expect(record.status == .approved && record.decision == "respond" && record.note == "db-2, not db-1")
            #expect(record.toolCallId == nil)
            #expect(answer.text.contains(#""toolCallId":null"#), "a question's record says it gates no tool call")

            let done = try await runtime.follow(posted.threadId, after: asked.cursor) {
                $0.first(.assistant)?.status == .complete
            }
            var all = asked
            all.add(done.versions)
            #expect(all.first(.approval)?.status == .complete)
            let outcome = try #require(all.first(.assistant))
            #expect(outcome.content.hasPrefix("You answered: db-2, not db-1"))
            #expect(all.first(.tool) == nil)
            #expect(try await runtime.effects().filter { $0.kind == .approvalAnswered }.map(\.content) == ["respond"])

            // A tool call's approval still refuses respond.
            _ = try await runtime.post("Restart it", agent: "operator", thread: posted.threadId)
            let gated = try await runtime.follow(posted.threadId, after: all.cursor) {
                $0.first(.approval) != nil
            }
            let toolApproval = try #require(gated.first(.approval)?.approval)
            #expect(toolApproval.toolCallId != nil && !toolApproval.decisions.contains("respond"))
            let respond = try await runtime.send(
                .POST, "/external/chat/approvals/\(toolApproval.id)", body: #"{"decision":"respond","note":"done"}"#)
            #expect(respond.status == 422 && respond.errorCode == "decision_not_offered")
        }
    }

    @Test("Operator agent's question cancelled: the answer says nothing was answered")
    func questionCancelled() async throws {
        try await withRuntime { runtime in
            let posted = try await runtime.post("ask: Which day?", agent: "operator")
            let asked = try await runtime.follow(posted.threadId) { $0.first(.approval) != nil }
            let approval = try #require(asked.first(.approval)?.approval)
            let answer = try await runtime.send(
                .POST, "/external/chat/approvals/\(approval.id)", body: #"{"decision":"cancel"}"#)
            #expect(answer.status == 200)
            let done = try await runtime.follow(posted.threadId, after: asked.cursor) {
                $0.first(.assistant)?.status == .complete
            }
            #expect(done.first(.assistant)?.content.contains("nothing was answered") == true)
            #expect(done.first(.approval)?.approval?.status == .cancelled)
        }
    }

    @Test("Operator agent: reject → the tool never runs and the answer says so")
    func reject() async throws {
        try await withRuntime { runtime in
            let (posted, asked) = try await awaitApproval(runtime)
            let approval = try #require(asked.first(.approval)?.approval)
            let answer = try await runtime.send(
                .POST, "/external/chat/approvals/\(approval.id)", body: #"{"decision":"reject","note":null}"#)
            #expect(answer.status == 200)
            let done = try await runtime.follow(posted.threadId, after: asked.cursor) {
                $0.first(.assistant)?.status == .complete
            }
            var all = asked
            all.add(done.versions)
            #expect(all.first(.tool)?.status == .aborted)
            #expect(all.first(.tool)?.toolCall?.result == nil)
            #expect(all.first(.approval)?.approval?.status == .rejected)
            #expect(all.first(.assistant)?.content.hasPrefix("I did not restart `backup` on `db-1`") == true)
            #expect(try await runtime.effects().filter { $0.kind == .approvalAnswered }.map(\.content) == ["reject"])
        }
    }

    @Test("Aborting a run that waits for approval closes the approval (409 afterwards)")
    func abortWhileAwaitingApproval() async throws {
        try await withRuntime { runtime in
            let (posted, asked) = try await awaitApproval(runtime)
            let approval = try #require(asked.first(.approval)?.approval)
            let reply = try await runtime.send(.POST, "/external/chat/threads/\(posted.threadId)/abort")
            struct Aborted: Decodable { var aborted: [String] }
            // The tool call and the approval, and the empty reply written so a follower sees the answer end.
            #expect(try reply.json(Aborted.self).aborted.count == 3)
            let late = try await runtime.send(
                .POST, "/external/chat/approvals/\(approval.id)", body: #"{"decision":"approve"}"#)
            #expect(late.status == 409)
            #expect(late.errorCode == "approval_closed")
        }
    }

    @Test("Regenerate keeps the old answer and adds a new one; 409 while a run is going; 422 for a reply's id")
    func regenerate() async throws {
        try await withRuntime { runtime in
            let posted = try await runtime.post("What is a cron job?")
            let first = try await runtime.follow(posted.threadId) { $0.first(.assistant)?.status == .complete }
            let old = try #require(first.first(.assistant))

            let reply = try await runtime.send(.POST, "/external/chat/messages/\(posted.message.id)/regenerate")
            #expect(reply.status == 202, "\(reply.text)")
            struct Regenerated: Decodable { var message: ChatMessage }
            let fresh = try reply.json(Regenerated.self).message
            #expect(fresh.id != old.id)
            #expect(fresh.role == .assistant)
            #expect(fresh.status == .inProgress)
            #expect(fresh.replyTo == posted.message.id)

            let second = try await runtime.follow(posted.threadId, after: first.cursor) {
                $0.latest[fresh.id]?.status == .complete
            }
            #expect(second.latest[fresh.id]?.content == old.content)  // deterministic
            let all = try await runtime.poll(posted.threadId, after: 0)
            #expect(all.filter { $0.role == .assistant }.map(\.id) == [old.id, fresh.id])
            #expect(all.first { $0.id == old.id } == old)  // untouched

            let wrong = try await runtime.send(.POST, "/external/chat/messages/\(old.id)/regenerate")
            #expect(wrong.status == 422)
            #expect(wrong.errorCode == "not_an_operator_message")

            let kinds = try await runtime.effects().map(\.kind)
            #expect(kinds == [.messageAccepted, .runStarted, .regenerated, .runStarted])
        }
    }

    @Test("Regenerate while a run is in progress is a 409")
    func regenerateConflict() async throws {
        try await withRuntime(streamInterval: .milliseconds(100)) { runtime in
            let posted = try await runtime.post("Stream this", agent: "writer")
            let reply = try await runtime.send(.POST, "/external/chat/messages/\(posted.message.id)/regenerate")
            #expect(reply.status == 409)
            #expect(reply.errorCode == "run_in_progress")
            _ = try await runtime.send(.POST, "/external/chat/threads/\(posted.threadId)/abort")
            let after = try await runtime.send(.POST, "/external/chat/messages/\(posted.message.id)/regenerate")
            #expect(after.status == 202)
        }
    }

    @Test("Thread listing pages by cursor, in creation order")
    func pagination() async throws {
        try await withRuntime(pageSize: 2) { runtime in
            var created: [String] = []
            for index in 1...5 {
                let reply = try await runtime.postMessage("question \(index)", title: "Thread \(index)")
                created.append(try reply.json(PostReply.self).threadId)
            }
            var seen: [ChatThread] = []
            var pages: [Int] = []
            var cursor: String?
            repeat {
                let query = cursor.map { "?cursor=\($0)" } ?? ""
                let page = try await runtime.get("/external/chat/threads\(query)").json(ThreadsReply.self)
                pages.append(page.threads.count)
                seen += page.threads
                cursor = page.nextCursor
            } while cursor != nil
            #expect(pages == [2, 2, 1])
            #expect(seen.map(\.id) == created)
            #expect(seen.map(\.title) == (1...5).map { "Thread \($0)" })
            #expect(seen.allSatisfy { $0.agentId == "assistant" })
        }
    }
}
