#!/usr/bin/env python3
"""Check the Redis decoder on the third-party Redis captures.

    tests/redis_check.py BIN

For each capture under ../shared/pcaps (relative to the repository root;
every check is skipped when the folder or the file is absent):

  run       the sensor reads it, exit 0; no redis.malformed and no
            redis.resync unless pinned for that capture (the known oddity)
  ops       the exact number of Redis ops, and of those with no reply
            (status unknown), as pinned below
  oddity    the one thing each capture is there for (a lambda over the ops
            and the redis counters)
  tshark    (when tshark is installed, for captures whose requests are all
            RESP arrays) tshark's resp dissector sees as many client request
            arrays as the sensor emits ops

Prints "ok redis_decode/<capture>/<check>", "FAIL ...: why" or "skip ...".
"""

import collections
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "pcaps")
failures = 0


def report(capture, check, ok, why=""):
    global failures
    if ok:
        print("ok redis_decode/%s/%s" % (capture, check))
    else:
        failures += 1
        print("FAIL redis_decode/%s/%s: %s" % (capture, check, why))


def names(ops):
    return collections.Counter(o["name"] for o in ops)


def by_name(ops, name):
    return [o for o in ops if o["name"] == name]


# capture: (ops, ops without reply, {counter: value} allowed/pinned, tshark, oddity)
CASES = {
    "zeek/almost-resp.pcap": (2, 0, {"malformed": 1, "resync": 1}, False,
        # a non-RESP client line is skipped; AUTH and PING still pair
        lambda ops, c: names(ops) == {"AUTH": 1, "PING": 1}),
    "zeek/attr.pcap": (2, 0, {"attributes": 1}, False,
        # RESP3 attributes: one inside an array, one at top level before a
        # map; each reply is followed by a stray "\n" (skipped, not malformed)
        lambda ops, c: [o["response_bytes"] for o in ops] == [33, 81]),
    "zeek/auth.pcap": (3, 1, {}, True,
        lambda ops, c: [o["status"] for o in ops] == ["ok", "denied", "unknown"]
        and ops[1]["error_type"] == "WRONGPASS" and ops[0]["target"] == "notauser"),
    "zeek/bulk-loading.pcap": (1001, 0, {}, True,
        lambda ops, c: names(ops) == {"SET": 1000, "ECHO": 1}),
    "zeek/django-cloud.pcapng": (158, 0, {}, True,
        # port 10625: recognised by the probe
        lambda ops, c: names(ops) == {"SET": 152, "GET": 6}),
    "zeek/excessive-pipelining.pcap": (12, 0, {}, False,
        lambda ops, c: all(o["status"] == "ok" for o in ops)),
    "zeek/large-requests-responses.pcap": (5, 0, {"deep_nesting": 1}, True,
        lambda ops, c: [o["request_bytes"] for o in by_name(ops, "SET")] == [542, 1039]
        and [o["response_bytes"] for o in by_name(ops, "GET")] == [508, 1009]
        and by_name(ops, "COMMAND DOCS")[0]["response_bytes"] == 237526),
    "zeek/loop-redis.pcap": (3, 0, {}, True, lambda ops, c: True),
    "zeek/nmap-vsn.pcap": (0, 0, {}, False, lambda ops, c: True),
    "zeek/pipeline-quotes.pcap": (8, 1, {}, False,
        # "unbalanced quotes": the server errs once and closes before bad2
        lambda ops, c: ops[6]["error_type"] == "ERR" and ops[7]["target"] == "bad2"
        and "no_response" in ops[7]["flags"]),
    "zeek/pipeline-with-commands.pcap": (4, 0, {}, False, lambda ops, c: True),
    "zeek/pipelining-example.pcap": (3, 0, {}, False, lambda ops, c: True),
    "zeek/pubsub-resp3.pcap": (10, 0, {"push_messages": 3, "deep_nesting": 2}, True,
        lambda ops, c: by_name(ops, "SUBSCRIBE")[0]["items"] == 1
        and by_name(ops, "PSUBSCRIBE")[0]["items"] == 1),
    # (tshark: False where its resp dissector leaves requests as fragments
    # or does not count inline commands)
    "zeek/pubsub.pcap": (7, 0, {"push_messages": 3}, False,
        lambda ops, c: by_name(ops, "RESET")[0]["status"] == "ok"),
    "zeek/redis-50-pings.pcap": (54, 0, {}, True,
        lambda ops, c: ops[-1].get("client") == "redis-py 5.0.8" and names(ops)["PING"] == 50),
    "zeek/reply-off-on.pcap": (8, 4, {"no_reply": 4}, False,
        lambda ops, c: [o["status"] for o in ops].count("unknown") == 4),
    "zeek/reply-off-on-2conn.pcap": (6, 4, {"no_reply": 4}, False, lambda ops, c: True),
    "zeek/set.pcap": (3, 0, {}, True, lambda ops, c: True),
    "zeek/stream.pcap": (4, 0, {}, True,
        lambda ops, c: by_name(ops, "XRANGE")[0]["items"] == 2
        and all("midstream" in o["flags"] for o in ops)),
    "zeek/tls.pcap": (0, 0, {"malformed": 2, "resync": 2}, False,
        # TLS on 6379: the first byte of each direction is not RESP
        lambda ops, c: True),
    "tcpdump/resp_1_benchmark.pcap": (15, 0, {}, False, lambda ops, c: True),
    "tcpdump/resp_2_inline.pcap": (12, 0, {}, False, lambda ops, c: True),
    "ndpi/resp.pcap": (4, 0, {}, True,
        lambda ops, c: by_name(ops, "COMMAND")[0]["response_bytes"] > 80000),
    "packetbeat-legacy/redis_session.pcap": (11, 0, {}, False, lambda ops, c: True),
    # two packets of a connection seen mid-way on port 6380: the core never
    # hands such a flow to a decoder (no classification), so no op
    "packetbeat-legacy/redis_one_transaction.pcap": (0, 0, {}, False, lambda ops, c: True),
}


