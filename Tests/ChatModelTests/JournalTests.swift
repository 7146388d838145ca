import Foundation
import LetterboxTestSupport
import PropertyBased
import Testing

@testable import ChatModel

@Suite("Journal lines and the hash chain (docs/format.md §7.2-7.3, §7.6)")
struct JournalTests {
    static func sampleJournal() -> JournalBuilder {
        var journal = JournalBuilder()
        journal.deliveredAndReplied("hello")
        journal.add(.rejected(file: "notes.txt", reason: "only .md files are messages", sha256: nil))
        journal.add(
            .control(file: "controls/abort.md", outcome: .error, reason: "nothing is running", detail: nil),
            actor: .operator)
        return journal
    }

    @Test("§7.2: every line decodes back to the same entry")
    func roundTrip() throws {
        for entry in Self.sampleJournal().entries {
            #expect(try JournalCodec.decode(JournalCodec.encode(entry)) == entry)
        }
    }

    // Gen.unicodeScalar(in:) crashes on surrogate code points (swift-property-based 2.0.1), so draw from
    // the ranges on either side; ASCII (controls, quotes, backslashes) gets a range of its own.
    static let text = Gen.oneOf(
        Gen.unicodeScalar(in: "\u{0}"..."\u{7F}"), Gen.unicodeScalar(in: "\u{80}"..."\u{D7FF}"),
        Gen.unicodeScalar(in: "\u{E000}"..."\u{10FFFF}")
    ).map { Character($0) }.string(of: 0...24)

