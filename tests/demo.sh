#!/bin/sh
# demo.sh - run the sensor on a bundled real capture and show what it saw.
set -eu
PCAPS=${*:-pcaps/es_curl.pcap pcaps/es_elasticdump_scroll.pcap}
OUT=tests/out/demo.jsonl
mkdir -p tests/out
# --json appends (logrotate-safe): start each run from empty files
rm -f "$OUT" tests/out/demo_alerts.jsonl
echo "== ./scrapewatch -c config/scrapewatch.conf -r $PCAPS --json=$OUT"
# shellcheck disable=SC2086
./scrapewatch -c config/scrapewatch.conf -r $PCAPS --json="$OUT"
python3 - "$OUT" <<'PY'
import json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
ops = [e for e in events if e["event_type"] == "op"]
flows = [e for e in events if e["event_type"] == "flow"]
stats = [e for e in events if e["event_type"] == "stats"][-1]["stats"]
print(f"\n{len(ops)} database operations in {len(flows)} flows:\n")
print(f"{'time (UTC)':<15} {'client -> server':<30} {'app':<13} {'operation':<22} {'class':<9} "
      f"{'target':<12} {'st':>3} {'docs':>6} {'total':>6}  chain / flags")
for e in ops:
    op = e["op"]
    ch = op.get("chain") or e.get("chain")
    chain = f"chain {ch['id'][:8]} page {ch['ops']}, {ch['items']} docs" if ch else ""
    flags = ",".join(f for f in op["flags"] if f != "security_off")
    peer = f"{e['src_ip']}:{e['src_port']} -> :{e['dest_port']}"
    print(f"{e['timestamp'][11:26]:<15} {peer:<30} {op['app']:<13} {op['name'][:22]:<22} "
          f"{op['class']:<9} {op['target'][:12]:<12} {op['status_code']:>3} "
          f"{op.get('items', ''):>6} {op.get('total', ''):>6}  {chain} {flags}")
open_ops = sum(1 for e in ops if e["op"]["authenticated"] == "no" and e["op"]["status"] == "ok")
sec_off = sum(1 for e in ops if "security_off" in e["op"]["flags"])
print(f"\n{open_ops} operations answered without credentials; {sec_off} from servers that say "
      f"their security features are off")
c = stats["capture"]; r = stats["reassembly"]
print(f"stats: {c['packets']} packets, {c['bytes']} bytes, {stats['flows']['created']} flows, "
      f"{r['gaps']} reassembly gaps, ops by app {stats['ops']}")
print(f"full events: {sys.argv[1]} (one JSON object per line)")
PY

# --- Detection: the seed story, with the shipped rules ---
STORY=pcaps/scenarios/seed_story.pcap
SCONF=tests/scenarios/scrapewatch.conf
echo
echo "== the seed story ($STORY: an exposed Elasticsearch, indexed by a crawler, then dumped)"
echo "== ./scrapewatch -c $SCONF -r $STORY --json=tests/out/demo_alerts.jsonl"
./scrapewatch -c "$SCONF" -r "$STORY" --json=tests/out/demo_alerts.jsonl
python3 - tests/out/demo_alerts.jsonl <<'PY'
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1]) if '"event_type":"alert"' in l]
print(f"\n{len(alerts)} alerts:\n")
for e in alerts:
    a = e["alert"]; ev = a["evidence"]; actor = a["actor"]
    who = actor["ip"] + (f" ({actor['organisation']})" if actor.get("organisation") else "") \
        + (f" [{actor['tool']}]" if actor.get("tool") else "")
    print(f"{e['timestamp'][11:23]} {a['rule_info']['severity']:<8} {a['rule_info']['id']:>5} {a['rule_info']['name'][:62]:<62}")
    print(f"{'':21}actor {who} -> {a['server']['ip']}:{a['server']['port']} {a['server']['app']}; "
          f"{ev['ops']} ops, {ev['documents']} documents"
          + (f", stage {ev['stage']}" if ev.get("stage") else "")
          + (f"; MITRE {','.join(a['rule_info']['mitre'])}" if a['rule_info'].get('mitre') else ""))
PY

