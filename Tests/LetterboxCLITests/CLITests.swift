import Foundation
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
        throws -> Result
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData, as: UTF8.self))
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

@Suite("The letterbox command (issue: core, Done when)")
struct CLITests {
    @Test("init, new, send -, status --json shows the message queued")
    func doneWhenQueued() throws {
        let scratch = try Scratch()
        let root = scratch.path + "/lb"
        #expect(try CLI.run(["init", root], in: scratch.path).status == 0)
        #expect(try CLI.run(["new", "ops", "--agent", "ops"], in: root).status == 0)
        let sent = try CLI.run(["send", "ops", "-"], in: root, stdin: "hi\n")
        #expect(sent.status == 0, "\(sent.stderr)")
        let status = try CLI.run(["status", "--json"], in: root)
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
    func doneWhenAudit() throws {
        let scratch = try Scratch()
        let root = scratch.path + "/lb"
        try CLI.run(["init", root], in: scratch.path)
        let ok = try CLI.run(["audit", "verify"], in: root)
        #expect(ok.status == 0, "\(ok.stderr)")
        let journal = root + "/inbox/journal.jsonl"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: journal)))
        let index = try #require(bytes.firstIndex(of: UInt8(ascii: "f")))
        bytes[index] = UInt8(ascii: "F")
        try Data(bytes).write(to: URL(fileURLWithPath: journal))
        let bad = try CLI.run(["audit", "verify"], in: root)
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("inbox/journal.jsonl:1:"), "\(bad.stderr)")
    }

    @Test("errors go to stderr with sysexits codes and say what to do")
    func errors() throws {
        let scratch = try Scratch()
        let outside = try CLI.run(["status"], in: scratch.path)
        #expect(outside.status == 66)
        #expect(outside.stderr.contains("letterbox init"))
        #expect(outside.stdout.isEmpty)
        try CLI.run(["init", "."], in: scratch.path)
        let twice = try CLI.run(["init", "."], in: scratch.path)
        #expect(twice.status == 73)
        let noThread = try CLI.run(["send", "nope", "-"], in: scratch.path, stdin: "x")
        #expect(noThread.status == 66)
        #expect(noThread.stderr.contains("letterbox new nope"))
        try CLI.run(["new", "ops"], in: scratch.path)
        let empty = try CLI.run(["send", "ops", "-"], in: scratch.path, stdin: "\n\n")
        #expect(empty.status == 65)
        #expect(empty.stderr.contains("empty"))
        let badFrontMatter = try CLI.run(["send", "ops", "-"], in: scratch.path, stdin: "---\nagnet: x\n---\nhi\n")
        #expect(badFrontMatter.status == 65)
        #expect(badFrontMatter.stderr.contains("standard input:2: unknown key 'agnet'"), "\(badFrontMatter.stderr)")
        let badName = try CLI.run(["new", "two words"], in: scratch.path)
        #expect(badName.status == 65)
        let usage = try CLI.run(["send"], in: scratch.path)
        #expect(usage.status == 64)
    }

    @Test("help on every command, and shell completions")
    func helpAndCompletions() throws {
        let scratch = try Scratch()
        for command in [["init"], ["new"], ["send"], ["status"], ["audit"], ["audit", "verify"], ["audit", "show"]] {
            let help = try CLI.run(command + ["--help"], in: scratch.path)
            #expect(help.status == 0)
            #expect(help.stdout.contains("USAGE"), "\(command)")
        }
        let completions = try CLI.run(["--generate-completion-script", "bash"], in: scratch.path)
        #expect(completions.status == 0)
        #expect(completions.stdout.contains("_letterbox"))
    }

    @Test("NO_COLOR is honoured")
    func noColor() throws {
        let scratch = try Scratch()
        try CLI.run(["init", "."], in: scratch.path)
        let status = try CLI.run(["status"], in: scratch.path, environment: ["NO_COLOR": "1"])
        #expect(!status.stdout.contains("\u{1B}["))
    }
}

@Suite("make demo")
struct DemoTests {
    @Test("scripts/demo.sh starts the reference runtime and the daemon; a dropped file gets a reply and a site page")
    func demoLoop() throws {
        let scratch = try Scratch()
        let workspace = scratch.path + "/demo"
        #expect(try CLI.run(["init", workspace], in: scratch.path).status == 0)
        var script = URL(fileURLWithPath: #filePath)
        while script.lastPathComponent != "Tests" { script.deleteLastPathComponent() }
        script = script.deletingLastPathComponent().appendingPathComponent("scripts/demo.sh")
        let process = Process()
        process.executableURL = script
        process.arguments = [workspace, "--check"]
        var environment = ProcessInfo.processInfo.environment
        environment["LETTERBOX_BIN"] = CLI.binary
        environment["LETTERBOX_DEMO_PORT"] = String(Int.random(in: 20_000..<40_000))
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("status: complete"))
        #expect(output.contains("not a production agent runtime"))
        #expect(FileManager.default.fileExists(atPath: workspace + "/site/threads/welcome.html"))
        let token = try String(contentsOfFile: workspace + "/.letterbox/demo-token", encoding: .utf8)
        #expect(!output.contains(token), "the demo never prints its token")
    }
}
