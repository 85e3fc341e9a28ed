#!/usr/bin/env python3
"""Check the sensor's Redis ops against the recorded captures' facts.

    tests/redis_facts_check.py BIN

For each pcaps/redis_*.facts.json (written by pcaps/record/record_redis_clients.sh;
redis_cli has its golden case instead) the sensor reads the capture, and its
ops are checked against figures read from the facts file, never retyped:

  run        exit 0; no redis.malformed, resync, unpaired_replies
  requests   per connection (client port), ops = the requests counted from the
             client bytes (tshark.tcp_resp_read_directly); the header lines of
             an HTTP request sent to Redis ("inline:HOST:") are one op, HTTP
  tshark     per connection, ops by command = tshark's requests_by_command,
             where tshark's count is right (it does not count inline commands:
             those connections are left to `requests`)
  dump       redis-cli --scan / --scan --pattern / KEYS *: items = keys printed;
             python dump: items of GET, HGETALL, LRANGE, SMEMBERS, ZRANGE =
             values received per type, TYPE ops = keys dumped; --pipe: the SET
             ops with a reply = replies; MONITOR: redis.monitor_lines = lines
             printed minus the first OK
  rdb        one SYNC op, items = resizedb_keys; its response_bytes = the RDB
             between the marks + the "$EOF:<40-byte mark>\\r\\n" line (47 bytes)
             + the closing 40-byte mark + the master's keep-alive newlines
             before it (keepalive_newlines, 6); redis.rdb_bytes = RDB + closing mark;
             two REPLCONF ops answered +OK
  py         WRONGPASS and NOAUTH denied; ops after the good AUTH authenticated
             "yes"; GET items = get_hits, MGET items = mget_hits; the SCAN
             chain: each call continues the cursor the previous returned, the
             last returns none, items sum = keys_yielded, calls = scan_calls
  ioredis    RESP3 HGETALL map = lines printed, SMEMBERS set = lines printed;
             redis.push_messages = messages pushed; of the CLIENT REPLY OFF,
             SET, GET, CLIENT REPLY ON, GET promises only the last two got a
             reply (server_replies): redis.no_reply = promises - replies, those
             ops have no response bytes; ioredis's "info" ready checks are not
             flagged probe (more follows them)
  nmap       the -sV "info" and the curl HTTP request flagged probe, client
             "Nmap service probe" and curl's User-Agent; of the redis-info
             script's connection (INFO, CONFIG GET bind, PUBSUB CHANNELS,
             CLIENT LIST, CLUSTER NODES) only PUBSUB CHANNELS, the third in
             its fixed order, is flagged, client "Nmap NSE redis-info";
             redis.probes = 3

Prints "ok redis_facts/<capture>/<check>", "FAIL ...: why" or "skip ...: why".
"""

import collections
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = 0


def report(capture, check, ok, why=""):
    global failures
    if ok:
        print("ok redis_facts/%s/%s" % (capture, check))
    else:
        failures += 1
        print("FAIL redis_facts/%s/%s: %s" % (capture, check, why))


def run_sensor(binary, pcap):
    r = subprocess.run([binary, "--json", "-r", pcap], capture_output=True, text=True)
    ops, stats = [], {}
    for line in r.stdout.splitlines():
        e = json.loads(line)
        if e["event_type"] == "op":
            ops.append(e)
        elif e["event_type"] == "stats" and e.get("final"):
            stats = e["stats"]
    return r.returncode, ops, stats


def step(facts, name):
    return next(s for s in facts["steps"] if s["step"] == name)["reported"]


def by_port(ops):
    out = collections.OrderedDict()
    for e in ops:
        out.setdefault(e["src_port"], []).append(e["op"])
    return out


def word(op):
    return op["name"].split()[0]


def items(ops, name):
    return sum(o.get("items", 0) for o in ops if o["name"] == name and o.get("items", -1) >= 0)


