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
    private static func removingHashField(_ line: some Collection<UInt8>, hash: String) -> [UInt8]? {
        let bytes = Array(line)
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
    public static func decode(_ line: some Collection<UInt8>) throws(FormatError) -> JournalEntry {
        var bag = JournalFieldBag()
        do throws(CanonicalJSON.DecodingError) {
            try CanonicalJSON.decodeObject(line) { (key, value) throws(CanonicalJSON.DecodingError) in
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
                // A renamed event is tampering, not a newer writer, when the line no longer hashes to its hash.
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
        // One encoding serves both checks: the line without its hash field must be exactly the canonical
        // encoding of what was decoded (nothing added, retyped or reformatted), and its SHA-256 must be the hash.
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
}
