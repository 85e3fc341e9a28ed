#!/usr/bin/python3
"""pysolr_scenario.py URL MODE - Debian's python3-pysolr against
pcaps/record/solr_server.py for the detection scenarios. Prints what the
client received, one entry per call, as JSON on stdout.

    app   an application: 4 small searches (rows 10-20, one filtered by
          category, one by id) on products, an add of one document (commit)
    dump  a scraper: cores STATUS, then a cursorMark walk of products
          (sort id asc, rows 1000) until the mark stops moving
"""
import json
import sys

import pysolr

url, mode = sys.argv[1], sys.argv[2]
calls = []
products = pysolr.Solr(url + "/solr/products", timeout=30)
if mode == "app":
    for q, rows in (("name:\"Product 17\"", 10), ("category:toys", 20), ("id:p00042", 10),
                    ("category:garden", 10)):
        r = products.search(q, rows=rows)
        calls.append({"call": "select", "q": q, "rows": rows, "documents": len(r.docs), "numFound": r.hits})
    products.add([{"id": "p09001", "name": "Product new", "category": "tools"}], commit=True)
    calls.append({"call": "update", "added": 1})
elif mode == "dump":
    status = json.loads(pysolr.SolrCoreAdmin(url + "/solr/admin/cores").status())
    calls.append({"call": "admin/cores", "cores": len(status["status"])})
    mark, pages, dumped = "*", 0, 0
    while True:
        r = products.search("*:*", sort="id asc", rows=1000, cursorMark=mark)
        calls.append({"call": "select", "cursor": True, "documents": len(r.docs), "numFound": r.hits})
        dumped += len(r.docs)
        pages += 1
        if r.nextCursorMark == mark:
            break
        mark = r.nextCursorMark
    calls.append({"call": "dump", "pages": pages, "documents": dumped})
else:
    sys.exit("mode: app or dump")
print(json.dumps({"client": "python3-pysolr", "mode": mode, "calls": calls}))
