/// The built-in theme's stylesheet and search script (served from `assets/`; a theme folder may
/// replace either with `style.css` / `search.js`).
enum DefaultAssets {
    /// Light and dark (prefers-color-scheme), responsive, print-friendly; states are always spelled out
    /// in text, colour only reinforces them.
    static let style = #"""
        :root {
          color-scheme: light dark;
          --bg: #fbfaf8; --fg: #1d1c1a; --muted: #5e5a55; --line: #dcd8d2; --card: #ffffff;
          --accent: #1f5fbf; --accent-fg: #ffffff; --code: #f1efec;
          --ok: #1e6b35; --warn: #8a5300; --bad: #a3221b; --info: #1f5fbf; --live: #6a3fb5;
          --radius: 8px; --measure: 46rem;
          font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", sans-serif;
          font-size: 100%; line-height: 1.55;
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #161514; --fg: #ecebe8; --muted: #aaa59e; --line: #3a3835; --card: #1f1e1c;
            --accent: #8ab4ff; --accent-fg: #10151d; --code: #2a2826;
            --ok: #7fd19a; --warn: #f0b35c; --bad: #ff8f86; --info: #8ab4ff; --live: #c6a6ff;
          }
        }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--fg); }
        a { color: var(--accent); text-underline-offset: 0.15em; }
        a:focus-visible, summary:focus-visible, input:focus-visible {
          outline: 3px solid var(--accent); outline-offset: 2px; border-radius: 2px;
        }
        .skip { position: absolute; left: -999px; top: 0; background: var(--accent); color: var(--accent-fg); padding: 0.5rem 1rem; }
        .skip:focus { left: 0.5rem; top: 0.5rem; z-index: 10; }
        .site-header { border-bottom: 1px solid var(--line); background: var(--card); }
        .site-header nav { max-width: 64rem; margin: 0 auto; padding: 0.75rem 1rem; display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: baseline; }
        .brand { font-weight: 700; font-size: 1.15rem; color: var(--fg); text-decoration: none; }
        .site-header ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; }
        .site-header a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 2px; }
        main { max-width: 64rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
        .site-footer { max-width: 64rem; margin: 0 auto; padding: 1rem; color: var(--muted); font-size: 0.875rem; border-top: 1px solid var(--line); }
        h1 { font-size: 1.75rem; line-height: 1.2; margin: 0 0 1rem; }
        h2 { font-size: 1.2rem; line-height: 1.3; margin: 1.5rem 0 0.5rem; }
        h3 { font-size: 1.05rem; margin: 1rem 0 0.5rem; }
        code, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; }
        code { background: var(--code); padding: 0.05em 0.3em; border-radius: 4px; }
        pre { background: var(--code); padding: 0.75rem 1rem; border-radius: var(--radius); overflow-x: auto; }
        pre code { background: none; padding: 0; }
        table { border-collapse: collapse; width: 100%; margin: 0.75rem 0; font-size: 0.925rem; }
        th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.6rem; border-bottom: 1px solid var(--line); }
        th { font-weight: 600; }
        th[align="right"], td[align="right"] { text-align: right; }
        th[align="center"], td[align="center"] { text-align: center; }
        .meta { color: var(--muted); font-size: 0.9rem; margin: 0.25rem 0; }
        .prose { max-width: var(--measure); overflow-wrap: anywhere; }
        .prose img { max-width: 100%; }
        .prose h1 { font-size: 1.3rem; } .prose h2 { font-size: 1.15rem; } .prose h3, .prose h4, .prose h5, .prose h6 { font-size: 1rem; }
        .prose blockquote { margin: 0.5rem 0; padding-left: 1rem; border-left: 3px solid var(--line); color: var(--muted); }
        .thread-list { list-style: none; padding: 0; margin: 0; display: grid; gap: 0.75rem; }
        .thread-item { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 0.75rem 1rem; }
        .thread-item h2 { margin: 0; font-size: 1.1rem; }
        .badges { list-style: none; padding: 0; margin: 0.4rem 0 0; display: flex; flex-wrap: wrap; gap: 0.4rem; }
        .badge { font-size: 0.8rem; font-weight: 600; border: 1px solid currentColor; border-radius: 999px; padding: 0.05rem 0.6rem; }
        .badge-unread { color: var(--info); }
        .badge-approval, .badge-rejected, .badge-retrying, .badge-attention { color: var(--warn); }
        p.badge-attention { display: inline-block; margin: 0.3rem 0.4rem 0 0; }
        .badge-queued { color: var(--muted); }
        .badge-failed, .badge-problem { color: var(--bad); }
        .badge-running { color: var(--live); }
        .tags { margin: 0.4rem 0 0; font-size: 0.875rem; color: var(--muted); }
        .tag { display: inline-block; font-size: 0.8rem; background: var(--code); border-radius: 4px; padding: 0 0.4rem; }
        .empty-state { border: 2px dashed var(--line); border-radius: var(--radius); padding: 2rem; text-align: center; color: var(--muted); }
        .thread-header { margin-bottom: 1.5rem; }
        .message { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 0.75rem 1rem; margin: 1rem 0; }
        .message-header h2 { margin: 0; font-size: 1rem; }
        .message-header .author { font-weight: 700; }
        .permalink { font-weight: 400; font-size: 0.85rem; }
        .state, .run-state, .approval-state, .chain, .status-label, .outcome { font-weight: 700; }
        .state-failed, .run-state-errored, .chain-broken, .status-bad .status-label, .outcome-error { color: var(--bad); }
        .state-retrying, .state-sending, .run-state-aborted, .run-state-awaiting_approval, .status-warn .status-label { color: var(--warn); }
        .state-replied, .state-sent, .run-state-complete, .chain-intact, .status-ok .status-label, .outcome-ok { color: var(--ok); }
        .state-queued { color: var(--info); }
        .run-state-streaming { color: var(--live); }
        .state-detail { color: var(--muted); }
        .run { border-left: 3px solid var(--line); margin: 1rem 0 0.25rem; padding: 0.25rem 0 0.25rem 1rem; }
        .run-streaming { border-left-color: var(--live); }
        .run-errored { border-left-color: var(--bad); }
        .run-aborted, .run-awaiting_approval { border-left-color: var(--warn); }
        .tool-call, .attempts, .shared-state, .events, .reasoning, .activity { margin: 0.5rem 0; }
        .subagent { margin: 0.5rem 0; padding-left: 0.75rem; border-left: 3px solid var(--line); }
        .tool-subagent, .subagent-description { color: var(--muted); }
        .reasoning { color: var(--muted); }
        .reasoning .prose { border-left: 3px solid var(--line); padding-left: 0.75rem; }
        .tool-call, .approval { border: 1px solid var(--line); border-radius: var(--radius); padding: 0.4rem 0.75rem; background: var(--bg); }
        .approval { margin: 0.75rem 0; }
        .approval-pending { border-color: var(--warn); }
        summary { cursor: pointer; }
        .notice { border-left: 4px solid var(--info); background: var(--code); padding: 0.4rem 0.75rem; border-radius: 4px; }
        .notice-error { border-left-color: var(--bad); }
        .notice-warning, .notice-action { border-left-color: var(--warn); }
        .notice-live { border-left-color: var(--live); }
        .usage { color: var(--muted); font-size: 0.85rem; }
        .status-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 0.75rem; }
        .status-item { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 0.75rem 1rem; margin: 0; }
        .status-item dt { font-size: 0.85rem; color: var(--muted); }
        .status-item dd { margin: 0.25rem 0 0; }
        .banner { max-width: 64rem; margin: 0.75rem auto 0; padding: 0.5rem 1rem; border-left: 4px solid var(--bad); background: var(--code); border-radius: 4px; }
        .pager { display: flex; gap: 1rem; justify-content: space-between; margin: 0.75rem 0; }
        .audit { table-layout: fixed; }
        .audit th:nth-child(1) { width: 13.5rem; } .audit th:nth-child(2) { width: 8rem; } .audit th:nth-child(3) { width: 5.5rem; }
        .audit th:nth-child(4) { width: 10.5rem; } .audit th:nth-child(5) { width: 9rem; }
        .audit td { overflow-wrap: anywhere; }
        .audit td:first-child { white-space: nowrap; }
        .audit td:nth-child(3), .audit td:nth-child(4) { overflow-wrap: normal; }
        .search-form input { font: inherit; width: 100%; max-width: 32rem; padding: 0.5rem 0.75rem; border: 1px solid var(--line); border-radius: var(--radius); background: var(--card); color: var(--fg); }
        .search-form label { display: block; font-weight: 600; margin-bottom: 0.25rem; }
        .search-filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; border: 0; padding: 0; margin: 0.75rem 0 0; }
        .search-filters legend { font-weight: 600; padding: 0; margin-bottom: 0.25rem; }
        .search-form .search-filters label { display: inline-block; font-weight: 400; margin: 0; }
        .search-form .search-filters input, .search-filters select { width: auto; font: inherit; padding: 0.25rem 0.5rem; }
        .snippet { margin: 0.25rem 0; max-width: var(--measure); overflow-wrap: anywhere; }
        .snippet mark { background: var(--code); color: var(--fg); font-weight: 700; border-bottom: 2px solid var(--accent); }
        .search-results { padding-left: 1.25rem; }
        .search-results li { margin: 0.6rem 0; }
        @media (max-width: 40rem) {
          main { padding: 1rem 0.75rem 2rem; }
          .audit, .audit tbody, .audit tr, .audit td { display: block; width: auto; }
          .audit thead { display: none; }
          .audit tr { border-bottom: 1px solid var(--line); padding: 0.4rem 0; }
          .audit td, .audit td:first-child { border: 0; padding: 0.05rem 0; white-space: normal; }
          .audit td:nth-child(3), .audit td:nth-child(4) { display: inline-block; margin-right: 0.5rem; font-weight: 600; }
          table { font-size: 0.85rem; }
        }
        @media print {
          :root { --bg: #fff; --fg: #000; --card: #fff; --line: #999; --code: #f3f3f3; }
          .site-header, .site-footer, .skip, .pager, .search-form { display: none; }
          .message, .thread-item { break-inside: avoid; border-color: #999; }
          details > *:not(summary) { display: block; }
          a { color: inherit; }
          main { max-width: none; padding: 0; }
        }

        """#

    /// The search page's script: loads the index (plain `<script>` files, which work from file://,
    /// unlike fetch), then filters as you type. Results are built with textContent only.
    static let search = #"""
        "use strict";
        (function () {
          var form = document.querySelector(".search-form");
          var input = document.getElementById("q");
          var status = document.getElementById("search-status");
          var list = document.getElementById("search-results");
          if (!form || !input || !status || !list) { return; }
          var filters = {
            thread: document.getElementById("f-thread"), agent: document.getElementById("f-agent"),
            state: document.getElementById("f-state"), from: document.getElementById("f-from"),
            to: document.getElementById("f-to")
          };
          var entries = [];
          var pending = 0;
          window.LETTERBOX_SEARCH = function (shard) { entries = entries.concat(shard); };
          window.LETTERBOX_SHARDS = function (shards) {
            pending = shards.length;
            if (pending === 0) { ready(); }
            shards.forEach(function (name) {
              var script = document.createElement("script");
              script.src = "search/" + name;
              script.onload = script.onerror = function () { pending -= 1; if (pending === 0) { ready(); } };
              document.head.appendChild(script);
            });
          };
          function load() {
            status.textContent = status.getAttribute("data-loading");
            var script = document.createElement("script");
            script.src = form.getAttribute("data-index");
            document.head.appendChild(script);
          }
          // Fills a filter's choices from the index (value -> label), sorted by label.
          function choices(select, pairs) {
            if (!select) { return; }
            var seen = {};
            pairs.forEach(function (pair) { if (pair[0] && !seen[pair[0]]) { seen[pair[0]] = pair[1]; } });
            Object.keys(seen).sort(function (a, b) { return seen[a].localeCompare(seen[b]); }).forEach(function (value) {
              var option = document.createElement("option");
              option.value = value;
              option.textContent = seen[value];
              select.appendChild(option);
            });
          }
          function ready() {
            choices(filters.thread, entries.map(function (e) { return [e.thread, e.threadTitle]; }));
            choices(filters.agent, entries.map(function (e) { return [e.agent, e.agent]; }));
            choices(filters.state, entries.map(function (e) { return [e.state, e.state]; }));
            update();
          }
          function value(select) { return select && select.value ? select.value : ""; }
          // The text around the first match, with every match of every term marked (as DOM nodes,
          // never as HTML).
          function snippet(text, terms) {
            var lower = text.toLowerCase();
            var first = lower.indexOf(terms[0]);
            var start = Math.max(0, first - 80);
            var end = Math.min(text.length, Math.max(first, 0) + 160);
            var part = text.slice(start, end);
            var partLower = part.toLowerCase();
            var node = document.createElement("p");
            node.className = "snippet";
            if (start > 0) { node.appendChild(document.createTextNode("… ")); }
            var index = 0;
            while (index < part.length) {
              var next = -1, length = 0;
              terms.forEach(function (term) {
                var at = partLower.indexOf(term, index);
                if (at !== -1 && (next === -1 || at < next)) { next = at; length = term.length; }
              });
              if (next === -1) { node.appendChild(document.createTextNode(part.slice(index))); break; }
              if (next > index) { node.appendChild(document.createTextNode(part.slice(index, next))); }
              var mark = document.createElement("mark");
              mark.textContent = part.slice(next, next + length);
              node.appendChild(mark);
              index = next + length;
            }
            if (end < text.length) { node.appendChild(document.createTextNode(" …")); }
            return node;
          }
          function update() {
            var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
            while (list.firstChild) { list.removeChild(list.firstChild); }
            var thread = value(filters.thread), agent = value(filters.agent), state = value(filters.state);
            var from = value(filters.from), to = value(filters.to);
            var filtered = thread || agent || state || from || to;
            if ((terms.length === 0 && !filtered) || pending > 0) {
              status.textContent = pending > 0 ? status.getAttribute("data-loading") : "";
              return;
            }
            var found = entries.filter(function (entry) {
              if (thread && entry.thread !== thread) { return false; }
              if (agent && entry.agent !== agent) { return false; }
              if (state && entry.state !== state) { return false; }
              var day = entry.at.slice(0, 10);
              if (from && day < from) { return false; }
              if (to && day > to) { return false; }
              var text = entry.text.toLowerCase();
              return terms.every(function (term) { return text.indexOf(term) !== -1; });
            });
            status.textContent = found.length + " " + status.getAttribute("data-results");
            found.slice(0, 200).forEach(function (entry) {
              var item = document.createElement("li");
              var link = document.createElement("a");
              link.href = entry.href;
              link.textContent = entry.title;
              var meta = document.createElement("p");
              meta.className = "meta";
              meta.textContent = [entry.at.slice(0, 16).replace("T", " "), entry.agent, entry.state].filter(Boolean).join(" · ");
              var permalink = document.createElement("a");
              permalink.className = "permalink";
              permalink.href = entry.href;
              permalink.textContent = " #" + entry.href.split("#")[1];
              meta.appendChild(permalink);
              item.appendChild(link);
              item.appendChild(meta);
              if (entry.edited) {
                var note = document.createElement("p");
                note.className = "notice notice-warning";
                note.textContent = status.getAttribute("data-edited");
                item.appendChild(note);
              }
              if (terms.length > 0 && entry.text) { item.appendChild(snippet(entry.text, terms)); }
              list.appendChild(item);
            });
          }
          form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
          input.addEventListener("input", update);
          Object.keys(filters).forEach(function (key) {
            if (filters[key]) { filters[key].addEventListener("change", update); }
          });
          var query = new URLSearchParams(window.location.search).get("q");
          if (query) { input.value = query; }
          load();
        })();

        """#
}
