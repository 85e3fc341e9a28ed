#!/usr/bin/env python3
"""What a client received in one Solr response body, for the facts of
record_scenarios_apps.sh:  solr_body_facts.py KIND BODYFILE  ->  JSON on stdout.

KIND: docs (JSON select: response.docs and numFound), cores_xml (XML cores
STATUS: the children of <lst name="status">), collections_xml (XML
collections LIST: the children of <arr name="collections">)."""
import json
import sys
import xml.etree.ElementTree as ET

kind, path = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
if kind == "docs":
    body = json.loads(raw)
    out = {"documents": len(body["response"]["docs"]), "numFound": body["response"]["numFound"]}
elif kind in ("cores_xml", "collections_xml"):
    root = ET.fromstring(raw)
    tag, name = ("lst", "status") if kind == "cores_xml" else ("arr", "collections")
    node = next(n for n in root.findall(tag) if n.get("name") == name)
    out = {"items": len(list(node)), "names": [n.get("name") or n.text for n in node]}
else:
    sys.exit("unknown kind " + kind)
print(json.dumps(out))
