#!/usr/bin/env python3
"""rdns/check.py - crawler attribution by forward-confirmed reverse DNS
(sensor/rdns.h) against a real resolver we control: the sensor runs in a
network namespace of its own whose resolv.conf (ip netns exec bind-mounts
/etc/netns/NAME/resolv.conf) points at dns_server.py on its loopback, and
replays the recorded crawler scenario pcaps/scenarios/crawler_unauth.pcap
(167.94.138.120 -> Elasticsearch 10.0.0.5). Skips when not root or when
namespaces are unavailable.   usage: tests/rdns/check.py BIN

  rdns/live_lookup      the glibc resolver in the sensor asks exactly the PTR
                        of the outside client and the A of its name (never
                        the server's, an inside address); the confirmed name
                        goes to rdns.save_file; the alerts are those of a
                        run without rdns (an answer that arrives after an
                        alert names the actor only in later alerts)
  rdns/named_later      live capture: the same capture's frames sent on a
                        veth pair, 0.1 s apart, with the live resolver: the
                        alerts of the first request (1001, 2001) go out
                        before the answer and stay unnamed; the listing
                        alert (4001), 12 packets later, carries the
                        confirmed name
  rdns/replay_cache     the saved file as rdns.cache_file (no DNS at all):
                        every alert carries actor.rdns; with the scanner
                        network list the organisation stays "Censys" from
                        the list; without it the name gives it
                        (actor.attribution "rdns"); 1 and 4 workers and two
                        runs give the same alerts
  rdns/spoofed_ptr      a PTR naming a crawler whose A record is another
                        address is not confirmed: saved as "-", no rdns
  rdns/seed_binaryedge  the seed story (pcaps/scenarios/seed_story.pcap) with
                        no network list naming its indexer 45.83.66.120 and
                        a cache file naming it *.binaryedge.ninja: its alerts
                        say BinaryEdge (attribution "rdns"); the other
                        actors, with no name or an unlisted one, are not
                        named; nothing else changes
  rdns/quiet_apps       benign sessions (trusted client, trusted Redis app,
                        an outside app that logs in): no alert, so not one DNS
                        question leaves the sensor
  rdns/test_config      --test-config: a missing domain list, an unreadable
                        cache file, a save file that cannot be written and
                        a bad cache file line are each one line and exit 2
  rdns/dead_resolver    a resolver that never answers: the same alerts as
                        without rdns, and the run ends within the configured
                        timeout (rdns.timeout 1 s) of a run without rdns
"""
import json
import os
import signal
import shutil
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(sys.argv[1])
ROOT = os.getcwd()
HERE = os.path.dirname(os.path.abspath(__file__))
PCAP = os.path.join(ROOT, "pcaps/scenarios/crawler_unauth.pcap")
CRAWLER = "167.94.138.120"
SERVER = "10.0.0.5"
# A test name under a listed domain (rules/lists/crawlers.domains); the
# zone is our own dns_server.py, not Censys's.
NAME = "scanner-120.ch1.censys-scanner.com"
NAMES = ["rdns/live_lookup", "rdns/named_later", "rdns/replay_cache", "rdns/spoofed_ptr", "rdns/seed_binaryedge",
         "rdns/quiet_apps", "rdns/test_config", "rdns/dead_resolver"]
TMP = tempfile.mkdtemp(prefix="sw_rdns_")


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


