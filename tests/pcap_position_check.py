#!/usr/bin/env python3
"""pcap_position_check.py BIN - EVE's pcap_filename and pcap_cnt, checked
against tshark: for every op and alert event of the scenario captures (read
one at a time, and two in one run, so the second file's numbers start at 1
again), frame pcap_cnt of pcap_filename is a packet of that flow (its ports)
at exactly the event's time (the packet that completed the op). Alerts that
no packet completed (closing updates, alerts on payload-less flows' ends)
carry no pcap fields.
Prints "ok pcap_position/<name>" or "FAIL pcap_position/<name>: why"."""
import datetime
import glob
import json
import shutil
import subprocess
import sys

BIN = sys.argv[1]


def frames(pcap):
    """{frame number: (epoch us, {ports})} from tshark."""
    out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "frame.number",
                          "-e", "frame.time_epoch", "-e", "tcp.srcport", "-e", "tcp.dstport",
                          "-e", "udp.srcport", "-e", "udp.dstport"],
                         capture_output=True, text=True, check=True).stdout
    table = {}
    for line in out.splitlines():
        cols = line.split("\t")
        sec, _, frac = cols[1].partition(".")
        us = int(sec) * 1000000 + int((frac + "000000")[:6])
        ports = {int(p) for c in cols[2:] for p in c.split(",") if p}
        table[int(cols[0])] = (us, ports)
    return table


def epoch_us(timestamp):
    t = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(t.timestamp()) * 1000000 + t.microsecond


FLOW_RECORDS = ("open", "closed", "no_answer")   # sensor/flow_recon.h


def no_packet_alert(e):
    """An alert no packet completed: a closing update (fired when its burst
    went quiet, in packet time) or one fired by a payload-less flow's end
    (which a timeout or the end of input may make)."""
    if e["event_type"] != "alert":
        return False
    return e["alert"].get("final") is True or e.get("op", {}).get("name") in FLOW_RECORDS


def check_run(name, pcaps, cache):
    out = subprocess.run([BIN, "-q", "--json", "-r", *pcaps], capture_output=True,
                         text=True).stdout
    seen, unpacketed, why = 0, 0, []
    for line in out.splitlines():
        e = json.loads(line)
        if e["event_type"] not in ("op", "alert"):
            if "pcap_cnt" in e or "pcap_filename" in e:
                why.append(f"a {e['event_type']} event with pcap fields")
            continue
        if ("pcap_cnt" not in e and e["event_type"] == "op"
                and "no_response" in e["op"]["flags"]):
            continue   # ended by a timeout or the end of input: no packet did it
        if "pcap_cnt" not in e and "pcap_filename" not in e and no_packet_alert(e):
            unpacketed += 1
            continue
        if e.get("pcap_filename") not in pcaps or not isinstance(e.get("pcap_cnt"), int):
            why.append(f"{e['event_type']} at {e['timestamp']}: pcap fields "
                       f"{e.get('pcap_filename')!r} {e.get('pcap_cnt')!r}")
            continue
        if e["pcap_filename"] not in cache:
            cache[e["pcap_filename"]] = frames(e["pcap_filename"])
        f = cache[e["pcap_filename"]]
        frame = f.get(e["pcap_cnt"])
        want = (epoch_us(e["timestamp"]), {e["src_port"], e["dest_port"]})
        if frame is None or frame[0] != want[0] or not want[1] <= frame[1]:
            why.append(f"{e['pcap_filename']} frame {e['pcap_cnt']} is {frame}, "
                       f"the event says {want}")
        seen += 1
    if not seen and not unpacketed:
        why.append("no op or alert event")
    print(f"FAIL pcap_position/{name}: {'; '.join(why[:3])}" if why
          else f"ok pcap_position/{name} ({seen} events)")


def main():
    if not shutil.which("tshark"):
        print("skip pcap_position/all: tshark not installed")
        return
    cache = {}
    pcaps = sorted(glob.glob("pcaps/scenarios/*.pcap"))
    for p in pcaps:
        check_run(p.split("/")[-1][:-5], [p], cache)
    check_run("two_files", [pcaps[0], pcaps[-1]], cache)


main()
