import ChatModel

/// Files: what the watcher reports, the quiet window, and what each kind of file means.
extension InboxMachine {
    /// A write in a thread folder. Nothing is read yet: the path waits for its quiet window
    /// (docs/format.md §4.2).
    func noteWrite(thread: String, path: String) {
        guard Names.isValidThreadName(thread), !path.isEmpty else { return }
        let components = path.split(separator: "/").map(String.init)
        switch FileClassifier.classify(components, type: .file) {
        case .artefact, .draft, .journal:
            return
        case .reply, .toolCall, .remote:
            // The daemon's own writes (journaled before they are made) need no quiet window.
            if let book = threads[thread], isKnownDaemonFile(book, path) { return }
            fallthrough
        default:
            settling[thread + "/" + path] = now.moment.adding(milliseconds: settle)
            wake(in: settle)
        }
    }

    func fileRemoved(thread: String, path: String) {
        if path.isEmpty {
            threads[thread] = nil
            idle[thread] = nil
            unloaded.remove(thread)
            out.released.append(thread)
            out.siteChanged.insert(thread)
        } else if threads[thread] != nil {
            out.siteChanged.insert(thread)
        }
    }

    /// Files can land in a new folder before its watch exists: look at everything in it now.
    func folderCreated(_ thread: String) {
        guard Names.isValidThreadName(thread) else { return }
        if threads[thread] != nil {
            out.listings.insert(thread)
        } else {
            _ = book(thread)
        }
    }

    /// Asks for every path whose quiet window has passed to be read.
    func processSettled() {
        let due = settling.filter { $0.value <= now.moment }.map(\.key).sorted()
        for key in due {
            settling[key] = nil
            guard let slash = key.firstIndex(of: "/") else { continue }
            let thread = String(key[..<slash])
            let path = String(key[key.index(after: slash)...])
            if let book = threads[thread] {
                guard book.problem == nil else { continue }
                out.reads[thread, default: []].append(path)
            } else {
                dueReads[thread, default: []].append(path)
                _ = book(thread)
            }
        }
        if let next = settling.values.min() { wake(at: next) }
    }

    /// Files read for the machine: each is handled, unless it was written again inside its window.
    func filesRead(_ thread: String, _ reads: [FileRead]) {
        guard let book = book(thread, waiting: .filesRead(thread: thread, reads)) else { return }
        guard book.problem == nil else { return }
        for read in reads {
            guard let file = read.file else {
                book.knownFiles.remove(read.path)
                continue  // gone
            }
            book.knownFiles.insert(read.path)
            // Written again inside the window (an editor still busy)? Wait for another quiet window.
            let age = now.wall.milliseconds - file.mtime.milliseconds
            if age >= 0 && age < settle {
                settling[thread + "/" + read.path] = now.moment.adding(milliseconds: settle - age)
                wake(in: settle - age)
                continue
            }
            handle(book, path: read.path, read: read)
        }
        schedule()
    }

    /// Looks at every file of a thread (when it is read, after an overflow, for a new folder).
    func rescan(_ book: ThreadMachine, files: [DiskFile]) {
        guard book.problem == nil else { return }
        book.knownFiles.formUnion(files.map(\.name))
        let cutoff = now.wall.milliseconds - settle
        for file in files {
            switch file.kind {
            case .artefact, .draft, .journal, .threadMeta:
                continue
            case .message(let id):
                // Accepted messages are checked for edits when written; here only new files matter (and
                // one detected but not accepted, which a lost batch could leave).
                if book.state.message(id)?.acceptedAt != nil
                    || book.state.rejected[file.name]?.sha256 != nil && book.rejectedStamps[file.name] == file.stamp
                {
                    continue
                }
            case .control(let name):
                if book.controlsDone.contains(FileClassifier.controlsFolder + "/" + name) { continue }
            case .approval:
                if book.state.approval(String(file.name.dropLast(3)))?.isPending != true { continue }
            case .reply, .toolCall, .remote:
                if isKnownDaemonFile(book, file.name) { continue }
            default:
                if book.rejectedStamps[file.name] == file.stamp { continue }
            }
            if file.mtime.milliseconds > cutoff {
                settling[book.id + "/" + file.name] = now.moment.adding(milliseconds: settle)
                wake(in: settle)
            } else {
                out.reads[book.id, default: []].append(file.name)
            }
        }
    }

