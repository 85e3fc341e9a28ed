#!/usr/bin/env python3
"""Check the sensor's CouchDB ops against the recorded captures' facts.

    tests/couchdb_check.py BIN

For pcaps/couchdb_{nano,curl,nmap}.pcap with their .facts.json (written by
pcaps/record/record_couchdb.sh from what the clients received), runs
`BIN -j -r <pcap>` and checks the op events:

  every capture   one op per HTTP request (op_count), every op app "couchdb"
                  (app; nmap's /_stats probe is not Elasticsearch); with tshark
                  installed, tshark's HTTP request count equals the op count
                  (tshark_requests)
  nano            each call's op, in order, has the call's name and path, and the
                  rows/documents/changes the client received (items) and the
                  total_rows/doc_count it was told (total); the include_docs dump
                  is 6000 documents with flag match_all
  curl            each step's op, in order: status, items and total counted from
                  the body curl received; _changes since= carries a continuation;
                  the :8080 ops (not CouchDB's port) are CouchDB too
  nmap            /_stats, /_all_dbs, /_config, named so (in any order)

  couchbase       the Couchbase captures of ../shared/pcaps (KV on memcached-binary
                  ports, REST on :8091/:8092) decode without error and give no
                  CouchDB op (skipped when the directory is absent)

Prints "ok couchdb/<capture>/<check>" or "FAIL ...: why"; "skip" when a
capture is absent. Exits 1 if any check failed.
"""

import json
import os
import shutil
import subprocess
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = 0


def report(capture, check, ok, why=""):
    global failures
    if ok:
        print("ok couchdb/%s/%s" % (capture, check))
    else:
        failures += 1
        print("FAIL couchdb/%s/%s: %s" % (capture, check, why))


def run_sensor(binary, pcap):
    p = subprocess.run([binary, "-j", "-r", pcap], capture_output=True, timeout=300)
    ops = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    ops = [e for e in ops if e.get("event_type") == "op"]
    ops.sort(key=lambda e: e["op"].get("request_time", ""))
    return ops, p.returncode


def tshark_requests(pcap):
    if not shutil.which("tshark"):
        return None
    cmd = ["tshark", "-n", "-r", pcap, "-d", "tcp.port==5984,http", "-Y", "http.request",
           "-T", "fields", "-e", "http.request.method"]
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    return len([l for l in p.stdout.decode().splitlines() if l.strip()]) if p.returncode == 0 else None


def path_of(ev):
    return urllib.parse.urlsplit(ev["op"]["http"]["uri"]).path


def describe(ev):
    op = ev["op"]
    return "port=%s app=%s name=%s class=%s status=%s items=%s total=%s flags=%s %s %s" % (
        ev["dest_port"], op.get("app"), op.get("name"), op.get("class"), op.get("status_code"),
        op.get("items", "-"), op.get("total", "-"), ",".join(op.get("flags", [])),
        op["http"]["method"], op["http"]["uri"])


def check_common(name, ops, n, pcap):
    report(name, "op_count", len(ops) == n, "%d ops, %d requests" % (len(ops), n))
    bad = [describe(e) for e in ops if e["op"].get("app") != "couchdb"]
    report(name, "app", not bad, "; ".join(bad))
    tn = tshark_requests(pcap)
    if tn is not None:
        report(name, "tshark_requests", tn == n == len(ops), "tshark %d, facts %d, ops %d" % (tn, n, len(ops)))


def compare(name, label, ev, want):
    op = ev["op"]
    for key in ("items", "total"):
        if key in want and op.get(key) != want[key]:
            report(name, label, False, "%s %s != %s: %s" % (key, op.get(key), want[key], describe(ev)))
            return
    report(name, label, True)


def check_nano(name, facts, ops):
    calls = facts["client"]["calls"]
    check_common(name, ops, len(calls), os.path.join(ROOT, "pcaps", name + ".pcap"))
    for i, (call, ev) in enumerate(zip(calls, ops)):
        label = "call%02d_%s" % (i, call["call"])
        if ev["op"].get("name") != call["call"] or path_of(ev) != call["path"]:
            report(name, label, False, "expected %s %s, got %s" % (call["call"], call["path"], describe(ev)))
            continue
        compare(name, label, ev, call)
    dump = [e for e in ops if e["op"]["http"]["uri"].endswith("_all_docs?include_docs=true")
            and e["op"]["http"]["method"] == "GET"]
    report(name, "dump_6000", len(dump) == 1 and dump[0]["op"].get("items") == 6000
           and "match_all" in dump[0]["op"].get("flags", []), "; ".join(describe(e) for e in dump))


def check_curl(name, facts, ops):
    steps = facts["client"]["steps"]
    check_common(name, ops, len(steps), os.path.join(ROOT, "pcaps", name + ".pcap"))
    for i, (step, ev) in enumerate(zip(steps, ops)):
        url = [a for a in step["curl"] if a.startswith("http")][0]
        label = "step%02d" % i
        if ev["op"]["http"]["uri"] != url.split("/", 3)[3].join(["/", ""]) or \
                ev["op"].get("status_code") != step["status"]:
            report(name, label, False, "step %s: %s" % (url, describe(ev)))
            continue
        compare(name, label, ev, step)
    since = [e for e in ops if "since=" in e["op"]["http"]["uri"]]
    report(name, "since_continues", len(since) == 1 and all(
        e["op"].get("continuation") and "continues" in e["op"].get("flags", []) for e in since),
        "; ".join(describe(e) for e in since))
    other = [e["op"].get("name") for e in ops if e["dest_port"] == 8080]
    report(name, "other_port", other == ["banner", "_stats", "_all_dbs"], str(other))


def check_nmap(name, facts, ops):
    check_common(name, ops, 3, os.path.join(ROOT, "pcaps", name + ".pcap"))
    names = sorted(e["op"].get("name") for e in ops)   # nmap runs its scripts in parallel
    report(name, "names", names == ["_all_dbs", "_config", "_stats"], str(names))


SHARED = os.path.join(os.path.dirname(ROOT), "shared", "pcaps", "wireshark-wiki")
COUCHBASE = ("couchbase-create-bucket.pcapng", "couchbase-lww.pcap", "couchbase-xattr.pcapng",
             "couchbase_subdoc_multi.pcap")


def check_couchbase(binary):
    for f in COUCHBASE:
        pcap = os.path.join(SHARED, f)
        name = "couchbase/" + f.split(".")[0]
        if not os.path.exists(pcap):
            print("skip couchdb/%s: %s absent (third-party capture)" % (name, pcap))
            continue
        ops, rc = run_sensor(binary, pcap)
        report(name, "exit", rc == 0, "exit status %d" % rc)
        couch = [describe(e) for e in ops if e["op"].get("app") == "couchdb"]
        report(name, "not_couchdb", not couch, "; ".join(couch))


def main():
    binary = sys.argv[1]
    check_couchbase(binary)
    for name, fn in (("couchdb_nano", check_nano), ("couchdb_curl", check_curl),
                     ("couchdb_nmap", check_nmap)):
        pcap = os.path.join(ROOT, "pcaps", name + ".pcap")
        facts_path = os.path.join(ROOT, "pcaps", name + ".facts.json")
        if not os.path.exists(pcap) or not os.path.exists(facts_path):
            print("skip couchdb/%s: capture absent" % name)
            continue
        ops, rc = run_sensor(binary, pcap)
        report(name, "exit", rc == 0, "exit status %d" % rc)
        for e in ops:
            print(describe(e), file=sys.stderr)
        fn(name, json.load(open(facts_path)), ops)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
