import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Testing

/// A workspace with the reference runtime and the daemon as real processes (`letterbox runtime serve`,
/// `letterbox daemon`), for tests that need the whole path.
final class LiveWorkspace {
    let scratch: Scratch
    let root: String
    let token = "ops-test-token"
    private(set) var runtime: BackgroundProcess?
    private(set) var daemon: BackgroundProcess?
    private(set) var runtimeURL = ""

    init() throws {
        scratch = try Scratch()
        root = scratch.path + "/lb"
    }

    /// Runs `body` with a new workspace, then stops its processes (also when `body` throws).
    static func with(_ body: (LiveWorkspace) async throws -> Void) async throws {
        let live = try LiveWorkspace()
        do {
            try await body(live)
        } catch {
            await live.shutdown()
            throw error
        }
        await live.shutdown()
    }

    /// `letterbox init`, then a configuration with fast retries and a breaker that opens after two
    /// failures, pointing at `runtimeURL` (set when the runtime starts).
    func initialize() async throws {
        #expect(try await CLI.run(["init", root], in: scratch.path).status == 0)
    }

    func writeConfig(runtimeURL: String, tokenFile: String? = nil, extra: String = "") throws {
        let text = """
            version: 1
            inbox: inbox
            site: site
            delivery:
              settle_ms: 50
              retry:
                base_ms: 50
                max_ms: 200
              breaker:
                failures: 2
                cooldown_ms: 60000
            runtimes:
              - name: reference
                kind: control-plane
                url: \(runtimeURL)
            \(tokenFile.map { "    token_file: \($0)" } ?? "")
            default_agent: assistant
            \(extra)
            """
        try text.write(toFile: root + "/letterbox.yaml", atomically: true, encoding: .utf8)
    }

    /// `letterbox runtime serve --port 0` with `token`; returns its URL.
    @discardableResult
    func startRuntime(token: String? = nil, streamIntervalMilliseconds: Int = 20) async throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["LETTERBOX_TOKEN"] = token ?? self.token
        let process = try BackgroundProcess(
            CLI.binary, ["runtime", "serve", "--port", "0", "--stream-interval-ms", "\(streamIntervalMilliseconds)"],
            in: scratch.path,
            environment: environment, log: scratch.path + "/runtime-\(UUID().uuidString.prefix(6)).log")
        runtime = process
        let output = try #require(
            try await process.waitFor("listening on http://", timeout: .seconds(20)), "the runtime did not start")
        let line = try #require(output.split(separator: "\n").first { $0.contains("listening on http://") })
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") })
        runtimeURL = String(url)
        return runtimeURL
    }

    /// `letterbox daemon` with `arguments`; waits until it is ready.
    @discardableResult
    func startDaemon(_ arguments: [String] = [], token: String? = nil) async throws -> BackgroundProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["LETTERBOX_TOKEN"] = token ?? self.token
        environment["NO_COLOR"] = "1"
        let process = try BackgroundProcess(
            CLI.binary, ["daemon"] + arguments, in: root, environment: environment,
            log: scratch.path + "/daemon-\(UUID().uuidString.prefix(6)).log")
        daemon = process
        let ready = try await process.waitFor("letterbox daemon ready", timeout: .seconds(30))
        #expect(ready != nil, "the daemon did not get ready:\n\(process.output)")
        return process
    }

    func stopRuntime() async throws { try await runtime?.stop() }
    /// SIGTERM, then the daemon's exit status (nil when it did not exit within 20 s).
    @discardableResult
    func stopDaemon() async throws -> Int32? {
        guard let daemon, daemon.isRunning else { return nil }
        daemon.signal(SIGTERM)
        let exit = try await daemon.waitForExit()
        return exit.inTime ? exit.status : nil
    }

    func run(_ arguments: [String], stdin: String? = nil) async throws -> CLI.Result {
        try await CLI.run(arguments, in: root, stdin: stdin)
    }

    /// Runs `letterbox status --check` until `condition` holds (up to `timeout`); returns the last result.
    func check(until condition: (CLI.Result) -> Bool, timeout: Duration = .seconds(30)) async throws -> CLI.Result {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var result = try await run(["status", "--check"])
        while !condition(result) && clock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            result = try await run(["status", "--check"])
        }
        return result
    }

    /// Waits until `relative` (under the workspace) exists and contains `text`.
    func waitForFile(_ relative: String, containing text: String = "", timeout: Duration = .seconds(30)) async throws
        -> Bool
    {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let content = try? String(contentsOfFile: root + "/" + relative, encoding: .utf8),
                text.isEmpty || content.contains(text)
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func shutdown() async {
        try? await daemon?.stop()
        try? await runtime?.stop()
    }
}

