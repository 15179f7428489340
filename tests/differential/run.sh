#!/bin/sh
# Differential check of rsupervisor-config against Python supervisor 4.3.0.
# Creates (or reuses) a venv with supervisor==4.3.0, builds the `dump` example and compares
# every fixture under tests/fixtures/config. Exits non-zero on any disagreement.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${RSUPERVISOR_SV_VENV:-${TMPDIR:-/tmp}/rsupervisor-sv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import supervisor' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q supervisor==4.3.0
fi
cd "$root"
cargo build -q -p rsupervisor-config --example dump
target=${CARGO_TARGET_DIR:-$root/target}
exec "$venv/bin/python" "$root/tests/differential/compare_configs.py" "$target/debug/examples/dump" "$root/tests/fixtures/config"
