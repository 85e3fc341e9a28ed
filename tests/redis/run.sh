#!/bin/sh
# redis/run.sh - the Redis sink against real redis-servers this test starts
# on free 127.0.0.1 ports (and unix sockets) of its own, then stops.
#   tests/redis/run.sh BIN [TEST...]
# Prints "ok redis/NAME", "FAIL redis/NAME: why" or "skip redis/NAME: why";
# the tests themselves are in redis_test.py (standard library only).
set -u
BIN=${1:-build/scrapewatch}
shift 2>/dev/null || true
exec python3 "$(dirname "$0")/redis_test.py" "$BIN" "$@"
