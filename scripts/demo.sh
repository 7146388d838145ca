#!/usr/bin/env bash
# The Letterbox demo: the reference runtime and the daemon on a workspace, the site kept current.
#   scripts/demo.sh [WORKSPACE] [--check]
# WORKSPACE defaults to this repository (its inbox/ and site/). With --check, the script drops a
# message, waits for the reply file and its page, prints what it saw, and stops (used by the tests).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
workspace="${1:-$here}"
check="${2:-}"
bin="${LETTERBOX_BIN:-$here/.build/debug/letterbox}"
port="${LETTERBOX_DEMO_PORT:-8787}"
state="$workspace/.letterbox"
mkdir -p "$state"

# A token for this machine only, never committed (.letterbox/ is ignored) and never printed.
if [ ! -s "$state/demo-token" ]; then
  (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$state/demo-token")
fi
export LETTERBOX_TOKEN="$(cat "$state/demo-token")"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$bin" runtime serve --port "$port" > "$state/runtime.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "listening on" "$state/runtime.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "listening on" "$state/runtime.log" || { echo "the reference runtime did not start:"; cat "$state/runtime.log"; exit 1; }

cd "$workspace"
# The workspace names the runtimes (both protocols) in letterbox.yaml; they must be on this port.
if ! grep -qs "127.0.0.1:$port" letterbox.yaml; then
  echo "$workspace/letterbox.yaml does not point at the reference runtime on 127.0.0.1:$port; set its runtimes' url"
  exit 1
fi
"$bin" build --quiet
"$bin" daemon > "$state/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "letterbox daemon ready" "$state/daemon.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "letterbox daemon ready" "$state/daemon.log" || { echo "the daemon did not start:"; cat "$state/daemon.log"; exit 1; }

cat <<TEXT

  Letterbox is running.
    runtime  http://127.0.0.1:$port  (the reference runtime: deterministic demo agents for trying
             Letterbox, not a production agent runtime)
    inbox    $workspace/inbox
    site     file://$workspace/site/index.html   (rebuilt after every change)
    logs     $state/daemon.log, $state/runtime.log

  Try it (from another terminal, or any editor):
    echo "Is the nightly backup healthy?" > $workspace/inbox/welcome/backup.md
    letterbox new notes --agent writer && echo "Draft the release notes" > $workspace/inbox/notes/release.md
    letterbox new runbook --agent operator && echo "Restart the backup service" > $workspace/inbox/runbook/restart.md
      then open inbox/runbook/restart.reply.approval-1.md, tick "- [x] Approve", and save.
  The same agents over AG-UI (letterbox.yaml, runtime reference-ag-ui):
    letterbox new deploy --agent ag-ui-operator && echo "Restart the backup service" > $workspace/inbox/deploy/restart.md
    letterbox new drafts-ag-ui --agent ag-ui-writer && echo "Release notes" > $workspace/inbox/drafts-ag-ui/notes.md

TEXT

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s until it succeeds; after SECONDS,
# says what it waited for, shows the daemon's log, and fails.
wait_for() {
  local tries=$(($1 * 10)) what="$2"; shift 2
  for _ in $(seq 1 "$tries"); do "$@" && return 0; sleep 0.1; done
  echo "timed out waiting for $what; the daemon's log:"
  tail -n 40 "$state/daemon.log"
  exit 1
}

if [ "$check" = "--check" ]; then
  inbox="$workspace/inbox"
  # The control plane: a message gets a reply file and a page with its delivery history.
  echo "Is the nightly backup healthy? (demo check)" > "$inbox/welcome/demo-check.md"
  wait_for 20 "the reply" grep -qs "status: complete" "$inbox/welcome/demo-check.reply.md"
  wait_for 20 "the site page" grep -qs "demo-check.reply.md" "$workspace/site/threads/welcome.html"
  echo "reply file:"
  cat "$inbox/welcome/demo-check.reply.md"
  echo "site page: $workspace/site/threads/welcome.html shows the reply and its delivery history"

  # AG-UI, streaming: the writer's reply file is seen growing before it completes.
  "$bin" new demo-writer --agent ag-ui-writer > /dev/null
  echo "Release notes (demo check)" > "$inbox/demo-writer/notes.md"
  wait_for 20 "the AG-UI writer to stream" grep -qs "status: streaming" "$inbox/demo-writer/notes.reply.md"
  echo "AG-UI writer: the reply is streaming"
  wait_for 30 "the AG-UI writer to finish" grep -qs "status: complete" "$inbox/demo-writer/notes.reply.md"
  echo "AG-UI writer: the reply is complete"

  # AG-UI, a tool call and an approval answered by ticking a box.
  "$bin" new demo-deploy --agent ag-ui-operator > /dev/null
  echo "Restart the backup service (demo check)" > "$inbox/demo-deploy/restart.md"
  approval="$inbox/demo-deploy/restart.reply.approval-1.md"
  wait_for 20 "the approval request" test -s "$approval"
  echo "approval request:"
  cat "$approval"
  sed 's/^- \[ \] Approve/- [x] Approve/' "$approval" > "$approval.tmp" && mv "$approval.tmp" "$approval"
  echo "ticked Approve"
  wait_for 20 "the approved run to finish" grep -qs "status: complete" "$inbox/demo-deploy/restart.reply.md"
  echo "tool call:"
  cat "$inbox/demo-deploy/restart.reply.tool-1.md"
  echo "reply file:"
  cat "$inbox/demo-deploy/restart.reply.md"
  exit 0
fi

echo "  Stop with Ctrl-C."
wait "${pids[1]}"
