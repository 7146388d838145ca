import ChatModel
import Foundation

/// A point in time as the runtime's API writes it: RFC 3339, UTC, milliseconds (`2026-01-02T03:04:05.678Z`).
///
/// Stored as whole milliseconds since the Unix epoch, so two timestamps compare and round-trip exactly.
public struct RuntimeTimestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var milliseconds: Int64

    /// A timestamp from milliseconds since the Unix epoch.
    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    /// A timestamp from a `Date`, truncated to the millisecond.
    public init(_ date: Date) {
        self.milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// Parses exactly the form ``description`` prints (`YYYY-MM-DDTHH:MM:SS.mmmZ`); anything else is `nil`.
    /// The calendar arithmetic is the journal's (`ChatModel.Timestamp`); the API accepts only its one form.
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 24, bytes[10] == UInt8(ascii: "T"), bytes[19] == UInt8(ascii: "."),
            bytes[23] == UInt8(ascii: "Z"),
            let timestamp = Timestamp(text)
        else { return nil }
        self.milliseconds = timestamp.milliseconds
    }

    /// The RFC 3339 form: `2026-01-02T03:04:05.678Z`.
    public var description: String { Timestamp(milliseconds: milliseconds).description }

    /// Ordered by time.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// Decodes the RFC 3339 string form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Self(rfc3339: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not an RFC 3339 UTC time with milliseconds")
        }
        self = value
    }

    /// Encodes the RFC 3339 string form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
