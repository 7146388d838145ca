public import ChatModel

/// What the machine runs with: the workspace's delivery settings and what each runtime can do.
public struct MachineConfiguration: Sendable {
    /// A configured runtime, by name, with its capabilities.
    public struct Runtime: Sendable, Hashable {
        public var name: String
        public var capabilities: RuntimeCapabilities
        public init(name: String, capabilities: RuntimeCapabilities) {
            self.name = name
            self.capabilities = capabilities
        }
    }

    /// The runtimes, the first being the default.
    public var runtimes: [Runtime]
    /// Agents declared in configuration (each with its runtime).
    public var agents: [RuntimeAgent]
    public var defaultAgent: String?
    public var delivery: WorkspaceConfig.Delivery
    public var limits: WorkspaceConfig.Limits
    /// The inbox folder as messages name it (relative to the workspace: `inbox`).
    public var inboxPath = "inbox"

    public init(
        runtimes: [Runtime], agents: [RuntimeAgent], defaultAgent: String?, delivery: WorkspaceConfig.Delivery,
        limits: WorkspaceConfig.Limits
    ) {
        self.runtimes = runtimes
        self.agents = agents
        self.defaultAgent = defaultAgent
        self.delivery = delivery
        self.limits = limits
    }
}

/// The daemon's decisions, with no IO: typed inputs in (`handle(_:now:)`), effects out (docs/daemon.md).
///
/// It holds every thread's fold and what is in flight, decides what to journal, which files to write,
/// which requests to make and when to wake up. It never reads a file, a clock or a random source: the
/// shell (`InboxRunner` in InboxDaemon) reads what it asks for and passes time and jitter in with each
/// input. A machine rebuilt from the journals and the folder listing after a crash decides as the one
/// that crashed would have (that is how recovery is tested).
///
/// A class owned by one task (the runner's loop): value semantics would copy every thread per input.
public final class InboxMachine {
    public let configuration: MachineConfiguration
    let retry: RetryPolicy

    /// The time of the input being handled.
    var now = Now(moment: Moment(milliseconds: 0), wall: Timestamp(milliseconds: 0))
    /// The effects of the input being handled.
    var out = Effects()
    /// `thread/file` of files created in the batch being built (their creation waits for its lines).
    var createdInBatch: Set<String> = []

    var inboxState = InboxState()
    var inboxTail: JournalEntry?
    var inboxID = "inbox"
    var threads: [String: ThreadMachine] = [:] { didSet { booksInOrder = nil } }
    /// `threads` by id, kept between scheduling passes until a thread is read or let go of.
    private var booksInOrder: [ThreadMachine]?
    /// Thread folders not read yet (read on demand or by the catch-up).
    var unloaded: Set<String> = []
    /// Paths whose quiet window passed while their thread was not in memory: read once it is.
    var dueReads: [String: [String]] = [:]
    /// Threads asked for and not arrived yet, with the inputs waiting for them.
    var loading: [String: [Input]] = [:]
    /// Threads read, found idle and let go of, with the stamp of their listing then: a rescan reads
    /// one again only when its listing changed. Keeps memory flat however large the inbox.
    var idle: [String: String] = [:]
    /// Runtime thread id -> thread folder, for every thread read so far.
    var boundThreads: [String: String] = [:]
    /// Folders being made for threads started elsewhere, with what to pull into them once read.
    var pendingBinds: [String: (thread: RemoteThread, messages: [RemoteMessage])] = [:]
    /// Top-level entries already reported as rejected.
    var rejectedRoot: Set<String> = []
    /// `thread/path` -> when its quiet window ends.
    var settling: [String: Moment] = [:]
    /// The earliest wake-up asked for.
    var nextWake: Moment?
    /// Threads with an approval that will expire (looked at on `tick`, not on every input).
    var expiringThreads: Set<String> = []
    var health: [String: RuntimeHealth] = [:]
    /// The runtime threads' `updatedAt` as of the last sync.
    var syncedUpdates: [String: String?] = [:]
    var agents: [RuntimeAgent] = []
    var agentsListed: Set<String> = []
    /// Runtimes whose agent list failed: when to ask again (nil while asking), and the backoff so far.
    var agentListRetry: [String: (at: Moment?, backoff: Int64)] = [:]
    /// When each runtime's agent list was last asked for (an answer to it is news from that time).
    var agentListAskedAt: [String: Timestamp] = [:]
    var stopping = false
    /// Messages delivered since start (for the benchmark and logs).
    public internal(set) var delivered = 0

