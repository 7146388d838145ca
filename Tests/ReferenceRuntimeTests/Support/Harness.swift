import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ReferenceRuntime
import Synchronization
import Testing

/// One HTTP answer, read whole.
struct Reply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func json<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: body)
    }

    /// The `error.code` of a JSON error body.
    var errorCode: String? { (try? json(ErrorEnvelope.self))?.error.code }
    /// The `error.message` of a JSON error body.
    var errorMessage: String? { (try? json(ErrorEnvelope.self))?.error.message }
}

struct ErrorEnvelope: Decodable {
    struct Detail: Decodable {
        var code: String
        var message: String
    }
    var error: Detail
}

struct PostReply: Decodable, Equatable {
    var threadId: String
    var message: ChatMessage
}

struct MessagesReply: Decodable {
    var messages: [ChatMessage]
}

struct ThreadsReply: Decodable {
    var threads: [ChatThread]
    var nextCursor: String?
}

struct EffectsReply: Decodable {
    var effects: [ReferenceEffect]
}

struct RequestsReply: Decodable {
    var requests: [ReferenceRequestCount]
}

/// A client for one running reference runtime.
struct Harness: Sendable {
    let client: HTTPClient
    let baseURL: String
    let token: String
    let control: ReferenceRuntimeControl

    init(client: HTTPClient, runtime: RunningReferenceRuntime) {
        self.init(client: client, baseURL: runtime.baseURL, token: runtime.token, control: runtime.control)
    }

    init(client: HTTPClient, baseURL: String, token: String, control: ReferenceRuntimeControl) {
        self.client = client
        self.baseURL = baseURL
        self.token = token
        self.control = control
    }

    /// Sends a request; `token: nil` sends no Authorization header.
    func send(
        _ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = [],
        token: String? = "", timeout: TimeAmount = .seconds(30)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token {
            request.headers.add(name: "Authorization", value: "Bearer \(token.isEmpty ? self.token : token)")
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: timeout)
        let buffer = try await response.body.collect(upTo: 16 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView))
    }

    func get(_ path: String) async throws -> Reply { try await send(.GET, path) }

    /// A JSON body for `POST /external/chat/messages`.
    static func messageBody(
        content: String, agent: String = "assistant", thread: String? = nil, title: String? = nil
    ) -> String {
        var fields: [String: Any] = ["agentId": agent, "content": content, "clientMessageId": NSNull()]
        fields["threadId"] = thread ?? NSNull()
        fields["title"] = title ?? NSNull()
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Posts a message with a fresh (or given) Idempotency-Key.
    func postMessage(
        _ content: String, agent: String = "assistant", thread: String? = nil, title: String? = nil,
        key: String = UUID().uuidString
    ) async throws -> Reply {
        try await send(
            .POST, "/external/chat/messages",
            body: Self.messageBody(content: content, agent: agent, thread: thread, title: title),
            headers: [("Idempotency-Key", key)])
    }

    /// Posts and expects 202.
    func post(_ content: String, agent: String = "assistant", thread: String? = nil) async throws -> PostReply {
        let reply = try await postMessage(content, agent: agent, thread: thread)
        try #require(reply.status == 202, "POST answered \(reply.status): \(reply.text)")
        return try reply.json(PostReply.self)
    }

    /// One long poll.
    func poll(_ thread: String, after: Int, wait: Double = 0) async throws -> [ChatMessage] {
        let reply = try await get("/external/chat/threads/\(thread)/messages?afterSeq=\(after)&waitSeconds=\(wait)")
        try #require(reply.status == 200, "poll answered \(reply.status): \(reply.text)")
        return try reply.json(MessagesReply.self).messages
    }

    /// Long-polls a thread from `after` until `done` holds for the latest version of every message seen, returning
    /// every version observed in order.
    func follow(
        _ thread: String, after: Int = 0, until done: (Timeline) -> Bool
    ) async throws -> Timeline {
        var timeline = Timeline(cursor: after)
        let deadline = ContinuousClock.now + .seconds(20)
        while !done(timeline) {
            try #require(ContinuousClock.now < deadline, "gave up waiting; saw \(timeline.latest.values)")
            let messages = try await poll(thread, after: timeline.cursor, wait: 5)
            timeline.add(messages)
        }
        return timeline
    }

    func effects() async throws -> [ReferenceEffect] {
        try await get("/_reference/effects").json(EffectsReply.self).effects
    }

    func addFaults(_ json: String) async throws {
        let reply = try await send(.POST, "/_reference/faults", body: json)
        try #require(reply.status == 200, "adding faults answered \(reply.status): \(reply.text)")
    }
}

/// Every version of every message a client saw while following a thread.
struct Timeline {
    var cursor: Int
    var versions: [ChatMessage] = []
    var latest: [String: ChatMessage] = [:]

    mutating func add(_ messages: [ChatMessage]) {
        for message in messages {
            versions.append(message)
            latest[message.id] = message
            cursor = max(cursor, message.seq)
        }
    }

    /// Latest versions in creation order (ids are allocated in order).
    var messages: [ChatMessage] { latest.values.sorted { $0.id < $1.id } }

    func first(_ role: ChatMessage.Role, where predicate: (ChatMessage) -> Bool = { _ in true }) -> ChatMessage? {
        messages.first { $0.role == role && predicate($0) }
    }
}

/// A wall clock that starts at 2026-01-01T00:00:00Z and moves 1 ms per reading: fixed, ordered timestamps.
func steppingClock() -> RuntimeClock {
    let ticks = Mutex<Int64>(0)
    return RuntimeClock(
        now: {
            let tick = ticks.withLock { value -> Int64 in
                defer { value += 1 }
                return value
            }
            return Date(timeIntervalSince1970: 1_767_225_600 + Double(tick) / 1000)
        },
        sleep: { duration in try await Task.sleep(for: duration) })
}

/// Records log entries in memory, so a test can read what was logged (the logging system is never bootstrapped).
final class LogRecorder: Sendable {
    private let entries = Mutex<[String]>([])

    var all: [String] { entries.withLock { $0 } }

    func logger(level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "reference-runtime-test") { _ in RecordingHandler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func append(_ entry: String) { entries.withLock { $0.append(entry) } }

    private struct RecordingHandler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            recorder.append("\(event.level) \(event.message) \(merged)")
        }
    }
}

/// Starts a reference runtime on a free port, runs `body` against it, and stops it.
func withRuntime(
    streamInterval: Duration = .milliseconds(5),
    pageSize: Int = 50,
    maxContentBytes: Int = 64 * 1024,
    token: String = "test-token-\(UUID().uuidString)",
    logger: Logger = Logger(label: "reference-runtime-test") { _ in SwiftLogNoOpLogHandler() },
    _ body: (Harness) async throws -> Void
) async throws {
    let configuration = ReferenceRuntimeConfiguration(
        host: "127.0.0.1", port: 0, token: token, streamInterval: streamInterval, maxContentBytes: maxContentBytes,
        pageSize: pageSize, clock: steppingClock())
    let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init())
    do {
        try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: logger) { runtime in
            try await body(Harness(client: client, runtime: runtime))
        }
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
}
