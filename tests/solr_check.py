#!/usr/bin/env python3
"""Check the sensor's Solr ops against the recorded captures' facts.

    tests/solr_check.py BIN

For pcaps/solr_{pysolr,curl}.pcap with their .facts.json (written by
pcaps/record/record_solr.sh; the server logged every request with the
documents its response carried and its numFound), runs `BIN -j -r <pcap>`
and checks the op events:

  every capture  one op per request the server answered (op_count), app "solr"
                 (app); each request's op (same port, method and URI, in order)
                 has the logged status, and for select/get/cores/collections the
                 logged documents (items) and numFound (total; CSV has none);
                 with tshark installed, its HTTP request count equals both
  pysolr         the cursorMark dump: 6 pages whose continuation is the previous
                 page's cursor, 5000 documents in all; the client's own count of
                 documents received equals the ops' sum
  curl           the Velocity config, wt=velocity template and dataConfig calls
                 are flagged probe; update delete *:* and collections DELETE are
                 class destroy; the :8080 /solr/ select is counted, and so is
                 the prefix-less :8080 select, recognised by its body and
                 handed over mid-body
  scenarios/solr_dump, scenarios/solr_app (record_scenarios_apps.sh; the
                 server's log is the request list): the same per-request checks;
                 cores STATUS and collections LIST in XML count the cores and
                 collections curl parsed (xml_admin_items); the documents the
                 clients reported equal the select ops' items

Prints "ok solr/<capture>/<check>" or "FAIL ...: why"; "skip" when a
capture is absent. Exits 1 if any check failed.
"""

import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = 0
COUNTED = ("select", "get", "admin/cores", "admin/collections")


def report(capture, check, ok, why=""):
    global failures
    if ok:
        print("ok solr/%s/%s" % (capture, check))
    else:
        failures += 1
        print("FAIL solr/%s/%s: %s" % (capture, check, why))


def run_sensor(binary, pcap):
    p = subprocess.run([binary, "-j", "-r", pcap], capture_output=True, timeout=300)
    ops = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    ops = [e for e in ops if e.get("event_type") == "op"]
    ops.sort(key=lambda e: e["op"].get("request_time", ""))
    return ops, p.returncode


def tshark_requests(pcap):
    if not shutil.which("tshark"):
        return None
    cmd = ["tshark", "-n", "-r", pcap, "-d", "tcp.port==8983,http", "-Y", "http.request",
           "-T", "fields", "-e", "http.request.method"]
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    return len([l for l in p.stdout.decode().splitlines() if l.strip()]) if p.returncode == 0 else None


def describe(ev):
    op = ev["op"]
    return "port=%s app=%s name=%s class=%s status=%s items=%s total=%s flags=%s %s %s" % (
        ev["dest_port"], op.get("app"), op.get("name"), op.get("class"), op.get("status_code"),
        op.get("items", "-"), op.get("total", "-"), ",".join(op.get("flags", [])),
        op["http"]["method"], op["http"]["uri"])


def pair(ops, requests):
    used, pairs = set(), []
    for req in requests:
        found = None
        for i, ev in enumerate(ops):
            h = ev["op"]["http"]
            if i not in used and ev["dest_port"] == req["port"] and h["method"] == req["method"] \
                    and h["uri"] == req["uri"]:
                found = i
                break
        if found is not None:
            used.add(found)
        pairs.append((req, ops[found] if found is not None else None))
    return pairs


