import ChatModel
import InboxCore
import Testing

@Suite("Delivery policy: backoff, Retry-After, the breaker, runtime health (pure, no IO)")
struct PolicyTests {
    static func policy(maxAttempts: Int? = nil) -> RetryPolicy {
        var config = WorkspaceConfig.Retry()
        config.baseMilliseconds = 500
        config.maxMilliseconds = 60_000
        config.maxAgeSeconds = 3600
        config.maxAttempts = maxAttempts
        return RetryPolicy(config)
    }

    @Test(
        "Full jitter: the delay is unit × min(max, base × 2^(attempt-1))",
        arguments: [
            (1, 0.0, 0), (1, 0.5, 250), (1, 0.999, 500), (2, 1.0, 1000), (3, 0.5, 1000), (8, 1.0, 60_000),
            (30, 0.25, 15_000),
        ])
    func jitter(attempt: Int, unit: Double, expected: Int64) {
        #expect(
            Self.policy().decide(attempt: attempt, retryAfterSeconds: nil, unit: unit)
                == .retry(afterMilliseconds: expected))
    }

    @Test("Retry-After is a floor, never shortened by jitter")
    func retryAfterFloor() {
        #expect(Self.policy().decide(attempt: 1, retryAfterSeconds: 3, unit: 0.1) == .retry(afterMilliseconds: 3000))
        #expect(Self.policy().decide(attempt: 8, retryAfterSeconds: 1, unit: 1) == .retry(afterMilliseconds: 60_000))
    }

    @Test("An outage never uses a message up: only its age (or a configured attempt cap) ends the retries")
    func age() {
        let policy = Self.policy()
        #expect(policy.decide(attempt: 500, ageMilliseconds: 3_599_999, retryAfterSeconds: nil, unit: 0.5) != .giveUp)
        #expect(policy.decide(attempt: 2, ageMilliseconds: 3_600_000, retryAfterSeconds: nil, unit: 0.5) == .giveUp)
        #expect(Self.policy(maxAttempts: 3).decide(attempt: 3, retryAfterSeconds: nil, unit: 0.5) == .giveUp)
        #expect(Self.policy(maxAttempts: 3).decide(attempt: 2, retryAfterSeconds: nil, unit: 0.5) != .giveUp)
    }

    @Test(
        "Retry-After in seconds and as an HTTP date",
        arguments: [
            ("120", 120.0), ("0", 0.0), (" 7 ", 7.0), ("Thu, 01 Jan 2026 00:00:30 GMT", 30.0),
            ("Thu, 01 Jan 2026 00:00:00 GMT", 0.0), ("Wed, 31 Dec 2025 23:00:00 GMT", 0.0),
        ])
    func retryAfter(value: String, seconds: Double) {
        let now = Timestamp("2026-01-01T00:00:00Z") ?? Timestamp(milliseconds: 0)
        #expect(RetryAfter.seconds(value, now: now) == seconds)
    }

    @Test(
        "Retry-After that is neither form is ignored", arguments: ["soon", "-5", "Thu, 01 Jan 2026 00:00:30 UTC", ""])
    func retryAfterGarbage(value: String) {
        #expect(RetryAfter.seconds(value, now: Timestamp(milliseconds: 0)) == nil)
    }

    @Test("The breaker opens after N failures in a row, lets one probe through after the cooldown, closes on success")
    func breaker() {
        var config = WorkspaceConfig.Breaker()
        config.failures = 3
        config.cooldownMilliseconds = 1000
        var breaker = CircuitBreaker(config)
        let t0 = Timestamp(milliseconds: 10_000)
        #expect(breaker.recordFailure(now: t0) == nil)
        #expect(breaker.recordFailure(now: t0) == nil)
        let allowed1 = breaker.allowsRequest(now: t0)
        #expect(allowed1)
        #expect(breaker.recordFailure(now: t0) == .degraded)
        let allowed2 = breaker.allowsRequest(now: t0.adding(milliseconds: 999))
        #expect(!allowed2)
        #expect(breaker.reopensAt == t0.adding(milliseconds: 1000))
        let allowed3 = breaker.allowsRequest(now: t0.adding(milliseconds: 1000))
        #expect(allowed3)  // the probe
        let allowed4 = breaker.allowsRequest(now: t0.adding(milliseconds: 1001))
        #expect(!allowed4)  // only one
        #expect(breaker.recordFailure(now: t0.adding(milliseconds: 1100)) == nil)  // open again, no second event
        #expect(breaker.reopensAt == t0.adding(milliseconds: 2100))
        let allowed5 = breaker.allowsRequest(now: t0.adding(milliseconds: 2100))
        #expect(allowed5)
        #expect(breaker.recordSuccess() == .recovered)
        #expect(breaker.recordSuccess() == nil)
        #expect(!breaker.isDegraded)
    }

    @Test("A success resets the count of failures in a row")
    func breakerReset() {
        var config = WorkspaceConfig.Breaker()
        config.failures = 2
        var breaker = CircuitBreaker(config)
        let t0 = Timestamp(milliseconds: 0)
        _ = breaker.recordFailure(now: t0)
        _ = breaker.recordSuccess()
        #expect(breaker.recordFailure(now: t0) == nil)
        #expect(breaker.recordFailure(now: t0) == .degraded)
    }

    @Test("An auth pause lets one probe through when due, and only one")
    func authPause() {
        var health = RuntimeHealth(breaker: CircuitBreaker(WorkspaceConfig.Breaker()))
        let t0 = Timestamp(milliseconds: 5000)
        health.authPause = RuntimeHealth.AuthPause(reason: "401", since: t0, retryAt: t0, backoffMilliseconds: 2000)
        let allowed6 = health.allowsRequest(now: t0.adding(milliseconds: -1))
        #expect(!allowed6)
        #expect(health.retryAt == t0)
        let allowed7 = health.allowsRequest(now: t0)
        #expect(allowed7)
        let allowed8 = health.allowsRequest(now: t0.adding(milliseconds: 10))
        #expect(!allowed8)
    }

    @Test("Details are compact JSON with sorted keys; a key's string is read back, escapes and all")
    func detailJSON() {
        let detail = DetailJSON.object([
            "runtime_id": .string("msg \"7\"\n"), "usage": .raw(#"{"tokens":3}"#),
            "a": .array([.int(1), .bool(true), .null]),
        ])
        #expect(detail.text == #"{"a":[1,true,null],"runtime_id":"msg \"7\"\n","usage":{"tokens":3}}"#)
        #expect(DetailJSON.string(in: detail.text, key: "runtime_id") == "msg \"7\"\n")
        #expect(DetailJSON.string(in: #"{"usage":{"runtime_id":"inner"},"x":1}"#, key: "runtime_id") == nil)
        #expect(DetailJSON.string(in: #"{"id": "abc"}"#, key: "id") == "abc")
    }
}
