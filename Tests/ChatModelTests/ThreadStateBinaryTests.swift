import Testing

@testable import ChatModel

@Suite("Folded thread states through the binary encoding (the site's thread cache)")
struct ThreadStateBinaryTests {
    let t = Timestamp(milliseconds: 1_795_000_000_000)

    /// A state with every property of every type set to something other than its default.
    var everyField: ThreadState {
        var state = ThreadState(id: "ops")
        state.runtimeThreadID = "rt-thread"
        let approval = ApprovalState(
            id: "ap-1", run: "run-1", file: "ap-1.approval.md", toolCall: "call-1", tool: "deploy", requestedAt: t,
            runtimeID: "rt-ap",
            answer: .init(
                decision: .edit, note: "smaller", at: t, file: "ap-1.approval.md",
                arguments: #"{"n":1}"#), delivered: true, invalidAnswers: ["maybe"],
            decisions: [.approve, .edit, .respond],
            expiresAt: t, expired: true, schema: #"{"type":"object"}"#, argumentsSHA256: "abc", ignoredEdits: 2)
        let run = RunState(
            id: "run-1", message: "m1", file: "m1.reply.md", agent: "assistant", runtimeID: "rt-run", status: .errored,
            reason: "overloaded", startedAt: t, endedAt: t,
            toolCalls: [
                ToolCallRecord(
                    id: "call-1", tool: "deploy", file: "call-1.tool.md", status: "done", at: t, runtimeID: "rt-call")
            ], approvals: [approval], abortRequested: true, detail: #"{"usage":{}}"#, sharedState: #"{"k":2}"#,
            customEvents: ["e1"], sha256: "def")
        state.runs = [run.id: run]
        state.messages = [
            MessageState(
                id: "m1", file: "m1.md", origin: .operator, sha256: "s1", requestID: "ops/m1#1", agent: "assistant",
                delivery: .retrying(attempt: 2, notBefore: t, reason: "503"),
                attempts: [
                    AttemptRecord(number: 1, startedAt: t, outcome: .retry(reason: "503", notBefore: t), endedAt: t),
                    AttemptRecord(number: 2, startedAt: t, outcome: .sent(runtimeID: "rt-m1"), endedAt: nil),
                    AttemptRecord(number: 3, startedAt: t, outcome: .failed(reason: "gone"), endedAt: t),
                    AttemptRecord(number: 4, startedAt: t, outcome: nil, endedAt: nil),
                ], runtimeID: "rt-m1", edits: [EditRecord(at: t, sha256: "s2")], runs: ["run-1"], detectedAt: t,
                acceptedAt: t, regeneratePending: true, regenerateError: "busy", notYetSeen: true, fileMissing: true),
            MessageState(
                id: "m2", file: "m2.md", origin: .remote(runtimeID: "rt-m2"), sha256: "s3",
                delivery: .failed(reason: "no"),
                detectedAt: t),
            MessageState(
                id: "m3", file: "m3.md", origin: .operator, sha256: "", delivery: .sending(attempt: 1), detectedAt: t),
            MessageState(id: "m4", file: "m4.md", origin: .operator, sha256: "", delivery: .replied, detectedAt: t),
            MessageState(id: "m5", file: "m5.md", origin: .operator, sha256: "", delivery: .sent, detectedAt: t),
            MessageState(id: "m6", file: "m6.md", origin: .operator, sha256: "", delivery: .queued, detectedAt: t),
        ]
        state.messageIndex = Dictionary(uniqueKeysWithValues: state.messages.enumerated().map { ($1.id, $0) })
        state.approvalRun = ["ap-1": "run-1"]
        state.rejected = ["bad.md": RejectedFile(file: "bad.md", reason: "no front matter", sha256: "s4", at: t)]
        state.controls = [ControlRecord(file: "controls/abort.md", outcome: .error, reason: "nothing runs", at: t)]
        state.lastActivity = t
        state.lastSeq = 42
        state.lastHash = "feed"
        return state
    }

    @Test("Every property comes back, indexes included")
    func roundTrip() throws {
        let state = everyField
        var w = ByteWriter()
        w.value(state)
        var r = ByteReader(w.bytes)
        #expect(try r.value(ThreadState.self) == state)
        #expect(r.isAtEnd)
        // Every case of `FrontMatterValue` and `ThreadMeta` too.
        for value in [FrontMatterValue.string("a"), .strings(["b", "c"]), .int(-3)] {
            var w = ByteWriter()
            w.value(value)
            var r = ByteReader(w.bytes)
            #expect(try r.value(FrontMatterValue.self) == value)
        }
        let meta = ThreadMeta(title: "Ops", agent: "assistant", tags: ["a"], description: "**d**")
        var mw = ByteWriter()
        mw.value(meta)
        var mr = ByteReader(mw.bytes)
        #expect(try mr.value(ThreadMeta.self) == meta)
    }

    @Test("Each encoding covers every stored property of its type (a new property must be added to it)")
    func storedProperties() {
        let state = everyField
        let message = state.messages[0]
        let run = state.runs["run-1"]!
        let approval = run.approvals[0]
        let counts: [(String, Int, Int)] = [
            ("ThreadState", Mirror(reflecting: state).children.count, ThreadState.storedProperties),
            ("MessageState", Mirror(reflecting: message).children.count, MessageState.storedProperties),
            ("AttemptRecord", Mirror(reflecting: message.attempts[0]).children.count, AttemptRecord.storedProperties),
            ("EditRecord", Mirror(reflecting: message.edits[0]).children.count, EditRecord.storedProperties),
            ("RunState", Mirror(reflecting: run).children.count, RunState.storedProperties),
            ("ToolCallRecord", Mirror(reflecting: run.toolCalls[0]).children.count, ToolCallRecord.storedProperties),
            ("ApprovalState", Mirror(reflecting: approval).children.count, ApprovalState.storedProperties),
            (
                "ApprovalState.Answer", Mirror(reflecting: approval.answer!).children.count,
                ApprovalState.Answer.storedProperties
            ),
            (
                "RejectedFile", Mirror(reflecting: state.rejected["bad.md"]!).children.count,
                RejectedFile.storedProperties
            ),
            ("ControlRecord", Mirror(reflecting: state.controls[0]).children.count, ControlRecord.storedProperties),
            ("ThreadMeta", Mirror(reflecting: ThreadMeta()).children.count, ThreadMeta.storedProperties),
        ]
        for (type, stored, encoded) in counts { #expect(stored == encoded, "\(type)") }
    }

    @Test("Bytes cut short or with an unknown case are refused")
    func malformed() {
        var w = ByteWriter()
        w.value(everyField)
        for length in stride(from: 0, to: w.bytes.count, by: 7) {
            var r = ByteReader(Array(w.bytes.prefix(length)))
            #expect(throws: ByteReader.Malformed.self) { try r.value(ThreadState.self) }
        }
        var r = ByteReader([9])
        #expect(throws: ByteReader.Malformed.self) { try r.value(DeliveryState.self) }
    }
}
