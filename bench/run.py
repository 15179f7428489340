#!/usr/bin/env python3
"""rsupervisor benchmark: our release binaries, side by side with supervisord 4.3.0.

Python 3 standard library only, Linux only (reads /proc). See bench/README.md.

    python3 bench/run.py                 # full run, both systems, 3 alternating rounds
    python3 bench/run.py --quick         # about a minute per system
    python3 bench/run.py --quick --only ours --json /tmp/b.json

Every scenario round gets a fresh temp dir with its own config, socket and logs; the
daemon is a child of this script, which is a child subreaper, and is killed by pid
together with every descendant when the round ends.
"""

import argparse
import ctypes
import json
import os
import platform
import pty
import random
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")
SLEEP = shutil.which("sleep") or "/bin/sleep"
TRUE = shutil.which("true") or "/bin/true"


class Fail(Exception):
    """A scenario round failed outright (not a slow number)."""


# --------------------------------------------------------------------------- /proc


def stat_fields(pid):
    """Fields of /proc/PID/stat after the command name (index 0 = state)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    return data[data.rindex(b")") + 2 :].split()


def cpu_seconds(pid):
    f = stat_fields(pid)
    return (int(f[11]) + int(f[12])) / CLK_TCK  # utime + stime


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def task_totals(pid):
    """(voluntary ctx switches, nonvoluntary, schedstat run ns) summed over all threads."""
    vol = nonvol = run_ns = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        nonvol += int(line.split()[1])
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run_ns += int(f.read().split()[0])
        except OSError:
            pass
    return vol, nonvol, run_ns


def thread_count(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out.extend(int(x) for x in f.read().split())
            except OSError:
                pass
    except OSError:
        pass
    return out


def descendants(pid):
    seen, todo = [], [pid]
    while todo:
        for c in children(todo.pop()):
            if c not in seen:
                seen.append(c)
                todo.append(c)
    return seen


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[:-1]
    except OSError:
        return None


def alive(pid):
    """True while /proc/PID exists (a zombie counts: it is not reaped yet)."""
    return os.path.exists(f"/proc/{pid}")


def set_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_adopted():
    """Kill and reap everything re-parented to us (we are a subreaper)."""
    me = os.getpid()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for c in descendants(me):
            try:
                os.kill(c, signal.SIGKILL)
            except OSError:
                pass
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            if not children(me):
                return
            time.sleep(0.01)


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]  # total, idle+iowait


# --------------------------------------------------------------------------- stats


def pct(values, q):
    s = sorted(values)
    if not s:
        return None
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def median(values):
    return statistics.median(values) if values else None


# --------------------------------------------------------------------------- systems


class System:
    def __init__(self, name, daemon, ctl):
        self.name, self.daemon, self.ctl = name, daemon, ctl

    def daemon_argv(self, conf):
        if self.name == "ours":
            return [self.daemon, "-n", "-c", conf]
        return [self.daemon, "-n", "-c", conf]

    def ctl_argv(self, conf, *verb):
        return [self.ctl, "-c", conf, *verb]


def find_supervisord(args):
    if args.supervisord:
        d = args.supervisord
        c = args.supervisorctl or os.path.join(os.path.dirname(d), "supervisorctl")
        return System("supervisord", d, c), None
    venv = args.venv or os.path.join(os.environ.get("TMPDIR", "/tmp"), "rsupervisor-sv")
    d, c = os.path.join(venv, "bin", "supervisord"), os.path.join(venv, "bin", "supervisorctl")
    if not os.path.exists(d) and not args.no_install:
        try:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True,
                           stdout=subprocess.DEVNULL, timeout=300)
            subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q",
                            "supervisor==4.3.0"], check=True, timeout=600)
        except (subprocess.SubprocessError, OSError) as e:
            return None, f"could not install supervisor 4.3.0 into {venv}: {e}"
    if not os.path.exists(d):
        return None, f"no supervisord at {d} (use --supervisord PATH, or allow the install)"
    v = subprocess.run([d, "--version"], capture_output=True, text=True).stdout.strip()
    if v != "4.3.0":
        print(f"warning: {d} is supervisor {v!r}, not 4.3.0", file=sys.stderr)
    return System("supervisord", d, c), None


# --------------------------------------------------------------------------- daemon


RPC = ("[rpcinterface:supervisor]\n"
       "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n")


def sleeper(i, extra=""):
    return (f"[program:p{i:04d}]\ncommand={SLEEP} 100000\nstartsecs=0\nautostart=true\n"
            + extra)


class Daemon:
    """One daemon in a fresh temp dir; always use as a context manager."""

    def __init__(self, ctx, system, programs, minfds=1024):
        self.ctx, self.system = ctx, system
        self.dir = tempfile.mkdtemp(prefix=f"rsb-{system.name[:4]}-", dir=ctx.workdir)
        assert len(self.dir) < 70, self.dir
        self.sock = os.path.join(self.dir, "s.sock")
        self.log = os.path.join(self.dir, "daemon.log")
        self.conf = os.path.join(self.dir, "sv.conf")
        os.mkdir(os.path.join(self.dir, "logs"))
        self.programs, self.minfds = list(programs), minfds
        self.proc = None
        self.pid = None

    def __enter__(self):
        with open(self.conf, "w") as f:
            f.write(f"[unix_http_server]\nfile={self.sock}\n\n"
                    f"[supervisord]\nlogfile={self.log}\npidfile={self.dir}/d.pid\n"
                    f"childlogdir={self.dir}/logs\nnodaemon=true\nloglevel=info\n"
                    f"minfds={self.minfds}\n\n{RPC}\n"
                    f"[supervisorctl]\nserverurl=unix://{self.sock}\n\n")
            f.write("\n".join(self.programs))
        self.t_spawn = time.monotonic()
        self.out = open(os.path.join(self.dir, "daemon.out"), "wb")
        self.proc = subprocess.Popen(self.system.daemon_argv(self.conf), cwd=self.dir,
                                     stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        return self

    def __exit__(self, *exc):
        self.kill()
        if not self.ctx.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def kill(self):
        if self.proc is None:
            return
        desc = descendants(self.pid)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        for d in desc:
            try:
                os.kill(d, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        reap_adopted()
        self.out.close()
        self.proc = None

    def check_alive(self):
        if self.proc.poll() is not None:
            raise Fail(f"daemon exited with {self.proc.returncode}: " + self.tail_out())

    def tail_out(self):
        txt = ""
        for p in (os.path.join(self.dir, "daemon.out"), self.log):
            try:
                with open(p, errors="replace") as f:
                    txt += f.read()[-600:]
            except OSError:
                pass
        return txt.strip().replace("\n", " | ")

    def ctl(self, *verb, timeout=60):
        t0 = time.monotonic()
        try:
            r = subprocess.run(self.system.ctl_argv(self.conf, *verb), cwd=self.dir,
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail(f"ctl {' '.join(verb)} timed out after {timeout}s")
        return time.monotonic() - t0, r.returncode, r.stdout.decode(errors="replace")

    def status(self, timeout=60):
        """{name: (state, pid or None)} from `ctl status`."""
        _, _, out = self.ctl("status", timeout=timeout)
        res = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                m = re.search(r"pid (\d+)", line)
                res[parts[0]] = (parts[1], int(m.group(1)) if m else None)
        return res

    def wait_socket(self, deadline_s=30, ctl_timeout=30):
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            self.check_alive()
            if os.path.exists(self.sock):
                _, rc, out = self.ctl("status", timeout=ctl_timeout)
                if "refused" not in out and "no such file" not in out.lower():
                    return
            time.sleep(0.02)
        raise Fail("control socket never answered: " + self.tail_out())

    def wait_all_running(self, n, deadline_s=60, ctl_timeout=30):
        """Wait until `ctl status` shows n RUNNING; returns {name: pid}."""
        self.wait_socket(ctl_timeout=ctl_timeout)
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            self.check_alive()
            st = self.status(ctl_timeout)
            run = {k: p for k, (s, p) in st.items() if s == "RUNNING"}
            if len(run) >= n:
                return run
            time.sleep(0.1)
        raise Fail(f"not all {n} programs RUNNING within {deadline_s}s")

    def count_success(self):
        n = 0
        for p in (self.log, os.path.join(self.dir, "daemon.out")):
            try:
                with open(p, "rb") as f:
                    n = max(n, f.read().count(b"success: "))
            except OSError:
                pass
        return n


# --------------------------------------------------------------------------- scenarios


def sc_idle(ctx, system, rnd):
    """idle RSS, idle CPU and wake-ups with 100 programs, then cold ctl status latency."""
    n = ctx.p.n_idle
    with Daemon(ctx, system, [sleeper(i) for i in range(n)]) as d:
        progs = d.wait_all_running(n)
        time.sleep(ctx.p.settle)
        prog_trees = set(progs.values())
        helpers = [c for c in children(d.pid) if c not in prog_trees]
        rss = status_kib(d.pid, "VmRSS")
        helper_rss = sum(status_kib(c, "VmRSS") for c in helpers if alive(c))
        # The private part of that: anonymous pages (heap, stacks, written data), which
        # only this process holds; the rest of RSS is mapped files (the binary, libraries,
        # an interpreter's modules) that the kernel shares and can drop and read again.
        anon = status_kib(d.pid, "RssAnon")
        helper_anon = sum(status_kib(c, "RssAnon") for c in helpers if alive(c))
        fds, threads = fd_count(d.pid), thread_count(d.pid)
        c0, (v0, nv0, ns0), t0 = cpu_seconds(d.pid), task_totals(d.pid), time.monotonic()
        time.sleep(ctx.p.idle_window)
        c1, (v1, nv1, ns1), t1 = cpu_seconds(d.pid), task_totals(d.pid), time.monotonic()
        dt = t1 - t0
        m = {
            "idle_rss_mib": (rss + helper_rss) / 1024,
            "idle_anon_mib": (anon + helper_anon) / 1024,
            "idle_cpu_ms_per_min": (ns1 - ns0) / 1e6 / dt * 60,
            "idle_wakeups_per_s": (v1 - v0) / dt,
        }
        raw = {"daemon_rss_kib": rss, "helper_rss_kib": helper_rss, "fds": fds,
               "threads": threads, "cpu_ticks_s": c1 - c0, "nonvoluntary": nv1 - nv0,
               "window_s": dt}
        # cold ctl status: one warm-up, then timed runs
        d.ctl("status")
        lat = []
        for _ in range(ctx.p.ctl_runs):
            t, rc, out = d.ctl("status")
            if out.count("RUNNING") < n:
                raise Fail(f"ctl status showed {out.count('RUNNING')}/{n} RUNNING (rc {rc})")
            lat.append(t * 1000)
        m["ctl_status_ms"] = lat
    return m, raw


def sc_start_stop(ctx, system, rnd):
    """500 sleepers: daemon spawn -> all RUNNING (main-log success lines); stop all."""
    n = ctx.p.n_start
    with Daemon(ctx, system, [sleeper(i) for i in range(n)]) as d:
        deadline = d.t_spawn + 120
        peak_fds, first = 0, None
        while True:
            now = time.monotonic()
            c = d.count_success()
            if c and first is None:
                first = now - d.t_spawn
            if c >= n:
                break
            if now > deadline:
                raise Fail(f"{c}/{n} success lines after 120s")
            d.check_alive()
            peak_fds = max(peak_fds, fd_count(d.pid))
            time.sleep(0.01)
        t_all = time.monotonic() - d.t_spawn
        d.wait_socket()
        progs = d.wait_all_running(n, 30)
        time.sleep(1)
        pids = list(progs.values())
        t0 = time.monotonic()
        _, rc, out = d.ctl("stop", "all", timeout=120)
        t_ret = time.monotonic() - t0
        deadline = t0 + 60
        while any(alive(p) for p in pids):
            if time.monotonic() > deadline:
                raise Fail("programs still alive 60 s after stop all")
            time.sleep(0.002)
        t_stop = time.monotonic() - t0
        if out.count("stopped") < n:
            raise Fail(f"stop all reported {out.count('stopped')}/{n} stopped (rc {rc})")
    return ({"start_500_s": t_all, "stop_500_s": t_stop},
            {"first_running_s": first, "peak_fds": peak_fds, "stop_ctl_returned_s": t_ret})


def sc_respawn(ctx, system, rnd):
    """SIGKILL an autorestart program; time until the daemon has a new exec'd child."""
    argv = [SLEEP.encode(), b"100001"]
    prog = (f"[program:restartee]\ncommand={SLEEP} 100001\nstartsecs=0\n"
            f"autostart=true\nautorestart=true\nstartretries=1000\n")
    lat, lat_log = [], []
    with Daemon(ctx, system, [prog]) as d:
        d.wait_all_running(1)
        for _ in range(ctx.p.respawns):
            time.sleep(random.uniform(0.3, 1.3))
            cur = [c for c in children(d.pid) if cmdline(c) == argv]
            if len(cur) != 1:
                raise Fail(f"expected one running child, found {cur}")
            with open(d.log, "rb") as f:
                before = f.read().count(b"success: restartee")
            t0 = time.monotonic()
            os.kill(cur[0], signal.SIGKILL)
            deadline = t0 + 10
            new = None
            while new is None:
                for c in children(d.pid):
                    if c != cur[0] and cmdline(c) == argv:
                        new = c
                        break
                else:
                    if time.monotonic() > deadline:
                        raise Fail("no respawn within 10 s")
                    time.sleep(0.0002)
            lat.append((time.monotonic() - t0) * 1000)
            while time.monotonic() < deadline:
                with open(d.log, "rb") as f:
                    if f.read().count(b"success: restartee") > before:
                        lat_log.append((time.monotonic() - t0) * 1000)
                        break
                time.sleep(0.001)
    return {"respawn_ms": lat}, {"respawn_to_success_line_ms": lat_log}


