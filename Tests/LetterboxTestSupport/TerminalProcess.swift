import Foundation

/// A program run on a pseudo-terminal, as if typed at a shell: it is the terminal's foreground process
/// group, so `pressControlC()` makes the terminal send SIGINT to it and everything it started, exactly
/// as Ctrl-C does (used to test that `make demo` stops cleanly).
///
/// util-linux's `script` provides the terminal: it runs the command on a new pseudo-terminal and copies
/// its own standard input to it, so a 0x03 byte written there is Ctrl-C typed at the terminal.
public final class TerminalProcess: @unchecked Sendable {
    // `@unchecked Sendable`: `process` and `input` are only queried, signalled or written after `init`;
    // the output buffer is guarded by `lock`.
    public let process: Process
    private let input = Pipe()
    private let lock = NSLock()
    private var buffer = Data()

    /// Starts `executable` with `arguments` in `folder` on a new pseudo-terminal.
    public init(_ executable: String, _ arguments: [String], in folder: String, environment: [String: String]) throws {
        let command = ([executable] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
            .joined(separator: " ")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = [
            "--pdeathsig", "KILL", "--", "/usr/bin/script", "--quiet", "--flush", "--return", "--command", command,
            "/dev/null",
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        var environment = environment
        environment["TERM"] = "dumb"
        process.environment = environment
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try launch(process)
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            self.lock.withLock { self.buffer.append(data) }
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Everything the terminal showed so far.
    public var output: String { lock.withLock { String(decoding: buffer, as: UTF8.self) } }

    /// Types Ctrl-C.
    public func pressControlC() {
        input.fileHandleForWriting.write(Data([3]))
    }

    /// Waits until the output contains `text`; nil if the program exits first or `timeout` passes.
    public func waitFor(_ text: String, timeout: Duration) async throws -> String? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            let shown = output
            if shown.contains(text) { return shown }
            if !process.isRunning { return output.contains(text) ? output : nil }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Waits for the program to end (SIGKILL to its group after `timeout`); whether it ended in time,
    /// and how: its exit status, or the signal that ended it.
    public func waitForExit(timeout: Duration) async throws -> (inTime: Bool, status: Int32, signalled: Bool) {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while process.isRunning && clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let inTime = !process.isRunning
        if !inTime {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        }
        return (inTime, process.terminationStatus, process.terminationReason == .uncaughtSignal)
    }
}
