import ChatModel
import Foundation
import InboxStore

/// Builds a thread page's typed views from the thread's content: every message in order with its
/// delivery history and its answers.
struct ThreadPage {
    let content: ThreadContent
    let renderer: MarkdownRenderer
    let strings: [String: String]
    let siteTitle: String
    /// Each file's change stamp, by name: a section is reused while the files it shows keep theirs.
    let stamps: [String: String]

    init(content: ThreadContent, renderer: MarkdownRenderer, strings: [String: String], siteTitle: String) {
        self.content = content
        self.renderer = renderer
        self.strings = strings
        self.siteTitle = siteTitle
        stamps = Dictionary(content.snapshot.files.map { ($0.name, $0.stamp) }, uniquingKeysWith: { a, _ in a })
    }

    var state: ThreadState { content.snapshot.state }

    /// The page with `messages` as its message sections' views (from `message(_:)` or a cache).
    func view(messages: [MessageView]) -> ThreadView {
        let snapshot = content.snapshot
        let refreshing = state.activeRun != nil
        let feed = "\(Page.segment(snapshot.id)).xml"
        var problems: [String] = []
        if let error = snapshot.journalError { problems.append(error.description) }
        if let error = snapshot.metaError { problems.append(error.description) }
        return ThreadView(
            frame: PageFrame(
                title: snapshot.title, siteTitle: siteTitle, root: "../", nav: .threads, refresh: refreshing ? 2 : nil,
                feed: feed),
            title: snapshot.title, agent: snapshot.meta.agent ?? strings["no_agent"] ?? "", tags: snapshot.meta.tags,
            feed: feed,
            description: snapshot.meta.description.isEmpty ? nil : renderer.html(snapshot.meta.description),
            refreshing: refreshing,
            attention: StatusReport.attention(state).map { item in
                let anchor = item.file.hasSuffix(".md") ? String(item.file.dropLast(3)) : item.file
                let badge = strings[item.kind == "approval" ? "badge_approval" : "badge_failed"] ?? item.kind
                return ThreadView.Attention(anchor: anchor, label: "\(badge): \(item.file)")
            },
            problems: problems, messages: messages,
            rejected: state.rejected.values.sorted { $0.file < $1.file }.map {
                ThreadView.Rejected(file: $0.file, reason: $0.reason, at: TimeView($0.at))
            },
            controls: state.controls.map {
                ThreadView.Control(file: $0.file, outcome: $0.outcome.rawValue, reason: $0.reason, at: TimeView($0.at))
            })
    }

    /// Every message's view and section, reusing those in `cache` built from the same inputs.
    /// `cache`, if given, is left holding this thread's sections.
    func sections(theme: Theme, cache: MessageSectionCache?) -> [MessageSectionCache.Section] {
        let thread = content.snapshot.id
        var kept: [String: MessageSectionCache.Section] = [:]
        let sections = state.messages.map { message -> MessageSectionCache.Section in
            let inputs = inputs(message)
            let section =
                cache?.section(thread: thread, message: message.id, inputs: inputs)
                ?? {
                    let view = self.message(message)
                    return MessageSectionCache.Section(inputs: inputs, view: view, html: theme.messageSection(view))
                }()
            kept[message.id] = section
            return section
        }
        cache?.store(thread: thread, sections: kept)
        return sections
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
        var stamps: [String: String] = [:]
        for file in files { stamps[file] = self.stamps[file] }
        return MessageSectionCache.Inputs(
            message: message, runs: runs, fields: content.fields[message.file] ?? [:], stamps: stamps)
    }

    func message(_ message: MessageState) -> MessageView {
        let fields = content.fields[message.file] ?? [:]
        var role = "operator"
        var author = fields["author"]?.string ?? "operator"
        if case .remote = message.origin {
            role = fields["role"]?.string ?? "operator"
            author = fields["author"]?.string ?? role
        }
        var notes: [MessageView.Note] = []
        if message.notYetSeen { notes.append(.init(kind: "info", text: strings["not_yet_seen"] ?? "")) }
        for edit in message.edits {
            notes.append(
                .init(kind: "warning", text: "\(strings["edited_after_send"] ?? "") (\(edit.at.shortDescription))"))
        }
        if message.fileMissing { notes.append(.init(kind: "warning", text: strings["file_deleted"] ?? "")) }
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
        return MessageView(
            id: message.id, file: message.file, role: role, author: author, at: TimeView(message.detectedAt),
            detectedAt: message.detectedAt.milliseconds, agent: message.agent, state: message.delivery.name,
            stateLabel: Page.label(message.delivery, strings), stateDetail: detail, notes: notes,
            body: renderer.html(content.bodies[message.file] ?? ""), attempts: message.attempts.map(attempt),
            attemptsOpen: attemptsOpen,
            runs: runs.enumerated().map { index, run in self.run(run, index: index, of: runs.count) })
    }

