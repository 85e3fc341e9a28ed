#!/usr/bin/python3
"""python3-pymongo (Debian) against mongo_server.py: it opens every
connection with a legacy OP_QUERY isMaster, then speaks OP_MSG.
    python_client.py HOST PORT
Prints one JSON object with what the driver returned."""
import json
import sys

import pymongo

host, port = sys.argv[1], int(sys.argv[2])
client = pymongo.MongoClient(host, port, appname="sw-pymongo", directConnection=True,
                             serverSelectionTimeoutMS=5000)
calls = []
names = client.list_database_names()
calls.append({"call": "listDatabases", "databases": len(names)})
colls = client["shop"].list_collection_names()
calls.append({"call": "listCollections", "db": "shop", "collections": len(colls)})
docs = list(client["shop"]["customers"].find({}).batch_size(500).limit(2500))
calls.append({"call": "find", "ns": "shop.customers", "batchSize": 500, "limit": 2500, "documents": len(docs)})
docs = list(client["shop"]["orders"].find({}))
calls.append({"call": "find", "ns": "shop.orders", "documents": len(docs)})
client.close()
print(json.dumps({"client": "python3-pymongo", "version": pymongo.version, "calls": calls}))
