#!/usr/bin/env python3
"""Check the sensor's Elasticsearch ops against the recorded captures' facts.

    tests/es_check.py BIN [PCAP...]        (default: every pcaps/es_*.pcap)

For each capture with its pcaps/es_<name>.facts.json (written by
pcaps/record/record_es.sh), runs `BIN -j -r <pcap>`, keeps the op events and
checks them against the ground truth the recording logged server-side:

  every capture   one op per HTTP request the server answered (op_count); each
                  request's op (matched by server port, method and URI, in order)
                  has the logged status code and, where the server counted them,
                  the documents it sent (items) and its total (requests);
                  with tshark installed, tshark's HTTP request count equals both
                  the facts and the number of ops (tshark_requests)
  elasticdump     sum of op.items over the ops that return documents (_search,
                  _search/scroll, search with a PIT) = documents written (documents)
  node / python   the same sum = documents the client received (documents)
  curl            _search?size=10000 has items 6000 and total 6000; _cat/indices
                  (text and json) has items = number of indices and total = sum of
                  their docs.count; the gzip answer has flag "compressed" and its
                  items; the 401 has status "denied"; the Kibana console call has
                  flag "via_kibana"; the :9201 banner has app "opensearch"

Prints "ok es/<capture>/<check>" or "FAIL es/<capture>/<check>: why" on stdout,
what it found (every op, one line each) on stderr; exits 1 if any check failed.
"""

import glob
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HTTP_PORTS = (9200, 9201, 5601)

failures = 0


def report(capture, check, ok, why=""):
    global failures
    if ok:
        print("ok es/%s/%s" % (capture, check))
    else:
        failures += 1
        print("FAIL es/%s/%s: %s" % (capture, check, why))