    func attempt(_ attempt: AttemptRecord) -> AttemptView {
        var outcome = strings["outcome_in_flight"] ?? ""
        var reason: String?
        var next: TimeView?
        switch attempt.outcome {
        case .sent: outcome = strings["outcome_sent"] ?? ""
        case let .retry(why, notBefore):
            outcome = strings["outcome_retry"] ?? ""
            reason = why
            next = TimeView(notBefore)
        case let .failed(why):
            outcome = strings["outcome_failed"] ?? ""
            reason = why
        case nil: break
        }
        return AttemptView(
            number: attempt.number, at: TimeView(attempt.startedAt), outcome: outcome, reason: reason, next: next)
    }

    func run(_ run: RunState, index: Int, of count: Int) -> RunView {
        let answer = strings["answer"] ?? "Answer"
        let label = count > 1 ? "\(answer) \(index + 1) \(strings["of"] ?? "of") \(count)" : answer
        let body = content.bodies[run.file]
        let reply = Self.reply(body ?? "")
        let records = RunRecords(run.customEvents)
        return RunView(
            id: String(run.file.dropLast(3)), file: run.file, label: label, agent: run.agent,
            endedAt: run.endedAt?.milliseconds, at: TimeView(run.startedAt), status: run.status.rawValue,
            statusLabel: Page.label(run.status, strings), reason: run.reason, missing: body == nil,
            body: renderer.html(reply.text), reasoning: reply.reasoning.map(renderer.html),
            toolCalls: run.toolCalls.map { call in
                let body = content.bodies[call.file] ?? ""
                let record = ToolRecord(body)
                return ToolCallView(
                    id: String(call.file.dropLast(3)), tool: call.tool,
                    status: Self.toolState(call, approval: run.approvals.first { $0.toolCall == call.id }, strings),
                    body: renderer.html(Self.prettyJSONBlocks(body)), subagent: records.subagentOfToolCall[call.id],
                    state: call.status, arguments: record.arguments, result: record.result)
            },
            approvals: run.approvals.map { approval($0, runFinished: run.status.isFinished) },
            usage: Self.usage(run.detail), sharedState: run.sharedState,
            subagents: records.subagents.map { subagent($0, run) },
            activities: records.activities.map { ActivityView(type: $0.type, content: $0.content) },
            events: records.events)
    }

    func subagent(_ record: RunRecords.Subagent, _ run: RunState) -> SubagentView {
        let tools = record.toolCalls.map { id in run.toolCalls.first { $0.id == id }?.tool ?? id }
        let error = record.error.map { error in record.code.map { "\(error) (\($0))" } ?? error }
        return SubagentView(
            id: record.id, name: record.name ?? record.id, status: record.status,
            statusLabel: strings["subagent_\(record.status)"] ?? record.status, description: record.description,
            via: record.parentToolCall.map { id in run.toolCalls.first { $0.id == id }?.tool ?? id },
            tools: tools.isEmpty ? nil : tools.joined(separator: ", "), error: error,
            body: record.text.map(renderer.html), result: record.result)
    }

    /// `ReplyBody(body)`, without its generic substring search when the marker's bytes are absent
    /// (nearly always; the search showed in profiles of full builds).
    static func reply(_ body: String) -> ReplyBody {
        var body = body
        let marker = Array(ReplyBody.reasoningMarker.utf8)
        let found = body.withUTF8 { bytes in
            guard bytes.count >= marker.count else { return false }
            for start in 0...(bytes.count - marker.count) where bytes[start] == marker[0] {
                if UnsafeBufferPointer(rebasing: bytes[start..<(start + marker.count)]).elementsEqual(marker) {
                    return true
                }
            }
            return false
        }
        return found ? ReplyBody(body) : ReplyBody(text: body.trimmingWhitespace, reasoning: nil)
    }

