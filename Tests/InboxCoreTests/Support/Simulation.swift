import ChatModel
import InboxCore
import Testing

/// A shell for `InboxMachine` with no IO: journals and files are arrays in memory, time is a manual
/// clock, and every effect is carried out in the order the real runner uses, with each step logged,
/// so tests can check what happened and in which order.
final class Simulation {
    /// One thing the shell did, in order.
    enum Step: Equatable, CustomStringConvertible {
        case line(String, String)
        case file(String, String, FileWrite.Mode)
        case job(String)

        var description: String {
            switch self {
            case let .line(journal, event): "line \(journal.isEmpty ? "inbox" : journal) \(event)"
            case let .file(thread, file, mode): "file \(thread)/\(file) \(mode)"
            case let .job(job): "job \(job)"
            }
        }
    }

    var machine: InboxMachine
    let configuration: MachineConfiguration
    var moment: Int64 = 0
    var wall: Int64 = 1_800_000_000_000
    var random = 0.5
    var journals: [String: [JournalEntry]] = [:]
    var files: [String: [String: (bytes: [UInt8], mtime: Int64)]] = [:]
    var steps: [Step] = []
    var jobs: [Job] = []
    var wakes: [Int64] = []
    var cancels: [RunKey] = []

    static let controlPlane = RuntimeCapabilities(
        streaming: true, toolCalls: true, approvals: true, abort: true, regenerate: true, threadListing: true,
        serverHistory: true, agentListing: true)
    static let agUI = RuntimeCapabilities(
        streaming: true, toolCalls: true, approvals: true, abort: true, regenerate: false, threadListing: false,
        serverHistory: false, agentListing: false)

    static let assistant = RuntimeAgent(id: "assistant", name: nil, scopes: ["chat"], runtime: "rt")

    init(
        capabilities: RuntimeCapabilities = Simulation.controlPlane, threads: [String] = ["ops"],
        listAgents: Bool = true, tune: (inout WorkspaceConfig.Delivery) -> Void = { _ in }
    ) {
        var delivery = WorkspaceConfig.Delivery()
        delivery.settleMilliseconds = 100
        delivery.retry.baseMilliseconds = 100
        delivery.retry.maxMilliseconds = 1000
        delivery.retry.maxAgeSeconds = 60
        delivery.breaker.failures = 3
        delivery.breaker.cooldownMilliseconds = 500
        tune(&delivery)
        configuration = MachineConfiguration(
            runtimes: [.init(name: "rt", capabilities: capabilities)],
            agents: capabilities.agentListing
                ? [] : [RuntimeAgent(id: "assistant", name: nil, scopes: ["chat"], runtime: "rt")],
            defaultAgent: "assistant", delivery: delivery, limits: WorkspaceConfig.Limits())
        machine = InboxMachine(configuration: configuration)
        for thread in threads { files[thread] = [:] }
        start()
        if capabilities.agentListing && listAgents {
            feed(.outcome(.agentsListed(runtime: "rt", result: .success([Self.assistant]))))
        }
    }

