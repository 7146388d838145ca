import ArgumentParser
import Foundation
import InboxStore
import Logging
import SiteBuilder
import Synchronization

struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Render the inbox into a static site (incremental; atomic).",
        discussion: """
            Redoes only what changed since the last build (a manifest in .letterbox/ remembers). A full \
            build (the first, --full, or after a theme change) renders into a staging folder and swaps \
            it in at once, rendering threads in --jobs processes (this one and workers it starts). Pages \
            use relative links only: open site/index.html from disk or serve it.
            """
    )

    @OptionGroup var options: WorkspaceOptions

    @Option(help: ArgumentHelp("The site folder (default: from letterbox.yaml).", valueName: "DIR"))
    var site: String?

    @Flag(help: "Rebuild every page.")
    var full = false

    @Flag(
        name: .shortAndLong,
        help: "Print nothing but errors. Progress and the summary appear only on a terminal anyway.")
    var quiet = false

    @Option(
        name: .shortAndLong,
        help: ArgumentHelp("Processes to render a full build in (default: the number of cores).", valueName: "N"))
    var jobs: Int?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        try await reportingErrors {
            let logger = Logging.bootstrapped(label: "letterbox.build", quiet: quiet)
            let workspace = try options.workspace(site: site)
            let build = try SiteBuild(workspace: workspace, logger: logger)
            build.jobs = jobs ?? ProcessInfo.processInfo.activeProcessorCount
            build.workerCommand = [Self.executablePath(), BuildWorkerCommand.configuration.commandName ?? ""]
            // On a terminal only: progress on stderr while threads render, a summary on stdout.
            let progress = ProgressLine()
            let clock = ContinuousClock()
            let start = clock.now
            if !quiet && isatty(STDERR_FILENO) == 1 {
                build.progress = { done, total in
                    progress.meter.withLock { meter in
                        guard let line = meter.update(done: done, total: total, elapsed: clock.now - start) else {
                            return
                        }
                        FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8))
                    }
                }
            }
            let report: BuildReport
            do {
                report = try build.build(full: full)
            } catch {
                // What a failed build did write is recorded, so the next build knows those pages.
                try? build.saveManifest()
                throw error
            }
            try build.saveManifest()
            if progress.meter.withLock({ $0.shown }) { FileHandle.standardError.write(Data("\n".utf8)) }
            if !quiet && isatty(STDOUT_FILENO) == 1 {
                Terminal.out("\(workspace.relative(workspace.site))/: \(report.summary)\n")
            }
        }
    }
}

extension BuildCommand {
    /// This executable, for starting workers (`/proc/self/exe` resolved; argv[0] where there is none).
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// `letterbox build-worker`: renders a shard of a full build in a process `letterbox build --jobs N`
/// started. Hidden: it reads its task from descriptors the build passes, and is no use by hand.
struct BuildWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-worker", abstract: "Render a shard of a build (started by `letterbox build`).",
        shouldDisplay: false)

    func run() async throws {
        try await reportingErrors {
            try SiteWorker.run(logger: Logging.bootstrapped(label: "letterbox.build-worker", quiet: true))
        }
    }
}

/// The progress meter, shared with the build's progress callback (called on the build's thread).
final class ProgressLine: Sendable {
    let meter = Mutex(ProgressMeter())
}
