import ChatModel
import InboxCore
import Logging

/// Commits the inbox's history at the machine's commit points (docs/daemon.md, "Git"): each accepted
/// message, finished reply, approval answer and control, batched by a quiet window. An operator's
/// message file is committed on its own, as the operator (git config); everything Letterbox wrote
/// (journals, replies, tool calls, approvals, pulled messages) in one commit as the bot.
///
/// Runs between the runner's batches, in its loop, so git never sees a file change under it that the
/// daemon did not expect. Waits while another git command holds the index.
final class GitCommitter {
    let repository: GitRepository
    let bot: GitRepository.Identity
    let quiet: Duration
    let logger: Logger
    /// The operator's identity, from git config when the daemon started.
    var operatorIdentity: GitRepository.Identity?

    /// Files written since the last commit (absolute paths).
    private var touched: Set<String> = []
    /// Operator files to commit on their own, in order.
    private var operatorFiles: [(path: String, summary: String)] = []
    private var points: [CommitPoint] = []
    private var lastPoint: ContinuousClock.Instant?
    /// Whether `touched` holds a write no commit point carries.
    private var hasHousekeeping = false

    init(repository: GitRepository, bot: GitRepository.Identity, quiet: Duration, logger: Logger) {
        self.repository = repository
        self.bot = bot
        self.quiet = quiet
        self.logger = logger
    }

    /// A file the daemon wrote (a journal, a reply, ...); committed with the next commit point's batch.
    func touched(_ path: String) { touched.insert(path) }

    /// A file the daemon wrote with no commit point to carry it (the inbox journal's anchor line, written
    /// when the daemon goes idle): committed after the quiet window all the same, so the daemon never
    /// leaves its own writes uncommitted. Returns when that commit will be due, if it set the time.
    func housekeeping(_ path: String) -> ContinuousClock.Instant? {
        touched.insert(path)
        hasHousekeeping = true
        guard lastPoint == nil else { return nil }
        let now = ContinuousClock.now
        lastPoint = now
        return now + quiet
    }

    /// Commit points from the machine; returns when a commit will be due.
    func record(_ new: [CommitPoint], inbox: String) -> ContinuousClock.Instant? {
        guard !new.isEmpty else { return nil }
        for point in new {
            if let file = point.operatorFile {
                operatorFiles.append((inbox + "/" + point.thread + "/" + file, "\(point.thread): \(point.summary)"))
            }
        }
        points += new
        let now = ContinuousClock.now
        lastPoint = now
        return now + quiet
    }

    /// Whether the quiet window after the last commit point has passed.
    var isDue: Bool { lastPoint.map { ContinuousClock.now - $0 >= quiet } ?? false }

    /// Commits what is pending, if the window has passed (or `force`: before a sync) and no other git
    /// command holds the index. Returns when to try again, if it could not.
    @discardableResult
    func commitIfDue(force: Bool = false) async -> ContinuousClock.Instant? {
        guard isDue || force, !points.isEmpty || hasHousekeeping else { return nil }
        guard !repository.isLocked else {
            logger.debug("git index is locked; the commit waits")
            return ContinuousClock.now + .seconds(1)
        }
        do {
            for file in operatorFiles {
                try await repository.commit(
                    [file.path], message: file.summary, as: operatorIdentity ?? Self.fallbackOperator)
            }
            operatorFiles = []
            let paths = touched.sorted()
            try await repository.commit(paths, message: Self.message(points), as: bot)
            touched = []
            points = []
            hasHousekeeping = false
            lastPoint = nil
        } catch {
            logger.error("could not commit the inbox's history; trying again", metadata: ["error": "\(error)"])
            return ContinuousClock.now + .seconds(5)
        }
        return nil
    }

    /// Used when git config gives no identity: the commit still says it was the operator's.
    static let fallbackOperator = GitRepository.Identity(
        name: "Letterbox operator", email: "operator@letterbox.invalid")

    /// `ops: reply from assistant to rollout.md`, or a first line and one line per point.
    static func message(_ points: [CommitPoint]) -> String {
        let lines = points.map { "\($0.thread): \($0.summary)" }
        guard lines.count > 1 else { return lines.first ?? "letterbox: anchor the journals' heads" }
        let threads = Set(points.map(\.thread)).sorted()
        let head =
            threads.count == 1
            ? "\(threads[0]): \(lines.count) changes" : "\(lines.count) changes in \(threads.joined(separator: ", "))"
        return head + "\n\n" + lines.map { "- " + $0 }.joined(separator: "\n") + "\n"
    }
}
