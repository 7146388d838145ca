import ChatModel
import Foundation
import InboxStore

/// Pull with rebase, then push: how clones of one inbox meet (docs/daemon.md, "Sync").
///
/// The format is merge-free (docs/format.md, "Many operators"): only the delivering daemon writes
/// journals and daemon files, operators only add new message files, so a rebase replays commits that
/// touch different files. The one file two daemons may both write is the delivery lease; a rebase
/// that stops on it keeps the remote's lease (the push that got there first won). Any other conflict
/// means the rules were broken: the rebase is aborted, the clone is left as it was, and the error says
/// which files and what to do.
public struct GitSync: Sendable {
    public let repository: GitRepository
    /// The remote and branch synced with (`origin` and `main`, say).
    public let remote: String
    public let branch: String
    /// The lease file's path relative to the work tree (`inbox/lease.json`).
    public let leasePath: String
    /// Whether the remote and branch are the branch's upstream (`git clone` sets one; `git push -u`).
    public var isUpstream = false
    /// Who commits replayed by a rebase are committed by (each keeps its author).
    public var committer = GitRepository.Identity(name: "Letterbox", email: "letterbox@localhost")

    /// What a sync did.
    public struct Outcome: Sendable, Hashable {
        /// HEAD before and after (different when the pull brought commits).
        public var before: String
        public var after: String
        /// Whether a push sent commits.
        public var pushed: Bool
        /// Files the pull changed, relative to the work tree.
        public var changed: [String]
    }

