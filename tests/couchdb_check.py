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
  feeds           the continuous feed's changes, counted line by line, equal the
                  lines curl received before --max-time cut it, and its op is
                  flagged partial; cut again just before its first FIN/RST (a feed
                  that never ends in the capture), the op is still emitted with
                  the same count (never_closed); the eventsource request PouchDB
                  Server answered with a normal feed counts its results; one
                  put_doc op per document added

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


def feed_ops(ops):
    return {urllib.parse.parse_qs(urllib.parse.urlsplit(e["op"]["http"]["uri"]).query)["feed"][0]: e
            for e in ops if e["op"].get("name") == "_changes"}


def check_feeds(name, facts, ops, binary):
    client = facts["client"]
    puts = [e for e in ops if e["op"].get("name") == "put_doc"]
    report(name, "put_docs", len(puts) == client["documents_added"], "%d put_doc ops" % len(puts))
    feeds = feed_ops(ops)
    for step in client["steps"]:
        feed = urllib.parse.parse_qs(urllib.parse.urlsplit(step["curl"][-1]).query)["feed"][0]
        ev = feeds.get(feed)
        ok = ev is not None and ev["op"].get("items") == step["items"]
        report(name, "feed_" + feed, ok, "client received %d, %s" % (
            step["items"], describe(ev) if ev else "no op"))
    cont = feeds.get("continuous")
    report(name, "continuous_partial", cont is not None and "partial" in cont["op"].get("flags", []),
           describe(cont) if cont else "no op")
    if cont is None or not shutil.which("tshark") or not shutil.which("editcap"):
        print("skip couchdb/%s/never_closed: tshark/editcap absent" % name)
        return
    # The same capture cut just before the feed's first FIN/RST: the feed
    # never ends, the capture does; its op is emitted all the same.
    pcap = os.path.join(ROOT, "pcaps", name + ".pcap")
    p = subprocess.run(["tshark", "-n", "-r", pcap, "-Y", "tcp.port==%d && (tcp.flags.fin==1 || tcp.flags.reset==1)"
                        % cont["src_port"], "-T", "fields", "-e", "frame.number"], capture_output=True, timeout=300)
    first = int(p.stdout.decode().split()[0])
    cut = os.path.join(os.environ.get("TMPDIR", "/tmp"), "couchdb_feeds_open.%d.pcap" % os.getpid())
    subprocess.run(["editcap", "-r", pcap, cut, "1-%d" % (first - 1)], check=True, capture_output=True)
    try:
        open_ops, rc = run_sensor(binary, cut)
    finally:
        os.unlink(cut)
    ev = feed_ops(open_ops).get("continuous")
    want = [st["items"] for st in client["steps"] if "feed=continuous" in st["curl"][-1]][0]
    report(name, "never_closed", rc == 0 and ev is not None and ev["op"].get("items") == want and
           "partial" in ev["op"].get("flags", []), describe(ev) if ev else "no op (exit %d)" % rc)


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
                     ("couchdb_nmap", check_nmap),
                     ("couchdb_feeds", lambda n, f, o: check_feeds(n, f, o, binary))):
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
