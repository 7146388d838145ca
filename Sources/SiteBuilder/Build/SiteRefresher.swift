public import InboxStore
public import Logging
public import ServiceLifecycle
import Synchronization

/// Keeps the site current beside the daemon: after each batch of threads the daemon says changed, an
/// incremental build of just those threads. Changes that arrive during a build are coalesced into the
/// next one. A `Service` the executable composes with the daemon; it ends when the changes end.
public struct SiteRefresher: Service, CustomStringConvertible {
    let changes: AsyncStream<Set<String>>
    let workspace: Workspace
    let logger: Logger

    public init(changes: AsyncStream<Set<String>>, workspace: Workspace, logger: Logger) {
        self.changes = changes
        self.workspace = workspace
        self.logger = logger
    }

    public var description: String { "SiteRefresher(site: \(workspace.site))" }

    /// The pause before a failed build is tried again; it doubles with each failure in a row.
    static let firstRetry = Duration.seconds(1)

    public func run() async {
        let build: SiteBuild
        do {
            build = try SiteBuild(workspace: workspace, logger: logger)
        } catch {
            logger.error("cannot build the site; the daemon goes on without it", metadata: ["error": "\(error)"])
            for await _ in changes {}
            return
        }
        let pending = PendingChanges()
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await batch in changes { pending.add(batch) }
                pending.close()
            }
            // Builds run here, in this task, which owns the (non-Sendable) builder.
            var lastSave = ContinuousClock.now
            var retry = Self.firstRetry
            while let batch = await pending.next() {
                do {
                    let report = try build.build(changed: batch.subtracting([""]))
                    logger.debug("site updated", metadata: ["report": "\(report.summary)"])
                    retry = Self.firstRetry
                } catch {
                    // A full disk, say: the pages of these threads are still to write, so the batch comes
                    // back after a pause (doubling up to a minute), joined by whatever changed meanwhile.
                    logger.error(
                        "site build failed; trying again", metadata: ["error": "\(error)", "retry.in": "\(retry)"])
                    group.addTask { [retry] in
                        try? await Task.sleep(for: retry)
                        if !Task.isCancelled { pending.add(batch) }
                    }
                    retry = min(retry * 2, .seconds(60))
                }
                if ContinuousClock.now - lastSave > .seconds(10) {
                    try? build.saveManifest()
                    lastSave = .now
                }
            }
            try? build.saveManifest()
            group.cancelAll()  // a retry still waiting: the daemon is stopping
        }
    }
}

/// Changed thread ids waiting for the next site build; `next()` waits until there are some.
final class PendingChanges: Sendable {
    private let state = Mutex<(changes: Set<String>, closed: Bool, waiter: CheckedContinuation<Set<String>?, Never>?)>(
        ([], false, nil))

    func add(_ batch: Set<String>) {
        let waiter = state.withLock { state -> (CheckedContinuation<Set<String>?, Never>, Set<String>)? in
            state.changes.formUnion(batch)
            guard let waiter = state.waiter else { return nil }
            state.waiter = nil
            defer { state.changes = [] }
            return (waiter, state.changes)
        }
        waiter.map { $0.0.resume(returning: $0.1) }
    }

    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Set<String>?, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    func next() async -> Set<String>? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Set<String>?? in
                if !state.changes.isEmpty {
                    defer { state.changes = [] }
                    return .some(state.changes)
                }
                if state.closed { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
