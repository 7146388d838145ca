import Foundation
import Testing

/// Tests that start real daemons, runtimes, peers or browsers take one of a few slots, so the suite can
/// run in parallel on a two-core machine: pure tests run all at once, and at most `limit` heavy tests
/// at a time (`LETTERBOX_TEST_SLOTS`, default 3), which the machine can serve without timing out.
///
/// Put `.processSlot` on a suite (it applies to each of its tests) or a test.
public struct ProcessSlot: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // Suites get their scope once per test, through the test itself.
        guard testCase != nil || !test.isSuite else { return try await function() }
        await Self.slots.acquire()
        defer { Self.slots.release() }
        try await function()
    }

    static let slots = Slots(
        limit: ProcessInfo.processInfo.environment["LETTERBOX_TEST_SLOTS"].flatMap(Int.init).map { max(1, $0) } ?? 3)

    /// A counting semaphore for async code.
    final class Slots: @unchecked Sendable {
        // @unchecked: every field is guarded by `lock`.
        private let lock = NSLock()
        private var free: Int
        private var waiters: [CheckedContinuation<Void, Never>] = []

        init(limit: Int) { free = limit }

        func acquire() async {
            await withCheckedContinuation { continuation in
                let now = lock.withLock { () -> Bool in
                    if free > 0 {
                        free -= 1
                        return true
                    }
                    waiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        }

        func release() {
            let next = lock.withLock { () -> CheckedContinuation<Void, Never>? in
                if waiters.isEmpty {
                    free += 1
                    return nil
                }
                return waiters.removeFirst()
            }
            next?.resume()
        }
    }
}

extension Trait where Self == ProcessSlot {
    /// Runs each test with one of the few slots for tests that start real processes.
    public static var processSlot: ProcessSlot { ProcessSlot() }
}
