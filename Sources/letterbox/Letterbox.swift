import ArgumentParser
import LetterboxVersion

/// `letterbox`: a file-first chat surface for AI agent runtimes.
@main
struct Letterbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk to AI agents through Markdown files: an inbox, a delivery daemon and a static site.",
        discussion: """
            Operators write messages as Markdown files in per-thread folders under inbox/. The daemon \
            delivers each message once and writes replies, tool calls and approval requests beside it. \
            `letterbox build` renders everything into a static site. See docs/format.md.
            """,
        version: LetterboxVersion.current,
        subcommands: [
            InitCommand.self, NewCommand.self, SendCommand.self, StatusCommand.self, DaemonCommand.self,
            BuildCommand.self, AbortCommand.self, RetryCommand.self, RegenerateCommand.self, ApproveCommand.self,
            EditCommand.self, RejectCommand.self, RespondCommand.self, CancelCommand.self, SiteServeCommand.self,
            AuditCommand.self, RuntimeCommand.self, SyncCommand.self, LeaseCommand.self, BuildWorkerCommand.self,
        ]
    )
}