WRITER = r"""
import os, sys, time
n, size, stamp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
fill = b"x" * (size - 12)
t0 = time.monotonic()
for i in range(n):
    b = b"%010d %s\n" % (i, fill)
    while b:
        b = b[os.write(1, b):]
t1 = time.monotonic()
with open(stamp, "w") as f:
    f.write("%d %r %r\n" % (os.getpid(), t0, t1))
"""


def writer_line(i, size):
    return b"%010d %s\n" % (i, b"x" * (size - 12))


def prefault(dirpath, nbytes):
    """Untimed write+delete of nbytes, so the timed run does not pay host-side faults
    for pages a ballooned VM returned to the host (see README)."""
    p = os.path.join(dirpath, "scratch")
    buf = b"y" * (1 << 20)
    with open(p, "wb") as f:
        for _ in range(nbytes >> 20):
            f.write(buf)
    os.unlink(p)


def verify_stream(paths, n_lines, size):
    """Concatenate the log files oldest-first; must equal the tail of the written stream.
    Returns (retained bytes, bytes lost inside the retained window)."""
    total = n_lines * size
    data_len = sum(os.path.getsize(p) for p in paths)
    if data_len > total:
        return data_len, data_len - total  # duplicated bytes: count as damage
    start = total - data_len
    pos = start  # stream offset we expect next
    bad = 0
    for p in paths:
        with open(p, "rb") as f:
            while True:
                line_no, off = divmod(pos, size)
                want = writer_line(line_no, size)[off:]
                chunk = f.read(len(want))
                if not chunk:
                    break
                if chunk != want[: len(chunk)]:
                    bad += len(chunk)
                pos += len(chunk)
    return data_len, bad


