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

    /// One searchable item: a message or an answer, its anchor and its rendered HTML.
    struct Item {
        var anchor: String
        var file: String
        var html: String
    }

    static func shard(thread: String, title: String, items: [Item]) -> String {
        var out: [UInt8] = Array("LETTERBOX_SEARCH([\n".utf8)
        let page = "threads/\(Page.segment(thread)).html#m-"
        for (index, item) in items.enumerated() {
            if index > 0 { out.append(contentsOf: ",\n".utf8) }
            out.append(contentsOf: "{\"href\":".utf8)
            appendQuoted(page + item.anchor, to: &out)
            out.append(contentsOf: ",\"title\":".utf8)
            appendQuoted("\(title) › \(item.file)", to: &out)
            out.append(contentsOf: ",\"text\":".utf8)
            appendQuoted(plainText(item.html, limit: textLimit), to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "\n]);\n".utf8)
        return String(decoding: out, as: UTF8.self)
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
    static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        var literal: [UInt8] = []
        CanonicalJSON.appendString(text, to: &literal)
        var index = 0
        while index < literal.count {
            // U+2028 / U+2029 are E2 80 A8 / E2 80 A9 in UTF-8.
            if literal[index] == 0xE2, index + 2 < literal.count, literal[index + 1] == 0x80,
                literal[index + 2] == 0xA8 || literal[index + 2] == 0xA9
            {
                out.append(contentsOf: (literal[index + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                index += 3
            } else {
                out.append(literal[index])
                index += 1
            }
        }
    }

    /// The text of rendered HTML: tags dropped, the few entities cmark writes decoded, whitespace
    /// collapsed, at most `limit` bytes (cut on a character boundary).
    static func plainText(_ html: String, limit: Int) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(min(limit, html.utf8.count))
        var inTag = false
        var pendingSpace = false
        var bytes = html.utf8.makeIterator()
        var entity: [UInt8] = []
        var inEntity = false
        func emit(_ byte: UInt8) {
            if byte == 32 || byte == 10 || byte == 9 || byte == 13 {
                pendingSpace = !out.isEmpty
                return
            }
            if pendingSpace { out.append(32); pendingSpace = false }
            out.append(byte)
        }
        while let byte = bytes.next(), out.count < limit {
            if inTag {
                if byte == UInt8(ascii: ">") { inTag = false; pendingSpace = !out.isEmpty }
                continue
            }
            if inEntity {
                if byte == UInt8(ascii: ";") || entity.count > 8 {
                    inEntity = false
                    switch String(decoding: entity, as: UTF8.self) {
                    case "amp": emit(UInt8(ascii: "&"))
                    case "lt": emit(UInt8(ascii: "<"))
                    case "gt": emit(UInt8(ascii: ">"))
                    case "quot": emit(UInt8(ascii: "\""))
                    case "#39": emit(UInt8(ascii: "'"))
                    default: emit(32)
                    }
                    entity.removeAll()
                } else {
                    entity.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "<"): inTag = true
            case UInt8(ascii: "&"): inEntity = true
            default: emit(byte)
            }
        }
        // Never cut a UTF-8 sequence in half.
        while let last = out.last, last & 0xC0 == 0x80 || last >= 0xC0 {
            let start = out.lastIndex { $0 & 0xC0 != 0x80 } ?? 0
            let length = out[start] >= 0xF0 ? 4 : out[start] >= 0xE0 ? 3 : out[start] >= 0xC0 ? 2 : 1
            if out.count - start == length { break }
            out.removeSubrange(start...)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
