import ChatModel

/// The manifest and its parts in `ByteWriter`'s encoding: the manifest file, and what worker
/// processes report back (`WorkerResult`).
extension Manifest {
    /// The manifest's bytes: a magic line with the format version, then the fields in a fixed order.
    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.bytes.append(contentsOf: Self.magic.utf8)
        w.int(version)
        w.string(fingerprint)
        w.string(boot)
        let outputs = outputs.sorted { $0.key < $1.key }
        w.array(outputs) { w, pair in
            w.string(pair.key)
            w.string(pair.value)
        }
        let threads = threads.sorted { $0.key < $1.key }
        w.array(threads) { w, pair in pair.value.encode(to: &w) }
        inboxJournal.encode(to: &w)
        w.int(auditTotal)
        w.array(auditTail) { w, row in row.encode(to: &w) }
        w.array(feed) { w, entry in entry.encode(to: &w) }
        return w.bytes
    }

    /// The manifest in `bytes`, or nil when they are not a manifest of this version.
    static func decoded(_ bytes: [UInt8]) -> Manifest? {
        guard bytes.starts(with: magic.utf8) else { return nil }
        var r = ByteReader(bytes)
        r.offset = magic.utf8.count
        do throws(ByteReader.Malformed) {
            guard try r.int() == formatVersion else { return nil }
            var manifest = Manifest(fingerprint: try r.string())
            manifest.boot = try r.string()
            let outputs = try r.array { r throws(ByteReader.Malformed) in (try r.string(), try r.string()) }
            manifest.outputs = Dictionary(outputs, uniquingKeysWith: { a, _ in a })
            let threads = try r.array { r throws(ByteReader.Malformed) in try ThreadRecord(from: &r) }
            manifest.threads = Dictionary(threads.map { ($0.summary.id, $0) }, uniquingKeysWith: { a, _ in a })
            manifest.inboxJournal = try JournalRecord(from: &r)
            manifest.auditTotal = try r.int()
            manifest.auditTail = try r.array { r throws(ByteReader.Malformed) in try AuditPages.Row(from: &r) }
            manifest.feed = try r.array { r throws(ByteReader.Malformed) in try Feeds.Entry(from: &r) }
            guard r.isAtEnd else { return nil }
            return manifest
        } catch {
            return nil
        }
    }

    static let magic = "letterbox site manifest\n"
}

extension Manifest.JournalRecord {
    func encode(to w: inout ByteWriter) {
        w.int(lines)
        w.string(lastHash)
        w.optional(problem) { $0.string($1) }
    }

    init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(
            lines: try r.int(), lastHash: try r.string(),
            problem: try r.optional { r throws(ByteReader.Malformed) in try r.string() })
    }
}

extension Manifest.ThreadRecord {
    func encode(to w: inout ByteWriter) {
        w.string(fingerprint)
        summary.encode(to: &w)
        journal.encode(to: &w)
        w.int(feedEntries)
        w.string(indexItem)
    }

    init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(
            fingerprint: try r.string(), summary: try ThreadSummary(from: &r),
            journal: try Manifest.JournalRecord(from: &r), feedEntries: try r.int(), indexItem: try r.string())
    }
}

extension ThreadSummary {
    func encode(to w: inout ByteWriter) {
        w.string(id)
        w.string(title)
        w.optional(agent) { $0.string($1) }
        w.strings(tags)
        w.int(messageCount)
        w.optional(lastActivity) { $0.int64($1) }
        w.optional(createdAt) { $0.int64($1) }
        for flag in [unreadReply, awaitingApproval, failed, running, retrying] { w.bool(flag) }
        w.optional(problem) { $0.string($1) }
        w.int(rejectedCount)
        w.int(queued)
        w.array(attention) { w, item in
            w.string(item.file)
            w.string(item.kind)
            w.string(item.reason)
            w.int64(item.since)
            w.string(item.anchor)
        }
    }

    init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        id = try r.string()
        title = try r.string()
        agent = try r.optional { r throws(ByteReader.Malformed) in try r.string() }
        tags = try r.strings()
        messageCount = try r.int()
        lastActivity = try r.optional { r throws(ByteReader.Malformed) in try r.int64() }
        createdAt = try r.optional { r throws(ByteReader.Malformed) in try r.int64() }
        unreadReply = try r.bool()
        awaitingApproval = try r.bool()
        failed = try r.bool()
        running = try r.bool()
        retrying = try r.bool()
        problem = try r.optional { r throws(ByteReader.Malformed) in try r.string() }
        rejectedCount = try r.int()
        queued = try r.int()
        attention = try r.array { r throws(ByteReader.Malformed) in
            AttentionItem(
                file: try r.string(), kind: try r.string(), reason: try r.string(), since: try r.int64(),
                anchor: try r.string())
        }
    }
}

extension AuditPages.Row {
    func encode(to w: inout ByteWriter) {
        w.int64(ts)
        w.string(journal)
        w.int(seq)
        w.data(html)
    }

    init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(ts: try r.int64(), journal: try r.string(), seq: try r.int(), html: try r.data())
    }
}

extension Feeds.Entry {
    func encode(to w: inout ByteWriter) {
        w.string(thread)
        w.string(id)
        w.string(title)
        w.int64(updated)
        w.string(author)
        w.string(href)
        w.string(content)
    }

    init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(
            thread: try r.string(), id: try r.string(), title: try r.string(), updated: try r.int64(),
            author: try r.string(), href: try r.string(), content: try r.string())
    }
}
