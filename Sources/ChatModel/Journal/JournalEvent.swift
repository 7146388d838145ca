/// Who caused a journal event.
public enum Actor: String, Sendable, Hashable, CaseIterable {
    /// The daemon, on its own (detection, delivery, retries).
    case daemon
    /// The operator, through a file or a CLI command.
    case `operator`
    /// The runtime (a reply, a tool call, an approval request).
    case runtime
}

/// A decision on an approval request (docs/format.md §6.4).
///
/// - `approve`: the tool runs with the proposed arguments.
/// - `edit`: the tool runs with the arguments the operator wrote instead (a full replacement).
/// - `reject`: the tool does not run; the reason, if any, goes to the model.
/// - `respond`: the operator's text is the answer (only for questions and input requests, never for a
///   tool call, whose result it would pretend to be).
/// - `cancel`: the request is withdrawn (AG-UI `status: "cancelled"`); the only decision left once it expired.
public enum Decision: String, Sendable, Hashable, CaseIterable {
    case approve, edit, reject, respond, cancel

    /// The decisions a request offers when the runtime says nothing more: approve and reject, and cancel.
    public static let basic: [Decision] = [.approve, .reject, .cancel]

    /// The list as journaled and written in front matter (`approve,edit,reject`).
    public static func list(_ decisions: [Decision]) -> String {
        decisions.map(\.rawValue).joined(separator: ",")
    }

    /// Parses `list(_:)`; unknown names are dropped, so a newer journal still reads.
    public static func parseList(_ text: String) -> [Decision] {
        text.split(separator: ",").compactMap { Decision(rawValue: String($0).trimmingWhitespace) }
    }
}

/// One thing that happened, as recorded in a journal (docs/format.md §7.4).
///
/// Each case carries exactly the fields its line must have; `JournalEvent+Fields.swift` maps cases to
/// and from the flat line format.
public enum JournalEvent: Sendable, Hashable {
    // Messages
    case detected(message: String, file: String, sha256: String)
    case accepted(message: String, requestID: String, agent: String, sha256: String)
    case rejected(file: String, reason: String, sha256: String?)
    case attempt(message: String, requestID: String, attempt: Int)
    case sent(message: String, requestID: String, attempt: Int, runtimeID: String)
    case retryScheduled(message: String, attempt: Int, reason: String, notBefore: Timestamp)
    case failed(message: String, reason: String, attempt: Int?)
    case retryRequested(message: String)
    case editedAfterSend(message: String, file: String, sha256: String)
    case remoteMessage(message: String, file: String, runtimeID: String)
    case threadBound(runtimeThreadID: String)

    // Runs
    case replyStarted(run: String, message: String, file: String, agent: String, runtimeID: String?)
    case replyCompleted(run: String, file: String, sha256: String, detail: String?)
    case replyAborted(run: String, file: String, reason: String)
    case replyErrored(run: String, file: String, reason: String)
    case toolCall(run: String, toolCall: String, tool: String, file: String, status: String, runtimeID: String?)
    case state(run: String, detail: String)
    case custom(run: String, detail: String)

    // Approvals
    /// `decisions` are the ones offered; `expiresAt` when it can only be cancelled; `schema` the JSON
    /// Schema edited arguments must meet; `argumentsSHA256` the digest of the proposed arguments'
    /// canonical JSON (an edit must differ from it).
    case approvalRequested(
        approval: String, run: String, file: String, toolCall: String?, tool: String?, runtimeID: String?,
        decisions: [Decision] = Decision.basic, expiresAt: Timestamp? = nil, schema: String? = nil,
        argumentsSHA256: String? = nil)
    /// `arguments` is the edited arguments' JSON (decision `edit`); `note` the reason (reject), the
    /// text (respond) or a note (approve).
    case approvalAnswered(
        approval: String, decision: Decision, note: String?, file: String?, arguments: String? = nil)
    case approvalAnswerInvalid(approval: String, reason: String)
    case approvalEditedAfterAnswer(approval: String, sha256: String)
    case approvalSent(approval: String, runtimeID: String?)
    /// The request's `expires_at` passed unanswered: from now on it can only be cancelled.
    case approvalExpired(approval: String)

