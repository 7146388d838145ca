import AsyncHTTPClient
import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// Runs the built `letterbox` binary, as a user would.
struct CLI {
    static let binary: String = {
        // The test bundle sits in the products folder beside the executable.
        var url = Bundle.main.bundleURL
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("letterbox").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("letterbox").path
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    static func run(_ arguments: [String], in folder: String, stdin: String? = nil, environment: [String: String] = [:])
        async throws
        -> Result
    {
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        let result = try await runProcess(binary, arguments, in: folder, environment: env, stdin: stdin ?? "")
        return Result(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}

final class Scratch {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("lb-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite("The letterbox command (issue: core, Done when)", .processSlot)
struct CLITests {
    @Test("init, new, send -, status --json shows the message queued")
    func doneWhenQueued() async throws {
        let scratch = try Scratch()
        let root = scratch.path + "/lb"
        #expect(try await CLI.run(["init", root], in: scratch.path).status == 0)
        #expect(try await CLI.run(["new", "ops", "--agent", "ops"], in: root).status == 0)
        let sent = try await CLI.run(["send", "ops", "-"], in: root, stdin: "hi\n")
        #expect(sent.status == 0, "\(sent.stderr)")
        let status = try await CLI.run(["status", "--json"], in: root)
        #expect(status.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let threads = try #require(json?["threads"] as? [[String: Any]])
        let ops = try #require(threads.first { $0["id"] as? String == "ops" })
        let messages = try #require(ops["messages"] as? [[String: Any]])
        #expect(messages.count == 1)
        #expect(messages.first?["state"] as? String == "queued")
        #expect(ops["agent"] as? String == "ops")
    }

    @Test("audit verify: 0 on a fresh inbox; 65 naming file and line after one byte changes")
    func doneWhenAudit() async throws {
        let scratch = try Scratch()
        let root = scratch.path + "/lb"
        try await CLI.run(["init", root], in: scratch.path)
        let ok = try await CLI.run(["audit", "verify"], in: root)
        #expect(ok.status == 0, "\(ok.stderr)")
        let journal = root + "/inbox/journal.jsonl"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: journal)))
        let index = try #require(bytes.firstIndex(of: UInt8(ascii: "f")))
        bytes[index] = UInt8(ascii: "F")
        try Data(bytes).write(to: URL(fileURLWithPath: journal))
        let bad = try await CLI.run(["audit", "verify"], in: root)
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("inbox/journal.jsonl:1:"), "\(bad.stderr)")
    }

    @Test("errors go to stderr with sysexits codes and say what to do")
    func errors() async throws {
        let scratch = try Scratch()
        let outside = try await CLI.run(["status"], in: scratch.path)
        #expect(outside.status == 66)
        #expect(outside.stderr.contains("letterbox init"))
        #expect(outside.stdout.isEmpty)
        try await CLI.run(["init", "."], in: scratch.path)
        let twice = try await CLI.run(["init", "."], in: scratch.path)
        #expect(twice.status == 73)
        let noThread = try await CLI.run(["send", "nope", "-"], in: scratch.path, stdin: "x")
        #expect(noThread.status == 66)
        #expect(noThread.stderr.contains("letterbox new nope"))
        try await CLI.run(["new", "ops"], in: scratch.path)
        let empty = try await CLI.run(["send", "ops", "-"], in: scratch.path, stdin: "\n\n")
        #expect(empty.status == 65)
        #expect(empty.stderr.contains("empty"))
        let badFrontMatter = try await CLI.run(
            ["send", "ops", "-"], in: scratch.path, stdin: "---\nagnet: x\n---\nhi\n")
        #expect(badFrontMatter.status == 65)
        #expect(badFrontMatter.stderr.contains("standard input:2: unknown key 'agnet'"), "\(badFrontMatter.stderr)")
        let badName = try await CLI.run(["new", "two words"], in: scratch.path)
        #expect(badName.status == 65)
        let usage = try await CLI.run(["send"], in: scratch.path)
        #expect(usage.status == 64)
    }

    @Test("decision commands exit non-zero and write nothing when no approval is pending")
    func nothingPending() async throws {
        let scratch = try Scratch()
        try await CLI.run(["init", "."], in: scratch.path)
        try await CLI.run(["new", "ops"], in: scratch.path)
        let args = scratch.path + "/args.json"
        try Data(#"{"host":"db-2"}"#.utf8).write(to: URL(fileURLWithPath: args))
        for command in [
            ["approve", "ops"], ["reject", "ops", "--reason", "no"], ["edit", "ops", "--args-file", args],
            ["respond", "ops", "--note", "hi"], ["cancel", "ops", "--interrupt", "int-1"],
        ] {
            let result = try await CLI.run(command, in: scratch.path)
            #expect(result.status == 66, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("no approval is pending"), "\(command): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/inbox/ops/controls"))
        let missing = try await CLI.run(["edit", "ops"], in: scratch.path)
        #expect(missing.status == 64, "--args-file is required")
    }

    @Test("help on every command, and shell completions")
    func helpAndCompletions() async throws {
        let scratch = try Scratch()
        for command in [["init"], ["new"], ["send"], ["status"], ["audit"], ["audit", "verify"], ["audit", "show"]] {
            let help = try await CLI.run(command + ["--help"], in: scratch.path)
            #expect(help.status == 0)
            #expect(help.stdout.contains("USAGE"), "\(command)")
        }
        let completions = try await CLI.run(["--generate-completion-script", "bash"], in: scratch.path)
        #expect(completions.status == 0)
        #expect(completions.stdout.contains("_letterbox"))
    }

    @Test("NO_COLOR is honoured")
    func noColor() async throws {
        let scratch = try Scratch()
        try await CLI.run(["init", "."], in: scratch.path)
        let status = try await CLI.run(["status"], in: scratch.path, environment: ["NO_COLOR": "1"])
        #expect(!status.stdout.contains("\u{1B}["))
    }
}

@Suite("make demo", .processSlot, .serialized)
struct DemoTests {
    /// The repository's files that the demo must leave as they are, as `git status` sees them.
    static func sampleStatus() async throws -> String {
        try await runProcess(
            "/usr/bin/git", ["status", "--porcelain", "--", "inbox", "letterbox.yaml", "site"],
            in: SampleInboxTests.repository
        ).stdout
    }

    static func environment(_ scratch: Scratch) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["LETTERBOX_BIN"] = CLI.binary
        environment["LETTERBOX_DEMO_DIR"] = scratch.path + "/demo"
        environment["LETTERBOX_DEMO_PORT"] = String(Int.random(in: 20_000..<30_000))
        environment["LETTERBOX_DEMO_SITE_PORT"] = String(Int.random(in: 30_000..<40_000))
        environment["NO_COLOR"] = "1"
        return environment
    }

    @Test(
        "scripts/demo.sh --check: a dropped file gets a reply and a site page; over AG-UI, a streaming reply, a tool call and an approval by tick"
    )
    func demoLoop() async throws {
        let scratch = try Scratch()
        let before = try await Self.sampleStatus()
        let run = try await runProcess(
            SampleInboxTests.repository + "/scripts/demo.sh", ["--check"], environment: Self.environment(scratch))
        let output = run.stdout + run.stderr
        #expect(run.status == 0, "\(output)")
        #expect(output.contains("status: complete"))
        #expect(output.contains("not a production agent runtime"))
        #expect(output.contains("AG-UI writer: the reply is streaming"))
        #expect(output.contains("ticked Approve") && output.contains("backup restarted on db-1"))
        #expect(output.contains("Done: I restarted `backup`"))
        let workspace = scratch.path + "/demo"
        #expect(FileManager.default.fileExists(atPath: workspace + "/site/threads/welcome.html"))
        let token = try String(contentsOfFile: workspace + "/.letterbox/demo-token", encoding: .utf8)
        #expect(!output.contains(token), "the demo never prints its token")
        #expect(try await Self.sampleStatus() == before, "the committed sample is untouched")
    }

    @Test("make demo: every printed \"Try it\" line works as printed and gets its reply; Ctrl-C stops it cleanly")
    func printedLines() async throws {
        let scratch = try Scratch()
        let before = try await Self.sampleStatus()
        // `make demo` without its build (the test's binary is built already), on a terminal.
        let demo = try TerminalProcess(
            "/usr/bin/make", ["-o", "build", "-o", "demo-note", "demo"], in: SampleInboxTests.repository,
            environment: Self.environment(scratch))
        let shown = try #require(
            try await demo.waitFor("Stop with Ctrl-C.", timeout: .seconds(60)),
            "the demo did not start:\n\(demo.output)")
        let lines = shown.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.contains("Try it") })
        let commands = lines[(start + 1)...].prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(commands.count >= 8, "\(commands)")
        let setup = try #require(commands.first)
        #expect(setup.hasPrefix("cd \"\(scratch.path)/demo\" && export PATH="), "\(setup)")
        let workspace = scratch.path + "/demo"

