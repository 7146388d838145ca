import ChatModel
import Foundation
import LetterboxTestSupport
import Testing

@testable import InboxDaemon

/// A test peer from Tests/Peers (a real pydantic-ai AG-UI server, the scripted AG-UI server, or the
/// scripted OpenAI server) running as a subprocess on 127.0.0.1, with its JSON-lines log.
///
/// The peers need the repository's `.venv` (`make peers`, which runs Tests/Peers/setup-venv.sh). When
/// it is missing the test fails with that instruction: a peer test never skips silently.
final class PeerProcess: @unchecked Sendable {
    // @unchecked: `process` is only touched from the test's task; the rest is set once in init.
    let process: Process
    let port: Int
    let logPath: String
    let stderrPath: String

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The repository's root, from this file's path (Tests/InboxDaemonTests/Support/PeerProcess.swift).
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    private init(process: Process, port: Int, logPath: String, stderrPath: String) {
        self.process = process
        self.port = port
        self.logPath = logPath
        self.stderrPath = stderrPath
    }

    /// Runs `body` with the peer `script` (e.g. "agui_pydantic_peer.py") started, and stops it after.
    static func with<T: Sendable>(
        _ script: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: (PeerProcess) async throws -> T
    ) async throws -> T {
        let peer = try await start(script, sourceLocation: sourceLocation)
        do {
            let result = try await body(peer)
            await peer.stop()
            return result
        } catch {
            await peer.stop()
            throw error
        }
    }

    /// Starts `.venv/bin/python Tests/Peers/<script> --port 0 --log <file>` and waits for `READY <port>`.
    static func start(_ script: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> PeerProcess {
        let python = root + "/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            let message =
                "the test peers' Python environment is missing (\(python)); run `make peers` (Tests/Peers/setup-venv.sh) first"
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
            throw Missing(description: message)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lb-peer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let stdoutPath = folder + "/stdout"
        let stderrPath = folder + "/stderr"
        let logPath = folder + "/log.jsonl"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        // setpriv --pdeathsig: the peer dies with the test process, even if that crashes or is killed.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = [
            "--pdeathsig", "KILL", "--", python, root + "/Tests/Peers/" + script, "--port", "0", "--log", logPath,
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try launch(process)
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while clock.now < deadline {
            let out = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            if let line = out.split(separator: "\n").first(where: { $0.hasPrefix("READY ") }),
                let port = Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
            {
                return PeerProcess(process: process, port: port, logPath: logPath, stderrPath: stderrPath)
            }
            if !process.isRunning {
                let err = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
                Issue.record(
                    "the peer \(script) exited with \(process.terminationStatus):\n\(err)",
                    sourceLocation: sourceLocation)
                throw Missing(description: "peer exited")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(process.processIdentifier, SIGKILL)
        Issue.record("the peer \(script) printed no READY line in 60 s", sourceLocation: sourceLocation)
        throw Missing(description: "peer not ready")
    }

    /// Every line of the peer's log.
    var log: [JSONValue] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONValue(parsing: String($0)) }
    }

    /// Log lines of one kind ("request", "complete", "disconnect", "rejected").
    func log(_ event: String) -> [JSONValue] { log.filter { $0["event"]?.stringValue == event } }

    /// What the peer wrote to stderr (uvicorn's messages), for failure reports.
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Kills the peer. SIGKILL, not SIGTERM: the test runner's threads block SIGTERM and children
    /// inherit that mask, so uvicorn would never see it; a peer holds nothing worth a clean exit.
    func stop() async {
        // The folder holds only the peer's output and log, read by the test before it stops the peer.
        defer { try? FileManager.default.removeItem(atPath: (logPath as NSString).deletingLastPathComponent) }
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        // Waiting blocks a thread: do it on a Dispatch thread, not one of the few cooperative ones.
        let process = process
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                process.waitUntilExit()
                continuation.resume()
            }
        }
    }
}
