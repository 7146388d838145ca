public import ChatModel

/// What a control request would act on, decided from the thread as it is on disk, before the control
/// file is written (`letterbox abort|retry|regenerate|approve|reject`).
///
/// The daemon decides again when it reads the file (`InboxMachine.perform`), with what only it knows
/// (a request in flight, the runtime's capabilities); this is the same rule over the journal, so the
/// command can say what it asked for, and refuse at once when there is nothing to act on instead of
/// writing a file the daemon would answer with an error.
public struct ControlPlan: Sendable, Hashable {
    /// What the request acts on, for a person: "the running reply restart.reply.md (run r1)".
    public var subject: String
    /// The pending approval a decision (approve, edit, reject, respond, cancel) is for.
    public var approval: ApprovalState?

    public init(subject: String, approval: ApprovalState? = nil) {
        self.subject = subject
        self.approval = approval
    }

    /// Why there is nothing to act on.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        /// How the refusal should be reported.
        public enum Kind: Sendable, Hashable {
            /// Nothing is in the state the request needs (no failed message, no pending approval).
            case nothingToActOn
            /// There is something, but the request does not say which (several pending approvals).
            case ambiguous
            /// Not now: a reply is running (regenerate); try again when it ends.
            case notNow
        }

        public var kind: Kind
        /// What is wrong and what to do.
        public var message: String

        public var description: String { message }
    }

    /// Decides what `request` acts on in `thread`, or why it acts on nothing.
    public static func plan(_ request: ControlRequest, in thread: ThreadSnapshot) -> Result<ControlPlan, Refusal> {
        let state = thread.state
        let name = thread.id
        switch request.action {
        case .abort:
            return abort(target: request.target, state: state, thread: name)
        case .retry:
            let failed = state.messages.filter { if case .failed = $0.delivery { true } else { false } }
            if let target = request.target {
                guard failed.contains(where: { $0.id == target }) else {
                    let now = state.message(target).map { "it is \($0.delivery.name)" } ?? "there is no such message"
                    return .failure(
                        Refusal(
                            kind: .nothingToActOn,
                            message:
                                "message '\(target)' in thread '\(name)' has not failed (\(now)); only failed messages are retried"
                        ))
                }
                return .success(ControlPlan(subject: "the failed message \(target)"))
            }
            guard !failed.isEmpty else {
                return .failure(
                    Refusal(
                        kind: .nothingToActOn, message: "no message in thread '\(name)' has failed; nothing to retry"))
            }
            let ids = failed.map(\.id).joined(separator: ", ")
            return .success(ControlPlan(subject: "the failed message\(failed.count == 1 ? "" : "s") \(ids)"))
        case .regenerate:
            let answered = state.messages.filter { !$0.runs.isEmpty }
            let message: MessageState
            if let target = request.target {
                guard let found = answered.first(where: { $0.id == target }) else {
                    return .failure(
                        Refusal(
                            kind: .nothingToActOn,
                            message: "message '\(target)' in thread '\(name)' has no reply to regenerate"))
                }
                message = found
            } else {
                guard let last = answered.last else {
                    return .failure(
                        Refusal(
                            kind: .nothingToActOn,
                            message: "no message in thread '\(name)' has a reply yet; nothing to regenerate"))
                }
                message = last
            }
            if let running = state.activeRun {
                return .failure(
                    Refusal(
                        kind: .notNow,
                        message:
                            "a reply is still running in thread '\(name)' (\(running.file)); wait for it, or stop it with `letterbox abort \(name)`"
                    ))
            }
            let replies = state.runs(of: message).map(\.file).joined(separator: ", ")
            return .success(ControlPlan(subject: "the reply to \(message.id) (the new one goes beside \(replies))"))
        case .approve, .edit, .reject, .respond, .cancel:
            return pendingApproval(request.target, state: state, thread: name).map { approval in
                let tool = approval.tool.map { " for \($0)" } ?? ""
                return ControlPlan(subject: "the approval request \(approval.file)\(tool)", approval: approval)
            }
        }
    }

    /// The pending approval `target` names (its id, file, or the runtime's interrupt id), or the only
    /// one when it names none.
    private static func pendingApproval(_ target: String?, state: ThreadState, thread: String) -> Result<
        ApprovalState, Refusal
    > {
        let pending = state.pendingApprovals
        let list = pending.map(\.id).joined(separator: ", ")
        guard !pending.isEmpty else {
            return .failure(Refusal(kind: .nothingToActOn, message: "no approval is pending in thread '\(thread)'"))
        }
        if let target {
            guard
                let found = pending.first(where: {
                    $0.id == target || $0.file == target || $0.id + ".md" == target || $0.runtimeID == target
                })
            else {
                return .failure(
                    Refusal(
                        kind: .nothingToActOn,
                        message: "no pending approval in thread '\(thread)' is called '\(target)' (pending: \(list))"))
            }
            return .success(found)
        }
        guard pending.count == 1 else {
            return .failure(
                Refusal(
                    kind: .ambiguous,
                    message:
                        "\(pending.count) approvals are pending in thread '\(thread)'; name one with --interrupt: \(list)"
                ))
        }
        return .success(pending[0])
    }

    /// A run is going, or a message's request is in flight (its run has not begun here yet): the
    /// daemon's own notion of "running" includes the request before the run's first line.
    private static func abort(target: String?, state: ThreadState, thread: String) -> Result<ControlPlan, Refusal> {
        if let run = state.activeRun {
            if let target, target != run.id, target != run.message, target + ".md" != run.file,
                target != run.file
            {
                return .failure(
                    Refusal(
                        kind: .nothingToActOn,
                        message: "'\(target)' is not the running reply in thread '\(thread)' (that is \(run.file))"))
            }
            return .success(ControlPlan(subject: "the running reply \(run.file) (to \(run.message))"))
        }
        let requested = state.messages.filter { message in
            if case .sending = message.delivery { return true }
            return message.isAwaitingItsRun
        }
        if let message = requested.first(where: { target == nil || $0.id == target }) {
            return .success(ControlPlan(subject: "the reply about to start for \(message.id)"))
        }
        return .failure(
            Refusal(
                kind: .nothingToActOn,
                message: target.map { "'\($0)' is not running in thread '\(thread)'; nothing to abort" }
                    ?? "nothing is running in thread '\(thread)'; nothing to abort"))
    }
}
