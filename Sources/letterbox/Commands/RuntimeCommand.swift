import ArgumentParser
import Foundation
import Logging
import ReferenceRuntime

/// `letterbox runtime`: the reference runtime, a real HTTP server with demo agents for trying Letterbox.
struct RuntimeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runtime",
        abstract: "Run the reference runtime: the runtime API with demo agents, for trying Letterbox.",
        subcommands: [ServeCommand.self]
    )

    struct ServeCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve the runtime API (docs/runtime-api.md) with the demo agents, until SIGINT or SIGTERM.",
            discussion: """
                Clients must send Authorization: Bearer $LETTERBOX_TOKEN. Agents: assistant (answers at once), \
                writer (streams a long answer), operator (asks for approval before a tool call), over the control \
                plane's chat API and over AG-UI at /ag-ui/AGENT. Everything is kept in memory and is gone when \
                the server stops. Test-only endpoints live under /_reference/.
                """
        )

        @Option(help: ArgumentHelp("The address to listen on.", valueName: "HOST"))
        var host = "127.0.0.1"

        @Option(help: ArgumentHelp("The port to listen on (0: any free port).", valueName: "PORT"))
        var port = 8787

        @Option(
            name: .customLong("stream-interval-ms"),
            help: ArgumentHelp("Milliseconds between the chunks of a streamed answer.", valueName: "N"))
        var streamIntervalMilliseconds = 40

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
            guard streamIntervalMilliseconds >= 0 else { throw ValidationError("--stream-interval-ms must be ≥ 0") }
        }

        func run() async throws {
            guard let token = ProcessInfo.processInfo.environment["LETTERBOX_TOKEN"], !token.isEmpty else {
                Terminal.error(
                    "LETTERBOX_TOKEN is not set: set it to the bearer token clients must send, "
                        + "e.g. export LETTERBOX_TOKEN=$(openssl rand -hex 16)")
                throw Exit.config
            }
            let logger = Logging.bootstrapped(label: "letterbox.runtime")
            let configuration = ReferenceRuntimeConfiguration(
                host: host, port: port, token: token, streamInterval: .milliseconds(streamIntervalMilliseconds))
            let host = host.contains(":") ? "[\(host)]" : host
            let server = ReferenceRuntimeServer(configuration: configuration, logger: logger) { port in
                Terminal.out(
                    "letterbox reference runtime listening on http://\(host):\(port) (demo agents: assistant, "
                        + "writer, operator; this is a reference runtime for trying Letterbox, not a production "
                        + "agent runtime)\n")
            }
            do {
                try await server.runService()
            } catch let error as ReferenceRuntimeError {
                Terminal.error(error.description)
                throw Exit.config
            } catch {
                Terminal.error("the reference runtime stopped on \(host):\(port): \(error)")
                throw Exit.unavailable
            }
        }
    }
}
