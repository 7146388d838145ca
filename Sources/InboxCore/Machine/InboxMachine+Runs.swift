import ChatModel

/// Runs: a reply as it arrives, its tool calls and approvals, and how it ends (docs/format.md §6).
extension InboxMachine {
    /// How often a streaming reply's file is rewritten at most, in milliseconds.
    static let snapshotInterval: Int64 = 250

    /// One update from a run's worker.
    func runUpdate(thread: String, run: String, update: RunUpdate) {
        guard let book = threads[thread], var active = book.active, active.run == run, book.problem == nil else {
            return
        }
        // A worker reports a run only after its request was acknowledged, so a reply starts only for a
        // message the journal has as sent (or replied, for a regenerate). Updates that find it otherwise
        // come from a request the machine stopped waiting for (the thread was read again and the attempt
        // closed, to be retried with the same key): the retry's own updates record the run.
        if active.file == nil, book.state.message(active.message)?.delivery.acceptsReply != true { return }
        if case .finished(let end) = update {
            finish(book, end: end)
            return
        }
        ensureStarted(book, &active)
        switch update {
        case let .text(text):
            guard text != active.text else { break }
            active.text = text
            active.dirty = true
        case let .reasoning(text):
            active.reasoning = text
            active.dirty = true
        case let .replyID(id):
            active.replyRuntimeID = id
        case let .toolCall(call):
            recordToolCall(book, &active, call)
        case let .approval(request):
            recordApproval(book, &active, request)
        case let .state(json):
            append(book, .runtime, .state(run: run, detail: json))
        case let .custom(json):
            append(book, .runtime, .custom(run: run, detail: json))
        case .finished:
            break
        }
        book.active = active
        if book.active?.dirty == true { flushReply(book, force: false) }
    }

    /// Journals `reply_started` and writes the first version of the reply file, once per run.
    func ensureStarted(_ book: ThreadMachine, _ active: inout ActiveRun) {
        guard active.file == nil else { return }
        let message = active.message
        let known = Set(book.state.runs.values.map(\.file))
        var index = (book.state.message(message)?.runs.count ?? 0) + 1
        var file = FileKind.replyID(message: message, index: index) + ".md"
        while book.knownFiles.contains(file) || known.contains(file) {
            index += 1
            file = FileKind.replyID(message: message, index: index) + ".md"
        }
        active.file = file
        active.requesting = false
        append(
            book, .runtime,
            .replyStarted(
                run: active.run, message: message, file: file, agent: active.agent, runtimeID: active.replyRuntimeID))
        writeReply(book, active, status: "streaming", mode: .create)
        active.lastFlush = now.moment
        active.dirty = false
    }

    /// Rewrites the streaming reply if it is behind and the last rewrite is old enough, else makes
    /// sure a tick will.
    func flushReply(_ book: ThreadMachine, force: Bool) {
        guard var active = book.active, active.dirty, active.file != nil else { return }
        let due = (active.lastFlush ?? now.moment).adding(milliseconds: Self.snapshotInterval)
        guard force || now.moment >= due else {
            wake(at: due)
            return
        }
        writeReply(book, active, status: "streaming", mode: .replace)
        active.lastFlush = now.moment
        active.dirty = false
        book.active = active
        out.siteChanged.insert(book.id)
    }

    /// Timer: rewrite every streaming reply that is due; send answers whose retry is due.
    func flushReplies() {
        for book in threads.values where book.active?.dirty == true {
            flushReply(book, force: false)
        }
        for book in threads.values where book.active != nil { sendAnswers(book) }
    }

    /// The reply file: front matter, the text, and the reasoning after a marker the site folds away.
    func writeReply(
        _ book: ThreadMachine, _ active: ActiveRun, status: String, mode: FileWrite.Mode, beforeLines: Bool = false
    ) {
        guard let file = active.file else { return }
        let body = ReplyBody(text: active.text, reasoning: active.reasoning.isEmpty ? nil : active.reasoning).markdown
        let created = book.state.runs[active.run]?.startedAt ?? now.wall
        var extra: [(String, String)] = []
        if let id = active.replyRuntimeID { extra.append(("runtime-id", id)) }
        let document = DaemonFile(
            id: String(file.dropLast(3)), role: .assistant, agent: active.agent, inReplyTo: active.message,
            run: active.run, created: created, status: status, extra: extra, body: body)
        let bytes = Array(document.text.utf8)
        writeFile(book, file, bytes, mode, beforeLines: beforeLines)
        book.knownFiles.insert(file)
        if mode != .replace { remember(book, file, bytes: bytes) }
    }

