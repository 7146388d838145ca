import ArgumentParser
import ChatModel
import Foundation
import InboxStore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show delivery and run states, from the journals and the files on disk.",
        discussion: """
            With --check, for monitors: one line on stdout and the exit code 0 (ok), 1 (degraded: the \
            runtime is failing, a message failed for good in the last 24 h, or a journal problem stopped a \
            thread) or 2 (down: no daemon running or its heartbeat is stale; or failing: the runtime \
            refuses the token). Any other code means the check could not run. See docs/operations.md.
            """
    )

    @Argument(help: ArgumentHelp("Only this thread.", valueName: "THREAD"))
    var thread: String?

    @Flag(help: "Print JSON (stable keys) instead of text.")
    var json = false

    @Flag(help: "For monitors: one line saying why, and exit 0 ok, 1 degraded, 2 down or failing.")
    var check = false

    @OptionGroup var options: WorkspaceOptions

    func validate() throws {
        if check && (json || thread != nil) { throw ValidationError("--check takes no THREAD and no --json") }
    }

    func run() async throws {
        if check {
            let level = try await reportingErrors {
                let workspace = try options.workspace()
                let snapshot = try InboxReader.read(workspace)
                let result = HealthCheck.evaluate(
                    snapshot, daemon: DaemonStatus.read(in: workspace),
                    now: Int64(Date().timeIntervalSince1970 * 1000))
                Terminal.out(result.line + "\n")
                return result.level
            }
            if level != .ok { throw ExitCode(level.rawValue) }
            return
        }
        try await reportingErrors {
            let workspace = try options.workspace()
            let snapshot = try InboxReader.read(workspace, only: thread)
            if let thread, snapshot.threads.isEmpty {
                throw StoreError(
                    .notFound, "no thread '\(thread)'", path: workspace.relative(workspace.threadFolder(thread)))
            }
            var report = StatusReport(snapshot, workspace: workspace)
            report.lease = try LeaseView.read(workspace).map {
                StatusReport.Lease(
                    holder: $0.lease.holder, host: $0.lease.host, expires: $0.lease.expires.description,
                    state: $0.state, mine: $0.mine)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                Terminal.out(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
            } else {
                Terminal.out(report.text(style: TextStyle(plain: Terminal.plain)))
            }
        }
    }
}
