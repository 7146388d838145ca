import ChatModel
import Foundation

/// The reference runtime's deterministic demo agents: the same question always gets the same answer.
enum DemoAgent: String, Sendable, CaseIterable {
    /// Answers at once with a short Markdown answer.
    case assistant
    /// Streams a long Markdown answer (paragraphs, a code block, a table) in chunks.
    case writer
    /// Proposes a tool call, asks for approval, and acts on the answer; or, when the message starts
    /// with `ask:`, asks the operator a question and quotes the answer.
    case `operator`
    /// Listed, but without the `chat` scope: chat messages to it are refused (422).
    case copilot

    /// What `GET /external/agents` lists, in this order.
    static let catalogue: [RuntimeAgent] = allCases.map(\.descriptor)

    var descriptor: RuntimeAgent {
        switch self {
        case .assistant: RuntimeAgent(id: rawValue, name: "Assistant", scopeIds: ["chat"])
        case .writer: RuntimeAgent(id: rawValue, name: "Writer", scopeIds: ["chat"])
        case .operator: RuntimeAgent(id: rawValue, name: "Ops runner", scopeIds: ["chat"])
        case .copilot: RuntimeAgent(id: rawValue, name: "Copilot", scopeIds: ["copilot"])
        }
    }

    /// The first non-empty line of a question, trimmed to 120 characters, for quoting.
    static func firstLine(of question: String) -> String {
        let line =
            question.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty } ?? ""
        return line.count > 120 ? String(line.prefix(119)) + "…" : line
    }

    // MARK: assistant

    /// The assistant's answer in its two updates: the quote, then the rest.
    static func assistantAnswer(to question: String) -> [String] {
        let words = question.split(whereSeparator: { $0.isWhitespace }).count
        return [
            "> \(firstLine(of: question))\n\n",
            """
            Here is a short answer from the reference runtime's demo assistant (it gives the same answer to the same \
            question, every time):

            1. Look at the current state first, and write down what you see.
            2. Change one thing at a time.
            3. Check the result, and note it in this thread.

            Your message had \(words) \(words == 1 ? "word" : "words"). Reply in this thread to continue.

            """,
        ]
    }

    // MARK: writer

    /// The writer's whole answer, before chunking.
    static func writerAnswer(to question: String) -> String {
        let topic = firstLine(of: question)
        return """
            # Notes on: \(topic)

            This is a long answer from the reference runtime's demo writer. It arrives in small pieces, the way a \
            language model streams tokens, so a client can show it growing: the message keeps its id, and every \
            piece gives it a new `seq`.

            A good answer starts with the question restated in plain words, then the facts that bear on it, then \
            what to do next. The facts come first because everything else depends on them; the plan comes last \
            because it changes when the facts do.

            ## An example

            ```swift
            struct Step: Sendable {
                var title: String
                var done = false
            }

            let plan = [Step(title: "Read the logs"), Step(title: "Change one thing"), Step(title: "Check again")]
            print(plan.map(\\.title).joined(separator: " → "))
            ```

            ## A summary

            | step | what | why |
            | --- | --- | --- |
            | 1 | read the logs | the facts come first |
            | 2 | change one thing | so you know what helped |
            | 3 | check again | to be sure it did |

            That is all for now. Ask a follow-up in this thread, or regenerate this answer to see it stream again.

            """
    }

    /// The writer's answer cut into pieces of about a line or 48 characters, ending at a space or a newline.
    static func writerChunks(for question: String) -> [String] {
        chunk(writerAnswer(to: question), size: 48)
    }

    static func chunk(_ text: String, size: Int) -> [String] {
        var chunks: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if character == "\n" || (character == " " && current.count >= size) {
                chunks.append(current)
                current = ""
            }
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    // MARK: operator

    static let toolName = "restart_service"
    static let toolArguments = #"{"host":"db-1","service":"backup"}"#
    static let approvalPrompt = "Restart backup on db-1?"

    static func toolCallText() -> String {
        "Calling `\(toolName)` with `\(toolArguments)`; this needs your approval first."
    }

    /// The JSON Schema of `restart_service`'s arguments (sent with the approval request; edited
    /// arguments must meet it).
    static let toolSchema =
        #"{"additionalProperties":false,"properties":{"host":{"minLength":1,"type":"string"},"service":{"minLength":1,"type":"string"}},"required":["host","service"],"type":"object"}"#

    /// The decisions the operator agent's approval offers: a tool call, so never `respond`.
    static let offeredDecisions: [Decision] = [.approve, .edit, .reject, .cancel]

    /// The decisions the operator agent's question offers: an answer, or withdrawing it. Nothing runs,
    /// so there is nothing to approve, edit or reject.
    static let questionDecisions: [Decision] = [.respond, .cancel]

    /// The prefix that makes the operator agent ask instead of proposing its tool call.
    static let questionPrefix = "ask:"

    /// The question the operator agent asks about `message`, or nil when it proposes its tool call.
    ///
    /// The rule: the message's first non-empty line, trimmed, starts with `ask:` (any case). The
    /// question is the rest of that line, trimmed (`What should I do next?` when it is empty).
    static func question(for message: String) -> String? {
        let line =
            message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty } ?? ""
        guard line.lowercased().hasPrefix(questionPrefix) else { return nil }
        let rest = line.dropFirst(questionPrefix.count).trimmingCharacters(in: .whitespaces)
        return rest.isEmpty ? "What should I do next?" : rest
    }

    /// What the operator decided, as the agent acts on it.
    enum Verdict: Sendable, Equatable {
        /// Run the tool with `arguments` (the proposal, or the operator's edit).
        case approved(arguments: String, edited: Bool)
        /// Do not run it; `reason` goes into the answer.
        case rejected(reason: String?)
        /// The request was withdrawn.
        case cancelled
        /// The operator answered the agent's question with `answer`.
        case responded(answer: String)
        /// The agent's question was withdrawn unanswered.
        case questionCancelled
    }

    /// The host and service named by (possibly edited) arguments.
    static func target(of arguments: String) -> (host: String, service: String) {
        let value = try? JSONValue(parsing: arguments)
        func text(_ key: String, _ fallback: String) -> String {
            if case let .string(found)? = value?[key] { found } else { fallback }
        }
        return (text("host", "db-1"), text("service", "backup"))
    }

    /// Why `arguments` cannot be run (not JSON, not an object, not the tool's schema), or nil.
    static func problem(with arguments: String) -> String? {
        let value: JSONValue
        do { value = try JSONValue(parsing: arguments) } catch {
            return "the arguments are not JSON: \(error.reason)"
        }
        guard let schema = try? JSONValue(parsing: toolSchema) else { return nil }
        let problems = ArgumentSchema.problems(value, schema: schema)
        return problems.isEmpty ? nil : "the arguments do not fit \(toolName): " + problems.joined(separator: "; ")
    }

    static func toolResult(arguments: String = toolArguments) -> String {
        let (host, service) = target(of: arguments)
        return "\(service) restarted on \(host) (demo: nothing was actually restarted)"
    }

    static func outcome(_ verdict: Verdict, note: String?) -> String {
        let noted = note.map { $0.isEmpty ? "" : "\n\nYour note: \($0)" } ?? ""
        switch verdict {
        case let .approved(arguments, edited):
            let (host, service) = target(of: arguments)
            let how = edited ? " with the arguments you edited" : ""
            return "Done: I restarted `\(service)` on `\(host)`\(how), and it reports healthy. (This is the reference "
                + "runtime's demo operator; nothing was actually restarted.)" + noted
        case let .rejected(reason):
            let why = reason.map { $0.isEmpty ? "" : " Your reason: \($0)" } ?? ""
            return "I did not restart `backup` on `db-1`: you rejected the request. Nothing was changed.\(why)"
        case .cancelled:
            return cancelledOutcome()
        case let .responded(answer):
            return respondedOutcome(answer)
        case .questionCancelled:
            return questionCancelledOutcome()
        }
    }

    /// The answer once the operator responded to the question: it quotes the response.
    static func respondedOutcome(_ answer: String) -> String {
        "You answered: \(answer)\n\nThank you; I will go on with that. (This is the reference runtime's demo "
            + "operator; nothing was changed.)"
    }

    /// The answer when the question was withdrawn.
    static func questionCancelledOutcome() -> String {
        "The question was withdrawn, so nothing was answered and nothing was changed."
    }

    /// The answer when the request was withdrawn (the run was aborted while it waited).
    static func cancelledOutcome() -> String {
        "The request to restart `backup` on `db-1` was withdrawn, so nothing was changed."
    }
}
