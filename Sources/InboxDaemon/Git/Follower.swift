import ChatModel
import Foundation
import InboxCore
import InboxStore
import Logging
import ServiceLifecycle

/// A daemon that does not hold the delivery lease (docs/daemon.md, "Many operators"): it never writes
/// in the inbox (no journal line, no reply), so it cannot conflict with the holder. Every
/// `git.sync_seconds` it commits its operators' new message files (each on its own, as the
/// operator), pulls with rebase and pushes, tells the site what the pull changed, and takes the lease
/// once it has lapsed (or when `letterbox lease take --force` asks).
struct Follower {
    let workspace: Workspace
    let lease: LeaseKeeper
    let requests: GitRequests
    let operatorIdentity: GitRepository.Identity
    let interval: Duration
    let settleMilliseconds: Int
    let logger: Logger
    let siteChanges: AsyncStream<Set<String>>.Continuation?

    /// Follows until this daemon holds the lease (true) or the daemon is asked to stop (false).
    func run() async -> Bool {
        var said = ""
        func say(_ text: String, level: Logger.Level = .notice) {
            guard text != said else { return }
            said = text
            logger.log(level: level, "\(text)")
        }
        var first = true
        while !Task.isShuttingDownGracefully {
            if !first {
                // Wakes every second for a request from the CLI; syncs every `interval`.
                let clock = ContinuousClock()
                let due = clock.now + interval
                while clock.now < due, !Task.isShuttingDownGracefully, !requests.pending {
                    await cancelWhenGracefulShutdown { try? await Task.sleep(for: .seconds(1)) }
                }
                if Task.isShuttingDownGracefully { return false }
            }
            first = false
            let request = requests.take()
            await commitOperatorFiles()
            var result = "ok"
            do {
                let outcome = try await lease.sync.sync()
                lease.confirm()
                if outcome.before != outcome.after { siteChanged(outcome.changed) }
                if request?.action == .take {
                    let now = try await lease.take(force: request?.force ?? false)
                    result = now?.holder == lease.me ? "ok" : "error: the lease is held by \(now?.holder ?? "nobody")"
                }
            } catch {
                lease.unconfirm()
                say("git sync failed; trying again in \(interval): \(error)", level: .error)
                if let request { requests.answer(request, "error: \(error)") }
                continue
            }
            switch lease.standing() {
            case .mine where lease.mayDeliver():
                if let request { requests.answer(request, result) }
                logger.notice(
                    "this daemon holds the delivery lease; delivering", metadata: ["lease.holder": "\(lease.me)"])
                return true
            case .mine, .free:
                do {
                    let now = try await lease.take(force: false)
                    if now?.holder == lease.me, lease.mayDeliver() {
                        if let request { requests.answer(request, result) }
                        logger.notice("took the delivery lease; delivering", metadata: ["lease.holder": "\(lease.me)"])
                        return true
                    }
                } catch {
                    say("could not take the delivery lease: \(error)", level: .error)
                }
            case let .theirs(holder):
                say(
                    "following: the delivery lease is held by \(holder.holder) on \(holder.host); this daemon commits and pushes its operators' messages and does not deliver"
                )
            }
            if let request { requests.answer(request, result) }
        }
        return false
    }

    func commitOperatorFiles() async {
        await OperatorCommits.commitNew(
            in: workspace, repository: lease.sync.repository, as: operatorIdentity,
            settleMilliseconds: settleMilliseconds, logger: logger)
    }

    /// Tells the site refresher which threads a pull changed.
    func siteChanged(_ files: [String]) {
        guard let siteChanges else { return }
        let inbox = workspace.relative(workspace.inbox) + "/"
        var threads: Set<String> = [""]
        for file in files where file.hasPrefix(inbox) {
            if let thread = file.dropFirst(inbox.count).split(separator: "/").first,
                file.dropFirst(inbox.count).contains("/")
            {
                threads.insert(String(thread))
            }
        }
        siteChanges.yield(threads)
    }
}
