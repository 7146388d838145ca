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

    /// A thread's entries, newest first: its messages and its finished answers.
    static func entries(thread: String, title: String, messages: [[String: Any]], state: ThreadState) -> [Entry] {
        var entries: [Entry] = []
        let page = "\(Page.segment(thread)).html"
        for (message, context) in zip(state.messages, messages) {
            entries.append(
                Entry(
                    thread: thread, id: "urn:letterbox:\(thread):\(message.id)", title: "\(title): \(message.file)",
                    updated: message.detectedAt.milliseconds, author: context["author"] as? String ?? "operator",
                    href: "\(page)#m-\(message.id)", content: context["body"] as? String ?? ""))
            for run in (context["runs"] as? [[String: Any]]) ?? [] {
                guard let file = run["file"] as? String, let id = run["id"] as? String,
                    let runState = state.runs.values.first(where: { $0.file == file }), let ended = runState.endedAt
                else { continue }
                entries.append(
                    Entry(
                        thread: thread, id: "urn:letterbox:\(thread):\(id)",
                        title: "\(title): \(file) (\(runState.status.rawValue))",
                        updated: ended.milliseconds, author: runState.agent, href: "\(page)#m-\(id)",
                        content: run["body"] as? String ?? ""))
            }
        }
        return entries.sorted(by: Entry.newestFirst)
    }

    /// The feed document's context. `base` is the path from the feed to `threads/` ("" or "threads/").
    static func context(title: String, id: String, selfHref: String, base: String, entries: [Entry]) -> [String: Any] {
        [
            "title": title, "id": id, "selfHref": selfHref,
            "updated": entries.first.map { Timestamp(milliseconds: $0.updated).description }
                ?? "1970-01-01T00:00:00.000Z",
            "entries": entries.map { entry -> [String: Any] in
                [
                    "title": entry.title, "id": entry.id, "updated": Timestamp(milliseconds: entry.updated).description,
                    "author": entry.author, "href": base + entry.href, "content": entry.content,
                ]
            },
        ]
    }
}

/// The static search index: one script per thread under `search/`, listed by `search/index.js`.
/// Scripts rather than JSON, because browsers refuse `fetch` from `file://`.
enum SearchIndex {
    /// The characters of plain text kept per message.
    static let textLimit = 2000

    static func shard(
        thread: String, title: String, state: ThreadState, bodies: [String: String], renderer: MarkdownRenderer
    ) -> String {
        var items: [String] = []
        func add(anchor: String, file: String) {
            let text = String(renderer.plainText(bodies[file] ?? "").prefix(textLimit))
            let href = "threads/\(Page.segment(thread)).html#m-\(anchor)"
            items.append(
                "{\"href\":\(quoted(href)),\"title\":\(quoted("\(title) › \(file)")),\"text\":\(quoted(text))}")
        }
        for message in state.messages {
            add(anchor: message.id, file: message.file)
            for run in state.runs(of: message) { add(anchor: String(run.file.dropLast(3)), file: run.file) }
        }
        return "LETTERBOX_SEARCH([\n" + items.joined(separator: ",\n") + "\n]);\n"
    }

    static func index(shards: [String]) -> String {
        "LETTERBOX_SHARDS([" + shards.map(quoted).joined(separator: ",") + "]);\n"
    }

    /// A JSON string literal that is also safe in a script (U+2028/2029 escaped).
    static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        CanonicalJSON.appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
            .replacingAll("\u{2028}", with: "\\u2028").replacingAll("\u{2029}", with: "\\u2029")
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