def log_paths(dirpath, base):
    backups = sorted((p for p in os.listdir(dirpath) if p.startswith(base + ".")),
                     key=lambda s: -int(s.rsplit(".", 1)[1]))
    return [os.path.join(dirpath, p) for p in backups] + [os.path.join(dirpath, base)]


def sc_log(ctx, system, rnd):
    size = 64 * 1024
    n_lines = ctx.p.log_bytes // size
    total = n_lines * size
    d = Daemon(ctx, system, [])
    script = os.path.join(d.dir, "writer.py")
    with open(script, "w") as f:
        f.write(WRITER)
    stamp = os.path.join(d.dir, "stamp")
    logf = os.path.join(d.dir, "w.log")
    d.programs.append(f"[program:writer]\ncommand={ctx.python} {script} {n_lines} {size} {stamp}\n"
                      f"autostart=false\nautorestart=false\nstartsecs=0\n"
                      f"stdout_logfile={logf}\nstdout_logfile_maxbytes=50MB\n"
                      f"stdout_logfile_backups=10\n")
    with d:
        d.wait_socket()
        prefault(d.dir, total)
        cpu0 = cpu_seconds(d.pid)
        last = writer_line(n_lines - 1, size)
        d.ctl("start", "writer", timeout=600)
        deadline = time.monotonic() + 600
        while True:
            if time.monotonic() > deadline:
                raise Fail("writer output not in the log within 600 s")
            d.check_alive()
            if os.path.exists(stamp):
                with open(stamp) as f:
                    txt = f.read()
                if txt.endswith("\n"):
                    wpid, t0, t1 = txt.split()
                    if not alive(int(wpid)):
                        try:
                            with open(logf, "rb") as f:
                                f.seek(max(0, os.path.getsize(logf) - size))
                                if f.read().endswith(last):
                                    break
                        except OSError:
                            pass
            time.sleep(0.005)
        t_end = time.monotonic()
        cpu = cpu_seconds(d.pid) - cpu0
        t0, t1 = float(t0), float(t1)
        paths = log_paths(d.dir, "w.log")
        kept, bad = verify_stream(paths, n_lines, size)
        _, _, st = d.ctl("status")
        if "EXITED" not in st:
            raise Fail("writer not EXITED after the run: " + st.strip())
    m = {"log_mb_s": total / 1e6 / (t_end - t0), "log_bytes_lost": bad,
         "log_daemon_cpu_s": cpu}
    raw = {"bytes_written": total, "bytes_retained": kept, "files": len(paths),
           "rotated_away_by_design": total - kept, "writer_own_s": t1 - t0}
    return m, raw


LINE_WRITER = r"""
import os, sys, time
n, size, stamp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
fill = b"x" * (size - 12)
per_block = max(1, 65536 // size)
t0 = time.monotonic()
i = 0
while i < n:
    b = b"".join(b"%010d %s\n" % (j, fill) for j in range(i, min(n, i + per_block)))
    i += per_block
    while b:
        b = b[os.write(1, b):]
t1 = time.monotonic()
with open(stamp, "w") as f:
    f.write("%d %r %r\n" % (os.getpid(), t0, t1))
"""

LOG_FORMATS = ("raw", "timestamped", "json")


