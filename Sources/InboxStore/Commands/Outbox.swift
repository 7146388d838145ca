public import ChatModel

/// Writes files into threads the way an operator's editor would, but atomically and never over an
/// existing file (`letterbox send`, and the control commands).
public enum Outbox {
    /// Validates `text` as a message and writes it to thread `thread` as `name.md`, or as the first
    /// free `stem`, `stem-2`, ... name. Returns the path written (relative to the workspace).
    public static func send(_ text: String, thread: String, name: String?, defaultStem: String, in workspace: Workspace)
        throws -> String
    {
        let folder = try threadFolder(thread, in: workspace)
        let stem: String
        if let name {
            stem = name.hasSuffix(".md") ? String(name.dropLast(3)) : name
            guard case .message = FileClassifier.classify([stem + ".md"], type: .file) else {
                throw FormatError(.invalidName, "'\(stem).md' is not a message file name: \(Names.messageNameRule)")
            }
        } else {
            stem = defaultStem
        }
        let bytes = Array(text.utf8)
        let source = name ?? "standard input"
        let parsed = Result { () throws(FormatError) in
            try OperatorMessage.parse(id: stem, bytes: bytes, maxBytes: workspace.config.limits.messageBytes)
        }
        if case let .failure(error) = parsed { throw error.located(in: source) }
        if name != nil {
            let path = folder + "/" + stem + ".md"
            guard !FileSystem.exists(path) else {
                throw StoreError(
                    .notAllowed,
                    "a file with that name already exists; a message is never replaced, choose another name",
                    path: workspace.relative(path))
            }
            try DurableWriter.write(bytes, to: path, mode: .createNew)
            return workspace.relative(path)
        }
        let candidates = (1...999).map { folder + "/" + ($0 == 1 ? stem : "\(stem)-\($0)") + ".md" }
        return workspace.relative(try DurableWriter.writeNew(bytes, candidates: candidates))
    }

    /// Writes a control file for `request` into `thread`'s `controls/` folder; returns its path.
    public static func control(_ request: ControlRequest, thread: String, stamp: String, in workspace: Workspace) throws
        -> String
    {
        let folder = try threadFolder(thread, in: workspace) + "/" + FileClassifier.controlsFolder
        try FileSystem.createDirectory(folder)
        let stem = "\(request.action.rawValue)-\(stamp)"
        let candidates = (1...999).map { folder + "/" + ($0 == 1 ? stem : "\(stem)-\($0)") + ".md" }
        return workspace.relative(try DurableWriter.writeNew(Array(request.fileText.utf8), candidates: candidates))
    }

    static func threadFolder(_ thread: String, in workspace: Workspace) throws -> String {
        let folder = workspace.threadFolder(thread)
        guard Names.isValidThreadName(thread), let entry = try FileSystem.entry(at: folder), entry.type == .directory
        else {
            throw StoreError(
                .notFound, "no thread '\(thread)'; create it with `letterbox new \(thread)`",
                path: workspace.relative(folder))
        }
        return folder
    }
}
