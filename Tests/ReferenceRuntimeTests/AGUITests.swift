import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ReferenceRuntime
import Testing

/// The demo agents over AG-UI (`POST /ag-ui/{agent}`, docs/runtime-api.md "AG-UI"), read as raw SSE.
@Suite("AG-UI: the demo agents as server-sent events, interrupts kept as the protocol asks")
struct AGUITests {
    /// A `RunAgentInput` body.
    static func input(
        thread: String = "t1", run: String = "r1", question: String = "Restart the backup",
        resume: [[String: Any]]? = nil,
        key: String? = "t1/m#1"
    ) -> String {
        var body: [String: Any] = [
            "threadId": thread, "runId": run, "tools": [], "context": [],
            "messages": [["id": "m", "role": "user", "content": question]],
        ]
        if let resume { body["resume"] = resume }
        if let key { body["forwardedProps"] = ["letterbox": ["requestId": key]] }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The events of an SSE body, each a JSON object.
    static func events(_ reply: Reply) throws -> [[String: Any]] {
        try reply.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { frame in
            #expect(frame.hasPrefix("data: "), "every frame is one data line: \(frame)")
            let object = try JSONSerialization.jsonObject(with: Data(frame.dropFirst(6).utf8))
            return try #require(object as? [String: Any])
        }
    }

    static func types(_ events: [[String: Any]]) -> [String] { events.compactMap { $0["type"] as? String } }

    func run(_ runtime: Harness, _ agent: String, _ body: String) async throws -> Reply {
        try await runtime.send(.POST, "/ag-ui/\(agent)", body: body, headers: [("Accept", "text/event-stream")])
    }

    @Test("The assistant: RUN_STARTED, one text message in two parts, RUN_FINISHED; the run is recorded once")
    func assistant() async throws {
        try await withRuntime { runtime in
            let reply = try await run(runtime, "assistant", Self.input(question: "Is the backup healthy?"))
            #expect(reply.status == 200)
            #expect(reply.headers["Content-Type"].first == "text/event-stream")
            let events = try Self.events(reply)
            #expect(
                Self.types(events) == [
                    "RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_CONTENT",
                    "TEXT_MESSAGE_END", "RUN_FINISHED",
                ])
            #expect(events.first?["threadId"] as? String == "t1" && events.first?["runId"] as? String == "r1")
            let text = events.compactMap { $0["delta"] as? String }.joined()
            #expect(text.hasPrefix("> Is the backup healthy?\n\n") && text.contains("demo assistant"))
            #expect((events.last?["outcome"] as? [String: Any])?["type"] as? String == "success")
            #expect(!reply.text.contains("null"), "unset fields are left out, never null")
            let effects = try await runtime.effects()
            #expect(effects.map(\.kind) == [.messageAccepted, .runStarted])
            #expect(effects.first?.idempotencyKey == "t1/m#1" && effects.first?.content == "Is the backup healthy?")
        }
    }

    @Test("The writer streams its answer in many parts")
    func writer() async throws {
        try await withRuntime { runtime in
            let events = try Self.events(try await run(runtime, "writer", Self.input(question: "Release notes")))
            let parts = events.filter { $0["type"] as? String == "TEXT_MESSAGE_CONTENT" }
            #expect(parts.count > 20)
            let text = parts.compactMap { $0["delta"] as? String }.joined()
            #expect(text.hasPrefix("# Notes on: Release notes") && text.contains("| step | what | why |"))
        }
    }