    // Controls
    case regenerateRequested(message: String)
    /// A regenerate request that the runtime refused for good (the old answers stay).
    case regenerateFailed(message: String, reason: String)
    case abortRequested(run: String)
    case control(file: String, outcome: Outcome, reason: String?, detail: String?)

    // Daemon (inbox journal)
    case inboxCreated(detail: String)
    /// The agents the runtimes offer (JSON array of `{id, name, scopes, runtime}`), journaled when they change.
    case agentsListed(detail: String)
    case daemonStarted(detail: String)
    case daemonStopped(reason: String?)
    case config(detail: String)
    case authFailed(reason: String)
    case authRecovered
    case runtimeDegraded(reason: String)
    case runtimeRecovered
    case journalRepaired(bytes: Int, sha256: String, file: String)
    /// The heads of the thread journals a group commit wrote (inbox journal only): each thread's line
    /// count and last hash, so `audit verify` sees a cut tail, a deleted or replaced journal and a
    /// rewritten, rehashed suffix (docs/format.md §7.3).
    case anchor(heads: [JournalHead])

    /// The result of an action.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        case ok, error, ignored
    }

    /// The event's name in the journal.
    public var name: String { Self.names[kindIndex] }

    /// Every event name this version knows, in the order of `kindIndex`.
    static let names = [
        "detected", "accepted", "rejected", "attempt", "sent", "retry_scheduled", "failed", "retry_requested",
        "edited_after_send", "remote_message", "thread_bound", "reply_started", "reply_completed", "reply_aborted",
        "reply_errored", "tool_call", "state", "custom", "approval_requested", "approval_answered",
        "approval_answer_invalid", "approval_edited_after_answer", "approval_sent", "regenerate_requested",
        "abort_requested", "control", "daemon_started", "daemon_stopped", "config", "auth_failed", "auth_recovered",
        "runtime_degraded", "runtime_recovered", "journal_repaired", "inbox_created", "agents_listed",
        "regenerate_failed", "anchor", "approval_expired",
    ]

    var kindIndex: Int {
        switch self {
        case .detected: 0
        case .accepted: 1
        case .rejected: 2
        case .attempt: 3
        case .sent: 4
        case .retryScheduled: 5
        case .failed: 6
        case .retryRequested: 7
        case .editedAfterSend: 8
        case .remoteMessage: 9
        case .threadBound: 10
        case .replyStarted: 11
        case .replyCompleted: 12
        case .replyAborted: 13
        case .replyErrored: 14
        case .toolCall: 15
        case .state: 16
        case .custom: 17
        case .approvalRequested: 18
        case .approvalAnswered: 19
        case .approvalAnswerInvalid: 20
        case .approvalEditedAfterAnswer: 21
        case .approvalSent: 22
        case .regenerateRequested: 23
        case .abortRequested: 24
        case .control: 25
        case .daemonStarted: 26
        case .daemonStopped: 27
        case .config: 28
        case .authFailed: 29
        case .authRecovered: 30
        case .runtimeDegraded: 31
        case .runtimeRecovered: 32
        case .journalRepaired: 33
        case .inboxCreated: 34
        case .agentsListed: 35
        case .regenerateFailed: 36
        case .anchor: 37
        case .approvalExpired: 38
        }
    }

    /// The message, run, approval or file the event is about (the line's `target`).
    public var target: String? {
        switch self {
        case let .detected(message, _, _), let .accepted(message, _, _, _), let .attempt(message, _, _),
            let .sent(message, _, _, _), let .retryScheduled(message, _, _, _), let .failed(message, _, _),
            let .retryRequested(message), let .editedAfterSend(message, _, _), let .remoteMessage(message, _, _),
            let .regenerateRequested(message), let .regenerateFailed(message, _):
            message
        case let .rejected(file, _, _), let .control(file, _, _, _): file
        case let .threadBound(id): id
        case let .replyStarted(run, _, _, _, _), let .replyCompleted(run, _, _, _), let .replyAborted(run, _, _),
            let .replyErrored(run, _, _), let .toolCall(run, _, _, _, _, _), let .state(run, _), let .custom(run, _),
            let .abortRequested(run):
            run
        case let .approvalRequested(approval, _, _, _, _, _, _, _, _, _), let .approvalAnswered(approval, _, _, _, _),
            let .approvalAnswerInvalid(approval, _), let .approvalEditedAfterAnswer(approval, _),
            let .approvalSent(approval, _), let .approvalExpired(approval):
            approval
        case .journalRepaired: FileClassifier.journalName
        case .inboxCreated, .agentsListed, .daemonStarted, .daemonStopped, .config, .authFailed, .authRecovered,
            .runtimeDegraded, .runtimeRecovered, .anchor:
            nil
        }
    }
}

