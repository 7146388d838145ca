internal import CLetterboxShims
public import ChatModel

#if canImport(Glibc)
    import Glibc
#endif

/// One entry of a directory, as `lstat` sees it (symlinks are not followed).
public struct DirectoryEntry: Sendable, Hashable {
    public var name: String
    public var type: EntryType
    public var size: Int
    /// Modification time in milliseconds since 1970.
    public var mtime: Timestamp
    public var inode: UInt64
    /// Modification time in nanoseconds since 1970 (for change detection; `mtime` is milliseconds).
    public var mtimeNanoseconds: Int64
}

/// The few filesystem operations Letterbox needs, done carefully: no symlinks followed, sizes capped,
/// every write durable or explicitly not, every return value checked (docs/architecture.md).
public enum FileSystem {
    /// Reads a regular file of at most `maxBytes` bytes, refusing symlinks and anything else.
    ///
    /// Nothing here can block on a file: the type is checked with `lstat` before the open, the open
    /// is non-blocking and refuses a final symlink, and the open descriptor is checked again with
    /// `fstat` (a FIFO or device swapped in between is refused, never read).
    public static func readFile(_ path: String, maxBytes: Int) throws(StoreError) -> [UInt8] {
        let fd = try openRegularFile(path, beneath: nil)
        defer { close(fd) }
        return try readAll(fd, path: path, maxBytes: maxBytes)
    }

    /// Reads a file that lives in the inbox (`root`): as `readFile`, and also refuses a symbolic link
    /// anywhere between `root` and the file (a `controls/` folder that is a link, say), and a file with
    /// more than one hard link, which could be a file outside the inbox under a second name.
    public static func readFile(_ path: String, maxBytes: Int, beneath root: String) throws(StoreError) -> [UInt8] {
        let fd = try openRegularFile(path, beneath: root)
        defer { close(fd) }
        return try readAll(fd, path: path, maxBytes: maxBytes)
    }

