#!/usr/bin/env python3
"""redis_test.py BIN [NAME...] - the Redis sink against real redis-servers.

Every test starts its own redis-server (or a listener of its own) on a free
127.0.0.1 port or a unix socket under a private temporary directory, and
stops it at the end, even when the test fails. Every wait is bounded. Prints
"ok redis/<name>", "FAIL redis/<name>: why" or "skip redis/<name>: why".

Standard library only: a small RESP client is below."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.abspath("build/scrapewatch")
ONLY = set(sys.argv[2:])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEEPALIVE = os.path.join(ROOT, "pcaps/http_keepalive.pcap")
SENSOR_TIMEOUT = 60


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- RESP, the Redis protocol: enough for tests

class Resp:
    def __init__(self, port=None, unix=None, timeout=5.0):
        if unix:
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.settimeout(timeout)
            self.sock.connect(unix)
        else:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError(f"bad reply {line!r}")

    def cmd(self, *args):
        self.send(*args)
        return self.reply()


class RespError(str):
    pass


# ---- processes of ours

class Tmp:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sw_redis_")
        self.procs = []

    def path(self, name):
        return os.path.join(self.dir, name)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    """A redis-server of this test, in the foreground (we own its pid)."""

    def __init__(self, tmp, name, args=(), unix=False, port=None):
        self.tmp = tmp
        self.name = name
        self.dir = tmp.path(name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port if port is not None else (0 if unix else free_port())
        self.unix = os.path.join(self.dir, "redis.sock") if unix else None
        self.args = list(args)
        self.proc = None
        self.password = None
        for i, a in enumerate(self.args):
            if a == "--requirepass":
                self.password = self.args[i + 1]

    def start(self):
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                "--dir", self.dir, "--save", "", "--daemonize", "no",
                "--logfile", os.path.join(self.dir, "redis.log")]
        if self.unix:
            argv += ["--unixsocket", self.unix, "--unixsocketperm", "700"]
        argv += self.args
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.tmp.procs.append(self.proc)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                c = self.client()
                r = c.cmd("PING")
                c.close()
                if r == "PONG":
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise Fail(f"redis-server {self.name} did not start (see {self.dir}/redis.log)")

    def client(self):
        c = Resp(port=self.port, unix=self.unix)
        if self.password:
            c.cmd("AUTH", self.password)
        return c

    def cmd(self, *args):
        c = self.client()
        try:
            return c.cmd(*args)
        finally:
            c.close()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def redis_conf(tmp, name, **keys):
    """A config file: output.redis from keys, stats only at the end."""
    lines = []
    for k, v in keys.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, str):
            v = json.dumps(v)
        lines.append(f"        {k} = {v};")
    text = ("events = { stats_interval = 0; };\n"
            "output = {\n    redis = {\n        enabled = true;\n"
            + "\n".join(lines) + "\n    };\n};\n")
    path = tmp.path(name + ".conf")
    with open(path, "w") as f:
        f.write(text)
    return path


SUMMARY = re.compile(r"^scrapewatch: redis: final: (.*)$", re.M)


def summary(stderr):
    m = SUMMARY.findall(stderr)
    if not m:
        raise Fail(f"no final summary on stderr: {stderr[-400:]!r}")
    return {k: int(v) for k, v in (kv.split("=") for kv in m[-1].split())}


def run_sensor(conf, pcap, json_path, extra=(), timeout=SENSOR_TIMEOUT):
    argv = [BIN, "-c", conf, "-r", pcap, f"--json={json_path}", *extra]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Fail(f"sensor did not finish in {timeout} s")
    return p.returncode, p.stderr


def start_sensor_stdin(tmp, conf, json_path, extra=()):
    """The sensor reading a capture from its stdin (a pipe we write)."""
    err = open(tmp.path(f"sensor{len(tmp.procs)}.err"), "w+")
    p = subprocess.Popen([BIN, "-c", conf, "-r", "-", f"--json={json_path}", *extra],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
    p.err_file = err
    tmp.procs.append(p)
    return p


def start_sensor_paced(tmp, conf, pcap, json_path, seconds):
    """The sensor reading pcap from stdin, fed over about `seconds`."""
    p = start_sensor_stdin(tmp, conf, json_path)
    data = open(pcap, "rb").read()
    chunk = 64 * 1024
    steps = max(1, len(data) // chunk)
    pause = seconds / steps

    def feed():
        try:
            for off in range(0, len(data), chunk):
                p.stdin.write(data[off:off + chunk])
                p.stdin.flush()
                time.sleep(pause)
            p.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    return p, t


def finish(p, timeout=SENSOR_TIMEOUT, feeder=None):
    """Waits for a sensor of start_sensor_stdin; its exit status and stderr."""
    if feeder:
        feeder.join(timeout)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise Fail(f"sensor did not finish in {timeout} s")
    p.err_file.seek(0)
    return p.returncode, p.err_file.read()


def json_lines(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f]


def stream_entries(server, stream="{scrapewatch}:events"):
    """All entries as dicts, oldest first (XRANGE in pages)."""
    out, start = [], "-"
    c = server.client()
    try:
        while True:
            page = c.cmd("XRANGE", stream, start, "+", "COUNT", 1000)
            if isinstance(page, RespError):
                raise Fail(f"XRANGE: {page}")
            for entry_id, fields in page:
                d = dict(zip(fields[::2], fields[1::2]))
                d["_entry"] = entry_id
                out.append(d)
            if len(page) < 1000:
                return out
            ms, seq = page[-1][0].split("-")
            start = f"{ms}-{int(seq) + 1}"
    finally:
        c.close()


def id_parts(event_id):
    sensor, run, n = event_id.rsplit(":", 2)
    return sensor, int(run), int(n)


def check_exactly_once_in_order(entries, lines, what):
    ids = [e["id"] for e in entries]
    check(len(set(ids)) == len(ids), f"{what}: {len(ids) - len(set(ids))} duplicate ids")
    check(len(entries) == len(lines),
          f"{what}: {len(entries)} entries in the stream, {len(lines)} events written")
    for i, (e, line) in enumerate(zip(entries, lines)):
        if e["json"] != line:
            raise Fail(f"{what}: entry {i} ({e['id']}) is not event {i} of the JSON lines")


def make_big(tmp, megabytes):
    out = tmp.path(f"big{megabytes}.pcap")
    if not os.path.exists(out):
        subprocess.run([sys.executable, os.path.join(ROOT, "tests/bench/make_big.py"),
                        KEEPALIVE, out, str(megabytes)], check=True, stdout=subprocess.DEVNULL)
    return out


def wait_for(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise Fail(f"timed out after {seconds} s waiting for {what}")


# ---- the tests

def test_fields_and_order(tmp):
    r = RedisServer(tmp, "r").start()
    conf = redis_conf(tmp, "c", port=r.port)
    out = tmp.path("out.jsonl")
    rc, err = run_sensor(conf, KEEPALIVE, out)
    check(rc == 0, f"exit {rc}: {err}")
    lines = json_lines(out)
    entries = stream_entries(r)
    check(len(lines) > 5, "too few events to say anything")
    check_exactly_once_in_order(entries, lines, "stream")
    run_ids = set()
    for i, (e, line) in enumerate(zip(entries, lines)):
        ev = json.loads(line)
        sensor, run, n = id_parts(e["id"])
        run_ids.add(run)
        check(sensor == "scrapewatch" and n == i + 1, f"entry {i}: id {e['id']}")
        check(e["type"] == ev["event_type"], f"entry {i}: type {e['type']}")
        check(e["sensor"] == ev["sensor"], f"entry {i}: sensor")
        if ev["event_type"] in ("op", "flow", "alert"):
            check(e.get("app") == ev["app_proto"], f"entry {i}: app {e.get('app')}")
            check(e.get("src") == ev["src_ip"] and e.get("dest") == ev["dest_ip"],
                  f"entry {i}: src/dest")
        else:
            check("app" not in e and "src" not in e, f"entry {i}: stats with flow fields")
        if ev["event_type"] == "alert":
            check(e.get("rule") == str(ev["alert"]["rule_info"]["id"])
                  and e.get("severity") == ev["alert"]["rule_info"]["severity"],
                  f"entry {i}: alert rule/severity {e.get('rule')}/{e.get('severity')}")
        else:
            check("rule" not in e and "severity" not in e,
                  f"entry {i}: rule/severity on a non-alert")
    check(len(run_ids) == 1, "several run ids in one run")
    s = summary(err)
    check(s["sent"] == len(lines) and s["queued"] == 0 and s["spooled"] == 0,
          f"summary {s}")
    # health hash: the final stats, flattened, and the last event id
    final = json.loads(lines[-1])
    check(final["event_type"] == "stats" and final["final"], "last event is not the final stats")
    h = r.cmd("HGETALL", "{scrapewatch}:health:scrapewatch")
    h = dict(zip(h[::2], h[1::2]))
    check(h.get("capture.packets") == str(final["stats"]["capture"]["packets"]),
          f"health capture.packets {h.get('capture.packets')}")
    check(h.get("final") == "1" and h.get("last_update") == final["timestamp"],
          "health final/last_update")
    check(h.get("last_event_id") == entries[-1]["id"], "health last_event_id")
    # per-minute counters: event time, type[:app]
    ops = [json.loads(x) for x in lines if '"event_type":"op"' in x]
    minute = ops[0]["timestamp"][:16].replace("-", "").replace("T", "").replace(":", "")
    key = f"{{scrapewatch}}:counts:{minute}"
    app = ops[0]["app_proto"]
    want = sum(1 for o in ops
               if o["timestamp"].startswith(ops[0]["timestamp"][:16]) and o["app_proto"] == app)
    got = r.cmd("HGET", key, f"op:{app}")
    check(got == str(want), f"{key} op:{app} = {got}, expected {want}")
    ttl = r.cmd("TTL", key)
    check(0 < ttl <= 604800, f"TTL {ttl}")


def test_maxlen_trimming(tmp):
    # small stream nodes so that "~" can trim a few entries
    r = RedisServer(tmp, "r", ["--stream-node-max-entries", "4"]).start()
    conf = redis_conf(tmp, "c", port=r.port, maxlen=5, batch_max=1)
    out = tmp.path("out.jsonl")
    rc, err = run_sensor(conf, KEEPALIVE, out)
    check(rc == 0, f"exit {rc}: {err}")
    lines = json_lines(out)
    n = r.cmd("XLEN", "{scrapewatch}:events")
    check(5 <= n < 5 + 4 and n < len(lines), f"XLEN {n} with maxlen 5 (events: {len(lines)})")
    last = stream_entries(r)[-1]
    check(last["json"] == lines[-1], "the newest entry was trimmed")
    check(summary(err)["sent"] == len(lines), "not all sent")


def test_publish_subscriber(tmp):
    # Until alerts exist, publish = "all" exercises PUBLISH with every event.
    r = RedisServer(tmp, "r").start()
    sub = r.client()
    sub.sock.settimeout(10)
    check(sub.cmd("SUBSCRIBE", "sw:test") == ["subscribe", "sw:test", 1], "SUBSCRIBE")
    conf = redis_conf(tmp, "c", port=r.port, channel="sw:test", publish="all")
    out = tmp.path("out.jsonl")
    rc, err = run_sensor(conf, KEEPALIVE, out)
    check(rc == 0, f"exit {rc}: {err}")
    lines = json_lines(out)
    got = []
    try:
        while len(got) < len(lines):
            m = sub.reply()
            check(m[0] == "message" and m[1] == "sw:test", f"unexpected {m!r}")
            got.append(m[2])
    except socket.timeout:
        raise Fail(f"subscriber got {len(got)} of {len(lines)} messages")
    finally:
        sub.close()
    check(got == lines, "published messages differ from the JSON lines")
    # the default publishes alerts only: exactly the alert lines, in order
    sub = r.client()
    sub.sock.settimeout(1)
    sub.cmd("SUBSCRIBE", "scrapewatch:alerts")
    conf = redis_conf(tmp, "d", port=r.port)
    rc, err = run_sensor(conf, KEEPALIVE, tmp.path("out2.jsonl"))
    check(rc == 0, f"exit {rc}: {err}")
    with open(tmp.path("out2.jsonl")) as f:
        alerts = [l.rstrip("\n") for l in f if json.loads(l)["event_type"] == "alert"]
    got = []
    try:
        while True:
            m = sub.reply()
            got.append(m[2])
            if json.loads(m[2])["event_type"] != "alert":
                raise Fail(f"default publish sent a non-alert: {str(m)[:80]}")
    except socket.timeout:
        pass
    finally:
        sub.close()
    check(got == alerts, f"published {len(got)} alerts, the JSON lines hold {len(alerts)}")


def test_consumer_group(tmp):
    r = RedisServer(tmp, "r").start()
    # as in the README: the group first, then the sensor writes
    check(r.cmd("XGROUP", "CREATE", "{scrapewatch}:events", "soc", "$", "MKSTREAM") == "OK",
          "XGROUP CREATE")
    conf = redis_conf(tmp, "c", port=r.port)
    out = tmp.path("out.jsonl")
    rc, err = run_sensor(conf, KEEPALIVE, out)
    check(rc == 0, f"exit {rc}: {err}")
    lines = json_lines(out)
    c = r.client()
    try:
        got = []
        for _ in range(100):
            rep = c.cmd("XREADGROUP", "GROUP", "soc", "analyst1", "COUNT", 7, "BLOCK", 1000,
                        "STREAMS", "{scrapewatch}:events", ">")
            if rep is None:
                break
            entries = rep[0][1]
            ids = [e[0] for e in entries]
            got += [dict(zip(e[1][::2], e[1][1::2]))["json"] for e in entries]
            check(c.cmd("XACK", "{scrapewatch}:events", "soc", *ids) == len(ids), "XACK")
        check(got == lines, f"group read {len(got)} events, {len(lines)} written")
        pending = c.cmd("XPENDING", "{scrapewatch}:events", "soc")
        check(pending[0] == 0, f"{pending[0]} entries still pending")
    finally:
        c.close()


def test_unix_socket(tmp):
    r = RedisServer(tmp, "r", unix=True).start()
    conf = redis_conf(tmp, "c", unix_socket=r.unix, port=1)
    out = tmp.path("out.jsonl")
    rc, err = run_sensor(conf, KEEPALIVE, out)
    check(rc == 0, f"exit {rc}: {err}")
    check_exactly_once_in_order(stream_entries(r), json_lines(out), "unix socket")


def test_auth_and_db(tmp):
    r = RedisServer(tmp, "r", ["--requirepass", "s3cret"]).start()
    conf = redis_conf(tmp, "c", port=r.port, password="s3cret", db=3)
    out = tmp.path("out.jsonl")
    rc, err = run_sensor(conf, KEEPALIVE, out)
    check(rc == 0, f"exit {rc}: {err}")
    lines = json_lines(out)
    check(r.cmd("XLEN", "{scrapewatch}:events") == 0, "events in db 0, not db 3")
    c = r.client()
    c.cmd("SELECT", 3)
    n = c.cmd("XLEN", "{scrapewatch}:events")
    c.close()
    check(n == len(lines), f"db 3 holds {n} of {len(lines)} events")
    # a wrong password: refused, counted, everything spooled (the default)
    conf = redis_conf(tmp, "d", port=r.port, password="wrong", reconnect_min_ms=20,
                      reconnect_max_ms=40, shutdown_timeout_ms=200)
    rc, err = run_sensor(conf, KEEPALIVE, tmp.path("out2.jsonl"))
    check(rc == 0, f"exit {rc}: {err}")
    s = summary(err)
    n2 = len(json_lines(tmp.path("out2.jsonl")))
    check(s["errors"] >= 1 and s["sent"] == 0 and s["spooled"] == n2
          and s["spool_pending"] == n2 and s["dropped_shutdown"] == 0,
          f"wrong password: {s}")
    check("AUTH refused" in err, "no AUTH message on stderr")
    check(os.path.getsize(tmp.path("state/scrapewatch.spool")) > 32,
          "the default spool location was not used")
    # without a spool: dropped, counted, and the exit status says so
    conf = redis_conf(tmp, "e", port=r.port, password="wrong", reconnect_min_ms=20,
                      reconnect_max_ms=40, shutdown_timeout_ms=200, spool=False)
    rc, err = run_sensor(conf, KEEPALIVE, tmp.path("out3.jsonl"))
    s = summary(err)
    check(rc == 1 and s["dropped_shutdown"] == n2, f"no spool: exit {rc}, {s}")
    want = (f"scrapewatch: {n2} events were neither delivered to Redis nor spooled "
            f"(left at shutdown without a spool: {n2})")
    check(want in err.splitlines(), f"no closing line {want!r}: {err[-300:]}")


def test_kill9_restart(tmp):
    """kill -9 in the middle of a replay, restart later: exactly once, in order."""
    big = make_big(tmp, 20)
    port = free_port()
    aof = ["--appendonly", "yes", "--appendfsync", "no"]
    r = RedisServer(tmp, "r", aof, port=port).start()
    conf = redis_conf(tmp, "c", port=port, queue_mb=1, spool_path=tmp.path("spool"),
                      reconnect_min_ms=50, reconnect_max_ms=400, shutdown_timeout_ms=10000)
    out = tmp.path("out.jsonl")
    p, feeder = start_sensor_paced(tmp, conf, big, out, seconds=4)
    wait_for(lambda: (r.cmd("XLEN", "{scrapewatch}:events") or 0) > 300, 20, "first events")
    r.kill9()
    killed_at = time.monotonic()
    time.sleep(1.5)
    r2 = RedisServer(tmp, "r", aof, port=port).start()
    rc, err = finish(p, feeder=feeder)
    check(rc == 0, f"exit {rc}: {err[-500:]}")
    lines = json_lines(out)
    check(len(lines) > 3000, f"only {len(lines)} events: not thousands")
    entries = stream_entries(r2)
    check_exactly_once_in_order(entries, lines, "after kill -9")
    s = summary(err)
    check(s["sent"] == len(lines), f"sent {s['sent']} != {len(lines)}")
    check(s["reconnects"] >= 1 and s["spooled"] > 0 and s["replayed"] == s["spooled"],
          f"summary {s}")
    check(all(s[k] == 0 for k in s if k.startswith("dropped")) and s["spool_pending"] == 0,
          f"summary {s}")
    check(time.monotonic() - killed_at < SENSOR_TIMEOUT, "took too long")


def test_sigterm_while_down_then_replay(tmp):
    """Sensor stopped while Redis is down; the next start replays the spool first."""
    big = make_big(tmp, 20)
    port = free_port()   # nothing listens there yet
    spool = tmp.path("spool")
    conf = redis_conf(tmp, "c", port=port, queue_mb=1, spool_path=spool,
                      reconnect_min_ms=50, reconnect_max_ms=200)
    out1 = tmp.path("out1.jsonl")
    p, feeder = start_sensor_paced(tmp, conf, big, out1, seconds=4)
    time.sleep(1.5)
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    rc, err1 = finish(p, timeout=30)
    check(time.monotonic() - t0 < 15, "shutdown took longer than 15 s")
    check(rc == 0, f"run 1 exit {rc}: {err1[-500:]}")
    lines1 = json_lines(out1)
    s1 = summary(err1)
    check(len(lines1) > 500, f"run 1 wrote only {len(lines1)} events")
    check(s1["sent"] == 0 and s1["spooled"] == len(lines1) and s1["spool_pending"] == len(lines1),
          f"run 1: {len(lines1)} events, summary {s1}")
    check(s1["dropped_shutdown"] == 0 and s1["dropped_spool_full"] == 0, f"run 1: {s1}")

    r = RedisServer(tmp, "r", port=port).start()
    out2 = tmp.path("out2.jsonl")
    rc, err2 = run_sensor(conf, KEEPALIVE, out2)
    check(rc == 0, f"run 2 exit {rc}: {err2[-500:]}")
    lines2 = json_lines(out2)
    check("replaying them first" in err2, "run 2 did not say it replays the spool")
    entries = stream_entries(r)
    check_exactly_once_in_order(entries, lines1 + lines2, "spool replay then new events")
    runs = [id_parts(e["id"])[1] for e in entries]
    check(len(set(runs)) == 2 and runs[0] < runs[-1], "run ids")
    s2 = summary(err2)
    check(s2["replayed"] == len(lines1) and s2["sent"] == len(lines1) + len(lines2)
          and s2["spool_pending"] == 0, f"run 2: {s2}")
    check(os.path.getsize(spool) == 32, "spool not emptied")


def test_oom_then_memory_raised(tmp):
    r = RedisServer(tmp, "r", ["--maxmemory", "1mb", "--maxmemory-policy", "noeviction"]).start()
    # fill Redis past 1 MB first, so that every write is refused
    c = r.client()
    r.cmd("CONFIG", "SET", "maxmemory", "0")
    c.cmd("SET", "ballast", "x" * 2_000_000)
    r.cmd("CONFIG", "SET", "maxmemory", "1mb")
    c.close()
    conf = redis_conf(tmp, "c", port=r.port, reconnect_min_ms=50, reconnect_max_ms=200)
    out = tmp.path("out.jsonl")
    p = start_sensor_stdin(tmp, conf, out)
    p.stdin.write(open(KEEPALIVE, "rb").read())
    p.stdin.flush()
    # wait until Redis has refused three batches (one EXECABORT each, after
    # OOM errors for their commands): the sink kept them and retried
    def oom_seen():
        info = r.cmd("INFO", "errorstats") or ""
        m = re.search(r"errorstat_EXECABORT:count=(\d+)", info)
        return m and int(m.group(1)) >= 3 and "errorstat_OOM" in info
    try:
        wait_for(oom_seen, 20, "OOM error replies")
        check(r.cmd("XLEN", "{scrapewatch}:events") == 0, "a write got through while OOM")
        r.cmd("CONFIG", "SET", "maxmemory", "0")
        # while stdin is still open the flows are live; closing it ends the run
        p.stdin.close()
    except Fail:
        p.kill()
        raise
    rc, err = finish(p)
    check(rc == 0, f"exit {rc}: {err[-500:]}")
    lines = json_lines(out)
    check_exactly_once_in_order(stream_entries(r), lines, "after OOM")
    s = summary(err)
    check(s["errors"] >= 3 and s["sent"] == len(lines), f"summary {s}")
    aborts = re.search(r"errorstat_EXECABORT:count=(\d+)", r.cmd("INFO", "errorstats"))
    check(int(aborts.group(1)) == s["errors"],
          f"Redis refused {aborts.group(1)} batches, the sensor counted {s['errors']} errors")
    check("OOM" in err, "OOM not reported on stderr")


def test_listener_never_answers(tmp):
    """A listener that accepts and never answers: the command timeout is honoured,
    capture goes on, and the summary says what happened."""
    big = make_big(tmp, 20)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    port = srv.getsockname()[1]
    accepted = []
    stop = threading.Event()

    def accept_loop():
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                accepted.append(conn)   # kept open, never read, never answered
            except socket.timeout:
                continue
            except OSError:
                return

    t = threading.Thread(target=accept_loop, daemon=True)
    t.start()
    try:
        conf = redis_conf(tmp, "c", port=port, command_timeout_ms=300, connect_timeout_ms=300,
                          reconnect_min_ms=50, reconnect_max_ms=200, queue_mb=1,
                          shutdown_timeout_ms=1000, spool=False)
        out = tmp.path("out.jsonl")
        t0 = time.monotonic()
        rc, err = run_sensor(conf, big, out, timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        stop.set()
        t.join(5)
        for conn in accepted:
            conn.close()
        srv.close()
    check(rc == 1, f"exit {rc} (events were dropped): {err[-500:]}")
    check(re.search(r"^scrapewatch: \d+ events were neither delivered to Redis nor spooled "
                    r"\(memory queue full without a spool: \d+", err, re.M),
          f"no closing line: {err[-300:]}")
    check(re.search(r"memory queue full \(queue_mb = 1\) and no spool: dropping events", err),
          f"the drops were not logged when they happened: {err[-300:]}")
    ref = tmp.path("ref.jsonl")
    subprocess.run([BIN, "-r", big, f"--json={ref}"], check=True, timeout=60,
                   stderr=subprocess.DEVNULL)
    lines = json_lines(out)
    check(len(lines) == len(json_lines(ref)), "capture stalled: fewer events than without Redis")
    check(elapsed < 15, f"replay took {elapsed:.1f} s")
    s = summary(err)
    check(s["timeouts"] >= 1 and s["timeouts"] == len(accepted),
          f"timeouts {s['timeouts']}, connections accepted {len(accepted)}")
    check(s["sent"] == 0 and s["reconnects"] == 0 and s["errors"] == 0, f"summary {s}")
    check(s["dropped_queue_full"] > 0
          and s["dropped_queue_full"] + s["dropped_shutdown"] == len(lines),
          f"{len(lines)} events, summary {s}")


class ReplyEatingProxy:
    """Forwards to Redis, but once: lets an EXEC through, waits for Redis to
    run it, and closes the connection before the reply gets back (Redis
    applied the batch, the sensor never heard)."""

    EXEC = b"*1\r\n$4\r\nEXEC\r\n"

    def __init__(self, target_port, eat_exec_number):
        self.target = target_port
        self.eat_at = eat_exec_number
        self.execs = 0
        self.eaten = False
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.srv.settimeout(0.1)
        self.port = self.srv.getsockname()[1]
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.accept_loop, daemon=True)]
        self.threads[0].start()

    def accept_loop(self):
        while not self.stop.is_set():
            try:
                c, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            conn = {"cut": False}
            for src, dst, up in ((c, u, True), (u, c, False)):
                t = threading.Thread(target=self.pump, args=(src, dst, up, c, u, conn),
                                     daemon=True)
                t.start()
                self.threads.append(t)

    def pump(self, src, dst, upstream, c, u, conn):
        src.settimeout(0.2)
        while not self.stop.is_set():
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            if upstream and not self.eaten:
                self.execs += data.count(self.EXEC)
                if self.execs >= self.eat_at:
                    self.eaten = conn["cut"] = True   # nothing goes back any more
            if not upstream and conn["cut"]:
                break
            try:
                dst.sendall(data)
            except OSError:
                break
            if upstream and conn["cut"]:
                time.sleep(0.3)   # Redis runs the transaction meanwhile
                break
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.stop.set()
        self.srv.close()
        for t in self.threads:
            t.join(2)


def test_reply_lost_not_sent_twice(tmp):
    """Redis applied a batch but its reply was lost: after reconnecting, the
    sink sees last_event_id in the health hash and does not send it again."""
    r = RedisServer(tmp, "r").start()
    proxy = ReplyEatingProxy(r.port, 3)
    try:
        conf = redis_conf(tmp, "c", port=proxy.port, batch_max=4, reconnect_min_ms=20,
                          reconnect_max_ms=40)
        out = tmp.path("out.jsonl")
        p = start_sensor_stdin(tmp, conf, out)
        p.stdin.write(open(KEEPALIVE, "rb").read())
        p.stdin.close()
        rc, err = finish(p)
    finally:
        proxy.close()
    check(proxy.eaten, "the proxy never cut a reply")
    check(rc == 0, f"exit {rc}: {err[-500:]}")
    lines = json_lines(out)
    check_exactly_once_in_order(stream_entries(r), lines, "reply lost: " + err[-600:])
    s = summary(err)
    check(s["sent"] == len(lines) and s["reconnects"] >= 1, f"summary {s}")


def test_own_traffic_excluded(tmp):
    """Live on lo, Redis on lo, its port mapped to a decoder: never decoded."""
    if os.geteuid() != 0:
        return "skip", "needs root for a live capture"
    r = RedisServer(tmp, "r").start()
    conf = tmp.path("live.conf")
    with open(conf, "w") as f:
        f.write("events = { stats_interval = 1; };\n"
                f"decoders = {{ http = {{ ports = [ {r.port} ]; }}; }};\n"
                f"output = {{ redis = {{ enabled = true; port = {r.port}; flush_ms = 10; }}; }};\n")
    out = tmp.path("out.jsonl")
    err = open(tmp.path("live.err"), "w+")
    p = subprocess.Popen([BIN, "-c", conf, "-i", "lo", f"--json={out}"],
                         stdout=subprocess.DEVNULL, stderr=err)
    p.err_file = err
    tmp.procs.append(p)
    try:
        wait_for(lambda: (r.cmd("XLEN", "{scrapewatch}:events") or 0) >= 3, 20,
                 "periodic stats in Redis")
    finally:
        p.send_signal(signal.SIGTERM)
    rc, err = finish(p, timeout=30)
    check(rc == 0, f"exit {rc}: {err[-300:]}")
    events = [json.loads(x) for x in json_lines(out)]
    final = events[-1]
    check(final["event_type"] == "stats" and final["final"], "no final stats")
    check(final["stats"]["capture"]["excluded"] > 0, "no packet counted as excluded")
    check(not [e for e in events if e.get("dest_port") == r.port or e.get("src_port") == r.port],
          "our own Redis traffic became events")


# ---- no event lost: every id delivered exactly once or counted lost

SOAK = int(os.environ.get("SW_SOAK", "0"))   # > 0: that many rounds per loop test


def rounds(short):
    return SOAK if SOAK > 0 else short


PREVIOUS = re.compile(r"the previous run \(run (\d+)\) ended without a clean stop: (\d+) events "
                      r"made, (\d+) of them were lost")


def run_ids(entries):
    """{run id: [n, ...]} of the stream's entries, in stream order."""
    out = {}
    for e in entries:
        _, run, n = id_parts(e["id"])
        out.setdefault(run, []).append(n)
    return out


