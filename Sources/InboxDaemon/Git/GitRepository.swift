import Foundation
import InboxStore
import Subprocess

/// A git work tree, driven through the `git` CLI (never a second implementation of git).
///
/// Calls that only read pass `GIT_OPTIONAL_LOCKS=0`, so a `git status` of ours never takes the index
/// lock from under an operator's own git command.
public struct GitRepository: Sendable {
    /// The work tree's top folder.
    public let root: String
    /// The repository's git folder (`.git`, or elsewhere for a linked work tree).
    public let gitFolder: String

    /// Who a commit is by.
    public struct Identity: Sendable, Hashable {
        public var name: String
        public var email: String
        public init(name: String, email: String) {
            self.name = name
            self.email = email
        }
    }

    /// What a git call did.
    public struct Result: Sendable {
        public var status: Int32
        public var output: String
        public var error: String
        public var succeeded: Bool { status == 0 }
    }

    /// A git call that failed, with what git said.
    public struct Failure: Error, CustomStringConvertible {
        public var arguments: [String]
        public var status: Int32
        public var error: String
        public var description: String {
            "git \(arguments.joined(separator: " ")) exited \(status): \(error.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }

    /// The work tree holding `path`, or nil when it is not in one (or git is missing).
    public static func find(containing path: String) async -> GitRepository? {
        guard
            let top = try? await call(
                ["rev-parse", "--show-toplevel", "--absolute-git-dir"], in: path, readOnly: true),
            top.succeeded
        else { return nil }
        let lines = top.output.split(separator: "\n").map(String.init)
        guard lines.count == 2 else { return nil }
        return GitRepository(root: lines[0], gitFolder: lines[1])
    }

    /// Makes `path` a new repository (`git init`).
    public static func initialize(at path: String) async throws {
        let result = try await call(["init", "-q"], in: path, readOnly: false)
        guard result.succeeded else { throw Failure(arguments: ["init"], status: result.status, error: result.error) }
    }

    /// Runs `git ARGS` in the work tree.
    @discardableResult
    public func run(
        _ arguments: [String], identity: Identity? = nil, committer: Identity? = nil, readOnly: Bool = false
    ) async throws -> Result {
        try await Self.call(arguments, in: root, readOnly: readOnly, identity: identity, committer: committer)
    }

    /// `committer` sets only the committer (a rebase keeps each commit's author).
    static func call(
        _ arguments: [String], in folder: String, readOnly: Bool, identity: Identity? = nil, committer: Identity? = nil
    ) async throws -> Result {
        var updates: [Environment.Key: String?] = ["GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"]
        if readOnly { updates["GIT_OPTIONAL_LOCKS"] = "0" }
        if let identity {
            updates["GIT_AUTHOR_NAME"] = identity.name
            updates["GIT_AUTHOR_EMAIL"] = identity.email
            updates["GIT_COMMITTER_NAME"] = identity.name
            updates["GIT_COMMITTER_EMAIL"] = identity.email
        }
        if let committer {
            updates["GIT_COMMITTER_NAME"] = committer.name
            updates["GIT_COMMITTER_EMAIL"] = committer.email
        }
        let result = try await Subprocess.run(
            .name("git"), arguments: Arguments(["-C", folder] + arguments), environment: .inherit.updating(updates),
            output: .string(limit: 4 << 20), error: .string(limit: 1 << 20))
        let status: Int32
        switch result.terminationStatus {
        case let .exited(code): status = code
        case let .signaled(signal): status = 128 + signal
        }
        return Result(status: status, output: result.standardOutput, error: result.standardError)
    }

    /// Whether another git command holds the index (`.git/index.lock`): commits wait for it.
    public var isLocked: Bool { FileSystem.exists(gitFolder + "/index.lock") }

    /// The identity `git config` gives (the operator's), if it gives one.
    public func configuredIdentity() async -> Identity? {
        guard let name = try? await run(["config", "user.name"], readOnly: true), name.succeeded,
            let email = try? await run(["config", "user.email"], readOnly: true), email.succeeded
        else { return nil }
        let trimmedName = name.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let trimmedEmail = email.output.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmedName.isEmpty, !trimmedEmail.isEmpty else { return nil }
        return Identity(name: trimmedName, email: trimmedEmail)
    }

    /// Commits `paths` (and only them) with `message` as `identity` (nil: git's configured one).
    /// Returns false when none of them changed.
    @discardableResult
    public func commit(_ paths: [String], message: String, as identity: Identity?) async throws -> Bool {
        guard !paths.isEmpty else { return false }
        let add = try await run(["add", "--"] + paths)
        guard add.succeeded else { throw Failure(arguments: ["add"], status: add.status, error: add.error) }
        let changed = try await run(["diff", "--cached", "--quiet", "--"] + paths)
        guard changed.status == 1 else { return false }
        let commit = try await run(
            ["commit", "-q", "--no-verify", "-m", message, "--only", "--"] + paths, identity: identity)
        guard commit.succeeded else { throw Failure(arguments: ["commit"], status: commit.status, error: commit.error) }
        return true
    }
}
