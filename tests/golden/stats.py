#!/usr/bin/env python3
"""golden/stats.py - the stats side of the golden cases (used by run.sh).

  stats.py reduce FILE            FILE with every stats event cut down to its
                                  envelope (the "stats" counters object
                                  dropped); all other lines byte for byte
  stats.py counters FILE          the non-zero counters of FILE's last stats
                                  event, one "dotted.name value" a line
  stats.py check FILE COUNTERS    checks the counters named in COUNTERS against
                                  FILE's last stats event; prints one reason a
                                  line and exits 1 when any differs
  stats.py inject FILE            FILE with a made-up counter added to every
                                  stats event (for the stats_independent test)
"""
import json
import sys

COUNTERS_KEY = "stats"   # where a stats event keeps its counters


def stats_event(line):
    """The stats event on LINE (bytes) as a dict, or None for any other line."""
    try:
        ev = json.loads(line)
    except ValueError:
        return None
    if isinstance(ev, dict) and ev.get("event_type") == "stats":
        return ev
    return None


def dump(ev, like):
    """EV as one compact JSON line, ending as LIKE (the original line) ends."""
    out = json.dumps(ev, separators=(",", ":"), ensure_ascii=False).encode()
    return out + (b"\n" if like.endswith(b"\n") else b"")


def lines(path):
    with open(path, "rb") as f:
        return f.read().splitlines(keepends=True)


def reduce_lines(path):
    out = []
    for line in lines(path):
        ev = stats_event(line)
        if ev is None:
            out.append(line)
        else:
            ev.pop(COUNTERS_KEY, None)
            out.append(dump(ev, line))
    return out


def flatten(obj, prefix=""):
    """{"a": {"b": 1}} -> [("a.b", 1)], in the event's order."""
    for key, val in obj.items():
        if isinstance(val, dict):
            yield from flatten(val, prefix + key + ".")
        else:
            yield prefix + key, val


def last_counters(path):
    """The flattened counters of the last stats event, or None without one."""
    last = None
    for line in lines(path):
        ev = stats_event(line)
        if ev is not None:
            last = ev
    if last is None:
        return None
    return dict(flatten(last.get(COUNTERS_KEY, {})))


def text(val):
    return json.dumps(val) if not isinstance(val, str) else val


def check(path, counters_path):
    have = last_counters(path)
    why = []
    with open(counters_path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2:
                why.append(f"{counters_path}:{n}: not 'dotted.name value'")
                continue
            name, want = parts
            if have is None:
                why.append("no stats event in the output")
                break
            if name not in have:
                why.append(f"counter {name} missing")
            elif text(have[name]) != want:
                why.append(f"counter {name} = {text(have[name])}, expected {want}")
    for w in why:
        print(w)
    return 1 if why else 0


def inject(path):
    out = []
    for line in lines(path):
        ev = stats_event(line)
        if ev is not None and isinstance(ev.get(COUNTERS_KEY), dict):
            groups = ev[COUNTERS_KEY]
            first = next(iter(groups.values()), None)
            if isinstance(first, dict):          # a new counter in a group
                items = list(first.items())
                first.clear()
                first.update([("made_up_counter", 7)] + items)
            groups["made_up_group"] = {"counter": 1}   # and a new group
            out.append(dump(ev, line))
        else:
            out.append(line)
    return out


def main(argv):
    if len(argv) == 3 and argv[1] == "reduce":
        sys.stdout.buffer.writelines(reduce_lines(argv[2]))
    elif len(argv) == 3 and argv[1] == "inject":
        sys.stdout.buffer.writelines(inject(argv[2]))
    elif len(argv) == 3 and argv[1] == "counters":
        for name, val in (last_counters(argv[2]) or {}).items():
            if val:
                print(name, text(val))
    elif len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
