/// An error from starting or running the reference runtime (not an HTTP error answer).
public struct ReferenceRuntimeError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure: a code that can grow without breaking `switch`es.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case invalidConfiguration = "invalid_configuration"
            case notStarted = "not_started"
            case invalidFault = "invalid_fault"
        }

        private let value: Value

        /// The configuration cannot work (an empty token, a bad port).
        public static let invalidConfiguration = Code(value: .invalidConfiguration)
        /// The server stopped before it was listening.
        public static let notStarted = Code(value: .notStarted)
        /// A test-control fault cannot be used (no path, nothing to do, a bad status).
        public static let invalidFault = Code(value: .invalidFault)

        /// The code as text.
        public var description: String { value.rawValue }
    }

    /// What kind of failure.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?

    /// An error with a code, a message and an optional cause.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// The message, with the cause when there is one.
    public var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }
}
