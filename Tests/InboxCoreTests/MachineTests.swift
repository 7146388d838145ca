import ChatModel
import InboxCore
import Testing

/// The rules of docs/daemon.md, each driven through `InboxMachine` with a manual clock and no IO.
@Suite("The delivery machine: settle, deliver, retry, health, runs, approvals, controls, recovery")
struct MachineTests {
    static let transient = RuntimeError(.transient(retryAfter: nil), "HTTP 503: busy", status: 503)

    /// Drops a message and lets its window pass: it is accepted and attempt 1 goes out.
    func deliver(_ sim: Simulation, _ name: String = "hello", _ text: String = "Hello") {
        sim.save("ops", "\(name).md", text)
        sim.advance(100)
    }

    // MARK: Settle

    @Test("A saved file is read only after its quiet window; another write restarts the window")
    func settle() throws {
        let sim = Simulation()
        sim.save("ops", "hello.md", "Hel")
        sim.advance(60)
        sim.save("ops", "hello.md", "Hello")
        sim.advance(60)
        #expect(sim.events().isEmpty)
        sim.advance(40)
        #expect(sim.events() == ["detected", "accepted", "attempt"])
        #expect(try sim.state().message("hello")?.sha256 == SHA256Hex.digest(Array("Hello".utf8)))
    }

    @Test("A file modified inside the window when it is read waits for another window")
    func modifiedInsideWindow() throws {
        let sim = Simulation()
        sim.save("ops", "hello.md", "Hello")
        sim.moment += 100
        sim.wall += 100
        sim.files["ops"]?["hello.md"]?.mtime = sim.wall - 30  // written again 30 ms ago, no event yet
        sim.feed(.tick)
        #expect(sim.events().isEmpty)
        sim.advance(70)
        #expect(sim.events() == ["detected", "accepted", "attempt"])
    }

    @Test("Drafts, editor artefacts and the journal are never read; a bad name is rejected once per content")
    func names() throws {
        let sim = Simulation()
        for name in ["a.draft.md", ".hello.md.swp", "4913", "notes~", "#auto#"] { sim.save("ops", name, "x") }
        sim.save("ops", "Bad Name!.md", "x")
        sim.advance(100)
        #expect(sim.events() == ["rejected"])
        sim.save("ops", "Bad Name!.md", "x")
        sim.advance(100)
        #expect(sim.events() == ["rejected"])
        sim.save("ops", "Bad Name!.md", "changed")
        sim.advance(100)
        #expect(sim.events() == ["rejected", "rejected"])
    }

    // MARK: Journal first

