#!/usr/bin/python3
"""Redis client steps for the record scripts, with Debian's python3-redis.

    redis_steps.py [--host H] [--port P] [--source ADDR] [--password PW] STEP [ARGS]

Each step prints one JSON object: what the client itself got back (keys,
items, hits). --source binds the client's sockets to ADDR (a loopback stand-in
for an outside or inside party in the scenarios).

Steps:
  seed S H L T Z       S strings user:NNNN, H hashes customer:NNNN (4 fields),
                       L lists orders:NNNN (5 items), T sets tags:NNNN (3
                       members), Z sorted sets scores:NNNN (4 members); fake data
  dump                 SCAN (COUNT 100) the whole keyspace, then TYPE and
                       GET / HGETALL / LRANGE 0 -1 / SMEMBERS / ZRANGE 0 -1
                       WITHSCORES for every key, one command at a time
  dump_pipelined       the same, but per SCAN batch one pipeline of TYPEs and
                       one of value commands
  app                  the redis_py capture (server with requirepass): wrong
                       AUTH, a command without AUTH, good AUTH, a pipeline of 50,
                       scan_iter(count=100), HGETALL, DBSIZE, INFO keyspace
  trusted              ordinary application traffic on known keys
"""
import argparse
import json
import socket
import sys


def bind_source(addr):
    """Make every socket this process opens connect from addr."""
    base = socket.socket

    class Bound(base):
        def connect(self, address):
            self.bind((addr, 0))
            return super().connect(address)
    socket.socket = Bound


def fake_string(i):
    return json.dumps({"id": i, "name": "user%04d" % i, "email": "user%04d@example.test" % i,
                       "plan": ("free", "pro", "team")[i % 3]})


def seed(r, s, h, l, t, z):
    p = r.pipeline(transaction=False)
    for i in range(1, s + 1):
        p.set("user:%04d" % i, fake_string(i))
    for i in range(1, h + 1):
        p.hset("customer:%04d" % i, mapping={"name": "c%05d" % i, "plan": "gold",
                                             "city": "Testville", "since": str(2010 + i % 14)})
    for i in range(1, l + 1):
        p.rpush("orders:%04d" % i, *["order-%d-%d" % (i, k) for k in range(5)])
    for i in range(1, t + 1):
        p.sadd("tags:%04d" % i, "red", "green", "blue")
    for i in range(1, z + 1):
        p.zadd("scores:%04d" % i, {"a": 1, "b": 2, "c": 3, "d": 4})
    p.execute()
    return {"keys": r.dbsize(), "strings": s, "hashes": h, "lists": l, "sets": t, "zsets": z}


def dump_pipelined(r):
    """SCAN COUNT 100; for each batch one pipeline of TYPE per key, then one
    pipeline of the value command per key (how bulk dump scripts go fast)."""
    cursor, scans, seen = 0, 0, set()
    per_type, values, value_bytes = {}, {}, 0
    read = {"string": ("GET", lambda p, k: p.get(k)), "hash": ("HGETALL", lambda p, k: p.hgetall(k)),
            "list": ("LRANGE", lambda p, k: p.lrange(k, 0, -1)), "set": ("SMEMBERS", lambda p, k: p.smembers(k)),
            "zset": ("ZRANGE", lambda p, k: p.zrange(k, 0, -1))}
    commands = {"SCAN": 0, "TYPE": 0}
    pipelines = 0
    while True:
        cursor, batch = r.scan(cursor, count=100)
        scans += 1
        batch = [k for k in batch if k not in seen]
        seen.update(batch)
        if batch:
            p = r.pipeline(transaction=False)
            for k in batch:
                p.type(k)
            types = [t.decode() for t in p.execute()]
            p = r.pipeline(transaction=False)
            for k, t in zip(batch, types):
                name, call = read[t]
                call(p, k)
                commands[name] = commands.get(name, 0) + 1
                per_type[t] = per_type.get(t, 0) + 1
            for t, v in zip(types, p.execute()):
                n = 1 if t == "string" else len(v)
                values[t] = values.get(t, 0) + n
                value_bytes += len(v) if t == "string" else sum(len(a) + len(v[a]) for a in v) if t == "hash" else sum(map(len, v))
            commands["TYPE"] += len(batch)
            pipelines += 2
        if cursor == 0:
            break
    commands["SCAN"] = scans
    return {"scan_calls": scans, "pipelines": pipelines, "keys_dumped": len(seen), "keys_by_type": per_type,
            "values_received_by_type": values, "commands": commands, "value_bytes": value_bytes}


def dump(r):
    keys, cursor, scans = [], 0, 0
    while True:
        cursor, batch = r.scan(cursor, count=100)
        scans += 1
        keys += batch
        if cursor == 0:
            break
    keys = list(dict.fromkeys(keys))      # SCAN may return a key twice
    per_type = {}
    values = {}
    value_bytes = 0
    for k in keys:
        t = r.type(k).decode()
        per_type[t] = per_type.get(t, 0) + 1
        if t == "string":
            v = r.get(k); n = 1; value_bytes += len(v)
        elif t == "hash":
            v = r.hgetall(k); n = len(v); value_bytes += sum(len(a) + len(b) for a, b in v.items())
        elif t == "list":
            v = r.lrange(k, 0, -1); n = len(v); value_bytes += sum(map(len, v))
        elif t == "set":
            v = r.smembers(k); n = len(v); value_bytes += sum(map(len, v))
        elif t == "zset":
            v = r.zrange(k, 0, -1, withscores=True); n = len(v); value_bytes += sum(len(a) for a, _ in v)
        else:
            n = 0
        values[t] = values.get(t, 0) + n
    return {"scan_calls": scans, "keys_dumped": len(keys), "keys_by_type": per_type,
            "values_received_by_type": values,
            "commands": {"SCAN": scans, "TYPE": len(keys), "GET": per_type.get("string", 0),
                         "HGETALL": per_type.get("hash", 0), "LRANGE": per_type.get("list", 0),
                         "SMEMBERS": per_type.get("set", 0), "ZRANGE": per_type.get("zset", 0)},
            "value_bytes": value_bytes}


