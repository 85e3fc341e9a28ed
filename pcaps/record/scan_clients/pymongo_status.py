#!/usr/bin/python3
"""python3-pymongo doing what nmap's mongodb-info and mongodb-databases ask
(serverStatus, buildInfo, listDatabases) as an application's health page
would: the quiet counterpart of nmap's probes (issue 14, point 5).
    pymongo_status.py HOST PORT
Prints one JSON object with what the driver returned."""
import json
import sys

import pymongo

host, port = sys.argv[1], int(sys.argv[2])
client = pymongo.MongoClient(host, port, appname="sw-status-page", directConnection=True,
                             serverSelectionTimeoutMS=5000)
status = client.admin.command("serverStatus")
build = client.admin.command("buildInfo")
dbs = client.admin.command("listDatabases")
client.close()
print(json.dumps({"client": "python3-pymongo", "version": pymongo.version,
                  "calls": [{"call": "serverStatus", "ok": status.get("ok")},
                            {"call": "buildInfo", "version": build.get("version")},
                            {"call": "listDatabases", "databases": len(dbs.get("databases", []))}]}))