    /// Starts (or, after a crash, restarts) a machine from what is on "disk".
    func start() {
        let effects = try? machine.start(
            inbox: journals[""] ?? [], root: files.keys.sorted().map { RootItem(name: $0, type: .directory) },
            detail: "{}", configuration: "{}", inboxCreatedDetail: #"{"id":"abcdef123456"}"#, now: now)
        if let effects { carryOut(effects) }
        // The shell's catch-up.
        for id in machine.unloadedThreads { feed(.threadLoaded(load(id))) }
    }

    /// A machine rebuilt from the journals and files, as after a SIGKILL.
    func crash() {
        machine = InboxMachine(configuration: configuration)
        jobs = []
        steps = []
        start()
        if configuration.runtimes[0].capabilities.agentListing {
            feed(.outcome(.agentsListed(runtime: "rt", result: .success([Self.assistant]))))
        }
    }

    var now: Now { Now(moment: Moment(milliseconds: moment), wall: Timestamp(milliseconds: wall), random: random) }

    @discardableResult
    func feed(_ input: Input) -> Effects {
        let effects = machine.handle(input, now: now)
        carryOut(effects)
        return effects
    }

    func carryOut(_ effects: Effects) {
        for batch in effects.batches {
            for write in batch.preWrites { put(write) }
            for id in batch.journalOrder {
                for entry in batch.journal[id] ?? [] {
                    journals[id, default: []].append(entry)
                    steps.append(.line(id, entry.event.name))
                }
            }
            for write in batch.writes { put(write) }
            for job in batch.jobs {
                jobs.append(job)
                steps.append(.job(Self.describe(job)))
            }
        }
        cancels += effects.cancels
        if let wake = effects.wake { wakes.append(wake.milliseconds) }
        for thread in effects.newThreads { files[thread.name] = [:] }
        for load in effects.loads { feed(.threadLoaded(self.load(load.thread))) }
        for (thread, paths) in effects.reads.sorted(by: { $0.key < $1.key }) {
            feed(.filesRead(thread: thread, paths.map { read(thread, $0) }))
        }
    }

    private func put(_ write: FileWrite) {
        files[write.thread, default: [:]][write.file] = (write.bytes, wall)
        steps.append(.file(write.thread, write.file, write.mode))
    }

    static func describe(_ job: Job) -> String {
        switch job {
        case let .send(_, thread, message, attempt, _, follow):
            "send \(thread)/\(message) #\(attempt)\(follow ? "" : " queued")"
        case let .follow(_, thread, run, _): "follow \(thread) \(run)"
        case let .regenerate(_, thread, run, _, _): "regenerate \(thread) \(run)"
        case let .answer(_, thread, run, answers, _, _): "answer \(thread) \(run) \(answers.count)"
        case let .abort(_, thread, run, _, _): "abort \(thread) \(run)"
        case let .listAgents(runtime): "agents \(runtime)"
        case let .listThreads(runtime): "threads \(runtime)"
        case let .fetchMessages(_, thread): "messages \(thread.id)"
        }
    }

    func kind(_ name: String) -> FileKind {
        FileClassifier.classify(name.split(separator: "/").map(String.init), type: .file)
    }

    func load(_ id: String) -> ThreadLoad {
        let listing = (files[id] ?? [:]).map { name, file in
            DiskFile(
                name: name, kind: kind(name), mtime: Timestamp(milliseconds: file.mtime), size: file.bytes.count,
                stamp: "\(file.mtime):\(file.bytes.count)")
        }.sorted { $0.name < $1.name }
        var contents: [String: [UInt8]] = [:]
        for file in listing where ThreadLoad.keepsContents(file.kind) {
            contents[file.name] = files[id]?[file.name]?.bytes
        }
        return ThreadLoad(
            id: id, entries: journals[id] ?? [], meta: nil, files: listing, contents: contents)
    }

    func read(_ thread: String, _ path: String) -> FileRead {
        guard let file = files[thread]?[path] else { return FileRead(path: path, file: nil, type: .file, content: nil) }
        let kind = kind(path)
        let disk = DiskFile(
            name: path, kind: kind, mtime: Timestamp(milliseconds: file.mtime), size: file.bytes.count,
            stamp: "\(file.mtime):\(file.bytes.count)")
        let limit = FileRead.readLimit(kind, type: .file, messageBytes: configuration.limits.messageBytes)
        return FileRead(path: path, file: disk, type: .file, content: limit.map { _ in .success(file.bytes) })
    }

    // MARK: Operator and time

    /// Saves a file in a thread folder, as an editor would, and tells the machine.
    func save(_ thread: String, _ name: String, _ text: String) {
        files[thread, default: [:]][name] = (Array(text.utf8), wall)
        feed(.fileWritten(thread: thread, path: name))
    }

    /// Moves the clock on and ticks.
    func advance(_ milliseconds: Int64) {
        moment += milliseconds
        wall += milliseconds
        feed(.tick)
    }

    func state(_ thread: String = "ops") throws -> ThreadState {
        try ThreadState.fold(journals[thread] ?? [], thread: thread)
    }

    func inbox() throws -> InboxState { try InboxState.fold(journals[""] ?? []) }

    func events(_ thread: String = "ops") -> [String] { (journals[thread] ?? []).map(\.event.name) }

    /// A file's text ("" when it is not there).
    func text(_ thread: String, _ file: String) -> String {
        String(decoding: files[thread]?[file]?.bytes ?? [], as: UTF8.self)
    }

    /// The jobs handed out since the last call.
    func takeJobs() -> [Job] {
        defer { jobs = [] }
        return jobs
    }

    /// The last send job, for answering it.
    func lastSend() -> (thread: String, message: String, attempt: Int, outgoing: OutgoingMessage)? {
        for job in jobs.reversed() {
            if case let .send(_, thread, message, attempt, outgoing, _) = job {
                return (thread, message, attempt, outgoing)
            }
        }
        return nil
    }

    /// The runtime takes the message (`send` job) and says so.
    func accept(_ thread: String, _ message: String, attempt: Int, runtimeID: String = "msg_1") {
        let reference = RunReference(run: "\(message).run-1", runtimeThreadID: "thr_1", runtimeMessageID: runtimeID)
        feed(
            .outcome(
                .delivered(
                    runtime: "rt", thread: thread, message: message, attempt: attempt,
                    accepted: Accepted(runtimeMessageID: runtimeID, runtimeThreadID: "thr_1", reference: reference))))
    }

    func fail(_ thread: String, _ message: String, attempt: Int, _ error: RuntimeError) {
        feed(.outcome(.deliveryFailed(runtime: "rt", thread: thread, message: message, attempt: attempt, error: error)))
    }

    func update(_ thread: String, _ run: String, _ update: RunUpdate) {
        feed(.outcome(.runUpdate(thread: thread, run: run, update: update)))
    }
}
