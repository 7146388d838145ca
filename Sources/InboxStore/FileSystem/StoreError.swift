#if canImport(Glibc)
    import Glibc
#endif

/// A filesystem error: what failed, on which path, and the system's reason.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// A system call failed (see `errno`).
        public static let system = Code("system")
        /// The path exists but is not what was expected (a symlink, a folder, too large).
        public static let notAllowed = Code("notAllowed")
        /// Another process holds the lock.
        public static let locked = Code("locked")
        /// A file changed under the process that had it open (a journal replaced by `git pull`).
        public static let changed = Code("changed")
        /// The workspace or a file in it is missing.
        public static let notFound = Code("notFound")
        public var description: String { name }
    }

    public var code: Code
    public var message: String
    public var path: String?
    /// The `errno` of a failed system call.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, path: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    /// The error for a failed system call `call` on `path`, using the current `errno`.
    public static func system(_ call: String, path: String?, errno code: Int32 = Glibc.errno) -> StoreError {
        let reason = String(cString: strerror(code))
        return StoreError(.system, "\(call) failed: \(reason)", path: path, errno: code)
    }

    public var description: String {
        if let path { "\(path): \(message)" } else { message }
    }
}
