import ChatModel
import Foundation
import InboxStore

#if canImport(Glibc)
    import Glibc
#endif

/// What a worker process is asked to do: render these threads of this workspace into the staging
/// folder of a full build.
struct WorkerTask: Sendable, Hashable {
    var root: String
    var configPath: String?
    var inbox: String
    /// The site the build is for (its manifest and theme are found from it).
    var site: String
    /// Where pages go.
    var staging: String
    /// The builder's fingerprint (version, theme, configuration): a worker that computes another
    /// one (the theme changed under the build) refuses to render.
    var fingerprint: String
    var threads: [String]
    var auditSpillThreshold: Int
    /// The build's banner (label, ISO time, short time), if any.
    var banner: PageFrame.Banner?

    static let magic = "letterbox worker task\n"

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.bytes.append(contentsOf: Self.magic.utf8)
        for text in [root, inbox, site, staging, fingerprint] { w.string(text) }
        w.optional(configPath) { $0.string($1) }
        w.strings(threads)
        w.int(auditSpillThreshold)
        w.optional(banner) { w, banner in
            w.string(banner.label)
            w.string(banner.since.iso)
            w.string(banner.since.short)
        }
        return w.bytes
    }

    init(
        root: String, configPath: String?, inbox: String, site: String, staging: String, fingerprint: String,
        threads: [String], auditSpillThreshold: Int, banner: PageFrame.Banner?
    ) {
        self.root = root
        self.configPath = configPath
        self.inbox = inbox
        self.site = site
        self.staging = staging
        self.fingerprint = fingerprint
        self.threads = threads
        self.auditSpillThreshold = auditSpillThreshold
        self.banner = banner
    }

    init(decoding bytes: [UInt8]) throws(ByteReader.Malformed) {
        guard bytes.starts(with: Self.magic.utf8) else { throw ByteReader.Malformed() }
        var r = ByteReader(bytes)
        r.offset = Self.magic.utf8.count
        root = try r.string()
        inbox = try r.string()
        site = try r.string()
        staging = try r.string()
        fingerprint = try r.string()
        configPath = try r.optional { r throws(ByteReader.Malformed) in try r.string() }
        threads = try r.strings()
        auditSpillThreshold = try r.int()
        banner = try r.optional { r throws(ByteReader.Malformed) in
            PageFrame.Banner(label: try r.string(), since: TimeView(iso: try r.string(), short: try r.string()))
        }
    }
}

/// What a worker process reports back: its threads' records and feed entries, the pages it wrote with
/// their hashes, and where its audit rows are in its spool file.
struct WorkerResult: Sendable {
    var records: [Manifest.ThreadRecord]
    var feed: [Feeds.Entry]
    var outputs: [(path: String, digest: String)]
    var rows: [AuditSpool.Located]

    static let magic = "letterbox worker result\n"

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.bytes.append(contentsOf: Self.magic.utf8)
        w.array(records) { w, record in record.encode(to: &w) }
        w.array(feed) { w, entry in entry.encode(to: &w) }
        w.array(outputs) { w, output in
            w.string(output.path)
            w.string(output.digest)
        }
        w.array(rows) { w, row in
            w.int64(row.ts)
            w.string(row.journal)
            w.int(row.seq)
            w.int(row.offset)
            w.int(row.length)
        }
        return w.bytes
    }

    init(
        records: [Manifest.ThreadRecord], feed: [Feeds.Entry], outputs: [(path: String, digest: String)],
        rows: [AuditSpool.Located]
    ) {
        self.records = records
        self.feed = feed
        self.outputs = outputs
        self.rows = rows
    }

    init(decoding bytes: [UInt8]) throws(ByteReader.Malformed) {
        guard bytes.starts(with: Self.magic.utf8) else { throw ByteReader.Malformed() }
        var r = ByteReader(bytes)
        r.offset = Self.magic.utf8.count
        records = try r.array { r throws(ByteReader.Malformed) in try Manifest.ThreadRecord(from: &r) }
        feed = try r.array { r throws(ByteReader.Malformed) in try Feeds.Entry(from: &r) }
        outputs = try r.array { r throws(ByteReader.Malformed) in (try r.string(), try r.string()) }
        rows = try r.array { r throws(ByteReader.Malformed) in
            AuditSpool.Located(
                ts: try r.int64(), journal: try r.string(), seq: try r.int(), offset: try r.int(), length: try r.int())
        }
        guard r.isAtEnd else { throw ByteReader.Malformed() }
    }
}

