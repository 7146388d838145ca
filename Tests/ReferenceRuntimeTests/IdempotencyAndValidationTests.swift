import Foundation
import NIOHTTP1
import ReferenceRuntime
import Testing

@Suite("Idempotency and validation of POST /external/chat/messages")
struct IdempotencyAndValidationTests {
    @Test("The same key and body replay the identical 202 with no second effect")
    func replay() async throws {
        try await withRuntime { runtime in
            let first = try await runtime.postMessage("only once", key: "key-1")
            let again = try await runtime.postMessage("only once", key: "key-1")
            #expect(first.status == 202)
            #expect(again.status == 202)
            #expect(again.body == first.body)
            #expect(again.headers["Idempotent-Replayed"].first == "true")
            #expect(first.headers["Idempotent-Replayed"].isEmpty)

            let effects = try await runtime.effects()
            let accepted = effects.filter { $0.kind == .messageAccepted }
            #expect(accepted.count == 1)
            #expect(accepted.first?.idempotencyKey == "key-1")
            #expect(accepted.first?.content == "only once")
            #expect(effects.filter { $0.kind == .runStarted }.count == 1)
            #expect(effects.map(\.seq) == Array(1...effects.count))
        }
    }

    @Test("Reusing a key with a different body is a 409, with no effect")
    func keyReuse() async throws {
        try await withRuntime { runtime in
            #expect(try await runtime.postMessage("one", key: "key-2").status == 202)
            let other = try await runtime.postMessage("two", key: "key-2")
            #expect(other.status == 409)
            #expect(other.errorCode == "idempotency_key_reused")
            let otherAgent = try await runtime.postMessage("one", agent: "writer", key: "key-2")
            #expect(otherAgent.status == 409)
            #expect(try await runtime.effects().filter { $0.kind == .messageAccepted }.count == 1)
        }
    }

    @Test(
        "Validation errors",
        arguments: [
            ValidationCase(
                "no Idempotency-Key", body: #"{"agentId":"assistant","content":"hi"}"#, key: nil, 400,
                "missing_idempotency_key"),
            ValidationCase("malformed JSON", body: #"{"agentId": "assistant", "content": "#, 400, "invalid_json"),
            ValidationCase("empty body", body: "", 400, "invalid_json"),
            ValidationCase("missing content", body: #"{"agentId":"assistant"}"#, 400, "missing_field", "'content'"),
            ValidationCase(
                "missing agentId", body: #"{"content":"hi","threadId":null}"#, 400, "missing_field",
                "'agentId'"),
            ValidationCase(
                "content of the wrong type", body: #"{"agentId":"assistant","content":42}"#, 400,
                "invalid_field"),
            ValidationCase("empty content", body: #"{"agentId":"assistant","content":"  \n"}"#, 400, "invalid_request"),
            ValidationCase(
                "unknown thread", body: #"{"threadId":"thr_999999","agentId":"assistant","content":"hi"}"#,
                404, "thread_not_found"),
            ValidationCase(
                "content over the limit",
                body: #"{"agentId":"assistant","content":"\#(String(repeating: "x", count: 2049))"}"#,
                413, "content_too_large", "2049 bytes"),
            ValidationCase(
                "unknown agent", body: #"{"agentId":"nobody","content":"hi"}"#, 422, "unknown_agent",
                "assistant, writer, operator"),
            ValidationCase(
                "agent without the chat scope", body: #"{"agentId":"copilot","content":"hi"}"#, 422,
                "agent_not_chat", "assistant, writer, operator"),
        ])
    func validation(_ example: ValidationCase) async throws {
        try await withRuntime(maxContentBytes: 2048) { runtime in
            let headers = example.key.map { [("Idempotency-Key", $0)] } ?? []
            let reply = try await runtime.send(.POST, "/external/chat/messages", body: example.body, headers: headers)
            #expect(reply.status == example.status, "\(reply.text)")
            #expect(reply.errorCode == example.code)
            if let fragment = example.messageContains {
                #expect(reply.errorMessage?.contains(fragment) == true, "\(reply.errorMessage ?? "")")
            }
            #expect(try await runtime.effects().isEmpty)
        }
    }

    @Test("Content exactly at the limit is accepted")
    func contentAtLimit() async throws {
        try await withRuntime(maxContentBytes: 2048) { runtime in
            // 1024 two-byte characters: the limit counts UTF-8 bytes.
            let atLimit = try await runtime.postMessage(String(repeating: "é", count: 1024))
            let overLimit = try await runtime.postMessage(String(repeating: "é", count: 1025))
            #expect(atLimit.status == 202)
            #expect(overLimit.status == 413)
        }
    }

    @Test("A thread keeps its agent: posting to it for another agent is a 422")
    func agentMismatch() async throws {
        try await withRuntime { runtime in
            let posted = try await runtime.post("hello")
            let reply = try await runtime.postMessage("hello", agent: "writer", thread: posted.threadId)
            #expect(reply.status == 422)
            #expect(reply.errorCode == "agent_mismatch")
        }
    }

    @Test("Other endpoints: unknown ids are 404, bad parameters 400, unknown routes 404 unknown_endpoint")
    func otherErrors() async throws {
        try await withRuntime { runtime in
            let cases: [(Reply, Int, String)] = [
                (try await runtime.get("/external/chat/threads/thr_404/messages"), 404, "thread_not_found"),
                (
                    try await runtime.get("/external/chat/threads/thr_404/messages?afterSeq=-1"), 400,
                    "invalid_parameter"
                ),
                (try await runtime.get("/external/chat/threads/x/messages?waitSeconds=soon"), 400, "invalid_parameter"),
                (try await runtime.get("/external/chat/threads?cursor=nope"), 400, "invalid_cursor"),
                (try await runtime.send(.POST, "/external/chat/threads/thr_404/abort"), 404, "thread_not_found"),
                (try await runtime.send(.POST, "/external/chat/messages/msg_404/regenerate"), 404, "message_not_found"),
                (
                    try await runtime.send(.POST, "/external/chat/approvals/apr_404", body: #"{"decision":"approve"}"#),
                    404, "approval_not_found"
                ),
                (try await runtime.get("/external/nothing-here"), 404, "unknown_endpoint"),
                (try await runtime.send(.DELETE, "/external/agents"), 404, "unknown_endpoint"),
            ]
            for (reply, status, code) in cases {
                #expect(reply.status == status, "\(reply.text)")
                #expect(reply.errorCode == code, "\(reply.text)")
            }
        }
    }
}

struct ValidationCase: Sendable, CustomTestStringConvertible {
    var name: String
    var body: String
    var key: String?
    var status: Int
    var code: String
    var messageContains: String?

    init(
        _ name: String, body: String, key: String? = "validation-key", _ status: Int, _ code: String,
        _ messageContains: String? = nil
    ) {
        self.name = name
        self.body = body
        self.key = key
        self.status = status
        self.code = code
        self.messageContains = messageContains
    }

    var testDescription: String { name }
}
