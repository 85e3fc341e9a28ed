#!/usr/bin/env python3
"""schema_check.py - every event the sensor makes for the golden cases and
the detection scenarios is valid against docs/schema.json (JSON Schema
2020-12, Debian's python3-jsonschema, formats checked), and every alert also
carries the alert fields Suricata's published EVE schema (OISF/suricata,
etc/schema.json) defines, with its types: what EVE consumers (EveBox,
Elastic's Suricata integration, the Splunk add-on, Wazuh) read. Then both
checks are shown to reject broken events, so this part can fail.

usage: tests/schema_check.py BIN        (from the repository root)
Prints "ok schema/<part>" or "FAIL schema/<part>: why" lines."""
import copy
import glob
import json
import os
import re
import shlex
import subprocess
import sys

try:
    import jsonschema
except ImportError:
    print("skip schema/all: python3-jsonschema is not installed (tests/deps.sh)")
    sys.exit(0)

BIN = sys.argv[1]
SCHEMA = json.load(open("docs/schema.json"))
jsonschema.Draft202012Validator.check_schema(SCHEMA)
VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

# What Suricata's etc/schema.json says of the fields an EVE consumer reads
# (written from reading it, not copied): name -> Python type. Top level:
SURICATA_TOP = {"timestamp": str, "event_type": str, "flow_id": int, "src_ip": str,
                "src_port": int, "dest_ip": str, "dest_port": int, "proto": str,
                "app_proto": str, "community_id": str, "host": str, "in_iface": str,
                "pcap_cnt": int, "pcap_filename": str}
SURICATA_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+[+\-]\d+$")
# alert: every one of these must be there for a consumer to show the alert
SURICATA_ALERT = {"action": str, "gid": int, "signature_id": int, "rev": int,
                  "signature": str, "category": str, "severity": int}
# flow: the fields of a flow event it types
SURICATA_FLOW = {"pkts_toserver": int, "pkts_toclient": int, "bytes_toserver": int,
                 "bytes_toclient": int, "start": str, "end": str, "age": int,
                 "state": str, "reason": str, "alerted": bool}
# The other alert fields it declares: when we write one, it has its type.
SURICATA_ALERT_OPTIONAL = {"rule": str, "xff": str, "references": list, "source": dict,
                           "target": dict, "context": dict, "engine": str}
# Where our alert object keeps a field Suricata types differently: none. (Our
# rule object is alert.rule_info, because Suricata's alert.rule is the rule's
# text, a string; README "EVE compatibility".)
SURICATA_ALERT_OURS = set()


def is_type(v, t):
    return isinstance(v, t) and not (t is int and isinstance(v, bool))


def suricata_problems(e):
    """What an EVE consumer would trip over in event e ([] if nothing)."""
    why = []
    for k, t in SURICATA_TOP.items():
        if k in e and not is_type(e[k], t):
            why.append(f"{k} is not {t.__name__}")
    if not SURICATA_TIMESTAMP.match(str(e.get("timestamp", ""))):
        why.append("timestamp does not match Suricata's pattern")
    if "flow_id" in e and is_type(e["flow_id"], int) and not 0 <= e["flow_id"] < 1 << 51:
        why.append("flow_id is not 51 bits")
    if e.get("event_type") == "alert":
        a = e.get("alert", {})
        for k, t in SURICATA_ALERT.items():
            if not is_type(a.get(k), t):
                why.append(f"alert.{k} missing or not {t.__name__}")
        for k, t in SURICATA_ALERT_OPTIONAL.items():
            if k in a and k not in SURICATA_ALERT_OURS and not is_type(a[k], t):
                why.append(f"alert.{k} is not {t.__name__}")
        if a.get("severity") not in (1, 2, 3):
            why.append("alert.severity not 1..3")
        md = a.get("metadata")
        if not isinstance(md, dict):
            why.append("alert.metadata not an object")
        else:
            for k, v in md.items():   # every metadata value: a non-empty list of strings
                if not (isinstance(v, list) and v and all(isinstance(x, str) for x in v)):
                    why.append(f"alert.metadata.{k} not a non-empty list of strings")
    if e.get("event_type") == "flow":
        f = e.get("flow", {})
        for k, t in SURICATA_FLOW.items():
            if not is_type(f.get(k), t):
                why.append(f"flow.{k} missing or not {t.__name__}")
        if f.get("reason") not in ("timeout", "forced", "shutdown"):
            why.append("flow.reason is not one of Suricata's")
    return why


