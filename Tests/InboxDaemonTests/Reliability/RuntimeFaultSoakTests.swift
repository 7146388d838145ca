import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Logging
import ReferenceRuntime
import Testing

/// Runtime faults at scale (docs/reliability.md): the reference runtime's seeded chaos answers 30% of message
/// posts with a fault (5xx, 429 and 503 with `Retry-After` in seconds and as an HTTP date, hangs past the
/// daemon's timeout, connection resets, truncated and garbage bodies, a 200 with garbage, "acted, then dropped
/// the connection") while a real daemon delivers; then every message must be delivered once.
@Suite("Reliability: runtime faults", .processSlot)
struct RuntimeFaultSoakTests {
    static let post = "/external/chat/messages"

    /// The faults the chaos picks from, with the names the figures use.
    static let kinds: [(String, ReferenceFault)] = [
        ("500", ReferenceFault(path: post, status: 500)),
        ("502", ReferenceFault(path: post, status: 502)),
        ("503 Retry-After: 1 (seconds)", ReferenceFault(path: post, status: 503, retryAfter: "1")),
        (
            "503 Retry-After as an HTTP date",
            ReferenceFault(path: post, status: 503, retryAfter: "1", retryAfterAsDate: true)
        ),
        ("429 Retry-After: 1 (seconds)", ReferenceFault(path: post, status: 429, retryAfter: "1")),
        (
            "429 Retry-After as an HTTP date",
            ReferenceFault(path: post, status: 429, retryAfter: "1", retryAfterAsDate: true)
        ),
        ("hang past the timeout (4 s > 3 s)", ReferenceFault(path: post, hangSeconds: 4)),
        ("connection reset (RST)", ReferenceFault(path: post, reset: true)),
        ("truncated body", ReferenceFault(path: post, status: 201, truncate: true)),
        ("200 with a garbage body", ReferenceFault(path: post, status: 200, rawBody: "<html>\u{0}\u{7f} not json")),
        ("acted, then a 200 with garbage", ReferenceFault(path: post, afterEffect: true, rawBody: "{\"message\": ")),
        ("acted, then dropped the connection", ReferenceFault(path: post, reset: true, afterEffect: true)),
        ("acted, then a truncated 201", ReferenceFault(path: post, status: 201, afterEffect: true, truncate: true)),
    ]

    @Test(
        "30% faults on message posts: 100% delivered, none before its Retry-After, one effect per key, incidents closed"
    )
    func faultSoak() async throws {
        let count = Soak.tier(short: 80, long: 1000)
        let threadCount = Soak.tier(short: 8, long: 20)
        let watch = Stopwatch()
        let scratch = try Scratch()
        let threads = (0..<threadCount).map { "t\($0)" }
        for thread in threads { try scratch.thread(thread) }
        let configuration = ReferenceRuntimeConfiguration(
            port: 0, token: DaemonHarness.token, streamInterval: .milliseconds(2))
        let logger = DaemonHarness.quietLogger
        try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: logger) { runtime in
            try await runtime.control.setChaos(
                ReferenceChaos(
                    seed: Soak.seed, rate: 0.3, method: "POST", path: Self.post, faults: Self.kinds.map(\.1)))
            let daemon = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL, arguments: ["--no-site"])
            defer { daemon.stop() }
            try await daemon.waitUntilReady()
            var sent: [CrashLoopTests.Sent] = []
            for index in 0..<count {
                let thread = threads[index % threads.count]
                let message = CrashLoopTests.Sent(thread: thread, id: "m\(index)", text: "Fault soak message \(index).")
                try scratch.write("\(thread)/\(message.id).md", message.text)
                sent.append(message)
            }
            let delivered = await scratch.waitUntil("every message replied", timeout: .seconds(Double(120 + count / 2)))
            {
                try threads.allSatisfy { thread in
                    let state = try scratch.state(thread)
                    return sent.filter { $0.thread == thread }.allSatisfy { state.message($0.id)?.delivery == .replied }
                }
            }
            // The breaker closes and the runtime state clears once the faults are over.
            let report = await runtime.control.chaosReport()
            try await runtime.control.setChaos(nil)
            await scratch.waitUntil("the runtime is reachable again", timeout: .seconds(30)) {
                try scratch.inboxState().runtime == .reachable
                    && scratch.inboxState().incidents.allSatisfy { $0.end != nil }
            }
            let inbox = try scratch.inboxState()
            let check = try await CrashLoopChecker.check(scratch, sent: sent, effects: runtime.control.effects())
            var failed = 0
            var attempts = 0
            for thread in threads {
                for message in try scratch.state(thread).messages {
                    attempts += message.attempts.count
                    if case .failed = message.delivery { failed += 1 }
                }
            }
            let injected = zip(Self.kinds.map(\.0), report.injected).map { "\($0): \($1)" }.joined(separator: ", ")
            let degraded = inbox.incidents.filter { $0.kind == "degraded" }
            Soak.report(
                "runtime-faults",
                [
                    "messages": "\(count) in \(threadCount) threads",
                    "message posts": "\(report.draws) (\(attempts) delivery attempts journaled)",
                    "faults injected":
                        "\(report.injected.reduce(0, +)) (\(rate(report.injected.reduce(0, +), report.draws)))",
                    "by kind": injected,
                    "delivered": "\(count - check.lost.count) of \(count) (\(failed) failed)",
                    "requests after a Retry-After": "\(report.afterRetryAfter), \(report.early.count) before it",
                    "duplicate effects (per key, per message)": "\(check.duplicateEffects.count)",
                    "degraded incidents": "\(degraded.count), \(degraded.filter { $0.end != nil }.count) recovered",
                    "runtime at the end": "\(inbox.runtime)",
                    "wall time": watch.seconds,
                ])
            #expect(delivered)
            #expect(check.lost.isEmpty, "lost: \(check.lost.prefix(20))")
            #expect(report.early.isEmpty, "before Retry-After: \(report.early.prefix(20))")
            #expect(check.duplicateEffects.isEmpty, "\(check.duplicateEffects)")
            #expect(check.duplicateReplies.isEmpty, "\(check.duplicateReplies)")
            #expect(check.badFiles.isEmpty, "\(check.badFiles)")
            #expect(inbox.runtime == .reachable)
            #expect(inbox.incidents.allSatisfy { $0.end != nil }, "\(inbox.incidents)")
            #expect(report.injected.allSatisfy { $0 > 0 } || !Soak.long, "every kind injected: \(injected)")
        }
        let verify = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }
}

func rate(_ part: Int, _ whole: Int) -> String {
    whole == 0 ? "0%" : String(format: "%.1f%%", Double(part) * 100 / Double(whole))
}
