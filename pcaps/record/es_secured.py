#!/usr/bin/env python3
"""es_server.py in secured mode: every request needs credentials.

    python3 es_secured.py [--port 9200] [--bind 127.0.0.1] [--log FILE] [--seed N]

Same node, data and request log as es_server.py, but it answers like an 8.11
node with security enabled (xpack.security.enabled: true, HTTP without TLS):

  - any request without valid HTTP Basic credentials (elastic:changeme),
    including GET /, answers 401 `security_exception` "missing authentication
    credentials for REST request [PATH]" (or "unable to authenticate user"),
    with `WWW-Authenticate: Basic realm="security" charset="UTF-8"` and
    `WWW-Authenticate: ApiKey`, and WITHOUT `X-elastic-product` (Elasticsearch
    adds that header only once the request is authenticated);
  - an authenticated request is answered as by es_server.py, minus the
    `Warning: 299 ... security features are not enabled` header.

Used by record_scenarios.sh for the "crawler answered 401" and
"authenticated heavy reads" scenarios.
"""

import argparse
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import es_server  # noqa: E402


class SecuredNode(es_server.EsNode):
    def handle(self, method, raw_uri, headers, body, authorized):
        if not authorized[0]:
            path = urllib.parse.unquote(urllib.parse.urlsplit(raw_uri).path)
            try:
                self._unauthorized(path, authorized[1])
            except es_server.EsError as e:
                return es_server.Response(e.status, es_server.dumps(e.body), headers=e.headers)
        resp = super().handle(method, raw_uri, headers, body, authorized)
        resp.headers = [(k, v) for k, v in resp.headers if k.lower() != "warning"]
        return resp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=9200)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--log", metavar="FILE", help="append one JSON line per request")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--extra-index", action="append", default=[], metavar="NAME=COUNT",
                    help="add an index of COUNT fake tickets (repeatable)")
    args = ap.parse_args()
    node = SecuredNode(seed=args.seed, extra=es_server.parse_extra(args.extra_index))
    es_server.serve(node, args.port, args.bind, False, args.log)
    sys.stderr.write("es_secured: elasticsearch (security on) on %s:%d\n" % (args.bind, args.port))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    main()
