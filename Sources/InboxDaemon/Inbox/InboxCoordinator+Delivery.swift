import ChatModel
import Foundation
import InboxStore
import Logging

/// Delivery: attempts and their outcomes, the runtime's health, agents, approvals, aborts.
extension InboxCoordinator {
    /// Journals attempt N of `message` and hands out the job that makes it. False when it cannot start.
    /// `behind`: the run in progress that the runtime will queue this message behind; the message is
    /// only delivered, and its own run is followed once that one ends.
    func startAttempt(_ book: ThreadBook, message: MessageState, behind: ActiveRun? = nil) -> Bool {
        guard let requestID = message.requestID else { return false }
        let agentName = book.agent(for: messageAgent(book, message), default: defaultAgent)
        guard let agentName, !agentName.isEmpty else {
            append(
                book, .daemon,
                .failed(
                    message: message.id,
                    reason:
                        "no agent: name one in thread.md (agent: ID), in the message's front matter, or as default_agent in letterbox.yaml\(agentHint)",
                    attempt: nil))
            return false
        }
        // Agents are checked only against a list the agent's runtime has given (or, for runtimes
        // without one, the configured agents). Until a runtime that lists agents has answered (it is
        // down, or refuses the token), the message goes out and the runtime itself decides.
        let agentRuntime = runtimeName(forAgent: agentName)
        if agentsListed.contains(agentRuntime) || runtimes[agentRuntime]?.capabilities.agentListing == false {
            let chat = agents.filter(\.isChat)
            if !chat.contains(where: { $0.id == agentName }) {
                let known = agents.first { $0.id == agentName }
                let why =
                    known == nil ? "unknown agent '\(agentName)'" : "agent '\(agentName)' is not in the chat scope"
                append(book, .daemon, .failed(message: message.id, reason: "\(why)\(agentHint)", attempt: nil))
                return false
            }
        }
        let runtimeName = runtimeName(forAgent: agentName)
        guard let runtime = runtimes[runtimeName] else { return false }
        guard health[runtimeName]?.allowsRequest(now: now()) ?? true else {
            if let retryAt = health[runtimeName]?.retryAt {
                wake(at: clock.now + .milliseconds(max(0, retryAt.milliseconds - now().milliseconds)))
            }
            return false
        }
        guard let content = acceptedText(book, message) else { return false }
        let attempt = message.attempts.count + 1
        append(book, .daemon, .attempt(message: message.id, requestID: requestID, attempt: attempt))
        let run = runID(book, message: message)
        var outgoing = OutgoingMessage(
            thread: book.id, threadTitle: book.meta.title ?? book.id, runtimeThreadID: book.state.runtimeThreadID,
            message: message.id, requestID: requestID, agent: agentName, content: content, run: run,
            history: runtime.capabilities.serverHistory ? [] : history(book, before: message.id))
        outgoing.sharedState = lastSharedState(book)
        if behind != nil {
            book.sending = message.id
            enqueue(
                .send(
                    runtime: runtimeName, thread: book.id, message: message.id, attempt: attempt, outgoing: outgoing,
                    signal: nil))
            return true
        }
        let active = ActiveRun(
            run: run, message: message.id, agent: agentName, runtime: runtimeName,
            reference: RunReference(run: run, runtimeThreadID: book.state.runtimeThreadID, runtimeMessageID: nil))
        book.busy = true
        book.active = active
        enqueue(
            .send(
                runtime: runtimeName, thread: book.id, message: message.id, attempt: attempt, outgoing: outgoing,
                signal: active.abort))
        return true
    }

    /// " (agents with the chat scope: a, b)" or nothing when none are known.
    var agentHint: String {
        let chat = agents.filter(\.isChat).map(\.id).sorted()
        return chat.isEmpty ? "" : " (agents with the chat scope: \(chat.joined(separator: ", ")))"
    }

    /// The message's own `agent:` (from the parse at acceptance, or the file again after a restart).
    func messageAgent(_ book: ThreadBook, _ message: MessageState) -> String? {
        guard case .operator = message.origin else { return message.agent.flatMap { $0.isEmpty ? nil : $0 } }
        return parsedMessage(book, message)?.agent
    }

    /// The text that was accepted. After a restart it is read again and must still hash to what the
    /// journal recorded; if the file changed in between, the message fails with what to do.
    func acceptedText(_ book: ThreadBook, _ message: MessageState) -> String? {
        if let parsed = parsedMessage(book, message) { return parsed.body }
        append(
            book, .daemon,
            .failed(
                message: message.id,
                reason:
                    "the file changed or disappeared after it was accepted and before it was sent, so the accepted text is gone; drop a new file to send the new text",
                attempt: nil))
        return nil
    }