        var messages: [String] = []
        for command in commands.dropFirst() {
            // Each line as a person would paste it into a new shell, after the first.
            let result = try await runProcess(
                "/bin/bash", ["-c", setup + "\n" + command],
                environment: ["PATH": "/usr/bin:/bin", "HOME": scratch.path])
            #expect(result.status == 0, "\(command): \(result.stdout)\(result.stderr)")
            if let match = command.firstMatch(of: /> (inbox\/[A-Za-z0-9._-]+\/[A-Za-z0-9._-]+)\.md/) {
                let message = String(match.1)
                messages.append(message)
                // The reply, or (for the operator agents) the approval request the next line answers.
                let answered = try await Self.waitUntil(seconds: 30) {
                    Self.read(workspace + "/" + message + ".reply.md").contains("status: complete")
                        || FileManager.default.fileExists(atPath: workspace + "/" + message + ".reply.approval-1.md")
                }
                #expect(answered, "\(command): no reply or approval request")
            }
            if command.hasPrefix("letterbox approve ") {
                #expect(result.stdout.hasPrefix("approve the approval request "), "\(result.stdout)")
            }
        }
        #expect(messages.count == 5, "\(messages)")
        for message in messages {
            let replied = try await Self.waitUntil(seconds: 30) {
                Self.read(workspace + "/" + message + ".reply.md").contains("status: complete")
            }
            #expect(replied, "\(message) got no complete reply:\n\(Self.read(workspace + "/" + message + ".reply.md"))")
        }
        // The daemon commits in the demo's own repository (never in this one): the copy it started
        // from, then the messages and their replies.
        var history = ""
        for _ in 0..<100 {
            history = try await runProcess("/usr/bin/git", ["log", "--format=%B"], in: workspace).stdout
            if history.contains("reply from writer to release.md") { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(history.contains("demo: a copy of the sample inbox"), "\(history)")
        #expect(history.contains("reply from writer to release.md"), "\(history)")
        // The site is served, with the new threads.
        let site = try #require(shown.firstMatch(of: /site +(http:\/\/127\.0\.0\.1:\d+\/)/)?.1)
        let index = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: String(site) + "index.html"), timeout: .seconds(10))
        #expect(index.status == .ok)
        #expect(String(buffer: try await index.body.collect(upTo: 16 << 20)).contains("threads/restarts.html"))

