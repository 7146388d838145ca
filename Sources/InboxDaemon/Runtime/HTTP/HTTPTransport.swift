public import AsyncHTTPClient
import ChatModel
import Foundation
import InboxCore
import NIOCore
import NIOHTTP1

/// HTTP for runtime clients: one shared AsyncHTTPClient, a base URL, a bearer token, and errors turned
/// into `RuntimeError`s the delivery policy understands.
public struct HTTPTransport: Sendable {
    public let client: HTTPClient
    public let baseURL: String
    let token: Secret?
    /// How long a plain request may take.
    public let timeout: Duration

    /// The daemon's HTTP client. Each thread in flight may hold a long poll (its run) and a send (the
    /// next message, queued behind that run) to the same runtime at once, so the pool allows that many
    /// connections per host, plus a few for agent lists and catch-up. AsyncHTTPClient's default of 8
    /// queued sends behind long polls: 142 messages/s in the burst benchmark (docs/benchmarks.md).
    public static func makeClient(maxParallelThreads: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 2 * maxParallelThreads + 8)
        // A refused connection is reported at once: the daemon has its own backoff and breaker, and
        // AsyncHTTPClient's retries would hold each request until its timeout (10 s and more) first.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public init(client: HTTPClient, baseURL: String, token: Secret?, timeout: Duration) {
        self.client = client
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
        self.timeout = timeout
    }

    /// A complete response.
    public struct Response: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: [UInt8]
    }

    /// The largest response body read whole.
    static let maxBody = 16 << 20

    /// Sends a request and reads the whole answer. Transport failures become transient errors.
    public func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Duration? = nil
    ) async throws(RuntimeError) -> Response {
        let request = makeRequest(method, path, headers: headers, body: body)
        do {
            let response = try await client.execute(request, timeout: .init(timeout ?? self.timeout))
            let buffer = try await response.body.collect(upTo: Self.maxBody)
            return Response(
                status: Int(response.status.code), headers: response.headers, body: Array(buffer.readableBytesView))
        } catch {
            throw Self.classify(error)
        }
    }

    /// Sends a request and returns as soon as the headers arrive, for streamed bodies (SSE).
    public func open(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        deadline: Duration
    ) async throws(RuntimeError) -> HTTPClientResponse {
        let request = makeRequest(method, path, headers: headers, body: body)
        do {
            return try await client.execute(request, timeout: .init(deadline))
        } catch {
            throw Self.classify(error)
        }
    }

    func makeRequest(_ method: HTTPMethod, _ path: String, headers: [(String, String)], body: [UInt8]?)
        -> HTTPClientRequest
    {
        let url = path.hasPrefix("http://") || path.hasPrefix("https://") ? path : baseURL + path
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "letterbox/0.1")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token.value)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        return request
    }

    /// Turns a transport error into a `RuntimeError` (never echoing request headers).
    public static func classify(_ error: any Error) -> RuntimeError {
        if let error = error as? RuntimeError { return error }
        if error is CancellationError { return RuntimeError(.cancelled, "cancelled") }
        if let error = error as? HTTPClientError {
            if error == .cancelled { return RuntimeError(.cancelled, "cancelled") }
            if [.deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout].contains(error) {
                return RuntimeError(.transient(retryAfter: nil), "the runtime did not answer in time")
            }
            if error == .remoteConnectionClosed {
                return RuntimeError(.transient(retryAfter: nil), "the runtime closed the connection")
            }
            if [.invalidURL, .emptyHost, .emptyScheme].contains(error) {
                return RuntimeError(.rejected, "the runtime URL is invalid: \(error)")
            }
            return RuntimeError(.transient(retryAfter: nil), "HTTP error: \(error)")
        }
        if let error = error as? IOError {
            return RuntimeError(
                .transient(retryAfter: nil), "connection error: \(String(cString: strerror(error.errnoCode)))")
        }
        if let error = error as? ChannelError {
            return RuntimeError(.transient(retryAfter: nil), "connection error: \(error)")
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") {
            return RuntimeError(.transient(retryAfter: nil), "connection refused")
        }
        return RuntimeError(.transient(retryAfter: nil), "connection error: \(text)")
    }

    /// The error for a non-2xx answer: the runtime's own message when the body has the standard shape.
    public static func error(for response: Response, now: Double = Date().timeIntervalSince1970) -> RuntimeError {
        let reason = errorMessage(response.body) ?? "HTTP \(response.status)"
        let retryAfter = response.headers.first(name: "Retry-After").flatMap { value in
            RetryAfter.seconds(value, now: .init(milliseconds: Int64(now * 1000)))
        }
        switch response.status {
        case 401, 403:
            return RuntimeError(
                .authentication, "the runtime refused the token (HTTP \(response.status)): \(reason)",
                status: response.status)
        case 408, 425, 429, 500...599:
            return RuntimeError(
                .transient(retryAfter: retryAfter), "HTTP \(response.status): \(reason)", status: response.status)
        default:
            return RuntimeError(.rejected, "HTTP \(response.status): \(reason)", status: response.status)
        }
    }

    /// `error.message` (and code) from `{"error": {"code", "message"}}`, or an OpenAI-style body.
    static func errorMessage(_ body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        if let error = object["error"] as? [String: Any] {
            let message = error["message"] as? String
            let code = error["code"] as? String ?? error["type"] as? String
            switch (code, message) {
            case let (code?, message?): return "\(message) (\(code))"
            case let (nil, message?): return message
            case let (code?, nil): return code
            default: return nil
            }
        }
        return (object["error"] as? String) ?? (object["message"] as? String)
    }
}
