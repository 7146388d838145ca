import ChatModel
import Foundation
import InboxCore
import InboxStore
import Logging
import Synchronization

/// The shell around `InboxMachine`: it turns the world into the machine's inputs (watcher events,
/// files read, workers' outcomes, time) and carries out the machine's effects, always in the same
/// order per batch: pre-writes -> every journal's lines and one durability point -> the files those
/// lines name -> jobs (docs/daemon.md, "The pipeline").
///
/// It owns the open journals. A journal or file that cannot be written (a full disk) stalls its
/// thread: what follows waits, in order, and is retried with backoff until it works. A journal
/// replaced under the daemon is read again and handed to the machine (`Input.journalReplaced`).
///
/// `@unchecked Sendable`: it is used by one task at a time, never concurrently: `DaemonService.run()`
/// creates and starts it, then hands it to the loop task and does not touch it again.
final class InboxRunner: @unchecked Sendable {
    let configuration: DaemonConfiguration
    let machine: InboxMachine
    let logger: Logger
    /// Where jobs and timers go (the daemon's task group starts them).
    let spawn: @Sendable (Spawn) -> Void
    let siteChanges: AsyncStream<Set<String>>.Continuation?
    let crashPoint: CrashPoint?
    let clock = ContinuousClock()
    let origin: ContinuousClock.Instant

    var workspace: Workspace { configuration.workspace }

    var inboxJournal: JournalFile?
    var journals: [String: JournalFile] = [:]
    /// Work waiting behind a write that failed, per journal ("" is the inbox's), in order.
    var held: [String: [Held]] = [:]
    var stalls: [String: Stall] = [:]
    /// Run followers to stop, by run.
    var signals: [RunKey: AbortSignal] = [:]
    /// The earliest tick a sleeper is already out for.
    var scheduledWake: Moment?
    /// Inbox journal lines staged and not yet written (journaled again if the file is replaced).
    var inboxUnwritten: [JournalEntry] = []
    /// Commits the inbox's history, when it is in a git work tree (and commits are not turned off).
    var git: GitCommitter?
    /// The delivery lease, when the inbox is synced through a git remote (`git.sync_seconds`).
    var lease: LeaseKeeper?
    /// Requests from `letterbox sync` and `letterbox lease take`.
    var requests: GitRequests?
    /// The last git sync error reported (each is logged once).
    var syncFailure: String?
    /// Thread journals' durable heads not anchored in the inbox journal yet (docs/format.md §7.3).
    var unanchored: [String: JournalHead] = [:]

    /// What the runner hands to the daemon's task group.
    enum Spawn: Sendable {
        case job(Job, signal: AbortSignal?)
        case sleep(until: ContinuousClock.Instant)
        /// Run the `on_attention` command with these arguments (no shell).
        case attention(command: [String], notice: AttentionNotice)
    }

    /// A step held behind a failed write, done in order when the write works.
    enum Held {
        case preWrite(FileWrite)
        case lines([JournalEntry])
        case write(FileWrite)
        case job(Job)
    }

    /// Why a journal cannot be written now, and when to try again.
    struct Stall {
        var reason: String
        var retryAt: ContinuousClock.Instant
        var backoffMilliseconds: Int64
    }

    init(
        configuration: DaemonConfiguration, machine: InboxMachine, logger: Logger, crashPoint: CrashPoint?,
        siteChanges: AsyncStream<Set<String>>.Continuation?, spawn: @escaping @Sendable (Spawn) -> Void
    ) {
        self.configuration = configuration
        self.machine = machine
        self.logger = logger
        self.crashPoint = crashPoint
        self.siteChanges = siteChanges
        self.spawn = spawn
        origin = clock.now
    }

