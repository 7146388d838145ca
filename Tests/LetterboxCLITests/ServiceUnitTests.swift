import Foundation
import LetterboxTestSupport
import Testing

@Suite("The systemd unit in docs/ (issue 11)", .processSlot, .serialized)
struct ServiceUnitTests {
    static let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static var unit: String { SampleInboxTests.repository + "/docs/letterbox.service" }

    /// The unit with its ExecStart pointing at this build's binary (systemd-analyze checks it exists).
    static func copy(_ text: String, into scratch: Scratch) throws -> String {
        let path = scratch.path + "/letterbox.service"
        try text.replacingOccurrences(of: "ExecStart=/usr/local/bin/letterbox", with: "ExecStart=\(CLI.binary)")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(
        "Hardened as the docs say: no privileges, a read-only system but the workspace, the token as a credential, the journal"
    )
    func directives() throws {
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for directive in [
            "NoNewPrivileges=yes", "ProtectSystem=strict", "WorkingDirectory=/srv/letterbox",
            "ReadWritePaths=/srv/letterbox", "LoadCredential=token:/etc/letterbox/token", "StandardOutput=journal",
            "StandardError=journal", "ExecStart=/usr/local/bin/letterbox daemon", "CapabilityBoundingSet=",
            "KillSignal=SIGTERM",
        ] {
            #expect(lines.contains(directive), "\(directive)")
        }
        #expect(!text.contains("LETTERBOX_TOKEN"), "the token never goes in the unit or its environment")
        // The credential's path is the one docs/operations.md tells letterbox.yaml's token_file to use.
        let operations = try String(
            contentsOfFile: SampleInboxTests.repository + "/docs/operations.md", encoding: .utf8)
        #expect(operations.contains("token_file: /run/credentials/letterbox.service/token"))
        #expect(text.contains("token_file: /run/credentials/letterbox.service/token"))
    }

    @Test(
        "systemd-analyze verify finds nothing to say (and does catch a typo); security rates it below 2",
        .enabled(if: analyze != nil, "systemd-analyze is not installed here"))
    func verify() async throws {
        let analyze = try #require(Self.analyze)
        let scratch = try Scratch()
        let text = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let path = try Self.copy(text, into: scratch)
        let verified = try await runProcess(analyze, ["verify", path])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect((verified.stdout + verified.stderr).isEmpty, "warnings: \(verified.stdout)\(verified.stderr)")

        // systemd-analyze only warns (exit 0) about unknown keys: the check above is on its output.
        let broken = try Self.copy(
            text.replacingOccurrences(of: "ProtectSystem=", with: "ProtectSistem="), into: scratch)
        let typo = try await runProcess(analyze, ["verify", broken])
        #expect((typo.stdout + typo.stderr).contains("ProtectSistem"), "a typo must show")

        let security = try await runProcess(analyze, ["security", "--offline=yes", path])
        let exposure = try #require(
            (security.stdout + security.stderr).firstMatch(
                of: /Overall exposure level for letterbox.service: ([0-9.]+)/)?.1,
            "\(security.stdout)\(security.stderr)")
        #expect(try #require(Double(exposure)) < 2.0, "exposure \(exposure)")
    }

    @Test("The token from a credential file: token_file with mode 0400 works; one others can read is refused (78)")
    func tokenFile() async throws {
        try await LiveWorkspace.with { live in
            try await live.initialize()
            let url = try await live.startRuntime()
            let credential = live.scratch.path + "/credential-token"
            try live.token.write(toFile: credential, atomically: true, encoding: .utf8)
            #expect(chmod(credential, 0o644) == 0)
            try live.writeConfig(runtimeURL: url, tokenFile: credential)
            let refused = try await CLI.run(["daemon"], in: live.root, environment: ["LETTERBOX_TOKEN": ""])
            #expect(refused.status == 78)
            #expect(refused.stderr.contains("chmod 600"), "\(refused.stderr)")

            // As systemd's LoadCredential leaves it: read-only for the service's user. The environment's
            // token is wrong, so a reply proves the file's token was used.
            #expect(chmod(credential, 0o400) == 0)
            let daemon = try await live.startDaemon(token: "not-the-token")
            #expect(try await live.run(["send", "welcome", "-", "--name", "hi"], stdin: "hi\n").status == 0)
            #expect(try await live.waitForFile("inbox/welcome/hi.reply.md", containing: "status: complete"))

            // `systemctl stop` sends SIGTERM: the daemon exits 0, so the unit does not end as failed.
            daemon.signal(SIGTERM)
            let exit = try await daemon.waitForExit(timeout: .seconds(15))
            #expect(exit.inTime && exit.status == 0, "\(daemon.output)")
        }
    }
}
