/// One server-sent event: what a `data:` block (and its `event:` / `id:` fields) dispatches.
public struct SSEEvent: Sendable, Hashable {
    /// The `event:` field, "message" when absent.
    public var type: String
    /// The `data:` lines joined with "\n".
    public var data: String
    /// The last `id:` seen so far in the stream, if any.
    public var lastEventID: String?

    public init(type: String = "message", data: String, lastEventID: String? = nil) {
        self.type = type
        self.data = data
        self.lastEventID = lastEventID
    }
}

/// An incremental server-sent events parser (the WHATWG HTML "event stream interpretation"): bytes in,
/// events out. No IO, so it can be fed any split of a stream, including one byte at a time.
///
/// - Lines end in CRLF, LF or CR, and a CRLF split between two chunks is one line end.
/// - `data:` lines accumulate (joined with "\n"); a blank line dispatches; `:` lines are comments;
///   `event:` and `id:` are kept; `retry:` and unknown fields are ignored; one space after the colon is
///   dropped; a leading byte order mark is dropped.
/// - Text is decoded as UTF-8 only once a whole event is there, so a character split between chunks
///   is never damaged; invalid bytes become U+FFFD, as the standard says.
/// - A line, or an event's data, longer than `maxLineBytes` throws `LineTooLong` as soon as it goes
///   over, so a hostile stream costs at most that much memory (the caller then drops the stream).
/// - At the end of the stream an event that was not ended by a blank line is discarded (as browsers do).
public struct SSEParser: Sendable {
    /// A line (or one event's data) went over the limit.
    public struct LineTooLong: Error, Sendable, Hashable, CustomStringConvertible {
        public var limit: Int
        /// The line's first bytes, so the caller can say which event it was.
        public var prefix: [UInt8]

        public init(limit: Int, prefix: [UInt8]) {
            self.limit = limit
            self.prefix = prefix
        }

        public var description: String {
            "an event-stream line is longer than the \(SSEParser.describe(bytes: limit)) limit"
        }
    }

    /// The most bytes one line, or one event's data, may have.
    public let maxLineBytes: Int
    private var line: [UInt8] = []
    /// The previous chunk ended in CR: a LF at the start of the next one belongs to that line end.
    private var afterCR = false
    private var atStreamStart = true
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType = ""
    private var lastEventID: String?
    private var events: [SSEEvent] = []

    /// How many bytes `prefix` keeps of a line that is too long.
    static let prefixBytes = 256

    public init(maxLineBytes: Int = 8 << 20) {
        self.maxLineBytes = max(1, maxLineBytes)
    }

    /// Feeds the next bytes of the stream; returns the events they complete, in order.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(LineTooLong) -> [SSEEvent] {
        let result: Result<Void, LineTooLong>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(LineTooLong) in try scan(buffer) }
        }
        if let result {
            try result.get()
        } else {
            let copy = Array(bytes)
            try copy.withUnsafeBufferPointer { buffer throws(LineTooLong) in try scan(buffer) }
        }
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }

    /// The stream ended: whatever was not ended by a blank line (an unterminated line, an event
    /// without its blank line) is discarded, as the standard says. Always empty; callers use it so that
    /// they stay correct if a future reading dispatches a trailing event.
    public mutating func finish() -> [SSEEvent] {
        line = []
        data = []
        hasData = false
        eventType = ""
        return []
    }

    private mutating func scan(_ buffer: UnsafeBufferPointer<UInt8>) throws(LineTooLong) {
        var start = 0
        let end = buffer.count
        if afterCR, start < end {
            afterCR = false
            if buffer[start] == 0x0A { start += 1 }
        }
        while start < end {
            var stop = start
            while stop < end, buffer[stop] != 0x0A, buffer[stop] != 0x0D { stop += 1 }
            let span = UnsafeBufferPointer(rebasing: buffer[start..<stop])
            guard stop < end else {
                // No line end in this chunk: keep the piece for the next one.
                try keep(span)
                return
            }
            if line.isEmpty {
                guard span.count <= maxLineBytes else {
                    throw LineTooLong(limit: maxLineBytes, prefix: Array(span.prefix(Self.prefixBytes)))
                }
                try process(span)
            } else {
                try keep(span)
                let whole = line
                line.removeAll(keepingCapacity: false)
                try whole.withUnsafeBufferPointer { buffer throws(LineTooLong) in try process(buffer) }
            }
            if buffer[stop] == 0x0D {
                if stop + 1 < end {
                    stop += buffer[stop + 1] == 0x0A ? 1 : 0
                } else {
                    afterCR = true
                }
            }
            start = stop + 1
        }
    }

    /// Adds to the current unfinished line, refusing to grow past the limit.
    private mutating func keep(_ span: UnsafeBufferPointer<UInt8>) throws(LineTooLong) {
        guard line.count + span.count <= maxLineBytes else {
            var prefix = Array(line.prefix(Self.prefixBytes))
            prefix += span.prefix(Self.prefixBytes - prefix.count)
            line = []
            throw LineTooLong(limit: maxLineBytes, prefix: prefix)
        }
        line.append(contentsOf: span)
    }

    private mutating func process(_ raw: UnsafeBufferPointer<UInt8>) throws(LineTooLong) {
        var content = raw[...]
        if atStreamStart {
            atStreamStart = false
            if content.starts(with: [0xEF, 0xBB, 0xBF]) { content = content.dropFirst(3) }
        }
        guard let first = content.first else {
            dispatch()
            return
        }
        if first == UInt8(ascii: ":") { return }
        let field: ArraySlice<UInt8>
        var value: Slice<UnsafeBufferPointer<UInt8>>
        if let colon = content.firstIndex(of: UInt8(ascii: ":")) {
            field = ArraySlice(content[..<colon])
            value = content[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = ArraySlice(content)
            value = content[content.endIndex...]
        }
        switch String(decoding: field, as: UTF8.self) {
        case "data":
            guard data.count + value.count + 1 <= maxLineBytes else {
                let prefix = Array(data.prefix(Self.prefixBytes))
                data = []
                hasData = false
                throw LineTooLong(limit: maxLineBytes, prefix: prefix)
            }
            data.append(contentsOf: value)
            data.append(0x0A)
            hasData = true
        case "event":
            eventType = String(decoding: value, as: UTF8.self)
        case "id":
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        default:
            break  // retry: (no reconnection here) and unknown fields
        }
    }

    private mutating func dispatch() {
        defer {
            data.removeAll(keepingCapacity: data.count < 64 << 10)
            hasData = false
            eventType = ""
        }
        guard hasData else { return }
        data.removeLast()
        events.append(
            SSEEvent(
                type: eventType.isEmpty ? "message" : eventType, data: String(decoding: data, as: UTF8.self),
                lastEventID: lastEventID))
    }

    /// "8 MiB", "512 KiB", "300 bytes".
    public static func describe(bytes: Int) -> String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes)-byte"
    }
}
