import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import Testing

/// inotify overflow (docs/reliability.md): a daemon whose inotify queue holds only 128 events (the kernel takes
/// `fs.inotify.max_queued_events` when the daemon creates its watcher) meets thousands of files dropped at once into
/// many threads; every one must be noticed. Needs root to set the sysctl; skipped, saying why, otherwise. The
/// setting is restored as soon as the daemon has its watcher, so other processes keep the usual queue.
@Suite("Reliability: inotify overflow", .processSlot)
struct InotifyOverflowTests {
    static let sysctl = "/proc/sys/fs/inotify/max_queued_events"

    static var permitted: Bool {
        guard let value = try? String(contentsOfFile: sysctl, encoding: .utf8) else { return false }
        return (try? Data(value.utf8).write(to: URL(fileURLWithPath: sysctl))) != nil
    }

    @Test("Thousands of files at once into many threads through a 128-event queue: 0 missed")
    func overflow() async throws {
        guard Self.permitted else {
            print("reliability: inotify overflow skipped: \(Self.sysctl) cannot be written (needs root)")
            return
        }
        let files = Soak.tier(short: 2_000, long: 20_000)
        let threadCount = Soak.tier(short: 20, long: 100)
        let watch = Stopwatch()
        let scratch = try Scratch()
        let threads = (0..<threadCount).map { "t\($0)" }
        for thread in threads { try scratch.thread(thread) }
        let original = try String(contentsOfFile: Self.sysctl, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        // No runtime listens: the test is about noticing files, not delivering them.
        let port = try Workplace.freePort()
        let daemon: DaemonProcess
        do {
            try Data("128\n".utf8).write(to: URL(fileURLWithPath: Self.sysctl))
            defer { try? Data((original + "\n").utf8).write(to: URL(fileURLWithPath: Self.sysctl)) }
            daemon = try DaemonProcess.start(scratch, runtimeURL: "http://127.0.0.1:\(port)", arguments: ["--no-site"])
            try await daemon.waitUntilReady(timeout: .seconds(60))
        }
        defer { daemon.stop() }
        let restored = try String(contentsOfFile: Self.sysctl, encoding: .utf8)
        #expect(restored.trimmingCharacters(in: .whitespacesAndNewlines) == original, "not restored: \(restored)")
        // The daemon is stopped (SIGSTOP) while the files land, so its queue fills whatever the machine's speed;
        // then it goes on (SIGCONT) and must find the files the kernel could not queue.
        let dropped = Stopwatch()
        kill(daemon.process.processIdentifier, SIGSTOP)
        for index in 0..<files {
            let thread = threads[index % threadCount]
            try Data("Burst message \(index).".utf8).write(
                to: URL(fileURLWithPath: scratch.inbox + "/\(thread)/b\(index).md"))
        }
        kill(daemon.process.processIdentifier, SIGCONT)
        let dropTime = dropped.seconds
        // Reading every journal is costly at this size: look once a second, for as long as it takes.
        var noticed = 0
        let deadline = ContinuousClock.now + .seconds(Double(120 + files / 20))
        while ContinuousClock.now < deadline {
            noticed = 0
            // Journaled by the daemon (`detected`), not merely on disk: a thread's state also lists files on disk
            // that the daemon has not seen yet.
            for thread in threads {
                noticed +=
                    ((try? scratch.journal(thread)) ?? []).filter {
                        if case .detected = $0.event { true } else { false }
                    }.count
            }
            if !daemon.process.isRunning { break }
            if noticed >= files { break }
            try await Task.sleep(for: .seconds(1))
        }
        let overflows = daemon.output.components(separatedBy: "inotify queue overflowed").count - 1
        Soak.report(
            "inotify-overflow",
            [
                "files":
                    "\(files) dropped at once into \(threadCount) threads (in \(dropTime), the daemon stopped meanwhile)",
                "fs.inotify.max_queued_events": "128 for the daemon's watcher (restored to \(original) after)",
                "queue overflows the daemon saw": "\(overflows)",
                "noticed": "\(noticed) of \(files)",
                "missed": "\(files - noticed)",
                "wall time": watch.seconds,
            ])
        #expect(noticed == files, "missed \(files - noticed) files")
        #expect(overflows > 0, "the queue never overflowed, so the test proved nothing")
        let ended =
            daemon.process.isRunning ? "" : "\(daemon.process.terminationReason) \(daemon.process.terminationStatus)"
        #expect(daemon.process.isRunning, "the daemon ended (\(ended)): \(daemon.output.suffix(3000))")
    }
}
