import Foundation
import Testing

@testable import ChatModel

/// An inbox's journals as the daemon writes them: thread journals appended in group commits, each group
/// followed by one `anchor` line in the inbox journal naming the heads it left (docs/format.md §7.3).
struct AnchoredInbox {
    var inbox = JournalBuilder()
    var threads: [String: JournalBuilder] = [:]

    /// `threads` ids, each with `messages` messages delivered and answered (some after a retry, some
    /// with a file rejected on the way), committed in seeded random groups across threads.
    static func make(seed: UInt64, threads ids: [String], messages: Int) -> AnchoredInbox {
        var random = SplitMix64(seed: seed)
        var result = AnchoredInbox()
        result.inbox.add(.inboxCreated(detail: #"{"format":1,"id":"tamper"}"#), actor: .operator)
        result.inbox.add(.daemonStarted(detail: #"{"pid":1}"#))
        var pending: [String: [(Actor, JournalEvent)]] = [:]
        for id in ids {
            var events: [(Actor, JournalEvent)] = []
            for index in 1...messages {
                let m = "m\(index)"
                let key = "lb-tamper-\(id)-\(m)-\(events.count + 2)"
                events += [
                    (.operator, .detected(message: m, file: "\(m).md", sha256: "h-\(id)-\(m)")),
                    (.daemon, .accepted(message: m, requestID: key, agent: "ops", sha256: "h-\(id)-\(m)")),
                    (.daemon, .attempt(message: m, requestID: key, attempt: 1)),
                ]
                var attempt = 1
                if Bool.random(using: &random) {
                    events.append(
                        (
                            .daemon,
                            .retryScheduled(
                                message: m, attempt: 1, reason: "503",
                                notBefore: Timestamp(milliseconds: 1_795_100_000_000))
                        ))
                    events.append((.daemon, .attempt(message: m, requestID: key, attempt: 2)))
                    attempt = 2
                }
                if Int.random(in: 0..<4, using: &random) == 0 {
                    events.append(
                        (.daemon, .rejected(file: "notes-\(index).txt", reason: "only .md files", sha256: nil)))
                }
                events += [
                    (.daemon, .sent(message: m, requestID: key, attempt: attempt, runtimeID: "rt-\(m)")),
                    (
                        .runtime,
                        .replyStarted(run: "run-\(m)", message: m, file: "\(m).reply.md", agent: "ops", runtimeID: nil)
                    ),
                    (.runtime, .replyCompleted(run: "run-\(m)", file: "\(m).reply.md", sha256: "r-\(m)", detail: nil)),
                ]
            }
            pending[id] = events
            result.threads[id] = JournalBuilder()
        }
        while pending.values.contains(where: { !$0.isEmpty }) {
            var heads: [JournalHead] = []
            for id in ids where !(pending[id] ?? []).isEmpty && Bool.random(using: &random) {
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    guard let (actor, event) = pending[id]?.first else { break }
                    pending[id]?.removeFirst()
                    result.threads[id]?.add(event, actor: actor)
                }
                if let last = result.threads[id]?.entries.last {
                    heads.append(JournalHead(thread: id, seq: last.seq, hash: last.hash))
                }
            }
            if !heads.isEmpty { result.inbox.add(.anchor(heads: heads)) }
        }
        return result
    }

    var threadBytes: [String: [UInt8]] { threads.mapValues(\.bytes) }
}

/// One random edit to one journal, and the first line it makes wrong.
struct TamperEdit: CustomStringConvertible {
    enum Kind: String, CaseIterable {
        case flip, deleteLine, insert, reorder, truncate, rewriteRehashed, rewriteSuffixRehashed, deleteJournal,
            replaceJournal
    }
    var kind: Kind
    var thread: String
    /// The thread journal after the edit; nil when it was deleted.
    var bytes: [UInt8]?
    /// The first line that differs from the journal as written (1 for a deleted journal).
    var firstBadLine: Int
    var detail: String

    var description: String { "\(kind.rawValue) in \(thread) (\(detail)), first bad line \(firstBadLine)" }

    /// Applies a random edit of `kind` to one of `inbox`'s thread journals.
    static func make(_ kind: Kind, on inbox: AnchoredInbox, using random: inout SplitMix64) -> TamperEdit {
        let ids = inbox.threads.keys.sorted()
        let thread = ids[Int.random(in: 0..<ids.count, using: &random)]
        let journal = inbox.threads[thread] ?? JournalBuilder()
        var lines = journal.lines
        let original = lines
        let n = lines.count
        var detail = ""
        switch kind {
        case .flip:
            var bytes = journal.bytes
            let offset = Int.random(in: 0..<bytes.count, using: &random)
            bytes[offset] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            let line = bytes[..<offset].count(where: { $0 == 10 }) + 1
            return TamperEdit(kind: kind, thread: thread, bytes: bytes, firstBadLine: line, detail: "byte \(offset)")
        case .deleteLine:
            let k = Int.random(in: 0..<n, using: &random)
            lines.remove(at: k)
            detail = "line \(k + 1)"
        case .insert:
            let k = Int.random(in: 0..<n, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0:
                let copy = Int.random(in: 0..<n, using: &random)
                lines.insert(original[copy], at: k)
                detail = "a copy of line \(copy + 1) before line \(k + 1)"
            case 1:
                // A well-formed line chained onto the one before it: its own hash and prev are right.
                let forged = JournalCodec.entry(
                    after: k == 0 ? nil : journal.entries[k - 1], ts: journal.entries[k].ts, actor: .daemon,
                    event: .rejected(file: "forged.txt", reason: "forged", sha256: nil))
                lines.insert(JournalCodec.encode(forged), at: k)
                detail = "a forged, chained line before line \(k + 1)"
            default:
                lines.insert(Array(#"{"seq":1,"event":"nonsense"}"#.utf8), at: k)
                detail = "garbage before line \(k + 1)"
            }
        case .reorder:
            let i = Int.random(in: 0..<(n - 1), using: &random)
            let j = Int.random(in: (i + 1)..<n, using: &random)
            lines.swapAt(i, j)
            detail = "lines \(i + 1) and \(j + 1) swapped"
        case .truncate:
            let bytes = journal.bytes
            let cut = Int.random(in: 0..<bytes.count, using: &random)
            let line = bytes[..<cut].count(where: { $0 == 10 }) + 1
            return TamperEdit(
                kind: kind, thread: thread, bytes: Array(bytes[..<cut]), firstBadLine: line, detail: "cut at \(cut)")
        case .rewriteRehashed, .rewriteSuffixRehashed:
            let k = Int.random(in: 0..<n, using: &random)
            var entries = journal.entries
            entries[k].ts = entries[k].ts.adding(milliseconds: 1)
            entries[k].hash = JournalCodec.hash(of: entries[k])
            if kind == .rewriteSuffixRehashed {
                for index in (k + 1)..<n {
                    entries[index].prev = entries[index - 1].hash
                    entries[index].hash = JournalCodec.hash(of: entries[index])
                }
            }
            lines = entries.map { JournalCodec.encode($0) }
            detail = "line \(k + 1) rewritten\(kind == .rewriteSuffixRehashed ? ", the rest rechained" : "")"
        case .deleteJournal:
            return TamperEdit(kind: kind, thread: thread, bytes: nil, firstBadLine: 1, detail: "")
        case .replaceJournal:
            let others = ids.filter { $0 != thread }
            let other = others[Int.random(in: 0..<others.count, using: &random)]
            lines = inbox.threads[other]?.lines ?? []
            detail = "replaced by \(other)'s"
        }
        let first =
            zip(lines, original).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(lines.count, original.count)
        return TamperEdit(
            kind: kind, thread: thread, bytes: lines.flatMap { $0 + [10] }, firstBadLine: first + 1, detail: detail)
    }
}

@Suite("audit verify: anchored chains, forged events (docs/format.md §7.3, §7.5)")
struct JournalAuditTests {
    @Test("Journals written with anchors verify clean; the anchors name every thread's head")
    func cleanInbox() {
        let inbox = AnchoredInbox.make(seed: 7, threads: ["ops", "q4"], messages: 3)
        let report = JournalAudit.verify(inbox: inbox.inbox.bytes, threads: inbox.threadBytes)
        #expect(report.findings.isEmpty, "\(report.findings)")
        #expect(report.anchoredThreads == 2)
        #expect(report.journals == 3)
        #expect(report.inboxHead == inbox.inbox.entries.last)
    }

    @Test("A journal written before anchors existed verifies as before (chain and fold only)")
    func oldInboxWithoutAnchors() {
        var thread = JournalBuilder()
        thread.deliveredAndReplied("hello")
        var inbox = JournalBuilder()
        inbox.add(.daemonStarted(detail: "{}"))
        #expect(JournalAudit.verify(inbox: inbox.bytes, threads: ["ops": thread.bytes]).findings.isEmpty)
        // Without an anchor a cut tail is not visible: that is what anchors are for.
        let cut = Array(thread.lines.dropLast().joined(separator: [10])) + [10]
        #expect(JournalAudit.verify(inbox: inbox.bytes, threads: ["ops": cut]).findings.isEmpty)
    }

    @Test("A cut tail, a deleted journal and a replaced journal are named by the anchor")
    func anchorsCatchWhatChainsCannot() throws {
        let inbox = AnchoredInbox.make(seed: 11, threads: ["ops", "q4"], messages: 2)
        let ops = try #require(inbox.threads["ops"])
        let cut = Array(ops.lines.dropLast(2).joined(separator: [10])) + [10]
        let q4 = try #require(inbox.threadBytes["q4"])
        let cutReport = JournalAudit.verify(inbox: inbox.inbox.bytes, threads: ["ops": cut, "q4": q4])
        let finding = try #require(cutReport.findings.first)
        #expect(finding.journal == "ops" && finding.line == ops.entries.count - 1)
        #expect(finding.message.contains("its end was cut off"))

        let deleted = JournalAudit.verify(inbox: inbox.inbox.bytes, threads: ["q4": q4])
        #expect(deleted.findings.map(\.journal) == ["ops"])
        #expect(deleted.findings.first?.message.contains("the journal is missing") == true)

        let replaced = JournalAudit.verify(
            inbox: inbox.inbox.bytes, threads: ["ops": q4, "q4": q4])
        #expect(replaced.findings.map(\.journal) == ["ops"])
        #expect(replaced.findings.first?.line == 1)
    }

    @Test("A forged event that hashes correctly is caught by replaying the fold, naming its line")
    func forgedEvents() throws {
        var thread = JournalBuilder()
        thread.deliveredAndReplied("hello")
        // A retry for a message that never failed, with a correct hash and chain.
        thread.add(.retryRequested(message: "hello"), actor: .operator)
        var inbox = JournalBuilder()
        inbox.add(.daemonStarted(detail: "{}"))
        let report = JournalAudit.verify(inbox: inbox.bytes, threads: ["ops": thread.bytes])
        let finding = try #require(report.findings.first)
        #expect(finding.line == 7)
        #expect(finding.message.contains("retry_requested cannot happen here"))

        // Delivery events out of order: `sent` before its `attempt`.
        var swapped = JournalBuilder()
        swapped.add(.detected(message: "a", file: "a.md", sha256: "h"))
        swapped.add(.accepted(message: "a", requestID: "k", agent: "ops", sha256: "h"))
        swapped.add(.sent(message: "a", requestID: "k", attempt: 1, runtimeID: "r"))
        swapped.add(.attempt(message: "a", requestID: "k", attempt: 1))
        let out = JournalAudit.verify(inbox: inbox.bytes, threads: ["ops": swapped.bytes])
        #expect(out.findings.first?.line == 3)

        // A thread event in the inbox journal.
        inbox.add(.retryRequested(message: "x"))
        #expect(JournalAudit.verify(inbox: inbox.bytes, threads: [:]).findings.first?.line == 2)
    }

    /// The tamper suite: `LETTERBOX_SOAK=1` runs the long tier (1,000 edits), `make test` the short one (200).
    @Test("Random edits to anchored journals: every one detected, the first bad line named")
    func randomEdits() throws {
        let long = ProcessInfo.processInfo.environment["LETTERBOX_SOAK"] == "1"
        let count = long ? 1_000 : 200
        let inbox = AnchoredInbox.make(
            seed: 2026, threads: ["incident_2026.11", "ops", "q4-planning", "x"], messages: 6)
        let inboxLines = JournalAudit.lines(inbox.inbox.bytes)
        let anchors = JournalAudit.anchors(in: inboxLines)
        #expect(JournalAudit.verify(inbox: inbox.inbox.bytes, threads: inbox.threadBytes).findings.isEmpty)
        var random = SplitMix64(seed: 1_311)
        var detected = 0
        var exact = 0
        var ranged = 0
        var byKind: [String: Int] = [:]
        for index in 0..<count {
            let kind = TamperEdit.Kind.allCases[index % TamperEdit.Kind.allCases.count]
            let edit = TamperEdit.make(kind, on: inbox, using: &random)
            let finding: JournalAudit.Finding?
            if let bytes = edit.bytes {
                finding = JournalAudit.verifyThread(
                    edit.thread, JournalAudit.lines(bytes), anchors: anchors[edit.thread] ?? [])
            } else {
                var threads = inbox.threadBytes
                threads[edit.thread] = nil
                finding = JournalAudit.verify(inbox: inbox.inbox.bytes, threads: threads).findings.first
            }
            guard let finding else {
                Issue.record("edit \(index) not detected: \(edit)")
                continue
            }
            detected += 1
            byKind[kind.rawValue, default: 0] += 1
            #expect(finding.journal == edit.thread, "edit \(index): \(edit): \(finding)")
            if finding.line == edit.firstBadLine {
                exact += 1
            } else if [.rewriteRehashed, .rewriteSuffixRehashed].contains(kind), let last = finding.lastLine,
                finding.line <= edit.firstBadLine, edit.firstBadLine <= last
            {
                // A rehashed rewrite is placed between the last anchor that holds and the first that does not.
                ranged += 1
            } else {
                Issue.record("edit \(index): \(edit): named line \(finding.line): \(finding.message)")
            }
        }
        #expect(detected == count)
        print(
            "tamper suite: \(count) edits, \(detected) detected (\(exact) at the exact first bad line, \(ranged) within the lines of one group commit), by kind \(byKind.sorted { $0.key < $1.key })"
        )
    }
}
