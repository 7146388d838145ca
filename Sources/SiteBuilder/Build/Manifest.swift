import ChatModel
import InboxStore

/// What the last build produced and from what: the memory that lets a build redo only what changed.
///
/// Kept in `.letterbox/` (machine-local: it holds inode numbers and mtimes), never in the site, so
/// the site stays byte-identical for the same inbox. Losing it only costs a full build.
struct Manifest: Codable, Sendable {
    static let formatVersion = 5

    /// A journal as last seen: how many lines, the last hash, and any problem.
    struct JournalRecord: Codable, Sendable, Hashable {
        var lines = 0
        var lastHash = JournalCodec.genesis
        var problem: String?
    }

    /// A thread as last built.
    struct ThreadRecord: Codable, Sendable {
        /// The folder listing's stamp (names, inodes, sizes, mtimes).
        var fingerprint: String
        var summary: ThreadSummary
        var journal: JournalRecord
        /// How many feed entries the thread had (entries only ever grow; fewer means history changed).
        var feedEntries: Int
        /// The thread's rendered entry on the index.
        var indexItem: String
    }

    var version = formatVersion
    /// Theme, configuration and builder version: when it changes, everything is rebuilt.
    var fingerprint: String
    /// The boot it was saved in (the kernel's `boot_id`). Pages are written without fsync, so after a
    /// power loss some may be empty while the manifest vouches for them: one from another boot is not
    /// trusted, and the first build after a restart of the machine is a full one.
    var boot = Manifest.currentBoot
    /// Every output path and the SHA-256 of its bytes.
    var outputs: [String: String] = [:]
    var threads: [String: ThreadRecord] = [:]
    var inboxJournal = JournalRecord()
    /// Audit rows in total, and the rows of the newest page (oldest first).
    var auditTotal = 0
    var auditTail: [AuditPages.Row] = []
    /// The inbox feed's entries.
    var feed: [Feeds.Entry] = []

    static func path(site: String, workspace: Workspace) -> String {
        workspace.stateFolder + "/site-manifest-\(SHA256Hex.digest(site).prefix(12)).bin"
    }

    /// The manifest last saved for `site`, if it decodes and was saved in boot `boot`.
    static func load(site: String, workspace: Workspace, boot: String = currentBoot) -> Manifest? {
        guard let bytes = try? FileSystem.readFile(path(site: site, workspace: workspace), maxBytes: 1 << 30),
            let manifest = decoded(bytes), manifest.boot == boot
        else { return nil }
        return manifest
    }

    /// This boot's id (empty where the kernel does not say: then every manifest is from this boot).
    static let currentBoot: String =
        (try? FileSystem.readFile("/proc/sys/kernel/random/boot_id", maxBytes: 64))
        .map { String(decoding: $0, as: UTF8.self).trimmingWhitespace } ?? ""

    func save(site: String, workspace: Workspace) throws {
        try FileSystem.createDirectory(workspace.stateFolder)
        try DurableWriter.writeQuickly(encoded(), to: Self.path(site: site, workspace: workspace))
        // The JSON manifest of earlier versions, which nothing reads any more.
        let legacy = workspace.stateFolder + "/site-manifest-\(SHA256Hex.digest(site).prefix(12)).json"
        if FileSystem.exists(legacy) { try FileSystem.removeFile(legacy) }
    }
}
