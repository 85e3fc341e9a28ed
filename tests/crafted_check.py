#!/usr/bin/env python3
"""crafted_check.py - the crafted captures against the facts written down
when they were generated (pcaps/crafted/expected.json, made by
tests/gen/gen_pcaps.py independently of the sensor): the HTTP requests with
their method, path and status, in order, and the number of database flows.
This keeps the golden files honest: a golden file blessed from a wrong output
would still fail here.   usage: tests/crafted_check.py BIN"""
import json
import subprocess
import sys

BIN = sys.argv[1]
facts = json.load(open("pcaps/crafted/expected.json"))
for name, want in sorted(facts.items()):
    run = subprocess.run([BIN, "-j", "-r", "pcaps/crafted/" + name],
                         capture_output=True, text=True)
    events = [json.loads(line) for line in run.stdout.splitlines() if line]
    ops = [e["op"] for e in events if e["event_type"] == "op"]
    got_ops = [(o.get("http", {}).get("method"),
                o.get("http", {}).get("uri", "").split("?")[0],
                o["status_code"] or None) for o in ops]
    want_ops = [(o["method"], o["path"], o["status"]) for o in want["ops"]]
    flows = sum(1 for e in events if e["event_type"] == "flow")
    why = []
    if got_ops != want_ops:
        why.append(f"ops {got_ops[:4]} != {want_ops[:4]} ({len(got_ops)} vs {len(want_ops)})")
    if flows != want["tcp_flows"]:
        why.append(f"{flows} flow events, expected {want['tcp_flows']}")
    if run.returncode < 0:
        why.append(f"killed by signal {-run.returncode}")
    if why:
        print(f"FAIL crafted/{name}: {'; '.join(why)}")
    else:
        print(f"ok crafted/{name}")
