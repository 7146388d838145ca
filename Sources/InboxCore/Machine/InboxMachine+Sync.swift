import ChatModel

/// Pulling from the runtime: threads and messages that exist there but not in the inbox are written as
/// files (docs/daemon.md). The runtime is the source of truth for what was said in it.
extension InboxMachine {
    /// Asks every runtime that lists threads for them (after the catch-up, then periodically).
    func requestSync() {
        guard !stopping else { return }
        for runtime in configuration.runtimes where runtime.capabilities.threadListing {
            enqueue(.listThreads(runtime: runtime.name))
        }
    }

    /// Which of the runtime's threads changed since the last sync (by their `updatedAt`).
    func threadsToSync(_ threads: [RemoteThread]) -> [RemoteThread] {
        threads.filter { thread in
            defer { syncedUpdates[thread.id] = thread.updatedAt }
            return syncedUpdates[thread.id] != thread.updatedAt || thread.updatedAt == nil
        }
    }

    /// Writes what the runtime has and the inbox lacks: a folder for a thread started elsewhere,
    /// `ID.remote.md` for an operator message sent through another channel, and the finished answers to
    /// those messages. Answers to the inbox's own messages are recorded by their runs, not here.
    ///
    /// The inbox's own messages are recognised by the client id they were posted with
    /// (`THREAD/MESSAGE`, echoed by the runtime), never by `sent` alone: a message in flight, or whose
    /// answer was lost, is not `sent` yet but is the runtime's already. For a runtime that does not echo
    /// client ids, operator messages the inbox cannot place wait while one of its deliveries is
    /// unresolved (it may be that one), and are looked at again at the next sync.
    func applyRemote(_ thread: RemoteThread, messages: [RemoteMessage]) {
        let echoes = messages.contains { $0.clientMessageID != nil }
        guard let id = boundThreads[thread.id] else {
            let ours = messages.contains { message in
                message.clientMessageID.flatMap(Self.threadOfClientID).map(threadExists) ?? false
            }
            // The runtime thread of one of the inbox's own first messages (bound when it is `sent`), or,
            // without echoes, possibly one: leave it for now.
            if ours || (!echoes && unboundDeliveryUnresolved()) {
                syncedUpdates[thread.id] = nil
                return
            }
            createThread(for: thread, messages: messages)
            return
        }
        guard let book = book(id, waiting: .outcome(.remoteMessages(runtime: "", thread: thread, messages: messages)))
        else { return }
        guard book.problem == nil else { return }
        var known = Set(book.state.messages.compactMap(\.runtimeID))
        for run in book.state.runs.values {
            if let id = run.runtimeID { known.insert(id) }
            if let id = run.detail.flatMap({ DetailJSON.string(in: $0, key: "runtime_id") }) { known.insert(id) }
        }
        let ours = Set(book.state.messages.filter { $0.origin == .operator }.compactMap(\.runtimeID))
        let unresolved = book.state.messages.contains(where: Self.mayBeInRuntimeUnsent)
        var deferred = false
        for message in messages.sorted(by: { $0.seq < $1.seq }) where !known.contains(message.id) {
            switch message.role {
            case "operator":
                if let client = message.clientMessageID, let id = Self.messageOfClientID(client, thread: book.id),
                    let local = book.state.message(id), local.origin == .operator
                {
                    continue  // the inbox's own message; its delivery records it
                }
                if message.clientMessageID == nil && unresolved {
                    deferred = true
                    continue
                }
                pullOperatorMessage(book, message)
                known.insert(message.id)
            case "assistant":
                guard let replyTo = message.replyTo, !ours.contains(replyTo), message.status != "in_progress",
                    let local = book.state.messages.first(where: { $0.runtimeID == replyTo }), book.active == nil
                else { continue }
                pullAnswer(book, to: local, message)
                known.insert(message.id)
            default:
                continue  // tool calls and approvals of other channels' runs are theirs to answer
            }
        }
        if deferred { syncedUpdates[thread.id] = nil }
    }

    /// An operator message that has been attempted but not acknowledged: the runtime may have it.
    static func mayBeInRuntimeUnsent(_ message: MessageState) -> Bool {
        guard message.origin == .operator, message.runtimeID == nil, !message.attempts.isEmpty else { return false }
        switch message.delivery {
        case .sending, .retrying, .queued: return true
        case .sent, .replied, .failed: return false
        }
    }

    /// Whether a thread not yet bound to a runtime thread has a delivery the runtime may already have.
    private func unboundDeliveryUnresolved() -> Bool {
        threads.values.contains { book in
            book.state.runtimeThreadID == nil && book.state.messages.contains(where: Self.mayBeInRuntimeUnsent)
        }
    }

