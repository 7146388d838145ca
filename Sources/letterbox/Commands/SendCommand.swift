import ArgumentParser
import ChatModel
import Foundation
import InboxStore

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Write a message into a thread (atomically; the daemon sends it once).",
        discussion: """
            Reads the message from FILE, or from standard input with `-`. The file is checked (UTF-8, \
            front matter, not empty) before anything is written, and never replaces an existing file.
            """
    )

    @Argument(help: ArgumentHelp("The thread to send to.", valueName: "THREAD"))
    var thread: String

    @Argument(help: ArgumentHelp("A Markdown file, or - for standard input.", valueName: "FILE|-"))
    var file: String = "-"

    @Option(
        help: ArgumentHelp(
            "The message's file name in the thread (default: FILE's name, or a time stamp).", valueName: "NAME"))
    var name: String?

    @OptionGroup var options: WorkspaceOptions

    func run() async throws {
        try await reportingErrors {
            let workspace = try options.workspace()
            let data: Data
            var name = name
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                data = Array(try FileSystem.readFile(file, maxBytes: workspace.config.limits.messageBytes))
                    .withUnsafeBytes { Data($0) }
                if name == nil { name = URL(fileURLWithPath: file).lastPathComponent }
            }
            guard let text = String(data: data, encoding: .utf8) else {
                Terminal.error("\(file == "-" ? "standard input" : file): not valid UTF-8 text; save it as UTF-8")
                throw Exit.dataError
            }
            let path = try Outbox.send(text, thread: thread, name: name, defaultStem: Terminal.stamp(), in: workspace)
            Terminal.out("queued \(path)\n")
        }
    }
}