def check_run_accounted(ns, made, lost, what):
    """Run's ids in Redis: no duplicate, all within 1..made, and together with
    the ones counted lost, all of them."""
    check(len(ns) == len(set(ns)), f"{what}: {len(ns) - len(set(ns))} duplicates")
    check(not ns or (min(ns) >= 1 and max(ns) <= made), f"{what}: ids outside 1..{made}")
    check(len(ns) + lost == made,
          f"{what}: {len(ns)} delivered + {lost} counted lost != {made} made")


def test_kill9_sensor_loop(tmp):
    """kill -9 of the sensor at a random moment, Redis up or down; the next
    start replays the spool and says how many the killed run lost."""
    import random
    rnd = random.Random(int(os.environ.get("SW_SEED", "13")))
    big = make_big(tmp, 10)
    port = free_port()
    aof = ["--appendonly", "yes", "--appendfsync", "always"]
    r = RedisServer(tmp, "r", aof, port=port)
    conf = redis_conf(tmp, "c", port=port, queue_mb=1, reconnect_min_ms=20,
                      reconnect_max_ms=100, shutdown_timeout_ms=5000)
    for i in range(rounds(2)):
        redis_up = i % 2 == 0
        if redis_up and not (r.proc and r.proc.poll() is None):
            r.start()
        if not redis_up and r.proc and r.proc.poll() is None:
            r.stop()
        p, feeder = start_sensor_paced(tmp, conf, big, tmp.path(f"k{i}.jsonl"), seconds=3)
        time.sleep(rnd.uniform(0.3, 2.5))
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        feeder.join(10)
        if not (r.proc and r.proc.poll() is None):
            r.start()
        out = tmp.path(f"after{i}.jsonl")
        rc, err = run_sensor(conf, KEEPALIVE, out)
        check(rc == 0, f"round {i}: exit {rc}: {err[-500:]}")
        m = PREVIOUS.search(err)
        check(m, f"round {i}: no word about the killed run: {err[-500:]}")
        killed, made = int(m.group(1)), int(m.group(2))
        s = summary(err)
        lost = s["lost_previous_run"]
        check(lost <= int(m.group(3)), f"round {i}: lost grew: {s}")
        ids = run_ids(stream_entries(r))
        print(f"redis/kill9_sensor_loop round {i}: Redis {'up' if redis_up else 'down'}, "
              f"{made} made, {len(ids.get(killed, []))} delivered, {lost} lost", file=sys.stderr)
        check_run_accounted(ids.get(killed, []), made, lost, f"round {i} (Redis "
                            f"{'up' if redis_up else 'down'}), killed run")
        got = ids.get(killed, [])
        check(got == sorted(got), f"round {i}: killed run out of order")
        if not redis_up:
            # Redis was away the whole run: every event went through the
            # spool, oldest first; only the newest (memory) can be lost
            check(got == list(range(1, len(got) + 1)),
                  f"round {i}: lost events are not the newest: gaps in {got[:20]}...")
        # the new run: exactly once, in order, after the killed run's events
        mine = [e for e in stream_entries(r) if id_parts(e["id"])[1] == max(ids)]
        check([e["json"] for e in mine] == json_lines(out), f"round {i}: new run's events")
        check(s["spool_pending"] == 0, f"round {i}: {s}")


