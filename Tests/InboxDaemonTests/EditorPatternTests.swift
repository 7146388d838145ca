import ChatModel
import Foundation
import LetterboxTestSupport
import ReferenceRuntime
import Testing

/// How real editors save (docs/format.md §3.3, §4.2; field notes): each pattern must give exactly one
/// send with the final text, and drafts and artefacts must never be sent.
@Suite("Editors' save patterns give exactly one send", .processSlot)
struct EditorPatternTests {
    func path(_ scratch: Scratch, _ relative: String) -> String { scratch.inbox + "/ops/" + relative }

    func writeRaw(_ path: String, _ text: String, truncateFirst: Bool = false) throws {
        if truncateFirst {
            // Like VS Code: open with truncation and close (an empty file is seen), then write in place.
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            close(fd)
            usleep(15_000)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
    }

    func deliveredContents(_ runtime: RunningReferenceRuntime) async -> [String] {
        await runtime.effects(.messageAccepted).compactMap(\.content).sorted()
    }

    @Test(
        "vim (swap file, 4913 probe, backup rename), VS Code (truncate then write), Emacs (lock symlink, auto-save, backup), mv, cp, and a draft renamed to .md"
    )
    func patterns() async throws {
        let scratch = try Scratch(settleMilliseconds: 120)
        try scratch.thread("ops")
        try await DaemonHarness.run(scratch) { runtime in
            // vim, first write of a new file.
            try writeRaw(path(scratch, ".vim.md.swp"), "swap")
            try writeRaw(path(scratch, "4913"), "")
            unlink(path(scratch, "4913"))
            try writeRaw(path(scratch, "vim.md"), "From vim, first draft.")
            // vim writing again within the window: backup rename, new file, backup removed.
            usleep(20_000)
            rename(path(scratch, "vim.md"), path(scratch, "vim.md~"))
            try writeRaw(path(scratch, "5036"), "")
            unlink(path(scratch, "5036"))
            try writeRaw(path(scratch, "vim.md"), "From vim.")
            unlink(path(scratch, "vim.md~"))
            unlink(path(scratch, ".vim.md.swp"))

            // VS Code: truncate, then write in place (not atomic).
            try writeRaw(path(scratch, "vscode.md"), "From VS Code.", truncateFirst: true)

            // Emacs: a dangling lock symlink, an auto-save file, then the file, and a backup.
            symlink("root@host.1234:1700000000", path(scratch, ".#emacs.md"))
            try writeRaw(path(scratch, "#emacs.md#"), "auto-save")
            try writeRaw(path(scratch, "emacs.md"), "From Emacs.")
            try writeRaw(path(scratch, "emacs.md~"), "backup")
            unlink(path(scratch, ".#emacs.md"))

            // mv from elsewhere (IN_MOVED_TO) and cp (create + write).
            let outside = scratch.root + "/outside.md"
            try writeRaw(outside, "Moved in.")
            rename(outside, path(scratch, "moved.md"))
            try writeRaw(outside, "Copied in.")
            _ = try await runProcess("/bin/cp", [outside, path(scratch, "copied.md")])

            // Drafts are never sent, in either form.
            try writeRaw(path(scratch, "later.draft.md"), "Not yet.")
            try FileManager.default.createDirectory(atPath: path(scratch, "drafts"), withIntermediateDirectories: true)
            try writeRaw(path(scratch, "drafts/idea.md"), "An idea.")

            // Five runs, one after another in one thread: give a loaded machine time.
            let five = await scratch.waitUntil("five messages replied", timeout: .seconds(40)) {
                try scratch.state("ops").messages.filter { $0.delivery == .replied }.count == 5
            }
            if !five {
                Issue.record(
                    "state: \(try scratch.state("ops").messages.map { "\($0.id): \($0.delivery.name)" }) files: \(scratch.files("ops"))"
                )
            }
            try await Task.sleep(for: .milliseconds(400))
            #expect(
                await deliveredContents(runtime) == [
                    "Copied in.", "From Emacs.", "From VS Code.", "From vim.", "Moved in.",
                ])

            // The draft renamed to .md is sent, once.
            rename(path(scratch, "later.draft.md"), path(scratch, "later.md"))
            await scratch.waitUntil("the renamed draft replied") {
                try scratch.state("ops").message("later")?.delivery == .replied
            }
            try await Task.sleep(for: .milliseconds(300))
            let contents = await deliveredContents(runtime)
            #expect(contents.filter { $0 == "Not yet." }.count == 1)
            #expect(!contents.contains("An idea."))
            #expect(!contents.contains("auto-save") && !contents.contains("backup") && !contents.contains("swap"))
            // Editor artefacts are ignored, not rejected: nothing to show the operator.
            #expect(try scratch.state("ops").rejected.isEmpty)
        }
    }
}