    public init(configuration: MachineConfiguration) {
        self.configuration = configuration
        retry = RetryPolicy(configuration.delivery.retry)
        for runtime in configuration.runtimes {
            health[runtime.name] = RuntimeHealth(breaker: CircuitBreaker(configuration.delivery.breaker))
        }
        agents = configuration.agents
    }

    var settle: Int64 { Int64(configuration.delivery.settleMilliseconds) }

    // MARK: Inputs

    /// Starts from the inbox journal as it is on disk (opened and repaired by the shell) and the
    /// inbox root's listing: records the start and asks runtimes for their agents. Threads are read
    /// lazily: the shell's catch-up loads them all, and anything happening in one loads it first.
    public func start(
        inbox entries: [JournalEntry], root: [RootItem], detail: String, configuration summary: String,
        inboxCreatedDetail: String, now: Now
    ) throws(FormatError) -> Effects {
        begin(now)
        inboxState = try InboxState.fold(entries)
        inboxTail = entries.last
        if inboxState.createdAt == nil { appendInbox(.operator, .inboxCreated(detail: inboxCreatedDetail)) }
        inboxID = Self.inboxID(from: inboxState.createdDetail) ?? "inbox"
        for name in health.keys {
            switch inboxState.runtime {
            case .degraded: health[name]?.journaledDegraded = true
            case .authFailing: health[name]?.journaledAuthFailing = true
            case .unknown, .reachable: break
            }
        }
        appendInbox(.daemon, .daemonStarted(detail: detail))
        appendInbox(.daemon, .config(detail: summary))
        for item in root {
            switch FileClassifier.classifyRoot(item.name, type: item.type) {
            case let .thread(id): unloaded.insert(id)
            case let .rejected(reason): rejectRoot(item.name, reason: reason)
            case .journal, .ignored: break
            }
        }
        for runtime in configuration.runtimes { askForAgents(runtime.name) }
        out.siteChanged.formUnion(unloaded)
        return end()
    }

    /// Handles one input at `now` and returns what to do about it.
    public func handle(_ input: Input, now: Now) -> Effects {
        begin(now)
        switch input {
        case let .fileWritten(thread, path): noteWrite(thread: thread, path: path)
        case let .fileRemoved(thread, path): fileRemoved(thread: thread, path: path)
        case let .folderCreated(thread): folderCreated(thread)
        case let .threadLoaded(load): loaded(load)
        case let .threadUnreadable(thread, reason): unreadable(thread, reason: reason)
        case let .filesRead(thread, reads): filesRead(thread, reads)
        case let .rescanned(root, listings, idle): rescanned(root: root, listings: listings, idle: idle)
        case let .outcome(outcome): handle(outcome)
        case .tick: tick()
        case .syncDue: requestSync()
        case let .journalReplaced(thread, load, reason): journalReplaced(thread, load: load, reason: reason)
        case let .inboxJournalReplaced(entries, unwritten): inboxJournalReplaced(entries, unwritten: unwritten)
        case let .stop(reason): stop(reason: reason)
        }
        return end()
    }

    /// Threads not read yet, in order (for the shell's catch-up).
    public var unloadedThreads: [String] { unloaded.subtracting(loading.keys).sorted() }

    /// Whether a thread is in memory.
    public func isLoaded(_ thread: String) -> Bool { threads[thread] != nil }

    /// Whether a thread was read, found idle and let go of.
    public func isIdle(_ thread: String) -> Bool { idle[thread] != nil }

    /// The thread's machine, if it is in memory (for tests and the shell's questions).
    public func thread(_ id: String) -> ThreadMachine? { threads[id] }

    /// The inbox journal's fold as the machine holds it.
    public var inbox: InboxState { inboxState }

    private func begin(_ now: Now) {
        self.now = now
        out = Effects()
        createdInBatch = []
    }

    private func end() -> Effects {
        if let next = nextWake, next <= now.moment { nextWake = nil }
        defer { out = Effects() }
        return out
    }

