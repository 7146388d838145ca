import ChatModel
import Foundation
public import InboxStore
public import Logging

/// Commits operators' new message files when no daemon delivers here (a follower, `letterbox sync`):
/// each untracked message, new thread's `thread.md` or control file in a thread folder, settled, in its own commit by the operator, as the
/// delivering daemon commits them (`THREAD: message NAME`).
public enum OperatorCommits {
    /// Returns the files committed, relative to the work tree.
    @discardableResult
    public static func commitNew(
        in workspace: Workspace, repository: GitRepository, as identity: GitRepository.Identity,
        settleMilliseconds: Int, logger: Logger
    ) async -> [String] {
        guard
            let status = try? await repository.run(
                ["status", "--porcelain", "-z", "--untracked-files=all", "--", workspace.inbox], readOnly: true),
            status.succeeded
        else { return [] }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var committed: [String] = []
        for entry in status.output.split(separator: "\0") where entry.hasPrefix("?? ") {
            let relative = String(entry.dropFirst(3))
            let path = repository.root + "/" + relative
            guard path.hasPrefix(workspace.inbox + "/") else { continue }
            let parts = path.dropFirst(workspace.inbox.count + 1).split(separator: "/").map(String.init)
            guard parts.count >= 2, Names.isValidThreadName(parts[0]),
                Self.isOperators(FileClassifier.classify(Array(parts.dropFirst()), type: .file)),
                let file = try? FileSystem.entry(at: path), file.type == .file,
                now - file.mtime.milliseconds >= Int64(settleMilliseconds)
            else { continue }
            do {
                let what = parts.dropFirst().joined(separator: "/")
                if try await repository.commit([path], message: "\(parts[0]): message \(what)", as: identity) {
                    committed.append(relative)
                }
            } catch {
                logger.error(
                    "could not commit an operator's message", metadata: ["file.path": "\(path)", "error": "\(error)"])
            }
        }
        return committed
    }

    /// The new files operators add: messages, a new thread's `thread.md`, control files.
    static func isOperators(_ kind: FileKind) -> Bool {
        switch kind {
        case .message, .threadMeta, .control: true
        default: false
        }
    }
}
