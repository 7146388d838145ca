import AsyncHTTPClient
import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Logging
import ReferenceRuntime
import Testing

@testable import InboxDaemon

/// A scratch workspace with a fast configuration, and helpers to drive and observe it.
final class Scratch: @unchecked Sendable {
    // @unchecked: only paths, set once in init.
    let root: String
    var inbox: String { root + "/inbox" }

    /// A workspace in a new folder (under `parent`, a small disk say, or the temporary folder).
    init(settleMilliseconds: Int = 40, syncSeconds: Int = 600, extraConfig: String = "", under parent: String? = nil)
        throws
    {
        let base = parent.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory
        root = base.appendingPathComponent("lb-daemon-\(UUID().uuidString)").path
        try WorkspaceInitializer.create(in: root, now: Timestamp(milliseconds: 1_795_000_000_000))
        let config = """
            version: 1
            default_agent: assistant
            delivery:
              settle_ms: \(settleMilliseconds)
              poll_wait_seconds: 2
              timeout_seconds: 3
              rescan_seconds: 600
              sync_seconds: \(syncSeconds)
              retry:
                base_ms: 40
                max_ms: 400
              breaker:
                failures: 3
                cooldown_ms: 300
            \(extraConfig)
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: root + "/letterbox.yaml"))
    }

    /// A workspace that already exists at `root` (a clone, say); removed with the scratch.
    init(existing root: String) {
        self.root = root
    }

    deinit {
        // LETTERBOX_KEEP_SCRATCH=1 keeps the folder (and the daemon's log in .letterbox/) for a failure.
        if ProcessInfo.processInfo.environment["LETTERBOX_KEEP_SCRATCH"] != "1" {
            try? FileManager.default.removeItem(atPath: root)
        }
    }

    var workspace: Workspace {
        get throws { try Workspace.locate(from: root) }
    }

    func thread(_ id: String, agent: String? = nil) throws {
        try WorkspaceInitializer.createThread(id, title: nil, agent: agent, in: workspace)
    }

    /// Writes a file the way a careful editor would (one write, then close).
    func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: inbox + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: inbox + "/" + relative, encoding: .utf8)
    }

    func exists(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: inbox + "/" + relative) }

    func files(_ thread: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: inbox + "/" + thread)) ?? []).sorted()
    }

    /// The thread's folded state, read from disk.
    func state(_ thread: String) throws -> ThreadState {
        try InboxReader.readThread(thread, in: workspace).state
    }

    func journal(_ thread: String) throws -> [JournalEntry] {
        try InboxReader.readThread(thread, in: workspace).entries
    }

    func inboxState() throws -> InboxState { try InboxReader.read(workspace).inbox }

    /// Polls `condition` every 20 ms until it holds or `timeout` passes; records an issue on timeout.
    @discardableResult
    func waitUntil(
        _ what: String, timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if (try? await condition()) == true { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
        return false
    }
}

/// A reference runtime in this process and a real `letterbox daemon` process on a scratch workspace.
///
/// The daemon runs as its own process, as it does for users: libinotifytools allows one watcher per
/// process, tests run in parallel, and crash tests need something to SIGKILL.
struct DaemonHarness {
    static let token = "test-token-\(UUID().uuidString.prefix(8))"

    /// A logger for the in-process reference runtime that prints warnings and worse only.
    static let quietLogger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a reference runtime on 127.0.0.1 and a daemon process watching `scratch`, its
    /// first runtime pointed at the reference runtime's base URL plus `runtimePath` (`/ag-ui` for AG-UI).
    static func run<T: Sendable>(
        _ scratch: Scratch, streamInterval: Duration = .milliseconds(5), runtimePath: String = "",
        arguments: [String] = [], _ body: @Sendable (RunningReferenceRuntime) async throws -> T
    ) async throws -> T {
        let logger = quietLogger
        let runtimeConfiguration = ReferenceRuntimeConfiguration(port: 0, token: token, streamInterval: streamInterval)
        return try await ReferenceRuntimeServer.withRunning(configuration: runtimeConfiguration, logger: logger) {
            runtime in
            let daemon = try DaemonProcess.start(
                scratch, runtimeURL: runtime.baseURL + runtimePath, arguments: arguments)
            defer { daemon.stop() }
            try await daemon.waitUntilReady()
            return try await body(runtime)
        }
    }
}

/// A `letterbox daemon` process.
final class DaemonProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test's task.
    let process: Process
    let log: String

    static let binary: String = {
        var url = Bundle.main.bundleURL
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("letterbox").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("letterbox").path
    }()

    private init(process: Process, log: String) {
        self.process = process
        self.log = log
    }

    static func start(
        _ scratch: Scratch, runtimeURL: String, arguments: [String] = [], token: String = DaemonHarness.token,
        environment extra: [String: String] = [:], logFolder: String? = nil
    ) throws -> DaemonProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["LETTERBOX_TOKEN"] = token
        environment.merge(extra) { $1 }
        return try start(
            folder: scratch.root, runtimeURL: runtimeURL, arguments: arguments, environment: environment,
            logFolder: logFolder)
    }

    /// A daemon started in `folder` (its workspace) with exactly `environment` (plus debug logging);
    /// its log goes to `logFolder`, by default `folder/.letterbox/`.
    /// `credentials` are more `setpriv` options (`--reuid`, `--regid`, …: another user), and `umask` the
    /// daemon's file creation mask (`002` for a folder a group shares).
    static func start(
        folder: String, runtimeURL: String, arguments: [String], environment: [String: String],
        logFolder: String? = nil, credentials: [String] = [], umask: String? = nil
    ) throws -> DaemonProcess {
        let process = Process()
        // setpriv --pdeathsig: the daemon is killed if the test process dies first (a crash, a timeout),
        // so no daemon outlives its test and loads the machine for the next ones.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        let shell = umask.map { ["/bin/sh", "-c", "umask \($0) && exec \"$0\" \"$@\""] } ?? []
        process.arguments =
            ["--pdeathsig", "KILL"] + credentials + ["--"] + shell
            + [binary, "daemon", "--runtime-url", runtimeURL] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        var environment = environment
        environment["LETTERBOX_LOG_LEVEL"] = "debug"
        process.environment = environment
        let logs = logFolder ?? folder + "/.letterbox"
        let log = logs + "/daemon-\(UUID().uuidString.prefix(6)).log"
        try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: log, contents: nil), "cannot create \(log)")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try SpawnThread.shared.run { try launch(process) }
        return DaemonProcess(process: process, log: log)
    }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits for the "ready" log line; fails with the log if the process exits first.
    func waitUntilReady(timeout: Duration = .seconds(20)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if output.contains("letterbox daemon ready") { return }
            if !process.isRunning {
                Issue.record("the daemon exited with \(process.terminationStatus):\n\(output)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the daemon did not get ready:\n\(output)")
        throw CancellationError()
    }

    /// SIGTERM, then wait (SIGKILL after 10 s).
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Sends a signal (SIGKILL for crash tests) and waits, off the cooperative pool, for the process to end.
    func kill(_ signal: Int32) async {
        Foundation.kill(process.processIdentifier, signal)
        _ = try? await offPool { [process] in process.waitUntilExit() }
    }
}

extension RunningReferenceRuntime {
    /// Real effects the runtime recorded, of one kind.
    func effects(_ kind: ReferenceEffect.Kind) async -> [ReferenceEffect] {
        await control.effects().filter { $0.kind == kind }
    }
}

/// Starts daemon processes from one thread that lives as long as the test process.
///
/// `setpriv --pdeathsig` kills the daemon when the *thread* that started it exits, and the threads of Swift's
/// cooperative pool come and go: a daemon started from one could be killed minutes later, in the middle of a
/// soak run, when that thread retires.
final class SpawnThread: @unchecked Sendable {
    // @unchecked: `jobs` is guarded by `condition`.
    static let shared = SpawnThread()
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []

    private init() {
        let thread = Thread { [self] in
            while true {
                condition.lock()
                while jobs.isEmpty { condition.wait() }
                let job = jobs.removeFirst()
                condition.unlock()
                job()
            }
        }
        thread.name = "daemon-spawner"
        thread.start()
    }

    /// Runs `body` on the spawning thread and waits for it (a few milliseconds: one `posix_spawn`).
    func run(_ body: @escaping () throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let failure = FailureBox()
        condition.lock()
        jobs.append {
            do { try body() } catch { failure.error = error }
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        if let error = failure.error { throw error }
    }

    /// Only written on the spawning thread before `done.signal()`, read after `done.wait()`.
    private final class FailureBox: @unchecked Sendable {
        var error: (any Error)?
    }
}