# --- The picture: one HTML page per incident of the seed story ---
report() {
    echo
    echo "== sensor/report/scrapewatch-report -o tests/out/report tests/out/demo_alerts.jsonl"
    rm -rf tests/out/report
    page=$(sensor/report/scrapewatch-report -o tests/out/report tests/out/demo_alerts.jsonl)
    echo "incident report (open it in a browser): $(pwd)/$page"
}

# --- Redis: the same captures into a redis-server of our own, read back ---
if ! command -v redis-server > /dev/null; then
    echo "(redis-server not installed: the Redis part of the demo is skipped)"
    report
    exit 0
fi
RTMP=$(mktemp -d)
RPID=""
redis_cleanup() {
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
    rm -rf "$RTMP"
}
trap redis_cleanup EXIT INT TERM
RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no --dir "$RTMP" \
    --logfile "$RTMP/redis.log" > /dev/null 2>&1 &
RPID=$!
i=0
until redis-cli -p "$RPORT" ping > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "redis-server did not start"; exit 1; }
    sleep 0.05
done
# the shipped configuration with the output group changed; its spool (on
# by default, for when Redis is away) in this demo's own directory
export STATE_DIRECTORY="$RTMP/state"
# (a copy elsewhere: its relative paths, which count from its own
# directory, made absolute)
D=$(cd "$(dirname "$SCONF")" && pwd)
sed -e "s#\"\\.\\./\\.\\./rules/#\"$D/../../rules/#" -e "s#lists = \"lists\"#lists = \"$D/lists\"#" \
    "$SCONF" > "$RTMP/demo.conf"
echo "output = { redis = { enabled = true; port = $RPORT; }; };" >> "$RTMP/demo.conf"
R="redis-cli -p $RPORT"
echo
echo "== redis-server started on 127.0.0.1:$RPORT; an analyst's consumer group first:"
echo "\$ XGROUP CREATE {scrapewatch}:events soc \$ MKSTREAM"
$R XGROUP CREATE {scrapewatch}:events soc '$' MKSTREAM
timeout 20 redis-cli -p "$RPORT" --raw SUBSCRIBE scrapewatch:alerts > "$RTMP/published" 2>/dev/null &
SUBPID=$!
sleep 0.3
echo "== ./scrapewatch -c <$SCONF with output.redis.enabled, port $RPORT> -r $PCAPS $STORY"
# shellcheck disable=SC2086
./scrapewatch -c "$RTMP/demo.conf" -r $PCAPS "$STORY"
sleep 0.5
kill "$SUBPID" 2>/dev/null || true
echo "\$ SUBSCRIBE scrapewatch:alerts   (alerts PUBLISHed while the sensor ran)"
grep -c '"event_type":"alert"' "$RTMP/published" | sed 's/^/  alerts received: /'
grep '"event_type":"alert"' "$RTMP/published" | head -1 | cut -c1-160 | sed 's/^/  /; s/$/.../'
echo "\$ XLEN {scrapewatch}:events"
$R XLEN {scrapewatch}:events
echo "\$ XREADGROUP GROUP soc analyst1 COUNT 3 STREAMS {scrapewatch}:events >   (json field cut here)"
$R --raw XREADGROUP GROUP soc analyst1 COUNT 3 STREAMS {scrapewatch}:events '>' \
    | awk 'prev == "json" { print "  json " substr($0, 1, 90) "..."; prev = ""; next }
           { prev = $0 } $0 != "json" { print "  " $0 }'
echo "\$ XACK {scrapewatch}:events soc <those ids>"
IDS=$($R --raw XRANGE {scrapewatch}:events - + COUNT 3 | grep -E '^[0-9]+-[0-9]+$' | tr '\n' ' ')
# shellcheck disable=SC2086
$R XACK {scrapewatch}:events soc $IDS
echo "\$ KEYS {scrapewatch}:counts:*   then HGETALL of the first (per-minute counters, event time)"
KEY=$($R --raw KEYS '{scrapewatch}:counts:*' | sort | head -1)
echo "  $KEY"
$R --raw HGETALL "$KEY" | paste - - | sed 's/^/  /'
echo "\$ HMGET {scrapewatch}:health:scrapewatch last_update capture.packets flows.created last_event_id"
$R --raw HMGET {scrapewatch}:health:scrapewatch last_update capture.packets flows.created last_event_id \
    | sed 's/^/  /'

report
