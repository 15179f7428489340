#!/usr/bin/env bash
# CI smoke test of the benchmark suite: build the release binaries, run `bench/run.py --quick`.
# Fails only when a scenario fails outright (daemon died, state never reached, bytes lost,
# ...), never on slow numbers. supervisord is included when its venv exists or can be
# created from PyPI; otherwise it is skipped with a note and only our binaries run.
set -euo pipefail
cd "$(dirname "$0")/.."
# The http scenario drives the daemon with wrk (Debian's package), installed here when missing.
if ! command -v wrk >/dev/null; then
    echo "bench/smoke.sh: installing wrk (apt-get) for the http scenario" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -p rsupervisord -p rsupervisorctl
# Absolute: the harness runs each daemon from its own temporary directory.
bindir=$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)
venv="${TMPDIR:-/tmp}/rsupervisor-sv"
only=ours
if [ -x "$venv/bin/supervisord" ] \
   || { python3 -m venv "$venv" >/dev/null 2>&1 \
        && "$venv/bin/pip" install -q supervisor==4.3.0 >/dev/null 2>&1; }; then
    only=ours,supervisord
else
    echo "bench/smoke.sh: supervisor 4.3.0 not available (no venv, PyPI unreachable?);" \
         "running our binaries only" >&2
fi
exec python3 bench/run.py --quick --only "$only" --venv "$venv" --no-install \
    --bin-dir "$bindir" "$@"
