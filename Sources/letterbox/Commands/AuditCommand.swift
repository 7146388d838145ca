import ArgumentParser
import ChatModel
import InboxStore

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify and show the journals (the audit log).",
        subcommands: [Verify.self, Show.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every journal's hash chain; exit 65 naming the first bad file and line.",
            discussion:
                "Detects a changed byte, a dropped, inserted, reordered or duplicated line, and a truncated line."
        )

        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            try await reportingErrors {
                let workspace = try options.workspace()
                let snapshot = try InboxReader.read(workspace)
                var journals = [("inbox", workspace.inboxJournalPath, snapshot.inboxEntries)]
                journals += snapshot.threads.map { ($0.id, workspace.journalPath(thread: $0.id), $0.entries) }
                var lines = 0
                var checked = 0
                for (_, path, _) in journals where FileSystem.exists(path) {
                    let (entries, readError) = InboxReader.readJournal(path, beneath: workspace.inbox)
                    let status = AuditLog.status(journal: path, entries: entries, readError: readError)
                    if let problem = status.problem {
                        var located = problem
                        located.path = workspace.relative(path)
                        Terminal.error("\(located.description)")
                        throw Exit.dataError
                    }
                    lines += entries.count
                    checked += 1
                }
                Terminal.out(
                    "ok: \(checked) journal\(checked == 1 ? "" : "s"), \(lines) line\(lines == 1 ? "" : "s"), every hash chain intact\n"
                )
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the merged journals, newest first.")

        @Option(help: "Show at most this many lines.")
        var limit: Int = 50

        @Option(help: ArgumentHelp("Only this thread's journal (or `inbox`).", valueName: "THREAD"))
        var thread: String?

        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            try await reportingErrors {
                let workspace = try options.workspace()
                let snapshot = try InboxReader.read(workspace)
                var journals = [(name: "inbox", entries: snapshot.inboxEntries)]
                journals += snapshot.threads.map { (name: $0.id, entries: $0.entries) }
                if let thread { journals = journals.filter { $0.name == thread } }
                for row in AuditLog.merge(journals).prefix(max(0, limit)) {
                    let e = row.entry
                    // Names and reasons come from files: shown, never acted on by the terminal.
                    let target = TerminalText.visible(e.event.target ?? "-")
                    let summary = TerminalText.visible(AuditLog.summary(e))
                    Terminal.out(
                        "\(e.ts)  \(TerminalText.visible(row.journal))#\(e.seq)  \(e.actor.rawValue)  \(e.event.name)  \(target)  \(summary)\n"
                    )
                }
            }
        }
    }
}