/// Worker processes rendering shards of a full build: the same executable, started with
/// `SiteBuild.workerArguments`, one per shard; plain child processes this build waits for.
///
/// cmark-gfm with its extensions is not thread-safe within one process (docs/architecture.md), so
/// the second core is used by a second process. Each worker gets nameless files as descriptors: its
/// task on stdin, stdout and stderr into an error file, its audit rows on fd 3, its result on fd 4, and
/// a pipe on fd 5 where it writes one byte per rendered thread (for progress).
final class WorkerPool {
    /// A worker that failed: its exit status or signal and what it wrote to stderr.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private struct Worker {
        var pid: pid_t
        var threads: Int
        var result: SpoolFile
        var errors: SpoolFile
        var rows: SpoolFile
    }

    private var workers: [Worker] = []
    /// The read end of the progress pipe (-1 once it reached its end).
    private var progress: Int32 = -1
    /// Threads the workers have reported rendered so far.
    private(set) var done = 0

    /// Starts one worker per task.
    init(executable: String, arguments: [String], tasks: [WorkerTask], scratch: String) throws {
        try FileSystem.createDirectory(scratch)
        var pipeEnds: [Int32] = [0, 0]
        // Close-on-exec, so that no worker inherits the pipe except as its descriptor 5 (Glibc's
        // Swift overlay has no `pipe2`; nothing else starts processes during a build).
        guard pipe(&pipeEnds) == 0, fcntl(pipeEnds[0], F_SETFD, FD_CLOEXEC) == 0,
            fcntl(pipeEnds[1], F_SETFD, FD_CLOEXEC) == 0
        else { throw StoreError.system("pipe", path: nil) }
        progress = pipeEnds[0]
        defer { close(pipeEnds[1]) }
        do {
            for task in tasks {
                let input = try SpoolFile(in: scratch)
                try input.append(task.encoded())
                let worker = Worker(
                    pid: 0, threads: task.threads.count, result: try SpoolFile(in: scratch),
                    errors: try SpoolFile(in: scratch), rows: try SpoolFile(in: scratch))
                let pid = try Self.spawn(
                    executable, arguments,
                    descriptors: [
                        input.descriptor, worker.errors.descriptor, worker.errors.descriptor, worker.rows.descriptor,
                        worker.result.descriptor, pipeEnds[1],
                    ])
                workers.append(
                    Worker(
                        pid: pid, threads: worker.threads, result: worker.result, errors: worker.errors,
                        rows: worker.rows))
            }
        } catch {
            terminate()
            throw error
        }
    }

    deinit {
        terminate()
        if progress >= 0 { close(progress) }
    }

    /// Reads what the workers reported without waiting; returns the threads they have rendered so far.
    func reported() -> Int {
        readProgress(blocking: false)
        return done
    }

    /// Waits for every worker, calling `onProgress` with the threads rendered so far as they report,
    /// and returns each worker's result and audit spool. Throws the first worker's failure, after
    /// stopping the others.
    func finish(onProgress: (Int) -> Void) throws -> [(result: WorkerResult, rows: SpoolFile)] {
        while progress >= 0 {
            readProgress(blocking: true)
            onProgress(done)
        }
        var results: [(WorkerResult, SpoolFile)] = []
        var failure: Failure?
        for index in workers.indices {
            let worker = workers[index]
            var status: Int32 = 0
            while waitpid(worker.pid, &status, 0) < 0 && errno == EINTR {}
            workers[index].pid = 0
            let errorText = String(decoding: (try? worker.errors.readAll()) ?? [], as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let exited = status & 0x7F == 0
            let code = (status >> 8) & 0xFF
            guard exited, code == 0 else {
                let how = exited ? "exited with status \(code)" : "was killed by signal \(status & 0x7F)"
                failure =
                    failure
                    ?? Failure(
                        description:
                            "a build worker (pid \(worker.pid), \(worker.threads) threads) \(how)\(errorText.isEmpty ? "" : ": \(errorText)")"
                    )
                continue
            }
            do {
                results.append((try WorkerResult(decoding: try worker.result.readAll()), worker.rows))
            } catch {
                failure =
                    failure ?? Failure(description: "a build worker (pid \(worker.pid)) reported no usable result")
            }
        }
        if let failure { throw failure }
        return results
    }

    /// Stops workers still running (the build failed elsewhere) and reaps them.
    func terminate() {
        for index in workers.indices where workers[index].pid > 0 {
            kill(workers[index].pid, SIGTERM)
            var status: Int32 = 0
            while waitpid(workers[index].pid, &status, 0) < 0 && errno == EINTR {}
            workers[index].pid = 0
        }
    }

    private func readProgress(blocking: Bool) {
        guard progress >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if !blocking {
                var ready = pollfd(fd: progress, events: Int16(POLLIN), revents: 0)
                guard Glibc.poll(&ready, 1, 0) > 0 else { return }
            }
            let count = buffer.withUnsafeMutableBytes { read(progress, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                // Every worker has closed its end: they have all finished (or died).
                close(progress)
                progress = -1
                return
            }
            done += count
            if blocking { return }
        }
    }

    /// Starts `executable` with `descriptors[i]` as its descriptor `i`.
    private static func spawn(_ executable: String, _ arguments: [String], descriptors: [Int32]) throws -> pid_t {
        // Lift the sources above the targets first, so that placing one never overwrites another.
        let lifted = descriptors.map { fcntl($0, F_DUPFD_CLOEXEC, 64) }
        defer { for fd in lifted where fd >= 0 { close(fd) } }
        guard !lifted.contains(where: { $0 < 0 }) else { throw StoreError.system("fcntl", path: nil) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source) in lifted.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, source, Int32(target))
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard result == 0 else { throw StoreError.system("posix_spawn", path: executable, errno: result) }
        return pid
    }
}