    /// The accepted message, parsed: cached from acceptance, else read again and checked against the
    /// journaled hash (nil when the file changed or is gone).
    func parsedMessage(_ book: ThreadBook, _ message: MessageState) -> OperatorMessage? {
        if let cached = book.accepted[message.id] { return cached }
        let limit = workspace.config.limits.messageBytes
        guard
            let bytes = try? FileSystem.readFile(
                book.folder + "/" + message.file, maxBytes: limit, beneath: workspace.inbox),
            SHA256Hex.digest(bytes) == message.sha256,
            let parsed = try? OperatorMessage.parse(id: message.id, bytes: bytes, maxBytes: limit)
        else { return nil }
        book.accepted[message.id] = parsed
        return parsed
    }

    /// `hello.run-2`: the run id for the next answer to `message`.
    func runID(_ book: ThreadBook, message: MessageState) -> String {
        "\(message.id).run-\(message.runs.count + 1)"
    }

    // MARK: Outcomes

    /// The runtime acknowledged the message: bind the thread, journal `sent`, and start recording the run.
    /// `runtime` is the one the job went to: the run ahead of a queued message may have ended by now.
    func delivered(runtime: String, thread: String, message: String, attempt: Int, acceptance: Acceptance) {
        defer { commit() }
        recordSuccess(runtime: runtime)
        // The thread may have been read again meanwhile (its journal replaced): then this attempt was
        // closed and is retried with the same key, which the runtime answers the same way.
        guard let book = threads[thread], let state = book.state.message(message), let requestID = state.requestID,
            case .sending(attempt) = state.delivery
        else { return }
        var events: [(Actor, JournalEvent)] = []
        if let runtimeThread = acceptance.runtimeThreadID, book.state.runtimeThreadID != runtimeThread {
            events.append((.runtime, .threadBound(runtimeThreadID: runtimeThread)))
        }
        events.append(
            (
                .runtime,
                .sent(message: message, requestID: requestID, attempt: attempt, runtimeID: acceptance.runtimeMessageID)
            ))
        append(book, events)
        book.accepted[message] = nil
        delivered += 1
        logger.info(
            "delivered", metadata: ["thread.id": "\(thread)", "message.id": "\(message)", "attempt": "\(attempt)"])
        if book.sending == message {
            // Queued behind the active run, and followed when that one ends (which may have happened).
            book.sending = nil
            schedule()
        } else {
            book.active?.reference = acceptance.reference
            flushSite()
        }
    }

    /// An attempt failed: retry later, pause, or fail the message, as the error says.
    func deliveryFailed(runtime: String, thread: String, message: String, attempt: Int, error: RuntimeError) {
        defer { commit() }
        guard let book = threads[thread] else { return }
        if book.sending == message {
            book.sending = nil  // the run in progress goes on
        } else {
            book.busy = false
            book.active = nil
        }
        guard case .sending(attempt) = book.state.message(message)?.delivery else { return }
        switch error.kind {
        case let .transient(retryAfter):
            recordFailure(runtime: runtime, reason: error.message)
            let accepted = book.state.message(message)?.acceptedAt ?? now()
            let age = now().milliseconds - accepted.milliseconds
            switch retry.decide(attempt: attempt, ageMilliseconds: age, retryAfterSeconds: retryAfter, unit: random()) {
            case let .retry(delay):
                let notBefore = now().adding(milliseconds: delay)
                let hint = retryAfter.map { String(format: " (Retry-After: %.0f s)", $0) } ?? ""
                append(
                    book, .daemon,
                    .retryScheduled(
                        message: message, attempt: attempt, reason: error.message + hint, notBefore: notBefore))
                wake(at: clock.now + .milliseconds(delay))
            case .giveUp:
                let limit =
                    retry.maxAttempts.map { attempt >= $0 } == true
                    ? "delivery.retry.max_attempts" : "delivery.retry.max_age_seconds"
                append(
                    book, .daemon,
                    .failed(
                        message: message,
                        reason:
                            "gave up after \(attempt) attempts over \(Self.duration(milliseconds: age)) (\(limit)); last error: \(error.message); `letterbox retry` sends it again with the same key",
                        attempt: attempt))
            }
        case .authentication:
            let pause = pauseForAuthentication(runtime: runtime, reason: error.message)
            append(
                book, .daemon,
                .retryScheduled(
                    message: message, attempt: attempt,
                    reason: "waiting: \(error.message); delivery resumes once the runtime accepts the token",
                    notBefore: pause))
        case .rejected, .unsupported, .protocolViolation:
            recordSuccess(runtime: runtime)
            append(book, .daemon, .failed(message: message, reason: error.message, attempt: attempt))
        case .cancelled:
            // Shutting down: the attempt stays open and the next start retries it with the same key.
            return
        }
        logger.info(
            "delivery failed",
            metadata: ["thread.id": "\(thread)", "message.id": "\(message)", "error": "\(error.message)"])
        schedule()
    }

