/// SplitMix64 (Steele, Lea and Flood, 2014): a small, fast, seedable generator, so the same seed
/// gives the same draws: the reference runtime's chaos, the benchmark's inbox, the fuzzer's mutations
/// and the property and soak tests replay from their seed.
public struct SplitMix64: RandomNumberGenerator, Hashable, Sendable {
    /// The state; a generator made with this as its seed draws what this one draws next.
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