/// Where a thread journal ended when an `anchor` line recorded it: its line count and last hash.
public struct JournalHead: Sendable, Hashable {
    /// The thread whose journal this is.
    public var thread: String
    /// The journal's last line number (its `seq`).
    public var seq: Int
    /// That line's `hash`.
    public var hash: String

    public init(thread: String, seq: Int, hash: String) {
        self.thread = thread
        self.seq = seq
        self.hash = hash
    }

    /// The `detail` of an `anchor` line: a canonical JSON object from thread id to `"SEQ:HASH"`, keys sorted.
    static func detail(_ heads: [JournalHead]) -> String {
        let fields = heads.sorted { $0.thread.utf8.lexicographicallyPrecedes($1.thread.utf8) }
            .map { ($0.thread, CanonicalJSON.Value.string("\($0.seq):\($0.hash)")) }
        return String(decoding: CanonicalJSON.encode(fields), as: UTF8.self)
    }

    /// The heads in an `anchor` line's `detail`; nil when it is not exactly what `detail(_:)` writes.
    static func heads(detail: String) -> [JournalHead]? {
        var heads: [JournalHead] = []
        do throws(CanonicalJSON.DecodingError) {
            try CanonicalJSON.decodeObject(Array(detail.utf8)) { (key, value) throws(CanonicalJSON.DecodingError) in
                guard case let .string(text) = value, let colon = text.firstIndex(of: ":"),
                    let seq = Int(text[..<colon]), seq > 0, Names.isValidThreadName(key)
                else { throw CanonicalJSON.DecodingError(message: "not SEQ:HASH", offset: 0) }
                let hash = String(text[text.index(after: colon)...])
                guard hash.utf8.count == 64, hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
                else { throw CanonicalJSON.DecodingError(message: "not a SHA-256", offset: 0) }
                heads.append(JournalHead(thread: key, seq: seq, hash: hash))
            }
        } catch {
            return nil
        }
        guard !heads.isEmpty, Self.detail(heads) == detail else { return nil }
        return heads
    }
}

/// One line of a journal: an event with its place in the chain.
public struct JournalEntry: Sendable, Hashable {
    /// 1, 2, 3, ... within the file.
    public var seq: Int
    /// When it happened.
    public var ts: Timestamp
    /// Who caused it.
    public var actor: Actor
    /// What happened.
    public var event: JournalEvent
    /// The hash of the previous line (64 zeros on line 1).
    public var prev: String
    /// The SHA-256 of this line's canonical encoding without `hash`.
    public var hash: String

    public init(seq: Int, ts: Timestamp, actor: Actor, event: JournalEvent, prev: String, hash: String) {
        self.seq = seq
        self.ts = ts
        self.actor = actor
        self.event = event
        self.prev = prev
        self.hash = hash
    }
}