    private func threadExists(_ id: String) -> Bool {
        threads[id] != nil || unloaded.contains(id) || idle[id] != nil || loading[id] != nil
    }

    /// `ops/hello` -> `ops`.
    static func threadOfClientID(_ client: String) -> String? {
        client.firstIndex(of: "/").map { String(client[..<$0]) }
    }

    /// `ops/hello` in thread `ops` -> `hello`.
    static func messageOfClientID(_ client: String, thread: String) -> String? {
        client.hasPrefix(thread + "/") ? String(client.dropFirst(thread.count + 1)) : nil
    }

    /// A thread started elsewhere: a folder named after its title is made (by the shell), then read,
    /// then bound to the runtime thread and filled.
    private func createThread(for thread: RemoteThread, messages: [RemoteMessage]) {
        guard !pendingBinds.values.contains(where: { $0.thread.id == thread.id }) else { return }
        let base = (Names.slug(thread.title ?? "", maxLength: 60) ?? Names.slug(thread.id) ?? "remote").lowercased()
        var name = base
        var suffix = 2
        while threadExists(name) || pendingBinds[name] != nil {
            name = "\(base)-\(suffix)"
            suffix += 1
        }
        pendingBinds[name] = (thread, messages)
        loading[name] = []
        out.newThreads.append(NewThread(name: name, title: thread.title, agent: thread.agent))
        out.loads.append(Effects.Load(thread: name, bodies: true))
        note(.info, "pulling a thread started elsewhere", ["thread.id": name, "thread.runtime": thread.id])
    }

    /// After a thread made for a runtime thread is read: bind it and pull what it has.
    func bindPending(_ book: ThreadMachine) {
        guard let (thread, messages) = pendingBinds.removeValue(forKey: book.id) else { return }
        append(book, .runtime, .threadBound(runtimeThreadID: thread.id))
        applyRemote(thread, messages: messages)
    }

    private func pullOperatorMessage(_ book: ThreadMachine, _ message: RemoteMessage) {
        guard let slug = Names.slug(message.id, maxLength: 100) else { return }
        var id = slug + ".remote"
        var suffix = 2
        while book.state.message(id) != nil || book.knownFiles.contains("\(id).md") {
            id = "\(slug)-\(suffix).remote"
            suffix += 1
        }
        let file = DaemonFile(
            id: id, role: .operator, agent: book.meta.agent ?? "", created: now.wall, status: "accepted",
            extra: [("runtime-id", message.id), ("author", "another channel")], body: message.content)
        append(book, .runtime, .remoteMessage(message: id, file: id + ".md", runtimeID: message.id))
        commitPoint(book, "message from another channel (\(id).md)")
        let bytes = Array(file.text.utf8)
        writeFile(book, id + ".md", bytes, .createDurably)
        book.knownFiles.insert(id + ".md")
        remember(book, id + ".md", bytes: bytes)
    }

    private func pullAnswer(_ book: ThreadMachine, to local: MessageState, _ message: RemoteMessage) {
        let index = local.runs.count + 1
        let file = FileKind.replyID(message: local.id, index: index) + ".md"
        guard !book.knownFiles.contains(file) else { return }
        let run = "\(local.id).run-\(index)"
        let agent = book.meta.agent ?? ""
        let document = DaemonFile(
            id: String(file.dropLast(3)), role: .assistant, agent: agent, inReplyTo: local.id, run: run,
            created: now.wall, status: message.status == "complete" ? "complete" : message.status,
            extra: [("runtime-id", message.id)], body: message.content)
        append(
            book, .runtime, .replyStarted(run: run, message: local.id, file: file, agent: agent, runtimeID: message.id))
        let bytes = Array(document.text.utf8)
        // The file exists (durably) before the line that says the answer is complete.
        writeFile(book, file, bytes, .createDurably)
        book.knownFiles.insert(file)
        remember(book, file, bytes: bytes)
        newBatch()
        let event: JournalEvent
        switch message.status {
        case "complete":
            event = .replyCompleted(
                run: run, file: file, sha256: SHA256Hex.digest(message.content),
                detail: DetailJSON.object(["runtime_id": .string(message.id)]).text)
        case "aborted":
            event = .replyAborted(run: run, file: file, reason: "aborted in the runtime")
        default:
            event = .replyErrored(run: run, file: file, reason: "the runtime reports the answer \(message.status)")
        }
        append(book, .runtime, event)
        commitPoint(book, "reply to \(local.file) from another channel")
    }
}

/// A thread folder the shell makes for a thread started elsewhere (with its `thread.md`).
public struct NewThread: Sendable, Hashable {
    public var name: String
    public var title: String?
    public var agent: String?
}
