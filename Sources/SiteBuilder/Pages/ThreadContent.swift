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
            do {
                let text = try TextFile.decode(
                    try FileSystem.readFile(folder + "/" + file.name, maxBytes: 16 << 20, beneath: workspace.inbox))
                if let schema, text.hasPrefix("---") {
                    let document = try FrontMatter.parse(text, schema: schema)
                    bodies[file.name] = document.body
                    fields[file.name] = document.fields
                } else {
                    // Files the daemon wrote: the journal holds their facts, so only the body is needed.
                    bodies[file.name] = String((try? FrontMatter.split(text).body) ?? text[...])
                }
            } catch {
                bodies[file.name] = "> \(file.name): \(error)"
            }
        }
        return ThreadContent(snapshot: snapshot, bodies: bodies, fields: fields)
    }
}
