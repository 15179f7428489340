#!/usr/bin/env python3
"""Differential check: rsupervisor-config against supervisor 4.3.0's own ServerOptions.

Usage: compare_configs.py DUMP_BINARY FIXTURE_DIR
  DUMP_BINARY   the rsupervisor-config `dump` example (prints to_json(load(FILE)) or errors)
  FIXTURE_DIR   tests/fixtures/config (with valid/ and invalid/)

For every valid fixture both sides must load it and agree on the normalized per-process
settings. For every invalid fixture both must fail, and supervisord's message (without its
" in section ... (file: ...)" suffix, which we carry in our own location prefix) must appear
in our error output. Exits 1 on any disagreement, printing the differences.
"""
import glob
import json
import os
import re
import subprocess
import sys

from supervisor import datatypes
from supervisor.options import ServerOptions, normalize_path

LEVELS = {50: "critical", 40: "error", 30: "warn", 20: "info", 10: "debug", 5: "trace", 3: "blather"}


def logfile(value):
    if value is None:
        return {"kind": "none"}
    if value is datatypes.Automatic:
        return {"kind": "auto"}
    return {"kind": "path", "path": value}


def autorestart(value):
    if value is datatypes.RestartUnconditionally:
        return "true"
    if value is datatypes.RestartWhenExitUnexpected:
        return "unexpected"
    return "false"


def python_side(path):
    opts = ServerOptions()
    opts.configfile = path
    try:
        opts.process_config(do_usage=False)
    except ValueError as e:
        return None, str(e)
    procs = {}
    for group in opts.process_group_configs:
        for p in group.process_configs:
            procs["%s:%s" % (group.name, p.name)] = {
                "group": group.name,
                "group_priority": group.priority,
                "command": p.command,
                "priority": p.priority,
                "autostart": p.autostart,
                "autorestart": autorestart(p.autorestart),
                "startsecs": max(p.startsecs, 0),
                "startretries": max(p.startretries, 0),
                "exitcodes": list(p.exitcodes),
                "stopsignal": int(p.stopsignal),
                "stopwaitsecs": max(p.stopwaitsecs, 0),
                "stopasgroup": p.stopasgroup,
                "killasgroup": p.killasgroup,
                "redirect_stderr": p.redirect_stderr,
                "directory": p.directory,
                "environment": dict(p.environment or {}),
                "uid": p.uid,
                "umask": p.umask,
                "serverurl": p.serverurl or None,
                "stdout_logfile": logfile(p.stdout_logfile),
                "stdout_maxbytes": max(p.stdout_logfile_maxbytes, 0),
                "stdout_backups": max(p.stdout_logfile_backups, 0),
                "stdout_syslog": p.stdout_syslog,
                "stderr_logfile": logfile(p.stderr_logfile),
                "stderr_maxbytes": max(p.stderr_logfile_maxbytes, 0),
                "stderr_backups": max(p.stderr_logfile_backups, 0),
                "stderr_syslog": p.stderr_syslog,
            }
    order = [g.name for g in opts.process_group_configs]
    messages = sorted(["WARN " + m for m in opts.parse_warnings] + ["INFO " + m for m in opts.parse_infos])
    sv = opts.configroot.supervisord
    main = {
        "logfile": "syslog" if sv.logfile == "syslog" else normalize_path(sv.logfile),
        "pidfile": normalize_path(sv.pidfile),
        "childlogdir": sv.childlogdir,
        "directory": sv.directory,
        "loglevel": LEVELS[sv.loglevel],
        "logfile_maxbytes": max(sv.logfile_maxbytes, 0),
        "logfile_backups": max(sv.logfile_backups, 0),
        "umask": sv.umask,
        "nodaemon": sv.nodaemon,
        "silent": sv.silent,
        "minfds": sv.minfds,
        "minprocs": sv.minprocs,
        "nocleanup": sv.nocleanup,
        "strip_ansi": sv.strip_ansi,
        "identifier": sv.identifier,
        "environment": dict(sv.environment),
    }
    servers = []
    for c in sv.server_configs:
        if "file" in c:
            chown = None if c["chown"] == (-1, -1) else [c["chown"][0], None if c["chown"][1] == -1 else c["chown"][1]]
            servers.append({"unix": c["file"], "chmod": c["chmod"], "chown": chown,
                            "username": c["username"], "password": c["password"]})
        else:
            servers.append({"inet": [c["host"], c["port"]], "username": c["username"], "password": c["password"]})
    servers = sorted(servers, key=json.dumps)[:2]
    return {"processes": procs, "group_order": order, "messages": messages,
            "supervisord": main, "servers": servers}, None


def rust_logfile(value):
    kind = value["kind"]
    if kind == "path":
        return {"kind": "path", "path": value["path"]}
    return {"kind": kind}


