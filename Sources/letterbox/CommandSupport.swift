import ArgumentParser
import ChatModel
import Foundation
import InboxStore
import Logging

/// sysexits(3) codes, so scripts can tell a usage error from bad data from a missing file.
enum Exit {
    static let usage = ExitCode(64)
    static let dataError = ExitCode(65)
    static let noInput = ExitCode(66)
    static let unavailable = ExitCode(69)
    static let software = ExitCode(70)
    static let cantCreate = ExitCode(73)
    static let ioError = ExitCode(74)
    static let tempFail = ExitCode(75)
    static let config = ExitCode(78)
}

/// `--inbox` and `--site`, shared by every command that reads a workspace.
struct WorkspaceOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The inbox folder (default: from letterbox.yaml).", valueName: "DIR"))
    var inbox: String?

    func workspace(site: String? = nil) throws -> Workspace {
        try Workspace.locate(inbox: inbox, site: site)
    }
}

/// Runs a command body, turning Letterbox errors into one line on stderr and a sysexits code.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as FormatError {
        Terminal.error(error.description)
        throw error.code == .config ? Exit.config : Exit.dataError
    } catch let error as StoreError {
        Terminal.error(error.description)
        switch error.code {
        case .notFound: throw Exit.noInput
        case .locked: throw Exit.tempFail
        case .notAllowed: throw Exit.cantCreate
        default: throw Exit.ioError
        }
    }
}

/// Output conventions: results on stdout, diagnostics on stderr, colour only on a terminal without NO_COLOR.
enum Terminal {
    static var plain: Bool {
        if let value = ProcessInfo.processInfo.environment["NO_COLOR"], !value.isEmpty { return true }
        return isatty(STDOUT_FILENO) == 0
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("letterbox: \(message)\n".utf8))
    }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// A small text file's contents (`-`: standard input), for options like `--args-file`.
    static func readInput(_ path: String, maxBytes: Int = 64 * 1024) throws -> String {
        let bytes: [UInt8] =
            path == "-"
            ? Array(FileHandle.standardInput.readDataToEndOfFile().prefix(maxBytes + 1))
            : try FileSystem.readFile(path, maxBytes: maxBytes)
        guard bytes.count <= maxBytes, let text = String(validating: bytes, as: UTF8.self) else {
            Terminal.error("\(path == "-" ? "standard input" : path): not UTF-8 text of at most \(maxBytes) bytes")
            throw Exit.dataError
        }
        return text
    }

    /// The current time as a journal timestamp.
    static func now() -> Timestamp { Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)) }

    /// A stamp for generated file names: `20261121-093000`, in UTC.
    static func stamp(_ date: Date = Date()) -> String {
        let text = Timestamp(milliseconds: Int64(date.timeIntervalSince1970 * 1000)).description
        let digits = text.filter(\.isNumber)
        return String(digits.prefix(8)) + "-" + String(digits.dropFirst(8).prefix(6))
    }
}

/// Logging for commands: swift-log to stderr, level from `LETTERBOX_LOG_LEVEL` (default info).
enum Logging {
    private static let bootstrap: Void = LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        let level = ProcessInfo.processInfo.environment["LETTERBOX_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
        handler.logLevel = level ?? .info
        return handler
    }

    /// A logger after bootstrapping the logging system once for this process.
    static func bootstrapped(label: String, quiet: Bool = false) -> Logger {
        _ = bootstrap
        var logger = Logger(label: label)
        if quiet { logger.logLevel = .error }
        return logger
    }
}