def test_kill9_redis_loop(tmp):
    """kill -9 of redis-server at random moments of a replay, restarted after a
    random pause: exactly once, in order."""
    import random
    rnd = random.Random(int(os.environ.get("SW_SEED", "13")))
    big = make_big(tmp, 10)
    for i in range(rounds(1)):
        port = free_port()
        aof = ["--appendonly", "yes", "--appendfsync", "always"]
        r = RedisServer(tmp, f"r{i}", aof, port=port).start()
        conf = redis_conf(tmp, f"c{i}", port=port, queue_mb=1, reconnect_min_ms=20,
                          reconnect_max_ms=200, shutdown_timeout_ms=10000)
        out = tmp.path(f"out{i}.jsonl")
        p, feeder = start_sensor_paced(tmp, conf, big, out, seconds=3)
        for _ in range(2):
            time.sleep(rnd.uniform(0.2, 1.2))
            r.kill9()
            time.sleep(rnd.uniform(0.1, 0.8))
            r = RedisServer(tmp, f"r{i}", aof, port=port).start()
        rc, err = finish(p, feeder=feeder)
        check(rc == 0, f"round {i}: exit {rc}: {err[-500:]}")
        lines = json_lines(out)
        check_exactly_once_in_order(stream_entries(r), lines, f"round {i}")
        s = summary(err)
        check(s["sent"] == len(lines) == s["submitted"] and s["spool_pending"] == 0,
              f"round {i}: {len(lines)} events, {s}")