    /// A sync that failed: what git said and what to do.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var message: String
        /// Files in conflict, when a rebase stopped.
        public var conflicts: [String]
        public var description: String { message }
    }

    /// The sync for the work tree holding `inbox`: the remote is `git.remote`, else the branch's
    /// upstream's, else `origin`; nil when that remote does not exist or HEAD is not on a branch.
    public static func configure(_ repository: GitRepository, settings: WorkspaceConfig.Git, inbox: String) async
        -> GitSync?
    {
        guard let head = try? await repository.run(["symbolic-ref", "-q", "--short", "HEAD"], readOnly: true),
            head.succeeded
        else { return nil }
        let branch = head.output.trimmingCharacters(in: .whitespacesAndNewlines)
        var remote = settings.remote
        var remoteBranch = branch
        var tracked = false
        if remote == nil,
            let upstream = try? await repository.run(
                ["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"], readOnly: true), upstream.succeeded
        {
            let name = upstream.output.trimmingCharacters(in: .whitespacesAndNewlines)
            if let slash = name.firstIndex(of: "/") {
                remote = String(name[..<slash])
                remoteBranch = String(name[name.index(after: slash)...])
                tracked = true
            }
        }
        let chosen = remote ?? "origin"
        guard let url = try? await repository.run(["remote", "get-url", chosen], readOnly: true), url.succeeded else {
            return nil
        }
        let relativeInbox =
            inbox.hasPrefix(repository.root + "/") ? String(inbox.dropFirst(repository.root.count + 1)) : "inbox"
        var sync = GitSync(
            repository: repository, remote: chosen, branch: remoteBranch,
            leasePath: relativeInbox + "/" + DeliveryLease.fileName)
        sync.committer = .init(name: settings.name, email: settings.email)
        sync.isUpstream = tracked
        return sync
    }

    public init(repository: GitRepository, remote: String, branch: String, leasePath: String) {
        self.repository = repository
        self.remote = remote
        self.branch = branch
        self.leasePath = leasePath
    }

    /// Pulls with rebase and pushes; a push refused because the remote moved on pulls and pushes
    /// again (up to five times).
    /// `keepOurLease`: a rebase that stops on the lease keeps this clone's (a forced take), not the remote's.
    public func sync(keepOurLease: Bool = false) async throws -> Outcome {
        let before = try await head()
        var pushed = false
        for attempt in 1...5 {
            try await pull(keepOurLease: keepOurLease)
            let push = try await repository.run(["push", "-q", "--porcelain", remote, "HEAD:refs/heads/" + branch])
            if push.succeeded {
                pushed = !push.output.contains("[up to date]")
                break
            }
            let text = push.error + push.output
            // Refused because the remote moved on, or because another push held the ref at that moment.
            let refused =
                text.contains("[rejected]") || text.contains("non-fast-forward") || text.contains("fetch first")
                || text.contains("[remote rejected]") || text.contains("cannot lock ref")
            guard refused, attempt < 5 else {
                throw Failure(
                    message:
                        "git push \(remote) \(branch) failed: \(Self.trimmed(text)); check the remote's URL and your access (git remote -v), then run `letterbox sync` again",
                    conflicts: [])
            }
        }
        let after = try await head()
        var changed: [String] = []
        if before != after, !before.isEmpty,
            let diff = try? await repository.run(["diff", "--name-only", before, after], readOnly: true), diff.succeeded
        {
            changed = diff.output.split(separator: "\n").map(String.init)
        }
        return Outcome(before: before, after: after, pushed: pushed, changed: changed)
    }

    /// `git pull --rebase`: a conflict on the lease keeps the remote's lease (`keepOurLease`: this
    /// clone's); any other conflict aborts the rebase.
    public func pull(keepOurLease: Bool = false) async throws {
        let fetch = try await repository.run(["fetch", "-q", remote, branch])
        guard fetch.succeeded else {
            let text = Self.trimmed(fetch.error)
            if text.contains("couldn't find remote ref") { return }  // an empty remote: the push makes the branch
            throw Failure(
                message:
                    "git fetch \(remote) \(branch) failed: \(text); check the remote's URL and your access (git remote -v)",
                conflicts: [])
        }
        let rebase = try await repository.run(["rebase", "-q", "--autostash", "FETCH_HEAD"], committer: committer)
        if rebase.succeeded { return }
        for _ in 0..<64 {
            guard isRebasing else { break }
            let conflicts = try await unmerged()
            guard !conflicts.isEmpty, conflicts.allSatisfy({ $0 == leasePath }) else {
                _ = try? await repository.run(["rebase", "--abort"])
                if conflicts.isEmpty {
                    throw Failure(
                        message:
                            "git rebase onto \(remote)/\(branch) failed: \(Self.trimmed(rebase.error + rebase.output)); the clone is as it was. Commit or remove local changes in the way, then run `letterbox sync` again",
                        conflicts: [])
                }
                throw Failure(
                    message:
                        "the commits of this clone conflict with \(remote)/\(branch) in \(conflicts.joined(separator: ", ")): someone broke the merge-free rules (docs/format.md, \"Many operators\": only the daemon holding the lease writes journals and daemon files; operators only add new message files). The rebase was aborted and the clone is as it was: keep the remote's version of those files (git pull --rebase, then resolve by hand, keeping the remote's journal lines), then start the daemon again",
                    conflicts: conflicts)
            }
            // The remote's lease wins (in a rebase, "ours" is the branch being rebased onto), unless
            // this clone forces its own ("theirs": the commit being replayed).
            _ = try await repository.run(["checkout", keepOurLease ? "--theirs" : "--ours", "--", leasePath])
            _ = try await repository.run(["add", "--", leasePath])
            let empty = try await repository.run(["diff", "--cached", "--quiet"], readOnly: true)
            let step =
                empty.succeeded
                ? try await repository.run(["rebase", "--skip"], committer: committer)
                : try await repository.run(["-c", "core.editor=true", "rebase", "--continue"], committer: committer)
            if step.succeeded, !isRebasing { return }
        }
        if isRebasing { _ = try? await repository.run(["rebase", "--abort"]) }
        throw Failure(
            message: "git rebase onto \(remote)/\(branch) did not finish; the clone is as it was", conflicts: [])
    }

    /// Whether a rebase is stopped in the middle.
    var isRebasing: Bool {
        FileSystem.exists(repository.gitFolder + "/rebase-merge")
            || FileSystem.exists(repository.gitFolder + "/rebase-apply")
    }

    func unmerged() async throws -> [String] {
        let result = try await repository.run(["diff", "--name-only", "--diff-filter=U"], readOnly: true)
        return result.output.split(separator: "\n").map(String.init)
    }

    func head() async throws -> String {
        let result = try await repository.run(["rev-parse", "-q", "--verify", "HEAD"], readOnly: true)
        return result.succeeded ? result.output.trimmingCharacters(in: .whitespacesAndNewlines) : ""
    }

    static func trimmed(_ text: String) -> String {
        text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: "; ")
    }
}
