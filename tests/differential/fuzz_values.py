#!/usr/bin/env python3
"""Fuzz the value conversions and %-expansion against supervisor 4.3.0's own functions.

Usage: fuzz_values.py PROBE_BINARY [COUNT] [SEED]

Random inputs built from each type's idioms go to `probe` and to supervisor.datatypes /
supervisor.options.expand; results (or error messages) must be identical. Exits 1 otherwise.
"""
import json
import random
import subprocess
import sys

from supervisor import datatypes as dt
from supervisor.options import expand

ATOMS = {
    "boolean": ["yes", "no", "TRUE", "False", "on", "OFF", "1", "0", "maybe", "", " true", "tru"],
    "integer": ["0", "42", "-7", "+3", " 8 ", "007", "1_000", "1__0", "_1", "abc", "1.5", "", "9" * 25, "-"],
    "byte_size": ["50MB", "1kb", "2GB", "50 MB", "0", "-1", "1.5MB", "5B", "mb", "10", "7 kB", " 3gb", "x"],
    "octal": ["022", "0o22", "777", "8", "abc", "0", "0o", "-0", "1_7", "0O7", " 7 "],
    "signal": ["TERM", "sigterm", "hup", "9", "99", "FOO", "SIGKILL", "usr1", "0", "-1", "64", "rtmin", "IOT", " int "],
    "exitcodes": ["0", "0,2", "0, 2", "", "0,300", "a", "1,,2", "255", "-1", " 3 ,4"],
    "autorestart": ["true", "false", "unexpected", "Unexpected", "sometimes", "1", "off", "UNEXPECTED ", "yes"],
    "name": ["web", " web ", "a b", "a:b", "a/b", "x/y z", "", "ok_name-1.2"],
    "inet": ["9001", "localhost:9001", "*:9001", ":9001", "0", "h:0", "h:70000", "h:", "x", "[::1]:80", "Host:1"],
}
ENV_TOKENS = ["A", "B", "PATH", "=", ",", "1", "\"x, y\"", "'z'", "\"\"", "/usr/bin:/bin", " ", "\n", "#c",
              "a.b", "x+y", "\"unclosed", "é", "$V", "(p)", "-f"]
# An unnamed "%s" makes Python insert the repr of the whole mapping; rsupervisor refuses it
# (documented deviation), so "s" never directly follows a bare "%" here.
EXP_TOKENS = ["%(s)s", "%(n)d", "%(n)02d", "%(n)5.3d", "%(n)-4d|", "%(n)+d", "%(n)#x", "%(n)o", "%%", "%",
              "%(s)d", "%(s)r", "%(s).2s", "%(nope)s", "%(s", "%(n)", "%(n)z", "%(ENV_X)s", "text", " ",
              "%(n)f", "%(n).1e", "%(n)g", "%(s)c", "%(n)c", "%d", "%x", "(", ")"]


def python(kind, value):
    names = {"s": "str", "n": 7, "ENV_X": "x"}
    try:
        if kind == "boolean":
            return {"ok": dt.boolean(value)}
        if kind == "integer":
            # Documented deviation: values beyond 64 bits saturate.
            return {"ok": max(min(dt.integer(value), 2**63 - 1), -2**63)}
        if kind == "byte_size":
            return {"ok": max(dt.byte_size(value), 0)}
        if kind == "octal":
            return {"ok": dt.octal_type(value)}
        if kind == "signal":
            return {"ok": int(dt.signal_number(value))}
        if kind == "exitcodes":
            return {"ok": dt.list_of_exitcodes(value)}
        if kind == "autorestart":
            v = dt.auto_restart(value)
            return {"ok": {dt.RestartUnconditionally: "always", dt.RestartWhenExitUnexpected: "unexpected"}.get(v, "never")}
        if kind == "name":
            return {"ok": dt.process_or_group_name(value)}
        if kind == "inet":
            return {"ok": list(dt.inet_address(value))}
        if kind == "environment":
            return {"ok": [list(kv) for kv in dt.dict_of_key_value_pairs(value).items()]}
        if kind == "expand":
            return {"ok": expand(value, names, "program:x.command")}
    except ValueError as e:
        return {"err": str(e)}
    raise SystemExit("unknown kind " + kind)


def main():
    binary = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    cases = []
    for kind, atoms in ATOMS.items():
        cases.extend((kind, a) for a in atoms)
    for _ in range(count):
        kind = rng.choice(["environment", "expand"] + list(ATOMS))
        if kind == "environment":
            value = "".join(rng.choice(ENV_TOKENS) for _ in range(rng.randint(0, 9)))
        elif kind == "expand":
            value = "".join(rng.choice(EXP_TOKENS) for _ in range(rng.randint(0, 5)))
            if any(value[i] == "%" and value[i + 1:i + 2] in ("s", "r", "a") and value[:i].count("%") % 2 == 0
                   for i in range(len(value))):
                continue
        else:
            value = rng.choice(ATOMS[kind])
            if rng.random() < 0.3:
                value = value.upper() if rng.random() < 0.5 else " " + value
        cases.append((kind, value))
    payload = "".join(json.dumps(c) + "\n" for c in cases)
    out = subprocess.run([binary], input=payload, capture_output=True, text=True, check=True).stdout.splitlines()
    bad = 0
    for (kind, value), line in zip(cases, out):
        ours, theirs = json.loads(line), python(kind, value)
        if ours != theirs:
            bad += 1
            if bad <= 15:
                print("MISMATCH %s %r\n  python %r\n  ours   %r" % (kind, value, theirs, ours))
    print("%d/%d values converted identically" % (len(cases) - bad, len(cases)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
