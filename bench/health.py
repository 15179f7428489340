#!/usr/bin/env python3
"""Health-check and dependency benchmark for rsupervisord (standard library only, Linux).

Two measurements (BENCHMARKS.md, "Dependencies and health checks"):

1. latency: PAIRS pairs `db_i` (healthcheck=file:ready_i, interval 100ms) and `app_i`
   (depends_on=db_i:healthy). Once every app waits, the ready files are created one every
   150 ms; for each
   pair the time from the main-log line `healthy: db_i` to `spawned: 'app_i'` (millisecond
   timestamps) is the daemon's own delay: the probe's time is before the first line.
2. cpu: N programs, each probed every second (file: or tcp: to one loopback listener kept by
   this script); the daemon's CPU time over a WINDOW-second window once all are RUNNING.

    python3 bench/health.py --bin-dir target/release [--n 1000] [--window 30] [--probe file|tcp]
"""

import argparse
import datetime
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def header(d):
    return (
        f"[unix_http_server]\nfile={d}/s.sock\n\n"
        f"[supervisord]\nlogfile={d}/main.log\npidfile={d}/s.pid\nchildlogdir={d}\n"
        f"nodaemon=true\nminfds=8192\n\n"
        f"[supervisorctl]\nserverurl=unix://{d}/s.sock\n\n"
    )


def ctl(args, d, *verb):
    return subprocess.run(
        [os.path.join(args.bin_dir, "rsupervisorctl"), "-c", f"{d}/s.conf", *verb],
        capture_output=True, text=True, timeout=120,
    ).stdout


def start(args, d, programs):
    with open(f"{d}/s.conf", "w") as f:
        f.write(header(d) + programs)
    daemon = subprocess.Popen(
        [os.path.join(args.bin_dir, "rsupervisord"), "-n", "-c", f"{d}/s.conf"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while not os.path.exists(f"{d}/s.sock") and time.time() < deadline:
        time.sleep(0.05)
    return daemon


def wait_for(what, check, deadline_s=300):
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")


def stamp(line):
    return datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def latency(args):
    with tempfile.TemporaryDirectory(prefix="rsh-") as d:
        programs = ""
        for i in range(args.pairs):
            programs += (
                f"[program:db_{i}]\ncommand=sleep infinity\nstartsecs=0\n"
                f"healthcheck=file:{d}/ready_{i}\nhealthcheck_interval=100ms\n"
                f"healthcheck_retries=1000\n\n"
                f"[program:app_{i}]\ncommand=sleep infinity\nstartsecs=0\n"
                f"depends_on=db_{i}:healthy\n\n"
            )
        daemon = start(args, d, programs)
        try:
            wait_for("apps waiting", lambda: ctl(args, d, "status").count("waiting for db_") == args.pairs)
            # One dependency at a time, so each delay is the daemon's alone (not a burst of
            # fifty forks in the same turn).
            for i in range(args.pairs):
                open(f"{d}/ready_{i}", "w").close()
                time.sleep(0.15)
            wait_for("apps running", lambda: ctl(args, d, "status").count("RUNNING") == 2 * args.pairs)
            log = open(f"{d}/main.log").read().splitlines()
            delays = []
            for i in range(args.pairs):
                healthy = next(l for l in log if f"healthy: db_{i} passed" in l)
                spawned = next(l for l in log if f"spawned: 'app_{i}'" in l)
                delays.append((stamp(spawned) - stamp(healthy)) * 1000)
            delays.sort()
            print(f"latency healthy -> dependent spawned over {args.pairs} pairs: "
                  f"median {delays[len(delays) // 2]:.0f} ms, max {delays[-1]:.0f} ms "
                  f"(log timestamps, 1 ms resolution)")
        finally:
            daemon.terminate()
            daemon.wait(timeout=120)


def cpu(args):
    listener = None
    if args.probe == "tcp":
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(4096)
        port = listener.getsockname()[1]

        def accept():
            while True:
                conn, _ = listener.accept()
                conn.close()

        threading.Thread(target=accept, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="rsh-") as d:
        open(f"{d}/ready", "w").close()
        check = f"file:{d}/ready" if args.probe == "file" else f"tcp://127.0.0.1:{port}"
        programs = "".join(
            f"[program:p_{i}]\ncommand=sleep infinity\nstartsecs=0\n"
            f"healthcheck={check}\nhealthcheck_interval=1s\n\n"
            for i in range(args.n)
        )
        daemon = start(args, d, programs)
        try:
            wait_for("all running", lambda: ctl(args, d, "status").count(", healthy") == args.n)
            before = cpu_seconds(daemon.pid)
            time.sleep(args.window)
            used = cpu_seconds(daemon.pid) - before
            print(f"cpu with {args.n} programs probed every second ({args.probe}): "
                  f"{used:.2f} s over {args.window} s = {100 * used / args.window:.1f}% of one core")
        finally:
            daemon.terminate()
            daemon.wait(timeout=300)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default="target/release")
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--window", type=int, default=30)
    parser.add_argument("--probe", choices=["file", "tcp"], default="file")
    parser.add_argument("--only", choices=["latency", "cpu"])
    args = parser.parse_args()
    if args.only in (None, "latency"):
        latency(args)
    if args.only in (None, "cpu"):
        cpu(args)


if __name__ == "__main__":
    main()
