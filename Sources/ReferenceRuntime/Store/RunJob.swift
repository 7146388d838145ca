/// Work for the agent runner: start a run, or carry it on after its approval was answered.
enum RunJob: Sendable, Equatable {
    /// What a run needs to know to act.
    struct Ticket: Sendable, Equatable {
        var runId: Int
        var agent: DemoAgent
        var question: String
    }

    case start(Ticket)
    case resume(Ticket, verdict: DemoAgent.Verdict, note: String?)
}
