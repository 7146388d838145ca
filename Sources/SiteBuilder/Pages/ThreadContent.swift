import ChatModel
import InboxStore

/// A thread as the builder reads it: the snapshot, what pages need of its journal, and the Markdown
/// of every file a page shows.
///
/// The journal's lines are not all here: `tail` holds those this read decoded (all of them, unless
/// the thread cache had the others, docs/site.md), and `journal` sums up every line.
/// `snapshot.entries` is always empty.
struct ThreadContent {
    var snapshot: ThreadSnapshot
    var journal: JournalSummary
    /// The last lines of the journal, from line `tailStart` (0-based) on.
    var tail: [JournalEntry]
    /// The hash of the line before `tail` (the genesis hash when `tail` starts the journal).
    var tailAfter: String
    /// The first break in the journal's hash chain, over all of its lines.
    var chainProblem: FormatError?
    /// Markdown bodies (front matter removed) by file name, read when first asked for.
    var bodies: FileTexts
    /// Front matter of operator and remote messages (for the author and role), by file name.
    var fields: [String: [String: FrontMatterValue]]

    var tailStart: Int { journal.lines - tail.count }

    /// Reads `id` from the inbox: fold, listing (unless given as `files`), and the body of every
    /// message, reply, tool call and approval file. A file that cannot be read shows its error instead
    /// of its text.
    static func read(_ id: String, workspace: Workspace, files: [DiskFile]? = nil) throws -> ThreadContent {
        var snapshot =
            try files.map { try InboxReader.readThread(id, in: workspace, files: $0) }
            ?? InboxReader.readThread(id, in: workspace)
        let entries = snapshot.entries
        snapshot.entries = []
        let bodies = FileTexts(folder: workspace.threadFolder(id), inbox: workspace.inbox)
        var fields: [String: [String: FrontMatterValue]] = [:]
        let folder = workspace.threadFolder(id)
        for file in snapshot.files {
            let schema: FrontMatterSchema?
            switch file.kind {
            case .message: schema = .message
            case .remote: schema = .daemonFile
            case .reply, .toolCall, .approval: schema = nil
            default: continue
            }
            let (body, front) = readBody(
                folder + "/" + file.name, name: file.name, schema: schema, inbox: workspace.inbox)
            bodies.keep(body, for: file.name)
            if let front { fields[file.name] = front }
        }
        return ThreadContent(
            snapshot: snapshot, journal: JournalSummary(entries), tail: entries, tailAfter: JournalCodec.genesis,
            chainProblem: JournalText.verifyChain(entries), bodies: bodies, fields: fields)
    }

    /// A file's Markdown body and, for messages, its front matter. A file that cannot be read shows its
    /// error instead of its text.
    static func readBody(_ path: String, name: String, schema: FrontMatterSchema?, inbox: String) -> (
        body: String, fields: [String: FrontMatterValue]?
    ) {
        do {
            let text = try TextFile.decode(try FileSystem.readFile(path, maxBytes: 16 << 20, beneath: inbox))
            if let schema, text.hasPrefix("---") {
                let document = try FrontMatter.parse(text, schema: schema)
                return (document.body, document.fields)
            }
            // Files the daemon wrote: the journal holds their facts, so only the body is needed.
            return (String((try? FrontMatter.split(text).body) ?? text[...]), nil)
        } catch {
            return ("> \(name): \(error)", nil)
        }
    }
}

/// What pages need of a thread's journal, summed up line by line so that a build which decodes only
/// new lines (the thread cache) has it without the others.
struct JournalSummary: Hashable {
    /// The last line about one anchor (a message, run, tool call or approval: `AuditPages.anchor(for:)`).
    struct Anchor: Hashable {
        var seq: Int
        var at: Timestamp
    }

    var lines = 0
    var lastHash = JournalCodec.genesis
    /// The time of the first line.
    var firstAt: Timestamp?
    var anchors: [String: Anchor] = [:]

    init(_ entries: some Sequence<JournalEntry> = []) { add(entries) }

    mutating func add(_ entries: some Sequence<JournalEntry>) {
        for entry in entries {
            lines += 1
            lastHash = entry.hash
            if firstAt == nil { firstAt = entry.ts }
            if let anchor = AuditPages.anchor(for: entry.event) {
                anchors[anchor] = Anchor(seq: entry.seq, at: entry.ts)
            }
        }
    }
}

/// The Markdown bodies of a thread's files, by name: those read with the folder, and the others read
/// from disk when a page first needs them (a thread from the cache on disk has its files' stamps and
/// front matter, not their text, and a section kept in memory needs none).
final class FileTexts {
    private var texts: [String: String] = [:]
    /// Names that may be read on demand, with the front matter schema to strip.
    private var readable: [String: FrontMatterSchema?] = [:]
    let folder: String
    let inbox: String

    init(folder: String, inbox: String) {
        self.folder = folder
        self.inbox = inbox
    }

    func keep(_ text: String, for name: String) { texts[name] = text }

    /// Lets `name` be read when asked for.
    func allow(_ name: String, schema: FrontMatterSchema?) { readable[name] = schema }

    subscript(name: String) -> String? {
        if let text = texts[name] { return text }
        guard let schema = readable[name] else { return nil }
        let text = ThreadContent.readBody(folder + "/" + name, name: name, schema: schema, inbox: inbox).body
        texts[name] = text
        return text
    }
}

extension JournalSummary {
    func encode(to w: inout ByteWriter) {
        w.int(lines)
        w.string(lastHash)
        w.optionalTimestamp(firstAt)
        w.array(anchors.sorted { $0.key < $1.key }) { w, anchor in
            w.string(anchor.key)
            w.int(anchor.value.seq)
            w.timestamp(anchor.value.at)
        }
    }

    init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        lines = try r.int()
        lastHash = try r.string()
        firstAt = try r.optionalTimestamp()
        for _ in 0..<(try r.count()) {
            anchors[try r.string()] = Anchor(seq: try r.int(), at: try r.timestamp())
        }
    }
}
