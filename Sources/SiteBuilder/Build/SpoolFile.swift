import InboxStore

#if canImport(Glibc)
    import Glibc
#endif

/// A nameless file (created and unlinked at once) that a build appends to and reads back: the audit
/// rows' HTML, and the files a worker process shares with the build that started it (its task, its
/// result, its error text), passed as open descriptors so that nothing is ever left behind by name.
final class SpoolFile {
    let descriptor: Int32
    /// Bytes appended so far (or found, for a file adopted from a worker).
    private(set) var size: Int

    /// Creates the file in `folder` (which must exist).
    init(in folder: String) throws(StoreError) {
        let path = "\(folder)/.lb-spool.\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .system("open", path: path) }
        guard unlink(path) == 0 else {
            close(fd)
            throw .system("unlink", path: path)
        }
        descriptor = fd
        size = 0
    }

    /// Takes over `descriptor` (inherited from the process that started this one), appending at its end.
    init(adopting descriptor: Int32) throws(StoreError) {
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else { throw .system("lseek", path: "descriptor \(descriptor)") }
        self.descriptor = descriptor
        size = Int(end)
    }

    deinit { close(descriptor) }

    /// Re-reads the size after another process wrote to the file.
    func refreshSize() throws(StoreError) {
        let end = lseek(descriptor, 0, SEEK_END)
        guard end >= 0 else { throw .system("lseek", path: "spool file") }
        size = Int(end)
    }

    func append(_ bytes: [UInt8]) throws(StoreError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                pwrite(
                    descriptor, buffer.baseAddress.map { $0 + written }, buffer.count - written, off_t(size + written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .system("pwrite", path: "spool file")
            }
            written += result
        }
        size += bytes.count
    }

    /// The `count` bytes at `offset`.
    func read(at offset: Int, count: Int) throws(StoreError) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress.map { $0 + filled }, count - filled, off_t(offset + filled))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .system("pread", path: "spool file")
            }
            guard result > 0 else { throw StoreError(.notFound, "the spool file ends before byte \(offset + count)") }
            filled += result
        }
        return bytes
    }

    /// The whole file.
    func readAll() throws(StoreError) -> [UInt8] {
        try refreshSize()
        return try read(at: 0, count: size)
    }
}
