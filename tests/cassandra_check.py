#!/usr/bin/env python3
"""cassandra_check.py SCRAPEWATCH - the Cassandra captures against their facts,
tshark's CQL dissector, and the third-party Cassandra captures.

- pcaps/cassandra_*.pcap (recorded by pcaps/record/record_cassandra.sh): the
  rows the sensor counts per table equal what the client received (facts),
  every response the server sent is one op with the same status, the paged
  read is one chain (one page without `continues`, the rest with it), and no
  cassandra counter moved;
- tshark (-d tcp.port==9042,cql), where it reads the capture: per flow, the
  request opcodes and the request/response stream ids pair up as the ops do;
  tshark 4.0 does not read v5 segments, so for v5 only the sensor is checked;
- pcaps/scenarios/cassandra_{dump,app}.pcap (record_scenarios_apps.sh,
  python3-cassandra with default settings): one op per response, the
  shop.users rows equal what the clients received, each client run's
  control connection (the flow with REGISTER) carries the 14 connect-time
  SELECTs, all handshake, and the only enumerate ops are the client's own
  schema queries; tshark as above;
- ../shared/pcaps: the Cassandra captures decode without error (skip when
  absent), their oddities pinned."""
import collections
import glob
import json
import os
import shutil
import subprocess
import sys

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "pcaps")
failures = 0
REQUEST_OPCODE = {"OPTIONS": 5, "STARTUP": 1, "AUTH_RESPONSE": 15, "REGISTER": 11, "PREPARE": 9,
                  "EXECUTE": 10, "BATCH": 13}


def report(capture, check, ok, why=""):
    global failures
    if ok:
        print("ok cassandra/%s/%s" % (capture, check))
    else:
        failures += 1
        print("FAIL cassandra/%s/%s: %s" % (capture, check, why))


