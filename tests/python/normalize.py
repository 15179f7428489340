"""Normalization shared by the compatibility drivers: what legitimately differs between two
runs (pids, times, uptimes, the temp directory, the server URL) becomes a placeholder, so
supervisord 4.3.0 and rsupervisord can be compared byte for byte on the rest."""
import re

def text(value, root, url=None):
    if url:
        value = value.replace(url, "{url}")
    value = value.replace(root, "{dir}")
    value = re.sub(r"pid \d+, uptime \d+:\d\d:\d\d", "pid PID, uptime UPTIME", value)
    value = re.sub(r"[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M", "DATE", value)
    return value

STATUS_KEYS = {"name", "group", "status", "description"}

def value(obj, root, key=None):
    if isinstance(obj, str):
        return text(obj, root)
    if isinstance(obj, bool):
        return obj
    if isinstance(obj, int):
        if key in ("pid", "start", "stop", "now") and obj != 0:
            return key.upper()
        return obj
    if isinstance(obj, list):
        if obj and all(isinstance(item, dict) and set(item) == STATUS_KEYS for item in obj):
            # supervisord lists the statuses of a stop in the order the stops completed.
            obj = sorted(obj, key=lambda item: (item["group"], item["name"]))
        return [value(item, root) for item in obj]
    if isinstance(obj, dict):
        # Key order is part of what is compared: keep it.
        return [[k, value(v, root, k)] for k, v in obj.items()]
    return repr(obj)

def stops_sorted(out):
    """supervisord prints the lines of a group stop in the order the stops completed: sort
    each run of consecutive `name: stopped` lines."""
    lines, run, result = out.split("\n"), [], []
    for line in lines:
        if line.endswith(": stopped"):
            run.append(line)
            continue
        result.extend(sorted(run))
        run = []
        result.append(line)
    result.extend(sorted(run))
    return "\n".join(result)
