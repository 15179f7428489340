#!/usr/bin/env python3
"""Fuzz the INI reader against supervisor's UnhosedConfigParser.

Usage: fuzz_ini.py INI_DUMP_BINARY [COUNT] [SEED]

Generates random files from INI idioms (comments, continuation lines, delimiters, duplicate
sections, [DEFAULT], bad lines, CRLF), parses each with Python and with `ini_dump`, and
compares sections, keys, values and the lines reported as errors. Exits 1 on a mismatch.
"""
import configparser
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

from supervisor.options import UnhosedConfigParser

PIECES = [
    "[program:a]", "[program:b]", "[DEFAULT]", "[ program:c ]", "[x] ; c", "[a]b]", "[]",
    "command=/bin/cat", "command = /bin/cat ; inline", "Command=echo a;b", "k:v", "k : v # c",
    "x=a#b", "y= ;c", "empty=", "=novalue", "garbage line", "  continued", "\tmore",
    "    ; indented comment", "# comment", "; comment", "", "   ", "url=unix:///x", "a=b=c",
    "q=\"quoted ; not\"", "back=\\", "  \\n C:\\Windows", "UPPER=Value", "k=v2", "dup=1", "dup=2",
    "env=\n  A=\"1\",\n  B=\"2\"", "p=%(here)s/x", "u=h\u00e9llo", "tab\t=\tv", "k =",
]


def python_parse(path):
    p = UnhosedConfigParser()
    try:
        p.read(path)
    except configparser.MissingSectionHeaderError as e:
        return {"fatal": True, "error_lines": [e.lineno]}
    except configparser.ParsingError as e:
        lines = [lineno for lineno, _ in e.errors]
        return {"partial": True, "error_lines": lines, "sections": sections(p), "defaults": dict(p._defaults)}
    return {"fatal": False, "error_lines": [], "sections": sections(p), "defaults": dict(p._defaults)}


def sections(p):
    return {s: dict(p._sections[s]) for s in p.sections()}


def main():
    binary = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    tmp = tempfile.mkdtemp(prefix="fuzz-ini-")
    paths = []
    for i in range(count):
        lines = [rng.choice(PIECES) for _ in range(rng.randint(1, 14))]
        if rng.random() < 0.8:
            lines.insert(0, "[program:a]")
        nl = "\r\n" if rng.random() < 0.1 else "\n"
        path = os.path.join(tmp, "f%04d.conf" % i)
        with open(path, "w", newline="") as f:
            f.write(nl.join(lines) + (nl if rng.random() < 0.9 else ""))
        paths.append(path)
    out = subprocess.run([binary] + paths, capture_output=True, text=True, check=True).stdout.splitlines()
    bad = 0
    for path, line in zip(paths, out):
        ours = json.loads(line)
        py = python_parse(path)
        if py.get("fatal"):
            same = ours["fatal"] and ours["error_lines"][:1] == py["error_lines"]
        else:
            same = (not ours["fatal"] and ours["error_lines"] == py["error_lines"]
                    and ours["sections"] == py["sections"] and ours["defaults"] == py["defaults"])
        if not same:
            bad += 1
            if bad <= 5:
                print("MISMATCH %s\n--- file ---\n%r\n--- python ---\n%s\n--- ours ---\n%s\n"
                      % (path, open(path, newline="").read(), json.dumps(py, indent=1), json.dumps(ours, indent=1)))
    if not bad:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d/%d random files parsed identically" % (count - bad, count))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
