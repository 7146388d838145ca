import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Logging
import ReferenceRuntime
import Testing

/// Disk full and I/O errors (docs/reliability.md, section 11): the workspace on a small tmpfs that fills to
/// the last byte and empties again, cycle after cycle, while messages are delivered, replies stream and the
/// site refreshes. One daemon runs throughout: work must resume by itself each time space returns.
@Suite("Reliability: a disk that fills up", .processSlot)
struct DiskFullSoakTests {
    static let logger = DaemonHarness.quietLogger

    @Test(
        "The disk fills and empties while messages flow and the site refreshes: nothing lost, torn or corrupt, no restart",
        .enabled(if: SmallDisk.available))
    func fillAndEmpty() async throws {
        let cycles = Soak.tier(short: 3, long: 25)
        var random = SplitMix64(seed: Soak.seed)
        let watch = Stopwatch()
        let disk = try SmallDisk(megabytes: 8)
        defer { disk.unmount() }
        let scratch = try Scratch(settleMilliseconds: 30, under: disk.path)
        try scratch.thread("desk", agent: "assistant")
        try scratch.thread("notes", agent: "writer")
        // The log goes elsewhere: on the full disk its lines would be lost too.
        let logs = try Workplace.folder("disk-soak-logs")
        defer { try? FileManager.default.removeItem(atPath: logs) }
        let configuration = ReferenceRuntimeConfiguration(
            port: 0, token: DaemonHarness.token, streamInterval: .milliseconds(10))
        var sent: [CrashLoopTests.Sent] = []
        var fullMilliseconds = 0
        try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: Self.logger) { runtime in
            let daemon = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL, logFolder: logs)
            defer { daemon.stop() }
            try await daemon.waitUntilReady()
            for cycle in 0..<cycles {
                for _ in 0..<Int.random(in: 2...4, using: &random) {
                    let thread = random.chance(0.5) ? "desk" : "notes"
                    let id = "d\(cycle)-\(sent.count)"
                    let text = "Disk message \(sent.count), cycle \(cycle), in \(thread)."
                    try scratch.write("\(thread)/\(id).md", text)
                    sent.append(CrashLoopTests.Sent(thread: thread, id: id, text: text))
                }
                // Full at a random moment of the work, for a random while.
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...300, using: &random)))
                disk.fill()
                let full = Int.random(in: 300...1500, using: &random)
                fullMilliseconds += full
                try await Task.sleep(for: .milliseconds(full))
                #expect(daemon.process.isRunning, "the daemon exited on a full disk:\n\(daemon.output.suffix(3000))")
                disk.release()
                // No restart: once there is space again, everything so far is answered.
                await scratch.waitUntil("cycle \(cycle): every message answered", timeout: .seconds(60)) {
                    try sent.allSatisfy { try scratch.state($0.thread).message($0.id)?.delivery == .replied }
                }
            }
            // The site catches up too: each thread page shows every message and no page is cut short.
            let caughtUp = await CrashLoopTests.poll(timeout: .seconds(30)) {
                sent.allSatisfy { message in
                    let page = scratch.root + "/site/threads/\(message.thread).html"
                    return ((try? String(contentsOfFile: page, encoding: .utf8)) ?? "").contains(message.text)
                }
            }
            #expect(caughtUp, "the site did not catch up after the disk emptied")
            daemon.stop()
            #expect(daemon.process.terminationStatus == 0, "\(daemon.output.suffix(3000))")

            let check = try CrashLoopChecker.check(scratch, sent: sent, effects: await runtime.control.effects())
            let verify = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
            let pages = Self.htmlFiles(in: scratch.root + "/site")
            let torn = pages.filter { path in
                let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                return !text.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("</html>")
            }
            let output = daemon.output
            let journalWaits = output.components(separatedBy: "cannot write; waiting and trying again").count - 1
            let siteFailures = output.components(separatedBy: "site build failed").count - 1
            Soak.report(
                "disk-full",
                [
                    "cycles": "\(cycles) (the 8 MB disk full for \(fullMilliseconds) ms in all), one daemon throughout",
                    "messages": "\(sent.count) in 2 threads",
                    "journal writes that waited for space": "\(journalWaits)",
                    "site builds that failed and were retried": "\(siteFailures)",
                    "lost messages": "\(check.lost.count)",
                    "duplicate effects": "\(check.duplicateEffects.count)",
                    "duplicate replies": "\(check.duplicateReplies.count)",
                    "orphan or torn visible files": "\(check.badFiles.count)",
                    "torn pages": "\(torn.count) of \(pages.count)",
                    "site caught up": caughtUp ? "yes" : "NO",
                    "audit verify": verify.status == 0 ? "clean" : "FAILED",
                    "wall time": watch.seconds,
                ])
            #expect(journalWaits + siteFailures > 0, "the disk never got in the way: the suite tested nothing")
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            #expect(torn.isEmpty, "pages cut short: \(torn)")
            #expect(check.lost.isEmpty, "lost: \(check.lost)")
            #expect(check.duplicateEffects.isEmpty, "duplicate effects: \(check.duplicateEffects)")
            #expect(check.duplicateReplies.isEmpty, "duplicate replies: \(check.duplicateReplies)")
            #expect(check.badFiles.isEmpty, "orphan or torn files: \(check.badFiles)")
        }
    }

    static func htmlFiles(in folder: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder)
        var found: [String] = []
        while let name = enumerator?.nextObject() as? String {
            if name.hasSuffix(".html") { found.append(folder + "/" + name) }
        }
        return found.sorted()
    }
}
