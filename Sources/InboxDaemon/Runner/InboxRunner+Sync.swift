import ChatModel
import Foundation
import InboxCore
import InboxStore
import Logging

extension InboxRunner {
    /// The git sync of the delivering daemon, between batches (docs/daemon.md, "Many operators"):
    /// commits everything pending, renews the lease when it is due, pulls with rebase and pushes, and
    /// takes back the journals its own rebase rewrote. Returns why delivery must stop (the lease was
    /// taken, or lapsed because it could not be renewed), or nil to go on.
    func syncGit(request: GitRequests.Request?) async -> String? {
        guard let lease, let git else { return nil }
        flushAnchor()
        await git.commitIfDue(force: true)
        var answer = "ok"
        do {
            if request?.action == .take {
                try await lease.take(force: request?.force ?? false)
            } else {
                try await lease.renewIfDue()
                let outcome = try await lease.sync.sync()
                lease.confirm()
                if outcome.before != outcome.after {
                    logger.debug("pulled", metadata: ["git.files": "\(outcome.changed.count)"])
                }
            }
            syncFailure = nil
        } catch {
            // The last confirmed lease still counts until its expiry: a sync that fails once does not
            // stop delivery; a lease that cannot be renewed lapses, and then it does.
            answer = "error: \(error)"
            if syncFailure != "\(error)" {
                logger.error("git sync failed; trying again", metadata: ["error": "\(error)"])
                syncFailure = "\(error)"
            }
        }
        reopenAfterOwnGit()
        if let request { requests?.answer(request, answer) }
        switch lease.standing() {
        case let .theirs(holder):
            return
                "the delivery lease was taken by \(holder.holder) on \(holder.host) (until \(holder.expires)); this daemon stops delivering and follows"
        case .mine, .free:
            guard lease.mayDeliver() else {
                return
                    "the delivery lease lapsed: it could not be renewed through \(lease.sync.remote) (\(syncFailure ?? "no sync since it was taken")); this daemon stops delivering until it holds the lease again"
            }
            return nil
        }
    }

    /// After Letterbox's own pull: a journal git rewrote with the very bytes the daemon wrote is opened
    /// again without a word (a rebase replays files); one that changed otherwise goes the way of any
    /// journal replaced under the daemon (`replaced`), which reads it again or stops the thread.
    func reopenAfterOwnGit() {
        var all: [(String, JournalFile)] = journals.map { ($0.key, $0.value) }
        if let inboxJournal { all.append(("", inboxJournal)) }
        for (id, journal) in all.sorted(by: { $0.0 < $1.0 }) where held[id] == nil && !journal.hasStaged {
            do throws(StoreError) {
                try journal.checkUnchanged()
            } catch {
                guard error.code == .changed else { continue }
                let (entries, readError) = InboxReader.readJournal(journal.path, beneath: workspace.inbox)
                let same =
                    readError == nil && entries.count == (journal.durable?.seq ?? 0)
                    && entries.last?.hash == journal.durable?.hash
                guard same,
                    let opened = try? JournalFile.open(
                        path: journal.path, tornFolder: workspace.tornFolder, now: now().wall, beneath: workspace.inbox)
                else {
                    replaced(id, error)
                    continue
                }
                if id.isEmpty { inboxJournal = opened.journal } else { journals[id] = opened.journal }
                logger.debug(
                    "a journal rewritten by the daemon's own git sync, unchanged; opened again",
                    metadata: ["thread.id": "\(id)"])
            }
        }
    }
}
