import AsyncHTTPClient
import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Logging
import NIOCore
import ReferenceRuntime
import Testing

/// Defects that tests written outside the project found at the edges of delivery (one test each,
/// reproduced the way it was found: real daemon processes, real files, real HTTP, SIGKILL, git, a
/// small tmpfs). docs/daemon.md says what happens in each case.
@Suite("Delivery at the edges: FIFOs, full disks, two daemons, outages, replaced journals, links", .processSlot)
struct DefectTests {
    static let post = "/external/chat/messages"

    static let logger = DaemonHarness.quietLogger

    static func runtime<T: Sendable>(
        port: Int = 0, streamInterval: Duration = .milliseconds(5),
        _ body: @Sendable (RunningReferenceRuntime) async throws -> T
    ) async throws -> T {
        let configuration = ReferenceRuntimeConfiguration(
            port: port, token: DaemonHarness.token, streamInterval: streamInterval)
        return try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: logger, body)
    }

    // MARK: 1. FIFOs

    @Test("A FIFO never blocks: thread.md, a message swapped for one, a journal; the daemon stops on SIGTERM")
    func fifos() async throws {
        // A settle window long enough that the swap below always lands inside it, even on a busy machine.
        let scratch = try Scratch(settleMilliseconds: 400)
        for thread in ["t1", "t2", "t3"] { try scratch.thread(thread) }
        unlink(scratch.inbox + "/t1/thread.md")
        #expect(mkfifo(scratch.inbox + "/t1/thread.md", 0o644) == 0)
        unlink(scratch.inbox + "/t3/journal.jsonl")
        #expect(mkfifo(scratch.inbox + "/t3/journal.jsonl", 0o644) == 0)
        try await Self.runtime { runtime in
            let daemon = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL)
            defer { daemon.stop() }
            try await daemon.waitUntilReady()
            try scratch.write("t2/hello.md", "Hello")
            await scratch.waitUntil("t2 replied") { try scratch.state("t2").message("hello")?.delivery == .replied }

            // A FIFO renamed over a message shortly after it arrived: refused, never opened.
            try scratch.write("t2/swap.md", "Soon a pipe")
            try await Task.sleep(for: .milliseconds(15))
            #expect(mkfifo(scratch.inbox + "/t2/.pipe", 0o644) == 0)
            #expect(rename(scratch.inbox + "/t2/.pipe", scratch.inbox + "/t2/swap.md") == 0)
            await scratch.waitUntil("the FIFO is reported") {
                try scratch.state("t2").rejected["swap.md"]?.reason.contains("named pipe") == true
            }
            try scratch.write("t2/after.md", "Still there?")
            await scratch.waitUntil("still delivering") {
                try scratch.state("t2").message("after")?.delivery == .replied
            }
            // Nothing from t1's FIFO thread.md or t3's FIFO journal was read. The swapped message may have
            // been read and sent before the FIFO replaced it (on a loaded machine 15 ms can outlast the
            // quiet window); what matters is that the FIFO itself was never opened and nothing hung.
            let sent = await runtime.effects(.messageAccepted).map(\.content)
            #expect(sent.filter { $0 != "Soon a pipe" } == ["Hello", "Still there?"], "\(sent)")

            // SIGTERM is honoured (nothing is stuck in a blocking open).
            daemon.process.terminate()
            let stopped = await scratch.waitUntil("stopped on SIGTERM", timeout: .seconds(8)) {
                !daemon.process.isRunning
            }
            #expect(stopped && daemon.process.terminationReason == .exit)
        }
        // The CLI reads past them too, naming the file.
        for arguments in [["status"], ["build"], ["audit", "verify"]] {
            let result = try await Workplace.letterbox(arguments, in: scratch.root, timeout: 30)
            #expect(result.exited, "letterbox \(arguments.joined(separator: " ")) hung on a FIFO")
            if arguments == ["audit", "verify"] {
                #expect(result.status != 0 && (result.stderr + result.stdout).contains("named pipe"))
            }
        }
    }

    // MARK: 2 and 3. A full disk

    @Test(
        "A full disk while a 401 is journaled: the journals stay whole, delivery resumes by itself, the next start works",
        .enabled(if: SmallDisk.available))
    func fullDisk() async throws {
        let disk = try SmallDisk(megabytes: 2)
        defer { disk.unmount() }
        let scratch = try Scratch(under: disk.path)
        try scratch.thread("ops")
        try await Self.runtime { runtime in
            // The request hangs long enough to fill the disk, then the token is refused: the daemon
            // journals retry_scheduled (thread) and auth_failed (inbox) on a full disk.
            // The runtime's error text is long, so the lines that carry it cannot fit in the slack of a
            // page the journals already have: the appends really fail (half written, then ENOSPC).
            let long = String(repeating: "the token was refused for a reason this long. ", count: 200)
            try await runtime.control.addFaults([
                ReferenceFault(method: "POST", path: Self.post, status: 401, body: long, hangSeconds: 1.5, count: 1)
            ])
            // The log goes elsewhere: on the full disk, its lines would be lost too.
            let logs = try Workplace.folder("logs")
            defer { try? FileManager.default.removeItem(atPath: logs) }
            let daemon = try DaemonProcess.start(
                scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"], logFolder: logs)
            try await daemon.waitUntilReady()
            try scratch.write("ops/a.md", "Through a full disk")
            await scratch.waitUntil("attempt 1 in flight") {
                try scratch.state("ops").message("a")?.delivery == .sending(attempt: 1)
            }
            disk.fill()
            #expect(disk.free < 4096, "the disk is not full: \(disk.free) bytes free")
            await scratch.waitUntil("the 401 arrived and could not be journaled", timeout: .seconds(10)) {
                daemon.output.contains("cannot write; waiting and trying again")
            }
            try await Task.sleep(for: .milliseconds(500))
            disk.release()
            // No restart: the daemon writes what it could not, and the message goes out.
            await scratch.waitUntil("replied after space returned", timeout: .seconds(20)) {
                try scratch.state("ops").message("a")?.delivery == .replied
            }
            daemon.stop()
            #expect(daemon.process.terminationStatus == 0, "\(daemon.output.suffix(2000))")
        }
        let verify = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        try await Self.runtime { runtime in
            let again = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"])
            defer { again.stop() }
            try await again.waitUntilReady()
            #expect(again.process.isRunning)
        }
    }

    // MARK: 4. Two daemons, one inbox

    @Test("One daemon per inbox, however it is named: another workspace, --inbox, a symlink; other inboxes are free")
    func oneDaemonPerInbox() async throws {
        let scratch = try Scratch()
        let other = try Workplace.folder("other")
        defer { try? FileManager.default.removeItem(atPath: other) }
        try FileManager.default.createSymbolicLink(atPath: other + "/link", withDestinationPath: scratch.inbox)
        try Data("version: 1\ninbox: link\n".utf8).write(to: URL(fileURLWithPath: other + "/letterbox.yaml"))
        try await Self.runtime { runtime in
            let first = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"])
            defer { first.stop() }
            try await first.waitUntilReady()
            let pid = first.process.processIdentifier
            // From another workspace whose inbox is a symlink to this one, and with --inbox.
            for arguments in [["daemon"], ["daemon", "--inbox", scratch.inbox]] {
                var environment = ProcessInfo.processInfo.environment
                environment["LETTERBOX_TOKEN"] = DaemonHarness.token
                environment["LETTERBOX_RUNTIME_URL"] = runtime.baseURL
                let second = try await runProcess(
                    DaemonProcess.binary, arguments + ["--no-site"], in: other, environment: environment, timeout: 20)
                #expect(second.status == 75, "\(second.stderr)")
                #expect(second.stderr.contains("pid \(pid)"), "\(second.stderr)")
            }
            // A daemon for a different inbox, started from this workspace's folder, runs.
            let elsewhere = try Workplace.folder("elsewhere")
            defer { try? FileManager.default.removeItem(atPath: elsewhere) }
            let third = try DaemonProcess.start(
                scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site", "--inbox", elsewhere + "/inbox"])
            defer { third.stop() }
            try await third.waitUntilReady()
            #expect(third.process.isRunning && first.process.isRunning)
        }
    }

    @Test("A workspace whose inbox is a symbolic link delivers through it (only links under the inbox are refused)")
    func symlinkedInboxDelivers() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        let other = try Workplace.folder("linked")
        defer { try? FileManager.default.removeItem(atPath: other) }
        try FileManager.default.createSymbolicLink(atPath: other + "/link", withDestinationPath: scratch.inbox)
        let config = try String(contentsOfFile: scratch.root + "/letterbox.yaml", encoding: .utf8)
        try Data((config + "\ninbox: link\n").utf8).write(to: URL(fileURLWithPath: other + "/letterbox.yaml"))
        try await Self.runtime { runtime in
            var environment = ProcessInfo.processInfo.environment
            environment["LETTERBOX_TOKEN"] = DaemonHarness.token
            let daemon = try DaemonProcess.start(
                folder: other, runtimeURL: runtime.baseURL, arguments: ["--no-site"], environment: environment)
            defer { daemon.stop() }
            try await daemon.waitUntilReady()
            try scratch.write("ops/a.md", "Through the link")
            await scratch.waitUntil("replied through the symlinked inbox") {
                try scratch.state("ops").message("a")?.delivery == .replied
            }
        }
    }

    // MARK: 5. The inbox's own messages are not pulled back

    @Test("A first message whose answer was lost is not pulled back as a message from another channel")
    func noPhantomRemote() async throws {
        let scratch = try Scratch(syncSeconds: 1)
        try scratch.thread("t")
        try await DaemonHarness.run(scratch) { runtime in
            try await runtime.control.addFaults([
                ReferenceFault(
                    method: "POST", path: Self.post, status: 503, retryAfter: "4", count: 1, afterEffect: true)
            ])
            try scratch.write("t/hello.md", "Hello")
            await scratch.waitUntil("retrying") {
                if case .retrying = try scratch.state("t").message("hello")?.delivery { return true }
                return false
            }
            // Several syncs run while the message waits for its Retry-After.
            try await Task.sleep(for: .milliseconds(2500))
            await scratch.waitUntil("replied", timeout: .seconds(15)) {
                try scratch.state("t").message("hello")?.delivery == .replied
            }
            try await Task.sleep(for: .milliseconds(1500))
            let folders = try FileManager.default.contentsOfDirectory(atPath: scratch.inbox).filter {
                $0.hasPrefix("t") || $0.hasPrefix("hello")
            }
            #expect(folders == ["t"])
            #expect(!scratch.files("t").contains { $0.contains(".remote") })
            #expect(try scratch.state("t").messages.map(\.id) == ["hello"])
            #expect(await runtime.effects(.messageAccepted).count == 1)
        }
    }

    // MARK: 6. An unreadable 200

    @Test("A 200 whose body does not parse is retried with the same key, not failed")
    func unreadableSuccess() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            try await runtime.control.addFaults([
                ReferenceFault(method: "POST", path: Self.post, status: 200, count: 1, afterEffect: true)
            ])
            try scratch.write("ops/m.md", "Hello")
            await scratch.waitUntil("replied") { try scratch.state("ops").message("m")?.delivery == .replied }
            let attempts = try #require(try scratch.state("ops").message("m")?.attempts)
            #expect(attempts.count == 2)
            #expect(await runtime.effects(.messageAccepted).count == 1)
        }
    }

    // MARK: 7. Outages

    @Test("The runtime down at start: refusals are reported at once, nothing fails, and it delivers once it is back")
    func outageAtStart() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        let port = try Workplace.freePort()
        let daemon = try DaemonProcess.start(scratch, runtimeURL: "http://127.0.0.1:\(port)", arguments: ["--no-site"])
        defer { daemon.stop() }
        try await daemon.waitUntilReady()
        try scratch.write("ops/a.md", "Are you there?")
        await scratch.waitUntil("retrying") {
            if case .retrying = try scratch.state("ops").message("a")?.delivery { return true }
            return false
        }
        let first = try #require(try scratch.state("ops").message("a")?.attempts.first)
        guard case let .retry(reason, _)? = first.outcome else {
            Issue.record("attempt 1 did not end as a retry: \(String(describing: first.outcome))")
            return
        }
        #expect(reason.contains("refused"), "\(reason)")
        #expect((first.endedAt?.milliseconds ?? 0) - first.startedAt.milliseconds < 2000)
        // Well past what a fixed number of attempts allowed before.
        try await Task.sleep(for: .seconds(4))
        if case .failed(let why)? = try scratch.state("ops").message("a")?.delivery {
            Issue.record("failed during the outage: \(why)")
        }
        try await Self.runtime(port: port) { runtime in
            await scratch.waitUntil("replied once the runtime is up", timeout: .seconds(20)) {
                try scratch.state("ops").message("a")?.delivery == .replied
            }
            #expect(await runtime.effects(.messageAccepted).count == 1)
            await scratch.waitUntil("reachable again") { try scratch.inboxState().runtime == .reachable }
        }
    }

    @Test("A token refused at start pauses delivery without failing anything; a restart clears a stale auth state")
    func tokenRefusedAtStart() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await Self.runtime { runtime in
            try await runtime.control.addFaults([
                ReferenceFault(method: nil, path: "/external/*", status: 401, count: 1000)
            ])
            let daemon = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"])
            try await daemon.waitUntilReady()
            try scratch.write("ops/a.md", "Hello")
            await scratch.waitUntil("auth failing") {
                if case .authFailing = try scratch.inboxState().runtime { return true }
                return false
            }
            try await Task.sleep(for: .seconds(2))
            switch try scratch.state("ops").message("a")?.delivery {
            case .failed(let reason)?: Issue.record("failed while the token was refused: \(reason)")
            default: break
            }
            daemon.stop()
            // The runtime takes the token again; a new daemon says so as soon as a request works.
            await runtime.control.clearFaults()
            let again = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"])
            defer { again.stop() }
            try await again.waitUntilReady()
            await scratch.waitUntil("replied", timeout: .seconds(20)) {
                try scratch.state("ops").message("a")?.delivery == .replied
            }
            await scratch.waitUntil("auth recovered") { try scratch.inboxState().runtime == .reachable }
            #expect(await runtime.effects(.messageAccepted).count == 1)
        }
    }

    // MARK: 8. Journal first

    @Test(
        "SIGKILL just before the journal line that names a daemon file is written: no file without its line",
        arguments: [("writer", "reply_started"), ("operator", "tool_call"), ("operator", "approval_requested")])
    func journalFirst(agent: String, event: String) async throws {
        let scratch = try Scratch()
        try scratch.thread("ops", agent: agent)
        try await Self.runtime(streamInterval: .milliseconds(20)) { runtime in
            let first = try DaemonProcess.start(
                scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"],
                environment: ["LETTERBOX_CRASH_AT": "journal:\(event)"])
            try await first.waitUntilReady()
            try scratch.write("ops/m.md", "Restart the backup job on db-1 and write it up.")
            await scratch.waitUntil("killed at the crash point", timeout: .seconds(15)) { !first.process.isRunning }
            #expect(first.process.terminationReason == .uncaughtSignal)

            let second = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"])
            defer { second.stop() }
            try await second.waitUntilReady()
            await scratch.waitUntil("the run is recorded again", timeout: .seconds(15)) {
                let state = try scratch.state("ops")
                return state.message("m").map { !$0.runs.isEmpty } == true && state.rejected.isEmpty
            }
            try await Task.sleep(for: .milliseconds(500))
            let state = try scratch.state("ops")
            #expect(state.rejected.isEmpty, "rejected: \(state.rejected.keys.sorted())")
            let named = Set(
                state.runs.values.flatMap { [$0.file] + $0.toolCalls.map(\.file) + $0.approvals.map(\.file) })
            for file in scratch.files("ops") where file.contains(".reply") {
                #expect(named.contains(file), "\(file) is not named by the journal")
            }
            #expect(await runtime.effects(.messageAccepted).count == 1)
        }
        let verify = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    // MARK: 9. A journal replaced under the daemon

    @Test("git pull replaces a journal under the daemon: it reads the thread again; a reset that loses lines stops it")
    func journalReplacedByGit() async throws {
        // Sync off: the clone's daemon must deliver on its own (with sync, the lease would say who does).
        let scratch = try Scratch(extraConfig: "site: ../site-a\ngit:\n  sync_seconds: 0")
        try scratch.thread("ops")
        let root = scratch.root
        try await Workplace.git(["init", "-q", "-b", "main"], in: root)
        try await Workplace.git(["add", "-A"], in: root)
        try await Workplace.git(["commit", "-q", "-m", "start"], in: root)
        let clone = try Workplace.folder("clone")
        defer { try? FileManager.default.removeItem(atPath: clone) }
        try await Self.runtime { runtime in
            let daemonA = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"])
            defer { daemonA.stop() }
            try await daemonA.waitUntilReady()
            try scratch.write("ops/one.md", "One")
            await scratch.waitUntil("one replied") { try scratch.state("ops").message("one")?.delivery == .replied }
            try await Workplace.git(["add", "-A", "inbox"], in: root)
            try await Workplace.git(["commit", "-q", "-m", "one"], in: root)

            // Another clone delivers `two` (its own daemon), and commits.
            try await Workplace.git(["clone", "-q", root, clone + "/b"], in: clone)
            let b = clone + "/b"
            var environment = ProcessInfo.processInfo.environment
            environment["LETTERBOX_TOKEN"] = DaemonHarness.token
            let daemonB = try DaemonProcess.start(
                folder: b, runtimeURL: runtime.baseURL, arguments: ["--no-site"], environment: environment)
            try await daemonB.waitUntilReady()
            try Data("Two".utf8).write(to: URL(fileURLWithPath: b + "/inbox/ops/two.md"))
            await scratch.waitUntil("two replied in the clone") {
                try InboxReader.readThread("ops", in: Workspace.locate(from: b)).state.message("two")?.delivery
                    == .replied
            }
            daemonB.stop()
            try await Workplace.git(["add", "-A", "inbox"], in: b)
            try await Workplace.git(["commit", "-q", "-m", "two"], in: b)

            // Pulled under the running daemon A: the journal is replaced by one that continues it.
            try await Workplace.git(["pull", "-q", "--ff-only", b, "main"], in: root)
            try scratch.write("ops/three.md", "Three")
            await scratch.waitUntil("three replied") {
                try scratch.state("ops").message("three")?.delivery == .replied
            }
            let state = try scratch.state("ops")
            #expect(state.rejected.isEmpty, "rejected: \(state.rejected)")
            #expect(state.messages.map(\.id) == ["one", "two", "three"])
            #expect(await runtime.effects(.messageAccepted).map(\.content) == ["One", "Two", "Three"])

            // A reset drops lines the daemon wrote: it stops delivering in the thread and says why.
            try await Workplace.git(["checkout", "--", "inbox/ops/journal.jsonl"], in: root)
            try scratch.write("ops/four.md", "Four")
            await scratch.waitUntil("the problem is reported") {
                try scratch.inboxState().rejected["ops/journal.jsonl"] != nil
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(await runtime.effects(.messageAccepted).count == 3)
            let status = try await Workplace.letterbox(["status"], in: root)
            #expect((status.stdout + status.stderr).contains("journal.jsonl"), "\(status.stdout)")
        }
    }

    // MARK: 10. Hard links

    @Test("A hard link to a file outside the inbox is never sent, published or appended to")
    func hardLinks() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try scratch.thread("j")
        let outside = try Workplace.folder("outside")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try Data("TOP SECRET: the launch codes".utf8).write(to: URL(fileURLWithPath: outside + "/secret.md"))
        try Data().write(to: URL(fileURLWithPath: outside + "/journal.jsonl"))
        unlink(scratch.inbox + "/j/journal.jsonl")
        #expect(link(outside + "/journal.jsonl", scratch.inbox + "/j/journal.jsonl") == 0)
        try await DaemonHarness.run(scratch) { runtime in
            #expect(link(outside + "/secret.md", scratch.inbox + "/ops/leak.md") == 0)
            await scratch.waitUntil("rejected") {
                try scratch.state("ops").rejected["leak.md"]?.reason.contains("hard link") == true
            }
            try scratch.write("j/hello.md", "Hello")
            try scratch.write("ops/fine.md", "Fine")
            await scratch.waitUntil("fine replied") { try scratch.state("ops").message("fine")?.delivery == .replied }
            #expect(await runtime.effects(.messageAccepted).map(\.content) == ["Fine"])
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: outside + "/journal.jsonl")).isEmpty)
        _ = try await Workplace.letterbox(["build", "--full"], in: scratch.root)
        let site = try FileManager.default.subpathsOfDirectory(atPath: scratch.root + "/site")
        for page in site where page.hasSuffix(".html") || page.hasSuffix(".js") || page.hasSuffix(".xml") {
            let text = try String(contentsOfFile: scratch.root + "/site/" + page, encoding: .utf8)
            #expect(!text.contains("launch codes"), "\(page) publishes a hard-linked file")
        }
    }

    // MARK: 11. Symlinked folders

    @Test("A controls/ folder that is a symlink is not followed (it is there when the daemon starts)")
    func symlinkedControls() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        let outside = try Workplace.folder("controls")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        // There at start, so a watcher that followed links would watch the folder behind it.
        try FileManager.default.createSymbolicLink(
            atPath: scratch.inbox + "/ops/controls", withDestinationPath: outside)
        try await DaemonHarness.run(scratch) { runtime in
            try await runtime.control.addFaults([ReferenceFault(method: "POST", path: Self.post, status: 422, count: 1)]
            )
            try scratch.write("ops/m.md", "Hello")
            await scratch.waitUntil("failed") {
                if case .failed = try scratch.state("ops").message("m")?.delivery { return true }
                return false
            }
            try Data("retry\n".utf8).write(to: URL(fileURLWithPath: outside + "/retry.md"))
            await scratch.waitUntil("the link is reported") {
                try scratch.state("ops").rejected["controls"]?.reason.contains("symbolic link") == true
            }
            try await Task.sleep(for: .milliseconds(500))
            if case .failed = try scratch.state("ops").message("m")?.delivery {
            } else {
                Issue.record("a control file behind a symlink was acted on")
            }
            #expect(try scratch.state("ops").controls.isEmpty)
        }
    }
}