        demo.pressControlC()
        let exit = try await demo.waitForExit(timeout: .seconds(20))
        #expect(exit.inTime)
        let output = demo.output
        #expect(!output.contains("Error"), "\(output.suffix(600))")
        #expect(!output.contains("Interrupt"), "\(output.suffix(600))")
        #expect(output.contains("Stopped."))
        #expect(try await Self.sampleStatus() == before, "the committed sample is untouched")
    }

    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    static func waitUntil(seconds: Int, _ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<(seconds * 10) {
            if condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }
}

@Suite("The audit view", .processSlot)
struct AuditViewTests {
    @Test("§7.7: audit show merges every journal, newest first, naming each line's journal and seq")
    func auditShow() async throws {
        let scratch = try Scratch()
        try await CLI.run(["init", "."], in: scratch.path)
        try await CLI.run(["new", "ops"], in: scratch.path)
        // A thread journal with one line older and one newer than the inbox journal's `inbox_created`.
        let opened = try JournalFile.open(
            path: scratch.path + "/inbox/ops/journal.jsonl", tornFolder: scratch.path + "/.letterbox/torn",
            now: Timestamp(milliseconds: 0))
        try opened.journal.append([
            (
                try #require(Timestamp("2001-01-01T00:00:00.000Z")), .daemon,
                .detected(message: "m", file: "m.md", sha256: "a")
            ),
            (
                try #require(Timestamp("2099-01-01T00:00:00.000Z")), .daemon,
                .accepted(message: "m", requestID: "k", agent: "x", sha256: "a")
            ),
        ])
        let show = try await CLI.run(["audit", "show"], in: scratch.path)
        #expect(show.status == 0)
        let rows = show.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.map { String($0[1]) } == ["ops#2", "inbox#1", "ops#1"], "\(show.stdout)")
        #expect(rows.map { String($0[3]) } == ["accepted", "inbox_created", "detected"])
        let only = try await CLI.run(["audit", "show", "--thread", "ops", "--limit", "1"], in: scratch.path)
        #expect(only.stdout.split(separator: "\n").count == 1 && only.stdout.contains("ops#2"))
    }
}

