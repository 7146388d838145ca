import ChatModel
import Foundation
import InboxStore
import Logging

/// Runs: a reply as it arrives, its tool calls and approvals, and how it ends (docs/format.md §6).
extension InboxCoordinator {
    /// How often a streaming reply's file is rewritten at most.
    static let snapshotInterval: Duration = .milliseconds(250)

    /// One update from a run's worker.
    func runUpdate(thread: String, run: String, update: RunUpdate) {
        defer { commit() }
        guard let book = threads[thread], var active = book.active, active.run == run, book.problem == nil else {
            return
        }
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
        flushSite()
    }

    /// Journals `reply_started` and writes the first version of the reply file, once per run.
    func ensureStarted(_ book: ThreadBook, _ active: inout ActiveRun) {
        guard active.file == nil else { return }
        let message = active.message
        let taken = Set((try? FileSystem.list(book.folder, beneath: workspace.inbox).map(\.name)) ?? [])
        let known = Set(book.state.runs.values.map(\.file))
        var index = (book.state.message(message)?.runs.count ?? 0) + 1
        var file = FileKind.replyID(message: message, index: index) + ".md"
        while taken.contains(file) || known.contains(file) {
            index += 1
            file = FileKind.replyID(message: message, index: index) + ".md"
        }
        active.file = file
        book.busy = false
        append(
            book, .runtime,
            .replyStarted(
                run: active.run, message: message, file: file, agent: active.agent, runtimeID: active.replyRuntimeID))
        writeReply(book, active, status: "streaming", mode: .create)
        active.lastFlush = clock.now
        active.dirty = false
    }

    /// Rewrites the streaming reply if it is behind and the last rewrite is old enough, else makes
    /// sure a timer will.
    func flushReply(_ book: ThreadBook, force: Bool) {
        guard var active = book.active, active.dirty, active.file != nil else { return }
        let due = (active.lastFlush ?? clock.now) + Self.snapshotInterval
        guard force || clock.now >= due else {
            wake(at: due)
            return
        }
        writeReply(book, active, status: "streaming", mode: .replace)
        active.lastFlush = clock.now
        active.dirty = false
        book.active = active
        siteDirty.insert(book.id)
    }

    /// Timer: rewrite every streaming reply that is due.
    func flushReplies(at instant: ContinuousClock.Instant) {
        for book in threads.values where book.active?.dirty == true {
            flushReply(book, force: false)
        }
        for book in threads.values where book.active != nil { sendAnswers(book) }
    }

    /// The reply file: front matter, the text, and the reasoning after a marker the site folds away.
    func writeReply(_ book: ThreadBook, _ active: ActiveRun, status: String, mode: WriteMode) {
        guard let file = active.file else { return }
        let body = ReplyBody(text: active.text, reasoning: active.reasoning.isEmpty ? nil : active.reasoning).markdown
        let created = book.state.runs[active.run]?.startedAt ?? now()
        var extra: [(String, String)] = []
        if let id = active.replyRuntimeID { extra.append(("runtime-id", id)) }
        let document = DaemonFile(
            id: String(file.dropLast(3)), role: .assistant, agent: active.agent, inReplyTo: active.message,
            run: active.run,
            created: created, status: status, extra: extra, body: body)
        writeFile(book, file, Array(document.text.utf8), mode)
    }

