import ChatModel
import Foundation
import InboxStore
public import Logging

/// What a build did, for the summary line.
public struct BuildReport: Sendable, Hashable {
    /// Whether the whole site was rebuilt (and swapped in at once).
    public var full: Bool
    public var threadsRendered: Int
    public var threadsTotal: Int
    public var pagesWritten: Int
    public var pagesUnchanged: Int
    public var pagesRemoved: Int
    public var duration: Duration

    /// `built site/: 12 pages written, 3 unchanged, 0 removed (2 of 40 threads) in 41 ms`.
    public var summary: String {
        let millis = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return
            "\(full ? "full build" : "incremental build"): \(pagesWritten) written, \(pagesUnchanged) unchanged, \(pagesRemoved) removed (\(threadsRendered) of \(threadsTotal) threads rendered) in \(String(format: "%.1f", millis)) ms"
    }
}

/// Builds the static site from the inbox (docs/site.md): a pipeline of read → fold → render → write,
/// redoing only what changed since the last build.
///
/// One instance may be kept for many builds (the daemon does): it keeps the theme, the Markdown
/// renderer and the manifest in memory. Not thread-safe (cmark-gfm is not); use it from one task.
public final class SiteBuild {
    public let workspace: Workspace
    public let site: String
    let theme: Theme
    let renderer = MarkdownRenderer()
    let logger: Logger
    var manifest: Manifest?
    var manifestDirty = false
    /// How much audit HTML a build keeps in memory before spilling it to a scratch file (tests lower it).
    var auditSpillThreshold = AuditSpool.defaultSpillThreshold
    /// Message sections rendered by earlier incremental builds, reused while their inputs are unchanged.
    let messageSections = MessageSectionCache()
    /// Threads as incremental builds read them, extended by their new journal lines and files; kept
    /// in memory and in `.letterbox/site-cache/`.
    let threads: ThreadCache
    /// Each thread's entry in `api/chat/threads.json` and the chain table's row of each journal, with
    /// what they were rendered from, so a build renders only those of threads that changed.
    var apiItems: [String: (summary: ThreadSummary, bytes: [UInt8])] = [:]
    var chainRows: [String: (chain: AuditLog.ChainStatus, html: String)] = [:]
    /// Called after each rendered thread with (done, total), for progress on a terminal.
    public var progress: (@Sendable (Int, Int) -> Void)?
    /// How many processes a full build renders threads in (this one and `jobs - 1` workers).
    public var jobs = 1
    /// The command that starts a worker process (`SiteWorker.run` in it), as an argument vector:
    /// the same executable with a hidden subcommand. Without it, every build renders in this process.
    public var workerCommand: [String]?

    /// The builder version: part of the manifest fingerprint, so an upgrade rebuilds everything.
    static let version = "3"
    /// Whether this builder renders a worker's shard (its banner then comes with its task).
    var isWorker = false

    public convenience init(workspace: Workspace, site: String? = nil, logger: Logger) throws {
        try self.init(workspace: workspace, site: site, logger: logger, compiledTheme: true)
    }

    /// `compiledTheme: false` renders the built-in templates through Mustache (tests compare the two).
    init(workspace: Workspace, site: String?, logger: Logger, compiledTheme: Bool) throws {
        self.workspace = workspace
        self.site = site ?? workspace.site
        self.theme = try Theme.load(overrides: workspace.theme, compiled: compiledTheme)
        self.logger = logger
        threads = ThreadCache(
            folder: workspace.stateFolder + "/site-cache",
            key: SHA256Hex.digest(
                "\(Self.version)\u{0}\(theme.fingerprint)\u{0}\(compiledTheme)\u{0}\(workspace.config.title)"))
    }

    /// The banner every page carries while the runtime is degraded or refuses the token (from the
    /// inbox journal, read at the start of each build). Part of the fingerprint: when it appears,
    /// changes or goes, every page changes, so the build is a full one.
    var banner: PageFrame.Banner?

    var fingerprint: String {
        let banner = banner.map { "\($0.label)\u{0}\($0.since.iso)" } ?? ""
        return SHA256Hex.digest(
            "\(Self.version)\u{0}\(theme.fingerprint)\u{0}\(workspace.config.title)\u{0}\(banner)")
    }

    /// The banner for the runtime's state in the inbox journal, if it needs one.
    static func banner(for inbox: InboxState, strings: [String: String]) -> PageFrame.Banner? {
        switch inbox.runtime {
        case let .degraded(since, _): .init(label: strings["banner_degraded"] ?? "", since: TimeView(since))
        case let .authFailing(since, _): .init(label: strings["banner_auth"] ?? "", since: TimeView(since))
        case .unknown, .reachable: nil
        }
    }

