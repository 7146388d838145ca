import ChatModel
import Foundation
import InboxStore

/// The thread page's context: every message in order with its delivery history and its answers.
struct ThreadPage {
    let content: ThreadContent
    let renderer: MarkdownRenderer
    let strings: [String: String]
    let siteTitle: String

    var state: ThreadState { content.snapshot.state }

    /// The page's context, every message rendered through the `message` partial.
    func context() -> [String: Any] { context(messages: state.messages.map(message)) }

    /// The page's context with `messages` as the messages' contexts.
    func context(messages: [[String: Any]]) -> [String: Any] {
        let snapshot = content.snapshot
        let refreshing = state.activeRun != nil
        var context = Page.base(
            title: snapshot.title, siteTitle: siteTitle, root: "../", nav: "threads", strings: strings,
            refresh: refreshing ? 2 : nil, feed: "\(Page.segment(snapshot.id)).xml")
        var problems: [String] = []
        if let error = snapshot.journalError { problems.append(error.description) }
        if let error = snapshot.metaError { problems.append(error.description) }
        var thread: [String: Any] = [
            "title": snapshot.title, "agent": snapshot.meta.agent ?? strings["no_agent"] ?? "",
            "tags": snapshot.meta.tags,
            "feed": "\(Page.segment(snapshot.id)).xml", "refreshing": refreshing, "problems": problems,
        ]
        if !snapshot.meta.description.isEmpty { thread["description"] = renderer.html(snapshot.meta.description) }
        context["thread"] = thread
        context["messages"] = messages
        context["rejected"] = state.rejected.values.sorted { $0.file < $1.file }.map { rejected -> [String: Any] in
            ["file": rejected.file, "reason": rejected.reason, "at": Page.time(rejected.at)]
        }
        context["controls"] = state.controls.map { control -> [String: Any] in
            compact([
                "file": control.file, "outcome": control.outcome.rawValue, "reason": control.reason,
                "at": Page.time(control.at),
            ])
        }
        return context
    }

    /// Every message's section rendered on its own with the `message` template (reusing those in
    /// `cache` rendered from the same inputs), and its context with the section as `html`, for
    /// `Theme.threadAroundSections`. `cache`, if given, is left holding this thread's sections.
    func renderedMessages(theme: Theme, cache: MessageSectionCache?) -> [[String: Any]] {
        let thread = content.snapshot.id
        var sections: [String: MessageSectionCache.Section] = [:]
        let contexts = state.messages.map { message -> [String: Any] in
            let inputs = inputs(message)
            let section =
                cache?.section(thread: thread, message: message.id, inputs: inputs)
                ?? {
                    let context = self.message(message)
                    // The partial would find `strings` further down the context stack.
                    let html = theme.render("message", context.merging(["strings": strings]) { own, _ in own })
                    return MessageSectionCache.Section(inputs: inputs, context: context, html: html)
                }()
            sections[message.id] = section
            return section.context.merging(["html": section.html]) { own, _ in own }
        }
        cache?.store(thread: thread, sections: sections)
        return contexts
    }

    /// What `message(_:)` renders `message` from.
    func inputs(_ message: MessageState) -> MessageSectionCache.Inputs {
        let runs = state.runs(of: message)
        var files = [message.file]
        for run in runs {
            files.append(run.file)
            files += run.toolCalls.map(\.file)
            files += run.approvals.map(\.file)
        }
        var bodies: [String: String] = [:]
        for file in files { bodies[file] = content.bodies[file] }
        return MessageSectionCache.Inputs(
            message: message, runs: runs, fields: content.fields[message.file] ?? [:], bodies: bodies)
    }

    func message(_ message: MessageState) -> [String: Any] {
        let fields = content.fields[message.file] ?? [:]
        var role = "operator"
        var author = fields["author"]?.string ?? "operator"
        if case .remote = message.origin {
            role = fields["role"]?.string ?? "operator"
            author = fields["author"]?.string ?? role
        }
        var notes: [[String: String]] = []
        if message.notYetSeen { notes.append(["kind": "info", "text": strings["not_yet_seen"] ?? ""]) }
        for edit in message.edits {
            notes.append([
                "kind": "warning", "text": "\(strings["edited_after_send"] ?? "") (\(edit.at.shortDescription))",
            ])
        }
        if message.fileMissing { notes.append(["kind": "warning", "text": strings["file_deleted"] ?? ""]) }
        var detail: String?
        var attemptsOpen = false
        switch message.delivery {
        case let .failed(reason):
            detail = reason
            attemptsOpen = true
        case let .retrying(_, notBefore, reason):
            detail = "\(reason) (\(strings["next_attempt"] ?? "") \(notBefore.shortDescription))"
            attemptsOpen = true
        default: break
        }
        let runs = state.runs(of: message)
        return compact([
            "id": message.id, "file": message.file, "role": role, "author": author, "at": Page.time(message.detectedAt),
            "agent": message.agent, "state": message.delivery.name, "stateLabel": Page.label(message.delivery, strings),
            "stateDetail": detail, "notes": notes, "body": renderer.html(content.bodies[message.file] ?? ""),
            "attempts": message.attempts.map(attempt), "attemptCount": message.attempts.count,
            "attemptsOpen": attemptsOpen,
            "runs": runs.enumerated().map { index, run in self.run(run, index: index, of: runs.count) },
        ])
    }

