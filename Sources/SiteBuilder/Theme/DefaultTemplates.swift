/// The built-in theme's Mustache templates. A theme folder overrides any of them by name
/// (`theme/thread.mustache` replaces `thread`); see docs/site.md for the context each one gets.
///
/// Every template starts with the `HTML5` content-type pragma: the same escaping as Mustache's
/// default HTML type (`& < > " '`), done on bytes, which made rendering 1.6x faster (docs/benchmarks.md).
enum DefaultTemplates {
    static let all: [String: String] = [
        "layout": layout, "index": index, "indexItem": indexItem, "thread": thread, "message": message, "run": run,
        "audit": audit,
        "status": status, "agents": agents, "search": search, "feed": feed,
    ]

    static let layout = #"""
        {{% CONTENT_TYPE: HTML5}}<!doctype html>
        <html lang="{{strings.lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta http-equiv="Content-Security-Policy" content="{{csp}}">
        <meta name="referrer" content="no-referrer">
        <meta name="generator" content="Letterbox">
        {{#page.refresh}}<meta http-equiv="refresh" content="{{page.refresh}}">
        {{/page.refresh}}<title>{{page.title}} · {{site.title}}</title>
        <link rel="stylesheet" href="{{root}}assets/style.css">
        {{#page.feed}}<link rel="alternate" type="application/atom+xml" href="{{page.feed}}" title="{{page.title}}">
        {{/page.feed}}</head>
        <body>
        <a class="skip" href="#main">{{strings.skip}}</a>
        <header class="site-header">
        <nav aria-label="{{strings.nav_label}}">
        <a class="brand" href="{{root}}index.html">{{site.title}}</a>
        <ul>
        <li><a href="{{root}}index.html"{{#nav.threads}} aria-current="page"{{/nav.threads}}>{{strings.threads}}</a></li>
        <li><a href="{{root}}search.html"{{#nav.search}} aria-current="page"{{/nav.search}}>{{strings.search}}</a></li>
        <li><a href="{{root}}agents.html"{{#nav.agents}} aria-current="page"{{/nav.agents}}>{{strings.agents}}</a></li>
        <li><a href="{{root}}audit/index.html"{{#nav.audit}} aria-current="page"{{/nav.audit}}>{{strings.audit}}</a></li>
        <li><a href="{{root}}status.html"{{#nav.status}} aria-current="page"{{/nav.status}}>{{strings.status}}</a></li>
        </ul>
        </nav>
        </header>
        {{#banner}}<p class="banner" role="alert"><strong>{{label}}</strong> {{strings.since}} <time datetime="{{since.iso}}">{{since.short}}</time> · <a href="{{root}}status.html">{{strings.status}}</a></p>
        {{/banner}}<main id="main">
        {{$content}}{{/content}}
        </main>
        <footer class="site-footer"><p>{{strings.generated_by}} <a href="{{root}}feed.xml">{{strings.feed}}</a></p></footer>
        {{$scripts}}{{/scripts}}
        </body>
        </html>

        """#

    static let index = #"""
        {{% CONTENT_TYPE: HTML5}}{{<layout}}{{$content}}
        <h1>{{strings.threads}}</h1>
        {{^empty(threads)}}<ol class="thread-list">
        {{#threads}}{{{.}}}{{/threads}}</ol>
        {{/empty(threads)}}{{#empty(threads)}}<section class="empty-state">
        <h2>{{strings.empty_inbox_title}}</h2>
        <p>{{strings.empty_inbox_body}}</p>
        </section>
        {{/empty(threads)}}{{/content}}{{/layout}}

        """#

    /// One thread on the index; rendered when the thread changes and kept, so the index is a join.
    static let indexItem = #"""
        {{% CONTENT_TYPE: HTML5}}<li class="thread-item">
        <h2><a href="threads/{{href}}.html">{{title}}</a></h2>
        <p class="meta"><span>{{strings.agent}}: {{agent}}</span> · <span>{{messageCount}}</span>{{#lastActivity}} · <span>{{strings.last_activity}} <time datetime="{{iso}}">{{short}}</time></span>{{/lastActivity}}</p>
        {{^empty(badges)}}<ul class="badges">{{#badges}}<li class="badge badge-{{kind}}">{{label}}</li>{{/badges}}</ul>{{/empty(badges)}}
        {{^empty(tags)}}<p class="tags">{{strings.tags}}: {{#tags}}<span class="tag">{{.}}</span> {{/tags}}</p>{{/empty(tags)}}
        </li>

        """#

    static let thread = #"""
        {{% CONTENT_TYPE: HTML5}}{{<layout}}{{$content}}
        <article class="thread">
        <header class="thread-header">
        <h1>{{thread.title}}</h1>
        <p class="meta"><span>{{strings.agent}}: {{thread.agent}}</span>{{^empty(thread.tags)}} · {{strings.tags}}: {{#thread.tags}}<span class="tag">{{.}}</span> {{/thread.tags}}{{/empty(thread.tags)}} · <a href="{{thread.feed}}">{{strings.feed}}</a></p>
        {{#thread.description}}<div class="description prose">{{{thread.description}}}</div>{{/thread.description}}
        {{#thread.refreshing}}<p class="notice notice-live" role="status">{{strings.refreshing}}</p>{{/thread.refreshing}}
        {{#thread.attention}}<p class="badge badge-attention" role="status"><a href="#m-{{anchor}}">{{label}}</a></p>{{/thread.attention}}
        {{#thread.problems}}<p class="notice notice-error" role="alert"><strong>{{strings.journal_problem}}:</strong> {{.}}</p>{{/thread.problems}}
        </header>
        {{#messages}}{{>message}}{{/messages}}
        {{^empty(rejected)}}<section class="rejected" aria-labelledby="rejected-h">
        <h2 id="rejected-h">{{strings.files_not_sent}}</h2>
        <ul>{{#rejected}}<li><code>{{file}}</code>: {{reason}} <time datetime="{{at.iso}}">{{at.short}}</time></li>{{/rejected}}</ul>
        </section>{{/empty(rejected)}}
        {{^empty(controls)}}<section class="controls" aria-labelledby="controls-h">
        <h2 id="controls-h">{{strings.controls}}</h2>
        <ul>{{#controls}}<li><code>{{file}}</code>: <span class="outcome outcome-{{outcome}}">{{outcome}}</span>{{#reason}} ({{reason}}){{/reason}} <time datetime="{{at.iso}}">{{at.short}}</time></li>{{/controls}}</ul>
        </section>{{/empty(controls)}}
        </article>
        {{/content}}{{/layout}}

        """#

    /// `thread` with each message section already rendered (`{{{html}}}`) instead of rendered through
    /// the `message` partial; used only while `thread`, `message` and `run` are the built-in ones, where
    /// both give the same bytes (the golden snapshots are built this way).
    static let threadAroundSections = thread.replacing(
        "{{#messages}}{{>message}}{{/messages}}", with: "{{#messages}}{{{html}}}{{/messages}}")

    static let message = #"""
        {{% CONTENT_TYPE: HTML5}}<section class="message message-{{role}}" id="m-{{id}}" aria-labelledby="m-{{id}}-h">
        <header class="message-header">
        <h2 id="m-{{id}}-h"><span class="author">{{author}}</span> <a class="permalink" href="#m-{{id}}" title="{{strings.permalink}}"><code>{{file}}</code></a></h2>
        <p class="meta"><time datetime="{{at.iso}}">{{at.short}}</time>{{#agent}} · {{strings.agent}}: {{agent}}{{/agent}} · <span class="state state-{{state}}">{{stateLabel}}</span>{{#stateDetail}} <span class="state-detail">{{stateDetail}}</span>{{/stateDetail}}</p>
        </header>
        {{#notes}}<p class="notice notice-{{kind}}">{{text}}</p>{{/notes}}
        <div class="prose">{{{body}}}</div>
        {{^empty(attempts)}}<details class="attempts"{{#attemptsOpen}} open{{/attemptsOpen}}>
        <summary>{{strings.attempts}} ({{attemptCount}})</summary>
        <table>
        <thead><tr><th scope="col">{{strings.attempt}}</th><th scope="col">{{strings.started}}</th><th scope="col">{{strings.outcome}}</th></tr></thead>
        <tbody>{{#attempts}}<tr><td>{{number}}</td><td><time datetime="{{at.iso}}">{{at.short}}</time></td><td>{{outcome}}{{#reason}}: {{reason}}{{/reason}}{{#next}} ({{strings.next_attempt}} <time datetime="{{iso}}">{{short}}</time>){{/next}}</td></tr>{{/attempts}}</tbody>
        </table>
        </details>{{/empty(attempts)}}
        {{#runs}}{{>run}}{{/runs}}
        </section>

        """#

    static let run = #"""
        {{% CONTENT_TYPE: HTML5}}<section class="run run-{{status}}" id="m-{{id}}" aria-label="{{label}}">
        <header class="run-header">
        <p class="meta"><strong>{{label}}</strong> · <a class="permalink" href="#m-{{id}}"><code>{{file}}</code></a> · {{agent}} · <time datetime="{{at.iso}}">{{at.short}}</time> · <span class="run-state run-state-{{status}}">{{statusLabel}}</span>{{#reason}} <span class="state-detail">{{reason}}</span>{{/reason}}</p>
        </header>
        {{#missing}}<p class="notice notice-warning">{{strings.reply_missing}}</p>{{/missing}}
        {{#toolCalls}}{{#custom}}<div class="tool-call tool-call-custom" id="m-{{id}}">{{{.}}}</div>{{/custom}}{{^custom}}<details class="tool-call" id="m-{{id}}">
        <summary>{{strings.tool_call}}: <code>{{tool}}</code> <span class="tool-status">{{status}}</span>{{#subagent}} <span class="tool-subagent">{{strings.by_subagent}} {{.}}</span>{{/subagent}}</summary>
        <div class="prose">{{{body}}}</div>
        </details>{{/custom}}{{/toolCalls}}
        {{#approvals}}<section class="approval approval-{{state}}" id="m-{{id}}">
        <h3>{{strings.approval_request}}{{#tool}}: <code>{{tool}}</code>{{/tool}} <span class="approval-state">{{stateLabel}}</span></h3>
        {{#pending}}<p class="notice notice-action" role="status">{{strings.approval_pending}}</p>{{/pending}}
        {{#answer}}<p class="answer"><strong>{{decisionLabel}}</strong> · {{strings.answered_at}} <time datetime="{{at.iso}}">{{at.short}}</time>{{#note}} · {{strings.note}}: {{note}}{{/note}}</p>{{/answer}}
        {{#invalid}}<p class="notice notice-warning">{{strings.not_an_answer}}: {{.}}</p>{{/invalid}}
        <details{{#pending}} open{{/pending}}><summary><code>{{file}}</code></summary><div class="prose">{{{body}}}</div></details>
        </section>{{/approvals}}
        {{#subagents}}<section class="subagent subagent-{{status}}">
        <p class="meta"><strong>{{strings.subagent}}: {{name}}</strong> · <span class="subagent-state">{{statusLabel}}</span>{{#via}} · {{strings.subagent_via}} <code>{{.}}</code>{{/via}}{{#error}} <span class="state-detail">{{.}}</span>{{/error}}</p>
        {{#description}}<p class="subagent-description">{{.}}</p>{{/description}}{{#tools}}<p class="subagent-tools">{{strings.subagent_tools}}: {{.}}</p>{{/tools}}{{#body}}<div class="prose">{{{.}}}</div>{{/body}}{{#result}}<details class="subagent-result"><summary>{{strings.subagent_result}}</summary><pre><code>{{.}}</code></pre></details>{{/result}}
        </section>
        {{/subagents}}{{#reasoning}}<details class="reasoning"><summary>{{strings.reasoning}}</summary><div class="prose">{{{reasoning}}}</div></details>{{/reasoning}}
        <div class="prose reply">{{{body}}}</div>
        {{#usage}}<p class="usage">{{strings.usage}}: {{.}}</p>{{/usage}}
        {{#sharedState}}<details class="shared-state"><summary>{{strings.shared_state}}</summary><pre><code>{{.}}</code></pre></details>{{/sharedState}}{{#activities}}<details class="activity"><summary>{{strings.activity}}: {{type}}</summary><pre><code>{{content}}</code></pre></details>{{/activities}}
        {{^empty(events)}}<details class="events"><summary>{{strings.events}}</summary><ul>{{#events}}<li><code>{{.}}</code></li>{{/events}}</ul></details>{{/empty(events)}}
        </section>

        """#

    static let audit = #"""
        {{% CONTENT_TYPE: HTML5}}{{<layout}}{{$content}}
        <h1>{{strings.audit}}</h1>
        <p>{{strings.audit_intro}}</p>
        <table class="chains">
        <thead><tr><th scope="col">{{strings.journal}}</th><th scope="col">{{strings.lines}}</th><th scope="col">Chain</th></tr></thead>
        <tbody>{{{chainRows}}}</tbody>
        </table>
        {{>pager}}
        <table class="audit">
        <thead><tr><th scope="col">{{strings.time}}</th><th scope="col">{{strings.journal}}</th><th scope="col">{{strings.actor}}</th><th scope="col">{{strings.event}}</th><th scope="col">{{strings.target}}</th><th scope="col">{{strings.details}}</th></tr></thead>
        <tbody>
        {{{rows}}}
        </tbody>
        </table>
        {{>pager}}
        {{/content}}{{/layout}}

        """#

    /// One audit row; rendered once per journal line and cached by the incremental build.
    static let auditRow = #"""
        {{% CONTENT_TYPE: HTML5}}<tr><td><time datetime="{{ts}}">{{ts}}</time></td><td>{{#threadHref}}<a href="{{root}}threads/{{threadHref}}.html">{{journal}}</a>{{/threadHref}}{{^threadHref}}{{journal}}{{/threadHref}}&nbsp;#{{seq}}</td><td>{{actor}}</td><td>{{event}}</td><td>{{#targetHref}}<a href="{{targetHref}}">{{target}}</a>{{/targetHref}}{{^targetHref}}{{target}}{{/targetHref}}</td><td>{{details}}</td></tr>

        """#

    static let pager = #"""
        {{% CONTENT_TYPE: HTML5}}{{#pager}}<nav class="pager" aria-label="{{strings.page}}">{{#newer}}<a rel="prev" href="{{.}}">← {{strings.newer}}</a>{{/newer}} <span>{{strings.page}} {{number}} / {{count}}</span> {{#older}}<a rel="next" href="{{.}}">{{strings.older}} →</a>{{/older}}</nav>{{/pager}}

        """#

    static let status = #"""
        {{% CONTENT_TYPE: HTML5}}{{<layout}}{{$content}}
        <h1>{{strings.status}}</h1>
        <dl class="status-grid">
        <div class="status-item status-{{daemon.kind}}"><dt>{{strings.status_daemon}}</dt><dd><span class="status-label">{{daemon.label}}</span>{{#daemon.detail}} <span class="state-detail">{{daemon.detail}}</span>{{/daemon.detail}}</dd></div>
        <div class="status-item status-{{runtime.kind}}"><dt>{{strings.status_runtime}}</dt><dd><span class="status-label">{{runtime.label}}</span>{{#runtime.since}} {{strings.since}} <time datetime="{{iso}}">{{short}}</time>{{/runtime.since}}{{#runtime.reason}} <span class="state-detail">{{runtime.reason}}</span>{{/runtime.reason}}{{#runtime.note}} <span class="state-detail">({{runtime.note}})</span>{{/runtime.note}}</dd></div>
        <div class="status-item"><dt>{{strings.status_queue}}</dt><dd>{{#queue}}{{queue}} {{strings.queue_waiting}}{{/queue}}{{^queue}}{{strings.queue_empty}}{{/queue}}</dd></div>
        <div class="status-item"><dt>{{strings.status_last_error}}</dt><dd>{{#lastError}}{{text}} <time datetime="{{at.iso}}">{{at.short}}</time>{{/lastError}}{{^lastError}}{{strings.none}}{{/lastError}}</dd></div>
        </dl>
        <h2>{{strings.status_incidents}}</h2>
        {{^empty(incidents)}}<table><thead><tr><th scope="col">{{strings.event}}</th><th scope="col">{{strings.since}}</th><th scope="col">{{strings.recovered}}</th><th scope="col">{{strings.details}}</th></tr></thead>
        <tbody>{{#incidents}}<tr><td>{{kind}}</td><td><time datetime="{{start.iso}}">{{start.short}}</time></td><td>{{#end}}<time datetime="{{iso}}">{{short}}</time>{{/end}}{{^end}}{{strings.ongoing}}{{/end}}</td><td>{{reason}}</td></tr>{{/incidents}}</tbody></table>{{/empty(incidents)}}
        {{#empty(incidents)}}<p>{{strings.none}}</p>{{/empty(incidents)}}
        <h2>{{strings.status_problems}}</h2>
        {{^empty(problems)}}<ul class="problems">{{#problems}}<li>{{.}}</li>{{/problems}}</ul>{{/empty(problems)}}
        {{#empty(problems)}}<p>{{strings.none}}</p>{{/empty(problems)}}
        {{/content}}{{/layout}}

        """#

    static let agents = #"""
        {{% CONTENT_TYPE: HTML5}}{{<layout}}{{$content}}
        <h1>{{strings.agents}}</h1>
        <p>{{strings.agents_intro}}</p>
        {{^empty(agents)}}<table>
        <thead><tr><th scope="col">{{strings.agent}}</th><th scope="col">id</th><th scope="col">{{strings.scopes}}</th><th scope="col">{{strings.runtime}}</th></tr></thead>
        <tbody>{{#agents}}<tr><td>{{name}}</td><td><code>{{id}}</code></td><td>{{scopes}}</td><td>{{runtime}}</td></tr>{{/agents}}</tbody>
        </table>{{/empty(agents)}}
        {{#empty(agents)}}<p class="empty-state">{{strings.agents_empty}}</p>{{/empty(agents)}}
        {{/content}}{{/layout}}

        """#

    static let search = #"""
        {{% CONTENT_TYPE: HTML5}}{{<layout}}{{$content}}
        <h1>{{strings.search}}</h1>
        <form class="search-form" role="search" action="#" data-index="search/index.js">
        <label for="q">{{strings.search_label}}</label>
        <input id="q" name="q" type="search" placeholder="{{strings.search_placeholder}}" autocomplete="off">
        <fieldset class="search-filters"><legend>{{strings.search_filters}}</legend>
        <label>{{strings.search_thread}} <select id="f-thread"><option value="">{{strings.search_any}}</option></select></label>
        <label>{{strings.agent}} <select id="f-agent"><option value="">{{strings.search_any}}</option></select></label>
        <label>{{strings.search_state}} <select id="f-state"><option value="">{{strings.search_any}}</option></select></label>
        <label>{{strings.search_from}} <input id="f-from" type="date"></label>
        <label>{{strings.search_to}} <input id="f-to" type="date"></label>
        </fieldset>
        </form>
        <noscript><p class="notice">{{strings.search_noscript}}</p></noscript>
        <p id="search-status" role="status" aria-live="polite" data-loading="{{strings.search_loading}}" data-results="{{strings.search_results}}" data-edited="{{strings.search_edited}}"></p>
        <ol id="search-results" class="search-results"></ol>
        {{/content}}{{$scripts}}<script src="assets/search.js"></script>{{/scripts}}{{/layout}}

        """#

    static let feed = #"""
        {{% CONTENT_TYPE: HTML5}}<?xml version="1.0" encoding="utf-8"?>
        <feed xmlns="http://www.w3.org/2005/Atom">
        <title>{{title}}</title>
        <id>{{id}}</id>
        <updated>{{updated}}</updated>
        <generator>Letterbox</generator>
        <link rel="self" href="{{selfHref}}"/>
        {{#entries}}<entry>
        <title>{{title}}</title>
        <id>{{id}}</id>
        <updated>{{updated}}</updated>
        <author><name>{{author}}</name></author>
        <link rel="alternate" href="{{href}}"/>
        <content type="html">{{content}}</content>
        </entry>
        {{/entries}}</feed>

        """#
}
