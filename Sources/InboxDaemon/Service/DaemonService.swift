public import AsyncHTTPClient
import ChatModel
import Foundation
import InboxCore
import InboxStore
import LetterboxVersion
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
        let startedAt = Int64(Date().timeIntervalSince1970 * 1000)
        // Git: commits at journal points; with a remote and `git.sync_seconds`, sync and the lease.
        let committer = try await InboxRunner.makeCommitter(workspace: workspace, logger: logger)
        let lease = try await makeLease(committer)
        var ready = false
        func announce(_ threads: Int) async {
            guard !ready else { return }
            ready = true
            try? DaemonStatus(
                pid: getpid(), version: Self.version, startedAt: startedAt, heartbeatAt: startedAt,
                heartbeatSeconds: configuration.heartbeatSeconds
            ).write(in: workspace)
            logger.notice(
                "letterbox daemon ready",
                metadata: ["inbox": "\(workspace.inbox)", "threads": "\(threads)", "startup": "\(clock.now - started)"])
            await onReady(ReadyInfo(startup: clock.now - started, threads: threads))
        }
        while true {
            if let lease, let committer {
                // Not the holder (yet): follow until this daemon holds the lease, or stop.
                if !lease.mayDeliver() {
                    await announce(0)
                    let follower = Follower(
                        workspace: workspace, lease: lease, requests: GitRequests(workspace: workspace),
                        operatorIdentity: committer.operatorIdentity ?? GitCommitter.fallbackOperator,
                        interval: .seconds(syncSeconds), settleMilliseconds: configuration.delivery.settleMilliseconds,
                        logger: logger, siteChanges: siteChanges)
                    guard await follower.run() else { break }
                }
            }
            let leaseLost = try await deliver(
                committer: committer, lease: lease, startedAt: startedAt, announce: announce)
            guard leaseLost, !Task.isShuttingDownGracefully else { break }
        }
        siteChanges?.finish()
        try? DaemonStatus(
            pid: getpid(), version: Self.version, startedAt: startedAt,
            heartbeatAt: Int64(Date().timeIntervalSince1970 * 1000),
            heartbeatSeconds: configuration.heartbeatSeconds, stoppedAt: Int64(Date().timeIntervalSince1970 * 1000)
        ).write(in: workspace)
        logger.notice("letterbox daemon stopped")
    }

    /// The git sync interval: `git.sync_seconds`, or 30 s when unset and there is a remote.
    var syncSeconds: Int { configuration.workspace.config.git.syncSeconds ?? WorkspaceConfig.Git.defaultSyncSeconds }

    /// The lease keeper when the inbox is synced through a remote (commits on, a remote, sync not 0).
    func makeLease(_ committer: GitCommitter?) async throws -> LeaseKeeper? {
        let workspace = configuration.workspace
        let settings = workspace.config.git
        guard let committer, syncSeconds > 0,
            let sync = await GitSync.configure(committer.repository, settings: settings, inbox: workspace.inbox),
            // By default only a branch with an upstream syncs; `git.sync_seconds` or `git.remote` asks for it.
            sync.isUpstream || settings.syncSeconds != nil || settings.remote != nil
        else {
            if let seconds = workspace.config.git.syncSeconds, seconds > 0 {
                logger.warning(
                    "git.sync_seconds is set but there is no remote to sync with (git remote add origin URL), or commits are off; not syncing"
                )
            }
            return nil
        }
        let lease = try LeaseKeeper(sync: sync, workspace: workspace)
        logger.notice(
            "syncing the inbox through git",
            metadata: [
                "git.remote": "\(sync.remote)", "git.branch": "\(sync.branch)", "git.sync_seconds": "\(syncSeconds)",
                "lease.id": "\(lease.me)",
            ])
        return lease
    }

    /// One delivering session: until a graceful shutdown (returns false) or, with a lease, until the
    /// lease is lost (returns true: the daemon follows again).
    func deliver(
        committer: GitCommitter?, lease: LeaseKeeper?, startedAt: Int64, announce: (Int) async -> Void
    ) async throws -> Bool {
        let workspace = configuration.workspace
        let runtimes = try makeRuntimes()
        let queue = EventQueue()
        let (spawns, spawnContinuation) = AsyncStream<InboxRunner.Spawn>.makeStream()
        let machine = InboxMachine(configuration: machineConfiguration(runtimes))
        let runner = InboxRunner(
            configuration: configuration, machine: machine, logger: logger, crashPoint: crashPoint,
            siteChanges: siteChanges, spawn: { spawnContinuation.yield($0) })
        runner.git = committer
        runner.lease = lease
        let requests = GitRequests(workspace: workspace)
        runner.requests = requests
        try runner.start(detail: Self.startDetail())
        let (watcher, events) = try InotifyWatcher.start(root: workspace.inbox)
        let worker = Worker(runtimes: runtimes, logger: logger) { queue.push(.outcome($0)) }
        try? DaemonStatus(
            pid: getpid(), version: Self.version, startedAt: startedAt,
            heartbeatAt: Int64(Date().timeIntervalSince1970 * 1000), heartbeatSeconds: configuration.heartbeatSeconds
        ).write(in: workspace)
        await announce(machine.unloadedThreads.count)
        let leaseLost = LostFlag()
        let syncInterval = Duration.seconds(syncSeconds)

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
            if lease != nil {
                group.addTask {
                    // The git sync: every `git.sync_seconds`, or at once for a request from the CLI.
                    let clock = ContinuousClock()
                    var due = clock.now + syncInterval
                    while (try? await Task.sleep(for: .seconds(1))) != nil {
                        guard clock.now >= due || requests.pending else { continue }
                        due = clock.now + syncInterval
                        queue.push(.gitSync)
                    }
                }
            }
            group.addTask { await heartbeat(startedAt: startedAt, workspace: workspace) }
            group.addTask {
                // On SIGTERM/SIGINT: stop taking work and record the stop; the loop below then ends.
                // Work in flight is resumed from the journal next time.
                try? await gracefulShutdown()
                guard !Task.isCancelled else { return }
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
                    let stopping = batch.contains(where: { if case .stop = $0 { true } else { false } })
                    // Idle (or stopping): the anchor staged for the last group commit is written now.
                    if stopping || !queue.hasPending { runner.flushAnchor() }
                    await runner.commitIfDue()
                    if stopping { break }
                    if batch.contains(where: { if case .gitSync = $0 { true } else { false } }),
                        let reason = await runner.syncGit(request: requests.take())
                    {
                        // The lease is another's (or lapsed, and may be): from now on this daemon
                        // writes nothing in the inbox, not even its stop, which would conflict with
                        // the new holder's lines. What is in flight is the new holder's (the same
                        // idempotency keys, from the journals); the log says why.
                        logger.warning("\(reason)")
                        leaseLost.value.store(true, ordering: .relaxed)
                        break
                    }
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
                await watcher.stop()
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
        if !leaseLost.value.load(ordering: .relaxed), let lease, committer != nil, lease.mayDeliver() {
            // A graceful stop: push what was committed, and the lease given up, so that whoever delivers
            // next has it all and need not wait for the lease to lapse.
            await committer?.commitIfDue(force: true)
            do {
                try await lease.release()
            } catch {
                logger.warning(
                    "could not give the lease up at stop; it lapses by itself", metadata: ["error": "\(error)"])
            }
            if (try? await lease.sync.sync()) == nil { logger.warning("could not push the last commits at stop") }
        }
        return leaseLost.value.load(ordering: .relaxed)
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

    static let version = LetterboxVersion.current

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

/// Whether a delivering session ended because the lease was lost (set in the loop's task, read after).
private final class LostFlag: Sendable {
    let value = Atomic<Bool>(false)
}
