# lib_netns.sh - shell helpers shared by the record_*.sh scripts: a private
# network namespace whose loopback behaves like a wire, processes started and
# stopped by pid, and one tcpdump capture at a time with its checks.
#
#   SW_TAG=record_x; source "$HERE/lib_netns.sh"
#   ns_setup                 namespace sw-rec-<tag>-<pid> and a temp dir WORK;
#                            the EXIT trap (ns_cleanup) removes both and stops
#                            every process started with start_bg
#   start_bg VAR CMD...      CMD in the namespace, in the background; its pid
#                            goes into VAR (and into the cleanup list)
#   stop_pid PID SIGNAL      one process we started, by its pid
#   capture_start RAW FILTER [SNAPLEN]    tcpdump on the namespace's lo
#   capture_stop             stop tcpdump, fail on kernel drops
#   fix_checksums IN OUT [TCPREWRITE-ARGS...]   tcprewrite --fixcsum (loopback
#                            leaves checksums unfilled), optionally --pnat=...
#   check_not_cut PCAP       fail if any packet was cut by the snaplen
#
# The recipe (first written in record_http.sh): loopback MTU 1500 and GSO
# capped to one segment, so tcpdump sees wire-sized segments and not 64 KB
# "super-segments"; tcpdump --immediate-mode -B 32768 so a burst is neither
# delivered late nor lost to a full ring; the kernel drop count checked after
# every capture. PIN=(taskset -c 0) when taskset exists: a server thread
# migrating between CPUs mid-burst made loopback deliver some segments swapped.
#
# Needs root, iproute2 (ip, ss), tcpdump and tcprewrite (tcpreplay).

SW_TAG=${SW_TAG:-record}
NS=
WORK=
DUMP_PID=
DUMP_LOG=
SW_PIDS=()
PIN=()
command -v taskset >/dev/null && PIN=(taskset -c 0)

die() { echo "$SW_TAG: $*" >&2; exit 1; }

need_tools() {               # need_tools HINT TOOL...: fail naming the apt-get line
    local hint=$1 tool; shift
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "missing $tool ($hint)"
    done
}

stop_pid() {                 # stop_pid PID SIGNAL: one process we started
    local pid=$1 signal=$2 p keep=()
    [ -n "$pid" ] || return 0
    kill -"$signal" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    # forget it, so that cleanup never signals a pid the system has reused
    for p in "${SW_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
    SW_PIDS=("${keep[@]}")
}

ns_cleanup() {
    local pid
    stop_pid "$DUMP_PID" TERM
    for pid in "${SW_PIDS[@]}"; do stop_pid "$pid" TERM; done
    [ -z "$NS" ] || ip netns del "$NS" 2>/dev/null || true
    [ -z "$WORK" ] || rm -rf "$WORK"
}

in_ns() { "${PIN[@]}" ip netns exec "$NS" "$@"; }

ns_setup() {
    [ "$(id -u)" = 0 ] || die "must run as root (ip netns)"
    need_tools "apt-get install -y iproute2 tcpdump tcpreplay" ip ss tcpdump tcprewrite
    NS=sw-rec-$SW_TAG-$$
    WORK=$(mktemp -d "/tmp/sw-rec-$SW_TAG.XXXXXX")
    trap ns_cleanup EXIT
    trap 'exit 130' INT TERM
    ip netns add "$NS"
    ip netns exec "$NS" ip link set lo mtu 1500 up
    ip netns exec "$NS" ip link set lo gso_max_size 1500 gso_max_segs 1 \
        || die "cannot cap GSO on lo (iproute2/kernel too old?)"
}

# start_bg VAR CMD...: started with ip netns exec directly (not through a
# shell function's subshell) so that $! is the process's own pid.
start_bg() {
    local var=$1; shift
    "${PIN[@]}" ip netns exec "$NS" "$@" &
    printf -v "$var" '%s' "$!"
    SW_PIDS+=("$!")
}

wait_for() {                 # wait_for DESCRIPTION COMMAND...: poll up to 10 s
    local what=$1; shift
    for _ in $(seq 100); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    die "timed out waiting for $what"
}

port_listening() { ip netns exec "$NS" ss -ltn "sport = :$1" | grep -q LISTEN; }
udp_bound() { ip netns exec "$NS" ss -lun "sport = :$1" | grep -q "$1"; }

capture_start() {            # capture_start RAW FILTER [SNAPLEN]
    local raw=$1 filter=$2 snaplen=${3:-65535}
    DUMP_LOG=$raw.tcpdump.log
    "${PIN[@]}" ip netns exec "$NS" tcpdump --immediate-mode -B 32768 -i lo -s "$snaplen" -U -Z root \
        -w "$raw" "$filter" 2>"$DUMP_LOG" &
    DUMP_PID=$!
    wait_for "tcpdump" grep -q "listening on" "$DUMP_LOG"
}

capture_stop() {
    sleep 1                  # let the last FIN/ACKs reach tcpdump
    stop_pid "$DUMP_PID" TERM; DUMP_PID=     # tcpdump flushes and closes on TERM
    grep -q "^0 packets dropped by kernel" "$DUMP_LOG" \
        || die "tcpdump dropped packets: $(cat "$DUMP_LOG")"
}

fix_checksums() {            # fix_checksums IN OUT [TCPREWRITE-ARGS...]
    local in=$1 out=$2; shift 2
    tcprewrite "$@" --fixcsum --infile="$in" --outfile="$out" 2>&1 \
        | { grep -v -e 'was captured using a snaplen' -e '^Warning in tcprewrite' || true; } >&2
    [ -s "$out" ] || die "tcprewrite wrote nothing to $out"
}

check_not_cut() {            # check_not_cut PCAP: no packet shorter than on the wire
    local cut
    cut=$(tshark -r "$1" -Y 'frame.cap_len < frame.len' 2>/dev/null | wc -l)
    [ "$cut" = 0 ] || die "$1: $cut packets cut by the snaplen"
}

# ---------------------------------------------------------------- step log
# note_step STEP TOOL REPORTED CMD...: one JSON line in $WORK/steps.jsonl with
# what was run and what the tool reported (REPORTED: a JSON value, or text).
# With STEP_ACTOR set (scenarios), the line names the actor's final address.
note_step() {
    /usr/bin/python3 -c '
import json, sys
a = sys.argv
try:
    rep = json.loads(a[4])
except ValueError:
    rep = a[4]
step = {"step": a[2], "tool": a[3], "command": a[5:], "reported": rep}
if a[1]:
    step = dict(actor=a[1], **step)
print(json.dumps(step))' "${STEP_ACTOR:-}" "$@" >>"$WORK/steps.jsonl"
}