@Suite("letterbox status --check, for monitors (issue 11)", .processSlot, .serialized)
struct HealthCheckTests {
    @Test("Without a daemon: 2 and why; a stale heartbeat: 2; a fresh one: 0; bad flags: 64")
    func withoutDaemon() async throws {
        let scratch = try Scratch()
        try await CLI.run(["init", "."], in: scratch.path)
        let never = try await CLI.run(["status", "--check"], in: scratch.path)
        #expect(never.status == 2)
        #expect(never.stdout.hasPrefix("down: no daemon has run"), "\(never.stdout)")
        #expect(never.stdout.split(separator: "\n").count == 1)

        let workspace = try Workspace.locate(from: scratch.path)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try DaemonStatus(
            pid: 4242, version: "x", startedAt: now - 90_000, heartbeatAt: now - 60_000, heartbeatSeconds: 5
        )
        .write(in: workspace)
        let stale = try await CLI.run(["status", "--check"], in: scratch.path)
        #expect(stale.status == 2)
        #expect(stale.stdout.contains("pid 4242) has not written its heartbeat for 60 s"), "\(stale.stdout)")

        try DaemonStatus(pid: 4242, version: "x", startedAt: now - 90_000, heartbeatAt: now - 1000, heartbeatSeconds: 5)
            .write(in: workspace)
        let fresh = try await CLI.run(["status", "--check"], in: scratch.path)
        #expect(fresh.status == 0, "\(fresh.stdout)")
        #expect(fresh.stdout.hasPrefix("ok: daemon pid 4242 up"), "\(fresh.stdout)")

        // A thread the daemon stopped (a journal replaced under it with lines missing): degraded.
        let opened = try JournalFile.open(
            path: scratch.path + "/inbox/journal.jsonl", tornFolder: scratch.path + "/.letterbox/torn",
            now: Timestamp(milliseconds: now))
        try opened.journal.append([
            (
                Timestamp(milliseconds: now), .daemon,
                .rejected(
                    file: "welcome/journal.jsonl", reason: "the journal was replaced and lines are missing",
                    sha256: nil)
            )
        ])
        let stopped = try await CLI.run(["status", "--check"], in: scratch.path)
        #expect(stopped.status == 1, "\(stopped.stdout)")
        #expect(
            stopped.stdout.hasPrefix(
                "degraded: 1 journal problem (welcome/journal.jsonl: the journal was replaced and lines are missing)"),
            "\(stopped.stdout)")

        let both = try await CLI.run(["status", "--check", "--json"], in: scratch.path)
        #expect(both.status == 64)
    }

    @Test(
        "A real daemon: ok (0); a message failed for good: degraded (1); the runtime gone: degraded (1); stopped: down (2)"
    )
    func withDaemon() async throws {
        try await LiveWorkspace.with { live in
            try await live.initialize()
            try live.writeConfig(runtimeURL: try await live.startRuntime())
            try await live.startDaemon()

            let ok = try await live.check(until: { $0.status == 0 })
            #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
            #expect(ok.stdout.hasPrefix("ok: daemon pid"), "\(ok.stdout)")

            // A message to an agent the runtime does not have fails for good at once.
            #expect(try await live.run(["new", "ops"]).status == 0)
            #expect(
                try await live.run(["send", "ops", "-", "--name", "bad"], stdin: "---\nagent: nobody\n---\nhi\n").status
                    == 0)
            let failed = try await live.check(until: { $0.status == 1 })
            #expect(failed.status == 1, "\(failed.stdout)")
            #expect(
                failed.stdout.hasPrefix("degraded: 1 message failed for good in the last 24 h (ops/bad)"),
                "\(failed.stdout)")

            // The runtime goes away; a new message is retried until the breaker opens.
            try await live.stopRuntime()
            #expect(try await live.run(["send", "ops", "-", "--name", "later"], stdin: "still there?\n").status == 0)
            let degraded = try await live.check(until: { $0.stdout.contains("the runtime is failing") })
            #expect(degraded.status == 1, "\(degraded.stdout)")
            #expect(degraded.stdout.contains("degraded: "), "\(degraded.stdout)")
            #expect(degraded.stdout.contains("; also "), "both findings on the one line: \(degraded.stdout)")

            // As `systemctl stop` does: SIGTERM, and the daemon exits 0.
            #expect(try await live.stopDaemon() == 0, "\(live.daemon?.output ?? "")")
            let down = try await live.run(["status", "--check"])
            #expect(down.status == 2)
            #expect(down.stdout.hasPrefix("down: the daemon stopped at "), "\(down.stdout)")
            #expect(down.stdout.contains("(last known)"), "the runtime's state is the last known: \(down.stdout)")
        }
    }

    @Test("The runtime refuses the daemon's token: failing (2)")
    func tokenRefused() async throws {
        try await LiveWorkspace.with { live in
            try await live.initialize()
            try live.writeConfig(runtimeURL: try await live.startRuntime(token: "the-right-one"))
            try await live.startDaemon(token: "a-wrong-one")
            #expect(try await live.run(["new", "ops"]).status == 0)
            #expect(try await live.run(["send", "ops", "-"], stdin: "hello\n").status == 0)
            let failing = try await live.check(until: { $0.status == 2 })
            #expect(failing.status == 2)
            #expect(failing.stdout.hasPrefix("failing: the runtime refuses the token since "), "\(failing.stdout)")
        }
    }
}

