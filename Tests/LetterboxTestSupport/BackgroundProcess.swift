import Foundation

/// A program left running while a test talks to it (a daemon, a server, a browser, the demo), its
/// stdout and stderr in one log file the test can poll.
///
/// It leads a process group of its own (Foundation's `Process` starts every child as a group leader),
/// so `signalGroup` reaches it and everything it started; and `setpriv --pdeathsig` kills it if the
/// test process dies first, so nothing outlives its test.
public final class BackgroundProcess: @unchecked Sendable {
    // `@unchecked Sendable`: `process` is only started in `init` and then only queried and signalled,
    // which `Process` allows from any thread; `log` and `group` are constants.
    public let process: Process
    /// The log file (stdout and stderr).
    public let log: String
    /// The process group of the program and its children (its pid, as the group leader).
    public let group: pid_t

    /// Starts `executable` with `arguments` in `folder`; the log goes to `log`.
    public init(
        _ executable: String, _ arguments: [String], in folder: String? = nil, environment: [String: String]? = nil,
        log: String
    ) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        // setpriv execs the program in place: the pid below is the program's, and its group's.
        process.arguments = ["--pdeathsig", "KILL", "--", executable] + arguments
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        if let environment { process.environment = environment }
        self.log = log
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try launch(process)
        try? handle.close()
        group = process.processIdentifier
        if getpgid(group) != group {
            // Not a group leader: signalling the group would miss it; kill it rather than leak it.
            kill(group, SIGKILL)
            throw CocoaError(.executableLoad)
        }
    }

    deinit {
        if process.isRunning { kill(-group, SIGKILL) }
    }

    /// Everything it printed so far.
    public var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Whether it still runs.
    public var isRunning: Bool { process.isRunning }

    /// Waits until its output contains `text`; nil if it exits first or `timeout` passes.
    @discardableResult
    public func waitFor(_ text: String, timeout: Duration = .seconds(30)) async throws -> String? {
        try await waitUntil(timeout: timeout) { $0.contains(text) }
    }

    /// Waits until `condition` holds for its output; returns the output, or nil if the process exits
    /// first or `timeout` passes.
    public func waitUntil(timeout: Duration = .seconds(30), _ condition: (String) -> Bool) async throws -> String? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            let text = output
            if condition(text) { return text }
            if !process.isRunning { return condition(output) ? output : nil }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Sends `signal` to its whole process group (SIGINT: what Ctrl-C on a terminal does).
    public func signalGroup(_ signal: Int32) { kill(-group, signal) }

    /// Sends `signal` to the program only.
    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for it to exit, up to `timeout`; then kills its group. Returns its status and whether it
    /// exited by itself in time.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(20)) async throws -> (status: Int32, inTime: Bool) {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while process.isRunning && clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let inTime = !process.isRunning
        if !inTime {
            kill(-group, SIGKILL)
            while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        }
        return (process.terminationStatus, inTime)
    }

    /// SIGTERM to the group, then wait.
    public func stop() async throws {
        guard process.isRunning else { return }
        signalGroup(SIGTERM)
        try await waitForExit()
    }

    /// Whether any process of its group is still alive (children it started included).
    public var groupIsAlive: Bool { kill(-group, 0) == 0 }
}