    /// Opens a regular file for reading without ever blocking (see `readFile`). With `root`, the path
    /// must lie below it and no symlink on the way is followed; hard-linked files are refused.
    static func openRegularFile(_ path: String, beneath root: String?, flags: Int32 = O_RDONLY) throws(StoreError)
        -> Int32
    {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .system("open", path: path) }
        try requireRegular(info, path: path, singleLink: root != nil)
        let fd = try openNoFollow(path, beneath: root, flags: flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fstat(fd, &info) == 0 else {
            let error = StoreError.system("fstat", path: path)
            close(fd)
            throw error
        }
        do {
            try requireRegular(info, path: path, singleLink: root != nil)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// `open` with O_NOFOLLOW; with `root`, beneath it with no symlink anywhere on the way.
    static func openNoFollow(_ path: String, beneath root: String?, flags: Int32, mode: mode_t = 0) throws(StoreError)
        -> Int32
    {
        let fd: Int32
        if let root {
            guard path.hasPrefix(root + "/") else {
                throw StoreError(.notAllowed, "is not inside \(root)", path: path)
            }
            let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard rootFD >= 0 else { throw .system("open", path: root) }
            fd = lb_open_beneath(rootFD, String(path.dropFirst(root.count + 1)), flags, mode)
            let saved = errno
            close(rootFD)
            errno = saved
        } else {
            fd = open(path, flags | O_NOFOLLOW, mode)
        }
        guard fd >= 0 else {
            if errno == ELOOP {
                throw StoreError(
                    .notAllowed,
                    root == nil
                        ? "is a symbolic link; symbolic links are not followed"
                        : "is a symbolic link, or inside a folder that is one; symbolic links in the inbox are not followed",
                    path: path, errno: ELOOP)
            }
            throw .system("open", path: path)
        }
        return fd
    }

    /// Refuses anything but a regular file (and, for inbox files, a file with other hard links).
    static func requireRegular(_ info: stat, path: String, singleLink: Bool) throws(StoreError) {
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw StoreError(
                .notAllowed,
                "is \(typeName(info.st_mode)), not a regular file; only regular files are read (remove it or replace it with a file)",
                path: path)
        }
        if singleLink && info.st_nlink > 1 {
            throw StoreError(
                .notAllowed,
                "has \(info.st_nlink) hard links, so the same file may also live outside the inbox; hard-linked files are not read: replace it with a copy (cp FILE FILE.new && mv FILE.new FILE)",
                path: path)
        }
    }

    /// What a file mode is, in words (`a named pipe (FIFO)`).
    public static func typeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a folder"
        case S_IFLNK: "a symbolic link"
        case S_IFIFO: "a named pipe (FIFO)"
        case S_IFSOCK: "a socket"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        default: "an unknown kind of file"
        }
    }

    /// Reads an open file from its start to its end, at most `maxBytes` bytes.
    static func readAll(_ fd: Int32, path: String, maxBytes: Int) throws(StoreError) -> [UInt8] {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .system("fstat", path: path) }
        guard Int(info.st_size) <= maxBytes else {
            throw StoreError(
                .notAllowed, "is \(info.st_size) bytes, over the limit of \(maxBytes) bytes", path: path)
        }
        // One byte past the cap is enough to tell that a growing file went over it.
        let cap = maxBytes == Int.max ? Int.max : maxBytes + 1
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while true {
            if filled == bytes.count {
                // The file may have grown since fstat: read what is there, up to the cap.
                guard bytes.count < cap else { break }
                bytes.append(contentsOf: repeatElement(0, count: min(max(4096, bytes.count), cap - bytes.count)))
            }
            let count = bytes.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + filled, $0.count - filled, off_t(filled))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system("read", path: path)
            }
            if count == 0 { break }
            filled += count
        }
        bytes.removeSubrange(filled...)
        guard bytes.count <= maxBytes else {
            throw StoreError(.notAllowed, "grew over the limit of \(maxBytes) bytes while being read", path: path)
        }
        return bytes
    }

    /// `lstat`s `path`; nil when it does not exist.
    public static func entry(at path: String) throws(StoreError) -> DirectoryEntry? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw .system("lstat", path: path)
        }
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return DirectoryEntry(info: info, name: name)
    }

    /// The entries of a directory (without `.` and `..`), sorted by name, each `lstat`ed. With `root`,
    /// the folder must lie below it with no symlink on the way (folders inside the inbox).
    public static func list(_ path: String, beneath root: String? = nil) throws(StoreError) -> [DirectoryEntry] {
        try entries(of: path, beneath: root) { dirFD, name, _ throws(StoreError) in
            var info = stat()
            guard fstatat(dirFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                if errno == ENOENT { return nil }  // removed while listing
                throw .system("fstatat", path: path + "/" + name)
            }
            return DirectoryEntry(info: info, name: name)
        }.sorted { $0.name.utf8Precedes($1.name) }
    }

    /// The names in a folder with their types, sorted by name: `list` without a `stat` per entry (the
    /// type comes from the directory itself; only a filesystem that does not say costs an `lstat`).
    /// For the inbox root, which has a folder per thread and is listed on every build.
    public static func listTypes(_ path: String) throws(StoreError) -> [(name: String, type: EntryType)] {
        try entries(of: path, beneath: nil) {
            dirFD, name, direntType throws(StoreError) -> (name: String, type: EntryType)? in
            switch Int32(direntType) {
            case Int32(DT_REG): return (name, .file)
            case Int32(DT_DIR): return (name, .directory)
            case Int32(DT_LNK): return (name, .symlink)
            case Int32(DT_UNKNOWN):
                var info = stat()
                guard fstatat(dirFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                    if errno == ENOENT { return nil }
                    throw .system("fstatat", path: path + "/" + name)
                }
                return (name, DirectoryEntry(info: info, name: name).type)
            default: return (name, .other)
            }
        }.sorted { $0.name.utf8Precedes($1.name) }
    }

    /// Reads a folder's entries (without `.` and `..`) through `entry(folderFD, name, d_type)`, which
    /// may skip one by returning nil.
    private static func entries<Entry>(
        of path: String, beneath root: String?, _ entry: (Int32, String, UInt8) throws(StoreError) -> Entry?
    ) throws(StoreError) -> [Entry] {
        let fd =
            root == nil
            ? open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            : try openNoFollow(path, beneath: root, flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open", path: path) }
        guard let dir = fdopendir(fd) else {
            let error = StoreError.system("fdopendir", path: path)
            close(fd)
            throw error
        }
        defer { closedir(dir) }
        let dirFD = dirfd(dir)
        var entries: [Entry] = []
        while let raw = readdir(dir) {
            let name = withUnsafePointer(to: raw.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            if let value = try entry(dirFD, name, raw.pointee.d_type) { entries.append(value) }
        }
        return entries
    }

    /// Creates a directory and its parents (mode 0755); fine if it exists.
    public static func createDirectory(_ path: String) throws(StoreError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o777) != 0 && errno != EEXIST { throw .system("mkdir", path: current) }
        }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw StoreError(.notAllowed, "exists and is not a folder", path: path)
        }
    }

    /// Whether a path exists (without following a final symlink).
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// fsyncs a directory so that names created or renamed in it survive a power loss.
    public static func syncDirectory(_ path: String) throws(StoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open", path: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .system("fsync", path: path) }
    }

    /// Removes a file the caller owns (a temp file, a page of the site).
    public static func removeFile(_ path: String) throws(StoreError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw .system("unlink", path: path) }
    }

    /// Removes a directory tree the caller owns (a staged site). Symlinks are removed, not followed.
    public static func removeTree(_ path: String) throws(StoreError) {
        guard let entry = try entry(at: path) else { return }
        if entry.type == .directory {
            for child in try list(path) { try removeTree(path + "/" + child.name) }
            guard rmdir(path) == 0 else { throw .system("rmdir", path: path) }
        } else {
            try removeFile(path)
        }
    }

    /// Renames `from` to `to`, failing with `EEXIST` if `to` exists (never replaces anything).
    public static func renameNoReplace(_ from: String, _ to: String) throws(StoreError) {
        guard lb_rename_noreplace(AT_FDCWD, from, AT_FDCWD, to) == 0 else { throw .system("renameat2", path: to) }
    }

    /// Renames `from` to `to`, replacing `to` if it exists (for files the caller owns).
    public static func rename(_ from: String, _ to: String) throws(StoreError) {
        guard Glibc.rename(from, to) == 0 else { throw .system("rename", path: to) }
    }

    /// Swaps two paths atomically (both must exist).
    public static func exchange(_ a: String, _ b: String) throws(StoreError) {
        guard lb_rename_exchange(AT_FDCWD, a, AT_FDCWD, b) == 0 else { throw .system("renameat2", path: b) }
    }
}

extension DirectoryEntry {
    /// Inode, size and nanosecond mtime: changes whenever the file is replaced or written.
    public var stamp: String { "\(inode):\(size):\(mtimeNanoseconds)" }

    init(info: stat, name: String) {
        let type: EntryType
        switch info.st_mode & S_IFMT {
        case S_IFREG: type = .file
        case S_IFDIR: type = .directory
        case S_IFLNK: type = .symlink
        default: type = .other
        }
        let nanos = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        self.init(
            name: name, type: type, size: Int(info.st_size), mtime: Timestamp(milliseconds: nanos / 1_000_000),
            inode: UInt64(info.st_ino), mtimeNanoseconds: nanos)
    }
}
