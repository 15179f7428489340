"""Runs supervisorctl verbs one after the other and prints one normalized JSON line per verb:
{"args": [...], "status": N, "out": "..."} (stdout and stderr together, in order).

usage: ctl_run.py SUPERVISORCTL ROOTDIR SERVERURL -- CTL_GLOBAL_ARGS... < verbs.json
verbs.json is [[arg, ...], ...]; each entry may be {"args": [...], "stdin": "..."}."""
import json, subprocess, sys, os
sys.path.insert(0, os.path.dirname(__file__))
import normalize

ctl, root, url = sys.argv[1:4]
globals_ = sys.argv[5:]
for verb in json.load(sys.stdin):
    if isinstance(verb, dict):
        args, stdin = verb["args"], verb.get("stdin", "")
    else:
        args, stdin = verb, ""
    done = subprocess.run([ctl] + globals_ + args, input=stdin.encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    out = normalize.text(done.stdout.decode("utf-8", "replace"), root, url)
    print(json.dumps({"args": [normalize.text(arg, root, url) for arg in args],
                      "status": done.returncode,
                      "out": normalize.stops_sorted(out)}), flush=True)
