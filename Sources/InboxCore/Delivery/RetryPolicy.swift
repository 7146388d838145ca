public import ChatModel

/// Backoff and the circuit breaker: pure decisions the delivery pipeline carries out.
///
/// Exponential backoff with full jitter (a random delay up to the capped exponential), never shorter
/// than the runtime's Retry-After. A transient failure is retried until the message is `maxAge` old
/// (as a mail queue keeps a message for days), or, only when configured, after `maxAttempts`.
public struct RetryPolicy: Sendable, Hashable {
    public var baseMilliseconds: Int
    public var maxMilliseconds: Int
    public var maxAgeMilliseconds: Int64
    public var maxAttempts: Int?

    public init(_ config: WorkspaceConfig.Retry) {
        baseMilliseconds = config.baseMilliseconds
        maxMilliseconds = config.maxMilliseconds
        maxAgeMilliseconds = Int64(config.maxAgeSeconds) * 1000
        maxAttempts = config.maxAttempts
    }

    /// What to do after attempt `attempt` failed transiently.
    public enum Decision: Sendable, Hashable {
        case retry(afterMilliseconds: Int64)
        case giveUp
    }

    /// The decision for attempt `attempt` (from 1) of a message `ageMilliseconds` old, a runtime hint
    /// in seconds, and `unit`, a random number in [0, 1) (injected so tests are exact).
    public func decide(attempt: Int, ageMilliseconds: Int64 = 0, retryAfterSeconds: Double?, unit: Double) -> Decision {
        if let maxAttempts, attempt >= maxAttempts { return .giveUp }
        guard ageMilliseconds < maxAgeMilliseconds else { return .giveUp }
        let exponent = min(attempt - 1, 30)
        let ceiling = min(Double(maxMilliseconds), Double(baseMilliseconds) * Double(1 << exponent))
        var delay = ceiling * min(max(unit, 0), 1)
        if let retryAfterSeconds { delay = max(delay, retryAfterSeconds * 1000) }
        return .retry(afterMilliseconds: Int64(delay.rounded(.up)))
    }
}

/// Turns many failures in a row into one "degraded" state and one recovery (docs/daemon.md).
public struct CircuitBreaker: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        case closed(failures: Int)
        /// Open until `until`; then one probe is let through.
        case opened(until: Timestamp)
        /// One probe is in flight.
        case probing
    }

    /// A change worth journaling.
    public enum Transition: Sendable, Hashable {
        case degraded
        case recovered
    }

    public private(set) var state: State = .closed(failures: 0)
    public let threshold: Int
    public let cooldownMilliseconds: Int64

    public init(_ config: WorkspaceConfig.Breaker) {
        threshold = config.failures
        cooldownMilliseconds = Int64(config.cooldownMilliseconds)
    }

    /// Whether a request may go out now; when open and cooled down, this lets one probe through.
    public mutating func allowsRequest(now: Timestamp) -> Bool {
        switch state {
        case .closed: return true
        case .probing: return false
        case let .opened(until):
            guard now >= until else { return false }
            state = .probing
            return true
        }
    }

    /// When an open breaker lets the next probe through.
    public var reopensAt: Timestamp? { if case let .opened(until) = state { until } else { nil } }

    public var isDegraded: Bool { if case .closed = state { false } else { true } }

    public mutating func recordSuccess() -> Transition? {
        let wasDegraded = isDegraded
        state = .closed(failures: 0)
        return wasDegraded ? .recovered : nil
    }

    public mutating func recordFailure(now: Timestamp) -> Transition? {
        switch state {
        case let .closed(failures):
            if failures + 1 >= threshold {
                state = .opened(until: now.adding(milliseconds: cooldownMilliseconds))
                return .degraded
            }
            state = .closed(failures: failures + 1)
            return nil
        case .probing, .opened:
            state = .opened(until: now.adding(milliseconds: cooldownMilliseconds))
            return nil
        }
    }
}

/// Parses HTTP `Retry-After`: delay-seconds or an HTTP-date (IMF-fixdate, e.g. `Wed, 21 Oct 2026 07:28:00 GMT`).
public enum RetryAfter {
    /// Seconds to wait from `now`, or nil when the value is neither form.
    public static func seconds(_ value: String, now: Timestamp) -> Double? {
        let trimmed = value.trimmingWhitespace
        if let seconds = Double(trimmed), seconds >= 0, seconds.isFinite { return seconds }
        guard let date = httpDate(trimmed) else { return nil }
        return max(0, Double(date.milliseconds - now.milliseconds) / 1000)
    }

    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ text: String) -> Timestamp? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]),
            let month = months.firstIndex(of: String(parts[2])), let year = Int(parts[3])
        else { return nil }
        let time = parts[4].split(separator: ":")
        guard time.count == 3, let hour = Int(time[0]), let minute = Int(time[1]), let second = Int(time[2]) else {
            return nil
        }
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let iso =
            "\(pad(year, 4))-\(pad(month + 1, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))Z"
        return Timestamp(iso)
    }
}