def run_sensor(binary, pcap):
    """-> (op events, error string or None)."""
    try:
        p = subprocess.run([binary, "-j", "-r", pcap], capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return [], "cannot run %s: %s" % (binary, e)
    ops, bad = [], 0
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if ev.get("event_type") == "op" and isinstance(ev.get("op"), dict):
            ops.append(ev)
    if p.returncode != 0:
        return ops, "exit status %d: %s" % (p.returncode, p.stderr.decode("utf-8", "replace").strip()[-300:])
    if bad:
        return ops, "%d output lines are not JSON" % bad
    return ops, None


def tshark_requests(pcap):
    """Number of HTTP requests tshark sees, or None without tshark."""
    if not shutil.which("tshark"):
        return None
    cmd = ["tshark", "-n", "-r", pcap]
    for port in HTTP_PORTS:
        cmd += ["-d", "tcp.port==%d,http" % port]
    cmd += ["-Y", "http.request", "-T", "fields", "-e", "http.request.method"]
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    if p.returncode != 0:
        return None
    return len([l for l in p.stdout.decode().splitlines() if l.strip()])


def http_of(ev):
    h = ev["op"].get("http") or {}
    return h.get("method", ""), h.get("uri", "")


def describe(ev):
    op = ev["op"]
    method, uri = http_of(ev)
    fields = ["port=%s" % ev.get("dest_port"), "app=%s" % op.get("app"), "name=%s" % op.get("name"),
              "class=%s" % op.get("class"), "status=%s/%s" % (op.get("status"), op.get("status_code")),
              "items=%s" % op.get("items", "-"), "total=%s" % op.get("total", "-"),
              "flags=%s" % ",".join(op.get("flags") or []), "%s %s" % (method, uri)]
    return " ".join(fields)


def returns_documents(ev):
    """_search, _search/scroll, search with a PIT: not a scroll clear, not a
    PIT open/close, not _count/_cat/_doc."""
    op = ev["op"]
    method, uri = http_of(ev)
    name = (op.get("name") or "").lower()
    if method.upper() == "DELETE" or "point_in_time" in name or "point_in_time" in uri:
        return False
    return "search" in name or "scroll" in name


def match_requests(ops, requests):
    """Pair each logged request with an op of the same port, method and URI,
    taking them in order. -> list of (request, op or None)."""
    used = set()
    pairs = []
    for req in requests:
        found = None
        for i, ev in enumerate(ops):
            if i in used:
                continue
            method, uri = http_of(ev)
            if ev.get("dest_port") == req["port"] and method == req["method"] and uri == req["uri"]:
                found = i
                break
        if found is not None:
            used.add(found)
            pairs.append((req, ops[found]))
        else:
            pairs.append((req, None))
    return pairs


def check_common(name, facts, ops, pcap):
    n = facts["http_requests"]
    report(name, "op_count", len(ops) == n, "%d op events, %d HTTP requests answered" % (len(ops), n))

    tn = tshark_requests(pcap)
    if tn is None:
        print("# es/%s: tshark not installed, request count not cross-checked" % name, file=sys.stderr)
    else:
        print("# es/%s: tshark sees %d HTTP requests" % (name, tn), file=sys.stderr)
        report(name, "tshark_requests", tn == n == len(ops),
               "tshark %d, facts %d, op events %d" % (tn, n, len(ops)))

    problems = []
    for req, ev in match_requests(ops, facts["requests"]):
        where = "%s %s (port %d)" % (req["method"], req["uri"], req["port"])
        if ev is None:
            problems.append("no op for " + where)
            continue
        op = ev["op"]
        if op.get("status_code") != req["status"]:
            problems.append("%s: status_code %s, server sent %d" % (where, op.get("status_code"), req["status"]))
        if "items" in req and op.get("items") != req["items"]:
            problems.append("%s: items %s, server sent %d documents" % (where, op.get("items", "absent"), req["items"]))
    report(name, "requests", not problems,
           "%d of %d: %s" % (len(problems), len(facts["requests"]), "; ".join(problems[:4])))


def doc_sum_check(name, ops, expected, what):
    doc_ops = [ev for ev in ops if returns_documents(ev)]
    # an error answer carries no documents; a successful one must say how many
    unknown = [ev for ev in doc_ops if "items" not in ev["op"]
               and 200 <= (ev["op"].get("status_code") or 0) < 300]
    got = sum(ev["op"].get("items", 0) for ev in doc_ops)
    print("# es/%s: %d ops return documents, items sum %d, %d without items; %s = %d"
          % (name, len(doc_ops), got, len(unknown), what, expected), file=sys.stderr)
    why = "sum of items over %d search/scroll ops is %d, %s is %d" % (len(doc_ops), got, what, expected)
    if unknown:
        why += " (%d of them without items)" % len(unknown)
    report(name, "documents", got == expected and not unknown, why)


def find_step_op(facts, ops, check):
    """The op of the curl step named `check`."""
    pairs = match_requests(ops, facts["requests"])
    for step, (req, ev) in zip(facts["steps"], pairs):
        if step["check"] == check:
            return step, ev
    return None, None


def check_curl(name, facts, ops):
    def expect(check, cond_fn, what):
        step, ev = find_step_op(facts, ops, check)
        if step is None:
            report(name, check, False, "no such step in the facts")
        elif ev is None:
            report(name, check, False, "no op for %s %s" % (step["request"]["method"], step["request"]["uri"]))
        else:
            ok, why = cond_fn(ev["op"], step["request"])
            report(name, check, ok, "%s: %s" % (what, why))

    def items_total(items, total):
        def fn(op, req):
            return (op.get("items") == items and op.get("total") == total,
                    "items %s total %s, want %s and %s" % (op.get("items", "absent"),
                                                           op.get("total", "absent"), items, total))
        return fn

    search_all = next(s["request"] for s in facts["steps"] if s["check"] == "search_all")
    expect("search_all", items_total(6000, 6000), "GET %s" % search_all["uri"])
    for check in ("cat_indices_text", "cat_indices_json"):
        req = next(s["request"] for s in facts["steps"] if s["check"] == check)
        expect(check, items_total(req["items"], req["total"]),
               "_cat/indices: %d indices, %d docs" % (req["items"], req["total"]))

    def gzip_fn(op, req):
        flags = op.get("flags") or []
        return ("compressed" in flags and op.get("items") == req["items"],
                "flags %s items %s, want compressed and %d" % (flags, op.get("items", "absent"), req["items"]))
    expect("gzip", gzip_fn, "curl --compressed")

    expect("denied", lambda op, req: (op.get("status") == "denied",
                                      "status %s (%s)" % (op.get("status"), op.get("status_code"))),
           "401 on /secure/_search")

    def kibana_fn(op, req):
        flags = op.get("flags") or []
        return "via_kibana" in flags, "flags %s" % flags
    expect("kibana", kibana_fn, "Kibana console proxy")

    expect("opensearch_banner", lambda op, req: (op.get("app") == "opensearch", "app %s" % op.get("app")),
           "GET / on :9201")


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    binary = sys.argv[1]
    pcaps = sys.argv[2:] or sorted(glob.glob(os.path.join(ROOT, "pcaps", "es_*.pcap")))
    if not pcaps:
        print("FAIL es/none: no pcaps/es_*.pcap found")
        return 1
    for pcap in pcaps:
        name = os.path.basename(pcap)[:-len(".pcap")]
        facts_path = pcap[:-len(".pcap")] + ".facts.json"
        try:
            with open(facts_path) as f:
                facts = json.load(f)
        except (OSError, ValueError) as e:
            report(name, "facts", False, "cannot read %s: %s" % (facts_path, e))
            continue
        ops, err = run_sensor(binary, pcap)
        print("# es/%s: %d op events" % (name, len(ops)), file=sys.stderr)
        for ev in ops:
            print("#   " + describe(ev), file=sys.stderr)
        report(name, "run", err is None, err or "")
        check_common(name, facts, ops, pcap)
        if "documents_written" in facts:
            doc_sum_check(name, ops, facts["documents_written"], "documents written")
        elif "documents_received" in facts:
            doc_sum_check(name, ops, facts["documents_received"], "documents received")
        if "steps" in facts:
            check_curl(name, facts, ops)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
