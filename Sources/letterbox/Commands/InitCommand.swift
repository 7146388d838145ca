import ArgumentParser
import ChatModel
import InboxStore

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a workspace: letterbox.yaml, an inbox with a sample thread, and site/.",
        discussion: "Refuses to touch a folder that already has a letterbox.yaml."
    )

    @Argument(help: ArgumentHelp("Where to create the workspace.", valueName: "DIR"))
    var directory: String = "."

    func run() async throws {
        try await reportingErrors {
            let created = try WorkspaceInitializer.create(in: directory, now: Terminal.now())
            Terminal.out(created.map { "created \($0)\n" }.joined())
            Terminal.out(
                """

                Next:
                  cd \(directory)
                  letterbox new ops --agent assistant      # a thread
                  echo "Hello" | letterbox send ops -      # a message (or save a .md file in inbox/ops/)
                  letterbox status

                """)
        }
    }
}

struct NewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create a thread folder with its thread.md."
    )

    @Argument(help: ArgumentHelp("The thread id: letters, digits, '.', '-', '_'.", valueName: "THREAD"))
    var thread: String

    @Option(help: "The thread's title.")
    var title: String?

    @Option(help: "The agent every message in the thread goes to.")
    var agent: String?

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingErrors {
            let workspace = try options.workspace()
            try WorkspaceInitializer.createThread(thread, title: title, agent: agent, in: workspace)
            Terminal.out("created \(workspace.relative(workspace.threadFolder(thread)))/\n")
        }
    }
}
