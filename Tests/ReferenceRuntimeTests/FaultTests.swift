import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ReferenceRuntime
import Testing

@Suite("Test control: scripted faults, effects, request counts")
struct FaultTests {
    @Test(
        "A status fault answers with its status, Retry-After and a JSON error, once; the next request is real",
        arguments: [
            (500, nil), (503, "3"), (429, "Wed, 21 Oct 2026 07:28:00 GMT"), (401, nil), (403, nil), (422, nil),
        ] as [(Int, String?)])
    func statusFault(status: Int, retryAfter: String?) async throws {
        try await withRuntime { runtime in
            let retry = retryAfter.map { #", "retryAfter": "\#($0)""# } ?? ""
            try await runtime.addFaults(
                #"{"faults": [{"method": "POST", "path": "/external/chat/messages", "status": \#(status)\#(retry)}]}"#)
            let failed = try await runtime.postMessage("hello", key: "k")
            #expect(failed.status == status)
            #expect(failed.headers["Retry-After"].first == retryAfter)
            #expect(failed.errorCode != nil)
            #expect(try await runtime.effects().isEmpty)

            let retried = try await runtime.postMessage("hello", key: "k")
            #expect(retried.status == 202)
            #expect(retried.headers["Idempotent-Replayed"].isEmpty)  // the fault never reached the handler
            #expect(try await runtime.effects().filter { $0.kind == .messageAccepted }.count == 1)
        }
    }

    @Test("count, method and path prefixes decide which requests a fault takes; faults apply in order")
    func matching() async throws {
        try await withRuntime { runtime in
            try await runtime.addFaults(
                """
                {"faults": [
                  {"method": "GET", "path": "/external/chat/*", "status": 503, "count": 2, "body": "busy",
                   "code": "maintenance"},
                  {"path": "/external/agents", "status": 500}
                ]}
                """)
            let first = try await runtime.get("/external/chat/threads")
            #expect(first.status == 503)
            #expect(first.errorCode == "maintenance")
            #expect(first.errorMessage == "busy")
            #expect(try await runtime.postMessage("not a GET").status == 202)  // method does not match
            #expect(try await runtime.get("/external/chat/threads").status == 503)
            #expect(try await runtime.get("/external/chat/threads").status == 200)  // used up
            #expect(try await runtime.get("/external/agents").status == 500)
            #expect(try await runtime.get("/external/agents").status == 200)

            struct Faults: Decodable { var faults: [ReferenceFault] }
            #expect(try await runtime.get("/_reference/faults").json(Faults.self).faults.isEmpty)

            let counts = try await runtime.get("/_reference/requests").json(RequestsReply.self).requests
            #expect(
                counts == [
                    ReferenceRequestCount(method: "GET", path: "/external/agents", count: 2),
                    ReferenceRequestCount(method: "POST", path: "/external/chat/messages", count: 1),
                    ReferenceRequestCount(method: "GET", path: "/external/chat/threads", count: 3),
                ])
            #expect(try await runtime.send(.DELETE, "/_reference/requests").status == 200)
            #expect(try await runtime.get("/_reference/requests").json(RequestsReply.self).requests.isEmpty)
        }
    }

    @Test("DELETE /_reference/faults clears pending faults; invalid faults are refused whole")
    func clearAndValidate() async throws {
        try await withRuntime { runtime in
            try await runtime.addFaults(#"{"faults": [{"path": "/external/agents", "status": 500, "count": 5}]}"#)
            struct Faults: Decodable { var faults: [ReferenceFault] }
            #expect(try await runtime.get("/_reference/faults").json(Faults.self).faults.first?.count == 5)
            #expect(try await runtime.send(.DELETE, "/_reference/faults").status == 200)
            #expect(try await runtime.get("/external/agents").status == 200)

            let invalid = try await runtime.send(
                .POST, "/_reference/faults",
                body: #"{"faults": [{"path": "/external/agents", "status": 500}, {"path": "/external/agents"}]}"#)
            #expect(invalid.status == 422)
            #expect(invalid.errorMessage?.contains("fault 2") == true)
            #expect(try await runtime.get("/_reference/faults").json(Faults.self).faults.isEmpty)
        }
    }

    @Test("A hang holds the request: the client times out, and the server still answers others")
    func hang() async throws {
        try await withRuntime { runtime in
            try await runtime.addFaults(#"{"faults": [{"path": "/external/agents", "hangSeconds": 30}]}"#)
            await #expect(throws: HTTPClientError.deadlineExceeded) {
                _ = try await runtime.send(.GET, "/external/agents", timeout: .milliseconds(300))
            }
            #expect(try await runtime.get("/external/agents").status == 200)
        }
    }

    @Test("A hang without a status answers normally once it is over")
    func shortHang() async throws {
        try await withRuntime { runtime in
            try await runtime.addFaults(#"{"faults": [{"path": "/external/agents", "hangSeconds": 0.1}]}"#)
            #expect(try await runtime.get("/external/agents").status == 200)
        }
    }

    @Test("A reset closes the connection with no response: the client sees a connection error, not a status")
    func reset() async throws {
        try await withRuntime { runtime in
            try await runtime.addFaults(#"{"faults": [{"path": "/external/chat/messages", "reset": true}]}"#)
            let error = await #expect(throws: (any Error).self) {
                _ = try await runtime.postMessage("lost", key: "reset-key")
            }
            #expect(Self.isConnectionError(error), "got \(String(describing: error))")
            #expect(try await runtime.effects().isEmpty)
            #expect(try await runtime.postMessage("lost", key: "reset-key").status == 202)
        }
    }

    @Test(
        "afterEffect: the server does it, the response is lost; a retry with the same key replays, no second effect",
        arguments: [#""status": 503"#, #""reset": true"#])
    func afterEffect(fault: String) async throws {
        try await withRuntime { runtime in
            try await runtime.addFaults(
                #"{"faults": [{"path": "/external/chat/messages", \#(fault), "afterEffect": true}]}"#)
            do {
                let lost = try await runtime.postMessage("deliver me once", key: "once")
                #expect(lost.status == 503)
            } catch {
                #expect(Self.isConnectionError(error), "got \(error)")
            }
            #expect(try await runtime.effects().filter { $0.kind == .messageAccepted }.count == 1)

            let retried = try await runtime.postMessage("deliver me once", key: "once")
            #expect(retried.status == 202)
            #expect(retried.headers["Idempotent-Replayed"].first == "true")
            let posted = try retried.json(PostReply.self)
            _ = try await runtime.follow(posted.threadId) { $0.first(.assistant)?.status == .complete }
            let effects = try await runtime.effects()
            #expect(effects.map(\.kind) == [.messageAccepted, .runStarted])
            #expect(effects.allSatisfy { $0.idempotencyKey == "once" })
            #expect(effects.first?.messageId == posted.message.id)
        }
    }

    @Test("The in-process control sees the same faults, effects and counts as the HTTP API")
    func inProcessControl() async throws {
        try await withRuntime { runtime in
            let control = runtime.control
            try await control.addFaults([ReferenceFault(method: "GET", path: "/external/agents", status: 503)])
            #expect(try await runtime.get("/external/agents").status == 503)
            _ = try await runtime.post("hi")
            #expect(await control.effects() == (try await runtime.effects()))
            #expect(await control.requestCounts().map(\.count).reduce(0, +) == 2)
            await #expect(throws: ReferenceRuntimeError.self) {
                try await control.addFaults([ReferenceFault(path: "/external/agents")])
            }
        }
    }

    /// A TCP reset (ECONNRESET), or the connection closed before any response: never an HTTP status.
    static func isConnectionError(_ error: (any Error)?) -> Bool {
        if let error = error as? IOError { return error.errnoCode == ECONNRESET }
        if let error = error as? HTTPClientError { return error == .remoteConnectionClosed }
        return false
    }
}
