import ChatModel
import Foundation
import InboxStore

/// The site's JSON read API: `api/chat/threads.json` and `api/chat/threads/ID/messages.json`, in the
/// shapes of the control plane's `GET /api/chat/threads` and `GET /api/chat/threads/:id/messages`
/// (docs/runtime-api.md), plus what Letterbox knows beyond them under `letterbox` (delivery states and
/// attempts, runs, files). Schemas: `SiteThreadList` and `SiteMessageList` in docs/openapi.yaml.
///
/// Written with keys in a fixed order and no whitespace, so the same inbox gives the same bytes.
enum ReadAPI {
    /// Where a thread's messages go, relative to the site.
    static func messagesPath(_ thread: String) -> String { "api/chat/threads/\(Page.segment(thread))/messages.json" }

    static let threadsPath = "api/chat/threads.json"

    /// Every thread, oldest first (by creation, then id), on one page. `item` gives a thread's entry
    /// (`threadItem`, or one kept from an earlier build).
    static func threads(_ summaries: [ThreadSummary], item: (ThreadSummary) -> [UInt8]) -> [UInt8] {
        let ordered = summaries.indices.sorted { i, j in
            let (x, y) = (summaries[i].createdAt ?? 0, summaries[j].createdAt ?? 0)
            return x != y ? x < y : summaries[i].id.utf8.lexicographicallyPrecedes(summaries[j].id.utf8)
        }
        var out: [UInt8] = Array("{\"threads\":[".utf8)
        for (position, index) in ordered.enumerated() {
            if position > 0 { out.append(UInt8(ascii: ",")) }
            out += item(summaries[index])
        }
        out += Array("],\"nextCursor\":null}".utf8)
        return out
    }

    /// One thread's entry in `threads.json`.
    static func threadItem(_ summary: ThreadSummary) -> [UInt8] {
        var j = JSONWriter()
        j.object { j in
            j.field("id", summary.id)
            j.field("title", summary.title)
            j.field("agentId", summary.agent ?? "")
            let created = summary.createdAt ?? summary.lastActivity ?? 0
            j.field("createdAt", Timestamp(milliseconds: created).description)
            j.field("updatedAt", Timestamp(milliseconds: summary.lastActivity ?? created).description)
            j.key("letterbox")
            j.object { j in
                j.field("page", "threads/\(Page.segment(summary.id)).html")
                j.field("messages", messagesPath(summary.id))
                j.field("messageCount", summary.messageCount)
                j.field("tags", summary.tags)
                j.field("queued", summary.queued)
                j.field("retrying", summary.retrying)
                j.field("failed", summary.failed)
                j.field("running", summary.running)
                j.field("awaitingApproval", summary.awaitingApproval)
                j.field("unreadReply", summary.unreadReply)
                j.field("rejectedFiles", summary.rejectedCount)
                j.field("problem", summary.problem)
            }
        }
        return j.bytes
    }

    /// One item of a thread as the control plane lists it. `write` runs only when `fragments` has no
    /// bytes for it at this `seq` and `updated` time.
    private struct Item {
        var seq: Int
        var id: String
        var updated: Timestamp
        var fragments: Fragments?
        var write: (inout JSONWriter) -> Void
    }

    /// The items of one message (it, its answers, their tool calls and approvals) as earlier builds
    /// wrote them, kept with the message's section (`MessageSectionCache`). A section is kept only
    /// while everything it is rendered from is unchanged, and that is everything an item shows but
    /// its `seq` and `updatedAt` (from the journal), which are compared before bytes are reused.
    final class Fragments {
        fileprivate var items: [String: (seq: Int, updated: Timestamp, bytes: [UInt8])] = [:]
    }

