#!/bin/bash
# tshark_check.sh PCAP EVENTS.jsonl
#
# Cross-check the sensor against tshark on one capture: the number of HTTP
# requests, the request methods and the response status codes that tshark
# decodes must equal those in the sensor's op events (JSON lines with
# "event_type":"op"). Methods and statuses are compared as sorted lists: the
# sensor emits ops in its own (packet-time) order, tshark in frame order.
#
# Prints one line and exits:
#   ok tshark/<name>                 0
#   FAIL tshark/<name>: <reason>     1
#   skip tshark/<name>: tshark not installed   0
#
# Known crafted cases where tshark and a correct sensor disagree (expect a FAIL):
#   tcp_gap       tshark stalls at the gap: no status at all; the sensor reports
#                 the partial first response and the complete /tcp_gap/2.
#   tcp_midstream tshark counts the orphan response (request never captured);
#                 the sensor must not invent an op for it.
#   snaplen_cut   tshark decodes nothing from the cut segments; the sensor may
#                 report a partial GET /snaplen_cut without status.
set -u

# Where the op event keeps the fields (dotted paths into each JSON line).
METHOD_KEY=${METHOD_KEY:-op.http.method}
STATUS_KEY=${STATUS_KEY:-op.http.status_code}
SERVER_PORT=${SERVER_PORT:-9200}      # decoded as HTTP by tshark, as the sensor does

if [ $# -ne 2 ]; then
    echo "usage: $0 PCAP EVENTS.jsonl" >&2
    exit 2
fi
pcap=$1
events=$2
name=${pcap##*/}; name=${name%.*}

fail() { echo "FAIL tshark/$name: $*"; exit 1; }

if ! command -v tshark >/dev/null 2>&1; then
    echo "skip tshark/$name: tshark not installed"
    exit 0
fi
[ -r "$pcap" ] || fail "cannot read $pcap"
[ -r "$events" ] || fail "cannot read $events"

tshark_fields() {            # tshark_fields FILTER FIELD: one value per line, sorted
    tshark -n -r "$pcap" -d "tcp.port==$SERVER_PORT,http" \
        -o tcp.reassemble_out_of_order:TRUE -Y "$1" -T fields -E occurrence=a -E separator=, \
        -e "$2" 2>/dev/null | tr ',' '\n' | sed '/^$/d' | sort
}

want_methods=$(tshark_fields http.request http.request.method)
want_statuses=$(tshark_fields http.response http.response.code)

# The sensor's view: methods of every op, statuses of ops that have one.
sensor=$( (python3 - "$events" "$METHOD_KEY" "$STATUS_KEY" <<'EOF'
import json, sys

path, method_key, status_key = sys.argv[1:4]

def lookup(obj, dotted):
    for key in dotted.split("."):
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj

methods, statuses = [], []
with open(path, encoding="utf-8", errors="replace") as f:
    for number, line in enumerate(f, 1):
        line = line.strip()
        if not line:
            continue
        try:
            event = json.loads(line)
        except ValueError as e:
            sys.exit("line %d is not JSON: %s" % (number, e))
        if event.get("event_type") != "op":
            continue
        method = lookup(event, method_key)
        status = lookup(event, status_key)
        if method:
            methods.append(str(method))
        if status not in (None, 0, "", "0"):
            statuses.append(str(status))
for method in sorted(methods):
    print("M " + method)
for status in sorted(statuses):
    print("S " + status)
EOF
) 2>&1) || fail "cannot read sensor events: $sensor"

got_methods=$(echo "$sensor" | sed -n 's/^M //p')
got_statuses=$(echo "$sensor" | sed -n 's/^S //p')

count() { [ -z "$1" ] && echo 0 || echo "$1" | wc -l; }
oneline() { echo "$1" | xargs; }

want_n=$(count "$want_methods")
got_n=$(count "$got_methods")
[ "$want_n" = "$got_n" ] || fail "tshark sees $want_n requests, sensor reports $got_n ops with a method"
[ "$want_methods" = "$got_methods" ] \
    || fail "methods differ: tshark [$(oneline "$want_methods")], sensor [$(oneline "$got_methods")]"
[ "$want_statuses" = "$got_statuses" ] \
    || fail "status codes differ: tshark [$(oneline "$want_statuses")], sensor [$(oneline "$got_statuses")]"
echo "ok tshark/$name"
