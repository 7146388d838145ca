/// The delivery lease: which daemon delivers for an inbox shared through a git remote
/// (docs/format.md, "The delivery lease"). It is the file `inbox/lease.json`, committed and pushed
/// like every other file, one canonical JSON object on one line:
///
/// ```json
/// {"expires":"2026-11-27T10:02:00.000Z","holder":"d-5f0c...","host":"ops-1","renewed":"2026-11-27T10:00:00.000Z","since":"2026-11-27T09:00:00.000Z","version":1}
/// ```
public struct DeliveryLease: Hashable, Sendable {
    /// The daemon holding it: a random id kept per clone in `.letterbox/daemon-id`.
    public var holder: String
    /// The host it runs on (for people: `letterbox lease` shows it).
    public var host: String
    /// When the holder took the lease.
    public var since: Timestamp
    /// When it was last renewed.
    public var renewed: Timestamp
    /// When it lapses unless renewed (wall-clock time; see docs/format.md about clocks).
    public var expires: Timestamp

    public init(holder: String, host: String, since: Timestamp, renewed: Timestamp, expires: Timestamp) {
        self.holder = holder
        self.host = host
        self.since = since
        self.renewed = renewed
        self.expires = expires
    }

    /// The file's name, in the inbox root.
    public static let fileName = "lease.json"

    /// The file's bytes: one canonical line and a newline (so two writes of one lease are identical).
    public var bytes: [UInt8] {
        CanonicalJSON.encode([
            ("version", .int(1)), ("holder", .string(holder)), ("host", .string(host)),
            ("since", .string(since.description)), ("renewed", .string(renewed.description)),
            ("expires", .string(expires.description)),
        ]) + [10]
    }

    /// Reads `lease.json`. Throws, naming what is wrong, for anything but a version-1 lease.
    public static func parse(_ bytes: some Collection<UInt8>) throws(FormatError) -> DeliveryLease {
        var fields: [String: CanonicalJSON.Value] = [:]
        var text = Array(bytes)
        while let last = text.last, last == 10 || last == 13 || last == 32 { text.removeLast() }
        do throws(CanonicalJSON.DecodingError) {
            try CanonicalJSON.decodeObject(text) { (key, value) throws(CanonicalJSON.DecodingError) in
                guard fields.updateValue(value, forKey: key) == nil else {
                    throw CanonicalJSON.DecodingError(message: "duplicate field '\(key)'", offset: 0)
                }
            }
        } catch {
            throw FormatError(
                .lease,
                "not a valid lease (\(error.message) at byte \(error.offset + 1)); take the lease again with `letterbox lease take --force`",
                path: fileName)
        }
        func string(_ key: String) throws(FormatError) -> String {
            guard case let .string(value)? = fields[key], !value.isEmpty else {
                throw FormatError(
                    .lease,
                    "the lease has no '\(key)'; take the lease again with `letterbox lease take --force`",
                    path: fileName)
            }
            return value
        }
        func time(_ key: String) throws(FormatError) -> Timestamp {
            let text = try string(key)
            guard let time = Timestamp(text) else {
                throw FormatError(
                    .lease,
                    "the lease's '\(key)' is not a UTC time (\(text)); take the lease again with `letterbox lease take --force`",
                    path: fileName)
            }
            return time
        }
        guard case .int(1)? = fields["version"] else {
            throw FormatError(
                .lease, "the lease is not version 1; this Letterbox reads version 1 (upgrade it)", path: fileName)
        }
        return DeliveryLease(
            holder: try string("holder"), host: try string("host"), since: try time("since"),
            renewed: try time("renewed"), expires: try time("expires"))
    }
}