    /// A thread's messages, answers, tool calls and approvals, ordered by `seq`: the number of the
    /// journal line that last changed each (one past the journal for files the daemon has not seen).
    /// `fragments`, one per message when given, keeps each item's bytes for the next build.
    static func messages(_ content: ThreadContent, views: [MessageView], fragments: [Fragments]? = nil) -> [UInt8] {
        let snapshot = content.snapshot
        let thread = snapshot.id
        let anchors = content.journal.anchors
        var unseen = content.journal.lines
        func seq(_ anchor: String) -> Int {
            if let known = anchors[anchor]?.seq { return known }
            unseen += 1
            return unseen
        }
        let page = "threads/\(Page.segment(thread)).html#m-"
        var items: [Item] = []
        for (index, (message, view)) in zip(snapshot.state.messages, views).enumerated() {
            let kept = fragments?[index]
            let messageSeq = seq(message.id)
            let updated = anchors[message.id]?.at ?? message.detectedAt
            let status: String
            switch message.delivery {
            case .sent, .replied: status = "accepted"
            case .failed: status = "failed"
            case .queued, .sending, .retrying: status = "in_progress"
            }
            var role = view.role
            if !["operator", "assistant", "tool", "approval", "system"].contains(role) { role = "system" }
            items.append(
                Item(seq: messageSeq, id: message.id, updated: updated, fragments: kept) { j in
                    common(
                        &j, id: message.id, thread: thread, seq: messageSeq, role: role,
                        content: content.bodies[message.file] ?? "", created: message.detectedAt, updated: updated,
                        status: status, replyTo: nil)
                    j.key("letterbox")
                    j.object { j in
                        j.field("file", message.file)
                        j.field("page", page + message.id)
                        j.field("author", view.author)
                        j.field("agent", message.agent)
                        j.key("delivery")
                        j.object { j in
                            j.field("state", message.delivery.name)
                            switch message.delivery {
                            case let .failed(reason): j.field("reason", reason)
                            case let .retrying(_, notBefore, reason):
                                j.field("reason", reason)
                                j.field("nextAttempt", notBefore.description)
                            default: break
                            }
                            j.key("attempts")
                            j.array(message.attempts) { j, attempt in
                                j.object { j in
                                    j.field("number", attempt.number)
                                    j.field("startedAt", attempt.startedAt.description)
                                    switch attempt.outcome {
                                    case .sent: j.field("outcome", "sent")
                                    case let .retry(reason, notBefore):
                                        j.field("outcome", "retry")
                                        j.field("reason", reason)
                                        j.field("nextAttempt", notBefore.description)
                                    case let .failed(reason):
                                        j.field("outcome", "failed")
                                        j.field("reason", reason)
                                    case nil: j.field("outcome", "in_flight")
                                    }
                                }
                            }
                        }
                        j.field("editedAfterSend", !message.edits.isEmpty)
                        j.field("fileMissing", message.fileMissing)
                        j.field("notYetSeen", message.notYetSeen)
                    }
                })
            for (run, runView) in zip(snapshot.state.runs(of: message), view.runs) {
                let runSeq = seq(runView.id)
                let runUpdated = anchors[runView.id]?.at ?? run.endedAt ?? run.startedAt
                let status: String
                switch run.status {
                case .streaming, .awaitingApproval: status = "in_progress"
                case .complete: status = "complete"
                case .aborted: status = "aborted"
                case .errored: status = "failed"
                }
                items.append(
                    Item(seq: runSeq, id: runView.id, updated: runUpdated, fragments: kept) { j in
                        let reply = ThreadPage.reply(content.bodies[run.file] ?? "")
                        common(
                            &j, id: runView.id, thread: thread, seq: runSeq, role: "assistant", content: reply.text,
                            created: run.startedAt, updated: runUpdated, status: status, replyTo: message.id)
                        j.key("letterbox")
                        j.object { j in
                            j.field("file", run.file)
                            j.field("page", page + runView.id)
                            j.field("agent", run.agent)
                            j.key("run")
                            j.object { j in
                                j.field("id", run.id)
                                j.field("status", run.status.rawValue)
                                j.field("label", runView.label)
                                j.field("startedAt", run.startedAt.description)
                                j.field("endedAt", run.endedAt?.description)
                                j.field("reason", run.reason)
                                j.field("usage", runView.usage)
                            }
                            j.field("reasoning", reply.reasoning)
                            j.field("fileMissing", runView.missing)
                        }
                    })
                for call in run.toolCalls {
                    let id = String(call.file.dropLast(3))
                    let callSeq = seq(id)
                    let callUpdated = anchors[id]?.at ?? call.at
                    items.append(
                        Item(seq: callSeq, id: id, updated: callUpdated, fragments: kept) { j in
                            let body = content.bodies[call.file] ?? ""
                            let parts = ToolCallText(body)
                            common(
                                &j, id: id, thread: thread, seq: callSeq, role: "tool", content: body, created: call.at,
                                updated: callUpdated, status: toolStatus(call.status), replyTo: message.id,
                                toolCall: { j in
                                    j.object { j in
                                        j.field("id", call.id)
                                        j.field("name", call.tool)
                                        j.field("arguments", parts.arguments ?? "")
                                        j.field("result", parts.result)
                                    }
                                })
                            j.key("letterbox")
                            j.object { j in
                                j.field("file", call.file)
                                j.field("page", page + id)
                                j.field("runId", run.id)
                                j.field("status", call.status)
                            }
                        })
                }
                for approval in run.approvals {
                    let approvalSeq = seq(approval.id)
                    let approvalUpdated = anchors[approval.id]?.at ?? approval.requestedAt
                    let decided = approval.answer.map { answer in
                        switch answer.decision {
                        case .approve, .edit, .respond: "approved"
                        case .reject: "rejected"
                        case .cancel: "cancelled"
                        }
                    }
                    let state = decided ?? (run.status.isFinished ? "closed" : approval.expired ? "expired" : "pending")
                    items.append(
                        Item(seq: approvalSeq, id: approval.id, updated: approvalUpdated, fragments: kept) { j in
                            let body = content.bodies[approval.file] ?? ""
                            common(
                                &j, id: approval.id, thread: thread, seq: approvalSeq, role: "approval", content: body,
                                created: approval.requestedAt, updated: approvalUpdated,
                                status: decided != nil ? "complete" : state == "closed" ? "aborted" : "in_progress",
                                replyTo: message.id,
                                approval: { j in
                                    j.object { j in
                                        j.field("id", approval.id)
                                        j.field("toolCallId", approval.toolCall ?? "")
                                        j.field("prompt", prompt(body))
                                        j.field("status", decided ?? "pending")
                                    }
                                })
                            j.key("letterbox")
                            j.object { j in
                                j.field("file", approval.file)
                                j.field("page", page + approval.id)
                                j.field("runId", run.id)
                                j.field("tool", approval.tool)
                                j.field("state", state)
                                j.field("note", approval.answer?.note)
                                j.field("answeredAt", approval.answer?.at.description)
                                j.field("invalidAnswers", approval.invalidAnswers)
                            }
                        })
                }
            }
        }
        items.sort { $0.seq != $1.seq ? $0.seq < $1.seq : $0.id.utf8.lexicographicallyPrecedes($1.id.utf8) }
        var j = JSONWriter()
        j.object { j in
            j.key("messages")
            j.array(items) { j, item in
                if let kept = item.fragments?.items[item.id], kept.seq == item.seq, kept.updated == item.updated {
                    j.raw(kept.bytes)
                    return
                }
                var one = JSONWriter()
                one.object { j in item.write(&j) }
                item.fragments?.items[item.id] = (item.seq, item.updated, one.bytes)
                j.raw(one.bytes)
            }
        }
        return j.bytes
    }

