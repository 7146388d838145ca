/// A value the site builder's thread cache saves between processes (docs/site.md, "The thread
/// cache"), in `ByteWriter`'s encoding: its stored properties in declaration order.
///
/// `storedProperties` counts them; a test compares it with `Mirror`, so that a property added to a
/// type and not to its encoding fails a test instead of being lost on the way through the cache.
public protocol BinaryCodable {
    static var storedProperties: Int { get }
    func encode(to w: inout ByteWriter)
    init(from r: inout ByteReader) throws(ByteReader.Malformed)
}

extension ByteWriter {
    public mutating func value(_ value: some BinaryCodable) { value.encode(to: &self) }

    public mutating func timestamp(_ value: Timestamp) { int64(value.milliseconds) }

    public mutating func optionalString(_ value: String?) { optional(value) { $0.string($1) } }

    public mutating func optionalTimestamp(_ value: Timestamp?) { optional(value) { $0.timestamp($1) } }
}

extension ByteReader {
    public mutating func value<T: BinaryCodable>(_: T.Type = T.self) throws(Malformed) -> T { try T(from: &self) }

    public mutating func timestamp() throws(Malformed) -> Timestamp { Timestamp(milliseconds: try int64()) }

    public mutating func optionalString() throws(Malformed) -> String? {
        try optional { r throws(Malformed) in try r.string() }
    }

    public mutating func optionalTimestamp() throws(Malformed) -> Timestamp? {
        try optional { r throws(Malformed) in try r.timestamp() }
    }

    /// A value of a `RawRepresentable` string enum, refusing names it does not have.
    mutating func named<T: RawRepresentable<String>>(_: T.Type = T.self) throws(Malformed) -> T {
        guard let value = T(rawValue: try string()) else { throw Malformed() }
        return value
    }

    mutating func values<T: BinaryCodable>(_: T.Type = T.self) throws(Malformed) -> [T] {
        try array { r throws(Malformed) in try T(from: &r) }
    }
}

extension ThreadState: BinaryCodable {
    public static let storedProperties = 11

    public func encode(to w: inout ByteWriter) {
        w.string(id)
        w.optionalString(runtimeThreadID)
        w.array(messages) { $0.value($1) }
        w.array(runs.sorted { $0.key < $1.key }.map(\.value)) { $0.value($1) }
        w.array(rejected.sorted { $0.key < $1.key }.map(\.value)) { $0.value($1) }
        w.array(controls) { $0.value($1) }
        w.optionalTimestamp(lastActivity)
        w.int(lastSeq)
        w.string(lastHash)
        // `messageIndex` and `approvalRun` are indexes of `messages` and `runs`, rebuilt on reading.
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(id: try r.string())
        runtimeThreadID = try r.optionalString()
        messages = try r.values()
        for run in try r.values(RunState.self) { runs[run.id] = run }
        for file in try r.values(RejectedFile.self) { rejected[file.file] = file }
        controls = try r.values()
        lastActivity = try r.optionalTimestamp()
        lastSeq = try r.int()
        lastHash = try r.string()
        for (index, message) in messages.enumerated() { messageIndex[message.id] = index }
        for run in runs.values {
            for approval in run.approvals { approvalRun[approval.id] = run.id }
        }
        guard messageIndex.count == messages.count else { throw ByteReader.Malformed() }
    }
}

extension MessageState: BinaryCodable {
    public static let storedProperties = 17