@Suite("Names from files never act on the terminal", .processSlot)
struct TerminalSafetyTests {
    @Test("status and audit show print escape sequences, bells and newlines from file names as text")
    func escapes() async throws {
        let scratch = try Scratch()
        try await CLI.run(["init", "--no-git", "."], in: scratch.path)
        try await CLI.run(["new", "ops"], in: scratch.path)
        let evil = "x\u{1B}[2J\u{07}\ny\u{202E}.md"
        let opened = try JournalFile.open(
            path: scratch.path + "/inbox/ops/journal.jsonl", tornFolder: scratch.path + "/.letterbox/torn",
            now: Timestamp(milliseconds: 0))
        try opened.journal.append([
            (
                Timestamp(milliseconds: 1000), .daemon,
                .rejected(file: evil, reason: "bad \u{1B}]0;title\u{07}", sha256: nil)
            )
        ])
        for arguments in [["status"], ["audit", "show"]] {
            let result = try await CLI.run(arguments, in: scratch.path, environment: ["NO_COLOR": "1"])
            for active in ["\u{1B}", "\u{07}", "\u{202E}"] {
                #expect(!result.stdout.contains(active), "letterbox \(arguments.joined(separator: " ")) printed it raw")
            }
            #expect(result.stdout.contains("\\x1b[2J\\x07\\x0ay\\u{202E}.md"), "\(result.stdout)")
        }
    }

    @Test("visible() leaves ordinary text alone, accents and emoji included")
    func ordinary() {
        #expect(TerminalText.visible("naïve café ☕ — ok") == "naïve café ☕ — ok")
        #expect(TerminalText.visible("tab\there") == "tab\\x09here")
    }
}