class Namespace:
    """A namespace with loopback up and its own resolv.conf."""

    def __init__(self, tag):
        self.name = "sw-rdns-%s-%d" % (tag, os.getpid())
        self.etc = "/etc/netns/" + self.name
        self.server = None

    def __enter__(self):
        r = run("ip", "netns", "add", self.name)
        if r.returncode != 0:
            raise OSError("ip netns add failed: " + r.stderr.strip())
        os.makedirs(self.etc, exist_ok=True)
        with open(self.etc + "/resolv.conf", "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        run("ip", "netns", "exec", self.name, "ip", "link", "set", "lo", "up")
        return self

    def start_dns(self, log, records, silent=False):
        args = ["ip", "netns", "exec", self.name, sys.executable,
                os.path.join(HERE, "dns_server.py"), "127.0.0.1", "53", log]
        args += (["--silent"] if silent else []) + records
        self.server = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        for _ in range(100):
            if os.path.exists(log) and "ready" in open(log).read():
                return
            time.sleep(0.05)
        raise OSError("dns_server.py did not start")

    def __exit__(self, *exc):
        if self.server:
            self.server.terminate()
            self.server.wait()
        run("ip", "netns", "del", self.name)
        shutil.rmtree(self.etc, ignore_errors=True)


def lists_dir(with_scanners):
    """The scenario lists; without_scanners: empty scanners.cidr and
    scanners_public.cidr, so that no network list names a crawler."""
    d = os.path.join(TMP, "lists_%s" % ("full" if with_scanners else "bare"))
    if os.path.isdir(d):
        return d
    os.makedirs(d)
    src = os.path.join(ROOT, "tests/scenarios/lists")
    for f in os.listdir(src):
        if f.startswith("scanners") and f.endswith(".cidr") and not with_scanners:
            open(os.path.join(d, f), "w").write("# emptied by tests/rdns/check.py\n")
        else:
            os.symlink(os.path.realpath(os.path.join(src, f)), os.path.join(d, f))
    os.symlink(os.path.join(ROOT, "rules/lists/crawlers.domains"),
               os.path.join(d, "crawlers.domains"))
    return d


def config(name, rdns=None, with_scanners=True):
    path = os.path.join(TMP, name + ".conf")
    text = ('detect = { rules = "%s"; lists = "%s"; home_nets = [ "10.0.0.0/8" ];\n'
            '  trusted_clients = [ "10.9.9.9/32" ]; };\n'
            % (os.path.join(ROOT, "rules/scrapewatch.rules"), lists_dir(with_scanners)))
    if rdns is not None:
        text += "rdns = { enabled = true; timeout = 1; %s };\n" % rdns
    open(path, "w").write(text)
    return path


def replay(conf, ns=None, workers=1, pcap=PCAP):
    """(alerts as dicts, stderr, seconds) of one replay."""
    cmd = ([] if ns is None else ["ip", "netns", "exec", ns.name]) + \
        [BIN, "-c", conf, "-w", str(workers), "-r", pcap, "--json", "-q"]
    t0 = time.monotonic()
    r = run(*cmd)
    took = time.monotonic() - t0
    if r.returncode != 0:
        raise AssertionError("exit %d: %s" % (r.returncode, r.stderr.strip()))
    alerts = [json.loads(l) for l in r.stdout.splitlines() if '"event_type":"alert"' in l]
    return alerts, r.stderr, took


def without_rdns_fields(alerts):
    out = []
    for a in alerts:
        a = json.loads(json.dumps(a))
        actor = a["alert"]["actor"]
        if actor.pop("attribution", None) == "rdns":
            actor.pop("organisation", None)
        actor.pop("rdns", None)
        out.append(a)
    return out


def saved(path):
    if not os.path.exists(path):
        return []
    return [l.strip() for l in open(path) if l.strip() and not l.startswith("#")]


def queries(log):
    return [l.strip() for l in open(log) if l.strip() and l.strip() != "ready"]


def check(cond, why):
    if not cond:
        raise AssertionError(why)


def live_lookup(baseline):
    save = os.path.join(TMP, "live.cache")
    log = os.path.join(TMP, "live.log")
    with Namespace("live") as ns:
        ns.start_dns(log, ["ptr:%s=%s" % (CRAWLER, NAME), "a:%s=%s" % (NAME, CRAWLER)])
        alerts, err, _ = replay(config("live", 'save_file = "%s";' % save), ns)
    check(err.strip() == "", "stderr: " + err)
    check(saved(save) == ["%s %s" % (CRAWLER, NAME)], "save file: %r" % saved(save))
    asked = queries(log)
    check(asked == ["120.138.94.167.in-addr.arpa 12", "%s 1" % NAME],
          "questions sent: %r" % asked)
    check(without_rdns_fields(alerts) == baseline, "alerts differ from the run without rdns")
    for a in alerts:   # named or not, depending on when the answer came
        check(a["alert"]["actor"].get("rdns", NAME) == NAME, "wrong name: %r" % a)
    return save


SENDER = r"""
import socket, struct, sys, time
data = open(sys.argv[2], "rb").read()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
pos = 24
while pos + 16 <= len(data):
    caplen = struct.unpack("<I", data[pos + 8:pos + 12])[0]
    s.send(data[pos + 16:pos + 16 + caplen])
    pos += 16 + caplen
    time.sleep(float(sys.argv[3]))
"""


def live_capture(ns, conf, gap):
    """Alerts of the sensor capturing live on one end of a veth pair while
    PCAP's Ethernet frames are sent on the other, one every gap seconds."""
    for step in (["ip", "link", "add", "swcap", "type", "veth", "peer", "name", "swsend"],
                 ["sysctl", "-qw", "net.ipv6.conf.swcap.disable_ipv6=1"],
                 ["sysctl", "-qw", "net.ipv6.conf.swsend.disable_ipv6=1"],
                 ["ip", "link", "set", "swcap", "up"], ["ip", "link", "set", "swsend", "up"]):
        r = run("ip", "netns", "exec", ns.name, *step)
        if r.returncode != 0:
            raise OSError(" ".join(step) + ": " + r.stderr.strip())
    out = os.path.join(TMP, "live_capture.jsonl")
    err = open(out + ".err", "w")
    p = subprocess.Popen(["ip", "netns", "exec", ns.name, BIN, "-c", conf, "-w", "1",
                          "-i", "swcap", "-j" + out], stdout=subprocess.DEVNULL, stderr=err)
    try:
        for _ in range(200):   # started: its threads run (as tests/live/netns.py)
            if p.poll() is not None or len(os.listdir("/proc/%d/task" % p.pid)) >= 4:
                break
            time.sleep(0.05)
        time.sleep(0.5)
        r = run("ip", "netns", "exec", ns.name, sys.executable, "-c", SENDER, "swsend", PCAP,
                str(gap))
        check(r.returncode == 0, "sender: " + r.stderr.strip())
        time.sleep(1.0)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait()
    check(p.returncode == 0, "sensor exit %d: %s" % (p.returncode, open(out + ".err").read()))
    return [json.loads(l) for l in open(out) if '"event_type":"alert"' in l]


def named_later(baseline):
    log = os.path.join(TMP, "later.log")
    with Namespace("later") as ns:
        ns.start_dns(log, ["ptr:%s=%s" % (CRAWLER, NAME), "a:%s=%s" % (NAME, CRAWLER)])
        alerts = live_capture(ns, config("later", ""), 0.1)
    got = [(a["alert"]["rule_info"]["id"], a["alert"]["actor"].get("rdns")) for a in alerts]
    want = [(a["alert"]["rule_info"]["id"], None) for a in baseline]
    want[-1] = (want[-1][0], NAME)
    check(got == want, "alerts (rule, rdns): %r" % got)


def replay_cache(save, baseline):
    runs = []
    for workers in (1, 4, 1):
        alerts, err, _ = replay(config("cache", 'cache_file = "%s";' % save), None, workers)
        runs.append(alerts)
    check(runs[0] == runs[1] == runs[2], "alerts differ between runs or worker counts")
    alerts = runs[0]
    check(len(alerts) == len(baseline) and alerts, "alert count %d" % len(alerts))
    for a in alerts:
        actor = a["alert"]["actor"]
        check(actor.get("rdns") == NAME, "no rdns name: %r" % actor)
        check(actor.get("organisation") == "Censys" and "attribution" not in actor,
              "the network list's organisation must stay: %r" % actor)
    check(without_rdns_fields(alerts) == baseline, "other fields changed")
    # No network list names the crawler: the confirmed name does.
    bare, _, _ = replay(config("bare", 'cache_file = "%s";' % save, with_scanners=False))
    plain, _, _ = replay(config("bare_plain", None, with_scanners=False))
    check(len(bare) == len(plain) and bare, "alert count %d" % len(bare))
    ids = sorted(a["alert"]["rule_info"]["id"] for a in bare)
    check(1001 not in ids, "1001 needs the network list: %r" % ids)
    for a in bare:
        actor = a["alert"]["actor"]
        named = {k: v for k, v in actor.items() if k != "tool"}
        check(named == {"ip": CRAWLER, "organisation": "Censys", "attribution": "rdns",
                        "rdns": NAME}, "actor: %r" % actor)
    check(without_rdns_fields(bare) == plain, "other fields changed (bare lists)")


def spoofed_ptr(baseline):
    save = os.path.join(TMP, "spoof.cache")
    log = os.path.join(TMP, "spoof.log")
    with Namespace("spoof") as ns:
        ns.start_dns(log, ["ptr:%s=%s" % (CRAWLER, NAME), "a:%s=%s" % (NAME, "192.0.2.7")])
        alerts, err, _ = replay(config("spoof", 'save_file = "%s";' % save), ns)
    check(saved(save) == ["%s -" % CRAWLER], "save file: %r" % saved(save))
    check(alerts == baseline, "a spoofed PTR changed the alerts")


def seed_binaryedge():
    pcap = os.path.join(ROOT, "pcaps/scenarios/seed_story.pcap")
    cache = os.path.join(TMP, "seed.cache")
    # A fixture, as tests/scenarios/lists/scanners_public.cidr is: the
    # address the capture was rewritten to, not a claim about BinaryEdge.
    with open(cache, "w") as f:
        f.write("45.83.66.120 nyc1-4.binaryedge.ninja\n203.0.113.10 -\n"
                "198.51.100.200 host-200.example.net\n")
    plain, _, _ = replay(config("seed_plain", None, with_scanners=False), pcap=pcap)
    named, _, _ = replay(config("seed", 'cache_file = "%s";' % cache, with_scanners=False),
                         pcap=pcap)
    check(without_rdns_fields(named) == plain, "other fields changed")
    seen = set()
    for a in named:
        actor = a["alert"]["actor"]
        if actor["ip"] == "45.83.66.120":
            seen.add(a["alert"]["rule_info"]["id"])
            check(actor.get("organisation") == "BinaryEdge"
                  and actor.get("attribution") == "rdns"
                  and actor.get("rdns") == "nyc1-4.binaryedge.ninja", "actor: %r" % actor)
        else:
            check("rdns" not in actor and "attribution" not in actor, "actor: %r" % actor)
    check(seen, "no alert of 45.83.66.120")


def quiet_apps():
    log = os.path.join(TMP, "quiet.log")
    with Namespace("quiet") as ns:
        ns.start_dns(log, ["ptr:10.9.9.9=app.example.net", "a:app.example.net=10.9.9.9"])
        for name in ("trusted_client", "redis_trusted_app", "auth_app_login"):
            pcap = os.path.join(ROOT, "pcaps/scenarios/%s.pcap" % name)
            plain, _, _ = replay(config("quiet_plain"), pcap=pcap)
            alerts, err, _ = replay(config("quiet", ""), ns, pcap=pcap)
            check(alerts == plain == [], "%s: alerts %r" % (name, alerts))
            check(err.strip() == "", "%s: stderr %s" % (name, err))
    check(queries(log) == [], "questions sent: %r" % queries(log))


def test_config():
    bad = os.path.join(TMP, "bad.cache")
    open(bad, "w").write("167.94.138.120 a.shodan.io\nnot-an-address x\n")
    cases = [('domains = "nosuch";', "rdns.domains: no domain list"),
             ('cache_file = "%s/none";' % TMP, "rdns cache file '%s/none' cannot be read" % TMP),
             ('save_file = "%s/no/dir/s";' % TMP, "rdns save file '%s/no/dir/s.tmp' cannot be "
              "created" % TMP),
             ('cache_file = "%s";' % bad, "%s:2: expected 'ADDRESS NAME' or 'ADDRESS -'" % bad)]
    for i, (rdns, want) in enumerate(cases):
        r = run(BIN, "-c", config("tc%d" % i, rdns), "--test-config")
        lines = [l for l in r.stderr.splitlines() if not l.endswith(" problem")]
        check(r.returncode == 2 and len(lines) == 1 and want in lines[0],
              "%s: exit %d, %r" % (rdns, r.returncode, r.stderr))


def dead_resolver(baseline, baseline_seconds):
    save = os.path.join(TMP, "dead.cache")
    log = os.path.join(TMP, "dead.log")
    with Namespace("dead") as ns:
        ns.start_dns(log, [], silent=True)
        alerts, err, took = replay(config("dead", 'save_file = "%s";' % save), ns)
    check(alerts == baseline, "a dead resolver changed the alerts")
    check(saved(save) == [], "a timeout is no answer: %r" % saved(save))
    check(queries(log)[:1] == ["120.138.94.167.in-addr.arpa 12"], "not asked: %r" % queries(log))
    # rdns.timeout = 1 s: the exit waits for at most the lookup in progress.
    check(took < baseline_seconds + 4.0, "took %.1f s (without rdns %.1f s)"
          % (took, baseline_seconds))


def main():
    if os.geteuid() != 0:
        for n in NAMES:
            print("skip %s: needs root (network namespace)" % n)
        return
    try:
        with Namespace("probe"):
            pass
    except OSError as e:
        for n in NAMES:
            print("skip %s: %s" % (n, e))
        return
    baseline, _, baseline_seconds = replay(config("plain"))
    state = {}

    def live():
        state["save"] = live_lookup(baseline)
    tests = [("rdns/live_lookup", live),
             ("rdns/named_later", lambda: named_later(baseline)),
             ("rdns/replay_cache", lambda: replay_cache(state["save"], baseline)),
             ("rdns/spoofed_ptr", lambda: spoofed_ptr(baseline)),
             ("rdns/seed_binaryedge", seed_binaryedge),
             ("rdns/quiet_apps", quiet_apps),
             ("rdns/test_config", test_config),
             ("rdns/dead_resolver", lambda: dead_resolver(baseline, baseline_seconds))]
    for name, fn in tests:
        try:
            fn()
            print("ok " + name)
        except (AssertionError, KeyError, OSError) as e:
            print("FAIL %s: %s" % (name, e))


try:
    main()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
