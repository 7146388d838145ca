#!/usr/bin/env bash
# Create or refresh <repo>/.venv with the Python packages the test peers need.
#
# Idempotent and quick when nothing changed: the venv records the sha256 of requirements.txt in a
# stamp file after a successful install, and a matching stamp plus a working interpreter means
# there is nothing to do. Needs python3 >= 3.11 with the venv module (Debian 12: python3-venv).
# PYTHON=/path/to/python3 picks another interpreter.
set -euo pipefail

peers_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$peers_dir/../.." && pwd)"
venv="$repo_root/.venv"
requirements="$peers_dir/requirements.txt"
stamp="$venv/.peers-requirements.sha256"
python="${PYTHON:-python3}"

wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
    exit 0
fi

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup-venv.sh: $python is $("$python" --version 2>&1); pydantic-ai needs Python >= 3.11" >&2
    exit 1
fi

# Serialise concurrent runs (say, two test processes starting at once). The lock lives outside the
# venv so that recreating the venv cannot delete it while it is held.
exec 9>"${TMPDIR:-/tmp}/letterbox-venv-$(echo "$venv" | sha256sum | cut -c1-16).lock"
flock 9
if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]] && "$venv/bin/python" -c '' 2>/dev/null; then
    exit 0
fi

if ! "$venv/bin/python" -c '' 2>/dev/null; then
    # Missing, or left behind by an interpreter that is gone: start afresh.
    "$python" -m venv --clear "$venv"
fi
rm -f "$stamp"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
echo "$wanted" >"$stamp"
echo "setup-venv.sh: installed the peers' requirements into $venv" >&2
