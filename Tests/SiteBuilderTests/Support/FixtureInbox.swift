import ChatModel
import Foundation
import InboxStore

/// Lays down a real workspace on disk, thread by thread, the way the daemon would: message files,
/// daemon-written files and hash-chained journals, with a fixed clock so pages are reproducible.
final class FixtureInbox {
    let root: String
    let workspace: Workspace
    private var clock = Timestamp("2026-11-21T09:00:00.000Z")!
    private var journals: [String: JournalFile] = [:]

    init(title: String = "Letterbox") throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("lb-site-\(UUID().uuidString)").path
        try FileSystem.createDirectory(root + "/inbox")
        try Data("title: \(title)\n".utf8).write(to: URL(fileURLWithPath: root + "/letterbox.yaml"))
        workspace = try Workspace.locate(from: root)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// The next clock tick (one second later).
    func tick(_ seconds: Int64 = 1) -> Timestamp {
        clock = clock.adding(milliseconds: seconds * 1000)
        return clock
    }

    func thread(
        _ id: String, title: String? = nil, agent: String? = "assistant", tags: [String] = [], description: String = ""
    ) throws {
        try FileSystem.createDirectory(workspace.threadFolder(id))
        let meta = ThreadMeta(title: title, agent: agent, tags: tags, description: description)
        try write(id, "thread.md", meta.fileText)
    }

    func write(_ thread: String, _ name: String, _ text: String) throws {
        let path = workspace.threadFolder(thread) + "/" + name
        try FileSystem.createDirectory(Workspace.absolute("..", base: path))
        try DurableWriter.write(Array(text.utf8), to: path, mode: .replace)
        // Fixed mtimes keep "not yet seen" ordering and index times reproducible.
        var times = [
            timespec(tv_sec: Int(clock.milliseconds / 1000), tv_nsec: 0),
            timespec(tv_sec: Int(clock.milliseconds / 1000), tv_nsec: 0),
        ]
        utimensat(AT_FDCWD, path, &times, 0)
    }

    func journal(_ thread: String?, _ events: [(Actor, JournalEvent)]) throws {
        let path = thread.map { workspace.journalPath(thread: $0) } ?? workspace.inboxJournalPath
        let key = thread ?? ""
        if journals[key] == nil {
            journals[key] = try JournalFile.open(path: path, tornFolder: workspace.tornFolder, now: clock).journal
        }
        try journals[key]?.append(events.map { (tick(), $0.0, $0.1) })
    }

    /// Cuts `thread`'s journal back to its first `lines` lines, as a `git reset` that drops the daemon's
    /// last commits does; later lines chain on from there.
    func cutJournal(_ thread: String, toLines lines: Int) throws {
        let path = workspace.journalPath(thread: thread)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let ends = bytes.indices.filter { bytes[$0] == UInt8(ascii: "\n") }
        let keep = lines == 0 ? 0 : ends[min(lines, ends.count) - 1] + 1
        try Data(bytes[..<keep]).write(to: URL(fileURLWithPath: path))
        journals[thread] = nil
    }

    // MARK: Scenarios

    /// An operator message, detected and accepted.
    func message(_ thread: String, _ id: String, _ text: String, agent: String = "assistant") throws {
        try write(thread, "\(id).md", text)
        let sha = SHA256Hex.digest(Array(text.utf8))
        try journal(
            thread,
            [
                (.daemon, .detected(message: id, file: "\(id).md", sha256: sha)),
                (.daemon, .accepted(message: id, requestID: "\(thread)/\(id)#1", agent: agent, sha256: sha)),
            ])
    }

    func sent(_ thread: String, _ id: String, attempt: Int = 1) throws {
        try journal(
            thread,
            [
                (.daemon, .attempt(message: id, requestID: "\(thread)/\(id)#1", attempt: attempt)),
                (.daemon, .sent(message: id, requestID: "\(thread)/\(id)#1", attempt: attempt, runtimeID: "rt-\(id)")),
            ])
    }

