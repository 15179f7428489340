#!/usr/bin/env bash
# Runs every test of the project, as CI does: unit and end-to-end tests (the e2e tests start
# the real binaries, so those are built first), the differential check of the configuration
# loader against Python supervisor 4.3.0, supervisor's own end-to-end tests run with our
# binaries (tests/upstream/run.sh), and the package test. The dashboard test needs
# Debian's chromium and chromium-driver, installed here when missing (as root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "==> installing Debian's chromium and chromium-driver (the dashboard test drives them)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi

echo "==> building binaries"
cargo build --workspace --bins

echo "==> unit and end-to-end tests"
cargo test --workspace

echo "==> differential check against supervisor 4.3.0"
tests/differential/run.sh

echo "==> supervisor 4.3.0's own end-to-end tests, run with our binaries"
tests/upstream/run.sh --ours-only

if [ -x packaging/test.sh ]; then
    echo "==> package test"
    packaging/test.sh
fi
