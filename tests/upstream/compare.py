"""Compares the two runs of supervisor's end-to-end tests (see run.sh).

usage: compare.py SUPERVISORD.xml RSUPERVISOR.xml EXPECTED-FAILURES RSUPERVISOR.log
Prints each test's result for both; exits 1 when a test passed for supervisord and failed
for us without being listed (name, then its reason) in EXPECTED-FAILURES. SUPERVISORD.xml
`-` stands for what the full run measured for supervisord 4.3.0: every test passes.
"""
import sys
import xml.etree.ElementTree as ET


def results(path):
    out = {}
    for case in ET.parse(path).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            out[case.get("name")] = "FAIL"
        elif case.find("skipped") is not None:
            out[case.get("name")] = "SKIP"
        else:
            out[case.get("name")] = "pass"
    return out


def expected(path):
    names = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, reason = line.partition(" ")
                names[name] = reason.strip()
    return names


def main():
    ours = results(sys.argv[2])
    if sys.argv[1] == "-":
        theirs = {name: "pass" for name in ours}
    else:
        theirs = results(sys.argv[1])
    if sys.argv[1] == "-":
        print("supervisord column: what the full run measured (run.sh without --ours-only)")
    if not ours:
        print("no test ran for rsupervisor (see %s)" % sys.argv[4])
        return 1
    allowed = expected(sys.argv[3])
    bad = []
    print("%-58s %-11s %s" % ("test", "supervisord", "rsupervisor"))
    for name in sorted(set(theirs) | set(ours)):
        a, b = theirs.get(name, "-"), ours.get(name, "-")
        note = ""
        if a == "pass" and b != "pass":
            if name in allowed:
                note = "  (expected: %s)" % allowed[name]
            else:
                note = "  <-- regression"
                bad.append(name)
        print("%-58s %-11s %s%s" % (name, a, b, note))
    both = sum(1 for n in theirs if theirs[n] == "pass" and ours.get(n) == "pass")
    print("%d tests: %d pass for supervisord, %d for rsupervisor, %d for both"
          % (len(theirs), sum(v == "pass" for v in theirs.values()),
             sum(v == "pass" for v in ours.values()), both))
    if bad:
        print("failing for rsupervisor only: %s (details in %s)" % (", ".join(bad), sys.argv[4]))
        with open(sys.argv[4]) as f:
            print(f.read())
        return 1
    return 0


sys.exit(main())
