#!/usr/bin/python3
"""python3-elasticsearch (Debian) sending _bulk and _msearch with no index in
the path: every action line and msearch header names its index (issue 14,
point 8).
    es_bulk_msearch.py URL
Prints one JSON object with what the client returned."""
import json
import sys

import elasticsearch
from elasticsearch import Elasticsearch, helpers

es = Elasticsearch([sys.argv[1]])
actions = []
for i in range(6):
    actions.append({"_op_type": "index", "_index": "orders", "_id": "o%d" % i, "amount": i})
for i in range(3):
    actions.append({"_op_type": "index", "_index": "invoices", "_id": "i%d" % i, "total": i})
actions.append({"_op_type": "delete", "_index": "sessions", "_id": "s1"})
ok, errors = helpers.bulk(es, actions, raise_on_error=False)
body = [{"index": "tickets"}, {"query": {"match_all": {}}, "size": 10},
        {"index": ["orders", "invoices"]}, {"query": {"match_all": {}}, "size": 5}]
res = es.msearch(body=body)
print(json.dumps({"client": "python3-elasticsearch", "version": ".".join(map(str, elasticsearch.__version__)),
                  "bulk": {"actions": len(actions), "ok": ok, "errors": len(errors)},
                  "msearch": {"searches": 2, "responses": len(res.get("responses", []))}}))
