import ChatModel

/// What `letterbox status --check` tells a monitor: a level (its exit code) and one line saying why.
///
/// The levels, worst first (docs/operations.md, "Monitoring"):
/// - **down** (2): no daemon is running for this inbox: `.letterbox/daemon.json` is missing, says the
///   daemon stopped, or its heartbeat is older than three heartbeats (at least 15 s).
/// - **failing** (2): the daemon runs, but the runtime refuses its token, so nothing is delivered until
///   someone fixes the token.
/// - **degraded** (1): the daemon runs and delivers, but something needs a look: the runtime is failing
///   (the circuit breaker is open; messages wait and are retried), a message failed for good in the last
///   24 hours, or a thread stopped because its journal is damaged or was replaced.
/// - **ok** (0): none of these.
public struct HealthCheck: Sendable, Hashable {
    /// How bad it is; the raw value is the exit code.
    public enum Level: Int32, Sendable, Hashable, Comparable {
        case ok = 0
        case degraded = 1
        case down = 2

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    public var level: Level
    /// One line: the worst finding first, then the others after "; also ".
    public var line: String

    /// How long a failed message keeps the check degraded. Older failures are still listed by
    /// `letterbox status`, but no longer alert: a monitor should not stay red for a message someone
    /// chose not to retry.
    public static let failedWindowMilliseconds: Int64 = 24 * 3600 * 1000

    /// Judges `snapshot` and the daemon's heartbeat file at wall time `now` (milliseconds since 1970).
    public static func evaluate(_ snapshot: InboxSnapshot, daemon: DaemonStatus?, now: Int64) -> HealthCheck {
        var findings: [(level: Level, word: String, text: String)] = []

        // The daemon.
        var daemonUp = false
        if let daemon {
            let age = max(0, now - daemon.heartbeatAt)
            let stale = Int64(max(15, 3 * daemon.heartbeatSeconds)) * 1000
            if let stopped = daemon.stoppedAt {
                findings.append(
                    (
                        .down, "down",
                        "the daemon stopped at \(Timestamp(milliseconds: stopped)) (\(ago(now - stopped))); start it with `letterbox daemon`"
                    ))
            } else if age > stale {
                findings.append(
                    (
                        .down, "down",
                        "the daemon (pid \(daemon.pid)) has not written its heartbeat for \(span(age)) (it writes one every \(daemon.heartbeatSeconds) s): it was killed, crashed or hangs; restart it"
                    ))
            } else {
                daemonUp = true
            }
        } else if let started = snapshot.inbox.startedAt {
            findings.append(
                (
                    .down, "down",
                    "no daemon is running here (no .letterbox/daemon.json; the inbox journal's last start was at \(started)); start one with `letterbox daemon`"
                ))
        } else {
            findings.append(
                (
                    .down, "down",
                    "no daemon has run in this workspace (no .letterbox/daemon.json); start one with `letterbox daemon`"
                ))
        }

        // The runtime, as the daemon last saw it.
        let lastKnown = daemonUp ? "" : " (last known)"
        switch snapshot.inbox.runtime {
        case let .authFailing(since, reason):
            findings.append(
                (
                    .down, "failing",
                    "the runtime refuses the token since \(since)\(lastKnown): \(reason); nothing is delivered until the token is fixed"
                ))
        case let .degraded(since, reason):
            findings.append(
                (
                    .degraded, "degraded",
                    "the runtime is failing since \(since)\(lastKnown): \(reason); messages wait and are retried"
                ))
        case .unknown, .reachable:
            break
        }

        // Messages that failed for good, and threads that stopped.
        var recent: [String] = []
        var older = 0
        for thread in snapshot.threads {
            for message in thread.state.messages {
                guard case .failed = message.delivery else { continue }
                let failedAt =
                    thread.entries.last { entry in
                        if case let .failed(id, _, _) = entry.event { id == message.id } else { false }
                    }?.ts.milliseconds
                if let failedAt, now - failedAt > failedWindowMilliseconds {
                    older += 1
                } else {
                    recent.append("\(thread.id)/\(message.id)")
                }
            }
        }
        if !recent.isEmpty {
            let shown = recent.prefix(3).joined(separator: ", ") + (recent.count > 3 ? ", ..." : "")
            findings.append(
                (
                    .degraded, "degraded",
                    "\(recent.count) message\(recent.count == 1 ? "" : "s") failed for good in the last 24 h (\(shown)); `letterbox status` says why, `letterbox retry THREAD` sends again"
                ))
        }
        let stopped =
            snapshot.inbox.threadProblems.map { "\($0.file): \($0.reason)" }
            + snapshot.threads.compactMap { thread in thread.journalError.map { "\(thread.id): \($0.message)" } }
            + (snapshot.inboxJournalError.map { ["inbox journal: \($0.message)"] } ?? [])
        if let first = stopped.first {
            findings.append(
                (
                    .degraded, "degraded",
                    "\(stopped.count) journal problem\(stopped.count == 1 ? "" : "s") (\(first)); see `letterbox status`"
                ))
        }

        guard let worst = findings.max(by: { $0.level < $1.level }) else {
            let daemonText = daemon.map { "daemon pid \($0.pid) up, heartbeat \(ago(max(0, now - $0.heartbeatAt)))" }
            let runtimeText = snapshot.inbox.runtime == .unknown ? "runtime not asked yet" : "runtime reachable"
            let threads = snapshot.threads.count
            var line = "ok: \(daemonText ?? "daemon up"); \(runtimeText); \(threads) thread\(threads == 1 ? "" : "s")"
            if older > 0 { line += "; \(older) older failed message\(older == 1 ? "" : "s") (see `letterbox status`)" }
            return HealthCheck(level: .ok, line: line)
        }
        let others = findings.filter { $0.text != worst.text }.map(\.text)
        var line = "\(worst.word): \(worst.text)"
        if !others.isEmpty { line += "; also " + others.joined(separator: "; ") }
        return HealthCheck(level: worst.level, line: line)
    }

    /// "4 s", "12 min", "3 h", "5 days".
    static func span(_ milliseconds: Int64) -> String {
        let seconds = milliseconds / 1000
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        if seconds < 172_800 { return "\(seconds / 3600) h" }
        return "\(seconds / 86400) days"
    }

    /// "4 s ago".
    static func ago(_ milliseconds: Int64) -> String { span(milliseconds) + " ago" }
}
