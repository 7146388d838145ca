/// The status page: the daemon, the runtime, the queue, errors, incidents and problems.
struct StatusView: Sendable, Hashable {
    var frame: PageFrame
    var daemon: Daemon
    var runtime: Runtime
    /// Messages waiting to be delivered.
    var queue: Int
    var lastError: LastError?
    var incidents: [Incident]
    var problems: [String]

    /// The daemon's state: `kind` (`ok`, `warn`, `info`) styles it.
    struct Daemon: Sendable, Hashable {
        var kind: String
        var label: String
        var detail: String?
    }

    /// The runtime's state as the daemon last saw it.
    struct Runtime: Sendable, Hashable {
        var kind: String
        var label: String
        var since: TimeView?
        var reason: String?
        /// Said when the daemon is not running: the state is the last one it knew.
        var note: String?
    }

    struct LastError: Sendable, Hashable {
        var text: String
        var at: TimeView?
    }

    /// A degraded or auth-failing period of the runtime.
    struct Incident: Sendable, Hashable {
        var kind: String
        var reason: String
        var start: TimeView
        var end: TimeView?
    }
}
