#!/bin/sh
# demo_check.sh - the README's first quick-start command works: tests/demo.sh
# (what `make demo` runs, with ./scrapewatch) exits 0, shows the bulk-read
# alert and the alerts that reached a real redis-server.
#   tests/demo_check.sh BIN     (BIN unused: the demo runs ./scrapewatch)
OUT=tests/out/demo_check.txt
if [ ! -x ./scrapewatch ]; then
    echo "skip demo: no ./scrapewatch (make builds it)"
    exit 0
fi
if tests/demo.sh > "$OUT" 2>&1; then
    echo "ok demo/exit_0"
else
    echo "FAIL demo/exit_0 (see $OUT)"
    tail -5 "$OUT" >&2
fi
if grep -q "5001 Bulk read" "$OUT"; then
    echo "ok demo/bulk_read_alert_shown"
else
    echo "FAIL demo/bulk_read_alert_shown"
fi
if grep -Eq "alerts received: [1-9]" "$OUT"; then
    echo "ok demo/alerts_reached_redis"
else
    echo "FAIL demo/alerts_reached_redis"
fi
page=$(sed -n 's/^incident report (open it in a browser): //p' "$OUT")
if [ -n "$page" ] && [ -f "$page" ] && [ "$(tail -1 "$OUT")" = "incident report (open it in a browser): $page" ] \
   && grep -q 'data-stage="dumped"' "$page"; then
    echo "ok demo/ends_with_report"
else
    echo "FAIL demo/ends_with_report (last line: $(tail -1 "$OUT"))"
fi
