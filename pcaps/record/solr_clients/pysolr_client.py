#!/usr/bin/python3
"""A Solr client session recorded by record_solr.sh with Debian's
python3-pysolr: ping, a search, a cursorMark deep-paging dump of a core,
a filtered search, core STATUS, an add and a delete by query. Prints what
the client received, one entry per call, as JSON on stdout.

    /usr/bin/python3 pysolr_client.py http://127.0.0.1:8983
"""
import json
import sys

import pysolr

url = sys.argv[1]
calls = []
products = pysolr.Solr(url + "/solr/products", timeout=30)
products._send_request("get", "admin/ping/?wt=json")   # no ping() in 3.8
calls.append({"call": "ping"})
r = products.search("*:*", rows=100)
calls.append({"call": "select", "documents": len(r.docs), "numFound": r.hits})
mark, pages, dumped = "*", 0, 0
while True:
    r = products.search("*:*", sort="id asc", rows=1000, cursorMark=mark)
    calls.append({"call": "select", "cursor": True, "documents": len(r.docs), "numFound": r.hits})
    dumped += len(r.docs)
    pages += 1
    if r.nextCursorMark == mark:
        break
    mark = r.nextCursorMark
r = products.search("category:toys", rows=50, start=10)
calls.append({"call": "select", "documents": len(r.docs), "numFound": r.hits})
status = json.loads(pysolr.SolrCoreAdmin(url + "/solr/admin/cores").status())
calls.append({"call": "admin/cores", "cores": len(status["status"])})
customers = pysolr.Solr(url + "/solr/customers", timeout=30)
customers.add([{"id": "c99999", "name": "Customer new", "city": "City 0"}], commit=True)
calls.append({"call": "update"})
customers.delete(q='city:"City 1"', commit=True)
calls.append({"call": "update", "delete": True})
print(json.dumps({"client": "python3-pysolr", "version": pysolr.__version__,
                  "cursor_pages": pages, "documents_dumped": dumped, "calls": calls}))