    /// A reply file and its run; `status` nil leaves it streaming.
    func reply(
        _ thread: String, to id: String, index: Int = 1, text: String, status: RunStatus? = .complete,
        reason: String? = nil
    ) throws {
        let file = FileKind.replyID(message: id, index: index) + ".md"
        let run = "run-\(id)-\(index)"
        let created = tick()
        let daemonFile = DaemonFile(
            id: String(file.dropLast(3)), role: .assistant, agent: "assistant", inReplyTo: id, run: run,
            created: created,
            status: status?.rawValue ?? "streaming", body: text)
        try write(thread, file, daemonFile.text)
        try journal(
            thread,
            [
                (
                    .runtime,
                    .replyStarted(
                        run: run, message: id, file: file, agent: "assistant", runtimeID: "rt-r-\(id)-\(index)")
                )
            ])
        switch status {
        case .complete?:
            try journal(
                thread,
                [
                    (
                        .runtime,
                        .replyCompleted(
                            run: run, file: file, sha256: SHA256Hex.digest(daemonFile.text),
                            detail: #"{"runtime_id":"msg_9","usage":{"input_tokens":18,"output_tokens":42}}"#)
                    )
                ])
        case .aborted?:
            try journal(
                thread,
                [
                    (.operator, .abortRequested(run: run)),
                    (.daemon, .replyAborted(run: run, file: file, reason: reason ?? "aborted by the operator")),
                ])
        case .errored?:
            try journal(
                thread,
                [(.runtime, .replyErrored(run: run, file: file, reason: reason ?? "RUN_ERROR: model overloaded"))])
        default:
            break
        }
    }

    /// Builds a small inbox with every state the site shows.
    static func everyState() throws -> FixtureInbox {
        let inbox = try FixtureInbox()
        try inbox.journal(nil, [(.operator, .inboxCreated(detail: #"{"format":1}"#))])
        try inbox.journal(
            nil,
            [
                (.daemon, .daemonStarted(detail: #"{"pid":1,"version":"0.1.0"}"#)),
                (
                    .daemon,
                    .agentsListed(
                        detail:
                            #"[{"id":"assistant","name":"Assistant","scopes":["chat"],"runtime":"default"},{"id":"copilot","name":"Copilot","scopes":["copilot"],"runtime":"default"}]"#
                    )
                ),
            ])

        try inbox.thread("ops", title: "Operations", tags: ["infra", "nightly"], description: "Backups and *deploys*.")
        try inbox.message("ops", "backup", "Is the nightly **backup** healthy?\n\n- db-1\n- db-2\n")
        try inbox.sent("ops", "backup")
        try inbox.reply(
            "ops", to: "backup",
            text: "Yes. Both finished:\n\n| host | size |\n| --- | ---: |\n| db-1 | 4.2 GB |\n| db-2 | 3.9 GB |\n")
        try inbox.journal("ops", [(.operator, .regenerateRequested(message: "backup"))])
        try inbox.reply(
            "ops", to: "backup", index: 2,
            text: ReplyBody(
                text: "Regenerated: both backups completed at 02:14.",
                reasoning: "The first answer gave sizes; the question was whether they are **healthy**, so give times."
            ).markdown)
        try inbox.journal("ops", [(.daemon, .editedAfterSend(message: "backup", file: "backup.md", sha256: "0f"))])
        try inbox.message("ops", "restart", "Restart the backup service on db-1.", agent: "operator")
        try inbox.sent("ops", "restart")
        let run = "run-restart-1"
        let created = inbox.tick()
        try inbox.write(
            "ops", "restart.reply.md",
            DaemonFile(
                id: "restart.reply", role: .assistant, agent: "operator", inReplyTo: "restart", run: run,
                created: created, status: "streaming", body: "Checking the service…"
            ).text)
        try inbox.journal(
            "ops",
            [
                (
                    .runtime,
                    .replyStarted(
                        run: run, message: "restart", file: "restart.reply.md", agent: "operator", runtimeID: nil)
                )
            ])
        try inbox.write(
            "ops", "restart.reply.tool-1.md",
            DaemonFile(
                id: "restart.reply.tool-1", role: .tool, agent: "operator", inReplyTo: "restart", run: run,
                created: created, status: "pending", extra: [("tool", "restart_service")],
                body: DaemonFile.toolCallBody(
                    tool: "restart_service", arguments: #"{"service": "backup", "host": "db-1"}"#, result: nil)
            ).text)
        try inbox.journal(
            "ops",
            [
                (
                    .runtime,
                    .toolCall(
                        run: run, toolCall: "call-1", tool: "restart_service", file: "restart.reply.tool-1.md",
                        status: "pending", runtimeID: nil)
                )
            ])
        try inbox.write(
            "ops", "restart.reply.approval-1.md",
            DaemonFile(
                id: "restart.reply.approval-1", role: .approval, agent: "operator", inReplyTo: "restart", run: run,
                created: created, status: "pending",
                body: ApprovalForm.body(
                    prompt: "Restart backup on db-1?", tool: "restart_service",
                    arguments: #"{"service": "backup", "host": "db-1"}"#)
            ).text)
        try inbox.journal(
            "ops",
            [
                (
                    .runtime,
                    .approvalRequested(
                        approval: "restart.reply.approval-1", run: run, file: "restart.reply.approval-1.md",
                        toolCall: "call-1", tool: "restart_service", runtimeID: nil)
                )
            ])

        try inbox.thread("billing", title: "Billing questions", agent: "assistant")
        try inbox.message("billing", "invoice", "Why did the **invoice** double?")
        try inbox.journal(
            "billing",
            [
                (.daemon, .attempt(message: "invoice", requestID: "billing/invoice#1", attempt: 1)),
                (
                    .daemon,
                    .retryScheduled(
                        message: "invoice", attempt: 1, reason: "HTTP 503 Service Unavailable (Retry-After: 30 s)",
                        notBefore: Timestamp("2026-11-21T09:30:00.000Z")!)
                ),
            ])
        try inbox.message("billing", "refund", "---\nagent: refunds\n---\nPlease refund order 42.", agent: "refunds")
        try inbox.journal(
            "billing",
            [
                (
                    .daemon,
                    .failed(
                        message: "refund",
                        reason: "unknown agent 'refunds' (agents with the chat scope: assistant, operator, writer)",
                        attempt: nil)
                )
            ])
        try inbox.write("billing", "notes.txt", "not a message")
        try inbox.journal(
            "billing",
            [
                (
                    .daemon,
                    .rejected(
                        file: "notes.txt", reason: "only .md files are messages; rename it to end in .md to send it",
                        sha256: nil)
                )
            ])
        try inbox.write("billing", "later.md", "This one is still waiting for the daemon.")

        try inbox.thread("writing", title: "Release notes", agent: "writer")
        try inbox.message("writing", "draft-notes", "Draft release notes for 2.0.", agent: "writer")
        try inbox.sent("writing", "draft-notes")
        try inbox.reply("writing", to: "draft-notes", text: "## Release 2.0\n\nPartial text that was", status: .aborted)
        try inbox.message("writing", "again", "Try once more, shorter.", agent: "writer")
        try inbox.sent("writing", "again")
        try inbox.reply("writing", to: "again", text: "Partial", status: .errored)
        try inbox.write("writing", "controls/abort.md", "")
        try inbox.journal(
            "writing", [(.operator, .control(file: "controls/abort.md", outcome: .ok, reason: nil, detail: nil))])

        try inbox.thread("approvals", title: "Approved and rejected")
        for (id, decision) in [("deploy", Decision.approve), ("drop-table", Decision.reject)] {
            try inbox.message("approvals", id, "Please \(id).", agent: "operator")
            try inbox.sent("approvals", id)
            let run = "run-\(id)"
            let at = inbox.tick()
            try inbox.write(
                "approvals", "\(id).reply.md",
                DaemonFile(
                    id: "\(id).reply", role: .assistant, agent: "operator", inReplyTo: id, run: run, created: at,
                    status: "complete", body: decision == .approve ? "Done: \(id) ran." : "I did not run it."
                ).text)
            try inbox.write(
                "approvals", "\(id).reply.approval-1.md",
                DaemonFile(
                    id: "\(id).reply.approval-1", role: .approval, agent: "operator", inReplyTo: id, run: run,
                    created: at, status: "pending",
                    body: ApprovalForm.body(prompt: "Run \(id)?", tool: id, arguments: "{}").replacingOccurrences(
                        of: decision == .approve ? "- [ ] Approve" : "- [ ] Reject",
                        with: decision == .approve ? "- [x] Approve" : "- [x] Reject")
                ).text)
            try inbox.journal(
                "approvals",
                [
                    (
                        .runtime,
                        .replyStarted(run: run, message: id, file: "\(id).reply.md", agent: "operator", runtimeID: nil)
                    ),
                    (
                        .runtime,
                        .approvalRequested(
                            approval: "\(id).reply.approval-1", run: run, file: "\(id).reply.approval-1.md",
                            toolCall: "c-\(id)", tool: id, runtimeID: nil)
                    ),
                    (
                        .operator,
                        .approvalAnswered(
                            approval: "\(id).reply.approval-1", decision: decision,
                            note: decision == .reject ? "Not on a Friday." : nil, file: "\(id).reply.approval-1.md")
                    ),
                    (.daemon, .approvalSent(approval: "\(id).reply.approval-1", runtimeID: nil)),
                    (.runtime, .replyCompleted(run: run, file: "\(id).reply.md", sha256: "x", detail: nil)),
                ])
        }
        try inbox.journal(
            nil,
            [
                (.daemon, .runtimeDegraded(reason: "5 failures in a row: connection refused")),
                (.daemon, .runtimeRecovered),
                (.daemon, .runtimeDegraded(reason: "HTTP 503 from the runtime, 5 times in a row")),
            ])
        return inbox
    }
}
