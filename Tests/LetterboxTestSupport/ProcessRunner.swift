import Foundation

/// Runs blocking work (waiting for a process, reading its pipes) on a GCD thread instead of Swift's
/// cooperative pool. The pool has one thread per core (two here): tests that block it stall every other
/// test, including the in-process runtimes the daemon tests talk to, which then time out.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// A finished process: its status and what it printed.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// Whether it exited on its own (rather than being killed by the timeout).
    public var exited: Bool
}

/// Runs a program to completion, off the cooperative pool, killing it after `timeout` seconds.
public func runProcess(
    _ executable: String, _ arguments: [String], in folder: String? = nil, environment: [String: String]? = nil,
    stdin: String? = nil, timeout: Double = 120
) async throws -> ProcessResult {
    try await offPool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try launch(process)
        // Weak: the queue keeps a cancelled item until its time comes, and a process it held would keep
        // its pipes open that long (a thousand descriptors at once in the full suite).
        let deadline = DispatchWorkItem { [weak process] in
            if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: deadline)
        defer { deadline.cancel() }
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty stderr cannot block the process on a full stdout.
        let stderrData = LockedData()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            stderrData.set(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        try? out.fileHandleForReading.close()
        try? err.fileHandleForReading.close()
        return ProcessResult(
            status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
            stderr: String(decoding: stderrData.get(), as: UTF8.self), exited: process.terminationReason == .exit)
    }
}

/// `@unchecked Sendable`: a lock guards the one value.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ value: Data) { lock.withLock { data = value } }
    func get() -> Data { lock.withLock { data } }
}

/// Foundation's `Process.run()` is not safe to call from two threads at once: every test launch goes
/// through this lock. (Its crash in `memmove` is another bug, swift-corelibs-foundation #5472: it reads
/// 256 bytes past a `/proc/self/fd` entry, which faults once the process has ~1,350 descriptors open, so
/// tests must not hold descriptors they no longer need.)
private let launching = NSLock()

/// Starts `process`, one launch at a time across the test process.
public func launch(_ process: Process) throws {
    launching.lock()
    defer { launching.unlock() }
    try process.run()
}
