import ArgumentParser
import ChatModel
import Foundation
import InboxCore
import InboxDaemon
import InboxStore
import Logging

/// `letterbox sync`: pull with rebase, then push (docs/daemon.md, "Many operators").
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Pull (with rebase) and push the inbox's git repository.",
        discussion: """
            Commits your new message files first (each on its own, as you), then pulls with rebase from the \
            remote (git.remote, else the branch's upstream, else origin) and pushes. When a daemon runs for \
            this inbox, it does the sync between its batches and this command waits for its answer.
            """
    )

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingErrors {
            let workspace = try options.workspace()
            let (sync, requests) = try await GitCommandSupport.sync(for: workspace)
            guard let lock = try? InboxLock.acquire(in: workspace) else {
                try await GitCommandSupport.askDaemon(requests, .sync, force: false, workspace: workspace)
                return
            }
            defer { withExtendedLifetime(lock) {} }
            let identity = await sync.repository.configuredIdentity() ?? GitCommandSupport.fallbackOperator
            let committed = await OperatorCommits.commitNew(
                in: workspace, repository: sync.repository, as: identity, settleMilliseconds: 0,
                logger: Logger(label: "letterbox.sync"))
            do {
                let outcome = try await sync.sync()
                var parts: [String] = []
                if !committed.isEmpty { parts.append("committed \(committed.count) message file(s)") }
                parts.append(
                    outcome.before == outcome.after
                        ? "nothing new to pull" : "pulled \(outcome.changed.count) changed file(s)")
                parts.append(outcome.pushed ? "pushed" : "nothing to push")
                Terminal.out("synced with \(sync.remote)/\(sync.branch): \(parts.joined(separator: ", "))\n")
            } catch {
                Terminal.error("\(error)")
                throw Exit.tempFail
            }
        }
    }
}

/// `letterbox lease`: who delivers for this inbox; `letterbox lease take [--force]`.
struct LeaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lease",
        abstract: "Show who holds the delivery lease (which daemon delivers for this inbox).",
        discussion: "See docs/format.md, \"The delivery lease\".",
        subcommands: [Show.self, Take.self], defaultSubcommand: Show.self
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the lease.")

        @OptionGroup var options: WorkspaceOptions

        @Flag(help: "Print the lease as JSON (the file's fields, plus state and mine).")
        var json = false

        func run() async throws {
            try await reportingErrors {
                let workspace = try options.workspace()
                guard let view = try LeaseView.read(workspace) else {
                    Terminal.out(
                        json
                            ? "{\"state\":\"none\"}\n"
                            : "no delivery lease: no daemon delivers through a git remote for this inbox yet\n")
                    return
                }
                let (lease, state, mine) = (view.lease, view.state, view.mine)
                if json {
                    var fields = String(decoding: lease.bytes.dropLast(2), as: UTF8.self)
                    fields += ",\"state\":\"\(state)\",\"mine\":\(mine)}\n"
                    Terminal.out(fields)
                    return
                }
                Terminal.out(
                    """
                    holder:  \(lease.holder)\(mine ? " (this clone)" : "") on \(lease.host)
                    since:   \(lease.since)
                    renewed: \(lease.renewed)
                    expires: \(lease.expires) (\(state))

                    """)
            }
        }
    }

    struct Take: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "take",
            abstract: "Take the delivery lease for this clone's daemon.",
            discussion: """
                Without --force, only a lease that has lapsed (or none) is taken. With --force, a live lease \
                is taken over: its holder stops delivering at its next sync. Messages in flight are safe: \
                their idempotency keys are in the journals, and the runtime deduplicates on them.
                """
        )

        @OptionGroup var options: WorkspaceOptions

        @Flag(help: "Take the lease even while another daemon holds it.")
        var force = false

        func run() async throws {
            try await reportingErrors {
                let workspace = try options.workspace()
                let (sync, requests) = try await GitCommandSupport.sync(for: workspace)
                guard let lock = try? InboxLock.acquire(in: workspace) else {
                    try await GitCommandSupport.askDaemon(requests, .take, force: force, workspace: workspace)
                    return
                }
                defer { withExtendedLifetime(lock) {} }
                let keeper = try LeaseKeeper(sync: sync, workspace: workspace)
                let lease: DeliveryLease?
                do {
                    _ = try await sync.sync()
                    lease = try await keeper.take(force: force)
                } catch {
                    Terminal.error("\(error)")
                    throw Exit.tempFail
                }
                guard let lease, lease.holder == keeper.me else {
                    let holder = lease.map { "\($0.holder) on \($0.host) until \($0.expires)" } ?? "nobody"
                    Terminal.error("the lease is held by \(holder); use --force to take it over")
                    throw Exit.tempFail
                }
                Terminal.out("took the delivery lease for this clone (\(lease.holder)) until \(lease.expires)\n")
            }
        }
    }
}