    private func recordToolCall(_ book: ThreadMachine, _ active: inout ActiveRun, _ call: ToolCallUpdate) {
        guard let reply = active.file.map({ String($0.dropLast(3)) }) else { return }
        let status = call.result == nil ? "pending" : "complete"
        let previous = active.toolCalls[call.id]
        active.toolCalls[call.id] = call
        let file: String
        if let known = active.toolFiles[call.id] {
            file = known
        } else {
            var index = active.toolFiles.count + 1
            let taken = Set(active.toolFiles.values)
            while taken.contains("\(reply).tool-\(index).md") || book.knownFiles.contains("\(reply).tool-\(index).md") {
                index += 1
            }
            file = "\(reply).tool-\(index).md"
            active.toolFiles[call.id] = file
        }
        let statusChanged = previous == nil || (previous?.result == nil) != (call.result == nil)
        if statusChanged {
            append(
                book, .runtime,
                .toolCall(
                    run: active.run, toolCall: call.id, tool: call.name, file: file, status: status,
                    runtimeID: call.runtimeID))
        }
        writeToolRecord(book, active, call, file: file, status: status, create: previous == nil)
    }

    /// Tool calls still without a result when their run ends were never run (the call was rejected,
    /// the run stopped, or the runtime left running it to a client Letterbox is not): `not-run`.
    private func closeOpenToolCalls(_ book: ThreadMachine, _ active: ActiveRun) {
        for (id, call) in active.toolCalls.sorted(by: { $0.key < $1.key }) where call.result == nil {
            guard let file = active.toolFiles[id] else { continue }
            append(
                book, .runtime,
                .toolCall(
                    run: active.run, toolCall: id, tool: call.name, file: file, status: "not-run",
                    runtimeID: call.runtimeID))
            let decided = book.state.runs[active.run]?.approvals.first { $0.toolCall == id }
            let why: String =
                switch decided?.answer?.decision {
                case .reject?: "the operator rejected it"
                case .cancel?:
                    decided?.expired == true ? "the request expired and was cancelled" : "the operator cancelled it"
                default: "the run ended before it ran"
                }
            // Like the final reply, on disk before the line that says the run ended.
            writeToolRecord(
                book, active, call, file: file, status: "not-run", create: false, notRun: why, beforeLines: true)
        }
    }

    private func writeToolRecord(
        _ book: ThreadMachine, _ active: ActiveRun, _ call: ToolCallUpdate, file: String, status: String, create: Bool,
        notRun: String? = nil, beforeLines: Bool = false
    ) {
        let document = DaemonFile(
            id: String(file.dropLast(3)), role: .tool, agent: active.agent, inReplyTo: active.message, run: active.run,
            created: now.wall, status: status, extra: [("tool", call.name), ("tool-call", call.id)],
            body: ToolRecord.body(tool: call.name, arguments: call.arguments, result: call.result, notRun: notRun))
        // The daemon created this file, so it may replace it while the call is in progress; the
        // version with the result (or the final status) is the one that must survive a power loss.
        let mode: FileWrite.Mode =
            create ? (call.result == nil && status == "pending" ? .create : .createDurably) : .replaceDurably
        let bytes = Array(document.text.utf8)
        writeFile(book, file, bytes, mode, beforeLines: beforeLines)
        book.knownFiles.insert(file)
        remember(book, file, bytes: bytes)
    }

    private func recordApproval(_ book: ThreadMachine, _ active: inout ActiveRun, _ request: ApprovalRequest) {
        guard active.approvals[request.runtimeID] == nil, let reply = active.file.map({ String($0.dropLast(3)) }) else {
            return
        }
        var index = (book.state.runs[active.run]?.approvals.count ?? 0) + 1
        let taken = Set(active.approvals.values)
        while taken.contains("\(reply).approval-\(index)") || book.knownFiles.contains("\(reply).approval-\(index).md")
        {
            index += 1
        }
        let id = "\(reply).approval-\(index)"
        active.approvals[request.runtimeID] = id
        let tool = request.tool ?? request.toolCallID.flatMap { active.toolCalls[$0]?.name }
        let arguments = request.arguments ?? request.toolCallID.flatMap { active.toolCalls[$0]?.arguments }
        // Respond is never offered for a tool call: its text would pass for the tool's result.
        var decisions = request.decisions.filter { $0 != .respond || request.toolCallID == nil }
        if !decisions.contains(.cancel) { decisions.append(.cancel) }
        let expiresAt =
            request.expiresAt
            ?? configuration.delivery.approvalExpirySeconds.map {
                Timestamp(milliseconds: now.wall.milliseconds + Int64($0) * 1000)
            }
        append(
            book, .runtime,
            .approvalRequested(
                approval: id, run: active.run, file: id + ".md", toolCall: request.toolCallID, tool: tool,
                runtimeID: request.runtimeID, decisions: decisions, expiresAt: expiresAt, schema: request.schema,
                argumentsSHA256: ApprovalForm.argumentsDigest(arguments)))
        var extra: [(String, String)] = [("approval", request.runtimeID)]
        if let tool { extra.append(("tool", tool)) }
        extra.append(("decisions", Decision.list(decisions)))
        if let expiresAt { extra.append(("expires", expiresAt.description)) }
        let document = DaemonFile(
            id: id, role: .approval, agent: active.agent, inReplyTo: active.message, run: active.run, created: now.wall,
            status: "pending", extra: extra,
            body: ApprovalForm.body(
                prompt: request.prompt, tool: tool, arguments: arguments, decisions: decisions, expiresAt: expiresAt))
        let text = document.text
        let bytes = Array(text.utf8)
        writeFile(book, id + ".md", bytes, .createDurably)
        book.knownFiles.insert(id + ".md")
        book.approvalHashes[id] = SHA256Hex.digest(bytes)
        book.approvalTexts[id] = text
        if let expiresAt { wakeForExpiry(book, expiresAt) }
        note(.info, "approval requested", ["thread.id": book.id, "approval": id])
    }

