import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Logging
import ReferenceRuntime
import Testing

/// Two daemons, many processes (docs/reliability.md, section 12): every round starts four daemons at once on
/// one inbox, by two users and through three paths, and exactly one may deliver; then the winner is killed
/// (SIGKILL or SIGTERM) and the next round races again. A checker compares the runtime's effect log with the
/// inbox at the end.
@Suite("Reliability: two daemons, many processes", .processSlot)
struct DaemonRaceTests {
    static let logger = DaemonHarness.quietLogger

    /// The user the fourth daemon runs as: `nobody`, in group 0, which the workspace is shared with.
    static let otherUser = ["--reuid", "65534", "--regid", "0", "--clear-groups"]

    struct Contender {
        var name: String
        var start: () throws -> DaemonProcess
    }

    @Test(
        "Four daemons at once (two users; the workspace, a symlinked inbox, a bind mount, --inbox): exactly one delivers, round after round",
        .enabled(if: SmallDisk.available))
    func race() async throws {
        let rounds = Soak.tier(short: 4, long: 40)
        var random = SplitMix64(seed: Soak.seed)
        let watch = Stopwatch()
        let scratch = try Scratch(settleMilliseconds: 30)
        try scratch.thread("desk", agent: "assistant")
        try scratch.thread("notes", agent: "writer")
        try FileManager.default.createDirectory(atPath: scratch.root + "/.letterbox", withIntermediateDirectories: true)
        // The workspace is shared with group 0 (docs/operations.md, "One workspace, several users"); from
        // here on only the daemons' own umask keeps what they create writable for each other.
        _ = try await runProcess("/bin/chmod", ["-R", "g+rwX", scratch.root], in: scratch.root)

        // Another workspace whose inbox is a symlink to this one.
        let other = try Workplace.folder("race-other")
        defer { try? FileManager.default.removeItem(atPath: other) }
        try FileManager.default.createSymbolicLink(atPath: other + "/link", withDestinationPath: scratch.inbox)
        let config = try String(contentsOfFile: scratch.root + "/letterbox.yaml", encoding: .utf8)
        try Data((config + "\ninbox: link\n").utf8).write(to: URL(fileURLWithPath: other + "/letterbox.yaml"))
        // The same workspace through a bind mount (a container's volume, say).
        let bound = try Workplace.folder("race-bound")
        guard mount(scratch.root, bound, nil, UInt(MS_BIND), nil) == 0 else {
            Issue.record("cannot bind-mount the workspace: \(String(cString: strerror(errno)))")
            return
        }
        defer {
            umount2(bound, Int32(MNT_DETACH))
            try? FileManager.default.removeItem(atPath: bound)
        }

        let configuration = ReferenceRuntimeConfiguration(
            port: 0, token: DaemonHarness.token, streamInterval: .milliseconds(10))
        var sent: [CrashLoopTests.Sent] = []
        var wins: [String: Int] = [:]
        var refusals = 0
        var problems: [String] = []
        try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: Self.logger) { runtime in
            var environment = ProcessInfo.processInfo.environment
            environment["LETTERBOX_TOKEN"] = DaemonHarness.token
            var otherEnvironment = environment
            otherEnvironment["HOME"] = "/nonexistent"
            otherEnvironment["GIT_CONFIG_COUNT"] = "1"
            otherEnvironment["GIT_CONFIG_KEY_0"] = "safe.directory"
            otherEnvironment["GIT_CONFIG_VALUE_0"] = "*"
            let url = runtime.baseURL
            let logs = scratch.root + "/.letterbox"
            let arguments = ["--no-site"]
            let contenders = [
                Contender(name: "root, the workspace") {
                    try DaemonProcess.start(
                        folder: scratch.root, runtimeURL: url, arguments: arguments, environment: environment,
                        logFolder: logs, umask: "002")
                },
                Contender(name: "root, a workspace whose inbox is a symlink") {
                    try DaemonProcess.start(
                        folder: other, runtimeURL: url, arguments: arguments, environment: environment,
                        logFolder: logs, umask: "002")
                },
                Contender(name: "root, the workspace through a bind mount") {
                    try DaemonProcess.start(
                        folder: bound, runtimeURL: url, arguments: arguments, environment: environment,
                        logFolder: logs, umask: "002")
                },
                Contender(name: "nobody, --inbox through the bind mount") {
                    try DaemonProcess.start(
                        folder: scratch.root, runtimeURL: url, arguments: arguments + ["--inbox", bound + "/inbox"],
                        environment: otherEnvironment, logFolder: logs, credentials: Self.otherUser, umask: "002")
                },
            ]
            for round in 0..<rounds {
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    let thread = random.chance(0.5) ? "desk" : "notes"
                    let id = "r\(round)-\(sent.count)"
                    let text = "Race message \(sent.count) (round \(round)) in \(thread)."
                    try scratch.write("\(thread)/\(id).md", text)
                    sent.append(CrashLoopTests.Sent(thread: thread, id: id, text: text))
                }
                let order = contenders.shuffled(using: &random)
                let daemons = try order.map { ($0.name, try $0.start()) }
                defer { for (_, daemon) in daemons { daemon.stop() } }
                // Each gets ready or exits; then exactly one must be running.
                let settled = await CrashLoopTests.poll(timeout: .seconds(30)) {
                    daemons.allSatisfy { !$0.1.process.isRunning || $0.1.output.contains("letterbox daemon ready") }
                }
                let ready = daemons.filter { $0.1.process.isRunning }
                let refused = daemons.filter {
                    !$0.1.process.isRunning && $0.1.process.terminationStatus == 75
                        && $0.1.output.contains("another letterbox daemon")
                }
                refusals += refused.count
                if !settled || ready.count != 1 || refused.count != 3 {
                    let logs = daemons.map { name, daemon in
                        let exit = daemon.process.isRunning ? "-" : "\(daemon.process.terminationStatus)"
                        return "\(name): exit \(exit)\n\(daemon.output.suffix(1500))"
                    }
                    problems.append("round \(round): \(ready.count) running, \(refused.count) refused")
                    Issue.record("round \(round): \(ready.map(\.0)) running\n\(logs.joined(separator: "\n---\n"))")
                    continue
                }
                let (winner, daemon) = ready[0]
                wins[winner, default: 0] += 1
                // The winner delivers this round's messages, then is killed or stopped.
                // A loaded machine can make the in-process runtime miss the daemon's 3 s timeout: retries.
                let delivered = await CrashLoopTests.poll(timeout: .seconds(120)) {
                    try sent.allSatisfy { try scratch.state($0.thread).message($0.id)?.delivery == .replied }
                }
                if !delivered {
                    problems.append("round \(round): \(winner) did not deliver")
                    Issue.record("round \(round): \(winner) did not deliver:\n\(daemon.output.suffix(3000))")
                }
                if random.chance(0.5) {
                    await daemon.kill(SIGKILL)
                } else {
                    daemon.stop()
                    if daemon.process.terminationStatus != 0 {
                        problems.append("round \(round): \(winner) exited \(daemon.process.terminationStatus)")
                    }
                }
            }

