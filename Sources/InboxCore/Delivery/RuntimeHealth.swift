public import ChatModel

/// A runtime's health: the circuit breaker, and a pause while it refuses the token.
public struct RuntimeHealth: Sendable, Hashable {
    public var breaker: CircuitBreaker
    /// Set while the runtime refuses the token: why, when to try again, and the backoff so far.
    public var authPause: AuthPause?
    /// One request is out to test the runtime again.
    public var probing = false
    /// The inbox journal says the runtime is degraded / refusing the token (an earlier daemon said so
    /// and nothing since said otherwise): the first success journals the recovery.
    public var journaledDegraded = false
    public var journaledAuthFailing = false

    /// A pause for a refused token.
    public struct AuthPause: Sendable, Hashable {
        public var reason: String
        /// When the first refusal of this pause came: a request sent before it proves nothing about
        /// the token now.
        public var since: Timestamp
        public var retryAt: Timestamp
        public var backoffMilliseconds: Int64

        public init(reason: String, since: Timestamp, retryAt: Timestamp, backoffMilliseconds: Int64) {
            self.reason = reason
            self.since = since
            self.retryAt = retryAt
            self.backoffMilliseconds = backoffMilliseconds
        }
    }

    public init(breaker: CircuitBreaker) { self.breaker = breaker }

    /// Whether a delivery may go out now. An open breaker or an auth pause lets one probe through when due.
    public mutating func allowsRequest(now: Timestamp) -> Bool {
        if let pause = authPause {
            guard !probing, now >= pause.retryAt else { return false }
            probing = true
            return true
        }
        return breaker.allowsRequest(now: now)
    }

    /// When a blocked runtime lets the next probe through.
    public var retryAt: Timestamp? { authPause?.retryAt ?? breaker.reopensAt }
}
