/// Settings for a ``ReferenceRuntimeServer``.
public struct ReferenceRuntimeConfiguration: Sendable {
    /// The address to listen on (default `127.0.0.1`).
    public var host: String
    /// The port to listen on (default 8787); 0 picks a free port, reported through `onReady`.
    public var port: Int
    /// The bearer token every request must carry. Never logged.
    public var token: String
    /// The pause between the chunks of a streamed reply (default 40 ms), and the think time of the other agents.
    public var streamInterval: Duration
    /// The largest `content` accepted, in UTF-8 bytes (default 64 KiB); larger gets 413.
    public var maxContentBytes: Int
    /// Threads per page in `GET /external/chat/threads` (default 50).
    public var pageSize: Int
    /// The longest a long poll may wait, whatever `waitSeconds` asks (default 60 s).
    public var maxWait: Duration
    /// Wall clock and sleep; ``RuntimeClock/system`` unless a test injects its own.
    public var clock: RuntimeClock

    /// A configuration; only the token has no default.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8787,
        token: String,
        streamInterval: Duration = .milliseconds(40),
        maxContentBytes: Int = 64 * 1024,
        pageSize: Int = 50,
        maxWait: Duration = .seconds(60),
        clock: RuntimeClock = .system
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.streamInterval = streamInterval
        self.maxContentBytes = maxContentBytes
        self.pageSize = pageSize
        self.maxWait = maxWait
        self.clock = clock
    }

    /// Throws when the configuration cannot work.
    func validate() throws {
        if token.isEmpty {
            throw ReferenceRuntimeError(.invalidConfiguration, "the bearer token is empty; set a non-empty token")
        }
        if !(0...65535).contains(port) {
            throw ReferenceRuntimeError(.invalidConfiguration, "port \(port) is not between 0 and 65535")
        }
        if pageSize < 1 { throw ReferenceRuntimeError(.invalidConfiguration, "pageSize must be at least 1") }
        if maxContentBytes < 1 {
            throw ReferenceRuntimeError(.invalidConfiguration, "maxContentBytes must be at least 1")
        }
        if streamInterval < .zero {
            throw ReferenceRuntimeError(.invalidConfiguration, "streamInterval must not be negative")
        }
    }
}

extension ReferenceRuntimeConfiguration: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never includes the token: swift-service-lifecycle logs services (and so their configuration) at debug level.
    public var description: String { "ReferenceRuntimeConfiguration(host: \(host), port: \(port), token: <redacted>)" }
    public var debugDescription: String { description }
}
