/// A file in a thread folder as the scan saw it: its classified kind and modification time.
public struct DiskFile: Sendable, Hashable {
    public var name: String
    public var kind: FileKind
    public var mtime: Timestamp
    public var size: Int
    /// A change stamp from the filesystem (inode, size and nanosecond mtime), for change detection only.
    public var stamp: String

    public init(name: String, kind: FileKind, mtime: Timestamp, size: Int, stamp: String = "") {
        self.name = name
        self.kind = kind
        self.mtime = mtime
        self.size = size
        self.stamp = stamp
    }
}

extension ThreadState {
    /// The state as an operator sees it: the journal's fold plus what is on disk now.
    ///
    /// Message files the daemon has not journaled yet are `queued` and `notYetSeen` (so
    /// `letterbox send` followed by `letterbox status` shows the message before any daemon runs);
    /// journaled messages whose file is gone are `fileMissing`. Nothing here is written anywhere.
    public func merging(disk files: [DiskFile]) -> ThreadState {
        var state = self
        let onDisk = Set(files.map(\.name))
        for index in state.messages.indices where !onDisk.contains(state.messages[index].file) {
            state.messages[index].fileMissing = true
        }
        let unseen = files.filter { file in
            guard case let .message(id) = file.kind else { return false }
            return state.messageIndex[id] == nil && state.rejected[file.name] == nil
        }.sorted(by: Self.arrivalOrder)
        for file in unseen {
            guard case let .message(id) = file.kind else { continue }
            state.messageIndex[id] = state.messages.count
            var message = MessageState(
                id: id, file: file.name, origin: .operator, sha256: "", delivery: .queued, detectedAt: file.mtime)
            message.notYetSeen = true
            state.messages.append(message)
        }
        return state
    }

    /// Oldest first; files written within one clock tick (the kernel's file times are coarse) go
    /// by message id, so `s` comes before `s-2` (the file names would sort the other way: `-` < `.`).
    static func arrivalOrder(_ a: DiskFile, _ b: DiskFile) -> Bool {
        if a.mtime != b.mtime { return a.mtime < b.mtime }
        guard case let .message(first) = a.kind, case let .message(second) = b.kind else { return a.name < b.name }
        return first.utf8.lexicographicallyPrecedes(second.utf8)
    }
}
