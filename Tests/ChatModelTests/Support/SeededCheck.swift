import ChatModel
import PropertyBased
import Testing

/// ChatModel's SplitMix64 as swift-property-based's seeded generator, so property tests run the same
/// cases every time.
extension SplitMix64: SeededRandomNumberGenerator {
    public var currentSeed: UInt64 { state }
    public init() { self.init(seed: .random(in: .min ... .max)) }
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
    var rng = SplitMix64(seed: seed)
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
