#!/usr/bin/env python3
"""oracle.py RULES LISTS-DIR EVENTS.jsonl [--home NET,..] [--trusted NET,..]

A second, independent reading of rules/FORMAT.md in python, used to DRAFT
tests/scenarios/*.expect (each draft is then checked by hand against the
scenario's facts before it is committed; the test itself never runs this).
It reads the op events the sensor printed (the decoder's view, not under test
here), applies the rule file as FORMAT.md describes it (match, sliding-window
aggregate, sequences, suppression with updates when ops or documents double)
and prints the alerts it predicts in the .expect format.
"""
import ipaddress
import json
import re
import shlex
import sys
from collections import deque
from datetime import datetime
from fnmatch import fnmatchcase


def libconfig_to_json(text):
    """Enough of libconfig for a rule file: groups, lists, arrays, scalars."""
    parts, i, n, buf = [], 0, len(text), []

    def flush():
        seg = "".join(buf)
        seg = re.sub(r"([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*", r'"\1": ', seg)
        seg = seg.replace(";", ",").replace("(", "[").replace(")", "]")
        parts.append(seg)
        buf.clear()
    while i < n:
        c = text[i]
        if c == '"':
            flush()
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            parts.append(text[i:j + 1])
            i = j + 1
        elif c == "#" or text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        else:
            buf.append(c)
            i += 1
    flush()
    s = "{" + "".join(parts).strip().rstrip(",") + "}"
    s = re.sub(r",(\s*[}\]])", r"\1", s)
    return json.loads(s)


def load_netlist(path):
    nets = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cidr, _, label = line.partition(" ")
        nets.append((ipaddress.ip_network(cidr, strict=False), label.strip()))
    return nets


def net_lookup(nets, ip):
    a = ipaddress.ip_address(ip)
    best = None
    for net, label in nets:
        if a.version == net.version and a in net and (best is None or net.prefixlen > best[0].prefixlen):
            best = (net, label)
    return best[1] if best else None


def load_patterns(path):
    pats = []
    for line in open(path):
        words = shlex.split(line, comments=True)
        if len(words) >= 2:
            pats.append((words[0], words[1], " ".join(words[2:]) or words[1]))
    return pats


def pat_match(pats, s):
    if not s:
        return None
    low = s.lower()
    for kind, p, label in pats:
        pl = p.lower()
        ok = {"substr": lambda: pl in low, "prefix": lambda: low.startswith(pl),
              "exact": lambda: low == pl, "regex": lambda: re.search(p, s, re.I) is not None,
              "glob": lambda: fnmatchcase(low, pl)}[kind]()
        if ok:
            return label
    return None


def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


