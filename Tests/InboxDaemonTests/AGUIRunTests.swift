import ChatModel
import Foundation
import InboxCore
import Testing

@testable import InboxDaemon

@Suite("AG-UI run state machine and requests (pure)")
struct AGUIRunTests {
    /// Feeds events (JSON texts) to a run; returns every update.
    static func run(
        _ events: [String], _ run: inout AGUIRun
    ) -> [RunUpdate] {
        events.flatMap { run.receive($0) }
    }

    static func run(_ events: [String], dialect: AGUIDialect = .standard) -> (AGUIRun, [RunUpdate]) {
        var machine = AGUIRun(dialect: dialect)
        let updates = run(events, &machine)
        return (machine, updates)
    }

    static let started = #"{"type":"RUN_STARTED","threadId":"t","runId":"r"}"#
    static let finished = #"{"type":"RUN_FINISHED","threadId":"t","runId":"r","outcome":{"type":"success"}}"#
    static func start(_ id: String) -> String {
        #"{"type":"TEXT_MESSAGE_START","messageId":"\#(id)","role":"assistant"}"#
    }
    static func content(_ id: String, _ delta: String) -> String {
        #"{"type":"TEXT_MESSAGE_CONTENT","messageId":"\#(id)","delta":"\#(delta)"}"#
    }
    static func end(_ id: String) -> String { #"{"type":"TEXT_MESSAGE_END","messageId":"\#(id)"}"# }

    static func texts(_ updates: [RunUpdate]) -> [String] {
        updates.compactMap { if case let .text(text) = $0 { text } else { nil } }
    }

    static func end(of updates: [RunUpdate]) -> RunEnd? {
        updates.compactMap { if case let .finished(end) = $0 { end } else { nil } }.last
    }

    static func erroredReason(_ updates: [RunUpdate]) -> String? {
        if case let .errored(reason)? = end(of: updates) { return reason }
        return nil
    }

    static func toolCalls(_ updates: [RunUpdate]) -> [ToolCallUpdate] {
        updates.compactMap { if case let .toolCall(call) = $0 { call } else { nil } }
    }

    // MARK: Runs that work

    @Test("a text run: the reply id, the whole text so far after each delta, then complete with usage")
    func textRun() {
        let (run, updates) = Self.run([
            Self.started, Self.start("m1"), Self.content("m1", "Hello "), Self.content("m1", "world."), Self.end("m1"),
            #"{"type":"RUN_FINISHED","threadId":"t","runId":"r","outcome":{"type":"success"},"usage":[{"inputTokens":3}]}"#,
        ])
        #expect(
            updates == [
                .replyID("m1"), .text("Hello "), .text("Hello world."),
                .finished(.complete(usage: #"[{"inputTokens":3}]"#)),
            ])
        #expect(run.isEnded)
    }

    @Test("several assistant messages are joined by a blank line; empty ones (pydantic-ai's) add nothing")
    func severalMessages() {
        let (run, updates) = Self.run([
            Self.started, Self.start("empty"), Self.end("empty"), Self.start("a"), Self.content("a", "One."),
            Self.end("a"), Self.start("b"), Self.content("b", "Two."), Self.end("b"), Self.finished,
        ])
        #expect(Self.texts(updates).last == "One.\n\nTwo.")
        #expect(run.replyText == "One.\n\nTwo.")
    }

    @Test("a tool call is reported at start, with its arguments at end, and with its result")
    func toolCall() {
        let (_, updates) = Self.run([
            Self.started,
            #"{"type":"TOOL_CALL_START","toolCallId":"c1","toolCallName":"get_time","parentMessageId":"m"}"#,
            #"{"type":"TOOL_CALL_ARGS","toolCallId":"c1","delta":"{\"tz\":"}"#,
            #"{"type":"TOOL_CALL_ARGS","toolCallId":"c1","delta":" \"UTC\"}"}"#,
            #"{"type":"TOOL_CALL_END","toolCallId":"c1"}"#,
            #"{"type":"TOOL_CALL_RESULT","messageId":"tm","toolCallId":"c1","content":"09:30","role":"tool"}"#,
            Self.finished,
        ])
        #expect(
            Self.toolCalls(updates) == [
                ToolCallUpdate(id: "c1", name: "get_time", arguments: ""),
                ToolCallUpdate(id: "c1", name: "get_time", arguments: #"{"tz": "UTC"}"#),
                ToolCallUpdate(
                    id: "c1", name: "get_time", arguments: #"{"tz": "UTC"}"#, result: "09:30", runtimeID: "tm"),
            ])
    }

    @Test("an interrupt outcome: one approval per interrupt, with the tool call it is about, then interrupted")
    func interrupts() {
        let (_, updates) = Self.run([
            Self.started, Self.start("m"), Self.content("m", "I will deploy."), Self.end("m"),
            #"{"type":"TOOL_CALL_START","toolCallId":"tc","toolCallName":"deploy"}"#,
            #"{"type":"TOOL_CALL_ARGS","toolCallId":"tc","delta":"{\"v\":1}"}"#,
            #"{"type":"TOOL_CALL_END","toolCallId":"tc"}"#,
            #"{"type":"RUN_FINISHED","threadId":"t","runId":"r","outcome":{"type":"interrupt","interrupts":[{"id":"int-1","reason":"tool_call","message":"Deploy?","toolCallId":"tc"},{"id":"int-2","reason":"confirmation"}]}}"#,
        ])
        let approvals = updates.compactMap { if case let .approval(request) = $0 { request } else { nil } }
        #expect(
            approvals == [
                ApprovalRequest(
                    runtimeID: "int-1", prompt: "Deploy?", toolCallID: "tc", tool: "deploy", arguments: #"{"v":1}"#),
                ApprovalRequest(
                    runtimeID: "int-2", prompt: "The agent asks for your approval (confirmation).", toolCallID: nil,
                    tool: nil, arguments: nil, decisions: [.approve, .reject, .respond, .cancel]),
            ])
        #expect(Self.end(of: updates) == .interrupted)
    }

    @Test("AG-UI 1.0 tool results with content parts: text kept, images and documents as safe placeholders")
    func contentParts() {
        let (_, updates) = Self.run([
            Self.started,
            #"{"type":"TOOL_CALL_START","toolCallId":"tc","toolCallName":"shot"}"#,
            #"{"type":"TOOL_CALL_END","toolCallId":"tc"}"#,
            #"{"type":"TOOL_CALL_RESULT","messageId":"tm","toolCallId":"tc","content":[{"type":"text","text":"Here it is"},{"type":"image","source":{"type":"data","mimeType":"image/png","data":"iVBORw=="}},{"type":"document","source":{"type":"url","url":"https://example.com/r.pdf"}}]}"#,
            Self.finished,
        ])
        #expect(
            Self.toolCalls(updates).last?.result
                == "Here it is\n[image/png, 6 bytes]\n[document: https://example.com/r.pdf]")
    }

    @Test(
        "the decisions an interrupt offers come from the stream: edit only with editedArgs, respond only without a tool call"
    )
    func interruptDecisions() {
        let (_, updates) = Self.run([
            Self.started,
            #"{"type":"TOOL_CALL_START","toolCallId":"tc","toolCallName":"deploy"}"#,
            #"{"type":"TOOL_CALL_END","toolCallId":"tc"}"#,
            #"{"type":"RUN_FINISHED","threadId":"t","runId":"r","outcome":{"type":"interrupt","interrupts":[{"id":"a","reason":"tool_call","toolCallId":"tc","expiresAt":"2026-11-27T12:00:00Z","responseSchema":{"type":"object","properties":{"approved":{"type":"boolean"},"editedArgs":{"type":"object","properties":{"v":{"type":"integer"}}},"reason":{"type":"string"}}}},{"id":"b","reason":"input_required","message":"Which region?","responseSchema":{"type":"string"}}]}}"#,
        ])
        let approvals = updates.compactMap { if case let .approval(request) = $0 { request } else { nil } }
        #expect(approvals.map(\.decisions) == [[.approve, .edit, .reject, .cancel], [.respond, .cancel]])
        #expect(approvals.first?.expiresAt == Timestamp("2026-11-27T12:00:00Z"))
        #expect(approvals.first?.schema == #"{"properties":{"v":{"type":"integer"}},"type":"object"}"#)
        #expect(approvals.last?.schema == nil)
    }

    @Test("a resumed run continues the interrupted reply and reports the earlier call's result with its name")
    func resumed() {
        var run = AGUIRun(
            priorText: "I will deploy.",
            knownToolCalls: [ToolCallUpdate(id: "tc", name: "deploy", arguments: #"{"v":1}"#)])
        let updates = Self.run(
            [
                Self.started,
                #"{"type":"TOOL_CALL_RESULT","messageId":"tm","toolCallId":"tc","content":"deployed"}"#,
                Self.start("m2"), Self.content("m2", "Done."), Self.end("m2"), Self.finished,
            ], &run)
        #expect(
            Self.toolCalls(updates) == [
                ToolCallUpdate(id: "tc", name: "deploy", arguments: #"{"v":1}"#, result: "deployed", runtimeID: "tm")
            ])
        #expect(Self.texts(updates) == ["I will deploy.\n\nDone."])
        #expect(!updates.contains { if case .replyID = $0 { true } else { false } }, "the reply keeps its id")
    }

    @Test("chunk events expand like transformChunks: same or no id continues, a new id or RUN_FINISHED closes")
    func chunks() {
        let (_, updates) = Self.run([
            Self.started,
            #"{"type":"TEXT_MESSAGE_CHUNK","messageId":"c1","role":"assistant","delta":"Chunked "}"#,
            #"{"type":"TEXT_MESSAGE_CHUNK","delta":"text "}"#,
            #"{"type":"TEXT_MESSAGE_CHUNK","messageId":"c1","delta":"arrives."}"#,
            #"{"type":"TOOL_CALL_CHUNK","toolCallId":"tc","toolCallName":"search","parentMessageId":"c1","delta":"{\"q\":"}"#,
            #"{"type":"TOOL_CALL_CHUNK","toolCallId":"tc","delta":" 1}"}"#,
            #"{"type":"TEXT_MESSAGE_CHUNK","messageId":"c2","delta":"Second."}"#,
            #"{"type":"RUN_FINISHED","threadId":"t","runId":"r"}"#,
        ])
        #expect(Self.texts(updates).last == "Chunked text arrives.\n\nSecond.")
        #expect(Self.toolCalls(updates).last == ToolCallUpdate(id: "tc", name: "search", arguments: #"{"q": 1}"#))
        #expect(Self.end(of: updates) == .complete(usage: nil))
    }

    @Test("state: a snapshot, then JSON Patch deltas, each reported as the whole state")
    func state() {
        let (run, updates) = Self.run([
            Self.started, #"{"type":"STATE_SNAPSHOT","snapshot":{"todo":["write"],"count":1,"draft":"tmp"}}"#,
            #"{"type":"STATE_DELTA","delta":[{"op":"add","path":"/todo/-","value":"review"},{"op":"replace","path":"/count","value":2},{"op":"remove","path":"/draft"}]}"#,
            Self.finished,
        ])
        let states = updates.compactMap { if case let .state(json) = $0 { json } else { nil } }
        #expect(states == [#"{"count":1,"draft":"tmp","todo":["write"]}"#, #"{"count":2,"todo":["write","review"]}"#])
        #expect(run.state?.jsonText == #"{"count":2,"todo":["write","review"]}"#)
    }

    @Test("a delta that does not apply ends the run, naming STATE_DELTA and the failing operation")
    func badDelta() {
        let (_, updates) = Self.run([
            Self.started, Self.start("m"), Self.content("m", "kept"),
            #"{"type":"STATE_DELTA","delta":[{"op":"replace","path":"/missing","value":1}]}"#,
        ])
        let reason = Self.erroredReason(updates) ?? ""
        #expect(reason.contains("STATE_DELTA") && reason.contains("no member 'missing'"))
        #expect(Self.texts(updates).last == "kept")
    }

    @Test("reasoning (and legacy THINKING) is reported apart from the text; CUSTOM and RAW as JSON")
    func reasoningAndCustom() {
        let (_, updates) = Self.run([
            Self.started, #"{"type":"REASONING_START","messageId":"r1"}"#,
            #"{"type":"REASONING_MESSAGE_START","messageId":"r1","role":"reasoning"}"#,
            #"{"type":"REASONING_MESSAGE_CONTENT","messageId":"r1","delta":"Thinking "}"#,
            #"{"type":"REASONING_MESSAGE_CONTENT","messageId":"r1","delta":"hard."}"#,
            #"{"type":"REASONING_MESSAGE_END","messageId":"r1"}"#,
            #"{"type":"REASONING_ENCRYPTED_VALUE","subtype":"message","entityId":"r1","encryptedValue":"x"}"#,
            #"{"type":"REASONING_END","messageId":"r1"}"#, #"{"type":"THINKING_TEXT_MESSAGE_START"}"#,
            #"{"type":"THINKING_TEXT_MESSAGE_CONTENT","delta":"Legacy."}"#, #"{"type":"THINKING_TEXT_MESSAGE_END"}"#,
            #"{"type":"CUSTOM","name":"letterbox.test","value":{"n":1}}"#,
            #"{"type":"RAW","event":{"kind":"ping"},"source":"peer"}"#,
            #"{"type":"ACTIVITY_SNAPSHOT","messageId":"a","activityType":"p","content":{}}"#,
            #"{"type":"SOMETHING_NEW","x":1}"#, Self.finished,
        ])
        let reasoning = updates.compactMap { if case let .reasoning(text) = $0 { text } else { nil } }
        #expect(reasoning.last == "Thinking hard.\n\nLegacy.")
        let custom = updates.compactMap { if case let .custom(json) = $0 { json } else { nil } }
        #expect(
            custom == [
                #"{"name":"letterbox.test","type":"CUSTOM","value":{"n":1}}"#,
                #"{"event":{"kind":"ping"},"source":"peer","type":"RAW"}"#,
                #"{"activityType":"p","content":{},"messageId":"a","type":"ACTIVITY"}"#,
            ])
        #expect(Self.end(of: updates) == .complete(usage: nil))
    }

    static func customs(_ updates: [RunUpdate]) -> [String] {
        updates.compactMap { if case let .custom(json) = $0 { json } else { nil } }
    }

    @Test("subagents: attributed text and tool calls are the subagent's, recorded when it starts and ends")
    func subagents() {
        let (run, updates) = Self.run([
            #"{"type":"RUN_STARTED","threadId":"t","runId":"r","protocolVersion":"1.0"}"#,
            Self.start("m0"), Self.content("m0", "I will delegate."), Self.end("m0"),
            #"{"type":"TOOL_CALL_START","toolCallId":"d1","toolCallName":"delegate"}"#,
            #"{"type":"TOOL_CALL_END","toolCallId":"d1"}"#,
            #"{"type":"SUBAGENT_STARTED","subagentRunId":"s1","name":"researcher","description":"finds things","parentToolCallId":"d1"}"#,
            #"{"type":"TOOL_CALL_START","toolCallId":"c1","toolCallName":"search","subagentRunId":"s1"}"#,
            #"{"type":"TOOL_CALL_ARGS","toolCallId":"c1","delta":"{}","subagentRunId":"s1"}"#,
            #"{"type":"TOOL_CALL_END","toolCallId":"c1","subagentRunId":"s1"}"#,
            #"{"type":"TEXT_MESSAGE_START","messageId":"sm","role":"assistant","subagentRunId":"s1"}"#,
            #"{"type":"TEXT_MESSAGE_CONTENT","messageId":"sm","delta":"Found it.","subagentRunId":"s1"}"#,
            #"{"type":"TEXT_MESSAGE_END","messageId":"sm","subagentRunId":"s1"}"#,
            #"{"type":"SUBAGENT_FINISHED","subagentRunId":"s1","result":{"hits":1}}"#,
            #"{"type":"SUBAGENT_STARTED","subagentRunId":"s2","name":"writer"}"#,
            #"{"type":"SUBAGENT_ERROR","subagentRunId":"s2","message":"quota","code":"429"}"#,
            #"{"type":"SUBAGENT_STARTED","subagentRunId":"s3","name":"late"}"#,
            Self.start("m1"), Self.content("m1", "Done."), Self.end("m1"), Self.finished,
        ])
        #expect(run.replyText == "I will delegate.\n\nDone.", "a subagent's text is not the reply's")
        #expect(run.peerProtocolVersion == "1.0")
        #expect(
            Self.customs(updates) == [
                #"{"protocolVersion":"1.0","type":"RUN_STARTED"}"#,
                #"{"description":"finds things","name":"researcher","parentToolCallId":"d1","status":"running","subagentRunId":"s1","type":"SUBAGENT"}"#,
                #"{"description":"finds things","name":"researcher","parentToolCallId":"d1","result":{"hits":1},"status":"complete","subagentRunId":"s1","text":"Found it.","toolCalls":["c1"],"type":"SUBAGENT"}"#,
                #"{"name":"writer","status":"running","subagentRunId":"s2","type":"SUBAGENT"}"#,
                #"{"code":"429","error":"quota","name":"writer","status":"errored","subagentRunId":"s2","type":"SUBAGENT"}"#,
                #"{"name":"late","status":"running","subagentRunId":"s3","type":"SUBAGENT"}"#,
                #"{"name":"late","status":"unfinished","subagentRunId":"s3","type":"SUBAGENT"}"#,
            ])
        #expect(Self.toolCalls(updates).contains { $0.id == "c1" && $0.arguments == "{}" })
        #expect(Self.end(of: updates) == .complete(usage: nil))
    }

    @Test("subagents: finishing one that never started is a protocol violation; a suspended one lists its interrupts")
    func subagentRules() {
        let (_, bad) = Self.run([
            Self.started, #"{"type":"SUBAGENT_FINISHED","subagentRunId":"nope"}"#,
        ])
        #expect(Self.erroredReason(bad)?.contains("SUBAGENT_FINISHED") == true)
        let (_, suspended) = Self.run([
            Self.started, #"{"type":"SUBAGENT_STARTED","subagentRunId":"s","name":"asker"}"#,
            #"{"type":"SUBAGENT_FINISHED","subagentRunId":"s","outcome":{"type":"suspended","interruptIds":["i1"]}}"#,
            #"{"type":"RUN_FINISHED","threadId":"t","runId":"r","outcome":{"type":"interrupt","interrupts":[{"id":"i1","reason":"input_required","message":"Which one?","subagentRunId":"s"}]}}"#,
        ])
        #expect(
            Self.customs(suspended).last
                == #"{"interruptIds":["i1"],"name":"asker","status":"suspended","subagentRunId":"s","type":"SUBAGENT"}"#
        )
        #expect(Self.end(of: suspended) == .interrupted)
    }

    @Test("activity: the latest content of each activity message, recorded once when the run ends")
    func activity() {
        let (_, updates) = Self.run([
            Self.started,
            #"{"type":"ACTIVITY_SNAPSHOT","messageId":"a1","activityType":"progress","content":{"done":1,"total":3}}"#,
            #"{"type":"ACTIVITY_DELTA","messageId":"a1","activityType":"progress","patch":[{"op":"replace","path":"/done","value":2}]}"#,
            #"{"type":"ACTIVITY_SNAPSHOT","messageId":"a2","activityType":"plan","content":{"step":"a"}}"#,
            #"{"type":"ACTIVITY_SNAPSHOT","messageId":"a2","activityType":"plan","content":{"step":"b"},"replace":false}"#,
            #"{"type":"ACTIVITY_DELTA","messageId":"a1","activityType":"progress","patch":[{"op":"replace","path":"/done","value":3}]}"#,
            Self.finished,
        ])
        #expect(
            Self.customs(updates) == [
                #"{"activityType":"progress","content":{"done":3,"total":3},"messageId":"a1","type":"ACTIVITY"}"#,
                #"{"activityType":"plan","content":{"step":"a"},"messageId":"a2","type":"ACTIVITY"}"#,
            ])
        let (_, bad) = Self.run([
            Self.started,
            #"{"type":"ACTIVITY_DELTA","messageId":"a1","activityType":"p","patch":[{"op":"remove","path":"/missing"}]}"#,
        ])
        #expect(Self.erroredReason(bad)?.contains("ACTIVITY_DELTA") == true)
        let (_, noContent) = Self.run([
            Self.started, #"{"type":"ACTIVITY_SNAPSHOT","messageId":"a","activityType":"p"}"#,
        ])
        #expect(Self.erroredReason(noContent)?.contains("content") == true)
    }

    @Test("a CUSTOM on_interrupt event (LangGraph / Mastra dialect) becomes an approval; the run ends interrupted")
    func customInterrupt() throws {
        let (_, updates) = Self.run([
            Self.started,
            #"{"type":"CUSTOM","name":"on_interrupt","value":"{\"id\":\"ask-1\",\"message\":\"Send the email?\"}"}"#,
            #"{"type":"CUSTOM","name":"on_interrupt","value":"Which region?"}"#,
            Self.finished,
        ])
        let approvals = updates.compactMap { if case let .approval(request) = $0 { request } else { nil } }
        #expect(approvals.map(\.runtimeID) == ["custom:ask-1", "custom:on_interrupt-2"])
        #expect(approvals.map(\.prompt) == ["Send the email?", "Which region?"])
        #expect(approvals[0].decisions == [.approve, .reject, .respond, .cancel])
        #expect(Self.end(of: updates) == .interrupted)

        // Answered through forwardedProps.command.resume, not a resume entry.
        let one = AGUIClient.commandResume([
            ApprovalAnswer(runtimeID: "custom:ask-1", decision: .reject, note: "no", toolCallID: nil)
        ])
        #expect(one == ["approved": false, "reason": "no"])
        let two = AGUIClient.commandResume([
            ApprovalAnswer(runtimeID: "custom:ask-1", decision: .approve, note: nil, toolCallID: nil),
            ApprovalAnswer(runtimeID: "custom:on_interrupt-2", decision: .respond, note: "eu-west", toolCallID: nil),
        ])
        #expect(two == ["ask-1": ["approved": true], "on_interrupt-2": "eu-west"])
        let input = AGUIClient.runInput(
            Self.outgoing(), threadID: "ops", runID: "r", state: nil, resume: nil, includeRunSoFar: true, command: one)
        let value = try JSONValue(parsing: try Self.body(input))
        #expect(value["forwardedProps"]?["command"] == ["resume": ["approved": false, "reason": "no"]])
        #expect(value["resume"] == nil)
    }

    @Test("protocolVersion: 1.0 is declared on every request; a peer's newer declaration is noticed")
    func protocolVersion() throws {
        let input = AGUIClient.runInput(
            Self.outgoing(), threadID: "ops", runID: "r", state: nil, resume: nil, includeRunSoFar: false)
        #expect(try JSONValue(parsing: try Self.body(input))["protocolVersion"] == "1.0")
        #expect(AGUIClient.speaks("1.0") && AGUIClient.speaks("1.3") && AGUIClient.speaks("0.9"))
        #expect(!AGUIClient.speaks("2.0") && !AGUIClient.speaks("1") && !AGUIClient.speaks("next"))
        let (run, updates) = Self.run([Self.started, Self.finished])
        #expect(run.peerProtocolVersion == nil && Self.customs(updates).isEmpty, "no declaration, nothing recorded")
    }

    @Test("MESSAGES_SNAPSHOT fills in a tool result the stream did not carry")
    func messagesSnapshot() {
        let (_, updates) = Self.run([
            Self.started, #"{"type":"TOOL_CALL_START","toolCallId":"c","toolCallName":"look"}"#,
            #"{"type":"TOOL_CALL_END","toolCallId":"c"}"#,
            #"{"type":"MESSAGES_SNAPSHOT","messages":[{"id":"u","role":"user","content":"hi"},{"id":"tm","role":"tool","toolCallId":"c","content":"sunny"}]}"#,
            Self.finished,
        ])
        #expect(Self.toolCalls(updates).last?.result == "sunny")
    }

    @Test("RUN_ERROR ends the run with the runtime's message and code; the text is kept")
    func runError() {
        let (_, updates) = Self.run([
            Self.started, Self.start("m"), Self.content("m", "Partial ans"),
            #"{"type":"RUN_ERROR","message":"model overloaded","code":"overloaded"}"#,
            Self.content("m", "ignored"),
        ])
        #expect(Self.texts(updates) == ["Partial ans"])
        #expect(Self.erroredReason(updates)?.contains("RUN_ERROR): model overloaded (code overloaded)") == true)
    }

    @Test("a cancelled outcome (ag-ui 1.0) ends the run as aborted")
    func cancelledOutcome() {
        let (_, updates) = Self.run([
            Self.started, #"{"type":"RUN_FINISHED","threadId":"t","runId":"r","outcome":{"type":"cancelled"}}"#,
        ])
        #expect(
            Self.end(of: updates) == .aborted(reason: "the runtime cancelled the run (RUN_FINISHED outcome cancelled)"))
    }

