import PropertyBased
import Testing

/// SplitMix64: a tiny, well-known seeded generator, so property tests run the same cases every time.
struct SplitMix64: SeededRandomNumberGenerator {
    var currentSeed: UInt64
    init?(seed: UInt64) { currentSeed = seed }
    init() { currentSeed = UInt64.random(in: .min ... .max) }

    mutating func next() -> UInt64 {
        currentSeed &+= 0x9E37_79B9_7F4A_7C15
        var z = currentSeed
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Runs `body` on `count` values drawn from `generator` with a fixed `seed`.
///
/// swift-property-based's own `.fixedSeed` trait replays a single failing case and flags every run
/// that does not fail; CI needs the opposite (many cases, the same ones every run), so this drives the
/// library's generators from a seeded generator directly. A failure names the seed and case number.
func seededCheck<Value>(
    seed: UInt64, count: Int = 200, _ generator: Generator<Value, some Sequence>,
    sourceLocation: SourceLocation = #_sourceLocation, _ body: (Value) throws -> Void
) rethrows {
    var rng = SplitMix64(seed: seed) ?? SplitMix64()
    for index in 0..<count {
        let value = generator.run(using: &rng)
        do {
            try body(value)
        } catch {
            Issue.record("seed \(seed), case \(index): \(value): \(error)", sourceLocation: sourceLocation)
            throw error
        }
    }
}
