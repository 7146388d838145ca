import ChatModel
import Foundation
import InboxStore
import LetterboxTestSupport
import ReferenceRuntime
import Testing

/// Hostile files (docs/reliability.md): every kind of file an inbox should survive, each met by a real daemon.
/// Each must be rejected clearly (journal, `letterbox status`, the site) with its name and what to do, the
/// daemon keeps delivering, the file is untouched (hash and inode before and after) and nothing is sent.
@Suite("Reliability: hostile files", .processSlot)
struct HostileFileTests {
    /// A hostile file: where it goes and how it is made. `live` files are dropped while the daemon runs; the
    /// others are there when it starts (links and special files, which its start-up scan must meet).
    struct Case: Sendable {
        var name: String
        var thread = "hostile"
        var live = true
        var make: @Sendable (_ path: String, _ outside: String) throws -> Void
    }

    static func bytes(_ data: [UInt8]) -> @Sendable (String, String) throws -> Void {
        { path, _ in try Data(data).write(to: URL(fileURLWithPath: path)) }
    }

    static func text(_ text: String) -> @Sendable (String, String) throws -> Void { bytes(Array(text.utf8)) }

    static let cases: [Case] = {
        var random = SplitMix64(seed: Soak.seed)
        let binary = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) }
        let bomb =
            (["---", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
            + (1...9).map {
                "a\($0): &a\($0) [" + Array(repeating: "*a\($0 - 1)", count: 9).joined(separator: ", ") + "]"
            }
            + ["agent: *a9", "---", "Boom."]).joined(separator: "\n")
        let deep =
            "---\nagent: " + String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000)
            + "\n---\nDeep."
        let deepMap =
            "---\nagent:\n" + (1...60).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n")
            + " x\n---\nDeep."
        return [
            Case(
                name: "invalid-utf8.md",
                make: bytes(Array("Hello ".utf8) + [0xC3, 0x28, 0xFF, 0xFE] + Array(" world".utf8))),
            Case(name: "nul-byte.md", make: bytes(Array("Hello".utf8) + [0] + Array("world".utf8))),
            Case(name: "binary.md", make: bytes(binary)),
            Case(name: "fifty-megabytes.md") { path, _ in
                let line = Data(Array(String(repeating: "All work and no play. ", count: 46).utf8) + [10])
                guard FileManager.default.createFile(atPath: path, contents: nil) else {
                    throw CocoaError(.fileWriteUnknown)
                }
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                var chunk = Data()
                while chunk.count < 1 << 20 { chunk.append(line) }
                for _ in 0..<50 { handle.write(chunk) }
                try handle.close()
            },
            Case(name: "alias-bomb.md", make: text(bomb)),
            Case(name: "deep-flow.md", make: text(deep)),
            Case(name: "deep-map.md", make: text(deepMap)),
            Case(name: "wrong-type-map.md", make: text("---\nagent:\n  name: ops\n---\nHello.")),
            Case(name: "wrong-type-list.md", make: text("---\nauthor: [a, b]\n---\nHello.")),
            Case(name: "unknown-key.md", make: text("---\nagnet: ops\n---\nHello.")),
            Case(name: "unclosed.md", make: text("---\nagent: ops\nHello, no end to the front matter.")),
            Case(name: "tagged.md", make: text("---\nagent: !!binary aGVsbG8=\n---\nHello.")),
            Case(name: "empty.md", make: text("---\nagent: assistant\n---\n   \n")),
            Case(name: "new\nline.md", make: text("A name with a newline.")),
            Case(name: "escape\u{1B}[31mred.md", make: text("A name with an ESC sequence.")),
            Case(name: "bell\u{07}.md", make: text("A name with a BEL.")),
            Case(name: "carriage\rreturn.md", make: text("A name with a CR.")),
            Case(name: String(repeating: "n", count: 252) + ".md", make: text("A 255-byte name.")),
            Case(name: "h\u{0435}llo.md", make: text("A Cyrillic e that looks Latin.")),
            Case(name: "\u{FF48}ello.md", make: text("A fullwidth h.")),
            Case(name: "m.r\u{0435}ply.md", make: text("A reply look-alike.")),
            Case(name: "journa\u{217C}.jsonl", make: text("{\"a journal look-alike\": true}")),
            Case(name: "symlink-outside.md", live: false) { path, outside in
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: outside + "/secret.md")
            },
            Case(name: "symlink-dangling.md", live: false) { path, _ in
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/nonexistent/nothing.md")
            },
            Case(name: "symlink-loop.md", live: false) { path, _ in
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "symlink-loop.md")
            },
            Case(name: "fifo.md", live: false) { path, _ in
                guard mkfifo(path, 0o644) == 0 else { throw POSIXError(.EPERM) }
            },
            Case(name: "hard-link.md", live: false) { path, outside in
                guard link(outside + "/secret.md", path) == 0 else { throw POSIXError(.EPERM) }
            },
            Case(name: "device.md", live: false) { path, _ in
                // /dev/null's numbers; only root (CAP_MKNOD) may: the test reports a skip otherwise.
                guard mknod(path, S_IFCHR | 0o644, dev_t((1 << 8) | 3)) == 0 else { throw POSIXError(.EPERM) }
            },
            Case(name: "filethread", thread: "", live: false, make: text("A thread folder that is a file.")),
            Case(name: "linkthread", thread: "", live: false) { path, outside in
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: outside + "/thread")
            },
        ]
    }()

    /// What a file is before and after: its type, inode and the hash of its bytes (never following a link).
    static func fingerprint(_ path: String) -> String {
        // FileManager's attributes come from lstat; Glibc's `stat` struct is not used here because which
        // clang module the compiler credits it to varies (MemberImportVisibility refused it on a clean build).
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return "missing" }
        let type = attributes[.type] as? FileAttributeType
        var summary =
            "type \(type?.rawValue ?? "?") mode \(attributes[.posixPermissions] ?? "?") "
            + "inode \(attributes[.systemFileNumber] ?? "?") links \(attributes[.referenceCount] ?? "?")"
        if type == .typeRegular, let data = FileManager.default.contents(atPath: path) {
            summary += " sha256 " + SHA256Hex.digest(Array(data))
        } else if type == .typeSymbolicLink {
            summary += " -> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?")
        }
        return summary
    }

    /// The text of HTML with its character references undone.
    static func unescaped(_ html: String) -> String {
        var text = html.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&apos;", with: "'")
        while let range = text.range(of: #"&#(x[0-9a-fA-F]+|[0-9]+);"#, options: .regularExpression) {
            let digits = text[range].dropFirst(2).dropLast()
            let number = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            text.replaceSubrange(range, with: number.flatMap { Unicode.Scalar($0) }.map { String($0) } ?? "")
        }
        return text.replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Letters and digits only, to find a reason in HTML or terminal output whatever their escaping.
    static func letters(_ text: String) -> String {
        String(
            text.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) }.map(Character.init))
    }

    @Test("Each hostile file is rejected, named with what to do; the daemon keeps delivering; nothing sent or changed")
    func hostileFiles() async throws {
        let watch = Stopwatch()
        let scratch = try Scratch(extraConfig: "")
        try scratch.thread("hostile")
        try scratch.thread("calm")
        let outside = try Workplace.folder("outside")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try Data("TOP SECRET: the launch codes".utf8).write(to: URL(fileURLWithPath: outside + "/secret.md"))
        try FileManager.default.createDirectory(atPath: outside + "/thread", withIntermediateDirectories: true)
        try Data("Sent from outside the inbox.".utf8).write(to: URL(fileURLWithPath: outside + "/thread/leak.md"))

        func path(_ hostile: Case) -> String {
            hostile.thread.isEmpty
                ? scratch.inbox + "/" + hostile.name : scratch.inbox + "/\(hostile.thread)/\(hostile.name)"
        }
        var skipped: [String: String] = [:]
        var made: [Case] = []
        func make(_ hostile: Case) {
            do {
                try hostile.make(path(hostile), outside)
                made.append(hostile)
            } catch {
                skipped[hostile.name] = "cannot be created here (\(error)); not tested"
            }
        }
        for hostile in Self.cases where !hostile.live { make(hostile) }
        // After the links are made (a hard link adds to the target's link count).
        let outsideBefore = [Self.fingerprint(outside + "/secret.md"), Self.fingerprint(outside + "/thread/leak.md")]
        var before: [String: String] = [:]
        var reasons: [String: String] = [:]
        var problems: [String] = []
        let configuration = ReferenceRuntimeConfiguration(
            port: 0, token: DaemonHarness.token, streamInterval: .milliseconds(5))
        try await ReferenceRuntimeServer.withRunning(configuration: configuration, logger: CrashLoopTests.logger) {
            runtime in
            let daemon = try DaemonProcess.start(scratch, runtimeURL: runtime.baseURL)
            defer { daemon.stop() }
            try await daemon.waitUntilReady()
            try scratch.write("calm/first.md", "Before the hostile files.")
            for hostile in Self.cases where hostile.live { make(hostile) }
            for hostile in made { before[hostile.name] = Self.fingerprint(path(hostile)) }
            try scratch.write("calm/second.md", "After the hostile files.")
            await scratch.waitUntil("every hostile file is reported", timeout: .seconds(60)) {
                let thread = try scratch.state("hostile").rejected
                let root = try InboxReader.read(scratch.workspace).rejectedRoot
                return made.allSatisfy { hostile in
                    hostile.thread.isEmpty
                        ? root.contains { $0.name == hostile.name }
                            || (try? scratch.inboxState().rejected[hostile.name]) != nil
                        : thread[hostile.name] != nil
                }
            }
            await scratch.waitUntil("the daemon still delivers", timeout: .seconds(30)) {
                let state = try scratch.state("calm")
                return state.message("first")?.delivery == .replied && state.message("second")?.delivery == .replied
            }
            let sent = await runtime.effects(.messageAccepted).compactMap(\.content)
            if sent.sorted() != ["After the hostile files.", "Before the hostile files."] {
                problems.append("sent: \(sent)")
            }
            if !daemon.process.isRunning { problems.append("the daemon stopped: \(daemon.output.suffix(2000))") }
        }
        let thread = try scratch.state("hostile").rejected
        let root = try InboxReader.read(scratch.workspace)
        let status = try await Workplace.letterbox(["status"], in: scratch.root)
        let build = try await Workplace.letterbox(["build", "--full"], in: scratch.root)
        #expect(build.status == 0, "\(build.stderr)")
        let site = Self.letters(Self.unescaped(Self.siteText(scratch.root + "/site")))
        let statusText = Self.letters(status.stdout + status.stderr)
        let hints = [
            "rename", "remove", "copy", "replace", "fix", "save", "shorten", "split", "move", "write", "put", "add",
            "flatten",
        ]
        for hostile in made {
            let reason =
                hostile.thread.isEmpty
                ? root.rejectedRoot.first { $0.name == hostile.name }?.reason
                    ?? root.inbox.rejected[hostile.name]?.reason
                : thread[hostile.name]?.reason
            guard let reason else {
                problems.append("\(hostile.name.debugDescription): not rejected")
                continue
            }
            reasons[hostile.name] = reason
            if !hints.contains(where: { reason.lowercased().contains($0) }) {
                problems.append("\(hostile.name.debugDescription): the reason does not say what to do: \(reason)")
            }
            if !statusText.contains(Self.letters(reason)) {
                problems.append("\(hostile.name.debugDescription): `letterbox status` does not show \(reason)")
            }
            if !site.contains(Self.letters(reason)) {
                problems.append("\(hostile.name.debugDescription): the site does not show \(reason)")
            }
            let after = Self.fingerprint(path(hostile))
            if after != before[hostile.name] {
                problems.append("\(hostile.name.debugDescription) changed: \(before[hostile.name] ?? "?") -> \(after)")
            }
        }
        if [Self.fingerprint(outside + "/secret.md"), Self.fingerprint(outside + "/thread/leak.md")] != outsideBefore {
            problems.append("a file outside the inbox changed")
        }
        if site.contains(Self.letters("TOP SECRET: the launch codes"))
            || site.contains(Self.letters("Sent from outside the inbox"))
        {
            problems.append("the site publishes a file from outside the inbox")
        }
        let table = made.map { "\($0.name.debugDescription): \(reasons[$0.name] ?? "NOT REJECTED")" }
        Soak.report(
            "hostile-files",
            [
                "cases":
                    "\(made.count) met, \(skipped.count) skipped \(skipped.map { "(\($0.key): \($0.value))" }.joined(separator: " "))",
                "rejected with a reason": "\(reasons.count) of \(made.count)",
                "problems": "\(problems.count)",
                "reasons": "\n      " + table.joined(separator: "\n      "),
                "wall time": watch.seconds,
            ])
        if !skipped.isEmpty { print("hostile files skipped: \(skipped)") }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Every page and JSON file of the site, as one text.
    static func siteText(_ site: String) -> String {
        let files = (try? FileManager.default.subpathsOfDirectory(atPath: site)) ?? []
        return files.filter { $0.hasSuffix(".html") }.compactMap {
            try? String(contentsOfFile: site + "/" + $0, encoding: .utf8)
        }.joined(separator: "\n")
    }
}
