import ChatModel

/// Delivery: attempts and their outcomes, the runtime's health, agents, approvals, aborts.
extension InboxMachine {
    /// Journals attempt N of `message` and hands out the job that makes it. False when it cannot start.
    /// `behind`: the run in progress that the runtime will queue this message behind; the message is
    /// only delivered, and its own run is followed once that one ends.
    func startAttempt(_ book: ThreadMachine, message: MessageState, behind: ActiveRun? = nil) -> Bool {
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
        let runtimeName = runtimeName(forAgent: agentName)
        guard let capabilities = capabilities(of: runtimeName) else { return false }
        if agentsListed.contains(runtimeName) || !capabilities.agentListing {
            let chat = agents.filter(\.isChat)
            if !chat.contains(where: { $0.id == agentName }) {
                let known = agents.first { $0.id == agentName }
                let why =
                    known == nil ? "unknown agent '\(agentName)'" : "agent '\(agentName)' is not in the chat scope"
                append(book, .daemon, .failed(message: message.id, reason: "\(why)\(agentHint)", attempt: nil))
                return false
            }
        }
        guard health[runtimeName]?.allowsRequest(now: now.wall) ?? true else {
            if let retryAt = health[runtimeName]?.retryAt {
                wake(in: max(0, retryAt.milliseconds - now.wall.milliseconds))
            }
            return false
        }
        guard let content = acceptedText(book, message) else { return false }
        if !capabilities.serverHistory, book.contents == nil {
            // The history is built from the thread's files, which this load did not bring.
            _ = reload(book)
            return false
        }
        let attempt = message.attempts.count + 1
        append(book, .daemon, .attempt(message: message.id, requestID: requestID, attempt: attempt))
        let run = runID(book, message: message)
        var outgoing = OutgoingMessage(
            thread: book.id, threadTitle: book.meta.title ?? book.id, runtimeThreadID: book.state.runtimeThreadID,
            message: message.id, requestID: requestID, agent: agentName, content: content, run: run,
            history: capabilities.serverHistory ? [] : history(book, before: message.id))
        outgoing.sharedState = lastSharedState(book)
        if var active = behind {
            active.queuedSend = message.id
            book.active = active
            enqueue(
                .send(
                    runtime: runtimeName, thread: book.id, message: message.id, attempt: attempt, outgoing: outgoing,
                    follow: false))
            return true
        }
        var active = ActiveRun(
            run: run, message: message.id, agent: agentName, runtime: runtimeName,
            reference: RunReference(run: run, runtimeThreadID: book.state.runtimeThreadID, runtimeMessageID: nil))
        active.requesting = true
        book.active = active
        enqueue(
            .send(
                runtime: runtimeName, thread: book.id, message: message.id, attempt: attempt, outgoing: outgoing,
                follow: true))
        return true
    }

    /// Asks the shell to read a thread again with its files' texts. False when it is already asked.
    func reload(_ book: ThreadMachine) -> Bool {
        guard loading[book.id] == nil else { return false }
        loading[book.id] = []
        out.loads.append(Effects.Load(thread: book.id, bodies: true))
        return true
    }

    /// " (agents with the chat scope: a, b)" or nothing when none are known.
    var agentHint: String {
        let chat = agents.filter(\.isChat).map(\.id).sorted()
        return chat.isEmpty ? "" : " (agents with the chat scope: \(chat.joined(separator: ", ")))"
    }

    /// The message's own `agent:` (from the parse at acceptance, or the file again after a restart).
    func messageAgent(_ book: ThreadMachine, _ message: MessageState) -> String? {
        guard case .operator = message.origin else { return message.agent.flatMap { $0.isEmpty ? nil : $0 } }
        return parsedMessage(book, message)?.agent
    }

    /// The text that was accepted. After a restart it is read again and must still hash to what the
    /// journal recorded; if the file changed in between, the message fails with what to do.
    func acceptedText(_ book: ThreadMachine, _ message: MessageState) -> String? {
        if let parsed = parsedMessage(book, message) { return parsed.body }
        guard book.contents != nil else {
            _ = reload(book)
            return nil
        }
        append(
            book, .daemon,
            .failed(
                message: message.id,
                reason:
                    "the file changed or disappeared after it was accepted and before it was sent, so the accepted text is gone; drop a new file to send the new text",
                attempt: nil))
        return nil
    }

