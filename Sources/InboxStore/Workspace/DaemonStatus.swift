import ChatModel
import Foundation

/// The daemon's liveness, in `.letterbox/daemon.json`: rewritten whole on every heartbeat.
///
/// This is machine-local state (not history), so it is not journaled: the status page reads it to
/// say whether a daemon is running and when it last checked in.
public struct DaemonStatus: Codable, Sendable, Hashable {
    public var pid: Int32
    public var version: String
    /// Milliseconds since 1970.
    public var startedAt: Int64
    public var heartbeatAt: Int64
    /// Seconds between heartbeats, so a reader can tell a stale file from a live daemon.
    public var heartbeatSeconds: Int
    /// Set when the daemon stopped cleanly.
    public var stoppedAt: Int64?

    public init(
        pid: Int32, version: String, startedAt: Int64, heartbeatAt: Int64, heartbeatSeconds: Int,
        stoppedAt: Int64? = nil
    ) {
        self.pid = pid
        self.version = version
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.heartbeatSeconds = heartbeatSeconds
        self.stoppedAt = stoppedAt
    }

    /// The file's path in a workspace.
    public static func path(in workspace: Workspace) -> String { workspace.stateFolder + "/daemon.json" }

    /// Reads the file; nil when there is none or it cannot be read.
    public static func read(in workspace: Workspace) -> DaemonStatus? {
        guard let bytes = try? FileSystem.readFile(path(in: workspace), maxBytes: 64 * 1024) else { return nil }
        return try? JSONDecoder().decode(DaemonStatus.self, from: Data(bytes))
    }

    /// Writes the file atomically (no fsync: it is rewritten every heartbeat).
    public func write(in workspace: Workspace) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try FileSystem.createDirectory(workspace.stateFolder)
        try DurableWriter.writeQuickly(Array(try encoder.encode(self)), to: Self.path(in: workspace))
    }
}