    @Test(
        "The operator: a tool call and an interrupt; new input is refused while it is open; the resume answers it, and the same resume again gets the same bytes"
    )
    func operatorInterrupt() async throws {
        try await withRuntime { runtime in
            let first = try Self.events(try await run(runtime, "operator", Self.input()))
            #expect(
                Self.types(first) == [
                    "RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "TOOL_CALL_START",
                    "TOOL_CALL_ARGS", "TOOL_CALL_END", "STATE_SNAPSHOT", "MESSAGES_SNAPSHOT", "RUN_FINISHED",
                ])
            let outcome = try #require(first.last?["outcome"] as? [String: Any])
            #expect(outcome["type"] as? String == "interrupt")
            let interrupt = try #require((outcome["interrupts"] as? [[String: Any]])?.first)
            #expect(interrupt["reason"] as? String == "tool_call")
            #expect(interrupt["toolCallId"] as? String == "r1-call-1")
            #expect(interrupt["message"] as? String == "Restart backup on db-1?")
            let snapshot = try #require(first.first { $0["type"] as? String == "MESSAGES_SNAPSHOT" })
            #expect((snapshot["messages"] as? [[String: Any]])?.count == 2, "the history and the proposal")
            let id = try #require(interrupt["id"] as? String)

            let refused = try Self.events(try await run(runtime, "operator", Self.input(run: "r2", question: "again")))
            #expect(Self.types(refused) == ["RUN_ERROR"])
            #expect(refused.first?["code"] as? String == "interrupts_pending")

            let resume: [[String: Any]] = [["interruptId": id, "status": "resolved", "payload": ["approved": true]]]
            let answered = try await run(runtime, "operator", Self.input(run: "r1.resume", resume: resume))
            let events = try Self.events(answered)
            #expect(
                Self.types(events) == [
                    "RUN_STARTED", "TOOL_CALL_RESULT", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END",
                    "STATE_SNAPSHOT", "RUN_FINISHED",
                ])
            #expect(events[1]["toolCallId"] as? String == "r1-call-1")
            #expect(
                events[1]["content"] as? String == "backup restarted on db-1 (demo: nothing was actually restarted)")
            #expect((events[3]["delta"] as? String)?.hasPrefix("Done: I restarted") == true)

            let replayed = try await run(runtime, "operator", Self.input(run: "r1.resume", resume: resume))
            #expect(replayed.body == answered.body, "a replayed resume is answered the same")
            let answers = try await runtime.effects().filter { $0.kind == .approvalAnswered }
            #expect(answers.map(\.content) == ["approve"], "one answer, however often it is replayed")

            let next = try Self.events(try await run(runtime, "assistant", Self.input(run: "r3", question: "thanks")))
            #expect(Self.types(next).first == "RUN_STARTED", "answered, the thread takes new input")
        }
    }

    @Test("Rejected and cancelled answers; resumes that do not answer every open interrupt are refused")
    func rejectAndCancel() async throws {
        try await withRuntime { runtime in
            func open(_ thread: String) async throws -> String {
                let events = try Self.events(try await run(runtime, "operator", Self.input(thread: thread)))
                let outcome = try #require(events.last?["outcome"] as? [String: Any])
                return try #require((outcome["interrupts"] as? [[String: Any]])?.first?["id"] as? String)
            }
            let id = try await open("t-reject")
            for (resume, code) in [
                ([["interruptId": "nope", "status": "resolved", "payload": ["approved": true]]], "unknown_interrupt"),
                ([["interruptId": id, "status": "resolved", "payload": [:] as [String: Any]]], "invalid_payload"),
                ([["interruptId": id, "status": "maybe"]], "invalid_status"),
            ] as [([[String: Any]], String)] {
                let refused = try Self.events(
                    try await run(runtime, "operator", Self.input(thread: "t-reject", resume: resume)))
                #expect(refused.first?["code"] as? String == code)
            }
            let rejected = try Self.events(
                try await run(
                    runtime, "operator",
                    Self.input(
                        thread: "t-reject",
                        resume: [
                            [
                                "interruptId": id, "status": "resolved",
                                "payload": ["approved": false, "reason": "not now"],
                            ]
                        ])))
            #expect(rejected[1]["content"] as? String == "rejected: not now")
            #expect(rejected.compactMap { $0["delta"] as? String }.joined().contains("you rejected the request"))

            let cancelID = try await open("t-cancel")
            let cancelled = try Self.events(
                try await run(
                    runtime, "operator",
                    Self.input(thread: "t-cancel", resume: [["interruptId": cancelID, "status": "cancelled"]])))
            #expect(cancelled[1]["content"] as? String == "cancelled by the operator")
            let answers = try await runtime.effects().filter { $0.kind == .approvalAnswered }.map(\.content)
            #expect(answers == ["reject", "cancel"])
        }
    }

    @Test(
        "The operator asked a question (ask:): an input interrupt with no tool call; approval payloads are refused; the response is quoted; cancel says nothing was answered"
    )
    func question() async throws {
        try await withRuntime { runtime in
            let first = try Self.events(
                try await run(runtime, "operator", Self.input(thread: "t-ask", question: "ask: Which host?")))
            #expect(Self.types(first) == ["RUN_STARTED", "RUN_FINISHED"])
            let outcome = try #require(first.last?["outcome"] as? [String: Any])
            let interrupt = try #require((outcome["interrupts"] as? [[String: Any]])?.first)
            #expect(interrupt["reason"] as? String == "input" && interrupt["toolCallId"] == nil)
            #expect(interrupt["message"] as? String == "Which host?")
            let schema = try #require(interrupt["responseSchema"] as? [String: Any])
            #expect(schema["type"] as? String == "string" && schema["properties"] == nil)
            let id = try #require(interrupt["id"] as? String)

            // An approval's payload, and a blank answer: neither answers a question.
            for payload in [["approved": true] as [String: Any], ["approved": false, "reason": "no"], " "] as [Any] {
                let refused = try Self.events(
                    try await run(
                        runtime, "operator",
                        Self.input(
                            thread: "t-ask", run: "r-bad",
                            resume: [["interruptId": id, "status": "resolved", "payload": payload]])))
                #expect(refused.first?["code"] as? String == "invalid_payload", "\(payload)")
            }

            let answered = try Self.events(
                try await run(
                    runtime, "operator",
                    Self.input(
                        thread: "t-ask", run: "r1.resume",
                        resume: [["interruptId": id, "status": "resolved", "payload": "db-2, please"]])))
            #expect(
                Self.types(answered) == [
                    "RUN_STARTED", "TEXT_MESSAGE_START", "TEXT_MESSAGE_CONTENT", "TEXT_MESSAGE_END", "RUN_FINISHED",
                ])
            #expect((answered[2]["delta"] as? String)?.hasPrefix("You answered: db-2, please") == true)

            let cancelID = try #require(
                ((try Self.events(
                    try await run(runtime, "operator", Self.input(thread: "t-ask-2", question: "ask: Which day?"))
                )
                .last?["outcome"] as? [String: Any])?["interrupts"] as? [[String: Any]])?.first?["id"] as? String)
            let cancelled = try Self.events(
                try await run(
                    runtime, "operator",
                    Self.input(
                        thread: "t-ask-2", run: "r2.resume", resume: [["interruptId": cancelID, "status": "cancelled"]])
                ))
            #expect(cancelled.compactMap { $0["delta"] as? String }.joined().contains("nothing was answered"))
            let answers = try await runtime.effects().filter { $0.kind == .approvalAnswered }.map(\.content)
            #expect(answers == ["respond", "cancel"])
        }
    }

    @Test("Unknown agents are 404, agents without the chat scope and runs without a user message get RUN_ERROR")
    func refusals() async throws {
        try await withRuntime { runtime in
            let unknown = try await run(runtime, "nobody", Self.input())
            #expect(unknown.status == 404 && unknown.errorCode == "agent_not_found")
            #expect(unknown.errorMessage?.contains("assistant, writer, operator") == true)
            let copilot = try Self.events(try await run(runtime, "copilot", Self.input()))
            #expect(copilot.map { $0["code"] as? String } == ["agent_not_chat"])
            let malformed = try await run(runtime, "assistant", "{\"threadId\": 1}")
            #expect(malformed.status == 400)
            let noToken = try await runtime.send(.POST, "/ag-ui/assistant", body: Self.input(), token: nil)
            #expect(noToken.status == 401)
            #expect(try await runtime.effects().isEmpty)
        }
    }

    @Test("A client that goes away mid-stream: the run is recorded as aborted with the text sent so far")
    func disconnect() async throws {
        try await withRuntime(streamInterval: .milliseconds(30)) { runtime in
            var request = HTTPClientRequest(url: runtime.baseURL + "/ag-ui/writer")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(runtime.token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: Self.input(question: "Long notes")))
            let task = Task {
                let response = try await runtime.client.execute(request, timeout: .seconds(30))
                var received = 0
                for try await part in response.body {
                    received += part.readableBytes
                    if received > 400 { return }  // leaving the loop drops the connection
                }
            }
            try await task.value
            let deadline = ContinuousClock.now + .seconds(10)
            while try await runtime.effects().allSatisfy({ $0.kind != .runAborted }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let effects = try await runtime.effects()
            let aborted = try #require(effects.first(where: { $0.kind == .runAborted }))
            #expect(aborted.content?.hasPrefix("# Notes on: Long notes") == true, "\(aborted)")
        }
    }
}
