import ArgumentParser
import ChatModel
import InboxDaemon
import InboxStore

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a workspace: letterbox.yaml, an inbox with a sample thread, and site/.",
        discussion: "Refuses to touch a folder that already has a letterbox.yaml."
    )

    @Argument(help: ArgumentHelp("Where to create the workspace.", valueName: "DIR"))
    var directory: String = "."

    @Flag(help: "Do not make the workspace a git repository (the daemon then commits nothing).")
    var noGit = false

    func run() async throws {
        try await reportingErrors {
            let created = try WorkspaceInitializer.create(in: directory, now: Terminal.now())
            Terminal.out(created.map { "created \($0)\n" }.joined())
            if !noGit { try await makeRepository(created) }
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

extension InitCommand {
    /// `git init` and a first commit of what init made, unless the folder is already in a work tree
    /// (then the files are left for the operator to add).
    func makeRepository(_ created: [String]) async throws {
        let root = Workspace.absolute(directory, base: Workspace.currentDirectory())
        if let existing = await GitRepository.find(containing: root) {
            Terminal.out("in the git work tree \(existing.root): add the new files when you like\n")
            return
        }
        do {
            try await GitRepository.initialize(at: root)
            guard let repository = await GitRepository.find(containing: root) else { return }
            let settings = WorkspaceConfig().git
            try await repository.commit(
                created.map { root + "/" + $0 }, message: "letterbox init: a new workspace",
                as: .init(name: settings.name, email: settings.email))
            Terminal.out("initialized a git repository: the daemon commits the inbox's history\n")
        } catch {
            Terminal.error("could not make a git repository (\(error)); the workspace works without one")
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
