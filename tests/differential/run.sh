#!/bin/sh
# Differential check of rsupervisor-config against Python supervisor 4.3.0.
# Creates (or reuses) a venv with supervisor==4.3.0, builds the `dump` example and compares
# every fixture under tests/fixtures/config, then fuzzes the INI reader and the value
# conversions against supervisor's own code. Exits non-zero on any disagreement.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
venv=${RSUPERVISOR_SV_VENV:-${TMPDIR:-/tmp}/rsupervisor-sv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import supervisor' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q supervisor==4.3.0
fi
cd "$root"
cargo build -q -p rsupervisor-config --example dump --example ini_dump --example probe
target=${CARGO_TARGET_DIR:-$root/target}
py="$venv/bin/python"
status=0
# 1. every fixture: effective per-process settings, parse messages, error texts
"$py" "$root/tests/differential/compare_configs.py" "$target/debug/examples/dump" "$root/tests/fixtures/config" || status=1
# 2. random INI files through both parsers
"$py" "$root/tests/differential/fuzz_ini.py" "$target/debug/examples/ini_dump" 1000 1 || status=1
# 3. random values through every conversion and %-expansion
"$py" "$root/tests/differential/fuzz_values.py" "$target/debug/examples/probe" 4000 1 || status=1
exit $status