    // MARK: Journals

    /// Journals `events` in a thread: each line is chained and folded into its state now, and written
    /// by the shell before anything later in the batch. If the fold refuses one (a machine bug), none
    /// is journaled and the thread stops with that problem.
    @discardableResult
    func append(_ book: ThreadMachine, _ events: [(Actor, JournalEvent)]) -> Bool {
        guard book.problem == nil else { return false }
        var state = book.state
        var tail = book.tail
        var entries: [JournalEntry] = []
        for (actor, event) in events {
            let entry = JournalCodec.entry(after: tail, ts: now.wall, actor: actor, event: event)
            do {
                try state.apply(entry)
            } catch {
                stopThread(book, because: "the journal refused a line (not written): \(error)")
                return false
            }
            entries.append(entry)
            tail = entry
        }
        book.state = state
        book.tail = tail
        for entry in entries { out.batches[out.batches.count - 1].append(entry, to: book.id) }
        for (_, event) in events { noticeAttention(book, event) }
        out.siteChanged.insert(book.id)
        book.quiet = false
        if let runtimeThread = book.state.runtimeThreadID { boundThreads[runtimeThread] = book.id }
        return true
    }

    func append(_ book: ThreadMachine, _ actor: Actor, _ event: JournalEvent) {
        append(book, [(actor, event)])
    }

    /// An approval that now waits, or a message that failed for good, needs the operator.
    private func noticeAttention(_ book: ThreadMachine, _ event: JournalEvent) {
        switch event {
        case let .approvalRequested(_, _, file, _, tool, _, _, _, _, _):
            let reason = tool.map { "approval needed for \($0)" } ?? "approval needed"
            out.attention.append(AttentionNotice(thread: book.id, file: file, kind: "approval", reason: reason))
        case let .failed(message, reason, _):
            let file = book.state.message(message)?.file ?? message + ".md"
            out.attention.append(AttentionNotice(thread: book.id, file: file, kind: "failed", reason: reason))
        default:
            break
        }
    }

    func appendInbox(_ actor: Actor, _ event: JournalEvent) {
        let entry = JournalCodec.entry(after: inboxTail, ts: now.wall, actor: actor, event: event)
        do {
            try inboxState.apply(entry)
        } catch {
            note(.error, "the inbox journal refused a line (not written)", ["error": "\(error)"])
            return
        }
        inboxTail = entry
        out.batches[out.batches.count - 1].append(entry, to: "")
        out.siteChanged.insert("")
    }

    /// Chains an `anchor` line onto the inbox journal recording where thread journals now end, for the
    /// shell to stage after their lines are durable (docs/format.md §7.3). Heads already anchored are
    /// left out; nil when nothing is new. Called by the shell between inputs, when every inbox line the
    /// machine decided so far is staged, so the chain stays in order.
    public func anchor(_ heads: [JournalHead], at wall: Timestamp) -> JournalEntry? {
        let fresh = heads.filter { inboxState.anchors[$0.thread] != $0 }
            .sorted { $0.thread.utf8.lexicographicallyPrecedes($1.thread.utf8) }
        guard !fresh.isEmpty else { return nil }
        let entry = JournalCodec.entry(after: inboxTail, ts: wall, actor: .daemon, event: .anchor(heads: fresh))
        do {
            try inboxState.apply(entry)
        } catch {
            return nil
        }
        inboxTail = entry
        return entry
    }

    /// Starts a job once the lines before it are durable (it is part of the current batch).
    func enqueue(_ job: Job) {
        out.batches[out.batches.count - 1].jobs.append(job)
    }

    /// Writes a daemon file. A new name goes after the journal lines of its batch; a new version of a
    /// file that exists goes before them when `beforeLines` (a final reply, and its tool calls that never
    /// ran, before the line that says the run ended; a new batch starts first if the file is only being
    /// created in this one).
    func writeFile(
        _ book: ThreadMachine, _ file: String, _ bytes: [UInt8], _ mode: FileWrite.Mode, beforeLines: Bool = false
    ) {
        // A stopped thread takes no lines (`append` refuses them), so none of the files they would name.
        guard book.problem == nil else { return }
        let write = FileWrite(thread: book.id, file: file, bytes: bytes, mode: mode)
        switch mode {
        case .create, .createDurably:
            out.batches[out.batches.count - 1].writes.append(write)
            createdInBatch.insert(book.id + "/" + file)
        case .replace, .replaceDurably:
            if beforeLines {
                if createdInBatch.contains(book.id + "/" + file) { newBatch() }
                out.batches[out.batches.count - 1].preWrites.append(write)
            } else {
                out.batches[out.batches.count - 1].writes.append(write)
            }
        }
    }

