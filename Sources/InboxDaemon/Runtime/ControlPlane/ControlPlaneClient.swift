import ChatModel
import Foundation
import InboxCore
import Logging
import NIOHTTP1

/// The control plane's external chat API (docs/runtime-api.md): the runtime keeps the conversation,
/// deduplicates on Idempotency-Key, and replies grow in place, followed here by long polling.
public struct ControlPlaneClient: ChatRuntime {
    public let name: String
    let http: HTTPTransport
    let pollWaitSeconds: Int
    let logger: Logger

    public init(name: String, http: HTTPTransport, pollWaitSeconds: Int, logger: Logger) {
        self.name = name
        self.http = http
        self.pollWaitSeconds = pollWaitSeconds
        self.logger = logger
    }

    public var capabilities: RuntimeCapabilities {
        RuntimeCapabilities(
            streaming: true, toolCalls: true, approvals: true, abort: true, regenerate: true, threadListing: true,
            serverHistory: true, agentListing: true)
    }

    static let decoder = JSONDecoder()
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public func agents() async throws(RuntimeError) -> [RuntimeAgent] {
        let list: ControlPlaneWire.Agents = try await get("/external/agents")
        return list.agents.map { RuntimeAgent(id: $0.id, name: $0.name, scopes: $0.scopeIds, runtime: name) }
    }

    public func send(_ message: OutgoingMessage) async throws(RuntimeError) -> Acceptance {
        var post = ControlPlaneWire.Post(
            threadId: message.runtimeThreadID, title: message.runtimeThreadID == nil ? message.threadTitle : nil,
            agentId: message.agent, content: message.content, clientMessageId: "\(message.thread)/\(message.message)")
        var response = try await http.send(
            .POST, "/external/chat/messages", headers: [("Idempotency-Key", message.requestID)], body: try encode(post))
        if response.status == 404, post.threadId != nil, Self.errorCode(response.body) == "thread_not_found" {
            // The runtime no longer knows the thread (it was reset): start a new one rather than fail.
            // A refused request is not remembered under its key, so the same key is fine.
            logger.warning(
                "the runtime lost the thread; starting a new runtime thread",
                metadata: ["thread.id": "\(message.thread)"])
            post.threadId = nil
            post.title = message.threadTitle
            response = try await http.send(
                .POST, "/external/chat/messages", headers: [("Idempotency-Key", message.requestID)],
                body: try encode(post))
        }
        guard response.status == 202 || response.status == 200 else { throw HTTPTransport.error(for: response) }
        // An answer that cannot be read (a proxy's error page, a cut body) says nothing about whether
        // the runtime took the message; retrying with the same key is safe and is what the key is for.
        let accepted: ControlPlaneWire.Accepted
        do throws(RuntimeError) {
            accepted = try decode(response.body)
        } catch {
            throw RuntimeError(
                .transient(retryAfter: nil),
                "HTTP \(response.status) with an answer that is not the documented JSON; retried with the same key (\(error.message))",
                status: response.status)
        }
        let reference = RunReference(
            run: message.run, runtimeThreadID: accepted.threadId, runtimeMessageID: accepted.message.id)
        return Acceptance(
            runtimeMessageID: accepted.message.id, runtimeThreadID: accepted.threadId,
            updates: track(reference, afterSeq: accepted.message.seq), reference: reference)
    }

    public func follow(_ reference: RunReference) -> RunUpdates? {
        track(reference, afterSeq: 0)
    }

    public func abort(_ reference: RunReference) async throws(RuntimeError) {
        guard let thread = reference.runtimeThreadID else {
            throw RuntimeError(.rejected, "the run has no runtime thread yet")
        }
        let body = try encode(ControlPlaneWire.AbortRequest(messageId: reference.runtimeMessageID))
        let response = try await http.send(.POST, "/external/chat/threads/\(escape(thread))/abort", body: body)
        try expectSuccess(response, operation: "abort")
    }

