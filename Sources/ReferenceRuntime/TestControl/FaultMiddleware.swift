import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Applies scripted faults (``ReferenceFault``) to matching requests.
///
/// A reset needs the connection itself: the request context carries the channel, and closing it with `SO_LINGER`
/// set to zero makes the kernel send a TCP RST instead of a FIN, so the client sees "connection reset by peer" and no
/// response at all. Throwing from a handler would not do: Hummingbird turns thrown errors into a 500.
struct FaultMiddleware: RouterMiddleware {
    typealias Context = RuntimeRequestContext
    let book: FaultBook
    let clock: RuntimeClock

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard !path.hasPrefix(TestControlRoutes.prefix) else { return try await next(request, context) }
        let key = request.header("Idempotency-Key")
        if let key { await book.arrived(key: key, at: Self.now()) }
        guard let fault = await book.take(method: request.method.rawValue, path: path) else {
            return try await next(request, context)
        }
        context.logger.info(
            "injecting fault",
            metadata: [
                "http.method": "\(request.method)", "http.path": "\(path)",
                "fault.status": "\(fault.status.map(String.init) ?? "-")", "fault.reset": "\(fault.reset == true)",
                "fault.hang": "\(fault.hangSeconds ?? 0)", "fault.after_effect": "\(fault.afterEffect == true)",
            ])
        var real: Result<Response, any Error>?
        if fault.afterEffect == true {
            do {
                real = .success(try await next(request, context))
            } catch {
                real = .failure(error)
            }
        }
        if let seconds = fault.hangSeconds, seconds > 0 {
            let clock = clock
            let heldToTheEnd =
                (try? await cancelWhenGracefulShutdown {
                    try await clock.sleep(.milliseconds(Int64((seconds * 1000).rounded())))
                    return true
                }) ?? false
            // Cut short by shutdown or cancellation: answer (if anyone still listens) without any real effect.
            guard heldToTheEnd else {
                return JSONCoding.errorResponse(
                    APIError(.serviceUnavailable, "shutting_down", "the reference runtime is shutting down"))
            }
        }
        if fault.reset == true {
            await Self.reset(context.channel)
            // Never written: the connection is gone.
            return Response(status: .internalServerError)
        }
        if fault.status != nil || fault.rawBody != nil {
            let status = HTTPResponse.Status(code: fault.status ?? 200)
            var headers = HTTPFields()
            if let retryAfter = fault.retryAfter {
                let now = Self.now()
                if fault.retryAfterAsDate == true, let seconds = Double(retryAfter) {
                    // An HTTP date has whole seconds: round up, so the client is never told a time too early.
                    let until = (now + Int64(seconds * 1000) + 999) / 1000 * 1000
                    headers[.retryAfter] = Self.httpDate(millisecondsSince1970: until)
                    if let key { await book.retryAfter(key: key, until: until) }
                } else {
                    headers[.retryAfter] = retryAfter
                    if let key, let seconds = Double(retryAfter) {
                        await book.retryAfter(key: key, until: now + Int64(seconds * 1000))
                    }
                }
            }
            var response: Response
            if let raw = fault.rawBody {
                headers[.contentType] = "application/json"
                response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: raw)))
            } else {
                let error = APIError(
                    status, fault.code ?? APIError.code(for: status),
                    fault.body ?? "injected fault: \(status.code) \(status.reasonPhrase)")
                response = JSONCoding.errorResponse(error, headers: headers)
            }
            if fault.truncate == true { response = await Self.truncated(response, channel: context.channel) }
            return response
        }
        if let real { return try real.get() }
        return try await next(request, context)
    }

    /// The same response, its full length announced but only the first half sent before the connection closes.
    static func truncated(_ response: Response, channel: any Channel) async -> Response {
        let collected = ByteCollector.Box()
        try? await response.body.write(ByteCollector(box: collected))
        let whole = collected.buffer
        let half = whole.getSlice(at: whole.readerIndex, length: whole.readableBytes / 2) ?? ByteBuffer()
        return Response(
            status: response.status, headers: response.headers,
            body: ResponseBody(contentLength: whole.readableBytes) { writer in
                try await writer.write(half)
                try? await channel.close()
            })
    }

    /// Milliseconds since 1970, by the wall clock (`Retry-After` dates are wall-clock times).
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110's IMF-fixdate).
    static func httpDate(millisecondsSince1970 milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// Closes the connection with a TCP reset.
    static func reset(_ channel: any Channel) async {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close()
    }
}

/// Collects a response body into one buffer (to cut it short).
private struct ByteCollector: ResponseBodyWriter {
    /// Only used by the one task that writes the body, then reads it.
    final class Box {
        var buffer = ByteBuffer()
    }

    let box: Box

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        box.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
