import InboxCore
import Testing

@testable import InboxDaemon

@Suite("SSE parser (pure, incremental, byte-level)")
struct SSEParserTests {
    /// Parses `text` fed in the given pieces, then the end of the stream.
    static func parse(_ pieces: [[UInt8]], maxLineBytes: Int = 1 << 20) throws -> [SSEEvent] {
        var parser = SSEParser(maxLineBytes: maxLineBytes)
        var events: [SSEEvent] = []
        for piece in pieces { events += try parser.feed(piece) }
        return events + parser.finish()
    }

    static func parse(_ text: String) throws -> [SSEEvent] { try parse([Array(text.utf8)]) }

    @Test("data lines, blank-line dispatch, multi-line data joined with LF")
    func basics() throws {
        let events = try Self.parse("data: one\n\ndata: two\ndata: lines\n\n")
        #expect(events.map(\.data) == ["one", "two\nlines"])
        #expect(events.allSatisfy { $0.type == "message" && $0.lastEventID == nil })
    }

    @Test("comments, retry and unknown fields are ignored; event and id are kept")
    func fields() throws {
        let text = ": hello\nretry: 1500\nx-unknown: y\nevent: agui\nid: 7\ndata: {}\n\n: keep-alive\n\ndata: next\n\n"
        let events = try Self.parse(text)
        #expect(
            events == [SSEEvent(type: "agui", data: "{}", lastEventID: "7"), SSEEvent(data: "next", lastEventID: "7")])
    }

    @Test("one space after the colon is dropped, no more; a field without a colon has an empty value")
    func spaces() throws {
        #expect(try Self.parse("data:x\n\ndata:  two spaces\n\ndata\n\n").map(\.data) == ["x", " two spaces", ""])
    }

    @Test("CRLF, CR and LF line ends all work, mixed in one stream")
    func lineEnds() throws {
        #expect(
            try Self.parse("data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\n").map(\.data) == ["a", "b", "c", "d"])
    }

    @Test("a block without data dispatches nothing; an unterminated event at the end is discarded")
    func emptyAndTrailing() throws {
        #expect(try Self.parse("event: x\n\n\n\ndata: kept\n\ndata: lost").map(\.data) == ["kept"])
        #expect(try Self.parse("data: lost too\n").isEmpty)
    }

    @Test("a byte order mark at the start of the stream is dropped")
    func byteOrderMark() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try Self.parse([bom + Array("data: x\n\n".utf8)]).map(\.data) == ["x"])
        #expect(try Self.parse([[0xEF, 0xBB], [0xBF] + Array("data: y\n\n".utf8)]).map(\.data) == ["y"])
    }

    static let sample = Array(
        (": comment\r\nretry: 1500\r\n\r\nevent: agui\r\nid: 1\r\ndata: {\"type\":\"RUN_STARTED\"}\r\n\r\n"
            + "data:{\"a\": \"naïve café ☕\"}\r\n\r\ndata: {\"split\":\r\ndata: true}\r\n\r\n"
            + "id: 2\nx: y\ndata: lf only\n\ndata: cr only\r\rdata: last\r\n\r\n").utf8)

    static let sampleData = [
        "{\"type\":\"RUN_STARTED\"}", "{\"a\": \"naïve café ☕\"}", "{\"split\":\ntrue}", "lf only", "cr only",
        "last",
    ]

    @Test("every split of a stream into two pieces gives the same events (CRLF and UTF-8 cut included)")
    func everyTwoWaySplit() throws {
        for cut in 0...Self.sample.count {
            let events = try Self.parse([Array(Self.sample[..<cut]), Array(Self.sample[cut...])])
            #expect(events.map(\.data) == Self.sampleData, "cut at \(cut)")
        }
    }

    @Test("one byte at a time, and random splits (fixed seed), give the same events")
    func byteByByteAndRandom() throws {
        #expect(try Self.parse(Self.sample.map { [$0] }).map(\.data) == Self.sampleData)
        var random = SplitMix(seed: 20_261_121)
        for _ in 0..<200 {
            var pieces: [[UInt8]] = []
            var position = 0
            while position < Self.sample.count {
                let length = Int(random.next() % 12) + 1
                pieces.append(Array(Self.sample[position..<min(Self.sample.count, position + length)]))
                position += length
            }
            #expect(try Self.parse(pieces).map(\.data) == Self.sampleData)
        }
    }

    @Test("invalid UTF-8 becomes U+FFFD instead of failing")
    func invalidUTF8() throws {
        let events = try Self.parse([Array("data: a".utf8) + [0xFF] + Array("b\n\n".utf8)])
        #expect(events.map(\.data) == ["a\u{FFFD}b"])
    }

    @Test("a line at the limit is read; one byte over throws, with the line's start, however it arrives")
    func lineCap() throws {
        let limit = 64
        let line = "data: " + String(repeating: "x", count: limit - 6)
        #expect(try Self.parse([Array((line + "\n\n").utf8)], maxLineBytes: limit).count == 1)
        let over = Array((line + "y\n\n").utf8)
        for pieces in [[over], over.map { [$0] }] {
            #expect {
                try Self.parse(pieces, maxLineBytes: limit)
            } throws: { error in
                guard let error = error as? SSEParser.LineTooLong else { return false }
                return error.limit == limit && error.prefix.starts(with: Array("data: xxx".utf8))
            }
        }
    }

    @Test("multi-line data over the limit throws too")
    func dataCap() throws {
        let text = String(repeating: "data: 0123456789\n", count: 10) + "\n"
        #expect(throws: SSEParser.LineTooLong.self) { try Self.parse([Array(text.utf8)], maxLineBytes: 100) }
        #expect(try Self.parse([Array(text.utf8)], maxLineBytes: 200).count == 1)
    }

    @Test("a 20 MiB line fed in 64 KiB chunks stops at the limit: the parser never holds more than that")
    func hugeLine() throws {
        var parser = SSEParser(maxLineBytes: 1 << 20)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
        _ = try parser.feed(Array("data: {\"type\":\"TEXT_MESSAGE_CONTENT\",\"delta\":\"".utf8))
        var fed = 0
        var thrown: SSEParser.LineTooLong?
        while fed < 20 << 20 {
            do {
                _ = try parser.feed(chunk)
                fed += chunk.count
            } catch {
                thrown = error
                break
            }
        }
        let error = try #require(thrown)
        #expect(fed < 1 << 20, "threw as soon as the line passed the limit (after \(fed) bytes)")
        #expect(AGUIRun.eventType(inPrefix: error.prefix) == "TEXT_MESSAGE_CONTENT")
        #expect(error.description == "an event-stream line is longer than the 1 MiB limit")
    }
}

/// A small deterministic random number generator for reproducible splits.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