    private func recordToolCall(_ book: ThreadBook, _ active: inout ActiveRun, _ call: ToolCallUpdate) {
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
            while taken.contains("\(reply).tool-\(index).md")
                || FileSystem.exists(book.folder + "/\(reply).tool-\(index).md")
            {
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
    private func closeOpenToolCalls(_ book: ThreadBook, _ active: ActiveRun) {
        for (id, call) in active.toolCalls.sorted(by: { $0.key < $1.key }) where call.result == nil {
            guard let file = active.toolFiles[id] else { continue }
            append(
                book, .runtime,
                .toolCall(
                    run: active.run, toolCall: id, tool: call.name, file: file, status: "not-run",
                    runtimeID: call.runtimeID))
            writeToolRecord(book, active, call, file: file, status: "not-run", create: false)
        }
    }

    private func writeToolRecord(
        _ book: ThreadBook, _ active: ActiveRun, _ call: ToolCallUpdate, file: String, status: String, create: Bool
    ) {
        let document = DaemonFile(
            id: String(file.dropLast(3)), role: .tool, agent: active.agent, inReplyTo: active.message, run: active.run,
            created: now(), status: status, extra: [("tool", call.name), ("tool-call", call.id)],
            body: DaemonFile.toolCallBody(tool: call.name, arguments: call.arguments, result: call.result))
        // The daemon created this file, so it may replace it while the call is in progress; the
        // version with the result (or the final status) is the one that must survive a power loss.
        let mode: WriteMode =
            create
            ? (call.result == nil && status == "pending" ? .create : .createDurably) : .replaceDurably
        writeFile(book, file, Array(document.text.utf8), mode)
    }

    private func recordApproval(_ book: ThreadBook, _ active: inout ActiveRun, _ request: ApprovalRequest) {
        guard active.approvals[request.runtimeID] == nil, let reply = active.file.map({ String($0.dropLast(3)) }) else {
            return
        }
        var index = (book.state.runs[active.run]?.approvals.count ?? 0) + 1
        let taken = Set(active.approvals.values)
        while taken.contains("\(reply).approval-\(index)")
            || FileSystem.exists(book.folder + "/\(reply).approval-\(index).md")
        {
            index += 1
        }
        let id = "\(reply).approval-\(index)"
        active.approvals[request.runtimeID] = id
        let tool = request.tool ?? request.toolCallID.flatMap { active.toolCalls[$0]?.name }
        append(
            book, .runtime,
            .approvalRequested(
                approval: id, run: active.run, file: id + ".md", toolCall: request.toolCallID, tool: tool,
                runtimeID: request.runtimeID))
        var extra: [(String, String)] = [("approval", request.runtimeID)]
        if let tool { extra.append(("tool", tool)) }
        let document = DaemonFile(
            id: id, role: .approval, agent: active.agent, inReplyTo: active.message, run: active.run, created: now(),
            status: "pending", extra: extra,
            body: ApprovalForm.body(
                prompt: request.prompt, tool: tool,
                arguments: request.arguments ?? request.toolCallID.flatMap { active.toolCalls[$0]?.arguments }))
        writeFile(book, id + ".md", Array(document.text.utf8), .createDurably)
        book.approvalHashes[id] = SHA256Hex.digest(Array(document.text.utf8))
        logger.info("approval requested", metadata: ["thread.id": "\(book.id)", "approval": "\(id)"])
    }

    /// Ends the active run: the final reply (durably), then the journal line.
    func finish(_ book: ThreadBook, end: RunEnd) {
        guard var active = book.active else { return }
        if case .interrupted = end {
            // The run waits for answers (AG-UI); answering resumes it with a new request.
            ensureStarted(book, &active)
            book.active = active
            flushReply(book, force: true)
            book.busy = false
            sendAnswers(book)
            return
        }
        ensureStarted(book, &active)
        book.active = active
        guard let file = active.file else { return }
        // The final version must be on disk before the line that says the run ended: it is written
        // now, over the file, so the file must exist first (its creation may still wait for the
        // journal line that names it). A thread that cannot write ends the run when it can.
        if !book.queuedWrites.isEmpty { commit() }
        guard book.queuedWrites.isEmpty, book.stall == nil else {
            book.pendingEnd = end
            return
        }
        let status: String
        let event: JournalEvent
        switch end {
        case let .complete(usage):
            status = "complete"
            var detail: [String: Any] = [:]
            if let id = active.replyRuntimeID { detail["runtime_id"] = id }
            if let usage, let object = try? JSONSerialization.jsonObject(with: Data(usage.utf8)) {
                detail["usage"] = object
            }
            event = .replyCompleted(
                run: active.run, file: file, sha256: SHA256Hex.digest(active.text),
                detail: detail.isEmpty ? nil : Self.json(detail))
        case let .aborted(reason):
            status = "aborted"
            event = .replyAborted(run: active.run, file: file, reason: reason)
        case let .errored(reason):
            status = "errored"
            event = .replyErrored(run: active.run, file: file, reason: reason)
        case .interrupted:
            return
        }
        writeReply(book, active, status: status, mode: .replaceDurably)
        guard book.stall == nil else {
            // The final version could not be written: the run ends once it can be (`pendingEnd`).
            book.pendingEnd = end
            return
        }
        closeOpenToolCalls(book, active)
        if book.state.runs[active.run].map({ !$0.status.isFinished }) ?? false { append(book, .runtime, event) }
        active.abort.fire()
        book.active = nil
        book.busy = false
        book.regenerateFailures[active.message] = nil
        logger.info("run ended", metadata: ["thread.id": "\(book.id)", "run": "\(active.run)", "status": "\(status)"])
        schedule()
    }

    /// The worker's update stream ended (normally, with an error, or because of an abort).
    func runStreamEnded(thread: String, run: String, error: (any Error)?) {
        defer { commit() }
        guard let book = threads[thread], let active = book.active, active.run == run else { return }
        if let status = book.state.runs[run]?.status, status == .awaitingApproval, error == nil {
            return  // waiting for answers; sendAnswers resumes it
        }
        if active.abortRequested {
            // Recorded when the runtime's abort request comes back (`abortDelivered`), so `aborted`
            // means the runtime stopped, not only that the connection closed.
            return
        } else if let error = error as? RuntimeError, case .cancelled = error.kind {
            return  // shutting down: the next start resumes or closes it
        } else if error is CancellationError || stopping {
            return
        } else if let error {
            finish(book, end: .errored(reason: (error as? RuntimeError)?.message ?? "\(error)"))
        } else if book.state.runs[run]?.status.isFinished != true && book.active?.run == run {
            finish(
                book,
                end: .errored(
                    reason: "the runtime's stream ended before the run finished; the text that arrived is kept"))
        }
    }

    /// The runtime's abort endpoint answered (or could not be reached: the connection is closed anyway).
    func abortDelivered(thread: String, run: String, error: RuntimeError?) {
        defer { commit() }
        if let error {
            logger.warning("abort request failed", metadata: ["thread.id": "\(thread)", "error": "\(error.message)"])
        }
        guard let book = threads[thread], book.active?.run == run else { return }
        finish(
            book,
            end: .aborted(
                reason: error.map { "aborted by the operator (the runtime's abort failed: \($0.message))" }
                    ?? "aborted by the operator"))
    }

    // MARK: Reading daemon files back

    func replyText(_ book: ThreadBook, file: String) -> String {
        ReplyBody(bodyOf(book, file: file)).text
    }

    func toolArguments(_ book: ThreadBook, file: String) -> String {
        ToolRecord(bodyOf(book, file: file)).arguments
    }

    func toolResult(_ book: ThreadBook, file: String) -> String? {
        ToolRecord(bodyOf(book, file: file)).result
    }
}

/// A tool call record's body read back: the fenced arguments and result.
struct ToolRecord {
    var arguments = "{}"
    var result: String?

    init(_ body: String) {
        let blocks = Self.fencedBlocks(body)
        if let first = blocks.first { arguments = first }
        if blocks.count > 1 { result = blocks[1] }
    }

    static func fencedBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        var fence = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line.hasPrefix("```") {
                fence = String(line.prefix { $0 == "`" })
                current = []
            } else if current != nil, line.hasPrefix(fence), line.allSatisfy({ $0 == "`" }) {
                blocks.append(current.map { $0.joined(separator: "\n") } ?? "")
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }
}
