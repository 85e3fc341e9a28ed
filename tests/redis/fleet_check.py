#!/usr/bin/env python3
"""fleet_check.py - the fleet view: two sensor processes, one redis-server.

    tests/redis/fleet_check.py BIN

The recorded sweep (pcaps/scenarios/sweep.pcap: one source asks 20
Elasticsearch servers for GET /) is split by server with tshark between two
sensors, so that neither sees the 10 servers of its own sweep rule (6001).
Both run at once into one redis-server with output.redis.fleet on: the fleet
counts the servers together and exactly one fleet alert (6900) is raised,
by one sensor; below the threshold none is; the keys of a client share one
Redis Cluster hash slot (the one of every other key of the sink) and the
alert reaches the alert stream with its event time. Prints ok/FAIL/skip lines.
"""
import calendar
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import redis_test as rt  # noqa: E402

SWEEP = os.path.join(ROOT, "pcaps", "scenarios", "sweep.pcap")
CONF = os.path.join(ROOT, "tests", "scenarios", "scrapewatch.conf")
ACTOR = "198.51.100.99"
failed = 0


def check(name, ok, why=""):
    global failed
    print(f"ok fleet/{name}" if ok else f"FAIL fleet/{name}: {why}")
    failed += 0 if ok else 1


def crc16(data):
    """CRC16-XMODEM, the hash of Redis Cluster slots."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key):
    k = key.encode()
    s = k.find(b"{")
    if s >= 0:
        e = k.find(b"}", s + 1)
        if e > s + 1:
            k = k[s + 1:e]
    return crc16(k) % 16384


def epoch_s(timestamp):
    return calendar.timegm(time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S"))


def fleet_schema_problems(event):
    """The fleet alert against docs/schema.json; None without python3-jsonschema."""
    try:
        import jsonschema
    except ImportError:
        print("skip fleet/fleet_alert_schema: python3-jsonschema is not installed")
        return None
    schema = json.load(open(os.path.join(ROOT, "docs", "schema.json")))
    v = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return [e.message for e in v.iter_errors(event)]


def split(tmp, name, servers):
    out = os.path.join(tmp, name + ".pcap")
    flt = " or ".join(f"ip.addr == 10.0.1.{n}" for n in servers)
    subprocess.run(["tshark", "-r", SWEEP, "-Y", flt, "-w", out, "-F", "pcap"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return out


def write_conf(tmp, name, port, fleet=True):
    path = os.path.join(tmp, name + ".conf")
    with open(path, "w") as f:
        for line in open(CONF):
            f.write(line.replace('"../../rules/', f'"{ROOT}/rules/')
                    .replace('lists = "lists"', f'lists = "{ROOT}/tests/scenarios/lists"'))
        f.write(f'sensor = {{ id = "{name}"; }};\n'
                f"output = {{ redis = {{ enabled = true; port = {port}; "
                f"fleet = {{ enabled = {'true' if fleet else 'false'}; window = 600; "
                f"servers_min = 10; }}; }}; }};\n")
    return path


def run_sensors(bin_, tmp, jobs):
    """Runs (name, conf, pcap) sensors at once; their final stats by name."""
    procs = []
    for name, conf, pcap in jobs:
        env = dict(os.environ, STATE_DIRECTORY=os.path.join(tmp, "state-" + name))
        out = os.path.join(tmp, name + ".jsonl")
        procs.append((name, out, subprocess.Popen(
            [bin_, "-c", conf, "-r", pcap, f"--json={out}", "--quiet"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    stats = {}
    for name, out, p in procs:
        p.wait(120)
        final = [json.loads(l) for l in open(out) if '"event_type":"stats"' in l][-1]
        stats[name] = final["stats"]
    return stats


def stream_alerts(server):
    entries = server.cmd("XRANGE", "{scrapewatch}:events", "-", "+")
    alerts = []
    for _, fields in entries:
        kv = dict(zip(fields[::2], fields[1::2]))
        if kv.get("type") == "alert":
            alerts.append(json.loads(kv["json"]))
    return alerts


def fleet_keys(server):
    return server.cmd("KEYS", "{scrapewatch}:fleet:*")


def counter(stats, name):
    group, key = name.split(".")
    return stats.get(group, {}).get(key, 0)


def across_two_sensors(bin_, tmp, t):
    server = rt.RedisServer(t, "fleet").start()
    a = split(tmp, "a", range(1, 7))
    b = split(tmp, "b", range(7, 13))
    stats = run_sensors(bin_, tmp, [("sensor-a", write_conf(tmp, "sensor-a", server.port), a),
                                    ("sensor-b", write_conf(tmp, "sensor-b", server.port), b)])
    alerts = stream_alerts(server)
    fleet = [x for x in alerts if x["alert"]["rule_info"]["id"] == 6900]
    local = [x for x in alerts if x["alert"]["rule_info"]["id"] == 6001]
    check("no_local_sweep_alert", not local, f"{len(local)} alerts 6001")
    check("one_fleet_alert", len(fleet) == 1, f"{len(fleet)} fleet alerts")
    schema_problems = fleet_schema_problems(fleet[0]) if fleet else None
    if schema_problems is not None:
        check("fleet_alert_schema", not schema_problems, "; ".join(schema_problems[:3]))
    if fleet:
        ev = fleet[0]["alert"]["evidence"]
        check("fleet_evidence", ev["servers"] == 10 and ev["sensors"] == 2
              and fleet[0]["alert"]["actor"]["ip"] == ACTOR, json.dumps(ev))
    raised = [counter(s, "output_redis.fleet_alerts") for s in stats.values()]
    check("raised_by_one_sensor", sorted(raised) == [0, 1], f"{raised}")
    reports = sum(counter(s, "output_redis.fleet_reports") for s in stats.values())
    check("one_report_per_server", reports == 12, f"{reports} reports")
    keys = fleet_keys(server)
    slot = key_slot("{scrapewatch}:events")
    check("hash_tag_one_slot", keys and all(ACTOR in k for k in keys)
          and {key_slot(k) for k in keys} == {slot}, f"{keys}")
    entries = server.cmd("XRANGE", "{scrapewatch}:alerts", "-", "+")
    fleet_entries = [dict(zip(f[::2], f[1::2])) for _, f in entries]
    fleet_entries = [kv for kv in fleet_entries if kv.get("rule") == "6900"]
    when = epoch_s(fleet[0]["timestamp"]) if fleet else None
    check("in_alert_stream", len(fleet_entries) == 1 and fleet_entries[0]["severity"] == "2"
          and int(fleet_entries[0]["ts"]) // 1000 == when, f"{fleet_entries}, {when}")
    servers_keys = [k for k in keys if ":servers:" in k]
    total = int(server.cmd("PFCOUNT", *servers_keys)) if servers_keys else 0
    check("servers_counted", total == 12, f"PFCOUNT {total}")
    ttls = [int(server.cmd("TTL", k)) for k in keys]
    check("keys_expire", all(0 < x <= 3600 for x in ttls), f"{ttls}")

    # the same sweep again, within the suppression period: no second alert
    run_sensors(bin_, tmp, [("sensor-c", write_conf(tmp, "sensor-c", server.port), a),
                            ("sensor-d", write_conf(tmp, "sensor-d", server.port), b)])
    again = [x for x in stream_alerts(server) if x["alert"]["rule_info"]["id"] == 6900]
    check("suppressed_afterwards", len(again) == 1, f"{len(again)} fleet alerts")
    server.stop()


def below_threshold(bin_, tmp, t):
    server = rt.RedisServer(t, "fleet-quiet").start()
    a = split(tmp, "qa", range(1, 5))
    b = split(tmp, "qb", range(5, 9))
    run_sensors(bin_, tmp, [("quiet-a", write_conf(tmp, "quiet-a", server.port), a),
                            ("quiet-b", write_conf(tmp, "quiet-b", server.port), b)])
    fleet = [x for x in stream_alerts(server) if x["alert"]["rule_info"]["id"] == 6900]
    keys = [k for k in fleet_keys(server) if ":servers:" in k]
    total = int(server.cmd("PFCOUNT", *keys)) if keys else 0
    check("below_threshold_quiet", not fleet and total == 8, f"{len(fleet)} alerts, {total}")
    server.stop()


def off_by_default(bin_, tmp, t):
    server = rt.RedisServer(t, "fleet-off").start()
    run_sensors(bin_, tmp, [("off", write_conf(tmp, "off", server.port, fleet=False), SWEEP)])
    check("off_no_keys", not fleet_keys(server) and stream_alerts(server),
          f"{fleet_keys(server)}")
    server.stop()


def main():
    bin_ = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/scrapewatch")
    for tool in ("redis-server", "tshark"):
        if not shutil.which(tool):
            print(f"skip fleet: {tool} not installed")
            return 0
    tmp = tempfile.mkdtemp(prefix="sw-fleet-")
    t = rt.Tmp()
    try:
        across_two_sensors(bin_, tmp, t)
        below_threshold(bin_, tmp, t)
        off_by_default(bin_, tmp, t)
    except rt.Fail as e:
        check("setup", False, str(e))
    finally:
        t.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
