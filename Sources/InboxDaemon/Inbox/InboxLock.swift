import InboxCore
public import InboxStore

#if canImport(Glibc)
    import Glibc
#endif

/// One daemon per inbox: an exclusive `flock` on the inbox folder itself.
///
/// The lock belongs to the folder (its device and inode), not to a path or a workspace, so a second
/// daemon is refused however it names the inbox: from another folder, through `--inbox`, another
/// workspace's `inbox:` or a symlink. Daemons for different inboxes never block each other. The lock
/// dies with the process (even on SIGKILL), so nothing stale can block a restart.
public final class InboxLock: Sendable {
    private let fd: Int32
    /// The inbox folder, as given.
    public let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Takes the lock on `workspace`'s inbox, or throws naming the process that holds it.
    public static func acquire(in workspace: Workspace) throws(StoreError) -> InboxLock {
        try acquire(inbox: workspace.inbox)
    }

    /// Takes the lock on the inbox folder at `inbox` (symlinks followed: the folder is what counts).
    public static func acquire(inbox: String) throws(StoreError) -> InboxLock {
        try FileSystem.createDirectory(inbox)
        let fd = open(inbox, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open", path: inbox) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            var info = stat()
            let holder =
                fstat(fd, &info) == 0 ? lockHolder(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) : nil
            close(fd)
            guard code == EWOULDBLOCK else { throw .system("flock", path: inbox, errno: code) }
            let who = holder.map { "pid \($0)" } ?? "another process"
            let stop = holder.map { " (kill \($0))" } ?? ""
            throw StoreError(
                .locked,
                "another letterbox daemon (\(who)) is already delivering from this inbox; stop it first\(stop)",
                path: inbox)
        }
        return InboxLock(fd: fd, path: inbox)
    }

    /// The pid holding a `flock` on the file with this device and inode, from `/proc/locks`.
    static func lockHolder(device: UInt64, inode: UInt64) -> Int32? {
        guard let bytes = try? FileSystem.readFile("/proc/locks", maxBytes: 4 << 20) else { return nil }
        // `1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF`; waiters have `->` after the number.
        let wanted = "\(hex(major(device))):\(hex(minor(device))):\(inode)"
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", fields[5] == wanted, let pid = Int32(fields[4]) else {
                continue
            }
            return pid
        }
        return nil
    }

    /// At least two lowercase hex digits, as /proc/locks prints device numbers.
    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return digits.count < 2 ? "0" + digits : digits
    }

    private static func major(_ device: UInt64) -> UInt32 {
        UInt32(((device >> 32) & 0xFFFF_F000) | ((device >> 8) & 0xFFF))
    }
    private static func minor(_ device: UInt64) -> UInt32 { UInt32(((device >> 12) & 0xFFFF_FF00) | (device & 0xFF)) }
}