    // MARK: Health

    /// A request to `runtime` succeeded: a pause for the token and a degraded state end at once, also
    /// those an earlier daemon journaled (`RuntimeHealth.journaled…`), so the status never stays stale.
    func recordSuccess(runtime: String) {
        guard var state = health[runtime] else { return }
        state.probing = false
        if state.authPause != nil || state.journaledAuthFailing {
            state.authPause = nil
            clearJournaledHealth(authFailing: true)
            appendInbox(.daemon, .authRecovered)
            logger.notice("the runtime accepts the token again", metadata: ["runtime": "\(runtime)"])
        }
        if state.breaker.recordSuccess() == .recovered || state.journaledDegraded {
            clearJournaledHealth(authFailing: false)
            appendInbox(.daemon, .runtimeRecovered)
            logger.notice("runtime recovered", metadata: ["runtime": "\(runtime)"])
        }
        state.journaledDegraded = false
        state.journaledAuthFailing = false
        health[runtime] = state
    }

    /// The inbox journal's runtime health is one state for all runtimes: once recovery is journaled,
    /// no other runtime journals it again.
    private func clearJournaledHealth(authFailing: Bool) {
        for name in health.keys {
            if authFailing {
                health[name]?.journaledAuthFailing = false
            } else {
                health[name]?.journaledDegraded = false
            }
        }
    }

    func recordFailure(runtime: String, reason: String) {
        guard var state = health[runtime] else { return }
        state.probing = false
        if state.breaker.recordFailure(now: now()) == .degraded {
            appendInbox(
                .daemon, .runtimeDegraded(reason: "\(state.breaker.threshold) failures in a row; last: \(reason)"))
            logger.warning("runtime degraded", metadata: ["runtime": "\(runtime)", "reason": "\(reason)"])
        }
        health[runtime] = state
    }

    /// Pauses all delivery to `runtime` until it accepts the token; returns when the next probe goes.
    func pauseForAuthentication(runtime: String, reason: String) -> Timestamp {
        var state = health[runtime] ?? RuntimeHealth(breaker: CircuitBreaker(configuration.delivery.breaker))
        let backoff = min(60_000, (state.authPause?.backoffMilliseconds ?? 1000) * 2)
        let retryAt = now().adding(milliseconds: backoff)
        if state.authPause == nil {
            appendInbox(.daemon, .authFailed(reason: reason))
            logger.error("the runtime refuses the token; delivery is paused", metadata: ["runtime": "\(runtime)"])
        }
        state.authPause = (reason, retryAt, backoff)
        state.probing = false
        health[runtime] = state
        wake(at: clock.now + .milliseconds(backoff))
        return retryAt
    }

    // MARK: Agents

    /// A runtime listed its agents: keep them (with the configured ones) and journal a change.
    func agentsListed(runtime: String, result: Result<[RuntimeAgent], RuntimeError>) {
        defer { commit() }
        switch result {
        case let .success(list):
            agentsListed.insert(runtime)
            agentListRetry[runtime] = nil
            agents.removeAll { agent in agent.runtime == runtime && !configuration.agents.contains { $0.id == agent.id }
            }
            agents += list.filter { listed in !agents.contains { $0.id == listed.id } }
            agents.sort { $0.id < $1.id }
            let detail = Self.json(
                agents.map { agent -> [String: Any] in
                    ["id": agent.id, "name": agent.name ?? agent.id, "scopes": agent.scopes, "runtime": agent.runtime]
                })
            if inboxState.agents != detail { appendInbox(.daemon, .agentsListed(detail: detail)) }
            recordSuccess(runtime: runtime)
        case let .failure(error):
            switch error.kind {
            case .authentication:
                _ = pauseForAuthentication(runtime: runtime, reason: error.message)
                retryAgentList(runtime)
            case .unsupported:
                agentsListed.insert(runtime)
            case .cancelled:
                break
            case .transient:
                recordFailure(runtime: runtime, reason: error.message)
                retryAgentList(runtime)
            case .rejected, .protocolViolation:
                retryAgentList(runtime)
            }
            logger.warning(
                "could not list the runtime's agents; trying again",
                metadata: ["runtime": "\(runtime)", "error": "\(error.message)"])
        }
        schedule()
    }

