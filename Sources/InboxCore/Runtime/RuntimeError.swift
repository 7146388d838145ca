/// Why a runtime request did not work, classified for the delivery policy.
public struct RuntimeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What the daemon should do about it.
    public enum Kind: Sendable, Hashable {
        /// Try again later (timeouts, resets, 5xx, 429); `retryAfter` is the runtime's hint in seconds.
        case transient(retryAfter: Double?)
        /// The runtime refuses the token (401/403): pause all delivery.
        case authentication
        /// The runtime refuses this request for good (validation errors): fail the message with the reason.
        case rejected
        /// The runtime does not have this operation.
        case unsupported
        /// The runtime broke the protocol (an AG-UI ordering rule, garbage): end the run as errored.
        case protocolViolation
        /// The request was cancelled by Letterbox (an abort, shutdown).
        case cancelled
    }

    public var kind: Kind
    /// What happened, for the journal and the site (never contains the token).
    public var message: String
    /// The HTTP status, when there was one.
    public var status: Int?

    public init(_ kind: Kind, _ message: String, status: Int? = nil) {
        self.kind = kind
        self.message = message
        self.status = status
    }

    public var description: String { message }
}
