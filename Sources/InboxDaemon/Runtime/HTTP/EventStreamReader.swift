import AsyncHTTPClient
import InboxCore
import NIOCore
import NIOHTTP1

/// Reads server-sent events from a streamed response body, one at a time, through an `SSEParser`.
///
/// `@unchecked Sendable`: the body's iterator is not `Sendable` because NIO forbids two `next()` calls
/// at once. A reader is owned by one task at a time and handed over, never shared: `send()` reads up to
/// the acknowledgement (in a child task, joined before it goes on), then gives it to the run's updates,
/// which read the rest; the handovers are task joins, which order every access.
final class EventStreamReader: @unchecked Sendable {
    private var body: HTTPClientResponse.Body.AsyncIterator
    private var parser: SSEParser
    private var pending: [SSEEvent] = []
    private var position = 0
    private var ended = false
    /// Bytes read so far, for logs.
    private(set) var bytesRead = 0

    /// Whether `next()` has an event without reading the network.
    var hasBuffered: Bool { position < pending.count }

    init(_ response: HTTPClientResponse, maxLineBytes: Int) {
        body = response.body.makeAsyncIterator()
        parser = SSEParser(maxLineBytes: maxLineBytes)
    }

    /// The next event, or nil once the body has ended. Throws `SSEParser.LineTooLong` for a line over
    /// the limit, and the transport's error when the connection fails or the task is cancelled.
    func next() async throws -> SSEEvent? {
        while true {
            if position < pending.count {
                position += 1
                return pending[position - 1]
            }
            pending.removeAll(keepingCapacity: true)
            position = 0
            if ended { return nil }
            guard let buffer = try await body.next() else {
                ended = true
                pending = parser.finish()
                continue
            }
            bytesRead += buffer.readableBytes
            pending = try parser.feed(buffer.readableBytesView)
        }
    }
}

extension HTTPTransport {
    /// POSTs `body` and returns once the response headers arrive, for a streamed answer. An answer
    /// other than 2xx becomes the `RuntimeError` its status calls for, with the server's message.
    func openStream(_ path: String, body: [UInt8], deadline: Duration) async throws(RuntimeError)
        -> HTTPClientResponse
    {
        let response = try await open(
            .POST, path, headers: [("Accept", "text/event-stream")], body: body, deadline: deadline)
        let status = Int(response.status.code)
        guard !(200..<300).contains(status) else { return response }
        let bytes: [UInt8]
        do {
            bytes = Array(try await response.body.collect(upTo: 64 << 10).readableBytesView)
        } catch {
            bytes = []
        }
        var failure = Self.error(for: Response(status: status, headers: response.headers, body: bytes))
        if failure.message.hasSuffix("HTTP \(status)"), !bytes.isEmpty {
            // No `error.message` in the body (pydantic's 422 is a list of problems): show the body.
            failure.message += ": " + Self.excerpt(bytes)
        }
        throw failure
    }

    /// The start of a body as text, for error messages.
    static func excerpt(_ bytes: some Collection<UInt8>, limit: Int = 300) -> String {
        let text = String(decoding: bytes.prefix(limit), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
        return bytes.count > limit ? text + "…" : text
    }
}

/// Runs `body`, and cancels it once `duration` has passed (which closes a network read it is in).
/// Returns nil when the time ran out. Structured: both tasks are children of the caller's.
func withDeadline<T: Sendable>(_ duration: Duration, _ body: @escaping @Sendable () async throws -> T)
    async throws -> T?
{
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: duration)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { return nil }
        return first
    }
}
