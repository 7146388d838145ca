import ChatModel

/// Atom feeds: one per thread (`threads/ID.xml`) and one for the whole inbox (`feed.xml`).
enum Feeds {
    /// Entries per thread feed and in the inbox feed.
    static let threadLimit = 20
    static let inboxLimit = 50

    /// One entry: a message or a finished answer.
    struct Entry: Codable, Sendable, Hashable {
        var thread: String
        var id: String
        var title: String
        var updated: Int64
        var author: String
        /// The page and anchor, relative to `threads/`.
        var href: String
        /// Rendered HTML (escaped again by the template, as Atom's `type="html"` requires).
        var content: String

        /// Newest first, then by thread and id, so the order is total.
        static func newestFirst(_ a: Entry, _ b: Entry) -> Bool {
            if a.updated != b.updated { return a.updated > b.updated }
            if a.thread != b.thread { return a.thread.utf8.lexicographicallyPrecedes(b.thread.utf8) }
            return a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
        }
    }

    /// A thread's entries, newest first: its messages and its finished answers. Only the newest
    /// `limit` carry their HTML; the rest are kept for counting and merging.
    static func entries(thread: String, title: String, messages: [MessageView], limit: Int) -> [Entry] {
        var entries: [(entry: Entry, html: String)] = []
        let page = "\(Page.segment(thread)).html"
        for message in messages {
            let entry = Entry(
                thread: thread, id: "urn:letterbox:\(thread):\(message.id)", title: "\(title): \(message.file)",
                updated: message.detectedAt, author: message.author, href: "\(page)#m-\(message.id)", content: "")
            entries.append((entry, message.body))
            for run in message.runs {
                guard let ended = run.endedAt else { continue }
                let entry = Entry(
                    thread: thread, id: "urn:letterbox:\(thread):\(run.id)",
                    title: "\(title): \(run.file) (\(run.status))", updated: ended, author: run.agent,
                    href: "\(page)#m-\(run.id)", content: "")
                entries.append((entry, run.body))
            }
        }
        entries.sort { Entry.newestFirst($0.entry, $1.entry) }
        return entries.enumerated().map { index, pair in
            var entry = pair.entry
            if index < limit { entry.content = pair.html }
            return entry
        }
    }

    /// `attention.xml`: what waits on the operator across the inbox (pending approvals, messages failed
    /// for good), newest first. An entry's id names the thread, the file and since when, so a new wait
    /// on the same file is a new entry.
    static func attention(_ summaries: [ThreadSummary]) -> [Entry] {
        summaries.flatMap { summary in
            summary.attention.map { item in
                Entry(
                    thread: summary.id, id: "urn:letterbox:attention:\(summary.id):\(item.file):\(item.since)",
                    title: "\(summary.title): \(item.reason)", updated: item.since, author: "Letterbox",
                    href: "\(Page.segment(summary.id)).html#m-\(item.anchor)",
                    content: "<p>" + HTML.escape("\(item.file): \(item.reason)") + "</p>")
            }
        }
        .sorted(by: Entry.newestFirst)
    }

    /// The feed document. `base` is the path from the feed to `threads/` ("" or "threads/").
    static func view(title: String, id: String, selfHref: String, base: String, entries: [Entry]) -> FeedView {
        FeedView(
            title: title, id: id,
            updated: entries.first.map { Timestamp(milliseconds: $0.updated).description }
                ?? "1970-01-01T00:00:00.000Z",
            selfHref: selfHref,
            entries: entries.map { entry in
                .init(
                    title: entry.title, id: entry.id, updated: Timestamp(milliseconds: entry.updated).description,
                    author: entry.author, href: base + entry.href, content: entry.content)
            })
    }
}

/// The static search index: one script per thread under `search/`, listed by `search/index.js`.
/// Scripts rather than JSON, because browsers refuse `fetch` from `file://`.
enum SearchIndex {
    /// The characters of plain text kept per message.
    static let textLimit = 2000

    /// One searchable item: a message or an answer, its anchor, what the filters match (agent, delivery
    /// state or run status, time) and its text (`text(html:)`). An operator message edited after it was
    /// sent has no text here: the index holds what was sent, and only the edited text is on disk.
    struct Item {
        var anchor: String
        var file: String
        var agent: String
        var state: String
        var at: String
        var edited: Bool
        var text: [UInt8]
    }

