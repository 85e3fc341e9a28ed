/* output.h - the output thread: serialises each event to JSON once and
 * writes it to the sinks: JSON lines to a file or stdout, and the Redis sink
 * (output_redis.h, a thread of its own) when output.redis.enabled.
 *
 * Stats events are completed here: the detect thread fills in the counters
 * of capture, workers and detect; this thread adds its own (events.dropped)
 * and the Redis sink's (group "output_redis") as they are at that moment.
 * The final stats event is therefore written while the sink may still be
 * sending: its "output_redis" counters can be slightly behind; the sink's final counters are
 * printed on standard error at exit (output_redis_summary). */
#ifndef SW_OUTPUT_H
#define SW_OUTPUT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "config.h"
#include "event_eve.h"
#include "metrics_minute.h"
#include "output_redis.h"
#include "ring.h"
#include "base/stats.h"

struct output {
    pthread_t thread;
    struct ring *in;          /* from the detect thread */
    struct ring_waiter waiter;   /* sleeps here while `in` is empty */
    const struct sw_config *cfg;
    FILE *json;               /* JSON lines sink, or NULL */
    int close_json;           /* we opened it */
    char json_path[512];      /* the file, when we opened it */
    atomic_int *reopen;       /* set by SIGHUP: reopen the file (or NULL) */
    struct stats stats;
    int write_failed;
    struct output_redis *redis;  /* Redis sink, or NULL */
    struct eve_alerted *alerted; /* flows with an alert, for flow.alerted */
    struct metrics_minute *minute;  /* per-minute metrics for Redis, or NULL */
    const char *const *pcap_files;  /* offline: the files read, for pcap_filename */
    size_t pcap_file_count;
    char *health;             /* scratch: stats counters as "name value" lines */
    size_t health_cap;
    uint64_t undelivered;     /* after output_join: events neither in Redis nor spooled */
    char undelivered_why[256];
};

/* path: "-" for stdout, a file path, or NULL/"" for no JSON lines. A file
 * is appended to, and reopened (by name) when *reopen is set, so that
 * logrotate can rename it and signal: events before the signal are in the
 * old file, the rest in the new one. Sets up the Redis sink when
 * configured. Returns -1 with err set when the file or the spool cannot be
 * opened. */
int output_init(struct output *o, const struct sw_config *cfg, struct ring *in,
                const char *path, char *err, size_t errlen);
int output_start(struct output *o);
/* Waits for the end of events, then lets the Redis sink flush (bounded by
 * output.redis.shutdown_timeout_ms), prints its one-line summary, and notes
 * how many events were neither delivered nor spooled (undelivered). */
void output_join(struct output *o);
void output_destroy(struct output *o);

#endif
