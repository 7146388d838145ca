import ArgumentParser
import ChatModel
import InboxStore

/// The control commands write the same control files an operator can write by hand
/// (docs/format.md §8), so both paths are one: the daemon acts on the file once and journals it.
///
/// Before writing, the command reads the thread and decides what the request acts on
/// (`ControlPlan`): it says so, or exits without writing anything when there is nothing to act on
/// (66), the request is ambiguous (64) or has to wait (75). A decision on an approval is also checked
/// as the daemon will check it (`Outbox.decide`): one the request offers and complete, else 65.
protocol ControlCommand: AsyncParsableCommand {
    var options: WorkspaceOptions { get }
    var thread: String { get }
    func request() throws -> ControlRequest
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
            let request = try request()
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
            let path: String
            if let approval = plan.approval {
                if let error = snapshot.journalError { throw error }
                path = try Outbox.decide(request, on: approval, thread: thread, stamp: Terminal.stamp(), in: workspace)
            } else {
                path = try Outbox.control(request, thread: thread, stamp: Terminal.stamp(), in: workspace)
            }
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
    func request() -> ControlRequest { ControlRequest(action: .abort) }
}

struct RetryCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry", abstract: "Queue failed messages again (with the same idempotency key).")
    @Argument(help: "The thread.") var thread: String
    @Argument(help: "The message (default: every failed message in the thread).") var message: String?
    @OptionGroup var options: WorkspaceOptions
    func request() -> ControlRequest { ControlRequest(action: .retry, target: message) }
}

struct RegenerateCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "regenerate", abstract: "Ask for a new reply to a message; the old reply is kept.")
    @Argument(help: "The thread.") var thread: String
    @Argument(help: "The message (default: the newest message with a reply).") var message: String?
    @OptionGroup var options: WorkspaceOptions
    func request() -> ControlRequest { ControlRequest(action: .regenerate, target: message) }
}

/// Where a decision goes: `--interrupt ID` or the older positional approval id.
struct DecisionTarget: ParsableArguments {
    @Argument(help: "The approval (default: the only pending one); same as --interrupt.") var approval: String?
    @Option(help: "The approval or interrupt to decide (its id, file name, or the runtime's interrupt id).")
    var interrupt: String?
    var value: String? { interrupt ?? approval }
}

struct ApproveCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a pending approval request.")
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var on: DecisionTarget
    @Option(help: "A note sent with the answer.") var note: String?
    @OptionGroup var options: WorkspaceOptions
    func request() -> ControlRequest { ControlRequest(action: .approve, target: on.value, note: note) }
}

struct EditCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit", abstract: "Approve a pending tool call with edited arguments (a JSON object).")
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var on: DecisionTarget
    @Option(help: "A file holding the new arguments as a JSON object ('-' for standard input).") var argsFile: String
    @Option(help: "A note sent with the answer.") var note: String?
    @OptionGroup var options: WorkspaceOptions
    func request() throws -> ControlRequest {
        let text = try Terminal.readInput(argsFile)
        return ControlRequest(action: .edit, target: on.value, note: note, arguments: text)
    }
}

struct RejectCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "Reject a pending approval request; the tool does not run.")
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var on: DecisionTarget
    @Option(help: "Why (sent to the agent, which sees it as the reason the call did not run).") var reason: String?
    @Option(help: "Same as --reason.") var note: String?
    @OptionGroup var options: WorkspaceOptions
    func request() -> ControlRequest {
        ControlRequest(action: .reject, target: on.value, note: reason ?? note)
    }
}

struct RespondCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "respond", abstract: "Answer a pending question or input request with text (never a tool call).")
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var on: DecisionTarget
    @Option(help: "The answer.") var note: String
    @OptionGroup var options: WorkspaceOptions
    func request() -> ControlRequest { ControlRequest(action: .respond, target: on.value, note: note) }
}

struct CancelCommand: ControlCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Withdraw a pending approval request (the only decision left once it expired)."
    )
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var on: DecisionTarget
    @Option(help: "A note kept in the journal.") var note: String?
    @OptionGroup var options: WorkspaceOptions
    func request() -> ControlRequest { ControlRequest(action: .cancel, target: on.value, note: note) }
}
