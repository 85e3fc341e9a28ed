#!/usr/bin/env python3
"""live/check.py - the sensor on a live interface, in a network namespace of
its own (veth pair, see netns.py). Skips ("skip NAME: why") when not root or
when namespaces are unavailable.   usage: tests/live/check.py BIN

  live/idle_cpu       one packet a second on an otherwise idle interface:
                      the process uses under 5 % of one core over 4 s
                      (threads sleep; an idleness bound, not a speed test)
  live/replay_exact   a recorded capture replayed with tcpreplay at a modest
                      rate: the sensor reports exactly the ops of the
                      offline run of the same file, and counts no drop
  live/fanout_split   the same with two sensors in one capture.fanout_group:
                      together they report exactly the offline ops, each op
                      once (how the flows were split is the kernel's hash)
  live/two_taps       a two-port TAP: the same capture split by direction
                      (tcpprep --port: client -> server on swcap, answers on
                      swcap2), one sensor with -i swcap -i swcap2 reports
                      exactly the offline ops, each with in_iface "swcap"
                      (where each flow's first packet came in), and counts
                      each interface's packets apart; with capture.fanout_group
                      G, the first joins group G and the second G + 1
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
TMP = tempfile.mkdtemp(prefix="sw_live_")
IDLE_SECONDS = 4.0
IDLE_MAX_SHARE = 0.05
REPLAY = "pcaps/mongo_pymongo.pcap"
REPLAY_PPS = 400

# One packet a second on the sending end: a TCP SYN to a database port.
SENDER = r"""
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for i in range(int(sys.argv[2])):
    tcp = struct.pack("!HHIIBBHHH", 40000 + i, 9200, 1000, 0, 5 << 4, 2, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    s.send(b"\xff" * 6 + b"\x02" + b"\0" * 5 + b"\x08\x00" + ip + tcp)
    time.sleep(1)
"""


def start_sensor(ns, out, extra=(), workers=1, ifaces=None):
    err = open(out + ".err", "w")
    inputs = [a for i in (ifaces or [ns.capture_if]) for a in ("-i", i)]
    p = ns.popen([BIN, "-w", str(workers)] + inputs + ["-j" + out] + list(extra),
                 stdout=subprocess.DEVNULL, stderr=err)
    if not netns.wait_capturing(out, p):
        raise RuntimeError("sensor did not start: " + open(out + ".err").read())
    time.sleep(0.5)   # the capture is open and the threads are waiting
    return p


def stop_sensor(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return -9


def events(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def final_stats(evs):
    st = [e for e in evs if e["event_type"] == "stats"]
    return st[-1]["stats"] if st else {}


def idle_cpu():
    with netns.Netns() as ns:
        out = os.path.join(TMP, "idle.jsonl")
        p = start_sensor(ns, out, workers=2)
        sender = ns.popen([sys.executable, "-c", SENDER, ns.send_if, str(int(IDLE_SECONDS) + 3)])
        time.sleep(1.0)
        c0, t0 = netns.cpu_seconds(p.pid), time.monotonic()
        time.sleep(IDLE_SECONDS)
        c1, t1 = netns.cpu_seconds(p.pid), time.monotonic()
        sender.wait()
        rc = stop_sensor(p)
    share = (c1 - c0) / (t1 - t0)
    seen = final_stats(events(out)).get("capture", {}).get("packets", 0)
    print(f"# live/idle_cpu: {c1 - c0:.3f} s CPU over {t1 - t0:.1f} s = {100 * share:.2f} % "
          f"of one core; {seen} packets seen", file=sys.stderr)
    why = []
    if rc != 0:
        why.append(f"exit {rc}")
    if share >= IDLE_MAX_SHARE:
        why.append(f"{100 * share:.1f} % of a core while idle (limit {100 * IDLE_MAX_SHARE:.0f} %)")
    if seen < IDLE_SECONDS:
        why.append(f"saw {seen} packets, sent one a second")
    return why


def op_view(ev):
    """An op event without what differs between a live and an offline run
    of the same packets (times, the flow id, which counts packets, and the
    interface, which offline runs do not have, and the offline run's file
    and packet number)."""
    ev = dict(ev)
    for k in ("timestamp", "flow_id", "in_iface", "pcap_filename", "pcap_cnt"):
        ev.pop(k, None)
    ev["op"] = {k: v for k, v in ev["op"].items() if not k.endswith("_time")}
    return json.dumps(ev, sort_keys=True)


def replay_exact():
    if not shutil.which("tcpreplay"):
        raise netns.Unavailable("tcpreplay not installed (Debian package tcpreplay)")
    offline = subprocess.run([BIN, "-w", "1", "-j", "-r", REPLAY], capture_output=True, text=True)
    want = [op_view(json.loads(line)) for line in offline.stdout.splitlines()
            if '"event_type":"op"' in line]
    with netns.Netns() as ns:
        out = os.path.join(TMP, "replay.jsonl")
        p = start_sensor(ns, out)
        r = ns.run(["tcpreplay", "-q", "-i", ns.send_if, f"--pps={REPLAY_PPS}", REPLAY])
        time.sleep(0.5)
        rc = stop_sensor(p)
    evs = events(out)
    got = [op_view(e) for e in evs if e["event_type"] == "op"]
    cap = final_stats(evs).get("capture", {})
    drops = {k: v for k, v in cap.items() if "drop" in k and v}
    print(f"# live/replay_exact: {len(got)} ops live, {len(want)} offline, "
          f"{cap.get('packets', 0)} packets, drops {drops or 'none'}", file=sys.stderr)
    why = []
    if r.returncode != 0:
        why.append("tcpreplay: " + r.stderr.strip()[-200:])
    if rc != 0:
        why.append(f"sensor exit {rc}")
    if not want:
        why.append("the offline run found no ops")
    if got != want:
        diff = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        why.append(f"ops differ from the offline run at #{diff} ({len(got)} vs {len(want)})")
    if drops:
        why.append(f"drops {drops}")
    return why


def fanout_split():
    if not shutil.which("tcpreplay"):
        raise netns.Unavailable("tcpreplay not installed (Debian package tcpreplay)")
    offline = subprocess.run([BIN, "-w", "1", "-j", "-r", REPLAY], capture_output=True, text=True)
    want = sorted(op_view(json.loads(line)) for line in offline.stdout.splitlines()
                  if '"event_type":"op"' in line)
    conf = os.path.join(TMP, "fanout.conf")
    with open(conf, "w") as f:
        f.write("capture = { fanout_group = %d; };\n" % (4000 + os.getpid() % 60000))
    with netns.Netns() as ns:
        outs = [os.path.join(TMP, f"fanout{i}.jsonl") for i in range(2)]
        procs = [start_sensor(ns, out, ["-c", conf]) for out in outs]
        r = ns.run(["tcpreplay", "-q", "-i", ns.send_if, f"--pps={REPLAY_PPS}", REPLAY])
        time.sleep(0.5)
        rcs = [stop_sensor(p) for p in procs]
    per = [[op_view(e) for e in events(out) if e["event_type"] == "op"] for out in outs]
    got = sorted(per[0] + per[1])
    print(f"# live/fanout_split: {len(per[0])} + {len(per[1])} ops, {len(want)} offline",
          file=sys.stderr)
    why = []
    if r.returncode != 0:
        why.append("tcpreplay: " + r.stderr.strip()[-200:])
    if any(rcs):
        why.append(f"sensor exits {rcs}")
    if not want or got != want:
        why.append(f"the two sensors' ops ({len(got)}) are not the offline ones ({len(want)})")
    return why


def tap_split(ns_tmp):
    """A tcpprep cache that sends client -> server packets (primary) on one
    interface and the answers on the other; and how many of each."""
    services = os.path.join(ns_tmp, "services")
    with open(services, "w") as f:
        f.write("mongodb 27017/tcp\n")
    cache = os.path.join(ns_tmp, "tap.cache")
    r = subprocess.run(["tcpprep", "--port", f"--services={services}", f"--pcap={REPLAY}",
                        f"--cachefile={cache}"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("tcpprep: " + r.stderr.strip()[-200:])
    r = subprocess.run(["tcpprep", f"--print-stats={cache}"], capture_output=True, text=True)
    counts = {}
    for line in (r.stdout + r.stderr).splitlines():
        parts = line.split(":")
        if len(parts) == 2 and parts[0].strip() in ("Primary packets", "Secondary packets"):
            counts[parts[0].split()[0].lower()] = int(parts[1])
    return cache, counts


def two_taps():
    if not shutil.which("tcpreplay") or not shutil.which("tcpprep"):
        raise netns.Unavailable("tcpreplay/tcpprep not installed (Debian package tcpreplay)")
    offline = subprocess.run([BIN, "-w", "1", "-j", "-r", REPLAY], capture_output=True, text=True)
    want = [op_view(json.loads(line)) for line in offline.stdout.splitlines()
            if '"event_type":"op"' in line]
    cache, counts = tap_split(TMP)
    group = 4000 + os.getpid() % 60000
    conf = os.path.join(TMP, "tap.conf")
    with open(conf, "w") as f:
        f.write("capture = { fanout_group = %d; };\n" % group)
    with netns.Netns(pairs=2) as ns:
        out = os.path.join(TMP, "tap.jsonl")
        p = start_sensor(ns, out, ["-c", conf], workers=2, ifaces=ns.capture_ifs)
        r = ns.run(["tcpreplay", "-q", "-c", cache, "-i", ns.send_ifs[0], "-I", ns.send_ifs[1],
                    f"--pps={REPLAY_PPS}", REPLAY])
        time.sleep(0.5)
        rc = stop_sensor(p)
        names = ns.capture_ifs
    evs = events(out)
    ops = [e for e in evs if e["event_type"] == "op"]
    flows = [e for e in evs if e["event_type"] == "flow"]
    got = [op_view(e) for e in ops]
    st = final_stats(evs)
    per = {n: st.get("interfaces", {}).get(n, {}).get("packets") for n in names}
    iface_of = sorted({e.get("in_iface") for e in ops + flows}, key=str)
    err = open(out + ".err").read()
    print(f"# live/two_taps: {len(got)} ops live, {len(want)} offline; packets per interface "
          f"{per} (sent {counts}); in_iface {iface_of}", file=sys.stderr)
    why = []
    if r.returncode != 0:
        why.append("tcpreplay: " + r.stderr.strip()[-200:])
    if rc != 0:
        why.append(f"sensor exit {rc}")
    if not want or got != want:
        diff = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        why.append(f"ops differ from the offline run at #{diff} ({len(got)} vs {len(want)})")
    if iface_of != [names[0]] or not flows:
        why.append(f"in_iface of ops and flows is {iface_of}, not ['{names[0]}']")
    if per != {names[0]: counts.get("primary"), names[1]: counts.get("secondary")}:
        why.append(f"packets per interface {per}, sent {counts}")
    if st.get("capture", {}).get("packets") != sum(v or 0 for v in per.values()):
        why.append("capture.packets is not the sum of the interfaces' packets")
    for i, n in enumerate(names):
        if not any(line.startswith(f"scrapewatch: capturing on {n} (")
                   and line.endswith(f", fanout group {group + i})") for line in err.splitlines()):
            why.append(f"no start-up line for {n} in fanout group {group + i}")
        if f"scrapewatch: capture: final: {n}: packets={per[n]} " not in err:
            why.append(f"no final line for {n}")
    return why


def check(name, fn):
    try:
        why = fn()
    except netns.Unavailable as e:
        print(f"skip live/{name}: {e}")
        return
    except Exception as e:  # a broken setup is a failure, with its reason
        why = [f"{type(e).__name__}: {e}"]
    if why:
        print(f"FAIL live/{name}")
        print(f"live/{name}: " + "; ".join(why), file=sys.stderr)
    else:
        print(f"ok live/{name}")


if __name__ == "__main__":
    check("idle_cpu", idle_cpu)
    check("replay_exact", replay_exact)
    check("fanout_split", fanout_split)
    check("two_taps", two_taps)
    shutil.rmtree(TMP, ignore_errors=True)