    public func regenerate(_ message: OutgoingMessage, previous: RunReference) async throws(RuntimeError) -> Acceptance
    {
        guard let thread = previous.runtimeThreadID, let operatorID = previous.runtimeMessageID else {
            throw RuntimeError(.rejected, "the message was never delivered, so there is nothing to regenerate")
        }
        // Everything that already answers this message belongs to earlier runs.
        let before: ControlPlaneWire.Messages = try await get(
            "/external/chat/threads/\(escape(thread))/messages?afterSeq=0")
        let earlier = before.messages.filter { $0.replyTo == operatorID }.map(\.id)
        let response = try await http.send(.POST, "/external/chat/messages/\(escape(operatorID))/regenerate")
        try expectSuccess(response, operation: "regenerate")
        let regenerated: ControlPlaneWire.Regenerated = try decode(response.body)
        let reference = RunReference(
            run: message.run, runtimeThreadID: thread, runtimeMessageID: operatorID, excludedRuntimeIDs: earlier)
        return Acceptance(
            runtimeMessageID: regenerated.message.id, runtimeThreadID: thread,
            updates: track(reference, afterSeq: max(0, regenerated.message.seq - 1)), reference: reference)
    }

    public func answer(_ answers: [ApprovalAnswer], for reference: RunReference, message: OutgoingMessage)
        async throws(RuntimeError) -> RunUpdates?
    {
        for answer in answers {
            let body = try encode(
                ControlPlaneWire.ApprovalAnswer(
                    decision: answer.withdrawn ? Decision.cancel.rawValue : answer.decision.rawValue, note: answer.note,
                    arguments: answer.decision == .edit ? answer.arguments : nil))
            let response = try await http.send(
                .POST, "/external/chat/approvals/\(escape(answer.runtimeID))", body: body)
            try expectSuccess(response, operation: "approvals")
        }
        return nil
    }

    // MARK: Following a run

    /// Long-polls the thread and turns the messages answering the operator's message into updates,
    /// until the answer ends. Transient failures are retried here: the run goes on in the runtime.
    func track(_ reference: RunReference, afterSeq: Int) -> RunUpdates {
        RunUpdates { emit in try await self.poll(reference, from: afterSeq, emit: emit) }
    }

    private func poll(
        _ reference: RunReference, from afterSeq: Int, emit: @Sendable (RunUpdate) async throws -> Void
    ) async throws {
        guard let thread = reference.runtimeThreadID, let operatorID = reference.runtimeMessageID else {
            throw RuntimeError(.rejected, "the run has no runtime thread")
        }
        var tracker = ControlPlaneRun(operatorID: operatorID, excluded: Set(reference.excludedRuntimeIDs))
        var cursor = afterSeq
        var failures = 0
        while !Task.isCancelled {
            let path =
                "/external/chat/threads/\(escape(thread))/messages?afterSeq=\(cursor)&waitSeconds=\(pollWaitSeconds)"
            let page: ControlPlaneWire.Messages
            do {
                page = try await get(path, timeout: .seconds(pollWaitSeconds + 15))
                failures = 0
            } catch {
                guard case .transient = error.kind, failures < 8 else { throw error }
                failures += 1
                logger.debug(
                    "long poll failed, retrying", metadata: ["error": "\(error)", "thread.runtime": "\(thread)"])
                try await Task.sleep(for: .milliseconds(min(8000, 250 << failures)))
                continue
            }
            for message in page.messages {
                cursor = max(cursor, message.seq)
                for update in tracker.apply(message) { try await emit(update) }
                if tracker.isFinished { return }
            }
        }
    }

    // MARK: Helpers

    static func errorCode(_ body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let error = object["error"] as? [String: Any]
        else { return nil }
        return error["code"] as? String
    }

    private func get<T: Decodable>(_ path: String, timeout: Duration? = nil) async throws(RuntimeError) -> T {
        let response = try await http.send(.GET, path, timeout: timeout)
        guard response.status == 200 else { throw HTTPTransport.error(for: response) }
        return try decode(response.body)
    }