    /// Asks again for a runtime's agents, with backoff (2 s doubling to `delivery.retry.max_ms`).
    private func retryAgentList(_ runtime: String) {
        let backoff = min(Int64(retry.maxMilliseconds), max(2000, (agentListRetry[runtime]?.backoff ?? 1000) * 2))
        let at = clock.now + .milliseconds(backoff)
        agentListRetry[runtime] = (at, backoff)
        wake(at: at)
    }

    /// Timer: agent lists whose retry is due are asked for again.
    func retryAgentLists(at instant: ContinuousClock.Instant) {
        for (runtime, retry) in agentListRetry {
            guard let at = retry.at, at <= instant else { continue }
            agentListRetry[runtime]?.at = nil  // one request at a time
            enqueue(.listAgents(runtime: runtime))
        }
    }

    /// `90 s`, `3 min`, `2 h`: a duration for messages.
    static func duration(milliseconds: Int64) -> String {
        let seconds = milliseconds / 1000
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h"
    }

    // MARK: Approvals

    /// The operator answered an approval (file or control): journal it and send it.
    func answer(_ book: ThreadBook, approval id: String, decision: Decision, note: String?, file: String?) {
        guard let approval = book.state.approval(id), approval.isPending else { return }
        append(book, .operator, .approvalAnswered(approval: id, decision: decision, note: note, file: file))
        sendAnswers(book)
    }

    /// Sends answered approvals of the active run. Runtimes that resume with a new request (AG-UI) get
    /// every answer at once, after the last pending one is answered.
    func sendAnswers(_ book: ThreadBook) {
        guard let active = book.active, let run = book.state.runs[active.run], let runtime = runtimes[active.runtime]
        else { return }
        let unsent = run.approvals.filter { $0.answer != nil && !$0.delivered }
        guard !unsent.isEmpty else { return }
        if runtime.capabilities.resumesWithAnswers && run.approvals.contains(where: \.isPending) { return }
        let answers = unsent.compactMap { approval -> ApprovalAnswer? in
            guard let answer = approval.answer, let runtimeID = approval.runtimeID else { return nil }
            return ApprovalAnswer(
                runtimeID: runtimeID, decision: answer.decision, note: answer.note, toolCallID: approval.toolCall)
        }
        guard !book.answersInFlight, book.answersRetryAt.map({ $0 <= clock.now }) ?? true,
            let message = book.state.message(run.message),
            let outgoing = outgoingForRun(book, message: message, run: active.run)
        else { return }
        book.answersInFlight = true
        book.answersRetryAt = nil
        enqueue(
            .answer(
                runtime: active.runtime, thread: book.id, run: active.run, answers: answers,
                reference: active.reference,
                outgoing: outgoing, signal: active.abort))
    }

    /// The runtime took the answers.
    func answersDelivered(thread: String, run: String, approvals runtimeIDs: [String], error: RuntimeError?) {
        defer { commit() }
        guard let book = threads[thread], let state = book.state.runs[run] else { return }
        book.answersInFlight = false
        if let error {
            logger.warning(
                "could not send an approval answer", metadata: ["thread.id": "\(thread)", "error": "\(error.message)"])
            switch error.kind {
            case .transient, .authentication:
                // Answering is idempotent (same decision again is a no-op), so it is simply sent again.
                book.answersRetryAt = clock.now + .seconds(2)
                wake(at: clock.now + .seconds(2))
            case .cancelled:
                break
            case .rejected, .unsupported, .protocolViolation:
                if book.active?.run == run {
                    finish(book, end: .errored(reason: "the runtime refused the approval answer: \(error.message)"))
                }
            }
            return
        }
        let sent = state.approvals.filter { approval in approval.runtimeID.map(runtimeIDs.contains) ?? false }
        append(book, sent.map { (.runtime, .approvalSent(approval: $0.id, runtimeID: $0.runtimeID)) })
        flushSite()
    }

    /// The thread's shared state as the newest run that had one left it (AG-UI `STATE_*`).
    func lastSharedState(_ book: ThreadBook) -> String? {
        book.state.runs.values.filter { $0.sharedState != nil }
            .max { ($0.startedAt.milliseconds, $0.id) < ($1.startedAt.milliseconds, $1.id) }?.sharedState
    }

