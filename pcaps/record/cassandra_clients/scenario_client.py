#!/usr/bin/python3
"""scenario_client.py HOST PORT MODE - Debian's python3-cassandra with its
default settings (schema metadata and token metadata on: the control
connection reads system.local, system.peers_v2 and every system_schema table
on connect), protocol v4, lz4, no credentials, against
pcaps/record/cassandra_server.py. Prints, as JSON, what it received.

    app   an application session: connect, 5 point SELECTs by key
          (SELECT * FROM shop.users WHERE id = N), one INSERT
    dump  a scraper: connect, list the keyspaces and the tables with its own
          queries (SELECT keyspace_name FROM system_schema.keyspaces, SELECT
          keyspace_name, table_name FROM system_schema.tables), then read
          shop.users whole, paged by 500 (SELECT * FROM shop.users)
"""
import json
import sys

import cassandra
from cassandra.cluster import Cluster
from cassandra.query import SimpleStatement


def app(s, calls):
    for key in (7, 42, 1001, 2500, 5999):
        rows = list(s.execute("SELECT * FROM shop.users WHERE id = %d" % key))
        calls.append({"call": "select", "table": "shop.users", "key": key, "rows": len(rows)})
    s.execute("INSERT INTO shop.orders (id, user_id, total) VALUES (9001, 42, 19.99)")
    calls.append({"call": "insert", "table": "shop.orders"})


def dump(s, calls):
    ks = list(s.execute("SELECT keyspace_name FROM system_schema.keyspaces"))
    calls.append({"call": "select", "table": "system_schema.keyspaces", "rows": len(ks)})
    tables = list(s.execute("SELECT keyspace_name, table_name FROM system_schema.tables"))
    calls.append({"call": "select", "table": "system_schema.tables", "rows": len(tables)})
    pages, rows = 0, 0
    result = s.execute(SimpleStatement("SELECT * FROM shop.users", fetch_size=500))
    while True:
        pages += 1
        rows += len(result.current_rows)
        if not result.has_more_pages:
            break
        result.fetch_next_page()
    calls.append({"call": "select", "table": "shop.users", "rows": rows, "pages": pages})


def main():
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    c = Cluster([host], port=port, protocol_version=4, compression=True,
                connect_timeout=5, control_connection_timeout=5)
    s = c.connect()
    calls = [{"call": "connect"}]
    {"app": app, "dump": dump}[mode](s, calls)
    c.shutdown()
    print(json.dumps({"client": "python3-cassandra", "version": cassandra.__version__,
                      "protocol_version": 4, "mode": mode, "calls": calls}))


if __name__ == "__main__":
    main()
