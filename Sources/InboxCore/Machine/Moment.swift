public import ChatModel

/// A point on the daemon's monotonic clock, in milliseconds (the shell's monotonic clock, or a
/// test's manual clock). The machine never reads a clock: every input arrives with its `Now`.
public struct Moment: Sendable, Hashable, Comparable {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (lhs: Moment, rhs: Moment) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// This moment plus `milliseconds`.
    public func adding(milliseconds delta: Int64) -> Moment { Moment(milliseconds: milliseconds + delta) }
}

/// What the machine knows of the world when an input arrives: the monotonic time (for timers), the
/// wall time (for the journal), and a random number in [0, 1) (for backoff jitter).
public struct Now: Sendable, Hashable {
    public var moment: Moment
    public var wall: Timestamp
    public var random: Double

    public init(moment: Moment, wall: Timestamp, random: Double = 0.5) {
        self.moment = moment
        self.wall = wall
        self.random = random
    }
}