    /// The outgoing message for a run (for runtimes that resend history with each request).
    func outgoingForRun(_ book: ThreadBook, message: MessageState, run: String) -> OutgoingMessage? {
        let content = parsedMessage(book, message)?.body ?? bodyOf(book, file: message.file)
        let agent = book.state.runs[run]?.agent ?? message.agent ?? ""
        let runtime = runtimes[runtimeName(forAgent: agent)]
        var outgoing = OutgoingMessage(
            thread: book.id, threadTitle: book.meta.title ?? book.id, runtimeThreadID: book.state.runtimeThreadID,
            message: message.id, requestID: message.requestID ?? "", agent: agent, content: content, run: run,
            history: runtime?.capabilities.serverHistory == false ? history(book, before: message.id) : [])
        outgoing.sharedState = lastSharedState(book)
        if let state = book.state.runs[run] {
            let text = book.active?.run == run ? (book.active?.text ?? "") : replyText(book, file: state.file)
            let calls = state.toolCalls.map {
                ToolCallSummary(id: $0.id, name: $0.tool, arguments: toolArguments(book, file: $0.file))
            }
            outgoing.runSoFar = [
                HistoryItem(role: .assistant, id: state.runtimeID ?? run, content: text, toolCalls: calls)
            ]
            for call in state.toolCalls {
                if let result = toolResult(book, file: call.file) {
                    outgoing.runSoFar.append(
                        HistoryItem(role: .tool, id: "\(run)-\(call.id)", content: result, toolCallID: call.id))
                }
            }
        }
        return outgoing
    }

    // MARK: Abort and regenerate

    /// Stops the running reply: the connection is closed and, where the runtime has it, the abort
    /// endpoint is called. The reply keeps the text that arrived.
    func abortRun(_ book: ThreadBook, target: String?) -> ControlOutcome {
        guard let active = book.active, book.state.runs[active.run].map({ !$0.status.isFinished }) ?? true else {
            return .failure("nothing is running in this thread")
        }
        if let target, target != active.run, target != active.message,
            target != active.file.map({ String($0.dropLast(3)) })
        {
            return .failure("'\(target)' is not the running reply (\(active.run))")
        }
        guard let runtime = runtimes[active.runtime], runtime.capabilities.abort else {
            return .failure("the runtime '\(active.runtime)' does not support abort")
        }
        if book.state.runs[active.run] != nil { append(book, .operator, .abortRequested(run: active.run)) }
        book.active?.abortRequested = true
        active.abort.fire()
        enqueue(
            .abort(
                runtime: active.runtime, thread: book.id, run: active.run, reference: active.reference,
                withdraw: withdrawal(book, active: active, runtime: runtime)))
        return .success(Self.json(["run": active.run]))
    }

    /// For a run that waits for approval on a runtime that resumes with a new request (AG-UI): every
    /// request not yet sent, withdrawn, so the runtime closes them. Left open, they would make the
    /// thread's next message an error ("interrupts pending").
    func withdrawal(_ book: ThreadBook, active: ActiveRun, runtime: any ChatRuntime)
        -> (answers: [ApprovalAnswer], outgoing: OutgoingMessage)?
    {
        guard runtime.capabilities.resumesWithAnswers, let run = book.state.runs[active.run],
            run.status == .awaitingApproval, let message = book.state.message(run.message),
            let outgoing = outgoingForRun(book, message: message, run: run.id)
        else { return nil }
        let answers = run.approvals.filter { !$0.delivered }.compactMap { approval in
            approval.runtimeID.map { ApprovalAnswer.withdrawal(of: $0, toolCallID: approval.toolCall) }
        }
        return answers.isEmpty ? nil : (answers, outgoing)
    }

    /// Starts a regenerated answer for `message` (its earlier answers are kept).
    func startRegenerate(_ book: ThreadBook, message: MessageState) -> Bool {
        let agent = message.agent ?? book.meta.agent ?? defaultAgent ?? ""
        let runtimeName = runtimeName(forAgent: agent)
        guard health[runtimeName]?.allowsRequest(now: now()) ?? true else { return false }
        let run = runID(book, message: message)
        guard let outgoing = outgoingForRun(book, message: message, run: run) else { return false }
        let previous = RunReference(
            run: message.runs.last ?? "", runtimeThreadID: book.state.runtimeThreadID,
            runtimeMessageID: message.runtimeID,
            excludedRuntimeIDs: earlierReplyIDs(book, message: message, excluding: ""))
        if let retryAt = book.regenerateRetryAt, retryAt > clock.now {
            wake(at: retryAt)
            return false
        }
        let active = ActiveRun(run: run, message: message.id, agent: agent, runtime: runtimeName, reference: previous)
        book.busy = true
        book.active = active
        enqueue(
            .regenerate(
                runtime: runtimeName, thread: book.id, run: run, outgoing: outgoing, previous: previous,
                signal: active.abort))
        return true
    }

