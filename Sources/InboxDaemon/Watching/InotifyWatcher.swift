internal import CInotifyTools
import Foundation
import InboxCore
import Synchronization

/// Watches the inbox with libinotifytools, on a thread of its own.
///
/// libinotifytools keeps global state, so there is one watcher per process, driven from one thread;
/// its blocking reads stay off the cooperative pool and reach async code through an `AsyncStream`.
/// Events are hints (docs/daemon.md): the daemon also rescans at start, on overflow and on a timer.
///
/// It watches the folders that can hold something to act on (the inbox root, each thread folder and its
/// `controls/`), not whole trees: `inotifytools_watch_recursively` stats every file to find folders,
/// which took most of the start time in a 100k-message inbox (docs/benchmarks.md).
public final class InotifyWatcher: Sendable {
    /// What happened to a path.
    public enum Event: Sendable, Hashable {
        /// A file was written and closed, or moved in: it may be ready.
        case written(String)
        /// A file or folder was removed or moved away.
        case removed(String)
        /// A folder appeared (and is now watched, with everything in it).
        case folderCreated(String)
        /// The kernel dropped events: rescan everything.
        case overflow
    }

    /// A watcher could not start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    private static let running = Mutex(false)
    private let stopped = Atomic<Bool>(false)
    /// Everyone waiting in `stop()` (the daemon stops it from more than one task).
    private let finished = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let done = Atomic<Bool>(false)
    private let root: String

    private init(root: String) { self.root = root }

    /// Watches one folder (not its subfolders), never through a symbolic link.
    /// Watches the folder `path` (`follow`: even through a symbolic link, which only the inbox itself may be).
    private static func watch(_ path: String, mask: Int32, follow: Bool = false) -> Bool {
        inotifytools_watch_file(path, mask | (follow ? 0 : Int32(IN_DONT_FOLLOW)) | Int32(IN_ONLYDIR)) != 0
    }

    /// Whether `path` is a folder itself (`lstat`: a symbolic link to one is not).
    private static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Watches a thread folder and, if it has one, its `controls/` folder. Symbolic links are not
    /// followed: nothing under the inbox is (a `controls` link to elsewhere is reported, not watched).
    private static func watchThread(_ path: String, mask: Int32) {
        guard isFolder(path) else { return }
        _ = watch(path, mask: mask)
        let controls = path + "/controls"
        if isFolder(controls) { _ = watch(controls, mask: mask) }
    }

    /// A new entry that no write will follow but that the daemon must report at once: a symbolic
    /// link, a FIFO, a device, or a hard link to an existing file.
    private static func needsReport(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) != S_IFREG || info.st_nlink > 1
    }

    /// Starts watching `root`; events arrive on the returned stream until `stop()`.
    public static func start(root: String) throws -> (InotifyWatcher, AsyncStream<Event>) {
        let claimed = running.withLock { running -> Bool in
            if running { return false }
            running = true
            return true
        }
        guard claimed else { throw StartError(description: "an inotify watcher is already running in this process") }
        guard inotifytools_initialize() != 0 else {
            running.withLock { $0 = false }
            throw StartError(description: "inotify could not start (error \(inotifytools_error()))")
        }
        let mask = Int32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_DELETE_SELF)
        // The inbox itself may be a symbolic link (a workspace whose `inbox:` points at another's, an inbox
        // on another disk); nothing under it is followed.
        guard watch(root, mask: mask, follow: true) else {
            let code = inotifytools_error()
            inotifytools_cleanup()
            running.withLock { $0 = false }
            let hint = code == ENOSPC ? " (the inotify watch limit is reached: raise fs.inotify.max_user_watches)" : ""
            throw StartError(description: "cannot watch \(root): \(String(cString: strerror(code)))\(hint)")
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where !entry.hasPrefix(".") {
            watchThread(root + "/" + entry, mask: mask)
        }
        let watcher = InotifyWatcher(root: root)
        let (stream, continuation) = AsyncStream<Event>.makeStream(bufferingPolicy: .unbounded)
        let thread = Thread { watcher.loop(mask: mask, continuation: continuation) }
        thread.name = "letterbox.inotify"
        thread.start()
        return (watcher, stream)
    }

    /// Stops the watcher; returns once its thread has let go of inotify (within about a second).
    public func stop() async {
        stopped.store(true, ordering: .relaxed)
        if done.load(ordering: .acquiring) { return }
        await withCheckedContinuation { continuation in
            let resumeNow = finished.withLock { waiters -> Bool in
                if done.load(ordering: .acquiring) { return true }
                waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func loop(mask: Int32, continuation: AsyncStream<Event>.Continuation) {
        while !stopped.load(ordering: .relaxed) {
            // A one-second timeout lets the loop notice stop().
            guard let event = inotifytools_next_event(1) else { continue }
            let flags = event.pointee.mask
            if flags & UInt32(IN_Q_OVERFLOW) != 0 {
                continuation.yield(.overflow)
                continue
            }
            guard let folderPointer = inotifytools_filename_from_wd(event.pointee.wd) else { continue }
            var folder = String(cString: folderPointer)
            if folder.hasSuffix("/") { folder.removeLast() }
            let name: String
            if event.pointee.len > 0 {
                let namePointer = UnsafeRawPointer(event).advanced(by: MemoryLayout<inotify_event>.size)
                name = String(cString: namePointer.assumingMemoryBound(to: CChar.self))
            } else {
                name = ""
            }
            let path = name.isEmpty ? folder : folder + "/" + name
            let isFolder = flags & UInt32(IN_ISDIR) != 0
            if isFolder && flags & UInt32(IN_CREATE | IN_MOVED_TO) != 0 {
                // Watch a new thread folder (or a thread's new controls/) before reporting it.
                if folder == root {
                    Self.watchThread(path, mask: mask)
                } else if name == "controls" {
                    _ = Self.watch(path, mask: mask)
                }
                continuation.yield(.folderCreated(path))
            } else if flags & UInt32(IN_CLOSE_WRITE | IN_MOVED_TO) != 0 {
                continuation.yield(.written(path))
            } else if flags & UInt32(IN_CREATE) != 0, Self.needsReport(path) {
                continuation.yield(.written(path))
            } else if flags & UInt32(IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF) != 0 {
                if isFolder && flags & UInt32(IN_MOVED_FROM) != 0 { _ = inotifytools_remove_watch_by_filename(path) }
                continuation.yield(.removed(path))
            }
        }
        inotifytools_cleanup()
        continuation.finish()
        Self.running.withLock { $0 = false }
        let waiters = finished.withLock { waiters -> [CheckedContinuation<Void, Never>] in
            done.store(true, ordering: .releasing)
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