    /// The time for an input: monotonic, wall, and a random number for jitter.
    func now() -> Now {
        let elapsed = clock.now - origin
        let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        return Now(
            moment: Moment(milliseconds: milliseconds),
            wall: Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)), random: Double.random(in: 0..<1))
    }

    // MARK: Start

    /// Opens the inbox journal (repairing a torn tail), lists the inbox, and starts the machine.
    func start(detail: String) throws {
        try FileSystem.createDirectory(workspace.inbox)
        let opened = try JournalFile.open(
            path: workspace.inboxJournalPath, tornFolder: workspace.tornFolder, now: now().wall,
            beneath: workspace.inbox)
        inboxJournal = opened.journal
        let root = try FileSystem.listTypes(workspace.inbox).map { RootItem(name: $0.name, type: $0.type) }
        let effects = try machine.start(
            inbox: opened.entries, root: root, detail: detail, configuration: configurationSummary(),
            inboxCreatedDetail: WorkspaceInitializer.inboxCreatedDetail(), now: now())
        carryOut(effects)
        stageAnchor()
    }

    /// The effective configuration for the journal (JSON, no secrets).
    func configurationSummary() -> String {
        let runtimes = configuration.runtimes.map { runtime -> [String: Any] in
            ["name": runtime.name, "kind": runtime.kind.rawValue, "url": Self.redactedURL(runtime.url)]
        }
        let summary: [String: Any] = [
            "settle_ms": configuration.delivery.settleMilliseconds,
            "max_parallel_threads": configuration.delivery.maxParallelThreads, "runtimes": runtimes,
            "default_agent": configuration.defaultAgent ?? NSNull(), "site": configuration.buildSite,
        ]
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: summary, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A URL without user info or query (which could hold a secret).
    static func redactedURL(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "<unparseable url>" }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "<unparseable url>"
    }

    /// Looks for the inbox's git work tree and, when commits are on, commits at journal points. Throws
    /// when `git.commit: true` and there is no work tree to commit to.
    func setUpGit() async throws {
        guard let committer = try await Self.makeCommitter(workspace: workspace, logger: logger) else { return }
        git = committer
    }

    /// The committer for `workspace`'s inbox, or nil when it is not in a git work tree or commits are off.
    static func makeCommitter(workspace: Workspace, logger: Logger) async throws -> GitCommitter? {
        let settings = workspace.config.git
        guard settings.commit != false else { return nil }
        guard let repository = await GitRepository.find(containing: workspace.inbox) else {
            if settings.commit == true {
                throw StoreError(
                    .notFound,
                    "git.commit is true in letterbox.yaml but the inbox is not in a git work tree; run `git init` in the workspace, or set git.commit: false",
                    path: workspace.inbox)
            }
            return nil
        }
        let committer = GitCommitter(
            repository: repository, bot: .init(name: settings.name, email: settings.email),
            quiet: .seconds(settings.quietSeconds), logger: logger)
        committer.operatorIdentity = await repository.configuredIdentity()
        logger.info("committing the inbox's history", metadata: ["git.root": "\(repository.root)"])
        return committer
    }

    /// Commits the inbox's history when a commit is due (between batches, in the runner's loop).
    func commitIfDue() async {
        guard let git else { return }
        // The anchor staged for the batches this commit carries goes in with them.
        if git.isDue { flushAnchor() }
        guard let retry = await git.commitIfDue() else { return }
        spawn(.sleep(until: retry))
    }

    // MARK: Events

    /// Handles what arrived together, then carries out everything the machine decided as one commit.
    func handle(_ events: [RunnerEvent]) {
        var effects = Effects()
        for event in events {
            switch event {
            case let .file(event):
                for input in inputs(for: event) { effects.append(machine.handle(input, now: now())) }
            case let .outcome(outcome):
                effects.append(machine.handle(.outcome(outcome), now: now()))
            case .tick:
                retryStalled()
                effects.append(machine.handle(.tick, now: now()))
            case .catchUp:
                effects.append(catchUp())
            case .rescan:
                effects.append(machine.handle(rescanAll(), now: now()))
            case .syncDue:
                effects.append(machine.handle(.syncDue, now: now()))
            case .gitSync:
                break  // the loop syncs after the batch (`syncGit`)
            case let .stop(reason):
                effects.append(machine.handle(.stop(reason: reason), now: now()))
            }
        }
        carryOut(effects)
        stageAnchor()
    }

    // MARK: Anchors

    /// Stages one `anchor` line naming where the thread journals written since the last one now end.
    /// Their lines are durable already; the anchor rides along with the inbox journal's next write (the
    /// next group commit, or `flushAnchor` when the daemon goes idle), so it never names a line that a
    /// crash could lose, and costs no fsync of its own while the daemon is busy.
    ///
    /// Not while a delivery lease governs the inbox (a shared git remote): there every commit pins every
    /// journal's bytes in git's history, which is the stronger anchor, and the inbox journal stays a
    /// file the holder writes only at its start and stop, so a lease changing hands cannot make two
    /// clones append to it at once (docs/format.md §7.3, §10).
    func stageAnchor() {
        guard lease == nil, !unanchored.isEmpty, let journal = inboxJournal,
            let entry = machine.anchor(Array(unanchored.values), at: now().wall)
        else { return }
        unanchored = [:]
        if held[""] != nil {
            held["", default: []].append(.lines([entry]))
            return
        }
        do {
            try journal.stage(entries: [entry])
            inboxUnwritten.append(entry)
        } catch {
            logger.error("an anchor line was refused", metadata: ["error": "\(error)"])
        }
    }

    /// Writes a staged anchor now (the daemon is idle, or stopping).
    func flushAnchor() {
        guard held[""] == nil, let journal = inboxJournal, journal.hasStaged else { return }
        let failures = commit([("", journal)])
        if let error = failures[""] {
            writeFailed("", error)
        } else {
            inboxUnwritten = []
            if let due = git?.housekeeping(workspace.inboxJournalPath) { spawn(.sleep(until: due)) }
        }
    }

    /// Notes a thread journal's durable head for the next anchor.
    func noteDurable(_ id: String, _ journal: JournalFile) {
        guard !id.isEmpty, let head = journal.durable else { return }
        unanchored[id] = JournalHead(thread: id, seq: head.seq, hash: head.hash)
    }

    /// The machine's inputs for a watcher event.
    func inputs(for event: InotifyWatcher.Event) -> [Input] {
        switch event {
        case let .written(path):
            guard let (thread, rest) = split(path), !rest.isEmpty else { return [] }
            return [.fileWritten(thread: thread, path: rest)]
        case let .removed(path):
            guard let (thread, rest) = split(path) else { return [] }
            return [.fileRemoved(thread: thread, path: rest)]
        case let .folderCreated(path):
            guard let (thread, _) = split(path) else { return [] }
            return [.folderCreated(thread: thread)]
        case .overflow:
            logger.warning("inotify queue overflowed; rescanning the inbox")
            return [rescanAll()]
        }
    }

    /// `inbox/ops/hello.md` -> ("ops", "hello.md"); nil outside thread folders.
    func split(_ path: String) -> (String, String)? {
        let prefix = workspace.inbox + "/"
        guard path.hasPrefix(prefix) else { return nil }
        let relative = path.dropFirst(prefix.count)
        guard let slash = relative.firstIndex(of: "/") else {
            let name = String(relative)
            guard !name.isEmpty, !name.hasPrefix("."), Names.isValidThreadName(name) else { return nil }
            return (name, "")
        }
        let thread = String(relative[..<slash])
        guard Names.isValidThreadName(thread) else { return nil }
        return (thread, String(relative[relative.index(after: slash)...]))
    }

    /// Reads the next threads not read yet (50 at a time), so that the daemon is ready at once and
    /// every thread is looked at soon after. Threads with work pending come with their texts.
    func catchUp(batch: Int = 50) -> Effects {
        var effects = Effects()
        for id in machine.unloadedThreads.prefix(batch) {
            effects.append(machine.handle(load(id, contents: nil), now: now()))
        }
        return effects
    }

    /// Whether threads are still to be read.
    var hasUnloaded: Bool { !machine.unloadedThreads.isEmpty }

    /// The inbox root and the folders of the threads in memory or let go of, listed again.
    func rescanAll() -> Input {
        guard let entries = try? FileSystem.listTypes(workspace.inbox) else {
            return .rescanned(root: [], listings: [:])
        }
        // Only the threads in memory are handed over whole; of the others, only their stamp. At 100k
        // messages every listing at once was 18 MB, a third of the daemon's peak.
        var listings: [String: [DiskFile]] = [:]
        var idle: [String: String] = [:]
        for entry in entries where entry.type == .directory && Names.isValidThreadName(entry.name) {
            let (loaded, isIdle) = (machine.isLoaded(entry.name), machine.isIdle(entry.name))
            guard loaded || isIdle,
                let files = try? InboxReader.listThreadFiles(workspace.threadFolder(entry.name), inbox: workspace.inbox)
            else { continue }
            if loaded {
                listings[entry.name] = files
            } else {
                idle[entry.name] = InboxMachine.listingStamp(files)
            }
        }
        return .rescanned(
            root: entries.map { RootItem(name: $0.name, type: $0.type) }, listings: listings, idle: idle)
    }

    // MARK: Effects

    /// Carries out `effects`, then whatever the machine decides about what they read, until nothing
    /// more is asked for.
    func carryOut(_ effects: Effects) {
        var effects = effects
        for _ in 0..<16 {
            for batch in effects.batches where !batch.isEmpty { apply(batch) }
            for key in effects.cancels { signals.removeValue(forKey: key)?.fire() }
            for id in effects.released where held[id] == nil { journals[id] = nil }
            for note in effects.notes { log(note) }
            if !effects.siteChanged.isEmpty { siteChanges?.yield(effects.siteChanged) }
            if let wake = effects.wake { schedule(wake) }
            if let due = git?.record(effects.commitPoints, inbox: workspace.inbox) { spawn(.sleep(until: due)) }
            if let command = configuration.onAttention {
                for notice in effects.attention {
                    let path = workspace.threadFolder(notice.thread) + "/" + notice.file
                    spawn(.attention(command: command + [notice.thread, path, notice.reason], notice: notice))
                }
            }
            var next = Effects()
            for thread in effects.newThreads { makeFolder(thread) }
            for load in effects.loads {
                next.append(machine.handle(self.load(load.thread, contents: load.bodies), now: now()))
            }
            for (thread, paths) in effects.reads.sorted(by: { $0.key < $1.key }) {
                next.append(machine.handle(.filesRead(thread: thread, read(thread, paths)), now: now()))
            }
            if !effects.listings.isEmpty {
                var listings: [String: [DiskFile]] = [:]
                for thread in effects.listings {
                    listings[thread] = try? InboxReader.listThreadFiles(
                        workspace.threadFolder(thread), inbox: workspace.inbox)
                }
                next.append(machine.handle(.rescanned(root: nil, listings: listings), now: now()))
            }
            guard !next.isEmpty else { return }
            effects = next
        }
    }

    /// One batch, in the fixed order; a thread whose earlier work waits keeps this batch's work behind it.
    func apply(_ batch: Batch) {
        let events = crashPoint == nil ? [] : Set(batch.journal.values.flatMap { $0.map(\.event.name) })
        crashPoint?.reached(.journal, batch: events)
        for write in batch.preWrites { perform(write, held: .preWrite(write)) }
        // Lines: stage every journal, then write them all (in parallel: one durability point).
        var committing: [(String, JournalFile)] = []
        var refused: [String: StoreError] = [:]
        for id in batch.journalOrder {
            guard let entries = batch.journal[id], !entries.isEmpty else { continue }
            if held[id] != nil {
                held[id, default: []].append(.lines(entries))
                continue
            }
            guard let journal = journal(id) else { continue }
            do {
                try journal.stage(entries: entries)
                committing.append((id, journal))
                if id.isEmpty { inboxUnwritten += entries }
            } catch {
                // The lines do not follow the journal on disk (a daemon bug): none of this batch's files
                // or jobs for the thread may exist without them, so it is handled as a failed write.
                logger.error("a journal line was refused", metadata: ["thread.id": "\(id)", "error": "\(error)"])
                if !id.isEmpty { refused[id] = error }
            }
        }
        // A staged anchor rides along with this group commit.
        if held[""] == nil, let inbox = inboxJournal, inbox.hasStaged, !committing.contains(where: { $0.0.isEmpty }) {
            committing.append(("", inbox))
        }
        let failures = commit(committing).merging(refused) { committed, _ in committed }
        if failures[""] == nil, inboxJournal?.hasStaged != true { inboxUnwritten = [] }
        for (id, journal) in committing where failures[id] == nil {
            noteDurable(id, journal)
            git?.touched(id.isEmpty ? workspace.inboxJournalPath : workspace.journalPath(thread: id))
        }
        for (id, error) in failures.sorted(by: { $0.key < $1.key }) { writeFailed(id, error) }
        crashPoint?.reached(.files, batch: events)
        // A thread whose lines did not reach the disk gets none of this batch's files or jobs: held
        // behind a full disk, or dropped with a journal that was replaced (decided on a lost history).
        for write in batch.writes where failures[write.thread] == nil || held[write.thread] != nil {
            perform(write, held: .write(write))
        }
        crashPoint?.reached(.jobs, batch: events)
        for job in batch.jobs where job.thread.map({ failures[$0] == nil || held[$0] != nil }) ?? true { start(job) }
    }

    /// Commits journals together; returns the failures.
    func commit(_ journals: [(String, JournalFile)]) -> [String: StoreError] {
        guard !journals.isEmpty else { return [:] }
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
        return errors.withLock { $0 }
    }

    /// The open journal `id` ("" is the inbox's), opening a thread's when needed.
    func journal(_ id: String) -> JournalFile? {
        if id.isEmpty { return inboxJournal }
        if let journal = journals[id] { return journal }
        do {
            let opened = try JournalFile.open(
                path: workspace.journalPath(thread: id), tornFolder: workspace.tornFolder, now: now().wall,
                beneath: workspace.inbox)
            journals[id] = opened.journal
            return opened.journal
        } catch {
            logger.error("cannot open a journal", metadata: ["thread.id": "\(id)", "error": "\(error)"])
            return nil
        }
    }

    /// Writes a daemon file, unless its thread's earlier work waits (then it waits behind it).
    func perform(_ write: FileWrite, held step: Held) {
        if held[write.thread] != nil {
            held[write.thread, default: []].append(step)
            return
        }
        do throws(StoreError) {
            try carryOut(write)
            git?.touched(workspace.threadFolder(write.thread) + "/" + write.file)
        } catch  where error.errno == EEXIST {
            // Someone took the name between the decision and the file (an operator's file with a name
            // Letterbox reserves): theirs stays; the journal keeps what the file would have said.
            logger.error(
                "a file the journal names could not be created: the name is taken",
                metadata: ["thread.id": "\(write.thread)", "file.path": "\(write.file)"])
        } catch {
            held[write.thread, default: []].append(step)
            stall(write.thread, because: "cannot write \(write.file): \(error.message)")
        }
    }

    func carryOut(_ write: FileWrite) throws(StoreError) {
        let path = workspace.threadFolder(write.thread) + "/" + write.file
        switch write.mode {
        case .create: try DurableWriter.createQuickly(write.bytes, at: path)
        case .createDurably: try DurableWriter.write(write.bytes, to: path, mode: .createNew)
        case .replace: try DurableWriter.writeQuickly(write.bytes, to: path)
        case .replaceDurably: try DurableWriter.write(write.bytes, to: path, mode: .replace)
        }
    }

    /// Starts a job, unless its thread's earlier work waits.
    func start(_ job: Job) {
        if let thread = job.thread, held[thread] != nil {
            held[thread, default: []].append(.job(job))
            return
        }
        var signal: AbortSignal?
        switch job {
        case let .send(_, thread, _, _, outgoing, true):
            signal = signalFor(RunKey(thread: thread, run: outgoing.run))
        case let .follow(_, thread, run, _), let .regenerate(_, thread, run, _, _),
            let .answer(_, thread, run, _, _, _):
            signal = signalFor(RunKey(thread: thread, run: run))
        default:
            break
        }
        spawn(.job(job, signal: signal))
    }

    private func signalFor(_ key: RunKey) -> AbortSignal {
        if let signal = signals[key], !signal.isFired { return signal }
        let signal = AbortSignal()
        signals[key] = signal
        return signal
    }

    /// Makes sure a tick comes at `wake` (one sleeper per earlier time).
    func schedule(_ wake: Moment) {
        if let scheduled = scheduledWake, scheduled <= wake, scheduled > now().moment { return }
        scheduledWake = wake
        spawn(.sleep(until: origin + .milliseconds(wake.milliseconds)))
    }

    func log(_ note: Note) {
        let level: Logger.Level
        switch note.level {
        case .debug: level = .debug
        case .info: level = .info
        case .notice: level = .notice
        case .warning: level = .warning
        case .error: level = .error
        }
        logger.log(level: level, "\(note.message)", metadata: note.metadata.mapValues { .string($0) })
    }

    // MARK: Failed writes

    /// A journal could not be written: replaced under the daemon, refused for good, or (a full disk)
    /// stalled and retried.
    func writeFailed(_ id: String, _ error: StoreError) {
        if error.code == .changed {
            replaced(id, error)
        } else if error.code == .notAllowed, !id.isEmpty {
            journals[id]?.discardStaged()
            journals[id] = nil
            logger.error("a journal cannot be written", metadata: ["thread.id": "\(id)", "error": "\(error)"])
            carryOut(
                machine.handle(.threadUnreadable(thread: id, reason: "cannot write the journal: \(error)"), now: now()))
        } else {
            // The lines stay staged in the journal; what follows waits behind them.
            held[id, default: []].insert(.lines([]), at: 0)
            stall(id, because: "cannot write the journal: \(error)")
        }
    }

    /// Everything after a failed write in this journal's thread waits, and is tried again with backoff
    /// (1 s doubling to 30 s) until it works: a full disk stalls a thread, it does not break it.
    func stall(_ id: String, because reason: String) {
        let backoff = min(30_000, (stalls[id]?.backoffMilliseconds ?? 500) * 2)
        if stalls[id] == nil {
            logger.error(
                "cannot write; waiting and trying again", metadata: ["thread.id": "\(id)", "error": "\(reason)"])
        }
        let retryAt = clock.now + .milliseconds(backoff)
        stalls[id] = Stall(reason: reason, retryAt: retryAt, backoffMilliseconds: backoff)
        spawn(.sleep(until: retryAt))
    }

    /// Timer: stalled journals whose retry is due do their held work in order, stopping at the first
    /// step that still fails.
    func retryStalled() {
        for (id, stall) in stalls.sorted(by: { $0.key < $1.key }) where stall.retryAt <= clock.now {
            var steps = held.removeValue(forKey: id) ?? []
            stalls[id] = nil
            while !steps.isEmpty {
                let step = steps.removeFirst()
                var failed: StoreError?
                switch step {
                case let .preWrite(write), let .write(write):
                    do throws(StoreError) {
                        try carryOut(write)
                        git?.touched(workspace.threadFolder(write.thread) + "/" + write.file)
                    } catch  where error.errno == EEXIST {} catch {
                        failed = error
                    }
                case let .lines(entries):
                    guard let journal = journal(id) else { continue }
                    do throws(StoreError) {
                        try journal.stage(entries: entries)
                        if id.isEmpty { inboxUnwritten += entries }
                        try journal.commit()
                        if id.isEmpty { inboxUnwritten = [] }
                        noteDurable(id, journal)
                        git?.touched(id.isEmpty ? workspace.inboxJournalPath : workspace.journalPath(thread: id))
                    } catch {
                        failed = error
                    }
                case let .job(job):
                    start(job)
                }
                if let failed {
                    if failed.code == .changed {
                        replaced(id, failed)
                        steps = []
                        break
                    }
                    // `lines` stay staged in the journal: retrying commits them; nothing to put back.
                    if case .lines = step { steps.insert(.lines([]), at: 0) } else { steps.insert(step, at: 0) }
                    held[id] = steps
                    stalls[id] = Stall(
                        reason: "\(failed)",
                        retryAt: clock.now + .milliseconds(min(30_000, stall.backoffMilliseconds * 2)),
                        backoffMilliseconds: min(30_000, stall.backoffMilliseconds * 2))
                    spawn(.sleep(until: stalls[id]?.retryAt ?? clock.now))
                    break
                }
            }
            if held[id] == nil {
                logger.notice("writing again; resuming", metadata: ["thread.id": "\(id)", "was": "\(stall.reason)"])
            }
        }
    }

    /// A journal changed under the daemon (replaced by `git pull`, a checkout, a restore). Nothing
    /// held or staged is written (it was decided on a history that may be gone). If the file still
    /// begins with everything the daemon wrote, the thread is read again from it and goes on; if not,
    /// the machine stops the thread and reports why.
    func replaced(_ id: String, _ error: StoreError) {
        held[id] = nil
        stalls[id] = nil
        if id.isEmpty {
            reopenInboxJournal(after: error)
            return
        }
        let had = journals[id]?.durable
        journals[id]?.discardStaged()
        journals[id] = nil
        let path = workspace.journalPath(thread: id)
        let (entries, readError) = InboxReader.readJournal(path, beneath: workspace.inbox)
        let continues = had.map { had in entries.count >= had.seq && entries[had.seq - 1].hash == had.hash } ?? true
        if continues, readError == nil, case let .threadLoaded(load) = load(id, contents: true) {
            carryOut(machine.handle(.journalReplaced(thread: id, load: load, reason: error.message), now: now()))
            return
        }
        let what = had.map { "its \($0.seq) lines ending in \($0.hash.prefix(12))" } ?? "its lines"
        let reason =
            "the journal was replaced while the daemon was using it (\(error.message)), and the new file does not begin with \(what), so lines are missing; delivery in this thread is stopped so that nothing is sent twice. Restore the journal (from git: git checkout ORIG_HEAD -- \(workspace.relative(path)); or a backup), or restart the daemon to go on from the file as it is now"
        carryOut(machine.handle(.journalReplaced(thread: id, load: nil, reason: reason), now: now()))
    }

    /// The inbox journal changed under the daemon: go on in the file as it is now, journaling again
    /// what had not reached the old one.
    private func reopenInboxJournal(after error: StoreError) {
        do {
            let opened = try JournalFile.open(
                path: workspace.inboxJournalPath, tornFolder: workspace.tornFolder, now: now().wall,
                beneath: workspace.inbox)
            inboxJournal = opened.journal
            let unwritten = inboxUnwritten
            inboxUnwritten = []
            carryOut(machine.handle(.inboxJournalReplaced(entries: opened.entries, unwritten: unwritten), now: now()))
            logger.warning(
                "the inbox journal was replaced under the daemon; reading it again", metadata: ["reason": "\(error)"])
        } catch {
            logger.error("cannot read the replaced inbox journal", metadata: ["error": "\(error)"])
            inboxJournal = nil
        }
    }

    // MARK: Reading

    /// Reads a thread for the machine: its journal (opened for appending, a torn tail repaired), its
    /// `thread.md`, its files and, when `contents` (or, when nil, when it has work pending), the bytes
    /// of its message, reply and tool files.
    func load(_ id: String, contents: Bool?) -> Input {
        let folder = workspace.threadFolder(id)
        do {
            try DurableWriter.sweepTempFiles(in: folder, beneath: workspace.inbox)
            let opened = try JournalFile.open(
                path: folder + "/" + FileClassifier.journalName, tornFolder: workspace.tornFolder, now: now().wall,
                beneath: workspace.inbox)
            journals[id] = opened.journal
            // Lines a killed daemon wrote and did not anchor (or a repair just made): anchored next.
            if let last = opened.entries.last,
                machine.inbox.anchors[id] != JournalHead(thread: id, seq: last.seq, hash: last.hash)
            {
                noteDurable(id, opened.journal)
            }
            if let kept = opened.repairedTo {
                logger.warning(
                    "repaired a torn journal line", metadata: ["thread.id": "\(id)", "file.path": "\(kept)"])
            }
            let files = try InboxReader.listThreadFiles(folder, inbox: workspace.inbox)
            var meta: Result<[UInt8], FileProblem>?
            if files.contains(where: { $0.kind == .threadMeta }) {
                do throws(StoreError) {
                    meta = .success(
                        try FileSystem.readFile(
                            folder + "/" + FileClassifier.threadMetaName, maxBytes: 64 * 1024, beneath: workspace.inbox)
                    )
                } catch {
                    meta = .failure(FileProblem(error.message))
                }
            }
            let wantsContents =
                contents ?? ((try? ThreadState.fold(opened.entries, thread: id).hasPendingWork) ?? false)
            var bytes: [String: [UInt8]]?
            if wantsContents {
                var read: [String: [UInt8]] = [:]
                for file in files where ThreadLoad.keepsContents(file.kind) {
                    read[file.name] = try? FileSystem.readFile(
                        folder + "/" + file.name, maxBytes: 16 << 20, beneath: workspace.inbox)
                }
                bytes = read
            }
            return .threadLoaded(ThreadLoad(id: id, entries: opened.entries, meta: meta, files: files, contents: bytes))
        } catch {
            journals[id] = nil
            logger.error("thread unusable; leaving it alone", metadata: ["thread.id": "\(id)", "error": "\(error)"])
            return .threadUnreadable(thread: id, reason: "\(error)")
        }
    }

    /// `lstat`s and reads files of a thread for the machine, as much of each as its kind needs.
    func read(_ thread: String, _ paths: [String]) -> [FileRead] {
        let folder = workspace.threadFolder(thread)
        return paths.map { path in
            let full = folder + "/" + path
            guard let entry = try? FileSystem.entry(at: full) else {
                return FileRead(path: path, file: nil, type: .file, content: nil)
            }
            let components = path.split(separator: "/").map(String.init)
            let kind = FileClassifier.classify(components, type: entry.type)
            let file = DiskFile(name: path, kind: kind, mtime: entry.mtime, size: entry.size, stamp: entry.stamp)
            var content: Result<[UInt8], FileProblem>?
            if let limit = FileRead.readLimit(
                kind, type: entry.type, messageBytes: workspace.config.limits.messageBytes)
            {
                do throws(StoreError) {
                    content = .success(try FileSystem.readFile(full, maxBytes: limit, beneath: workspace.inbox))
                } catch {
                    content = .failure(FileProblem(error.message))
                }
            }
            return FileRead(path: path, file: file, type: entry.type, content: content)
        }
    }

    /// Makes the folder of a thread started elsewhere (then `loads` reads it).
    func makeFolder(_ thread: NewThread) {
        do {
            try WorkspaceInitializer.createThread(thread.name, title: thread.title, agent: thread.agent, in: workspace)
            git?.touched(workspace.threadFolder(thread.name) + "/" + FileClassifier.threadMetaName)
        } catch {
            logger.error(
                "could not create a folder for a runtime thread",
                metadata: ["thread.id": "\(thread.name)", "error": "\(error)"])
        }
    }
}