            let check = try CrashLoopChecker.check(scratch, sent: sent, effects: await runtime.control.effects())
            let verify = try await Workplace.letterbox(["audit", "verify"], in: scratch.root)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            Soak.report(
                "daemon-race",
                [
                    "rounds": "\(rounds), four daemons started at once in each",
                    "wins": contenders.map { "\($0.name) \(wins[$0.name] ?? 0)" }.joined(separator: "; "),
                    "refused with exit 75": "\(refusals) of \(rounds * 3)",
                    "messages": "\(sent.count) in 2 threads",
                    "runtime effects": "\(check.effects)",
                    "lost messages": "\(check.lost.count)",
                    "duplicate effects": "\(check.duplicateEffects.count)",
                    "duplicate replies": "\(check.duplicateReplies.count)",
                    "orphan or torn visible files": "\(check.badFiles.count)",
                    "audit verify": verify.status == 0 ? "clean" : "FAILED",
                    "problems": problems.isEmpty ? "none" : problems.joined(separator: "; "),
                    "wall time": watch.seconds,
                ])
            #expect(problems.isEmpty)
            #expect(check.lost.isEmpty, "lost: \(check.lost)")
            #expect(check.duplicateEffects.isEmpty, "duplicate effects: \(check.duplicateEffects)")
            #expect(check.duplicateReplies.isEmpty, "duplicate replies: \(check.duplicateReplies)")
            #expect(check.badFiles.isEmpty, "orphan or torn files: \(check.badFiles)")
        }
    }
}
