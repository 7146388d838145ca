/// In-process access to the test-control API: the same faults, effects and counts as `/_reference/`.
///
/// Test-only. Get one from ``ReferenceRuntimeServer/control`` or ``RunningReferenceRuntime/control``.
public struct ReferenceRuntimeControl: Sendable {
    let book: FaultBook
    let state: RuntimeState

    /// Appends faults, to be consumed in order by matching requests; throws if any fault is invalid (none is added).
    public func addFaults(_ faults: [ReferenceFault]) async throws {
        try await book.add(faults)
    }

    /// Drops every pending fault.
    public func clearFaults() async {
        await book.clear()
    }

    /// The faults not yet used up, each with `count` set to what it has left.
    public func pendingFaults() async -> [ReferenceFault] {
        await book.pending
    }

    /// Every real effect so far, in order.
    public func effects() async -> [ReferenceEffect] {
        await state.effects
    }

    /// Requests received per method and path (test-control requests excluded).
    public func requestCounts() async -> [ReferenceRequestCount] {
        await book.requestCounts
    }

    /// Sets seeded random faults (nil: none), starting their figures from zero; throws if it is invalid.
    public func setChaos(_ chaos: ReferenceChaos?) async throws {
        try await book.setChaos(chaos)
    }

    /// What the chaos injected, and requests that came before their `Retry-After`.
    public func chaosReport() async -> ReferenceChaosReport {
        await book.chaosReport
    }

    /// Starts counting requests from zero.
    public func resetRequestCounts() async {
        await book.resetCounts()
    }
}
