import ServiceLifecycle
import Synchronization

/// Wakes long polls when a thread's change counter moves past what they have seen.
///
/// A `Mutex` rather than the state actor, so a waiter can be registered and woken synchronously: the check "has the
/// thread moved past `after`?" and the registration happen under one lock, so a change published in between is
/// never missed. Waiters also end on task cancellation and on graceful shutdown.
final class ChangeBoard: Sendable {
    private enum Entry {
        case waiting(thread: String, after: Int, continuation: CheckedContinuation<Void, Never>)
        /// Cancelled (or shut down) before it started waiting.
        case woken
    }

    private struct State {
        var latest: [String: Int] = [:]
        var entries: [Int: Entry] = [:]
        var lastId = 0
    }

    private let state = Mutex(State())

    /// Records a thread's new change counter and wakes everyone waiting for it.
    func publish(thread: String, seq: Int) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.latest[thread] = max(state.latest[thread] ?? 0, seq)
            var woken: [CheckedContinuation<Void, Never>] = []
            for (id, entry) in state.entries {
                if case .waiting(thread, let after, let continuation) = entry, after < seq {
                    state.entries[id] = nil
                    woken.append(continuation)
                }
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once the thread's change counter is above `after`, or the task is cancelled or shutting down.
    func wait(thread: String, after: Int) async {
        let id = state.withLock { state in
            state.lastId += 1
            return state.lastId
        }
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if case .woken = state.entries[id] { return true }
                    if (state.latest[thread] ?? 0) > after { return true }
                    state.entries[id] = .waiting(thread: thread, after: after, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancelOrGracefulShutdown: {
            let waiting = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                if case .waiting(_, _, let continuation) = state.entries[id] {
                    state.entries[id] = nil
                    return continuation
                }
                state.entries[id] = .woken
                return nil
            }
            waiting?.resume()
        }
        state.withLock { _ = $0.entries.removeValue(forKey: id) }
    }
}