/// What `sync` and `lease take` share.
enum GitCommandSupport {
    static let fallbackOperator = GitRepository.Identity(
        name: "Letterbox operator", email: "operator@letterbox.invalid")

    static func sync(for workspace: Workspace) async throws -> (GitSync, GitRequests) {
        guard let repository = await GitRepository.find(containing: workspace.inbox) else {
            throw StoreError(
                .notFound, "the inbox is not in a git work tree; run `git init` (or `letterbox init`) first",
                path: workspace.inbox)
        }
        guard let sync = await GitSync.configure(repository, settings: workspace.config.git, inbox: workspace.inbox)
        else {
            throw StoreError(
                .notFound,
                "there is no remote to sync with (git.remote, the branch's upstream or origin); add one with `git remote add origin URL`",
                path: repository.root)
        }
        return (sync, GitRequests(workspace: workspace))
    }

    /// A daemon runs for this inbox: it does the git work between its batches; ask it and wait.
    static func askDaemon(_ requests: GitRequests, _ action: GitRequests.Action, force: Bool, workspace: Workspace)
        async throws
    {
        let wait = max(30, 3 * (workspace.config.git.syncSeconds ?? WorkspaceConfig.Git.defaultSyncSeconds))
        guard let answer = try await requests.ask(action, force: force, timeout: .seconds(wait)) else {
            Terminal.error(
                "a daemon runs for this inbox but did not answer within \(wait) s; is git sync on for it (git.sync_seconds, a remote)? See its log"
            )
            throw Exit.tempFail
        }
        guard answer == "ok" else {
            Terminal.error("the daemon: \(answer)")
            throw Exit.tempFail
        }
        Terminal.out(
            action == .sync ? "synced (by the running daemon)\n" : "took the delivery lease (by the running daemon)\n")
    }
}

/// The delivery lease as `letterbox lease` and `letterbox status` show it.
struct LeaseView {
    var lease: DeliveryLease
    /// `live`, `expiring` (past `expires`, within the grace), `lapsed` or `released`.
    var state: String
    /// Whether this clone's daemon holds it.
    var mine: Bool

    /// The workspace's lease, or nil when there is no `lease.json` (a damaged one is an error naming it).
    static func read(_ workspace: Workspace, now: Timestamp = LeaseKeeper.now()) throws -> LeaseView? {
        let path = workspace.inbox + "/" + DeliveryLease.fileName
        guard FileSystem.exists(path) else { return nil }
        let lease = try DeliveryLease.parse(try FileSystem.readFile(path, maxBytes: 4096))
        let policy = LeasePolicy(leaseSeconds: workspace.config.git.leaseSeconds)
        let state =
            LeasePolicy.isReleased(lease)
            ? "released" : now < lease.expires ? "live" : policy.isLapsed(lease, now: now) ? "lapsed" : "expiring"
        return LeaseView(lease: lease, state: state, mine: (try? LeaseKeeper.daemonID(in: workspace)) == lease.holder)
    }
}
