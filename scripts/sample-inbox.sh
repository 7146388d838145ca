#!/usr/bin/env bash
# Regenerates this repository's sample inbox (inbox/) with the real daemon and the reference runtime:
# threads in the states the site shows (replied, streamed, regenerated, approved, rejected, aborted,
# failed, retrying, queued, edited after send, a rejected file, a draft), over both protocols.
#   scripts/sample-inbox.sh [--into DIR]    (default: this repository's inbox/)
# Nothing here is faked: every journal line comes from the daemon doing the work.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="${LETTERBOX_BIN:-$here/.build/debug/letterbox}"
into="$here/inbox"
if [ "${1:-}" = "--into" ]; then into="$2"; fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

ws="$work/sample"
"$bin" init "$ws" > /dev/null
port=$((20000 + RANDOM % 20000))
sed -i "s/127.0.0.1:8787/127.0.0.1:$port/" "$ws/letterbox.yaml"
export LETTERBOX_TOKEN="sample-$RANDOM$RANDOM"
cd "$ws"

"$bin" runtime serve --port "$port" --stream-interval-ms 60 > "$work/runtime.log" 2>&1 &
pids+=($!)

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds, or fails saying what it waited for.
wait_for() {
  local tries=$(($1 * 10)) what="$2"; shift 2
  for _ in $(seq 1 "$tries"); do "$@" && return 0; sleep 0.1; done
  echo "timed out waiting for $what"; tail -n 30 "$work/daemon.log" 2>/dev/null; exit 1
}
wait_for 10 "the runtime" grep -q "listening on" "$work/runtime.log"

start_daemon() {
  "$bin" daemon --no-site > "$work/daemon.log" 2>&1 &
  daemon=$!
  pids+=("$daemon")
  wait_for 10 "the daemon" grep -q "letterbox daemon ready" "$work/daemon.log"
}
stop_daemon() {
  kill -TERM "$daemon"
  wait "$daemon" 2>/dev/null || true
}
fault() {
  curl -fsS -H "Authorization: Bearer $LETTERBOX_TOKEN" -H "Content-Type: application/json" \
    -d "{\"faults\": [$1]}" "http://127.0.0.1:$port/_reference/faults" > /dev/null
}
status_of() { grep -qs "^status: $2" "inbox/$1"; }
tick() { sed -i "s/^- \[ \] $2/- [x] $2/" "inbox/$1"; }

start_daemon

# welcome: answered, then edited after it was sent (recorded, never re-sent).
echo "Is the nightly backup healthy? Both db-1 and db-2 ran last night." > inbox/welcome/backup.md
wait_for 20 "welcome/backup" status_of welcome/backup.reply.md complete
printf "Is the nightly backup healthy? Both db-1 and db-2 ran last night.\n\nEdited: and db-3?\n" > inbox/welcome/backup.md

# release-notes: a streamed answer, then regenerated (the old answer is kept beside the new one).
"$bin" new release-notes --title "Release notes for 1.4" --agent writer > /dev/null
echo "Draft the release notes for version 1.4: faster builds, AG-UI support, fewer retries." \
  > inbox/release-notes/draft.md
wait_for 30 "release-notes/draft" status_of release-notes/draft.reply.md complete
"$bin" regenerate release-notes draft > /dev/null
wait_for 30 "the regenerated answer" status_of release-notes/draft.reply-2.md complete

# runbook: a tool call approved by ticking the box; another rejected with a note.
"$bin" new runbook --title "Runbook: backups" --agent operator > /dev/null
echo "Restart the backup service on db-1." > inbox/runbook/restart.md
wait_for 20 "the approval request" test -s inbox/runbook/restart.reply.approval-1.md
tick runbook/restart.reply.approval-1.md Approve
wait_for 20 "runbook/restart" status_of runbook/restart.reply.md complete
echo "Restart it again, just to be sure." > inbox/runbook/again.md
wait_for 20 "the second approval request" test -s inbox/runbook/again.reply.approval-1.md
tick runbook/again.reply.approval-1.md Reject
echo "Not twice in a row; it is healthy now." >> inbox/runbook/again.reply.approval-1.md
wait_for 20 "runbook/again" status_of runbook/again.reply.md complete

# incidents: aborted mid-stream; a message to an agent without the chat scope fails with the reason;
# a file with broken front matter is rejected with what to do.
"$bin" new incidents --title "Incident review" --agent writer > /dev/null
echo "Write up last night's backup incident in detail." > inbox/incidents/write-up.md
wait_for 20 "the write-up to stream" status_of incidents/write-up.reply.md streaming
sleep 0.5
"$bin" abort incidents > /dev/null
wait_for 20 "the abort" status_of incidents/write-up.reply.md aborted
printf -- "---\nagent: copilot\n---\nSummarise the incident for the status page.\n" > inbox/incidents/summary.md
printf -- "---\nagent: [writer\n---\nThis front matter is broken.\n" > inbox/incidents/broken.md
wait_for 20 "the failure" grep -qs '"failed"' inbox/incidents/journal.jsonl

# deploy and notes-ag-ui: the same agents over AG-UI.
"$bin" new deploy --title "Deploy (AG-UI)" --agent ag-ui-operator > /dev/null
echo "Restart the backup service on db-2." > inbox/deploy/restart.md
wait_for 20 "the AG-UI approval request" test -s inbox/deploy/restart.reply.approval-1.md
tick deploy/restart.reply.approval-1.md Approve
wait_for 20 "deploy/restart" status_of deploy/restart.reply.md complete
"$bin" new notes-ag-ui --title "Notes (AG-UI)" --agent ag-ui-writer > /dev/null
echo "Notes on moving the backups to the new cluster." > inbox/notes-ag-ui/move.md
wait_for 30 "notes-ag-ui/move" status_of notes-ag-ui/move.reply.md complete

# The runtime falters: five 503s in a row open the breaker (degraded), then it recovers and delivers.
"$bin" new capacity --title "Capacity planning" --agent assistant > /dev/null
fault '{"method": "POST", "path": "/external/chat/messages", "status": 503, "retryAfter": "1", "count": 5}'
echo "How much disk will the backups need next quarter?" > inbox/capacity/disk.md
wait_for 60 "capacity/disk after the outage" status_of capacity/disk.reply.md complete

# Left in flight when the daemon stops: one message retrying (the runtime asked to wait an hour).
fault '{"method": "POST", "path": "/external/chat/messages", "status": 429, "retryAfter": "3600", "count": 1}'
echo "And the cost of that disk?" > inbox/capacity/cost.md
wait_for 20 "the retry" grep -qs '"event":"retry_scheduled".*"target":"cost"' inbox/capacity/journal.jsonl
stop_daemon

# Queued: written while no daemon runs (it is sent when one starts).
echo "Also plan for the logs, please." > inbox/capacity/logs.md

"$bin" audit verify > /dev/null
rm -rf "$into"
cp -R inbox "$into"
echo "sample inbox written to $into"
