#!/usr/bin/env python3
"""Wake-ups of rsupervisord with many scheduled jobs (issue 14's measurement).

Starts `rsupervisord -n` with N jobs (`/bin/true`, `schedule = * * * * *`, logs off) in a temp
dir, lets one due minute pass (all N run at :00), then counts the daemon's voluntary context
switches, summed over all its threads (/proc/PID/task/*/status), over an idle window between
two due times (:10 to :50 by default) and across the next due time. A daemon that sleeps until
the next deadline shows 0 in the idle window. Standard library only; Linux only.

    cargo build -p rsupervisord        # or --release
    python3 bench/schedules.py --bin target/debug/rsupervisord --jobs 1000
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def switches(pid):
    """Voluntary context switches per thread id."""
    counts = {}
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as status:
                for line in status:
                    if line.startswith("voluntary_ctxt_switches"):
                        counts[task] = int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return counts


def delta(before, after):
    """Switches between two samples: threads in both, plus every thread that appeared; a
    thread that ended in between is counted as one (it woke up at least to end)."""
    total = sum(after[t] - before.get(t, 0) for t in after)
    ended = [t for t in before if t not in after]
    return total + len(ended), len(ended)


def wait_for_second(second):
    """Sleeps until the wall clock shows this second of a minute."""
    now = time.time()
    target = now + (second - now % 60) % 60
    while time.time() < target:
        time.sleep(min(target - time.time(), 1.0) if target > time.time() else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default="target/release/rsupervisord")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--idle-from", type=int, default=10, help="second of the minute")
    parser.add_argument("--idle-to", type=int, default=50, help="second of the minute")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()
    binary = os.path.abspath(args.bin)
    work = tempfile.mkdtemp(prefix="rsv-sched-")
    lines = [
        "[supervisord]", f"logfile={work}/s.log", f"pidfile={work}/s.pid",
        f"childlogdir={work}", "",
        "[unix_http_server]", f"file={work}/s.sock", "",
    ]
    for i in range(args.jobs):
        lines += [f"[program:j{i}]", "command=/bin/true", "schedule=* * * * *",
                  "stdout_logfile=NONE", "stderr_logfile=NONE", ""]
    with open(f"{work}/s.conf", "w") as conf:
        conf.write("\n".join(lines))
    daemon = subprocess.Popen([binary, "-n", "-c", f"{work}/s.conf"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # One due minute first, so the numbers are for a daemon that has run its jobs.
        wait_for_second(59)
        wait_for_second(args.idle_from)
        with open(f"{work}/s.log") as log:
            runs = log.read().count("run ended")
        before = switches(daemon.pid)
        started = time.time()
        wait_for_second(args.idle_to)
        idle, ended = delta(before, switches(daemon.pid))
        window = time.time() - started
        before = switches(daemon.pid)
        wait_for_second(args.idle_from)
        across, _ = delta(before, switches(daemon.pid))
        with open(f"{work}/s.log") as log:
            runs_after = log.read().count("run ended")
        print(f"{args.jobs} jobs due every minute ({runs} runs done before the window)")
        print(f"idle window {window:.1f} s between due times: {idle} voluntary context switches"
              f" ({ended} threads ended)")
        print(f"across the next due time ({runs_after - runs} runs): {across}")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
