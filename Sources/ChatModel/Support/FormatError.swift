/// An error in an inbox file: what went wrong, where, and what to do about it.
///
/// Every error a file can cause is one of these. `description` is the line an operator reads,
/// e.g. `inbox/ops/hello.md:3: unknown key 'agnet' (known keys: agent, author); fix the key or remove it`.
public struct FormatError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable error code; new codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidName, invalidEncoding, binary, tooLarge, empty
            case frontMatter, reservedName, unsupported, journal, fold, approval, control, config, lease
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A file or folder name that the format does not allow.
        public static let invalidName = Code(.invalidName)
        /// Bytes that are not valid UTF-8.
        public static let invalidEncoding = Code(.invalidEncoding)
        /// A file that holds a NUL byte.
        public static let binary = Code(.binary)
        /// A file or block over its size limit.
        public static let tooLarge = Code(.tooLarge)
        /// A message with no text.
        public static let empty = Code(.empty)
        /// Front matter that is not valid for its file.
        public static let frontMatter = Code(.frontMatter)
        /// A name reserved for files Letterbox writes.
        public static let reservedName = Code(.reservedName)
        /// A file kind that Letterbox does not read.
        public static let unsupported = Code(.unsupported)
        /// A journal line that cannot be read or does not verify.
        public static let journal = Code(.journal)
        /// A journal whose events cannot have happened in that order.
        public static let fold = Code(.fold)
        /// An approval file that is not a valid answer.
        public static let approval = Code(.approval)
        /// A control file that cannot be acted on.
        public static let control = Code(.control)
        /// A configuration file error.
        public static let config = Code(.config)
        /// A delivery lease file (`inbox/lease.json`) that cannot be read.
        public static let lease = Code(.lease)

        public var description: String { base.rawValue }
    }

    /// What kind of error this is.
    public var code: Code
    /// What went wrong and what to do, in words an operator can act on.
    public var message: String
    /// The file, relative to the workspace when known.
    public var path: String?
    /// The 1-based line in the file, when known.
    public var line: Int?

    public init(_ code: Code, _ message: String, path: String? = nil, line: Int? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.line = line
    }

    /// The same error, located in `path` unless it already names a file.
    public func located(in path: String) -> FormatError {
        var copy = self
        if copy.path == nil { copy.path = path }
        return copy
    }

    /// The same error with `offset` added to its line, for text that was cut out of a larger file.
    public func shiftingLine(by offset: Int) -> FormatError {
        var copy = self
        if let line = copy.line { copy.line = line + offset }
        return copy
    }

    public var description: String {
        switch (path, line) {
        case let (path?, line?): "\(path):\(line): \(message)"
        case let (path?, nil): "\(path): \(message)"
        case let (nil, line?): "line \(line): \(message)"
        case (nil, nil): message
        }
    }
}
