import ArgumentParser
import AsyncHTTPClient
import ChatModel
import Foundation
import InboxDaemon
import InboxStore
import Logging
import ServiceLifecycle
import SiteBuilder
import SiteServer
import UnixSignals

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Watch the inbox, deliver each message once, write replies, keep the site current.",
        discussion: """
            Runs until SIGTERM or SIGINT. letterbox.yaml supplies the runtime and delivery settings; \
            LETTERBOX_RUNTIME_URL / LETTERBOX_RUNTIME_KIND and these flags override them. The token comes \
            from $LETTERBOX_TOKEN or the runtime's token_file. One daemon per inbox. With --serve it \
            also serves the site as `letterbox serve` does, with live reload, on 127.0.0.1:8788.
            """
    )

    @OptionGroup var options: WorkspaceOptions

    @Option(help: ArgumentHelp("The site folder (default: from letterbox.yaml).", valueName: "DIR"))
    var site: String?

    @Option(help: ArgumentHelp("The runtime's URL.", valueName: "URL"))
    var runtimeURL: String?

    @Option(help: ArgumentHelp("The runtime's protocol: control-plane, ag-ui or openai.", valueName: "KIND"))
    var runtimeKind: String?

    @Option(help: "For ag-ui and openai runtimes without configured agents: the agent's name.")
    var agent: String?

    @Option(help: "For openai runtimes: the model to ask for.")
    var model: String?

    @Option(name: .customLong("settle-ms"), help: "The quiet window before a saved file is read, in milliseconds.")
    var settleMilliseconds: Int?

    @Flag(help: "Do not build the site.")
    var noSite = false

    @Flag(help: "Also serve the site on 127.0.0.1 with live reload (as `letterbox serve`).")
    var serve = false

    @Option(
        name: .customLong("serve-port"),
        help: ArgumentHelp("With --serve: the port (0: any free port).", valueName: "N"))
    var servePort = SitePreview.defaultPort

    @Option(
        name: .customLong("serve-host"),
        help: ArgumentHelp("With --serve: the address (a non-loopback one needs --public).", valueName: "HOST"))
    var serveHost: String?

    @Flag(
        name: .customLong("public"),
        help: "With --serve: allow an address other machines can reach (no authentication).")
    var isPublic = false

    func validate() throws {
        guard serve else {
            if serveHost != nil || isPublic || servePort != SitePreview.defaultPort {
                throw ValidationError("--serve-port, --serve-host and --public only go with --serve")
            }
            return
        }
        if noSite { throw ValidationError("--serve serves the site the daemon keeps current; drop --no-site") }
        _ = try serveAddress()
    }

    func serveAddress() throws -> ListenAddress {
        switch ListenAddress.resolve(host: serveHost, port: servePort, public: isPublic) {
        case let .success(address): return address
        case let .failure(refusal): throw ValidationError(refusal.description)
        }
    }

    func run() async throws {
        try await reportingErrors {
            let logger = Logging.bootstrapped(label: "letterbox.daemon")
            let workspace = try options.workspace(site: site)
            var overrides = DaemonConfiguration.Overrides()
            overrides.runtimeURL = runtimeURL
            if let runtimeKind {
                guard let kind = WorkspaceConfig.Runtime.Kind(rawValue: runtimeKind) else {
                    throw ValidationError("--runtime-kind must be control-plane, ag-ui or openai, not '\(runtimeKind)'")
                }
                overrides.runtimeKind = kind
            }
            overrides.agent = agent
            overrides.model = model
            overrides.settleMilliseconds = settleMilliseconds
            overrides.buildSite = noSite ? false : nil
            let environment = ProcessInfo.processInfo.environment
            let configuration = DaemonConfiguration(
                workspace: workspace, overrides: overrides, environment: environment)
            let client = HTTPTransport.makeClient(maxParallelThreads: configuration.delivery.maxParallelThreads)
            do {
                // The daemon delivers; beside it, when the site is on, a refresher rebuilds the pages
                // of the threads the daemon says changed. It finishes the last build after the daemon.
                let (changes, continuation) = AsyncStream<Set<String>>.makeStream()
                let daemon = try DaemonService(
                    configuration: configuration, httpClient: client, logger: logger, environment: environment,
                    siteChanges: configuration.buildSite ? continuation : nil)
                // A graceful shutdown goes through the services from the last: the daemon stops first and
                // ends the changes, then the refresher builds what is left and ends too, then the site
                // server (with --serve) closes its event streams and stops.
                var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
                if serve {
                    let server = try SitePreview.server(
                        workspace: workspace, address: try serveAddress(), logger: logger)
                    services.append(.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup))
                }
                if configuration.buildSite {
                    services.append(
                        .init(
                            service: UntilItsTurn(
                                SiteRefresher(changes: changes, workspace: workspace, logger: logger)),
                            successTerminationBehavior: .gracefullyShutdownGroup))
                } else {
                    continuation.finish()
                }
                services.append(.init(service: daemon, successTerminationBehavior: .gracefullyShutdownGroup))
                let group = ServiceGroup(
                    configuration: .init(
                        services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await group.run()
            } catch let error as DaemonConfiguration.TokenError {
                try? await client.shutdown()
                Terminal.error(error.description)
                throw Exit.config
            } catch let error as InotifyWatcher.StartError {
                try? await client.shutdown()
                Terminal.error(error.description)
                throw Exit.unavailable
            } catch {
                try? await client.shutdown()
                throw Self.unwrap(error)
            }
            try await client.shutdown()
        }
    }

    /// ServiceGroup wraps a service's error; the CLI reports the original.
    static func unwrap(_ error: any Error) -> any Error {
        if let error = error as? ServiceGroupError,
            let cause = Mirror(reflecting: error).descendant("backing", "underlyingError") as? any Error
        {
            return cause
        }
        return error
    }
}

/// Runs a service, then, when it has finished, waits for its own turn in the group's graceful shutdown.
///
/// The site refresher ends when the daemon ends its stream of changes, which the daemon does just
/// before its `run()` returns. A service that finishes while the group shuts down but before its turn
/// counts as "finished unexpectedly" for swift-service-lifecycle, which then cancels every other
/// service and fails the group: `letterbox daemon` exited 1 on SIGTERM, and a systemd unit stopped
/// with `systemctl stop` ended as failed. Waiting for the turn keeps the documented order (the daemon,
/// then the refresher's last build, then the site server) and a clean exit.
struct UntilItsTurn<Base: Service>: Service, CustomStringConvertible {
    let base: Base

    init(_ base: Base) { self.base = base }

    var description: String { "\(base)" }

    func run() async throws {
        try await base.run()
        try? await gracefulShutdown()
    }
}
