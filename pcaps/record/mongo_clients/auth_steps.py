#!/usr/bin/python3
"""python3-pymongo (Debian) logging in to mongo_server.py, for the issue-14
scenarios (record_scenarios_auth.sh). The server knows one user: alice,
password s3cret, in admin (SCRAM-SHA-256).

    auth_steps.py HOST PORT guess N
        N logins as alice with wrong passwords (guess-01, guess-02, ...), one
        MongoClient each: every one must be refused (AuthenticationFailed).
    auth_steps.py HOST PORT app [--password PW] [--rounds R] [--pause S]
        An application session on one client: log in when PW is given (and
        check it worked with a ping), wait S seconds, then R rounds of
        listCollections shop, find shop.orders, find shop.customers limit 20,
        insert one order, 1 s apart. "work_at" in the output is the time
        (epoch seconds) just before the first round: what comes after it is
        the session a sensor picking the flow up mid-session sees.

Prints one JSON object with what the driver returned."""
import argparse
import json
import time

import pymongo
from pymongo.errors import OperationFailure


def client_for(args, password):
    kw = dict(appname="shop-app", directConnection=True, serverSelectionTimeoutMS=5000)
    if password is not None:
        kw.update(username="alice", password=password, authSource="admin",
                  authMechanism="SCRAM-SHA-256")
    return pymongo.MongoClient(args.host, args.port, **kw)


def guess(args):
    refused, codes = 0, {}
    for i in range(1, args.n + 1):
        client = client_for(args, "guess-%02d" % i)
        try:
            client.admin.command("ping")
        except OperationFailure as e:
            refused += 1
            codes[str(e.code)] = codes.get(str(e.code), 0) + 1
        finally:
            client.close()
    return {"attempts": args.n, "refused": refused, "codes": codes}


def app(args):
    client = client_for(args, args.password)
    calls = []
    if args.password is not None:
        client.admin.command("ping")          # the login happens here
        calls.append({"call": "login+ping", "user": "alice"})
    time.sleep(args.pause)
    work_at = time.time()
    for r in range(args.rounds):
        colls = client["shop"].list_collection_names()
        orders = list(client["shop"]["orders"].find({}))
        customers = list(client["shop"]["customers"].find({}).limit(20))
        client["shop"]["orders"].insert_one({"order": 9000 + r, "total": 12.5})
        calls.append({"round": r, "collections": len(colls), "orders": len(orders),
                      "customers": len(customers), "inserted": 1})
        time.sleep(1)
    client.close()
    return {"work_at": work_at, "calls": calls}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("guess")
    g.add_argument("n", type=int)
    a = sub.add_parser("app")
    a.add_argument("--password")
    a.add_argument("--rounds", type=int, default=3)
    a.add_argument("--pause", type=float, default=2.0)
    args = ap.parse_args()
    out = guess(args) if args.cmd == "guess" else app(args)
    out.update(client="python3-pymongo", version=pymongo.version)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
