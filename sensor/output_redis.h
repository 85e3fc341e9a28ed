/* output_redis.h - the Redis sink: a thread of its own that writes events to
 * Redis (hiredis), so that a slow, absent or refusing Redis never blocks the
 * output thread, let alone detection or capture.
 *
 * The output thread hands over each event (its JSON, serialised once, and a
 * few flat fields) with output_redis_submit, which never waits for Redis: the
 * event goes to a memory queue capped in bytes; when the queue is full, its
 * oldest events move to the spool file (spool.h); when that is full too (or
 * failing, or not configured), the new event is dropped and counted.
 *
 * Order. The events not yet acknowledged by Redis form one FIFO:
 *
 *     in flight  ++  spool (oldest first)  ++  memory queue (oldest first)
 *
 * The sink sends from the front: the batch in flight until Redis took it,
 * then the spool, and the memory queue only when the spool is empty. The
 * producer adds at the back (the memory queue) and, when memory is full,
 * moves the *front* of the memory queue to the *back* of the spool, which
 * keeps the FIFO. At start the spool holds what an earlier run left: older
 * than anything new, replayed first. After a failed attempt (and until a
 * batch gets through) and at shutdown, what is left in memory is appended to
 * the spool, and a batch that was in flight from memory is put in front of
 * it: during an outage an event leaves memory only for the spool. Asserted:
 * every spooled event of this run is older than every event in the memory
 * queue; a batch comes from memory only when the spool is empty.
 *
 * Loss. Without a spool (output.redis.spool = false), or when it is full or
 * failing, events are dropped: counted by reason, logged (at most a line per
 * 10 s) and reported by output_redis_undelivered for the exit status. A run
 * that dies (kill -9) loses its memory; the run state beside the spool
 * (run_state.h) lets the next start count and say how many events that was.
 *
 * Delivery. A batch is one MULTI ... EXEC (pipelined): XADD per event (and
 * per alert to the alert stream), PUBLISH for published types, HSET of the
 * health hash for stats events, for an event that closed a minute that
 * minute's metrics entry (EVAL: XADD with the minute as id) and top-list
 * ZINCRBYs, per-minute HINCRBY/EXPIRE, and HSET <health> last_event_id <id
 * of the batch's last event>. An event leaves the queue or the spool only after EXEC's reply
 * arrived (at-least-once). A batch refused (an error reply, e.g. OOM under
 * maxmemory) is kept and retried after a back-off; a lost connection or a
 * command timeout drops the connection and the batch is retried after
 * reconnecting. After each (re)connect the sink reads last_event_id: events
 * of the same run up to that id already reached Redis (the reply was lost),
 * and are not sent again. A duplicate is still possible (documented in the
 * README) when that hash was lost or changed; consumers de-duplicate by the
 * `id` field, "<sensor>:<run-id>:<n>". */
#ifndef SW_OUTPUT_REDIS_H
#define SW_OUTPUT_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "base/stats.h"

struct output_redis;

/* One event as the output thread hands it over; strings are copied. */
struct redis_event {
    const char *type;        /* event_type: "op", "flow", "stats", "alert" */
    const char *app;         /* app_proto, "" when none */
    const char *src, *dest;  /* client and server addresses, "" when none */
    const char *rule;        /* alerts: rule id, "" otherwise */
    const char *severity;    /* alerts: severity, "" otherwise */
    uint64_t ts_us;          /* event time: selects the per-minute counter */
    const char *json;        /* the event as written to JSON lines */
    size_t json_len;
    const char *health;      /* stats: "name value\n" lines for the health hash */
    const char *metrics;     /* a finished minute (metrics_minute.h), or NULL */
};

/* Sets up the sink: finds (spool_location.h), makes and opens the spool,
 * says what it found there and what a previous run that died lost;
 * replays nothing yet. NULL with err set on failure (e.g. the spool
 * directory cannot be made or the spool cannot be opened). */
struct output_redis *output_redis_new(const struct sw_config *cfg, char *err, size_t errlen);
int output_redis_start(struct output_redis *r);
/* Output thread: queue one event. Never waits for Redis. */
void output_redis_submit(struct output_redis *r, const struct redis_event *e);
/* Output thread: nothing else to do for now (ends a spool write batch). */
void output_redis_idle(struct output_redis *r);
/* Adds the sink's counters (and the `output_redis.queued` gauge) into sum. */
void output_redis_collect_stats(struct output_redis *r, struct stats *sum);
/* Output thread, before the final stats event: gives the sink a bounded
 * time to deliver what is queued or spooled, so the final counters say what
 * happened. Returns when nothing is pending, when nothing moved for half a
 * second (Redis away), or after shutdown_timeout_ms. */
void output_redis_drain(struct output_redis *r);
/* No more events: flush to Redis for at most shutdown_timeout_ms, put what
 * is left in the spool (or count it dropped), stop the thread. */
void output_redis_finish(struct output_redis *r);
/* One line: the sink's final counters. */
void output_redis_summary(struct output_redis *r, FILE *f);
/* After output_redis_finish: events that were neither delivered nor
 * spooled, with the reasons as "spool full: 12, ..." in why. */
uint64_t output_redis_undelivered(struct output_redis *r, char *why, size_t whylen);
void output_redis_free(struct output_redis *r);

#endif
