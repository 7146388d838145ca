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

    /// Checks a decision against the thread's journal before writing its control file: something is
    /// pending (else `StoreError.notFound`, "nothing is pending"), `request.target` names one of the
    /// pending approvals (its id, file, or the runtime's interrupt id) or there is only one, and the
    /// decision is one the request offers and is complete (edited arguments parse, differ and fit the
    /// schema; a respond has text), else `FormatError(.approval)`. The daemon checks again when it
    /// reads the control file (the journal may move on in between). Returns the control file's path
    /// and the approval decided.
    public static func decide(_ request: ControlRequest, thread: String, stamp: String, in workspace: Workspace) throws
        -> (path: String, approval: String)
    {
        _ = try threadFolder(thread, in: workspace)
        let snapshot = try InboxReader.readThread(thread, in: workspace)
        if let error = snapshot.journalError { throw error }
        let pending = snapshot.state.pendingApprovals
        guard !pending.isEmpty else {
            throw StoreError(.notFound, "nothing is pending in thread '\(thread)': no approval waits for a decision")
        }
        let target: ApprovalState
        if let id = request.target {
            guard let found = pending.first(where: { $0.id == id || $0.file == id || $0.runtimeID == id }) else {
                throw StoreError(
                    .notFound,
                    "no pending approval '\(id)' in thread '\(thread)' (pending: \(pending.map(\.id).joined(separator: ", ")))"
                )
            }
            target = found
        } else {
            guard pending.count == 1 else {
                throw FormatError(
                    .approval,
                    "\(pending.count) approvals are pending in thread '\(thread)'; name one with --interrupt (\(pending.map(\.id).joined(separator: ", ")))"
                )
            }
            target = pending[0]
        }
        guard let decision = Decision(rawValue: request.action.rawValue) else {
            throw FormatError(.approval, "'\(request.action.rawValue)' is not a decision")
        }
        var checked = request
        checked.target = target.id
        switch ApprovalForm.check(decision, note: request.note, arguments: request.arguments, offer: .init(target)) {
        case let .invalid(reason):
            throw FormatError(
                .approval, reason, path: workspace.relative(workspace.threadFolder(thread) + "/" + target.file))
        case let .answered(_, _, arguments):
            checked.arguments = arguments
        case .unanswered:
            break
        }
        return (try control(checked, thread: thread, stamp: stamp, in: workspace), target.id)
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