class Oracle:
    def __init__(self, rules_path, lists_dir, home, trusted):
        self.rules = sorted(libconfig_to_json(open(rules_path).read())["rules"], key=lambda r: r["id"])
        self.lists_dir = lists_dir
        self.cache = {}
        self.home = [ipaddress.ip_network(x) for x in home]
        self.trusted = [ipaddress.ip_network(x) for x in trusted]
        self.state = {}       # (rule id, key) -> entry
        self.windows = {}     # (rule id, agg key) -> deque of (t, value, item)
        self.seq = {}         # (rule id, key) -> dict(next, first)
        self.serial = 0
        self.out = []

    def netlist(self, name):
        if ("net", name) not in self.cache:
            self.cache[("net", name)] = load_netlist("%s/%s.cidr" % (self.lists_dir, name))
        return self.cache[("net", name)]

    def patlist(self, name):
        if ("pat", name) not in self.cache:
            self.cache[("pat", name)] = load_patterns("%s/%s.patterns" % (self.lists_dir, name))
        return self.cache[("pat", name)]

    def src_org(self, names, ip):
        for n in ([names] if isinstance(names, str) else names):
            label = net_lookup(self.netlist(n), ip)
            if label:
                return label
        return None

    def match(self, m, e, inside, labels):
        op = e["op"]
        frm = m.get("from", "outside")
        if frm == "outside" and inside or frm == "inside" and not inside:
            return False
        checks = [
            ("app", lambda v: op["app"] in v),
            ("op", lambda v: op["name"] in v),
            ("op_regex", lambda v: re.search(v, op["name"]) is not None),
            ("class", lambda v: op["class"] in v),
            ("status", lambda v: op["status"] in v),
            ("authenticated", lambda v: op["authenticated"] == v),
            ("auth_result", lambda v: op.get("auth_result", "none") in v),
            ("flags_all", lambda v: all(f in op["flags"] for f in v)),
            ("flags_any", lambda v: any(f in op["flags"] for f in v)),
            ("page_size_min", lambda v: op.get("page_size", -1) >= v),
            ("items_min", lambda v: op.get("items", -1) >= v),
            ("target_regex", lambda v: re.search(v, op.get("target", ""), re.I) is not None),
            ("client_regex", lambda v: re.search(v, op.get("client", ""), re.I) is not None),
        ]
        for k, f in checks:
            if k in m and not f(m[k]):
                return False
        if "src_list" in m:
            org = self.src_org(m["src_list"], e["src_ip"])
            if not org:
                return False
            labels["org"] = org
        if "client_list" in m:
            tool = pat_match(self.patlist(m["client_list"]), op.get("client", ""))
            if not tool:
                return False
            labels["tool"] = tool
        if "target_list" in m and not pat_match(self.patlist(m["target_list"]), op.get("target", "")):
            return False
        if "not" in m:
            nm = dict(m["not"])
            nm.setdefault("from", "any")
            if self.match(nm, e, inside, {}):
                return False
        return True

    @staticmethod
    def key(kind, e):
        return {"src": (e["src_ip"],), "dest": (e["dest_ip"],), "pair": (e["src_ip"], e["dest_ip"])}[kind]

    def entry(self, rid, key):
        return self.state.setdefault((rid, key), {"ops": 0, "docs": 0, "first": None, "last": None,
                                                  "chains": {}, "servers": set(), "alerted": None,
                                                  "updates": 0, "base_ops": 0, "base_docs": 0})

    @staticmethod
    def add(s, e, t):
        op, ch = e["op"], e.get("chain")
        if ch:
            seen = s["chains"].get(ch["id"], 0)
            docs = max(ch["items"] - seen, 0)
            s["chains"][ch["id"]] = max(seen, ch["items"])
        else:
            docs = max(op.get("items", 0), 0)
        if s["ops"] == 0:
            s["first"] = t
        s["ops"] += 1
        s["docs"] += docs
        s["last"] = t
        s["servers"].add(e["dest_ip"])
        return docs

    @staticmethod
    def reset(s):
        s.update(ops=0, docs=0, first=None, last=None, chains={}, servers=set(), base_ops=0, base_docs=0)

    def suppress(self, rule, s, t):
        period = rule.get("suppress", {}).get("period", 3600)
        if s["alerted"] is not None and period and t < s["alerted"] + period:
            doubled = (s["ops"] >= 2 * s["base_ops"] or (s["base_docs"] > 0 and s["docs"] >= 2 * s["base_docs"])
                       or (s["base_docs"] == 0 and s["base_ops"] == 0 and s["docs"] > 0))
            if not doubled:
                return False
            s["updates"] += 1
        else:
            s["alerted"], s["updates"] = t, 0
        s["base_ops"], s["base_docs"] = s["ops"], s["docs"]
        return True

    def emit(self, pending, rule, s, e, labels, distinct=None, stage=None):
        org = labels.get("org")
        tool = labels.get("tool")
        if org is None:
            for name in ("scanners", "scanners_public"):
                org = org or net_lookup(self.netlist(name), e["src_ip"])
        if tool is None:
            for name in ("dump_tools", "scanner_agents"):
                tool = tool or pat_match(self.patlist(name), e["op"].get("client", ""))
        pending.append(dict(id=rule["id"], severity=rule["severity"], update=s["updates"], src=e["src_ip"],
                            dest=e["dest_ip"], org=org, tool=tool, ops=s["ops"], documents=s["docs"],
                            servers=len(s["servers"]), stage=stage, name=rule["name"], ts=e["timestamp"]))

    def op(self, e):
        for net in self.home:
            pass
        srv = ipaddress.ip_address(e["dest_ip"])
        cli = ipaddress.ip_address(e["src_ip"])
        if self.home and not any(srv in n for n in self.home):
            return
        inside = any(cli in n for n in self.home + self.trusted)
        self.serial += 1
        t = ts(e["timestamp"])
        pending = []
        for rule in self.rules:
            if "sequence" in rule:
                continue
            labels = {}
            if not self.match(rule.get("match", {}), e, inside, labels):
                continue
            agg = rule.get("aggregate")
            skey_kind = rule.get("suppress", {}).get("key", agg["key"] if agg else "pair")
            s = self.entry(rule["id"], self.key(skey_kind, e))
            quiet = agg["window"] if agg else rule.get("suppress", {}).get("period", 3600)
            if s["ops"] and t - s["last"] > quiet:
                self.reset(s)
            docs = self.add(s, e, t)
            s["serial"] = self.serial
            fire, distinct = True, None
            if agg:
                w = self.windows.setdefault((rule["id"], self.key(agg["key"], e)), deque())
                item = {"target": e["op"].get("target", ""), "dest": e["dest_ip"],
                        "op": e["op"]["name"]}.get(agg.get("distinct"))
                val = {"items": docs, "request_bytes": e["op"].get("request_bytes", 0),
                       "response_bytes": e["op"].get("response_bytes", 0)}.get(agg.get("sum"), 0)
                w.append((t, val, item))
                while w and w[0][0] <= t - agg["window"]:
                    w.popleft()
                count = len(w)
                total = sum(x[1] for x in w)
                distinct = len({x[2] for x in w if x[2] not in (None, "")})
                fire = (count >= agg.get("count_min", 0) and total >= agg.get("sum_min", 0)
                        and distinct >= agg.get("distinct_min", 0))
            if not fire:
                continue
            if self.suppress(rule, s, t):
                self.emit(pending, rule, s, e, labels, distinct)
            self.advance(pending, rule, e, t)
        pending.sort(key=lambda a: a["id"])
        self.out += pending

    def advance(self, pending, stage, e, t):
        for q in self.rules:
            if "sequence" not in q:
                continue
            sq = q["sequence"]
            stages = sq["stages"]
            if stage["id"] not in stages:
                continue
            k = self.key(sq["key"], e)
            st = self.seq.setdefault((q["id"], k), {"next": 0, "first": None, "fired": None})
            s = self.entry(q["id"], k)
            if st["next"] and t - st["first"] > sq["within"]:
                st["next"] = 0
                self.reset(s)
            advanced = False
            if st["next"] < len(stages) and stages[st["next"]] == stage["id"]:
                if st["next"] == 0:
                    st["first"] = t
                    self.reset(s)
                st["next"] += 1
                advanced = True
            if not st["next"]:
                continue
            if s.get("serial") != self.serial:
                self.add(s, e, t)
                s["serial"] = self.serial
            complete = st["next"] == len(stages)
            last = stage["id"] == stages[-1]
            if not complete or not (advanced or last) or st["fired"] == self.serial:
                continue
            st["fired"] = self.serial
            if self.suppress(q, s, t):
                self.emit(pending, q, s, e, {}, stage=stage.get("category") or stage["name"])


