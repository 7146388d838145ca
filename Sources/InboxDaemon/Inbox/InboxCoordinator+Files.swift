import ChatModel
import Foundation
import InboxStore
import Logging

/// Files: what the watcher reports, the quiet window, and what each kind of file means.
extension InboxCoordinator {
    /// A watcher event. Nothing is read yet: the path waits for its quiet window (docs/format.md §4.2).
    func fileEvent(_ event: InotifyWatcher.Event) {
        defer { commit() }
        switch event {
        case let .written(path):
            noteWrite(path)
        case let .removed(path):
            guard let (thread, rest) = split(path) else { return }
            if rest.isEmpty {
                threads[thread] = nil
                idle[thread] = nil
                unloaded.remove(thread)
                siteDirty.insert(thread)
            } else if threads[thread] != nil {
                siteDirty.insert(thread)
            }
        case let .folderCreated(path):
            guard let (thread, _) = split(path) else {
                return
            }
            // Files can land in a new folder before its watch exists: look at everything in it now.
            if let book = book(thread) { rescan(book) }
        case .overflow:
            logger.warning("inotify queue overflowed; rescanning the inbox")
            rescanAll()
        }
        flushSite()
    }

    private func noteWrite(_ path: String) {
        guard let (thread, rest) = split(path) else { return }
        if rest.isEmpty { return }
        let components = rest.split(separator: "/").map(String.init)
        switch FileClassifier.classify(components, type: .file) {
        case .artefact, .draft, .journal:
            return
        case .reply, .toolCall, .remote:
            // The daemon's own writes (journaled before they are made) need no quiet window.
            if let book = threads[thread], isKnownDaemonFile(book, rest) { return }
            fallthrough
        default:
            settling[path] = clock.now + settle
            wake(at: clock.now + settle)
        }
    }

    /// Handles every path whose quiet window has passed.
    func processSettled(at instant: ContinuousClock.Instant) {
        let due = settling.filter { $0.value <= instant }.map(\.key).sorted()
        for path in due {
            settling[path] = nil
            handleSettled(path)
        }
        if !due.isEmpty { schedule() }
        if let next = settling.values.min() { wake(at: next) }
    }

    private func handleSettled(_ path: String) {
        guard let (thread, rest) = split(path), let book = book(thread), book.problem == nil else { return }
        guard let entry = try? FileSystem.entry(at: path) else { return }
        // Written again inside the window (an editor still busy)? Wait for another quiet window.
        let age = now().milliseconds - entry.mtime.milliseconds
        if age >= 0 && age < Int64(configuration.delivery.settleMilliseconds) {
            settling[path] = clock.now + .milliseconds(Int64(configuration.delivery.settleMilliseconds) - age)
            return
        }
        handle(book, relativePath: rest, entry: entry)
    }

    /// Looks at every file of a thread (at start, after an overflow, for a new folder).
    func rescan(_ book: ThreadBook) {
        guard book.problem == nil, let files = try? InboxReader.listThreadFiles(book.folder, inbox: workspace.inbox)
        else { return }
        let cutoff = now().milliseconds - Int64(configuration.delivery.settleMilliseconds)
        for file in files {
            switch file.kind {
            case .artefact, .draft, .journal, .threadMeta:
                continue
            case .message(let id):
                // Known messages are checked for edits when written; here only new files matter.
                if book.state.message(id) != nil
                    || book.state.rejected[file.name]?.sha256 != nil && stampUnchanged(book, file)
                {
                    continue
                }
            case .control(let name):
                if book.controlsDone.contains(FileClassifier.controlsFolder + "/" + name) { continue }
            case .approval:
                if book.state.approval(String(file.name.dropLast(3)))?.isPending != true { continue }
            default:
                break
            }
            let path = book.folder + "/" + file.name
            if file.mtime.milliseconds > cutoff {
                settling[path] = clock.now + settle
                wake(at: clock.now + settle)
            } else if let entry = try? FileSystem.entry(at: path) {
                handle(book, relativePath: file.name, entry: entry)
            }
        }
    }

    func rescanAll() {
        defer { commit() }
        guard let entries = try? FileSystem.listTypes(workspace.inbox) else { return }
        for entry in entries {
            switch FileClassifier.classifyRoot(entry.name, type: entry.type) {
            case let .thread(id):
                if let stamp = idle[id] {
                    // An idle thread is read again only if its folder changed.
                    guard
                        let files = try? InboxReader.listThreadFiles(
                            workspace.threadFolder(id), inbox: workspace.inbox),
                        Self.listingStamp(files) != stamp
                    else { continue }
                }
                if let book = book(id) {
                    rescan(book)
                    schedule()
                    evictIfIdle(book)
                }
            case let .rejected(reason):
                rejectRoot(entry.name, reason: reason)
            case .journal, .ignored:
                break
            }
        }
        schedule()
    }

