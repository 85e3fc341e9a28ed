#!/usr/bin/env python3
"""Check the sensor's memcached ops on the third-party memcached captures.

    tests/memcached_check.py BIN

For every capture under ../shared/pcaps named below (skipped when absent):

  run      the sensor reads it: exit 0, no memcached.malformed / resync /
           unpaired_replies in the final stats
  ops      the ops, in order, as "op class status items page_size flags"
           equal the pinned list (every value checked by hand against the
           capture in tshark when this list was written)
  tshark   (when installed) the request commands tshark's memcache
           dissector sees (TCP: memcache.command / memcache.opcode of
           magic 0x80; UDP, which tshark does not frame: the first word or
           opcode after the 8-byte frame header) are, in order, the
           commands of our ops, a binary quiet-get batch counting once per
           get it folds and its NOOP folded in

Prints "ok memcached/<capture>/<check>", "FAIL ...: why" or "skip ...: why".
"""

import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "pcaps")
failures = 0

# capture -> the ops: "name class status items page_size flags"
EXPECTED = {
    "packetbeat-legacy/memcache_bin_tcp_counter_ops.pcap": [
        "set write ok -1 -1 -", "incr write ok -1 -1 -", "decr write ok -1 -1 -",
        "get read ok 1 1 -", "quit handshake ok -1 -1 -"],
    "packetbeat-legacy/memcache_bin_tcp_delete.pcap": [
        "set write ok -1 -1 -", "delete write ok -1 -1 -", "get read ok 0 1 -",
        "quit handshake ok -1 -1 -"],
    "packetbeat-legacy/memcache_bin_tcp_multi_store_load.pcap": [
        "set write ok -1 -1 -", "set write ok -1 -1 -", "set write ok -1 -1 -",
        "get read ok 3 5 -", "quit handshake ok -1 -1 -"],
    "packetbeat-legacy/memcache_bin_tcp_single_load_store.pcap": [
        "set write ok -1 -1 -", "get read ok 1 1 -", "quit handshake ok -1 -1 -"],
    "packetbeat-legacy/memcache_bin_tcp_stats.pcap": [
        "set write ok -1 -1 -", "get read ok 1 1 -", "stats handshake ok 52 -1 -",
        "quit handshake ok -1 -1 -"],
    "packetbeat-legacy/memcache_bin_udp_counter_ops.pcap": [
        "set write unknown -1 -1 -", "incr write unknown -1 -1 -",
        "decr write unknown -1 -1 -"],
    "packetbeat-legacy/memcache_bin_udp_delete.pcap": [
        "set write unknown -1 -1 -", "delete write unknown -1 -1 -"],
    "packetbeat-legacy/memcache_bin_udp_multi_store.pcap": [
        "set write unknown -1 -1 -"] * 3,
    "packetbeat-legacy/memcache_bin_udp_single_store.pcap": [
        "set write unknown -1 -1 -"],
    "packetbeat-legacy/memcache_text_tcp_counter_ops.pcap": [
        "set write ok -1 -1 -", "incr write ok -1 -1 -", "decr write ok -1 -1 -",
        "get read ok 1 1 -", "quit handshake unknown -1 -1 -"],
    "packetbeat-legacy/memcache_text_tcp_delete.pcap": [
        "set write ok -1 -1 -", "delete write ok -1 -1 -", "get read ok 0 1 -",
        "quit handshake unknown -1 -1 -"],
    "packetbeat-legacy/memcache_text_tcp_multi_store_load.pcap": [
        "set write ok -1 -1 -", "set write ok -1 -1 -", "set write ok -1 -1 -",
        "get read ok 3 5 -", "quit handshake unknown -1 -1 -"],
    "packetbeat-legacy/memcache_text_tcp_single_load_store.pcap": [
        "set write ok -1 -1 -", "get read ok 1 1 -", "quit handshake unknown -1 -1 -"],
    "packetbeat-legacy/memcache_text_tcp_stats.pcap": [
        "set write ok -1 -1 -", "get read ok 1 1 -", "stats handshake ok 52 -1 -",
        "quit handshake unknown -1 -1 -"],
    "packetbeat-legacy/memcache_text_udp_counter_ops.pcap": [
        "set write unknown -1 -1 -", "incr write unknown -1 -1 -",
        "decr write unknown -1 -1 -"],
    "packetbeat-legacy/memcache_text_udp_delete.pcap": [
        "set write unknown -1 -1 -", "delete write unknown -1 -1 -"],
    "packetbeat-legacy/memcache_text_udp_multi_store.pcap": [
        "set write unknown -1 -1 -"] * 3,
    "packetbeat-legacy/memcache_text_udp_single_store.pcap": [
        "set write unknown -1 -1 -"],
    "ndpi/memcached.cap": ["stats handshake ok 48 -1 -"],
    # masscan's UDP probe: no reply captured
    "masscan/flush_all.pcap": ["flush_all destroy unknown -1 -1 no_response,probe"],
}

