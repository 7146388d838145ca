import ChatModel
import Foundation
import InboxStore
import Logging
import Synchronization

/// Work the coordinator hands out; the daemon service runs each in its task group.
enum DaemonJob: Sendable {
    /// Deliver a message (its `attempt` is already journaled), then record its run. Without a signal,
    /// only deliver: the runtime queues it behind the run in progress, which is followed later.
    case send(
        runtime: String, thread: String, message: String, attempt: Int, outgoing: OutgoingMessage,
        signal: AbortSignal?)
    /// Record a run that was going before a restart.
    case follow(runtime: String, thread: String, run: String, reference: RunReference, signal: AbortSignal)
    /// Ask for a new answer to a message, then record it.
    case regenerate(
        runtime: String, thread: String, run: String, outgoing: OutgoingMessage, previous: RunReference,
        signal: AbortSignal)
    /// Send approval answers (and record the resumed run, for runtimes that resume with a new request).
    case answer(
        runtime: String, thread: String, run: String, answers: [ApprovalAnswer], reference: RunReference,
        outgoing: OutgoingMessage, signal: AbortSignal)
    /// Stop a run in the runtime. A run waiting for approval on a runtime that resumes with a new
    /// request has its requests withdrawn instead (`withdraw`: the answers and the message to send).
    case abort(
        runtime: String, thread: String, run: String, reference: RunReference,
        withdraw: (answers: [ApprovalAnswer], outgoing: OutgoingMessage)?)
    /// Ask a runtime for its agents.
    case listAgents(runtime: String)
    /// Pull what the runtime has that the inbox lacks (runtimes that list threads).
    case sync(runtime: String)
    /// Call `tick()` at this instant.
    case wake(ContinuousClock.Instant)
}

extension DaemonJob {
    /// The thread a job is about, if any.
    var thread: String? {
        switch self {
        case let .send(_, thread, _, _, _, _), let .follow(_, thread, _, _, _), let .regenerate(_, thread, _, _, _, _),
            let .answer(_, thread, _, _, _, _, _), let .abort(_, thread, _, _, _):
            thread
        case .listAgents, .sync, .wake:
            nil
        }
    }
}

