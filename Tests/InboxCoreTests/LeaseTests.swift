import ChatModel
import InboxCore
import Testing

/// The delivery lease's decisions, on a manual clock (timestamps the test picks), with no IO.
@Suite("Delivery lease: who delivers, expiry, renewal, takeover (pure, manual clock)")
struct LeaseTests {
    static let policy = LeasePolicy(leaseSeconds: 120)
    static let start = Timestamp(milliseconds: 1_795_000_000_000)

    static func at(_ seconds: Int64) -> Timestamp { start.adding(milliseconds: seconds * 1000) }

    @Test("No lease: anyone may take it; the take lasts the configured time")
    func free() throws {
        #expect(Self.policy.standing(nil, me: "a", now: Self.start) == .free)
        let lease = try #require(Self.policy.take(nil, me: "a", host: "ops-1", now: Self.start))
        #expect(lease.holder == "a" && lease.host == "ops-1")
        #expect(lease.since == Self.start && lease.renewed == Self.start && lease.expires == Self.at(120))
    }

    @Test("The holder renews once half the lease has run out, and delivers only until the expiry it pushed")
    func renewal() throws {
        let lease = try #require(Self.policy.take(nil, me: "a", host: "h", now: Self.start))
        #expect(Self.policy.standing(lease, me: "a", now: Self.at(59)) == .mine(renewDue: false))
        #expect(Self.policy.standing(lease, me: "a", now: Self.at(60)) == .mine(renewDue: true))
        let renewed = Self.policy.renew(lease, now: Self.at(70))
        #expect(renewed.since == Self.start && renewed.renewed == Self.at(70) && renewed.expires == Self.at(190))
        #expect(Self.policy.mayDeliver(confirmedExpiry: lease.expires, now: Self.at(119)))
        #expect(!Self.policy.mayDeliver(confirmedExpiry: lease.expires, now: Self.at(120)))
        #expect(!Self.policy.mayDeliver(confirmedExpiry: nil, now: Self.start))
        // The holder's own lapsed lease is free to take again (the push decides if someone was first).
        #expect(Self.policy.standing(lease, me: "a", now: Self.at(120)) == .free)
        let again = try #require(Self.policy.take(lease, me: "a", host: "h", now: Self.at(121)))
        #expect(again.since == Self.at(121))
    }

    @Test("Another's live lease is theirs until its expiry plus the grace; only --force takes it earlier")
    func others() throws {
        let lease = try #require(Self.policy.take(nil, me: "a", host: "h", now: Self.start))
        #expect(Self.policy.graceMilliseconds == 10_000)
        #expect(Self.policy.standing(lease, me: "b", now: Self.at(129)) == .theirs(lease))
        #expect(Self.policy.take(lease, me: "b", host: "h2", now: Self.at(129)) == nil)
        #expect(Self.policy.standing(lease, me: "b", now: Self.at(130)) == .free)
        let taken = try #require(Self.policy.take(lease, me: "b", host: "h2", now: Self.at(130)))
        #expect(taken.holder == "b" && taken.since == Self.at(130))
        let forced = try #require(Self.policy.take(lease, me: "b", host: "h2", now: Self.at(5), force: true))
        #expect(forced.holder == "b" && forced.expires == Self.at(125))
        // The former holder, on reading the forced lease, stands aside at once.
        #expect(Self.policy.standing(forced, me: "a", now: Self.at(6)) == .theirs(forced))
    }

    @Test("A released lease is free for anyone at once, the former holder included, and reads as released")
    func released() throws {
        let lease = try #require(Self.policy.take(nil, me: "a", host: "h", now: Self.start))
        let released = Self.policy.release(lease, now: Self.at(30))
        #expect(LeasePolicy.isReleased(released) && !LeasePolicy.isReleased(lease))
        #expect(released.holder == "a" && released.since == Self.start && released.renewed == Self.at(30))
        #expect(Self.policy.standing(released, me: "b", now: Self.at(30)) == .free)
        #expect(Self.policy.standing(released, me: "a", now: Self.at(30)) == .free)
        #expect(!Self.policy.mayDeliver(confirmedExpiry: released.expires, now: Self.at(30)))
        let taken = try #require(Self.policy.take(released, me: "b", host: "h2", now: Self.at(31)))
        #expect(taken.holder == "b" && taken.since == Self.at(31) && !LeasePolicy.isReleased(taken))
        // It reads back the same: the file keeps it released.
        #expect(try DeliveryLease.parse(released.bytes) == released)
    }

    @Test("§10.2: between holders there is no instant where both may deliver")
    func noOverlap() throws {
        // a's last pushed lease expires at 120 s; b may take only from 130 s; a stopped at 120 s.
        let lease = try #require(Self.policy.take(nil, me: "a", host: "h", now: Self.start))
        for second in stride(from: Int64(0), through: 200, by: 1) {
            let aDelivers = Self.policy.mayDeliver(confirmedExpiry: lease.expires, now: Self.at(second))
            let bMayTake = Self.policy.standing(lease, me: "b", now: Self.at(second)) == .free
            #expect(!(aDelivers && bMayTake), "both at \(second) s")
        }
        #expect(LeasePolicy(leaseSeconds: 4).graceMilliseconds == 1000)
    }

    @Test("§10.2: lease.json is one canonical line; it reads back; damage is named with what to do")
    func file() throws {
        let lease = DeliveryLease(
            holder: "d-1", host: "ops \"one\"", since: Self.start, renewed: Self.at(1), expires: Self.at(121))
        let text = String(decoding: lease.bytes, as: UTF8.self)
        #expect(
            text
                == "{\"expires\":\"2026-11-18T11:08:41.000Z\",\"holder\":\"d-1\",\"host\":\"ops \\\"one\\\"\",\"renewed\":\"2026-11-18T11:06:41.000Z\",\"since\":\"2026-11-18T11:06:40.000Z\",\"version\":1}\n"
        )
        #expect(try DeliveryLease.parse(lease.bytes) == lease)
        for bad in ["", "{", "{\"version\":1}", "{\"version\":2,\"holder\":\"x\"}", "[1]"] {
            #expect(throws: FormatError.self) { try DeliveryLease.parse(Array(bad.utf8)) }
        }
        do {
            _ = try DeliveryLease.parse(Array("{\"version\":1,\"holder\":\"x\"}".utf8))
        } catch {
            #expect(error.code == .lease && error.message.contains("lease take --force"))
        }
    }
}