    /// Ends the current batch: what follows starts after everything in it is done.
    func newBatch() {
        guard !out.batches[out.batches.count - 1].isEmpty else { return }
        out.batches.append(Batch())
        createdInBatch = []
    }

    /// Marks a moment worth a commit in the inbox's history.
    func commitPoint(_ book: ThreadMachine, _ summary: String, operatorFile: String? = nil) {
        out.commitPoints.append(CommitPoint(thread: book.id, summary: summary, operatorFile: operatorFile))
    }

    func note(_ level: Note.Level, _ message: String, _ metadata: [String: String] = [:]) {
        out.notes.append(Note(level, message, metadata))
    }

    /// Makes sure a `tick` comes at `moment` (or earlier).
    func wake(at moment: Moment) {
        if let next = nextWake, next <= moment, next > now.moment { return }
        nextWake = moment
        out.wake = min(out.wake ?? moment, moment)
    }

    func wake(in milliseconds: Int64) { wake(at: now.moment.adding(milliseconds: milliseconds)) }

    func rejectRoot(_ name: String, reason: String) {
        guard rejectedRoot.insert(name).inserted, inboxState.rejected[name]?.reason != reason else { return }
        appendInbox(.daemon, .rejected(file: name, reason: reason, sha256: nil))
    }

    /// Stops a thread for good (until a restart) and says why.
    func stopThread(_ book: ThreadMachine, because reason: String) {
        if let active = book.active { out.cancels.append(RunKey(thread: book.id, run: active.run)) }
        book.phase = .stopped(reason: reason)
        note(.error, "thread stopped", ["thread.id": book.id, "error": reason])
    }

    // MARK: Start and stop

    /// Records the stop; in-flight runs are left for the next start to resume (the journal says where).
    func stop(reason: String?) {
        guard !stopping else { return }
        stopping = true
        for book in threads.values {
            if let active = book.active { out.cancels.append(RunKey(thread: book.id, run: active.run)) }
        }
        appendInbox(.daemon, .daemonStopped(reason: reason))
    }

    // MARK: Threads

    /// The thread, or nil after asking the shell to read it (`input` waits for it, if given).
    func book(_ id: String, waiting input: Input? = nil) -> ThreadMachine? {
        if let book = threads[id] { return book }
        guard Names.isValidThreadName(id) else { return nil }
        if loading[id] == nil {
            loading[id] = []
            out.loads.append(Effects.Load(thread: id, bodies: true))
        }
        if let input { loading[id]?.append(input) }
        return nil
    }

    /// A thread arrived from disk: fold it, pick up what an earlier daemon left in flight, look at its
    /// files, then replay what waited for it.
    func loaded(_ load: ThreadLoad) {
        let requested = loading[load.id] != nil
        let waiting = loading.removeValue(forKey: load.id) ?? []
        if let paths = dueReads.removeValue(forKey: load.id) { out.reads[load.id, default: []] += paths }
        if let book = threads[load.id] {
            // Already here (asked again for its texts, or a catch-up load raced an on-demand one):
            // only the texts are news, and what waited for them can start.
            if book.contents == nil, let contents = load.contents {
                book.contents = contents
                book.quiet = false
                schedule()
            }
        } else {
            unloaded.remove(load.id)
            idle[load.id] = nil
            let book = ThreadMachine(id: load.id)
            threads[load.id] = book
            do {
                book.state = try ThreadState.fold(load.entries, thread: load.id)
                book.tail = load.entries.last
            } catch {
                stopThread(book, because: "\(error)")
                replay(waiting)
                return
            }
            book.contents = load.contents
            book.knownFiles = Set(load.files.map(\.name))
            book.controlsDone = Set(book.state.controls.map(\.file))
            if let runtimeThread = book.state.runtimeThreadID { boundThreads[runtimeThread] = book.id }
            readMeta(book, load.meta)
            recover(book)
            rescan(book, files: load.files)
            bindPending(book)
            out.siteChanged.insert(book.id)
            schedule()
            // The catch-up's loads let idle threads go again; a thread asked for stays for what comes.
            if !requested { evictIfIdle(book, files: load.files) }
        }
        replay(waiting)
    }

