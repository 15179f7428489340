"""Runs XML-RPC calls with Python's own xmlrpc.client and prints one normalized JSON line per
call: {"call": ..., "ok": result} or {"call": ..., "fault": [code, string]}.

usage: xmlrpc_calls.py SERVERURL USER PASSWORD ROOTDIR < calls.json
SERVERURL is unix:///path (through supervisor's own transport, as supervisorctl) or
http://host:port; USER/PASSWORD may be empty. calls.json is [[method, [params...]], ...]."""
import json, socket, sys, xmlrpc.client
# A daemon that never answers fails the test instead of hanging it.
socket.setdefaulttimeout(60)
sys.path.insert(0, __import__("os").path.dirname(__file__))
import normalize
from supervisor.xmlrpc import SupervisorTransport

url, user, password, root = sys.argv[1:5]
transport = SupervisorTransport(user or None, password or None, url)
proxy = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
for method, params in json.load(sys.stdin):
    line = {"call": [method, params]}
    try:
        result = getattr(proxy, method)(*params)
        if method == "supervisor.getPID":
            result = "PID" if isinstance(result, int) and result > 0 else result
        line["ok"] = normalize.value(result, root)
    except xmlrpc.client.Fault as fault:
        line["fault"] = [fault.faultCode, normalize.text(fault.faultString, root)]
    print(json.dumps(line), flush=True)
