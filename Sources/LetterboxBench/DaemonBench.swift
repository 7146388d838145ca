import ArgumentParser
import ChatModel
import Foundation
import InboxStore
import Logging
import ReferenceRuntime

#if canImport(Glibc)
    import Glibc
#endif

/// `letterbox-bench daemon`: the daemon against the reference runtime, as separate real processes.
struct DaemonBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon", abstract: "Save-to-request latency, a burst of files, memory and restart time.")

    @Option(help: "Saves to time for latency.") var latencyRuns = 200
    @Option(help: "The daemon's quiet window for the latency runs, in milliseconds.") var settleMs = 150
    @Option(help: "Only these parts: latency, burst, memory (comma-separated).") var only = "latency,burst,memory"
    @Option(help: "Files dropped at once for throughput.") var burst = 10_000
    @Option(help: "Threads the burst is spread over.") var burstThreads = 1000
    /// Not the site benchmark's folder: the daemon journals its start and stop there, which would turn
    /// that benchmark's incremental builds into full ones.
    @Option(help: "The 100k-message inbox (the site benchmark's generator; made if missing).") var bigInbox =
        "/tmp/letterbox-bench-daemon"

    static let token = "bench-token"

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "letterbox"
        ).path
        let configuration = ReferenceRuntimeConfiguration(port: 0, token: Self.token, streamInterval: .milliseconds(1))
        let parts = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: logger) { runtime in
            if parts.contains("latency") { try await latency(binary: binary, runtime: runtime) }
            if parts.contains("burst") { try await burstThroughput(binary: binary, runtime: runtime) }
        }
        if parts.contains("memory") { try await bigInboxFigures(binary: binary) }
        print(
            "targets: p50 <= settle + 2 ms, burst >= 2,000 messages/s with 0 lost, RSS at 100k messages <= 48 MB, ready after restart <= 250 ms"
        )
    }

    /// Save -> the runtime has the request, for single messages in a quiet daemon.
    func latency(binary: String, runtime: RunningReferenceRuntime) async throws {
        let workspace = try Scratch.make("latency", extra: "delivery:\n  settle_ms: \(settleMs)\n")
        defer { try? FileManager.default.removeItem(atPath: workspace) }
        try WorkspaceInitializer.createThread(
            "ops", title: nil, agent: "assistant", in: Workspace.locate(from: workspace))
        let daemon = try BenchProcess.daemon(binary, workspace: workspace, runtimeURL: runtime.baseURL)
        defer { daemon.stop() }
        try await daemon.waitFor("letterbox daemon ready")
        let settle = Double(settleMs)
        var samples: [Double] = []
        let clock = ContinuousClock()
        for index in 0..<latencyRuns {
            let before = await runtime.control.effects().count
            let path = "\(workspace)/inbox/ops/lat-\(index).md"
            let start = clock.now
            try Data("Latency probe \(index)".utf8).write(to: URL(fileURLWithPath: path))
            while await runtime.control.effects().count == before {
                try await Task.sleep(for: .microseconds(200))
                if clock.now - start > .seconds(10) { throw ValidationError("no request for message \(index)") }
            }
            samples.append(seconds(clock.now - start) * 1000)
            // Let the run finish so the next save meets an idle thread.
            while try InboxReader.readThread("ops", in: Workspace.locate(from: workspace)).state.activeRun != nil {
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        samples.sort()
        print(
            String(
                format: "save -> runtime request (settle %.0f ms): p50 %.1f ms, p99 %.1f ms over %d saves",
                settle, percentile(samples, 0.5), percentile(samples, 0.99), samples.count))
    }

    /// Many files at once: how fast the runtime receives them all, and that none is lost or doubled.
    func burstThroughput(binary: String, runtime: RunningReferenceRuntime) async throws {
        let workspace = try Scratch.make("burst", extra: "delivery:\n  max_parallel_threads: 256\n")
        defer { try? FileManager.default.removeItem(atPath: workspace) }
        let ws = try Workspace.locate(from: workspace)
        for thread in 0..<burstThreads {
            try WorkspaceInitializer.createThread(
                String(format: "t%04d", thread), title: nil, agent: "assistant", in: ws)
        }
        let daemon = try BenchProcess.daemon(
            binary, workspace: workspace, runtimeURL: runtime.baseURL, extra: ["--no-site"])
        defer { daemon.stop() }
        try await daemon.waitFor("letterbox daemon ready")
        try await Task.sleep(for: .seconds(2))  // let the background catch-up read the empty threads
        let before = Set(await runtime.control.effects().filter { $0.kind == .messageAccepted }.map(\.seq))
        let cpuBefore = daemon.cpuSeconds()
        let clock = ContinuousClock()
        let start = clock.now
        for index in 0..<burst {
            let thread = String(format: "t%04d", index % burstThreads)
            try Data("Burst message \(index)".utf8).write(
                to: URL(fileURLWithPath: "\(workspace)/inbox/\(thread)/b\(index).md"))
        }
        let written = clock.now - start
        var delivered = 0
        while delivered < burst {
            delivered = await runtime.control.effects().filter {
                $0.kind == .messageAccepted && !before.contains($0.seq)
            }.count
            if clock.now - start > .seconds(600) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = seconds(clock.now - start)
        let cpu = daemon.cpuSeconds() - cpuBefore
        let contents = await runtime.control.effects().filter {
            $0.kind == .messageAccepted && !before.contains($0.seq)
        }.compactMap(\.content)
        let unique = Set(contents)
        print(
            String(
                format:
                    "burst: %d files in %d threads written in %.2f s; all delivered after %.2f s: %.0f messages/s; lost %d, duplicated %d; daemon CPU %.2f s, %.3f ms per delivered message",
                burst, burstThreads, seconds(written), elapsed, Double(delivered) / elapsed, burst - unique.count,
                contents.count - unique.count, cpu, cpu * 1000 / Double(max(1, delivered))))
    }

    /// Memory and restart time on the 100k-message inbox.
    func bigInboxFigures(binary: String) async throws {
        if !FileManager.default.fileExists(atPath: bigInbox + "/.bench-stamp") {
            try SyntheticInbox(threads: 1000, messagesPerThread: 100, seed: 20261121).write(into: bigInbox)
            try Data("1000x100 seed 20261121 v1".utf8).write(to: URL(fileURLWithPath: bigInbox + "/.bench-stamp"))
        }
        for run in 0..<2 {
            let clock = ContinuousClock()
            let start = clock.now
            let daemon = try BenchProcess.daemon(
                binary, workspace: bigInbox, runtimeURL: "http://127.0.0.1:9", extra: ["--no-site"])
            try await daemon.waitFor("letterbox daemon ready")
            let ready = clock.now - start
            // Wait for the background catch-up to read every thread, then read the peak RSS.
            try await Task.sleep(for: .seconds(8))
            let rss = daemon.peakRSSKilobytes()
            daemon.stop()
            print(
                String(
                    format:
                        "100k messages, %@: ready after %.0f ms (process start to ready), peak RSS %.1f MB after reading every thread",
                    run == 0 ? "first start" : "restart", seconds(ready) * 1000, Double(rss) / 1024))
        }
    }

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[max(0, min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
    }
}

enum Scratch {
    static func make(_ name: String, extra: String) throws -> String {
        let root = NSTemporaryDirectory() + "letterbox-bench-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try WorkspaceInitializer.create(in: root, now: Timestamp(milliseconds: 1_795_000_000_000))
        try Data("version: 1\ndefault_agent: assistant\n\(extra)".utf8).write(
            to: URL(fileURLWithPath: root + "/letterbox.yaml"))
        return root
    }
}

/// A process the benchmark starts: output to a log file, peak RSS from /proc.
final class BenchProcess: @unchecked Sendable {
    // @unchecked: used from the benchmark's one task.
    let process: Process
    let log: String

    init(process: Process, log: String) {
        self.process = process
        self.log = log
    }

    static func daemon(_ binary: String, workspace: String, runtimeURL: String, extra: [String] = []) throws
        -> BenchProcess
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["daemon", "--runtime-url", runtimeURL] + extra
        process.currentDirectoryURL = URL(fileURLWithPath: workspace)
        var environment = ProcessInfo.processInfo.environment
        environment["LETTERBOX_TOKEN"] = DaemonBench.token
        process.environment = environment
        let log = NSTemporaryDirectory() + "letterbox-bench-daemon-\(UUID().uuidString.prefix(6)).log"
        guard FileManager.default.createFile(atPath: log, contents: nil) else {
            throw ValidationError("cannot create \(log)")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return BenchProcess(process: process, log: log)
    }

    func waitFor(_ line: String) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .seconds(60) {
            if let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains(line) { return }
            if !process.isRunning {
                throw ValidationError("the daemon exited: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw ValidationError("timed out waiting for '\(line)'")
    }

    /// User plus system CPU time the process has used, from /proc (clock ticks of 1/100 s).
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// VmHWM from /proc: the peak resident set size so far.
    func peakRSSKilobytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: log)
    }
}
