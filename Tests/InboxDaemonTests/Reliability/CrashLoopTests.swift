import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Logging
import ReferenceRuntime
import Testing

/// The crash loop (docs/reliability.md): a real daemon process SIGKILLed at seeded random moments, and at
/// seeded effect steps (`LETTERBOX_CRASH_AT`), while messages are delivered, replies stream, approvals wait and
/// controls run; restarted each time. Then a checker compares the reference runtime's effect log with the inbox
/// and its journals.
@Suite("Reliability: the crash loop", .processSlot)
struct CrashLoopTests {
    static let logger = DaemonHarness.quietLogger

    /// Threads and their agents: streaming replies, short replies, tool calls that wait for approval.
    static let threads = [
        ("notes", "writer"), ("chat", "assistant"), ("desk", "assistant"),
        ("runbook1", "operator"), ("runbook2", "operator"),
    ]
    /// Journal events a self-inflicted crash is aimed at (the commit that carries one).
    static let events = [
        "detected", "accepted", "attempt", "sent", "reply_started", "reply_completed",
        "tool_call", "approval_requested", "approval_answered", "approval_sent", "control", "abort_requested",
    ]

    /// What the loop asked for.
    struct Sent {
        var thread: String
        var id: String
        var text: String
    }

    @Test(
        "SIGKILL at random points, restart each time: 0 lost, 0 duplicate effects or replies, 0 torn files, audit clean"
    )
    func crashLoop() async throws {
        let kills = Soak.tier(short: 50, long: 500)
        var random = SplitMix64(seed: Soak.seed)
        let watch = Stopwatch()
        let scratch = try Scratch(settleMilliseconds: 30)
        for (thread, agent) in Self.threads { try scratch.thread(thread, agent: agent) }
        let configuration = ReferenceRuntimeConfiguration(
            port: 0, token: DaemonHarness.token, streamInterval: .milliseconds(15))
        var sent: [Sent] = []
        var controls = 0
        var selfKills = 0
        var signalKills = 0
        var exitedEarly: [String] = []
        try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: Self.logger) { runtime in
            for round in 0..<kills {
                var environment: [String: String] = [:]
                if random.chance(0.3) {
                    let step = ["journal", "files", "jobs"].randomElement(using: &random) ?? "journal"
                    let event = Self.events.randomElement(using: &random) ?? "attempt"
                    environment["LETTERBOX_CRASH_AT"] = "\(step):\(event)"
                }
                let daemon = try DaemonProcess.start(
                    scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"], environment: environment)
                // Work for the daemon: new messages, answers to waiting approvals, now and then an abort.
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    let (thread, _) = Self.threads.randomElement(using: &random) ?? Self.threads[0]
                    let id = "m\(round)-\(sent.count)"
                    let text = "Crash loop message \(sent.count) (round \(round)) in \(thread)."
                    try scratch.write("\(thread)/\(id).md", text)
                    sent.append(Sent(thread: thread, id: id, text: text))
                }
                controls += try Self.answerApprovals(scratch, round: round, random: &random)
                if random.chance(0.1) {
                    try scratch.write("notes/controls/abort-\(round).md", "")
                    controls += 1
                }
                // Let it run from 0 to 600 ms after it is ready (or until it kills itself), then SIGKILL.
                let ready = await Self.readyOrGone(daemon)
                if ready { try await Task.sleep(for: .milliseconds(Int.random(in: 0...600, using: &random))) }
                if daemon.process.isRunning && !Self.hasDied(daemon.process.processIdentifier) {
                    await daemon.kill(SIGKILL)
                    signalKills += 1
                } else {
                    _ = try? await offPool { [process = daemon.process] in process.waitUntilExit() }
                    if daemon.process.terminationReason == .uncaughtSignal
                        && daemon.process.terminationStatus == SIGKILL
                    {
                        selfKills += 1
                    } else {
                        exitedEarly.append("round \(round): exit \(daemon.process.terminationStatus)")
                    }
                }
            }
            #expect(exitedEarly.isEmpty, "daemons that exited on their own: \(exitedEarly)")

            // The last daemon runs to the end: every message answered, every approval answered.
            let last = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"])
            try await last.waitUntilReady(timeout: .seconds(60))
            var answering = 0
            // Every 250 ms: each look folds every thread's journal, thousands of lines in the long tier.
            let settled = await Self.poll(timeout: .seconds(Double(60 + sent.count)), every: .milliseconds(250)) {
                answering += 1
                controls += try Self.answerApprovals(scratch, round: kills + answering, random: &random)
                return try Self.threads.allSatisfy { thread, _ in
                    let state = try scratch.state(thread)
                    return state.pendingApprovals.isEmpty && state.runs.values.allSatisfy { $0.status.isFinished }
                        && sent.filter { $0.thread == thread }.allSatisfy {
                            CrashLoopChecker.answered($0.id, in: state)
                        }
                }
            }
            last.stop()
            #expect(last.process.terminationStatus == 0, "\(last.output.suffix(2000))")

            let check = try await CrashLoopChecker.check(scratch, sent: sent, effects: runtime.control.effects())
            let verify = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            Soak.report(
                "crash-loop",
                [
                    "kills": "\(signalKills + selfKills) (\(signalKills) SIGKILL from the test at random moments, "
                        + "\(selfKills) at a seeded effect step via LETTERBOX_CRASH_AT)",
                    "messages": "\(sent.count) in \(Self.threads.count) threads; \(controls) control files",
                    "runtime effects": "\(check.effects)",
                    "answers stopped by an abort control": "\(check.aborted)",
                    "lost messages": "\(check.lost.count)",
                    "duplicate effects": "\(check.duplicateEffects.count)",
                    "duplicate replies": "\(check.duplicateReplies.count)",
                    "orphan or torn visible files": "\(check.badFiles.count)",
                    "audit verify": verify.status == 0 ? "clean" : "FAILED",
                    "settled": settled ? "yes" : "NO",
                    "wall time": watch.seconds,
                ])
            #expect(check.lost.isEmpty, "lost: \(check.lost)")
            #expect(settled, "the last daemon did not answer everything")
            #expect(check.duplicateEffects.isEmpty, "duplicate effects: \(check.duplicateEffects)")
            #expect(check.duplicateReplies.isEmpty, "duplicate replies: \(check.duplicateReplies)")
            #expect(check.badFiles.isEmpty, "orphan or torn files: \(check.badFiles)")
        }
    }

    /// Polls `condition` every `interval` until it holds or `timeout` passes (no issue recorded: the caller
    /// decides).
    static func poll(
        timeout: Duration, every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
    ) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return true }
            try? await Task.sleep(for: interval)
        }
        return false
    }

    /// Whether the process is gone or a zombie (it killed itself at its crash point and is not reaped yet).
    static func hasDied(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return stat[close...].dropFirst(2).first == "Z"
    }

    /// Waits until the daemon says it is ready, or is gone (a self-inflicted crash during recovery).
    static func readyOrGone(_ daemon: DaemonProcess) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if !daemon.process.isRunning { return false }
            if daemon.output.contains("letterbox daemon ready") { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the daemon neither got ready nor exited:\n\(daemon.output.suffix(2000))")
        return false
    }

    /// Drops an approve or reject control for each runbook thread whose one approval is pending and not yet
    /// answered by an earlier control; returns how many it wrote.
    static func answerApprovals(_ scratch: Scratch, round: Int, random: inout SplitMix64) throws -> Int {
        var written = 0
        for (thread, agent) in threads where agent == "operator" {
            // Read while the daemon may be mid-append: a line being written is tried again next time.
            guard let state = try? scratch.state(thread), let pending = state.pendingApprovals.first else { continue }
            // One control per approval: the file name carries the approval id, so a repeat is a no-op.
            let action = random.chance(0.7) ? "approve" : "reject"
            let name = "controls/\(action)-\(pending.id.replacingOccurrences(of: ".", with: "-")).md"
            let other = name.replacingOccurrences(of: action, with: action == "approve" ? "reject" : "approve")
            guard !scratch.exists("\(thread)/\(name)") && !scratch.exists("\(thread)/\(other)") else { continue }
            try scratch.write("\(thread)/\(name)", "---\ntarget: \(pending.id)\nnote: round \(round)\n---\n")
            written += 1
        }
        return written
    }
}

