#!/usr/bin/env python3
"""What a client received in one CouchDB response body, for the .facts.json
of record_couchdb.sh:  couch_body_facts.py KIND BODYFILE  ->  JSON on stdout.

KIND says where the documents are: rows (_all_docs, views: rows[] and
total_rows), results (_changes normal/longpoll: results[]), lines
(_changes continuous: one change per line), events (_changes eventsource:
one change per "data:" line; results[] when the server answered a normal
feed instead, as PouchDB Server does), docs (_find: docs[]), list (a
JSON array: _all_dbs), db (database info: doc_count), none."""
import json
import sys

kind, path = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read().decode("utf-8", "replace")
out = {}
if kind == "lines":
    out["items"] = sum(1 for l in raw.splitlines() if l.strip() and '"id"' in l)
elif kind == "events" and raw.lstrip().startswith("{"):
    out["items"] = len(json.loads(raw)["results"])   # a server without eventsource:
    out["answered_as"] = "normal"                      # a normal feed instead
elif kind == "events":
    out["items"] = sum(1 for l in raw.splitlines() if l.startswith("data:") and '"id"' in l)
elif kind != "none":
    body = json.loads(raw)
    if kind == "rows":
        out["items"] = len(body["rows"])
        out["total"] = body["total_rows"]
    elif kind == "results":
        out["items"] = len(body["results"])
    elif kind == "docs":
        out["items"] = len(body["docs"])
    elif kind == "list":
        out["items"] = len(body)
    elif kind == "db":
        out["total"] = body["doc_count"]
print(json.dumps(out))
