import ArgumentParser
import Foundation
import InboxStore
import Logging
import ServiceLifecycle
import SiteBuilder
import SiteServer
import UnixSignals

/// `letterbox serve`: the built site over HTTP on 127.0.0.1, read-only, with live reload.
struct SiteServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the site on 127.0.0.1, read-only, reloading pages in the browser when they change.",
        discussion: """
            Serves the site folder as it is (building it first if it has never been built); keep it \
            current with `letterbox daemon`, or run both with `letterbox daemon --serve`. Pages are \
            served with a small script (/_letterbox/live-reload.js) that reloads them when they change \
            on disk; the files in the site folder are never changed. Only GET and HEAD are answered. \
            It refuses an address other machines can reach unless --public is given: the preview has \
            no authentication. Runs until SIGINT or SIGTERM. See docs/operator-guide.md.
            """
    )

    @OptionGroup var options: WorkspaceOptions

    @Option(help: ArgumentHelp("The site folder (default: from letterbox.yaml).", valueName: "DIR"))
    var site: String?

    @OptionGroup var serve: ServeOptions

    func validate() throws { _ = try serve.address() }

    func run() async throws {
        try await reportingErrors {
            let logger = Logging.bootstrapped(label: "letterbox.serve")
            let workspace = try options.workspace(site: site)
            let server = try SitePreview.server(workspace: workspace, address: try serve.address(), logger: logger)
            let group = ServiceGroup(
                configuration: .init(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            do {
                try await group.run()
            } catch {
                Terminal.error("the site server stopped: \(DaemonCommand.unwrap(error))")
                throw Exit.unavailable
            }
        }
    }
}

/// `--port`, `--host` and `--public`, for `letterbox serve`.
struct ServeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The port to listen on (0: any free port).", valueName: "N"))
    var port = SitePreview.defaultPort

    @Option(
        help: ArgumentHelp(
            "The address to listen on (default 127.0.0.1; 0.0.0.0 with --public). Another than a loopback address needs --public.",
            valueName: "HOST"))
    var host: String?

    @Flag(
        name: .customLong("public"),
        help:
            "Allow listening where other machines can reach it (there is no authentication: anyone who can connect reads every thread)."
    )
    var isPublic = false

    func address() throws -> ListenAddress {
        switch ListenAddress.resolve(host: host, port: port, public: isPublic) {
        case let .success(address): return address
        case let .failure(refusal): throw ValidationError(refusal.description)
        }
    }
}

/// What `letterbox serve` and `letterbox daemon --serve` share.
enum SitePreview {
    /// The default port: beside the reference runtime's 8787.
    static let defaultPort = 8788

    /// The server for `workspace`'s site; builds the site first when it has never been built, and
    /// prints the URL once it listens.
    static func server(workspace: Workspace, address: ListenAddress, logger: Logger) throws -> SiteServer {
        if !FileSystem.exists(workspace.site + "/index.html") {
            Terminal.error("\(workspace.relative(workspace.site))/ has not been built yet; building it first")
            let build = try SiteBuild(workspace: workspace, logger: logger)
            _ = try build.build(full: false)
            try build.saveManifest()
        }
        let site = workspace.relative(workspace.site)
        if address.isPublic {
            Terminal.error(
                "listening on \(address.host): anyone who can reach this machine can read every thread (--public)")
        }
        return SiteServer(
            configuration: .init(site: workspace.site, address: address), logger: logger
        ) { port in
            Terminal.out(
                "serving \(site)/ at \(address.url(port: port)) (read-only; pages reload when they change)\n")
        }
    }
}