    /// The inbox root and the thread folders, listed again: new and changed threads are looked at,
    /// idle ones whose listing did not change are left alone, and quiet ones let go of.
    func rescanned(root: [RootItem]?, listings: [String: [DiskFile]], idle listedIdle: [String: String]) {
        for item in root ?? [] {
            switch FileClassifier.classifyRoot(item.name, type: item.type) {
            case let .thread(id):
                if threads[id] == nil, loading[id] == nil {
                    if let stamp = idle[id], listedIdle[id] ?? listings[id].map(Self.listingStamp) == stamp { continue }
                    // Not read yet: the catch-up reads it.
                    if idle[id] == nil, listings[id] == nil, unloaded.contains(id) { continue }
                    _ = book(id)
                }
            case let .rejected(reason):
                rejectRoot(item.name, reason: reason)
            case .journal, .ignored:
                break
            }
        }
        for (id, files) in listings.sorted(by: { $0.key < $1.key }) {
            guard let book = threads[id] else { continue }
            rescan(book, files: files)
            schedule()
            if root != nil { evictIfIdle(book, files: files) }
        }
        schedule()
    }

    // MARK: What a file means

    func handle(_ book: ThreadMachine, path: String, read: FileRead) {
        let components = path.split(separator: "/").map(String.init)
        let kind = FileClassifier.classify(components, type: read.type)
        switch kind {
        case .artefact, .draft, .journal:
            return
        case .threadMeta:
            readMeta(book, read.content)
            out.siteChanged.insert(book.id)
        case let .message(id):
            message(book, id: id, file: path, read: read)
        case let .approval(reply, index):
            approvalFile(book, id: "\(reply).approval-\(index)", file: path, read: read)
        case .reply, .toolCall, .remote:
            // The daemon journals its files before writing them, so an unknown one is the operator's.
            if !isKnownDaemonFile(book, path) {
                reject(
                    book, file: path, read: read,
                    reason:
                        "names ending in .reply.md, .tool-N.md, .approval-N.md and .remote.md are reserved for files Letterbox writes; rename it"
                )
            }
        case let .control(name):
            control(book, name: name, read: read)
        case let .unsupported(reason):
            reject(book, file: path, read: read, reason: reason)
        }
    }

    func isKnownDaemonFile(_ book: ThreadMachine, _ file: String) -> Bool {
        if book.state.runs.values.contains(where: { $0.file == file || $0.toolCalls.contains { $0.file == file } }) {
            return true
        }
        if book.state.messages.contains(where: { $0.file == file }) { return true }
        if let active = book.active, active.file == file || active.toolFiles.values.contains(file) { return true }
        return false
    }

    /// Records a rejection once per file content (or once per folder).
    func reject(_ book: ThreadMachine, file: String, read: FileRead, reason: String) {
        var sha: String?
        if read.type == .file, case let .success(bytes)? = read.content { sha = SHA256Hex.digest(bytes) }
        if let stamp = read.file?.stamp { book.rejectedStamps[file] = stamp }
        if let previous = book.state.rejected[file], previous.sha256 == sha, previous.reason == reason { return }
        append(book, .daemon, .rejected(file: file, reason: reason, sha256: sha))
        note(.info, "file not sent", ["thread.id": book.id, "file.path": file, "reason": reason])
    }

