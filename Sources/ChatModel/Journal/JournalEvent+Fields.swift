/// The mapping between typed events and the flat fields of a journal line (docs/format.md §7.2).
extension JournalEvent {
    /// Every field name a version 1 line may hold.
    static let knownFields: Set<String> = [
        "seq", "ts", "actor", "event", "target", "outcome", "reason", "request_id", "attempt", "prev", "hash",
        "file", "sha256", "agent", "runtime_id", "run", "message", "not_before", "decision", "note", "tool",
        "tool_call", "status", "detail", "count", "bytes", "decisions", "expires_at", "schema", "arguments",
        "arguments_sha256",
    ]

    /// The event-specific fields of the line, `event` and `target` included.
    var fields: [(String, CanonicalJSON.Value)] {
        var out: [(String, CanonicalJSON.Value)] = [("event", .string(name))]
        func put(_ key: String, _ value: String?) { if let value { out.append((key, .string(value))) } }
        func put(_ key: String, _ value: Int?) { if let value { out.append((key, .int(value))) } }
        put("target", target)
        switch self {
        case let .detected(_, file, sha256):
            put("file", file); put("sha256", sha256)
        case let .accepted(_, requestID, agent, sha256):
            put("request_id", requestID); put("agent", agent); put("sha256", sha256)
        case let .rejected(_, reason, sha256):
            put("reason", reason); put("sha256", sha256)
        case let .attempt(_, requestID, attempt):
            put("request_id", requestID); put("attempt", attempt)
        case let .sent(_, requestID, attempt, runtimeID):
            put("request_id", requestID); put("attempt", attempt); put("runtime_id", runtimeID)
        case let .retryScheduled(_, attempt, reason, notBefore):
            put("attempt", attempt); put("reason", reason); put("not_before", notBefore.description)
        case let .failed(_, reason, attempt):
            put("reason", reason); put("attempt", attempt)
        case .retryRequested, .regenerateRequested, .abortRequested, .threadBound, .authRecovered, .runtimeRecovered,
            .approvalExpired:
            break
        case let .editedAfterSend(_, file, sha256):
            put("file", file); put("sha256", sha256)
        case let .remoteMessage(_, file, runtimeID):
            put("file", file); put("runtime_id", runtimeID)
        case let .replyStarted(_, message, file, agent, runtimeID):
            put("message", message); put("file", file); put("agent", agent); put("runtime_id", runtimeID)
        case let .replyCompleted(_, file, sha256, detail):
            put("file", file); put("sha256", sha256); put("detail", detail)
        case let .replyAborted(_, file, reason), let .replyErrored(_, file, reason):
            put("file", file); put("reason", reason)
        case let .toolCall(_, toolCall, tool, file, status, runtimeID):
            put("tool_call", toolCall); put("tool", tool); put("file", file); put("status", status)
            put("runtime_id", runtimeID)
        case let .state(_, detail), let .custom(_, detail), let .daemonStarted(detail), let .config(detail),
            let .inboxCreated(detail), let .agentsListed(detail):
            put("detail", detail)
        case let .approvalRequested(_, run, file, toolCall, tool, runtimeID, decisions, expiresAt, schema, digest):
            put("run", run); put("file", file); put("tool_call", toolCall); put("tool", tool)
            put("runtime_id", runtimeID)
            if decisions != Decision.basic { put("decisions", Decision.list(decisions)) }
            put("expires_at", expiresAt?.description); put("schema", schema); put("arguments_sha256", digest)
        case let .approvalAnswered(_, decision, note, file, arguments):
            put("decision", decision.rawValue); put("note", note); put("file", file); put("arguments", arguments)
        case let .approvalAnswerInvalid(_, reason), let .authFailed(reason), let .runtimeDegraded(reason),
            let .regenerateFailed(_, reason):
            put("reason", reason)
        case let .approvalEditedAfterAnswer(_, sha256):
            put("sha256", sha256)
        case let .approvalSent(_, runtimeID):
            put("runtime_id", runtimeID)
        case let .control(_, outcome, reason, detail):
            put("outcome", outcome.rawValue); put("reason", reason); put("detail", detail)
        case let .daemonStopped(reason):
            put("reason", reason)
        case let .journalRepaired(bytes, sha256, file):
            put("bytes", bytes); put("sha256", sha256); put("file", file)
        case let .anchor(heads):
            put("detail", JournalHead.detail(heads))
        }
        return out
    }

