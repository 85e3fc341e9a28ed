#!/usr/bin/env python3
"""Facts of one issue-14 login scenario (record_scenarios_auth.sh).

    auth_facts.py --name N --title T --pcap P --server TEXT --steps STEPS.jsonl
                  --versions JSON --actors JSON --pnat LIST --expected JSON
                  [--cut JSON] --out FACTS.json

Writes who is who, the tools, every step with what the client itself
reported (attempts refused and their codes, calls made), the packet and TCP
connection counts, and tshark's own view: per server port, the TCP
connections whose SYN is in the capture (0 for a capture cut mid-session),
frames carrying MongoDB or RESP, and the server's refusals read from the
payloads ("WRONGPASS" replies, MongoDB "AuthenticationFailed" replies).
--cut (mid-session captures) says where the recording was cut and how many
packets were dropped.
"""
import argparse
import json
import subprocess


def tshark(pcap, *args):
    out = subprocess.run(["tshark", "-r", pcap, "-n"] + list(args), check=True,
                         capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def count(pcap, display_filter):
    return len(tshark(pcap, "-Y", display_filter, "-T", "fields", "-e", "frame.number"))


def view(pcap):
    v = {"packets": count(pcap, "frame"),
         "tcp_connections": len(set(tshark(pcap, "-T", "fields", "-e", "tcp.stream")))}
    for name, port in (("mongodb", 27017), ("redis", 6379)):
        d = "-d", "tcp.port==%d,%s" % (port, "mongo" if name == "mongodb" else "resp")
        frames = count(pcap, "tcp.port==%d && tcp.len>0" % port)
        if not frames:
            continue
        v[name] = {
            "frames_with_payload": frames,
            "syn_seen": count(pcap, "tcp.port==%d && tcp.flags.syn==1 && tcp.flags.ack==0" % port),
            "dissected_frames": len(tshark(pcap, *d, "-Y", "mongo" if name == "mongodb" else "resp",
                                           "-T", "fields", "-e", "frame.number")),
        }
        if name == "redis":
            v[name]["wrongpass_replies"] = count(pcap, 'tcp.srcport==6379 && tcp.payload contains "WRONGPASS"')
        else:
            v[name]["authentication_failed_replies"] = count(
                pcap, 'tcp.srcport==27017 && tcp.payload contains "AuthenticationFailed"')
    return v


def main():
    ap = argparse.ArgumentParser()
    for k in ("name", "title", "pcap", "server", "steps", "versions", "actors", "pnat",
              "expected", "out"):
        ap.add_argument("--" + k, required=True)
    ap.add_argument("--cut")
    a = ap.parse_args()
    steps = [json.loads(line) for line in open(a.steps) if line.strip()]
    facts = {
        "capture": "pcaps/scenarios/%s.pcap" % a.name,
        "title": a.title,
        "recorded_by": "pcaps/record/record_scenarios_auth.sh",
        "server": a.server,
        "tools": json.loads(a.versions),
        "rewritten_by": "tcprewrite --pnat=%s --fixcsum" % a.pnat,
        "addresses": {v[0]: v[1] for v in json.loads(a.actors).values()},
    }
    if a.cut:
        facts["cut"] = json.loads(a.cut)
    facts.update(steps=steps, tshark=view(a.pcap), expected_alerts=json.loads(a.expected))
    with open(a.out, "w") as f:
        json.dump(facts, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