    public func encode(to w: inout ByteWriter) {
        w.string(id)
        w.string(file)
        switch origin {
        case .operator: w.uint(0)
        case let .remote(runtimeID):
            w.uint(1)
            w.string(runtimeID)
        }
        w.string(sha256)
        w.optionalString(requestID)
        w.optionalString(agent)
        w.value(delivery)
        w.array(attempts) { $0.value($1) }
        w.optionalString(runtimeID)
        w.array(edits) { $0.value($1) }
        w.strings(runs)
        w.timestamp(detectedAt)
        w.optionalTimestamp(acceptedAt)
        w.bool(regeneratePending)
        w.optionalString(regenerateError)
        w.bool(notYetSeen)
        w.bool(fileMissing)
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        let id = try r.string()
        let file = try r.string()
        let origin: MessageOrigin
        switch try r.uint() {
        case 0: origin = .operator
        case 1: origin = .remote(runtimeID: try r.string())
        default: throw ByteReader.Malformed()
        }
        self.init(
            id: id, file: file, origin: origin, sha256: try r.string(), requestID: try r.optionalString(),
            agent: try r.optionalString(), delivery: try r.value(), attempts: try r.values(),
            runtimeID: try r.optionalString(), edits: try r.values(), runs: try r.strings(),
            detectedAt: try r.timestamp(), acceptedAt: try r.optionalTimestamp(), regeneratePending: try r.bool(),
            regenerateError: try r.optionalString(), notYetSeen: try r.bool(), fileMissing: try r.bool())
    }
}

extension DeliveryState: BinaryCodable {
    public static let storedProperties = 0

    public func encode(to w: inout ByteWriter) {
        switch self {
        case .queued: w.uint(0)
        case let .sending(attempt):
            w.uint(1)
            w.int(attempt)
        case let .retrying(attempt, notBefore, reason):
            w.uint(2)
            w.int(attempt)
            w.timestamp(notBefore)
            w.string(reason)
        case .sent: w.uint(3)
        case .replied: w.uint(4)
        case let .failed(reason):
            w.uint(5)
            w.string(reason)
        }
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        switch try r.uint() {
        case 0: self = .queued
        case 1: self = .sending(attempt: try r.int())
        case 2: self = .retrying(attempt: try r.int(), notBefore: try r.timestamp(), reason: try r.string())
        case 3: self = .sent
        case 4: self = .replied
        case 5: self = .failed(reason: try r.string())
        default: throw ByteReader.Malformed()
        }
    }
}

extension AttemptRecord: BinaryCodable {
    public static let storedProperties = 4

    public func encode(to w: inout ByteWriter) {
        w.int(number)
        w.timestamp(startedAt)
        w.optional(outcome) { w, outcome in
            switch outcome {
            case let .sent(runtimeID):
                w.uint(0)
                w.string(runtimeID)
            case let .retry(reason, notBefore):
                w.uint(1)
                w.string(reason)
                w.timestamp(notBefore)
            case let .failed(reason):
                w.uint(2)
                w.string(reason)
            }
        }
        w.optionalTimestamp(endedAt)
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        let number = try r.int()
        let startedAt = try r.timestamp()
        let outcome = try r.optional { r throws(ByteReader.Malformed) -> Outcome in
            switch try r.uint() {
            case 0: return .sent(runtimeID: try r.string())
            case 1: return .retry(reason: try r.string(), notBefore: try r.timestamp())
            case 2: return .failed(reason: try r.string())
            default: throw ByteReader.Malformed()
            }
        }
        self.init(number: number, startedAt: startedAt, outcome: outcome, endedAt: try r.optionalTimestamp())
    }
}

extension EditRecord: BinaryCodable {
    public static let storedProperties = 2

    public func encode(to w: inout ByteWriter) {
        w.timestamp(at)
        w.string(sha256)
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(at: try r.timestamp(), sha256: try r.string())
    }
}

extension RunState: BinaryCodable {
    public static let storedProperties = 16

    public func encode(to w: inout ByteWriter) {
        w.string(id)
        w.string(message)
        w.string(file)
        w.string(agent)
        w.optionalString(runtimeID)
        w.string(status.rawValue)
        w.optionalString(reason)
        w.timestamp(startedAt)
        w.optionalTimestamp(endedAt)
        w.array(toolCalls) { $0.value($1) }
        w.array(approvals) { $0.value($1) }
        w.bool(abortRequested)
        w.optionalString(detail)
        w.optionalString(sharedState)
        w.strings(customEvents)
        w.optionalString(sha256)
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(
            id: try r.string(), message: try r.string(), file: try r.string(), agent: try r.string(),
            runtimeID: try r.optionalString(), status: try r.named(), reason: try r.optionalString(),
            startedAt: try r.timestamp(), endedAt: try r.optionalTimestamp(), toolCalls: try r.values(),
            approvals: try r.values(), abortRequested: try r.bool(), detail: try r.optionalString(),
            sharedState: try r.optionalString(), customEvents: try r.strings(), sha256: try r.optionalString())
    }
}

