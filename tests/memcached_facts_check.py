#!/usr/bin/env python3
"""Check the sensor's memcached ops against the recorded captures' facts.

    tests/memcached_facts_check.py BIN

For every pcaps/memcached_*.facts.json (with its .pcap; skipped when absent)
the sensor reads the capture and its ops are held against what the real
clients received (the facts' "steps") and the requests counted from the
client bytes ("tshark" -> tcp_/udp_memcache_read_directly). Figures come
from the facts files wherever they hold them.

Prints "ok memcached_facts/<capture>/<check>", "FAIL ...: why" or
"skip ...: why".
"""

import collections
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = 0


def report(name, check, ok, why=""):
    global failures
    if ok:
        print("ok memcached_facts/%s/%s" % (name, check))
    else:
        failures += 1
        print("FAIL memcached_facts/%s/%s: %s" % (name, check, why))


def run(binary, pcap):
    out = subprocess.run([binary, "--json", "-r", pcap], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    ops, stats = [], {}
    for line in out.splitlines():
        e = json.loads(line)
        if e.get("event_type") == "op" and e["op"]["app"] == "memcached":
            ops.append(e)
        elif e.get("event_type") == "stats":
            stats = e["stats"].get("memcached", stats)
    return ops, stats


def step(facts, name):
    return next(s for s in facts["steps"] if s["step"] == name)


def call(reported, prefix):
    return next(c for c in reported["calls"] if c["call"].startswith(prefix))


def by_port(ops):
    ports = collections.defaultdict(list)
    for e in ops:
        ports[e["src_port"]].append(e)
    return ports


def check_counts(name, facts, ops, stats):
    ports = by_port(ops)
    direct = facts["tshark"].get("tcp_memcache_read_directly", []) + \
        facts["tshark"].get("udp_memcache_read_directly", [])
    got = {c["client_port"]: len(ports.get(c["client_port"], [])) for c in direct}
    want = {c["client_port"]: c.get("requests", sum(c["requests_by_command"].values()))
            for c in direct}
    report(name, "op_count_per_connection", got == want, "ops %s, requests %s" % (got, want))
    bad = {k: stats.get(k) for k in ("malformed", "resync", "unpaired_replies",
                                     "udp_incomplete", "udp_overflow")}
    report(name, "no_decode_trouble", not any(bad.values()), str(bad))
    flagged = [e["op"]["name"] for e in ops
               if {"partial", "unpaired"} & set(e["op"].get("flags", []))]
    report(name, "none_partial", not flagged, str(flagged))


def status(e):
    return e["op"]["status"], e["op"]["status_code"]


def named(ops, name):
    return [e for e in ops if e["op"]["name"] == name]


def value_length(op):
    """A one-key get's value length from its response bytes: "VALUE key 0 N\\r\\n",
    N bytes and CRLF, "END\\r\\n" (memccat's values carry flags 0)."""
    rest = op["response_bytes"] - len("END\r\n") - len("VALUE %s 0 \r\n" % op["target"]) - 2
    for digits in range(1, 8):
        if len(str(rest - digits)) == digits:
            return rest - digits
    return -1


def check_tools(name, facts, ops):
    dumps = named(ops, "stats cachedump")
    keys = step(facts, "memcdump")["reported"]["keys_printed"]
    report(name, "memcdump_keys", sum(e["op"]["items"] for e in dumps) == keys,
           "items %d, keys printed %d" % (sum(e["op"]["items"] for e in dumps), keys))
    cat = step(facts, "memccat")["reported"]
    gets = named(ops, "get")
    hits = sum(e["op"]["items"] for e in gets)
    report(name, "memccat_values", len(gets) == cat["keys_asked"] and
           hits == cat["values_printed"], "%d gets, %d hits" % (len(gets), hits))
    value_bytes = sum(value_length(e["op"]) for e in gets)
    report(name, "memccat_bytes", value_bytes == cat["value_bytes_expected"],
           "value bytes %d, expected %d" % (value_bytes, cat["value_bytes_expected"]))
    stats = named(ops, "stats")
    lines_printed = step(facts, "memcstat")["reported"]["lines_printed"]
    report(name, "memcstat_lines", len(stats) == 1 and stats[0]["op"]["items"] + 1 ==
           lines_printed, "stats items %s, lines %d" %
           ([e["op"]["items"] for e in stats], lines_printed))
    report(name, "statuses", all(status(e) == ("ok", 0) for e in ops if e["op"]["name"] != "quit")
           and all(e["op"]["status"] == "unknown" for e in named(ops, "quit")),
           str(collections.Counter(status(e) for e in ops)))


def check_pymemcache(name, facts, ops):
    rep = step(facts, "pymemcache")["reported"]
    many = call(rep, "get_many")
    gm = [e for e in named(ops, "get") if e["op"].get("page_size", 0) > 1]
    report(name, "get_many", len(gm) == 1 and gm[0]["op"]["items"] == many["hits"] and
           gm[0]["op"]["page_size"] == many["hits"] + many["misses"],
           str([(e["op"]["items"], e["op"]["page_size"]) for e in gm]))
    want = []
    want.append(("cas", 0 if call(rep, "cas user:01 with its token")["result"] else 2))
    want.append(("cas", 0 if call(rep, "cas user:01 with the stale")["result"] else 2))
    want.append(("incr", 0 if call(rep, "incr counter")["result"] is not None else 1))
    want.append(("incr", 0 if call(rep, "incr nocounter")["result"] is not None else 1))
    want.append(("delete", 0 if call(rep, "delete user:10")["result"] else 1))
    want.append(("delete", 0 if call(rep, "delete user:10 again")["result"] else 1))
    got = [(e["op"]["name"], e["op"]["status_code"]) for e in ops
           if e["op"]["name"] in ("cas", "incr", "delete")]
    report(name, "outcomes", got == want, "got %s, want %s" % (got, want))
    for prefix, op in (("stats items", "stats items"), ("stats slabs", "stats slabs")):
        n = [e["op"]["items"] for e in named(ops, op)]
        report(name, op.replace(" ", "_"), n == [call(rep, prefix)["stat_lines"]], str(n))
    st = [e["op"]["items"] for e in named(ops, "stats")]
    report(name, "stats", st == [call(rep, "stats")["stat_lines"]], str(st))
    noreply = [e for e in named(ops, "set") if e["op"]["target"] == "fire:and-forget"]
    report(name, "noreply", len(noreply) == 1 and noreply[0]["op"]["status"] == "unknown",
           str([status(e) for e in noreply]))
    last = named(ops, "get")[-1]["op"]
    report(name, "last_get_hit", last["items"] == int(call(rep, "get fire")["hit"]), str(last))
    report(name, "statuses", all(e["op"]["status"] == "ok" for e in ops if e not in noreply),
           str(collections.Counter(status(e) for e in ops)))


def check_memjs(name, facts, ops):
    ports = sorted(by_port(ops).items())
    plain = [e["op"] for e in ports[0][1]]
    rep = step(facts, "memjs")["reported"]
    gets = [o for o in plain if o["name"] == "get"]
    report(name, "gets", [o["items"] for o in gets] ==
           [int(call(rep, "get js:1")["hit"]), int(call(rep, "get js:missing")["hit"])],
           str([o["items"] for o in gets]))
    dels = [o["status_code"] for o in plain if o["name"] == "delete"]
    report(name, "deletes", dels == [0 if call(rep, "delete js:1")["result"] else 1,
                                     0 if call(rep, "delete js:1 again")["result"] else 1],
           str(dels))
    st = [o["items"] for o in plain if o["name"] == "stats"]
    report(name, "stats", st == [call(rep, "stats")["stat_lines"]], str(st))
    sasl = step(facts, "memjs_sasl")["reported"]
    good = [e["op"] for e in ports[1][1]]
    auth = [o for o in good if o["name"] == "sasl_auth"]
    after = [o["authenticated"] for o in good[good.index(auth[0]) + 1:]] if auth else []
    ok_wanted = call(sasl, "SASL PLAIN good")["result"] is True
    report(name, "sasl_ok", ok_wanted and len(auth) == 1 and auth[0]["status"] == "ok" and
           after == ["yes"] * len(after) and len(after) == 2, str((auth, after)))
    bad = [e["op"] for e in ports[2][1]]
    denied = [o for o in bad if o["name"] == "sasl_auth"]
    report(name, "sasl_denied", "error" in call(sasl, "SASL PLAIN wrong") and
           len(denied) == 1 and denied[0]["status"] == "denied" and
           denied[0]["authenticated"] == "no", str(denied))
    report(name, "statuses", all(e["op"]["status"] == "ok" for e in ops
                                 if e["op"] not in denied),
           str(collections.Counter(status(e) for e in ops)))


def check_nmap(name, facts, ops):
    udp = [e for e in ops if e["proto"] == "UDP"]
    crafted = step(facts, "udp_crafted")["reported"]["get_10_big"]
    big = [e["op"] for e in udp if e["op"]["name"] == "get"]
    seeded = facts["seeded_before_capture"]["large_4000B"]
    report(name, "udp_get_one_op", len(big) == 1 and big[0]["items"] == min(10, seeded) and
           big[0]["status"] == "ok" and "amplified" in big[0].get("flags", []),
           str(big))
    if big:
        # ours counts memcached bytes; the facts add each datagram's 8-byte header
        got = (big[0]["request_bytes"] + 8, big[0]["response_bytes"] + 8 * crafted["datagrams"])
        want = (crafted["request_bytes_with_header"], crafted["bytes_with_headers"])
        report(name, "udp_amplification_bytes", got == want, "got %s, facts %s" % (got, want))
    named_nmap = [e["src_port"] for e in udp if e["op"].get("client") ==
                  "Nmap NSE memcached-info"]
    nmap_port = next(c["client_port"] for c in facts["tshark"]["udp_memcache_read_directly"]
                     if c["requests_by_command"] == {"stats": 2})
    report(name, "udp_nmap_named", named_nmap == [nmap_port], str(named_nmap))
    tcp = [e["op"] for e in ops if e["proto"] == "TCP"]
    report(name, "tcp_not_flagged", [o["name"] for o in tcp] == ["stats", "stats settings"] and
           not any(o.get("flags") or o.get("client") for o in tcp), str(tcp))
    report(name, "statuses", all(e["op"]["status"] == "ok" for e in ops),
           str(collections.Counter(status(e) for e in ops)))


CHECKS = {"tools": check_tools, "pymemcache": check_pymemcache, "memjs": check_memjs,
          "nmap": check_nmap}


def main():
    binary = os.path.abspath(sys.argv[1])
    facts_files = sorted(glob.glob(os.path.join(ROOT, "pcaps", "memcached_*.facts.json")))
    if not facts_files:
        print("skip memcached_facts: no pcaps/memcached_*.facts.json")
    for path in facts_files:
        pcap = path.replace(".facts.json", ".pcap")
        name = os.path.basename(pcap)[:-5]
        if not os.path.exists(pcap):
            print("skip memcached_facts/%s: capture absent" % name)
            continue
        with open(path) as fh:
            facts = json.load(fh)
        ops, stats = run(binary, pcap)
        check_counts(name, facts, ops, stats)
        check = CHECKS.get(name[len("memcached_"):])
        if check is None:
            print("skip memcached_facts/%s/client: no check for this capture" % name)
        else:
            check(name, facts, ops)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