def run_sensor(binary, pcap):
    p = subprocess.run([binary, "-j", "-r", pcap], capture_output=True, timeout=300)
    ops, stats = [], {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        ev = json.loads(line)
        if ev.get("event_type") == "op" and ev["op"].get("app") == "cassandra":
            ops.append(ev)
        elif ev.get("event_type") == "stats":
            stats = ev.get("stats", {})
    err = None if p.returncode == 0 else "exit %d" % p.returncode
    return ops, stats.get("cassandra", {}), err


def check_facts(name, facts, ops):
    rows = collections.Counter()
    for ev in ops:
        o = ev["op"]
        if o["name"] == "SELECT" and o["status"] == "ok" and o.get("items") is not None:
            rows[o["target"]] += o["items"]
    for table, n in facts["rows_received"].items():
        report(name, "rows/" + table, rows[table] == n, "sensor %d, client %d" % (rows[table], n))
    report(name, "one_op_per_response", len(ops) == len(facts["responses"]),
           "%d ops, %d responses" % (len(ops), len(facts["responses"])))
    denied = [e for e in ops if e["op"]["status"] == "denied"]
    bad = [r for r in facts["responses"] if r.get("code") == 0x0100]
    report(name, "bad_credentials", len(denied) == len(bad) == 1 and
           denied[0]["op"]["name"] == "AUTH_RESPONSE" and denied[0]["op"]["status_code"] == 0x0100,
           "denied %d, server said bad credentials %d" % (len(denied), len(bad)))
    pages = [e["op"] for e in ops if e["op"]["target"] == "shop.users" and e["op"]["name"] == "SELECT"]
    cont = [p for p in pages if "continues" in p["flags"]]
    linked = all(pages[i + 1].get("continuation") == pages[i].get("cursor") for i in range(len(pages) - 1))
    read = [c for c in facts["client"]["calls"] if c.get("table") == "shop.users" and c["call"] == "select"][0]
    size = read["rows"] // read["pages"]
    report(name, "paged_chain", len(pages) == read["pages"] and len(cont) == read["pages"] - 1 and linked and
           all("match_all" in p["flags"] and p.get("page_size") == size for p in pages),
           "%d pages, %d continuing, linked %s" % (len(pages), len(cont), linked))
    destroy = sorted(e["op"]["name"] for e in ops if e["op"]["class"] == "destroy")
    report(name, "destroy", destroy == ["DROP TABLE", "TRUNCATE"], str(destroy))
    # system.local/peers(_v2) are topology (handshake); schema reads are
    # enumerate except on a driver's control connection (the flow that sent
    # REGISTER), where they are the driver's metadata load (handshake).
    control = {e["src_port"] for e in ops if e["op"]["name"] == "REGISTER"}
    system = [e for e in ops if e["op"]["name"] == "SELECT" and
              e["op"]["target"].split(".")[0] in ("system", "system_schema")]
    want = sorted(r["table"] for r in facts["responses"]
                  if r.get("table", "").split(".")[0] in ("system", "system_schema"))
    wrong = [(e["op"]["target"], e["op"]["class"]) for e in system
             if e["op"]["class"] != ("handshake" if e["op"]["target"] in TOPOLOGY or
                                     e["src_port"] in control else "enumerate")]
    report(name, "system_tables", sorted(e["op"]["target"] for e in system) == want and len(want) >= 5
           and not wrong and len(control) == 1, "server %s, wrong class %s" % (want, wrong))


TOPOLOGY = ("system.local", "system.peers", "system.peers_v2")


def tshark_messages(pcap):
    p = subprocess.run(["tshark", "-r", pcap, "-d", "tcp.port==9042,cql", "-T", "fields",
                        "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "cql.version", "-e", "cql.opcode",
                        "-e", "cql.stream", "-Y", "cql"], capture_output=True, timeout=300)
    msgs = []
    for line in p.stdout.decode().splitlines():
        sport, dport, ver, opc, stream = line.split("\t")
        for v, o, s in zip(ver.split(","), opc.split(","), stream.split(",")):
            msgs.append((int(sport), int(dport), int(v, 0), int(o), int(s)))
    return msgs


def check_tshark(name, pcap, ops, version):
    if shutil.which("tshark") is None:
        print("skip cassandra/%s/tshark: tshark not installed" % name)
        return
    msgs = tshark_messages(pcap)
    if version >= 5:
        report(name, "tshark_v5_unread", len(msgs) == 0, "tshark read %d v5 messages" % len(msgs))
        return
    requests = collections.Counter()
    pairs = collections.Counter()
    for sport, dport, v, opc, stream in msgs:
        if dport == 9042:
            requests[(sport, opc)] += 1
            pairs[(sport, stream)] += 1
        else:
            pairs[(dport, stream)] -= 1
    ours = collections.Counter((e["src_port"], REQUEST_OPCODE.get(e["op"]["name"], 7)) for e in ops)
    report(name, "tshark_opcodes", requests == ours, "tshark %s, sensor %s" % (dict(requests), dict(ours)))
    report(name, "tshark_streams", all(v == 0 for v in pairs.values()) and
           sum(requests.values()) == len(ops), "unpaired streams %s" %
           {k: v for k, v in pairs.items() if v})


THIRD_PARTY = {
    # capture: (ops expected, why)
    "wireshark-wiki/apache-cassandra-cql-v3.pcapng": (118, "a v3 driver session: 11 EVENTs, the schema tables before 3.0"),
    "ndpi/cassandra.pcap": (4, "two OPTIONS/STARTUP openings; the STARTUPs were never answered in the capture"),
    "arkime/cassandra1.pcap": (0, "Thrift on port 9160, not the native protocol: not decoded"),
}


def check_third_party(binary):
    if not os.path.isdir(SHARED):
        print("skip cassandra/third_party: %s absent" % SHARED)
        return
    for rel, (want, why) in THIRD_PARTY.items():
        path = os.path.join(SHARED, rel)
        name = rel.replace("/", "_")
        if not os.path.exists(path):
            print("skip cassandra/%s: absent" % name)
            continue
        ops, stats, err = run_sensor(binary, path)
        bad = {k: v for k, v in stats.items() if v and k != "unpaired"}
        report(name, "decodes", err is None and not bad and len(ops) == want,
               "%s; %d ops (want %d: %s); counters %s" % (err, len(ops), want, why, bad))


def check_scenario(name, facts, ops):
    """A scenario of record_scenarios_apps.sh: python3-cassandra with its
    default settings, one control connection per client run."""
    log = facts["server_log"]
    report(name, "one_op_per_response", len(ops) == len(log), "%d ops, %d responses" % (len(ops), len(log)))
    calls = [c for st in facts["steps"] for c in st["reported"]["calls"]]
    want = sum(c["rows"] for c in calls if c.get("table") == "shop.users")
    got = sum(e["op"].get("items", 0) for e in ops if e["op"]["target"] == "shop.users")
    report(name, "rows_shop_users", got == want > 0, "sensor %d, clients %d" % (got, want))
    control = {e["src_port"] for e in ops if e["op"]["name"] == "REGISTER"}
    boot = [e for e in ops if e["src_port"] in control and e["op"]["name"] == "SELECT"]
    report(name, "control_connections", len(control) == len(facts["steps"]) and len(boot) == 14 * len(control)
           and all(e["op"]["class"] == "handshake" for e in boot),
           "%d control connections, %d SELECTs on them, classes %s" % (
               len(control), len(boot), sorted({e["op"]["class"] for e in boot})))
    enum = sorted(e["op"]["target"] for e in ops if e["op"]["class"] == "enumerate")
    listed = sorted(c["table"] for c in calls if c.get("table", "").startswith("system_schema."))
    report(name, "enumerate", enum == listed, "sensor %s, client's own listing %s" % (enum, listed))


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
    binary = sys.argv[1]
    pcaps = sorted(glob.glob("pcaps/cassandra_*.pcap"))
    if not pcaps:
        print("FAIL cassandra/none: no pcaps/cassandra_*.pcap")
        sys.exit(1)
    for pcap in pcaps:
        name = os.path.basename(pcap)[:-5]
        facts = json.load(open(pcap[:-5] + ".facts.json"))
        ops, stats, err = run_sensor(binary, pcap)
        report(name, "run", err is None and not any(stats.values()), "%s, counters %s" % (err, stats))
        check_facts(name, facts, ops)
        check_tshark(name, pcap, ops, facts["client"]["protocol_version"])
    for name in ("cassandra_dump", "cassandra_app"):
        pcap = os.path.join("pcaps", "scenarios", name + ".pcap")
        if not os.path.exists(pcap):
            print("FAIL cassandra/scenarios/%s: %s missing" % (name, pcap))
            continue
        facts = json.load(open(pcap[:-5] + ".facts.json"))
        ops, stats, err = run_sensor(binary, pcap)
        label = "scenarios/" + name
        report(label, "run", err is None and not any(stats.values()), "%s, counters %s" % (err, stats))
        check_scenario(label, facts, ops)
        check_tshark(label, pcap, ops, facts["steps"][0]["reported"]["protocol_version"])
    check_third_party(binary)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
