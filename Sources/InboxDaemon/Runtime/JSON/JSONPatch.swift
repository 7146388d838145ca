import ChatModel
import Foundation
import InboxCore

/// RFC 6902 JSON Patch over `JSONValue`, with RFC 6901 JSON Pointers: what AG-UI's `STATE_DELTA`
/// carries.
///
/// Strict: an operation that names a missing member, an index out of range, a malformed pointer or an
/// unknown `op` fails the whole patch (RFC 6902 §5: the document is left as it was), with a reason
/// that names the operation.
enum JSONPatch {
    /// Why a patch could not be applied.
    struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// The index of the failing operation in the patch.
        var operation: Int
        var reason: String
        var description: String { "operation \(operation): \(reason)" }
    }

    /// Applies `patch` (a JSON array of operations) to `document`.
    static func apply(_ patch: JSONValue, to document: JSONValue) throws(Failure) -> JSONValue {
        guard let operations = patch.arrayValue else {
            throw Failure(operation: 0, reason: "a JSON Patch must be an array of operations")
        }
        var result = document
        for (index, operation) in operations.enumerated() {
            do {
                result = try apply(operation: operation, to: result)
            } catch {
                throw Failure(operation: index, reason: error.reason)
            }
        }
        return result
    }

    /// A reason, before the operation's index is known.
    struct Problem: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    static func apply(operation: JSONValue, to document: JSONValue) throws(Problem) -> JSONValue {
        guard let members = operation.objectValue else { throw Problem("an operation must be an object") }
        guard let op = members["op"]?.stringValue else { throw Problem("'op' is missing or not a string") }
        guard let pathText = members["path"]?.stringValue else { throw Problem("'\(op)' has no string 'path'") }
        let path = try pointer(pathText)
        func value() throws(Problem) -> JSONValue {
            guard let value = members["value"] else { throw Problem("'\(op)' at '\(pathText)' has no 'value'") }
            return value
        }
        func from() throws(Problem) -> [String] {
            guard let text = members["from"]?.stringValue else {
                throw Problem("'\(op)' to '\(pathText)' has no string 'from'")
            }
            return try pointer(text)
        }
        switch op {
        case "add":
            return try add(try value(), at: path[...], in: document)
        case "remove":
            return try remove(at: path[...], in: document).document
        case "replace":
            return try replace(at: path[...], in: document, with: try value())
        case "move":
            let source = try from()
            if source.count < path.count && Array(path.prefix(source.count)) == source {
                throw Problem("cannot move '\(render(source))' into its own child '\(pathText)'")
            }
            let (without, moved) = try remove(at: source[...], in: document)
            return try add(moved, at: path[...], in: without)
        case "copy":
            return try add(try lookup(try from()[...], in: document), at: path[...], in: document)
        case "test":
            let actual = try lookup(path[...], in: document)
            let expected = try value()
            guard actual.equals(expected) else {
                throw Problem("test failed: '\(pathText)' is \(actual.jsonText), not \(expected.jsonText)")
            }
            return document
        default:
            throw Problem("unknown op '\(op)' (RFC 6902 has add, remove, replace, move, copy, test)")
        }
    }

    /// RFC 6901: "" is the whole document; otherwise "/"-separated tokens with ~1 for "/" and ~0 for "~".
    static func pointer(_ text: String) throws(Problem) -> [String] {
        guard !text.isEmpty else { return [] }
        guard text.hasPrefix("/") else { throw Problem("the pointer '\(text)' must be empty or start with '/'") }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var index = raw.startIndex
            while index < raw.endIndex {
                let character = raw[index]
                if character == "~" {
                    let next = raw.index(after: index)
                    guard next < raw.endIndex, raw[next] == "0" || raw[next] == "1" else {
                        throw Problem("the pointer '\(text)' has a '~' not followed by 0 or 1")
                    }
                    token.append(raw[next] == "0" ? "~" : "/")
                    index = raw.index(after: next)
                } else {
                    token.append(character)
                    index = raw.index(after: index)
                }
            }
            tokens.append(token)
        }
        return tokens
    }

    static func render(_ tokens: [String]) -> String {
        tokens.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
            .joined()
    }

    /// An array index: digits only, no leading zero (RFC 6901 §4), below `count` (or equal, when adding).
    static func index(_ token: String, count: Int, allowEnd: Bool) throws(Problem) -> Int {
        if allowEnd && token == "-" { return count }
        guard !token.isEmpty, token.allSatisfy(\.isASCII), token.allSatisfy(\.isNumber),
            token == "0" || !token.hasPrefix("0"), let value = Int(token)
        else {
            throw Problem("'\(token)' is not an array index")
        }
        guard value < count || (allowEnd && value == count) else {
            throw Problem("index \(value) is out of range (the array has \(count) elements)")
        }
        return value
    }

    static func lookup(_ path: ArraySlice<String>, in document: JSONValue) throws(Problem) -> JSONValue {
        guard let token = path.first else { return document }
        switch document {
        case let .object(members):
            guard let child = members[token] else { throw Problem("there is no member '\(token)'") }
            return try lookup(path.dropFirst(), in: child)
        case let .array(items):
            return try lookup(path.dropFirst(), in: items[try index(token, count: items.count, allowEnd: false)])
        default:
            throw Problem("cannot look up '\(token)' in \(kind(document))")
        }
    }

    static func add(_ value: JSONValue, at path: ArraySlice<String>, in document: JSONValue) throws(Problem)
        -> JSONValue
    {
        guard let token = path.first else { return value }
        let last = path.count == 1
        switch document {
        case var .object(members):
            if last {
                members[token] = value
            } else {
                guard let child = members[token] else { throw Problem("there is no member '\(token)'") }
                members[token] = try add(value, at: path.dropFirst(), in: child)
            }
            return .object(members)
        case var .array(items):
            if last {
                items.insert(value, at: try index(token, count: items.count, allowEnd: true))
            } else {
                let at = try index(token, count: items.count, allowEnd: false)
                items[at] = try add(value, at: path.dropFirst(), in: items[at])
            }
            return .array(items)
        default:
            throw Problem("cannot add '\(token)' to \(kind(document))")
        }
    }

    static func remove(at path: ArraySlice<String>, in document: JSONValue) throws(Problem)
        -> (document: JSONValue, removed: JSONValue)
    {
        guard let token = path.first else { throw Problem("cannot remove the whole document") }
        let last = path.count == 1
        switch document {
        case var .object(members):
            guard let child = members[token] else { throw Problem("there is no member '\(token)'") }
            if last {
                members[token] = nil
                return (.object(members), child)
            }
            let (changed, removed) = try remove(at: path.dropFirst(), in: child)
            members[token] = changed
            return (.object(members), removed)
        case var .array(items):
            let at = try index(token, count: items.count, allowEnd: false)
            if last {
                let removed = items.remove(at: at)
                return (.array(items), removed)
            }
            let (changed, removed) = try remove(at: path.dropFirst(), in: items[at])
            items[at] = changed
            return (.array(items), removed)
        default:
            throw Problem("cannot remove '\(token)' from \(kind(document))")
        }
    }

    static func replace(at path: ArraySlice<String>, in document: JSONValue, with value: JSONValue) throws(Problem)
        -> JSONValue
    {
        guard let token = path.first else { return value }
        switch document {
        case var .object(members):
            guard let child = members[token] else { throw Problem("there is no member '\(token)' to replace") }
            members[token] = try replace(at: path.dropFirst(), in: child, with: value)
            return .object(members)
        case var .array(items):
            let at = try index(token, count: items.count, allowEnd: false)
            items[at] = try replace(at: path.dropFirst(), in: items[at], with: value)
            return .array(items)
        default:
            throw Problem("cannot replace '\(token)' in \(kind(document))")
        }
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
