#!/usr/bin/env python3
"""report_check.py - scrapewatch-report on real runs, looked at in Chromium.

    tests/report_check.py BIN

Runs the sensor on recorded scenarios, writes the incident pages with
sensor/report/scrapewatch-report and opens them in headless Chromium
(Debian's chromium): the DOM Chromium renders is checked against figures
computed here from the events themselves (stages reached, documents per
actor, rules), and a screenshot is checked for the drawn timeline (pixels of
the dump actor's colour) and stages. The same report is made from the
alerts a real redis-server received. Prints ok/FAIL/skip lines.
"""
import html.parser
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REPORT = os.path.join(ROOT, "sensor", "report", "scrapewatch-report")
CONF = os.path.join(ROOT, "tests", "scenarios", "scrapewatch.conf")
SCEN = os.path.join(ROOT, "pcaps", "scenarios")
sys.path.insert(0, os.path.join(HERE, "redis"))

failed = 0


def check(name, ok, why=""):
    global failed
    print(f"ok report/{name}" if ok else f"FAIL report/{name}{': ' + why if why else ''}")
    failed += 0 if ok else 1


def run_sensor(bin_, pcap, out, conf=CONF):
    subprocess.run([bin_, "-c", conf, "-r", pcap, f"--json={out}", "--quiet"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return [json.loads(l) for l in open(out)]


def report(args, outdir):
    p = subprocess.run([sys.executable, REPORT, "-o", outdir] + args,
                       capture_output=True, text=True)
    return p.returncode, p.stdout.split(), p.stderr


class Dom(html.parser.HTMLParser):
    """Elements of the rendered DOM: (tag, attrs, text) with text inside."""

    def __init__(self, text):
        super().__init__()
        self.elems, self.stack = [], []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        e = [tag, dict(attrs), ""]
        self.elems.append(e)
        if tag not in ("meta", "br", "link", "line", "input"):
            self.stack.append(e)

    def handle_startendtag(self, tag, attrs):
        self.elems.append([tag, dict(attrs), ""])

    def handle_endtag(self, tag):
        while self.stack:
            e = self.stack.pop()
            if e[0] == tag:
                break

    def handle_data(self, data):
        for e in self.stack:
            e[2] += data

    def by_class(self, cls, tag=None):
        return [e for e in self.elems if cls in e[1].get("class", "").split()
                and (tag is None or e[0] == tag)]


def chromium_args(url, *extra):
    return ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--user-data-dir=" + tempfile.mkdtemp(prefix="sw-chromium-"), *extra, url]


def rendered_dom(path):
    p = subprocess.run(chromium_args("file://" + path, "--dump-dom"),
                       capture_output=True, text=True, timeout=120)
    return Dom(p.stdout)


def screenshot(path, png):
    subprocess.run(chromium_args("file://" + path, "--window-size=1280,1100",
                                 f"--screenshot={png}"),
                   capture_output=True, timeout=120)
    return read_png(png)


def read_png(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, rows, prev = zlib.decompress(idat), [], bytearray(w * bpp)
    stride = w * bpp + 1
    for y in range(h):
        f, line = raw[y * stride], bytearray(raw[y * stride + 1:(y + 1) * stride])
        for i in range(len(line)):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def colour(hexstr):
    return tuple(int(hexstr[i:i + 2], 16) for i in (1, 3, 5))


def count_near(rows, rgb, y0=0, y1=None, tol=12):
    return sum(1 for row in rows[y0:y1] for px in row
               if all(abs(px[i] - rgb[i]) <= tol for i in range(3)))


def expected_docs(events):
    """Documents read per client, from the op events (class read)."""
    docs = {}
    for e in events:
        if e["event_type"] == "op" and e["op"].get("class") == "read":
            docs[e["src_ip"]] = docs.get(e["src_ip"], 0) + e["op"].get("items", 0)
    return docs


def bars_by_actor(dom, svg_id):
    inside, sums = False, {}
    for tag, attrs, _ in dom.elems:
        if tag == "svg":
            inside = attrs.get("id") == svg_id
        elif inside and tag == "rect" and "bar" in attrs.get("class", ""):
            sums[attrs["data-actor"]] = sums.get(attrs["data-actor"], 0) + int(attrs["data-value"])
    return sums


def reached(dom):
    return {e[1]["data-stage"] for e in dom.by_class("stage", "li")
            if "reached" in e[1]["class"].split()}


def check_seed_story(bin_, tmp):
    events = run_sensor(bin_, os.path.join(SCEN, "seed_story.pcap"), f"{tmp}/seed.jsonl")
    alerts = [e for e in events if e["event_type"] == "alert"]
    rc, paths, err = report([f"{tmp}/seed.jsonl"], f"{tmp}/seed")
    check("seed/one_page", rc == 0 and len(paths) == 1 and os.path.isfile(paths[0]),
          f"rc {rc}, {paths}, {err.strip()}")
    if rc != 0 or not paths:
        return None
    page = open(paths[0]).read()
    external = re.findall(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:|//)|url\(|@import', page)
    check("seed/no_external_resources",
          not external and "default-src 'none'" in page, f"{external}")

    dom = rendered_dom(paths[0])
    check("seed/dom_rendered", any(e[0] == "svg" for e in dom.elems), "no svg in the DOM")
    check("seed/stages", reached(dom) == {"exposed", "indexed", "enumerated", "dumped"},
          f"reached {sorted(reached(dom))}")
    want = {ip: n for ip, n in expected_docs(events).items() if n}
    got = {ip: n for ip, n in bars_by_actor(dom, "timeline-docs").items() if n}
    check("seed/timeline_documents_per_actor", got == want and want, f"{got} != {want}")
    actors = {e[2].strip() for e in dom.by_class("actor-ip")}
    alert_actors = {e["alert"]["actor"]["ip"] for e in alerts}
    check("seed/actors", actors == alert_actors, f"{actors} != {alert_actors}")
    text = " ".join(e[2] for e in dom.by_class("actors", "table"))
    check("seed/attribution", "BinaryEdge" in text and "elasticdump" in text, text[:200])
    rule_ids = {int(e[2]) for e in dom.by_class("rule-id")}
    want_rules = {e["alert"]["rule_info"]["id"] for e in alerts}
    check("seed/rules", rule_ids == want_rules, f"{rule_ids} != {want_rules}")
    check("seed/summary_counts", dom.elems[0][0] == "html" and
          any(e[0] == "body" and e[1].get("data-alerts") == str(len(alerts)) for e in dom.elems),
          "body data-alerts")

    w, h, rows = screenshot(paths[0], f"{tmp}/seed.png")
    dumper = max(want, key=want.get)
    style = [e[1].get("style", "") for e in dom.by_class("swatch")]
    order = [e[2].strip() for e in dom.by_class("actor-ip")]
    dump_colour = colour(re.search(r"#[0-9a-f]{6}", style[order.index(dumper)]).group(0))
    bar_px = count_near(rows, dump_colour, 250, 800)
    check("seed/screenshot_timeline_drawn", bar_px > 500,
          f"{bar_px} pixels of {dump_colour} in the timeline area ({w}x{h})")
    stage_px = count_near(rows, colour("#c0392b"), 0, 250)
    check("seed/screenshot_stages_drawn", stage_px > 2000, f"{stage_px} pixels of the dumped stage")
    return alerts


def check_wipe(bin_, tmp):
    run_sensor(bin_, os.path.join(SCEN, "chain_wipe.pcap"), f"{tmp}/wipe.jsonl")
    rc, paths, _ = report([f"{tmp}/wipe.jsonl"], f"{tmp}/wipe")
    dom = rendered_dom(paths[0]) if rc == 0 and paths else Dom("")
    check("wipe/stages", {"wiped", "dumped"} <= reached(dom), f"reached {sorted(reached(dom))}")


def check_quiet_and_bad(bin_, tmp):
    run_sensor(bin_, os.path.join(SCEN, "trusted_client.pcap"), f"{tmp}/quiet.jsonl")
    rc, paths, err = report([f"{tmp}/quiet.jsonl"], f"{tmp}/quiet")
    check("no_alerts_exit_1", rc == 1 and not paths and "no alerts" in err, f"rc {rc} {err}")
    with open(f"{tmp}/bad.jsonl", "w") as f:
        f.write('{"event_type":"stats"}\n{"event_type":"alert", "timestamp": 3\n')
    rc, _, err = report([f"{tmp}/bad.jsonl"], f"{tmp}/bad")
    check("bad_input_file_line", rc == 2 and f"{tmp}/bad.jsonl:2:" in err
          and len(err.strip().splitlines()) == 1, f"rc {rc} {err!r}")


def check_redis(bin_, tmp, alerts):
    import redis_test as rt
    t = rt.Tmp()
    try:
        server = rt.RedisServer(t, "report").start()
        conf = f"{tmp}/redis.conf"
        with open(conf, "w") as f:
            for line in open(CONF):
                f.write(line.replace('"../../rules/', f'"{ROOT}/rules/')
                        .replace('lists = "lists"', f'lists = "{ROOT}/tests/scenarios/lists"'))
            f.write(f"output = {{ redis = {{ enabled = true; port = {server.port}; }}; }};\n")
        env = dict(os.environ, STATE_DIRECTORY=f"{tmp}/state")
        subprocess.run([bin_, "-c", conf, "-r", os.path.join(SCEN, "seed_story.pcap"), "--quiet"],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rc, paths, err = report(["--redis", f"127.0.0.1:{server.port}"], f"{tmp}/redis")
        check("redis/one_page", rc == 0 and len(paths) == 1, f"rc {rc} {err.strip()}")
        if rc != 0 or not paths:
            return
        dom = rendered_dom(paths[0])
        check("redis/stages", reached(dom) == {"exposed", "indexed", "enumerated", "dumped"},
              f"reached {sorted(reached(dom))}")
        body = [e for e in dom.elems if e[0] == "body"][0][1]
        check("redis/all_alerts", body.get("data-alerts") == str(len(alerts)), str(body))
        most = {}
        for a in alerts:
            ip = a["alert"]["actor"]["ip"]
            most[ip] = max(most.get(ip, 0), a["alert"]["evidence"]["documents"])
        got = bars_by_actor(dom, "timeline-docs")
        want = {ip: n for ip, n in most.items() if n}
        check("redis/timeline_from_evidence", got == want, f"{got} != {want}")
    finally:
        t.cleanup()


def main():
    bin_ = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/scrapewatch")
    if not shutil.which("chromium"):
        print("skip report: chromium not installed (Debian package chromium)")
        return 0
    tmp = tempfile.mkdtemp(prefix="sw-report-")
    try:
        alerts = check_seed_story(bin_, tmp)
        check_wipe(bin_, tmp)
        check_quiet_and_bad(bin_, tmp)
        if alerts and shutil.which("redis-server"):
            check_redis(bin_, tmp, alerts)
        elif alerts:
            print("skip report/redis: redis-server not installed")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
