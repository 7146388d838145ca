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
"$bin" build --quiet
"$bin" daemon --runtime-url "http://127.0.0.1:$port" > "$state/daemon.log" 2>&1 &
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

TEXT

if [ "$check" = "--check" ]; then
  message="$workspace/inbox/welcome/demo-check.md"
  echo "Is the nightly backup healthy? (demo check)" > "$message"
  for _ in $(seq 1 200); do
    grep -qs "status: complete" "$workspace/inbox/welcome/demo-check.reply.md" \
      && grep -qs "demo-check.reply.md" "$workspace/site/threads/welcome.html" && break
    sleep 0.1
  done
  echo "reply file:"
  cat "$workspace/inbox/welcome/demo-check.reply.md"
  grep -q "status: complete" "$workspace/inbox/welcome/demo-check.reply.md"
  grep -q "demo-check.reply.md" "$workspace/site/threads/welcome.html"
  echo "site page: $workspace/site/threads/welcome.html shows the reply and its delivery history"
  exit 0
fi

echo "  Stop with Ctrl-C."
wait "${pids[1]}"
