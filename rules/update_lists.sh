#!/bin/sh
# update_lists.sh - refresh rules/lists/scanners_public.cidr from public lists.
#
#   rules/update_lists.sh [--pidfile FILE] [--output FILE]
#
# Fetches, with curl, the scanner lists that third parties maintain (OpenFilters
# internet-scanners, MISP warninglists) and BinaryEdge's own list of its
# scanning hosts, converts them to the NAME.cidr format ("CIDR LABEL"),
# validates every line (rules/update_lists.py) and replaces the output file in
# one rename. The hand-written rules/lists/scanners.cidr is never touched.
# A source that cannot be fetched keeps its block from the previous run.
#
# Exit status:
#   0   the file was rewritten (some sources may have failed: one line each on stderr)
#   75  no source could be reached (offline, proxy, DNS): the file is left
#       unchanged and one line says so. 75 is EX_TEMPFAIL from sysexits.h: the
#       lists in use are still valid and the next run may succeed, but a job
#       that expected fresh lists (cron, CI) sees that it did not get them.
#   1   what was fetched did not validate, or the file could not be written
#       (file unchanged); 2 usage.
#
# With --pidfile, a running sensor is told to reload its rules and lists (SIGHUP).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/lists/scanners_public.cidr"
pidfile=""
while [ $# -gt 0 ]; do
    case "$1" in
        --pidfile) [ $# -ge 2 ] || { echo "usage: $0 [--pidfile FILE] [--output FILE]" >&2; exit 2; }
                   pidfile=$2; shift 2 ;;
        --output)  [ $# -ge 2 ] || { echo "usage: $0 [--pidfile FILE] [--output FILE]" >&2; exit 2; }
                   out=$2; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--pidfile FILE] [--output FILE]" >&2; exit 2 ;;
    esac
done
command -v curl >/dev/null 2>&1 || { echo "update_lists.sh: curl not found; $out left unchanged" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "update_lists.sh: python3 not found; $out left unchanged" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/swlists.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

OF=https://raw.githubusercontent.com/OpenFilters/internet-scanners/HEAD/cidr
MISP=https://raw.githubusercontent.com/MISP/misp-warninglists/HEAD/lists

# id  format  label  url     (format: binaryedge | misp | lines)
cat > "$tmp/sources" <<SRC
binaryedge-minions	binaryedge	BinaryEdge	https://api.binaryedge.io/v1/minions
misp-censys	misp	Censys	$MISP/censys-scanning/list.json
misp-binaryedge	misp	BinaryEdge	$MISP/binaryedge-scanning/list.json
misp-shodan	misp	Shodan	$MISP/shodan-nt-scanning/list.json
misp-shadowserver	misp	Shadowserver	$MISP/shadowserver-nt-scanning/list.json
misp-leakix	misp	LeakIX	$MISP/leakix-scanning/list.json
misp-criminalip	misp	Criminal IP	$MISP/criminalip-scanning/list.json
misp-fofa	misp	FOFA	$MISP/fofa-scanning/list.json
misp-netlas	misp	Netlas	$MISP/netlas-scanning/list.json
misp-xpanse	misp	Palo Alto Networks Cortex Xpanse	$MISP/palo-alto-networks-cortex-xpanse/list.json
misp-rapid7	misp	Rapid7 Project Sonar	$MISP/rapid7-scanning/list.json
misp-imr	misp	Internet Measurement Research	$MISP/internetmeasurementresearch-scanning/list.json
of-binaryedge	lines	BinaryEdge	$OF/binaryedge_v4.txt $OF/binaryedge_v6.txt
of-censys	lines	Censys	$OF/censys_v4.txt $OF/censys_v6.txt
of-shodan	lines	Shodan	$OF/shodan_v4.txt $OF/shodan_v6.txt
of-shadowserver	lines	Shadowserver	$OF/shadowserver_v4.txt $OF/shadowserver_v6.txt
of-leakix	lines	LeakIX	$OF/leakix_v4.txt $OF/leakix_v6.txt
of-onyphe	lines	ONYPHE	$OF/onyphe_v4.txt $OF/onyphe_v6.txt
of-stretchoid	lines	Stretchoid	$OF/strechoid_v4.txt
of-criminalip	lines	Criminal IP	$OF/criminalip_v4.txt
of-zoomeye	lines	ZoomEye	$OF/zoomeye_v4.txt
of-fofa	lines	FOFA	$OF/fofa_v4.txt
of-netlas	lines	Netlas	$OF/netlas_v4.txt
of-modat	lines	Modat	$OF/modat_v4.txt
of-driftnet	lines	Driftnet / Internet-Measurement	$OF/driftnet_v4.txt $OF/driftnet_v6.txt
of-xpanse	lines	Palo Alto Networks Cortex Xpanse	$OF/paloaltonetworks_v4.txt $OF/paloaltonetworks_v6.txt
of-rapid7	lines	Rapid7 Project Sonar	$OF/rapid7_v4.txt $OF/rapid7_v6.txt
SRC

ok=0
failed=""
while IFS='	' read -r id fmt label urls; do
    n=0
    good=1
    for url in $urls; do
        n=$((n + 1))
        if ! curl -fsSL --max-time 30 --retry 1 --proto '=https' -A 'scrapewatch-update-lists/1' \
                -o "$tmp/$id.$n" "$url" 2>"$tmp/$id.$n.err"; then
            # a missing _v6 file is normal (the organisation has no IPv6 list)
            case "$url" in *_v6.txt) rm -f "$tmp/$id.$n" ;; *) good=0 ;; esac
        fi
    done
    if [ $good -eq 1 ]; then
        ok=$((ok + 1))
    else
        failed="$failed $id"
        rm -f "$tmp/$id".*
    fi
done < "$tmp/sources"

if [ $ok -eq 0 ]; then
    echo "update_lists.sh: no source reachable (offline?); $out left unchanged" >&2
    exit 75
fi
[ -z "$failed" ] || echo "update_lists.sh: could not fetch:$failed (their previous blocks are kept)" >&2

new="$out.new.$$"
if ! python3 "$here/update_lists.py" --sources "$tmp/sources" --dir "$tmp" \
        --previous "$out" --output "$new"; then
    rm -f "$new"
    echo "update_lists.sh: validation failed; $out left unchanged" >&2
    exit 1
fi
mv -f "$new" "$out"
echo "update_lists.sh: wrote $out ($(grep -Evc '^(#|$)' "$out") networks)"

if [ -n "$pidfile" ]; then
    pid=$(cat "$pidfile" 2>/dev/null || true)
    case "$pid" in
        ''|*[!0-9]*) echo "update_lists.sh: no pid in $pidfile; send SIGHUP yourself" >&2 ;;
        *) kill -HUP "$pid" && echo "update_lists.sh: sent SIGHUP to $pid" ;;
    esac
else
    echo "update_lists.sh: reload a running sensor with: kill -HUP <pid>"
fi
