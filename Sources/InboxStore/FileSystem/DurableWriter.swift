internal import CLetterboxShims
import ChatModel

#if canImport(Glibc)
    import Glibc
#endif

/// Writes whole files so that a reader never sees a torn one (docs/format.md §6).
///
/// Every write goes to a temp file in the target's folder (named `.lb-tmp-…`, which readers and the
/// watcher skip and the daemon sweeps at start), then is renamed over or beside the target. A durable
/// write also fsyncs the file before the rename and the folder after it: Foundation's atomic write
/// skips the folder fsync, so a new name could vanish after a power loss (field notes).
public enum DurableWriter {
    /// How a write treats an existing file at the target path.
    public enum Mode: Sendable {
        /// Fail with `EEXIST` if the target exists: for files that must never replace anything.
        case createNew
        /// Replace the target: only for files this process created.
        case replace
    }

    /// Writes `bytes` to `path` durably: temp, write, fsync, rename, fsync(folder).
    public static func write(_ bytes: some Collection<UInt8>, to path: String, mode: Mode) throws(StoreError) {
        try write(bytes, to: path, mode: mode, durable: true)
    }

    /// Creates `path` atomically and never over an existing file, without fsync: for first versions
    /// that the journal already accounts for and that a durable version will replace.
    public static func createQuickly(_ bytes: some Collection<UInt8>, at path: String) throws(StoreError) {
        try write(bytes, to: path, mode: .createNew, durable: false)
    }

    /// Writes `bytes` to `path` atomically but without fsync: for progress snapshots that the journal
    /// does not depend on (a streaming reply is rewritten every 250 ms; its final version is durable).
    public static func writeQuickly(_ bytes: some Collection<UInt8>, to path: String) throws(StoreError) {
        try write(bytes, to: path, mode: .replace, durable: false)
    }

    /// Replaces (or creates) `path` atomically without fsync, by exchanging a temp file with it and
    /// removing the old one: for generated files that can be rebuilt, whose owner tells after a power
    /// loss which ones to rebuild (the site, by its manifest's boot id: docs/site.md).
    ///
    /// Why not rename over the target: ext4 flushes a file renamed over another before the rename
    /// commits (`auto_da_alloc`, so that a crash leaves the old or the new file), and that made each
    /// replacement of a 400 KB page cost about 1 ms here; an exchange is not flushed (0.1 ms). The
    /// price: after a power loss, a file replaced this way in the last seconds may be empty.
    public static func replaceQuickly(_ bytes: some Collection<UInt8>, at path: String) throws(StoreError) {
        try write(bytes, to: path, durable: false) { temp, path throws(StoreError) in
            guard lb_rename_exchange(AT_FDCWD, temp, AT_FDCWD, path) == 0 else {
                guard errno == ENOENT else { throw .system("renameat2", path: path) }
                try FileSystem.rename(temp, path)  // nothing there yet
                return
            }
            // The old file is at the temp name now.
            guard unlink(temp) == 0 else {
                let error = StoreError.system("unlink", path: path)
                // Not a file (a folder, say): put it back, as a rename over it would have refused; the
                // new file, at the temp name again, is then removed like any write that failed.
                _ = lb_rename_exchange(AT_FDCWD, temp, AT_FDCWD, path)
                throw error
            }
        }
    }

    /// Writes a new file at the first free name from `candidates`; returns the path used.
    public static func writeNew(_ bytes: some Collection<UInt8>, candidates: some Sequence<String>) throws(StoreError)
        -> String
    {
        for path in candidates {
            do {
                try write(bytes, to: path, mode: .createNew)
                return path
            } catch  where error.errno == EEXIST {
                continue
            }
        }
        throw StoreError(.notAllowed, "no free file name")
    }

    private static func write(_ bytes: some Collection<UInt8>, to path: String, mode: Mode, durable: Bool)
        throws(StoreError)
    {
        try write(bytes, to: path, durable: durable) { temp, path throws(StoreError) in
            switch mode {
            case .createNew: try FileSystem.renameNoReplace(temp, path)
            case .replace: try FileSystem.rename(temp, path)
            }
        }
    }

    /// Writes `bytes` to a temp file beside `path` (fsynced if `durable`), then lets `place` put it at
    /// `path`; the temp file is removed if anything fails. A durable write fsyncs the folder last.
    private static func write(
        _ bytes: some Collection<UInt8>, to path: String, durable: Bool,
        place: (_ temp: String, _ path: String) throws(StoreError) -> Void
    ) throws(StoreError) {
        let (folder, name) = split(path)
        let temp = "\(folder)/\(FileClassifier.tempPrefix)\(name).\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o666)
        guard fd >= 0 else { throw .system("open", path: temp) }
        var closed = false
        var placed = false
        defer {
            if !closed { close(fd) }
            if !placed { unlink(temp) }
        }
        try writeAll(fd, Array(bytes), path: temp)
        if durable { guard fsync(fd) == 0 else { throw .system("fsync", path: temp) } }
        closed = true
        guard close(fd) == 0 else { throw .system("close", path: temp) }
        try place(temp, path)
        placed = true
        if durable { try FileSystem.syncDirectory(folder) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(StoreError) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system("write", path: path)
            }
            offset += count
        }
    }

    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// Removes orphan temp files (`.lb-tmp-*`) in `folder`: those whose writing process is gone. Returns
    /// how many were removed.
    @discardableResult
    public static func sweepTempFiles(in folder: String, beneath root: String? = nil) throws(StoreError) -> Int {
        var removed = 0
        for entry in try FileSystem.list(folder, beneath: root)
        where entry.type == .file && entry.name.hasPrefix(FileClassifier.tempPrefix) {
            // Only `.lb-tmp-NAME.PID.RANDOM` is Letterbox's (an operator's `.lb-tmp-notes.md` is not), and
            // a live writer's file is mid-write, not an orphan.
            let parts = entry.name.split(separator: ".")
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), pid > 0,
                UInt32(parts[parts.count - 1]) != nil
            else { continue }
            if isRunning(pid) { continue }
            try FileSystem.removeFile(folder + "/" + entry.name)
            removed += 1
        }
        return removed
    }

    /// Whether a process with this pid exists (EPERM means it does, owned by someone else).
    static func isRunning(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