    /// Ends the active run: the final reply (durably, before the line), then the journal line.
    func finish(_ book: ThreadMachine, end: RunEnd) {
        guard var active = book.active else { return }
        if case .interrupted = end {
            // The run waits for answers (AG-UI); answering resumes it with a new request.
            ensureStarted(book, &active)
            active.requesting = false
            book.active = active
            flushReply(book, force: true)
            sendAnswers(book)
            return
        }
        ensureStarted(book, &active)
        book.active = active
        guard let file = active.file else { return }
        let status: String
        let event: JournalEvent
        switch end {
        case let .complete(usage):
            status = "complete"
            var detail: [String: DetailJSON] = [:]
            if let id = active.replyRuntimeID { detail["runtime_id"] = .string(id) }
            if let usage {
                // The clients hand usage over as JSON text (an object, or AG-UI's list of them).
                let trimmed = usage.trimmingWhitespace
                let isJSON =
                    (trimmed.hasPrefix("{") && trimmed.hasSuffix("}"))
                    || (trimmed.hasPrefix("[") && trimmed.hasSuffix("]"))
                detail["usage"] = isJSON ? .raw(trimmed) : .string(usage)
            }
            event = .replyCompleted(
                run: active.run, file: file, sha256: SHA256Hex.digest(active.text),
                detail: detail.isEmpty ? nil : DetailJSON.object(detail).text)
        case let .aborted(reason):
            status = "aborted"
            event = .replyAborted(run: active.run, file: file, reason: reason)
        case let .errored(reason):
            status = "errored"
            event = .replyErrored(run: active.run, file: file, reason: reason)
        case .interrupted:
            return
        }
        // The final version is on disk before the line that says the run ended.
        writeReply(book, active, status: status, mode: .replaceDurably, beforeLines: true)
        closeOpenToolCalls(book, active)
        if book.state.runs[active.run].map({ !$0.status.isFinished }) ?? false { append(book, .runtime, event) }
        let messageFile = book.state.message(active.message)?.file ?? active.message
        commitPoint(
            book,
            status == "complete"
                ? "reply from \(active.agent) to \(messageFile)"
                : "reply from \(active.agent) to \(messageFile) \(status)")
        out.cancels.append(RunKey(thread: book.id, run: active.run))
        if let queued = active.queuedSend {
            book.phase = .acknowledging(message: queued)
        } else {
            book.phase = .idle
        }
        book.regenerateFailures[active.message] = nil
        note(.info, "run ended", ["thread.id": book.id, "run": active.run, "status": status])
        schedule()
    }

    /// The worker's update stream ended (normally, with an error, or because of an abort).
    func runStreamEnded(thread: String, run: String, error: RuntimeError?) {
        guard let book = threads[thread], let active = book.active, active.run == run else { return }
        if let status = book.state.runs[run]?.status, status == .awaitingApproval, error == nil {
            return  // waiting for answers; sendAnswers resumes it
        }
        if active.abortRequested {
            // Recorded when the runtime's abort request comes back (`abortDelivered`), so `aborted`
            // means the runtime stopped, not only that the connection closed.
            return
        } else if let error, case .cancelled = error.kind {
            return  // shutting down, or the thread was read again: the next start resumes or closes it
        } else if stopping {
            return
        } else if let error {
            finish(book, end: .errored(reason: error.message))
        } else if book.state.runs[run]?.status.isFinished != true {
            finish(
                book,
                end: .errored(
                    reason: "the runtime's stream ended before the run finished; the text that arrived is kept"))
        }
    }

    /// The runtime's abort endpoint answered (or could not be reached: the connection is closed anyway).
    func abortDelivered(thread: String, run: String, error: RuntimeError?) {
        if let error {
            note(.warning, "abort request failed", ["thread.id": thread, "error": error.message])
        }
        guard let book = threads[thread], book.active?.run == run else { return }
        finish(
            book,
            end: .aborted(
                reason: error.map { "aborted by the operator (the runtime's abort failed: \($0.message))" }
                    ?? "aborted by the operator"))
    }
}
