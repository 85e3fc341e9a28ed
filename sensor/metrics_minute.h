/* metrics_minute.h - per-minute counters for dashboards (README "Redis":
 * the metrics stream and the top lists), kept by the output thread.
 *
 * Every event is added in output order; its event time (packet time) picks
 * the minute. When an event belongs to a later minute than the one being
 * counted, that minute is finished: metrics_minute_add returns it as text,
 * and the output thread hands the text to the Redis sink with that event,
 * so a minute is queued, spooled and delivered exactly like the event that
 * closed it (no minute is lost while Redis is away). The final stats event
 * closes the last minute. An event of an earlier minute (out of order) is
 * counted in the current one. The text is lines:
 *
 *   "f NAME VALUE"   a field of the minute's stream entry; the first is
 *                    "f ts <minute start, epoch ms>"
 *   "a MEMBER N"     N documents read by the client address MEMBER
 *   "s MEMBER N"     N documents read from the server MEMBER ("ip:port",
 *                    "[ip6]:port")
 *
 * Memory is fixed: at most METRICS_RULES_MAX rules, METRICS_TOP_MAX actors
 * and servers a minute; beyond them counts go to "other" (rules) or the
 * member "other" (top lists). Deterministic: the same events give the same
 * text whatever the number of workers. */
#ifndef SW_METRICS_MINUTE_H
#define SW_METRICS_MINUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoders/apps.h"
#include "pipeline.h"

#define METRICS_RULES_MAX 64
#define METRICS_TOP_MAX 64
#define METRICS_MEMBER_MAX 56
#define METRICS_TEXT_MAX 16384   /* room for the largest minute */

struct metrics_member {
    char name[METRICS_MEMBER_MAX];
    uint64_t n;
};

struct metrics_minute {
    bool active;                   /* a minute is being counted */
    uint64_t minute;               /* its start, epoch seconds */
    uint64_t events, flows, ops, bytes, documents, drops, alerts;
    uint64_t ops_by_app[APP_COUNT];
    uint64_t alerts_by_severity[3];    /* EVE severity 1..3 */
    uint32_t rule_id[METRICS_RULES_MAX];
    uint64_t rule_alerts[METRICS_RULES_MAX];
    size_t rule_count;
    uint64_t other_rule_alerts;
    struct metrics_member actors[METRICS_TOP_MAX], servers[METRICS_TOP_MAX];
    size_t actor_count, server_count;
    uint64_t drops_before;         /* drop counters at the previous stats event */
    char text[METRICS_TEXT_MAX];
};

/* type is EVENT_OP, EVENT_FLOW, EVENT_ALERT or EVENT_STATS. Returns the text
 * of the minute this event finished (valid until the next call), or NULL.
 * A final stats event finishes the minute it belongs to. */
const char *metrics_minute_add(struct metrics_minute *m, const char *sensor, uint32_t type,
                               const void *ev);

#endif