    /// A message file settled: a new message is detected and accepted (or rejected with the reason);
    /// a change to one already accepted is recorded as an edit, never sent.
    private func message(_ book: ThreadMachine, id: String, file: String, read: FileRead) {
        guard read.type == .file else { return }
        let limit = configuration.limits.messageBytes
        let bytes: [UInt8]
        switch read.content {
        case let .success(content)?: bytes = content
        case let .failure(problem)?:
            if let size = read.file?.size, size > limit {
                reject(
                    book, file: file, read: read,
                    reason:
                        "the file is \(size) bytes, over the limit of \(limit) bytes (limits.message_bytes in letterbox.yaml); split it into smaller messages. It was not sent"
                )
            } else {
                reject(book, file: file, read: read, reason: "\(problem.message); it was not sent")
            }
            return
        case nil:
            return
        }
        let sha = SHA256Hex.digest(bytes)
        if let known = book.state.message(id), known.acceptedAt != nil {
            if sha != known.sha256 && !known.edits.contains(where: { $0.sha256 == sha }) {
                append(book, .operator, .editedAfterSend(message: id, file: file, sha256: sha))
                note(
                    .info, "message edited after it was accepted; not sent again",
                    ["thread.id": book.id, "message.id": id])
            }
            return
        }
        if let rejected = book.state.rejected[file], rejected.sha256 == sha { return }
        let parsed: OperatorMessage
        do {
            parsed = try OperatorMessage.parse(id: id, bytes: bytes, maxBytes: limit)
        } catch {
            reject(
                book, file: file, read: read,
                reason: error.located(in: "\(configuration.inboxPath)/\(book.id)/\(file)").description)
            return
        }
        let agent = book.agent(for: parsed.agent, default: defaultAgent) ?? ""
        let acceptedSeq = book.state.lastSeq + 2
        let requestID = "lb-\(inboxID)-\(book.id)-\(id)-\(acceptedSeq)"
        let accepted = append(
            book,
            [
                (.operator, .detected(message: id, file: file, sha256: sha)),
                (.daemon, .accepted(message: id, requestID: requestID, agent: agent, sha256: sha)),
            ])
        if accepted {
            book.accepted[id] = parsed
            remember(book, file, bytes: bytes)
            commitPoint(book, "message \(file)", operatorFile: file)
        }
    }

    /// The agent for messages that name none: configured, or the only chat agent there is.
    var defaultAgent: String? {
        if let configured = configuration.defaultAgent { return configured }
        let chat = agents.filter(\.isChat)
        return chat.count == 1 ? chat[0].id : nil
    }

    /// An approval file settled: one tick is an answer; two, or a removed box, is recorded as not an answer.
    private func approvalFile(_ book: ThreadMachine, id: String, file: String, read: FileRead) {
        guard let approval = book.state.approval(id), case let .success(bytes)? = read.content else {
            if !isKnownDaemonFile(book, file) && book.state.approval(id) == nil {
                reject(
                    book, file: file, read: read,
                    reason:
                        "names ending in .approval-N.md are reserved for approval requests Letterbox writes; rename it")
            }
            return
        }
        let sha = SHA256Hex.digest(bytes)
        let statusRead = book.approvalStatusReads.remove(id) != nil
        guard book.approvalHashes[id] != sha else { return }
        book.approvalHashes[id] = sha
        let text = String(decoding: bytes, as: UTF8.self)
        book.approvalTexts[id] = text
        if statusRead && !approval.isPending {
            // Read to update its status (decided by a control after a restart), not saved by the operator.
            syncApprovalStatus(book, id: id)
            return
        }
        let offer = ApprovalForm.Offer(approval)
        guard approval.isPending else {
            // The first valid decision is final; a later change is recorded as ignored (and shown).
            if case let .answered(decision, _, _) = ApprovalForm.read(text, offer: offer),
                approval.answer?.file == file, approval.answer?.decision == decision
            {
                syncApprovalStatus(book, id: id)
                return
            }
            append(book, .operator, .approvalEditedAfterAnswer(approval: id, sha256: sha))
            syncApprovalStatus(book, id: id)
            return
        }
        switch ApprovalForm.read(text, offer: offer) {
        case .unanswered:
            append(
                book, .operator,
                .approvalAnswerInvalid(approval: id, reason: "not ready: no box is ticked; tick exactly one and save"))
        case let .invalid(reason):
            append(book, .operator, .approvalAnswerInvalid(approval: id, reason: reason))
        case let .answered(decision, note, arguments):
            if let run = book.state.runs[approval.run], run.status.isFinished {
                append(
                    book, .operator,
                    .approvalAnswerInvalid(
                        approval: id,
                        reason:
                            "the run ended (\(run.status.rawValue)) before this was answered, so the request is closed and nothing was sent"
                    ))
                return
            }
            answer(book, approval: id, decision: decision, note: note, file: file, arguments: arguments)
        }
    }

    // MARK: Controls

