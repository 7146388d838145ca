import Foundation

/// The runtime's sense of time: the wall clock that stamps messages and the sleep that paces streams, long polls
/// and hangs.
///
/// Inject one in tests to get fixed timestamps (`now`) or to speed sleeps up; ``system`` is the real thing.
public struct RuntimeClock: Sendable {
    /// The current wall-clock time; message `createdAt`/`updatedAt` come from it.
    public var now: @Sendable () -> Date
    /// Suspends for a duration; throws `CancellationError` when the task is cancelled.
    public var sleep: @Sendable (Duration) async throws -> Void

    /// A clock from two closures.
    public init(now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// `Date()` and `Task.sleep` on the continuous clock.
    public static var system: RuntimeClock {
        RuntimeClock(now: { Date() }, sleep: { duration in try await Task.sleep(for: duration) })
    }
}