    private func replay(_ inputs: [Input]) {
        for input in inputs {
            switch input {
            case let .filesRead(thread, reads): filesRead(thread, reads)
            case let .fileWritten(thread, path): noteWrite(thread: thread, path: path)
            case let .outcome(outcome): handle(outcome)
            default: break
            }
        }
    }

    /// A thread whose journal cannot be read is left alone, with the reason.
    func unreadable(_ id: String, reason: String) {
        loading[id] = nil
        pendingBinds[id] = nil
        unloaded.remove(id)
        let book = threads[id] ?? ThreadMachine(id: id)
        threads[id] = book
        stopThread(book, because: reason)
        out.siteChanged.insert(id)
    }

    /// The shell found a thread's journal replaced under it. The lines not yet written were dropped
    /// (decided on a history that may be gone); the thread is read again from the new file, or, when
    /// that file no longer begins with what was written, stopped and reported.
    func journalReplaced(_ id: String, load: ThreadLoad?, reason: String) {
        if let old = threads.removeValue(forKey: id), let active = old.active {
            out.cancels.append(RunKey(thread: id, run: active.run))
        }
        if let load {
            note(
                .warning, "a thread journal was replaced under the daemon; reading the thread again",
                ["thread.id": id, "reason": reason])
            loaded(load)
            return
        }
        let book = ThreadMachine(id: id)
        threads[id] = book
        stopThread(book, because: reason)
        appendInbox(.daemon, .rejected(file: "\(id)/\(FileClassifier.journalName)", reason: reason, sha256: nil))
        out.siteChanged.insert(id)
    }

    /// The inbox journal was replaced: go on from the file as it is, with the lines that did not reach
    /// the old one journaled again, and a word when the new file lost lines the old one had.
    func inboxJournalReplaced(_ entries: [JournalEntry], unwritten: [JournalEntry]) {
        // The last line that reached the old file: the one before the first unwritten, or the tail.
        let durableSeq = unwritten.first.map { $0.seq - 1 } ?? inboxTail?.seq ?? 0
        let durableHash = unwritten.first?.prev ?? inboxTail?.hash
        let continues =
            durableSeq == 0 || (entries.count >= durableSeq && entries[durableSeq - 1].hash == durableHash)
        do {
            inboxState = try InboxState.fold(entries)
            inboxTail = entries.last
        } catch {
            note(.error, "the replaced inbox journal does not fold", ["error": "\(error)"])
            return
        }
        for entry in unwritten { appendInbox(entry.actor, entry.event) }
        if !continues {
            appendInbox(
                .daemon,
                .rejected(
                    file: FileClassifier.journalName,
                    reason:
                        "the inbox journal was replaced while the daemon was using it and the new file does not begin with the lines the daemon wrote; those lines are missing here",
                    sha256: nil))
        }
    }

    func readMeta(_ book: ThreadMachine, _ meta: Result<[UInt8], FileProblem>?) {
        switch meta {
        case nil:
            book.meta = ThreadMeta()
        case let .success(bytes):
            do {
                book.meta = try ThreadMeta.parse(bytes: bytes)
            } catch {
                book.meta = ThreadMeta()
                note(.warning, "thread.md is invalid", ["thread.id": book.id, "error": "\(error)"])
            }
        case let .failure(problem):
            book.meta = ThreadMeta()
            note(.warning, "thread.md cannot be read", ["thread.id": book.id, "error": problem.message])
        }
    }