def test_full_tmpfs_spool(tmp):
    """The spool on a 1 MB tmpfs (a mount namespace of the test's own) while
    Redis is away: ENOSPC is logged with the path and errno, counted, and the
    exit status says events were lost; what was spooled is replayed later."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return "skip", "needs root and unshare for a private tmpfs"
    big = make_big(tmp, 10)
    state = tmp.path("state")
    os.makedirs(state, exist_ok=True)
    port = free_port()
    conf = redis_conf(tmp, "c", port=port, reconnect_min_ms=20, reconnect_max_ms=100)
    keep = tmp.path("kept")
    os.makedirs(keep)
    script = ('mount -t tmpfs -o size=1m tmpfs "$1" || exit 99; '
              '"$2" -c "$3" -r "$4" --json="$5" 2> "$6"; rc=$?; cp "$1"/* "$7"/; exit $rc')
    p = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", state, BIN, conf, big,
                        tmp.path("out1.jsonl"), tmp.path("err1"), keep],
                       timeout=SENSOR_TIMEOUT)
    if p.returncode == 99:
        return "skip", "cannot mount a tmpfs in a private mount namespace"
    err1 = open(tmp.path("err1")).read()
    check(p.returncode == 1, f"exit {p.returncode}: {err1[-500:]}")
    s1 = summary(err1)
    spool_path = os.path.join(state, "scrapewatch.spool")
    check(re.search(rf"spool {re.escape(spool_path)}: .* failed: write: No space left on device "
                    r"\(errno 28\)", err1), f"no ENOSPC line: {err1[-600:]}")
    check(s1["dropped_spool_error"] > 0 and s1["spool_io_errors"] > 0, f"{s1}")
    check(s1["spooled"] + s1["dropped_spool_error"] == s1["submitted"]
          == len(json_lines(tmp.path("out1.jsonl"))), f"not every event accounted: {s1}")
    line = (f"scrapewatch: {s1['dropped_spool_error']} events were neither delivered to Redis "
            f"nor spooled (spool write errors: {s1['dropped_spool_error']})")
    check(line in err1.splitlines(), f"no closing line: {err1[-300:]}")
    check(err1.count("No space left on device") <= 3, "ENOSPC not rate-limited")
    # the spool that filled up, replayed into Redis
    os.environ["STATE_DIRECTORY"] = keep
    r = RedisServer(tmp, "r", port=port).start()
    rc, err2 = run_sensor(conf, KEEPALIVE, tmp.path("out2.jsonl"))
    check(rc == 0, f"run 2 exit {rc}: {err2[-500:]}")
    ids = run_ids(stream_entries(r))
    first = min(ids)
    check_run_accounted(ids[first], s1["submitted"], s1["dropped_spool_error"], "run 1")
    check(ids[first] == sorted(ids[first]), "run 1 out of order")


def spool_records(data):
    """[(offset, end, run, n)] of a spool file's records (format 2)."""
    out, off = [], 32
    while off + 12 <= len(data):
        check(data[off:off + 4] == b"\xffSWR", f"no record at {off}")
        length = int.from_bytes(data[off + 4:off + 8], "little")
        payload = data[off + 12:off + 12 + length]
        out.append((off, off + 12 + length, int.from_bytes(payload[8:16], "little"),
                    int.from_bytes(payload[16:24], "little")))
        off += 12 + length
    return out


