#!/usr/bin/python3
"""python_client.py HOST PORT VERSION - drives Debian's python3-cassandra
against pcaps/record/cassandra_server.py and prints, as JSON, what it
received: a failed login (wrong password), then a login, the schema
enumeration, a paged full-table read, TRUNCATE and DROP TABLE."""
import json
import sys

from cassandra import AuthenticationFailed
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, NoHostAvailable
from cassandra.query import SimpleStatement


def cluster(host, port, version, password):
    return Cluster([host], port=port, protocol_version=version, compression=True,
                   schema_metadata_enabled=False, token_metadata_enabled=False,
                   auth_provider=PlainTextAuthProvider("scraper", password),
                   max_schema_agreement_wait=0, connect_timeout=5, control_connection_timeout=5)


def main():
    host, port, version = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    calls = []
    bad = cluster(host, port, version, "wrong")
    try:
        bad.connect()
        calls.append({"call": "login", "ok": True})
    except (NoHostAvailable, AuthenticationFailed) as e:
        calls.append({"call": "login", "ok": False, "error": type(e).__name__})
    bad.shutdown()

    c = cluster(host, port, version, "secret")
    s = c.connect()
    calls.append({"call": "login", "ok": True})
    for t in ("keyspaces", "tables", "columns"):
        rows = list(s.execute("SELECT * FROM system_schema.%s" % t))
        calls.append({"call": "select", "table": "system_schema." + t, "rows": len(rows)})
    pages, rows = 0, 0
    result = s.execute(SimpleStatement("SELECT * FROM shop.users", fetch_size=500))
    while True:
        pages += 1
        rows += len(result.current_rows)
        if not result.has_more_pages:
            break
        result.fetch_next_page()
    calls.append({"call": "select", "table": "shop.users", "rows": rows, "pages": pages})
    s.execute("TRUNCATE shop.orders")
    calls.append({"call": "truncate", "table": "shop.orders"})
    s.execute("DROP TABLE shop.users")
    calls.append({"call": "drop", "table": "shop.users"})
    c.shutdown()
    import cassandra
    print(json.dumps({"client": "python3-cassandra", "version": cassandra.__version__,
                      "protocol_version": version, "calls": calls}))


if __name__ == "__main__":
    main()