    /// Picks up what a previous daemon left in flight: an attempt with no outcome is closed (and
    /// retried with the same key, so a runtime that deduplicates does nothing twice); a run still
    /// going is followed again where the runtime allows, else closed as errored with its text kept.
    private func recover(_ book: ThreadMachine) {
        for message in book.state.messages {
            if case let .sending(attempt) = message.delivery {
                append(
                    book, .daemon,
                    .retryScheduled(
                        message: message.id, attempt: attempt,
                        reason: "the daemon stopped during this attempt; it is retried with the same key",
                        notBefore: now.wall))
            }
        }
        guard let run = book.state.activeRun, let message = book.state.message(run.message) else { return }
        let runtimeName = runtimeName(forAgent: run.agent)
        let reference = RunReference(
            run: run.id, runtimeThreadID: book.state.runtimeThreadID, runtimeMessageID: message.runtimeID,
            excludedRuntimeIDs: earlierReplyIDs(book, message: message, excluding: run.id))
        var active = ActiveRun(
            run: run.id, message: run.message, file: run.file, agent: run.agent, runtime: runtimeName,
            reference: reference)
        let reply = ReplyBody(body(book, run.file))
        active.text = reply.text
        active.reasoning = reply.reasoning ?? ""
        for call in run.toolCalls {
            let record = ToolRecord(body(book, call.file))
            active.toolFiles[call.id] = call.file
            active.toolCalls[call.id] = ToolCallUpdate(
                id: call.id, name: call.tool, arguments: record.arguments, result: record.result,
                runtimeID: call.runtimeID)
        }
        for approval in run.approvals { if let id = approval.runtimeID { active.approvals[id] = approval.id } }
        book.active = active
        restoreApprovalFiles(book, run: run, agent: run.agent)
        for approval in run.approvals where approval.isPending && !approval.expired {
            if let expiresAt = approval.expiresAt { wakeForExpiry(book, expiresAt) }
        }
        let capabilities = capabilities(of: runtimeName)
        if run.status == .awaitingApproval, capabilities?.resumesWithAnswers == true {
            // Nothing is streaming: the run waits for the operator, and answering resumes it with a
            // new request (the same bytes as before the restart, so a repeat is safe). Answers
            // journaled but not sent before the stop go out now.
            sendAnswers(book)
            return
        }
        guard capabilities?.follows == true else {
            finish(
                book,
                end: .errored(
                    reason: "the daemon stopped while this reply was being written; the text that arrived is kept"))
            return
        }
        enqueue(.follow(runtime: runtimeName, thread: book.id, run: run.id, reference: reference))
    }

    /// A pending approval whose line is durable but whose file is not there (the daemon stopped between
    /// the two) gets its file again, from what the journal and the tool record say, so it can be answered.
    private func restoreApprovalFiles(_ book: ThreadMachine, run: RunState, agent: String) {
        for approval in run.approvals where approval.isPending && !book.knownFiles.contains(approval.file) {
            let arguments = approval.toolCall.flatMap { id in run.toolCalls.first { $0.id == id } }.map {
                ToolRecord(body(book, $0.file)).arguments
            }
            var extra: [(String, String)] = []
            if let runtimeID = approval.runtimeID { extra.append(("approval", runtimeID)) }
            if let tool = approval.tool { extra.append(("tool", tool)) }
            extra.append(("decisions", Decision.list(approval.decisions)))
            if let expiresAt = approval.expiresAt { extra.append(("expires", expiresAt.description)) }
            let document = DaemonFile(
                id: approval.id, role: .approval, agent: agent, inReplyTo: run.message, run: run.id,
                created: approval.requestedAt, status: approval.fileStatus, extra: extra,
                body: ApprovalForm.body(
                    prompt:
                        "The daemon stopped before this request's file was written; its question was not kept. The tool and its arguments are below.",
                    tool: approval.tool, arguments: arguments, decisions: approval.decisions,
                    expiresAt: approval.expiresAt))
            let text = document.text
            let bytes = Array(text.utf8)
            writeFile(book, approval.file, bytes, .createDurably)
            book.knownFiles.insert(approval.file)
            book.approvalHashes[approval.id] = SHA256Hex.digest(bytes)
            book.approvalTexts[approval.id] = text
            note(
                .warning, "an approval request's file was missing; written again",
                ["thread.id": book.id, "file.path": approval.file])
        }
    }