/// This repository's sample inbox (inbox/, made by scripts/sample-inbox.sh with the real daemon).
@Suite("The sample inbox", .processSlot)
struct SampleInboxTests {
    static var repository: String {
        var url = URL(fileURLWithPath: #filePath)
        while url.lastPathComponent != "Tests" { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent().path
    }

    /// Every file under `root`, relative path -> bytes.
    static func tree(_ root: String) -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var isFolder: ObjCBool = false
            let path = root + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
                files[relative] = FileManager.default.contents(atPath: path)
            }
        }
        return files
    }

    @Test(
        "`letterbox build --inbox inbox --site site` renders every page kind from the sample, and again changes nothing"
    )
    func buildsTwiceTheSame() async throws {
        let scratch = try Scratch()
        try FileManager.default.copyItem(atPath: Self.repository + "/inbox", toPath: scratch.path + "/inbox")
        try FileManager.default.copyItem(
            atPath: Self.repository + "/letterbox.yaml", toPath: scratch.path + "/letterbox.yaml")
        let verify = try await CLI.run(["audit", "verify"], in: scratch.path)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

        let first = try await CLI.run(["build", "--inbox", "inbox", "--site", "site", "--quiet"], in: scratch.path)
        #expect(first.status == 0, "\(first.stderr)")
        let built = Self.tree(scratch.path + "/site")
        let threads = try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/inbox").filter {
            !$0.hasSuffix(".jsonl")
        }
        #expect(threads.count >= 7)
        for page in ["index.html", "audit/index.html", "status.html", "agents.html", "feed.xml", "search.html"]
            + threads.flatMap({ ["threads/\($0).html", "threads/\($0).xml"] })
        {
            #expect(built[page] != nil, "missing \(page)")
        }
        let second = try await CLI.run(["build", "--inbox", "inbox", "--site", "site", "--quiet"], in: scratch.path)
        #expect(second.status == 0)
        #expect(Self.tree(scratch.path + "/site") == built, "a second build changes nothing")

        // The states the sample was made to show.
        let status = try await CLI.run(["status"], in: scratch.path).stdout
        for state in ["replied", "retrying", "queued", "failed", "aborted", "edited after send", "not sent: broken.md"]
        {
            #expect(status.contains(state), "the sample shows \(state)")
        }
        let runbook = try #require(built["threads/runbook.html"].map { String(decoding: $0, as: UTF8.self) })
        #expect(runbook.contains("Approved") && runbook.contains("Rejected"))
        let notes = try #require(built["threads/release-notes.html"].map { String(decoding: $0, as: UTF8.self) })
        #expect(notes.contains("draft.reply-2.md"), "the regenerated answer beside the first")
    }
}

@Suite("letterbox build --jobs: worker processes (issue 14)", .processSlot)
struct BuildJobsTests {
    @Test("--jobs 1, 2 and 3 build byte-identical sites from the sample inbox")
    func jobsAgree() async throws {
        let scratch = try Scratch()
        try FileManager.default.copyItem(
            atPath: SampleInboxTests.repository + "/inbox", toPath: scratch.path + "/inbox")
        try FileManager.default.copyItem(
            atPath: SampleInboxTests.repository + "/letterbox.yaml", toPath: scratch.path + "/letterbox.yaml")
        var sites: [[String: Data]] = []
        for jobs in [1, 2, 3] {
            let result = try await CLI.run(
                ["build", "--inbox", "inbox", "--site", "site-\(jobs)", "--jobs", "\(jobs)", "--quiet"],
                in: scratch.path)
            #expect(result.status == 0, "\(result.stderr)")
            sites.append(SampleInboxTests.tree(scratch.path + "/site-\(jobs)"))
        }
        #expect(sites[0].count > 20)
        for site in sites.dropFirst() {
            #expect(site.keys.sorted() == sites[0].keys.sorted())
            for (path, bytes) in sites[0] { #expect(site[path] == bytes, "\(path)") }
        }
        // No spool or temp file is left behind in the state folder or the sites' parent.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/.letterbox")
            .filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        let staging = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter {
            $0.hasPrefix(".") && $0 != ".letterbox"
        }
        #expect(staging.isEmpty, "\(staging)")
    }

    @Test("build-worker refuses to run by hand")
    func workerByHand() async throws {
        let scratch = try Scratch()
        let result = try await CLI.run(["build-worker"], in: scratch.path, stdin: "")
        #expect(result.status != 0)
        #expect(result.stderr.contains("letterbox build --jobs"))
    }
}

@Suite("letterbox build's output (issue 14)", .processSlot)
struct BuildOutputTests {
    @Test("Not on a terminal: no progress and no summary, only the site")
    func silentWhenPiped() async throws {
        let scratch = try Scratch()
        try FileManager.default.copyItem(
            atPath: SampleInboxTests.repository + "/inbox", toPath: scratch.path + "/inbox")
        try FileManager.default.copyItem(
            atPath: SampleInboxTests.repository + "/letterbox.yaml", toPath: scratch.path + "/letterbox.yaml")
        let result = try await CLI.run(["build", "--inbox", "inbox", "--site", "site"], in: scratch.path)
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.path + "/site/index.html"))
    }
}
