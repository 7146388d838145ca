/// A scripted failure for the next matching request(s), for testing a client's retries and recovery.
///
/// Faults are consumed in the order they were added: a request takes the first pending fault whose `method` and
/// `path` match it, and a fault is used up after `count` requests. Requests under `/_reference/` never match.
/// What the fault does, in order: `afterEffect` performs the real request first (its response is kept aside);
/// `hangSeconds` waits that long without answering; then `reset` closes the TCP connection with no response, or
/// `status` answers with that status (and `Retry-After` when `retryAfter` is set), its body the JSON error or
/// `rawBody` as given, cut short by a dropped connection when `truncate` is set. With none of `reset`, `status`
/// or `rawBody`, the request is answered normally once the hang is over. Test-only: see docs/runtime-api.md.
public struct ReferenceFault: Sendable, Equatable, Codable {
    /// The HTTP method to match (`POST`), or `nil` for any.
    public var method: String?
    /// The path to match exactly (`/external/chat/messages`), or a prefix when it ends in `*`.
    public var path: String
    /// The status to answer with (`503`).
    public var status: Int?
    /// The `Retry-After` header value: seconds (`"3"`) or an HTTP date.
    public var retryAfter: String?
    /// The error message in the JSON error body.
    public var body: String?
    /// The error code in the JSON error body (default: derived from the status, e.g. `unavailable`).
    public var code: String?
    /// Seconds to hold the request without answering.
    public var hangSeconds: Double?
    /// Close the connection abruptly (TCP RST) instead of answering.
    public var reset: Bool?
    /// How many matching requests it applies to (default 1).
    public var count: Int?
    /// Perform the request's real effect before failing, as if the response were lost.
    public var afterEffect: Bool?
    /// Answer with exactly these bytes (UTF-8) as the body, not the JSON error: garbage, or a body cut short
    /// (status `status`, default 200).
    public var rawBody: String?
    /// Announce the whole body's length, send the first half, then close the connection.
    public var truncate: Bool?
    /// Send `retryAfter` (seconds) as the HTTP date that many seconds after the answer, rounded up to the second.
    public var retryAfterAsDate: Bool?

    /// A fault; give at least one of `status`, `rawBody`, `hangSeconds` or `reset`.
    public init(
        method: String? = nil, path: String, status: Int? = nil, retryAfter: String? = nil, body: String? = nil,
        code: String? = nil, hangSeconds: Double? = nil, reset: Bool? = nil, count: Int? = nil,
        afterEffect: Bool? = nil, rawBody: String? = nil, truncate: Bool? = nil, retryAfterAsDate: Bool? = nil
    ) {
        self.method = method
        self.path = path
        self.status = status
        self.retryAfter = retryAfter
        self.body = body
        self.code = code
        self.hangSeconds = hangSeconds
        self.reset = reset
        self.count = count
        self.afterEffect = afterEffect
        self.rawBody = rawBody
        self.truncate = truncate
        self.retryAfterAsDate = retryAfterAsDate
    }

    /// Whether this fault applies to a request.
    public func matches(method requestMethod: String, path requestPath: String) -> Bool {
        if let method, method.uppercased() != requestMethod.uppercased() { return false }
        if path.hasSuffix("*") { return requestPath.hasPrefix(path.dropLast()) }
        return requestPath == path
    }

    /// What is wrong with the fault, or `nil` when it can be used.
    var problem: String? {
        if path.isEmpty { return "a fault needs a path" }
        if status == nil && reset != true && hangSeconds == nil && rawBody == nil {
            return "a fault needs at least one of status, rawBody, reset or hangSeconds"
        }
        if retryAfterAsDate == true && retryAfter.flatMap(Double.init) == nil {
            return "retryAfterAsDate needs retryAfter in seconds"
        }
        if truncate == true && status == nil && rawBody == nil { return "truncate needs status or rawBody" }
        if let status, !(200...599).contains(status) { return "status \(status) is not between 200 and 599" }
        if let count, count < 1 { return "count must be at least 1" }
        if let hangSeconds, !(0...3600).contains(hangSeconds) { return "hangSeconds must be between 0 and 3600" }
        return nil
    }
}