    /// Runtime ids of the replies of earlier runs of `message`, so a followed run ignores them.
    func earlierReplyIDs(_ book: ThreadMachine, message: MessageState, excluding run: String) -> [String] {
        book.state.runs(of: message).filter { $0.id != run }.compactMap { earlier in
            earlier.runtimeID ?? earlier.detail.flatMap { DetailJSON.string(in: $0, key: "runtime_id") }
        }
    }

    /// Whether a thread has anything in flight or waiting: such a thread stays in memory.
    func hasPendingWork(_ book: ThreadMachine) -> Bool {
        if book.holdsSlot || book.problem != nil || book.state.hasPendingWork { return true }
        let prefix = book.id + "/"
        return settling.keys.contains { $0.hasPrefix(prefix) } || loading[book.id] != nil || out.reads[book.id] != nil
    }

    /// Lets go of an idle thread's state (it is read again when needed); the shell closes its journal.
    func evictIfIdle(_ book: ThreadMachine, files: [DiskFile]) {
        guard !hasPendingWork(book) else { return }
        idle[book.id] = Self.listingStamp(files)
        threads[book.id] = nil
        out.released.append(book.id)
    }

    public static func listingStamp(_ files: [DiskFile]) -> String {
        SHA256Hex.digest(files.map { "\($0.name)\u{0}\($0.stamp)" }.joined(separator: "\u{1}"))
    }

    // MARK: Scheduling

    /// What the scheduler found for a thread.
    private enum Next {
        case started
        /// There is work, but not yet: a retry time, the runtime's health, a request in flight.
        case later
        /// Nothing to start until the thread's journal moves again.
        case nothing
    }

    /// Starts whatever can start: deliveries, regenerations, approval answers, within the limits.
    /// Threads found quiet are skipped until they journal something, so a pass costs little however
    /// many threads are busy.
    func schedule() {
        guard !stopping else { return }
        let books = booksInOrder ?? threads.values.sorted { $0.id < $1.id }
        booksInOrder = books
        var running = books.count(where: \.holdsSlot)
        for book in books {
            guard book.problem == nil, !book.quiet else { continue }
            let next: Next
            switch book.phase {
            case let .running(active) where active.requesting:
                next = .later  // the request that starts the run is still out
            case .running:
                next = queueBehindActiveRun(book)  // already counted as running
            case .acknowledging:
                next = .later  // a message queued behind the run that just ended is still on its way
            case .stopped:
                next = .nothing
            case .idle:
                if followQueuedRun(book) {
                    // The runtime has started that run already: following it takes no new slot, and
                    // may push the count over the limit until it ends.
                    next = .started
                    running += 1
                } else if running >= configuration.delivery.maxParallelThreads {
                    next = .later
                } else {
                    next = startNext(book)
                    if next == .started { running += 1 }
                }
            }
            if next == .nothing { book.quiet = true }
        }
    }

    /// The next thing an idle thread does when a slot is free: regenerate, or deliver a message.
    private func startNext(_ book: ThreadMachine) -> Next {
        if let regenerate = book.state.messages.first(where: { $0.regeneratePending }) {
            return startRegenerate(book, message: regenerate) ? .started : .later
        }
        guard let message = book.state.messages.first(where: \.isAwaitingDelivery) else { return .nothing }
        if case let .retrying(_, notBefore, _) = message.delivery, notBefore > now.wall {
            wake(in: notBefore.milliseconds - now.wall.milliseconds)
            return .later
        }
        return startAttempt(book, message: message) ? .started : .later
    }

    /// Runtimes that keep the conversation queue a message sent while they answer another (the
    /// control plane's contract), so the thread's next message is delivered now and its run followed
    /// when the current one ends. One run at a time per thread still holds: the runtime keeps to it.
    private func queueBehindActiveRun(_ book: ThreadMachine) -> Next {
        // Not behind a run the operator asked to stop: Letterbox names the message whose run it aborts,
        // but a control plane that ignores that ends whatever run the thread has when the request lands,
        // which could be this message's own.
        guard let active = book.active, active.queuedSend == nil else { return .later }
        guard !active.abortRequested, capabilities(of: active.runtime)?.queuesMessages == true,
            !book.state.messages.contains(where: { $0.regeneratePending }),
            let message = book.state.messages.first(where: \.isAwaitingDelivery),
            let agent = book.agent(for: messageAgent(book, message), default: defaultAgent),
            runtimeName(forAgent: agent) == active.runtime
        else { return .nothing }  // the run's end is journaled, which wakes the thread again
        if case let .retrying(_, notBefore, _) = message.delivery, notBefore > now.wall {
            wake(in: notBefore.milliseconds - now.wall.milliseconds)
            return .later
        }
        return startAttempt(book, message: message, behind: active) ? .started : .later
    }