def schema_problems(e):
    return [f"{'/'.join(map(str, err.absolute_path)) or '(top)'}: {err.message}"
            for err in VALIDATOR.iter_errors(e)]


def runs():
    """(name, argv) of every sensor run: the golden cases, then the scenarios."""
    for d in sorted(glob.glob("tests/golden/*/")):
        cmd = os.path.join(d, "cmd")
        if os.path.exists(cmd):
            yield "golden/" + os.path.basename(d.rstrip("/")), \
                [BIN, "--json"] + shlex.split(open(cmd).read())
    for p in sorted(glob.glob("pcaps/scenarios/*.pcap")):
        yield "scenarios/" + os.path.basename(p)[:-5], \
            [BIN, "-c", "tests/scenarios/scrapewatch.conf", "--json", "-r", p]


def check_all():
    counts, failures, first_alert = {}, [], None
    for name, argv in runs():
        out = subprocess.run(argv, capture_output=True, text=True).stdout
        for n, line in enumerate(out.splitlines(), 1):
            try:
                e = json.loads(line)
            except ValueError as x:
                failures.append(f"{name}:{n}: not JSON: {x}")
                continue
            counts[e.get("event_type")] = counts.get(e.get("event_type"), 0) + 1
            why = schema_problems(e) + suricata_problems(e)
            if why:
                failures.append(f"{name}:{n}: {'; '.join(why[:3])}")
            if e.get("event_type") == "alert" and first_alert is None:
                first_alert = e
    return counts, failures, first_alert


def broken_variants(alert):
    """Alerts each check must reject: (what, event, check)."""
    out = []
    def variant(what, change, check):
        e = copy.deepcopy(alert)
        change(e)
        out.append((what, e, check))
    variant("severity 4", lambda e: e["alert"].update(severity=4), "both")
    variant("no signature_id", lambda e: e["alert"].pop("signature_id"), "both")
    variant("signature_id a string", lambda e: e["alert"].update(signature_id="1001"), "both")
    variant("63-bit flow_id", lambda e: e.update(flow_id=(1 << 63) - 1), "both")
    variant("metadata value not a list", lambda e: e["alert"]["metadata"].update(x="y"), "both")
    variant("alert.xff a number", lambda e: e["alert"].update(xff=1), "both")
    variant("undeclared field", lambda e: e.update(payload="secret"), "schema")
    variant("bad address", lambda e: e.update(src_ip="300.1.2.3"), "schema")
    variant("timestamp without fraction", lambda e: e.update(timestamp="2020-01-01T00:00:00+0000"),
            "both")
    return out


def main():
    counts, failures, alert = check_all()
    total = sum(counts.values())
    if failures:
        print(f"FAIL schema/events: {len(failures)} of {total} events invalid")
        for f in failures[:20]:
            print("    " + f, file=sys.stderr)
    elif not all(counts.get(t, 0) > 0 for t in ("op", "flow", "alert", "stats")):
        print(f"FAIL schema/events: not every event type was seen: {counts}")
    else:
        print(f"ok schema/events ({total} events: " +
              ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")")
    if alert is None:
        print("FAIL schema/rejects: no alert to break")
        return
    missed = []
    for what, e, check in broken_variants(alert):
        if not schema_problems(e):
            missed.append(f"schema accepted {what}")
        if check == "both" and not suricata_problems(e):
            missed.append(f"Suricata check accepted {what}")
    if missed:
        print(f"FAIL schema/rejects: {'; '.join(missed)}")
    else:
        print("ok schema/rejects")


main()
