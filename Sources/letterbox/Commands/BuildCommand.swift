import ArgumentParser
import Foundation
import InboxStore
import Logging
import SiteBuilder

struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Render the inbox into a static site (incremental; atomic).",
        discussion: """
            Redoes only what changed since the last build (a manifest in .letterbox/ remembers). A full \
            build (the first, --full, or after a theme change) renders into a staging folder and swaps \
            it in at once. Pages use relative links only: open site/index.html from disk or serve it.
            """
    )

    @OptionGroup var options: WorkspaceOptions

    @Option(help: ArgumentHelp("The site folder (default: from letterbox.yaml).", valueName: "DIR"))
    var site: String?

    @Flag(help: "Rebuild every page.")
    var full = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors (for scripts).")
    var quiet = false

    func run() async throws {
        try await reportingErrors {
            let logger = Logging.bootstrapped(label: "letterbox.build", quiet: quiet)
            let workspace = try options.workspace(site: site)
            let build = try SiteBuild(workspace: workspace, logger: logger)
            let showProgress = !quiet && isatty(STDERR_FILENO) == 1
            if showProgress {
                build.progress = { done, total in
                    guard total >= 20, done % max(1, total / 50) == 0 || done == total else { return }
                    FileHandle.standardError.write(
                        Data("\rrendering threads: \(done)/\(total)\(done == total ? "\n" : "")".utf8))
                }
            }
            let report = try build.build(full: full)
            try build.saveManifest()
            if !quiet { Terminal.out("\(workspace.relative(workspace.site))/: \(report.summary)\n") }
        }
    }
}
