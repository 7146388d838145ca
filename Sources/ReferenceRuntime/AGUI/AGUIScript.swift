import ChatModel

/// A step of an AG-UI run: an event to send, or the agent's pause (the stream interval).
enum AGUIStep: Sendable, Equatable {
    case event(AGUIEvent)
    case pause
}

/// The demo agents as AG-UI runs (docs/runtime-api.md, "AG-UI"). Pure: the input in, the events out,
/// the same every time. Ids are derived from the run id, so a replayed resume gives the same events.
struct AGUIScript: Sendable {
    let threadId: String
    let runId: String

    init(_ input: AGUIRunInput) {
        threadId = input.threadId
        runId = input.runId
    }

    /// A new run answering `question`.
    func start(_ agent: DemoAgent, question: String, history: [AGUIMessage]) -> [AGUIStep] {
        switch agent {
        case .assistant:
            return [started, .pause] + text("\(runId)-text-1", DemoAgent.assistantAnswer(to: question)) + [finished()]
        case .writer:
            return [started] + text("\(runId)-text-1", DemoAgent.writerChunks(for: question)) + [finished()]
        case .operator:
            if let asked = DemoAgent.question(for: question) {
                // A question: no tool call, so the interrupt has no toolCallId and its answer is text.
                let interrupt = AGUIEvent.Interrupt(
                    id: "\(runId)-question-1", reason: "input", message: asked, toolCallId: nil,
                    responseSchema: Self.questionSchema)
                return [started, .pause, finished(AGUIEvent.Outcome(type: "interrupt", interrupts: [interrupt]))]
            }
            let messageID = "\(runId)-text-1"
            let call = "\(runId)-call-1"
            let proposal = AGUIMessage(
                id: messageID, role: "assistant", content: DemoAgent.toolCallText(),
                toolCalls: [
                    .init(id: call, function: .init(name: DemoAgent.toolName, arguments: DemoAgent.toolArguments))
                ])
            var snapshot = AGUIEvent("STATE_SNAPSHOT")
            snapshot.snapshot = ["pendingApproval": DemoAgent.toolName]
            var messages = AGUIEvent("MESSAGES_SNAPSHOT")
            messages.messages = history + [proposal]
            let interrupt = AGUIEvent.Interrupt(
                id: "\(call)-approval", reason: "tool_call", message: DemoAgent.approvalPrompt, toolCallId: call,
                responseSchema: Self.responseSchema)
            return [started, .pause] + text(messageID, [DemoAgent.toolCallText()])
                + toolCall(call, parent: messageID) + [.event(snapshot), .event(messages)]
                + [finished(AGUIEvent.Outcome(type: "interrupt", interrupts: [interrupt]))]
        case .copilot:
            return refusal("agent_not_chat", "the agent 'copilot' does not have the chat scope")
        }
    }

    /// The run that carries on after the operator answered `interrupt` (resolved or cancelled).
    func resume(_ answer: AGUIResumeEntry, interrupt: AGUIEvent.Interrupt) -> [AGUIStep] {
        if interrupt.isQuestion {
            let reply =
                if answer.status == "resolved", let response = answer.payload?.answer {
                    DemoAgent.respondedOutcome(response)
                } else {
                    DemoAgent.questionCancelledOutcome()
                }
            return [started, .pause] + text("\(runId)-text-1", [reply]) + [finished()]
        }
        let call = interrupt.toolCallId ?? interrupt.id
        let approved = answer.status == "resolved" && answer.payload?.approved == true
        let result: String
        let reply: String
        if answer.status == "cancelled" {
            result = "cancelled by the operator"
            reply = DemoAgent.cancelledOutcome()
        } else if approved {
            let edited = answer.payload?.editedArgs.map(\.jsonText)
            let arguments = edited.flatMap { DemoAgent.problem(with: $0) == nil ? $0 : nil } ?? DemoAgent.toolArguments
            result = DemoAgent.toolResult(arguments: arguments)
            reply = DemoAgent.outcome(
                .approved(arguments: arguments, edited: arguments != DemoAgent.toolArguments),
                note: answer.payload?.reason)
        } else {
            result = "rejected: \(answer.payload?.reason ?? "no reason given")"
            reply = DemoAgent.outcome(.rejected(reason: answer.payload?.reason), note: nil)
        }
        var toolResult = AGUIEvent("TOOL_CALL_RESULT")
        toolResult.messageId = "\(runId)-tool-1"
        toolResult.toolCallId = call
        toolResult.content = result
        toolResult.role = "tool"
        var state = AGUIEvent("STATE_SNAPSHOT")
        state.snapshot = [:]
        return [started, .pause, .event(toolResult), .pause] + text("\(runId)-text-1", [reply])
            + [.event(state), finished()]
    }

    /// A question's `responseSchema`: the answer is text (no `approved`, so a client offers respond
    /// and cancel, not approve and reject).
    static let questionSchema: JSONValue = .object([
        "type": .string("string"),
        "description": .string("your answer to the question"),
    ])

    /// The interrupt's `responseSchema`, as pydantic-ai's adapter writes it: `approved` required,
    /// `editedArgs` the tool's own argument schema, `reason` free text.
    static let responseSchema: JSONValue = {
        let tool = (try? JSONValue(parsing: DemoAgent.toolSchema)) ?? .object([:])
        return .object([
            "type": .string("object"),
            "properties": .object([
                "approved": .object(["type": .string("boolean")]),
                "editedArgs": tool,
                "reason": .object(["type": .string("string")]),
            ]),
            "required": .array([.string("approved")]),
        ])
    }()

    /// A refused run: `RUN_ERROR` alone, so the client fails the request instead of starting a reply.
    func refusal(_ code: String, _ message: String) -> [AGUIStep] {
        var error = AGUIEvent("RUN_ERROR")
        error.message = message
        error.code = code
        return [.event(error)]
    }

    // MARK: Events

    private var started: AGUIStep {
        var event = AGUIEvent("RUN_STARTED")
        event.threadId = threadId
        event.runId = runId
        return .event(event)
    }

    private func finished(_ outcome: AGUIEvent.Outcome = .init(type: "success")) -> AGUIStep {
        var event = AGUIEvent("RUN_FINISHED")
        event.threadId = threadId
        event.runId = runId
        event.outcome = outcome
        return .event(event)
    }

    /// One assistant message streamed in `parts`, a pause before each part after the first.
    private func text(_ id: String, _ parts: [String]) -> [AGUIStep] {
        var start = AGUIEvent("TEXT_MESSAGE_START")
        start.messageId = id
        start.role = "assistant"
        var steps: [AGUIStep] = [.event(start)]
        for (index, part) in parts.enumerated() {
            if index > 0 { steps.append(.pause) }
            var content = AGUIEvent("TEXT_MESSAGE_CONTENT")
            content.messageId = id
            content.delta = part
            steps.append(.event(content))
        }
        var end = AGUIEvent("TEXT_MESSAGE_END")
        end.messageId = id
        steps.append(.event(end))
        return steps
    }

    private func toolCall(_ id: String, parent: String) -> [AGUIStep] {
        var start = AGUIEvent("TOOL_CALL_START")
        start.toolCallId = id
        start.toolCallName = DemoAgent.toolName
        start.parentMessageId = parent
        var arguments = AGUIEvent("TOOL_CALL_ARGS")
        arguments.toolCallId = id
        arguments.delta = DemoAgent.toolArguments
        var end = AGUIEvent("TOOL_CALL_END")
        end.toolCallId = id
        return [.event(start), .event(arguments), .event(end)]
    }
}