    /// The text the index keeps of rendered HTML, escaped for a JSON string: its plain text, cut at
    /// `textLimit` characters. The costly part of a shard, so a kept message section keeps it too.
    static func text(html: String) -> [UInt8] {
        var out: [UInt8] = []
        appendEscaped(plainText(html, limit: textLimit), to: &out)
        return out
    }

    /// The texts of a message's items, the message's first, then each of its answers'. A message
    /// edited after it was sent (`edited`) has none: the index holds what was sent.
    static func texts(of message: MessageView, edited: Bool) -> [[UInt8]] {
        [edited ? [] : text(html: message.body)] + message.runs.map { text(html: $0.body) }
    }

    static func shard(thread: String, title: String, items: [Item]) -> [UInt8] {
        var out: [UInt8] = Array("LETTERBOX_SEARCH([\n".utf8)
        out.reserveCapacity(items.count * 600)
        let page = Array("threads/\(Page.segment(thread)).html#m-".utf8)
        let heading = Array("\(title) › ".utf8)
        var threadFields: [UInt8] = Array("\",\"thread\":\"".utf8)
        appendEscaped(Array(thread.utf8), to: &threadFields)
        threadFields += Array("\",\"threadTitle\":\"".utf8)
        appendEscaped(Array(title.utf8), to: &threadFields)
        for (index, item) in items.enumerated() {
            if index > 0 { out.append(contentsOf: ",\n".utf8) }
            out.append(contentsOf: "{\"href\":\"".utf8)
            appendEscaped(page, to: &out)
            appendEscaped(Array(item.anchor.utf8), to: &out)
            out.append(contentsOf: "\",\"title\":\"".utf8)
            appendEscaped(heading, to: &out)
            appendEscaped(Array(item.file.utf8), to: &out)
            out += threadFields
            out.append(contentsOf: "\",\"agent\":\"".utf8)
            appendEscaped(Array(item.agent.utf8), to: &out)
            out.append(contentsOf: "\",\"state\":\"".utf8)
            appendEscaped(Array(item.state.utf8), to: &out)
            out.append(contentsOf: "\",\"at\":\"".utf8)
            appendEscaped(Array(item.at.utf8), to: &out)
            out.append(contentsOf: "\",\"text\":\"".utf8)
            if !item.edited { out += item.text }
            out.append(contentsOf: item.edited ? "\",\"edited\":true}".utf8 : "\"}".utf8)
        }
        out.append(contentsOf: "\n]);\n".utf8)
        return out
    }

