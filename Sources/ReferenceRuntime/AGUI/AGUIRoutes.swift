import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The demo agents over AG-UI (docs/runtime-api.md, "AG-UI"): `POST /ag-ui/{agent}` with a
/// `RunAgentInput` answers with the run as server-sent events. Like any AG-UI server it keeps no
/// conversation (the client sends it each time); it keeps only each thread's open interrupts.
struct AGUIRoutes: Sendable {
    let state: RuntimeState
    let interrupts: AGUIInterrupts
    let clock: RuntimeClock
    let interval: Duration
    let bodyLimit: Int
    let logger: Logger

    /// The path, for docs and tests.
    static let path = "/ag-ui/{agent}"

    func register(on router: Router<RuntimeRequestContext>) {
        router.post("/ag-ui/:agent") { request, context in
            try await run(request, agent: context.parameters.get("agent") ?? "")
        }
    }

    private func run(_ request: Request, agent name: String) async throws -> Response {
        guard let agent = DemoAgent(rawValue: name) else {
            let names = DemoAgent.allCases.filter(\.descriptor.acceptsChat).map(\.rawValue).joined(separator: ", ")
            throw APIError(.notFound, "agent_not_found", "there is no agent '\(name)' (AG-UI agents: \(names))")
        }
        let input = try await JSONCoding.decode(AGUIRunInput.self, from: request, limit: bodyLimit)
        let steps = await steps(for: input, agent: agent)
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let run = RunContext(input: input, agent: agent)
        return Response(
            status: .ok, headers: headers, body: ResponseBody { writer in try await stream(steps, run, &writer) })
    }

    /// What the run will send, deciding (and recording) what the request means first.
    private func steps(for input: AGUIRunInput, agent: DemoAgent) async -> [AGUIStep] {
        let script = AGUIScript(input)
        let key = input.forwardedProps?.letterbox?.requestId
        switch await interrupts.decide(thread: input.threadId, resume: input.resume) {
        case let .refuse(code, message):
            return script.refusal(code, message)
        case .start:
            guard agent.descriptor.acceptsChat else {
                return script.refusal("agent_not_chat", "the agent '\(agent.rawValue)' does not have the chat scope")
            }
            guard let question = input.question, let text = question.content else {
                return script.refusal("no_user_message", "the run has no user message to answer")
            }
            await state.recordAGUI(
                .messageAccepted, key: key, thread: input.threadId, message: question.id, agent: agent, content: text)
            await state.recordAGUI(
                .runStarted, key: key, thread: input.threadId, message: question.id, agent: agent, content: nil)
            return script.start(agent, question: text, history: input.messages)
        case let .resume(answers, interrupts, firstTime):
            guard let answer = answers.first, let interrupt = interrupts.first(where: { $0.id == answer.interruptId })
            else { return script.refusal("unknown_interrupt", "the resume answers no open interrupt") }
            if firstTime {
                let decision =
                    if answer.status == "cancelled" {
                        "cancel"
                    } else if interrupt.isQuestion {
                        "respond"
                    } else if answer.payload?.approved == true {
                        answer.payload?.editedArgs == nil ? "approve" : "edit"
                    } else {
                        "reject"
                    }
                await state.recordAGUI(
                    .approvalAnswered, key: key, thread: input.threadId, message: interrupt.id, agent: agent,
                    content: decision)
            }
            return script.resume(answer, interrupt: interrupt)
        }
    }

    private struct RunContext: Sendable {
        var input: AGUIRunInput
        var agent: DemoAgent
    }

    /// Sends the steps, pausing between them. A client that goes away ends the run: it is recorded as
    /// aborted (with what was sent so far), and nothing more is sent.
    private func stream(_ steps: [AGUIStep], _ run: RunContext, _ writer: inout any ResponseBodyWriter) async throws {
        var text = ""
        for step in steps {
            do {
                switch step {
                case .pause:
                    if interval > .zero { try await clock.sleep(interval) }
                case let .event(event):
                    try await writer.write(event.frame())
                    if !event.interrupts.isEmpty { await interrupts.open(thread: run.input.threadId, event.interrupts) }
                    if event.type == "TEXT_MESSAGE_CONTENT" { text += event.delta ?? "" }
                }
            } catch {
                logger.debug(
                    "AG-UI client went away",
                    metadata: ["thread.id": "\(run.input.threadId)", "run.id": "\(run.input.runId)"])
                await state.recordAGUI(
                    .runAborted, key: nil, thread: run.input.threadId, message: run.input.question?.id,
                    agent: run.agent,
                    content: text)
                return
            }
        }
        try await writer.finish(nil)
    }
}
