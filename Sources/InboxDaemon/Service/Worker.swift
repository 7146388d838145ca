import ChatModel
import Logging

/// Carries out the coordinator's jobs: the network side of delivery. Each job runs in the daemon's
/// task group and reports back to the coordinator.
struct Worker: Sendable {
    let coordinator: InboxCoordinator
    let runtimes: [String: any ChatRuntime]
    let logger: Logger

    func perform(_ job: DaemonJob) async {
        switch job {
        case let .wake(instant):
            guard (try? await Task.sleep(until: instant, clock: .continuous)) != nil else { return }
            await coordinator.tick()

        case let .listAgents(name):
            guard let runtime = runtimes[name] else { return }
            do {
                let agents = try await runtime.agents()
                await coordinator.agentsListed(runtime: name, result: .success(agents))
            } catch {
                await coordinator.agentsListed(runtime: name, result: .failure(error))
            }

        case let .send(name, thread, message, attempt, outgoing, signal):
            guard let runtime = runtimes[name] else { return }
            let acceptance: Acceptance
            do {
                acceptance = try await runtime.send(outgoing)
            } catch {
                await coordinator.deliveryFailed(
                    runtime: name, thread: thread, message: message, attempt: attempt, error: error)
                return
            }
            await coordinator.delivered(
                runtime: name, thread: thread, message: message, attempt: attempt, acceptance: acceptance)
            if let signal {
                await record(thread: thread, run: outgoing.run, updates: acceptance.updates, signal: signal)
            }

        case let .follow(name, thread, run, reference, signal):
            guard let updates = runtimes[name]?.follow(reference) else { return }
            await record(thread: thread, run: run, updates: updates, signal: signal)

        case let .regenerate(name, thread, run, outgoing, previous, signal):
            guard let runtime = runtimes[name] else { return }
            let acceptance: Acceptance
            do {
                acceptance = try await runtime.regenerate(outgoing, previous: previous)
            } catch {
                await coordinator.regenerateFailed(thread: thread, run: run, error: error)
                return
            }
            await coordinator.regenerateAccepted(thread: thread, run: run, acceptance: acceptance)
            await record(thread: thread, run: run, updates: acceptance.updates, signal: signal)

        case let .answer(name, thread, run, answers, reference, outgoing, signal):
            guard let runtime = runtimes[name] else { return }
            let resumed: RunUpdates?
            do {
                resumed = try await runtime.answer(answers, for: reference, message: outgoing)
            } catch {
                await coordinator.answersDelivered(thread: thread, run: run, approvals: [], error: error)
                return
            }
            await coordinator.answersDelivered(
                thread: thread, run: run, approvals: answers.map(\.runtimeID), error: nil)
            if let resumed { await record(thread: thread, run: run, updates: resumed, signal: signal) }

        case let .sync(name):
            guard let runtime = runtimes[name] as? any ThreadListing else { return }
            do {
                for thread in await coordinator.threadsToSync(try await runtime.threads()) {
                    await coordinator.applyRemote(thread, messages: try await runtime.messages(inThread: thread.id))
                }
            } catch {
                logger.warning(
                    "could not pull from the runtime", metadata: ["runtime": "\(name)", "error": "\(error)"])
            }

        case let .abort(name, thread, run, reference, withdraw):
            guard let runtime = runtimes[name] else { return }
            var answer: RunUpdates?
            do {
                if let withdraw {
                    answer = try await runtime.answer(withdraw.answers, for: reference, message: withdraw.outgoing)
                }
                try await runtime.abort(reference)
                await coordinator.abortDelivered(thread: thread, run: run, error: nil)
            } catch {
                await coordinator.abortDelivered(thread: thread, run: run, error: error)
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

    /// Feeds a run's updates to the coordinator until the run ends, racing an abort: when the signal
    /// fires, the updates are cancelled, which closes a streaming connection.
    private func record(thread: String, run: String, updates: RunUpdates, signal: AbortSignal) async {
        let coordinator = coordinator
        var failure: (any Error)?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await updates.forEach { update in
                        await coordinator.runUpdate(thread: thread, run: run, update: update)
                    }
                }
                group.addTask {
                    await signal.wait()
                    if !Task.isCancelled { throw RuntimeError(.cancelled, "aborted") }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            failure = error
        }
        await coordinator.runStreamEnded(thread: thread, run: run, error: failure)
    }
}