    static func index(shards: [String]) -> String {
        var out: [UInt8] = Array("LETTERBOX_SHARDS([".utf8)
        for (index, shard) in shards.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendQuoted(shard, to: &out)
        }
        out.append(contentsOf: "]);\n".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON string literal that is also safe in a script: U+2028 and U+2029 escaped as well.
    /// `markupSafe` also escapes `<`, `>` and `&` (as `\u003c`, …), so that no string in a JSON file
    /// reads as markup even to something that takes the file for HTML.
    static func appendQuoted(_ text: String, markupSafe: Bool = false, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { appendEscaped($0, markupSafe: markupSafe, to: &out) }
        out.append(UInt8(ascii: "\""))
    }

    /// `bytes` (UTF-8) escaped for inside a JSON string literal, as `CanonicalJSON.appendString`
    /// escapes (Python's `ensure_ascii=False`), plus U+2028 and U+2029 (E2 80 A8 / E2 80 A9), which end
    /// a line in a script. Runs of bytes that need nothing are copied at once.
    static func appendEscaped(_ bytes: [UInt8], markupSafe: Bool = false, to out: inout [UInt8]) {
        bytes.withUnsafeBufferPointer { appendEscaped($0, markupSafe: markupSafe, to: &out) }
    }

    /// `appendEscaped` over a buffer (a string's own UTF-8, without a copy).
    static func appendEscaped(_ source: UnsafeBufferPointer<UInt8>, markupSafe: Bool = false, to out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        do {
            var start = 0
            var index = 0
            func flush(_ end: Int) {
                if end > start { out.append(contentsOf: UnsafeBufferPointer(rebasing: source[start..<end])) }
            }
            while index < source.count {
                let byte = source[index]
                let markup = markupSafe && (byte == 0x3C || byte == 0x3E || byte == 0x26)
                if byte >= 0x20 && byte != 0x22 && byte != 0x5C && byte != 0xE2 && !markup {
                    index += 1
                    continue
                }
                if byte == 0xE2 {
                    guard index + 2 < source.count, source[index + 1] == 0x80,
                        source[index + 2] == 0xA8 || source[index + 2] == 0xA9
                    else {
                        index += 1
                        continue
                    }
                    flush(index)
                    out.append(contentsOf: (source[index + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                    index += 3
                    start = index
                    continue
                }
                flush(index)
                out.append(92)
                switch byte {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                // Other control bytes, and `< > &` in markup-safe strings.
                default:
                    out.append(contentsOf: [UInt8(ascii: "u"), 48, 48])
                    hex.withUTF8Buffer { digits in
                        out.append(digits[Int(byte >> 4)])
                        out.append(digits[Int(byte & 15)])
                    }
                }
                index += 1
                start = index
            }
            flush(source.count)
        }
    }

    /// The text of rendered HTML: tags dropped, the few entities cmark writes decoded, whitespace
    /// collapsed, at most `limit` bytes (cut on a character boundary).
    static func plainText(_ html: String, limit: Int) -> [UInt8] {
        var html = html
        // A pending space and the byte after it may both land on the last allowed position: limit + 1.
        var out = [UInt8](repeating: 0, count: limit + 1)
        // No nested functions or captured state here: this runs over every byte of every message, and
        // a closure capturing `out` cost a heap box and exclusivity checks per byte.
        let count = html.withUTF8 { bytes in
            out.withUnsafeMutableBufferPointer { out -> Int in
                var count = 0
                var inTag = false
                var pendingSpace = false
                var index = 0
                while index < bytes.count, count < limit {
                    var byte = bytes[index]
                    index += 1
                    if inTag {
                        if byte == UInt8(ascii: ">") {
                            inTag = false
                            pendingSpace = count > 0
                        }
                        continue
                    }
                    if byte == UInt8(ascii: "<") {
                        inTag = true
                        continue
                    }
                    if byte == UInt8(ascii: "&") {
                        // An entity: up to ';' (or 9 bytes without one, which are dropped).
                        var end = index
                        while end < bytes.count, bytes[end] != UInt8(ascii: ";"), end - index <= 8 { end += 1 }
                        // An entity cut off by the end of the text shows nothing.
                        guard end < bytes.count else { break }
                        let name = UnsafeBufferPointer(rebasing: bytes[index..<end])
                        index = end + 1
                        if name.elementsEqual("amp".utf8) {
                            byte = UInt8(ascii: "&")
                        } else if name.elementsEqual("lt".utf8) {
                            byte = UInt8(ascii: "<")
                        } else if name.elementsEqual("gt".utf8) {
                            byte = UInt8(ascii: ">")
                        } else if name.elementsEqual("quot".utf8) {
                            byte = UInt8(ascii: "\"")
                        } else if name.elementsEqual("#39".utf8) {
                            byte = UInt8(ascii: "'")
                        } else {
                            byte = 32
                        }
                    }
                    if byte == 32 || byte == 10 || byte == 9 || byte == 13 {
                        pendingSpace = count > 0
                        continue
                    }
                    if pendingSpace {
                        out[count] = 32
                        count += 1
                        pendingSpace = false
                    }
                    out[count] = byte
                    count += 1
                }
                return count
            }
        }
        out.removeSubrange(count...)
        // Never cut a UTF-8 sequence in half.
        while let last = out.last, last & 0xC0 == 0x80 || last >= 0xC0 {
            let start = out.lastIndex { $0 & 0xC0 != 0x80 } ?? 0
            let length = out[start] >= 0xF0 ? 4 : out[start] >= 0xE0 ? 3 : out[start] >= 0xC0 ? 2 : 1
            if out.count - start == length { break }
            out.removeSubrange(start...)
        }
        return out
    }
}