def check_requests(name, facts, ops, pcap):
    reqs = facts["requests"]
    report(name, "op_count", len(ops) == len(reqs), "%d ops, %d requests" % (len(ops), len(reqs)))
    bad = [describe(e) for e in ops if e["op"].get("app") != "solr"]
    report(name, "app", not bad, "; ".join(bad))
    tn = tshark_requests(pcap)
    if tn is not None:
        report(name, "tshark_requests", tn == len(reqs) == len(ops),
               "tshark %d, facts %d, ops %d" % (tn, len(reqs), len(ops)))
    for i, (req, ev) in enumerate(pair(ops, reqs)):
        label = "request%02d" % i
        if ev is None:
            report(name, label, False, "no op for %s %s" % (req["method"], req["uri"]))
            continue
        op = ev["op"]
        why = []
        if op.get("status_code") != req["status"]:
            why.append("status %s != %s" % (op.get("status_code"), req["status"]))
        if op.get("name") in COUNTED:
            if op.get("items") != req.get("items"):
                why.append("items %s != %s" % (op.get("items"), req.get("items")))
            csv = "wt=csv" in req["uri"]
            if not csv and op.get("total") != req.get("total"):
                why.append("total %s != %s" % (op.get("total"), req.get("total")))
        report(name, label, not why, "; ".join(why) + ": " + describe(ev))


def check_pysolr(name, facts, ops):
    pages = [e["op"] for e in ops if "cursorMark=" in e["op"]["http"]["uri"]]
    chain = all(pages[i].get("continuation") == pages[i - 1].get("cursor")
                for i in range(1, len(pages)))
    report(name, "cursor_chain", len(pages) == 6 and chain and not pages[0].get("continuation"),
           "%d pages" % len(pages))
    report(name, "cursor_documents", sum(p.get("items", 0) for p in pages) == 5000)
    received = sum(c.get("documents", 0) for c in facts["client"]["calls"])
    counted = sum(e["op"].get("items", 0) for e in ops if e["op"].get("name") == "select")
    report(name, "client_documents", received == counted, "client %d, ops %d" % (received, counted))


def check_curl(name, facts, ops):
    probes = sorted(e["op"]["name"] for e in ops if "probe" in e["op"].get("flags", []))
    report(name, "probes", probes == ["config", "dataimport", "select"], str(probes))
    destroy = sorted(e["op"]["name"] for e in ops if e["op"].get("class") == "destroy")
    report(name, "destroy", destroy == ["delete_collection", "update"], str(destroy))


def client_reports(facts):
    """(step, one call or the step itself) for every call a client reported."""
    for st in facts["steps"]:
        rep = st["reported"]
        for c in (rep.get("calls", [rep]) if isinstance(rep, dict) else []):
            yield st, c


def check_scenario(name, facts, ops):
    """Scenario captures: the server's log is the request list; the XML
    admin answers count what curl parsed; the documents the clients
    reported receiving equal the select ops' items."""
    xml = [e for e in ops if "wt=xml" in e["op"]["http"]["uri"] and e["op"]["name"].startswith("admin/")]
    want = [c for st, c in client_reports(facts) if st["tool"] == "curl" and "names" in c]
    report(name, "xml_admin_items", len(xml) == len(want) and
           all(e["op"].get("items") == c["items"] for e, c in zip(xml, want)),
           "ops %s, curl %s" % ([e["op"].get("items") for e in xml], [c["items"] for c in want]))
    received = sum(c.get("documents", 0) for st, c in client_reports(facts) if c.get("call") != "dump")
    counted = sum(e["op"].get("items", 0) for e in ops if e["op"].get("name") == "select")
    report(name, "client_documents", received == counted and received > 0,
           "clients %d, ops %d" % (received, counted))


def main():
    binary = sys.argv[1]
    for name, fn in (("solr_pysolr", check_pysolr), ("solr_curl", check_curl),
                     ("scenarios/solr_dump", check_scenario), ("scenarios/solr_app", check_scenario)):
        pcap = os.path.join(ROOT, "pcaps", name + ".pcap")
        facts_path = os.path.join(ROOT, "pcaps", name + ".facts.json")
        if not os.path.exists(pcap) or not os.path.exists(facts_path):
            print("skip solr/%s: capture absent" % name)
            continue
        ops, rc = run_sensor(binary, pcap)
        report(name, "exit", rc == 0, "exit status %d" % rc)
        for e in ops:
            print(describe(e), file=sys.stderr)
        facts = json.load(open(facts_path))
        if "server_log" in facts:
            facts["requests"] = facts["server_log"]
        check_requests(name, facts, ops, pcap)
        fn(name, facts, ops)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
