import Testing

@testable import SiteBuilder

@Suite("The progress line of a build on a terminal")
struct ProgressMeterTests {
    @Test("Nothing for a build that ends within the delay; then at most one line per interval, and the last")
    func throttled() {
        var quick = ProgressMeter()
        #expect(quick.update(done: 5, total: 5, elapsed: .milliseconds(120)) == nil)
        #expect(!quick.shown)

        var meter = ProgressMeter()
        #expect(meter.update(done: 10, total: 1000, elapsed: .milliseconds(100)) == nil)
        #expect(
            meter.update(done: 400, total: 1000, elapsed: .milliseconds(400))
                == "rendering threads: 400/1000 (40%), 1000 threads/s, 0.4 s")
        #expect(meter.update(done: 420, total: 1000, elapsed: .milliseconds(450)) == nil)
        #expect(meter.update(done: 600, total: 1000, elapsed: .milliseconds(520)) != nil)
        #expect(
            meter.update(done: 1000, total: 1000, elapsed: .milliseconds(530))
                == "rendering threads: 1000/1000 (100%), 1887 threads/s, 0.5 s")
        #expect(meter.shown)
    }
}