extension ToolCallRecord: BinaryCodable {
    public static let storedProperties = 6

    public func encode(to w: inout ByteWriter) {
        w.string(id)
        w.string(tool)
        w.string(file)
        w.string(status)
        w.timestamp(at)
        w.optionalString(runtimeID)
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(
            id: try r.string(), tool: try r.string(), file: try r.string(), status: try r.string(),
            at: try r.timestamp(), runtimeID: try r.optionalString())
    }
}

extension ApprovalState: BinaryCodable {
    public static let storedProperties = 16

    public func encode(to w: inout ByteWriter) {
        w.string(id)
        w.string(run)
        w.string(file)
        w.optionalString(toolCall)
        w.optionalString(tool)
        w.timestamp(requestedAt)
        w.optionalString(runtimeID)
        w.optional(answer) { $0.value($1) }
        w.bool(delivered)
        w.strings(invalidAnswers)
        w.strings(decisions.map(\.rawValue))
        w.optionalTimestamp(expiresAt)
        w.bool(expired)
        w.optionalString(schema)
        w.optionalString(argumentsSHA256)
        w.int(ignoredEdits)
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(
            id: try r.string(), run: try r.string(), file: try r.string(), toolCall: try r.optionalString(),
            tool: try r.optionalString(), requestedAt: try r.timestamp(), runtimeID: try r.optionalString(),
            answer: try r.optional { r throws(ByteReader.Malformed) in try r.value(Answer.self) },
            delivered: try r.bool(), invalidAnswers: try r.strings(),
            decisions: try r.array { r throws(ByteReader.Malformed) in try r.named(Decision.self) },
            expiresAt: try r.optionalTimestamp(), expired: try r.bool(), schema: try r.optionalString(),
            argumentsSHA256: try r.optionalString(), ignoredEdits: try r.int())
    }
}

extension ApprovalState.Answer: BinaryCodable {
    public static let storedProperties = 5

    public func encode(to w: inout ByteWriter) {
        w.string(decision.rawValue)
        w.optionalString(note)
        w.timestamp(at)
        w.optionalString(file)
        w.optionalString(arguments)
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(
            decision: try r.named(), note: try r.optionalString(), at: try r.timestamp(), file: try r.optionalString(),
            arguments: try r.optionalString())
    }
}

extension RejectedFile: BinaryCodable {
    public static let storedProperties = 4

    public func encode(to w: inout ByteWriter) {
        w.string(file)
        w.string(reason)
        w.optionalString(sha256)
        w.timestamp(at)
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(file: try r.string(), reason: try r.string(), sha256: try r.optionalString(), at: try r.timestamp())
    }
}

extension ControlRecord: BinaryCodable {
    public static let storedProperties = 4

    public func encode(to w: inout ByteWriter) {
        w.string(file)
        w.string(outcome.rawValue)
        w.optionalString(reason)
        w.timestamp(at)
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(file: try r.string(), outcome: try r.named(), reason: try r.optionalString(), at: try r.timestamp())
    }
}

extension ThreadMeta: BinaryCodable {
    public static let storedProperties = 4

    public func encode(to w: inout ByteWriter) {
        w.optionalString(title)
        w.optionalString(agent)
        w.strings(tags)
        w.string(description)
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        self.init(
            title: try r.optionalString(), agent: try r.optionalString(), tags: try r.strings(),
            description: try r.string())
    }
}

extension FrontMatterValue: BinaryCodable {
    public static let storedProperties = 0

    public func encode(to w: inout ByteWriter) {
        switch self {
        case let .string(value):
            w.uint(0)
            w.string(value)
        case let .strings(values):
            w.uint(1)
            w.strings(values)
        case let .int(value):
            w.uint(2)
            w.int(value)
        }
    }

    public init(from r: inout ByteReader) throws(ByteReader.Malformed) {
        switch try r.uint() {
        case 0: self = .string(try r.string())
        case 1: self = .strings(try r.strings())
        case 2: self = .int(try r.int())
        default: throw ByteReader.Malformed()
        }
    }
}