    @Test("Journal first by construction: lines, then files, then jobs, in every batch")
    func journalFirst() throws {
        let sim = Simulation()
        deliver(sim)
        #expect(
            sim.steps.map(\.description).suffix(4)
                == ["line ops detected", "line ops accepted", "line ops attempt", "job send ops/hello #1"])
        sim.accept("ops", "hello", attempt: 1)
        sim.update("ops", "hello.run-1", .text("Hi"))
        let start = try #require(sim.steps.firstIndex(of: .line("ops", "reply_started")))
        let created = try #require(sim.steps.firstIndex(of: .file("ops", "hello.reply.md", .create)))
        #expect(start < created)
        sim.update("ops", "hello.run-1", .finished(.complete(usage: nil)))
        // The final version is durable before the line that says the run ended.
        let final = try #require(sim.steps.firstIndex(of: .file("ops", "hello.reply.md", .replaceDurably)))
        let completed = try #require(sim.steps.firstIndex(of: .line("ops", "reply_completed")))
        #expect(final < completed)
        #expect(try sim.state().message("hello")?.delivery == .replied)
    }

    @Test("A run that ends in the input that starts it: the file is created in one batch, finalised in the next")
    func instantRun() throws {
        let sim = Simulation()
        deliver(sim)
        sim.accept("ops", "hello", attempt: 1)
        let effects = sim.feed(
            .outcome(.runUpdate(thread: "ops", run: "hello.run-1", update: .finished(.complete(usage: nil)))))
        #expect(effects.batches.count == 2)
        #expect(effects.batches[0].writes.map(\.mode) == [.create])
        #expect(effects.batches[1].preWrites.map(\.mode) == [.replaceDurably])
        #expect(effects.batches[1].journal["ops"]?.map(\.event.name) == ["reply_completed"])
    }

    @Test("Coalesced effects: a file created and finalised in inputs handled together is written once, final")
    func coalescedFinalWrite() throws {
        let sim = Simulation()
        deliver(sim)
        sim.accept("ops", "hello", attempt: 1)
        // The shell handles both inputs before committing (group commit): their effects are appended.
        var effects = sim.machine.handle(
            .outcome(.runUpdate(thread: "ops", run: "hello.run-1", update: .text("Hi"))), now: sim.now)
        effects.append(
            sim.machine.handle(
                .outcome(.runUpdate(thread: "ops", run: "hello.run-1", update: .finished(.complete(usage: nil)))),
                now: sim.now))
        let writes = effects.batches.flatMap { $0.preWrites + $0.writes }.filter { $0.file == "hello.reply.md" }
        #expect(writes.map(\.mode) == [.createDurably])
        let text = String(decoding: writes.first?.bytes ?? [], as: UTF8.self)
        #expect(text.contains("status: complete"))
        // Still in order: the file after reply_started, before reply_completed.
        let started = try #require(
            effects.batches.firstIndex { $0.journal["ops"]?.contains { $0.event.name == "reply_started" } == true })
        let completed = try #require(
            effects.batches.firstIndex { $0.journal["ops"]?.contains { $0.event.name == "reply_completed" } == true })
        let written = try #require(effects.batches.firstIndex { $0.writes.contains { $0.file == "hello.reply.md" } })
        #expect(started <= written && written < completed)
    }

    // MARK: Retries

    @Test("A transient failure is retried with the same key after a jittered delay, then delivered")
    func retry() throws {
        let sim = Simulation()
        sim.random = 0.5
        deliver(sim)
        let key = try #require(try sim.state().message("hello")?.requestID)
        sim.fail("ops", "hello", attempt: 1, Self.transient)
        guard case let .retrying(1, notBefore, reason)? = try sim.state().message("hello")?.delivery else {
            Issue.record("not retrying")
            return
        }
        #expect(notBefore.milliseconds == sim.wall + 50)  // 0.5 × 100 ms
        #expect(reason.contains("503"))
        _ = sim.takeJobs()
        sim.advance(49)
        #expect(sim.takeJobs().isEmpty)
        sim.advance(1)
        let send = try #require(sim.lastSend())
        #expect(send.attempt == 2 && send.outgoing.requestID == key)
    }

    @Test("Retry-After is honoured in seconds")
    func retryAfterHonoured() throws {
        let sim = Simulation()
        deliver(sim)
        sim.fail(
            "ops", "hello", attempt: 1, RuntimeError(.transient(retryAfter: 2), "HTTP 429: slow down", status: 429))
        guard case let .retrying(_, notBefore, reason)? = try sim.state().message("hello")?.delivery else {
            Issue.record("not retrying")
            return
        }
        #expect(notBefore.milliseconds == sim.wall + 2000)
        #expect(reason.contains("Retry-After: 2 s"))
    }

    @Test("An outage never fails a message before its maximum age; then it fails saying why")
    func maxAge() throws {
        let sim = Simulation()
        deliver(sim)
        var attempt = 0
        for _ in 0..<200 {
            if let send = sim.lastSend() {
                sim.jobs = []
                attempt = send.attempt
                sim.fail("ops", "hello", attempt: send.attempt, Self.transient)
            }
            if case .failed = try sim.state().message("hello")?.delivery { break }
            sim.advance(1000)
        }
        guard case let .failed(reason)? = try sim.state().message("hello")?.delivery else {
            Issue.record("did not fail after the maximum age")
            return
        }
        #expect(attempt > 8, "more attempts than the old fixed limit")
        #expect(reason.contains("max_age_seconds") && reason.contains("503"))
    }

    @Test("A rejection (4xx) fails the message at once with the runtime's reason; retry queues it again")
    func rejectedThenRetried() throws {
        let sim = Simulation()
        deliver(sim)
        sim.fail("ops", "hello", attempt: 1, RuntimeError(.rejected, "HTTP 422: policy", status: 422))
        #expect(try sim.state().message("hello")?.delivery == .failed(reason: "HTTP 422: policy"))
        sim.save("ops", "controls/retry.md", "")
        sim.advance(100)
        #expect(sim.events().suffix(3) == ["retry_requested", "control", "attempt"])
    }

    // MARK: Health

    @Test("Failures in a row open the breaker: one degraded event, no requests until the cooldown, one probe, recovery")
    func breaker() throws {
        let sim = Simulation()
        deliver(sim)
        for attempt in 1...3 {
            sim.fail("ops", "hello", attempt: attempt, Self.transient)
            if attempt < 3 { sim.advance(1000) }
        }
        #expect((try sim.inbox()).incidents.map(\.kind) == ["degraded"])
        _ = sim.takeJobs()
        sim.advance(200)
        #expect(sim.takeJobs().isEmpty, "no request while the breaker is open")
        sim.advance(300)
        let probe = try #require(sim.lastSend())
        #expect(probe.attempt == 4)
        sim.accept("ops", "hello", attempt: 4)
        #expect(try sim.inbox().runtime == .reachable)
        #expect(try sim.inbox().incidents.first?.end != nil)
    }

    @Test("401 pauses delivery (the message waits, it does not fail); a working request ends the pause")
    func authentication() throws {
        let sim = Simulation()
        deliver(sim)
        sim.fail(
            "ops", "hello", attempt: 1,
            RuntimeError(.authentication, "the runtime refused the token (HTTP 401)", status: 401))
        guard case let .retrying(_, _, reason)? = try sim.state().message("hello")?.delivery else {
            Issue.record("not waiting")
            return
        }
        #expect(reason.hasPrefix("waiting:"))
        if case .authFailing = try sim.inbox().runtime {} else { Issue.record("not auth failing") }
        _ = sim.takeJobs()
        sim.advance(1999)
        #expect(sim.takeJobs().isEmpty)
        sim.advance(1)
        #expect(sim.lastSend()?.attempt == 2)
        sim.accept("ops", "hello", attempt: 2)
        #expect(try sim.inbox().runtime == .reachable)
    }

    @Test("An agent list asked for before a 401 does not end the pause when it arrives after it")
    func staleSuccessAfterAuthPause() throws {
        let sim = Simulation(listAgents: false)
        deliver(sim)
        sim.fail(
            "ops", "hello", attempt: 1,
            RuntimeError(.authentication, "the runtime refused the token (HTTP 401)", status: 401))
        sim.feed(.outcome(.agentsListed(runtime: "rt", result: .success([Simulation.assistant]))))
        if case .authFailing = try sim.inbox().runtime {} else { Issue.record("the pause ended") }
        #expect(!sim.events("").contains("auth_recovered"))
        _ = sim.takeJobs()
        sim.advance(2000)
        #expect(sim.lastSend()?.attempt == 2)
        sim.accept("ops", "hello", attempt: 2)
        #expect(try sim.inbox().runtime == .reachable)
        #expect(try sim.inbox().incidents.map(\.kind) == ["auth_failed"])
    }

    @Test("A delivery sent before a 401 elsewhere does not end the pause when it is accepted after it")
    func staleDeliveryAfterAuthPause() throws {
        let sim = Simulation(threads: ["ops", "billing"])
        sim.save("ops", "hello.md", "Hello")
        sim.save("billing", "invoice.md", "Invoice?")
        sim.advance(100)
        #expect(sim.events("ops").last == "attempt" && sim.events("billing").last == "attempt")
        sim.advance(10)
        sim.fail(
            "billing", "invoice", attempt: 1,
            RuntimeError(.authentication, "the runtime refused the token (HTTP 401)", status: 401))
        sim.accept("ops", "hello", attempt: 1)
        #expect(try sim.state("ops").message("hello")?.delivery == .sent)
        if case .authFailing = try sim.inbox().runtime {} else { Issue.record("the pause ended") }
        // The probe, sent after the pause began, is what ends it.
        _ = sim.takeJobs()
        sim.advance(2000)
        #expect(sim.lastSend()?.message == "invoice")
        sim.accept("billing", "invoice", attempt: 2, runtimeID: "msg_2")
        #expect(try sim.inbox().runtime == .reachable)
        #expect(try sim.inbox().incidents.map(\.kind) == ["auth_failed"])
    }

    @Test("A degraded state an earlier daemon journaled ends with the first request that works after a restart")
    func staleHealthAfterRestart() throws {
        let sim = Simulation()
        deliver(sim)
        for attempt in 1...3 {
            sim.fail("ops", "hello", attempt: attempt, Self.transient)
            sim.advance(1000)
        }
        if case .degraded = try sim.inbox().runtime {} else { Issue.record("not degraded") }
        sim.crash()  // the restart lists agents, which works
        #expect(try sim.inbox().runtime == .reachable)
    }

    @Test("While the runtime's agents are not known, a message goes out anyway; once known, an unknown agent fails")
    func agentsNotYetKnown() throws {
        let sim = Simulation()
        sim.machine = InboxMachine(configuration: sim.configuration)
        sim.journals = [:]
        sim.start()  // no agent list arrives
        sim.save("ops", "a.md", "---\nagent: nobody\n---\nHi")
        sim.advance(100)
        #expect(sim.lastSend()?.message == "a")
        sim.fail("ops", "a", attempt: 1, RuntimeError(.rejected, "HTTP 422: unknown agent", status: 422))
        sim.feed(
            .outcome(
                .agentsListed(
                    runtime: "rt",
                    result: .success([RuntimeAgent(id: "assistant", name: nil, scopes: ["chat"], runtime: "rt")]))))
        sim.save("ops", "b.md", "---\nagent: nobody\n---\nHi")
        sim.advance(100)
        guard case let .failed(reason)? = try sim.state().message("b")?.delivery else {
            Issue.record("not failed")
            return
        }
        #expect(reason.contains("unknown agent 'nobody'") && reason.contains("assistant"))
    }

    @Test("An agent list that fails is asked for again with backoff")
    func agentListRetried() throws {
        let sim = Simulation()
        _ = sim.takeJobs()
        sim.feed(
            .outcome(
                .agentsListed(
                    runtime: "rt", result: .failure(RuntimeError(.transient(retryAfter: nil), "connection refused")))))
        // Backoff from 2 s, never above delivery.retry.max_ms (1 s here).
        sim.advance(999)
        #expect(!sim.takeJobs().contains { if case .listAgents = $0 { true } else { false } })
        sim.advance(1)
        #expect(sim.takeJobs().contains { if case .listAgents = $0 { true } else { false } })
    }

    // MARK: Runs

    @Test("A streaming reply is rewritten at most every 250 ms; the final version is durable")
    func snapshots() throws {
        let sim = Simulation()
        deliver(sim)
        sim.accept("ops", "hello", attempt: 1)
        sim.update("ops", "hello.run-1", .text("a"))
        sim.update("ops", "hello.run-1", .text("ab"))
        sim.update("ops", "hello.run-1", .text("abc"))
        #expect(sim.steps.filter { if case .file(_, "hello.reply.md", _) = $0 { true } else { false } }.count == 1)
        sim.advance(250)
        #expect(sim.steps.last == .file("ops", "hello.reply.md", .replace))
        let text = sim.text("ops", "hello.reply.md")
        #expect(text.contains("abc") && text.contains("status: streaming"))
    }

    @Test("Pipelining: a message saved while a reply streams is delivered at once and its run followed after")
    func pipelining() throws {
        let sim = Simulation()
        deliver(sim, "first")
        sim.accept("ops", "first", attempt: 1)
        sim.update("ops", "first.run-1", .text("working"))
        _ = sim.takeJobs()
        deliver(sim, "second", "Next")
        #expect(sim.takeJobs().map(Simulation.describe) == ["send ops/second #1 queued"])
        sim.accept("ops", "second", attempt: 1, runtimeID: "msg_2")
        sim.update("ops", "first.run-1", .finished(.complete(usage: nil)))
        #expect(sim.takeJobs().map(Simulation.describe).contains("follow ops second.run-1"))
    }

    @Test("AG-UI runtimes get the history, so the next message waits for the answer before it")
    func historyWaits() throws {
        let sim = Simulation(capabilities: Simulation.agUI)
        deliver(sim, "first", "One")
        sim.accept("ops", "first", attempt: 1)
        sim.update("ops", "first.run-1", .text("Answer one"))
        _ = sim.takeJobs()
        deliver(sim, "second", "Two")
        #expect(sim.takeJobs().isEmpty)
        sim.update("ops", "first.run-1", .finished(.complete(usage: nil)))
        let send = try #require(sim.lastSend())
        #expect(send.message == "second")
        #expect(send.outgoing.history.map(\.content) == ["One", "Answer one"])
    }

    @Test("Abort: journaled, the run's listener cancelled, the runtime asked; the reply ends aborted with its text")
    func abort() throws {
        let sim = Simulation()
        deliver(sim)
        sim.accept("ops", "hello", attempt: 1)
        sim.update("ops", "hello.run-1", .text("partial"))
        _ = sim.takeJobs()
        sim.save("ops", "controls/abort.md", "")
        sim.advance(100)
        #expect(sim.events().suffix(2) == ["abort_requested", "control"])
        #expect(sim.cancels.contains(RunKey(thread: "ops", run: "hello.run-1")))
        #expect(sim.takeJobs().map(Simulation.describe) == ["abort ops hello.run-1"])
        sim.feed(.outcome(.abortDelivered(thread: "ops", run: "hello.run-1", error: nil)))
        #expect(try sim.state().runs["hello.run-1"]?.status == .aborted)
        #expect(sim.text("ops", "hello.reply.md").contains("partial"))
    }

    @Test("Regenerate: a new run beside the old one; a refusal is journaled and the old answer kept")
    func regenerate() throws {
        let sim = Simulation()
        deliver(sim)
        sim.accept("ops", "hello", attempt: 1)
        sim.update("ops", "hello.run-1", .text("one"))
        sim.update("ops", "hello.run-1", .finished(.complete(usage: nil)))
        _ = sim.takeJobs()
        sim.save("ops", "controls/regenerate.md", "")
        sim.advance(100)
        #expect(sim.takeJobs().map(Simulation.describe) == ["regenerate ops hello.run-2"])
        sim.feed(.outcome(.regenerateFailed(thread: "ops", run: "hello.run-2", error: RuntimeError(.rejected, "no"))))
        #expect(sim.events().last == "regenerate_failed")
        #expect(try sim.state().message("hello")?.delivery == .replied)
    }

    // MARK: Approvals and edits

    @Test("An approval request: its line, then its file; one tick answers it and the answer goes out")
    func approval() throws {
        let sim = Simulation()
        deliver(sim)
        sim.accept("ops", "hello", attempt: 1)
        sim.update(
            "ops", "hello.run-1",
            .approval(
                ApprovalRequest(
                    runtimeID: "ap_1", prompt: "Restart db-1?", toolCallID: nil, tool: "restart", arguments: "{}")))
        let line = try #require(sim.steps.firstIndex(of: .line("ops", "approval_requested")))
        let file = try #require(sim.steps.firstIndex(of: .file("ops", "hello.reply.approval-1.md", .createDurably)))
        #expect(line < file)
        let text = sim.text("ops", "hello.reply.approval-1.md")
        _ = sim.takeJobs()
        sim.save("ops", "hello.reply.approval-1.md", text.replacing("- [ ] Approve", with: "- [x] Approve"))
        sim.advance(100)
        #expect(sim.events().last == "approval_answered")
        #expect(sim.takeJobs().map(Simulation.describe) == ["answer ops hello.run-1 1"])
    }

    @Test("An edit of a sent message is recorded, never sent")
    func editAfterSend() throws {
        let sim = Simulation()
        deliver(sim)
        sim.accept("ops", "hello", attempt: 1)
        _ = sim.takeJobs()
        sim.save("ops", "hello.md", "Hello, edited")
        sim.advance(100)
        #expect(sim.events().last == "edited_after_send")
        #expect(sim.takeJobs().isEmpty)
    }

    @Test("A file with a reserved name that no line names is the operator's: rejected, never taken for the daemon's")
    func reservedName() throws {
        let sim = Simulation()
        sim.save("ops", "x.reply.md", "mine")
        sim.advance(100)
        #expect(try sim.state().rejected["x.reply.md"]?.reason.contains("reserved") == true)
    }

    @Test("A rescan passes over a thread let go of while its listing stamp is the same, and reads it when not")
    func rescanIdleThread() throws {
        let sim = Simulation()
        sim.save("ops", "notes.draft.md", "A draft")
        sim.crash()  // the catch-up reads ops and lets it go: nothing is pending
        #expect(sim.machine.isIdle("ops"))
        let root = [RootItem(name: "ops", type: .directory)]
        let stamp = InboxMachine.listingStamp(sim.load("ops").files)
        let same = sim.machine.handle(.rescanned(root: root, listings: [:], idle: ["ops": stamp]), now: sim.now)
        #expect(same.loads.isEmpty && sim.machine.isIdle("ops"))
        let changed = sim.machine.handle(
            .rescanned(root: root, listings: [:], idle: ["ops": "another stamp"]), now: sim.now)
        #expect(changed.loads.map(\.thread) == ["ops"])
    }

    // MARK: Recovery

    @Test("A request the machine stopped waiting for (its thread was read again) writes no reply; its retry does")
    func staleRunUpdates() throws {
        let sim = Simulation()
        deliver(sim)
        // The journal is replaced under the daemon: the thread is read again and attempt 1 is closed, to be
        // retried with the same key.
        sim.feed(.journalReplaced(thread: "ops", load: sim.load("ops"), reason: "replaced by a git pull"))
        sim.advance(1)
        #expect(sim.lastSend()?.attempt == 2)
        // Attempt 1's worker was past the POST: its acknowledgement and the run's updates still arrive.
        sim.accept("ops", "hello", attempt: 1)
        sim.update("ops", "hello.run-1", .text("Hi"))
        sim.update("ops", "hello.run-1", .finished(.complete(usage: nil)))
        #expect(sim.files["ops"]?["hello.reply.md"] == nil, "no reply file without its reply_started line")
        #expect(!sim.events().contains("reply_started"))
        // The retry's acknowledgement and updates record the run, in the first reply file.
        sim.accept("ops", "hello", attempt: 2)
        sim.update("ops", "hello.run-1", .text("Hi"))
        sim.update("ops", "hello.run-1", .finished(.complete(usage: nil)))
        #expect(try sim.state().message("hello")?.delivery == .replied)
        #expect(try sim.state().runs["hello.run-1"]?.file == "hello.reply.md")
        #expect(sim.text("ops", "hello.reply.md").contains("Hi"))
    }

    @Test("Crash during an attempt: a rebuilt machine closes it and retries with the same key")
    func crashMidAttempt() throws {
        let sim = Simulation()
        deliver(sim)
        let key = try #require(try sim.state().message("hello")?.requestID)
        sim.crash()
        // Closed as a retry with the same key, due at once: attempt 2 goes out with the restart.
        #expect(sim.events().suffix(3) == ["attempt", "retry_scheduled", "attempt"])
        let send = try #require(sim.lastSend())
        #expect(send.attempt == 2 && send.outgoing.requestID == key)
    }

    @Test("Crash mid-reply (control plane): the rebuilt machine follows the run again and finishes it once")
    func crashMidReply() throws {
        let sim = Simulation()
        deliver(sim)
        sim.accept("ops", "hello", attempt: 1)
        sim.update("ops", "hello.run-1", .text("half"))
        sim.crash()
        #expect(sim.takeJobs().map(Simulation.describe).contains("follow ops hello.run-1"))
        sim.update("ops", "hello.run-1", .text("half and the rest"))
        sim.update("ops", "hello.run-1", .finished(.complete(usage: nil)))
        #expect(try sim.state().runs.values.filter { $0.status == .complete }.count == 1)
        #expect(sim.events().filter { $0 == "reply_started" }.count == 1)
    }

    @Test("Crash mid-reply on AG-UI (cannot be followed): closed as errored, the text kept")
    func crashMidReplyAGUI() throws {
        let sim = Simulation(capabilities: Simulation.agUI)
        deliver(sim)
        sim.accept("ops", "hello", attempt: 1)
        sim.update("ops", "hello.run-1", .text("half"))
        sim.advance(250)
        sim.crash()
        #expect(try sim.state().runs["hello.run-1"]?.status == .errored)
        #expect(sim.text("ops", "hello.reply.md").contains("half"))
    }

    @Test("Every crash point: a machine rebuilt from what was durable decides the same and sends nothing twice")
    func crashAtEveryBoundary() throws {
        // Run the whole exchange once, recording the journal length after every input; then, for each
        // prefix, rebuild a machine from it and finish the exchange: one send per key, one reply.
        let reference = Simulation()
        deliver(reference)
        reference.accept("ops", "hello", attempt: 1)
        reference.update("ops", "hello.run-1", .text("Hi"))
        reference.update("ops", "hello.run-1", .finished(.complete(usage: nil)))
        let full = reference.journals["ops"] ?? []
        for cut in 0...full.count {
            let sim = Simulation()
            sim.journals["ops"] = Array(full.prefix(cut))
            sim.files["ops"] = ["hello.md": (Array("Hello".utf8), sim.wall - 1000)]
            if cut >= 8 { sim.files["ops"]?["hello.reply.md"] = reference.files["ops"]?["hello.reply.md"] }
            sim.crash()
            sim.advance(100)
            var sends = 0
            for _ in 0..<4 {
                if let send = sim.lastSend() {
                    sends += 1
                    sim.jobs = sim.jobs.filter { if case .send = $0 { false } else { true } }
                    sim.accept("ops", send.message, attempt: send.attempt)
                    sim.update("ops", send.outgoing.run, .text("Hi"))
                    sim.update("ops", send.outgoing.run, .finished(.complete(usage: nil)))
                }
                for job in sim.takeJobs() {
                    if case let .follow(_, thread, run, _) = job {
                        sim.update(thread, run, .text("Hi"))
                        sim.update(thread, run, .finished(.complete(usage: nil)))
                    }
                }
                sim.advance(100)
            }
            let state = try sim.state()
            #expect(state.message("hello")?.delivery == .replied, "cut at \(cut)")
            #expect(
                Set(state.message("hello")?.attempts.compactMap { _ in state.message("hello")?.requestID } ?? []).count
                    <= 1)
            #expect(state.runs.count == 1, "cut at \(cut): \(state.runs.keys.sorted())")
            #expect(sends <= 1, "cut at \(cut): sent \(sends) times")
        }
    }
}
