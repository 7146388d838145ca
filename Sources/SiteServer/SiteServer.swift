import HTTPTypes
public import Hummingbird
import InboxStore
public import Logging
import NIOCore
public import ServiceLifecycle

/// `letterbox serve`: the built site over HTTP, read-only, with live reload (``LiveReload``).
///
/// A `Service`: run it in a `ServiceGroup`, alone (`letterbox serve`) or beside the daemon and the
/// site refresher (`letterbox daemon --serve`). On graceful shutdown the open event streams end, so
/// the server stops at once.
///
/// Only GET and HEAD are answered (405 otherwise). Paths are resolved inside the site folder: no
/// `..`, no hidden names, no symbolic link on the way; a folder serves its `index.html`.
public struct SiteServer: Service, CustomStringConvertible {
    /// The settings of one server.
    public struct Configuration: Sendable {
        /// The site folder (absolute).
        public var site: String
        public var address: ListenAddress
        /// How often an event stream looks at its page on disk.
        public var pollInterval: Duration = .milliseconds(250)
        /// How often an idle event stream sends a comment, so a closed connection is noticed.
        public var keepAlive: Duration = .seconds(15)
        /// The largest file served.
        public var maxFileBytes = 256 << 20

        public init(site: String, address: ListenAddress) {
            self.site = site
            self.address = address
        }
    }

    public let configuration: Configuration
    let logger: Logger
    let onReady: @Sendable (Int) async -> Void

    /// A server; nothing listens until ``run()``. `onReady` gets the bound port.
    public init(
        configuration: Configuration, logger: Logger, onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onReady = onReady
    }

    public var description: String { "SiteServer(site: \(configuration.site), address: \(configuration.address))" }

    public func run() async throws {
        let configuration = configuration
        let logger = logger
        let onReady = onReady
        let files = SiteFiles(site: configuration.site, maxBytes: configuration.maxFileBytes)
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: ReadOnlyMiddleware())
        router.add(middleware: AccessLogMiddleware(logger: logger))
        router.get(RouterPath(LiveReload.scriptPath)) { _, _ in
            var headers = SiteFiles.commonHeaders
            headers[.contentType] = "text/javascript; charset=utf-8"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: LiveReload.script)))
        }
        router.get(RouterPath(LiveReload.eventsPath)) { request, _ in
            let page = request.uri.queryParameters["page"].map(String.init) ?? "/"
            let version = request.uri.queryParameters["version"].map(String.init) ?? ""
            guard case let .file(path)? = files.resolve(page) else { throw HTTPError(.notFound) }
            var headers = SiteFiles.commonHeaders
            headers[.contentType] = "text/event-stream"
            let stream = PageEvents(
                path: path, version: version, files: files, pollInterval: configuration.pollInterval,
                keepAlive: configuration.keepAlive)
            return Response(
                status: .ok, headers: headers, body: ResponseBody { writer in try await stream.send(to: &writer) })
        }
        // "**" matches one or more segments; "/" is the site's index.
        for path: RouterPath in ["/", "**"] {
            router.get(path) { request, _ in try files.response(for: request.uri.path) }
        }
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.address.host, port: configuration.address.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.address.port
                logger.info(
                    "site server listening",
                    metadata: [
                        "host": "\(configuration.address.host)", "port": "\(port)", "site": "\(configuration.site)",
                    ])
                await onReady(port)
            },
            logger: logger
        )
        try await application.run()
    }
}

/// Refuses every method but GET and HEAD: the preview never changes anything.
struct ReadOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard request.method == .get || request.method == .head else {
            var headers = HTTPFields()
            headers[.allow] = "GET, HEAD"
            return Response(
                status: .methodNotAllowed, headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: "the site preview is read-only\n")))
        }
        return try await next(request, context)
    }
}

/// One debug line per request: the method, the path and the status.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            let response = try await next(request, context)
            logger.debug("\(request.method) \(request.uri) \(response.status.code)")
            return response
        } catch let error as HTTPError {
            logger.debug("\(request.method) \(request.uri) \(error.status.code)")
            throw error
        }
    }
}
