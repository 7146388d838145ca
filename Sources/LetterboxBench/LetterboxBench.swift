import ArgumentParser
import ChatModel
import Foundation
import InboxStore
import Logging
import SiteBuilder

#if canImport(Glibc)
    import Glibc
#endif

/// `letterbox-bench`: the benchmarks behind docs/benchmarks.md (`make bench`). Not tests: they
/// report figures against targets and never fail a build.
@main
struct LetterboxBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "letterbox-bench", abstract: "Measure Letterbox against its speed and memory targets.",
        subcommands: [SiteBench.self, CompareBench.self, DaemonBench.self])
}

struct SiteBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site", abstract: "Full and incremental site builds on a seeded synthetic inbox.")

    @Option(help: "Threads in the synthetic inbox.") var threads = 1000
    @Option(help: "Message files per thread (operator messages and replies).") var messagesPerThread = 100
    @Option(help: "Seed for the synthetic inbox.") var seed: UInt64 = 20261121
    @Option(help: "Where to put the inbox (reused when it matches the parameters).") var directory =
        "/tmp/letterbox-bench-site"
    @Option(help: "Full builds to time.") var fullRuns = 3
    @Option(help: "One-message incremental builds to time.") var incrementalRuns = 200
    @Option(help: "One-message incremental builds to time in one thread, as in a conversation.")
    var conversationRuns = 50

    func run() throws {
        let stamp = "\(threads)x\(messagesPerThread) seed \(seed) v1"
        let stampPath = directory + "/.bench-stamp"
        if (try? String(contentsOfFile: stampPath, encoding: .utf8)) != stamp {
            try? FileManager.default.removeItem(atPath: directory)
            let clock = ContinuousClock()
            let start = clock.now
            try SyntheticInbox(threads: threads, messagesPerThread: messagesPerThread, seed: seed).write(
                into: directory)
            try Data(stamp.utf8).write(to: URL(fileURLWithPath: stampPath))
            print("generated \(threads * messagesPerThread) messages in \(threads) threads in \(clock.now - start)")
        }
        let inboxBytes = try directorySize(directory + "/inbox")
        print(
            "inbox: \(threads) threads, \(threads * messagesPerThread) messages (operator + replies), \(inboxBytes / 1_000_000) MB"
        )

        // Full builds, each in a fresh `letterbox build --full` process so peak RSS is the command's own.
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "letterbox"
        ).path
        var fullTimes: [Double] = []
        var peakRSS = 0
        for _ in 0..<fullRuns {
            let (seconds, rss, status) = try spawnMeasured(binary, ["build", "--full", "--quiet"], in: directory)
            guard status == 0 else { throw ValidationError("letterbox build failed with status \(status)") }
            fullTimes.append(seconds)
            peakRSS = max(peakRSS, rss)
        }
        let fullBest = fullTimes.min() ?? 0
        let total = Double(threads * messagesPerThread)
        print(
            String(
                format: "full build: best %.3f s, median %.3f s over %d runs; %.0f messages/s; peak RSS %.1f MB",
                fullBest, median(fullTimes), fullRuns, total / fullBest, Double(peakRSS) / 1024))

        // One-message incremental builds, in process with the daemon's hint (the daemon's path).
        let workspace = try Workspace.locate(from: directory)
        let build = try SiteBuild(workspace: workspace, logger: Logger(label: "bench"))
        try build.build()
        var random = SplitMix64(seed: seed ^ 0xABCDEF)
        var times: [(wall: Double, cpu: Double)] = []
        var journals: [String: JournalFile] = [:]
        let clock = ContinuousClock()
        // Real time, as the daemon would journal, and later than everything already in the inbox (the
        // daemon benchmark reuses this inbox and may have journaled events dated ahead): an older event
        // would make every build redo the audit log from scratch.
        var now = Timestamp(
            milliseconds: max(
                Int64(Date().timeIntervalSince1970 * 1000), (try newestEvent(in: workspace)?.milliseconds ?? 0) + 1))
        // Message names must not repeat in an inbox that later runs reuse: a pid comes round again.
        let run = "\(getpid())-\(now.milliseconds % 1_000_000_000)"
        // A new message in `thread`, journaled as the daemon would, then the daemon's build; its wall time
        // and this process's CPU time in seconds (the CPU time is what load on a shared machine disturbs least).
        func addMessageAndBuild(thread: String, index: Int) throws -> (wall: Double, cpu: Double) {
            let message = "bench-\(run)-\(index)"
            let text = Words.markdown(&random, paragraphs: 2)
            try DurableWriter.write(
                Array(text.utf8), to: workspace.threadFolder(thread) + "/\(message).md", mode: .createNew)
            if journals[thread] == nil {
                journals[thread] = try JournalFile.open(
                    path: workspace.journalPath(thread: thread), tornFolder: workspace.tornFolder, now: now
                ).journal
            }
            now = Timestamp(milliseconds: max(now.milliseconds + 1, Int64(Date().timeIntervalSince1970 * 1000)))
            let sha = SHA256Hex.digest(Array(text.utf8))
            try journals[thread]?.append([
                (now, .daemon, .detected(message: message, file: "\(message).md", sha256: sha)),
                (
                    now, .daemon,
                    .accepted(message: message, requestID: "\(thread)/\(message)", agent: "assistant", sha256: sha)
                ),
            ])
            let (start, cpuStart) = (clock.now, processCPUSeconds())
            try build.build(changed: [thread])
            let elapsed = clock.now - start
            return (
                Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                processCPUSeconds() - cpuStart
            )
        }
        for index in 0..<incrementalRuns {
            let thread = String(format: "thread-%04d", Int(random.next() % UInt64(threads)))
            times.append(try addMessageAndBuild(thread: thread, index: index))
        }
        report("incremental (one new message in a random thread, daemon path)", times)
        // A conversation: every message in the same thread, so its earlier messages' sections are cached.
        // A different thread each run (the inbox is reused), so that no thread keeps growing.
        let conversation = String(format: "thread-%04d", Int(getpid()) % threads)
        var conversationTimes: [(wall: Double, cpu: Double)] = []
        for index in 0..<conversationRuns {
            conversationTimes.append(try addMessageAndBuild(thread: conversation, index: incrementalRuns + index))
        }
        report("incremental (one new message in the same thread, daemon path)", conversationTimes)
        try build.saveManifest()

        // The one-shot command after one change (scans every thread folder to find it).
        let (oneShot, oneShotRSS, _) = try spawnMeasured(binary, ["build", "--quiet"], in: directory)
        print(
            String(
                format: "incremental `letterbox build` process with nothing new: %.3f s, peak RSS %.1f MB", oneShot,
                Double(oneShotRSS) / 1024))
        print(
            "targets (issue 14): full build of 100k messages >= 8x faster than Hugo (letterbox-bench compare), peak RSS <= 64 MB, one new message p50 <= 2 ms and p99 <= 10 ms, nothing new as a process <= 100 ms"
        )
    }

    /// The newest time journaled in the inbox: the last line of every journal (times only grow in one).
    func newestEvent(in workspace: Workspace) throws -> Timestamp? {
        var journals = [workspace.inboxJournalPath]
        for entry in try FileSystem.listTypes(workspace.inbox) where entry.type == .directory {
            journals.append(workspace.journalPath(thread: entry.name))
        }
        return journals.compactMap { path -> Timestamp? in
            guard let bytes = try? FileSystem.readFile(path, maxBytes: Int.max), bytes.last == 10 else { return nil }
            let lines = bytes.dropLast()
            let lastLine = lines[(lines.lastIndex(of: 10).map { $0 + 1 } ?? lines.startIndex)...]
            return (try? JournalCodec.decode(lastLine))?.ts
        }.max { $0.milliseconds < $1.milliseconds }
    }

    /// Prints p50, p99 and max of `times` (seconds) in milliseconds.
    func report(_ label: String, _ times: [(wall: Double, cpu: Double)]) {
        let sorted = times.map(\.wall).sorted()
        let cpu = times.map(\.cpu).sorted()
        let figures = String(
            format: "p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d builds; CPU p50 %.2f ms, p99 %.2f ms",
            percentile(sorted, 0.50) * 1000, percentile(sorted, 0.99) * 1000, (sorted.last ?? 0) * 1000, sorted.count,
            percentile(cpu, 0.50) * 1000, percentile(cpu, 0.99) * 1000)
        print("\(label): \(figures)")
    }

    /// User and system CPU time this process has used, in seconds.
    func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    func median(_ values: [Double]) -> Double { percentile(values.sorted(), 0.5) }

    func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[
            min(
                sorted.count - 1,
                Int((Double(sorted.count) * p).rounded(.up)) - 1 < 0
                    ? 0 : Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    /// The bytes of the files under `path`, from one `lstat` each (`FileManager`'s attributes took
    /// six system calls per file, 600,000 for the 100k inbox, which crowded profiles of this process).
    func directorySize(_ path: String) throws -> Int {
        try FileSystem.list(path).reduce(0) { total, entry in
            total + (entry.type == .directory ? try directorySize(path + "/" + entry.name) : entry.size)
        }
    }
}

/// Runs a program and returns (wall seconds, peak RSS in KiB from wait4's rusage, exit status).
func spawnMeasured(_ program: String, _ arguments: [String], in folder: String) throws -> (Double, Int, Int32) {
    let run = try spawnMeasuredFully(program, arguments, in: folder)
    return (run.seconds, run.rssKB, run.status)
}
