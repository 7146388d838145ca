import Foundation
import NIOHTTP1
import ReferenceRuntime
import Testing

@Suite("External chat API: auth, agents, posting, long polling")
struct ChatAPITests {
    @Test("Requests without the right bearer token get 401 with the JSON error shape")
    func authentication() async throws {
        try await withRuntime { runtime in
            for token in [nil, "wrong"] as [String?] {
                for (method, path) in [("GET", "/external/agents"), ("GET", "/_reference/effects")] {
                    let reply = try await runtime.send(method == "GET" ? .GET : .POST, path, token: token)
                    #expect(reply.status == 401)
                    #expect(reply.errorCode == "unauthorized")
                    #expect(reply.headers["WWW-Authenticate"].first == "Bearer")
                }
            }
            #expect(try await runtime.get("/external/agents").status == 200)
        }
    }

    @Test("The token and Authorization header never reach the log")
    func tokenNotLogged() async throws {
        let recorder = LogRecorder()
        let token = "very-secret-token-1234"
        try await withRuntime(token: token, logger: recorder.logger()) { runtime in
            _ = try await runtime.post("hello")
            _ = try await runtime.send(.GET, "/external/agents", token: "wrong-\(token)")
            _ = try await runtime.get("/nope")
        }
        #expect(!recorder.all.isEmpty)
        #expect(recorder.all.allSatisfy { !$0.contains(token) && !$0.lowercased().contains("authorization") })
    }

    @Test("GET /external/agents lists the demo agents with their scopes")
    func agents() async throws {
        try await withRuntime { runtime in
            struct Agents: Decodable { var agents: [RuntimeAgent] }
            let agents = try await runtime.get("/external/agents").json(Agents.self).agents
            #expect(agents.map(\.id) == ["assistant", "writer", "operator", "copilot"])
            #expect(agents.map(\.name) == ["Assistant", "Writer", "Ops runner", "Copilot"])
            #expect(agents.filter { $0.scopeIds.contains("chat") }.count == 3)
            #expect(agents.last?.scopeIds == ["copilot"])
        }
    }

    @Test("A post is accepted (202) and the assistant's reply arrives through long polling")
    func postAndReply() async throws {
        try await withRuntime { runtime in
            let posted = try await runtime.post("Is the nightly backup healthy?\nIt failed twice.")
            #expect(posted.message.role == .operator)
            #expect(posted.message.status == .accepted)
            #expect(posted.message.threadId == posted.threadId)
            #expect(posted.message.seq == 1)
            #expect(posted.message.content == "Is the nightly backup healthy?\nIt failed twice.")

            let timeline = try await runtime.follow(posted.threadId, after: posted.message.seq) {
                $0.first(.assistant)?.status == .complete
            }
            let reply = try #require(timeline.first(.assistant))
            #expect(reply.replyTo == posted.message.id)
            #expect(reply.content.hasPrefix("> Is the nightly backup healthy?\n\n"))
            #expect(reply.content.contains("1. Look at the current state first"))
            #expect(reply.seq > posted.message.seq)

            // The thread is listed with the first line as its title.
            let threads = try await runtime.get("/external/chat/threads").json(ThreadsReply.self)
            #expect(threads.threads.map(\.title) == ["Is the nightly backup healthy?"])
            #expect(threads.nextCursor == nil)
        }
    }

    @Test("The same question gets the same answer: the demo agents are deterministic")
    func deterministic() async throws {
        try await withRuntime { runtime in
            var answers: [String] = []
            for _ in 0..<2 {
                let posted = try await runtime.post("Same question")
                let timeline = try await runtime.follow(posted.threadId) { $0.first(.assistant)?.status == .complete }
                answers.append(try #require(timeline.first(.assistant)).content)
            }
            #expect(answers[0] == answers[1])
        }
    }

    @Test("Messages have a fixed JSON shape: optional fields are null, times are RFC 3339 UTC with milliseconds")
    func messageShape() async throws {
        try await withRuntime { runtime in
            let reply = try await runtime.postMessage("Shape?")
            let object = try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
            let message = try #require(object["message"] as? [String: Any])
            #expect(
                Set(message.keys)
                    == [
                        "id", "threadId", "seq", "role", "content", "createdAt", "updatedAt", "status", "replyTo",
                        "toolCall", "approval",
                    ])
            #expect(message["replyTo"] is NSNull)
            #expect(message["toolCall"] is NSNull)
            #expect(message["approval"] is NSNull)
            let created = try #require(message["createdAt"] as? String)
            #expect(created.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
            #expect(created.hasPrefix("2026-01-01T00:00:00."))  // from the injected clock
        }
    }

    @Test("afterSeq is a cursor; waitSeconds returns early on a change and [] on timeout")
    func longPolling() async throws {
        try await withRuntime { runtime in
            let posted = try await runtime.post("first")
            let done = try await runtime.follow(posted.threadId) { $0.first(.assistant)?.status == .complete }
            let head = done.cursor

            // Everything after 0; nothing after the head.
            #expect(try await runtime.poll(posted.threadId, after: 0).map(\.seq) == done.messages.map(\.seq).sorted())
            #expect(try await runtime.poll(posted.threadId, after: head).isEmpty)

            // A timeout answers [] (short wait: the test checks the answer, not the clock).
            #expect(try await runtime.poll(posted.threadId, after: head, wait: 0.2).isEmpty)

            // A long wait returns as soon as a change happens: start it, then post into the thread.
            async let waited = runtime.poll(posted.threadId, after: head, wait: 30)
            try await Task.sleep(for: .milliseconds(50))
            let second = try await runtime.post("second", thread: posted.threadId)
            let started = ContinuousClock.now
            let changes = try await waited
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(changes.first?.id == second.message.id)
            #expect(changes.allSatisfy { $0.seq > head })
        }
    }

    @Test("Messages posted while a run is going wait their turn, then run in order")
    func queuedRuns() async throws {
        try await withRuntime(streamInterval: .milliseconds(10)) { runtime in
            let first = try await runtime.post("first, long", agent: "writer")
            let second = try await runtime.post("second, short", agent: "writer", thread: first.threadId)
            let timeline = try await runtime.follow(first.threadId) { timeline in
                timeline.messages.filter { $0.role == .assistant && $0.status == .complete }.count == 2
            }
            let replies = timeline.messages.filter { $0.role == .assistant }
            #expect(replies.map(\.replyTo) == [first.message.id, second.message.id])
            // The second reply started only after the first one completed.
            let firstDone = try #require(timeline.versions.first { $0.id == replies[0].id && $0.status == .complete })
            let secondStart = try #require(timeline.versions.first { $0.id == replies[1].id })
            #expect(secondStart.seq > firstDone.seq)
            let kinds = try await runtime.effects().map(\.kind)
            #expect(kinds == [.messageAccepted, .runStarted, .messageAccepted, .runStarted])
        }
    }
}
