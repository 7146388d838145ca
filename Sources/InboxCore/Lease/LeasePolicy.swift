public import ChatModel

/// The delivery lease's rules (docs/format.md, "The delivery lease"), with no IO and no clock: who
/// may deliver, when a lease has lapsed, when to renew, and what a take writes.
///
/// The lease is a file in the repository, and `git push` is its compare-and-swap: a lease someone
/// wrote counts only once the remote accepted it, because a push that is not a fast-forward is
/// refused. So a holder delivers only until the expiry of the last lease it *pushed*
/// (`confirmedExpiry`), and another daemon takes a lease only after that expiry plus a grace for
/// clocks that disagree: two daemons never deliver at once while their clocks agree to within the
/// grace.
public struct LeasePolicy: Sendable, Hashable {
    /// How long a lease lasts from its last renewal.
    public var durationMilliseconds: Int64
    /// How long after a lease's expiry others wait before taking it (clock skew between machines).
    public var graceMilliseconds: Int64

    public init(leaseSeconds: Int) {
        durationMilliseconds = Int64(leaseSeconds) * 1000
        graceMilliseconds = min(10_000, durationMilliseconds / 4)
    }

    /// Where a daemon stands, given the lease it last read (nil: there is none).
    public enum Standing: Hashable, Sendable {
        /// It is this daemon's and has not lapsed; `renewDue` once half of it has run out.
        case mine(renewDue: Bool)
        /// Nobody holds it (no file, or lapsed past the grace): this daemon may take it.
        case free
        /// Another daemon holds it: this one does not deliver.
        case theirs(DeliveryLease)
    }

    /// Where daemon `me` stands at `now` with `lease` (as last read from the repository).
    public func standing(_ lease: DeliveryLease?, me: String, now: Timestamp) -> Standing {
        guard let lease else { return .free }
        if lease.holder == me {
            guard now < lease.expires else { return .free }
            return .mine(renewDue: now.milliseconds >= lease.expires.milliseconds - durationMilliseconds / 2)
        }
        return isLapsed(lease, now: now) ? .free : .theirs(lease)
    }

    /// Whether others may take `lease` at `now`: its expiry and the grace have passed.
    public func isLapsed(_ lease: DeliveryLease, now: Timestamp) -> Bool {
        now.milliseconds >= lease.expires.milliseconds + graceMilliseconds
    }

    /// Whether the holder may deliver at `now`, given the expiry of the last lease the remote accepted
    /// from it (nil: none yet). It stops at that expiry, which is before anyone else may take over.
    public func mayDeliver(confirmedExpiry: Timestamp?, now: Timestamp) -> Bool {
        confirmedExpiry.map { now < $0 } ?? false
    }

    /// What a take writes: a lease for `me` from `now`. Nil when `current` is another's live lease
    /// and the take is not forced (`letterbox lease take --force` takes a live lease).
    public func take(_ current: DeliveryLease?, me: String, host: String, now: Timestamp, force: Bool = false)
        -> DeliveryLease?
    {
        if case .theirs = standing(current, me: me, now: now), !force { return nil }
        let since = current.flatMap { $0.holder == me && now < $0.expires ? $0.since : nil } ?? now
        return DeliveryLease(
            holder: me, host: host, since: since, renewed: now, expires: now.adding(milliseconds: durationMilliseconds))
    }

    /// What a daemon that stops gracefully writes: its lease, ended at `now` and set back by the grace,
    /// so another daemon may take it at once (the holder stopped delivering before writing it). A
    /// released lease is one whose `expires` comes before its `renewed`.
    public func release(_ lease: DeliveryLease, now: Timestamp) -> DeliveryLease {
        var released = lease
        released.renewed = now
        released.expires = now.adding(milliseconds: -max(graceMilliseconds, 1))
        return released
    }

    /// Whether `lease` was given up by its holder at a graceful stop (see `release`).
    public static func isReleased(_ lease: DeliveryLease) -> Bool { lease.expires < lease.renewed }

    /// `lease` renewed at `now` (the holder, host and start kept).
    public func renew(_ lease: DeliveryLease, now: Timestamp) -> DeliveryLease {
        var renewed = lease
        renewed.renewed = now
        renewed.expires = now.adding(milliseconds: durationMilliseconds)
        return renewed
    }
}
