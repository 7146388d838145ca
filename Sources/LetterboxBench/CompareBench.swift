import ArgumentParser
import Foundation
import InboxStore

#if canImport(Glibc)
    import Glibc
#endif

/// `letterbox-bench compare`: full builds of the same seeded content by Letterbox and by Hugo,
/// alternating, at several sizes; prints a table and writes a CSV file and an SVG chart.
struct CompareBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Full builds side by side with Hugo on the same seeded content.")

    @Option(help: "Sizes and runs, as MESSAGES:RUNS,… (100 message files per thread).")
    var sizes = "10000:5,100000:5,300000:2"
    @Option(help: "Seed for the synthetic inbox.") var seed: UInt64 = 20261121
    @Option(help: "Where the inboxes and Hugo sites go (reused when they match).") var directory =
        "/tmp/letterbox-bench-compare"
    @Option(help: "The hugo binary.") var hugo = "/usr/bin/hugo"
    @Option(help: "Letterbox's --jobs (default: the number of cores).") var jobs: Int?
    @Option(help: "CSV output.") var csv = "docs/benchmarks/site-vs-hugo.csv"
    @Option(help: "SVG chart output.") var svg = "docs/benchmarks/site-vs-hugo.svg"
    @Option(help: "Build nothing: print the table and draw the chart from this CSV file of an earlier run.")
    var replot: String?

    struct Sample {
        var messages: Int
        var tool: String
        var run: Int
        var seconds: Double
        var cpu: Double
        var rssKB: Int
    }

    func run() throws {
        if let replot {
            let text = try String(contentsOfFile: replot, encoding: .utf8)
            let samples = text.split(separator: "\n").dropFirst().compactMap { line -> Sample? in
                let f = line.split(separator: ",").map(String.init)
                guard f.count == 6, let messages = Int(f[0]), let run = Int(f[2]), let seconds = Double(f[3]),
                    let cpu = Double(f[4]), let rss = Double(f[5])
                else { return nil }
                return Sample(
                    messages: messages, tool: f[1], run: run, seconds: seconds, cpu: cpu, rssKB: Int(rss * 1024))
            }
            var sizes: [Int] = []
            for sample in samples where !sizes.contains(sample.messages) { sizes.append(sample.messages) }
            let rows = summarize(samples, sizes)
            printTable(rows)
            try writeSVG(rows)
            print("wrote \(svg)")
            return
        }
        guard FileManager.default.isExecutableFile(atPath: hugo) else {
            throw ValidationError("\(hugo) is not installed: run `make bench-site`, which installs Debian's hugo")
        }
        let letterbox = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("letterbox").path
        var plan: [(messages: Int, runs: Int)] = []
        for part in sizes.split(separator: ",") {
            let pieces = part.split(separator: ":").compactMap { Int($0) }
            guard pieces.count == 2, pieces[0] >= 100, pieces[1] >= 1 else {
                throw ValidationError("--sizes: MESSAGES:RUNS pairs, such as 100000:5")
            }
            plan.append((pieces[0], pieces[1]))
        }
        print(
            "machine: \(Self.cpuModel()), \(ProcessInfo.processInfo.activeProcessorCount) cores; \(Self.loadAverage())")
        print("hugo: \(Self.output(hugo, ["version"]).trimmingCharacters(in: .whitespacesAndNewlines))")
        var samples: [Sample] = []
        for (messages, runs) in plan {
            let threads = messages / 100
            let root = "\(directory)/\(messages)"
            let stamp = "\(threads)x100 seed \(seed) v2"
            if (try? String(contentsOfFile: root + "/.bench-stamp", encoding: .utf8)) != stamp {
                try? FileManager.default.removeItem(atPath: root)
                let clock = ContinuousClock()
                let start = clock.now
                try SyntheticInbox(threads: threads, messagesPerThread: 100, seed: seed).write(
                    into: root + "/inbox-root")
                try HugoSite(inbox: root + "/inbox-root/inbox", destination: root + "/hugo").write()
                try Data(stamp.utf8).write(to: URL(fileURLWithPath: root + "/.bench-stamp"))
                print(
                    "generated \(messages) messages in \(threads) threads (and the Hugo site) in \(clock.now - start)")
            }
            let workspace = root + "/inbox-root"
            for run in 1...runs {
                // Cold builds, as on a fresh clone: no site, no manifest or cache; no Hugo output.
                try? FileManager.default.removeItem(atPath: workspace + "/site")
                try? FileManager.default.removeItem(atPath: workspace + "/.letterbox")
                var arguments = ["build", "--full", "--quiet"]
                if let jobs { arguments += ["--jobs", "\(jobs)"] }
                let ours = try spawnMeasuredFully(letterbox, arguments, in: workspace)
                guard ours.status == 0 else { throw ValidationError("letterbox build failed (\(ours.status))") }
                samples.append(
                    Sample(
                        messages: messages, tool: "letterbox", run: run, seconds: ours.seconds, cpu: ours.cpu,
                        rssKB: ours.rssKB))
                try? FileManager.default.removeItem(atPath: root + "/hugo/public")
                try? FileManager.default.removeItem(atPath: root + "/hugo/resources")
                let theirs = try spawnMeasuredFully(hugo, ["--quiet", "--source", root + "/hugo"], in: root + "/hugo")
                guard theirs.status == 0 else { throw ValidationError("hugo failed (\(theirs.status))") }
                samples.append(
                    Sample(
                        messages: messages, tool: "hugo", run: run, seconds: theirs.seconds, cpu: theirs.cpu,
                        rssKB: theirs.rssKB))
                print(
                    String(
                        format:
                            "  %7d messages, run %d: letterbox %.2f s (cpu %.2f s, %.1f MB), hugo %.2f s (cpu %.2f s, %.1f MB)",
                        messages, run, ours.seconds, ours.cpu, Double(ours.rssKB) / 1024, theirs.seconds, theirs.cpu,
                        Double(theirs.rssKB) / 1024))
            }
        }
        let rows = summarize(samples, plan.map(\.messages))
        print("uptime: \(Self.loadAverage())")
        // The CSV first: it is the record of the runs, and `--replot` redraws the rest from it.
        try writeCSV(samples)
        printTable(rows)
        try writeSVG(rows)
        print("wrote \(csv) and \(svg)")
    }

    func printTable(_ rows: [Row]) {
        print("")
        print(
            "| messages | runs | letterbox min | letterbox median | letterbox CPU (median) | letterbox peak RSS | hugo min | hugo median | hugo CPU (median) | hugo peak RSS | hugo / letterbox (median wall) |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for row in rows {
            print(
                String(
                    format:
                        "| %d | %d | %.2f s | %.2f s | %.2f s | %.1f MB | %.2f s | %.2f s | %.2f s | %.1f MB | %.1fx |",
                    row.messages, row.runs, row.ours.min, row.ours.median, row.ours.cpu, row.ours.rss, row.theirs.min,
                    row.theirs.median, row.theirs.cpu, row.theirs.rss, row.theirs.median / row.ours.median))
        }
        if let small = rows.first(where: { $0.messages == 100_000 }),
            let large = rows.first(where: { $0.messages == 300_000 })
        {
            print(
                String(
                    format: "letterbox 300k / 100k (median wall): %.2fx, CPU %.2fx (target <= 3.3x)",
                    large.ours.median / small.ours.median, large.ours.cpu / small.ours.cpu))
        }
    }

    struct Figures {
        var min: Double
        var median: Double
        /// Median CPU seconds (user + system, with children).
        var cpu: Double
        var rss: Double
    }

    struct Row {
        var messages: Int
        var runs: Int
        var ours: Figures
        var theirs: Figures
    }

    func summarize(_ samples: [Sample], _ sizes: [Int]) -> [Row] {
        sizes.map { messages in
            func figures(_ tool: String) -> Figures {
                let mine = samples.filter { $0.messages == messages && $0.tool == tool }
                func median(_ values: [Double]) -> Double {
                    let sorted = values.sorted()
                    guard !sorted.isEmpty else { return 0 }
                    return sorted.count % 2 == 1
                        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
                }
                return Figures(
                    min: mine.map(\.seconds).min() ?? 0, median: median(mine.map(\.seconds)),
                    cpu: median(mine.map(\.cpu)), rss: Double(mine.map(\.rssKB).max() ?? 0) / 1024)
            }
            return Row(
                messages: messages, runs: samples.filter { $0.messages == messages && $0.tool == "hugo" }.count,
                ours: figures("letterbox"), theirs: figures("hugo"))
        }
    }

    func writeCSV(_ samples: [Sample]) throws {
        var text = "messages,tool,run,wall_seconds,cpu_seconds,peak_rss_mb\n"
        for sample in samples {
            text += String(
                format: "%d,%@,%d,%.3f,%.3f,%.1f\n", sample.messages, sample.tool, sample.run, sample.seconds,
                sample.cpu,
                Double(sample.rssKB) / 1024)
        }
        try FileSystem.createDirectory(
            Workspace.absolute("..", base: Workspace.absolute(csv, base: Workspace.currentDirectory())))
        try Data(text.utf8).write(to: URL(fileURLWithPath: csv))
    }

    /// Median wall time per size, Letterbox and Hugo side by side, each size on its own scale.
    func writeSVG(_ rows: [Row]) throws {
        let width = 720
        let rowHeight = 70
        let height = 60 + rows.count * rowHeight
        var chart = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="sans-serif" font-size="13">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <text x="10" y="22" font-size="15" font-weight="bold">Full build, median wall time (cold; same content)</text>
            <rect x="420" y="10" width="12" height="12" fill="#1f5fbf"/><text x="438" y="21">Letterbox</text>
            <rect x="520" y="10" width="12" height="12" fill="#a3221b"/><text x="538" y="21">Hugo</text>

            """
        for (index, row) in rows.enumerated() {
            let top = 45 + index * rowHeight
            let scale = max(row.ours.median, row.theirs.median)
            let barMax = Double(width - 260)
            let ours = scale > 0 ? row.ours.median / scale * barMax : 0
            let theirs = scale > 0 ? row.theirs.median / scale * barMax : 0
            chart += """
                <text x="10" y="\(top + 22)">\(row.messages / 1000)k messages</text>
                <rect x="120" y="\(top + 6)" width="\(String(format: "%.1f", max(ours, 1)))" height="18" fill="#1f5fbf"/>
                <text x="\(String(format: "%.1f", 126 + ours))" y="\(top + 20)">\(String(format: "%.2f s", row.ours.median))</text>
                <rect x="120" y="\(top + 28)" width="\(String(format: "%.1f", max(theirs, 1)))" height="18" fill="#a3221b"/>
                <text x="\(String(format: "%.1f", 126 + theirs))" y="\(top + 42)">\(String(format: "%.2f s (%.1fx)", row.theirs.median, row.ours.median > 0 ? row.theirs.median / row.ours.median : 0))</text>

                """
        }
        chart += "</svg>\n"
        try Data(chart.utf8).write(to: URL(fileURLWithPath: svg))
    }

    static func cpuModel() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = info.split(separator: "\n").first { $0.hasPrefix("model name") }
        return line.map {
            String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces)
        }
            ?? "unknown CPU"
    }

    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return "load average " + text.split(separator: " ").prefix(3).joined(separator: ", ")
    }

    static func output(_ program: String, _ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        do { try process.run() } catch { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Runs a program and returns its wall seconds, CPU seconds (user + system, with its children), peak
/// RSS in KiB (the largest of it and its children, from wait4) and exit status.
func spawnMeasuredFully(_ program: String, _ arguments: [String], in folder: String) throws -> (
    seconds: Double, cpu: Double, rssKB: Int, status: Int32
) {
    var pid: pid_t = 0
    let previous = FileManager.default.currentDirectoryPath
    guard FileManager.default.changeCurrentDirectoryPath(folder) else {
        throw ValidationError("cannot enter \(folder)")
    }
    defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
    let argv = ([program] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let clock = ContinuousClock()
    let start = clock.now
    guard posix_spawn(&pid, program, nil, nil, argv, environ) == 0 else {
        throw ValidationError("cannot start \(program)")
    }
    var status: Int32 = 0
    var usage = rusage()
    wait4(pid, &status, 0, &usage)
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let cpu =
        Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
    return (seconds, cpu, usage.ru_maxrss, (status >> 8) & 0xff)
}
