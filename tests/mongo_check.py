#!/usr/bin/env python3
"""Check the sensor's MongoDB ops against the recorded captures' facts, against
tshark's MongoDB dissector, and on the third-party MongoDB captures.

    tests/mongo_check.py BIN

Recorded captures (pcaps/mongo_*.pcap with pcaps/mongo_*.facts.json, written
by pcaps/record/record_mongo.sh, whose server logged every reply it sent):

  run          the sensor reads the capture, exit 0, no mongodb.malformed /
               decompress_errors / unpaired / resync in the final stats
  replies      per connection (client port), the ops that got a reply are, in
               order, the replies the server logged: same command name, the
               documents the reply carried (cursor batch, databases) = op.items,
               ok / error / denied as the server answered; any other op is a
               request the server never answered (flag no_response)
  documents    per namespace, the sum of items over find/getMore ops = the
               documents the client itself reported receiving
  tshark       (when installed) per connection, tshark's request/reply pairs
               (requestID <-> responseTo) = the sensor's paired ops, and every
               OP_COMPRESSED message tshark sees belongs to an op flagged
               "compressed"
  node         find + 5 getMore over shop.customers chained by cursor hash; one
               denied saslContinue (AuthenticationFailed), ops after the good
               SCRAM conversation authenticated; zlib, zstd and snappy flagged
  pymongo      the first command of each connection is a legacy OP_QUERY
               isMaster, not flagged legacy_opcode; the client is "sw-pymongo (...)"
  nmap         every op flagged legacy_opcode and probe (nmap's NSE wire shape),
               client names the script that asks it (mongodb-info: serverStatus,
               buildinfo; mongodb-databases: listDatabases), one mongodb.probes
               per op; listDatabases items = databases the server listed

Third-party captures (../shared/pcaps, skipped when absent): each is read
without mongodb.malformed / decompress_errors / resync; the expected op count
and the one known oddity of each (pinned below) hold; tshark's request/reply
pairs agree as above.

Prints "ok mongo/<capture>/<check>", "FAIL ...: why" or "skip ...: why".
"""

import collections
import glob
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "pcaps")
SERVER_PORTS = (27017, 27018)
failures = 0


def report(capture, check, ok, why=""):
    global failures
    if ok:
        print("ok mongo/%s/%s" % (capture, check))
    else:
        failures += 1
        print("FAIL mongo/%s/%s: %s" % (capture, check, why))


