import Foundation

/// A JSON value as the approval rules need it: tool arguments to parse, compare, pretty-print and
/// check against a JSON Schema. Pure; built on Foundation's `JSONDecoder`/`JSONEncoder`.
public enum JSONDocument: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONDocument])
    case object([String: JSONDocument])

    /// Why text is not JSON, in the parser's words.
    public struct ParseError: Error, Sendable, Hashable {
        public var reason: String
    }

    /// Parses JSON text (any value, not only objects).
    public init(parsing text: String) throws(ParseError) {
        do {
            self = try JSONDecoder().decode(JSONDocument.self, from: Data(text.utf8))
        } catch let DecodingError.dataCorrupted(context) {
            let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
            throw ParseError(reason: underlying ?? context.debugDescription)
        } catch {
            throw ParseError(reason: "not JSON")
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONDocument].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONDocument].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .integer(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }

    /// Compact text with sorted keys: the same value always gives the same bytes.
    public var canonicalText: String { text(pretty: false) }

    /// Indented text with sorted keys, for people.
    public var prettyText: String { text(pretty: true) }

    private func text(pretty: Bool) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONDocument? {
        if case let .object(members) = self { members[key] } else { nil }
    }

    /// The JSON type's name, as JSON Schema spells it.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// JSON text pretty-printed when it parses; otherwise the text as it is.
    public static func prettyPrinted(_ text: String) -> String {
        (try? JSONDocument(parsing: text))?.prettyText ?? text
    }
}
