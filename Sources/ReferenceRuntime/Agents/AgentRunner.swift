import Logging

/// Carries out the demo agents' runs: takes jobs from the state's stream and plays each agent's script, one step at
/// a time, through ``RuntimeState``.
///
/// Every step asks the state to apply it and stops as soon as the state says the run is over (it was aborted). Runs
/// are children of one task group, so cancelling ``run(jobs:)`` ends them all.
struct AgentRunner: Sendable {
    let state: RuntimeState
    let clock: RuntimeClock
    let interval: Duration
    let logger: Logger

    /// Runs jobs until the stream ends or the task is cancelled.
    func run(jobs: AsyncStream<RunJob>) async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                group.addTask { await self.execute(job) }
            }
            group.cancelAll()
        }
    }

    private func execute(_ job: RunJob) async {
        do {
            switch job {
            case .start(let ticket):
                logger.debug("run started", metadata: ["run.id": "\(ticket.runId)", "agent.id": "\(ticket.agent)"])
                try await start(ticket)
            case .resume(let ticket, let verdict, let note):
                logger.debug("run resumed", metadata: ["run.id": "\(ticket.runId)", "verdict": "\(verdict)"])
                try await resume(ticket, verdict: verdict, note: note)
            }
        } catch is CancellationError {
            logger.debug("run cancelled by shutdown", metadata: ["run.id": "\(job.runId)"])
        } catch {
            logger.error("run failed", metadata: ["run.id": "\(job.runId)", "error": "\(error)"])
        }
    }

    private func pause() async throws {
        if interval > .zero { try await clock.sleep(interval) }
    }

    private func start(_ ticket: RunJob.Ticket) async throws {
        let run = ticket.runId
        switch ticket.agent {
        case .assistant:
            let parts = DemoAgent.assistantAnswer(to: ticket.question)
            try await pause()
            for (index, part) in parts.enumerated() {
                if index > 0 { try await pause() }
                guard await state.appendReply(run: run, text: part, complete: index == parts.count - 1) else { return }
            }
            await state.finish(run: run)
        case .writer:
            let chunks = DemoAgent.writerChunks(for: ticket.question)
            for (index, chunk) in chunks.enumerated() {
                try await pause()
                guard await state.appendReply(run: run, text: chunk, complete: index == chunks.count - 1) else {
                    return
                }
            }
            await state.finish(run: run)
        case .operator:
            try await pause()
            // The run now waits for the answer; answering it sends a `.resume` job.
            if let question = DemoAgent.question(for: ticket.question) {
                _ = await state.askQuestion(run: run, prompt: question)
                return
            }
            _ = await state.proposeToolCall(
                run: run, name: DemoAgent.toolName, arguments: DemoAgent.toolArguments,
                text: DemoAgent.toolCallText(), prompt: DemoAgent.approvalPrompt)
        case .copilot:
            // Never reached: the store refuses chat messages to agents without the chat scope.
            guard await state.appendReply(run: run, text: "Copilot does not chat.", complete: true) else { return }
            await state.finish(run: run)
        }
    }

    private func resume(_ ticket: RunJob.Ticket, verdict: DemoAgent.Verdict, note: String?) async throws {
        let run = ticket.runId
        try await pause()
        let result: String? =
            if case let .approved(arguments, _) = verdict { DemoAgent.toolResult(arguments: arguments) } else { nil }
        guard await state.finishToolCall(run: run, result: result) else { return }
        try await pause()
        let reason: String? =
            switch verdict {
            case .rejected, .responded: nil  // the answer already quotes it
            default: note
            }
        guard await state.appendReply(run: run, text: DemoAgent.outcome(verdict, note: reason), complete: true)
        else { return }
        await state.finish(run: run)
    }
}

extension RunJob {
    var runId: Int {
        switch self {
        case .start(let ticket), .resume(let ticket, _, _): ticket.runId
        }
    }
}
