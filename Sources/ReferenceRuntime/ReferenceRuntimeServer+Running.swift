import Logging
import ServiceLifecycle

/// A reference runtime running in this process, as ``ReferenceRuntimeServer/withRunning(configuration:logger:_:)``
/// hands it to its body.
public struct RunningReferenceRuntime: Sendable {
    /// The host it listens on.
    public let host: String
    /// The bound port.
    public let port: Int
    /// The bearer token clients must send.
    public let token: String
    /// Faults, effects and request counts.
    public let control: ReferenceRuntimeControl

    /// `http://host:port`, without a trailing slash (an IPv6 host in brackets).
    public var baseURL: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

extension ReferenceRuntimeServer {
    /// Starts a server, runs `body` once it listens, then stops the server (also when `body` throws).
    ///
    /// For tests: use `port: 0` so each test gets its own free port.
    ///
    /// ```swift
    /// try await ReferenceRuntimeServer.withRunning(configuration: .init(port: 0, token: "t"), logger: logger) {
    ///     runtime in
    ///     // talk to runtime.baseURL with "Authorization: Bearer t"
    /// }
    /// ```
    public static func withRunning<T: Sendable>(
        configuration: ReferenceRuntimeConfiguration,
        logger: Logger,
        _ body: (RunningReferenceRuntime) async throws -> T
    ) async throws -> T {
        let (ports, ready) = AsyncStream.makeStream(of: Int.self)
        let server = ReferenceRuntimeServer(configuration: configuration, logger: logger) { port in
            ready.yield(port)
        }
        // Stopped through graceful shutdown, never by cancelling it: Hummingbird ends held requests
        // (long polls, hangs) cleanly that way, while cancelling a response mid-write trips NIO's
        // "NIOAsyncWriter deinited without calling finish()" precondition.
        let services = ServiceGroup(configuration: .init(services: [server], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask {
                defer { ready.finish() }
                try await services.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await group.next()
                throw ReferenceRuntimeError(.notStarted, "the reference runtime stopped before it was listening")
            }
            let running = RunningReferenceRuntime(
                host: configuration.host, port: port, token: configuration.token, control: server.control)
            do {
                let result = try await body(running)
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
                return result
            } catch {
                await services.triggerGracefulShutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }
}