def check_common(cap, facts, code, ops, stats):
    red = stats.get("redis", {})
    bad = {k: red.get(k) for k in ("malformed", "resync", "unpaired_replies") if red.get(k)}
    report(cap, "run", code == 0 and not bad, "exit %d, %s" % (code, bad))
    ports = by_port(ops)
    for conn in facts["tshark"]["tcp_resp_read_directly"]:
        port = conn["client_port"]
        headers = sum(n for c, n in conn["requests_by_command"].items()
                      if c.startswith("inline:") and c.endswith(":"))
        want = conn["requests"] - headers
        got = len(ports.get(port, []))
        report(cap, "requests/%d" % port, got == want, "%d ops, %d requests" % (got, want))
    for conn in facts["tshark"]["connections"]:
        port = int(conn["client"].rsplit(":", 1)[1])
        direct = next((d for d in facts["tshark"]["tcp_resp_read_directly"]
                       if d["client_port"] == port), None)
        if direct is not None and direct["requests"] != conn["requests"]:
            print("skip redis_facts/%s/tshark/%d: tshark counts %d requests, the client "
                  "bytes %d (inline commands)" % (cap, port, conn["requests"], direct["requests"]))
            continue
        got = collections.Counter(word(o) for o in ports.get(port, []))
        want = collections.Counter(conn["requests_by_command"])
        report(cap, "tshark/%d" % port, got == want, "%s != %s" % (dict(got), dict(want)))
    return ports


def check_dump(cap, facts, ops, stats, ports):
    conns = list(ports.values())
    scans = [c for c in conns if c and all(o["name"] == "SCAN" for o in c)]
    scan_all = next(c for c in scans if c[0]["target"] == "*")
    scan_pat = next(c for c in scans if c[0]["target"] != "*")
    report(cap, "scan", items(scan_all, "SCAN") == step(facts, "scan")["keys_printed"],
           "%d" % items(scan_all, "SCAN"))
    pattern = next(s for s in facts["steps"] if s["step"] == "scan_pattern")["command"][3]
    report(cap, "scan_pattern", items(scan_pat, "SCAN") == step(facts, "scan_pattern")["keys_printed"]
           and all(o["target"] == pattern for o in scan_pat), "%d" % items(scan_pat, "SCAN"))
    keys = [o for c in conns for o in c if o["name"] == "KEYS"]
    report(cap, "keys_all", len(keys) == 1 and keys[0]["items"] == step(facts, "keys_all")["keys"],
           str(keys))
    dump = step(facts, "dump")
    dconn = next(c for c in conns if any(o["name"] == "HGETALL" for o in c))
    per_type = {"string": "GET", "hash": "HGETALL", "list": "LRANGE", "set": "SMEMBERS",
                "zset": "ZRANGE"}
    for t, name in sorted(per_type.items()):
        got = items(dconn, name)
        want = dump["values_received_by_type"][t]
        report(cap, "dump/%s" % t, got == want, "%s items %d, received %d" % (name, got, want))
    got = collections.Counter(word(o) for o in dconn)
    report(cap, "dump/commands", got == collections.Counter(dump["commands"]),
           "%s != %s" % (dict(got), dump["commands"]))
    report(cap, "dump/types_enumerate",
           all(o["class"] == "enumerate" for o in dconn if o["name"] == "TYPE") and
           sum(1 for o in dconn if o["name"] == "TYPE") == dump["keys_dumped"], "")
    pipe = next(c for c in conns if sum(1 for o in c if o["name"] == "SET") > 1)
    replies = int(step(facts, "pipe").split("replies:")[1])
    got = sum(1 for o in pipe if o["name"] == "SET" and o["status"] == "ok")
    report(cap, "pipe", got == replies, "%d SET answered, %d replies" % (got, replies))
    mon = step(facts, "monitor")
    got = stats["redis"]["monitor_lines"]
    report(cap, "monitor", got == mon["monitor_lines"] - 1, "%d lines counted" % got)