    func attempt(_ attempt: AttemptRecord) -> [String: Any] {
        var outcome = strings["outcome_in_flight"] ?? ""
        var reason: String?
        var next: [String: Any]?
        switch attempt.outcome {
        case .sent: outcome = strings["outcome_sent"] ?? ""
        case let .retry(why, notBefore):
            outcome = strings["outcome_retry"] ?? ""
            reason = why
            next = Page.time(notBefore)
        case let .failed(why):
            outcome = strings["outcome_failed"] ?? ""
            reason = why
        case nil: break
        }
        return compact([
            "number": attempt.number, "at": Page.time(attempt.startedAt), "outcome": outcome, "reason": reason,
            "next": next,
        ])
    }

    func run(_ run: RunState, index: Int, of count: Int) -> [String: Any] {
        let answer = strings["answer"] ?? "Answer"
        let label = count > 1 ? "\(answer) \(index + 1) \(strings["of"] ?? "of") \(count)" : answer
        let body = content.bodies[run.file]
        let reply = ReplyBody(body ?? "")
        return compact([
            "id": String(run.file.dropLast(3)), "file": run.file, "label": label, "agent": run.agent,
            "endedAt": run.endedAt?.milliseconds,
            "at": Page.time(run.startedAt), "status": run.status.rawValue,
            "statusLabel": Page.label(run.status, strings),
            "reason": run.reason, "missing": body == nil, "body": renderer.html(reply.text),
            "reasoning": reply.reasoning.map(renderer.html),
            "toolCalls": run.toolCalls.map { call -> [String: Any] in
                [
                    "id": String(call.file.dropLast(3)), "tool": call.tool, "status": call.status,
                    "body": renderer.html(content.bodies[call.file] ?? ""),
                ]
            },
            "approvals": run.approvals.map { approval($0, runFinished: run.status.isFinished) },
            "usage": Self.usage(run.detail),
            "sharedState": run.sharedState,
            "events": run.customEvents,
        ])
    }

    /// The token counts the runtime reported (`usage` in the run's detail), as `prompt tokens 12 ·
    /// completion tokens 40`, in key order; nil when there are none. Other detail (such as the
    /// runtime's id for the reply) is bookkeeping, not for readers.
    static func usage(_ detail: String?) -> String? {
        struct Detail: Decodable { var usage: [String: Count]? }
        /// A whole number, or nil for anything else (nested details, flags).
        struct Count: Decodable {
            var value: Int?
            init(from decoder: any Decoder) throws { value = try? decoder.singleValueContainer().decode(Int.self) }
        }
        guard let detail, let usage = try? JSONDecoder().decode(Detail.self, from: Data(detail.utf8)).usage else {
            return nil
        }
        let counts = usage.keys.sorted().compactMap { key in
            usage[key]?.value.map { "\(key.replacingOccurrences(of: "_", with: " ")) \($0)" }
        }
        return counts.isEmpty ? nil : counts.joined(separator: " · ")
    }

    func approval(_ approval: ApprovalState, runFinished: Bool) -> [String: Any] {
        var context = compact([
            "id": approval.id, "file": approval.file, "tool": approval.tool,
            "pending": approval.isPending && !runFinished,
            "invalid": approval.invalidAnswers, "body": renderer.html(content.bodies[approval.file] ?? ""),
        ])
        if let answer = approval.answer {
            let label = answer.decision == .approve ? strings["approved"] : strings["rejected"]
            context["state"] = answer.decision == .approve ? "approved" : "rejected"
            context["stateLabel"] = label ?? ""
            context["answer"] = compact(["decisionLabel": label ?? "", "at": Page.time(answer.at), "note": answer.note])
        } else if runFinished {
            context["state"] = "closed"
            context["stateLabel"] = strings["approval_closed"] ?? ""
        } else {
            context["state"] = "pending"
            context["stateLabel"] = strings["run_awaiting_approval"] ?? ""
        }
        return context
    }
}
