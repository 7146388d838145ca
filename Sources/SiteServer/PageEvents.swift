import Hummingbird
import NIOCore
import ServiceLifecycle

/// One page's event stream: `event: reload` once the page on disk is no longer the version the
/// browser has, then the stream ends.
///
/// It polls the file's inode, size and modification time (a `stat` every `pollInterval`) and hashes
/// the file only when those change, so a page rewritten with the same bytes does not reload. Polling
/// one path per open page, rather than watching the folder, survives a full build, which swaps a
/// whole new site folder in. A page that is missing for a moment (during that swap) is waited for.
struct PageEvents: Sendable {
    let path: String
    let version: String
    let files: SiteFiles
    let pollInterval: Duration
    let keepAlive: Duration

    /// Writes the stream; returns after `reload`, on graceful shutdown, or when the client has gone
    /// (a write fails: nothing more is written, as the reference runtime's streams do).
    func send(to writer: inout any ResponseBodyWriter) async throws {
        do {
            try await stream(to: &writer)
        } catch {
            return
        }
        try await writer.finish(nil)
    }

    private func stream(to writer: inout any ResponseBodyWriter) async throws {
        // `retry`: how soon the browser reconnects if the stream drops (the server restarting, say).
        try await writer.write(
            ByteBuffer(string: "retry: 1000\n: watching \(path.split(separator: "/").last ?? "")\n\n"))
        var lastStamp: String?
        var sinceKeepAlive = Duration.zero
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let stamp = files.stamp(path)
            if let stamp, stamp != lastStamp {
                lastStamp = stamp
                if let bytes = try? files.read(path), LiveReload.version(of: bytes) != version {
                    try await writer.write(
                        ByteBuffer(string: "event: reload\ndata: \(LiveReload.version(of: bytes))\n\n"))
                    break
                }
            }
            // Sleeps, ending early on graceful shutdown (which cancels the sleep) or cancellation.
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: pollInterval) })) != nil else {
                break
            }
            sinceKeepAlive += pollInterval
            if sinceKeepAlive >= keepAlive {
                sinceKeepAlive = .zero
                // A comment: a client that has gone makes this write fail, which ends the stream.
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
            }
        }
    }
}
