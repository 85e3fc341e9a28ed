#!/bin/sh
# demo.sh - run the sensor on a bundled real capture and show what it saw.
set -eu
PCAP=${1:-pcaps/http_curl.pcap}
OUT=tests/out/demo.jsonl
mkdir -p tests/out
echo "== ./scrapewatch -c config/scrapewatch.conf -r $PCAP --json=$OUT"
./scrapewatch -c config/scrapewatch.conf -r "$PCAP" --json="$OUT"
python3 - "$OUT" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
ops = [e for e in events if e["event_type"] == "op"]
flows = [e for e in events if e["event_type"] == "flow"]
stats = [e for e in events if e["event_type"] == "stats"][-1]["stats"]
print(f"\n{len(ops)} operations in {len(flows)} database flows:\n")
print(f"{'time (UTC)':<16} {'client':<22} {'server':<22} {'request':<34} {'status':>6} {'resp bytes':>10}  client id")
for e in ops:
    op = e["op"]
    http = op.get("http", {})
    req = f"{http.get('method', op['name'])} {http.get('uri', op['target'])}"
    print(f"{e['timestamp'][11:26]:<16} {e['src_ip']+':'+str(e['src_port']):<22} "
          f"{e['dest_ip']+':'+str(e['dest_port']):<22} {req[:34]:<34} {op['status_code']:>6} "
          f"{op['response_bytes']:>10}  {op.get('client', '-')}"
          + ("  [" + ",".join(op["flags"]) + "]" if op["flags"] else ""))
print("\nflows:")
for e in flows:
    f = e["flow"]
    print(f"  {e['community_id']}  {e['src_ip']}:{e['src_port']} -> {e['dest_ip']}:{e['dest_port']}"
          f"  {f['pkts_toserver']}/{f['pkts_toclient']} pkts  {f['ops']} ops  ended by {f['reason']}")
c = stats["capture"]; r = stats["reassembly"]
print(f"\nstats: {c['packets']} packets, {c['bytes']} bytes, {stats['flows']['created']} flows, "
      f"{r['gaps']} reassembly gaps, {stats['ops']['http']} HTTP ops")
print(f"\nfull events: {sys.argv[1]} (one JSON object per line)")
PY
