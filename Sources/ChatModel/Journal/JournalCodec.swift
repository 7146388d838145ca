/// Encodes, decodes and chains journal lines (docs/format.md §7.2-7.3).
public enum JournalCodec {
    /// The `prev` of line 1.
    public static let genesis = String(repeating: "0", count: 64)

    /// The canonical line for `entry`, without the trailing newline.
    public static func encode(_ entry: JournalEntry) -> [UInt8] {
        CanonicalJSON.encode(baseFields(entry) + [("hash", .string(entry.hash))])
    }

    /// The hash `entry` must carry: SHA-256 of its canonical encoding without `hash`.
    public static func hash(of entry: JournalEntry) -> String {
        SHA256Hex.digest(CanonicalJSON.encode(baseFields(entry)))
    }

    /// The entry that follows `previous` (nil for line 1), with its seq, prev and hash filled in.
    public static func entry(after previous: JournalEntry?, ts: Timestamp, actor: Actor, event: JournalEvent)
        -> JournalEntry
    {
        var entry = JournalEntry(
            seq: (previous?.seq ?? 0) + 1, ts: ts, actor: actor, event: event, prev: previous?.hash ?? genesis, hash: ""
        )
        entry.hash = hash(of: entry)
        return entry
    }

    /// `line` without its `,"hash":"…"` field. In a canonical line a `"` inside a string is escaped, so the
    /// unescaped key can only be the field itself, and it is never first (`actor` sorts before it).
    private static func removingHashField(_ bytes: UnsafeBufferPointer<UInt8>, hash: String) -> [UInt8]? {
        let field = Array(",\"hash\":".utf8) + CanonicalJSON.encodeString(hash)
        // A plain scan: the generic `firstRange(of:)` cost more than decoding the whole line.
        guard bytes.count >= field.count,
            let start = (0...(bytes.count - field.count)).first(where: { start in
                bytes[start] == field[0] && bytes[start..<(start + field.count)].elementsEqual(field)
            })
        else { return nil }
        return Array(bytes[..<start]) + Array(bytes[(start + field.count)...])
    }

    private static func baseFields(_ entry: JournalEntry) -> [(String, CanonicalJSON.Value)] {
        [
            ("seq", .int(entry.seq)), ("ts", .string(entry.ts.description)), ("actor", .string(entry.actor.rawValue)),
            ("prev", .string(entry.prev)),
        ] + entry.event.fields
    }

    /// Decodes one line (without its newline) into an entry.
    ///
    /// Throws a `FormatError` (no path, no line: the caller knows them) when the line is not JSON of
    /// the v1 shape, names an unknown event or field, lacks a required field, or is not in canonical form.
    ///
    /// The canonical form is checked while parsing, not by encoding the entry again: the scanner says
    /// whether the bytes are canonical (no whitespace, sorted keys, the encoder's escapes and integers),
    /// and the fields must be exactly the ones `encode` would write for the decoded entry, with the same
    /// values. The hash is then the SHA-256 of the line's own bytes without its `hash` field.
    public static func decode(_ line: some Collection<UInt8>) throws(FormatError) -> JournalEntry {
        if let result = line.withContiguousStorageIfAvailable({ decode(bytes: $0) }) {
            return try result.get()
        }
        let copy = Array(line)
        return try copy.withUnsafeBufferPointer { decode(bytes: $0) }.get()
    }

    private static func decode(bytes: UnsafeBufferPointer<UInt8>) -> Result<JournalEntry, FormatError> {
        var bag = JournalFieldBag()
        bag.pairs.reserveCapacity(12)
        var hashField: Range<Int>?
        let lexicallyCanonical: Bool
        do throws(CanonicalJSON.DecodingError) {
            lexicallyCanonical = try CanonicalJSON.scan(bytes) {
                (key, value, range) throws(CanonicalJSON.DecodingError) in
                guard JournalEvent.knownFields.contains(key) else {
                    throw CanonicalJSON.DecodingError(message: "unknown field '\(key)'", offset: 0)
                }
                guard bag.value(key) == nil else {
                    throw CanonicalJSON.DecodingError(message: "duplicate field '\(key)'", offset: 0)
                }
                if key == "hash" { hashField = range }
                bag.pairs.append((key, value))
            }
        } catch {
            return .failure(
                FormatError(
                    .journal,
                    "not a valid journal line (\(error.message) at byte \(error.offset + 1)): the line was changed or damaged"
                ))
        }
        let entry: JournalEntry
        do throws(JournalFieldBag.Missing) {
            let name = try bag.string("event")
            guard let actor = Actor(rawValue: try bag.string("actor")) else {
                throw JournalFieldBag.Missing(field: "actor")
            }
            let tsText = try bag.string("ts")
            guard let ts = Timestamp(tsText) else { throw JournalFieldBag.Missing(field: "ts") }
            entry = JournalEntry(
                seq: try bag.int("seq"), ts: ts, actor: actor, event: try JournalEvent(name: name, fields: bag),
                prev: try bag.string("prev"), hash: try bag.string("hash"))
        } catch {
            if let unknown = error.unknownEvent {
                // A renamed event is tampering, not a newer writer, when the line no longer hashes to its hash.
                if let hash = try? bag.string("hash"), let withoutHash = removingHashField(bytes, hash: hash),
                    SHA256Hex.digest(withoutHash) != hash
                {
                    return .failure(
                        FormatError(.journal, "hash does not match the line's content: the line was changed"))
                }
                return .failure(
                    FormatError(
                        .journal,
                        "unknown event '\(unknown)': this journal was written by a newer Letterbox; upgrade to read it"
                    ))
            }
            return .failure(
                FormatError(
                    .journal,
                    "field '\(error.field)' is missing or has a value this version does not know: the line was changed or damaged"
                ))
        }
        // Canonical means: canonical bytes, `hash` not first (a comma before it), a time written as
        // `description` writes it, and exactly the event's own fields with the values it would write
        // (a field the event does not have, a value it would normalize, or a default it would leave out
        // all make the line differ from `encode(entry)`).
        guard lexicallyCanonical, let hashField, hashField.lowerBound > 1, bytes[hashField.lowerBound - 1] == 44,
            entry.ts.isDescription(of: bag.optionalString("ts")), hasExactlyTheEventsFields(bag, entry.event)
        else {
            return .failure(
                FormatError(
                    .journal, "the line is not in canonical form (a field was added, changed in type, or reformatted)"))
        }
        let before = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[..<(hashField.lowerBound - 1)]))
        let after = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[hashField.upperBound...]))
        guard SHA256Hex.matches(entry.hash, before, after) else {
            return .failure(FormatError(.journal, "hash does not match the line's content: the line was changed"))
        }
        return .success(entry)
    }

    /// Whether the decoded fields are the five every line has plus exactly `event.fields`, value for value.
    private static func hasExactlyTheEventsFields(_ bag: JournalFieldBag, _ event: JournalEvent) -> Bool {
        let fields = event.fields
        // seq, ts, actor, prev and hash were read with their types; event.fields never holds them.
        guard bag.pairs.count == fields.count + 5 else { return false }
        for (key, value) in fields where bag.value(key) != value { return false }
        return true
    }
}
