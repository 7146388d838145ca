import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Testing

@testable import InboxDaemon

/// The daemon against real AG-UI servers (Tests/Peers): pydantic-ai's own AG-UI adapter, and a
/// scripted server for everything pydantic-ai never does (misbehaviour, every event family, two
/// interrupts at once, Umbraco AI's dialect). Real processes, real files, real HTTP on 127.0.0.1.
@Suite("AG-UI against real peers (pydantic-ai, scripted)", .serialized, .processSlot)
struct AGUIPeerTests {
    // MARK: Harness

    /// A pydantic-ai peer and a daemon treating it as one chat agent, `pydantic`.
    static func withPydantic(_ body: (Scratch, PeerProcess) async throws -> Void) async throws {
        try await PeerProcess.with("agui_pydantic_peer.py") { peer in
            let scratch = try Scratch()
            try scratch.thread("t", agent: "pydantic")
            let daemon = try DaemonProcess.start(
                scratch, runtimeURL: peer.baseURL, arguments: ["--runtime-kind", "ag-ui", "--agent", "pydantic"])
            defer { daemon.stop() }
            try await daemon.waitUntilReady()
            try await body(scratch, peer)
        }
    }

    static let scenarios = [
        "ok", "chunks", "everything", "sse-edge", "out-of-order", "cut", "truncated", "run-error", "garbage",
        "never-ending", "huge-line", "interrupt", "subagents", "custom-interrupt", "cancelled",
    ]

    /// The scripted peer, with one configured agent per scenario (its `path`), the threads (thread ->
    /// agent) made before the daemon starts, and a daemon.
    static func withScripted(
        threads: [String: String], _ body: (Scratch, PeerProcess, DaemonProcess) async throws -> Void
    ) async throws {
        try await PeerProcess.with("agui_scripted_peer.py") { peer in
            let agents = scenarios.map { "  - id: \($0)\n    path: /\($0)" }.joined(separator: "\n")
            let scratch = try Scratch(
                extraConfig: """
                    runtimes:
                      - name: scripted
                        kind: ag-ui
                        url: \(peer.baseURL)
                    agents:
                    \(agents)
                    """)
            for (thread, agent) in threads { try scratch.thread(thread, agent: agent) }
            let daemon = try DaemonProcess.start(scratch, runtimeURL: peer.baseURL)
            defer { daemon.stop() }
            try await daemon.waitUntilReady()
            try await body(scratch, peer, daemon)
        }
    }

    /// Ticks a box in an approval file (and writes a note under it), as an operator would.
    static func tick(_ scratch: Scratch, _ file: String, _ box: String, note: String? = nil) throws {
        let text = try #require(scratch.read(file))
        try scratch.write(file, text.replacingOccurrences(of: "- [ ] \(box)", with: "- [x] \(box)") + (note ?? ""))
    }

    static func run(_ scratch: Scratch, _ thread: String, message: String) throws -> RunState? {
        try scratch.state(thread).runs.values.filter { $0.message == message }.max { $0.startedAt < $1.startedAt }
    }

    static func replied(_ scratch: Scratch, _ thread: String, _ message: String) throws -> Bool {
        try scratch.state(thread).message(message)?.delivery == .replied
    }

    static func body(_ scratch: Scratch, _ file: String) -> ReplyBody {
        let text = scratch.read(file) ?? ""
        return ReplyBody(String((try? FrontMatter.split(text).body) ?? text[...]))
    }

