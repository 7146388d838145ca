import ChatModel

#if canImport(Glibc)
    import Glibc
#endif

/// A nameless temporary file: created in a folder and unlinked at once, so it is gone when this object
/// is (or when the process dies) and no reader or watcher ever sees it. For spilling data a process
/// must keep for a while but not in memory.
public final class ScratchFile {
    private let fd: Int32
    /// Bytes appended so far.
    public private(set) var size = 0

    /// Creates the file in `folder` (which must exist).
    public init(in folder: String) throws(StoreError) {
        let path = "\(folder)/\(FileClassifier.tempPrefix)scratch.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .system("open", path: path) }
        guard unlink(path) == 0 else {
            close(fd)
            throw .system("unlink", path: path)
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Appends `bytes` at the end.
    public func append(_ bytes: [UInt8]) throws(StoreError) {
        try DurableWriter.writeAll(fd, bytes, path: "scratch file")
        size += bytes.count
    }

    /// The `count` bytes at `offset` (which must have been appended).
    public func read(at offset: Int, count: Int) throws(StoreError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let result = bytes.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress! + filled, $0.count - filled, off_t(offset + filled))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .system("pread", path: "scratch file")
            }
            guard result > 0 else { throw StoreError(.notFound, "ends before byte \(offset + count)") }
            filled += result
        }
        return bytes
    }
}
