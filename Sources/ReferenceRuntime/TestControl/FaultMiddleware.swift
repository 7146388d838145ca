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
        guard !path.hasPrefix(TestControlRoutes.prefix),
            let fault = await book.take(method: request.method.rawValue, path: path)
        else { return try await next(request, context) }
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
        if let code = fault.status {
            let status = HTTPResponse.Status(code: code)
            var headers = HTTPFields()
            if let retryAfter = fault.retryAfter { headers[.retryAfter] = retryAfter }
            let error = APIError(
                status, fault.code ?? APIError.code(for: status),
                fault.body ?? "injected fault: \(code) \(status.reasonPhrase)")
            return JSONCoding.errorResponse(error, headers: headers)
        }
        if let real { return try real.get() }
        return try await next(request, context)
    }

    /// Closes the connection with a TCP reset.
    static func reset(_ channel: any Channel) async {
        if let provider = channel as? any SocketOptionProvider {
            try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
        }
        try? await channel.close()
    }
}
