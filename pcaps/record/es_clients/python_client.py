#!/usr/bin/python3
"""The Debian python3-elasticsearch client making the calls recorded in
pcaps/es_python_client.pcap (run with Debian's /usr/bin/python3, which has the
package; the client's product check stays on: the test server answers it).

    /usr/bin/python3 python_client.py http://127.0.0.1:9200

Prints one JSON object on stdout: the client version and, per call, what the
client received. record_es.sh puts it in the facts.
"""
import json
import sys
import warnings

import elasticsearch
from elasticsearch import Elasticsearch, helpers

warnings.simplefilter("ignore")      # the server's "security not enabled" Warning header


def main():
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9200"
    es = Elasticsearch([url])
    calls = []

    info = es.info()
    calls.append({"call": "info()", "version": info["version"]["number"], "documents": 0})

    r = es.search(index="tickets", size=20, body={"query": {"match_all": {}}})
    calls.append({"call": "search(index='tickets', size=20, match_all)",
                  "documents": len(r["hits"]["hits"]), "total": r["hits"]["total"]["value"]})

    n = 0
    for _ in helpers.scan(es, index="tickets", size=1000, query={"query": {"match_all": {}}}):
        n += 1
    calls.append({"call": "helpers.scan(index='tickets', size=1000)",
                  "documents": n})

    r = es.search(index="logs-2024", scroll="1m", size=50, body={"query": {"match_all": {}}})
    first = len(r["hits"]["hits"])
    sid = r["_scroll_id"]
    r2 = es.scroll(scroll_id=sid, scroll="1m")
    second = len(r2["hits"]["hits"])
    cleared = es.clear_scroll(scroll_id=r2["_scroll_id"])
    calls.append({"call": "search(index='logs-2024', scroll='1m', size=50) + scroll() + clear_scroll()",
                  "pages": [first, second], "documents": first + second,
                  "num_freed": cleared["num_freed"]})

    print(json.dumps({"client": "python3-elasticsearch (Debian)",
                      "version": ".".join(map(str, elasticsearch.VERSION)), "calls": calls}))


if __name__ == "__main__":
    main()
