import ChatModel
import InboxStore
public import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The worker side of a build in several processes (`SiteBuild.jobs`): renders the threads its task
/// names into the build's staging folder and reports back. See `WorkerPool` for the descriptors.
public enum SiteWorker {
    /// A task or descriptor a worker cannot use.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs the task on stdin; call only in a process started by a build (`SiteBuild.workerCommand`).
    public static func run(logger: Logger) throws {
        var input: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            input += buffer[..<count]
        }
        guard let task = try? WorkerTask(decoding: input) else {
            throw Failure(description: "build-worker is started by `letterbox build --jobs N`, not by hand")
        }
        var config = WorkspaceConfig()
        if let path = task.configPath {
            config = try WorkspaceConfig.parse(try TextFile.decode(try FileSystem.readFile(path, maxBytes: 1 << 20)))
        }
        let workspace = Workspace(
            root: task.root, configPath: task.configPath, config: config, inbox: task.inbox, site: task.site)
        let build = try SiteBuild(workspace: workspace, site: task.site, logger: logger)
        build.isWorker = true
        build.banner = task.banner
        guard build.fingerprint == task.fingerprint else {
            throw Failure(description: "the theme or configuration changed during the build; run it again")
        }
        build.auditSpillThreshold = task.auditSpillThreshold
        let plan = BuildPlan(build: build, previous: nil)
        let sink = OutputSink(root: task.staging, hashes: [:], skipUnchanged: false)
        let rows = AuditSpool(file: try SpoolFile(adopting: 3), spillThreshold: task.auditSpillThreshold)
        var feed: [Feeds.Entry] = []
        let one: [UInt8] = [1]
        try plan.renderThreads(task.threads, into: sink, rows: rows, feed: &feed) { _ in
            // One byte per thread on the progress pipe; a parent that stopped reading is not an error.
            _ = one.withUnsafeBytes { write(5, $0.baseAddress, 1) }
        }
        let result = WorkerResult(
            records: task.threads.compactMap { plan.manifest.threads[$0] }, feed: feed,
            outputs: sink.hashes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, rows: try rows.located())
        try SpoolFile(adopting: 4).append(result.encoded())
    }
}