    /// The fields every message has, in the control plane's order.
    private static func common(
        _ j: inout JSONWriter, id: String, thread: String, seq: Int, role: String, content: String, created: Timestamp,
        updated: Timestamp, status: String, replyTo: String?, toolCall: ((inout JSONWriter) -> Void)? = nil,
        approval: ((inout JSONWriter) -> Void)? = nil
    ) {
        j.field("id", id)
        j.field("threadId", thread)
        j.field("seq", seq)
        j.field("role", role)
        j.field("content", content)
        j.field("createdAt", created.description)
        j.field("updatedAt", max(created, updated).description)
        j.field("status", status)
        j.field("replyTo", replyTo)
        j.key("toolCall")
        if let toolCall { toolCall(&j) } else { j.null() }
        j.key("approval")
        if let approval { approval(&j) } else { j.null() }
    }

    /// A tool call file's status as the control plane's message status.
    static func toolStatus(_ status: String) -> String {
        switch status {
        case "complete", "completed", "done", "ok", "success": "complete"
        case "failed", "error", "errored": "failed"
        case "aborted", "cancelled", "canceled": "aborted"
        default: "in_progress"
        }
    }

    /// An approval request's prompt: the first paragraph of its file (`ApprovalForm.body`).
    static func prompt(_ body: String) -> String {
        let text = body.trimmingWhitespace
        guard let end = text.range(of: "\n\n") else { return text }
        return String(text[..<end.lowerBound])
    }
}

/// The arguments and result of a tool call file (`DaemonFile.toolCallBody`): the code blocks under
/// `### Arguments` and `### Result`.
struct ToolCallText {
    var arguments: String?
    var result: String?

    init(_ body: String) {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        arguments = Self.block(after: "### Arguments", in: lines)
        result = Self.block(after: "### Result", in: lines)
    }

    /// The content of the first fenced block after the heading `heading`.
    static func block(after heading: String, in lines: [Substring]) -> String? {
        guard let start = lines.firstIndex(where: { $0 == heading }) else { return nil }
        guard let open = lines[(start + 1)...].firstIndex(where: { $0.hasPrefix("```") || $0.hasPrefix("~~~") })
        else { return nil }
        let marker = lines[open].prefix { $0 == lines[open].first }
        var content: [Substring] = []
        for line in lines[(open + 1)...] {
            if line == marker { return content.joined(separator: "\n") }
            content.append(line)
        }
        return nil
    }
}

/// A small JSON writer: strings escaped as `CanonicalJSON` escapes them, plus U+2028/2029 and
/// `< > &` (so no value reads as markup anywhere), keys in the order they are written, no whitespace.
struct JSONWriter {
    var bytes: [UInt8] = []
    private var needsComma = false

    mutating func object(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func array<T>(_ values: [T], _ write: (inout JSONWriter, T) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        for value in values { write(&self, value) }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    mutating func key(_ name: String) {
        separate()
        SearchIndex.appendQuoted(name, markupSafe: true, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// A value written before, by another writer.
    mutating func raw(_ value: [UInt8]) {
        separate()
        bytes += value
        needsComma = true
    }

    mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    mutating func string(_ value: String) {
        separate()
        SearchIndex.appendQuoted(value, markupSafe: true, to: &bytes)
        needsComma = true
    }

    mutating func field(_ name: String, _ value: String?) {
        key(name)
        if let value { string(value) } else { null() }
    }

    mutating func field(_ name: String, _ value: Int) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    mutating func field(_ name: String, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    mutating func field(_ name: String, _ values: [String]) {
        key(name)
        array(values) { $0.string($1) }
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}
