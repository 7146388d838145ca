public import InboxCore

/// A runtime that lists its threads and messages (the control plane), so messages that reach it from
/// elsewhere, or while the daemon was down, can be pulled into the inbox: the runtime is the source
/// of truth for what was said in it (docs/daemon.md, *Pulling from the runtime*).
public protocol ThreadListing: ChatRuntime {
    /// Every thread, across pages.
    func threads() async throws(RuntimeError) -> [RemoteThread]
    /// Every message of a thread, in change order, as it is now.
    func messages(inThread id: String) async throws(RuntimeError) -> [RemoteMessage]
}