/// Compares what the runtime did with what the inbox says, after a crash loop or a fault run.
struct CrashLoopChecker {
    /// Whether message `id`'s answer came to its end: it is `replied`, or its last run was aborted (the
    /// loop's abort controls stop whatever answer is streaming; the message stays `sent`, its answer kept).
    static func answered(_ id: String, in state: ThreadState) -> Bool {
        guard let message = state.message(id) else { return false }
        if message.delivery == .replied { return true }
        return message.delivery == .sent && message.runs.last.flatMap { state.runs[$0] }?.status == .aborted
    }

    var effects = 0
    /// Messages whose answer an abort control stopped (answered, not replied).
    var aborted = 0
    var lost: [String] = []
    var duplicateEffects: [String] = []
    var duplicateReplies: [String] = []
    var badFiles: [String] = []

    static func check(_ scratch: Scratch, sent: [CrashLoopTests.Sent], effects: [ReferenceEffect]) throws
        -> CrashLoopChecker
    {
        var check = CrashLoopChecker()
        check.effects = effects.count
        // Each thread's journal is read and folded once (the long tier's are thousands of lines).
        var states: [String: ThreadState] = [:]
        for thread in Set(sent.map(\.thread)) { states[thread] = try scratch.state(thread) }
        let accepted = Dictionary(grouping: effects.filter { $0.kind == .messageAccepted }) { $0.content ?? "" }
        for message in sent {
            let count = accepted[message.text]?.count ?? 0
            let state = states[message.thread]
            if let state, state.message(message.id)?.delivery == .sent, Self.answered(message.id, in: state) {
                check.aborted += 1
            }
            if count == 0 || !(state.map { Self.answered(message.id, in: $0) } ?? false) {
                let delivery = state?.message(message.id)?.delivery
                check.lost.append("\(message.thread)/\(message.id): \(count) accepted, \(String(describing: delivery))")
            }
        }
        for kind in [ReferenceEffect.Kind.messageAccepted, .runStarted, .approvalAnswered] {
            let keyed = Dictionary(grouping: effects.filter { $0.kind == kind }) {
                "\($0.threadId)/\($0.messageId ?? "-")/\($0.idempotencyKey ?? "-")"
            }
            for (key, list) in keyed where list.count > 1 {
                check.duplicateEffects.append("\(kind) \(key) x\(list.count)")
            }
        }
        let byKey = Dictionary(grouping: effects.filter { $0.kind == .messageAccepted && $0.idempotencyKey != nil }) {
            $0.idempotencyKey ?? ""
        }
        for (key, list) in byKey where list.count > 1 { check.duplicateEffects.append("key \(key) x\(list.count)") }
        let threads = Set(sent.map(\.thread))
        for thread in threads.sorted() {
            guard let state = states[thread] else { continue }
            let runsPerMessage = Dictionary(grouping: state.runs.values) { $0.message }
            for (message, runs) in runsPerMessage where runs.count > 1 {
                check.duplicateReplies.append("\(thread)/\(message): \(runs.count) runs")
            }
            let named = Set(
                state.runs.values.map(\.file) + state.messages.map(\.file)
                    + state.runs.values.flatMap { $0.toolCalls.map(\.file) + $0.approvals.map(\.file) })
            for name in scratch.files(thread) {
                if name.hasPrefix(".lb-tmp-") { check.badFiles.append("\(thread)/\(name): orphan temp file") }
                if name.range(of: #"\.reply-\d+\.md$"#, options: .regularExpression) != nil {
                    check.duplicateReplies.append("\(thread)/\(name)")
                }
                guard name.hasSuffix(".md"), name != "thread.md" else { continue }
                if !named.contains(name) { check.badFiles.append("\(thread)/\(name): named by no journal line") }
                guard name.contains(".reply") || name.contains(".tool-") || name.contains(".approval-") else {
                    continue
                }
                let text = scratch.read("\(thread)/\(name)") ?? ""
                if !(text.hasPrefix("---\n") && text.contains("\n---\n") && text.contains("status: ")) {
                    check.badFiles.append("\(thread)/\(name): torn")
                }
            }
            if let error = try InboxReader.readThread(thread, in: scratch.workspace).journalError {
                check.badFiles.append("\(thread)/journal.jsonl: \(error)")
            }
            if !state.rejected.isEmpty { check.badFiles.append("\(thread): rejected \(state.rejected.keys.sorted())") }
        }
        return check
    }
}
