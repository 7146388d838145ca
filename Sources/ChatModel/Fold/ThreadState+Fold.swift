/// The fold: how each journal line changes a thread's state (docs/format.md §7.5).
///
/// `apply` refuses lines that cannot happen in that order, naming the line, so a hand-edited or
/// corrupted journal is reported instead of producing a state that never existed.
extension ThreadState {
    /// Folds `entries` (one thread journal, in order) into a state.
    public static func fold(_ entries: some Sequence<JournalEntry>, thread: String) throws(FormatError) -> ThreadState {
        var state = ThreadState(id: thread)
        for entry in entries { try state.apply(entry) }
        return state
    }

    /// Applies one line. Throws, naming the line's seq, when the line cannot follow what came before.
    public mutating func apply(_ entry: JournalEntry) throws(FormatError) {
        func fail(_ message: String) -> FormatError {
            FormatError(.fold, "\(entry.event.name) cannot happen here: \(message)", line: entry.seq)
        }
        guard entry.seq > lastSeq else { throw fail("seq \(entry.seq) is not after \(lastSeq)") }
        let ts = entry.ts

        switch entry.event {
        case let .detected(id, file, sha256):
            if let index = messageIndex[id] {
                guard messages[index].acceptedAt == nil else { throw fail("message '\(id)' was already accepted") }
                messages[index].sha256 = sha256
                messages[index].file = file
            } else {
                messageIndex[id] = messages.count
                messages.append(
                    MessageState(
                        id: id, file: file, origin: .operator, sha256: sha256, delivery: .queued, detectedAt: ts))
            }
            rejected[file] = nil

        case let .remoteMessage(id, file, runtimeID):
            guard messageIndex[id] == nil else { throw fail("message '\(id)' already exists") }
            messageIndex[id] = messages.count
            var message = MessageState(
                id: id, file: file, origin: .remote(runtimeID: runtimeID), sha256: "", delivery: .sent, detectedAt: ts)
            message.runtimeID = runtimeID
            message.acceptedAt = ts
            messages.append(message)

        case let .accepted(id, requestID, agent, sha256):
            try updateMessage(id, fail) { message throws(FormatError) in
                guard message.acceptedAt == nil else { throw fail("message '\(id)' was already accepted") }
                message.acceptedAt = ts
                message.requestID = requestID
                message.agent = agent
                message.sha256 = sha256
                message.delivery = .queued
            }

        case let .rejected(file, reason, sha256):
            rejected[file] = RejectedFile(file: file, reason: reason, sha256: sha256, at: ts)

        case let .attempt(id, requestID, number):
            try updateMessage(id, fail) { message throws(FormatError) in
                guard message.acceptedAt != nil, message.requestID == requestID else {
                    throw fail("message '\(id)' was not accepted with key \(requestID)")
                }
                switch message.delivery {
                case .queued, .retrying: break
                default: throw fail("message '\(id)' is \(message.delivery.name), not waiting to be sent")
                }
                guard number == message.attempts.count + 1 else {
                    throw fail("attempt \(number) follows attempt \(message.attempts.count)")
                }
                message.attempts.append(AttemptRecord(number: number, startedAt: ts))
                message.delivery = .sending(attempt: number)
            }

        case let .sent(id, requestID, number, runtimeID):
            try updateMessage(id, fail) { message throws(FormatError) in
                guard case .sending(number) = message.delivery, message.requestID == requestID else {
                    throw fail("message '\(id)' has no attempt \(number) in flight")
                }
                message.attempts[number - 1].outcome = .sent(runtimeID: runtimeID)
                message.attempts[number - 1].endedAt = ts
                message.runtimeID = runtimeID
                message.delivery = .sent
            }

        case let .retryScheduled(id, number, reason, notBefore):
            try updateMessage(id, fail) { message throws(FormatError) in
                guard case .sending(number) = message.delivery else {
                    throw fail("message '\(id)' has no attempt \(number) in flight")
                }
                message.attempts[number - 1].outcome = .retry(reason: reason, notBefore: notBefore)
                message.attempts[number - 1].endedAt = ts
                message.delivery = .retrying(attempt: number, notBefore: notBefore, reason: reason)
            }

        case let .failed(id, reason, number):
            try updateMessage(id, fail) { message throws(FormatError) in
                guard message.acceptedAt != nil else { throw fail("message '\(id)' was never accepted") }
                switch message.delivery {
                case .queued, .retrying: break
                case let .sending(current):
                    guard number == nil || number == current else {
                        throw fail("attempt \(number ?? 0) is not in flight")
                    }
                    message.attempts[current - 1].outcome = .failed(reason: reason)
                    message.attempts[current - 1].endedAt = ts
                default: throw fail("message '\(id)' is already \(message.delivery.name)")
                }
                message.delivery = .failed(reason: reason)
            }

        case let .retryRequested(id):
            try updateMessage(id, fail) { message throws(FormatError) in
                guard case .failed = message.delivery else { throw fail("message '\(id)' has not failed") }
                message.delivery = .queued
            }

        case let .editedAfterSend(id, _, sha256):
            try updateMessage(id, fail) { message throws(FormatError) in
                guard message.acceptedAt != nil else { throw fail("message '\(id)' was never accepted") }
                message.edits.append(EditRecord(at: ts, sha256: sha256))
            }

        case let .threadBound(runtimeThreadID):
            self.runtimeThreadID = runtimeThreadID

        case let .replyStarted(run, id, file, agent, runtimeID):
            guard runs[run] == nil else { throw fail("run '\(run)' already started") }
            guard activeRun == nil else { throw fail("run '\(activeRun?.id ?? "")' is still in flight") }
            try updateMessage(id, fail) { message throws(FormatError) in
                guard message.delivery.acceptsReply else {
                    throw fail("message '\(id)' is \(message.delivery.name), not sent")
                }
                message.runs.append(run)
                message.regeneratePending = false
                message.regenerateError = nil
                message.delivery = .sent
            }
            runs[run] = RunState(
                id: run, message: id, file: file, agent: agent, runtimeID: runtimeID, status: .streaming, startedAt: ts)

        case let .replyCompleted(run, _, sha256, detail):
            try finishRun(run, at: ts, fail) { state in
                state.status = .complete
                state.sha256 = sha256
                state.detail = detail
            }
            if let id = runs[run]?.message, let index = messageIndex[id], messages[index].runs.last == run {
                messages[index].delivery = .replied
            }

        case let .replyAborted(run, _, reason):
            try finishRun(run, at: ts, fail) { state in
                state.status = .aborted
                state.reason = reason
            }

        case let .replyErrored(run, _, reason):
            try finishRun(run, at: ts, fail) { state in
                state.status = .errored
                state.reason = reason
            }

        case let .toolCall(run, toolCall, tool, file, status, runtimeID):
            guard runs[run] != nil else { throw fail("run '\(run)' never started") }
            let record = ToolCallRecord(
                id: toolCall, tool: tool, file: file, status: status, at: ts, runtimeID: runtimeID)
            if let index = runs[run]?.toolCalls.firstIndex(where: { $0.id == toolCall }) {
                runs[run]?.toolCalls[index] = record
            } else {
                runs[run]?.toolCalls.append(record)
            }

        case let .state(run, detail):
            guard runs[run] != nil else { throw fail("run '\(run)' never started") }
            runs[run]?.sharedState = detail

        case let .custom(run, detail):
            guard runs[run] != nil else { throw fail("run '\(run)' never started") }
            runs[run]?.customEvents.append(detail)

        case let .approvalRequested(
            approval, run, file, toolCall, tool, runtimeID, decisions, expiresAt, schema, digest):
            guard let state = runs[run], !state.status.isFinished else { throw fail("run '\(run)' is not in flight") }
            guard approvalRun[approval] == nil else { throw fail("approval '\(approval)' was already requested") }
            approvalRun[approval] = run
            runs[run]?.approvals.append(
                ApprovalState(
                    id: approval, run: run, file: file, toolCall: toolCall, tool: tool, requestedAt: ts,
                    runtimeID: runtimeID, decisions: decisions, expiresAt: expiresAt, schema: schema,
                    argumentsSHA256: digest))
            runs[run]?.status = .awaitingApproval

        case let .approvalAnswered(approval, decision, note, file, arguments):
            try updateApproval(approval, fail) { state throws(FormatError) in
                guard state.answer == nil else { throw fail("approval '\(approval)' was already answered") }
                state.answer = .init(decision: decision, note: note, at: ts, file: file, arguments: arguments)
            }

        case let .approvalExpired(approval):
            try updateApproval(approval, fail) { state throws(FormatError) in
                guard state.answer == nil else { throw fail("approval '\(approval)' was already answered") }
                state.expired = true
            }

        case let .approvalAnswerInvalid(approval, reason):
            try updateApproval(approval, fail) { state throws(FormatError) in state.invalidAnswers.append(reason) }

        case .approvalEditedAfterAnswer(let approval, _):
            try updateApproval(approval, fail) { state throws(FormatError) in
                guard state.answer != nil else { throw fail("approval '\(approval)' was not answered") }
                state.ignoredEdits += 1
            }

        case let .approvalSent(approval, _):
            try updateApproval(approval, fail) { state throws(FormatError) in
                guard state.answer != nil else { throw fail("approval '\(approval)' was not answered") }
                state.delivered = true
            }
            if let run = approvalRun[approval], let state = runs[run], state.status == .awaitingApproval,
                !state.approvals.contains(where: { !$0.delivered })
            {
                runs[run]?.status = .streaming
            }

        case let .regenerateRequested(id):
            try updateMessage(id, fail) { message throws(FormatError) in
                guard !message.runs.isEmpty else { throw fail("message '\(id)' has no reply to regenerate") }
                message.regeneratePending = true
            }

        case let .regenerateFailed(id, reason):
            try updateMessage(id, fail) { message throws(FormatError) in
                guard message.regeneratePending else { throw fail("message '\(id)' has no regenerate pending") }
                message.regeneratePending = false
                message.regenerateError = reason
            }

        case let .abortRequested(run):
            guard let state = runs[run], !state.status.isFinished else { throw fail("run '\(run)' is not in flight") }
            runs[run]?.abortRequested = true

        case let .control(file, outcome, reason, _):
            controls.append(ControlRecord(file: file, outcome: outcome, reason: reason, at: ts))

        case .journalRepaired:
            break

        case .inboxCreated, .agentsListed, .daemonStarted, .daemonStopped, .config, .authFailed, .authRecovered,
            .runtimeDegraded,
            .runtimeRecovered, .anchor:
            throw fail("it belongs in the inbox journal, not a thread journal")
        }
        lastSeq = entry.seq
        lastHash = entry.hash
        lastActivity = ts
    }

    private mutating func updateMessage(
        _ id: String, _ fail: (String) -> FormatError, _ change: (inout MessageState) throws(FormatError) -> Void
    ) throws(FormatError) {
        guard let index = messageIndex[id] else { throw fail("message '\(id)' was never detected") }
        try change(&messages[index])
    }

    private mutating func finishRun(
        _ run: String, at ts: Timestamp, _ fail: (String) -> FormatError, _ change: (inout RunState) -> Void
    ) throws(FormatError) {
        guard var state = runs[run] else { throw fail("run '\(run)' never started") }
        guard !state.status.isFinished else { throw fail("run '\(run)' already ended as \(state.status.rawValue)") }
        change(&state)
        state.endedAt = ts
        runs[run] = state
    }

    private mutating func updateApproval(
        _ id: String, _ fail: (String) -> FormatError, _ change: (inout ApprovalState) throws(FormatError) -> Void
    ) throws(FormatError) {
        guard let run = approvalRun[id], let index = runs[run]?.approvals.firstIndex(where: { $0.id == id }),
            var approval = runs[run]?.approvals[index]
        else { throw fail("approval '\(id)' was never requested") }
        try change(&approval)
        runs[run]?.approvals[index] = approval
    }
}