    /// The accepted message, parsed: kept from acceptance, else parsed from the loaded bytes and
    /// checked against the journaled hash (nil when the file changed, is gone, or was not loaded).
    func parsedMessage(_ book: ThreadMachine, _ message: MessageState) -> OperatorMessage? {
        if let cached = book.accepted[message.id] { return cached }
        let limit = configuration.limits.messageBytes
        guard let bytes = book.contents?[message.file], SHA256Hex.digest(bytes) == message.sha256,
            let parsed = try? OperatorMessage.parse(id: message.id, bytes: bytes, maxBytes: limit)
        else { return nil }
        book.accepted[message.id] = parsed
        return parsed
    }

    /// `hello.run-2`: the run id for the next answer to `message`.
    func runID(_ book: ThreadMachine, message: MessageState) -> String {
        "\(message.id).run-\(message.runs.count + 1)"
    }

    // MARK: Outcomes

    func handle(_ outcome: Outcome) {
        switch outcome {
        case let .delivered(runtime, thread, message, attempt, accepted):
            delivered(runtime: runtime, thread: thread, message: message, attempt: attempt, accepted: accepted)
        case let .deliveryFailed(runtime, thread, message, attempt, error):
            deliveryFailed(runtime: runtime, thread: thread, message: message, attempt: attempt, error: error)
        case let .runUpdate(thread, run, update):
            runUpdate(thread: thread, run: run, update: update)
        case let .runStreamEnded(thread, run, error):
            runStreamEnded(thread: thread, run: run, error: error)
        case let .regenerateAccepted(thread, run, reference, runtime):
            regenerateAccepted(thread: thread, run: run, reference: reference, runtime: runtime)
        case let .regenerateFailed(thread, run, error):
            regenerateFailed(thread: thread, run: run, error: error)
        case let .answersDelivered(thread, run, approvals, error):
            answersDelivered(thread: thread, run: run, approvals: approvals, error: error)
        case let .abortDelivered(thread, run, error):
            abortDelivered(thread: thread, run: run, error: error)
        case let .agentsListed(runtime, result):
            agentsListed(runtime: runtime, result: result)
        case let .remoteThreads(runtime, list):
            for thread in threadsToSync(list) { enqueue(.fetchMessages(runtime: runtime, thread: thread)) }
        case let .remoteMessages(_, thread, messages):
            applyRemote(thread, messages: messages)
        case let .syncFailed(runtime, error):
            note(.warning, "could not pull from the runtime", ["runtime": runtime, "error": error.message])
        }
    }

    /// The runtime acknowledged the message: bind the thread, journal `sent`, and start recording the run.
    /// `runtime` is the one the job went to: the run ahead of a queued message may have ended by now.
    func delivered(runtime: String, thread: String, message: String, attempt: Int, accepted: Accepted) {
        let sentAt = threads[thread]?.state.message(message)?.attempts.first { $0.number == attempt }?.startedAt
        recordSuccess(runtime: runtime, sentAt: sentAt)
        // The thread may have been read again meanwhile (its journal replaced): then this attempt was
        // closed and is retried with the same key, which the runtime answers the same way.
        guard let book = threads[thread], let state = book.state.message(message), let requestID = state.requestID,
            case .sending(attempt) = state.delivery
        else { return }
        var events: [(Actor, JournalEvent)] = []
        if let runtimeThread = accepted.runtimeThreadID, book.state.runtimeThreadID != runtimeThread {
            events.append((.runtime, .threadBound(runtimeThreadID: runtimeThread)))
        }
        events.append(
            (
                .runtime,
                .sent(message: message, requestID: requestID, attempt: attempt, runtimeID: accepted.runtimeMessageID)
            ))
        append(book, events)
        book.accepted[message] = nil
        delivered += 1
        note(.info, "delivered", ["thread.id": thread, "message.id": message, "attempt": "\(attempt)"])
        switch book.phase {
        case var .running(active) where active.queuedSend == message:
            // Queued behind the active run, and followed when that one ends.
            active.queuedSend = nil
            book.active = active
            schedule()
        case .acknowledging(message):
            book.phase = .idle  // the run ahead ended meanwhile: its own run is followed now
            schedule()
        case var .running(active) where active.message == message:
            active.reference = accepted.reference
            book.active = active
        default:
            break
        }
    }

