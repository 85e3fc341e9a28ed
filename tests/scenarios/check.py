#!/usr/bin/env python3
"""check.py EXPECT EVENTS.jsonl - the alerts in EVENTS against EXPECT.

EXPECT (tests/scenarios/<name>.expect): one line per expected alert, in the
order the sensor must emit them; '#' starts a comment; a file with no alert
line means "no alert at all". A line is

    RULE-ID SEVERITY [FIELD=VALUE ...]

RULE-ID and SEVERITY are alert.rule.id and alert.rule.severity. FIELD is one of

    update     alert.update                  src     alert.actor.ip (src_ip if absent)
    documents  alert.evidence.documents      dest    alert.server.ip (dest_ip if absent)
    ops        alert.evidence.ops            org     alert.actor.organisation
    servers    alert.evidence.servers        tool    alert.actor.tool
    distinct   alert.evidence.distinct       stage   alert.evidence.stage
    key        alert.key
    pages      alert.evidence.chain.pages    chain_documents  alert.evidence.chain.documents
    total      alert.evidence.chain.total    fraction   alert.evidence.chain.fraction
    exhausted  alert.evidence.chain.exhausted (true/false)
    final      alert.final (true on a closing update, absent otherwise)

and VALUE is exact (`documents=6000`, `org="Nmap Scripting Engine"`: shell
quoting), a bound (`documents>=5000`, `ops<=3`), or `-` for "absent". Fields
not named are not checked. Every alert event must match its line, in order,
and there must be no other alert. Exit 0 if so; otherwise 1 with the
differences on stdout.
"""
import json
import re
import shlex
import sys

FIELDS = {
    "update": ("update",),
    "key": ("key",),
    "src": ("actor", "ip"),
    "dest": ("server", "ip"),
    "org": ("actor", "organisation"),
    "tool": ("actor", "tool"),
    "documents": ("evidence", "documents"),
    "ops": ("evidence", "ops"),
    "servers": ("evidence", "servers"),
    "distinct": ("evidence", "distinct"),
    "stage": ("evidence", "stage"),
    "pages": ("evidence", "chain", "pages"),
    "chain_documents": ("evidence", "chain", "documents"),
    "total": ("evidence", "chain", "total"),
    "fraction": ("evidence", "chain", "fraction"),
    "exhausted": ("evidence", "chain", "exhausted"),
    "final": ("final",),
}
ABSENT = object()


def parse_expect(path):
    out = []
    for n, line in enumerate(open(path), 1):
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if len(words) < 2 or not words[0].isdigit():
            sys.exit("%s:%d: expected 'RULE-ID SEVERITY [FIELD=VALUE ...]'" % (path, n))
        conds = []
        for w in words[2:]:
            m = re.match(r"^([a-z_]+)(>=|<=|=)(.*)$", w)
            if not m or m.group(1) not in FIELDS:
                sys.exit("%s:%d: bad condition %r (fields: %s)" % (path, n, w, " ".join(FIELDS)))
            conds.append(m.groups())
        out.append({"line": n, "text": line.strip(), "id": int(words[0]), "severity": words[1],
                    "conds": conds})
    return out


def get(event, field):
    a = event["alert"]
    v = a
    for k in FIELDS[field]:
        if not isinstance(v, dict) or k not in v:
            v = ABSENT
            break
        v = v[k]
    if v is ABSENT and field == "src":
        v = event.get("src_ip", ABSENT)
    if v is ABSENT and field == "dest":
        v = event.get("dest_ip", ABSENT)
    return v


def mismatches(exp, event):
    rule = event["alert"]["rule_info"]
    why = []
    if rule.get("id") != exp["id"]:
        why.append("rule %s, expected %d" % (rule.get("id"), exp["id"]))
    if rule.get("severity") != exp["severity"]:
        why.append("severity %s, expected %s" % (rule.get("severity"), exp["severity"]))
    for field, op, want in exp["conds"]:
        got = get(event, field)
        if want == "-":
            ok = got is ABSENT or got is None
        elif got is ABSENT:
            ok = False
        elif op == "=" and isinstance(got, bool):
            ok = want == ("true" if got else "false")
        elif op == "=" and isinstance(got, float):
            ok = "%.2f" % got == want
        elif op == "=":
            ok = str(got) == want
        else:
            try:
                ok = (got >= int(want)) if op == ">=" else (got <= int(want))
            except (TypeError, ValueError):
                ok = False
        if not ok:
            why.append("%s=%s, expected %s%s" % (field, "absent" if got is ABSENT else json.dumps(got),
                                                  op, want))
    return why


def summary(event):
    a = event["alert"]
    ev = a.get("evidence", {})
    return "%s %s update=%s src=%s dest=%s org=%s tool=%s ops=%s documents=%s servers=%s stage=%s  (%s)" % (
        a["rule_info"].get("id"), a["rule_info"].get("severity"), a.get("update"), get(event, "src"),
        get(event, "dest"), a.get("actor", {}).get("organisation", "-"),
        a.get("actor", {}).get("tool", "-"), ev.get("ops"), ev.get("documents"),
        ev.get("servers"), ev.get("stage", "-"), a["rule_info"].get("name"))


def main():
    expect_path, events_path = sys.argv[1:3]
    expected = parse_expect(expect_path)
    alerts = []
    for line in open(events_path):
        line = line.strip()
        if not line:
            continue
        e = json.loads(line)
        if e.get("event_type") == "alert":
            alerts.append(e)
    problems = []
    for i in range(max(len(expected), len(alerts))):
        if i >= len(alerts):
            problems.append("missing alert #%d (%s:%d): %s" % (i + 1, expect_path, expected[i]["line"],
                                                               expected[i]["text"]))
        elif i >= len(expected):
            problems.append("unexpected alert #%d: %s" % (i + 1, summary(alerts[i])))
        else:
            why = mismatches(expected[i], alerts[i])
            if why:
                problems.append("alert #%d (%s:%d): %s\n    got: %s" % (
                    i + 1, expect_path, expected[i]["line"], "; ".join(why), summary(alerts[i])))
    if problems:
        print("\n".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
