import Foundation
import LetterboxTestSupport
import Testing

/// Helpers for tests that need more than one workspace, a small filesystem, or the CLI.
enum Workplace {
    /// Runs `letterbox ARGS` in `folder` and returns what it did (killed after `timeout` seconds).
    static func letterbox(_ arguments: [String], in folder: String, timeout: Double = 60) async throws
        -> ProcessResult
    {
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        return try await runProcess(
            DaemonProcess.binary, arguments, in: folder, environment: environment, timeout: timeout)
    }

    /// Runs `git ARGS` in `folder` with a fixed identity; records an issue when it fails.
    @discardableResult
    static func git(_ arguments: [String], in folder: String, sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> String
    {
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_AUTHOR_NAME"] = "Test Operator"
        environment["GIT_AUTHOR_EMAIL"] = "operator@example.com"
        environment["GIT_COMMITTER_NAME"] = "Test Operator"
        environment["GIT_COMMITTER_EMAIL"] = "operator@example.com"
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["HOME"] = folder
        let result = try await runProcess("/usr/bin/git", arguments, in: folder, environment: environment)
        #expect(
            result.status == 0, "git \(arguments.joined(separator: " ")): \(result.stderr)",
            sourceLocation: sourceLocation)
        return result.stdout
    }

    /// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A fresh temporary folder (removed by the caller).
    static func folder(_ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lb-\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A small tmpfs, for running out of disk space for real (needs CAP_SYS_ADMIN; tests that use it
/// are skipped where it cannot be mounted).
final class SmallDisk: @unchecked Sendable {
    // @unchecked: only the path, set once.
    let path: String

    /// Whether this process may mount a tmpfs (root in CI).
    static let available: Bool = {
        guard let disk = try? SmallDisk(megabytes: 1) else { return false }
        disk.unmount()
        return true
    }()

    init(megabytes: Int) throws {
        path = try Workplace.folder("disk")
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(megabytes)m,mode=0755") == 0 else {
            let code = errno
            try? FileManager.default.removeItem(atPath: path)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EPERM)
        }
    }

    /// Fills the disk to the last byte with `path/filler`.
    func fill() {
        let fd = open(path + "/filler", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        for size in [65536, 4096, 256, 16, 1] {
            let chunk = [UInt8](repeating: 120, count: size)
            while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, size) }) == size {}
        }
    }

    /// Bytes still free.
    var free: UInt64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    /// Gives the space back.
    func release() { unlink(path + "/filler") }

    func unmount() {
        umount2(path, Int32(MNT_DETACH))
        try? FileManager.default.removeItem(atPath: path)
    }
}
