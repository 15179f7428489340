# Installed next to supervisor's test_end_to_end.py by tests/upstream/run.sh. With
# RSUPERVISOR_UPSTREAM_SHIM set, the tests' `pexpect.spawn(sys.executable, ['-m',
# 'supervisor.supervisord', ...])` runs the wrapper, which runs our binaries instead.
import os
import sys

shim = os.environ.get("RSUPERVISOR_UPSTREAM_SHIM")
if shim:
    sys.executable = shim