/// The daemon's core: owns every journal and thread state, turns file events, runtime answers and
/// timers into journal lines and files, and decides what to do next (docs/daemon.md).
///
/// Its methods do not suspend, so nothing interleaves inside one: decisions are made on a consistent
/// state. Network work happens in jobs, which report back through the methods in
/// `InboxCoordinator+Delivery.swift` and `InboxCoordinator+Runs.swift`.
public actor InboxCoordinator {
    let configuration: DaemonConfiguration
    let runtimes: [String: any ChatRuntime]
    let logger: Logger
    /// Wall-clock time for the journal (injected for tests).
    let now: @Sendable () -> Timestamp
    /// A random number in [0, 1) for backoff jitter (injected for tests).
    let random: @Sendable () -> Double
    let clock = ContinuousClock()
    let retry: RetryPolicy

    var workspace: Workspace { configuration.workspace }
    var settle: Duration { .milliseconds(configuration.delivery.settleMilliseconds) }

    var inboxJournal: JournalFile?
    var inboxState = InboxState()
    var inboxID = "inbox"
    var threads: [String: ThreadBook] = [:] { didSet { booksInOrder = nil } }
    /// `threads`' books by id, kept between scheduling passes until a thread is read or let go of.
    private var booksInOrder: [ThreadBook]?
    /// Thread folders found at start whose journals are not read yet (read on demand or in the catch-up).
    var unloaded: Set<String> = []
    /// Threads read, found idle and let go of, with the stamp of their folder listing at that time: a
    /// rescan reads one again only when its listing changed. Keeps memory flat however large the inbox.
    var idle: [String: String] = [:]
    /// Runtime thread id -> thread folder, for every thread read so far (the sync needs no reading).
    var boundThreads: [String: String] = [:]
    /// Top-level entries already reported as rejected.
    var rejectedRoot: Set<String> = []

    /// Paths waiting for their quiet window to pass.
    var settling: [String: ContinuousClock.Instant] = [:]
    /// The earliest pending wake job.
    var nextWake: ContinuousClock.Instant?

    var health: [String: RuntimeHealth] = [:]
    /// The runtime threads' `updatedAt` as of the last sync.
    var syncedUpdates: [String: String?] = [:]
    var agents: [RuntimeAgent] = []
    var agentsListed: Set<String> = []
    /// Runtimes whose agent list failed: when to ask again, and the backoff so far.
    var agentListRetry: [String: (at: ContinuousClock.Instant?, backoff: Int64)] = [:]

    /// Threads whose site pages are stale.
    var siteDirty: Set<String> = []
    /// Journals with staged lines ("" is the inbox journal), and jobs waiting for them to be written.
    var staged: Set<String> = []
    var pendingJobs: [DaemonJob] = []
    let jobs: AsyncStream<DaemonJob>.Continuation
    let siteChanges: AsyncStream<Set<String>>.Continuation
    var stopping = false
    /// Set while the inbox journal cannot be written.
    var inboxStall: Stall?
    /// Inbox journal events staged and not yet written (staged again if the file is replaced).
    var inboxUnwritten: [(Actor, JournalEvent)] = []
    /// Names of the events staged since the last commit (for `crashPoint`).
    var batchEvents: Set<String> = []
    /// A deliberate crash for tests (`LETTERBOX_CRASH_AT`).
    var crashPoint: CrashPoint?
    /// Counters for the benchmark and logs.
    public internal(set) var delivered = 0

    init(
        configuration: DaemonConfiguration, runtimes: [String: any ChatRuntime], logger: Logger,
        now: @escaping @Sendable () -> Timestamp, random: @escaping @Sendable () -> Double,
        jobs: AsyncStream<DaemonJob>.Continuation, siteChanges: AsyncStream<Set<String>>.Continuation
    ) {
        self.configuration = configuration
        self.runtimes = runtimes
        self.logger = logger
        self.now = now
        self.random = random
        self.jobs = jobs
        self.siteChanges = siteChanges
        self.retry = RetryPolicy(configuration.delivery.retry)
        for runtime in configuration.runtimes {
            health[runtime.name] = RuntimeHealth(breaker: CircuitBreaker(configuration.delivery.breaker))
        }
        agents = configuration.agents.map {
            RuntimeAgent(
                id: $0.id, name: $0.name, scopes: $0.scopes, runtime: $0.runtime ?? configuration.runtimes[0].name)
        }
    }

    // MARK: Start and stop

    /// Opens the inbox journal, records the start, and lists the threads. Threads are read lazily:
    /// `catchUp()` reads them all in the background, and any event in a thread reads it at once.
    func start(detail: String, crashPoint: CrashPoint? = nil) throws {
        self.crashPoint = crashPoint
        defer { commit() }
        try FileSystem.createDirectory(workspace.inbox)
        let opened = try JournalFile.open(
            path: workspace.inboxJournalPath, tornFolder: workspace.tornFolder, now: now(), beneath: workspace.inbox)
        inboxJournal = opened.journal
        inboxState = try InboxState.fold(opened.entries)
        if inboxState.createdAt == nil {
            appendInbox(.operator, .inboxCreated(detail: WorkspaceInitializer.inboxCreatedDetail()))
        }
        inboxID = Self.inboxID(from: inboxState.createdDetail) ?? "inbox"
        for name in health.keys {
            switch inboxState.runtime {
            case .degraded: health[name]?.journaledDegraded = true
            case .authFailing: health[name]?.journaledAuthFailing = true
            case .unknown, .reachable: break
            }
        }
        appendInbox(.daemon, .daemonStarted(detail: detail))
        appendInbox(.daemon, .config(detail: configurationSummary()))
        for entry in try FileSystem.listTypes(workspace.inbox) {
            switch FileClassifier.classifyRoot(entry.name, type: entry.type) {
            case let .thread(id): unloaded.insert(id)
            case let .rejected(reason): rejectRoot(entry.name, reason: reason)
            case .journal, .ignored: break
            }
        }
        for runtime in configuration.runtimes { enqueue(.listAgents(runtime: runtime.name)) }
        siteDirty.formUnion(unloaded)
        flushSite()
    }

    /// Reads every thread not read yet, sweeping temp files and resuming interrupted work. Returns
    /// how many threads it read.
    @discardableResult
    func catchUp(batch: Int = 50) -> Int {
        defer { commit() }
        var count = 0
        for id in unloaded.sorted().prefix(batch) {
            if let book = book(id) {
                schedule()
                evictIfIdle(book)
            }
            count += 1
        }
        if count > 0 { schedule() }
        return count
    }

    var hasUnloaded: Bool { !unloaded.isEmpty }

    /// Records the stop; in-flight runs are left for the next start to resume (the journal says where).
    func stop(reason: String?) {
        defer { commit() }
        guard !stopping else { return }
        stopping = true
        for book in threads.values { book.active?.abort.fire() }
        appendInbox(.daemon, .daemonStopped(reason: reason))
        flushSite()
    }

    // MARK: Journals

    /// Stages lines in a thread's journal and folds them into its state. They are written, with one
    /// fsync per journal, by `commit()` at the end of the current turn, before any job that depends on
    /// them is released (group commit: journal first, still).
    ///
    /// If the fold refuses one of `events` (a daemon bug), none of them is written and the thread
    /// stops with that problem; events before it in the same call may already be in the state in
    /// memory, which is no longer used. A restart reads the journal as it is on disk.
    @discardableResult
    func append(_ book: ThreadBook, _ events: [(Actor, JournalEvent)]) -> Bool {
        guard let journal = book.journal, book.problem == nil else { return false }
        let ts = now()
        do {
            _ = try journal.stage(events.map { (ts, $0.0, $0.1) }) { try book.state.apply($0) }
        } catch {
            book.problem = "the journal refused a line (not written): \(error)"
            logger.error("journal fold failed", metadata: ["thread.id": "\(book.id)", "error": "\(error)"])
            return false
        }
        staged.insert(book.id)
        siteDirty.insert(book.id)
        if crashPoint != nil { batchEvents.formUnion(events.map(\.1.name)) }
        book.quiet = false
        if let runtimeThread = book.state.runtimeThreadID { boundThreads[runtimeThread] = book.id }
        return true
    }

    func append(_ book: ThreadBook, _ actor: Actor, _ event: JournalEvent) {
        append(book, [(actor, event)])
    }

    func appendInbox(_ actor: Actor, _ event: JournalEvent) {
        guard let journal = inboxJournal else { return }
        do {
            _ = try journal.stage([(now(), actor, event)]) { try inboxState.apply($0) }
        } catch {
            logger.error("inbox journal fold failed", metadata: ["error": "\(error)"])
            return
        }
        inboxUnwritten.append((actor, event))
        staged.insert("")
        siteDirty.insert("")
        if crashPoint != nil { batchEvents.insert(event.name) }
    }

    /// Hands out a job once the lines staged before it are on disk.
    func enqueue(_ job: DaemonJob) {
        pendingJobs.append(job)
    }

    /// Ends a turn, always in this order: every staged journal is written (one write and fsync each,
    /// in parallel so the filesystem can batch them), then the files those lines name are created or
    /// replaced, then the jobs of the turn start, then the site hears what changed. No file and no
    /// request exists before the journal line that records it is durable.
    ///
    /// A journal or file that cannot be written (a full disk) stalls its thread: its lines stay staged,
    /// its files and jobs are held, and the write is tried again with backoff until it works
    /// (`retryStalled`). A journal replaced under the daemon (a `git pull`) is read again
    /// (`journalChanged`).
    func commit() {
        let batch = batchEvents
        batchEvents = []
        crashPoint?.reached(.journal, batch: batch)
        var failures: [String: StoreError] = [:]
        if !staged.isEmpty {
            let journals: [(String, JournalFile)] = staged.compactMap { id in
                id.isEmpty ? inboxJournal.map { ("", $0) } : threads[id]?.journal.map { (id, $0) }
            }
            staged = []
            let errors = Mutex<[String: StoreError]>([:])
            let work: @Sendable (Int) -> Void = { index in
                let (id, journal) = journals[index]
                do throws(StoreError) { try journal.commit() } catch { errors.withLock { $0[id] = error } }
            }
            if journals.count == 1 {
                work(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: journals.count, execute: work)
            }
            failures = errors.withLock { $0 }
        }
        if let error = failures.removeValue(forKey: "") {
            inboxWriteFailed(error)
        } else if inboxJournal?.hasStaged != true {
            inboxUnwritten = []
        }
        if inboxStall != nil, inboxJournal?.hasStaged != true {
            inboxStall = nil
            logger.notice("the inbox journal can be written again")
        }
        for (id, error) in failures.sorted(by: { $0.key < $1.key }) {
            guard let book = threads[id] else { continue }
            if error.code == .changed {
                journalChanged(book, error)
            } else if error.code == .notAllowed {
                stop(book, because: "cannot write the journal: \(error)")
            } else {
                stalled(book, because: "cannot write the journal: \(error)")
            }
        }
        crashPoint?.reached(.files, batch: batch)
        // Files, then jobs, for every thread whose lines are on disk.
        let now = clock.now
        for book in threads.values where !book.queuedWrites.isEmpty || book.stall != nil {
            guard failures[book.id] == nil, book.problem == nil else { continue }
            if let stall = book.stall, stall.retryAt > now, book.journal?.hasStaged == true { continue }
            performQueuedWrites(book)
        }
        crashPoint?.reached(.jobs, batch: batch)
        let released = pendingJobs
        pendingJobs = []
        for job in released {
            if let id = job.thread, let book = threads[id], book.stall != nil || book.problem != nil {
                if book.problem == nil { book.heldJobs.append(job) }
                continue
            }
            jobs.yield(job)
        }
        flushSite()
    }

    /// Writes a daemon file of `book`: a new name waits for the journal lines before it (`commit()`
    /// creates it); a new version of a file that exists is written now, unless earlier writes of the
    /// thread are still waiting, in which case it queues behind them.
    func writeFile(_ book: ThreadBook, _ file: String, _ bytes: [UInt8], _ mode: WriteMode) {
        let write = QueuedWrite(file: file, bytes: bytes, mode: mode)
        if mode.creates || !book.queuedWrites.isEmpty || book.stall != nil {
            book.queuedWrites.append(write)
            return
        }
        do throws(StoreError) {
            try perform(write, in: book)
        } catch {
            book.queuedWrites.append(write)
            stalled(book, because: "cannot write \(file): \(error.message)")
        }
    }

    /// Carries out a thread's queued writes in order; on the first failure the rest wait and the
    /// thread stalls. When everything is written, a stall ends and held work goes on.
    private func performQueuedWrites(_ book: ThreadBook) {
        while let write = book.queuedWrites.first {
            do throws(StoreError) {
                try perform(write, in: book)
            } catch  where error.errno == EEXIST {
                // Someone took the name between the journal line and the file (an operator's file with
                // a name Letterbox reserves): theirs stays; the journal keeps what the file would have said.
                logger.error(
                    "a file the journal names could not be created: the name is taken",
                    metadata: ["thread.id": "\(book.id)", "file.path": "\(write.file)"])
            } catch {
                stalled(book, because: "cannot write \(write.file): \(error.message)")
                return
            }
            book.queuedWrites.removeFirst()
        }
        guard let stall = book.stall, book.journal?.hasStaged != true else { return }
        book.stall = nil
        logger.notice(
            "the thread can be written again; resuming",
            metadata: ["thread.id": "\(book.id)", "was": "\(stall.reason)"])
        let held = book.heldJobs
        book.heldJobs = []
        for job in held { jobs.yield(job) }
        book.quiet = false
        if let end = book.pendingEnd {
            book.pendingEnd = nil
            finish(book, end: end)
        }
    }

    private func perform(_ write: QueuedWrite, in book: ThreadBook) throws(StoreError) {
        let path = book.folder + "/" + write.file
        switch write.mode {
        case .create: try DurableWriter.createQuickly(write.bytes, at: path)
        case .createDurably: try DurableWriter.write(write.bytes, to: path, mode: .createNew)
        case .replace: try DurableWriter.writeQuickly(write.bytes, to: path)
        case .replaceDurably: try DurableWriter.write(write.bytes, to: path, mode: .replace)
        }
    }

    /// A thread's journal or files cannot be written now (a full disk, an I/O error): keep everything
    /// and try again with backoff (1 s doubling to 30 s).
    func stalled(_ book: ThreadBook, because reason: String) {
        let backoff = min(30_000, (book.stall?.backoffMilliseconds ?? 500) * 2)
        if book.stall == nil {
            logger.error(
                "cannot write in a thread; it waits and retries",
                metadata: ["thread.id": "\(book.id)", "error": "\(reason)"])
        }
        book.stall = Stall(reason: reason, retryAt: clock.now + .milliseconds(backoff), backoffMilliseconds: backoff)
        wake(at: clock.now + .milliseconds(backoff))
    }

    /// The inbox journal cannot be written now: its lines stay staged and are tried again.
    private func inboxWriteFailed(_ error: StoreError) {
        if error.code == .changed, let journal = inboxJournal {
            reopenInboxJournal(after: error, had: journal.durable)
            return
        }
        let backoff = min(30_000, (inboxStall?.backoffMilliseconds ?? 500) * 2)
        if inboxStall == nil {
            logger.error("cannot write the inbox journal; retrying", metadata: ["error": "\(error)"])
        }
        inboxStall = Stall(
            reason: "\(error)", retryAt: clock.now + .milliseconds(backoff), backoffMilliseconds: backoff)
        wake(at: clock.now + .milliseconds(backoff))
    }

    /// Timer: stalled threads and the inbox journal whose retry is due try their writes again.
    func retryStalled(at instant: ContinuousClock.Instant) {
        if let stall = inboxStall, stall.retryAt <= instant, inboxJournal?.hasStaged == true { staged.insert("") }
        for book in threads.values {
            guard let stall = book.stall else { continue }
            if stall.retryAt <= instant {
                if book.journal?.hasStaged == true { staged.insert(book.id) }
            } else {
                wake(at: stall.retryAt)
            }
        }
    }

    /// Stops a thread for good (until a restart) and says why.
    func stop(_ book: ThreadBook, because reason: String) {
        book.problem = reason
        book.queuedWrites = []
        book.heldJobs = []
        book.active?.abort.fire()
        pendingJobs.removeAll { $0.thread == book.id }
        logger.error("thread stopped", metadata: ["thread.id": "\(book.id)", "error": "\(reason)"])
    }

    /// A thread's journal changed under the daemon (replaced by `git pull`, a checkout, a restore).
    /// Nothing staged is written: those lines were decided on a history that may be gone. If the
    /// file still begins with everything the daemon wrote, the thread is read again from it and goes
    /// on; if not, delivery in the thread stops and the inbox journal says why.
    func journalChanged(_ book: ThreadBook, _ error: StoreError) {
        let had = book.journal?.durable
        book.journal?.discardStaged()
        book.active?.abort.fire()
        pendingJobs.removeAll { $0.thread == book.id }
        threads[book.id] = nil
        let path = book.folder + "/" + FileClassifier.journalName
        let (entries, readError) = InboxReader.readJournal(path, beneath: workspace.inbox)
        let continues = had.map { had in entries.count >= had.seq && entries[had.seq - 1].hash == had.hash } ?? true
        if continues, readError == nil {
            logger.warning(
                "a thread journal was replaced under the daemon; reading the thread again",
                metadata: ["thread.id": "\(book.id)", "reason": "\(error.message)"])
            if let reread = self.book(book.id) { rescan(reread) }
            return
        }
        let file = "\(book.id)/\(FileClassifier.journalName)"
        let what = had.map { "its \($0.seq) lines ending in \($0.hash.prefix(12))" } ?? "its lines"
        let reason =
            "the journal was replaced while the daemon was using it (\(error.message)), and the new file does not begin with \(what), so lines are missing; delivery in this thread is stopped so that nothing is sent twice. Restore the journal (from git: git checkout ORIG_HEAD -- inbox/\(file); or a backup), or restart the daemon to go on from the file as it is now"
        let stopped = ThreadBook(id: book.id, folder: book.folder)
        threads[book.id] = stopped
        stop(stopped, because: reason)
        appendInbox(.daemon, .rejected(file: file, reason: reason, sha256: nil))
    }

    /// The inbox journal changed under the daemon: open the file as it is now (reporting lost lines).
    private func reopenInboxJournal(after error: StoreError, had: JournalEntry?) {
        do {
            let opened = try JournalFile.open(
                path: workspace.inboxJournalPath, tornFolder: workspace.tornFolder, now: now(),
                beneath: workspace.inbox)
            let entries = opened.entries
            let continues = had.map { had in entries.count >= had.seq && entries[had.seq - 1].hash == had.hash } ?? true
            inboxJournal = opened.journal
            inboxState = try InboxState.fold(entries)
            logger.warning(
                "the inbox journal was replaced under the daemon; reading it again", metadata: ["reason": "\(error)"])
            // What was not written yet is still news: it goes into the file as it is now.
            let unwritten = inboxUnwritten
            inboxUnwritten = []
            for (actor, event) in unwritten { appendInbox(actor, event) }
            if !continues {
                appendInbox(
                    .daemon,
                    .rejected(
                        file: FileClassifier.journalName,
                        reason:
                            "the inbox journal was replaced while the daemon was using it and the new file does not begin with the lines the daemon wrote; those lines are missing here",
                        sha256: nil))
            }
        } catch {
            logger.error("cannot read the replaced inbox journal", metadata: ["error": "\(error)"])
            inboxJournal = nil
        }
    }

    func rejectRoot(_ name: String, reason: String) {
        guard rejectedRoot.insert(name).inserted, inboxState.rejected[name]?.reason != reason else { return }
        appendInbox(.daemon, .rejected(file: name, reason: reason, sha256: nil))
    }

    // MARK: Threads

    /// The thread's book, reading it first if needed. Nil when the name is not a thread.
    func book(_ id: String) -> ThreadBook? {
        if let book = threads[id] { return book }
        guard Names.isValidThreadName(id), let entry = try? FileSystem.entry(at: workspace.threadFolder(id)),
            entry.type == .directory
        else { return nil }
        unloaded.remove(id)
        idle[id] = nil
        let book = ThreadBook(id: id, folder: workspace.threadFolder(id))
        threads[id] = book
        load(book)
        return book
    }

    private func load(_ book: ThreadBook) {
        do {
            try DurableWriter.sweepTempFiles(in: book.folder, beneath: workspace.inbox)
            let opened = try JournalFile.open(
                path: book.folder + "/" + FileClassifier.journalName, tornFolder: workspace.tornFolder, now: now(),
                beneath: workspace.inbox)
            book.journal = opened.journal
            book.state = try ThreadState.fold(opened.entries, thread: book.id)
            if let kept = opened.repairedTo {
                logger.warning(
                    "repaired a torn journal line", metadata: ["thread.id": "\(book.id)", "file.path": "\(kept)"])
            }
        } catch {
            book.problem = "\(error)"
            logger.error(
                "thread journal unusable; leaving the thread alone",
                metadata: ["thread.id": "\(book.id)", "error": "\(error)"])
            return
        }
        book.controlsDone = Set(book.state.controls.map(\.file))
        if let runtimeThread = book.state.runtimeThreadID { boundThreads[runtimeThread] = book.id }
        readMeta(book)
        recover(book)
        rescan(book)
        siteDirty.insert(book.id)
    }

    func readMeta(_ book: ThreadBook) {
        let path = book.folder + "/" + FileClassifier.threadMetaName
        guard FileSystem.exists(path) else {
            book.meta = ThreadMeta()
            return
        }
        do {
            book.meta = try ThreadMeta.parse(
                bytes: try FileSystem.readFile(path, maxBytes: 64 * 1024, beneath: workspace.inbox))
        } catch {
            book.meta = ThreadMeta()
            logger.warning("thread.md is invalid", metadata: ["thread.id": "\(book.id)", "error": "\(error)"])
        }
    }

    /// Picks up what a previous daemon left in flight: an attempt with no outcome is closed (and
    /// retried with the same key, so a runtime that deduplicates does nothing twice); a run still
    /// going is followed again where the runtime allows, else closed as errored with its text kept.
    private func recover(_ book: ThreadBook) {
        for message in book.state.messages {
            if case let .sending(attempt) = message.delivery {
                append(
                    book, .daemon,
                    .retryScheduled(
                        message: message.id, attempt: attempt,
                        reason: "the daemon stopped during this attempt; it is retried with the same key",
                        notBefore: now()))
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
        let reply = ReplyBody(bodyOf(book, file: run.file))
        active.text = reply.text
        active.reasoning = reply.reasoning ?? ""
        for call in run.toolCalls {
            active.toolFiles[call.id] = call.file
            active.toolCalls[call.id] = ToolCallUpdate(
                id: call.id, name: call.tool, arguments: toolArguments(book, file: call.file),
                result: toolResult(book, file: call.file), runtimeID: call.runtimeID)
        }
        for approval in run.approvals { if let id = approval.runtimeID { active.approvals[id] = approval.id } }
        book.active = active
        let runtime = runtimes[runtimeName]
        if run.status == .awaitingApproval, runtime?.capabilities.resumesWithAnswers == true {
            // Nothing is streaming: the run waits for the operator, and answering resumes it with a
            // new request (the same bytes as before the restart, so a repeat is safe). Answers
            // journaled but not sent before the stop go out now.
            sendAnswers(book)
            return
        }
        guard let runtime, runtime.follow(reference) != nil else {
            finish(
                book,
                end: .errored(
                    reason: "the daemon stopped while this reply was being written; the text that arrived is kept"))
            return
        }
        enqueue(
            .follow(runtime: runtimeName, thread: book.id, run: run.id, reference: reference, signal: active.abort))
    }

    /// Runtime ids of the replies of earlier runs of `message`, so a followed run ignores them.
    func earlierReplyIDs(_ book: ThreadBook, message: MessageState, excluding run: String) -> [String] {
        book.state.runs(of: message).filter { $0.id != run }.compactMap { earlier in
            earlier.runtimeID ?? earlier.detail.flatMap { Self.jsonString($0, key: "runtime_id") }
        }
    }

    /// Whether a thread has anything in flight or waiting: such a thread stays in memory.
    func hasPendingWork(_ book: ThreadBook) -> Bool {
        if book.active != nil || book.busy || book.sending != nil || book.state.activeRun != nil || book.problem != nil
            || book.stall != nil || !book.queuedWrites.isEmpty
        {
            return true
        }
        if book.state.messages.contains(where: {
            $0.isAwaitingDelivery || $0.regeneratePending || $0.notYetSeen || $0.isAwaitingItsRun
        }) {
            return true
        }
        if book.state.runs.values.contains(where: { $0.approvals.contains { $0.answer != nil && !$0.delivered } }) {
            return true
        }
        let prefix = book.folder + "/"
        return settling.keys.contains { $0.hasPrefix(prefix) }
    }

    /// Lets go of an idle thread's state (its journal is closed; it is read again when needed).
    func evictIfIdle(_ book: ThreadBook) {
        guard !hasPendingWork(book), book.journal?.hasStaged != true, !staged.contains(book.id),
            let files = try? InboxReader.listThreadFiles(book.folder, inbox: workspace.inbox)
        else { return }
        idle[book.id] = Self.listingStamp(files)
        threads[book.id] = nil
    }

    static func listingStamp(_ files: [DiskFile]) -> String {
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
    /// many threads are busy (it runs after every delivery and every run's end).
    func schedule() {
        guard !stopping else { return }
        let instant = clock.now
        let wall = now()
        let books = booksInOrder ?? threads.values.sorted { $0.id < $1.id }
        booksInOrder = books
        var running = books.count(where: \.holdsSlot)
        for book in books {
            guard book.problem == nil, !book.busy, !book.quiet else { continue }
            let next: Next
            if book.active != nil {
                next = queueBehindActiveRun(book, wall: wall, instant: instant)  // already counted as running
            } else if book.sending != nil {
                next = .later  // a message queued behind the run that just ended is still on its way
            } else if followQueuedRun(book) {
                // The runtime has started that run already: following it takes no new slot, and may
                // push the count over the limit until it ends.
                next = .started
                running += 1
            } else if running >= configuration.delivery.maxParallelThreads {
                next = .later
            } else {
                next = startNext(book, wall: wall, instant: instant)
                if next == .started { running += 1 }
            }
            if next == .nothing { book.quiet = true }
        }
        flushSite()
    }

    /// The next thing an idle thread does when a slot is free: regenerate, or deliver a message.
    private func startNext(_ book: ThreadBook, wall: Timestamp, instant: ContinuousClock.Instant) -> Next {
        if let regenerate = book.state.messages.first(where: { $0.regeneratePending }) {
            return startRegenerate(book, message: regenerate) ? .started : .later
        }
        guard let message = book.state.messages.first(where: \.isAwaitingDelivery) else { return .nothing }
        if case let .retrying(_, notBefore, _) = message.delivery, notBefore > wall {
            wake(at: instant + .milliseconds(notBefore.milliseconds - wall.milliseconds))
            return .later
        }
        return startAttempt(book, message: message) ? .started : .later
    }

    /// Runtimes that keep the conversation queue a message sent while they answer another (the
    /// control plane's contract), so the thread's next message is delivered now and its run followed
    /// when the current one ends. One run at a time per thread still holds: the runtime keeps to it.
    private func queueBehindActiveRun(_ book: ThreadBook, wall: Timestamp, instant: ContinuousClock.Instant) -> Next {
        guard book.sending == nil else { return .later }
        // Not behind a run the operator asked to stop: the control plane aborts whatever run the thread
        // has when the request lands, which could be this message's own.
        guard let active = book.active, !active.abortRequested,
            runtimes[active.runtime]?.capabilities.queuesMessages == true,
            !book.state.messages.contains(where: { $0.regeneratePending }),
            let message = book.state.messages.first(where: \.isAwaitingDelivery),
            let agent = book.agent(for: messageAgent(book, message), default: defaultAgent),
            runtimeName(forAgent: agent) == active.runtime
        else { return .nothing }  // the run's end is journaled, which wakes the thread again
        if case let .retrying(_, notBefore, _) = message.delivery, notBefore > wall {
            wake(at: instant + .milliseconds(notBefore.milliseconds - wall.milliseconds))
            return .later
        }
        return startAttempt(book, message: message, behind: active) ? .started : .later
    }

    /// Follows the run of a message the runtime has but whose answer has not started here: one queued
    /// behind an earlier run, or one whose reply had not begun when the daemon stopped.
    private func followQueuedRun(_ book: ThreadBook) -> Bool {
        for message in book.state.messages
        where message.isAwaitingItsRun {
            // The agent it was sent to, resolved as `startAttempt` did (thread.md, the default agent).
            guard let runtimeID = message.runtimeID,
                let agent = book.agent(for: messageAgent(book, message), default: defaultAgent), !agent.isEmpty
            else { continue }
            let runtimeName = runtimeName(forAgent: agent)
            let run = runID(book, message: message)
            let reference = RunReference(
                run: run, runtimeThreadID: book.state.runtimeThreadID, runtimeMessageID: runtimeID)
            guard runtimes[runtimeName]?.follow(reference) != nil else { continue }
            let active = ActiveRun(
                run: run, message: message.id, agent: agent, runtime: runtimeName, reference: reference)
            book.active = active
            enqueue(
                .follow(runtime: runtimeName, thread: book.id, run: run, reference: reference, signal: active.abort))
            return true
        }
        return false
    }

    /// Timers fire here: settled files, due retries, pending reply snapshots.
    func tick() {
        defer { commit() }
        let instant = clock.now
        if let next = nextWake, next <= instant { nextWake = nil }
        retryStalled(at: instant)
        retryAgentLists(at: instant)
        processSettled(at: instant)
        flushReplies(at: instant)
        schedule()
    }

    /// Makes sure `tick()` runs at `instant` (or earlier).
    func wake(at instant: ContinuousClock.Instant) {
        if let next = nextWake, next <= instant { return }
        nextWake = instant
        enqueue(.wake(instant))
    }

    /// Tells the site refresher which threads changed.
    func flushSite() {
        guard !siteDirty.isEmpty else { return }
        siteChanges.yield(siteDirty)
        siteDirty = []
    }

    // MARK: Helpers

    func configurationSummary() -> String {
        let runtimes = configuration.runtimes.map { runtime -> [String: Any] in
            ["name": runtime.name, "kind": runtime.kind.rawValue, "url": Self.redactedURL(runtime.url)]
        }
        let summary: [String: Any] = [
            "settle_ms": configuration.delivery.settleMilliseconds,
            "max_parallel_threads": configuration.delivery.maxParallelThreads, "runtimes": runtimes,
            "default_agent": configuration.defaultAgent ?? NSNull(), "site": configuration.buildSite,
        ]
        return Self.json(summary)
    }

    /// A URL without user info or query (which could hold a secret).
    static func redactedURL(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "<unparseable url>" }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "<unparseable url>"
    }

    static func json(_ object: Any) -> String {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func jsonString(_ json: String, key: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return nil
        }
        return object[key] as? String
    }

    static func inboxID(from detail: String?) -> String? {
        detail.flatMap { jsonString($0, key: "id") }.map { String($0.prefix(8)) }
    }

    /// The runtime serving `agent` (the first runtime when none is known).
    func runtimeName(forAgent agent: String) -> String {
        agents.first { $0.id == agent }?.runtime ?? configuration.runtimes[0].name
    }
}

/// A runtime's health: the circuit breaker, and a pause while it refuses the token.
struct RuntimeHealth {
    var breaker: CircuitBreaker
    /// The inbox journal says the runtime is degraded / refusing the token (an earlier daemon said so
    /// and nothing since said otherwise): the first success journals the recovery.
    var journaledDegraded = false
    var journaledAuthFailing = false
    /// Set while the runtime refuses the token: why, and when to try again.
    var authPause: (reason: String, retryAt: Timestamp, backoffMilliseconds: Int64)?
    /// One request is out to test the runtime again.
    var probing = false

    /// Whether a delivery may go out now. An open breaker or an auth pause lets one probe through when due.
    mutating func allowsRequest(now: Timestamp) -> Bool {
        if let pause = authPause {
            guard !probing, now >= pause.retryAt else { return false }
            probing = true
            return true
        }
        return breaker.allowsRequest(now: now)
    }

    /// When a blocked runtime lets the next probe through.
    var retryAt: Timestamp? { authPause?.retryAt ?? breaker.reopensAt }
}
