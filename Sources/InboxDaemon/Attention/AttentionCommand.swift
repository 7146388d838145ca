import Foundation
import InboxCore
import Logging
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// Runs the `on_attention` command for one notice (docs/daemon.md, "Attention"): the program is
/// started directly with its arguments (never through a shell, so nothing in a reason or a name is
/// interpreted), with no standard input, its output discarded, and at most `timeout` to finish. A
/// failure is logged; it never holds up delivery.
enum AttentionCommand {
    static func run(_ command: [String], notice: AttentionNotice, timeout: Duration = .seconds(30), logger: Logger)
        async
    {
        guard let program = command.first else { return }
        let executable: Executable = program.contains("/") ? .path(FilePath(program)) : .name(program)
        let metadata: Logger.Metadata = [
            "thread.id": "\(notice.thread)", "file.path": "\(notice.file)", "attention": "\(notice.kind)",
        ]
        do {
            let status = try await withThrowingTaskGroup(of: TerminationStatus?.self) { group in
                group.addTask {
                    try await Subprocess.run(
                        executable, arguments: Arguments(Array(command.dropFirst())), input: .none, output: .discarded,
                        error: .discarded
                    ).terminationStatus
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
            switch status {
            case .exited(0)?:
                logger.debug("on_attention ran", metadata: metadata)
            case let other?:
                logger.warning("on_attention failed: \(other)", metadata: metadata)
            case nil:
                logger.warning("on_attention did not finish within \(timeout); it was stopped", metadata: metadata)
            }
        } catch {
            logger.warning("on_attention could not run: \(error)", metadata: metadata)
        }
    }
}