def run_sensor(binary, pcap):
    p = subprocess.run([binary, "-j", "-r", pcap], capture_output=True, timeout=300)
    ops, stats = [], {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        ev = json.loads(line)
        if ev.get("event_type") == "op" and ev["op"].get("app") == "mongodb":
            ops.append(ev)
        elif ev.get("event_type") == "stats":
            stats = ev.get("stats", {})
    err = None if p.returncode == 0 else "exit %d: %s" % (p.returncode, p.stderr.decode()[-300:])
    return ops, stats.get("mongodb", {}), err


def describe(ev):
    op = ev["op"]
    return "port=%s %s %s target=%s status=%s/%s items=%s flags=%s client=%s" % (
        ev["src_port"], op.get("name"), op.get("class"), op.get("target"), op.get("status"),
        op.get("status_code"), op.get("items", "-"), ",".join(op.get("flags") or []), op.get("client"))


def stats_clean(mongo_stats, allow=()):
    bad = {k: v for k, v in mongo_stats.items() if v and k not in allow}
    return not bad, "counters %s" % bad


def status_of(reply):
    if reply.get("ok"):
        return "ok"
    return "denied" if reply.get("code") in (13, 18) else "error"


def check_replies(name, facts, ops):
    by_port = collections.defaultdict(list)
    for ev in ops:
        by_port[ev["src_port"]].append(ev)
    logged = collections.defaultdict(list)
    for r in facts["replies"]:
        if r.get("reply_id") is None and r.get("more_to_come"):
            continue
        logged[int(r["peer"].rsplit(":", 1)[1])].append(r)
    problems = []
    for port in sorted(set(by_port) | set(logged)):
        answered = [ev for ev in by_port[port] if "no_response" not in (ev["op"].get("flags") or [])]
        unanswered = [ev for ev in by_port[port] if ev not in answered]
        replies = logged[port]
        if len(answered) != len(replies):
            problems.append("port %d: %d ops with a reply, server sent %d replies" % (port, len(answered), len(replies)))
            continue
        for ev, r in zip(answered, replies):
            op = ev["op"]
            if op.get("name") != r["command"]:
                problems.append("port %d: op %s, server answered %s" % (port, op.get("name"), r["command"]))
            if r.get("documents") is not None and op.get("items") != r["documents"]:
                problems.append("port %d %s: items %s, server sent %d" % (port, r["command"], op.get("items"), r["documents"]))
            if op.get("status") != status_of(r):
                problems.append("port %d %s: status %s, server said ok=%s code=%s" % (port, r["command"], op.get("status"), r.get("ok"), r.get("code")))
        if unanswered and len(unanswered) > 1:
            problems.append("port %d: %d ops without response" % (port, len(unanswered)))
    report(name, "replies", not problems, "; ".join(problems[:4]))


def check_documents(name, facts, ops):
    got = collections.Counter()
    for ev in ops:
        op = ev["op"]
        if op.get("name") in ("find", "getMore") and "items" in op:
            got[op.get("target")] += op["items"]
    want = facts.get("documents_received", {})
    bad = {ns: (got.get(ns), n) for ns, n in want.items() if got.get(ns) != n}
    report(name, "documents", not bad and want, "items per namespace vs client-received: %s" % bad)


def tshark_messages(pcap):
    cmd = ["tshark", "-n", "-r", pcap, "-d", "tcp.port==27017,mongo", "-d", "tcp.port==27018,mongo",
           "-Y", "mongo", "-T", "fields",
           "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "mongo.opcode", "-e", "mongo.request_id",
           "-e", "mongo.response_to", "-e", "mongo.number_returned", "-E", "occurrence=a"]
    p = subprocess.run(cmd, capture_output=True, timeout=300)
    if p.returncode != 0:
        return None
    msgs = []
    for line in p.stdout.decode().splitlines():
        f = line.split("\t")
        if len(f) < 6:
            continue
        # one frame may hold several messages: fields are comma-separated
        ops, rids, resps, nrets = (x.split(",") if x else [] for x in f[2:6])
        for i, opc in enumerate(ops):
            msgs.append({"src": int(f[0]), "dst": int(f[1]), "opcode": int(opc),
                         "rid": int(rids[i], 0), "resp": int(resps[i], 0) if i < len(resps) else 0,
                         "nret": nrets})
    return msgs


def check_tshark(name, pcap, ops):
    if not shutil.which("tshark"):
        print("skip mongo/%s/tshark: tshark not installed" % name)
        return
    msgs = tshark_messages(pcap)
    if msgs is None:
        report(name, "tshark", False, "tshark failed")
        return
    problems = []
    requests = {}
    pairs = collections.Counter()
    compressed_ports = collections.Counter()
    for m in msgs:
        client = m["src"] if m["dst"] in SERVER_PORTS else m["dst"]
        if m["dst"] in SERVER_PORTS:
            requests[(client, m["rid"])] = m
        elif (client, m["resp"]) in requests:
            pairs[client] += 1
        if m["opcode"] == 2012:
            compressed_ports[client] += 1
    ours = collections.Counter()
    ours_compressed = collections.Counter()
    for ev in ops:
        flags = ev["op"].get("flags") or []
        # a request answered (an exhaust stream's later replies have no request)
        if "unpaired" not in flags and ev["op"].get("request_bytes") and ev["op"].get("response_bytes"):
            ours[ev["src_port"]] += 1
        if "compressed" in flags:
            ours_compressed[ev["src_port"]] += 1
    for port in sorted(set(pairs) | set(ours)):
        if pairs[port] != ours[port]:
            problems.append("port %d: tshark pairs %d, sensor paired ops %d" % (port, pairs[port], ours[port]))
        if compressed_ports[port] and not ours_compressed[port]:
            problems.append("port %d: tshark sees %d OP_COMPRESSED, no op flagged compressed" % (port, compressed_ports[port]))
        if ours_compressed[port] and not compressed_ports[port]:
            problems.append("port %d: ops flagged compressed, tshark sees no OP_COMPRESSED" % port)
    print("# mongo/%s: tshark sees %d messages, %d request/reply pairs" % (name, len(msgs), sum(pairs.values())),
          file=sys.stderr)
    report(name, "tshark", not problems, "; ".join(problems[:4]))


def check_node(name, ops):
    cust = [ev["op"] for ev in ops if ev["op"].get("target") == "shop.customers"]
    finds = [op for op in cust if op["name"] == "find"]
    mores = [op for op in cust if op["name"] == "getMore"]
    ok = len(finds) == 1 and len(mores) == 5 and finds[0].get("cursor") and \
        all(m.get("continuation") == finds[0]["cursor"] for m in mores) and \
        all("continues" in m["flags"] for m in mores) and "match_all" in finds[0]["flags"]
    report(name, "getmore_chain", ok, "find %d getMore %d, cursor %s, continuations %s" % (
        len(finds), len(mores), finds[0].get("cursor") if finds else None, [m.get("continuation") for m in mores]))
    denied = [ev["op"] for ev in ops if ev["op"].get("status") == "denied"]
    report(name, "auth_failed", len(denied) == 1 and denied[0]["name"] == "saslContinue"
           and denied[0].get("error_type") == "AuthenticationFailed" and denied[0].get("status_code") == 18,
           "denied ops: %s" % [(d["name"], d.get("error_type")) for d in denied])
    payroll = [ev["op"] for ev in ops if ev["op"].get("target") == "secure.payroll"]
    report(name, "auth_ok", payroll and all(op["authenticated"] == "yes" and op.get("auth_scheme") == "scram-sha-256"
                                            for op in payroll),
           "secure.payroll ops: %s" % [(op["name"], op["authenticated"], op.get("auth_scheme")) for op in payroll])
    apps = collections.defaultdict(set)
    for ev in ops:
        if "compressed" in (ev["op"].get("flags") or []):
            apps[ev["op"].get("client", "").split(" ")[0]].add(ev["op"]["name"])
    report(name, "compressed", {"sw-node-dump", "sw-node-auth", "sw-node-zstd"} <= set(apps),
           "compressed ops by client: %s" % dict(apps))


def check_pymongo(name, ops):
    firsts = {}
    for ev in ops:
        firsts.setdefault(ev["src_port"], ev["op"])
    ok = firsts and all(op["name"] == "ismaster" and "legacy_opcode" not in op["flags"] and
                        op.get("client", "").startswith("sw-pymongo (PyMongo") for op in firsts.values())
    report(name, "legacy_hello", ok, "first ops: %s" % [(o["name"], o["flags"], o.get("client")) for o in firsts.values()])


NMAP_SCRIPT = {"listDatabases": "Nmap NSE mongodb-databases", "serverStatus": "Nmap NSE mongodb-info",
               "buildinfo": "Nmap NSE mongodb-info"}


def check_nmap(name, facts, ops, mstats):
    ok = ops and all("legacy_opcode" in ev["op"]["flags"] and "probe" in ev["op"]["flags"] and
                     ev["op"].get("client") == NMAP_SCRIPT.get(ev["op"]["name"]) for ev in ops)
    report(name, "scanner", ok and mstats.get("probes") == len(ops),
           "ops: %s; probes %s" % ([describe(ev) for ev in ops], mstats.get("probes")))
    listed = [r["documents"] for r in facts["replies"] if r["command"] == "listDatabases"]
    got = [ev["op"].get("items") for ev in ops if ev["op"]["name"] == "listDatabases"]
    report(name, "databases", listed and got == listed, "items %s, server listed %s" % (got, listed))


# Third-party captures: file -> (expected op count, {check: (predicate, what)})
def _all(pred):
    return lambda ops: all(pred(ev["op"]) for ev in ops)


THIRD_PARTY = {
    "wireshark-wiki/mongodb.pcap": (1251, {
        "legacy_inserts": (lambda ops: sum(1 for e in ops if e["op"]["name"] == "insert") == 1235,
                           "1235 fire-and-forget OP_INSERTs, status unknown"),
        "legacy_getmore": (lambda ops: any(e["op"]["name"] == "getMore" and e["op"].get("items") == 1134
                                           and e["op"].get("continuation") for e in ops),
                           "an OP_GET_MORE returning 1134 documents, chained by cursor hash"),
        "delete_all": (lambda ops: any(e["op"]["name"] == "delete" and e["op"]["class"] == "destroy" for e in ops),
                       "an OP_DELETE with an empty selector is class destroy"),
    }),
    # client->server only: every request is left without a response
    "ndpi/mongodb.pcap": (5, {
        "no_server_side": (_all(lambda op: "no_response" in op["flags"]), "all ops no_response"),
    }),
    "ndpi/mongo_false_positive.pcapng": (0, {}),
    "packetbeat-legacy/mongo_one_row.pcap": (1, {
        "items": (lambda ops: ops[0]["op"].get("items") == 1, "1 document"),
    }),
    "packetbeat-legacy/mongodb_create_collection.pcap": (4, {}),
    "packetbeat-legacy/mongodb_find.pcap": (2, {}),
    "packetbeat-legacy/mongodb_insert_duplicate_key.pcap": (3, {}),
    "packetbeat-legacy/mongodb_inserts.pcap": (5, {}),
    # the capture starts with a reply whose request was not captured
    "packetbeat-legacy/mongodb_reply_request_reply.pcap": (2, {
        "unpaired_first": (lambda ops: "unpaired" in ops[0]["op"]["flags"], "first op flagged unpaired"),
    }),
    "packetbeat-legacy/mongodb_use_db.pcap": (1, {}),
}


def check_third_party(binary):
    if not os.path.isdir(SHARED):
        print("skip mongo/third_party: %s absent" % SHARED)
        return
    # a 2010-era driver also sends responseTo -1: not nmap (its ids are not nmap's)
    for rel, (count, checks) in THIRD_PARTY.items():
        path = os.path.join(SHARED, rel)
        name = "shared/" + rel
        if not os.path.exists(path):
            print("skip mongo/%s: absent" % name)
            continue
        ops, mstats, err = run_sensor(binary, path)
        allow = ("unpaired",) if "reply_request_reply" in rel else ()
        clean, why = stats_clean(mstats, allow)
        report(name, "decoded", err is None and clean and len(ops) == count,
               "%s; %s; %d ops, expected %d" % (err, why, len(ops), count))
        for check, (pred, what) in checks.items():
            report(name, check, len(ops) > 0 and pred(ops), what)
        if ops and "ndpi/" not in rel:
            check_tshark(name, path, ops)


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    binary = sys.argv[1]
    pcaps = sorted(glob.glob(os.path.join(ROOT, "pcaps", "mongo_*.pcap")))
    if not pcaps:
        print("FAIL mongo/none: no pcaps/mongo_*.pcap")
        return 1
    for pcap in pcaps:
        name = os.path.basename(pcap)[:-5]
        facts = json.load(open(pcap[:-5] + ".facts.json"))
        ops, mstats, err = run_sensor(binary, pcap)
        print("# mongo/%s: %d ops" % (name, len(ops)), file=sys.stderr)
        for ev in ops:
            print("#   " + describe(ev), file=sys.stderr)
        clean, why = stats_clean(mstats, ("probes",) if name == "mongo_nmap" else ())
        report(name, "run", err is None and clean, err or why)
        check_replies(name, facts, ops)
        if facts.get("documents_received"):
            check_documents(name, facts, ops)
        check_tshark(name, pcap, ops)
        if name == "mongo_node_driver":
            check_node(name, ops)
        elif name == "mongo_pymongo":
            check_pymongo(name, ops)
        elif name == "mongo_nmap":
            check_nmap(name, facts, ops, mstats)
    check_third_party(binary)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
