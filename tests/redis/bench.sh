#!/bin/sh
# redis/bench.sh - events/s into a local redis-server (pipelined batches),
# beside `redis-benchmark -t set -P <batch>` against the same server, as a
# ratio (never a timed assertion). Also the sensor's rate with JSON lines
# only, so the sink's own cost is visible.
#   tests/redis/bench.sh [MEGABYTES]
set -eu
MB=${1:-100}
BIN=./scrapewatch
BATCH=256
OUT=tests/out/bench
mkdir -p "$OUT"
TMP=$(mktemp -d)
PID=""
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
command -v redis-server > /dev/null || { echo "redis bench: redis-server not installed"; exit 0; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no --dir "$TMP" \
    --logfile "$TMP/redis.log" > /dev/null 2>&1 &
PID=$!
i=0
until redis-cli -p "$PORT" ping > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "redis bench: redis-server did not start"; exit 1; }
    sleep 0.05
done
BIG=$OUT/redis_big.pcap
# the spool (on by default) in this run's own directory
export STATE_DIRECTORY="$TMP/state"
python3 tests/bench/make_big.py pcaps/http_keepalive.pcap "$BIG" "$MB" > /dev/null
cat > "$TMP/bench.conf" <<CONF
events = { stats_interval = 0; };
output = { redis = { enabled = true; port = $PORT; batch_max = $BATCH; queue_mb = 1024;
                     maxlen = 0; shutdown_timeout_ms = 600000; }; };
CONF
python3 - "$BIN" "$BIG" "$TMP/bench.conf" "$PORT" "$BATCH" <<'PY'
import re, subprocess, sys, time
bin_, big, conf, port, batch = sys.argv[1:6]
def cli(*a):
    return subprocess.run(["redis-cli", "-p", port, *a], capture_output=True, text=True,
                          check=True).stdout.strip()
def best(argv, before=None):
    times, err = [], ""
    for _ in range(3):
        if before:
            before()
        t = time.monotonic()
        p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           check=True)
        times.append(time.monotonic() - t)
        err = p.stderr
    return min(times), err
t_json, _ = best([bin_, "-w", "1", "-r", big, "--json=/dev/null"])
t_redis, err = best([bin_, "-w", "1", "-c", conf, "-r", big], before=lambda: cli("FLUSHALL"))
m = re.search(r"redis: final: (.*)", err)
s = dict(kv.split("=") for kv in m.group(1).split())
events = int(s["sent"])
assert int(cli("XLEN", "{scrapewatch}:events")) == events, "XLEN differs from sent"
bench = subprocess.run(["redis-benchmark", "-p", port, "-t", "set", "-P", batch, "-n",
                        str(max(events, 100000)), "-q"], capture_output=True, text=True,
                       check=True).stdout
sets = float(re.search(r"SET: ([\d.]+) requests per second", bench.replace("\r", "\n")).group(1))
# the same with values as large as our events' JSON
js = subprocess.run([bin_, "-w", "1", "-r", big, "--json"], capture_output=True, check=True).stdout
size = len(js) // max(1, js.count(b"\n"))
bench = subprocess.run(["redis-benchmark", "-p", port, "-t", "set", "-P", batch, "-d", str(size),
                        "-n", str(max(events, 100000)), "-q"], capture_output=True, text=True,
                       check=True).stdout
sets_d = float(re.search(r"SET: ([\d.]+) requests per second", bench.replace("\r", "\n")).group(1))
ev_redis, ev_json = events / t_redis, events / t_json
print(f"redis: {events} events ({big}), batches of {batch}, one MULTI/EXEC each")
print(f"{'run':<46}{'per s':>12}{'vs SET -P ' + batch:>16}")
print(f"{'sensor, JSON lines to /dev/null only':<46}{ev_json:>12.0f}{ev_json / sets:>16.2f}")
print(f"{'sensor, events into Redis (XADD+counters)':<46}{ev_redis:>12.0f}{ev_redis / sets:>16.2f}")
print(f"{'redis-benchmark -t set -P ' + batch:<46}{sets:>12.0f}{1:>16.2f}")
print(f"{'redis-benchmark -t set -P ' + batch + ' -d ' + str(size):<46}{sets_d:>12.0f}{sets_d / sets:>16.2f}")
print(f"events/s into Redis vs SET/s: {ev_redis / sets:.2f} "
      f"(vs SET/s of {size}-byte values: {ev_redis / sets_d:.2f})")
PY
