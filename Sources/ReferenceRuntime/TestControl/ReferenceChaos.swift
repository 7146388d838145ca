/// Seeded random faults: each request that matches `method` and `path` and takes no scripted fault gets, with
/// probability `rate`, one of `faults` (picked uniformly), for soak tests that need thousands of faults in a
/// reproducible mix. The same seed and the same order of requests give the same faults.
///
/// Each fault's own `method`, `path` and `count` are ignored: the chaos's `method` and `path` decide what is
/// faulted. Test-only: see docs/runtime-api.md, "Test control".
public struct ReferenceChaos: Sendable, Equatable, Codable {
    /// The seed of the draws.
    public var seed: UInt64
    /// The share of matching requests that get a fault (0–1).
    public var rate: Double
    /// The HTTP method to match (`POST`), or `nil` for any.
    public var method: String?
    /// The path to match exactly, or a prefix when it ends in `*`.
    public var path: String
    /// The faults to pick from.
    public var faults: [ReferenceFault]

    /// Chaos with every field given.
    public init(seed: UInt64, rate: Double, method: String? = nil, path: String, faults: [ReferenceFault]) {
        self.seed = seed
        self.rate = rate
        self.method = method
        self.path = path
        self.faults = faults
    }

    /// What is wrong with it, or `nil` when it can be used.
    var problem: String? {
        if !(0...1).contains(rate) { return "rate must be between 0 and 1" }
        if path.isEmpty { return "chaos needs a path" }
        if faults.isEmpty { return "chaos needs at least one fault" }
        for (index, fault) in faults.enumerated() {
            if let problem = fault.problem { return "fault \(index + 1): \(problem)" }
        }
        return nil
    }

    func matches(method requestMethod: String, path requestPath: String) -> Bool {
        ReferenceFault(method: method, path: path, status: 500).matches(method: requestMethod, path: requestPath)
    }
}

/// What the chaos did so far, and whether clients waited as long as they were told to (`GET /_reference/chaos`).
public struct ReferenceChaosReport: Sendable, Equatable, Codable {
    /// The chaos in force, if any.
    public var chaos: ReferenceChaos?
    /// Matching requests that were drawn for (scripted faults take precedence and are not drawn for).
    public var draws: Int
    /// How often each of `chaos.faults` was injected, in the same order.
    public var injected: [Int]
    /// Requests whose `Idempotency-Key` had been told to wait by an earlier answer's `Retry-After` (from any
    /// fault, scripted or chaos).
    public var afterRetryAfter: Int
    /// Those that came before the time `Retry-After` named: the key and how many milliseconds too early.
    public var early: [ReferenceEarlyRequest]

    /// A report with every field given.
    public init(
        chaos: ReferenceChaos?, draws: Int, injected: [Int], afterRetryAfter: Int, early: [ReferenceEarlyRequest]
    ) {
        self.chaos = chaos
        self.draws = draws
        self.injected = injected
        self.afterRetryAfter = afterRetryAfter
        self.early = early
    }
}

/// A request that came before the `Retry-After` its key was given.
public struct ReferenceEarlyRequest: Sendable, Equatable, Codable {
    /// The request's `Idempotency-Key`.
    public var idempotencyKey: String
    /// How much too early.
    public var milliseconds: Int

    /// An early request with every field given.
    public init(idempotencyKey: String, milliseconds: Int) {
        self.idempotencyKey = idempotencyKey
        self.milliseconds = milliseconds
    }
}
