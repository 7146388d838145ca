import ChatModel

/// The AG-UI threads' open interrupts, kept as the protocol's contract asks: while a thread has
/// open interrupts, input without a resume that addresses every one of them is refused; a resume
/// sent again after it was accepted gets the same run again (a replay, not a second answer).
///
/// In memory only, like the rest of the reference runtime.
actor AGUIInterrupts {
    /// What to do with a request.
    enum Decision: Equatable {
        /// A new run.
        case start
        /// Carry on after `interrupts` with `answers`; `firstTime` is false for a replay.
        case resume(answers: [AGUIResumeEntry], interrupts: [AGUIEvent.Interrupt], firstTime: Bool)
        /// Refuse with `RUN_ERROR`.
        case refuse(code: String, message: String)
    }

    private struct Thread {
        var open: [AGUIEvent.Interrupt] = []
        var accepted: (answers: [AGUIResumeEntry], interrupts: [AGUIEvent.Interrupt])?
    }

    private var threads: [String: Thread] = [:]

    /// Decides, and when a resume is accepted, closes the interrupts it answers.
    func decide(thread id: String, resume: [AGUIResumeEntry]?) -> Decision {
        var thread = threads[id] ?? Thread()
        defer { threads[id] = thread }
        let answers = (resume ?? []).sorted { $0.interruptId < $1.interruptId }
        let open = Set(thread.open.map(\.id))
        if answers.isEmpty {
            guard open.isEmpty else {
                return .refuse(
                    code: "interrupts_pending",
                    message:
                        "the thread has open interrupts (\(open.sorted().joined(separator: ", "))); send a resume that answers every one"
                )
            }
            return .start
        }
        if open.isEmpty {
            if let accepted = thread.accepted, accepted.answers == answers {
                return .resume(answers: answers, interrupts: accepted.interrupts, firstTime: false)
            }
            return .refuse(code: "unknown_interrupt", message: "no interrupts are open on this thread")
        }
        let answered = Set(answers.map(\.interruptId))
        if let unknown = answered.subtracting(open).sorted().first {
            return .refuse(code: "unknown_interrupt", message: "'\(unknown)' is not an open interrupt of this thread")
        }
        if answered != open || answers.count != open.count {
            return .refuse(
                code: "resume_incomplete",
                message:
                    "a resume must answer every open interrupt exactly once (\(open.sorted().joined(separator: ", ")))")
        }
        let questions = Set(thread.open.filter(\.isQuestion).map(\.id))
        for answer in answers {
            switch answer.status {
            case "cancelled":
                continue
            case "resolved" where questions.contains(answer.interruptId):
                if answer.payload?.approved != nil {
                    return .refuse(
                        code: "invalid_payload",
                        message:
                            "'\(answer.interruptId)' asks a question, not for approval; answer it with text, or cancel it"
                    )
                }
                guard answer.payload?.answer != nil else {
                    return .refuse(
                        code: "invalid_payload",
                        message: "the payload for '\(answer.interruptId)' needs the answer to the question (a string)")
                }
                continue
            case "resolved" where answer.payload?.approved != nil:
                if let edited = answer.payload?.editedArgs, let problem = DemoAgent.problem(with: edited.jsonText) {
                    return .refuse(
                        code: "invalid_payload", message: "editedArgs for '\(answer.interruptId)': \(problem)")
                }
                continue
            case "resolved":
                return .refuse(
                    code: "invalid_payload",
                    message: "the payload for '\(answer.interruptId)' needs a boolean 'approved'")
            default:
                return .refuse(
                    code: "invalid_status",
                    message:
                        "status '\(answer.status)' for '\(answer.interruptId)' is neither 'resolved' nor 'cancelled'")
            }
        }
        let interrupts = thread.open
        thread.open = []
        thread.accepted = (answers, interrupts)
        return .resume(answers: answers, interrupts: interrupts, firstTime: true)
    }

    /// A run ended asking these: they are open until a resume answers them.
    func open(thread id: String, _ interrupts: [AGUIEvent.Interrupt]) {
        threads[id, default: Thread()].open = interrupts
        threads[id]?.accepted = nil
    }
}
