/// One message's section of a thread page: the message, its delivery history and its answers, with
/// every value in the form the page shows it (labels looked up, Markdown rendered).
///
/// Built once from the fold; the thread page, the feeds, the search index and the JSON read API all
/// read it.
struct MessageView: Sendable, Hashable {
    var id: String
    var file: String
    /// `operator`, or the role a remote message's front matter gives.
    var role: String
    var author: String
    var at: TimeView
    /// When the message was detected, in milliseconds (for feeds and sorting).
    var detectedAt: Int64
    var agent: String?
    /// The delivery state's name (`queued`, `sending`, …) and its label.
    var state: String
    var stateLabel: String
    var stateDetail: String?
    var notes: [Note]
    /// The message's Markdown rendered to HTML.
    var body: String
    var attempts: [AttemptView]
    var attemptsOpen: Bool
    var runs: [RunView]

    /// A notice under the message header.
    struct Note: Sendable, Hashable {
        /// `info` or `warning`.
        var kind: String
        var text: String
    }
}

/// One delivery attempt in a message's history.
struct AttemptView: Sendable, Hashable {
    var number: Int
    var at: TimeView
    var outcome: String
    var reason: String?
    /// When the next attempt is due, after a failure that is retried.
    var next: TimeView?
}

/// One answer (a run) to a message.
struct RunView: Sendable, Hashable {
    /// The permalink anchor: the reply file's name without `.md`.
    var id: String
    var file: String
    /// `Answer`, or `Answer 2 of 3` when the message was answered more than once.
    var label: String
    var agent: String
    /// When the run ended, in milliseconds; nil while it runs.
    var endedAt: Int64?
    var at: TimeView
    var status: String
    var statusLabel: String
    var reason: String?
    /// Whether the reply file is missing.
    var missing: Bool
    /// The reply's text rendered to HTML.
    var body: String
    var reasoning: String?
    var toolCalls: [ToolCallView]
    var approvals: [ApprovalView]
    /// Token counts, as `prompt tokens 12 · completion tokens 40`.
    var usage: String?
    var sharedState: String?
    /// The subagents the run delegated to (AG-UI 1.0), in the order they started.
    var subagents: [SubagentView] = []
    /// Each activity message's latest content (AG-UI `ACTIVITY_*`), shown folded.
    var activities: [ActivityView] = []
    /// Other runtime events (CUSTOM, RAW, the peer's protocol version), as JSON.
    var events: [String]
}

/// A subagent a run delegated to, and what it did.
struct SubagentView: Sendable, Hashable {
    var id: String
    /// Its name, or its invocation id when the runtime never named it.
    var name: String
    /// `running`, `complete`, `suspended`, `errored` or `unfinished`, and its label.
    var status: String
    var statusLabel: String
    var description: String?
    /// The tool call that started it (its tool's name).
    var via: String?
    /// The names of the tool calls it made, comma-separated.
    var tools: String?
    /// Its error message (and code), when it failed.
    var error: String?
    /// Its text rendered to HTML (safe mode), when it wrote any.
    var body: String?
    /// Its result as indented JSON.
    var result: String?
}

/// An activity message's latest content.
struct ActivityView: Sendable, Hashable {
    var type: String
    /// The content as indented JSON.
    var content: String
}

/// A tool call in an answer.
struct ToolCallView: Sendable, Hashable {
    var id: String
    var tool: String
    /// Its state in words (`done`, `waiting for approval`, `not run: rejected`, …).
    var status: String
    /// The tool call file's Markdown (arguments and result) rendered to HTML.
    var body: String
    /// The subagent that made the call, if one did.
    var subagent: String? = nil
    /// Its state as recorded: `pending`, `complete` or `not-run`.
    var state = ""
    /// The arguments (JSON text) and the result, as the record holds them.
    var arguments = "{}"
    var result: String? = nil
    /// The theme's own rendering of this tool (`tools/NAME.mustache`), when it has one; the generic
    /// block otherwise.
    var custom: String? = nil
}

/// An approval request in an answer, with the operator's answer if there is one.
struct ApprovalView: Sendable, Hashable {
    var id: String
    var file: String
    var tool: String?
    /// Whether the operator's answer is still awaited (the run has not ended).
    var pending: Bool
    /// Answers that could not be read, with why.
    var invalid: [String]
    var body: String
    /// `approved`, `rejected`, `closed` or `pending`, and its label.
    var state: String
    var stateLabel: String
    var answer: Answer?

    /// The operator's answer.
    struct Answer: Sendable, Hashable {
        var decisionLabel: String
        var at: TimeView
        var note: String?
    }
}
