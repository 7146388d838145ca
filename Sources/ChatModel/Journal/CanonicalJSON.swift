/// The journal's canonical JSON: flat objects of strings and integers (docs/format.md §7.3).
///
/// Encoding matches Python's `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`
/// byte for byte, so a chain can be checked with a few lines of Python. Decoding is a small strict
/// scanner rather than Foundation's `JSONDecoder`, which measured 10.3 µs a line here: 6 s for the
/// 600k lines of a 100k-message inbox (docs/benchmarks.md). This one reads only what journals hold:
/// one object whose values are strings or integers.
public enum CanonicalJSON {
    /// A value in a journal line.
    public enum Value: Hashable, Sendable {
        case string(String)
        case int(Int)
    }

    /// Encodes `fields` (any order) as one canonical object, without a trailing newline.
    public static func encode(_ fields: [(String, Value)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320)
        out.append(UInt8(ascii: "{"))
        for (index, (key, value)) in fields.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }).enumerated()
        {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case let .string(text): appendString(text, to: &out)
            case let .int(number): out.append(contentsOf: String(number).utf8)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Appends `text` as a JSON string literal with Python's escaping (`ensure_ascii=False`).
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            // Runs of bytes that need no escape (nearly all of them) are copied at once.
            var start = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if index > start { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index])) }
                start = index + 1
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
                case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
                case 0x08: out.append(contentsOf: [92, UInt8(ascii: "b")])
                case 0x0C: out.append(contentsOf: [92, UInt8(ascii: "f")])
                case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
                }
            }
            if bytes.count > start { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The JSON string literal for `text`, as bytes.
    public static func encodeString(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        appendString(text, to: &out)
        return out
    }

    /// A JSON string literal for `text`, as a Swift string.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Why a line could not be decoded.
    public struct DecodingError: Error, Hashable, Sendable {
        /// What is wrong.
        public var message: String
        /// The byte offset in the line where it went wrong.
        public var offset: Int
    }

    /// Decodes one flat object, calling `field` for each key and value in the order they appear.
    ///
    /// Throws for anything that is not a single object of string or integer values, and for duplicate
    /// keys (checked by the caller's `field`, which may throw).
    public static func decodeObject(
        _ line: some Collection<UInt8>,
        field: (String, Value) throws(DecodingError) -> Void
    ) throws(DecodingError) {
        func scanned(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<Bool, DecodingError> {
            Result { () throws(DecodingError) in
                try scan(bytes) { (key, value, _) throws(DecodingError) in try field(key, value) }
            }
        }
        if let result = line.withContiguousStorageIfAvailable(scanned) {
            _ = try result.get()
        } else {
            _ = try Array(line).withUnsafeBufferPointer(scanned).get()
        }
    }

    /// Scans one flat object in `bytes`, calling `field` with each key, its value and the field's byte
    /// range (from the key's opening quote to the end of the value), in the order they appear.
    ///
    /// Returns whether the object is in canonical form as far as its bytes alone can tell: no
    /// whitespace, keys in strictly ascending byte order, strings escaped exactly as `appendString`
    /// escapes them, integers as `String(Int)` prints them. (Whether the fields are the ones an encoder
    /// would write is for the caller to say.) Errors are the same, at the same offsets, for any input.
    static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>,
        field: (String, Value, Range<Int>) throws(DecodingError) -> Void
    ) throws(DecodingError) -> Bool {
        var i = 0
        var canonical = true
        func fail(_ message: String) -> DecodingError { DecodingError(message: message, offset: i) }
        func skipSpace() {
            while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 13 {
                i += 1
                canonical = false
            }
        }
        func expect(_ byte: UInt8, _ what: String) throws(DecodingError) {
            skipSpace()
            guard i < bytes.count, bytes[i] == byte else { throw fail("expected \(what)") }
            i += 1
        }
        func parseString() throws(DecodingError) -> String {
            guard i < bytes.count, bytes[i] == 34 else { throw fail("expected a string") }
            i += 1
            let start = i
            // Fast path: no escapes (always canonical).
            while i < bytes.count, bytes[i] != 34, bytes[i] != 92, bytes[i] >= 0x20 { i += 1 }
            if i < bytes.count, bytes[i] == 34 {
                defer { i += 1 }
                return try validated(UnsafeBufferPointer(rebasing: bytes[start..<i]))
            }
            var out = Array(bytes[start..<i])
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case 34:
                    i += 1
                    return try out.withUnsafeBufferPointer { (text) throws(DecodingError) in try validated(text) }
                case 92:
                    i += 1
                    guard i < bytes.count else { throw fail("unfinished escape") }
                    let escape = bytes[i]
                    i += 1
                    switch escape {
                    case 34, 92: out.append(escape)
                    case 47:
                        out.append(escape)
                        canonical = false
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        let digits = i
                        var scalar = try hex4()
                        // The encoder writes `\u00xx` (lowercase) only for control characters without a short form.
                        if !isCanonicalUnicodeEscape(scalar, UnsafeBufferPointer(rebasing: bytes[digits..<i])) {
                            canonical = false
                        }
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard i + 1 < bytes.count, bytes[i] == 92, bytes[i + 1] == UInt8(ascii: "u") else {
                                throw fail("unpaired surrogate")
                            }
                            i += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00..<0xE000).contains(scalar) {
                            throw fail("unpaired surrogate")
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                        out.append(contentsOf: String(Character(unicode)).utf8)
                    default:
                        throw fail("invalid escape")
                    }
                default:
                    guard byte >= 0x20 else { throw fail("control character in a string") }
                    out.append(byte)
                    i += 1
                }
            }
            throw fail("unterminated string")
        }
        func hex4() throws(DecodingError) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let digit: UInt32
                switch c {
                case 48...57: digit = UInt32(c - 48)
                case 97...102: digit = UInt32(c - 87)
                case 65...70: digit = UInt32(c - 55)
                default: throw fail("invalid \\u escape")
                }
                value = value << 4 | digit
                i += 1
            }
            return value
        }
        func validated(_ slice: UnsafeBufferPointer<UInt8>) throws(DecodingError) -> String {
            guard let text = String(validating: slice, as: UTF8.self) else { throw fail("invalid UTF-8") }
            return text
        }
        func parseInt() throws(DecodingError) -> Int {
            var negative = false
            if i < bytes.count, bytes[i] == 45 {
                negative = true
                i += 1
            }
            let digitsStart = i
            var magnitude = 0
            while i < bytes.count, bytes[i] >= 48 && bytes[i] <= 57 {
                // At most 18 digits are accepted (checked below), so this cannot overflow before the check.
                if i - digitsStart < 18 { magnitude = magnitude * 10 + Int(bytes[i] - 48) }
                i += 1
            }
            guard i > digitsStart, i - digitsStart <= 18 else { throw fail("expected an integer") }
            guard !(bytes[digitsStart] == 48 && i - digitsStart > 1) else { throw fail("leading zero") }
            if i < bytes.count, bytes[i] == 46 || bytes[i] == 101 || bytes[i] == 69 {
                throw fail("only whole numbers are allowed")
            }
            // `-0` reads as 0, which is written `0`.
            if negative && magnitude == 0 { canonical = false }
            return negative ? -magnitude : magnitude
        }

        try expect(123, "{")
        skipSpace()
        if i < bytes.count, bytes[i] == 125 {
            i += 1
        } else {
            var previousKey = 0..<0
            while true {
                skipSpace()
                let fieldStart = i
                let key = try parseString()
                // The key's raw bytes, quotes excluded; escaped keys are never known fields, so raw order will do.
                let keyRange = (fieldStart + 1)..<(i - 1)
                if !previousKey.isEmpty
                    && !UnsafeBufferPointer(rebasing: bytes[previousKey]).lexicographicallyPrecedes(
                        UnsafeBufferPointer(rebasing: bytes[keyRange]))
                {
                    canonical = false
                }
                previousKey = keyRange
                try expect(58, ":")
                skipSpace()
                guard i < bytes.count else { throw fail("expected a value") }
                let value: Value
                switch bytes[i] {
                case 34: value = .string(try parseString())
                case 45, 48...57: value = .int(try parseInt())
                default: throw fail("values must be strings or whole numbers")
                }
                do {
                    try field(key, value, fieldStart..<i)
                } catch {
                    throw DecodingError(message: error.message, offset: i)
                }
                skipSpace()
                guard i < bytes.count else { throw fail("expected , or }") }
                if bytes[i] == 44 { i += 1; continue }
                if bytes[i] == 125 { i += 1; break }
                throw fail("expected , or }")
            }
        }
        skipSpace()
        guard i == bytes.count else { throw fail("text after the object") }
        return canonical
    }

    /// Whether `\\u` followed by `digits` (which read as `scalar`) is how `appendString` writes `scalar`.
    private static func isCanonicalUnicodeEscape(_ scalar: UInt32, _ digits: UnsafeBufferPointer<UInt8>) -> Bool {
        guard scalar < 0x20, ![0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(scalar) else { return false }
        let hex = "0123456789abcdef".utf8
        return digits[0] == 48 && digits[1] == 48
            && digits[2] == hex[hex.index(hex.startIndex, offsetBy: Int(scalar >> 4))]
            && digits[3] == hex[hex.index(hex.startIndex, offsetBy: Int(scalar & 15))]
    }
}