def run_sensor(binary, pcap):
    proc = subprocess.run([binary, "--json", "-r", pcap], capture_output=True, text=True)
    ops, counters = [], {}
    for line in proc.stdout.splitlines():
        ev = json.loads(line)
        if ev["event_type"] == "op" and ev["op"]["app"] == "redis":
            ops.append(ev["op"])
        elif ev["event_type"] == "stats":
            counters = ev["stats"].get("redis", {})
    return proc.returncode, ops, counters


def tshark_requests(pcap, ports):
    cmd = ["tshark", "-n", "-r", pcap]
    for p in ports:
        cmd += ["-d", "tcp.port==%d,resp" % p]
    cmd += ["-T", "fields", "-e", "tcp.dstport", "-e", "resp.array.length"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    count = 0
    for line in out.splitlines():
        dst, _, lengths = line.partition("\t")
        if dst.isdigit() and int(dst) in ports and lengths:
            count += len(lengths.split(","))
    return count


def main():
    binary = sys.argv[1]
    if not os.path.isdir(SHARED):
        print("skip redis_decode: %s absent" % SHARED)
        return 0
    have_tshark = shutil.which("tshark") is not None
    for name, (n_ops, n_unanswered, pinned, tshark, oddity) in CASES.items():
        path = os.path.join(SHARED, name)
        if not os.path.exists(path):
            print("skip redis_decode/%s: capture absent" % name)
            continue
        rc, ops, counters = run_sensor(binary, path)
        unexpected = {k: v for k, v in counters.items() if v and pinned.get(k) != v}
        missing = {k: v for k, v in pinned.items() if counters.get(k, 0) != v}
        report(name, "run", rc == 0 and not unexpected and not missing,
               "exit %d, counters %s (pinned %s)" % (rc, unexpected or counters, pinned))
        unanswered = sum(1 for o in ops if o["status"] == "unknown")
        report(name, "ops", len(ops) == n_ops and unanswered == n_unanswered,
               "%d ops (%d without reply), expected %d (%d)"
               % (len(ops), unanswered, n_ops, n_unanswered))
        try:
            odd = oddity(ops, counters)
        except (IndexError, KeyError) as e:
            odd, err = False, repr(e)
        else:
            err = "ops %s" % dict(names(ops))
        report(name, "oddity", odd, err)
        if tshark and not have_tshark:
            print("skip redis_decode/%s/tshark: tshark not installed" % name)
        elif tshark:
            ports = {6379, 10625}
            seen = tshark_requests(path, ports)
            report(name, "tshark", seen == len(ops),
                   "tshark sees %d request arrays, the sensor %d ops" % (seen, len(ops)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
