import ChatModel

/// The JSON of journal `detail` fields and control outcomes: a small value type written with sorted
/// keys and no spaces, so the machine needs no Foundation.
public indirect enum DetailJSON: Sendable, Hashable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([DetailJSON])
    case object([String: DetailJSON])
    /// JSON text from elsewhere (a runtime's usage object), written as it is.
    case raw(String)

    /// The compact text, keys sorted.
    public var text: String {
        var out: [UInt8] = []
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case let .string(text): CanonicalJSON.appendString(text, to: &out)
        case let .int(number): out += Array(String(number).utf8)
        case let .bool(flag): out += Array((flag ? "true" : "false").utf8)
        case .null: out += Array("null".utf8)
        case let .raw(text): out += Array(text.utf8)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]?.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The string value of a top-level `key` in a JSON object's text (nil when absent or not a string).
    /// Reads only as far as it needs: detail texts are written by `text` or by Foundation with the same
    /// escapes.
    public static func string(in json: String, key: String) -> String? {
        let bytes = Array(json.utf8)
        let needle = Array(CanonicalJSON.quoted(key).utf8) + [UInt8(ascii: ":")]
        var depth = 0
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == 92 { index += 2; continue }
                if byte == 34 { inString = false }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case 34:
                if depth == 1, bytes[index...].starts(with: needle) {
                    var start = index + needle.count
                    while start < bytes.count, bytes[start] == 32 { start += 1 }
                    guard start < bytes.count, bytes[start] == 34 else { return nil }
                    var end = start + 1
                    while end < bytes.count, bytes[end] != 34 { end += bytes[end] == 92 ? 2 : 1 }
                    guard end < bytes.count else { return nil }
                    // The literal, decoded by the journal's own strict scanner.
                    var value: String?
                    let object = Array("{\"v\":".utf8) + bytes[start...end] + [UInt8(ascii: "}")]
                    try? CanonicalJSON.decodeObject(object) { _, decoded in
                        if case let .string(text) = decoded { value = text }
                    }
                    return value
                }
                inString = true
            default: break
            }
            index += 1
        }
        return nil
    }
}
