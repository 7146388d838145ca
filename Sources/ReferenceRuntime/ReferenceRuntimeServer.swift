import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// The reference runtime: an HTTP server speaking the control plane's external chat API with deterministic demo
/// agents, the same agents over AG-UI under `/ag-ui/{agent}`, and a test-control API under `/_reference/`
/// (docs/runtime-api.md).
///
/// It is a `Service`: run it in a `ServiceGroup` (it shuts down gracefully, ending long polls early), call
/// ``runService()`` to run it until SIGTERM or SIGINT, or use ``withRunning(configuration:logger:_:)`` in tests.
/// All state lives in memory and is gone when it stops.
///
/// ```swift
/// let server = ReferenceRuntimeServer(configuration: .init(port: 0, token: "secret"), logger: logger) { port in
///     print("listening on \(port)")
/// }
/// try await server.run()
/// ```
public struct ReferenceRuntimeServer: Service {
    /// The settings it was made with.
    public let configuration: ReferenceRuntimeConfiguration
    /// In-process access to faults, effects and request counts (the `/_reference/` API without HTTP).
    public let control: ReferenceRuntimeControl

    private let logger: Logger
    private let onReady: @Sendable (Int) async -> Void
    private let state: RuntimeState
    private let board: ChangeBoard
    private let book: FaultBook
    private let jobs: AsyncStream<RunJob>
    private let interrupts = AGUIInterrupts()

    /// A server; nothing listens until ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: Address, token, pacing and limits.
    ///   - logger: Where the server and Hummingbird log. The token and `Authorization` headers are never logged.
    ///   - onReady: Called once the server listens, with the bound port (the real one when `port` is 0).
    public init(
        configuration: ReferenceRuntimeConfiguration,
        logger: Logger,
        onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        let (jobs, continuation) = AsyncStream.makeStream(of: RunJob.self)
        let board = ChangeBoard()
        let state = RuntimeState(
            store: ChatStore(maxContentBytes: configuration.maxContentBytes, pageSize: configuration.pageSize),
            clock: configuration.clock, board: board, jobs: continuation)
        let book = FaultBook()
        self.configuration = configuration
        self.logger = logger
        self.onReady = onReady
        self.state = state
        self.board = board
        self.book = book
        self.jobs = jobs
        self.control = ReferenceRuntimeControl(book: book, state: state)
    }

    /// Listens and serves until cancelled or shut down gracefully. Call it once.
    public func run() async throws {
        try configuration.validate()
        let configuration = configuration
        let logger = logger
        let onReady = onReady
        let application = Application(
            router: makeRouter(),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info(
                    "reference runtime listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
                await onReady(port)
            },
            logger: logger
        )
        let runner = AgentRunner(
            state: state, clock: configuration.clock, interval: configuration.streamInterval, logger: logger)
        let jobs = jobs
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await runner.run(jobs: jobs) }
            // When the server stops (gracefully or not), runs in flight are cancelled: they live in memory only.
            defer { group.cancelAll() }
            try await application.run()
        }
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    public func runService() async throws {
        let group = ServiceGroup(
            configuration: .init(services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    private func makeRouter() -> Router<RuntimeRequestContext> {
        let router = Router(context: RuntimeRequestContext.self)
        // Order matters: middleware wraps only the routes added after it, outermost first.
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: CountingMiddleware(book: book))
        router.add(middleware: AuthMiddleware(token: configuration.token))
        router.add(middleware: FaultMiddleware(book: book, clock: configuration.clock))
        ExternalRoutes(
            state: state, board: board, clock: configuration.clock, maxContentBytes: configuration.maxContentBytes,
            maxWait: configuration.maxWait
        ).register(on: router)
        AGUIRoutes(
            state: state, interrupts: interrupts, clock: configuration.clock, interval: configuration.streamInterval,
            bodyLimit: 32 << 20, logger: logger
        ).register(on: router)
        TestControlRoutes(control: control).register(on: router)
        return router
    }
}

extension ReferenceRuntimeServer: CustomStringConvertible {
    /// Never includes the token (see `ReferenceRuntimeConfiguration.description`).
    public var description: String { "ReferenceRuntimeServer(\(configuration))" }
}
