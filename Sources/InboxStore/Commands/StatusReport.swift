import ChatModel

/// What `letterbox status` prints: delivery and run states from the journals, as text or JSON.
public struct StatusReport: Encodable, Sendable {
    public var inbox: String
    public var runtime: Runtime
    public var daemon: Daemon
    public var threads: [Thread]
    /// What waits on the operator, oldest first: approvals to decide and messages that failed for good.
    public var attention: [Attention]
    public var problems: [String]
    /// The delivery lease, when the inbox is shared through a git remote (docs/format.md §10.2).
    public var lease: Lease?

    /// Who delivers for an inbox shared through git.
    public struct Lease: Encodable, Sendable {
        public var holder: String
        public var host: String
        public var expires: String
        /// `live`, `expiring`, `lapsed` or `released`.
        public var state: String
        /// Whether this clone's daemon holds it.
        public var mine: Bool

        public init(holder: String, host: String, expires: String, state: String, mine: Bool) {
            (self.holder, self.host, self.expires, self.state, self.mine) = (holder, host, expires, state, mine)
        }
    }

    /// One thing that needs the operator (docs/daemon.md, "Attention").
    public struct Attention: Encodable, Sendable {
        public var thread: String
        /// The file to act on (the approval request, or the failed message).
        public var file: String
        /// `approval` or `failed`.
        public var kind: String
        public var reason: String
        public var since: String
    }

    public struct Runtime: Encodable, Sendable {
        public var state: String
        public var since: String?
        public var reason: String?
    }

    public struct Daemon: Encodable, Sendable {
        public var lastStarted: String?
        public var lastStopped: String?
        enum CodingKeys: String, CodingKey { case lastStarted = "last_started", lastStopped = "last_stopped" }
    }

    public struct Thread: Encodable, Sendable {
        public var id: String
        public var title: String
        public var agent: String?
        public var messages: [Message]
        public var pendingApprovals: [Approval]
        public var rejected: [Rejected]
        public var journalError: String?
        enum CodingKeys: String, CodingKey {
            case id, title, agent, messages, rejected
            case pendingApprovals = "pending_approvals", journalError = "journal_error"
        }
    }

    public struct Message: Encodable, Sendable {
        public var id: String
        public var file: String
        public var state: String
        public var reason: String?
        public var notBefore: String?
        public var attempts: Int
        public var seenByDaemon: Bool
        public var editedAfterSend: Bool
        public var fileMissing: Bool
        public var runs: [Run]
        enum CodingKeys: String, CodingKey {
            case id, file, state, reason, attempts, runs
            case notBefore = "not_before", seenByDaemon = "seen_by_daemon", editedAfterSend = "edited_after_send"
            case fileMissing = "file_missing"
        }
    }

    public struct Run: Encodable, Sendable {
        public var id: String
        public var file: String
        public var status: String
        public var reason: String?
    }

    public struct Approval: Encodable, Sendable {
        public var id: String
        public var file: String
        public var tool: String?
        /// The decisions offered (`approve`, `edit`, `reject`, `respond`, `cancel`); only `cancel` once expired.
        public var decisions: [String]
        public var expiresAt: String?
        public var expired: Bool
        enum CodingKeys: String, CodingKey {
            case id, file, tool, decisions, expired
            case expiresAt = "expires_at"
        }
    }

    public struct Rejected: Encodable, Sendable {
        public var file: String
        public var reason: String
    }

    /// Builds the report from a snapshot.
    public init(_ snapshot: InboxSnapshot, workspace: Workspace) {
        inbox = workspace.inbox
        switch snapshot.inbox.runtime {
        case .unknown: runtime = Runtime(state: "unknown")
        case .reachable: runtime = Runtime(state: "reachable")
        case let .degraded(since, reason):
            runtime = Runtime(state: "degraded", since: since.description, reason: reason)
        case let .authFailing(since, reason):
            runtime = Runtime(state: "auth_failing", since: since.description, reason: reason)
        }
        daemon = Daemon(
            lastStarted: snapshot.inbox.startedAt?.description, lastStopped: snapshot.inbox.stoppedAt?.description)
        threads = snapshot.threads.map { thread in
            let state = thread.state
            return Thread(
                id: thread.id, title: thread.title, agent: thread.meta.agent,
                messages: state.messages.map { message in
                    var reason: String?
                    var notBefore: String?
                    switch message.delivery {
                    case let .failed(why): reason = why
                    case let .retrying(_, at, why): reason = why; notBefore = at.description
                    default: break
                    }
                    return Message(
                        id: message.id, file: message.file, state: message.delivery.name, reason: reason,
                        notBefore: notBefore,
                        attempts: message.attempts.count, seenByDaemon: !message.notYetSeen,
                        editedAfterSend: !message.edits.isEmpty,
                        fileMissing: message.fileMissing,
                        runs: state.runs(of: message).map {
                            Run(id: $0.id, file: $0.file, status: $0.status.rawValue, reason: $0.reason)
                        })
                },
                pendingApprovals: state.pendingApprovals.map {
                    Approval(
                        id: $0.id, file: $0.file, tool: $0.tool, decisions: $0.decisionsNow.map(\.rawValue),
                        expiresAt: $0.expiresAt?.description, expired: $0.expired)
                },
                rejected: state.rejected.values.sorted { $0.file < $1.file }.map {
                    Rejected(file: $0.file, reason: $0.reason)
                },
                journalError: thread.journalError?.description)
        }
        attention = snapshot.threads.flatMap { thread in
            Self.attention(thread.state).map {
                Attention(
                    thread: thread.id, file: $0.file, kind: $0.kind, reason: $0.reason, since: $0.since.description)
            }
        }
        .sorted { ($0.since, $0.thread, $0.file) < ($1.since, $1.thread, $1.file) }
        problems =
            snapshot.rejectedRoot.map { "\(workspace.relative(workspace.inbox + "/" + $0.name)): \($0.reason)" }
            + (snapshot.inboxJournalError.map { [$0.description] } ?? [])
            + snapshot.inbox.threadProblems.map {
                "\(workspace.relative(workspace.inbox + "/" + $0.file)): \($0.reason)"
            }
            + snapshot.threads.compactMap { $0.metaError?.description }
    }