    /// An attempt failed: retry later, pause, or fail the message, as the error says.
    func deliveryFailed(runtime: String, thread: String, message: String, attempt: Int, error: RuntimeError) {
        guard let book = threads[thread] else { return }
        switch book.phase {
        case var .running(active) where active.queuedSend == message:
            active.queuedSend = nil  // the run in progress goes on
            book.active = active
        case .acknowledging(message):
            book.phase = .idle
        case let .running(active) where active.message == message && active.requesting:
            book.phase = .idle
        default:
            break
        }
        guard case .sending(attempt) = book.state.message(message)?.delivery else { return }
        switch error.kind {
        case let .transient(retryAfter):
            recordFailure(runtime: runtime, reason: error.message)
            let acceptedAt = book.state.message(message)?.acceptedAt ?? now.wall
            let age = now.wall.milliseconds - acceptedAt.milliseconds
            switch retry.decide(attempt: attempt, ageMilliseconds: age, retryAfterSeconds: retryAfter, unit: now.random)
            {
            case let .retry(delay):
                let notBefore = now.wall.adding(milliseconds: delay)
                let hint = retryAfter.map { " (Retry-After: \(Int($0.rounded())) s)" } ?? ""
                append(
                    book, .daemon,
                    .retryScheduled(
                        message: message, attempt: attempt, reason: error.message + hint, notBefore: notBefore))
                wake(in: delay)
            case .giveUp:
                let limit =
                    retry.maxAttempts.map { attempt >= $0 } == true
                    ? "delivery.retry.max_attempts" : "delivery.retry.max_age_seconds"
                commitPoint(book, "delivery of \(book.state.message(message)?.file ?? message) failed")
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
            commitPoint(book, "delivery of \(book.state.message(message)?.file ?? message) failed")
        case .cancelled:
            // Shutting down: the attempt stays open and the next start retries it with the same key.
            return
        }
        note(.info, "delivery failed", ["thread.id": thread, "message.id": message, "error": error.message])
        schedule()
    }

    // MARK: Health

    /// A request to `runtime` succeeded: a pause for the token and a degraded state end at once, also
    /// those an earlier daemon journaled, so the status never stays stale. A request sent at `sentAt`,
    /// before the pause began, does not end it: its answer says nothing about the token now.
    func recordSuccess(runtime: String, sentAt: Timestamp? = nil) {
        guard var state = health[runtime] else { return }
        state.probing = false
        let stale = state.authPause.map { pause in sentAt.map { $0 <= pause.since } ?? false } ?? false
        if (state.authPause != nil || state.journaledAuthFailing) && !stale {
            state.authPause = nil
            for name in health.keys { health[name]?.journaledAuthFailing = false }
            appendInbox(.daemon, .authRecovered)
            note(.notice, "the runtime accepts the token again", ["runtime": runtime])
        }
        if state.breaker.recordSuccess() == .recovered || state.journaledDegraded {
            for name in health.keys { health[name]?.journaledDegraded = false }
            appendInbox(.daemon, .runtimeRecovered)
            note(.notice, "runtime recovered", ["runtime": runtime])
        }
        state.journaledDegraded = false
        state.journaledAuthFailing = false
        health[runtime] = state
    }

    func recordFailure(runtime: String, reason: String) {
        guard var state = health[runtime] else { return }
        state.probing = false
        if state.breaker.recordFailure(now: now.wall) == .degraded {
            appendInbox(
                .daemon, .runtimeDegraded(reason: "\(state.breaker.threshold) failures in a row; last: \(reason)"))
            note(.warning, "runtime degraded", ["runtime": runtime, "reason": reason])
        }
        health[runtime] = state
    }

    /// Pauses all delivery to `runtime` until it accepts the token; returns when the next probe goes.
    func pauseForAuthentication(runtime: String, reason: String) -> Timestamp {
        var state = health[runtime] ?? RuntimeHealth(breaker: CircuitBreaker(configuration.delivery.breaker))
        let backoff = min(60_000, (state.authPause?.backoffMilliseconds ?? 1000) * 2)
        let retryAt = now.wall.adding(milliseconds: backoff)
        if state.authPause == nil && !state.journaledAuthFailing {
            appendInbox(.daemon, .authFailed(reason: reason))
            note(.error, "the runtime refuses the token; delivery is paused", ["runtime": runtime])
        }
        state.authPause = RuntimeHealth.AuthPause(
            reason: reason, since: state.authPause?.since ?? now.wall, retryAt: retryAt, backoffMilliseconds: backoff)
        state.journaledAuthFailing = false
        state.probing = false
        health[runtime] = state
        wake(in: backoff)
        return retryAt
    }

    // MARK: Agents

    /// A runtime listed its agents: keep them (with the configured ones) and journal a change.
    func agentsListed(runtime: String, result: Result<[RuntimeAgent], RuntimeError>) {
        switch result {
        case let .success(list):
            agentsListed.insert(runtime)
            agentListRetry[runtime] = nil
            agents.removeAll { agent in
                agent.runtime == runtime && !configuration.agents.contains { $0.id == agent.id }
            }
            agents += list.filter { listed in !agents.contains { $0.id == listed.id } }
            agents.sort { $0.id < $1.id }
            let detail = DetailJSON.array(
                agents.map { agent in
                    .object([
                        "id": .string(agent.id), "name": .string(agent.name ?? agent.id),
                        "scopes": .array(agent.scopes.map(DetailJSON.string)), "runtime": .string(agent.runtime),
                    ])
                }
            ).text
            if inboxState.agents != detail { appendInbox(.daemon, .agentsListed(detail: detail)) }
            recordSuccess(runtime: runtime, sentAt: agentListAskedAt[runtime])
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
            note(
                .warning, "could not list the runtime's agents; trying again",
                ["runtime": runtime, "error": error.message])
        }
        schedule()
    }

    /// Asks again for a runtime's agents, with backoff (2 s doubling to `delivery.retry.max_ms`).
    private func retryAgentList(_ runtime: String) {
        let backoff = min(Int64(retry.maxMilliseconds), max(2000, (agentListRetry[runtime]?.backoff ?? 1000) * 2))
        let at = now.moment.adding(milliseconds: backoff)
        agentListRetry[runtime] = (at, backoff)
        wake(at: at)
    }

    /// Timer: agent lists whose retry is due are asked for again.
    func retryAgentLists() {
        for (runtime, retry) in agentListRetry {
            guard let at = retry.at, at <= now.moment else { continue }
            agentListRetry[runtime]?.at = nil  // one request at a time
            askForAgents(runtime)
        }
    }

    func askForAgents(_ runtime: String) {
        agentListAskedAt[runtime] = now.wall
        enqueue(.listAgents(runtime: runtime))
    }

    /// `90 s`, `3 min`, `2 h`: a duration for messages.
    static func duration(milliseconds: Int64) -> String {
        let seconds = milliseconds / 1000
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h"
    }

    // MARK: Approvals

    /// The operator decided on an approval (file or control): journal it, bring the file's front
    /// matter up to date, and send it.
    func answer(
        _ book: ThreadMachine, approval id: String, decision: Decision, note: String?, file: String?,
        arguments: String? = nil
    ) {
        guard let approval = book.state.approval(id), approval.isPending else { return }
        append(
            book, .operator,
            .approvalAnswered(approval: id, decision: decision, note: note, file: file, arguments: arguments))
        commitPoint(book, "\(decision.rawValue) \(approval.file)")
        syncApprovalStatus(book, id: id)
        sendAnswers(book)
    }

    /// Rewrites the front matter `status` of an approval file (a file the daemon wrote) to what the
    /// journal says: `approved`, `rejected`, `expired`, ... The operator's body is kept as it is.
    /// When the machine does not hold the file's text (a CLI answer after a restart), it asks to read
    /// it; `approvalFile` then comes back here.
    func syncApprovalStatus(_ book: ThreadMachine, id: String) {
        guard let approval = book.state.approval(id), book.knownFiles.contains(approval.file) else { return }
        guard let text = book.approvalTexts[id] else {
            book.approvalStatusReads.insert(id)
            out.reads[book.id, default: []].append(approval.file)
            return
        }
        guard let updated = ApprovalForm.withStatus(text, status: approval.fileStatus) else { return }
        let bytes = Array(updated.utf8)
        writeFile(book, approval.file, bytes, .replaceDurably)
        book.approvalHashes[id] = SHA256Hex.digest(bytes)
        book.approvalTexts[id] = updated
    }

    /// Asks for a `tick` when an approval of `book` expires.
    func wakeForExpiry(_ book: ThreadMachine, _ expiresAt: Timestamp) {
        expiringThreads.insert(book.id)
        wake(at: now.moment.adding(milliseconds: max(0, expiresAt.milliseconds - now.wall.milliseconds)))
    }

    /// Approvals whose `expires_at` passed unanswered are journaled as expired (they can only be
    /// cancelled from now on) and their files say so.
    func expireApprovals() {
        for thread in expiringThreads.sorted() {
            guard let book = threads[thread] else {
                expiringThreads.remove(thread)
                continue
            }
            var waiting = false
            for approval in book.state.pendingApprovals where !approval.expired {
                guard let expiresAt = approval.expiresAt else { continue }
                if expiresAt <= now.wall {
                    append(book, .daemon, .approvalExpired(approval: approval.id))
                    note(.info, "approval expired", ["thread.id": book.id, "approval": approval.id])
                    syncApprovalStatus(book, id: approval.id)
                } else {
                    waiting = true
                    wake(at: now.moment.adding(milliseconds: expiresAt.milliseconds - now.wall.milliseconds))
                }
            }
            if !waiting { expiringThreads.remove(thread) }
        }
    }

    /// Sends answered approvals of the active run. Runtimes that resume with a new request (AG-UI) get
    /// every answer at once, after the last pending one is answered.
    func sendAnswers(_ book: ThreadMachine) {
        guard let active = book.active, let run = book.state.runs[active.run],
            let capabilities = capabilities(of: active.runtime)
        else { return }
        let unsent = run.approvals.filter { $0.answer != nil && !$0.delivered }
        guard !unsent.isEmpty else { return }
        if capabilities.resumesWithAnswers && run.approvals.contains(where: \.isPending) { return }
        let answers = unsent.compactMap { approval -> ApprovalAnswer? in
            guard let answer = approval.answer, let runtimeID = approval.runtimeID else { return nil }
            if answer.decision == .cancel {
                return .withdrawal(of: runtimeID, toolCallID: approval.toolCall)
            }
            return ApprovalAnswer(
                runtimeID: runtimeID, decision: answer.decision, note: answer.note, toolCallID: approval.toolCall,
                arguments: answer.arguments)
        }
        guard !book.answersInFlight, book.answersRetryAt.map({ $0 <= now.moment }) ?? true,
            let message = book.state.message(run.message),
            let outgoing = outgoingForRun(book, message: message, run: active.run)
        else { return }
        book.answersInFlight = true
        book.answersRetryAt = nil
        enqueue(
            .answer(
                runtime: active.runtime, thread: book.id, run: active.run, answers: answers,
                reference: active.reference, outgoing: outgoing))
    }

    /// The runtime took the answers (or did not).
    func answersDelivered(thread: String, run: String, approvals runtimeIDs: [String], error: RuntimeError?) {
        guard let book = threads[thread], let state = book.state.runs[run] else { return }
        book.answersInFlight = false
        if let error {
            note(.warning, "could not send an approval answer", ["thread.id": thread, "error": error.message])
            switch error.kind {
            case .transient, .authentication:
                // Answering is idempotent (same decision again is a no-op), so it is simply sent again.
                book.answersRetryAt = now.moment.adding(milliseconds: 2000)
                wake(in: 2000)
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
    }

    /// The thread's shared state as the newest run that had one left it (AG-UI `STATE_*`).
    func lastSharedState(_ book: ThreadMachine) -> String? {
        book.state.runs.values.filter { $0.sharedState != nil }
            .max { ($0.startedAt.milliseconds, $0.id) < ($1.startedAt.milliseconds, $1.id) }?.sharedState
    }

    /// The outgoing message for a run (for runtimes that resend history with each request).
    func outgoingForRun(_ book: ThreadMachine, message: MessageState, run: String) -> OutgoingMessage? {
        let content = parsedMessage(book, message)?.body ?? body(book, message.file)
        let agent = book.state.runs[run]?.agent ?? message.agent ?? ""
        let capabilities = capabilities(of: runtimeName(forAgent: agent))
        var outgoing = OutgoingMessage(
            thread: book.id, threadTitle: book.meta.title ?? book.id, runtimeThreadID: book.state.runtimeThreadID,
            message: message.id, requestID: message.requestID ?? "", agent: agent, content: content, run: run,
            history: capabilities?.serverHistory == false ? history(book, before: message.id) : [])
        outgoing.sharedState = lastSharedState(book)
        if let state = book.state.runs[run] {
            let text = book.active?.run == run ? (book.active?.text ?? "") : ReplyBody(body(book, state.file)).text
            let calls = state.toolCalls.map {
                ToolCallSummary(id: $0.id, name: $0.tool, arguments: ToolRecord(body(book, $0.file)).arguments)
            }
            outgoing.runSoFar = [
                HistoryItem(role: .assistant, id: state.runtimeID ?? run, content: text, toolCalls: calls)
            ]
            for call in state.toolCalls {
                if let result = ToolRecord(body(book, call.file)).result {
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
    func abortRun(_ book: ThreadMachine, target: String?) -> ControlOutcome {
        guard var active = book.active, book.state.runs[active.run].map({ !$0.status.isFinished }) ?? true else {
            return .failure("nothing is running in this thread")
        }
        if let target, target != active.run, target != active.message,
            target != active.file.map({ String($0.dropLast(3)) })
        {
            return .failure("'\(target)' is not the running reply (\(active.run))")
        }
        guard let capabilities = capabilities(of: active.runtime), capabilities.abort else {
            return .failure("the runtime '\(active.runtime)' does not support abort")
        }
        if book.state.runs[active.run] != nil { append(book, .operator, .abortRequested(run: active.run)) }
        active.abortRequested = true
        book.active = active
        out.cancels.append(RunKey(thread: book.id, run: active.run))
        enqueue(
            .abort(
                runtime: active.runtime, thread: book.id, run: active.run, reference: active.reference,
                withdraw: withdrawal(book, active: active, capabilities: capabilities)))
        return .success(DetailJSON.object(["run": .string(active.run)]).text)
    }

    /// For a run that waits for approval on a runtime that resumes with a new request (AG-UI): every
    /// request not yet sent, withdrawn, so the runtime closes them. Left open, they would make the
    /// thread's next message an error ("interrupts pending").
    func withdrawal(_ book: ThreadMachine, active: ActiveRun, capabilities: RuntimeCapabilities) -> Withdrawal? {
        guard capabilities.resumesWithAnswers, let run = book.state.runs[active.run],
            run.status == .awaitingApproval, let message = book.state.message(run.message),
            let outgoing = outgoingForRun(book, message: message, run: run.id)
        else { return nil }
        let answers = run.approvals.filter { !$0.delivered }.compactMap { approval in
            approval.runtimeID.map { ApprovalAnswer.withdrawal(of: $0, toolCallID: approval.toolCall) }
        }
        return answers.isEmpty ? nil : Withdrawal(answers: answers, outgoing: outgoing)
    }

    /// Starts a regenerated answer for `message` (its earlier answers are kept).
    func startRegenerate(_ book: ThreadMachine, message: MessageState) -> Bool {
        let agent = message.agent ?? book.meta.agent ?? defaultAgent ?? ""
        let runtimeName = runtimeName(forAgent: agent)
        guard health[runtimeName]?.allowsRequest(now: now.wall) ?? true else { return false }
        if capabilities(of: runtimeName)?.serverHistory == false, book.contents == nil {
            _ = reload(book)
            return false
        }
        let run = runID(book, message: message)
        guard let outgoing = outgoingForRun(book, message: message, run: run) else { return false }
        let previous = RunReference(
            run: message.runs.last ?? "", runtimeThreadID: book.state.runtimeThreadID,
            runtimeMessageID: message.runtimeID,
            excludedRuntimeIDs: earlierReplyIDs(book, message: message, excluding: ""))
        if let retryAt = book.regenerateRetryAt, retryAt > now.moment {
            wake(at: retryAt)
            return false
        }
        var active = ActiveRun(run: run, message: message.id, agent: agent, runtime: runtimeName, reference: previous)
        active.requesting = true
        book.active = active
        enqueue(.regenerate(runtime: runtimeName, thread: book.id, run: run, outgoing: outgoing, previous: previous))
        return true
    }

    /// The runtime accepted a regenerate request; the new run's updates follow.
    func regenerateAccepted(thread: String, run: String, reference: RunReference, runtime: String) {
        guard let book = threads[thread], var active = book.active, active.run == run else { return }
        active.reference = reference
        book.active = active
        recordSuccess(runtime: runtime)
    }

    /// A regenerate request failed before any run started: transient failures are retried with
    /// backoff; anything else (or too many) is journaled as `regenerate_failed`, keeping the old answers.
    func regenerateFailed(thread: String, run: String, error: RuntimeError) {
        guard let book = threads[thread], let active = book.active, active.run == run else { return }
        let message = active.message
        let runtime = active.runtime
        book.phase = .idle
        let failures = book.regenerateFailures[message, default: 0] + 1
        book.regenerateFailures[message] = failures
        switch error.kind {
        case let .transient(retryAfter):
            recordFailure(runtime: runtime, reason: error.message)
            // A regenerate has no message age to go by: it gives up after as many tries as a day of
            // backoff at the maximum would take.
            let age = Int64(failures - 1) * Int64(retry.maxMilliseconds)
            if case let .retry(delay) = retry.decide(
                attempt: failures, ageMilliseconds: age, retryAfterSeconds: retryAfter, unit: now.random)
            {
                book.regenerateRetryAt = now.moment.adding(milliseconds: delay)
                wake(in: delay)
                return
            }
        case .authentication:
            _ = pauseForAuthentication(runtime: runtime, reason: error.message)
            return
        case .cancelled:
            return
        case .rejected, .unsupported, .protocolViolation:
            break
        }
        book.regenerateFailures[message] = nil
        book.regenerateRetryAt = nil
        append(book, .daemon, .regenerateFailed(message: message, reason: error.message))
        schedule()
    }

    // MARK: History

    /// The conversation before `message`, for runtimes that need it resent each time: operator messages
    /// that were sent, and each one's latest complete answer with its tool calls.
    func history(_ book: ThreadMachine, before message: String) -> [HistoryItem] {
        var items: [HistoryItem] = []
        for earlier in book.state.messages {
            if earlier.id == message { break }
            guard earlier.acceptedAt != nil, earlier.delivery == .sent || earlier.delivery == .replied else { continue }
            let text: String
            if case .remote = earlier.origin {
                text = body(book, earlier.file)
            } else {
                text = book.accepted[earlier.id]?.body ?? parsedBody(book, earlier)
            }
            items.append(HistoryItem(role: .user, id: earlier.runtimeID ?? earlier.id, content: text))
            guard let run = book.state.runs(of: earlier).last(where: { $0.status == .complete }) else { continue }
            let records = run.toolCalls.map { ToolRecord(body(book, $0.file)) }
            let calls = zip(run.toolCalls, records).map { call, record in
                ToolCallSummary(id: call.id, name: call.tool, arguments: record.arguments)
            }
            if !calls.isEmpty {
                items.append(HistoryItem(role: .assistant, id: run.id + "-tools", content: "", toolCalls: calls))
                for (call, record) in zip(run.toolCalls, records) {
                    items.append(
                        HistoryItem(
                            role: .tool, id: run.id + "-" + call.id, content: record.result ?? "", toolCallID: call.id))
                }
            }
            items.append(
                HistoryItem(
                    role: .assistant, id: run.runtimeID ?? run.id, content: ReplyBody(body(book, run.file)).text))
        }
        return items
    }

    /// An operator message's text as it was accepted (or as the file says now, if it changed).
    private func parsedBody(_ book: ThreadMachine, _ message: MessageState) -> String {
        if let bytes = book.contents?[message.file],
            let parsed = try? OperatorMessage.parse(
                id: message.id, bytes: bytes, maxBytes: configuration.limits.messageBytes)
        {
            return parsed.body
        }
        return body(book, message.file)
    }
}
