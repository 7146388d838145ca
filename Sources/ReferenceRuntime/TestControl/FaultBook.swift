import ChatModel

/// Pending faults, seeded chaos, `Retry-After` deadlines and request counts: the mutable side of the test-control
/// API.
actor FaultBook {
    private var faults: [(fault: ReferenceFault, remaining: Int)] = []
    private var counts: [ReferenceRequestCount.Key: Int] = [:]
    private var chaos: ReferenceChaos?
    private var draws = SplitMix64(seed: 0)
    private var drawn = 0
    private var injected: [Int] = []
    /// Per idempotency key: the earliest time (milliseconds since 1970) the next request may come.
    private var notBefore: [String: Int64] = [:]
    private var afterRetryAfter = 0
    private var early: [ReferenceEarlyRequest] = []

    /// Appends faults, after checking all of them.
    func add(_ new: [ReferenceFault]) throws {
        for (index, fault) in new.enumerated() {
            if let problem = fault.problem {
                throw ReferenceRuntimeError(.invalidFault, "fault \(index + 1): \(problem)")
            }
        }
        faults += new.map { ($0, $0.count ?? 1) }
    }

    func clear() { faults.removeAll() }

    /// What is still pending, each with `count` set to the requests it has left.
    var pending: [ReferenceFault] {
        faults.map { entry in
            var fault = entry.fault
            fault.count = entry.remaining
            return fault
        }
    }

    /// Takes one use of the first fault matching the request; without one, draws from the chaos (if it matches).
    func take(method: String, path: String) -> ReferenceFault? {
        guard let index = faults.firstIndex(where: { $0.fault.matches(method: method, path: path) }) else {
            guard let chaos, chaos.matches(method: method, path: path) else { return nil }
            drawn += 1
            let roll = Double(draws.next() >> 11) / Double(1 << 53)
            let pick = Int(draws.next() % UInt64(chaos.faults.count))
            guard roll < chaos.rate else { return nil }
            injected[pick] += 1
            return chaos.faults[pick]
        }
        let fault = faults[index].fault
        faults[index].remaining -= 1
        if faults[index].remaining <= 0 { faults.remove(at: index) }
        return fault
    }

    func count(method: String, path: String) {
        counts[ReferenceRequestCount.Key(method: method, path: path), default: 0] += 1
    }

    /// Counts sorted by path, then method.
    var requestCounts: [ReferenceRequestCount] {
        counts.map { ReferenceRequestCount(method: $0.key.method, path: $0.key.path, count: $0.value) }
            .sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }

    func resetCounts() { counts.removeAll() }

    /// Replaces the chaos (nil: none) and starts its figures from zero.
    func setChaos(_ new: ReferenceChaos?) throws {
        if let problem = new?.problem { throw ReferenceRuntimeError(.invalidFault, "chaos: \(problem)") }
        chaos = new
        draws = SplitMix64(seed: new?.seed ?? 0)
        drawn = 0
        injected = Array(repeating: 0, count: new?.faults.count ?? 0)
    }

    /// Notes that an answer told `key` to wait until `until` (milliseconds since 1970).
    func retryAfter(key: String, until: Int64) { notBefore[key] = max(notBefore[key] ?? 0, until) }

    /// Notes a request with `key` at `now`, and whether it came before its `Retry-After`.
    func arrived(key: String, at now: Int64) {
        guard let until = notBefore.removeValue(forKey: key) else { return }
        afterRetryAfter += 1
        if now < until { early.append(ReferenceEarlyRequest(idempotencyKey: key, milliseconds: Int(until - now))) }
    }

    var chaosReport: ReferenceChaosReport {
        ReferenceChaosReport(
            chaos: chaos, draws: drawn, injected: injected, afterRetryAfter: afterRetryAfter, early: early)
    }
}

/// How many requests one method and path received (`GET /_reference/requests`).
public struct ReferenceRequestCount: Sendable, Equatable, Codable {
    struct Key: Hashable {
        var method: String
        var path: String
    }

    /// The HTTP method (`POST`).
    public var method: String
    /// The path, without the query (`/external/chat/messages`).
    public var path: String
    /// Requests received, including refused and faulted ones.
    public var count: Int

    /// A count with every field given.
    public init(method: String, path: String, count: Int) {
        self.method = method
        self.path = path
        self.count = count
    }
}