# binary opcode -> our op name
OPCODES = {0: "get", 1: "set", 2: "add", 3: "replace", 4: "delete", 5: "incr", 6: "decr",
           7: "quit", 8: "flush_all", 9: "get", 10: "noop", 11: "version", 12: "get",
           13: "get", 14: "append", 15: "prepend", 16: "stats", 17: "set", 18: "add",
           19: "replace", 20: "delete", 21: "incr", 22: "decr", 23: "quit",
           24: "flush_all", 25: "append", 26: "prepend", 27: "verbosity", 28: "touch",
           29: "gat", 30: "gat", 32: "sasl_list_mechs", 33: "sasl_auth", 34: "sasl_step",
           35: "gat", 36: "gat"}


def report(capture, check, ok, why=""):
    global failures
    name = os.path.basename(capture)
    if ok:
        print("ok memcached/%s/%s" % (name, check))
    else:
        failures += 1
        print("FAIL memcached/%s/%s: %s" % (name, check, why))


def run_sensor(binary, pcap):
    p = subprocess.run([binary, "-j", "-r", pcap], capture_output=True, timeout=300)
    ops, stats = [], {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        ev = json.loads(line)
        if ev.get("event_type") == "op" and ev["op"].get("app") == "memcached":
            ops.append(ev["op"])
        elif ev.get("event_type") == "stats":
            stats = ev.get("stats", {})
    err = None if p.returncode == 0 else "exit %d" % p.returncode
    return ops, stats.get("memcached", {}), err


def describe(op):
    return "%s %s %s %s %s %s" % (op.get("name"), op.get("class"), op.get("status"),
                                  op.get("items", -1), op.get("page_size", -1),
                                  ",".join(op.get("flags") or []) or "-")


def tshark_commands(pcap):
    """The request commands in capture order, by tshark's dissector."""
    p = subprocess.run(["tshark", "-r", pcap, "-d", "tcp.port==11211,memcache",
                        "-d", "udp.port==11211,memcache", "-T", "fields",
                        "-e", "tcp.dstport", "-e", "udp.dstport", "-e", "memcache.command",
                        "-e", "memcache.magic", "-e", "memcache.opcode", "-e", "udp.payload"],
                       capture_output=True, timeout=120)
    out, binary = [], False
    for line in p.stdout.decode().splitlines():
        f = line.split("\t")
        while len(f) < 6:
            f.append("")
        if f[0] == "11211":
            out += [c for c in f[2].split(",") if c]
            for magic, opcode in zip(f[3].split(","), f[4].split(",")):
                if magic == "128":
                    binary = True
                    out.append(OPCODES.get(int(opcode), "?"))
        elif f[1] == "11211" and f[5]:
            body = bytes.fromhex(f[5].replace(":", ""))[8:]
            if body[:1] == b"\x80" and len(body) > 1:
                binary = True
                out.append(OPCODES.get(body[1], "?"))
            elif body:
                out.append(body.split(b"\r\n")[0].split(b" ")[0].decode("ascii", "replace"))
    return out, binary


def check_tshark(cap, pcap, ops):
    theirs, binary = tshark_commands(pcap)
    mine = []
    for op in ops:
        name = op.get("name").split(" ")[0]
        if binary and name == "get" and op.get("page_size", 1) > 1:
            # a quiet-get batch: one request per key, then the NOOP folded in
            mine += ["get"] * op["page_size"] + ["noop"]
        else:
            mine.append(name)
    report(cap, "tshark", mine == theirs, "tshark %s, ours %s" % (theirs, mine))


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "./scrapewatch"
    have_tshark = shutil.which("tshark") is not None
    for cap, expected in EXPECTED.items():
        pcap = os.path.join(SHARED, cap)
        if not os.path.exists(pcap):
            print("skip memcached/%s: %s absent" % (os.path.basename(cap), pcap))
            continue
        ops, counters, err = run_sensor(binary, pcap)
        bad = {k: counters.get(k, 0) for k in ("malformed", "resync", "unpaired_replies")
               if counters.get(k, 0)}
        report(cap, "run", err is None and not bad, "%s %s" % (err, bad))
        got = [describe(op) for op in ops]
        report(cap, "ops", got == expected, "got %s" % got)
        if not have_tshark:
            print("skip memcached/%s/tshark: tshark not installed" % os.path.basename(cap))
            continue
        check_tshark(cap, pcap, ops)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
