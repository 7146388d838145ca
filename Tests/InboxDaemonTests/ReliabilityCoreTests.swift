import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Testing

@testable import InboxDaemon

/// Issue 13's core parts on a real daemon: anchored journals and `audit verify` on what it wrote, and a
/// 50 MB file that costs nothing (docs/format.md §4.3, §7.3).
@Suite("Anchors and large files on a real daemon", .serialized)
struct ReliabilityCoreTests {
    @Test(
        "The daemon anchors every thread journal's head in the inbox journal; audit verify names a cut tail, a deleted journal and a rewritten line"
    )
    func anchorsOnARealDaemon() async throws {
        let scratch = try Scratch()
        for thread in ["ops", "q4"] { try scratch.thread(thread) }
        try await DaemonHarness.run(scratch) { _ in
            for (thread, message) in [("ops", "backup"), ("q4", "plan"), ("ops", "restore")] {
                try scratch.write("\(thread)/\(message).md", "Please look at \(message).\n")
                await scratch.waitUntil("\(message) is answered", timeout: .seconds(20)) {
                    try scratch.state(thread).message(message)?.delivery == .replied
                }
            }
        }
        // Stopped cleanly: the last anchor names where each thread journal ends.
        let workspace = try scratch.workspace
        let inbox = try scratch.inboxState()
        for thread in ["ops", "q4"] {
            let last = try #require(try scratch.journal(thread).last)
            #expect(inbox.anchors[thread] == JournalHead(thread: thread, seq: last.seq, hash: last.hash))
        }
        let clean = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(clean.stdout.contains("2 thread journals matching their anchors"), "\(clean.stdout)")
        let head = try #require(clean.stdout.split(separator: "\n").last?.split(separator: " ").dropFirst(3).first)

        // The random edits, on the journals this daemon wrote: every one detected.
        let opsPath = workspace.journalPath(thread: "ops")
        let original = try Data(contentsOf: URL(fileURLWithPath: opsPath))
        let anchors = JournalAudit.anchors(
            in: JournalAudit.lines(Array(try Data(contentsOf: URL(fileURLWithPath: workspace.inboxJournalPath)))))
        let lines = original.split(separator: 10, omittingEmptySubsequences: false).dropLast().map { Array($0) }
        for cut in 1...lines.count {
            let kept = Array(lines.prefix(lines.count - cut).joined(separator: [10])) + (cut == lines.count ? [] : [10])
            let finding = JournalAudit.verifyThread("ops", JournalAudit.lines(kept), anchors: anchors["ops"] ?? [])
            #expect(finding?.line == lines.count - cut + 1, "cut \(cut) lines: \(String(describing: finding))")
        }

        // A cut tail, through the CLI.
        try Data(original.dropLast(lines.last.map { $0.count + 1 } ?? 0)).write(to: URL(fileURLWithPath: opsPath))
        let cut = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
        #expect(cut.status == 65)
        #expect(
            cut.stderr.contains("inbox/ops/journal.jsonl:\(lines.count): line \(lines.count) is missing"),
            "\(cut.stderr)")

        // A line rewritten with a recomputed hash (the chain of the lines after it left alone).
        var entries = lines.compactMap { try? JournalCodec.decode($0) }
        entries[1].ts = entries[1].ts.adding(milliseconds: 1)
        entries[1].hash = JournalCodec.hash(of: entries[1])
        try Data(entries.flatMap { JournalCodec.encode($0) + [10] }).write(to: URL(fileURLWithPath: opsPath))
        let rewritten = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
        #expect(rewritten.status == 65)
        #expect(rewritten.stderr.contains("inbox/ops/journal.jsonl:2: this line was changed"), "\(rewritten.stderr)")

        // A deleted journal.
        try FileManager.default.removeItem(atPath: opsPath)
        let deleted = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
        #expect(deleted.status == 65)
        #expect(deleted.stderr.contains("inbox/ops/journal.jsonl:1: the journal is missing"), "\(deleted.stderr)")
        try original.write(to: URL(fileURLWithPath: opsPath))

        // The inbox journal's own tail, against the head kept from the clean run.
        let inboxBytes = try Data(contentsOf: URL(fileURLWithPath: workspace.inboxJournalPath))
        let inboxLines = inboxBytes.split(separator: 10).count
        let shorter = inboxBytes.split(separator: 10).dropLast().map { Array($0) + [10] }.joined()
        try Data(shorter).write(to: URL(fileURLWithPath: workspace.inboxJournalPath))
        let headCheck = try await Workplace.letterbox(["audit", "verify", "--head", String(head)], in: scratch.root)
        #expect(headCheck.status == 65)
        #expect(headCheck.stderr.contains("inbox/journal.jsonl:\(inboxLines): not the line of the head you kept"))
    }

    @Test("§4.3: a 50 MB file is rejected from its size, once, and never read; the other threads go on")
    func largeFileCostsNothing() async throws {
        let scratch = try Scratch()
        for thread in ["ops", "q4"] { try scratch.thread(thread) }
        try await DaemonHarness.run(scratch) { _ in
            let big = scratch.inbox + "/ops/dump.bin"
            for round in 0..<4 {
                // Sparse: 50 MB on paper, nothing on disk; written again each round (a new close-write).
                let fd = open(big, O_WRONLY | O_CREAT, 0o644)
                #expect(fd >= 0)
                _ = pwrite(fd, [UInt8(round)], 1, 0)
                _ = ftruncate(fd, 50 << 20)
                close(fd)
                try await Task.sleep(for: .milliseconds(150))
            }
            try scratch.write("q4/plan.md", "Plan the quarter.\n")
            await scratch.waitUntil("q4 is answered", timeout: .seconds(20)) {
                try scratch.state("q4").message("plan")?.delivery == .replied
            }
            await scratch.waitUntil("dump.bin is rejected") {
                try scratch.journal("ops").contains { $0.event.name == "rejected" }
            }
            try await Task.sleep(for: .milliseconds(300))
            let rejections = try scratch.journal("ops").filter { $0.event.name == "rejected" }
            #expect(rejections.count == 1, "\(rejections)")
            // Never read, so never hashed.
            if case let .rejected(file, reason, sha256)? = rejections.first?.event {
                #expect(file == "dump.bin" && sha256 == nil)
                #expect(reason.contains("only .md files are messages"))
            }
            // A message over the limit says by how much and what to do.
            let fd = open(scratch.inbox + "/ops/huge.md", O_WRONLY | O_CREAT, 0o644)
            _ = ftruncate(fd, (1 << 20) + 1)
            close(fd)
            await scratch.waitUntil("huge.md is rejected") {
                try scratch.state("ops").rejected["huge.md"] != nil
            }
            let reason = try scratch.state("ops").rejected["huge.md"]?.reason ?? ""
            #expect(
                reason.contains("the file is 1048577 bytes, over the limit of 1048576 bytes (limits.message_bytes"),
                "\(reason)")
        }
    }
}
