import ChatModel
import InboxStore

/// A thread as the builder reads it: the snapshot plus the Markdown of every file a page shows.
struct ThreadContent {
    var snapshot: ThreadSnapshot
    /// Markdown bodies (front matter removed) by file name.
    var bodies: [String: String]
    /// Front matter of operator and remote messages (for the author and role), by file name.
    var fields: [String: [String: FrontMatterValue]]

    /// Reads `id` from the inbox: fold, listing (unless given as `files`), and the body of every
    /// message, reply, tool call and approval file. A file that cannot be read shows its error instead
    /// of its text.
    static func read(_ id: String, workspace: Workspace, files: [DiskFile]? = nil) throws -> ThreadContent {
        let snapshot =
            try files.map { try InboxReader.readThread(id, in: workspace, files: $0) }
            ?? InboxReader.readThread(id, in: workspace)
        var bodies: [String: String] = [:]
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
            bodies[file.name] = body
            if let front { fields[file.name] = front }
        }
        return ThreadContent(snapshot: snapshot, bodies: bodies, fields: fields)
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