    /// A control file settled: act on it once, and journal what happened (docs/format.md §8).
    private func control(_ book: ThreadMachine, name: String, read: FileRead) {
        let file = FileClassifier.controlsFolder + "/" + name
        guard !book.controlsDone.contains(file), read.type == .file else { return }
        book.controlsDone.insert(file)
        let request: ControlRequest
        switch read.content {
        case let .success(bytes)?:
            do {
                request = try ControlRequest.parse(fileName: name, bytes: bytes)
            } catch {
                append(
                    book, .operator,
                    .control(
                        file: file, outcome: .error,
                        reason: error.located(in: "\(configuration.inboxPath)/\(book.id)/\(file)").description,
                        detail: nil))
                return
            }
        case let .failure(problem)?:
            append(book, .operator, .control(file: file, outcome: .error, reason: problem.message, detail: nil))
            return
        case nil:
            return
        }
        switch perform(request, in: book, file: file) {
        case let .success(detail):
            append(book, .operator, .control(file: file, outcome: .ok, reason: nil, detail: detail))
            commitPoint(book, "\(request.action.rawValue) (\(file))")
        case let .failure(reason):
            append(book, .operator, .control(file: file, outcome: .error, reason: reason, detail: nil))
            commitPoint(book, "\(request.action.rawValue) refused (\(file))")
        }
        schedule()
    }

    enum ControlOutcome {
        case success(String?)
        case failure(String)
    }

    func perform(_ request: ControlRequest, in book: ThreadMachine, file: String) -> ControlOutcome {
        switch request.action {
        case .abort:
            return abortRun(book, target: request.target)
        case .retry:
            let failed = book.state.messages.filter { if case .failed = $0.delivery { true } else { false } }
            let targets = request.target.map { target in failed.filter { $0.id == target } } ?? failed
            guard !targets.isEmpty else {
                return .failure(
                    request.target.map { "message '\($0)' has not failed" } ?? "no message in this thread has failed")
            }
            for message in targets { append(book, .operator, .retryRequested(message: message.id)) }
            return .success(DetailJSON.object(["retried": .array(targets.map { .string($0.id) })]).text)
        case .regenerate:
            let candidates = book.state.messages.filter { !$0.runs.isEmpty }
            guard
                let message = request.target.map({ target in candidates.first { $0.id == target } }) ?? candidates.last
            else {
                return .failure(
                    request.target.map { "message '\($0)' has no reply to regenerate" }
                        ?? "no message in this thread has a reply yet")
            }
            guard book.active == nil else { return .failure("a reply is still running; wait for it or abort it first") }
            let runtime = runtimeName(forAgent: message.agent ?? "")
            guard capabilities(of: runtime)?.regenerate == true else {
                return .failure("the runtime '\(runtime)' does not support regenerate")
            }
            append(book, .operator, .regenerateRequested(message: message.id))
            return .success(DetailJSON.object(["message": .string(message.id)]).text)
        case .approve, .edit, .reject, .respond, .cancel:
            let pending = book.state.pendingApprovals
            let target: ApprovalState
            if let id = request.target {
                guard let found = pending.first(where: { $0.id == id || $0.id + ".md" == id || $0.runtimeID == id })
                else {
                    return .failure(
                        pending.isEmpty
                            ? "nothing is pending: no approval waits for a decision"
                            : "no pending approval is called '\(id)' (pending: \(pending.map(\.id).joined(separator: ", ")))"
                    )
                }
                target = found
            } else {
                guard pending.count == 1 else {
                    return .failure(
                        pending.isEmpty
                            ? "nothing is pending: no approval waits for a decision"
                            : "\(pending.count) approvals are pending; name one with target: (\(pending.map(\.id).joined(separator: ", ")))"
                    )
                }
                target = pending[0]
            }
            guard let decision = Decision(rawValue: request.action.rawValue) else { return .failure("not a decision") }
            switch ApprovalForm.check(decision, note: request.note, arguments: request.arguments, offer: .init(target))
            {
            case let .invalid(reason):
                append(book, .operator, .approvalAnswerInvalid(approval: target.id, reason: reason))
                return .failure(reason)
            case let .answered(decision, note, arguments):
                answer(book, approval: target.id, decision: decision, note: note, file: file, arguments: arguments)
            case .unanswered:
                return .failure("not a decision")
            }
            return .success(DetailJSON.object(["approval": .string(target.id)]).text)
        }
    }
}