    /// The runtime accepted a regenerate request; the new run's updates follow.
    func regenerateAccepted(thread: String, run: String, acceptance: Acceptance) {
        defer { commit() }
        guard let book = threads[thread], book.active?.run == run else { return }
        book.active?.reference = acceptance.reference
        recordSuccess(runtime: book.active?.runtime ?? "")
    }

    /// A regenerate request failed before any run started: transient failures are retried with
    /// backoff; anything else (or too many) is journaled as `regenerate_failed`, keeping the old answers.
    func regenerateFailed(thread: String, run: String, error: RuntimeError) {
        defer { commit() }
        guard let book = threads[thread], book.active?.run == run, let message = book.active?.message else { return }
        let runtime = book.active?.runtime ?? ""
        book.busy = false
        book.active = nil
        let failures = book.regenerateFailures[message, default: 0] + 1
        book.regenerateFailures[message] = failures
        if case let .transient(retryAfter) = error.kind {
            recordFailure(runtime: runtime, reason: error.message)
            if case let .retry(delay) = retry.decide(attempt: failures, retryAfterSeconds: retryAfter, unit: random()) {
                book.regenerateRetryAt = clock.now + .milliseconds(delay)
                wake(at: clock.now + .milliseconds(delay))
                return
            }
        } else if case .authentication = error.kind {
            _ = pauseForAuthentication(runtime: runtime, reason: error.message)
            return
        } else if case .cancelled = error.kind {
            return
        }
        book.regenerateFailures[message] = nil
        book.regenerateRetryAt = nil
        append(book, .daemon, .regenerateFailed(message: message, reason: error.message))
        schedule()
    }

    // MARK: History

    /// The conversation before `message`, for runtimes that need it resent each time: operator messages
    /// that were sent, and each one's latest complete answer with its tool calls.
    func history(_ book: ThreadBook, before message: String) -> [HistoryItem] {
        var items: [HistoryItem] = []
        for earlier in book.state.messages {
            if earlier.id == message { break }
            guard earlier.acceptedAt != nil, earlier.delivery == .sent || earlier.delivery == .replied else { continue }
            let text: String
            if case .remote = earlier.origin {
                text = bodyOf(book, file: earlier.file)
            } else {
                text = book.accepted[earlier.id]?.body ?? bodyOf(book, file: earlier.file)
            }
            items.append(HistoryItem(role: .user, id: earlier.runtimeID ?? earlier.id, content: text))
            guard let run = book.state.runs(of: earlier).last(where: { $0.status == .complete }) else { continue }
            let calls = run.toolCalls.map { call in
                ToolCallSummary(id: call.id, name: call.tool, arguments: toolArguments(book, file: call.file))
            }
            if !calls.isEmpty {
                items.append(HistoryItem(role: .assistant, id: run.id + "-tools", content: "", toolCalls: calls))
                for call in run.toolCalls {
                    items.append(
                        HistoryItem(
                            role: .tool, id: run.id + "-" + call.id, content: toolResult(book, file: call.file) ?? "",
                            toolCallID: call.id))
                }
            }
            items.append(
                HistoryItem(role: .assistant, id: run.runtimeID ?? run.id, content: replyText(book, file: run.file)))
        }
        return items
    }

    func bodyOf(_ book: ThreadBook, file: String) -> String {
        guard
            let bytes = try? FileSystem.readFile(
                book.folder + "/" + file, maxBytes: 16 << 20, beneath: workspace.inbox),
            let text = try? TextFile.decode(bytes, maxBytes: 16 << 20)
        else { return "" }
        return String((try? FrontMatter.split(text).body) ?? text[...]).trimmingWhitespace
    }
}

extension RuntimeCapabilities {
    /// Approval answers go back as a new request that resumes the run (AG-UI), all at once.
    public var resumesWithAnswers: Bool { !serverHistory }
    /// A message sent while the runtime answers another waits in its queue (the control plane's
    /// contract); runtimes that get the history with each request need the answer first.
    public var queuesMessages: Bool { serverHistory }
}
