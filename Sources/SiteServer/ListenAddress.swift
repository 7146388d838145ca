/// Where the preview server listens, and the rule that keeps it private: a loopback address unless
/// the operator says `--public` (the preview has no authentication, and the site shows every thread).
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address to bind: an IPv4 or IPv6 literal, or `localhost`.
    public var host: String
    /// The port; 0 asks the system for a free one.
    public var port: Int

    /// Why an address was refused.
    public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// The address for `host` (nil: the default) and `port`, or why it is refused.
    ///
    /// Without a host, it is 127.0.0.1, or every interface (0.0.0.0) with `public`. A host that is not
    /// a loopback address needs `public`.
    public static func resolve(host: String?, port: Int, public: Bool) -> Result<ListenAddress, Refusal> {
        guard (0...65535).contains(port) else {
            return .failure(Refusal(description: "the port must be between 0 and 65535, not \(port)"))
        }
        guard let host else { return .success(ListenAddress(host: `public` ? "0.0.0.0" : "127.0.0.1", port: port)) }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard !bare.isEmpty else { return .failure(Refusal(description: "the host is empty; use 127.0.0.1")) }
        if !isLoopback(bare) && !`public` {
            return .failure(
                Refusal(
                    description:
                        "refusing to listen on \(bare): other machines could reach it, and the preview has no authentication; add --public to do it anyway, or listen on 127.0.0.1"
                ))
        }
        return .success(ListenAddress(host: bare, port: port))
    }

    /// Whether `host` is a loopback address: `localhost`, 127.0.0.0/8, `::1` (also as `::ffff:127.x.y.z`).
    public static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" || lower == "0:0:0:0:0:0:0:1" { return true }
        let v4 = lower.hasPrefix("::ffff:") ? String(lower.dropFirst(7)) : lower
        let octets = v4.split(separator: ".", omittingEmptySubsequences: false)
        let digits = octets.allSatisfy { octet in
            !octet.isEmpty && octet.count <= 3 && octet.allSatisfy { $0.isASCII && $0.isNumber }
        }
        let values = octets.compactMap { Int($0) }
        guard octets.count == 4, digits, values.count == 4, values.allSatisfy({ $0 <= 255 }) else { return false }
        return values[0] == 127
    }

    /// Whether other machines may reach it.
    public var isPublic: Bool { !Self.isLoopback(host) }

    /// `http://host:port/` (an IPv6 host in brackets).
    public func url(port bound: Int? = nil) -> String {
        let shown = host == "0.0.0.0" ? "127.0.0.1" : host
        return "http://\(shown.contains(":") ? "[\(shown)]" : shown):\(bound ?? port)/"
    }

    public var description: String { "\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}