DAMAGED = re.compile(r"bytes (\d+)\.\.(\d+) damaged")
CUT = re.compile(r"cut bytes (\d+)\.\.(\d+) off its end")


def test_corrupt_spool_resync(tmp):
    """Damage at random offsets of a spool: only the records it touched are
    lost; each damaged region is reported with its byte range; everything
    else reaches Redis exactly once."""
    import random
    rnd = random.Random(int(os.environ.get("SW_SEED", "13")))
    big = make_big(tmp, 3)
    port = free_port()
    conf = redis_conf(tmp, "c", port=port, reconnect_min_ms=20, reconnect_max_ms=100)
    rc, err = run_sensor(conf, big, tmp.path("out0.jsonl"))
    s0 = summary(err)
    check(rc == 0 and s0["spool_pending"] == s0["submitted"], f"spooling run: {rc} {s0}")
    spool = os.path.join(os.environ["STATE_DIRECTORY"], "scrapewatch.spool")
    pristine = open(spool, "rb").read()
    records = spool_records(pristine)
    check(len(records) == s0["submitted"], f"{len(records)} records, {s0}")
    r = RedisServer(tmp, "r", port=port).start()
    for i in range(rounds(3)):
        data = bytearray(pristine)
        spots = [0] if i == 0 else []   # round 0: a bad length in the first record
        spots += [rnd.randrange(32, len(data) - 4) for _ in range(rnd.randint(1, 4))]
        for k, at in enumerate(spots):
            if k == 0 and i == 0:
                at = 32 + 4
                spots[0] = at
            for b in range(4):
                data[at + b] ^= rnd.randint(1, 255)
        open(spool, "wb").write(bytes(data))
        run = records[0][2]
        hit = {n for off, end, _, n in records for at in spots if at < end and at + 4 > off}
        r.cmd("DEL", "{scrapewatch}:events")
        rc, err = run_sensor(conf, KEEPALIVE, tmp.path(f"out{i}.jsonl"))
        check(rc == 0, f"round {i}: exit {rc}: {err[-500:]}")
        ranges = [(int(a), int(b)) for a, b in DAMAGED.findall(err) + CUT.findall(err)]
        for at in spots:
            check(any(a <= at < b for a, b in ranges),
                  f"round {i}: damage at {at} not in a reported range {ranges}")
        got = run_ids(stream_entries(r)).get(run, [])
        want = [n for _, _, _, n in records if n not in hit]
        check(got == want, f"round {i}: {len(got)} replayed, {len(want)} expected "
                           f"({len(hit)} records damaged)")
        s = summary(err)
        regions = len(DAMAGED.findall(err))
        check(s["spool_skipped_regions"] == regions, f"round {i}: {s}, {regions} regions logged")


