import Foundation
import Testing

@testable import ChatModel

/// The decoder verifies the canonical form while parsing (docs/format.md §7.3) instead of encoding each
/// line again. These tests hold it to the decoder it replaced (`ReferenceJournalDecoder`): the same
/// entries, the same refusals with the same words, for every line and thousands of damaged ones.
@Suite("Journal decoding checks the canonical form while parsing (docs/format.md §7.3)")
struct JournalDecoderTests {
    /// One line of every shape: each event kind, optional fields present and absent, escapes, times.
    static func everyShape() -> [[UInt8]] {
        var journal = JournalBuilder()
        journal.deliveredAndReplied("hello")
        journal.add(.rejected(file: "notes.txt", reason: "only .md files are messages", sha256: nil))
        journal.add(.rejected(file: "big.md", reason: "too large", sha256: "abc"))
        journal.add(
            .retryScheduled(
                message: "m", attempt: 2, reason: "timeout", notBefore: Timestamp(milliseconds: 1_795_000_123_456)))
        journal.add(
            .failed(message: "m", reason: "quote \" back \\ tab \t nl \n bell \u{7} del \u{7F} é 🎉", attempt: nil))
        journal.add(.failed(message: "m", reason: "slash / and \u{1F} and \u{0}", attempt: -3))
        journal.add(
            .approvalRequested(
                approval: "a1", run: "r1", file: "a1.approval.md", toolCall: "tc", tool: "shell", runtimeID: "x",
                decisions: [.approve, .edit, .reject], expiresAt: Timestamp(milliseconds: 1_795_100_000_000),
                schema: #"{"type":"object"}"#, argumentsSHA256: "d"))
        journal.add(
            .approvalRequested(
                approval: "a2", run: "r1", file: "a2.approval.md", toolCall: nil, tool: nil, runtimeID: nil))
        journal.add(
            .approvalAnswered(approval: "a1", decision: .edit, note: "n", file: "a1.answer.md", arguments: "{}"))
        journal.add(.control(file: "controls/abort.md", outcome: .error, reason: "nothing is running", detail: nil))
        journal.add(.journalRepaired(bytes: 17, sha256: "t", file: "torn/x"))
        journal.add(.anchor(heads: [JournalHead(thread: "ops", seq: 3, hash: String(repeating: "a", count: 64))]))
        journal.add(.authRecovered)
        journal.add(.daemonStopped(reason: nil))
        journal.add(.toolCall(run: "r1", toolCall: "tc", tool: "t", file: "f.md", status: "done", runtimeID: "0"))
        return journal.lines
    }

    /// The outcome of decoding, comparable between the two decoders.
    enum Outcome: Equatable, CustomStringConvertible {
        case entry(JournalEntry)
        case refused(String)

        init(_ body: () throws(FormatError) -> JournalEntry) {
            do { self = .entry(try body()) } catch { self = .refused(error.message) }
        }

        var description: String {
            switch self {
            case let .entry(entry): "entry \(entry.seq) \(entry.event.name)"
            case let .refused(message): "refused: \(message)"
            }
        }
    }

    static let notCanonical =
        "the line is not in canonical form (a field was added, changed in type, or reformatted)"

    /// Whether the reference decoder accepted `line` only because it looks for `hash` anywhere: its
    /// keys are not in sorted order, which is not the canonical form (the one accepted difference).
    static func hashOutOfPlace(_ line: [UInt8]) -> Bool {
        var keys: [String] = []
        try? CanonicalJSON.decodeObject(line) { key, _ in keys.append(key) }
        return keys != keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func compare(_ line: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let reference = Outcome { () throws(FormatError) in try ReferenceJournalDecoder.decode(line) }
        let decoded = Outcome { () throws(FormatError) in try JournalCodec.decode(line) }
        // A line with `hash` out of place: the reference looked past that, so it accepted it, or refused
        // it for its hash when also damaged elsewhere; it is not canonical, and that is refused first now.
        if decoded == .refused(notCanonical), hashOutOfPlace(line) {
            if case .entry = reference { return }
            if reference == .refused("hash does not match the line's content: the line was changed") { return }
        }
        #expect(
            decoded == reference, "\(String(decoding: line, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    @Test("every shape of line decodes to the entry the reference decoder gives")
    func everyShapeAgrees() throws {
        for line in Self.everyShape() {
            Self.compare(line)
            _ = try JournalCodec.decode(line)
        }
    }

    /// Damage that keeps a line close to valid: a byte changed, removed or added, whitespace, an
    /// escape spelled differently, a field moved, repeated or retyped.
    static func damaged(_ line: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var line = line
        let alphabet = Array(#" {}[]:,"\\/-0123456789abcdefuntADEFZT.+_ é"#.utf8)
        func position(_ count: Int) -> Int { Int(rng.next() % UInt64(max(count, 1))) }
        switch rng.next() % 9 {
        case 0: line[position(line.count)] = alphabet[position(alphabet.count)]
        case 1: line.remove(at: position(line.count))
        case 2: line.insert(alphabet[position(alphabet.count)], at: position(line.count + 1))
        case 3:
            // Whitespace after a separator.
            let separators = line.indices.filter { line[$0] == 44 || line[$0] == 58 }
            if let at = separators.randomElement(using: &rng) { line.insert(32, at: at + 1) }
        case 4:
            // Move the hash field elsewhere (the reference accepts that; see hashOutOfPlace).
            var text = String(decoding: line, as: UTF8.self)
            if let range = text.range(of: #","hash":"[0-9a-f]{64}""#, options: .regularExpression) {
                let field = String(text[range])
                text.removeSubrange(range)
                text.insert(contentsOf: field, at: text.index(before: text.endIndex))
                line = Array(text.utf8)
            }
        case 5:
            // A short escape spelled long, or a plain character escaped.
            var text = String(decoding: line, as: UTF8.self)
            let swaps = [
                (#"\n"#, #"\u000a"#), (#"\u0007"#, #"\u0007"#.uppercased()), ("/", #"\/"#), ("a", #"\u0061"#),
                (#"\t"#, #"\u0009"#), ("é", #"\u00e9"#),
            ]
            let (from, to) = swaps[position(swaps.count)]
            if let range = text.range(of: from) { text.replaceSubrange(range, with: to) }
            line = Array(text.utf8)
        case 6:
            // An integer rewritten.
            var text = String(decoding: line, as: UTF8.self)
            let forms = [#""seq":-0"#, #""seq":01"#, #""seq":"1""#, #""seq":1.0"#, #""seq":-1"#]
            if let range = text.range(of: #""seq":[0-9]+"#, options: .regularExpression) {
                text.replaceSubrange(range, with: forms[position(forms.count)])
            }
            line = Array(text.utf8)
        case 7:
            // A field the event does not have, or a field of the line duplicated.
            var text = String(decoding: line, as: UTF8.self)
            let extras = [#""note":"x","#, #""count":3,"#, #""zzz":1,"#, #""actor":"daemon","#]
            text.insert(contentsOf: extras[position(extras.count)], at: text.index(after: text.startIndex))
            line = Array(text.utf8)
        default:
            // A time in another accepted spelling.
            var text = String(decoding: line, as: UTF8.self)
            let forms = ["+00:00", "z", "0Z", ""]
            if let range = text.range(of: #"\.[0-9]{3}Z"#, options: .regularExpression) {
                let form = forms[position(forms.count)]
                text.replaceSubrange(range, with: form == "0Z" ? text[range].dropLast() + "0Z" : "." + form)
            }
            line = Array(text.utf8)
        }
        return line
    }

    @Test("damaged lines are refused exactly as before, with the same message")
    func damagedLinesAgree() {
        var rng = SplitMix64(seed: 0x5CA1_AB1E)
        let lines = Self.everyShape()
        for round in 0..<6000 {
            var line = lines[round % lines.count]
            for _ in 0...(rng.next() % 2) { line = Self.damaged(line, &rng) }
            Self.compare(line)
        }
    }

    /// `withoutHash` (a canonical-looking line with no `hash` field) with its correct hash added in
    /// its sorted place: only the canonical check can refuse it.
    static func hashed(_ withoutHash: String) -> [UInt8] {
        let hash = SHA256Hex.digest(Array(withoutHash.utf8))
        var text = withoutHash
        let keys = ["message", "not_before", "note", "outcome", "prev"]
        let at = keys.compactMap { text.range(of: #","\#($0)":"#)?.lowerBound }.min() ?? text.endIndex
        text.insert(contentsOf: #","hash":"\#(hash)""#, at: at)
        return Array(text.utf8)
    }

    static let prev = JournalCodec.genesis

    @Test(
        "a correctly hashed line that is not in canonical form is refused as such",
        arguments: [
            // Whitespace, an escaped slash, escapes spelled long or in capitals, -0, key order.
            #"{"actor":"daemon", "event":"auth_recovered","prev":"\#(prev)","seq":1,"ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"daemon","event":"failed","prev":"\#(prev)","reason":"a\/b","seq":1,"target":"m","ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"daemon","event":"failed","prev":"\#(prev)","reason":"a\u000ab","seq":1,"target":"m","ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"daemon","event":"failed","prev":"\#(prev)","reason":"a\u001Fb","seq":1,"target":"m","ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"daemon","event":"failed","prev":"\#(prev)","reason":"\u00e9","seq":1,"target":"m","ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"daemon","attempt":-0,"event":"failed","prev":"\#(prev)","reason":"r","seq":1,"target":"m","ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"event":"auth_recovered","actor":"daemon","prev":"\#(prev)","seq":1,"ts":"2026-11-21T09:30:00.000Z"}"#,
            // Times in a spelling the parser accepts but the encoder never writes.
            #"{"actor":"daemon","event":"auth_recovered","prev":"\#(prev)","seq":1,"ts":"2026-11-21T09:30:00.000+00:00"}"#,
            #"{"actor":"daemon","event":"auth_recovered","prev":"\#(prev)","seq":1,"ts":"2026-11-21t09:30:00.000Z"}"#,
            #"{"actor":"daemon","event":"auth_recovered","prev":"\#(prev)","seq":1,"ts":"2026-11-21T09:30:00.5Z"}"#,
            #"{"actor":"daemon","event":"auth_recovered","prev":"\#(prev)","seq":1,"ts":"2026-02-30T09:30:00.000Z"}"#,
            #"{"actor":"daemon","event":"auth_recovered","prev":"\#(prev)","seq":1,"ts":"2026-11-21T09:30:60.000Z"}"#,
            // A field the event does not have; an optional field of the wrong type; a default written out.
            #"{"actor":"daemon","event":"auth_recovered","note":"x","prev":"\#(prev)","seq":1,"ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"daemon","event":"rejected","prev":"\#(prev)","reason":"r","seq":1,"sha256":5,"target":"x.txt","ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"runtime","decisions":"approve,reject,cancel","event":"approval_requested","file":"a.md","prev":"\#(prev)","run":"r","seq":1,"target":"a","ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"runtime","decisions":"approve, edit","event":"approval_requested","file":"a.md","prev":"\#(prev)","run":"r","seq":1,"target":"a","ts":"2026-11-21T09:30:00.000Z"}"#,
            // A derived field missing or different (journal_repaired's target is always the journal's name).
            #"{"actor":"daemon","bytes":3,"event":"journal_repaired","file":"t","prev":"\#(prev)","seq":1,"sha256":"s","ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"daemon","bytes":3,"event":"journal_repaired","file":"t","prev":"\#(prev)","seq":1,"sha256":"s","target":"other","ts":"2026-11-21T09:30:00.000Z"}"#,
        ])
    func notCanonical(withoutHash: String) {
        let line = Self.hashed(withoutHash)
        let decoded = Outcome { () throws(FormatError) in try JournalCodec.decode(line) }
        #expect(decoded == .refused(Self.notCanonical), "\(withoutHash)")
        Self.compare(line)
    }

    @Test("the canonical spelling of those lines decodes")
    func canonicalControl() throws {
        let line = Self.hashed(
            #"{"actor":"daemon","event":"failed","prev":"\#(Self.prev)","reason":"a/b\n\u001f","seq":1,"target":"m","ts":"2026-11-21T09:30:00.000Z"}"#
        )
        let entry = try JournalCodec.decode(line)
        #expect(entry.event == .failed(message: "m", reason: "a/b\n\u{1F}", attempt: nil))
        #expect(JournalCodec.encode(entry) == line)
    }

    @Test("a hash field out of its sorted place is not canonical (the old decoder let it pass)")
    func hashOutOfPlace() throws {
        var journal = JournalBuilder()
        let canonical = JournalCodec.encode(journal.add(.authRecovered))
        var text = String(decoding: canonical, as: UTF8.self)
        let range = try #require(text.range(of: #","hash":"[0-9a-f]{64}""#, options: .regularExpression))
        let field = String(text[range])
        text.removeSubrange(range)
        text.insert(contentsOf: field, at: text.index(before: text.endIndex))
        let moved = Array(text.utf8)
        #expect((try? ReferenceJournalDecoder.decode(moved)) != nil)
        #expect(Outcome { () throws(FormatError) in try JournalCodec.decode(moved) } == .refused(Self.notCanonical))
        // And first, where no comma precedes it.
        let rest = String(decoding: canonical, as: UTF8.self).dropFirst().replacingOccurrences(of: field, with: "")
        let first = "{" + field.dropFirst() + "," + rest
        #expect(throws: FormatError.self) { try JournalCodec.decode(Array(first.utf8)) }
    }

    @Test("a time is its description exactly when the encoder would write it so")
    func timestampDescription() {
        var rng = SplitMix64(seed: 0x7135_7A3B)
        for _ in 0..<2000 {
            let stamp = Timestamp(
                milliseconds: Int64(bitPattern: rng.next() % 400_000_000_000_000) - 62_000_000_000_000)
            #expect(stamp.isDescription(of: stamp.description))
            #expect(!stamp.isDescription(of: stamp.adding(milliseconds: 1).description))
        }
        for text in [
            "2026-11-21T09:30:00.000Z", "2026-11-21T09:30:00Z", "2026-02-29T00:00:00.000Z", "2024-02-29T00:00:00.000Z",
            "0000-01-01T00:00:00.000Z", "9999-12-31T23:59:60.999Z", "2026-11-21T09:30:00.1234Z",
        ] {
            let stamp = Timestamp(text)
            #expect(stamp?.isDescription(of: text) == stamp.map { $0.description == text }, "\(text)")
        }
        #expect(Timestamp(milliseconds: 0).isDescription(of: nil) == false)
    }
}