    /// Whether any value in the document is `null`.
    static func containsNull(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case let .array(items): items.contains(where: containsNull)
        case let .object(members): members.values.contains(where: containsNull)
        default: false
        }
    }

    // MARK: pydantic-ai

    @Test("pydantic-ai: streamed text with usage; headers; the next message carries the history")
    func pydanticText() async throws {
        try await Self.withPydantic { scratch, peer in
            try scratch.write("t/hello.md", "Say something plain.")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "t", "hello") }
            #expect(Self.body(scratch, "t/hello.reply.md").text == "Hello from pydantic-ai.")
            let run = try #require(try Self.run(scratch, "t", message: "hello"))
            #expect(run.detail?.contains(#""model":"letterbox-peer""#) == true, "usage recorded: \(run.detail ?? "")")
            // Letterbox declares 1.0, so pydantic-ai answers with its 1.0 fields, its own version first.
            #expect(run.customEvents.first == #"{"protocolVersion":"1.0","type":"RUN_STARTED"}"#)
            #expect(peer.log("request").first?["protocolVersion"] == "1.0")
            let request = try #require(peer.log("request").first)
            #expect(request["headers"]?["content-type"] == "application/json")
            #expect(request["headers"]?["accept"] == "text/event-stream")
            #expect(request["headers"]?["authorization"]?.stringValue == "Bearer \(DaemonHarness.token)")
            #expect(request["threadId"] == "t" && request["runId"] == "hello.run-1" && request["messages"] == 1)

            try scratch.write("t/again.md", "Repeat after me.")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "t", "again") }
            #expect(Self.body(scratch, "t/again.reply.md").text == "Echo: Repeat after me.")
            #expect(peer.log("request").last?["messages"] == 3, "user, assistant, user")
            #expect(peer.log("disconnect").isEmpty)
        }
    }

    @Test("pydantic-ai: a tool call is recorded with its arguments and result, then the answer")
    func pydanticTool() async throws {
        try await Self.withPydantic { scratch, _ in
            try scratch.write("t/when.md", "What time is it?")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "t", "when") }
            let tool = try #require(scratch.read("t/when.reply.tool-1.md"))
            #expect(tool.contains("tool: get_time") && tool.contains("status: complete"))
            #expect(tool.contains("2026-11-21T09:30:00Z"))
            #expect(Self.body(scratch, "t/when.reply.md").text == "The time is 2026-11-21T09:30:00Z.")
            let statuses = try scratch.journal("t").filter { $0.event.name == "tool_call" }.map { "\($0.event)" }
            #expect(statuses.count == 2, "pending, then complete")
        }
    }

    @Test(
        "pydantic-ai: approval file, tick, resumed run with the decision, result and final text",
        arguments: [
            ("Approve", nil, "deleted report.md", "Done: deleted report.md."),
            ("Reject", "keep it", "keep it", "I did not delete report.md: keep it"),
        ])
    func pydanticApproval(_ box: String, _ note: String?, _ result: String, _ final: String) async throws {
        try await Self.withPydantic { scratch, peer in
            try scratch.write("t/del.md", "Please delete report.md")
            await scratch.waitUntil("the approval request") { scratch.exists("t/del.reply.approval-1.md") }
            let request = try #require(scratch.read("t/del.reply.approval-1.md"))
            #expect(request.contains("tool: delete_file") && request.contains(#""path" : "report.md""#))
            #expect(try Self.run(scratch, "t", message: "del")?.status == .awaitingApproval)
            #expect(scratch.read("t/del.reply.tool-1.md")?.contains("status: pending") == true)

            try Self.tick(scratch, "t/del.reply.approval-1.md", box, note: note)
            await scratch.waitUntil("replied") { try Self.replied(scratch, "t", "del") }
            #expect(Self.body(scratch, "t/del.reply.md").text == final)
            let tool = try #require(scratch.read("t/del.reply.tool-1.md"))
            #expect(tool.contains("status: complete") && tool.contains(result))
            let run = try #require(try Self.run(scratch, "t", message: "del"))
            #expect(run.approvals.map(\.delivered) == [true])
            let requests = peer.log("request")
            #expect(requests.count == 2)
            #expect(requests.last?["resume"] == true)
            #expect(requests.last?["messages"] == 2, "the user message and the assistant message with toolCalls")
            #expect(requests.last?["runId"]?.stringValue?.hasPrefix("del.run-1.resume-") == true)
        }
    }

    @Test("pydantic-ai: abort mid-stream closes the connection (the peer logs the disconnect); the text is kept")
    func pydanticAbort() async throws {
        try await Self.withPydantic { scratch, peer in
            try scratch.write("t/slow.md", "Be slow, please.")
            await scratch.waitUntil("streaming") { scratch.read("t/slow.reply.md")?.contains("tick 3") == true }
            try scratch.write("t/controls/abort.md", "")
            await scratch.waitUntil("aborted") { try Self.run(scratch, "t", message: "slow")?.status == .aborted }
            await scratch.waitUntil("the peer saw the client go") {
                peer.log("disconnect").contains { $0["runId"] == "slow.run-1" }
            }
            #expect(peer.log("complete").contains { $0["runId"] == "slow.run-1" } == false)
            let reply = try #require(scratch.read("t/slow.reply.md"))
            #expect(reply.contains("status: aborted") && reply.contains("tick 0 tick 1 tick 2 tick 3"))
            // The daemon goes on.
            try scratch.write("t/next.md", "Say something plain.")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "t", "next") }
        }
    }

    @Test("pydantic-ai: regenerate re-runs from the operator message into a new reply beside the old one")
    func pydanticRegenerate() async throws {
        try await Self.withPydantic { scratch, peer in
            try scratch.write("t/q.md", "Say something plain.")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "t", "q") }
            let first = try #require(scratch.read("t/q.reply.md"))
            _ = try Outbox.control(
                ControlRequest(action: .regenerate), thread: "t", stamp: "r1", in: scratch.workspace)
            await scratch.waitUntil("the second reply") {
                scratch.read("t/q.reply-2.md")?.contains("status: complete") == true
            }
            #expect(scratch.read("t/q.reply.md") == first)
            #expect(Self.body(scratch, "t/q.reply-2.md").text == "Hello from pydantic-ai.")
            let requests = peer.log("request")
            #expect(requests.map { $0["runId"] } == ["q.run-1", "q.run-2"])
            #expect(requests.map { $0["messages"] } == [1, 1], "history up to and including the message")
        }
    }

    // MARK: Scripted: what arrives

    @Test("scripted: RunAgentInput leaves out null fields, and the next run carries the history")
    func requestShape() async throws {
        try await Self.withScripted(threads: ["s": "ok"]) { scratch, peer, _ in
            try scratch.write("s/one.md", "hi")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "s", "one") }
            #expect(Self.body(scratch, "s/one.reply.md").text == "Hello from the scripted peer.")
            try scratch.write("s/two.md", "again")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "s", "two") }
            let bodies = peer.log("request").compactMap { $0["body"] }
            #expect(bodies.count == 2)
            for body in bodies {
                #expect(!Self.containsNull(body), "no null in \(body.jsonText)")
                #expect(body["state"] == nil && body["resume"] == nil)
                #expect(body["tools"] == [] && body["context"] == [])
            }
            #expect(
                bodies.last?["messages"]
                    == [
                        ["id": "one", "role": "user", "content": "hi"],
                        ["id": "one.run-1", "role": "assistant", "content": "Hello from the scripted peer."],
                        ["id": "two", "role": "user", "content": "again"],
                    ])
            #expect(bodies.last?["threadId"] == "s" && bodies.last?["runId"] == "two.run-1")
        }
    }

    @Test("scripted: chunk events become text and a tool call")
    func chunks() async throws {
        try await Self.withScripted(threads: ["c": "chunks"]) { scratch, _, _ in
            try scratch.write("c/m.md", "chunks please")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "c", "m") }
            #expect(Self.body(scratch, "c/m.reply.md").text == "Chunked text arrives.\n\nSecond message.")
            let tool = try #require(scratch.read("c/m.reply.tool-1.md"))
            #expect(tool.contains("tool: search") && tool.contains(#"{"query": "letterbox"}"#))
        }
    }

    @Test("scripted: every event family; state and custom events journaled, reasoning kept after the marker")
    func everything() async throws {
        try await Self.withScripted(threads: ["e": "everything"]) { scratch, _, _ in
            try scratch.write("e/m.md", "everything")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "e", "m") }
            let body = Self.body(scratch, "e/m.reply.md")
            #expect(body.text == "Let me look that up.\n\nIt is sunny.")
            #expect(body.reasoning == "Thinking about the weather.")
            #expect(scratch.read("e/m.reply.md")?.contains(ReplyBody.reasoningMarker) == true)
            let tool = try #require(scratch.read("e/m.reply.tool-1.md"))
            #expect(tool.contains("tool: lookup") && tool.contains(#"{"query": "weather"}"#) && tool.contains("sunny"))
            let events = try scratch.journal("e").map(\.event.name)
            #expect(events.filter { $0 == "state" }.count == 2)
            #expect(events.filter { $0 == "custom" }.count == 4)
            let run = try #require(try Self.run(scratch, "e", message: "m"))
            #expect(run.sharedState == #"{"count":2,"todo":["write","review"]}"#)
            #expect(
                run.customEvents == [
                    #"{"protocolVersion":"1.0","type":"RUN_STARTED"}"#,
                    #"{"name":"letterbox.test","type":"CUSTOM","value":{"n":1}}"#,
                    #"{"event":{"kind":"ping","provider":"native"},"source":"scripted-peer","type":"RAW"}"#,
                    #"{"activityType":"progress","content":{"done":2,"total":2},"messageId":"act-e-1","type":"ACTIVITY"}"#,
                ])
        }
    }

    @Test("scripted: AG-UI 1.0 subagents, activity and usage are journaled, and the page shows who did what")
    func subagents() async throws {
        try await Self.withScripted(threads: ["sa": "subagents"]) { scratch, peer, _ in
            try scratch.write("sa/m.md", "weather?")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "sa", "m") }
            #expect(
                Self.body(scratch, "sa/m.reply.md").text == "Delegating to the researcher.\n\nBring an umbrella.",
                "the subagent's text is its own, not the reply's")
            #expect(peer.log("request").first?["body"]?["protocolVersion"] == "1.0")
            let run = try #require(try Self.run(scratch, "sa", message: "m"))
            #expect(run.detail?.contains(#""inputTokens":12"#) == true, "usage on RUN_FINISHED: \(run.detail ?? "")")
            let records = run.customEvents
            #expect(records.first == #"{"protocolVersion":"1.0","type":"RUN_STARTED"}"#)
            #expect(
                records.contains(
                    #"{"description":"looks things up","name":"researcher","parentToolCallId":"tc-sa-delegate","result":{"forecast":"rain"},"status":"complete","subagentRunId":"sub-research-1","text":"The forecast says rain.","toolCalls":["tc-sa-search"],"type":"SUBAGENT"}"#
                ))
            #expect(records.contains { $0.contains(#""error":"writer quota exhausted""#) && $0.contains("errored") })
            #expect(
                records.last
                    == #"{"activityType":"progress","content":{"done":2,"total":2},"messageId":"act-sa-1","type":"ACTIVITY"}"#
            )
            #expect(scratch.read("sa/m.reply.tool-2.md")?.contains("tool: search") == true)
            // A page can show the activity record while the run still streams (the site refreshes between
            // the daemon's commits): wait for the finished run, which carries the usage.
            await scratch.waitUntil("the page shows the finished run") {
                let page = (try? String(contentsOfFile: scratch.root + "/site/threads/sa.html", encoding: .utf8)) ?? ""
                return page.contains("Activity: progress") && page.contains("inputTokens 12")
            }
            let page = try String(contentsOfFile: scratch.root + "/site/threads/sa.html", encoding: .utf8)
            #expect(page.contains(#"<span class="subagent-state">finished</span> · started by <code>delegate</code>"#))
            #expect(page.contains(#"<p class="subagent-tools">Tool calls: search</p>"#))
            #expect(page.contains("The forecast says rain."))
            #expect(page.contains(#"<span class="tool-subagent">by researcher</span>"#))
            #expect(page.contains("Subagent: writer") && page.contains("writer quota exhausted (quota)"))
            #expect(page.contains(#"<details class="activity"><summary>Activity: progress</summary>"#))
            #expect(page.contains("scripted peer-1: inputTokens 12 · outputTokens 30 · totalTokens 42"))
            #expect(!page.contains("<b>forecast</b>"), "arguments are escaped")
        }
    }

    @Test("scripted: a CUSTOM on_interrupt is an approval; the answer goes back in forwardedProps.command.resume")
    func customInterrupt() async throws {
        try await Self.withScripted(threads: ["ci": "custom-interrupt"]) { scratch, peer, _ in
            try scratch.write("ci/m.md", "email the team")
            await scratch.waitUntil("an approval request") { try scratch.state("ci").pendingApprovals.count == 1 }
            await scratch.waitUntil("its file") { scratch.exists("ci/m.reply.approval-1.md") }
            let file = try #require(scratch.read("ci/m.reply.approval-1.md"))
            #expect(file.contains("Send the summary email to the team?"))
            #expect(file.contains("- [ ] Respond"), "not a tool call: it may be answered with text")
            try Self.tick(scratch, "ci/m.reply.approval-1.md", "Reject", note: "not today")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "ci", "m") }
            let resume = try #require(peer.log("request").last?["body"])
            #expect(resume["resume"] == nil, "the dialect takes no resume entries")
            #expect(resume["forwardedProps"]?["command"] == ["resume": ["approved": false, "reason": "not today"]])
            #expect(
                Self.body(scratch, "ci/m.reply.md").text
                    == "I drafted the email.\n\nAnswer {\"approved\": false, \"reason\": \"not today\"}: email not sent (not today)."
            )
        }
    }

    @Test("scripted: RUN_FINISHED outcome cancelled ends the reply as aborted, never complete or errored")
    func cancelledOutcome() async throws {
        try await Self.withScripted(threads: ["cx": "cancelled"]) { scratch, _, _ in
            try scratch.write("cx/m.md", "start")
            await scratch.waitUntil("the run ended") {
                try Self.run(scratch, "cx", message: "m")?.status.isFinished == true
            }
            let run = try #require(try Self.run(scratch, "cx", message: "m"))
            #expect(run.status == .aborted)
            #expect(run.reason?.contains("cancelled") == true)
            #expect(Self.body(scratch, "cx/m.reply.md").text == "Starting, then stopped.")
        }
    }

    @Test("scripted: SSE edge cases (CRLF, comments, split data lines, writes cut inside characters)")
    func sseEdge() async throws {
        try await Self.withScripted(threads: ["x": "sse-edge"]) { scratch, _, _ in
            try scratch.write("x/m.md", "edges")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "x", "m") }
            #expect(Self.body(scratch, "x/m.reply.md").text == "Edge cases, naïve café ☕ done.")
        }
    }

    // MARK: Scripted: misbehaviour

    static let misbehaviours: [(scenario: String, reason: [String], kept: String)] = [
        ("out-of-order", ["AG-UI protocol violation at TEXT_MESSAGE_CONTENT", "'msg-never-started'"], "valid text"),
        ("cut", ["lost mid-stream"], "This answer is cut off mid-"),
        ("truncated", ["ended before RUN_FINISHED", "the last TEXT_MESSAGE_CONTENT"], "This answer is cut off mid-"),
        ("run-error", ["RUN_ERROR", "model overloaded (code overloaded)"], "Partial ans"),
        ("garbage", ["not valid JSON", "{not json"], "before garbage"),
        ("huge-line", ["AG-UI protocol violation at TEXT_MESSAGE_CONTENT", "longer than the 8 MiB limit"], ""),
    ]

    @Test(
        "scripted misbehaviour: errored, naming the event, the text kept, and the daemon goes on",
        arguments: misbehaviours.indices)
    func misbehaviour(_ index: Int) async throws {
        let (scenario, fragments, kept) = Self.misbehaviours[index]
        try await Self.withScripted(threads: ["m": scenario]) { scratch, _, daemon in
            let before = Self.peakMemory(daemon)
            try scratch.write("m/bad.md", "misbehave")
            await scratch.waitUntil("errored", timeout: .seconds(20)) {
                try Self.run(scratch, "m", message: "bad")?.status == .errored
            }
            let reason = try Self.run(scratch, "m", message: "bad")?.reason ?? ""
            for fragment in fragments { #expect(reason.contains(fragment), "\(fragment) in: \(reason)") }
            let reply = try #require(scratch.read("m/bad.reply.md"))
            #expect(reply.contains("status: errored"))
            #expect(Self.body(scratch, "m/bad.reply.md").text == kept)
            if scenario == "huge-line", let before, let after = Self.peakMemory(daemon) {
                // Without the cap, one 20 MiB line costs well over 60 MiB (line, data, string, JSON).
                #expect(after - before < 40 << 20, "peak RSS grew by \((after - before) >> 20) MiB")
            }
            // The daemon stays up and delivers the next message.
            try scratch.write("m/after.md", "---\nagent: ok\n---\nstill there?")
            await scratch.waitUntil("the next message is answered") { try Self.replied(scratch, "m", "after") }
        }
    }

    /// The daemon's peak resident memory (VmHWM), in bytes.
    static func peakMemory(_ daemon: DaemonProcess) -> Int? {
        guard
            let status = try? String(
                contentsOfFile: "/proc/\(daemon.process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    @Test("scripted: a never-ending stream is aborted; the peer logs the disconnect")
    func neverEnding() async throws {
        try await Self.withScripted(threads: ["n": "never-ending"]) { scratch, peer, _ in
            try scratch.write("n/m.md", "go on forever")
            await scratch.waitUntil("streaming") { scratch.read("n/m.reply.md")?.contains("tick 2") == true }
            try scratch.write("n/controls/abort.md", "")
            await scratch.waitUntil("aborted") { try Self.run(scratch, "n", message: "m")?.status == .aborted }
            await scratch.waitUntil("the peer saw the disconnect") {
                peer.log("disconnect").contains { $0["scenario"] == "never-ending" }
            }
            #expect(Self.body(scratch, "n/m.reply.md").text.hasPrefix("tick 0 tick 1 tick 2"))
        }
    }

    // MARK: Interrupts

    @Test("scripted: two interrupts, answered one by one, go back together in one resume with the history")
    func twoInterrupts() async throws {
        try await Self.withScripted(threads: ["d": "interrupt"]) { scratch, peer, _ in
            try scratch.write("d/deploy.md", "deploy it")
            await scratch.waitUntil("two approval requests") { try scratch.state("d").pendingApprovals.count == 2 }
            // Journal first: the files follow the lines that name them.
            await scratch.waitUntil("their files") { scratch.exists("d/deploy.reply.approval-2.md") }
            let first = try #require(scratch.read("d/deploy.reply.approval-1.md"))
            #expect(first.contains("Deploy to production?") && first.contains("tool: deploy"))
            // The proposed arguments, indented (docs/format.md §6.4).
            let indented = "```json args\n{\n  \"environment\" : \"production\",\n  \"version\" : \"1.4.2\"\n}"
            #expect(first.contains(indented))
            #expect(scratch.read("d/deploy.reply.approval-2.md")?.contains("Also notify the team?") == true)
            #expect(try scratch.journal("d").contains { $0.event.name == "state" })

            try Self.tick(scratch, "d/deploy.reply.approval-1.md", "Approve")
            await scratch.waitUntil("the first answer is recorded") {
                try scratch.state("d").pendingApprovals.count == 1
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(peer.log("request").count == 1, "nothing is sent until every interrupt is answered")
            try Self.tick(scratch, "d/deploy.reply.approval-2.md", "Reject", note: "not now")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "d", "deploy") }

            let resume = try #require(peer.log("request").last?["body"])
            #expect(
                resume["resume"]
                    == [
                        ["interruptId": "int-1", "status": "resolved", "payload": ["approved": true]],
                        [
                            "interruptId": "int-2", "status": "resolved",
                            "payload": ["approved": false, "reason": "not now"],
                        ],
                    ])
            let messages = try #require(resume["messages"]?.arrayValue)
            #expect(messages.first == ["id": "deploy", "role": "user", "content": "deploy it"])
            #expect(
                messages.last?["toolCalls"]
                    == [
                        [
                            "id": "tc-deploy-1", "type": "function",
                            "function": [
                                "name": "deploy", "arguments": #"{"environment": "production", "version": "1.4.2"}"#,
                            ],
                        ]
                    ])
            #expect(messages.last?["content"] == "I will deploy version 1.4.2.")
            #expect(resume["state"] == ["deploy": ["status": "awaiting_approval"]], "the shared state goes back")
            #expect(
                Self.body(scratch, "d/deploy.reply.md").text
                    == "I will deploy version 1.4.2.\n\nDecisions: int-1 resolved {\"approved\":true}; int-2 resolved {\"approved\":false,\"reason\":\"not now\"}. Result: deployed 1.4.2 to production; team not notified."
            )
            let tool = try #require(scratch.read("d/deploy.reply.tool-1.md"))
            #expect(tool.contains("status: complete") && tool.contains("deployed 1.4.2 to production"))
        }
    }

    @Test("scripted: aborting a run that waits for approval withdraws its interrupts; the next message is not refused")
    func abortWhileWaiting() async throws {
        try await Self.withScripted(threads: ["d": "interrupt"]) { scratch, peer, _ in
            try scratch.write("d/deploy.md", "deploy it")
            await scratch.waitUntil("two approval requests") { try scratch.state("d").pendingApprovals.count == 2 }
            try scratch.write("d/controls/abort.md", "")
            await scratch.waitUntil("aborted") { try Self.run(scratch, "d", message: "deploy")?.status == .aborted }
            await scratch.waitUntil("the withdrawal reached the peer") {
                peer.log("request").last?["body"]?["resume"] != nil
            }
            #expect(
                peer.log("request").last?["body"]?["resume"]
                    == [
                        ["interruptId": "int-1", "status": "cancelled"],
                        ["interruptId": "int-2", "status": "cancelled"],
                    ])
            #expect(Self.body(scratch, "d/deploy.reply.md").text == "I will deploy version 1.4.2.")
            // The peer refuses new input while interrupts are open; withdrawn, the next message runs.
            try scratch.write("d/again.md", "deploy it again")
            await scratch.waitUntil("asked again") {
                try Self.run(scratch, "d", message: "again").map { $0.status != .streaming } == true
            }
            #expect(try Self.run(scratch, "d", message: "again")?.status == .awaitingApproval)
            #expect(
                try scratch.state("d").pendingApprovals.map(\.id) == [
                    "again.reply.approval-1", "again.reply.approval-2",
                ])
            // A late tick on the withdrawn request is recorded as not an answer, and sends nothing.
            let requests = peer.log("request").count
            try Self.tick(scratch, "d/deploy.reply.approval-1.md", "Approve")
            await scratch.waitUntil("the late tick is recorded") {
                try scratch.state("d").approval("deploy.reply.approval-1")?.invalidAnswers.isEmpty == false
            }
            #expect(peer.log("request").count == requests)
        }
    }

    @Test("Umbraco AI dialect: string outcome, one interrupt, one resume object without status")
    func umbraco() async throws {
        try await PeerProcess.with("agui_scripted_peer.py") { peer in
            let url = peer.baseURL + "/umbraco-interrupt"
            let scratch = try Scratch(
                extraConfig: """
                    runtimes:
                      - name: umbraco
                        kind: ag-ui
                        dialect: umbraco
                        url: \(url)
                    agents:
                      - id: umbraco
                    """)
            try scratch.thread("u", agent: "umbraco")
            let daemon = try DaemonProcess.start(scratch, runtimeURL: url)
            defer { daemon.stop() }
            try await daemon.waitUntilReady()
            try scratch.write("u/publish.md", "publish the home page")
            await scratch.waitUntil("the approval request") { scratch.exists("u/publish.reply.approval-1.md") }
            let request = try #require(scratch.read("u/publish.reply.approval-1.md"))
            #expect(request.contains("Publish the home page?") && request.contains("tool: publish_content"))
            #expect(request.contains(#""node" : "home""#))
            try Self.tick(scratch, "u/publish.reply.approval-1.md", "Approve")
            await scratch.waitUntil("replied") { try Self.replied(scratch, "u", "publish") }
            let resume = try #require(peer.log("request").last?["body"]?["resume"])
            #expect(resume == ["interruptId": "approval:call-umb-1", "payload": ["approved": true]])
            #expect(
                Self.body(scratch, "u/publish.reply.md").text.hasSuffix("Answer {\"approved\": true}: published home."))
            #expect(scratch.read("u/publish.reply.tool-1.md")?.contains("published home") == true)
        }
    }

    @Test("a daemon killed while approvals wait resumes after a restart: answering sends the same resume")
    func resumeAfterCrash() async throws {
        try await PeerProcess.with("agui_scripted_peer.py") { peer in
            let scratch = try Scratch(
                extraConfig: """
                    runtimes:
                      - name: scripted
                        kind: ag-ui
                        url: \(peer.baseURL)/interrupt
                    agents:
                      - id: interrupt
                    """)
            try scratch.thread("d", agent: "interrupt")
            let first = try DaemonProcess.start(scratch, runtimeURL: peer.baseURL + "/interrupt")
            try await first.waitUntilReady()
            try scratch.write("d/deploy.md", "deploy it")
            await scratch.waitUntil("two approval requests") { try scratch.state("d").pendingApprovals.count == 2 }
            await scratch.waitUntil("their files") { scratch.exists("d/deploy.reply.approval-2.md") }
            await first.kill(SIGKILL)
            let second = try DaemonProcess.start(scratch, runtimeURL: peer.baseURL + "/interrupt")
            defer { second.stop() }
            try await second.waitUntilReady()
            try Self.tick(scratch, "d/deploy.reply.approval-1.md", "Approve")
            try Self.tick(scratch, "d/deploy.reply.approval-2.md", "Approve")
            await scratch.waitUntil("replied after the restart") { try Self.replied(scratch, "d", "deploy") }
            #expect(Self.body(scratch, "d/deploy.reply.md").text.hasSuffix("team notified."))
            #expect(peer.log("request").last?["body"]?["resume"]?.arrayValue?.count == 2)
            #expect(peer.log("request").count == 2, "one run, one resume")
        }
    }
}
