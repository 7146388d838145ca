/// `letterbox.yaml`: the workspace configuration (docs/format.md §9, docs/runtimes.md).
///
/// Every key has a default, so an empty file is a valid configuration. Unknown keys are errors that
/// name the line, like front matter.
public struct WorkspaceConfig: Sendable, Hashable {
    public var version = 1
    /// The inbox folder, relative to the config file.
    public var inbox = "inbox"
    /// The site folder, relative to the config file.
    public var site = "site"
    /// An optional theme folder whose templates override the built-in ones.
    public var theme: String?
    /// The site's title.
    public var title = "Letterbox"
    public var delivery = Delivery()
    public var limits = Limits()
    /// The runtimes Letterbox talks to; the first is the default.
    public var runtimes: [Runtime] = []
    /// Agents declared here (for runtimes that have no agent list of their own).
    public var agents: [Agent] = []
    /// The agent for threads and messages that name none.
    public var defaultAgent: String?
    public var git = Git()
    /// A program run when something needs the operator (an approval waits, a message failed for good):
    /// the program and its leading arguments; the thread, the file's absolute path and the reason are
    /// appended. Run directly, never through a shell (docs/daemon.md, "Attention").
    public var onAttention: [String]?

    public init() {}

    /// Delivery timing and limits.
    public struct Delivery: Sendable, Hashable {
        /// The quiet window before a message file is read.
        public var settleMilliseconds = 150
        /// How many threads may have a delivery or run in flight at once.
        public var maxParallelThreads = 8
        /// Full rescan interval (events are hints; docs/format.md §4.2).
        public var rescanSeconds = 300
        /// How long one request may take before it counts as failed.
        public var timeoutSeconds = 30
        /// How long one long poll for replies waits.
        public var pollWaitSeconds = 20
        /// How often the daemon pulls, from runtimes that list threads, what reached them elsewhere.
        public var syncSeconds = 30
        /// How long an approval request waits before it expires (and can then only be cancelled), when
        /// the runtime gives no `expiresAt` of its own; nil (the default): it never expires by itself.
        public var approvalExpirySeconds: Int?
        public var retry = Retry()
        public var breaker = Breaker()
        public init() {}
    }

    /// Exponential backoff with full jitter, kept up until a message is `maxAgeSeconds` old (a mail
    /// queue's lifetime): an outage or a refused token never uses a message up.
    public struct Retry: Sendable, Hashable {
        public var baseMilliseconds = 500
        public var maxMilliseconds = 60_000
        /// How long after acceptance a message is still retried (default 24 h).
        public var maxAgeSeconds = 86_400
        /// An optional cap on attempts (none by default); with one, an outage can fail messages.
        public var maxAttempts: Int?
        public init() {}
    }

    /// The circuit breaker that turns repeated failures into one degraded state.
    public struct Breaker: Sendable, Hashable {
        /// Consecutive failures that open the breaker.
        public var failures = 5
        /// How long the breaker stays open before one probe.
        public var cooldownMilliseconds = 15_000
        public init() {}
    }

    /// Size caps.
    public struct Limits: Sendable, Hashable {
        public var messageBytes = TextFile.defaultMaxBytes
        public var frontMatterBytes = FrontMatter.defaultMaxBytes
        public init() {}
    }

    /// A runtime endpoint.
    public struct Runtime: Sendable, Hashable {
        /// The protocols Letterbox speaks.
        public enum Kind: String, Sendable, Hashable, CaseIterable {
            case controlPlane = "control-plane"
            case agUI = "ag-ui"
            case openAI = "openai"
        }

        /// AG-UI dialects.
        public enum Dialect: String, Sendable, Hashable, CaseIterable {
            case standard, umbraco
        }

        public var name = "default"
        public var kind = Kind.controlPlane
        /// The base URL (control plane, OpenAI) or the agent endpoint (AG-UI).
        public var url = "http://127.0.0.1:8787"
        /// A file holding the bearer token (must not be readable by group or others).
        public var tokenFile: String?
        /// An environment variable holding the bearer token.
        public var tokenEnv = "LETTERBOX_TOKEN"
        public var timeoutSeconds: Int?
        public var dialect = Dialect.standard
        public init() {}
    }

    /// An agent declared in configuration.
    public struct Agent: Sendable, Hashable {
        public var id = ""
        public var name: String?
        /// The runtime (by name) that serves it; the first runtime when nil.
        public var runtime: String?
        /// Only agents whose scopes include `chat` can be used.
        public var scopes = ["chat"]
        /// The model name (OpenAI-compatible runtimes).
        public var model: String?
        /// A system prompt sent first (OpenAI-compatible runtimes).
        public var systemPrompt: String?
        /// An endpoint path or URL for this agent (AG-UI), relative to the runtime URL.
        public var path: String?
        public init() {}
    }

    /// Git integration.
    public struct Git: Sendable, Hashable {
        /// Commit the inbox's history at journal points: nil (the default) commits when the inbox is in
        /// a git work tree; false never does; true does, and says so when there is no work tree.
        public var commit: Bool?
        /// How long after a journal point the daemon waits for more before it commits.
        public var quietSeconds = 2
        /// The identity of Letterbox's own commits.
        public var name = "Letterbox"
        public var email = "letterbox@localhost"
        /// How often the daemon pulls (with rebase) and pushes: nil (the default) every 30 s when the
        /// branch has an upstream, never otherwise; 0 never.
        public var syncSeconds: Int?
        /// The remote to sync with: nil (the default) is the branch's upstream, else `origin`.
        public var remote: String?
        /// How long a delivery lease lasts without renewal (docs/format.md, "The delivery lease").
        public var leaseSeconds = 120
        public init() {}

        /// The sync interval when sync is not set: every 30 s, if the branch has an upstream.
        public static let defaultSyncSeconds = 30
    }

    /// The runtime named `name`, or the first.
    public func runtime(named name: String?) -> Runtime? {
        guard let name else { return runtimes.first }
        return runtimes.first { $0.name == name }
    }
}