    /// Follows the run of a message the runtime has but whose answer has not started here: one queued
    /// behind an earlier run, or one whose reply had not begun when the daemon stopped.
    private func followQueuedRun(_ book: ThreadMachine) -> Bool {
        for message in book.state.messages where message.isAwaitingItsRun {
            // The agent it was sent to, resolved as `startAttempt` did (thread.md, the default agent).
            guard let runtimeID = message.runtimeID,
                let agent = book.agent(for: messageAgent(book, message), default: defaultAgent), !agent.isEmpty
            else { continue }
            let runtimeName = runtimeName(forAgent: agent)
            guard capabilities(of: runtimeName)?.follows == true else { continue }
            let run = runID(book, message: message)
            let reference = RunReference(
                run: run, runtimeThreadID: book.state.runtimeThreadID, runtimeMessageID: runtimeID)
            book.active = ActiveRun(
                run: run, message: message.id, agent: agent, runtime: runtimeName, reference: reference)
            enqueue(.follow(runtime: runtimeName, thread: book.id, run: run, reference: reference))
            return true
        }
        return false
    }

    /// Timers fire here: settled files, due retries, pending reply snapshots.
    func tick() {
        if let next = nextWake, next <= now.moment { nextWake = nil }
        expireApprovals()
        retryAgentLists()
        processSettled()
        flushReplies()
        schedule()
    }

    // MARK: Helpers

    /// What runtime `name` can do.
    func capabilities(of name: String) -> RuntimeCapabilities? {
        configuration.runtimes.first { $0.name == name }?.capabilities
    }

    static func inboxID(from detail: String?) -> String? {
        detail.flatMap { DetailJSON.string(in: $0, key: "id") }.map { String($0.prefix(8)) }
    }

    /// The runtime serving `agent` (the first runtime when none is known).
    func runtimeName(forAgent agent: String) -> String {
        agents.first { $0.id == agent }?.runtime ?? configuration.runtimes[0].name
    }

    /// The body of a file of the thread (front matter cut), as loaded or written here ("" when unknown).
    func body(_ book: ThreadMachine, _ file: String) -> String {
        guard let bytes = book.contents?[file], let text = try? TextFile.decode(bytes, maxBytes: 16 << 20) else {
            return ""
        }
        return String((try? FrontMatter.split(text).body) ?? text[...]).trimmingWhitespace
    }

    /// Remembers a file's bytes (for histories), when the thread keeps them.
    func remember(_ book: ThreadMachine, _ file: String, bytes: [UInt8]) {
        if book.contents != nil { book.contents?[file] = bytes }
    }
}

extension ThreadState {
    /// Whether the thread has anything the daemon must still do or finish: a message to deliver or
    /// whose run to follow, a regenerate asked for, a run going, an answer not yet sent. Such a thread
    /// is kept in memory and loaded with its texts.
    public var hasPendingWork: Bool {
        if activeRun != nil { return true }
        if messages.contains(where: {
            $0.isAwaitingDelivery || $0.regeneratePending || $0.notYetSeen || $0.isAwaitingItsRun
        }) {
            return true
        }
        return runs.values.contains { $0.approvals.contains { $0.answer != nil && !$0.delivered } }
    }
}

extension RuntimeCapabilities {
    /// Approval answers go back as a new request that resumes the run (AG-UI), all at once.
    public var resumesWithAnswers: Bool { !serverHistory }
    /// A message sent while the runtime answers another waits in its queue (the control plane's
    /// contract); runtimes that get the history with each request need the answer first.
    public var queuesMessages: Bool { serverHistory }
    /// A run that was going can be followed again (after a restart, or queued behind another): the
    /// runtime keeps the conversation and lists a thread's messages (the control plane).
    public var follows: Bool { serverHistory && threadListing }
}
