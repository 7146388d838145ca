import ArgumentParser
import ChatModel
import Foundation
import InboxStore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show delivery and run states, from the journals and the files on disk."
    )

    @Argument(help: ArgumentHelp("Only this thread.", valueName: "THREAD"))
    var thread: String?

    @Flag(help: "Print JSON (stable keys) instead of text.")
    var json = false

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingErrors {
            let workspace = try options.workspace()
            let snapshot = try InboxReader.read(workspace, only: thread)
            if let thread, snapshot.threads.isEmpty {
                throw StoreError(
                    .notFound, "no thread '\(thread)'", path: workspace.relative(workspace.threadFolder(thread)))
            }
            let report = StatusReport(snapshot, workspace: workspace)
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
