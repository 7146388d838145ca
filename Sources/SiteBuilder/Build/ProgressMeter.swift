/// The progress line of a build on a terminal: threads done of total, the rate and the elapsed time,
/// shown only for a build that takes more than a moment and redrawn a few times a second.
///
/// Pure (the caller gives the time and writes the line), so the executable decides where it goes.
public struct ProgressMeter: Sendable {
    /// How long a build runs before the line first appears.
    public var delay: Duration
    /// The least time between two redraws.
    public var interval: Duration
    private var lastShown: Duration?
    /// Whether any line was shown (the caller then ends it with a newline).
    public private(set) var shown = false

    public init(delay: Duration = .milliseconds(300), interval: Duration = .milliseconds(100)) {
        self.delay = delay
        self.interval = interval
    }

    /// The line to show after `done` of `total` threads at `elapsed` since the build started, or nil
    /// when it is too early or too soon after the last one. The last thread always gets a line once
    /// any was shown.
    public mutating func update(done: Int, total: Int, elapsed: Duration) -> String? {
        let finished = done >= total
        guard elapsed >= delay || (shown && finished) else { return nil }
        if let lastShown, elapsed - lastShown < interval, !finished { return nil }
        lastShown = elapsed
        shown = true
        let seconds = Self.seconds(elapsed)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let percent = total > 0 ? done * 100 / total : 100
        return
            "rendering threads: \(done)/\(total) (\(percent)%), \(Self.format(rate, digits: 0)) threads/s, \(Self.format(seconds, digits: 1)) s"
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// `value` with `digits` decimals, without Foundation.
    static func format(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        guard digits > 0 else { return String(scaled) }
        let whole = scaled / Int(scale)
        var fraction = String(scaled % Int(scale))
        while fraction.count < digits { fraction = "0" + fraction }
        return "\(whole).\(fraction)"
    }
}