    // MARK: Violations

    /// Streams that break a rule: the events after RUN_STARTED and a message, and what the reason names.
    static let violations: [(events: [String], names: [String])] = [
        ([content("never", "x")], ["TEXT_MESSAGE_CONTENT", "'never'", "not open"]),
        ([end("never")], ["TEXT_MESSAGE_END", "'never'"]),
        ([start("m")], ["TEXT_MESSAGE_START", "'m' is already open"]),
        ([#"{"type":"TOOL_CALL_ARGS","toolCallId":"x","delta":"{}"}"#], ["TOOL_CALL_ARGS", "'x'"]),
        ([#"{"type":"TOOL_CALL_END","toolCallId":"x"}"#], ["TOOL_CALL_END", "'x'"]),
        (
            [
                #"{"type":"TOOL_CALL_START","toolCallId":"x","toolCallName":"a"}"#,
                #"{"type":"TOOL_CALL_START","toolCallId":"x","toolCallName":"a"}"#,
            ], ["TOOL_CALL_START", "'x' is already open"]
        ),
        ([#"{"type":"STEP_FINISHED","stepName":"plan"}"#], ["STEP_FINISHED", "'plan' was never started"]),
        (
            [#"{"type":"STEP_STARTED","stepName":"p"}"#, #"{"type":"STEP_STARTED","stepName":"p"}"#],
            ["STEP_STARTED", "'p' is already running"]
        ),
        ([finished], ["RUN_FINISHED", "text messages are still open: 'm'"]),
        (
            [end("m"), #"{"type":"STEP_STARTED","stepName":"p"}"#, finished],
            ["RUN_FINISHED", "steps are still running: 'p'"]
        ),
        (
            [end("m"), #"{"type":"TOOL_CALL_START","toolCallId":"x","toolCallName":"a"}"#, finished],
            ["RUN_FINISHED", "tool calls are still open: 'x'"]
        ),
        ([started], ["RUN_STARTED", "second RUN_STARTED"]),
        (
            [end("m"), #"{"type":"RUN_FINISHED","threadId":"t","runId":"other"}"#],
            ["RUN_FINISHED", "'other'", "'r'"]
        ),
        (["{not json"], ["not valid JSON", "{not json"]),
        (["[1]"], ["an event is an array"]),
        ([#"{"delta":"x"}"#], ["no string 'type'"]),
        ([#"{"type":"TEXT_MESSAGE_CONTENT","delta":"x"}"#], ["TEXT_MESSAGE_CONTENT", "has no 'messageId'"]),
        ([#"{"type":"TEXT_MESSAGE_CONTENT","messageId":1,"delta":"x"}"#], ["'messageId' is a number"]),
        (
            [end("m"), #"{"type":"RUN_FINISHED","threadId":"t","runId":"r","outcome":"interrupt"}"#],
            ["RUN_FINISHED", "set dialect: umbraco"]
        ),
        (
            [
                end("m"),
                #"{"type":"RUN_FINISHED","threadId":"t","runId":"r","outcome":{"type":"interrupt","interrupts":[]}}"#,
            ],
            ["RUN_FINISHED", "non-empty 'interrupts'"]
        ),
        ([#"{"type":"REASONING_MESSAGE_CONTENT","messageId":"q","delta":"x"}"#], ["REASONING_MESSAGE_CONTENT", "'q'"]),
        ([#"{"type":"TEXT_MESSAGE_CHUNK","delta":"x"}"#], ["TEXT_MESSAGE_CHUNK", "no messageId"]),
        ([#"{"type":"TOOL_CALL_CHUNK","toolCallId":"x","delta":"x"}"#], ["TOOL_CALL_CHUNK", "no toolCallName"]),
    ]

    @Test(
        "an ordering violation ends the run as errored, naming the event; the text is kept",
        arguments: violations.indices)
    func violation(_ index: Int) {
        let (events, names) = Self.violations[index]
        var (run, updates) = Self.run([Self.started, Self.start("m"), Self.content("m", "kept text")] + events)
        let reason = Self.erroredReason(updates)
        for name in names { #expect(reason?.contains(name) == true, "\(name) in \(reason ?? "no error")") }
        #expect(reason?.hasPrefix("AG-UI protocol violation at ") == true)
        #expect(reason?.hasSuffix("the text that arrived is kept") == true)
        #expect(run.replyText == "kept text")
        #expect(run.isEnded)
        #expect(run.receive(Self.content("m", "after")).isEmpty, "nothing is read after the end")
    }

    @Test("the first event must be RUN_STARTED; RUN_ERROR first is a refusal")
    func firstEvent() {
        let (_, updates) = Self.run([Self.start("m")])
        #expect(Self.erroredReason(updates)?.contains("the first event must be RUN_STARTED") == true)
        let (_, refused) = Self.run([#"{"type":"RUN_ERROR","message":"no such agent"}"#])
        #expect(Self.erroredReason(refused)?.contains("no such agent") == true)
    }

    @Test("a stream that ends, or breaks, before RUN_FINISHED is errored with the text kept")
    func endsEarly() {
        var run = AGUIRun()
        _ = Self.run([Self.started, Self.start("m"), Self.content("m", "cut off mid-")], &run)
        var cut = run
        let ended = run.streamEnded()
        #expect(Self.erroredReason(ended)?.contains("ended before RUN_FINISHED") == true)
        #expect(Self.erroredReason(ended)?.contains("the last TEXT_MESSAGE_CONTENT") == true)
        let lost = cut.connectionLost("the runtime closed the connection")
        #expect(Self.erroredReason(lost)?.contains("lost mid-stream (the runtime closed the connection)") == true)
        #expect(cut.replyText == "cut off mid-")
    }

    @Test("a line over the cap is named from its first bytes")
    func lineTooLong() {
        var run = AGUIRun()
        _ = Self.run([Self.started], &run)
        let updates = run.lineTooLong(
            SSEParser.LineTooLong(
                limit: 8 << 20, prefix: Array(#"data: {"type":"TEXT_MESSAGE_CONTENT","timestamp":1,"#.utf8)))
        let reason = Self.erroredReason(updates) ?? ""
        #expect(reason.contains("at TEXT_MESSAGE_CONTENT") && reason.contains("longer than the 8 MiB limit"))
        #expect(AGUIRun.eventType(inPrefix: Array("data: xxxxx".utf8)) == nil)
    }

    // MARK: Umbraco AI

    @Test("Umbraco: a string outcome with one interrupt whose payload names the tool; object deltas merge")
    func umbraco() {
        let (run, updates) = Self.run(
            [
                Self.started, #"{"type":"STATE_SNAPSHOT","snapshot":{"a":1}}"#,
                #"{"type":"STATE_DELTA","delta":{"b":2}}"#,
                #"{"type":"RUN_FINISHED","threadId":"t","runId":"r","outcome":"interrupt","interrupt":{"id":"approval:c","reason":"human_approval","payload":{"toolCallId":"c","toolName":"publish_content","args":{"node":"home"},"message":"Publish?"}}}"#,
            ], dialect: .umbraco)
        #expect(run.state?.jsonText == #"{"a":1,"b":2}"#)
        let approvals = updates.compactMap { if case let .approval(request) = $0 { request } else { nil } }
        #expect(
            approvals == [
                ApprovalRequest(
                    runtimeID: "approval:c", prompt: "Publish?", toolCallID: "c", tool: "publish_content",
                    arguments: #"{"node":"home"}"#)
            ])
        let (_, failed) = Self.run(
            [Self.started, #"{"type":"RUN_FINISHED","threadId":"t","runId":"r","outcome":"error","error":"boom"}"#],
            dialect: .umbraco)
        #expect(Self.erroredReason(failed) == "the runtime reported an error: boom")
    }

    // MARK: Requests

    static func outgoing() -> OutgoingMessage {
        var message = OutgoingMessage(
            thread: "ops", threadTitle: "Ops", runtimeThreadID: nil, message: "m2", requestID: "req-1", agent: "a",
            content: "deploy it", run: "m2.run-1",
            history: [
                HistoryItem(role: .user, id: "m1", content: "hello"),
                HistoryItem(role: .assistant, id: "m1.run-1-tools", content: ""),
                HistoryItem(role: .assistant, id: "m1.run-1", content: "Hi."),
            ])
        message.runSoFar = [
            HistoryItem(
                role: .assistant, id: "m2.run-1", content: "I will deploy.",
                toolCalls: [ToolCallSummary(id: "tc", name: "deploy", arguments: #"{"v":1}"#)])
        ]
        return message
    }

    static func body(_ input: AGUIWire.RunAgentInput) throws -> String {
        String(decoding: try AGUIWire.encoder.encode(input), as: UTF8.self)
    }

    @Test("RunAgentInput: camelCase, history then the message, no null anywhere, empty assistants dropped")
    func runInput() throws {
        let input = AGUIClient.runInput(
            Self.outgoing(), threadID: "ops", runID: "m2.run-1", state: nil, resume: nil, includeRunSoFar: false)
        let json = try Self.body(input)
        #expect(!json.contains("null"))
        #expect(!json.contains("\"state\"") && !json.contains("\"resume\""))
        let value = try JSONValue(parsing: json)
        #expect(value["threadId"] == "ops" && value["runId"] == "m2.run-1")
        #expect(value["tools"] == [] && value["context"] == [])
        #expect(
            value["messages"]
                == [
                    ["id": "m1", "role": "user", "content": "hello"],
                    ["id": "m1.run-1", "role": "assistant", "content": "Hi."],
                    ["id": "m2", "role": "user", "content": "deploy it"],
                ])
        #expect(value["forwardedProps"]?["letterbox"]?["requestId"] == "req-1")
    }

    @Test("resume: every answer at once, approve and reject payloads, history with the assistant's toolCalls")
    func resumeInput() throws {
        let answers = [
            ApprovalAnswer(runtimeID: "int-2", decision: .reject, note: nil, toolCallID: nil),
            ApprovalAnswer(runtimeID: "int-1", decision: .approve, note: "off-peak", toolCallID: "tc"),
        ]
        let input = AGUIClient.runInput(
            Self.outgoing(), threadID: "ops", runID: AGUIClient.resumeRunID(run: "m2.run-1", answers: answers),
            state: ["n": 1], resume: try AGUIClient.resume(answers, dialect: .standard), includeRunSoFar: true)
        let value = try JSONValue(parsing: try Self.body(input))
        #expect(
            value["resume"]
                == [
                    [
                        "interruptId": "int-1", "status": "resolved",
                        "payload": ["approved": true, "reason": "off-peak"],
                    ],
                    [
                        "interruptId": "int-2", "status": "resolved",
                        "payload": ["approved": false, "reason": "rejected by the operator"],
                    ],
                ])
        #expect(
            value["messages"]?.arrayValue?.last
                == [
                    "id": "m2.run-1", "role": "assistant", "content": "I will deploy.",
                    "toolCalls": [
                        ["id": "tc", "type": "function", "function": ["name": "deploy", "arguments": #"{"v":1}"#]]
                    ],
                ])
        #expect(value["state"] == ["n": 1])
        // The same answers give the same request, byte for byte: a resume repeated after a crash is a replay.
        let again = AGUIClient.runInput(
            Self.outgoing(), threadID: "ops",
            runID: AGUIClient.resumeRunID(run: "m2.run-1", answers: answers.reversed()), state: ["n": 1],
            resume: try AGUIClient.resume(answers.reversed(), dialect: .standard), includeRunSoFar: true)
        #expect(try Self.body(again) == Self.body(input))
        #expect(AGUIClient.resumeRunID(run: "m2.run-1", answers: answers).hasPrefix("m2.run-1.resume-"))
    }

    @Test("Umbraco resume: one object {interruptId, payload}, no status; more than one answer is refused")
    func umbracoResume() throws {
        let answer = ApprovalAnswer(runtimeID: "approval:c", decision: .approve, note: nil, toolCallID: nil)
        let resume = try AGUIClient.resume([answer], dialect: .umbraco)
        let json = String(decoding: try AGUIWire.encoder.encode(resume), as: UTF8.self)
        #expect(json == #"{"interruptId":"approval:c","payload":{"approved":true}}"#)
        #expect(throws: RuntimeError.self) { try AGUIClient.resume([answer, answer], dialect: .umbraco) }
    }
}