    private func stampUnchanged(_ book: ThreadBook, _ file: DiskFile) -> Bool {
        book.rejectedStamps[file.name] == file.stamp
    }

    // MARK: What a file means

    func handle(_ book: ThreadBook, relativePath: String, entry: DirectoryEntry) {
        let components = relativePath.split(separator: "/").map(String.init)
        let kind = FileClassifier.classify(components, type: entry.type)
        switch kind {
        case .artefact, .draft, .journal:
            return
        case .threadMeta:
            readMeta(book)
            siteDirty.insert(book.id)
        case let .message(id):
            message(book, id: id, file: relativePath, entry: entry)
        case let .approval(reply, index):
            approvalFile(book, id: "\(reply).approval-\(index)", file: relativePath, entry: entry)
        case .reply, .toolCall, .remote:
            // The daemon journals its files before writing them, so an unknown one is the operator's.
            if !isKnownDaemonFile(book, relativePath) {
                reject(
                    book, file: relativePath, entry: entry,
                    reason:
                        "names ending in .reply.md, .tool-N.md, .approval-N.md and .remote.md are reserved for files Letterbox writes; rename it"
                )
            }
        case let .control(name):
            control(book, name: name, entry: entry)
        case let .unsupported(reason):
            reject(book, file: relativePath, entry: entry, reason: reason)
        }
    }

    private func isKnownDaemonFile(_ book: ThreadBook, _ file: String) -> Bool {
        if book.state.runs.values.contains(where: { $0.file == file || $0.toolCalls.contains { $0.file == file } }) {
            return true
        }
        if book.state.messages.contains(where: { $0.file == file }) { return true }
        if let active = book.active, active.file == file || active.toolFiles.values.contains(file) { return true }
        return false
    }

    /// Records a rejection once per file content (or once per folder).
    func reject(_ book: ThreadBook, file: String, entry: DirectoryEntry, reason: String) {
        var sha: String?
        if entry.type == .file,
            let bytes = try? FileSystem.readFile(book.folder + "/" + file, maxBytes: 64 << 20, beneath: workspace.inbox)
        {
            sha = SHA256Hex.digest(bytes)
        }
        book.rejectedStamps[file] = entry.stamp
        if let previous = book.state.rejected[file], previous.sha256 == sha, previous.reason == reason { return }
        append(book, .daemon, .rejected(file: file, reason: reason, sha256: sha))
        logger.info(
            "file not sent", metadata: ["thread.id": "\(book.id)", "file.path": "\(file)", "reason": "\(reason)"])
    }

