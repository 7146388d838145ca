/// Pending faults and request counts: the mutable side of the test-control API.
actor FaultBook {
    private var faults: [(fault: ReferenceFault, remaining: Int)] = []
    private var counts: [ReferenceRequestCount.Key: Int] = [:]

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

    /// Takes one use of the first fault matching the request.
    func take(method: String, path: String) -> ReferenceFault? {
        guard let index = faults.firstIndex(where: { $0.fault.matches(method: method, path: path) }) else {
            return nil
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
