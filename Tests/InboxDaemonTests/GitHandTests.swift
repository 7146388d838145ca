import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import ReferenceRuntime
import Testing

/// Git run by hand under a running daemon that commits: what keeps the files' contents goes on
/// unnoticed; what drops journal lines stops the thread and says so; nothing is lost or sent twice.
@Suite("Git run by hand under a running daemon", .processSlot)
struct GitHandTests {
    static func committed(_ root: String, _ fragment: String) async -> Bool {
        let log = try? await runProcess("/usr/bin/git", ["log", "--format=%B"], in: root)
        return log?.stdout.contains(fragment) == true
    }

    @Test(
        "A rebase, an amend, a checkout and back keep going; a reset --hard is reported; restoring from git loses nothing"
    )
    func handRunGit() async throws {
        let scratch = try await GitTests.repository()
        let root = scratch.root
        try await DaemonHarness.run(scratch) { runtime in
            try scratch.write("ops/one.md", "One")
            await scratch.waitUntil("one replied") { try scratch.state("ops").message("one")?.delivery == .replied }
            await scratch.waitUntil("one's reply committed", timeout: .seconds(15)) {
                await Self.committed(root, "reply from assistant to one.md")
            }

            // Rewrites that keep every file's bytes: a reworded commit, a forced rebase (which writes the
            // journal again as a new file), a checkout of an older commit and straight back.
            try await Workplace.git(["commit", "-q", "--amend", "-m", "one, reworded by hand"], in: root)
            try await Workplace.git(["rebase", "-q", "--force-rebase", "HEAD~2"], in: root)
            try await Workplace.git(["checkout", "-q", "HEAD~2"], in: root)
            try await Workplace.git(["checkout", "-q", "main"], in: root)
            try scratch.write("ops/two.md", "Two")
            await scratch.waitUntil("two replied") { try scratch.state("ops").message("two")?.delivery == .replied }
            await scratch.waitUntil("two's reply committed", timeout: .seconds(15)) {
                await Self.committed(root, "reply from assistant to two.md")
            }
            #expect(try scratch.state("ops").rejected.isEmpty)
            #expect(try scratch.inboxState().rejected.isEmpty)

            // A reset that drops the daemon's last commit: the thread stops and the problem is reported.
            try await Workplace.git(["reset", "-q", "--hard", "HEAD~1"], in: root)
            try scratch.write("ops/three.md", "Three")
            await scratch.waitUntil("the reset is reported in the inbox journal") {
                try scratch.inboxState().rejected["ops/journal.jsonl"] != nil
            }
            try await Task.sleep(for: .milliseconds(500))
            #expect(await runtime.effects(.messageAccepted).map(\.content) == ["One", "Two"])
            let status = try await Workplace.letterbox(["status"], in: root)
            let said = status.stdout + status.stderr
            #expect(said.contains("ops/journal.jsonl") && said.contains("ORIG_HEAD"), "\(said)")
        }
        // Nothing was lost: the thread comes back from git, and the next start goes on without re-sending.
        try await Workplace.git(["checkout", "ORIG_HEAD", "--", "inbox/ops"], in: root)
        try await DaemonHarness.run(scratch) { runtime in
            await scratch.waitUntil("three replied after the restore") {
                try scratch.state("ops").message("three")?.delivery == .replied
            }
            let state = try scratch.state("ops")
            #expect(state.messages.map(\.id) == ["one", "two", "three"])
            #expect(state.messages.allSatisfy { $0.delivery == .replied })
            // A new runtime process: only `three` is sent to it; one and two are not sent again.
            #expect(await runtime.effects(.messageAccepted).map(\.content) == ["Three"])
        }
    }
}