    /// A message file settled: a new message is detected and accepted (or rejected with the reason);
    /// a change to one already accepted is recorded as an edit, never sent.
    private func message(_ book: ThreadBook, id: String, file: String, entry: DirectoryEntry) {
        guard entry.type == .file else { return }
        let path = book.folder + "/" + file
        let limit = workspace.config.limits.messageBytes
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path, maxBytes: limit, beneath: workspace.inbox)
        } catch {
            reject(
                book, file: file, entry: entry,
                reason: "\(error.message); it was not sent")
            return
        }
        let sha = SHA256Hex.digest(bytes)
        if let known = book.state.message(id), known.acceptedAt != nil {
            if sha != known.sha256 && !known.edits.contains(where: { $0.sha256 == sha }) {
                append(book, .operator, .editedAfterSend(message: id, file: file, sha256: sha))
                logger.info(
                    "message edited after it was accepted; not sent again",
                    metadata: ["thread.id": "\(book.id)", "message.id": "\(id)"])
            }
            return
        }
        if let rejected = book.state.rejected[file], rejected.sha256 == sha { return }
        let parsed: OperatorMessage
        do {
            parsed = try OperatorMessage.parse(id: id, bytes: bytes, maxBytes: limit)
        } catch {
            reject(book, file: file, entry: entry, reason: error.located(in: workspace.relative(path)).description)
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
        if accepted { book.accepted[id] = parsed }
    }

    /// The agent for messages that name none: configured, or the only chat agent there is.
    var defaultAgent: String? {
        if let configured = configuration.defaultAgent { return configured }
        let chat = agents.filter(\.isChat)
        return chat.count == 1 ? chat[0].id : nil
    }

    /// An approval file settled: one tick is an answer; two, or a removed box, is recorded as not an answer.
    private func approvalFile(_ book: ThreadBook, id: String, file: String, entry: DirectoryEntry) {
        guard let approval = book.state.approval(id),
            let bytes = try? FileSystem.readFile(book.folder + "/" + file, maxBytes: 1 << 20, beneath: workspace.inbox)
        else {
            if !isKnownDaemonFile(book, file) && book.state.approval(id) == nil {
                reject(
                    book, file: file, entry: entry,
                    reason:
                        "names ending in .approval-N.md are reserved for approval requests Letterbox writes; rename it")
            }
            return
        }
        let sha = SHA256Hex.digest(bytes)
        guard book.approvalHashes[id] != sha else { return }
        book.approvalHashes[id] = sha
        let text = String(decoding: bytes, as: UTF8.self)
        guard approval.isPending else {
            if case .answered = ApprovalForm.read(text), approval.answer?.file == file { return }
            append(book, .operator, .approvalEditedAfterAnswer(approval: id, sha256: sha))
            return
        }
        switch ApprovalForm.read(text) {
        case .unanswered:
            return
        case let .invalid(reason):
            append(book, .operator, .approvalAnswerInvalid(approval: id, reason: reason))
        case let .answered(decision, note):
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
            answer(book, approval: id, decision: decision, note: note, file: file)
        }
    }

    // MARK: Controls

    /// A control file settled: act on it once, and journal what happened (docs/format.md §8).
    private func control(_ book: ThreadBook, name: String, entry: DirectoryEntry) {
        let file = FileClassifier.controlsFolder + "/" + name
        guard !book.controlsDone.contains(file), entry.type == .file else { return }
        book.controlsDone.insert(file)
        let request: ControlRequest
        do {
            request = try ControlRequest.parse(
                fileName: name,
                bytes: try FileSystem.readFile(book.folder + "/" + file, maxBytes: 64 * 1024, beneath: workspace.inbox))
        } catch let error as FormatError {
            append(
                book, .operator,
                .control(
                    file: file, outcome: .error,
                    reason: error.located(in: workspace.relative(book.folder + "/" + file)).description, detail: nil))
            return
        } catch {
            append(book, .operator, .control(file: file, outcome: .error, reason: "\(error)", detail: nil))
            return
        }
        let outcome = perform(request, in: book, file: file)
        switch outcome {
        case let .success(detail):
            append(book, .operator, .control(file: file, outcome: .ok, reason: nil, detail: detail))
        case let .failure(reason):
            append(book, .operator, .control(file: file, outcome: .error, reason: reason, detail: nil))
        }
        schedule()
    }

    enum ControlOutcome {
        case success(String?)
        case failure(String)
    }

    func perform(_ request: ControlRequest, in book: ThreadBook, file: String) -> ControlOutcome {
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
            return .success(Self.json(["retried": targets.map(\.id)]))
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
            guard runtimes[runtime]?.capabilities.regenerate == true else {
                return .failure("the runtime '\(runtime)' does not support regenerate")
            }
            append(book, .operator, .regenerateRequested(message: message.id))
            return .success(Self.json(["message": message.id]))
        case .approve, .reject:
            let pending = book.state.pendingApprovals
            let target: ApprovalState
            if let id = request.target {
                guard let found = pending.first(where: { $0.id == id || $0.id + ".md" == id }) else {
                    return .failure(
                        "no pending approval is called '\(id)' (pending: \(pending.map(\.id).joined(separator: ", ")))")
                }
                target = found
            } else {
                guard pending.count == 1 else {
                    return .failure(
                        pending.isEmpty
                            ? "no approval is pending"
                            : "\(pending.count) approvals are pending; name one with target: (\(pending.map(\.id).joined(separator: ", ")))"
                    )
                }
                target = pending[0]
            }
            answer(
                book, approval: target.id, decision: request.action == .approve ? .approve : .reject,
                note: request.note, file: file)
            return .success(Self.json(["approval": target.id]))
        }
    }

    // MARK: Paths

    /// `inbox/ops/hello.md` -> ("ops", "hello.md"); nil outside thread folders.
    func split(_ path: String) -> (String, String)? {
        let prefix = workspace.inbox + "/"
        guard path.hasPrefix(prefix) else { return nil }
        let relative = path.dropFirst(prefix.count)
        guard let slash = relative.firstIndex(of: "/") else {
            let name = String(relative)
            guard !name.isEmpty, !name.hasPrefix(".") else { return nil }
            if case .thread = FileClassifier.classifyRoot(name, type: .directory) { return (name, "") }
            return nil
        }
        let thread = String(relative[..<slash])
        guard Names.isValidThreadName(thread) else { return nil }
        return (thread, String(relative[relative.index(after: slash)...]))
    }
}
