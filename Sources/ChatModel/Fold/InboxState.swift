/// The daemon-level state: a pure fold of the inbox journal (docs/format.md §7.4).
public struct InboxState: Sendable, Hashable {
    /// How the runtime looks from the daemon.
    public enum RuntimeHealth: Sendable, Hashable {
        /// Nothing known yet (no daemon has run).
        case unknown
        /// Reachable and accepting the token.
        case reachable
        /// Failing repeatedly since `since`, for `reason`.
        case degraded(since: Timestamp, reason: String)
        /// Refusing the token since `since`; delivery is paused.
        case authFailing(since: Timestamp, reason: String)
    }

    public var runtime: RuntimeHealth = .unknown
    /// The agents the runtimes offered when last listed (JSON array), if any daemon listed them.
    public var agents: String?
    /// When `letterbox init` created the inbox.
    public var createdAt: Timestamp?
    /// What `inbox_created` recorded (JSON: the format version and the inbox's id).
    public var createdDetail: String?
    /// When the last daemon started, and with what (JSON detail).
    public var startedAt: Timestamp?
    public var startDetail: String?
    /// When the last daemon stopped cleanly; nil while it runs or if it was killed.
    public var stoppedAt: Timestamp?
    /// The effective configuration the daemon logged (JSON, no secrets).
    public var config: String?
    /// Rejected top-level entries by name.
    public var rejected: [String: RejectedFile] = [:]
    /// The last error the daemon journaled, and when.
    public var lastError: String?
    public var lastErrorAt: Timestamp?
    public var lastActivity: Timestamp?
    public var lastSeq = 0
    /// The last head each thread journal was anchored at (`anchor` lines), by thread.
    public var anchors: [String: JournalHead] = [:]
    /// Every degraded / auth period, oldest first: (start, end or nil, reason).
    public var incidents: [Incident] = []

    /// A period when the runtime was degraded or refused the token.
    public struct Incident: Sendable, Hashable {
        public var kind: String
        public var reason: String
        public var start: Timestamp
        public var end: Timestamp?
    }

    public init() {}

    /// Folds the inbox journal.
    public static func fold(_ entries: some Sequence<JournalEntry>) throws(FormatError) -> InboxState {
        var state = InboxState()
        for entry in entries { try state.apply(entry) }
        return state
    }

    /// Applies one inbox journal line.
    public mutating func apply(_ entry: JournalEntry) throws(FormatError) {
        guard entry.seq > lastSeq else {
            throw FormatError(.fold, "\(entry.event.name): seq \(entry.seq) is not after \(lastSeq)", line: entry.seq)
        }
        let ts = entry.ts
        switch entry.event {
        case let .inboxCreated(detail):
            createdAt = ts
            createdDetail = detail
        case let .agentsListed(detail):
            agents = detail
        case let .daemonStarted(detail):
            startedAt = ts
            startDetail = detail
            stoppedAt = nil
        case .daemonStopped:
            stoppedAt = ts
        case let .config(detail):
            config = detail
        case let .authFailed(reason):
            if case .authFailing = runtime {
            } else {
                runtime = .authFailing(since: ts, reason: reason)
                incidents.append(Incident(kind: "auth_failed", reason: reason, start: ts))
            }
            lastError = reason
            lastErrorAt = ts
        case .authRecovered:
            closeIncident(kind: "auth_failed", at: ts)
            runtime = .reachable
        case let .runtimeDegraded(reason):
            if case .degraded = runtime {
            } else {
                runtime = .degraded(since: ts, reason: reason)
                incidents.append(Incident(kind: "degraded", reason: reason, start: ts))
            }
            lastError = reason
            lastErrorAt = ts
        case .runtimeRecovered:
            closeIncident(kind: "degraded", at: ts)
            runtime = .reachable
        case let .rejected(file, reason, sha256):
            rejected[file] = RejectedFile(file: file, reason: reason, sha256: sha256, at: ts)
        case .journalRepaired:
            break
        case let .anchor(heads):
            for head in heads { anchors[head.thread] = head }
        default:
            throw FormatError(
                .fold, "\(entry.event.name) belongs in a thread journal, not the inbox journal", line: entry.seq)
        }
        if case .unknown = runtime, startedAt != nil { runtime = .reachable }
        lastSeq = entry.seq
        lastActivity = ts
    }

    /// Problems the running (or last) daemon reported about a thread as a whole, such as a journal
    /// replaced under it that no longer continues its history (`THREAD/journal.jsonl`): the inbox
    /// journal's rejections of paths inside threads since the last start. A restart clears them.
    public var threadProblems: [RejectedFile] {
        rejected.values.filter { problem in
            problem.file.contains("/") && startedAt.map { problem.at >= $0 } ?? true
        }.sorted { $0.file < $1.file }
    }

    private mutating func closeIncident(kind: String, at ts: Timestamp) {
        if let index = incidents.lastIndex(where: { $0.kind == kind && $0.end == nil }) { incidents[index].end = ts }
    }
}
