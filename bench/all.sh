#!/usr/bin/env bash
# Every system in one command: bench/run.py (rsupervisord and supervisord 4.3.0, alternating
# rounds; arguments are passed on), then the same machine's pm2 and circus figures from
# bench/pm2peer.py and bench/circuspeer.py (their own config and CLI: idle RSS/CPU/wake-ups
# with 100 sleepers, cold status, respawn after SIGKILL, stop all). pm2 comes from the npm
# registry and circus from PyPI, each installed once under $TMPDIR; a peer that cannot be
# installed is skipped with a note. Release binaries must be built first (see BENCHMARKS.md).
set -uo pipefail
cd "$(dirname "$0")/.."
tmp="${TMPDIR:-/tmp}"
pm2_dir="$tmp/rsupervisor-pm2"
circus_venv="$tmp/rsupervisor-circus"
status=0
python3 bench/run.py "$@" || status=$?
if [ ! -x "$pm2_dir/node_modules/.bin/pm2" ]; then
    mkdir -p "$pm2_dir" && (cd "$pm2_dir" && npm install --silent pm2@7.0.4 >/dev/null 2>&1) \
        || echo "bench/all.sh: pm2 could not be installed from npm; skipped" >&2
fi
if [ -x "$pm2_dir/node_modules/.bin/pm2" ]; then
    echo "== pm2 =="
    python3 bench/pm2peer.py "$pm2_dir/node_modules/.bin/pm2" 100 || status=1
fi
if [ ! -x "$circus_venv/bin/circusd" ]; then
    { python3 -m venv "$circus_venv" && "$circus_venv/bin/pip" install -q circus==0.19.0; } \
        >/dev/null 2>&1 || echo "bench/all.sh: circus could not be installed from PyPI; skipped" >&2
fi
if [ -x "$circus_venv/bin/circusd" ]; then
    echo "== circus =="
    python3 bench/circuspeer.py "$circus_venv" 100 || status=1
fi
exit "$status"