def check_rdb(cap, facts, ops, stats, ports):
    rdb = step(facts, "rdb")
    wire = step(facts, "rdb_on_the_wire")
    syncs = [e["op"] for e in ops if e["op"]["name"] == "SYNC"]
    mark = 40
    eof_line = len("$EOF:") + mark + 2
    ok = len(syncs) == 1 and syncs[0]["items"] == rdb["resizedb_keys"] and \
        syncs[0]["response_bytes"] == (wire["rdb_bytes_between_markers"] + eof_line + mark +
                                       wire["keepalive_newlines"])
    report(cap, "sync", ok, str(syncs))
    report(cap, "rdb_bytes", stats["redis"]["rdb_bytes"] == rdb["rdb_bytes"] + mark,
           "%d" % stats["redis"]["rdb_bytes"])
    repl = [e["op"] for e in ops if e["op"]["name"] == "REPLCONF"]
    report(cap, "replconf", len(repl) == wire["simple_string_OK"] and
           all(o["status"] == "ok" and o["response_bytes"] == 5 for o in repl), str(repl))


def check_py(cap, facts, ops, stats, ports):
    calls = step(facts, "app")["calls"]
    conns = list(ports.values())
    first, second, app = conns[0], conns[1], conns[2]
    report(cap, "wrongpass", first[0]["name"] == "AUTH" and first[0]["status"] == "denied" and
           first[0].get("error_type") == calls[0]["error"].split()[0], str(first[0]))
    report(cap, "noauth", second[0]["status"] == "denied" and second[0]["authenticated"] == "no"
           and second[0].get("error_type") == "NOAUTH", str(second[0]))
    report(cap, "auth", app[0]["name"] == "AUTH" and app[0]["status"] == "ok" and
           all(o["authenticated"] == "yes" for o in app[1:]), "")
    pipe = next(c for c in calls if c["call"].startswith("pipeline"))
    report(cap, "get_hits", items(app, "GET") == pipe["get_hits"], "%d" % items(app, "GET"))
    report(cap, "mget_hits", items(app, "MGET") == pipe["mget_hits"], "%d" % items(app, "MGET"))
    scan = next(c for c in calls if c["call"].startswith("scan_iter"))
    chain = [o for o in app if o["name"] == "SCAN"]
    linked = all(chain[i].get("continuation") == chain[i - 1].get("cursor")
                 for i in range(1, len(chain)))
    ok = (len(chain) == scan["scan_calls"] and linked and "continuation" not in chain[0]
          and "cursor" not in chain[-1] and items(app, "SCAN") == scan["keys_yielded"])
    report(cap, "scan_chain", ok, str([(o.get("continuation"), o.get("cursor"), o.get("items"))
                                        for o in chain]))
    hg = next(c for c in calls if c["call"].startswith("HGETALL"))
    report(cap, "hgetall", items(app, "HGETALL") == hg["fields"], "")
    db = next(c for c in calls if c["call"] == "DBSIZE")
    dbs = [o for o in app if o["name"] == "DBSIZE"]
    report(cap, "dbsize", len(dbs) == 1 and dbs[0]["total"] == db["result"], str(dbs))


