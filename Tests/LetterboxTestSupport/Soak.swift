public import ChatModel
import Foundation

/// The two tiers of the reliability suites (docs/reliability.md): a short one in `make test`, a long one in
/// `make soak` (`LETTERBOX_SOAK=1`). Every suite is seeded (`LETTERBOX_SEED`, default fixed) and prints its
/// figures, which also go to `.build/reliability/SUITE.txt` for docs/reliability.md.
public enum Soak {
    /// Whether the long tier runs.
    public static let long = ProcessInfo.processInfo.environment["LETTERBOX_SOAK"] == "1"

    /// The seed of every random choice (printed with the figures, so a failing run can be replayed).
    public static let seed: UInt64 =
        ProcessInfo.processInfo.environment["LETTERBOX_SEED"].flatMap { UInt64($0) } ?? 1313

    /// `short` in `make test`, `long` in `make soak`.
    public static func tier<T>(short: T, long: T) -> T { Self.long ? long : short }

    public static var tierName: String { long ? "long" : "short" }

    static let folder: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().appendingPathComponent(".build/reliability").path
    }()

    /// Prints a suite's figures (one line each) and keeps them in `.build/reliability/SUITE.txt`.
    public static func report(_ suite: String, _ figures: KeyValuePairs<String, String>) {
        var lines = ["== reliability: \(suite) (\(tierName) tier, seed \(seed))"]
        for (key, value) in figures { lines.append("   \(key): \(value)") }
        let text = lines.joined(separator: "\n") + "\n"
        print(text, terminator: "")
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try? Data(text.utf8).write(to: URL(fileURLWithPath: folder + "/\(suite)-\(tierName).txt"))
    }
}

extension SplitMix64 {
    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
}

/// Elapsed wall time, for the figures.
public struct Stopwatch {
    let start = ContinuousClock.now

    public init() {}

    /// The time since it started, as `12.3 s`.
    public var seconds: String {
        let elapsed = ContinuousClock.now - start
        return String(
            format: "%.1f s", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
}
