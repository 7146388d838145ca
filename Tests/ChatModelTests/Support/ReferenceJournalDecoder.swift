@testable import ChatModel

/// The journal decoder as it was before it verified the canonical form while parsing: decode, then
/// re-encode what was decoded and compare it with the line, then hash. Kept only as the oracle for the
/// differential test (`JournalDecoderTests`): the decoder must accept and refuse exactly what this does,
/// with the same message.
enum ReferenceJournalDecoder {
    static func decode(_ line: [UInt8]) throws(FormatError) -> JournalEntry {
        var bag = JournalFieldBag()
        do throws(CanonicalJSON.DecodingError) {
            try decodeObject(line) { (key, value) throws(CanonicalJSON.DecodingError) in
                guard JournalEvent.knownFields.contains(key) else {
                    throw CanonicalJSON.DecodingError(message: "unknown field '\(key)'", offset: 0)
                }
                guard bag.value(key) == nil else {
                    throw CanonicalJSON.DecodingError(message: "duplicate field '\(key)'", offset: 0)
                }
                bag.pairs.append((key, value))
            }
        } catch {
            throw FormatError(
                .journal,
                "not a valid journal line (\(error.message) at byte \(error.offset + 1)): the line was changed or damaged"
            )
        }
        let entry: JournalEntry
        do throws(JournalFieldBag.Missing) {
            let name = try bag.string("event")
            guard let actor = Actor(rawValue: try bag.string("actor")) else {
                throw JournalFieldBag.Missing(field: "actor")
            }
            guard let ts = Timestamp(try bag.string("ts")) else { throw JournalFieldBag.Missing(field: "ts") }
            entry = JournalEntry(
                seq: try bag.int("seq"), ts: ts, actor: actor, event: try JournalEvent(name: name, fields: bag),
                prev: try bag.string("prev"), hash: try bag.string("hash"))
        } catch {
            if let unknown = error.unknownEvent {
                if let hash = try? bag.string("hash"), let withoutHash = removingHashField(line, hash: hash),
                    SHA256Hex.digest(withoutHash) != hash
                {
                    throw FormatError(.journal, "hash does not match the line's content: the line was changed")
                }
                throw FormatError(
                    .journal,
                    "unknown event '\(unknown)': this journal was written by a newer Letterbox; upgrade to read it")
            }
            throw FormatError(
                .journal,
                "field '\(error.field)' is missing or has a value this version does not know: the line was changed or damaged"
            )
        }
        let base = CanonicalJSON.encode(baseFields(entry))
        guard let withoutHash = removingHashField(line, hash: entry.hash), withoutHash.elementsEqual(base) else {
            throw FormatError(
                .journal, "the line is not in canonical form (a field was added, changed in type, or reformatted)")
        }
        guard SHA256Hex.digest(base) == entry.hash else {
            throw FormatError(.journal, "hash does not match the line's content: the line was changed")
        }
        return entry
    }

    static func removingHashField(_ bytes: [UInt8], hash: String) -> [UInt8]? {
        let field = Array(",\"hash\":".utf8) + CanonicalJSON.encodeString(hash)
        guard bytes.count >= field.count,
            let start = (0...(bytes.count - field.count)).first(where: { start in
                bytes[start] == field[0] && bytes[start..<(start + field.count)].elementsEqual(field)
            })
        else { return nil }
        return Array(bytes[..<start]) + Array(bytes[(start + field.count)...])
    }

    static func baseFields(_ entry: JournalEntry) -> [(String, CanonicalJSON.Value)] {
        [
            ("seq", .int(entry.seq)), ("ts", .string(entry.ts.description)), ("actor", .string(entry.actor.rawValue)),
            ("prev", .string(entry.prev)),
        ] + entry.event.fields
    }

    // The scanner as it was (CanonicalJSON.decodeObject before it tracked the canonical form).
    /// Decodes one flat object, calling `field` for each key and value in the order they appear.
    ///
    /// Throws for anything that is not a single object of string or integer values, and for duplicate
    /// keys (checked by the caller's `field`, which may throw).
    static func decodeObject(
        _ line: some Collection<UInt8>,
        field: (String, CanonicalJSON.Value) throws(CanonicalJSON.DecodingError) -> Void
    ) throws(CanonicalJSON.DecodingError) {
        let bytes = Array(line)
        var i = 0
        func fail(_ message: String) -> CanonicalJSON.DecodingError {
            CanonicalJSON.DecodingError(message: message, offset: i)
        }
        func skipSpace() { while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 13 { i += 1 } }
        func expect(_ byte: UInt8, _ what: String) throws(CanonicalJSON.DecodingError) {
            skipSpace()
            guard i < bytes.count, bytes[i] == byte else { throw fail("expected \(what)") }
            i += 1
        }
        func parseString() throws(CanonicalJSON.DecodingError) -> String {
            guard i < bytes.count, bytes[i] == 34 else { throw fail("expected a string") }
            i += 1
            let start = i
            // Fast path: no escapes.
            while i < bytes.count, bytes[i] != 34, bytes[i] != 92, bytes[i] >= 0x20 { i += 1 }
            if i < bytes.count, bytes[i] == 34 {
                defer { i += 1 }
                return try validated(bytes[start..<i])
            }
            var out = Array(bytes[start..<i])
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case 34:
                    i += 1
                    return try validated(out[...])
                case 92:
                    i += 1
                    guard i < bytes.count else { throw fail("unfinished escape") }
                    let escape = bytes[i]
                    i += 1
                    switch escape {
                    case 34, 92, 47: out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
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
        func hex4() throws(CanonicalJSON.DecodingError) -> UInt32 {
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
        func validated(_ slice: ArraySlice<UInt8>) throws(CanonicalJSON.DecodingError) -> String {
            guard let text = String(validating: slice, as: UTF8.self) else { throw fail("invalid UTF-8") }
            return text
        }
        func parseInt() throws(CanonicalJSON.DecodingError) -> Int {
            let start = i
            if i < bytes.count, bytes[i] == 45 { i += 1 }
            let digitsStart = i
            while i < bytes.count, bytes[i] >= 48 && bytes[i] <= 57 { i += 1 }
            guard i > digitsStart, i - digitsStart <= 18 else { throw fail("expected an integer") }
            guard !(bytes[digitsStart] == 48 && i - digitsStart > 1) else { throw fail("leading zero") }
            if i < bytes.count, bytes[i] == 46 || bytes[i] == 101 || bytes[i] == 69 {
                throw fail("only whole numbers are allowed")
            }
            return Int(String(decoding: bytes[start..<i], as: UTF8.self)) ?? 0
        }

        try expect(123, "{")
        skipSpace()
        if i < bytes.count, bytes[i] == 125 {
            i += 1
        } else {
            while true {
                skipSpace()
                let key = try parseString()
                try expect(58, ":")
                skipSpace()
                guard i < bytes.count else { throw fail("expected a value") }
                let value: CanonicalJSON.Value
                switch bytes[i] {
                case 34: value = .string(try parseString())
                case 45, 48...57: value = .int(try parseInt())
                default: throw fail("values must be strings or whole numbers")
                }
                do {
                    try field(key, value)
                } catch {
                    throw CanonicalJSON.DecodingError(message: error.message, offset: i)
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
    }
}
