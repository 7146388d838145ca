public import AsyncHTTPClient
import ChatModel
import Foundation
import InboxCore
import InboxStore
public import Logging
public import ServiceLifecycle
import Synchronization

/// `letterbox daemon`: watches the inbox, delivers messages, records runs and keeps the site current.
///
/// A `Service` for swift-service-lifecycle: on SIGTERM/SIGINT it stops taking new work, records the
/// stop, and returns; anything in flight is resumed from the journal by the next start.
public struct DaemonService: Service, CustomStringConvertible {
    public let configuration: DaemonConfiguration
    let httpClient: HTTPClient
    let logger: Logger
    /// Bearer tokens by runtime name, resolved at construction. The environment itself is not kept:
    /// swift-service-lifecycle logs a service's reflected fields at debug level.
    let tokens: [String: Secret]
    /// Called once the daemon is ready (lock held, watcher running, state loaded): for tests and the benchmark.
    let onReady: @Sendable (ReadyInfo) async -> Void
    /// Where the daemon says which threads changed ("" for the inbox as a whole), for a site refresher
    /// composed beside it; finished when the daemon stops. Nil: nobody listens.
    let siteChanges: AsyncStream<Set<String>>.Continuation?
    /// A deliberate crash for tests (`LETTERBOX_CRASH_AT`), nil otherwise.
    let crashPoint: CrashPoint?

    /// What the daemon reports when it is ready.
    public struct ReadyInfo: Sendable {
        /// From the start of `run()` to ready.
        public var startup: Duration
        public var threads: Int
    }

    /// Throws `DaemonConfiguration.TokenError` when a token file is unsafe or missing.
    public init(
        configuration: DaemonConfiguration, httpClient: HTTPClient, logger: Logger, environment: [String: String],
        siteChanges: AsyncStream<Set<String>>.Continuation? = nil,
        onReady: @escaping @Sendable (ReadyInfo) async -> Void = { _ in }
    ) throws {
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        var tokens: [String: Secret] = [:]
        for runtime in configuration.runtimes {
            tokens[runtime.name] = try configuration.token(for: runtime, environment: environment)
        }
        self.tokens = tokens
        self.onReady = onReady
        self.siteChanges = siteChanges
        crashPoint = CrashPoint.from(environment: environment)
    }

    public var description: String { "DaemonService(inbox: \(configuration.workspace.inbox))" }

    public func run() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let workspace = configuration.workspace
        let lock = try InboxLock.acquire(in: workspace)
        defer { withExtendedLifetime(lock) {} }
        let runtimes = try makeRuntimes()
        let queue = EventQueue()
        let (spawns, spawnContinuation) = AsyncStream<InboxRunner.Spawn>.makeStream()
        let machine = InboxMachine(configuration: machineConfiguration(runtimes))
        let runner = InboxRunner(
            configuration: configuration, machine: machine, logger: logger, crashPoint: crashPoint,
            siteChanges: siteChanges, spawn: { spawnContinuation.yield($0) })
        try runner.start(detail: Self.startDetail())
        try await runner.setUpGit()
        let (watcher, events) = try InotifyWatcher.start(root: workspace.inbox)
        let worker = Worker(runtimes: runtimes, logger: logger) { queue.push(.outcome($0)) }
        let startedAt = Int64(Date().timeIntervalSince1970 * 1000)
        try? DaemonStatus(
            pid: getpid(), version: Self.version, startedAt: startedAt, heartbeatAt: startedAt,
            heartbeatSeconds: configuration.heartbeatSeconds
        ).write(in: workspace)
        let threadCount = machine.unloadedThreads.count
        logger.notice(
            "letterbox daemon ready",
            metadata: ["inbox": "\(workspace.inbox)", "threads": "\(threadCount)", "startup": "\(clock.now - started)"])
        await onReady(ReadyInfo(startup: clock.now - started, threads: threadCount))

