import AsyncHTTPClient
import Foundation
import Logging
import ReferenceRuntime
import ServiceLifecycle
import Testing

@Suite("Running in a ServiceGroup")
struct LifecycleTests {
    @Test("Graceful shutdown ends a held long poll at once (with []) and stops the server")
    func gracefulShutdown() async throws {
        let logger = Logger(label: "reference-runtime-test") { _ in SwiftLogNoOpLogHandler() }
        let (ports, ready) = AsyncStream.makeStream(of: Int.self)
        let server = ReferenceRuntimeServer(
            configuration: ReferenceRuntimeConfiguration(port: 0, token: "lifecycle", clock: steppingClock()),
            logger: logger
        ) { port in ready.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init())

        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let runtime = Harness(
                client: client, baseURL: "http://127.0.0.1:\(port)", token: "lifecycle", control: server.control)
            let posted = try await runtime.post("hello")
            let done = try await runtime.follow(posted.threadId) { $0.first(.assistant)?.status == .complete }

            let path = "/external/chat/threads/\(posted.threadId)/messages"
            let before = await Self.count(of: path, on: server)
            async let held = runtime.poll(posted.threadId, after: done.cursor, wait: 60)
            // Once the server has the poll in hand, shut down: the poll must end long before its 60 s.
            while await Self.count(of: path, on: server) == before {
                try await Task.sleep(for: .milliseconds(5))
            }
            let shutdownStarted = ContinuousClock.now
            await group.triggerGracefulShutdown()
            #expect(try await held.isEmpty)
            #expect(ContinuousClock.now - shutdownStarted < .seconds(30))
            try await tasks.next()  // the group (and so the server) has stopped
        }
        try await client.shutdown()
    }

    static func count(of path: String, on server: ReferenceRuntimeServer) async -> Int {
        await server.control.requestCounts().first { $0.path == path }?.count ?? 0
    }
}