def sc_logfmt(ctx, system, rnd):
    """Short lines (120 B, written 64 KiB at a time) through each child log format.
    supervisord has only raw; rsupervisord runs raw, timestamped and json in turn."""
    size = 120
    n_lines = (ctx.p.log_bytes // 4) // size
    total = n_lines * size
    formats = LOG_FORMATS if system.name == "ours" else ("raw",)
    m, raw = {}, {"bytes_written": total, "line_bytes": size}
    for fmt_name in formats:
        d = Daemon(ctx, system, [])
        script = os.path.join(d.dir, "writer.py")
        with open(script, "w") as f:
            f.write(LINE_WRITER)
        stamp = os.path.join(d.dir, "stamp")
        logf = os.path.join(d.dir, "w.log")
        extra = "" if system.name != "ours" else f"stdout_log_format={fmt_name}\n"
        d.programs.append(f"[program:writer]\ncommand={ctx.python} {script} {n_lines} {size} "
                          f"{stamp}\nautostart=false\nautorestart=false\nstartsecs=0\n"
                          f"stdout_logfile={logf}\nstdout_logfile_maxbytes=50MB\n"
                          f"stdout_logfile_backups=10\n{extra}")
        last = b"%010d " % (n_lines - 1)
        with d:
            d.wait_socket()
            prefault(d.dir, total * 3)
            cpu0 = cpu_seconds(d.pid)
            d.ctl("start", "writer", timeout=600)
            deadline = time.monotonic() + 600
            while True:
                if time.monotonic() > deadline:
                    raise Fail(f"{fmt_name}: writer output not in the log within 600 s")
                d.check_alive()
                txt = ""
                if os.path.exists(stamp):
                    with open(stamp) as f:
                        txt = f.read()
                if txt.endswith("\n") and not alive(int(txt.split()[0])):
                    try:
                        with open(logf, "rb") as f:
                            f.seek(max(0, os.path.getsize(logf) - 4 * size))
                            if last in f.read():
                                break
                    except OSError:
                        pass
                time.sleep(0.005)
            t_end = time.monotonic()
            cpu = cpu_seconds(d.pid) - cpu0
            t0 = float(txt.split()[1])
            records = 0
            for path in log_paths(d.dir, "w.log"):
                with open(path, "rb") as f:
                    records += sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        # Rotation drops the oldest files by design: count only what the kept files cover.
        m[f"logfmt_{fmt_name}_mb_s"] = total / 1e6 / (t_end - t0)
        m[f"logfmt_{fmt_name}_cpu_s"] = cpu
        raw[f"{fmt_name}_records_kept"] = records
    return m, raw


XMLRPC_ALL_INFO = ("<?xml version='1.0'?><methodCall><methodName>supervisor.getAllProcessInfo"
                   "</methodName><params></params></methodCall>")


def wrk(url, seconds, lua=None):
    """Requests per second that wrk (1 thread, 4 connections) gets from url."""
    argv = ["wrk", "-t1", "-c4", f"-d{seconds}s", "--latency"] + (["-s", lua] if lua else []) + [url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    found = re.search(r"Requests/sec:\s+([0-9.]+)", out.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    if out.returncode != 0 or not found or errors:
        raise Fail(f"wrk {url}: {out.stdout.strip()} {out.stderr.strip()}")
    return float(found.group(1))


def sc_http(ctx, system, rnd):
    """HTTP requests/s with wrk over loopback: XML-RPC getAllProcessInfo with 100 programs
    (both systems); ours also GET /api/v1/programs (100) and GET /metrics (1,000)."""
    if not shutil.which("wrk"):
        raise Fail("wrk is not installed (apt-get install wrk)")
    seconds = 3 if ctx.p.quick else 10
    m, raw = {}, {}
    for n, wanted in ((100, ("xmlrpc", "rest")), (1000, ("metrics",))):
        if system.name != "ours" and "xmlrpc" not in wanted:
            continue
        port = free_port()
        d = Daemon(ctx, system, [sleeper(i) for i in range(n)] +
                   [f"[inet_http_server]\nport=127.0.0.1:{port}\n"], minfds=4096)
        with d:
            d.wait_all_running(n)
            base = f"http://127.0.0.1:{port}"
            if "xmlrpc" in wanted:
                lua = os.path.join(d.dir, "post.lua")
                with open(lua, "w") as f:
                    f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "text/xml"\n'
                            f"wrk.body = {XMLRPC_ALL_INFO!r}\n")  # repr: a Lua string
                m["http_xmlrpc_all_info_rps"] = wrk(base + "/RPC2", seconds, lua)
            if system.name == "ours" and "rest" in wanted:
                m["http_rest_programs_rps"] = wrk(base + "/api/v1/programs", seconds)
            if system.name == "ours" and "metrics" in wanted:
                m["http_metrics_1000_rps"] = wrk(base + "/metrics", seconds)
            raw[f"rss_kib_after_{n}"] = status_kib(d.pid, "VmRSS")
    return m, raw


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def baseline_log(ctx, rnd):
    size = 64 * 1024
    n_lines = ctx.p.log_bytes // size
    total = n_lines * size
    dirpath = tempfile.mkdtemp(prefix="rsb-base-", dir=ctx.workdir)
    try:
        script = os.path.join(dirpath, "writer.py")
        with open(script, "w") as f:
            f.write(WRITER)
        prefault(dirpath, total)
        out = os.path.join(dirpath, "out")
        stamp = os.path.join(dirpath, "stamp")
        with open(out, "wb") as fo:
            subprocess.run([ctx.python, script, str(n_lines), str(size), stamp], stdout=fo,
                           check=True, timeout=600)
        t_end = time.monotonic()
        with open(stamp) as f:
            _, t0, _ = f.read().split()
        if os.path.getsize(out) != total:
            raise Fail("baseline writer>file lost bytes")
        res = {"log_mb_s": total / 1e6 / (t_end - float(t0))}
        os.unlink(out)
        prefault(dirpath, total)
        with open(out, "wb") as fo:
            w = subprocess.Popen([ctx.python, script, str(n_lines), str(size), stamp],
                                 stdout=subprocess.PIPE)
            subprocess.run(["cat"], stdin=w.stdout, stdout=fo, check=True, timeout=600)
            w.stdout.close()
            w.wait()
        t_end = time.monotonic()
        with open(stamp) as f:
            _, t0, _ = f.read().split()
        res["log_pipe_cat_mb_s"] = total / 1e6 / (t_end - float(t0))
        return res
    finally:
        shutil.rmtree(dirpath, ignore_errors=True)


TICKER = r"""
import random, sys, time
while True:
    sys.stdout.write("%r\n" % time.monotonic())
    sys.stdout.flush()
    time.sleep(0.1 + random.uniform(-0.01, 0.01))
"""


def tail_measure(argv, want, cwd, timeout=60):
    """Run argv with stdout on a pty; latencies (ms) of stamped lines after the first read."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=slave,
                         stderr=subprocess.STDOUT)
    os.close(slave)
    buf, lat, t_first = b"", [], None
    deadline = time.monotonic() + timeout
    try:
        while len(lat) < want and time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.5)
            if not r:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            now = time.monotonic()
            if t_first is None:
                t_first = now
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                try:
                    stamp = float(line.strip())
                except ValueError:
                    continue
                if stamp > t_first:
                    lat.append((now - stamp) * 1000)
    finally:
        p.kill()
        p.wait()
        os.close(master)
    return lat


def sc_tail(ctx, system, rnd):
    d = Daemon(ctx, system, [])
    script = os.path.join(d.dir, "ticker.py")
    with open(script, "w") as f:
        f.write(TICKER)
    d.programs.append(f"[program:ticker]\ncommand={ctx.python} -u {script}\nstartsecs=0\n")
    with d:
        d.wait_all_running(1)
        lat = tail_measure(d.system.ctl_argv(d.conf, "tail", "-f", "ticker"), ctx.p.tail_lines,
                           d.dir)
        if len(lat) < ctx.p.tail_lines:
            raise Fail(f"tail -f gave {len(lat)}/{ctx.p.tail_lines} stamped lines")
    return {"tail_ms": lat}, {}


def baseline_tail(ctx, rnd):
    dirpath = tempfile.mkdtemp(prefix="rsb-base-", dir=ctx.workdir)
    try:
        script = os.path.join(dirpath, "ticker.py")
        with open(script, "w") as f:
            f.write(TICKER)
        out = os.path.join(dirpath, "t.log")
        with open(out, "wb") as fo:
            tick = subprocess.Popen([ctx.python, "-u", script], stdout=fo)
        try:
            lat = tail_measure(["tail", "-n", "0", "-f", out], ctx.p.tail_lines, dirpath)
        finally:
            tick.kill()
            tick.wait()
        return {"tail_ms": lat}
    finally:
        shutil.rmtree(dirpath, ignore_errors=True)


def sc_scale(ctx, system, rnd):
    n = ctx.p.n_scale
    extra = "redirect_stderr=true\n"
    if ctx.p.scale_logs == "none":
        extra += "stdout_logfile=NONE\n"
    per_program = 4 if ctx.p.scale_logs == "auto" else 1
    progs = [sleeper(i, extra) for i in range(n)]
    # `ctl pid` (one cheap call) while the programs start: does the daemon keep answering?
    # (`status NAME` would measure the call itself: the ctl reads every process to match it.)
    during = []
    with Daemon(ctx, system, progs, minfds=max(20000, per_program * n + 1000)) as d:
        deadline = d.t_spawn + ctx.p.scale_deadline
        while d.count_success() < n:
            now = time.monotonic()
            if now > deadline:
                raise Fail(f"{d.count_success()}/{n} RUNNING after {ctx.p.scale_deadline}s")
            d.check_alive()
            try:
                with open(d.log, "rb") as f:
                    text = f.read()
            except FileNotFoundError:
                text = b""
            if b"entered FATAL state" in text:
                why = re.findall(rb"spawnerr: ([^\n]*)", text)
                raise Fail(f"{d.count_success()}/{n} RUNNING after {now - d.t_spawn:.1f}s, "
                           f"then FATAL ({why[-1].decode() if why else '?'}); daemon RSS "
                           f"{status_kib(d.pid, 'VmRSS') / 1024:.0f} MiB, "
                           f"{fd_count(d.pid)} fds")
            if os.path.exists(d.sock):
                during.append(d.ctl("pid", timeout=60)[0] * 1000)
            time.sleep(0.05)
        t_all = time.monotonic() - d.t_spawn
        d.wait_all_running(n, 300, ctl_timeout=300)
        time.sleep(ctx.p.settle)
        rss = status_kib(d.pid, "VmRSS")
        lat = [d.ctl("status", timeout=300)[0] * 1000 for _ in range(5)]
        fds = fd_count(d.pid)
        # SIGTERM to exit: every group stopped in turn, as at a host's shutdown.
        t_stop = time.monotonic()
        os.kill(d.pid, signal.SIGTERM)
        try:
            d.proc.wait(timeout=ctx.p.scale_deadline)
        except subprocess.TimeoutExpired:
            raise Fail(f"daemon still running {ctx.p.scale_deadline}s after SIGTERM")
        t_stop = time.monotonic() - t_stop
    return ({"scale_start_s": t_all, "scale_rss_mib": rss / 1024, "scale_status_ms": lat,
             "scale_stop_s": t_stop, "scale_ctl_during_start_ms": during or [float("nan")]},
            {"fds": fds})


# ------------------------------------------------------------------ control under load

CRASHER = ("[program:crash]\ncommand=/bin/sh -c 'exit 1'\n"
           "process_name=%(program_name)s_%(process_num)d\nnumprocs={n}\nstartsecs=0\n"
           "autorestart=true\n")
FLOOD_WRITER = ("[program:flood]\ncommand=/usr/bin/yes 'a fairly long log line, about as long as "
          "an ordinary application writes, for the flood scenario'\n"
          "process_name=flood_%(process_num)d\nnumprocs={n}\nstartsecs=0\n"
          "stdout_logfile=%(here)s/logs/flood_%(process_num)d.log\n"
          "stdout_logfile_maxbytes=20MB\nstdout_logfile_backups=1\n")


def proc_state(pid):
    """State letter ("R", "S", "Z", ...), None once the process is gone."""
    try:
        return stat_fields(pid)[0].decode()
    except (OSError, IndexError, ValueError):
        return None


def wait_log_count(d, needle, count, deadline_s=60):
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with open(d.log, "rb") as f:
                seen = f.read().count(needle)
        except FileNotFoundError:
            seen = 0
        if seen >= count:
            return
        if time.monotonic() > deadline:
            raise Fail(f"{seen}/{count} main log lines with {needle!r} after {deadline_s}s")
        d.check_alive()
        time.sleep(0.05)


def ctl_under_load(d, verb, clients, calls, timeout, check):
    """`calls` runs of `ctl VERB` from each of `clients` parallel clients. Returns the
    latencies in ms (an unanswered call counts as `timeout`) and how many were answered."""
    import concurrent.futures

    def one():
        t0 = time.monotonic()
        try:
            r = subprocess.run(d.system.ctl_argv(d.conf, *verb), cwd=d.dir,
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            return timeout * 1000, False
        ok = check(r.stdout.decode(errors="replace"))
        return (time.monotonic() - t0) * 1000, ok

    def client():
        return [one() for _ in range(calls)]

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = [x for f in [pool.submit(client) for _ in range(clients)]
                   for x in f.result()]
    return [ms for ms, _ in results], sum(1 for _, ok in results if ok)


def sigterm_exit(d):
    """SIGTERM the daemon; seconds until it exited, and programs it left running."""
    t0 = time.monotonic()
    os.kill(d.pid, signal.SIGTERM)
    try:
        d.proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        raise Fail("still running 60 s after SIGTERM: " + d.tail_out()[-300:])
    t = time.monotonic() - t0
    # We are a subreaper: whatever the daemon left behind is now our child.
    orphans = [c for c in descendants(os.getpid())
               if proc_state(c) not in (None, "Z") and c != d.pid]
    return t, len(orphans)


def load_scenario(ctx, system, programs, wait_busy, n_total):
    """Shared body of storm and flood: 100 steady programs beside the load."""
    n_steady = ctx.p.n_idle
    progs = [sleeper(i) for i in range(n_steady)] + programs
    with Daemon(ctx, system, progs) as d:
        wait_log_count(d, b"success: p", n_steady)
        wait_busy(d)
        lat, answered = ctl_under_load(
            d, ("status", "p0001"), ctx.p.load_clients, ctx.p.load_calls,
            ctx.p.load_timeout, lambda out: "RUNNING" in out)
        full, full_ok = ctl_under_load(
            d, ("status",), 1, 3, ctx.p.load_timeout,
            lambda out: len(out.splitlines()) >= n_total)
        zombies = []
        for _ in range(20):
            zombies.append(sum(1 for c in children(d.pid) if proc_state(c) == "Z"))
            time.sleep(0.05)
        t_exit, orphans = sigterm_exit(d)
    calls = ctx.p.load_clients * ctx.p.load_calls
    m = {"status_name_ms": lat, "status_full_ms": full, "sigterm_exit_s": t_exit,
         "orphans": orphans, "answered_pct": 100.0 * answered / calls}
    raw = {"answered": answered, "calls": calls, "full_answered": full_ok,
           "zombie_samples": zombies}
    return m, raw


def sc_storm(ctx, system, rnd):
    """100 steady programs and 300 that exit at once with autorestart=true."""
    n = ctx.p.n_crashers
    m, raw = load_scenario(
        ctx, system, [CRASHER.format(n=n)],
        lambda d: wait_log_count(d, b"exited: crash_", 2 * n), ctx.p.n_idle + n)
    zombies = raw["zombie_samples"]
    m["storm_zombies_max_pct"] = 100.0 * max(zombies) / n
    m = {("storm_" + k if not k.startswith("storm_") else k): v for k, v in m.items()}
    return m, raw


def sc_flood(ctx, system, rnd):
    """100 steady programs and 20 `yes` writers into 20 MB rotated logs."""
    n = ctx.p.n_writers

    def busy(d):
        deadline = time.monotonic() + 60
        while not all(os.path.exists(os.path.join(d.dir, "logs", f"flood_{i}.log.1"))
                      for i in range(n)):
            if time.monotonic() > deadline:
                raise Fail("the writers' logs did not rotate within 60 s")
            d.check_alive()
            time.sleep(0.05)

    m, raw = load_scenario(ctx, system, [FLOOD_WRITER.format(n=n)], busy, ctx.p.n_idle + n)
    return {"flood_" + k: v for k, v in m.items()}, raw


# --------------------------------------------------------------------------- floors


MINI_SUP = r"""
import os, sys
argv = sys.argv[1:]
while True:
    pid = os.posix_spawn(argv[0], argv, os.environ)
    os.waitpid(pid, 0)
"""


def run_floors(ctx):
    f = {}
    # fork+exec of /bin/true (posix_spawn + waitpid)
    t = []
    for _ in range(200):
        t0 = time.monotonic()
        pid = os.posix_spawn(TRUE, [TRUE], os.environ)
        os.waitpid(pid, 0)
        t.append((time.monotonic() - t0) * 1000)
    f["spawn_true_ms"] = median(t)
    # cold process start through subprocess.run, as the ctl is timed
    t = []
    for _ in range(30):
        t0 = time.monotonic()
        subprocess.run([TRUE], stdin=subprocess.DEVNULL, capture_output=True)
        t.append((time.monotonic() - t0) * 1000)
    f["ctl_status_ms"] = median(t)
    # 500 sleepers with three pipes each, spawned straight from Python
    n = ctx.p.n_start
    t0 = time.monotonic()
    ps = [subprocess.Popen([SLEEP, "100000"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, close_fds=True) for _ in range(n)]
    f["start_500_s"] = time.monotonic() - t0
    t0 = time.monotonic()
    for p in ps:
        p.terminate()
    for p in ps:
        p.wait()
        for s in (p.stdin, p.stdout, p.stderr):
            s.close()
    f["stop_500_s"] = time.monotonic() - t0
    # restart floor: a minimal Python supervisor, same kill/poll loop as sc_respawn, with
    # the same 0.3-1.3 s idle gap before each kill: a machine idle for a second wakes
    # slower (a halted vCPU, cold caches), and a floor measured with shorter gaps (it was
    # 0.05-0.2 s) came out about half of the same supervisor's figure with sc_respawn's.
    argv = [SLEEP.encode(), b"100002"]
    sup = subprocess.Popen([ctx.python, "-c", MINI_SUP, SLEEP, "100002"])
    lat = []
    try:
        time.sleep(0.3)
        for _ in range(2 * ctx.p.respawns):
            time.sleep(random.uniform(0.3, 1.3))
            cur = [c for c in children(sup.pid) if cmdline(c) == argv]
            if len(cur) != 1:
                continue
            t0 = time.monotonic()
            os.kill(cur[0], signal.SIGKILL)
            while not any(c != cur[0] and cmdline(c) == argv for c in children(sup.pid)):
                time.sleep(0.0002)
            lat.append((time.monotonic() - t0) * 1000)
    finally:
        sup.kill()
        sup.wait()
        reap_adopted()
    f["respawn_ms"] = median(lat)
    f["respawn_ms:p90"] = summarize(lat, "p90")
    # RSS of a trivial compiled process
    p = subprocess.Popen([SLEEP, "100"])
    time.sleep(0.2)
    f["idle_rss_mib"] = status_kib(p.pid, "VmRSS") / 1024
    f["idle_anon_mib"] = status_kib(p.pid, "RssAnon") / 1024
    p.kill()
    p.wait()
    return f


# --------------------------------------------------------------------------- driver


class Params:
    def __init__(self, quick):
        self.quick = quick
        self.rounds = 1 if quick else 3
        self.n_idle = 100
        self.n_start = 100 if quick else 500
        self.n_scale = 5000
        self.scale_logs = "auto"
        self.scale_deadline = 120
        self.idle_window = 5.0 if quick else 20.0
        self.settle = 2.0 if quick else 3.0
        self.ctl_runs = 10 if quick else 15  # per round
        self.respawns = 5 if quick else 10  # per round
        self.log_bytes = (128 if quick else 1024) << 20
        self.tail_lines = 10 if quick else 15  # per round
        self.n_crashers = 300
        self.n_writers = 20
        self.load_clients = 5 if quick else 50  # parallel ctl clients during storm/flood
        self.load_calls = 2 if quick else 4  # calls per client
        self.load_timeout = 5.0 if quick else 10.0  # s; an unanswered call counts this long


SCENARIOS = {
    "idle": sc_idle,
    "start_stop": sc_start_stop,
    "respawn": sc_respawn,
    "log": sc_log,
    "tail": sc_tail,
    "logfmt": sc_logfmt,
    "http": sc_http,
    "scale": sc_scale,
    "storm": sc_storm,
    "flood": sc_flood,
}
BASELINES = {"log": baseline_log, "tail": baseline_tail}

# metric -> (label, unit, lower is better, floor key)
METRICS = [
    ("idle_rss_mib", "idle RSS, 100 programs", "MiB", True),
    ("idle_anon_mib", "idle RSS, 100 prog.: anonymous part", "MiB", True),
    ("idle_cpu_ms_per_min", "idle CPU", "ms/min", True),
    ("idle_wakeups_per_s", "idle wake-ups (vol. ctx sw.)", "/s", True),
    ("ctl_status_ms", "cold ctl status, 100 prog., median", "ms", True),
    ("ctl_status_ms:p90", "cold ctl status, 100 prog., p90", "ms", True),
    ("start_500_s", "start N to all RUNNING", "s", True),
    ("stop_500_s", "stop all N until reaped", "s", True),
    ("respawn_ms", "respawn after SIGKILL, median", "ms", True),
    ("respawn_ms:p90", "respawn after SIGKILL, p90", "ms", True),
    ("log_mb_s", "log throughput", "MB/s", False),
    ("log_pipe_cat_mb_s", "baseline: writer piped to cat > file", "MB/s", False),
    ("log_bytes_lost", "log bytes lost", "B", True),
    ("log_daemon_cpu_s", "daemon CPU for the log run", "s", True),
    ("logfmt_raw_mb_s", "short lines, raw log", "MB/s", False),
    ("logfmt_timestamped_mb_s", "short lines, timestamped log", "MB/s", False),
    ("logfmt_json_mb_s", "short lines, json log", "MB/s", False),
    ("logfmt_raw_cpu_s", "short lines, raw: daemon CPU", "s", True),
    ("logfmt_timestamped_cpu_s", "short lines, timestamped: daemon CPU", "s", True),
    ("logfmt_json_cpu_s", "short lines, json: daemon CPU", "s", True),
    ("http_xmlrpc_all_info_rps", "XML-RPC getAllProcessInfo, 100 prog.", "req/s", False),
    ("http_rest_programs_rps", "REST GET /api/v1/programs, 100 prog.", "req/s", False),
    ("http_metrics_1000_rps", "GET /metrics, 1,000 prog.", "req/s", False),
    ("tail_ms", "tail -f latency, p50", "ms", True),
    ("tail_ms:p90", "tail -f latency, p90", "ms", True),
    ("scale_start_s", "N_SCALE programs: start to all RUNNING", "s", True),
    ("scale_rss_mib", "N_SCALE programs: RSS", "MiB", True),
    ("scale_status_ms", "N_SCALE programs: ctl status median", "ms", True),
    ("scale_stop_s", "N_SCALE programs: SIGTERM to exit", "s", True),
    ("scale_ctl_during_start_ms", "N_SCALE programs: ctl pid during the start, p50", "ms", True),
    ("scale_ctl_during_start_ms:p99", "N_SCALE programs: ctl pid during the start, p99", "ms", True),
    ("storm_status_name_ms", "storm: ctl status NAME, p50", "ms", True),
    ("storm_status_name_ms:p99", "storm: ctl status NAME, p99", "ms", True),
    ("storm_answered_pct", "storm: ctl calls answered", "%", False),
    ("storm_status_full_ms", "storm: ctl status (400 programs), median", "ms", True),
    ("storm_zombies_max_pct", "storm: unreaped crashers, worst sample", "%", True),
    ("storm_sigterm_exit_s", "storm: SIGTERM to exit", "s", True),
    ("storm_orphans", "storm: programs left after exit", "", True),
    ("flood_status_name_ms", "flood: ctl status NAME, p50", "ms", True),
    ("flood_status_name_ms:p99", "flood: ctl status NAME, p99", "ms", True),
    ("flood_answered_pct", "flood: ctl calls answered", "%", False),
    ("flood_status_full_ms", "flood: ctl status (120 programs), median", "ms", True),
    ("flood_sigterm_exit_s", "flood: SIGTERM to exit", "s", True),
    ("flood_orphans", "flood: programs left after exit", "", True),
]


class Ctx:
    pass


def summarize(values, q=None):
    if not values:
        return None
    if q == "p90":
        return pct(values, 0.9)
    if q == "p99":
        return pct(values, 0.99)
    return median(values)


def collect(samples, key):
    """Flatten per-round metric values (scalars or lists)."""
    out = []
    for s in samples:
        v = s.get(key)
        if isinstance(v, list):
            out.extend(v)
        elif v is not None:
            out.append(v)
    return out


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="about one minute per system")
    ap.add_argument("--only", default="ours,supervisord",
                    help="systems to run: ours, supervisord (comma-separated)")
    ap.add_argument("--scenarios", default=None,
                    help="comma-separated subset of: " + ",".join(SCENARIOS) + ",floors")
    ap.add_argument("--rounds", type=int, help="alternation rounds (default 3, quick 1)")
    ap.add_argument("--json", metavar="PATH", help="write every raw figure here")
    ap.add_argument("--bin-dir", help="dir with rsupervisord and rsupervisorctl "
                    "(default $CARGO_TARGET_DIR/release or target/release)")
    ap.add_argument("--supervisord", help="path of supervisord (ctl next to it)")
    ap.add_argument("--supervisorctl", help="path of supervisorctl")
    ap.add_argument("--venv", help="venv for supervisor 4.3.0 (default $TMPDIR/rsupervisor-sv)")
    ap.add_argument("--no-install", action="store_true", help="never pip install supervisor")
    ap.add_argument("--workdir", default="/tmp", help="parent of the per-round temp dirs")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs")
    ap.add_argument("--python", default=sys.executable, help="interpreter for test programs")
    ap.add_argument("--n-scale", type=int, default=5000,
                    help="programs in the scale scenario (default 5000)")
    ap.add_argument("--scale-deadline", type=float, default=120.0,
                    help="seconds the 5,000-program start may take before it counts as failed")
    ap.add_argument("--scale-logs", choices=["auto", "none"], default="auto",
                    help="scale programs' stdout_logfile: AUTO (3 descriptors per program in "
                         "the daemon) or NONE (1 descriptor, so 10,000 programs fit in a hard "
                         "limit of 20,000 open files)")
    args = ap.parse_args()

    ctx = Ctx()
    ctx.p = Params(args.quick)
    if args.rounds:
        ctx.p.rounds = args.rounds
    ctx.p.scale_deadline = args.scale_deadline
    ctx.p.n_scale = args.n_scale
    ctx.p.scale_logs = args.scale_logs
    ctx.workdir, ctx.keep, ctx.python = args.workdir, args.keep, args.python
    if len(os.path.join(ctx.workdir, "rsb-xxxx-xxxxxxxx", "s.sock")) > 100:
        sys.exit("--workdir too long for an AF_UNIX socket path")
    scen = (args.scenarios.split(",") if args.scenarios
            else [s for s in SCENARIOS if s != "scale" or not args.quick] + ["floors"])
    for s in scen:
        if s not in SCENARIOS and s != "floors":
            sys.exit(f"unknown scenario {s}")

    bindir = args.bin_dir or os.path.join(
        os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "release")
    systems, notes = [], []
    wanted = args.only.split(",")
    if "ours" in wanted:
        d, c = os.path.join(bindir, "rsupervisord"), os.path.join(bindir, "rsupervisorctl")
        if not (os.access(d, os.X_OK) and os.access(c, os.X_OK)):
            sys.exit(f"no release binaries in {bindir}: cargo build --release "
                     "-p rsupervisord -p rsupervisorctl (or --bin-dir)")
        systems.append(System("ours", d, c))
    if "supervisord" in wanted:
        s, why = find_supervisord(args)
        if s:
            systems.append(s)
        else:
            notes.append("supervisord skipped: " + why)
            print(notes[-1], file=sys.stderr)
    if not systems:
        sys.exit("no system to run")

    set_subreaper()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    results = {s.name: {} for s in systems}  # sys -> scen -> {"rounds": [...], ...}
    baselines, failed = {}, []
    t_start = time.time()
    try:
        for sc in scen:
            if sc == "floors":
                continue
            fn = SCENARIOS[sc]
            rounds = 1 if sc == "scale" else ctx.p.rounds
            for rnd in range(rounds):
                order = systems if rnd % 2 == 0 else systems[::-1]
                for s in order:
                    ent = results[s.name].setdefault(sc, {"rounds": [], "errors": []})
                    if ent["errors"]:
                        continue
                    b0 = machine_busy()
                    t0 = time.monotonic()
                    print(f"[{time.time() - t_start:5.0f}s] {sc} round {rnd + 1} "
                          f"{s.name} ...", file=sys.stderr, flush=True)
                    try:
                        m, raw = fn(ctx, s, rnd)
                    except Fail as e:
                        ent["errors"].append(f"round {rnd + 1}: {e}")
                        print(f"    FAILED: {e}", file=sys.stderr)
                        continue
                    except (OSError, ValueError, subprocess.SubprocessError) as e:
                        # a harness-side error: report it as this round's failure
                        ent["errors"].append(f"round {rnd + 1}: harness error {e!r}")
                        print(f"    FAILED (harness error): {e!r}", file=sys.stderr)
                        continue
                    b1 = machine_busy()
                    busy = (1 - (b1[1] - b0[1]) / max(1, b1[0] - b0[0])) * os.cpu_count()
                    ent["rounds"].append({"metrics": m, "raw": raw,
                                          "wall_s": time.monotonic() - t0,
                                          "machine_busy_cores": busy})
                if sc in BASELINES:
                    try:
                        baselines.setdefault(sc, []).append(BASELINES[sc](ctx, rnd))
                    except Fail as e:
                        print(f"    baseline failed: {e}", file=sys.stderr)
        floors = run_floors(ctx) if "floors" in scen else {}
    finally:
        reap_adopted()

    # floors/baselines column
    ref = dict(floors)
    for sc, rows in baselines.items():
        for k in rows[0]:
            vals = collect(rows, k)
            ref[k] = summarize(vals)
            ref[k + ":p90"] = summarize(vals, "p90")

    table = []
    for key, label, unit, lower in METRICS:
        base, q = (key.split(":") + [None])[:2]
        row = {"metric": key, "label": label, "unit": unit, "lower_is_better": lower}
        for s in systems:
            for sc, ent in results[s.name].items():
                vals = collect([r["metrics"] for r in ent["rounds"]], base)
                if vals:
                    row[s.name] = summarize(vals, q)
                    if ent["errors"]:
                        row[s.name + "_failed_rounds"] = len(ent["errors"])
        if base in ("start_500_s", "stop_500_s") and ctx.p.n_start != 500:
            row["label"] = label.replace(" N ", f" {ctx.p.n_start} ")
        else:
            row["label"] = row["label"].replace(" N ", " 500 ")
        row["label"] = row["label"].replace("N_SCALE", str(ctx.p.n_scale))
        row["floor"] = ref.get(key)
        if key == "log_pipe_cat_mb_s":
            row["floor"] = ref.get(key)
            if row["floor"] is not None:
                table.append(row)
            continue
        if any(s.name in row for s in systems):
            table.append(row)

    names = [s.name for s in systems]
    hdr = ["metric", "unit"] + names + (["ours/sv"] if len(names) == 2 else []) + ["floor"]
    lines = []
    for row in table:
        arrow = "↓" if row["lower_is_better"] else "↑"
        cells = [f"{arrow} {row['label']}", row["unit"]]
        for n in names:
            v = fmt(row.get(n))
            if row.get(n + "_failed_rounds"):
                v += "*"
            cells.append(v)
        if len(names) == 2:
            a, b = row.get("ours"), row.get("supervisord")
            cells.append(f"{a / b:.3g}x" if a is not None and b else "-")
        cells.append(fmt(row["floor"]))
        lines.append(cells)
    widths = [max(len(str(c)) for c in col) for col in zip(hdr, *lines)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(hdr, widths)) + " |",
           "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for cells in lines:
        out.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |")
    print("\n".join(out))
    for s in systems:
        for sc, ent in results[s.name].items():
            for e in ent["errors"]:
                failed.append(f"{s.name} {sc} {e}")
    for n in notes:
        print("note: " + n)
    for f in failed:
        print("FAILED: " + f)
    print(f"mode: {'quick' if args.quick else 'full'}, rounds {ctx.p.rounds}, "
          f"wall {time.time() - t_start:.0f} s")

    if args.json:
        meta = {"argv": sys.argv, "params": vars(ctx.p), "date": time.strftime("%F %T %z"),
                "host": platform.uname()._asdict(), "nproc": os.cpu_count(),
                "loadavg_end": os.getloadavg(),
                "systems": {s.name: {"daemon": s.daemon, "ctl": s.ctl} for s in systems}}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "table": table, "floors": floors,
                       "baselines": baselines, "results": results, "failed": failed,
                       "notes": notes}, f, indent=1)
    # a scenario that failed in every round for some system is an outright failure
    outright = [f"{s.name} {sc}" for s in systems for sc, ent in results[s.name].items()
                if ent["errors"] and not ent["rounds"]]
    if outright:
        print("scenarios that failed outright: " + ", ".join(outright))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
