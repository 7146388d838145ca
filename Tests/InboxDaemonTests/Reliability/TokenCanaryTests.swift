import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Logging
import ReferenceRuntime
import Testing

/// The token canary (docs/reliability.md): one unique token through the whole loop, with debug logging, a
/// runtime that refuses it first (real 401s), seeded faults, approvals, controls, the site, the CLI and git
/// commits; then it is searched for everywhere: 0 occurrences allowed.
@Suite("Reliability: the token canary", .processSlot)
struct TokenCanaryTests {
    /// Keeps every log line of the in-process reference runtime, at debug level.
    final class CollectedLogs: @unchecked Sendable {
        // @unchecked: `lines` is guarded by `lock`.
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var text: String { lock.withLock { lines.joined(separator: "\n") } }
    }

    struct CollectingHandler: LogHandler {
        let logs: CollectedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            logs.append("\(event.level) \(event.message) \(metadata.merging(event.metadata ?? [:]) { $1 })")
        }
    }

    @Test("A unique token never appears in logs, journals, the site, the runtime's effects or git history")
    func canary() async throws {
        let token = "lb-canary-\(UUID().uuidString)"
        let watch = Stopwatch()
        let scratch = try Scratch(extraConfig: "git:\n  quiet_seconds: 0\n")
        try scratch.thread("ops")
        try scratch.thread("runbook", agent: "operator")
        try await Workplace.git(["init", "-q", "-b", "main"], in: scratch.root)
        try await Workplace.git(["add", "-A"], in: scratch.root)
        try await Workplace.git(["commit", "-q", "-m", "start"], in: scratch.root)
        let logs = CollectedLogs()
        var logger = Logger(label: "reference-runtime") { _ in CollectingHandler(logs: logs) }
        logger.logLevel = .trace
        let port = try Workplace.freePort()
        var effects = ""
        var cli = ""
        // 1. A runtime that takes another token: every request is refused with a real 401.
        let wrong = ReferenceRuntimeConfiguration(port: port, token: "another-token", streamInterval: .milliseconds(5))
        let daemon = try await ReferenceRuntimeServer.withRunning(configuration: wrong, logger: logger) { _ in
            let daemon = try DaemonProcess.start(scratch, runtimeURL: "http://127.0.0.1:\(port)", token: token)
            try await daemon.waitUntilReady()
            try scratch.write("ops/first.md", "Sent while the token is refused.")
            await scratch.waitUntil("auth failing") {
                if case .authFailing = try scratch.inboxState().runtime { return true }
                return false
            }
            return daemon
        }
        defer { daemon.stop() }
        // 2. The same port, now taking the token, with faults on a third of the posts; approvals and controls.
        let right = ReferenceRuntimeConfiguration(port: port, token: token, streamInterval: .milliseconds(5))
        try await ReferenceRuntimeServer.withRunning(configuration: right, logger: logger) { runtime in
            try await runtime.control.setChaos(
                ReferenceChaos(
                    seed: Soak.seed, rate: 0.3, method: "POST", path: "/external/chat/*",
                    faults: RuntimeFaultSoakTests.kinds.map(\.1).filter { $0.hangSeconds == nil }))
            for index in 0..<6 { try scratch.write("ops/m\(index).md", "Message \(index) under faults.") }
            try scratch.write("runbook/restart.md", "Restart the service.")
            await scratch.waitUntil("the approval request", timeout: .seconds(30)) {
                try scratch.state("runbook").pendingApprovals.count == 1
            }
            try scratch.write("runbook/controls/approve.md", "---\nnote: go ahead\n---\n")
            await scratch.waitUntil("everything answered", timeout: .seconds(120)) {
                let ops = try scratch.state("ops")
                let runbook = try scratch.state("runbook")
                return ops.messages.count == 7 && ops.messages.allSatisfy { $0.delivery == .replied }
                    && runbook.runs.values.allSatisfy { $0.status == .complete }
            }
            try await runtime.control.setChaos(nil)
            effects = String(decoding: try JSONEncoder().encode(await runtime.control.effects()), as: UTF8.self)
            for arguments in [["status"], ["audit", "show"], ["audit", "verify"], ["build", "--full"]] {
                let result = try await Workplace.letterbox(arguments, in: scratch.root)
                cli += result.stdout + result.stderr
            }
            daemon.stop()
        }
        try await Workplace.git(["add", "-A"], in: scratch.root)
        try await Workplace.git(["commit", "-q", "--allow-empty", "-m", "after the loop"], in: scratch.root)
        let history = try await Workplace.git(["log", "--all", "-p", "--format=%H %an %s%n%b"], in: scratch.root)
        let commits = try await Workplace.git(["rev-list", "--count", "--all"], in: scratch.root)
        let files = try await runProcess("/bin/grep", ["-r", "-l", "-a", token, scratch.root])
        let inbox = try scratch.inboxState()
        let places: KeyValuePairs<String, String> = [
            "files under the workspace (logs, journals, site, .letterbox, .git)": files.stdout,
            "git history (every commit's patch)": history, "the runtime's effect log": effects,
            "the runtime's debug log": logs.text, "CLI output (status, audit show, audit verify, build)": cli,
        ]
        var found: [String] = []
        for (place, text) in places where text.contains(token) { found.append("\(place): \(text.prefix(400))") }
        let logBytes = daemon.output.utf8.count
        Soak.report(
            "token-canary",
            [
                "places searched": "\(places.count) (\(places.map(\.key).joined(separator: "; ")))",
                "daemon debug log": "\(logBytes) bytes",
                "auth incidents journaled": "\(inbox.incidents.filter { $0.kind == "auth_failed" }.count)",
                "git commits searched": commits.trimmingCharacters(in: .whitespacesAndNewlines),
                "occurrences of the token": "\(found.count)",
                "wall time": watch.seconds,
            ])
        #expect(found.isEmpty, "the token appears in: \(found)")
        #expect(inbox.incidents.contains { $0.kind == "auth_failed" && $0.end != nil }, "\(inbox.incidents)")
        #expect(!logs.text.isEmpty && logBytes > 0, "nothing was logged, so nothing was searched")
    }
}
