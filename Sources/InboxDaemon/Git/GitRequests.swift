import Foundation
public import InboxStore

/// How `letterbox sync` and `letterbox lease take` reach a running daemon: every git operation on
/// the inbox is the daemon's while it runs (between its batches), so the command leaves a request in
/// `.letterbox/git-request` and waits for the answer in `.letterbox/git-result`. The daemon looks for a
/// request every second.
public struct GitRequests: Sendable {
    public enum Action: String, Sendable { case sync, take }

    public struct Request: Sendable, Hashable {
        public var action: Action
        public var force: Bool
        public var nonce: String
    }

    let requestPath: String
    let resultPath: String

    public init(workspace: Workspace) {
        requestPath = workspace.stateFolder + "/git-request"
        resultPath = workspace.stateFolder + "/git-result"
    }

    /// Whether a request waits.
    public var pending: Bool { FileSystem.exists(requestPath) }

    /// The waiting request, removed (nil when there is none or it cannot be read).
    public func take() -> Request? {
        guard pending else { return nil }
        let bytes = try? FileSystem.readFile(requestPath, maxBytes: 1024)
        unlink(requestPath)
        let fields = String(decoding: bytes ?? [], as: UTF8.self).split(separator: " ").map {
            $0.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard fields.count == 3, let action = Action(rawValue: fields[0]) else { return nil }
        return Request(action: action, force: fields[1] == "force", nonce: fields[2])
    }

    /// The daemon's answer: `ok ...` or `error: ...`.
    public func answer(_ request: Request, _ text: String) {
        try? DurableWriter.write(Array((request.nonce + "\n" + text + "\n").utf8), to: resultPath, mode: .replace)
    }

    /// Asks the running daemon and waits for its answer (nil after `timeout`).
    public func ask(_ action: Action, force: Bool, timeout: Duration) async throws -> String? {
        let nonce = UUID().uuidString.lowercased()
        try DurableWriter.write(
            Array("\(action.rawValue) \(force ? "force" : "-") \(nonce)\n".utf8), to: requestPath, mode: .replace)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let bytes = try? FileSystem.readFile(resultPath, maxBytes: 64 * 1024) {
                let text = String(decoding: bytes, as: UTF8.self)
                if text.hasPrefix(nonce + "\n") {
                    return String(text.dropFirst(nonce.count + 1)).trimmingCharacters(in: .whitespacesAndNewlines)
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        unlink(requestPath)
        return nil
    }
}
