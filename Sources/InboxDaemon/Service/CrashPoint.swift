import InboxCore

#if canImport(Glibc)
    import Glibc
#endif

/// A deliberate crash at one step of a commit, so tests can prove what survives a SIGKILL exactly
/// there (`LETTERBOX_CRASH_AT=STEP:EVENT`, read once at start).
///
/// `STEP` is where in `InboxCoordinator.commit()` the process kills itself: `journal` (lines staged,
/// nothing written), `files` (lines durable, files not created), `jobs` (files created, jobs not
/// started). `EVENT` is a journal event name that must be among the batch's lines (`reply_started`),
/// so the crash lands on the batch that matters. Nothing sets this outside tests.
struct CrashPoint: Sendable, Hashable {
    enum Step: String, Sendable, CaseIterable {
        case journal, files, jobs
    }

    var step: Step
    var event: String

    /// The crash point named in `LETTERBOX_CRASH_AT`, if any.
    static func from(environment: [String: String]) -> CrashPoint? {
        guard let value = environment["LETTERBOX_CRASH_AT"] else { return nil }
        let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let step = Step(rawValue: parts[0]), !parts[1].isEmpty else { return nil }
        return CrashPoint(step: step, event: parts[1])
    }

    /// Kills the process (SIGKILL: no cleanup runs) when this is the step and the batch has the event.
    func reached(_ step: Step, batch: Set<String>) {
        guard step == self.step, batch.contains(event) else { return }
        kill(getpid(), SIGKILL)
    }
}
