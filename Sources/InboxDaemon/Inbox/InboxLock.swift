public import InboxStore

#if canImport(Glibc)
    import Glibc
#endif

/// One daemon per inbox: an exclusive `flock` on `.letterbox/daemon.lock`, holding the owner's pid.
///
/// The lock dies with the process (even on SIGKILL), so a stale lock file never blocks a restart.
public final class InboxLock: Sendable {
    private let fd: Int32
    public let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Takes the lock, or throws naming the pid that holds it.
    public static func acquire(in workspace: Workspace) throws(StoreError) -> InboxLock {
        try FileSystem.createDirectory(workspace.stateFolder)
        let path = workspace.stateFolder + "/daemon.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw .system("open", path: path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder =
                (try? FileSystem.readFile(path, maxBytes: 64)).map {
                    String(decoding: $0, as: UTF8.self).trimmingCharacters()
                } ?? "?"
            close(fd)
            throw StoreError(
                .locked,
                "another letterbox daemon (pid \(holder.isEmpty ? "?" : holder)) is already running on this inbox; stop it first (kill \(holder))",
                path: path)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return InboxLock(fd: fd, path: path)
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String { String(filter { !$0.isWhitespace }) }
}
