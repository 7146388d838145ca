import Hummingbird

/// The test-control API under `/_reference/`: faults, effects, request counts. Reference runtime only.
struct TestControlRoutes: Sendable {
    static let prefix = "/_reference/"

    let control: ReferenceRuntimeControl

    private struct FaultList: Codable {
        var faults: [ReferenceFault]
    }

    private struct EffectList: Encodable {
        var effects: [ReferenceEffect]
    }

    private struct RequestList: Encodable {
        var requests: [ReferenceRequestCount]
    }

    func register(on router: Router<RuntimeRequestContext>) {
        router.get("/_reference/faults") { _, _ in
            try JSONCoding.response(FaultList(faults: await control.pendingFaults()))
        }
        router.post("/_reference/faults") { request, _ in
            let list = try await JSONCoding.decode(FaultList.self, from: request, limit: 1024 * 1024)
            do {
                try await control.addFaults(list.faults)
            } catch let error as ReferenceRuntimeError {
                throw APIError(.unprocessableContent, "invalid_fault", error.message)
            }
            return try JSONCoding.response(FaultList(faults: await control.pendingFaults()))
        }
        router.delete("/_reference/faults") { _, _ in
            await control.clearFaults()
            return try JSONCoding.response(FaultList(faults: []))
        }
        router.get("/_reference/chaos") { _, _ in
            try JSONCoding.response(await control.chaosReport())
        }
        router.post("/_reference/chaos") { request, _ in
            let chaos = try await JSONCoding.decode(ReferenceChaos.self, from: request, limit: 1024 * 1024)
            do {
                try await control.setChaos(chaos)
            } catch let error as ReferenceRuntimeError {
                throw APIError(.unprocessableContent, "invalid_fault", error.message)
            }
            return try JSONCoding.response(await control.chaosReport())
        }
        router.delete("/_reference/chaos") { _, _ in
            try await control.setChaos(nil)
            return try JSONCoding.response(await control.chaosReport())
        }
        router.get("/_reference/effects") { _, _ in
            try JSONCoding.response(EffectList(effects: await control.effects()))
        }
        router.get("/_reference/requests") { _, _ in
            try JSONCoding.response(RequestList(requests: await control.requestCounts()))
        }
        router.delete("/_reference/requests") { _, _ in
            await control.resetRequestCounts()
            return try JSONCoding.response(RequestList(requests: []))
        }
    }
}