        await withDiscardingTaskGroup { group in
            group.addTask {
                for await event in events { queue.push(.file(event)) }
            }
            group.addTask {
                let rescan = Duration.seconds(configuration.delivery.rescanSeconds)
                while (try? await Task.sleep(for: rescan)) != nil { queue.push(.rescan) }
            }
            group.addTask {
                let sync = Duration.seconds(configuration.delivery.syncSeconds)
                while (try? await Task.sleep(for: sync)) != nil { queue.push(.syncDue) }
            }
            group.addTask { await heartbeat(startedAt: startedAt, workspace: workspace) }
            group.addTask {
                // On SIGTERM/SIGINT: stop taking work and record the stop; the loop below then ends.
                // Work in flight is resumed from the journal next time.
                try? await gracefulShutdown()
                logger.notice("shutting down")
                queue.push(.stop(reason: "shutdown requested"))
                await watcher.stop()
            }
            group.addTask {
                // The runner's loop: everything that arrived together is one commit. Threads not read
                // yet are read between events (the catch-up), then the inbox is rescanned and synced once.
                var caughtUp = false
                queue.push(.catchUp)
                while let batch = await queue.next() {
                    runner.handle(batch)
                    await runner.commitIfDue()
                    if batch.contains(where: { if case .stop = $0 { true } else { false } }) { break }
                    if !caughtUp {
                        if runner.hasUnloaded {
                            if !queue.hasPending { queue.push(.catchUp) }
                        } else {
                            caughtUp = true
                            queue.push(.rescan)
                            queue.push(.syncDue)
                        }
                    }
                }
                queue.close()
                spawnContinuation.finish()
                siteChanges?.finish()
            }
            // Jobs and timers the runner hands out, each in a task of this group.
            for await spawn in spawns {
                switch spawn {
                case let .job(job, signal):
                    group.addTask { await worker.perform(job, signal: signal) }
                case let .sleep(until):
                    group.addTask {
                        guard (try? await Task.sleep(until: until, clock: .continuous)) != nil else { return }
                        queue.push(.tick)
                    }
                case let .attention(command, notice):
                    let logger = logger
                    group.addTask { await AttentionCommand.run(command, notice: notice, logger: logger) }
                }
            }
            group.cancelAll()
        }
        try? DaemonStatus(
            pid: getpid(), version: Self.version, startedAt: startedAt,
            heartbeatAt: Int64(Date().timeIntervalSince1970 * 1000),
            heartbeatSeconds: configuration.heartbeatSeconds, stoppedAt: Int64(Date().timeIntervalSince1970 * 1000)
        ).write(in: workspace)
        logger.notice("letterbox daemon stopped")
    }

    /// The `daemon_started` detail: the pid and version.
    static func startDetail() -> String {
        "{\"pid\":\(getpid()),\"version\":\(CanonicalJSON.quoted(version))}"
    }

    /// The machine's view of the configuration: delivery settings and what each runtime can do.
    func machineConfiguration(_ runtimes: [String: any ChatRuntime]) -> MachineConfiguration {
        var machine = MachineConfiguration(
            runtimes: configuration.runtimes.compactMap { runtime in
                runtimes[runtime.name].map { .init(name: runtime.name, capabilities: $0.capabilities) }
            },
            agents: configuration.agents.map {
                RuntimeAgent(
                    id: $0.id, name: $0.name, scopes: $0.scopes, runtime: $0.runtime ?? configuration.runtimes[0].name)
            },
            defaultAgent: configuration.defaultAgent, delivery: configuration.delivery,
            limits: configuration.workspace.config.limits)
        machine.inboxPath = configuration.workspace.relative(configuration.workspace.inbox)
        return machine
    }

    static let version = "0.1.0"

    /// One client per configured runtime.
    func makeRuntimes() throws -> [String: any ChatRuntime] {
        var runtimes: [String: any ChatRuntime] = [:]
        for runtime in configuration.runtimes {
            let token = tokens[runtime.name]
            let timeout = Duration.seconds(runtime.timeoutSeconds ?? configuration.delivery.timeoutSeconds)
            let http = HTTPTransport(client: httpClient, baseURL: runtime.url, token: token, timeout: timeout)
            var runtimeLogger = logger
            runtimeLogger[metadataKey: "runtime"] = "\(runtime.name)"
            switch runtime.kind {
            case .controlPlane:
                runtimes[runtime.name] = ControlPlaneClient(
                    name: runtime.name, http: http, pollWaitSeconds: configuration.delivery.pollWaitSeconds,
                    logger: runtimeLogger)
            case .agUI, .openAI:
                runtimes[runtime.name] = try RuntimeFactory.make(
                    runtime, http: http, configuration: configuration, logger: runtimeLogger)
            }
        }
        return runtimes
    }

    /// Rewrites `.letterbox/daemon.json` so the status page (and anyone) can tell the daemon is alive.
    private func heartbeat(startedAt: Int64, workspace: Workspace) async {
        let interval = Duration.seconds(configuration.heartbeatSeconds)
        while (try? await Task.sleep(for: interval)) != nil, !Task.isShuttingDownGracefully {
            let status = DaemonStatus(
                pid: getpid(), version: Self.version, startedAt: startedAt,
                heartbeatAt: Int64(Date().timeIntervalSince1970 * 1000),
                heartbeatSeconds: configuration.heartbeatSeconds)
            try? status.write(in: workspace)
        }
    }
}
