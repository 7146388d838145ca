#!/usr/bin/env bash
# The Letterbox demo: the reference runtime, the daemon and the site preview, on a scratch copy of this
# repository's sample inbox (inbox/ and letterbox.yaml are copied, never changed: git stays clean).
#   scripts/demo.sh            run until Ctrl-C, printing "Try it" lines that work as printed
#   scripts/demo.sh --check    drop messages, wait for the replies and pages, print them, stop (for tests)
# Environment: LETTERBOX_BIN (default .build/debug/letterbox), LETTERBOX_DEMO_DIR (the scratch workspace,
# default .build/demo, made again at every start), LETTERBOX_DEMO_PORT (the runtime, default 8787),
# LETTERBOX_DEMO_SITE_PORT (the site, default 8788).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
check="${1:-}"
bin="${LETTERBOX_BIN:-$here/.build/debug/letterbox}"
demo="${LETTERBOX_DEMO_DIR:-$here/.build/demo}"
port="${LETTERBOX_DEMO_PORT:-8787}"
site_port="${LETTERBOX_DEMO_SITE_PORT:-8788}"

if [ ! -x "$bin" ]; then
  echo "demo: $bin is not built; run \`make demo\` (it builds first) or \`swift build\`" >&2
  exit 1
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
bindir="$(dirname "$bin")"

# A fresh scratch workspace: only ever one this script made (it carries a marker), so a mistyped
# LETTERBOX_DEMO_DIR can never delete anything else.
if [ -e "$demo" ] && [ ! -e "$demo/.letterbox-demo" ]; then
  echo "demo: $demo exists and is not a demo workspace; set LETTERBOX_DEMO_DIR to another folder" >&2
  exit 1
fi
rm -rf "$demo"
mkdir -p "$demo/site" "$demo/.letterbox"
touch "$demo/.letterbox-demo"
# Copies, never hard links: the daemon refuses hard-linked files (docs/daemon.md, "At the edges").
cp -R "$here/inbox" "$demo/inbox"
sed "s#127\.0\.0\.1:8787#127.0.0.1:$port#g" "$here/letterbox.yaml" > "$demo/letterbox.yaml"
demo="$(cd "$demo" && pwd)"
# Its own git repository, as `letterbox init` makes one: the daemon commits every message and reply
# there (docs/daemon.md, "Git"), never in this repository, whose .gitignore hides .build/ anyway.
cat > "$demo/.gitignore" <<'IGNORE'
/site/*
/.letterbox/
/.letterbox-demo
.lb-tmp-*
*.token
/token
IGNORE
git -C "$demo" -c init.defaultBranch=main init --quiet
git -C "$demo" add --all
git -C "$demo" -c user.name=Letterbox -c user.email=letterbox@localhost \
  commit --quiet --no-gpg-sign --message "demo: a copy of the sample inbox"
state="$demo/.letterbox"
export PATH="$bindir:$PATH"

# A token for this run only, never printed (.letterbox/ is not in git).
(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$state/demo-token")
export LETTERBOX_TOKEN="$(cat "$state/demo-token")"

pids=()
stopping=""
cleanup() {
  [ -n "$stopping" ] && return
  stopping=1
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
# Ctrl-C (SIGINT) or SIGTERM: stop the daemon and the runtime, then end with status 0, so make does
# not report an error for a demo stopped the way it says to stop it.
trap 'cleanup; echo; echo "  Stopped. The demo workspace stays in $demo until the next make demo."; exit 0' INT TERM
trap cleanup EXIT

letterbox runtime serve --port "$port" > "$state/runtime.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "listening on" "$state/runtime.log" 2>/dev/null && break
  sleep 0.1
done
grep -q "listening on" "$state/runtime.log" || { echo "the reference runtime did not start:"; cat "$state/runtime.log"; exit 1; }

cd "$demo"
letterbox build --quiet
letterbox daemon --serve --serve-port "$site_port" > "$state/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  grep -q "letterbox daemon ready" "$state/daemon.log" 2>/dev/null && grep -q "serving site/ at" "$state/daemon.log" && break
  sleep 0.1
done
grep -q "letterbox daemon ready" "$state/daemon.log" || { echo "the daemon did not start:"; cat "$state/daemon.log"; exit 1; }
site_url="$(sed -n 's#.*serving site/ at \(http://[^ ]*\) .*#\1#p' "$state/daemon.log" | tail -n 1)"

cat <<TEXT

  Letterbox is running, on a copy of the sample inbox.
    runtime    http://127.0.0.1:$port  (the reference runtime: deterministic demo agents for trying
               Letterbox, not a production agent runtime)
    workspace  $demo  (made again at every make demo; ./inbox is not touched)
    site       $site_url  (pages reload in the browser when they change)
    logs       $state/daemon.log, $state/runtime.log

  Try it, in another terminal (each line works as printed, in this order):
    cd "$demo" && export PATH="$bindir:\$PATH"
    echo "Is the nightly backup healthy?" > inbox/welcome/nightly.md
    letterbox new notes --agent writer && echo "Draft the release notes" > inbox/notes/release.md
    letterbox new restarts --agent operator && echo "Restart the backup service" > inbox/restarts/restart.md
    letterbox approve restarts   # once inbox/restarts/restart.reply.approval-1.md is there (or tick Approve in it)
    letterbox new ag-ui-restarts --agent ag-ui-operator && echo "Restart the backup service" > inbox/ag-ui-restarts/restart.md
    letterbox approve ag-ui-restarts   # the same agents over AG-UI (runtime reference-ag-ui in letterbox.yaml)
    letterbox new ag-ui-notes --agent ag-ui-writer && echo "Write the release notes" > inbox/ag-ui-notes/notes.md
    letterbox status
    git log --oneline -8   # the daemon commits each message as you, each reply as Letterbox

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
  inbox="$demo/inbox"
  # The control plane: a message gets a reply file and a page with its delivery history.
  echo "Is the nightly backup healthy? (demo check)" > "$inbox/welcome/demo-check.md"
  wait_for 20 "the reply" grep -qs "status: complete" "$inbox/welcome/demo-check.reply.md"
  wait_for 20 "the site page" grep -qs "demo-check.reply.md" "$demo/site/threads/welcome.html"
  echo "reply file:"
  cat "$inbox/welcome/demo-check.reply.md"
  echo "site page: $demo/site/threads/welcome.html shows the reply and its delivery history"

  # AG-UI, streaming: the writer's reply file is seen growing before it completes.
  letterbox new demo-writer --agent ag-ui-writer > /dev/null
  echo "Release notes (demo check)" > "$inbox/demo-writer/notes.md"
  wait_for 20 "the AG-UI writer to stream" grep -qs "status: streaming" "$inbox/demo-writer/notes.reply.md"
  echo "AG-UI writer: the reply is streaming"
  wait_for 30 "the AG-UI writer to finish" grep -qs "status: complete" "$inbox/demo-writer/notes.reply.md"
  echo "AG-UI writer: the reply is complete"

  # AG-UI, a tool call and an approval answered by ticking a box.
  letterbox new demo-deploy --agent ag-ui-operator > /dev/null
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
# Returns when the daemon ends by itself (Ctrl-C runs the trap above instead).
status=0
wait "${pids[1]}" || status=$?
echo "the daemon stopped (status $status); its log: $state/daemon.log"
tail -n 20 "$state/daemon.log"
exit 1
