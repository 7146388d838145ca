import ArgumentParser
import ChatModel
import InboxStore

/// The control commands write the same control files an operator can write by hand
/// (docs/format.md §8), so both paths are one: the daemon acts on the file once and journals it.
///
/// Before writing, the command reads the thread and decides what the request acts on
/// (`ControlPlan`): it says so, or exits without writing anything when there is nothing to act on
/// (66), the request is ambiguous (64) or has to wait (75).
protocol ControlCommand: AsyncParsableCommand {
    var options: WorkspaceOptions { get }
    var thread: String { get }
    var request: ControlRequest { get }
}

extension ControlCommand {
    func run() async throws {
        try await reportingErrors {
            let workspace = try options.workspace()
            guard Names.isValidThreadName(thread), FileSystem.exists(workspace.threadFolder(thread)) else {
                throw StoreError(
                    .notFound, "no thread '\(thread)'; `letterbox status` lists the threads",
                    path: workspace.relative(workspace.threadFolder(thread)))
            }
            let snapshot = try InboxReader.readThread(thread, in: workspace)
            let plan: ControlPlan
            switch ControlPlan.plan(request, in: snapshot) {
            case let .success(found):
                plan = found
            case let .failure(refusal):
                Terminal.error("\(request.action.rawValue): \(refusal.message)")
                switch refusal.kind {
                case .nothingToActOn: throw Exit.noInput
                case .ambiguous: throw Exit.usage
                case .notNow: throw Exit.tempFail
                }
            }
            let path = try Outbox.control(request, thread: thread, stamp: Terminal.stamp(), in: workspace)
            Terminal.out(
                "\(request.action.rawValue) \(plan.subject) in thread '\(thread)': wrote \(path) (the daemon acts on it and records the outcome in the thread's journal)\n"
            )
        }
    }
}

struct AbortCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "abort", abstract: "Stop the reply running in a thread.")
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var options: WorkspaceOptions
    var request: ControlRequest { ControlRequest(action: .abort) }
}

struct RetryCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Queue failed messages again (with the same idempotency key).")
    @Argument(help: "The thread.") var thread: String
    @Argument(help: "The message (default: every failed message in the thread).") var message: String?
    @OptionGroup var options: WorkspaceOptions
    var request: ControlRequest { ControlRequest(action: .retry, target: message) }
}

struct RegenerateCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "regenerate", abstract: "Ask for a new reply to a message; the old reply is kept.")
    @Argument(help: "The thread.") var thread: String
    @Argument(help: "The message (default: the newest message with a reply).") var message: String?
    @OptionGroup var options: WorkspaceOptions
    var request: ControlRequest { ControlRequest(action: .regenerate, target: message) }
}

struct ApproveCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a pending approval request.")
    @Argument(help: "The thread.") var thread: String
    @Argument(help: "The approval (default: the only pending one).") var approval: String?
    @Option(help: "A note sent with the answer.") var note: String?
    @OptionGroup var options: WorkspaceOptions
    var request: ControlRequest { ControlRequest(action: .approve, target: approval, note: note) }
}

struct RejectCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "Reject a pending approval request.")
    @Argument(help: "The thread.") var thread: String
    @Argument(help: "The approval (default: the only pending one).") var approval: String?
    @Option(help: "A note sent with the answer.") var note: String?
    @OptionGroup var options: WorkspaceOptions
    var request: ControlRequest { ControlRequest(action: .reject, target: approval, note: note) }
}