def main():
    args = sys.argv[1:]
    home, trusted = ["10.0.0.0/8"], ["10.9.9.9/32"]
    if "--home" in args:
        i = args.index("--home"); home = [x for x in args[i + 1].split(",") if x]; del args[i:i + 2]
    if "--trusted" in args:
        i = args.index("--trusted"); trusted = [x for x in args[i + 1].split(",") if x]; del args[i:i + 2]
    rules, lists, events = args
    o = Oracle(rules, lists, home, trusted)
    for line in open(events):
        e = json.loads(line)
        if e.get("event_type") == "op":
            o.op(e)
    # .expect lines: what identifies each alert and the evidence that matters
    # for its rule: documents for collection rules, servers for a sweep.
    cats = {r["id"]: r for r in o.rules}
    for a in o.out:
        r = cats[a["id"]]
        words = [str(a["id"]), a["severity"], "update=%d" % a["update"], "src=" + a["src"],
                 "dest=" + a["dest"], 'org="%s"' % a["org"] if a["org"] else "org=-", "ops=%d" % a["ops"]]
        if r.get("category") == "collection":
            words.append("documents=%d" % a["documents"])
        if r.get("aggregate", {}).get("distinct") == "dest":
            words.append("servers=%d" % a["servers"])
        print("%-80s # %s" % (" ".join(words), r["name"]))

if __name__ == "__main__":
    main()