    /// A 404 that is not about a known id, a 405 or a 501 means the runtime lacks the endpoint.
    private func expectSuccess(_ response: HTTPTransport.Response, operation: String) throws(RuntimeError) {
        guard !(200..<300).contains(response.status) else { return }
        let known = ["thread_not_found", "message_not_found", "approval_not_found"]
        let body = String(decoding: response.body, as: UTF8.self)
        if response.status == 405 || response.status == 501
            || (response.status == 404 && !known.contains(where: { body.contains("\"\($0)\"") }))
        {
            throw RuntimeError(
                .unsupported, "the runtime does not support \(operation) (HTTP \(response.status))",
                status: response.status)
        }
        throw HTTPTransport.error(for: response)
    }

    private func decode<T: Decodable>(_ body: [UInt8]) throws(RuntimeError) -> T {
        do {
            return try Self.decoder.decode(T.self, from: Data(body))
        } catch {
            throw RuntimeError(.protocolViolation, "the runtime's answer is not the documented JSON: \(error)")
        }
    }

    private func encode<T: Encodable>(_ value: T) throws(RuntimeError) -> [UInt8] {
        do {
            return Array(try Self.encoder.encode(value))
        } catch {
            throw RuntimeError(.rejected, "could not encode the request: \(error)")
        }
    }

    private func escape(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
            ?? id
    }
}

/// Which runtime messages belong to a run, and what they mean as updates. Pure: messages in, updates out.
struct ControlPlaneRun {
    let operatorID: String
    var excluded: Set<String>
    var replyID: String?
    var replyText = ""
    var pendingApprovals: Set<String> = []
    var ended: RunEnd?
    var toolCalls: [String: ToolCallUpdate] = [:]
    var announcedApprovals: Set<String> = []

    var isFinished: Bool { ended != nil && pendingApprovals.isEmpty }

    mutating func apply(_ message: ControlPlaneWire.Message) -> [RunUpdate] {
        guard message.replyTo == operatorID, !excluded.contains(message.id) else { return [] }
        var updates: [RunUpdate] = []
        switch message.role {
        case "assistant":
            if replyID == nil {
                replyID = message.id
                updates.append(.replyID(message.id))
            }
            guard message.id == replyID else { return [] }
            let text = message.content ?? ""
            if text != replyText {
                replyText = text
                updates.append(.text(text))
            }
            switch message.status {
            case "complete": ended = .complete(usage: nil)
            case "aborted": ended = .aborted(reason: "the runtime aborted the run")
            case "failed": ended = .errored(reason: "the runtime reported the run failed")
            default: break
            }
            if let ended, pendingApprovals.isEmpty { updates.append(.finished(ended)) }
        case "tool":
            guard let call = message.toolCall else { return [] }
            let update = ToolCallUpdate(
                id: call.id, name: call.name, arguments: call.arguments ?? "", result: call.result,
                runtimeID: message.id)
            if toolCalls[call.id] != update {
                toolCalls[call.id] = update
                updates.append(.toolCall(update))
            }
        case "approval":
            guard let approval = message.approval else { return [] }
            if approval.status == "pending" {
                pendingApprovals.insert(approval.id)
                if announcedApprovals.insert(approval.id).inserted {
                    let call = approval.toolCallId.flatMap { toolCalls[$0] }
                    updates.append(
                        .approval(
                            ApprovalRequest(
                                runtimeID: approval.id, prompt: approval.prompt ?? message.content ?? "",
                                toolCallID: approval.toolCallId,
                                tool: call?.name, arguments: call?.arguments,
                                decisions: approval.decisions.map { $0.compactMap(Decision.init(rawValue:)) }
                                    ?? [.approve, .reject],
                                expiresAt: approval.expiresAt.flatMap { Timestamp($0) },
                                schema: approval.argumentsSchema)))
                }
            } else {
                pendingApprovals.remove(approval.id)
                if let ended, pendingApprovals.isEmpty { updates.append(.finished(ended)) }
            }
        default:
            break
        }
        return updates
    }
}