@Suite("Control commands say what they act on, and refuse when there is nothing (issue 11)", .processSlot, .serialized)
struct ControlCommandTests {
    /// A copy of the sample inbox: a failed message in incidents, replies in release-notes, nothing
    /// running and no approval pending.
    func sample() throws -> Scratch {
        let scratch = try Scratch()
        try FileManager.default.copyItem(
            atPath: SampleInboxTests.repository + "/inbox", toPath: scratch.path + "/inbox")
        try FileManager.default.copyItem(
            atPath: SampleInboxTests.repository + "/letterbox.yaml", toPath: scratch.path + "/letterbox.yaml")
        return scratch
    }

    func controls(_ scratch: Scratch, _ thread: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(scratch.path)/inbox/\(thread)/controls")) ?? [])
            .sorted()
    }

    @Test(
        "Nothing to act on: exit 66, a reason, and no control file written",
        arguments: [
            (["abort", "welcome"], "nothing is running in thread 'welcome'"),
            (["retry", "welcome"], "no message in thread 'welcome' has failed"),
            (
                ["retry", "incidents", "write-up"],
                "message 'write-up' in thread 'incidents' has not failed (it is sent)"
            ),
            (["regenerate", "welcome", "hello"], "message 'hello' in thread 'welcome' has no reply to regenerate"),
            (["approve", "runbook"], "no approval is pending in thread 'runbook'"),
            (["reject", "runbook", "restart.reply.approval-1"], "no approval is pending in thread 'runbook'"),
        ])
    func nothing(arguments: [String], reason: String) async throws {
        let scratch = try sample()
        let thread = arguments[1]
        let before = controls(scratch, thread)
        let result = try await CLI.run(arguments, in: scratch.path)
        #expect(result.status == 66, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains(reason), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(controls(scratch, thread) == before, "no file was written")
    }

    @Test("Something to act on: exit 0, what it acts on, and the control file")
    func something() async throws {
        let scratch = try sample()
        let retry = try await CLI.run(["retry", "incidents"], in: scratch.path)
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(
            retry.stdout.hasPrefix(
                "retry the failed message summary in thread 'incidents': wrote inbox/incidents/controls/retry-"),
            "\(retry.stdout)")
        #expect(controls(scratch, "incidents").contains { $0.hasPrefix("retry-") })

        let regenerate = try await CLI.run(["regenerate", "release-notes"], in: scratch.path)
        #expect(regenerate.status == 0, "\(regenerate.stderr)")
        #expect(
            regenerate.stdout.contains(
                "regenerate the reply to draft (the new one goes beside draft.reply.md, draft.reply-2.md)"),
            "\(regenerate.stdout)")

        let missing = try await CLI.run(["abort", "no-such-thread"], in: scratch.path)
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("no thread 'no-such-thread'"))
    }

    @Test(
        "With a real daemon: approve acts on the one pending request, then there is none; abort stops a running reply")
    func live() async throws {
        try await LiveWorkspace.with { live in
            try await live.initialize()
            try live.writeConfig(runtimeURL: try await live.startRuntime(streamIntervalMilliseconds: 150))
            try await live.startDaemon()
            #expect(try await live.run(["new", "ops", "--agent", "operator"]).status == 0)
            #expect(
                try await live.run(["send", "ops", "-", "--name", "restart"], stdin: "Restart the backup service\n")
                    .status == 0)
            #expect(try await live.waitForFile("inbox/ops/restart.reply.approval-1.md"), "the approval request")

            let approve = try await live.run(["approve", "ops", "--note", "go"])
            #expect(approve.status == 0, "\(approve.stderr)")
            #expect(
                approve.stdout.hasPrefix("approve the approval request restart.reply.approval-1.md for "),
                "\(approve.stdout)")
            #expect(try await live.waitForFile("inbox/ops/restart.reply.md", containing: "status: complete"))
            let again = try await live.run(["approve", "ops"])
            #expect(again.status == 66)
            #expect(again.stderr.contains("no approval is pending in thread 'ops'"))

            // The writer streams a long answer: abort it while it runs.
            #expect(try await live.run(["new", "notes", "--agent", "writer"]).status == 0)
            #expect(
                try await live.run(["send", "notes", "-", "--name", "long"], stdin: "Write at length\n").status == 0)
            #expect(try await live.waitForFile("inbox/notes/long.reply.md", containing: "status: streaming"))
            let abort = try await live.run(["abort", "notes"])
            #expect(abort.status == 0, "\(abort.stderr)")
            #expect(
                abort.stdout.hasPrefix("abort the running reply long.reply.md (to long) in thread 'notes'"),
                "\(abort.stdout)")
            #expect(try await live.waitForFile("inbox/notes/long.reply.md", containing: "status: aborted"))
            let nothing = try await live.run(["abort", "notes"])
            #expect(nothing.status == 66)
            #expect(nothing.stderr.contains("nothing is running in thread 'notes'"))
            // Regenerate while nothing runs now works; the daemon acts on it.
            let regenerate = try await live.run(["regenerate", "notes"])
            #expect(regenerate.status == 0, "\(regenerate.stderr)")
        }
    }
}