def rust_side(dump, path):
    run = subprocess.run([dump, path], capture_output=True, text=True)
    if run.returncode != 0:
        return None, run.stderr
    cfg = json.loads(run.stdout)
    global_env = dict(cfg["supervisord"]["environment"])
    procs = {}
    for group in cfg["groups"]:
        for p in group["processes"]:
            env = dict(global_env)
            env.update(dict(p["environment"]))
            procs["%s:%s" % (group["name"], p["name"])] = {
                "group": group["name"],
                "group_priority": group["priority"],
                "command": p["command"],
                "priority": p["priority"],
                "autostart": p["autostart"],
                "autorestart": {"always": "true", "unexpected": "unexpected", "never": "false"}[p["autorestart"]],
                "startsecs": p["startsecs"],
                "startretries": p["startretries"],
                "exitcodes": p["exitcodes"],
                "stopsignal": p["stopsignal"]["number"],
                "stopwaitsecs": p["stopwaitsecs"],
                "stopasgroup": p["stopasgroup"],
                "killasgroup": p["killasgroup"],
                "redirect_stderr": p["redirect_stderr"],
                "directory": p["directory"],
                "environment": env,
                "uid": p["user"]["uid"] if p["user"] else None,
                "umask": p["umask"],
                "serverurl": p["serverurl"],
                "stdout_logfile": rust_logfile(p["stdout"]["logfile"]),
                "stdout_maxbytes": p["stdout"]["maxbytes"],
                "stdout_backups": p["stdout"]["backups"],
                "stdout_syslog": p["stdout"]["syslog"],
                "stderr_logfile": rust_logfile(p["stderr"]["logfile"]),
                "stderr_maxbytes": p["stderr"]["maxbytes"],
                "stderr_backups": p["stderr"]["backups"],
                "stderr_syslog": p["stderr"]["syslog"],
            }
    order = [g["name"] for g in cfg["groups"]]
    messages = sorted(line for line in run.stderr.splitlines() if line)
    sv = cfg["supervisord"]
    logfile = sv["logfile"]
    main = {
        "logfile": "syslog" if logfile["kind"] == "syslog" else logfile["path"],
        "pidfile": sv["pidfile"],
        "childlogdir": sv["childlogdir"],
        "directory": sv["directory"],
        "loglevel": sv["loglevel"],
        "logfile_maxbytes": sv["logfile_maxbytes"],
        "logfile_backups": sv["logfile_backups"],
        "umask": sv["umask"],
        "nodaemon": sv["nodaemon"],
        "silent": sv["silent"],
        "minfds": sv["minfds"],
        "minprocs": sv["minprocs"],
        "nocleanup": sv["nocleanup"],
        "strip_ansi": sv["strip_ansi"],
        "identifier": sv["identifier"],
        "environment": dict(sv["environment"]),
    }
    servers = []
    u = cfg["unix_http_server"]
    if u:
        servers.append({"unix": u["file"], "chmod": u["chmod"], "chown": u["chown"],
                        "username": u["username"], "password": u["password"]})
    i = cfg["inet_http_server"]
    if i:
        servers.append({"inet": [i["host"], i["port"]], "username": i["username"], "password": i["password"]})
    servers = sorted(servers, key=json.dumps)
    return {"processes": procs, "group_order": order, "messages": messages,
            "supervisord": main, "servers": servers}, None


SUFFIX = re.compile(r" in section '[^']*' \(file: '[^']*'\)$")


def main():
    dump, root = sys.argv[1], sys.argv[2]
    failures = 0
    agreed = 0
    valid = sorted(glob.glob(os.path.join(root, "valid", "*.conf")))
    invalid = sorted(glob.glob(os.path.join(root, "invalid", "*.conf")))
    for path in valid:
        path = os.path.abspath(path)
        py, py_err = python_side(path)
        rs, rs_err = rust_side(dump, path)
        name = os.path.relpath(path, root)
        if py_err or rs_err:
            failures += 1
            print("DIFF %s: python error %r, rust error %r" % (name, py_err, rs_err))
            continue
        if py != rs:
            failures += 1
            print("DIFF %s" % name)
            for field in ("supervisord", "servers"):
                if py[field] != rs[field]:
                    print("  %s: python %r\n  %s  rust   %r" % (field, py[field], " " * len(field), rs[field]))
            if py["messages"] != rs["messages"]:
                print("  messages: python %s rust %s" % (py["messages"], rs["messages"]))
            if py["group_order"] != rs["group_order"]:
                print("  group order: python %s rust %s" % (py["group_order"], rs["group_order"]))
            for key in sorted(set(py["processes"]) | set(rs["processes"])):
                a, b = py["processes"].get(key), rs["processes"].get(key)
                if a is None or b is None:
                    print("  %s: python %s, rust %s" % (key, "present" if a else "missing", "present" if b else "missing"))
                    continue
                for field in sorted(a):
                    if a[field] != b.get(field):
                        print("  %s.%s: python %r rust %r" % (key, field, a[field], b.get(field)))
            continue
        agreed += 1
    for path in invalid:
        path = os.path.abspath(path)
        name = os.path.relpath(path, root)
        py, py_err = python_side(path)
        rs, rs_err = rust_side(dump, path)
        if py_err is None or rs_err is None:
            failures += 1
            print("DIFF %s: python %s, rust %s" % (name, "error" if py_err else "accepted", "error" if rs_err else "accepted"))
            continue
        core = SUFFIX.sub("", py_err)
        if core not in rs_err:
            failures += 1
            print("DIFF %s: supervisord says %r; ours:\n%s" % (name, core, rs_err))
            continue
        agreed += 1
    total = len(valid) + len(invalid)
    print("%d/%d fixtures agree (%d valid, %d invalid)" % (agreed, total, len(valid), len(invalid)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
