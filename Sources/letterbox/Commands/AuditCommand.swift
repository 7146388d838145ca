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
            abstract: "Check every journal; exit 65 naming the first bad line of each bad journal.",
            discussion: """
                Checks each line's hash and the chain (a changed byte; a dropped, inserted, reordered or \
                duplicated line; a truncated line), the thread journals against the heads the inbox journal \
                anchored (a cut tail, a deleted or replaced journal, lines rewritten with recomputed hashes), \
                and that every event can happen where it is (a forged event). The inbox journal's own head \
                is printed: keep it somewhere else and pass it back with --head to anchor the inbox journal too.
                """
        )

        @Option(
            help: ArgumentHelp(
                "A head printed by an earlier verify: the inbox journal must still hold this line.",
                valueName: "SEQ:SHA256"))
        var head: String?

        @OptionGroup var options: WorkspaceOptions

        func run() async throws {
            try await reportingErrors {
                let workspace = try options.workspace()
                let report = try JournalVerifier.verify(workspace)
                var bad = false
                for finding in report.findings {
                    let path = JournalVerifier.path(of: finding, in: workspace)
                    let lines = finding.lastLine.map { " (the change is in lines \(finding.line)-\($0))" } ?? ""
                    Terminal.error(TerminalText.visible("\(path):\(finding.line): \(finding.message)\(lines)"))
                    bad = true
                }
                if let head {
                    let parts = head.split(separator: ":", maxSplits: 1).map(String.init)
                    guard parts.count == 2, let seq = Int(parts[0]), seq > 0 else {
                        throw ValidationError("--head is SEQ:SHA256, as verify prints it")
                    }
                    let inbox = JournalAudit.lines(
                        (try? FileSystem.readFile(
                            workspace.inboxJournalPath, maxBytes: Int.max, beneath: workspace.inbox))
                            ?? [])
                    let holds: Bool
                    if seq <= inbox.count, case let .success(entry) = inbox[seq - 1] {
                        holds = entry.hash == parts[1]
                    } else {
                        holds = false
                    }
                    if !holds {
                        Terminal.error(
                            "\(workspace.relative(workspace.inboxJournalPath)):\(seq): not the line of the head you kept (\(parts[1].prefix(12))…): the inbox journal was cut or rewritten after it"
                        )
                        bad = true
                    }
                }
                if bad { throw Exit.dataError }
                let journals = report.journals
                var text =
                    "ok: \(journals) journal\(journals == 1 ? "" : "s"), \(report.lines) line\(report.lines == 1 ? "" : "s"), every hash chain intact, "
                text +=
                    "\(report.anchoredThreads) thread journal\(report.anchoredThreads == 1 ? "" : "s") matching \(report.anchoredThreads == 1 ? "its" : "their") anchors, every event possible\n"
                if let last = report.inboxHead {
                    text += "inbox journal head: \(last.seq):\(last.hash) (keep it elsewhere; --head checks it later)\n"
                }
                Terminal.out(text)
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