    /// Builds an event from a line's fields; throws naming the missing or malformed field.
    init(name: String, fields f: JournalFieldBag) throws(JournalFieldBag.Missing) {
        switch name {
        case "detected":
            self = .detected(
                message: try f.string("target"), file: try f.string("file"), sha256: try f.string("sha256"))
        case "accepted":
            self = .accepted(
                message: try f.string("target"), requestID: try f.string("request_id"), agent: try f.string("agent"),
                sha256: try f.string("sha256"))
        case "rejected":
            self = .rejected(
                file: try f.string("target"), reason: try f.string("reason"), sha256: f.optionalString("sha256"))
        case "attempt":
            self = .attempt(
                message: try f.string("target"), requestID: try f.string("request_id"), attempt: try f.int("attempt"))
        case "sent":
            self = .sent(
                message: try f.string("target"), requestID: try f.string("request_id"), attempt: try f.int("attempt"),
                runtimeID: try f.string("runtime_id"))
        case "retry_scheduled":
            guard let notBefore = Timestamp(try f.string("not_before")) else { throw .init(field: "not_before") }
            self = .retryScheduled(
                message: try f.string("target"), attempt: try f.int("attempt"), reason: try f.string("reason"),
                notBefore: notBefore)
        case "failed":
            self = .failed(
                message: try f.string("target"), reason: try f.string("reason"), attempt: f.optionalInt("attempt"))
        case "retry_requested":
            self = .retryRequested(message: try f.string("target"))
        case "edited_after_send":
            self = .editedAfterSend(
                message: try f.string("target"), file: try f.string("file"), sha256: try f.string("sha256"))
        case "remote_message":
            self = .remoteMessage(
                message: try f.string("target"), file: try f.string("file"), runtimeID: try f.string("runtime_id"))
        case "thread_bound":
            self = .threadBound(runtimeThreadID: try f.string("target"))
        case "reply_started":
            self = .replyStarted(
                run: try f.string("target"), message: try f.string("message"), file: try f.string("file"),
                agent: try f.string("agent"), runtimeID: f.optionalString("runtime_id"))
        case "reply_completed":
            self = .replyCompleted(
                run: try f.string("target"), file: try f.string("file"), sha256: try f.string("sha256"),
                detail: f.optionalString("detail"))
        case "reply_aborted":
            self = .replyAborted(
                run: try f.string("target"), file: try f.string("file"), reason: try f.string("reason"))
        case "reply_errored":
            self = .replyErrored(
                run: try f.string("target"), file: try f.string("file"), reason: try f.string("reason"))
        case "tool_call":
            self = .toolCall(
                run: try f.string("target"), toolCall: try f.string("tool_call"), tool: try f.string("tool"),
                file: try f.string("file"), status: try f.string("status"), runtimeID: f.optionalString("runtime_id"))
        case "state":
            self = .state(run: try f.string("target"), detail: try f.string("detail"))
        case "custom":
            self = .custom(run: try f.string("target"), detail: try f.string("detail"))
        case "approval_requested":
            var expiresAt: Timestamp?
            if let text = f.optionalString("expires_at") {
                guard let stamp = Timestamp(text) else { throw .init(field: "expires_at") }
                expiresAt = stamp
            }
            self = .approvalRequested(
                approval: try f.string("target"), run: try f.string("run"), file: try f.string("file"),
                toolCall: f.optionalString("tool_call"), tool: f.optionalString("tool"),
                runtimeID: f.optionalString("runtime_id"),
                decisions: f.optionalString("decisions").map(Decision.parseList) ?? Decision.basic,
                expiresAt: expiresAt,
                schema: f.optionalString("schema"), argumentsSHA256: f.optionalString("arguments_sha256"))
        case "approval_answered":
            guard let decision = Decision(rawValue: try f.string("decision")) else { throw .init(field: "decision") }
            self = .approvalAnswered(
                approval: try f.string("target"), decision: decision, note: f.optionalString("note"),
                file: f.optionalString("file"), arguments: f.optionalString("arguments"))
        case "approval_answer_invalid":
            self = .approvalAnswerInvalid(approval: try f.string("target"), reason: try f.string("reason"))
        case "approval_edited_after_answer":
            self = .approvalEditedAfterAnswer(approval: try f.string("target"), sha256: try f.string("sha256"))
        case "approval_expired":
            self = .approvalExpired(approval: try f.string("target"))
        case "approval_sent":
            self = .approvalSent(approval: try f.string("target"), runtimeID: f.optionalString("runtime_id"))
        case "regenerate_failed":
            self = .regenerateFailed(message: try f.string("target"), reason: try f.string("reason"))
        case "regenerate_requested":
            self = .regenerateRequested(message: try f.string("target"))
        case "abort_requested":
            self = .abortRequested(run: try f.string("target"))
        case "control":
            guard let outcome = Outcome(rawValue: try f.string("outcome")) else { throw .init(field: "outcome") }
            self = .control(
                file: try f.string("target"), outcome: outcome, reason: f.optionalString("reason"),
                detail: f.optionalString("detail"))
        case "agents_listed":
            self = .agentsListed(detail: try f.string("detail"))
        case "inbox_created":
            self = .inboxCreated(detail: try f.string("detail"))
        case "daemon_started":
            self = .daemonStarted(detail: try f.string("detail"))
        case "daemon_stopped":
            self = .daemonStopped(reason: f.optionalString("reason"))
        case "config":
            self = .config(detail: try f.string("detail"))
        case "auth_failed":
            self = .authFailed(reason: try f.string("reason"))
        case "auth_recovered":
            self = .authRecovered
        case "runtime_degraded":
            self = .runtimeDegraded(reason: try f.string("reason"))
        case "runtime_recovered":
            self = .runtimeRecovered
        case "journal_repaired":
            self = .journalRepaired(
                bytes: try f.int("bytes"), sha256: try f.string("sha256"), file: try f.string("file"))
        case "anchor":
            guard let heads = JournalHead.heads(detail: try f.string("detail")) else { throw .init(field: "detail") }
            self = .anchor(heads: heads)
        default:
            throw .init(field: "event", unknownEvent: name)
        }
    }
}

/// The fields of one decoded line, looked up by name.
struct JournalFieldBag {
    /// A required field that is missing or has the wrong type.
    struct Missing: Error {
        var field: String
        var unknownEvent: String? = nil
    }

    var pairs: [(String, CanonicalJSON.Value)] = []

    func value(_ key: String) -> CanonicalJSON.Value? {
        for pair in pairs where pair.0 == key { return pair.1 }
        return nil
    }

    func string(_ key: String) throws(Missing) -> String {
        guard case let .string(text)? = value(key) else { throw Missing(field: key) }
        return text
    }

    func int(_ key: String) throws(Missing) -> Int {
        guard case let .int(number)? = value(key) else { throw Missing(field: key) }
        return number
    }

    func optionalString(_ key: String) -> String? {
        if case let .string(text)? = value(key) { text } else { nil }
    }

    func optionalInt(_ key: String) -> Int? {
        if case let .int(number)? = value(key) { number } else { nil }
    }
}
