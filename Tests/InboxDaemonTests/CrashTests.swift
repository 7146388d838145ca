import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Logging
import ReferenceRuntime
import Testing

@Suite("Crashes: SIGKILL, restart, exactly once, nothing torn", .processSlot)
struct CrashTests {
    static let logger = DaemonHarness.quietLogger

    /// Every file in the thread folder is whole: daemon files have closed front matter and a status.
    func assertNothingTorn(_ scratch: Scratch, _ thread: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for name in scratch.files(thread) {
            #expect(!name.hasPrefix(".lb-tmp-"), "orphan temp file \(name)", sourceLocation: sourceLocation)
            guard name.contains(".reply") || name.contains(".tool-") || name.contains(".approval-") else { continue }
            let text = scratch.read("\(thread)/\(name)") ?? ""
            #expect(
                text.hasPrefix("---\n") && text.contains("\n---\n") && text.contains("status: "), "torn \(name)",
                sourceLocation: sourceLocation)
        }
        #expect(
            (try? InboxReader.readThread(thread, in: scratch.workspace).journalError) == nil,
            sourceLocation: sourceLocation)
    }

    /// A reference runtime whose writer streams slowly, and a first daemon that is streaming the reply
    /// to `notes/MESSAGE.md` when `body` gets them.
    static func withReplyStreaming(
        _ scratch: Scratch, message: String,
        _ body: (RunningReferenceRuntime, DaemonProcess) async throws -> Void
    ) async throws {
        try scratch.thread("notes", agent: "writer")
        let configuration = ReferenceRuntimeConfiguration(
            port: 0, token: DaemonHarness.token, streamInterval: .milliseconds(60))
        try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: logger) { runtime in
            let first = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL)
            try await first.waitUntilReady()
            try scratch.write("notes/\(message).md", "Write a long answer.")
            await scratch.waitUntil("streaming") {
                scratch.read("notes/\(message).reply.md")?.contains("status: streaming") == true
            }
            try await body(runtime, first)
        }
    }

    @Test("SIGKILL while the runtime holds the request (it has already accepted it): the restart delivers once")
    func killMidDelivery() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        let configuration = ReferenceRuntimeConfiguration(
            port: 0, token: DaemonHarness.token, streamInterval: .milliseconds(5))
        try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: Self.logger) { runtime in
            try await runtime.control.addFaults([
                ReferenceFault(
                    method: "POST", path: "/external/chat/messages", hangSeconds: 30, count: 1, afterEffect: true)
            ])
            let first = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL)
            try await first.waitUntilReady()
            try scratch.write("ops/m.md", "Deliver me once.")
            await scratch.waitUntil("the runtime has it") { !(await runtime.effects(.messageAccepted).isEmpty) }
            #expect(try scratch.state("ops").message("m")?.delivery == .sending(attempt: 1))
            await first.kill(SIGKILL)

            let second = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL)
            defer { second.stop() }
            try await second.waitUntilReady()
            await scratch.waitUntil("replied after restart") {
                try scratch.state("ops").message("m")?.delivery == .replied
            }
            #expect(await runtime.effects(.messageAccepted).count == 1)
            #expect(await runtime.effects(.runStarted).count == 1)
            let attempts = try #require(try scratch.state("ops").message("m")?.attempts)
            #expect(attempts.count == 2)
            if case let .retry(reason, _)? = attempts.first?.outcome { #expect(reason.contains("daemon stopped")) }
            assertNothingTorn(scratch, "ops")
        }
    }

    @Test("SIGKILL mid-reply: the restart follows the run to its end; no torn or orphan file is visible")
    func killMidReply() async throws {
        let scratch = try Scratch()
        try await Self.withReplyStreaming(scratch, message: "long") { runtime, first in
            try await Task.sleep(for: .milliseconds(400))
            await first.kill(SIGKILL)
            assertNothingTorn(scratch, "notes")

            let second = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL)
            defer { second.stop() }
            try await second.waitUntilReady()
            await scratch.waitUntil("replied after restart", timeout: .seconds(20)) {
                try scratch.state("notes").message("long")?.delivery == .replied
            }
            let reply = try #require(scratch.read("notes/long.reply.md"))
            #expect(reply.contains("status: complete"))
            #expect(reply.contains("| step |"), "the whole answer, not just what came before the kill")
            #expect(await runtime.effects(.messageAccepted).count == 1)
            #expect(await runtime.effects(.runStarted).count == 1)
            #expect(!scratch.files("notes").contains("long.reply-2.md"))
            assertNothingTorn(scratch, "notes")
        }
    }

    @Test("SIGKILL while a message waits in the runtime's queue behind a streaming reply: both answered once")
    func killWithQueuedMessage() async throws {
        let scratch = try Scratch()
        try await Self.withReplyStreaming(scratch, message: "one") { runtime, first in
            try scratch.write("notes/two.md", "And then another.")
            await scratch.waitUntil("the second is queued in the runtime") {
                try scratch.state("notes").message("two")?.delivery == .sent
            }
            await first.kill(SIGKILL)

            let second = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL)
            defer { second.stop() }
            try await second.waitUntilReady()
            await scratch.waitUntil("both replied after restart", timeout: .seconds(40)) {
                let state = try scratch.state("notes")
                return state.message("one")?.delivery == .replied && state.message("two")?.delivery == .replied
            }
            #expect(await runtime.effects(.messageAccepted).count == 2)
            #expect(await runtime.effects(.runStarted).count == 2)
            #expect(scratch.read("notes/two.reply.md")?.contains("status: complete") == true)
            assertNothingTorn(scratch, "notes")
        }
    }

    @Test(
        "SIGKILL between every pair of effect steps: no orphan file, nothing lost, one effect per key, a clean audit",
        arguments: ["journal", "files", "jobs"], ["attempt", "reply_started", "reply_completed"])
    func crashPoints(step: String, event: String) async throws {
        let scratch = try Scratch()
        try scratch.thread("notes", agent: "writer")
        let configuration = ReferenceRuntimeConfiguration(
            port: 0, token: DaemonHarness.token, streamInterval: .milliseconds(20))
        try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: Self.logger) { runtime in
            let first = try DaemonProcess.start(
                scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"],
                environment: ["LETTERBOX_CRASH_AT": "\(step):\(event)"])
            try await first.waitUntilReady()
            try scratch.write("notes/m.md", "Write it up.")
            await scratch.waitUntil("killed at \(step):\(event)", timeout: .seconds(15)) { !first.process.isRunning }
            #expect(first.process.terminationReason == .uncaughtSignal)

            let second = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"])
            defer { second.stop() }
            try await second.waitUntilReady()
            await scratch.waitUntil("replied after the restart", timeout: .seconds(20)) {
                try scratch.state("notes").message("m")?.delivery == .replied
            }
            let state = try scratch.state("notes")
            #expect(state.rejected.isEmpty, "rejected: \(state.rejected.keys.sorted())")
            #expect(state.runs.count == 1, "runs: \(state.runs.keys.sorted())")
            let named = Set(state.runs.values.map(\.file) + state.messages.map(\.file))
            for file in scratch.files("notes") where file.hasSuffix(".md") && file != "thread.md" {
                #expect(named.contains(file), "\(file) is named by no journal line")
            }
            assertNothingTorn(scratch, "notes")
            #expect(await runtime.effects(.messageAccepted).count == 1)
            #expect(await runtime.effects(.runStarted).count == 1)
        }
        let verify = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test("A torn journal line (a crash mid-append) is repaired at start, kept aside, and journaled")
    func tornJournal() async throws {
        let scratch = try Scratch()
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { _ in
            try scratch.write("ops/m.md", "Hello")
            await scratch.waitUntil("replied") { try scratch.state("ops").message("m")?.delivery == .replied }
        }
        let journal = scratch.inbox + "/ops/journal.jsonl"
        let handle = try #require(FileHandle(forWritingAtPath: journal))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"actor":"daemon","event":"det"#.utf8))
        try handle.close()
        try await DaemonHarness.run(scratch) { _ in
            try scratch.write("ops/n.md", "After the repair")
            await scratch.waitUntil("replied") { try scratch.state("ops").message("n")?.delivery == .replied }
        }
        let entries = try scratch.journal("ops")
        #expect(entries.contains { if case .journalRepaired = $0.event { true } else { false } })
        #expect(JournalText.verifyChain(entries) == nil)
        let kept = try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/.letterbox/torn")
        #expect(kept.count == 1)
    }

    @Test("A second daemon on the same inbox refuses to start, naming the first one's pid")
    func secondDaemon() async throws {
        let scratch = try Scratch()
        try await DaemonHarness.run(scratch) { runtime in
            let second = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL)
            try await offPool { second.process.waitUntilExit() }
            #expect(second.process.terminationStatus == 75)
            #expect(second.output.contains("another letterbox daemon (pid "))
        }
    }

    @Test("A token file readable by others is refused at start; the token never reaches logs, journals, site or files")
    func tokenHandling() async throws {
        let scratch = try Scratch(extraConfig: "runtime:\n  token_file: token.txt\n")
        let tokenPath = scratch.root + "/token.txt"
        try Data("secret-\(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: tokenPath))
        chmod(tokenPath, 0o644)
        let refused = try DaemonProcess.start(scratch, runtimeURL: "http://127.0.0.1:9", token: "")
        try await offPool { refused.process.waitUntilExit() }
        #expect(refused.process.terminationStatus == 78)
        #expect(refused.output.contains("readable by group or others") && refused.output.contains("chmod 600"))

        // With the environment token (the file is ignored once fixed) everything runs; then grep for it.
        chmod(tokenPath, 0o600)
        try scratch.thread("ops")
        try Data(DaemonHarness.token.utf8).write(to: URL(fileURLWithPath: tokenPath))
        try await DaemonHarness.run(scratch) { _ in
            try scratch.write("ops/m.md", "Hello")
            await scratch.waitUntil("replied") { try scratch.state("ops").message("m")?.delivery == .replied }
        }
        let grep = try await runProcess(
            "/bin/grep", ["-r", "-n", "--exclude=token.txt", DaemonHarness.token, scratch.root])
        let found = grep.stdout
        #expect(found.isEmpty, "the token appears in: \(found)")
    }
}
