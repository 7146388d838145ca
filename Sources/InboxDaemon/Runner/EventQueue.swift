import InboxCore
import Synchronization

/// Something for the runner: one inbound channel for the watcher, the workers, the timers and the
/// service's schedule.
enum RunnerEvent: Sendable {
    case file(InotifyWatcher.Event)
    case outcome(Outcome)
    case tick
    /// Read more threads not read yet (the catch-up after start).
    case catchUp
    /// List the inbox again (every `delivery.rescan_seconds`).
    case rescan
    case syncDue
    /// Pull with rebase and push, renew the lease (every `git.sync_seconds`, or asked by the CLI).
    case gitSync
    case stop(reason: String?)
}

/// The runner's inbound channel: events pile up while it works, and `next()` hands over all of them at
/// once, so one commit covers everything that arrived together (group commit).
final class EventQueue: Sendable {
    private struct State {
        var events: [RunnerEvent] = []
        var closed = false
        var waiter: CheckedContinuation<[RunnerEvent]?, Never>?
    }

    private let state = Mutex(State())

    func push(_ event: RunnerEvent) {
        let waiter = state.withLock { state -> (CheckedContinuation<[RunnerEvent]?, Never>, [RunnerEvent])? in
            guard !state.closed else { return nil }
            state.events.append(event)
            guard let waiter = state.waiter else { return nil }
            state.waiter = nil
            defer { state.events = [] }
            return (waiter, state.events)
        }
        waiter.map { $0.0.resume(returning: $0.1) }
    }

    func close() {
        let waiter = state.withLock { state -> CheckedContinuation<[RunnerEvent]?, Never>? in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Everything that arrived since the last call, waiting for at least one; nil once closed and empty.
    func next() async -> [RunnerEvent]? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [RunnerEvent]?? in
                if !state.events.isEmpty {
                    defer { state.events = [] }
                    return .some(state.events)
                }
                if state.closed { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Whether events are waiting (the catch-up gives way to them).
    var hasPending: Bool { state.withLock { !$0.events.isEmpty } }
}
