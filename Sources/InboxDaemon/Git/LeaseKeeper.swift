public import ChatModel
import Foundation
public import InboxCore
public import InboxStore

/// Reads, takes and renews the delivery lease in the repository (docs/format.md, "The delivery
/// lease"); `LeasePolicy` decides, this carries it out with git. A lease counts once a sync has pushed
/// it: after a sync that worked, the clone's `lease.json` is the remote's.
///
/// `@unchecked Sendable`: used by one task at a time (the daemon's loop, or a CLI command).
public final class LeaseKeeper: @unchecked Sendable {
    public let sync: GitSync
    public let policy: LeasePolicy
    /// This clone's daemon id and host.
    public let me: String
    public let host: String
    /// `inbox/lease.json`, absolute.
    public let path: String
    let bot: GitRepository.Identity
    /// The expiry of the last lease of ours a sync confirmed (the remote has it): the holder delivers
    /// until then.
    public private(set) var confirmedExpiry: Timestamp?

    public init(sync: GitSync, workspace: Workspace) throws {
        self.sync = sync
        policy = LeasePolicy(leaseSeconds: workspace.config.git.leaseSeconds)
        me = try Self.daemonID(in: workspace)
        host = ProcessInfo.processInfo.hostName
        path = workspace.inbox + "/" + DeliveryLease.fileName
        bot = .init(name: workspace.config.git.name, email: workspace.config.git.email)
    }

    /// This clone's daemon id: random, made once, kept in `.letterbox/daemon-id` (never committed), so
    /// a daemon restarted in the same clone still holds its lease.
    public static func daemonID(in workspace: Workspace) throws -> String {
        let file = workspace.stateFolder + "/daemon-id"
        if let bytes = try? FileSystem.readFile(file, maxBytes: 256) {
            let id = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !id.isEmpty { return id }
        }
        let id = "d-" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try FileSystem.createDirectory(workspace.stateFolder)
        try DurableWriter.write(Array((id + "\n").utf8), to: file, mode: .replace)
        return id
    }

    /// The wall clock, as the lease uses it.
    public static func now() -> Timestamp { Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)) }

    /// The lease in the clone: nil when there is none; a damaged file is an error naming it.
    public func read() throws(FormatError) -> DeliveryLease? {
        guard FileSystem.exists(path) else { return nil }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path, maxBytes: 4096) } catch {
            throw FormatError(.lease, "cannot read the lease: \(error.message)", path: DeliveryLease.fileName)
        }
        return try DeliveryLease.parse(bytes)
    }

    /// Where this daemon stands now (a damaged lease counts as none: whoever takes it first wins).
    public func standing(now: Timestamp = LeaseKeeper.now()) -> LeasePolicy.Standing {
        policy.standing((try? read()) ?? nil, me: me, now: now)
    }

    /// Whether this daemon may deliver now.
    public func mayDeliver(now: Timestamp = LeaseKeeper.now()) -> Bool {
        guard case .mine = standing(now: now) else { return false }
        return policy.mayDeliver(confirmedExpiry: confirmedExpiry, now: now)
    }

    /// After a sync that worked: what the remote holds is what the clone holds.
    public func confirm() {
        let lease = (try? read()) ?? nil
        confirmedExpiry = lease.flatMap { $0.holder == me ? $0.expires : nil }
    }

    /// Forgets the confirmation (a sync failed or the lease was lost).
    public func unconfirm() { confirmedExpiry = nil }

    /// Takes the lease when it is free (or, `force`, whoever holds it): writes and commits it, syncs,
    /// and returns the lease in force afterwards (ours if the push got there first).
    @discardableResult
    public func take(force: Bool, now: Timestamp = LeaseKeeper.now()) async throws -> DeliveryLease? {
        let current = (try? read()) ?? nil
        if let lease = policy.take(current, me: me, host: host, now: now, force: force) {
            let verb =
                current.map {
                    $0.holder == me
                        ? "taken again" : force ? "taken over from \($0.holder)" : "taken after \($0.holder)'s lapsed"
                } ?? "taken"
            try await write(lease, message: "lease: \(verb) by \(me) on \(host) until \(lease.expires)")
        }
        _ = try await sync.sync(keepOurLease: force)
        confirm()
        return (try? read()) ?? nil
    }

    /// Renews the lease when half of it has run out (committed; the next sync pushes it). Returns
    /// whether it wrote.
    @discardableResult
    public func renewIfDue(now: Timestamp = LeaseKeeper.now()) async throws -> Bool {
        guard case .mine(renewDue: true) = standing(now: now), let lease = (try? read()) ?? nil else { return false }
        let renewed = policy.renew(lease, now: now)
        try await write(renewed, message: "lease: renewed by \(me) on \(host) until \(renewed.expires)")
        return true
    }

    /// At a graceful stop: gives the lease up, if it is this daemon's, so another may take it at once
    /// (committed; the stop's last sync pushes it). Returns whether it wrote.
    @discardableResult
    public func release(now: Timestamp = LeaseKeeper.now()) async throws -> Bool {
        guard case .mine = standing(now: now), let lease = (try? read()) ?? nil else { return false }
        try await write(policy.release(lease, now: now), message: "lease: released by \(me) on \(host) at stop")
        confirmedExpiry = nil
        return true
    }

    func write(_ lease: DeliveryLease, message: String) async throws {
        try DurableWriter.write(lease.bytes, to: path, mode: .replace)
        try await sync.repository.commit([path], message: message, as: bot)
    }
}
