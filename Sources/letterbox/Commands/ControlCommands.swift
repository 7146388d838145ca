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

/// The decision commands check the thread's journal first: they exit non-zero, writing nothing, when
/// no approval is pending, when several are and none is named, or when the decision is not offered or
/// incomplete (docs/format.md §6.4, §8).
protocol DecisionCommand: AsyncParsableCommand {
    var options: WorkspaceOptions { get }
    var thread: String { get }
    var target: String? { get }
    func request(target: String?) throws -> ControlRequest
}

extension DecisionCommand {
    func run() async throws {
        try await reportingErrors {
            let workspace = try options.workspace()
            let request = try request(target: target)
            let (path, approval) = try Outbox.decide(request, thread: thread, stamp: Terminal.stamp(), in: workspace)
            Terminal.out(
                "requested \(request.action.rawValue) of \(approval): \(path) (the daemon acts on it and records the outcome in the thread's journal)\n"
            )
        }
    }
}

/// Where a decision goes: `--interrupt ID` or the older positional approval id.
struct DecisionTarget: ParsableArguments {
    @Argument(help: "The approval (default: the only pending one); same as --interrupt.") var approval: String?
    @Option(help: "The approval or interrupt to decide (its id, file name, or the runtime's interrupt id).")
    var interrupt: String?
    var value: String? { interrupt ?? approval }
}

struct ApproveCommand: DecisionCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve", abstract: "Approve a pending approval request.")
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var on: DecisionTarget
    @Option(help: "A note sent with the answer.") var note: String?
    @OptionGroup var options: WorkspaceOptions
    var target: String? { on.value }
    func request(target: String?) -> ControlRequest { ControlRequest(action: .approve, target: target, note: note) }
}

struct EditCommand: DecisionCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit", abstract: "Approve a pending tool call with edited arguments (a JSON object).")
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var on: DecisionTarget
    @Option(help: "A file holding the new arguments as a JSON object ('-' for standard input).") var argsFile: String
    @Option(help: "A note sent with the answer.") var note: String?
    @OptionGroup var options: WorkspaceOptions
    var target: String? { on.value }
    func request(target: String?) throws -> ControlRequest {
        let text = try Terminal.readInput(argsFile)
        return ControlRequest(action: .edit, target: target, note: note, arguments: text)
    }
}

struct RejectCommand: DecisionCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "Reject a pending approval request; the tool does not run.")
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var on: DecisionTarget
    @Option(help: "Why (sent to the agent, which sees it as the reason the call did not run).") var reason: String?
    @Option(help: "Same as --reason.") var note: String?
    @OptionGroup var options: WorkspaceOptions
    var target: String? { on.value }
    func request(target: String?) -> ControlRequest {
        ControlRequest(action: .reject, target: target, note: reason ?? note)
    }
}

struct RespondCommand: DecisionCommand {
    static let configuration = CommandConfiguration(
        commandName: "respond", abstract: "Answer a pending question or input request with text (never a tool call).")
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var on: DecisionTarget
    @Option(help: "The answer.") var note: String
    @OptionGroup var options: WorkspaceOptions
    var target: String? { on.value }
    func request(target: String?) -> ControlRequest { ControlRequest(action: .respond, target: target, note: note) }
}

struct CancelCommand: DecisionCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Withdraw a pending approval request (the only decision left once it expired)."
    )
    @Argument(help: "The thread.") var thread: String
    @OptionGroup var on: DecisionTarget
    @Option(help: "A note kept in the journal.") var note: String?
    @OptionGroup var options: WorkspaceOptions
    var target: String? { on.value }
    func request(target: String?) -> ControlRequest { ControlRequest(action: .cancel, target: target, note: note) }
}