    @Test("§7.2: any text survives a round trip through a line")
    func propertyRoundTrip() {
        seededCheck(seed: 0x1E77_E4B0, count: 400, zip(Self.text, Self.text, Gen.int(in: 1...1_000_000))) {
            reason, note, attempt in
            let entry = JournalCodec.entry(
                after: nil, ts: Timestamp(milliseconds: 1_795_000_000_000), actor: .operator,
                event: .failed(message: "m\(attempt)", reason: reason, attempt: attempt))
            #expect(
                (try? JournalCodec.decode(JournalCodec.encode(entry))) == entry,
                "\(reason.unicodeScalars.map { $0.value })")
            let answer = JournalCodec.entry(
                after: entry, ts: Timestamp(milliseconds: 1_795_000_000_001), actor: .operator,
                event: .approvalAnswered(approval: "a", decision: .reject, note: note, file: nil))
            #expect((try? JournalCodec.decode(JournalCodec.encode(answer))) == answer)
        }
    }

    @Test(
        "§7.2: unknown events, unknown fields and reformatted lines are refused",
        arguments: [
            #"{"actor":"daemon","event":"teleported","hash":"x","prev":"y","seq":1,"ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"daemon","colour":"red","event":"auth_recovered","hash":"x","prev":"y","seq":1,"ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"seq":1,"actor":"daemon","event":"auth_recovered","hash":"x","prev":"y","ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor": "daemon","event":"auth_recovered","hash":"x","prev":"y","seq":1,"ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"daemon","event":"auth_recovered","hash":"x","prev":"y","seq":1.5,"ts":"2026-11-21T09:30:00.000Z"}"#,
            #"{"actor":"daemon","event":"auth_recovered","hash":"x","prev":"y","seq":1,"ts":"yesterday"}"#,
            #"{"actor":"daemon","event":"detected","hash":"x","prev":"y","seq":1,"target":"m","ts":"2026-11-21T09:30:00.000Z"}"#,
            #"["not","an","object"]"#, "", "{",
        ])
    func refused(line: String) {
        #expect(throws: FormatError.self) { try JournalCodec.decode(Array(line.utf8)) }
    }

    @Test("§7.3: the canonical encoding is what Python's json.dumps prints, so Python can verify a chain")
    func pythonAgrees() async throws {
        var journal = Self.sampleJournal()
        journal.add(
            .failed(
                message: "hello", reason: "quote \" backslash \\ tab \t nl \n bell \u{7} del \u{7F} é 🎉 \u{2028}",
                attempt: nil))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lb-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("journal.jsonl")
        try Data(journal.bytes).write(to: path)
        let script = """
            import hashlib, json, sys
            prev = "0" * 64
            for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
                rec = json.loads(line); h = rec.pop("hash")
                canon = json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                assert rec["prev"] == prev and rec["seq"] == n, n
                assert hashlib.sha256(canon.encode()).hexdigest() == h, n
                rec["hash"] = h
                assert json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\\n" == line, n
                prev = h
            print("ok", n)
            """
        let run = try await runProcess("/usr/bin/env", ["python3", "-c", script, path.path])
        let output = run.stdout + run.stderr
        #expect(run.status == 0, "\(output)")
        #expect(output.hasPrefix("ok \(journal.entries.count)"))
    }

    @Test("§7.3: an intact chain verifies")
    func intact() {
        let journal = Self.sampleJournal()
        let read = JournalText.read(journal.bytes)
        #expect(read.firstError == nil && read.tornTail == nil)
        #expect(JournalText.verifyChain(read.entries) == nil)
    }

    enum Tamper: String, CaseIterable, Sendable {
        case flipByte, flipHashByte, dropLine, reorder, duplicate, insertForeign, truncateMiddle, editAndRehash
    }

    @Test("§7.3: a renamed event is tampering when the hash no longer matches; a newer writer's event is not")
    func renamedEvent() throws {
        let line = String(decoding: JournalCodec.encode(Self.sampleJournal().entries[0]), as: UTF8.self)
        let renamed = line.replacingOccurrences(of: "\"detected\"", with: "\"Detected\"")
        #expect(renamed != line)
        let tampered = #expect(throws: FormatError.self) { try JournalCodec.decode(Array(renamed.utf8)) }
        #expect(tampered?.description.contains("hash does not match") == true, "\(String(describing: tampered))")

        // A line a newer Letterbox wrote: an event this version does not know, hashed correctly.
        let base =
            #"{"actor":"daemon","event":"teleported","prev":"\#(JournalCodec.genesis)","seq":1,"ts":"2026-11-21T09:30:00.000Z"}"#
        let newer = base.replacingOccurrences(
            of: #","prev""#, with: #","hash":"\#(SHA256Hex.digest(Array(base.utf8)))","prev""#)
        let unknown = #expect(throws: FormatError.self) { try JournalCodec.decode(Array(newer.utf8)) }
        #expect(unknown?.description.contains("newer Letterbox") == true, "\(String(describing: unknown))")
    }

    @Test("§7.3: tampering is detected and names the first bad line", arguments: Tamper.allCases)
    func tampering(kind: Tamper) throws {
        let journal = Self.sampleJournal()
        var lines = journal.lines
        let expectedLine: Int
        switch kind {
        case .flipByte:
            let index = try #require(lines[3].firstIndex(of: UInt8(ascii: "1")))
            lines[3][index] = UInt8(ascii: "2")
            expectedLine = 4
        case .flipHashByte:
            let range = try #require(lines[2].firstRange(of: Array(#""hash":""#.utf8)))
            let index = range.upperBound
            lines[2][index] = lines[2][index] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
            expectedLine = 3
        case .dropLine:
            lines.remove(at: 2)
            expectedLine = 3
        case .reorder:
            lines.swapAt(4, 5)
            expectedLine = 5
        case .duplicate:
            lines.insert(lines[1], at: 2)
            expectedLine = 3
        case .insertForeign:
            var other = JournalBuilder()
            other.add(.retryRequested(message: "x"))
            lines.insert(other.lines[0], at: 1)
            expectedLine = 2
        case .truncateMiddle:
            lines[1] = Array(lines[1].prefix(40))
            expectedLine = 2
        case .editAndRehash:
            // A forger who edits a line and fixes its own hash still breaks the next line's prev.
            var entry = journal.entries[1]
            entry.event = .accepted(message: "hello", requestID: "forged", agent: "ops", sha256: "h-hello")
            entry.hash = JournalCodec.hash(of: entry)
            lines[1] = JournalCodec.encode(entry)
            expectedLine = 3
        }
        let read = JournalText.read(lines.flatMap { $0 + [10] })
        let problem = read.firstError ?? JournalText.verifyChain(read.entries)
        #expect(problem?.line == expectedLine, "\(String(describing: problem))")
    }

    @Test("§7.6: a last line without its newline is a torn tail, reported with its offset")
    func tornTail() {
        let journal = Self.sampleJournal()
        var bytes = journal.bytes
        let fullLength = bytes.count
        bytes += Array(#"{"actor":"daemon","event":"att"#.utf8)
        let read = JournalText.read(bytes)
        #expect(read.entries.count == journal.entries.count)
        #expect(read.firstError == nil)
        #expect(read.tornTail?.offset == fullLength)
        #expect(JournalText.verifyChain(read.entries) == nil)
    }

    @Test("Timestamps format and parse exactly")
    func timestamps() {
        #expect(Timestamp("2026-11-21T09:30:00.125Z")?.description == "2026-11-21T09:30:00.125Z")
        #expect(Timestamp("1970-01-01T00:00:00Z")?.milliseconds == 0)
        #expect(Timestamp("2026-11-21T09:30:00.1+00:00")?.description == "2026-11-21T09:30:00.100Z")
        #expect(Timestamp("2026-13-01T00:00:00Z") == nil)
        #expect(Timestamp("2026-11-21 09:30:00Z") == nil)
        seededCheck(seed: 42, count: 1000, Gen.int64(in: 0...4_102_444_800_000)) { millis in
            let stamp = Timestamp(milliseconds: millis)
            #expect(Timestamp(stamp.description) == stamp)
        }
    }
}
