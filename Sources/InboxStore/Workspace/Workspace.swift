public import ChatModel

#if canImport(Glibc)
    import Glibc
#endif

/// Where a workspace's parts are (docs/format.md §1), and its configuration.
public struct Workspace: Sendable {
    /// The name of the configuration file.
    public static let configName = "letterbox.yaml"

    /// The folder holding `letterbox.yaml` (or the inbox's parent when there is none).
    public var root: String
    /// The configuration file, when there is one.
    public var configPath: String?
    public var config: WorkspaceConfig
    /// The inbox folder (absolute).
    public var inbox: String
    /// The site folder (absolute).
    public var site: String
    /// Local machine state (lock, caches, status): `.letterbox/` in the root.
    public var stateFolder: String { root + "/.letterbox" }
    /// Where torn journal bytes are kept.
    public var tornFolder: String { stateFolder + "/torn" }
    /// The theme folder, if configured.
    public var theme: String? { config.theme.map { absolute($0, base: root) } }

    public init(root: String, configPath: String?, config: WorkspaceConfig, inbox: String, site: String) {
        self.root = root
        self.configPath = configPath
        self.config = config
        self.inbox = inbox
        self.site = site
    }

    /// Finds the workspace for the current folder: `letterbox.yaml` here or in a parent.
    ///
    /// `inbox` and `site` override the configured folders (relative to the current folder). With an
    /// inbox override and no configuration file, the inbox's parent is the root and defaults apply.
    public static func locate(from cwd: String = currentDirectory(), inbox: String? = nil, site: String? = nil) throws
        -> Workspace
    {
        let found = findConfig(from: cwd)
        if found == nil && inbox == nil {
            throw StoreError(
                .notFound,
                "no \(configName) here or in a parent folder; run `letterbox init` to create a workspace, or pass --inbox DIR",
                path: cwd)
        }
        var config = WorkspaceConfig()
        var root: String
        if let found {
            let bytes = try FileSystem.readFile(found, maxBytes: 1 << 20)
            do {
                config = try WorkspaceConfig.parse(try TextFile.decode(bytes))
            } catch {
                throw error.located(in: found)
            }
            root = String(found.dropLast(configName.count + 1))
            if root.isEmpty { root = "/" }
        } else {
            root = parent(of: absolute(inbox ?? "inbox", base: cwd))
        }
        let inboxPath = inbox.map { absolute($0, base: cwd) } ?? absolute(config.inbox, base: root)
        let sitePath = site.map { absolute($0, base: cwd) } ?? absolute(config.site, base: root)
        return Workspace(root: root, configPath: found, config: config, inbox: inboxPath, site: sitePath)
    }

    /// The folder of thread `id`.
    public func threadFolder(_ id: String) -> String { inbox + "/" + id }

    /// The journal of thread `id`.
    public func journalPath(thread id: String) -> String { threadFolder(id) + "/" + FileClassifier.journalName }

    /// The inbox journal.
    public var inboxJournalPath: String { inbox + "/" + FileClassifier.journalName }

    /// A path relative to the workspace root, for messages (`inbox/ops/hello.md`).
    public func relative(_ path: String) -> String {
        path.hasPrefix(root + "/") ? String(path.dropFirst(root.count + 1)) : path
    }

    static func findConfig(from cwd: String) -> String? {
        var folder = cwd
        while true {
            let candidate = (folder == "/" ? "" : folder) + "/" + configName
            if FileSystem.exists(candidate) { return candidate }
            if folder == "/" || folder.isEmpty { return nil }
            folder = parent(of: folder)
        }
    }

    /// The process's current folder.
    public static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `path` made absolute against `base`, with `.` and `..` resolved textually.
    public static func absolute(_ path: String, base: String) -> String {
        var expanded = path
        if expanded == "~" || expanded.hasPrefix("~/"), let home = getenv("HOME") {
            expanded = String(cString: home) + expanded.dropFirst()
        }
        let joined = expanded.hasPrefix("/") ? expanded : base + "/" + expanded
        var parts: [Substring] = []
        for part in joined.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    func absolute(_ path: String, base: String) -> String { Self.absolute(path, base: base) }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }
}
