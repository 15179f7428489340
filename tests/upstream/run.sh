#!/bin/sh
# Runs supervisor 4.3.0's own end-to-end tests (supervisor/tests/test_end_to_end.py and its
# fixtures, from the PyPI package) twice: as shipped, against Python supervisord and
# supervisorctl, then with their invocations (`sys.executable -m supervisor.supervisord` and
# `-m supervisor.supervisorctl`) sent to our rsupervisord and rsupervisorctl by a wrapper
# (python-shim) that conftest.py installs as sys.executable. Every other use of the
# interpreter (pidproxy, confecho, the fixtures' own Python programs) stays Python's.
#
# Prints both results and exits non-zero when a test passes for supervisord and fails for
# us, unless it is listed in expected-failures.txt (with the reason, also in README).
#
# Usage: tests/upstream/run.sh [--ours-only] [pytest args, e.g. -k 638]
#   (binaries from `cargo build --bins`). --ours-only skips the supervisord run (about 75 of
#   the 110 s) and holds us to what it measured: every test passes for supervisord 4.3.0
#   (tests/run-all.sh runs this). RSUPERVISOR_UPSTREAM_KEEP=1 keeps the work directory
#   (pytest logs and JUnit XML of both runs).
# The fixtures use fixed paths (/tmp/issue-*.sock, ...): runs are serialized by a lock.
set -eu
ours_only=
if [ "${1-}" = --ours-only ]; then
    ours_only=1
    shift
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tests/upstream"
target=${CARGO_TARGET_DIR:-$root/target}
# The virtualenv of the other compatibility tests (tests/src/python.rs,
# tests/differential/run.sh), with pexpect and pytest added; installed under its lock.
venv=${RSUPERVISOR_SV_VENV:-${TMPDIR:-/tmp}/rsupervisor-sv}
(
    flock 9
    if ! "$venv/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("supervisor") != "4.3.0")' 2>/dev/null; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q supervisor==4.3.0
    fi
    "$venv/bin/python" -c 'import pexpect, pytest' 2>/dev/null || "$venv/bin/pip" install -q pexpect pytest
) 9>"$venv.lock"
py="$venv/bin/python"
"$py" -c 'import importlib.metadata as m, sys; sys.exit(m.version("supervisor") != "4.3.0")' || {
    echo "$venv does not hold supervisor 4.3.0" >&2
    exit 2
}
for bin in rsupervisord rsupervisorctl; do
    [ -x "$target/debug/$bin" ] || { echo "missing $target/debug/$bin: cargo build --bins" >&2; exit 2; }
done

# The suite as a package of its own (its fixtures are found relative to __package__).
work=$(mktemp -d "${TMPDIR:-/tmp}/rsupervisor-upstream.XXXXXX")
[ -n "${RSUPERVISOR_UPSTREAM_KEEP-}" ] && echo "keeping $work" >&2 || trap 'rm -rf "$work"' EXIT
src=$("$py" -c 'import os, supervisor.tests as t; print(os.path.dirname(t.__file__))')
mkdir "$work/upstream_e2e"
: > "$work/upstream_e2e/__init__.py"
cp "$src/test_end_to_end.py" "$work/upstream_e2e/"
cp -R "$src/fixtures" "$work/upstream_e2e/fixtures"
rm -rf "$work/upstream_e2e/fixtures/__pycache__"
# test_issue_565 runs fixtures/hello.sh, which the PyPI package lacks (there supervisord
# itself fails it: "gave up: hello entered FATAL state"). A stand-in of ours: ten lines of
# non-ASCII text, one a second, the lines the test waits for in `tail -f`.
if [ ! -e "$work/upstream_e2e/fixtures/hello.sh" ]; then
    cat >"$work/upstream_e2e/fixtures/hello.sh" <<'EOF'
#!/bin/bash
# Stand-in written by rsupervisor's tests/upstream/run.sh.
for i in 1 2 3 4 5 6 7 8 9 10; do
    echo "The Øresund bridge ends in Malmö - $i"
    sleep 1
done
EOF
fi
cp "$here/conftest.py" "$work/upstream_e2e/"

# The fixtures run `python`: the venv's, as in supervisor's own tox runs.
PATH="$venv/bin:$PATH"
END_TO_END=1
PYTHONDONTWRITEBYTECODE=1
export PATH END_TO_END PYTHONDONTWRITEBYTECODE

run() { # $1 = label; the rest for pytest
    label=$1
    shift
    (cd "$work" && "$py" -m pytest -p no:cacheprovider -q -rA --junitxml="$work/$label.xml" \
        upstream_e2e/test_end_to_end.py "$@" >"$work/$label.log" 2>&1) || true
}

exec 8>"${TMPDIR:-/tmp}/rsupervisor-upstream.lock"
flock 8
start=$(date +%s)
if [ -n "$ours_only" ]; then
    reference=-
else
    run supervisord "$@"
    reference="$work/supervisord.xml"
fi
RSUPERVISOR_UPSTREAM_SHIM="$here/python-shim" RSUPERVISOR_UPSTREAM_PYTHON="$py" \
    RSUPERVISORD="$target/debug/rsupervisord" RSUPERVISORCTL="$target/debug/rsupervisorctl" \
    run rsupervisor "$@"
end=$(date +%s)

"$py" "$here/compare.py" "$reference" "$work/rsupervisor.xml" \
    "$here/expected-failures.txt" "$work/rsupervisor.log" && status=0 || status=1
echo "took $((end - start)) s"
exit $status