    /// What in a thread waits on the operator: each pending approval, each message failed for good.
    public static func attention(_ state: ThreadState) -> [(
        file: String, kind: String, reason: String, since: Timestamp
    )] {
        var items: [(file: String, kind: String, reason: String, since: Timestamp)] = []
        for approval in state.pendingApprovals {
            let what = approval.tool.map { "approval needed for \($0)" } ?? "approval needed"
            items.append(
                (
                    approval.file, "approval", approval.expired ? "\(what) (expired: cancel it)" : what,
                    approval.requestedAt
                ))
        }
        for message in state.messages {
            if case let .failed(why) = message.delivery {
                items.append((message.file, "failed", why, message.attempts.last?.startedAt ?? message.detectedAt))
            }
        }
        return items
    }

    /// The report as lines of text for a terminal. Everything that comes from a file (names, reasons)
    /// goes through `TerminalText.visible`, so it cannot act on the terminal.
    public func text(style: TextStyle) -> String {
        let v = TerminalText.visible
        var lines: [String] = []
        var runtimeLine = "runtime: \(runtime.state)"
        if let since = runtime.since { runtimeLine += " since \(since)" }
        if let reason = runtime.reason { runtimeLine += " (\(v(reason)))" }
        lines.append(runtimeLine)
        if let lease {
            lines.append(
                "lease: \(v(lease.holder))\(lease.mine ? " (this clone)" : "") on \(v(lease.host)), \(lease.state)"
                    + (lease.state == "live" ? " until \(lease.expires)" : ""))
        }
        for thread in threads {
            lines.append("")
            lines.append(
                style.bold(v(thread.id)) + (thread.title != thread.id ? "  \(v(thread.title))" : "")
                    + (thread.agent.map { "  agent: \(v($0))" } ?? ""))
            if thread.messages.isEmpty { lines.append("  (no messages)") }
            let width = min(40, thread.messages.map { v($0.id).count }.max() ?? 0)
            for message in thread.messages {
                var line =
                    "  " + v(message.id).padding(width) + "  "
                    + style.state(message.state).padding(style.isPlain ? 8 : 8 + style.stateOverhead)
                if !message.seenByDaemon { line += "  not yet seen by the daemon" }
                if let reason = message.reason { line += "  \(v(reason))" }
                if let notBefore = message.notBefore { line += " (next attempt \(notBefore))" }
                if let run = message.runs.last {
                    line += "  reply \(v(run.file)): \(run.status)" + (run.reason.map { " (\(v($0)))" } ?? "")
                }
                if message.editedAfterSend { line += "  [edited after send]" }
                if message.fileMissing { line += "  [file deleted]" }
                lines.append(line)
            }
            for approval in thread.pendingApprovals {
                lines.append(
                    "  awaiting approval: \(v(approval.file)) — tick a box, or run `letterbox approve \(v(thread.id)) \(v(approval.id))`"
                )
            }
            for rejected in thread.rejected { lines.append("  not sent: \(v(rejected.file)): \(v(rejected.reason))") }
            if let error = thread.journalError { lines.append("  journal problem: \(v(error))") }
        }
        for problem in problems { lines.append("problem: \(v(problem))") }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Terminal styling that honours `NO_COLOR` (https://no-color.org).
public struct TextStyle: Sendable {
    public var isPlain: Bool
    public init(plain: Bool) { isPlain = plain }

    var stateOverhead: Int { 9 }

    func bold(_ text: String) -> String { isPlain ? text : "\u{1B}[1m\(text)\u{1B}[0m" }

    func state(_ name: String) -> String {
        guard !isPlain else { return name }
        let color: String
        switch name {
        case "failed": color = "31"
        case "retrying", "sending": color = "33"
        case "replied", "sent": color = "32"
        default: color = "36"
        }
        return "\u{1B}[\(color)m\(name)\u{1B}[0m"
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
