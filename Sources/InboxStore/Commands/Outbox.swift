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

    /// Writes the control file of a decision on `approval` (found by `ControlPlan`) after checking it
    /// the way the daemon will: the decision is one the request offers and is complete (edited
    /// arguments parse, differ from the proposal and fit the schema; a respond has text), else
    /// `FormatError(.approval)` and nothing is written. The daemon checks again when it reads the
    /// control file (the journal may move on in between). Returns the control file's path.
    public static func decide(
        _ request: ControlRequest, on approval: ApprovalState, thread: String, stamp: String, in workspace: Workspace
    ) throws -> String {
        guard let decision = Decision(rawValue: request.action.rawValue) else {
            throw FormatError(.approval, "'\(request.action.rawValue)' is not a decision")
        }
        var checked = request
        checked.target = approval.id
        switch ApprovalForm.check(decision, note: request.note, arguments: request.arguments, offer: .init(approval)) {
        case let .invalid(reason):
            throw FormatError(
                .approval, reason, path: workspace.relative(workspace.threadFolder(thread) + "/" + approval.file))
        case let .answered(_, _, arguments):
            checked.arguments = arguments
        case .unanswered:
            break
        }
        return try control(checked, thread: thread, stamp: stamp, in: workspace)
    }

    /// `ControlPlan` then `decide(_:on:...)`, as `letterbox approve|edit|reject|respond|cancel` does:
    /// throws the plan's `ControlPlan.Refusal` when nothing is pending or the target is ambiguous, and
    /// the thread's journal problem, if it has one. Returns the control file's path and the approval.
    public static func decide(_ request: ControlRequest, thread: String, stamp: String, in workspace: Workspace) throws
        -> (path: String, approval: String)
    {
        _ = try threadFolder(thread, in: workspace)
        let snapshot = try InboxReader.readThread(thread, in: workspace)
        if let error = snapshot.journalError { throw error }
        guard let approval = try ControlPlan.plan(request, in: snapshot).get().approval else {
            throw FormatError(.approval, "'\(request.action.rawValue)' is not a decision")
        }
        return (try decide(request, on: approval, thread: thread, stamp: stamp, in: workspace), approval.id)
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