def check_ioredis(cap, facts, ops, stats, ports):
    conns = list(ports.values())
    resp3 = [c for c in conns if c[0]["name"] == "HELLO" and len(c) == 2]
    h = step(facts, "resp3_hgetall")["lines_printed"]
    s = step(facts, "resp3_smembers")["lines_printed"]
    report(cap, "resp3_map", any(c[1]["name"] == "HGETALL" and c[1]["items"] == h for c in resp3), "")
    report(cap, "resp3_set", any(c[1]["name"] == "SMEMBERS" and c[1]["items"] == s for c in resp3), "")
    calls = step(facts, "ioredis")["calls"]
    pushed = next(c for c in calls if c["call"].startswith("messages pushed"))["messages"]
    report(cap, "pushes", stats["redis"]["push_messages"] == pushed,
           "%d" % stats["redis"]["push_messages"])
    # the server answers CLIENT REPLY ON and the GET after it only: the
    # promises before ON (OFF, SET, GET) got no reply of their own
    reply = next(c for c in calls if c["call"].startswith("CLIENT REPLY OFF"))
    conn = next(c for c in conns if any(o["name"] == "CLIENT REPLY" for o in c))
    i = next(k for k, o in enumerate(conn) if o["name"] == "CLIENT REPLY")
    seq = conn[i:i + len(reply["promises"])]
    silent = len(reply["promises"]) - reply["server_replies"]
    answered = [o for o in seq if o.get("response_bytes", 0) > 0]
    report(cap, "client_reply", stats["redis"]["no_reply"] == silent and
           len(answered) == reply["server_replies"] and
           all(o.get("response_bytes", 0) == 0 for o in seq[:silent]),
           str([(o["name"], o.get("response_bytes")) for o in seq]))
    ready = [c[0] for c in conns if c[0]["name"] == "INFO"]
    report(cap, "ready_check_not_probe", ready and all("probe" not in o["flags"] for o in ready), "")


def check_nmap(cap, facts, ops, stats, ports):
    conns = facts["tshark"]["connections"]
    sv = next(c for c in conns if c.get("first_request_bytes", "").endswith("info\\r\\n"))
    http = next(c for c in conns if c.get("first_request_bytes", "").startswith("GET / HTTP"))
    agent = http["first_request_bytes"].split("User-Agent: ")[1].split("\\r\\n")[0]
    sv_ops = ports.get(int(sv["client"].rsplit(":", 1)[1]), [])
    http_ops = ports.get(int(http["client"].rsplit(":", 1)[1]), [])
    report(cap, "nmap_sV", len(sv_ops) == 1 and "probe" in sv_ops[0]["flags"] and
           sv_ops[0].get("client") == "Nmap service probe", str(sv_ops))
    report(cap, "http", len(http_ops) == 1 and http_ops[0]["name"] == "HTTP" and
           "probe" in http_ops[0]["flags"] and http_ops[0].get("client") == agent, str(http_ops))
    flagged = sum(1 for e in ops if "probe" in e["op"]["flags"])
    report(cap, "probes", stats["redis"]["probes"] == flagged == 3, "%d" % flagged)
    script = [o for c in ports.values() for o in c if o["name"] == "CONFIG GET"]
    report(cap, "redis_info_script", len(script) == 1 and script[0]["target"] == "bind" and
           script[0]["class"] == "enumerate", str(script))
    conn = next((c for c in ports.values() if c and c[0]["name"] == "INFO" and len(c) == 5), [])
    shape = [(o["name"], "probe" in o["flags"], o.get("client")) for o in conn]
    report(cap, "redis_info_shape", shape == [
        ("INFO", False, None), ("CONFIG GET", False, None),
        ("PUBSUB CHANNELS", True, "Nmap NSE redis-info"),
        ("CLIENT LIST", False, None), ("CLUSTER NODES", False, None)], str(shape))


CHECKS = {"redis_dump": check_dump, "redis_rdb": check_rdb, "redis_py": check_py,
          "redis_ioredis": check_ioredis, "redis_nmap": check_nmap}


def main():
    binary = sys.argv[1]
    os.chdir(ROOT)
    for path in sorted(glob.glob("pcaps/redis_*.facts.json")):
        cap = os.path.basename(path)[:-len(".facts.json")]
        if cap not in CHECKS:
            continue
        pcap = "pcaps/%s.pcap" % cap
        if not os.path.exists(pcap):
            print("skip redis_facts/%s: %s absent" % (cap, pcap))
            continue
        facts = json.load(open(path))
        code, ops, stats = run_sensor(binary, pcap)
        ports = check_common(cap, facts, code, ops, stats)
        try:
            CHECKS[cap](cap, facts, ops, stats, ports)
        except (StopIteration, KeyError, IndexError, TypeError) as err:
            report(cap, "facts", False, "%s: %r" % (type(err).__name__, err))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