def app(host, port, password):
    import redis
    out = []
    # 1. wrong password (own connection, closed after)
    r = redis.Redis(host=host, port=port, password="not-the-password")
    try:
        r.ping()
        out.append({"call": "AUTH wrong", "result": "accepted?!"})
    except redis.exceptions.RedisError as e:       # 4.3.4 raises ResponseError here
        out.append({"call": "AUTH wrong (on connect; the PING is never sent)",
                    "exception": type(e).__name__, "error": str(e)})
    r.close()
    # 2. no password at all: NOAUTH
    r = redis.Redis(host=host, port=port)
    try:
        r.get("user:0001")
        out.append({"call": "GET user:0001 without AUTH", "result": "value?!"})
    except redis.exceptions.RedisError as e:
        out.append({"call": "GET user:0001 without AUTH", "exception": type(e).__name__, "error": str(e)})
    r.close()
    # 3. good password; everything below on this one connection
    r = redis.Redis(host=host, port=port, password=password)
    out.append({"call": "AUTH good + PING", "result": r.ping()})
    p = r.pipeline(transaction=False)
    names = []
    for i in range(1, 21):                    # 20 SET
        p.set("session:%02d" % i, "token-%02d" % i); names.append("SET")
    for i in range(1, 21):                    # 20 GET: 15 hits (user:0001-15), 5 misses
        p.get("user:%04d" % i if i <= 15 else "missing:%02d" % i); names.append("GET")
    for i in range(10):                       # 10 MGET of 3 keys: 2 hits, 1 miss each
        p.mget("user:%04d" % (i + 1), "session:%02d" % (i + 1), "missing:x%d" % i); names.append("MGET")
    res = p.execute()
    gets = res[20:40]
    mgets = res[40:50]
    out.append({"call": "pipeline of 50 (transaction=False)", "commands": {"SET": 20, "GET": 20, "MGET": 10},
                "set_ok": sum(1 for x in res[:20] if x is True),
                "get_hits": sum(1 for x in gets if x is not None),
                "get_misses": sum(1 for x in gets if x is None),
                "mget_keys": 30, "mget_hits": sum(1 for m in mgets for x in m if x is not None),
                "mget_misses": sum(1 for m in mgets for x in m if x is None)})
    n = 0
    # scan_iter sends SCAN cursor COUNT 100 until the cursor is 0; count its calls
    calls = [0]
    orig = r.scan

    def counting_scan(*a, **k):
        calls[0] += 1
        return orig(*a, **k)
    r.scan = counting_scan
    keys = set()
    for k in r.scan_iter(count=100):
        n += 1
        keys.add(k)
    out.append({"call": "scan_iter(count=100)", "scan_calls": calls[0], "keys_yielded": n,
                "distinct_keys": len(keys)})
    h = r.hgetall("customer:0001")
    out.append({"call": "HGETALL customer:0001", "fields": len(h)})
    out.append({"call": "DBSIZE", "result": r.dbsize()})
    info = r.info("keyspace")
    out.append({"call": "INFO keyspace", "result": {k: v for k, v in info.items()}})
    r.close()
    return {"calls": out}


def trusted(r):
    out = {}
    out["GET hits"] = sum(1 for i in range(1, 21) if r.get("user:%04d" % i) is not None)
    for i in range(1, 11):
        r.set("session:%04d" % i, "token-%04d" % i, ex=3600)
    out["SET"] = 10
    m = r.mget(["user:%04d" % i for i in range(21, 41)])
    out["MGET keys"] = len(m)
    out["MGET hits"] = sum(1 for x in m if x is not None)
    out["HGETALL fields"] = sum(len(r.hgetall("customer:%04d" % i)) for i in range(1, 11))
    out["HGETALL calls"] = 10
    cursor, batch = r.scan(0, match="session:*", count=50)
    out["SCAN 0 MATCH session:* COUNT 50"] = {"cursor": cursor, "keys": len(batch)}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=6379)
    ap.add_argument("--source")
    ap.add_argument("--password")
    ap.add_argument("step")
    ap.add_argument("args", nargs="*", type=int)
    a = ap.parse_args()
    if a.source:
        bind_source(a.source)
    import redis
    if a.step == "app":
        out = app(a.host, a.port, a.password)
    else:
        r = redis.Redis(host=a.host, port=a.port, password=a.password)
        if a.step == "seed":
            out = seed(r, *a.args)
        elif a.step == "dump":
            out = dump(r)
        elif a.step == "dump_pipelined":
            out = dump_pipelined(r)
        elif a.step == "trusted":
            out = trusted(r)
        else:
            sys.exit("unknown step " + a.step)
        r.close()
    out["client"] = "python3-redis " + redis.__version__
    print(json.dumps(out))


if __name__ == "__main__":
    main()
