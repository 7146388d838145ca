import ChatModel
import InboxCore
import Logging
import Synchronization

/// Carries out the machine's jobs: the network side of delivery. Each job runs in the daemon's task
/// group and reports what happened as `Outcome`s into the runner's one inbound channel.
struct Worker: Sendable {
    let runtimes: [String: any ChatRuntime]
    let logger: Logger
    let report: @Sendable (Outcome) -> Void

    func perform(_ job: Job, signal: AbortSignal?) async {
        switch job {
        case let .listAgents(name):
            guard let runtime = runtimes[name] else { return }
            do {
                report(.agentsListed(runtime: name, result: .success(try await runtime.agents())))
            } catch {
                report(.agentsListed(runtime: name, result: .failure(error)))
            }

        case let .send(name, thread, message, attempt, outgoing, _):
            guard let runtime = runtimes[name] else { return }
            let acceptance: Acceptance
            do {
                acceptance = try await runtime.send(outgoing)
            } catch {
                report(.deliveryFailed(runtime: name, thread: thread, message: message, attempt: attempt, error: error))
                return
            }
            report(
                .delivered(
                    runtime: name, thread: thread, message: message, attempt: attempt,
                    accepted: Accepted(
                        runtimeMessageID: acceptance.runtimeMessageID, runtimeThreadID: acceptance.runtimeThreadID,
                        reference: acceptance.reference)))
            if let signal {
                await record(thread: thread, run: outgoing.run, updates: acceptance.updates, signal: signal)
            }

        case let .follow(name, thread, run, reference):
            guard let updates = runtimes[name]?.follow(reference), let signal else { return }
            await record(thread: thread, run: run, updates: updates, signal: signal)

        case let .regenerate(name, thread, run, outgoing, previous):
            guard let runtime = runtimes[name], let signal else { return }
            let acceptance: Acceptance
            do {
                acceptance = try await runtime.regenerate(outgoing, previous: previous)
            } catch {
                report(.regenerateFailed(thread: thread, run: run, error: error))
                return
            }
            report(.regenerateAccepted(thread: thread, run: run, reference: acceptance.reference, runtime: name))
            await record(thread: thread, run: run, updates: acceptance.updates, signal: signal)

        case let .answer(name, thread, run, answers, reference, outgoing):
            guard let runtime = runtimes[name] else { return }
            let resumed: RunUpdates?
            do {
                resumed = try await runtime.answer(answers, for: reference, message: outgoing)
            } catch {
                report(.answersDelivered(thread: thread, run: run, approvals: [], error: error))
                return
            }
            report(.answersDelivered(thread: thread, run: run, approvals: answers.map(\.runtimeID), error: nil))
            if let resumed, let signal { await record(thread: thread, run: run, updates: resumed, signal: signal) }

        case let .listThreads(name):
            guard let runtime = runtimes[name] as? any ThreadListing else { return }
            do {
                report(.remoteThreads(runtime: name, threads: try await runtime.threads()))
            } catch {
                report(.syncFailed(runtime: name, error: error))
            }

        case let .fetchMessages(name, thread):
            guard let runtime = runtimes[name] as? any ThreadListing else { return }
            do {
                report(
                    .remoteMessages(
                        runtime: name, thread: thread, messages: try await runtime.messages(inThread: thread.id)))
            } catch {
                report(.syncFailed(runtime: name, error: error))
            }

        case let .abort(name, thread, run, reference, withdraw):
            guard let runtime = runtimes[name] else { return }
            var answer: RunUpdates?
            do {
                if let withdraw {
                    answer = try await runtime.answer(withdraw.answers, for: reference, message: withdraw.outgoing)
                }
                try await runtime.abort(reference)
                report(.abortDelivered(thread: thread, run: run, error: nil))
            } catch {
                report(.abortDelivered(thread: thread, run: run, error: error))
            }
            if let answer { await drain(answer) }
        }
    }

    /// Reads what a runtime answers to a withdrawal to the end (at most 10 s), recording none of it:
    /// the run is over for the operator, but a runtime cut off mid-answer might keep its requests open.
    private func drain(_ updates: RunUpdates) async {
        try? await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await updates.forEach { _ in } }
            group.addTask { try await Task.sleep(for: .seconds(10)) }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Reports a run's updates until the run ends, racing its signal: when the signal fires (an abort,
    /// the run let go of), the updates are cancelled, which closes a streaming connection.
    private func record(thread: String, run: String, updates: RunUpdates, signal: AbortSignal) async {
        let report = report
        var failure: RuntimeError?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await updates.forEach { update in report(.runUpdate(thread: thread, run: run, update: update)) }
                }
                group.addTask {
                    await signal.wait()
                    if !Task.isCancelled { throw RuntimeError(.cancelled, "aborted") }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch let error as RuntimeError {
            failure = error
        } catch is CancellationError {
            failure = RuntimeError(.cancelled, "cancelled")
        } catch {
            failure = RuntimeError(.protocolViolation, "\(error)")
        }
        report(.runStreamEnded(thread: thread, run: run, error: failure))
    }
}

/// Lets a run's worker notice that its run is let go of (an abort, a thread read again, shutdown)
/// while it waits on the network.
final class AbortSignal: Sendable {
    private struct State {
        var fired = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    var isFired: Bool { state.withLock { $0.fired } }

    /// Returns when fired, at once if it already was, or when the waiting task is cancelled.
    func wait() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.fired || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