    /// The token counts the runtime reported (`usage` in the run's detail), as `prompt tokens 12 ·
    /// completion tokens 40`, in key order; nil when there are none. AG-UI 1.0's list of entries (one
    /// per provider and model) reads `peer-1: inputTokens 12 · outputTokens 30; …`. Other detail
    /// (such as the runtime's id for the reply) is bookkeeping, not for readers.
    static func usage(_ detail: String?) -> String? {
        if let entries = usageEntries(detail) { return entries }
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

    /// AG-UI 1.0's usage: a list of `TokenUsage` entries. Nil when the usage is not a list.
    static func usageEntries(_ detail: String?) -> String? {
        guard let detail, let object = try? JSONSerialization.jsonObject(with: Data(detail.utf8)) as? [String: Any],
            let entries = object["usage"] as? [[String: Any]]
        else { return nil }
        let lines = entries.compactMap { entry -> String? in
            let counts = entry.keys.sorted().compactMap { key -> String? in
                guard let number = entry[key] as? NSNumber, !(entry[key] is Bool) else { return nil }
                return "\(key) \(number.int64Value)"
            }
            guard !counts.isEmpty else { return nil }
            let label = [entry["provider"] as? String, entry["model"] as? String].compactMap { $0 }
                .joined(separator: " ")
            return (label.isEmpty ? "" : "\(label): ") + counts.joined(separator: " · ")
        }
        return lines.isEmpty ? nil : lines.joined(separator: "; ")
    }

    /// `markdown` with each fenced block that holds a JSON object or array indented (keys sorted), so
    /// arguments and results read as data rather than one long line. Other blocks are left alone.
    static func prettyJSONBlocks(_ markdown: String) -> String {
        guard markdown.contains("```") else { return markdown }
        var out: [String] = []
        var open: (fence: String, info: String, lines: [Substring])?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if var block = open {
                if line.hasPrefix(block.fence) && line.allSatisfy({ $0 == "`" }) {
                    let text = block.lines.joined(separator: "\n")
                    let first = text.first { !$0.isWhitespace }
                    if first == "{" || first == "[", let value = try? JSONValue(parsing: text) {
                        out.append(String(CodeFence.block(value.prettyText, language: block.info).dropLast()))
                    } else {
                        out.append(block.fence + block.info)
                        out += block.lines.map(String.init)
                        out.append(String(line))
                    }
                    open = nil
                } else {
                    block.lines.append(line)
                    open = block
                }
            } else if line.hasPrefix("```") {
                let fence = String(line.prefix { $0 == "`" })
                open = (fence, String(line.dropFirst(fence.count)), [])
            } else {
                out.append(String(line))
            }
        }
        if let block = open {
            out.append(block.fence + block.info)
            out += block.lines.map(String.init)
        }
        return out.joined(separator: "\n")
    }

    /// A tool call's state in words: done, waiting for its result or for approval, or why it never ran.
    static func toolState(_ call: ToolCallRecord, approval: ApprovalState?, _ strings: [String: String]) -> String {
        switch call.status {
        case "complete": return strings["tool_complete"] ?? "done"
        case "pending":
            if let approval, approval.isPending { return strings["tool_awaiting_approval"] ?? "waiting for approval" }
            return strings["tool_pending"] ?? "waiting for the result"
        case "not-run":
            switch approval?.answer?.decision {
            case .reject?: return strings["tool_rejected"] ?? "not run: rejected"
            case .cancel?: return strings["tool_cancelled"] ?? "not run: cancelled"
            default: return strings["tool_not_run"] ?? "not run"
            }
        default: return call.status
        }
    }

    func approval(_ approval: ApprovalState, runFinished: Bool) -> ApprovalView {
        // Reasons a save was not a decision matter only while it is still open: once decided, an old
        // "not an answer" warning would be stale.
        var view = ApprovalView(
            id: approval.id, file: approval.file, tool: approval.tool, pending: approval.isPending && !runFinished,
            invalid: approval.isPending && !runFinished ? Array(approval.invalidAnswers.suffix(1)) : [],
            body: renderer.html(content.bodies[approval.file] ?? ""),
            state: approval.expired ? "expired" : "pending",
            stateLabel: approval.expired
                ? (strings["approval_expired"] ?? "Expired: it can only be cancelled")
                : (strings["run_awaiting_approval"] ?? ""),
            answer: nil)
        if let answer = approval.answer {
            let state = approval.fileStatus
            let label = strings["approval_" + state] ?? approval.stateWords
            view.state = state
            view.stateLabel = label
            var note = answer.note
            if let arguments = answer.arguments {
                note = [note, "\(strings["edited_arguments"] ?? "arguments") \(arguments)"].compactMap { $0 }
                    .joined(separator: " · ")
            }
            if approval.ignoredEdits > 0 {
                let ignored = strings["edits_ignored"] ?? "later edits of the file were ignored"
                note = [note, "\(ignored) (\(approval.ignoredEdits))"].compactMap { $0 }.joined(separator: " · ")
            }
            view.answer = .init(decisionLabel: label, at: TimeView(answer.at), note: note)
        } else if runFinished {
            view.state = "closed"
            view.stateLabel = strings["approval_closed"] ?? ""
        }
        return view
    }
}