def netns(*argv):
    return subprocess.run(["ip", *argv], capture_output=True, text=True, timeout=20)


def test_sigterm_drains_live_capture(tmp):
    """SIGTERM right after a burst on a veth of a network namespace of the
    test's own: what the kernel held is still read; ops equal the capture's
    (or the difference is counted), and all events reach Redis exactly once."""
    if os.geteuid() != 0 or not shutil.which("tcpreplay"):
        return "skip", "needs root and tcpreplay for a network namespace"
    ns = f"swdrain{os.getpid()}"
    if netns("netns", "add", ns).returncode != 0:
        return "skip", "cannot create a network namespace"
    try:
        netns("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
        netns("netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1")
        for argv in (["-n", ns, "link", "add", "sw0", "type", "veth", "peer", "name", "sw1"],
                     ["-n", ns, "link", "set", "sw0", "up"], ["-n", ns, "link", "set", "sw1", "up"],
                     ["-n", ns, "link", "set", "lo", "up"]):
            res = netns(*argv)
            check(res.returncode == 0, f"ip {' '.join(argv)}: {res.stderr}")
        big = make_big(tmp, int(os.environ.get("SW_DRAIN_MB", "20")))
        ref = tmp.path("ref.jsonl")
        subprocess.run([BIN, "-r", big, f"--json={ref}"], check=True, timeout=60,
                       stderr=subprocess.DEVNULL)
        want_ops = sum(1 for l in json_lines(ref) if '"event_type":"op"' in l)
        # Redis inside the namespace, on its own loopback, for the sensor there
        port = 6379
        rdir = tmp.path("redis")
        os.makedirs(rdir)
        rs = subprocess.Popen(["ip", "netns", "exec", ns, "redis-server", "--port", str(port),
                               "--bind", "127.0.0.1", "--save", "", "--dir", rdir],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tmp.procs.append(rs)

        def redis_cli(*args):
            res = subprocess.run(["ip", "netns", "exec", ns, "redis-cli", "-p", str(port),
                                  *args], capture_output=True, text=True, timeout=10)
            return res.stdout.strip()
        wait_for(lambda: redis_cli("PING") == "PONG", 10, "redis-server in the namespace")
        conf = tmp.path("live.conf")
        with open(conf, "w") as f:
            f.write("events = { stats_interval = 0; };\ncapture = { ring_kb = 65536; };\n"
                    f"output = {{ redis = {{ enabled = true; port = {port}; }}; }};\n")
        out = tmp.path("out.jsonl")
        err = open(tmp.path("live.err"), "w+")
        p = subprocess.Popen(["ip", "netns", "exec", ns, BIN, "-c", conf, "-i", "sw1",
                              f"--json={out}"], stdout=subprocess.DEVNULL, stderr=err)
        p.err_file = err
        tmp.procs.append(p)
        time.sleep(1.0)   # the capture is open
        res = subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", "sw0",
                              "--topspeed", big], capture_output=True, text=True, timeout=60)
        check(res.returncode == 0, f"tcpreplay: {res.stderr[-300:]}")
        p.send_signal(signal.SIGTERM)
        rc, err = finish(p, timeout=30)
        rx = int(netns("netns", "exec", ns, "cat", "/sys/class/net/sw1/statistics/rx_packets")
                 .stdout.strip() or -1)
        check(rc == 0, f"exit {rc}: {err[-400:]}")
        events = [json.loads(x) for x in json_lines(out)]
        final = events[-1]
        check(final["event_type"] == "stats" and final["final"], "no final stats")
        cap = final["stats"]["capture"]
        ops = sum(1 for e in events if e["event_type"] == "op")
        print(f"redis/sigterm_drains: {ops} ops of {want_ops}; {rx} packets reached the "
              f"interface; capture {cap}", file=sys.stderr)
        # every packet that reached the interface was read or counted
        check(cap["packets"] + cap["kernel_drops"] + cap["unread_at_stop"] == rx,
              f"{rx} packets reached sw1, capture says {cap}")
        lost_on_the_way = cap["kernel_drops"] + cap["unread_at_stop"] + cap["ring_drops"]
        check(ops == want_ops or (ops < want_ops and lost_on_the_way > 0),
              f"{ops} ops of {want_ops}, nothing counted: {cap}")
        xlen = redis_cli("XLEN", "{scrapewatch}:events")
        check(xlen == str(len(events)), f"Redis holds {xlen} of {len(events)} events")
        s = summary(err)
        check(s["sent"] == len(events) and s["submitted"] == len(events), f"{s}")

        # traffic that never stops: the drain ends at its deadline anyway
        err2 = open(tmp.path("endless.err"), "w+")
        p = subprocess.Popen(["ip", "netns", "exec", ns, BIN, "-i", "sw1", "-j"],
                             stdout=subprocess.DEVNULL, stderr=err2)
        p.err_file = err2
        tmp.procs.append(p)
        flood = subprocess.Popen(["ip", "netns", "exec", ns, "tcpreplay", "-q", "-i", "sw0",
                                  "--loop=0", "--topspeed", KEEPALIVE],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tmp.procs.append(flood)
        try:
            time.sleep(1.0)
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            rc, _ = finish(p, timeout=20)
            stop_s = time.monotonic() - t0
        finally:
            flood.kill()
        check(rc == 0 and stop_s < 10, f"under endless traffic: exit {rc} after {stop_s:.1f} s")
    finally:
        netns("netns", "del", ns)


# ---- issue 16: the alert stream, the metrics stream, the dashboard

STORY = os.path.join(ROOT, "pcaps/scenarios/seed_story.pcap")


def epoch_ms(timestamp):
    """"2026-11-29T20:56:49.243000+0000" -> epoch milliseconds."""
    import datetime
    t = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(t.timestamp() * 1000)


def expected_minutes(events):
    """What the metrics stream must hold, computed here from the JSON lines:
    {minute ms: {field: value}}, and the documents read per actor/server."""
    minutes, actors, servers = {}, {}, {}
    for e in events:
        if e["event_type"] == "stats":
            continue
        m = minutes.setdefault(epoch_ms(e["timestamp"]) // 60000 * 60000,
                               {"ops": 0, "alerts": 0, "documents": 0, "bytes": 0,
                                "alerts.severity.1": 0, "alerts.severity.2": 0,
                                "alerts.severity.3": 0})
        if e["event_type"] == "op":
            op = e["op"]
            m["ops"] += 1
            m["bytes"] += op["request_bytes"] + op["response_bytes"]
            docs = op.get("items", 0) if op["class"] == "read" else 0
            m["documents"] += docs
            actors[e["src_ip"]] = actors.get(e["src_ip"], 0) + docs
            srv = f"{e['dest_ip']}:{e['dest_port']}"
            servers[srv] = servers.get(srv, 0) + docs
        elif e["event_type"] == "alert":
            m["alerts"] += 1
            m[f"alerts.severity.{e['alert']['severity']}"] += 1
            rule = f"alerts.rule.{e['alert']['signature_id']}"
            m[rule] = m.get(rule, 0) + 1
    return minutes, actors, servers


def zset(server, key):
    z = server.cmd("ZRANGE", key, 0, -1, "WITHSCORES")
    return {z[i]: float(z[i + 1]) for i in range(0, len(z), 2)}


def check_alerts_and_metrics(r, events, what):
    """The alert stream, every stream entry's ts, the metrics stream and the
    top lists, against the JSON lines of the run(s) that made them."""
    alerts = [e for e in events if e["event_type"] == "alert"]
    check(len(alerts) >= 3, f"{what}: only {len(alerts)} alerts to look at")
    got = stream_entries(r, "{scrapewatch}:alerts")
    check(len(got) == len(alerts), f"{what}: {len(got)} entries in the alert stream, "
          f"{len(alerts)} alerts written")
    for i, (g, a) in enumerate(zip(got, alerts)):
        check(json.loads(g["json"]) == a, f"{what}: alert entry {i} is not alert {i}")
        check(g["ts"] == str(epoch_ms(a["timestamp"])), f"{what}: alert {i} ts {g['ts']}")
        check(g["severity"] == str(a["alert"]["severity"])
              and g["severity_word"] == a["alert"]["rule_info"]["severity"]
              and g["rule"] == str(a["alert"]["signature_id"]),
              f"{what}: alert {i} severity/rule {g}")
    for i, g in enumerate(stream_entries(r)):
        check(g["ts"] == str(epoch_ms(json.loads(g["json"])["timestamp"])),
              f"{what}: event entry {i} ts {g.get('ts')}")
    minutes, actors, servers = expected_minutes(events)
    entries = stream_entries(r, "{scrapewatch}:metrics:scrapewatch")
    by_minute = {int(e["ts"]): e for e in entries}
    check(len(entries) == len(by_minute) == len(minutes),
          f"{what}: {len(entries)} metrics entries for minutes {sorted(minutes)}")
    for minute, want in minutes.items():
        e = by_minute.get(minute)
        check(e is not None, f"{what}: no metrics entry for minute {minute}")
        for k, v in want.items():
            check(e.get(k) == str(v), f"{what}: minute {minute} {k} = {e.get(k)}, expected {v}")
        check(e["sensor"] == "scrapewatch" and e["drops"] == "0", f"{what}: {e}")
    check(zset(r, "{scrapewatch}:top:actors") == {k: float(v) for k, v in actors.items()},
          f"{what}: top actors {zset(r, '{scrapewatch}:top:actors')}, expected {actors}")
    check(zset(r, "{scrapewatch}:top:servers") == {k: float(v) for k, v in servers.items()},
          f"{what}: top servers {zset(r, '{scrapewatch}:top:servers')}, expected {servers}")
    return entries


def test_alert_and_metrics_streams(tmp):
    r = RedisServer(tmp, "r").start()
    conf = redis_conf(tmp, "c", port=r.port)
    out = tmp.path("out.jsonl")
    rc, err = run_sensor(conf, STORY, out)
    check(rc == 0, f"exit {rc}: {err[-500:]}")
    events = [json.loads(x) for x in json_lines(out)]
    entries = check_alerts_and_metrics(r, events, "seed story")
    for e in entries:   # the id is the minute: a time range selects by event time
        check(e["_entry"].split("-")[0] == e["ts"], f"metrics entry id {e['_entry']} ts {e['ts']}")
    check(r.cmd("TTL", "{scrapewatch}:top:actors") > 0, "top list without expiry")
    check(summary(err)["errors"] == 0, f"errors: {summary(err)}")


def test_alert_and_metrics_streams_spooled(tmp):
    """Redis away for the first run: its alerts and its minute wait in the
    spool and reach both streams when the next run replays it; the next
    run's older minute gets an id of now (Redis refuses an older id) and its
    ts still names the minute."""
    port = free_port()   # nothing listens there yet
    spool = tmp.path("spool")
    conf = redis_conf(tmp, "c", port=port, spool_path=spool, reconnect_min_ms=50,
                      reconnect_max_ms=200, shutdown_timeout_ms=500)
    out1 = tmp.path("out1.jsonl")
    rc, err1 = run_sensor(conf, STORY, out1)
    check(rc == 0, f"run 1 exit {rc}: {err1[-500:]}")
    s1 = summary(err1)
    lines1 = json_lines(out1)
    check(s1["sent"] == 0 and s1["spool_pending"] == len(lines1), f"run 1: {s1}")
    r = RedisServer(tmp, "r", port=port).start()
    out2 = tmp.path("out2.jsonl")
    rc, err2 = run_sensor(conf, KEEPALIVE, out2)
    check(rc == 0, f"run 2 exit {rc}: {err2[-500:]}")
    events = [json.loads(x) for x in lines1 + json_lines(out2)]
    entries = check_alerts_and_metrics(r, events, "spooled, then replayed")
    ts = [int(e["ts"]) for e in entries]
    check(len(entries) >= 2 and ts[-1] < ts[0], f"the second run's minutes are not older: {ts}")
    last = entries[-1]
    check(int(last["_entry"].split("-")[0]) > ts[0],
          f"an older minute got id {last['_entry']} (newest before it: {ts[0]})")


DASHBOARD = os.path.join(ROOT, "docs/grafana-dashboard.json")


def dashboard_command(target, variables, time_from, time_to):
    """The command the redis-datasource plugin issues for a panel's query
    (its query model: command, keyName, start/end/count, min/max); an xrange
    without start/end takes the dashboard's time range as stream ids."""
    key = target["keyName"]
    for name, value in variables.items():
        key = key.replace("$" + name, value)
    cmd = target["command"]
    if cmd in ("xrange", "xrevrange"):
        start = target.get("start") or f"{time_from}-0"
        end = target.get("end") or f"{time_to}-0"
        args = [key, start, end] if cmd == "xrange" else [key, end, start]
        if target.get("count"):
            args += ["COUNT", target["count"]]
        return [cmd.upper(), *args]
    if cmd == "zrange":
        return ["ZRANGE", key, target["min"], target["max"], "WITHSCORES"]
    if cmd == "hgetall":
        return ["HGETALL", key]
    raise Fail(f"dashboard query command {cmd!r} not known to this test")


def check_dashboard_reply(panel, cmd, reply):
    """Non-empty, and typed as the panel's transformations expect: the fields
    it converts to numbers are numbers in every entry."""
    title = panel["title"]
    check(isinstance(reply, list) and reply, f"{title}: {cmd} answered {reply!r}")
    numeric = [c["targetField"] for t in panel.get("transformations", [])
               if t["id"] == "convertFieldType" for c in t["options"]["conversions"]]
    if cmd[0] in ("XRANGE", "XREVRANGE"):
        rows = [dict(zip(f[::2], f[1::2])) for _, f in reply]
    elif cmd[0] == "HGETALL":
        rows = [dict(zip(reply[::2], reply[1::2]))]
    else:   # ZRANGE WITHSCORES: member, score pairs
        check(len(reply) % 2 == 0, f"{title}: odd ZRANGE reply")
        for score in reply[1::2]:
            float(score)
        return
    for row in rows:
        for f in numeric:
            check(f in row and re.fullmatch(r"-?\d+", row[f]),
                  f"{title}: field {f} = {row.get(f)!r} in {cmd}")


def test_dashboard_queries(tmp):
    r = RedisServer(tmp, "r").start()
    conf = redis_conf(tmp, "c", port=r.port)
    out = tmp.path("out.jsonl")
    rc, err = run_sensor(conf, STORY, out)
    check(rc == 0, f"exit {rc}: {err[-500:]}")
    times = [epoch_ms(json.loads(x)["timestamp"]) for x in json_lines(out)]
    # the dashboard's time range: around the capture, as an analyst would pick it
    time_from, time_to = min(times) - 3600000, max(times) + 3600000
    dash = json.load(open(DASHBOARD))
    variables = {v["name"]: v["current"]["value"] for v in dash["templating"]["list"]}
    check(variables.get("sensor") == "scrapewatch", f"variables {variables}")
    commands = 0
    for panel in dash["panels"]:
        check(panel["datasource"]["type"] == "redis-datasource", f"{panel['title']}: datasource")
        for target in panel["targets"]:
            cmd = dashboard_command(target, variables, time_from, time_to)
            check_dashboard_reply(panel, cmd, r.cmd(*cmd))
            commands += 1
    check(commands >= 5, f"only {commands} queries in the dashboard")
    # and the time range matters: an hour before the capture shows no minute
    empty = r.cmd("XRANGE", "{scrapewatch}:metrics:scrapewatch", f"{time_from}-0",
                  f"{min(times) - 60000}-0")
    check(empty == [], f"metrics outside the event time range: {empty}")


TESTS = [
    ("fields_and_order", test_fields_and_order),
    ("maxlen_trimming", test_maxlen_trimming),
    ("publish_subscriber", test_publish_subscriber),
    ("consumer_group", test_consumer_group),
    ("unix_socket", test_unix_socket),
    ("auth_and_db", test_auth_and_db),
    ("kill9_restart_exactly_once", test_kill9_restart),
    ("sigterm_while_down_spool_replay", test_sigterm_while_down_then_replay),
    ("oom_then_memory_raised", test_oom_then_memory_raised),
    ("reply_lost_not_sent_twice", test_reply_lost_not_sent_twice),
    ("listener_never_answers", test_listener_never_answers),
    ("own_traffic_excluded", test_own_traffic_excluded),
    ("kill9_sensor_loop_accounted", test_kill9_sensor_loop),
    ("kill9_redis_loop_exactly_once", test_kill9_redis_loop),
    ("full_tmpfs_spool_loud", test_full_tmpfs_spool),
    ("corrupt_spool_resync", test_corrupt_spool_resync),
    ("sigterm_drains_live_capture", test_sigterm_drains_live_capture),
    ("alert_and_metrics_streams", test_alert_and_metrics_streams),
    ("alert_and_metrics_streams_spooled", test_alert_and_metrics_streams_spooled),
    ("dashboard_queries", test_dashboard_queries),
]


def main():
    if not shutil.which("redis-server"):
        print("skip redis/all: redis-server not installed (apt-get install redis-server)")
        return 0
    failed = 0
    for name, fn in TESTS:
        if ONLY and name not in ONLY:
            continue
        tmp = Tmp()
        # the default spool location of every sensor of this test
        os.environ["STATE_DIRECTORY"] = tmp.path("state")
        t0 = time.monotonic()
        try:
            res = fn(tmp)
            if isinstance(res, tuple) and res[0] == "skip":
                print(f"skip redis/{name}: {res[1]}")
            else:
                print(f"ok redis/{name}")
        except Fail as e:
            failed += 1
            print(f"FAIL redis/{name}: {e}")
            print(f"redis/{name}: {e}", file=sys.stderr)
        except Exception as e:   # a bug in the test or a crash: still a failure
            failed += 1
            print(f"FAIL redis/{name}: {type(e).__name__}: {e}")
            print(f"redis/{name}: {type(e).__name__}: {e}", file=sys.stderr)
        finally:
            tmp.cleanup()
        print(f"redis/{name}: {time.monotonic() - t0:.1f} s", file=sys.stderr)
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