    /// Builds the site. `changed` names the threads that may have changed (the daemon knows from its
    /// watcher); nil means "find out" by comparing every thread folder's listing with the manifest.
    /// `full` forces a complete rebuild into a staging folder that replaces the site at once.
    @discardableResult
    public func build(changed: Set<String>? = nil, full forceFull: Bool = false) throws -> BuildReport {
        let clock = ContinuousClock()
        let start = clock.now
        if manifest == nil { manifest = Manifest.load(site: site, workspace: workspace) }
        if !isWorker {
            let (entries, _) = InboxReader.readJournal(workspace.inboxJournalPath, beneath: workspace.inbox)
            banner = (try? InboxState.fold(entries)).flatMap { Self.banner(for: $0, strings: theme.strings) }
        }
        let canIncrement = !forceFull && manifest?.fingerprint == fingerprint && FileSystem.exists(site + "/index.html")
        var report: BuildReport
        var plan: BuildPlan
        if canIncrement, let previous = manifest.take() {
            plan = BuildPlan(build: self, previous: previous)
            let sink = OutputSink(root: site, hashes: plan.takeOutputs(), skipUnchanged: true)
            do {
                try plan.run(into: sink, changed: changed)
                // An incremental build never drops an output, so the previous outputs plus what it wrote
                // are the site: threads only come (one removed needs a full build), audit pages only
                // grow, and every other page is written by every build.
                plan.manifest.outputs = sink.hashes
                report = BuildReport(
                    full: false, threadsRendered: plan.rendered.count, threadsTotal: plan.threadIDs.count,
                    pagesWritten: sink.written, pagesUnchanged: sink.unchanged, pagesRemoved: 0,
                    duration: .zero)
            } catch let needsFull as BuildPlan.NeedsFullBuild {
                (manifest, manifestDirty) = (plan.rollback(outputs: sink.hashes), true)
                logger.info("history changed under the site (\(needsFull.reason)); rebuilding all of it")
                (plan, report) = try fullBuild()
            } catch {
                // Saved, it also tells the next process which pages this build did write.
                (manifest, manifestDirty) = (plan.rollback(outputs: sink.hashes), true)
                throw error
            }
        } else {
            (plan, report) = try fullBuild()
        }
        report.duration = clock.now - start
        manifest = plan.manifest
        manifestDirty = true
        return report
    }

    /// Renders everything into a staging folder beside the site, then swaps it in with one
    /// `renameat2(RENAME_EXCHANGE)`: a reader sees the old site or the new one, never a mix.
    private func fullBuild() throws -> (BuildPlan, BuildReport) {
        let staging = siblingPath(".staging")
        try FileSystem.removeTree(staging)
        try FileSystem.createDirectory(staging)
        let plan = BuildPlan(build: self, previous: nil)
        let sink = OutputSink(root: staging, hashes: [:], skipUnchanged: false)
        do {
            try plan.run(into: sink, changed: nil)
        } catch {
            try? FileSystem.removeTree(staging)
            throw error
        }
        if let entry = try FileSystem.entry(at: site), entry.type == .directory {
            try FileSystem.exchange(staging, site)
            try FileSystem.removeTree(staging)
        } else {
            try FileSystem.createDirectory(Workspace.absolute("..", base: site))
            try FileSystem.rename(staging, site)
        }
        plan.manifest.outputs = sink.hashes
        threads.prune(keeping: plan.threadIDs)
        let report = BuildReport(
            full: true, threadsRendered: plan.rendered.count, threadsTotal: plan.threadIDs.count,
            pagesWritten: sink.written,
            pagesUnchanged: 0, pagesRemoved: 0, duration: .zero)
        return (plan, report)
    }

    /// Saves the manifest, if a build changed it, and the threads incremental builds read since the
    /// last save (the thread cache). The CLI saves after every build; the daemon saves on a timer and
    /// at shutdown, keeping encoding off the per-message path.
    public func saveManifest() throws {
        threads.save()
        guard manifestDirty, let manifest else { return }
        try manifest.save(site: site, workspace: workspace)
        manifestDirty = false
    }

    func siblingPath(_ suffix: String) -> String {
        let parent = Workspace.absolute("..", base: site)
        let name = site.split(separator: "/").last.map(String.init) ?? "site"
        return "\(parent)/.\(name)\(suffix)-\(getpid())"
    }
}
