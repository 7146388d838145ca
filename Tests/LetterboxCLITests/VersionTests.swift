import Foundation
import InboxStore
import LetterboxTestSupport
import Testing

@Suite("letterbox --version comes from the build (issue 11)", .processSlot, .serialized)
struct VersionTests {
    @Test("--version is VERSION plus the git commit, as scripts/version.sh says; the daemon reports the same")
    func version() async throws {
        let expected = try await runProcess(SampleInboxTests.repository + "/scripts/version.sh", [])
        #expect(expected.status == 0, "\(expected.stderr)")
        let version = expected.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let base = try String(contentsOfFile: SampleInboxTests.repository + "/VERSION", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(version.hasPrefix(base))
        let scratch = try Scratch()
        let printed = try await CLI.run(["--version"], in: scratch.path)
        #expect(printed.status == 0)
        #expect(printed.stdout == version + "\n")

        // The daemon's heartbeat file and its start line carry the same string.
        try await LiveWorkspace.with { live in
            try await live.initialize()
            try live.writeConfig(runtimeURL: try await live.startRuntime())
            try await live.startDaemon()
            let status = try #require(DaemonStatus.read(in: try Workspace.locate(from: live.root)))
            #expect(status.version == version)
            let journal = try String(contentsOfFile: live.root + "/inbox/journal.jsonl", encoding: .utf8)
            #expect(journal.contains(#"\"version\":\"\#(version)\""#), "\(journal)")
        }
    }
}
