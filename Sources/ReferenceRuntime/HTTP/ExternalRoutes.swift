import Foundation
import HTTPTypes
import Hummingbird

/// The external chat API (docs/runtime-api.md): agents, threads, messages with long polling, and the controls.
struct ExternalRoutes: Sendable {
    let state: RuntimeState
    let board: ChangeBoard
    let clock: RuntimeClock
    let maxContentBytes: Int
    let maxWait: Duration

    /// The largest request body read: content may grow up to six times when JSON-escaped, plus room for the rest.
    private var bodyLimit: Int { maxContentBytes * 6 + 64 * 1024 }

    /// Every method and path this API serves, for the OpenAPI agreement test.
    static let endpoints: [(method: HTTPRequest.Method, path: String)] = [
        (.get, "/external/agents"),
        (.get, "/external/chat/threads"),
        (.get, "/external/chat/threads/{id}/messages"),
        (.post, "/external/chat/messages"),
        (.post, "/external/chat/threads/{id}/abort"),
        (.post, "/external/chat/messages/{id}/regenerate"),
        (.post, "/external/chat/approvals/{id}"),
    ]

    func register(on router: Router<RuntimeRequestContext>) {
        router.get("/external/agents") { _, _ in
            try JSONCoding.response(AgentList(agents: await state.agents))
        }
        router.get("/external/chat/threads") { request, _ in
            let cursor = request.uri.queryParameters.get("cursor")
            return try JSONCoding.response(try await state.threadPage(after: cursor))
        }
        router.get("/external/chat/threads/:id/messages") { request, context in
            try await messages(request, thread: try Self.parameter("id", context))
        }
        router.post("/external/chat/messages") { request, _ in
            try await post(request)
        }
        router.post("/external/chat/threads/:id/abort") { request, context in
            let body = try await JSONCoding.decodeIfPresent(AbortRequest.self, from: request, limit: bodyLimit)
            let aborted = try await state.abort(threadId: try Self.parameter("id", context), messageId: body?.messageId)
            return try JSONCoding.response(AbortResult(aborted: aborted))
        }
        router.post("/external/chat/messages/:id/regenerate") { _, context in
            let message = try await state.regenerate(messageId: try Self.parameter("id", context))
            return try JSONCoding.response(RegenerateResult(message: message), status: .accepted)
        }
        router.post("/external/chat/approvals/:id") { request, context in
            let id = try Self.parameter("id", context)
            let answer = try await JSONCoding.decode(ApprovalAnswer.self, from: request, limit: bodyLimit)
            let approval = try await state.answer(
                approvalId: id, decision: answer.decision, note: answer.note, arguments: answer.arguments)
            return try JSONCoding.response(ApprovalResult(approval: approval))
        }
    }

    private static func parameter(_ name: String, _ context: RuntimeRequestContext) throws -> String {
        guard let value = context.parameters.get(name), !value.isEmpty else {
            throw APIError.badRequest("invalid_parameter", "the path needs a '\(name)'")
        }
        return value
    }

    /// `GET …/messages?afterSeq=N&waitSeconds=W`: changes after N, waiting up to W seconds for one if there are none.
    private func messages(_ request: Request, thread: String) async throws -> Response {
        let query = request.uri.queryParameters
        var after = 0
        if let text = query.get("afterSeq") {
            guard let value = Int(text), value >= 0 else {
                throw APIError.badRequest("invalid_parameter", "afterSeq must be a whole number ≥ 0, not '\(text)'")
            }
            after = value
        }
        var wait = Duration.zero
        if let text = query.get("waitSeconds") {
            guard let value = Double(text), value.isFinite, value >= 0 else {
                throw APIError.badRequest("invalid_parameter", "waitSeconds must be a number ≥ 0, not '\(text)'")
            }
            wait = min(.milliseconds(Int64((value * 1000).rounded())), maxWait)
        }
        var found = try await state.messages(in: thread, after: after)
        if found.isEmpty && wait > .zero {
            await waitForChange(thread: thread, after: after, timeout: wait)
            found = try await state.messages(in: thread, after: after)
        }
        return try JSONCoding.response(MessageList(messages: found))
    }

    /// Returns on the first of: a change after `after`, the timeout, cancellation, graceful shutdown.
    private func waitForChange(thread: String, after: Int, timeout: Duration) async {
        let board = board
        let clock = clock
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await board.wait(thread: thread, after: after) }
            group.addTask { try? await clock.sleep(timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// `POST /external/chat/messages`: store, or replay what the same key and body got before.
    private func post(_ request: Request) async throws -> Response {
        guard let key = request.header("Idempotency-Key") else {
            throw APIError.badRequest(
                "missing_idempotency_key", "POST /external/chat/messages needs an Idempotency-Key header")
        }
        guard !key.isEmpty, key.count <= 255 else {
            throw APIError.badRequest("invalid_idempotency_key", "Idempotency-Key must be 1 to 255 characters")
        }
        let body = try await JSONCoding.decode(PostMessageRequest.self, from: request, limit: bodyLimit)
        let (answer, replayed) = try await state.post(body, idempotencyKey: key)
        var headers = HTTPFields()
        if replayed, let name = HTTPField.Name("Idempotent-Replayed") { headers[name] = "true" }
        return try JSONCoding.response(answer, status: .accepted, headers: headers)
    }
}
