/* output_redis.c - the Redis sink thread (see output_redis.h for the order and
 * delivery invariants, README "Redis" for the layout in Redis). */
#include "output_redis.h"

#include <assert.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "fleet.h"
#include "event_eve.h"
#include "redis_record.h"
#include "run_state.h"
#include "spool.h"
#include "spool_location.h"

/* ---- the sink's state */

struct sink_item {
    struct sink_item *next;
    uint64_t order;        /* submit order in this run; 0 from the spool */
    uint64_t n;            /* event number in this run; 0 from the spool */
    uint64_t enq_ms;       /* when it was queued (monotonic) */
    uint64_t spool_end;    /* from the spool: offset after it */
    size_t len;
    uint8_t data[];
};

#define ITEM_COST(len) (sizeof(struct sink_item) + (len))

enum send_result { SEND_OK, SEND_REFUSED, SEND_BROKEN };

struct output_redis {
    const struct sw_config *cfg;
    const struct config_output_redis *rc;
    char health_key[192];
    char metrics_key[192];
    char target[300];               /* "host:port" or the socket, for messages */
    uint64_t run_id;                /* wall-clock microseconds at start */
    uint64_t next_n;                /* event number (output thread) */
    bool publish_all;

    pthread_mutex_t lock;           /* everything up to `stats` */
    pthread_cond_t wake;
    pthread_cond_t progress;        /* the sink thread finished a batch attempt */
    struct sink_item *q_head, *q_tail;   /* memory queue, oldest first */
    size_t q_count;
    size_t mem_bytes;               /* queue + batch in flight from memory */
    size_t mem_events;              /* the same, in events */
    bool spool_on;                  /* configured, and not failed */
    struct spool spool;
    uint64_t spool_newest_order;    /* order of this run's newest spooled event */
    uint64_t appended_since_sync;
    uint64_t next_order;
    uint64_t issued;                /* id of the newest event submitted */
    bool stopping;
    uint64_t stop_deadline_ms;
    bool down;                      /* the last attempt failed: spool, not hold */
    uint64_t memory_spooled_ms;     /* when the outage last moved memory to the spool */

    /* Progress for the next start (run_state.h): the ids of drops above
     * the safe id, as far as DROP_IDS_MAX go. */
    struct run_state state;
#define DROP_IDS_MAX 64
    uint64_t drop_ids[DROP_IDS_MAX];
    size_t drop_id_count;
    bool drops_inexact;
    /* the previous run, when it ended without a clean stop */
    uint64_t prev_run, prev_safe;
    bool prev_check;                /* compare with Redis at the first connect */
    char spool_file[512];
    uint64_t spool_skips_seen, spool_skip_bytes_seen, spool_lost_seen;
    /* loud faults, at most one line per FAULT_LOG_MS */
    uint64_t fault_logged_ms;
    uint64_t faults_unlogged;

    /* sink thread only */
    struct fleet *fleet;            /* NULL: fleet view off (fleet.h) */
#define FLEET_PENDING_MAX 64
    struct fleet_pending { char *json; char ts[24]; } fleet_pending[FLEET_PENDING_MAX];
    size_t fleet_pending_count;     /* fleet alerts to send */
    uint64_t fleet_alert_n;         /* fleet alerts this run sent (their ids) */
    redisContext *ctx;
    struct sink_item **batch;
    size_t batch_count;
    bool batch_from_spool;
    size_t batch_bad;               /* records of the batch that did not decode */
    uint64_t retry_at_ms;
    unsigned backoff_ms;
    bool ever_connected, outage_logged, give_up;
    uint64_t skip_run, skip_n;      /* reached Redis already: see sink_connect */
    char skip_sensor[64];
    bool skip_valid;
    char last_error[256];

    /* Counters. sent, replayed, reconnects, errors, timeouts: the sink
     * thread's. spooled and dropped_*: written only with `lock` held. */
    struct stats stats;
    pthread_t thread;
    bool started;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void sink_log(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "scrapewatch: redis: %s\n", msg);
}

/* Waits on the condition until deadline (monotonic ms); lock held. */
static void sink_wait_until(struct output_redis *r, uint64_t deadline_ms)
{
    struct timespec ts = {(time_t)(deadline_ms / 1000), (long)(deadline_ms % 1000) * 1000000};
    pthread_cond_timedwait(&r->wake, &r->lock, &ts);
}

static bool spool_usable(const struct output_redis *r)
{
    return r->spool_on && r->spool.fd >= 0;
}

/* What spool_open found, said on stderr and counted. */
static void sink_report_open(struct output_redis *r, const struct spool_open_report *rep)
{
    const char *path = r->spool_file;
    for (uint64_t i = 0; i < rep->skipped_regions && i < SPOOL_REPORT_RANGES; i++)
        sink_log("spool %s: bytes %llu..%llu damaged: skipped, the records after them kept",
                 path, (unsigned long long)rep->skip_from[i],
                 (unsigned long long)rep->skip_to[i]);
    if (rep->skipped_regions > SPOOL_REPORT_RANGES)
        sink_log("spool %s: %llu more damaged regions skipped", path,
                 (unsigned long long)(rep->skipped_regions - SPOOL_REPORT_RANGES));
    stats_add(&r->stats, STAT_OUTPUT_REDIS_SPOOL_SKIPPED_REGIONS, rep->skipped_regions);
    stats_add(&r->stats, STAT_OUTPUT_REDIS_SPOOL_SKIPPED_BYTES, rep->skipped_bytes);
    if (rep->truncated_bytes)
        sink_log("spool %s: cut bytes %llu..%llu off its end (%s)", path,
                 (unsigned long long)rep->truncated_at,
                 (unsigned long long)(rep->truncated_at + rep->truncated_bytes),
                 rep->crc_mismatch ? "a damaged last record" : "a torn last write");
    if (rep->header_reset)
        sink_log("spool %s: header damaged; every record will be replayed", path);
    if (rep->records)
        sink_log("spool %s holds %llu events from an earlier run: replaying them first",
                 path, (unsigned long long)rep->records);
}

/* Events of run `run` with ids above `above` that the spool holds. */
static uint64_t sink_spooled_above(struct output_redis *r, uint64_t run, uint64_t above)
{
    uint64_t count = 0;
    void *data;
    size_t len;
    uint64_t end;
    struct record_view v;
    while (spool_read(&r->spool, &data, &len, &end) == 1) {
        if (redis_record_decode(data, len, &v) == 0 && v.run_id == run && v.n > above)
            count++;
        free(data);
    }
    spool_rewind(&r->spool);
    return count;
}

/* The previous run ended without a clean stop: the events it held only in
 * memory are gone. Say how many, as far as can be known here; the first
 * connection to Redis may show that its last batch got there after all. */
static void sink_report_previous_run(struct output_redis *r, const struct run_state_record *p)
{
    uint64_t unsafe = p->issued > p->safe ? p->issued - p->safe : 0;
    uint64_t spooled = sink_spooled_above(r, p->run_id, p->safe);
    uint64_t known = spooled + p->drops_above;
    uint64_t lost = unsafe > known ? unsafe - known : 0;
    r->prev_run = p->run_id;
    r->prev_safe = p->safe;
    r->prev_check = lost > 0;
    stats_set(&r->stats, STAT_OUTPUT_REDIS_LOST_PREVIOUS_RUN, lost);
    sink_log("the previous run (run %llu) ended without a clean stop: %llu events made, "
             "%llu of them were lost with its memory (ids above %llu)%s",
             (unsigned long long)p->run_id, (unsigned long long)p->issued,
             (unsigned long long)lost, (unsigned long long)p->safe,
             p->inexact ? "; more events were dropped than tracked: a rough count" : "");
}

/* Finds, makes and opens the spool and the run state beside it. */
static int sink_open_spool(struct output_redis *r, char *err, size_t errlen)
{
    if (spool_location(r->cfg, r->spool_file, sizeof(r->spool_file), err, errlen) != 0)
        return -1;
    enum spool_fsync policy = SPOOL_FSYNC_BATCH;
    spool_fsync_parse(r->rc->spool_fsync, &policy);
    struct spool_open_report rep;
    if (spool_open(&r->spool, r->spool_file, r->rc->spool_max_bytes, policy, &rep, err,
                   errlen) != 0)
        return -1;
    r->spool_on = true;
    sink_report_open(r, &rep);
    char state_path[sizeof(r->spool_file) + 8];
    snprintf(state_path, sizeof(state_path), "%s.run", r->spool_file);
    struct run_state_record prev;
    if (run_state_open(&r->state, state_path, r->run_id, &prev, err, errlen) != 0)
        return -1;
    if (prev.run_id && !prev.clean)
        sink_report_previous_run(r, &prev);
    return 0;
}

struct output_redis *output_redis_new(const struct sw_config *cfg, char *err, size_t errlen)
{
    struct output_redis *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->cfg = cfg;
    r->rc = &cfg->output.redis;
    r->spool.fd = -1;
    if (r->rc->health_key[0])
        snprintf(r->health_key, sizeof(r->health_key), "%s", r->rc->health_key);
    else
        snprintf(r->health_key, sizeof(r->health_key), "{scrapewatch}:health:%s", cfg->sensor.id);
    if (r->rc->metrics_key[0])
        snprintf(r->metrics_key, sizeof(r->metrics_key), "%s", r->rc->metrics_key);
    else
        snprintf(r->metrics_key, sizeof(r->metrics_key), "{scrapewatch}:metrics:%s",
                 cfg->sensor.id);
    if (r->rc->unix_socket[0])
        snprintf(r->target, sizeof(r->target), "%s", r->rc->unix_socket);
    else
        snprintf(r->target, sizeof(r->target), "%s:%u", r->rc->host, r->rc->port);
    r->publish_all = strcmp(r->rc->publish, "all") == 0;
    r->run_id = wall_us();
    r->backoff_ms = r->rc->reconnect_min_ms;
    r->batch = calloc(r->rc->batch_max, sizeof(*r->batch));
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->wake, &ca);
    pthread_cond_init(&r->progress, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->lock, NULL);
    if (!r->batch) {
        snprintf(err, errlen, "out of memory");
        output_redis_free(r);
        return NULL;
    }
    if (r->rc->fleet.enabled && !(r->fleet = fleet_new(cfg, err, errlen))) {
        output_redis_free(r);
        return NULL;
    }
    if (r->rc->spool && sink_open_spool(r, err, errlen) != 0) {
        output_redis_free(r);
        return NULL;
    }
    return r;
}

/* ---- loud faults and the run's progress (lock held for all of these) */

#define FAULT_LOG_MS 10000

/* Events that were neither delivered nor spooled, all reasons. */
static uint64_t sink_undelivered(const struct output_redis *r)
{
    return stats_get(&r->stats, STAT_OUTPUT_REDIS_DROPPED_QUEUE_FULL)
           + stats_get(&r->stats, STAT_OUTPUT_REDIS_DROPPED_SPOOL_FULL)
           + stats_get(&r->stats, STAT_OUTPUT_REDIS_DROPPED_SPOOL_ERROR)
           + stats_get(&r->stats, STAT_OUTPUT_REDIS_DROPPED_SHUTDOWN)
           + stats_get(&r->stats, STAT_OUTPUT_REDIS_DROPPED_SPOOL_DAMAGED);
}

/* A fault worth a line: at most one per FAULT_LOG_MS, and that one says how
 * many were not logged since. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sink_fault(struct output_redis *r, const char *fmt, ...)
{
    uint64_t now = mono_ms();
    if (r->fault_logged_ms && now - r->fault_logged_ms < FAULT_LOG_MS) {
        r->faults_unlogged++;
        return;
    }
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sink_log("%s; %llu events neither delivered nor spooled so far%s", msg,
             (unsigned long long)sink_undelivered(r),
             r->faults_unlogged ? " (and more faults since the last such line)" : "");
    r->fault_logged_ms = now;
    r->faults_unlogged = 0;
}

/* The spool's last failed system call, as a line. */
static void sink_spool_fault(struct output_redis *r, const char *doing)
{
    stats_set(&r->stats, STAT_OUTPUT_REDIS_SPOOL_IO_ERRORS, r->spool.io_errors);
    sink_fault(r, "spool %s: %s failed: %s: %s (errno %d)", r->spool.path, doing,
               r->spool.error_op ? r->spool.error_op : "?", strerror(r->spool.error_errno),
               r->spool.error_errno);
}

/* Writes how far this run got into the run state: the lowest id still only
 * in memory is the batch in flight from memory, else the memory queue's
 * first, else the next one to come. */
static void sink_mark_safe(struct output_redis *r)
{
    if (!r->state.rec)
        return;
    uint64_t lowest = r->batch_count && !r->batch_from_spool ? r->batch[0]->n
                      : r->q_head                          ? r->q_head->n
                                                           : r->issued + 1;
    uint64_t safe = lowest - 1;
    size_t k = 0;
    for (size_t i = 0; i < r->drop_id_count; i++)
        if (r->drop_ids[i] > safe)
            r->drop_ids[k++] = r->drop_ids[i];
    r->drop_id_count = k;
    r->state.rec->issued = r->issued;
    r->state.rec->safe = safe;
    r->state.rec->drops_above = k;
    r->state.rec->inexact = r->drops_inexact;
}

/* Event n was dropped: counted by reason, remembered for the run state,
 * and said (rate-limited). */
static void sink_count_drop(struct output_redis *r, enum spool_status st, uint64_t n)
{
    enum stat_id why = !spool_usable(r)   ? STAT_OUTPUT_REDIS_DROPPED_QUEUE_FULL
                       : st == SPOOL_FULL ? STAT_OUTPUT_REDIS_DROPPED_SPOOL_FULL
                                          : STAT_OUTPUT_REDIS_DROPPED_SPOOL_ERROR;
    stats_inc(&r->stats, why);
    if (r->drop_id_count < DROP_IDS_MAX)
        r->drop_ids[r->drop_id_count++] = n;
    else
        r->drops_inexact = true;
    if (why == STAT_OUTPUT_REDIS_DROPPED_QUEUE_FULL)
        sink_fault(r, "memory queue full (queue_mb = %zu) and %s: dropping events",
                   r->rc->queue_bytes >> 20, r->rc->spool ? "the spool failed" : "no spool");
    else if (why == STAT_OUTPUT_REDIS_DROPPED_SPOOL_FULL)
        sink_fault(r, "spool %s full (spool_max_mb = %zu): dropping events", r->spool.path,
                   r->rc->spool_max_bytes >> 20);
    else
        sink_spool_fault(r, "appending an event");
}

/* ---- the producer side (output thread) */

/* Moves the oldest queued event to the back of the spool. Lock held. */
static enum spool_status sink_evict_oldest(struct output_redis *r)
{
    struct sink_item *it = r->q_head;
    enum spool_status st = spool_append(&r->spool, it->data, it->len);
    if (st != SPOOL_OK)
        return st;
    assert(it->order > r->spool_newest_order);
    r->spool_newest_order = it->order;
    r->q_head = it->next;
    if (!r->q_head)
        r->q_tail = NULL;
    r->q_count--;
    r->mem_bytes -= ITEM_COST(it->len);
    r->mem_events--;
    stats_inc(&r->stats, STAT_OUTPUT_REDIS_SPOOLED);
    r->appended_since_sync++;
    free(it);
    return SPOOL_OK;
}

void output_redis_submit(struct output_redis *r, const struct redis_event *e)
{
    size_t size = redis_record_size(r->cfg->sensor.id, e);
    uint64_t n = ++r->next_n;   /* a dropped event leaves a gap in the ids */
    struct sink_item *it = malloc(ITEM_COST(size));
    pthread_mutex_lock(&r->lock);
    r->issued = n;
    stats_inc(&r->stats, STAT_OUTPUT_REDIS_SUBMITTED);
    if (!it || size > SPOOL_RECORD_MAX) {
        stats_inc(&r->stats, STAT_OUTPUT_REDIS_DROPPED_QUEUE_FULL);
        if (r->drop_id_count < DROP_IDS_MAX)
            r->drop_ids[r->drop_id_count++] = n;
        else
            r->drops_inexact = true;
        sink_fault(r, "an event of %zu bytes %s: dropped", size,
                   it ? "is larger than a spool record can be" : "found no memory");
        sink_mark_safe(r);
        pthread_mutex_unlock(&r->lock);
        free(it);
        return;
    }
    redis_record_encode(it->data, size, r->run_id, n, r->cfg->sensor.id, e);
    it->next = NULL;
    it->len = size;
    it->order = ++r->next_order;
    it->n = n;
    it->enq_ms = mono_ms();
    it->spool_end = 0;

    enum spool_status st = SPOOL_OK;
    size_t cost = ITEM_COST(size), cap = r->rc->queue_bytes;
    if (r->mem_bytes + cost > cap && spool_usable(r)) {
        /* Memory is full: the front of the memory queue moves to the back
         * of the spool (the FIFO stays in order), and when the queue is
         * empty (all of memory is in flight) the new event itself goes. */
        while (r->mem_bytes + cost > cap && r->q_head && st == SPOOL_OK)
            st = sink_evict_oldest(r);
        if (st == SPOOL_OK && r->mem_bytes + cost > cap) {
            st = spool_append(&r->spool, it->data, it->len);
            if (st == SPOOL_OK) {
                r->spool_newest_order = it->order;
                stats_inc(&r->stats, STAT_OUTPUT_REDIS_SPOOLED);
                r->appended_since_sync++;
                free(it);
                it = NULL;
            }
        }
        if (r->appended_since_sync >= r->rc->batch_max) {
            if (spool_sync(&r->spool) != SPOOL_OK)
                sink_spool_fault(r, "syncing");
            r->appended_since_sync = 0;
        }
    }
    if (it && r->mem_bytes + cost > cap) {
        sink_count_drop(r, st, n);
        free(it);
        it = NULL;
    } else if (it) {
        if (r->q_tail)
            r->q_tail->next = it;
        else
            r->q_head = it;
        r->q_tail = it;
        r->q_count++;
        r->mem_bytes += cost;
        r->mem_events++;
    }
    /* The FIFO invariant: this run's spooled events are all older than
     * the memory queue's. */
    assert(!r->q_head || r->q_head->order > r->spool_newest_order);
    sink_mark_safe(r);
    if (r->q_count == 1 || r->q_count == r->rc->batch_max || !it)
        pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
}

void output_redis_idle(struct output_redis *r)
{
    if (!r->spool_on)
        return;
    pthread_mutex_lock(&r->lock);
    if (r->appended_since_sync && spool_usable(r)) {
        if (spool_sync(&r->spool) != SPOOL_OK)
            sink_spool_fault(r, "syncing");
        r->appended_since_sync = 0;
    }
    pthread_mutex_unlock(&r->lock);
}

void output_redis_collect_stats(struct output_redis *r, struct stats *sum)
{
    pthread_mutex_lock(&r->lock);
    stats_set(&r->stats, STAT_OUTPUT_REDIS_QUEUED, r->mem_events);
    stats_accumulate(sum, &r->stats);
    pthread_mutex_unlock(&r->lock);
}

/* ---- the sink thread */

/* Damage that spool_read met (the file changed since it was opened): said
 * and counted. Lock held. */
static void sink_spool_damage(struct output_redis *r)
{
    const struct spool *sp = &r->spool;
    uint64_t regions = stats_get(&r->stats, STAT_OUTPUT_REDIS_SPOOL_SKIPPED_REGIONS);
    if (sp->skipped_regions > r->spool_skips_seen) {
        stats_add(&r->stats, STAT_OUTPUT_REDIS_SPOOL_SKIPPED_REGIONS,
                  sp->skipped_regions - r->spool_skips_seen);
        stats_add(&r->stats, STAT_OUTPUT_REDIS_SPOOL_SKIPPED_BYTES,
                  sp->skipped_bytes - r->spool_skip_bytes_seen);
        sink_log("spool %s: bytes %llu..%llu damaged while in use: skipped (%llu regions)",
                 sp->path, (unsigned long long)sp->last_skip_from,
                 (unsigned long long)sp->last_skip_to,
                 (unsigned long long)(regions + sp->skipped_regions - r->spool_skips_seen));
        r->spool_skips_seen = sp->skipped_regions;
        r->spool_skip_bytes_seen = sp->skipped_bytes;
    }
    if (sp->records_lost > r->spool_lost_seen) {
        stats_add(&r->stats, STAT_OUTPUT_REDIS_DROPPED_SPOOL_DAMAGED,
                  sp->records_lost - r->spool_lost_seen);
        sink_fault(r, "spool %s: %llu events lost to damage", sp->path,
                   (unsigned long long)(sp->records_lost - r->spool_lost_seen));
        r->spool_lost_seen = sp->records_lost;
    }
}

/* Takes the next batch from the spool. Lock held. */
static void sink_take_spool(struct output_redis *r)
{
    r->batch_from_spool = true;
    while (r->batch_count < r->rc->batch_max && r->spool.unread) {
        void *data;
        size_t len;
        uint64_t end;
        int got = spool_read(&r->spool, &data, &len, &end);
        sink_spool_damage(r);
        if (got == 0)
            break;   /* damage swallowed the rest */
        struct sink_item *it = got == 1 ? malloc(ITEM_COST(len)) : NULL;
        if (!it) {
            if (got == 1)
                free(data);
            /* The spool cannot be read: what it holds is lost. Say so,
             * count it, and carry on without a spool. */
            sink_log("spool %s: cannot read (%s): %llu events lost; spool disabled",
                     r->spool.path, got < 0 ? strerror(errno) : "out of memory",
                     (unsigned long long)r->spool.records);
            stats_add(&r->stats, STAT_OUTPUT_REDIS_DROPPED_SPOOL_ERROR, r->spool.records);
            r->spool_on = false;
            for (size_t i = 0; i < r->batch_count; i++)
                free(r->batch[i]);
            r->batch_count = 0;
            return;
        }
        memcpy(it->data, data, len);
        free(data);
        it->next = NULL;
        it->len = len;
        it->order = 0;
        it->n = 0;
        it->enq_ms = 0;
        it->spool_end = end;
        r->batch[r->batch_count++] = it;
    }
}

/* Takes the next batch from memory. Lock held. */
static void sink_take_memory(struct output_redis *r)
{
    /* The spool is older than memory: it must be empty. */
    assert(!spool_usable(r) || r->spool.records == 0);
    r->batch_from_spool = false;
    while (r->batch_count < r->rc->batch_max && r->q_head) {
        struct sink_item *it = r->q_head;
        r->q_head = it->next;
        r->q_count--;
        it->next = NULL;
        r->batch[r->batch_count++] = it;
    }
    if (!r->q_head)
        r->q_tail = NULL;
    sink_mark_safe(r);
}

/* The batch reached Redis: it leaves the spool or memory. */
static void sink_ack(struct output_redis *r)
{
    size_t n = r->batch_count;
    if (n == 0)
        return;
    pthread_mutex_lock(&r->lock);
    if (r->batch_from_spool) {
        if (spool_usable(r)
            && spool_ack(&r->spool, r->batch[n - 1]->spool_end, n) != SPOOL_OK)
            sink_spool_fault(r, "recording progress (events may be replayed twice)");
    } else {
        for (size_t i = 0; i < n; i++)
            r->mem_bytes -= ITEM_COST(r->batch[i]->len);
        r->mem_events -= n;
    }
    for (size_t i = 0; i < n; i++)
        free(r->batch[i]);
    r->batch_count = 0;
    sink_mark_safe(r);
    pthread_mutex_unlock(&r->lock);
    stats_add(&r->stats, STAT_OUTPUT_REDIS_SENT, n - r->batch_bad);
    if (r->batch_from_spool)
        stats_add(&r->stats, STAT_OUTPUT_REDIS_REPLAYED, n - r->batch_bad);
    r->batch_bad = 0;
}

static struct timeval ms_timeval(unsigned ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

/* Was the last I/O failure of the context a timeout? */
static bool sink_timed_out(const redisContext *c, int saved_errno)
{
    return c && c->err == REDIS_ERR_IO
           && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT
               || strcmp(c->errstr, strerror(EAGAIN)) == 0
               || strcmp(c->errstr, strerror(ETIMEDOUT)) == 0);
}

static void sink_drop_connection(struct output_redis *r, const char *why, int saved_errno)
{
    if (sink_timed_out(r->ctx, saved_errno))
        stats_inc(&r->stats, STAT_OUTPUT_REDIS_TIMEOUTS);
    if (!r->outage_logged) {
        sink_log("%s %s: %s; queueing and retrying with back-off", why, r->target,
                 r->ctx && r->ctx->errstr[0] ? r->ctx->errstr : "no reply");
        r->outage_logged = true;
    }
    if (r->ctx)
        redisFree(r->ctx);
    r->ctx = NULL;
}

/* A simple command on the fresh connection; its reply, NULL on I/O error
 * (the connection is then dropped, with a timeout counted if it was one). */
static redisReply *sink_command(struct output_redis *r, int argc, const char **argv)
{
    redisReply *reply = redisCommandArgv(r->ctx, argc, argv, NULL);
    if (!reply)
        sink_drop_connection(r, "lost connection to", errno);
    return reply;
}

/* Reads "<sensor>:<run>:<n>" into the skip state. */
static void sink_parse_last_id(struct output_redis *r, const char *id, size_t len)
{
    char buf[160];
    r->skip_valid = false;
    if (len >= sizeof(buf))
        return;
    memcpy(buf, id, len);
    buf[len] = '\0';
    char *c2 = strrchr(buf, ':');
    if (!c2)
        return;
    *c2 = '\0';
    char *c1 = strrchr(buf, ':');
    if (!c1 || (size_t)(c1 - buf) >= sizeof(r->skip_sensor))
        return;
    *c1 = '\0';
    char *end1, *end2;
    unsigned long long run = strtoull(c1 + 1, &end1, 10), n = strtoull(c2 + 1, &end2, 10);
    if (*end1 || *end2)
        return;
    memcpy(r->skip_sensor, buf, (size_t)(c1 - buf) + 1);
    r->skip_run = run;
    r->skip_n = n;
    r->skip_valid = true;
}

/* The previous run's last batch from memory may have reached Redis before
 * the run died: Redis's last_event_id says so. Then fewer were lost. */
static void sink_check_previous_run(struct output_redis *r)
{
    r->prev_check = false;
    if (!r->skip_valid || r->skip_run != r->prev_run || r->skip_n <= r->prev_safe
        || strcmp(r->skip_sensor, r->cfg->sensor.id) != 0)
        return;
    pthread_mutex_lock(&r->lock);
    uint64_t lost = stats_get(&r->stats, STAT_OUTPUT_REDIS_LOST_PREVIOUS_RUN);
    uint64_t got = r->skip_n - r->prev_safe < lost ? r->skip_n - r->prev_safe : lost;
    stats_set(&r->stats, STAT_OUTPUT_REDIS_LOST_PREVIOUS_RUN, lost - got);
    pthread_mutex_unlock(&r->lock);
    sink_log("of the previous run's lost events, %llu had reached %s after all: %llu lost",
             (unsigned long long)got, r->target, (unsigned long long)(lost - got));
}

/* Connects, authenticates, selects the database, and reads which event of
 * ours Redis saw last: a batch whose reply was lost (Redis died, or the
 * connection did, after EXEC) is then not sent twice. 0 ok, -1 failed. */
static int sink_connect(struct output_redis *r)
{
    const struct config_output_redis *rc = r->rc;
    struct timeval ct = ms_timeval(rc->connect_timeout_ms);
    r->ctx = rc->unix_socket[0] ? redisConnectUnixWithTimeout(rc->unix_socket, ct)
                                : redisConnectWithTimeout(rc->host, (int)rc->port, ct);
    if (!r->ctx || r->ctx->err) {
        sink_drop_connection(r, "cannot connect to", errno);
        return -1;
    }
    redisSetTimeout(r->ctx, ms_timeval(rc->command_timeout_ms));
    redisReply *reply;
    if (rc->password[0]) {
        const char *argv[] = {"AUTH", rc->password};
        if (!(reply = sink_command(r, 2, argv)))
            return -1;
        int bad = reply->type == REDIS_REPLY_ERROR;
        if (bad && !r->outage_logged)
            sink_log("AUTH refused by %s: %s", r->target, reply->str);
        freeReplyObject(reply);
        if (bad) {
            r->outage_logged = true;
            stats_inc(&r->stats, STAT_OUTPUT_REDIS_ERRORS);
            redisFree(r->ctx);
            r->ctx = NULL;
            return -1;
        }
    }
    if (rc->db) {
        char db[16];
        snprintf(db, sizeof(db), "%u", rc->db);
        const char *argv[] = {"SELECT", db};
        if (!(reply = sink_command(r, 2, argv)))
            return -1;
        int bad = reply->type == REDIS_REPLY_ERROR;
        if (bad && !r->outage_logged)
            sink_log("SELECT %u refused by %s: %s", rc->db, r->target, reply->str);
        freeReplyObject(reply);
        if (bad) {
            r->outage_logged = true;
            stats_inc(&r->stats, STAT_OUTPUT_REDIS_ERRORS);
            redisFree(r->ctx);
            r->ctx = NULL;
            return -1;
        }
    }
    const char *argv[] = {"HGET", r->health_key, "last_event_id"};
    if (!(reply = sink_command(r, 3, argv)))
        return -1;
    r->skip_valid = false;
    if (reply->type == REDIS_REPLY_STRING)
        sink_parse_last_id(r, reply->str, reply->len);
    freeReplyObject(reply);
    if (r->prev_check)
        sink_check_previous_run(r);
    if (r->ever_connected)
        stats_inc(&r->stats, STAT_OUTPUT_REDIS_RECONNECTS);
    if (r->outage_logged)
        sink_log("connected to %s", r->target);
    r->ever_connected = true;
    r->outage_logged = false;
    return 0;
}

/* Is this event one Redis already has (see sink_connect)? */
static bool sink_already_sent(struct output_redis *r, const struct record_view *v)
{
    if (!r->skip_valid)
        return false;
    if (v->run_id == r->skip_run && v->n <= r->skip_n
        && v->len[F_SENSOR] == strlen(r->skip_sensor)
        && memcmp(v->s[F_SENSOR], r->skip_sensor, v->len[F_SENSOR]) == 0)
        return true;
    r->skip_valid = false;   /* order: nothing after this one was sent */
    return false;
}

/* ---- building a batch */

#define ARGV_MAX 256

struct command {
    int argc;
    const char *argv[ARGV_MAX];
    size_t len[ARGV_MAX];
};

static void cmd_start(struct command *c, const char *name)
{
    c->argc = 0;
    c->argv[c->argc] = name;
    c->len[c->argc++] = strlen(name);
}

static void cmd_arg(struct command *c, const char *s, size_t len)
{
    if (c->argc < ARGV_MAX) {
        c->argv[c->argc] = s;
        c->len[c->argc++] = len;
    }
}

static void cmd_str(struct command *c, const char *s)
{
    cmd_arg(c, s, strlen(s));
}

/* What each queued command was, to read EXEC's reply. */
enum cmd_kind { CMD_XADD, CMD_OTHER, CMD_FLEET };

struct batch_build {
    enum cmd_kind *kinds;
    size_t count, cap;
    /* the fleet reports of the batch, in order (their replies say whether
     * this sensor raises the fleet alert) */
    struct fleet_report *reports;
    size_t report_n, report_cap;
    /* per-minute counters of the batch: key, field, increment */
    struct minute_count { char key[160]; char field[64]; long long n; } *counts;
    size_t count_n, count_cap;
};

static int build_push_kind(struct batch_build *b, enum cmd_kind k)
{
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        enum cmd_kind *p = realloc(b->kinds, cap * sizeof(*p));
        if (!p)
            return -1;
        b->kinds = p;
        b->cap = cap;
    }
    b->kinds[b->count++] = k;
    return 0;
}

static int sink_append(struct output_redis *r, struct batch_build *b, struct command *c,
                       enum cmd_kind k)
{
    if (build_push_kind(b, k) != 0)
        return -1;
    return redisAppendCommandArgv(r->ctx, c->argc, c->argv, c->len) == REDIS_OK ? 0 : -1;
}

static void count_minute(struct output_redis *r, struct batch_build *b, const struct record_view *v)
{
    if (!r->rc->counters_prefix[0])
        return;
    struct minute_count mc;
    time_t sec = (time_t)(v->ts_us / 1000000);
    struct tm tm;
    char minute[16];
    gmtime_r(&sec, &tm);
    strftime(minute, sizeof(minute), "%Y%m%d%H%M", &tm);
    snprintf(mc.key, sizeof(mc.key), "%s%s", r->rc->counters_prefix, minute);
    int tl = (int)(v->len[F_TYPE] < 30 ? v->len[F_TYPE] : 30);
    int al = (int)(v->len[F_APP] < 30 ? v->len[F_APP] : 30);
    if (al && !(v->len[F_TYPE] == 5 && memcmp(v->s[F_TYPE], "stats", 5) == 0))
        snprintf(mc.field, sizeof(mc.field), "%.*s:%.*s", tl, v->s[F_TYPE], al, v->s[F_APP]);
    else
        snprintf(mc.field, sizeof(mc.field), "%.*s", tl, v->s[F_TYPE]);
    for (size_t i = 0; i < b->count_n; i++)
        if (strcmp(b->counts[i].key, mc.key) == 0 && strcmp(b->counts[i].field, mc.field) == 0) {
            b->counts[i].n++;
            return;
        }
    if (b->count_n == b->count_cap) {
        size_t cap = b->count_cap ? b->count_cap * 2 : 8;
        struct minute_count *p = realloc(b->counts, cap * sizeof(*p));
        if (!p)
            return;
        b->counts = p;
        b->count_cap = cap;
    }
    mc.n = 1;
    b->counts[b->count_n++] = mc;
}

static bool field_is(const struct record_view *v, int f, const char *s)
{
    return v->len[f] == strlen(s) && memcmp(v->s[f], s, v->len[f]) == 0;
}

/* The fleet report of an op from an outside client to a protected server,
 * once per pair and bucket (fleet.h). */
static int sink_append_fleet(struct output_redis *r, struct batch_build *b,
                             const struct record_view *v)
{
    struct fleet_report rep;
    if (!fleet_observe(r->fleet, v->s[F_SRC], v->len[F_SRC], v->s[F_DEST], v->len[F_DEST],
                       v->ts_us, &rep))
        return 0;
    if (b->report_n == b->report_cap) {
        size_t cap = b->report_cap ? b->report_cap * 2 : 16;
        struct fleet_report *p = realloc(b->reports, cap * sizeof(*p));
        if (!p)
            return -1;
        b->reports = p;
        b->report_cap = cap;
    }
    b->reports[b->report_n++] = rep;
    struct command c;
    char nkeys[8];
    snprintf(nkeys, sizeof(nkeys), "%d", FLEET_KEYS);
    cmd_start(&c, "EVAL");
    cmd_str(&c, fleet_script());
    cmd_str(&c, nkeys);
    for (int i = 0; i < FLEET_KEYS; i++)
        cmd_str(&c, b->reports[b->report_n - 1].keys[i]);
    const struct fleet_report *p = &b->reports[b->report_n - 1];
    cmd_str(&c, p->server);
    cmd_str(&c, r->cfg->sensor.id);
    cmd_str(&c, p->buckets);
    cmd_str(&c, p->servers_min);
    cmd_str(&c, p->ttl);
    cmd_str(&c, p->suppress);
    return sink_append(r, b, &c, CMD_FLEET);
}

/* XADD key [MAXLEN ~ n] */
static void cmd_xadd(struct command *c, const char *key, unsigned maxlen, char *buf, size_t cap)
{
    cmd_start(c, "XADD");
    cmd_str(c, key);
    if (maxlen) {
        snprintf(buf, cap, "%u", maxlen);
        cmd_str(c, "MAXLEN");
        cmd_str(c, "~");
        cmd_str(c, buf);
    }
}

/* An alert also goes to the alert-only stream: event time (ts, epoch ms)
 * and EVE severity (1 highest) as flat fields, so a consumer can select by
 * when it happened and filter without parsing the JSON. */
static int sink_append_alert(struct output_redis *r, struct batch_build *b,
                             const struct record_view *v, const char *id, const char *ts)
{
    struct command c;
    char maxlen[24], severity[4];
    snprintf(severity, sizeof(severity), "%u",
             eve_severity_of_word(v->s[F_SEVERITY], v->len[F_SEVERITY]));
    cmd_xadd(&c, r->rc->alerts_stream, r->rc->alerts_maxlen, maxlen, sizeof(maxlen));
    cmd_str(&c, "*");
    cmd_str(&c, "id");
    cmd_str(&c, id);
    cmd_str(&c, "ts");
    cmd_str(&c, ts);
    cmd_str(&c, "severity");
    cmd_str(&c, severity);
    static const struct { int f; const char *name; } flat[] = {
        {F_SEVERITY, "severity_word"}, {F_RULE, "rule"}, {F_APP, "app"}, {F_SRC, "src"},
        {F_DEST, "dest"}, {F_SENSOR, "sensor"}, {F_JSON, "json"},
    };
    for (size_t i = 0; i < sizeof(flat) / sizeof(flat[0]); i++) {
        cmd_str(&c, flat[i].name);
        cmd_arg(&c, v->s[flat[i].f], v->len[flat[i].f]);
    }
    return sink_append(r, b, &c, CMD_XADD);
}

/* A minute's entry goes in with the minute as its id (<ms>-*), so that a
 * time range (Grafana's XRANGE) selects by event time; when the stream
 * already holds a later id (a replay of older traffic, a restarted run),
 * Redis would refuse that, and the entry gets an id of now instead (its
 * `ts` field still says which minute it is). */
static const char metrics_xadd_script[] =
    "local args = {KEYS[1]}\n"
    "if ARGV[1] ~= '0' then table.insert(args, 'MAXLEN') table.insert(args, '~') "
    "table.insert(args, ARGV[1]) end\n"
    "local at = #args + 1\n"
    "table.insert(args, ARGV[2] .. '-*')\n"
    "for i = 3, #ARGV do table.insert(args, ARGV[i]) end\n"
    "local ok = redis.pcall('XADD', unpack(args))\n"
    "if type(ok) == 'table' and ok.err then args[at] = '*' "
    "return redis.call('XADD', unpack(args)) end\n"
    "return ok\n";

/* ZINCRBY <top_prefix><list> n member, and the list's EXPIRE. */
static int sink_append_top(struct output_redis *r, struct batch_build *b, const char *list,
                           const char *member, size_t member_len, const char *n, size_t n_len)
{
    struct command c;
    char key[192], ttl[16];
    snprintf(key, sizeof(key), "%s%s", r->rc->top_prefix, list);
    cmd_start(&c, "ZINCRBY");
    cmd_str(&c, key);
    cmd_arg(&c, n, n_len);
    cmd_arg(&c, member, member_len);
    if (sink_append(r, b, &c, CMD_OTHER) != 0)
        return -1;
    if (!r->rc->counters_ttl)
        return 0;
    snprintf(ttl, sizeof(ttl), "%u", r->rc->counters_ttl);
    cmd_start(&c, "EXPIRE");
    cmd_str(&c, key);
    cmd_str(&c, ttl);
    return sink_append(r, b, &c, CMD_OTHER);
}

/* A finished minute (metrics_minute.h): its stream entry and top lists. */
static int sink_append_metrics(struct output_redis *r, struct batch_build *b,
                               const struct record_view *v)
{
    struct command c;
    char maxlen[24];
    const char *p = v->s[F_METRICS], *end = p + v->len[F_METRICS];
    snprintf(maxlen, sizeof(maxlen), "%u", r->rc->metrics_maxlen);
    cmd_start(&c, "EVAL");
    cmd_str(&c, metrics_xadd_script);
    cmd_str(&c, "1");
    cmd_str(&c, r->metrics_key);
    cmd_str(&c, maxlen);
    bool have_ts = false;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        const char *sp = line_end - p > 2 ? memchr(p + 2, ' ', (size_t)(line_end - p - 2)) : NULL;
        if (sp && p[1] == ' ') {
            const char *name = p + 2, *val = sp + 1;
            size_t name_len = (size_t)(sp - name), val_len = (size_t)(line_end - val);
            if (p[0] == 'f' && !have_ts) {   /* "f ts <ms>" comes first: the id */
                cmd_arg(&c, val, val_len);
                have_ts = true;
            }
            if (p[0] == 'f' && c.argc + 2 <= ARGV_MAX) {
                cmd_arg(&c, name, name_len);
                cmd_arg(&c, val, val_len);
            } else if ((p[0] == 'a' || p[0] == 's')
                       && sink_append_top(r, b, p[0] == 'a' ? "actors" : "servers",
                                          name, name_len, val, val_len) != 0) {
                return -1;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return have_ts ? sink_append(r, b, &c, CMD_XADD) : 0;
}

/* Appends one event's commands (XADD, PUBLISH, health HSET). */
static int sink_append_event(struct output_redis *r, struct batch_build *b,
                             const struct record_view *v, char *id, size_t idcap)
{
    const struct config_output_redis *rc = r->rc;
    struct command c;
    char maxlen[24];
    snprintf(id, idcap, "%.*s:%llu:%llu", (int)v->len[F_SENSOR], v->s[F_SENSOR],
             (unsigned long long)v->run_id, (unsigned long long)v->n);
    cmd_start(&c, "XADD");
    cmd_str(&c, rc->stream);
    if (rc->maxlen) {
        snprintf(maxlen, sizeof(maxlen), "%u", rc->maxlen);
        cmd_str(&c, "MAXLEN");
        cmd_str(&c, "~");
        cmd_str(&c, maxlen);
    }
    cmd_str(&c, "*");
    cmd_str(&c, "id");
    cmd_str(&c, id);
    char ts[24];
    snprintf(ts, sizeof(ts), "%llu", (unsigned long long)(v->ts_us / 1000));
    cmd_str(&c, "ts");
    cmd_str(&c, ts);
    static const struct { int f; const char *name; } flat[] = {
        {F_TYPE, "type"}, {F_APP, "app"}, {F_SRC, "src"}, {F_DEST, "dest"},
        {F_SENSOR, "sensor"}, {F_RULE, "rule"}, {F_SEVERITY, "severity"},
    };
    for (size_t i = 0; i < sizeof(flat) / sizeof(flat[0]); i++)
        if (v->len[flat[i].f]) {
            cmd_str(&c, flat[i].name);
            cmd_arg(&c, v->s[flat[i].f], v->len[flat[i].f]);
        }
    cmd_str(&c, "json");
    cmd_arg(&c, v->s[F_JSON], v->len[F_JSON]);
    if (sink_append(r, b, &c, CMD_XADD) != 0)
        return -1;

    if (field_is(v, F_TYPE, "alert") && rc->alerts_stream[0]
        && sink_append_alert(r, b, v, id, ts) != 0)
        return -1;
    if (v->len[F_METRICS] && sink_append_metrics(r, b, v) != 0)
        return -1;

    if (r->publish_all || field_is(v, F_TYPE, "alert")) {
        cmd_start(&c, "PUBLISH");
        cmd_str(&c, rc->channel);
        cmd_arg(&c, v->s[F_JSON], v->len[F_JSON]);
        if (sink_append(r, b, &c, CMD_OTHER) != 0)
            return -1;
    }

    if (v->len[F_HEALTH]) {
        /* "name value\n" lines, several HSETs if there are many */
        const char *p = v->s[F_HEALTH], *end = p + v->len[F_HEALTH];
        while (p < end) {
            cmd_start(&c, "HSET");
            cmd_str(&c, r->health_key);
            while (p < end && c.argc + 2 <= ARGV_MAX) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *line_end = nl ? nl : end;
                const char *sp = memchr(p, ' ', (size_t)(line_end - p));
                if (sp) {
                    cmd_arg(&c, p, (size_t)(sp - p));
                    cmd_arg(&c, sp + 1, (size_t)(line_end - sp - 1));
                }
                p = nl ? nl + 1 : end;
            }
            if (c.argc > 2 && sink_append(r, b, &c, CMD_OTHER) != 0)
                return -1;
        }
    }
    count_minute(r, b, v);
    if (r->fleet && field_is(v, F_TYPE, "op"))
        return sink_append_fleet(r, b, v);
    return 0;
}

/* The script's answer { crossed, servers, sensors }: when this sensor's
 * report took the fleet over the threshold, its fleet alert is kept to send
 * after the batch (sink_send_fleet_alerts). */
static void sink_fleet_reply(struct output_redis *r, const struct fleet_report *rep,
                             const redisReply *e)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 3 ||
        e->element[0]->type != REDIS_REPLY_INTEGER)
        return;
    stats_inc(&r->stats, STAT_OUTPUT_REDIS_FLEET_REPORTS);
    if (e->element[0]->integer != 1)
        return;
    char json[2048];
    size_t len = fleet_alert_json(r->fleet, rep, e->element[1]->integer,
                                  e->element[2]->integer, json, sizeof(json));
    if (!len || r->fleet_pending_count == FLEET_PENDING_MAX) {
        /* Redis refused the last batches and FLEET_PENDING_MAX wait already */
        stats_inc(&r->stats, STAT_OUTPUT_REDIS_FLEET_ALERTS_LOST);
        return;
    }
    struct fleet_pending *p = &r->fleet_pending[r->fleet_pending_count];
    if (!(p->json = strndup(json, len))) {
        stats_inc(&r->stats, STAT_OUTPUT_REDIS_FLEET_ALERTS_LOST);
        return;
    }
    snprintf(p->ts, sizeof(p->ts), "%llu", (unsigned long long)(rep->ts_us / 1000));
    r->fleet_pending_count++;
}

/* One fleet alert's XADD to `key`: flat fields as the sink's own alerts
 * carry them (ts in epoch ms, EVE severity 2 with our word). */
static void fleet_xadd(struct output_redis *r, const char *key, unsigned maxlen,
                       const char *id, const char *ts, const char *json)
{
    struct command c;
    char buf[24];
    cmd_xadd(&c, key, maxlen, buf, sizeof(buf));
    const char *flat[] = { "*", "id", id, "ts", ts, "type", "alert", "sensor", r->cfg->sensor.id,
                           "rule", "6900", "severity", key == r->rc->alerts_stream ? "2" : "medium",
                           "severity_word", "medium", "json", json };
    for (size_t k = 0; k < sizeof(flat) / sizeof(flat[0]); k++)
        cmd_str(&c, flat[k]);
    redisAppendCommandArgv(r->ctx, c.argc, c.argv, c.len);
}

/* Fleet alerts raised by this sensor: to the event stream, the alert
 * stream and the channel, in one MULTI/EXEC; kept for the next batch when
 * they do not get through. */
static void sink_send_fleet_alerts(struct output_redis *r)
{
    if (!r->fleet_pending_count || !r->ctx)
        return;
    const struct config_output_redis *rc = r->rc;
    struct command c;
    char id[160];
    size_t n = 0;
    redisAppendCommand(r->ctx, "MULTI");
    for (size_t i = 0; i < r->fleet_pending_count; i++) {
        const struct fleet_pending *p = &r->fleet_pending[i];
        snprintf(id, sizeof(id), "fleet:%s:%llu:%llu", r->cfg->sensor.id,
                 (unsigned long long)r->run_id, (unsigned long long)++r->fleet_alert_n);
        fleet_xadd(r, rc->stream, rc->maxlen, id, p->ts, p->json);
        n++;
        if (rc->alerts_stream[0]) {
            fleet_xadd(r, rc->alerts_stream, rc->alerts_maxlen, id, p->ts, p->json);
            n++;
        }
        cmd_start(&c, "PUBLISH");
        cmd_str(&c, rc->channel);
        cmd_str(&c, p->json);
        redisAppendCommandArgv(r->ctx, c.argc, c.argv, c.len);
        n++;
    }
    redisAppendCommand(r->ctx, "EXEC");
    bool ok = true;
    for (size_t i = 0; i < n + 2; i++) {
        redisReply *reply = NULL;
        if (redisGetReply(r->ctx, (void **)&reply) != REDIS_OK || !reply) {
            sink_drop_connection(r, "lost connection to", errno);
            return;
        }
        ok = ok && reply->type != REDIS_REPLY_ERROR &&
             (i != n + 1 || reply->type == REDIS_REPLY_ARRAY);
        freeReplyObject(reply);
    }
    if (!ok)
        return;
    for (size_t i = 0; i < r->fleet_pending_count; i++)
        free(r->fleet_pending[i].json);
    stats_add(&r->stats, STAT_OUTPUT_REDIS_FLEET_ALERTS, r->fleet_pending_count);
    r->fleet_pending_count = 0;
}

/* Reads n replies; the last is EXEC's. SEND_BROKEN on an I/O error. */
static enum send_result sink_read_replies(struct output_redis *r, struct batch_build *b, size_t n)
{
    enum send_result res = SEND_OK;
    r->last_error[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = NULL;
        if (redisGetReply(r->ctx, (void **)&reply) != REDIS_OK || !reply) {
            sink_drop_connection(r, "lost connection to", errno);
            return SEND_BROKEN;
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            if (!r->last_error[0])
                snprintf(r->last_error, sizeof(r->last_error), "%s", reply->str);
            res = SEND_REFUSED;   /* MULTI's queue refused a command, or EXEC */
        } else if (i == n - 1 && reply->type == REDIS_REPLY_ARRAY) {
            /* EXEC ran: an XADD that failed at run time fails the batch (it
             * is retried); other commands' errors are counted only. */
            size_t report = 0;
            for (size_t k = 0; k < reply->elements && k < b->count; k++) {
                const redisReply *e = reply->element[k];
                if (b->kinds[k] == CMD_FLEET && report < b->report_n)
                    sink_fleet_reply(r, &b->reports[report++], e);
                if (e->type != REDIS_REPLY_ERROR)
                    continue;
                if (!r->last_error[0])
                    snprintf(r->last_error, sizeof(r->last_error), "%s", e->str);
                if (b->kinds[k] == CMD_XADD)
                    res = SEND_REFUSED;
                else
                    stats_inc(&r->stats, STAT_OUTPUT_REDIS_ERRORS);
            }
        } else if (i == n - 1) {
            res = SEND_REFUSED;   /* EXEC answered nil: should not happen */
            snprintf(r->last_error, sizeof(r->last_error), "EXEC did not run");
        }
        freeReplyObject(reply);
    }
    return res;
}

static void sink_forget_reports(struct output_redis *r, struct batch_build *b)
{
    for (size_t i = 0; i < b->report_n; i++)
        fleet_forget(r->fleet, &b->reports[i]);
}

/* Sends the batch in flight as one MULTI/EXEC and reads the replies. */
static enum send_result sink_send_batch(struct output_redis *r)
{
    struct batch_build b;
    memset(&b, 0, sizeof(b));
    struct command c;
    char id[160], last_id[160] = "";
    size_t to_send = 0;
    enum send_result res = SEND_OK;
    r->batch_bad = 0;

    cmd_start(&c, "MULTI");
    if (redisAppendCommandArgv(r->ctx, c.argc, c.argv, c.len) != REDIS_OK)
        goto broken;
    for (size_t i = 0; i < r->batch_count; i++) {
        struct record_view v;
        if (redis_record_decode(r->batch[i]->data, r->batch[i]->len, &v) != 0) {
            /* Only a spool written by another version can hold this. */
            pthread_mutex_lock(&r->lock);
            stats_inc(&r->stats, STAT_OUTPUT_REDIS_DROPPED_SPOOL_ERROR);
            pthread_mutex_unlock(&r->lock);
            r->batch_bad++;
            continue;
        }
        if (sink_already_sent(r, &v))
            continue;
        if (sink_append_event(r, &b, &v, id, sizeof(id)) != 0)
            goto broken;
        memcpy(last_id, id, sizeof(id));
        to_send++;
    }
    if (to_send) {
        char ttl[16];
        for (size_t i = 0; i < b.count_n; i++) {
            char incr[24];
            snprintf(incr, sizeof(incr), "%lld", b.counts[i].n);
            cmd_start(&c, "HINCRBY");
            cmd_str(&c, b.counts[i].key);
            cmd_str(&c, b.counts[i].field);
            cmd_str(&c, incr);
            if (sink_append(r, &b, &c, CMD_OTHER) != 0)
                goto broken;
            bool first = true;   /* one EXPIRE per key */
            for (size_t k = 0; k < i; k++)
                first = first && strcmp(b.counts[k].key, b.counts[i].key) != 0;
            if (first && r->rc->counters_ttl) {
                snprintf(ttl, sizeof(ttl), "%u", r->rc->counters_ttl);
                cmd_start(&c, "EXPIRE");
                cmd_str(&c, b.counts[i].key);
                cmd_str(&c, ttl);
                if (sink_append(r, &b, &c, CMD_OTHER) != 0)
                    goto broken;
            }
        }
        cmd_start(&c, "HSET");
        cmd_str(&c, r->health_key);
        cmd_str(&c, "last_event_id");
        cmd_str(&c, last_id);
        if (sink_append(r, &b, &c, CMD_OTHER) != 0)
            goto broken;
    }
    cmd_start(&c, "EXEC");
    if (redisAppendCommandArgv(r->ctx, c.argc, c.argv, c.len) != REDIS_OK)
        goto broken;
    res = sink_read_replies(r, &b, b.count + 2);
    if (res == SEND_OK)
        r->skip_valid = false;   /* what follows is new to Redis */
    if (res == SEND_OK)
        sink_send_fleet_alerts(r);
    else
        sink_forget_reports(r, &b);
    free(b.kinds);
    free(b.counts);
    free(b.reports);
    return res;
broken:
    sink_forget_reports(r, &b);
    free(b.kinds);
    free(b.counts);
    free(b.reports);
    sink_drop_connection(r, "cannot write to", errno);
    return SEND_BROKEN;
}

/* After a failure: wait before the next attempt, twice as long each time.
 * At shutdown, a Redis that cannot be reached at all is not waited for (what
 * is left goes to the spool at once); a lost connection or a refused batch
 * is retried until the shutdown deadline. */
static void sink_back_off(struct output_redis *r, bool unreachable)
{
    r->retry_at_ms = mono_ms() + r->backoff_ms;
    unsigned next = r->backoff_ms * 2;
    r->backoff_ms = next > r->rc->reconnect_max_ms || next < r->backoff_ms
                        ? r->rc->reconnect_max_ms : next;
    pthread_mutex_lock(&r->lock);
    if (r->stopping && unreachable)
        r->give_up = true;
    pthread_mutex_unlock(&r->lock);
}

/* At shutdown, within the time left: a shorter command timeout. */
static void sink_shutdown_timeout(struct output_redis *r)
{
    pthread_mutex_lock(&r->lock);
    bool stopping = r->stopping;
    uint64_t deadline = r->stop_deadline_ms;
    pthread_mutex_unlock(&r->lock);
    if (!stopping || !r->ctx)
        return;
    uint64_t now = mono_ms();
    unsigned left = deadline > now ? (unsigned)(deadline - now) : 1;
    if (left < r->rc->command_timeout_ms)
        redisSetTimeout(r->ctx, ms_timeval(left));
}

/* Whatever did not reach Redis: into the spool, in order, or counted. */
static void sink_leftovers(struct output_redis *r)
{
    pthread_mutex_lock(&r->lock);
    if (r->batch_count && !r->batch_from_spool) {
        /* in flight from memory: older than everything in the spool */
        size_t n = r->batch_count;
        const void **data = malloc(n * sizeof(*data));
        size_t *len = malloc(n * sizeof(*len));
        enum spool_status st = SPOOL_ERROR;
        if (spool_usable(r) && data && len) {
            for (size_t i = 0; i < n; i++) {
                data[i] = r->batch[i]->data;
                len[i] = r->batch[i]->len;
            }
            st = spool_prepend(&r->spool, data, len, n);
        }
        if (st == SPOOL_OK)
            stats_add(&r->stats, STAT_OUTPUT_REDIS_SPOOLED, n);
        else
            stats_add(&r->stats, !spool_usable(r) ? STAT_OUTPUT_REDIS_DROPPED_SHUTDOWN
                                 : st == SPOOL_FULL ? STAT_OUTPUT_REDIS_DROPPED_SPOOL_FULL
                                                    : STAT_OUTPUT_REDIS_DROPPED_SPOOL_ERROR, n);
        if (st == SPOOL_ERROR && spool_usable(r))
            sink_spool_fault(r, "spooling the batch in flight at shutdown");
        free(data);
        free(len);
        for (size_t i = 0; i < n; i++) {
            r->mem_bytes -= ITEM_COST(r->batch[i]->len);
            free(r->batch[i]);
        }
        r->mem_events -= n;
    } else {
        /* in flight from the spool: still there, unacknowledged */
        for (size_t i = 0; i < r->batch_count; i++)
            free(r->batch[i]);
    }
    r->batch_count = 0;
    while (r->q_head) {
        enum spool_status st = SPOOL_ERROR;
        if (spool_usable(r))
            st = sink_evict_oldest(r);
        if (st == SPOOL_OK)
            continue;
        struct sink_item *it = r->q_head;
        stats_inc(&r->stats, !spool_usable(r) ? STAT_OUTPUT_REDIS_DROPPED_SHUTDOWN
                             : st == SPOOL_FULL ? STAT_OUTPUT_REDIS_DROPPED_SPOOL_FULL
                                                : STAT_OUTPUT_REDIS_DROPPED_SPOOL_ERROR);
        if (st == SPOOL_ERROR && spool_usable(r))
            sink_spool_fault(r, "spooling the memory queue at shutdown");
        r->q_head = it->next;
        r->q_count--;
        r->mem_bytes -= ITEM_COST(it->len);
        r->mem_events--;
        free(it);
    }
    r->q_tail = NULL;
    if (spool_usable(r) && spool_sync(&r->spool) != SPOOL_OK)
        sink_spool_fault(r, "syncing at shutdown");
    sink_mark_safe(r);
    pthread_mutex_unlock(&r->lock);
}

/* Redis is away: an event leaves memory only for the spool. The batch in
 * flight from memory goes in front of the spool (it is older than anything
 * spooled since it was taken), the memory queue behind it. When the spool
 * cannot take them they stay in memory (and are retried from there). Lock
 * held. */
static void sink_spool_memory(struct output_redis *r)
{
    if (!spool_usable(r))
        return;
    size_t n = r->batch_count;
    if (n && !r->batch_from_spool) {
        const void **data = malloc(n * sizeof(*data));
        size_t *len = malloc(n * sizeof(*len));
        enum spool_status st = SPOOL_ERROR;
        if (data && len) {
            for (size_t i = 0; i < n; i++) {
                data[i] = r->batch[i]->data;
                len[i] = r->batch[i]->len;
            }
            st = spool_prepend(&r->spool, data, len, n);
        }
        free(data);
        free(len);
        if (st != SPOOL_OK) {
            if (st == SPOOL_FULL)
                sink_fault(r, "spool %s full: the batch in flight stays in memory",
                           r->spool.path);
            else
                sink_spool_fault(r, "spooling the batch in flight");
            return;
        }
        for (size_t i = 0; i < n; i++) {
            r->mem_bytes -= ITEM_COST(r->batch[i]->len);
            free(r->batch[i]);
        }
        r->mem_events -= n;
        r->batch_count = 0;
        stats_add(&r->stats, STAT_OUTPUT_REDIS_SPOOLED, n);
        r->appended_since_sync += n;
    }
    enum spool_status st = SPOOL_OK;
    while (r->q_head && (st = sink_evict_oldest(r)) == SPOOL_OK)
        ;
    if (st == SPOOL_ERROR)
        sink_spool_fault(r, "spooling the memory queue");
    if (r->appended_since_sync) {
        if (spool_sync(&r->spool) != SPOOL_OK)
            sink_spool_fault(r, "syncing");
        r->appended_since_sync = 0;
    }
    r->memory_spooled_ms = mono_ms();
    sink_mark_safe(r);
}

/* Picks the next batch, waiting for one as needed. Returns false when the
 * thread should stop. Lock held. */
static bool sink_next_batch(struct output_redis *r)
{
    for (;;) {
        uint64_t now = mono_ms();
        if (r->stopping && (now >= r->stop_deadline_ms || r->give_up))
            return false;
        if (r->retry_at_ms > now) {
            uint64_t until = r->retry_at_ms;
            if (r->stopping && r->stop_deadline_ms < until)
                until = r->stop_deadline_ms;
            if (r->down && spool_usable(r)) {
                /* events that came meanwhile: to the spool every flush_ms */
                if (r->q_head && now >= r->memory_spooled_ms + r->rc->flush_ms)
                    sink_spool_memory(r);
                if (r->q_head && r->memory_spooled_ms + r->rc->flush_ms < until)
                    until = r->memory_spooled_ms + r->rc->flush_ms;
            }
            sink_wait_until(r, until);
            continue;
        }
        if (r->batch_count)
            return true;
        if (spool_usable(r) && r->spool.unread) {
            sink_take_spool(r);
            if (r->batch_count)
                return true;
            continue;
        }
        if (r->q_head) {
            uint64_t due = r->q_head->enq_ms + r->rc->flush_ms;
            if (r->q_count >= r->rc->batch_max || r->stopping || now >= due) {
                sink_take_memory(r);
                return true;
            }
            sink_wait_until(r, due);
            continue;
        }
        if (r->stopping)
            return false;
        sink_wait_until(r, now + 1000);
    }
}

/* An attempt failed: from now on, until a batch gets through, memory is
 * only a waiting room for the spool. */
static void sink_failed(struct output_redis *r)
{
    pthread_mutex_lock(&r->lock);
    r->down = true;
    sink_spool_memory(r);
    pthread_mutex_unlock(&r->lock);
}

static void *sink_main(void *arg)
{
    struct output_redis *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        pthread_cond_broadcast(&r->progress);   /* output_redis_drain watches */
        bool more = sink_next_batch(r);
        pthread_mutex_unlock(&r->lock);
        if (!more)
            break;
        if (!r->ctx && sink_connect(r) != 0) {
            sink_failed(r);
            sink_back_off(r, true);
            continue;
        }
        sink_shutdown_timeout(r);
        enum send_result res = sink_send_batch(r);
        if (res == SEND_OK) {
            sink_ack(r);
            r->backoff_ms = r->rc->reconnect_min_ms;
            r->down = false;
            continue;
        }
        if (res == SEND_REFUSED) {
            stats_inc(&r->stats, STAT_OUTPUT_REDIS_ERRORS);
            if (!r->outage_logged)
                sink_log("%s refused a batch: %s; keeping it and retrying with back-off",
                         r->target, r->last_error);
            r->outage_logged = true;
        }
        sink_failed(r);
        sink_back_off(r, false);
    }
    sink_leftovers(r);
    if (r->ctx)
        redisFree(r->ctx);
    r->ctx = NULL;
    return NULL;
}

int output_redis_start(struct output_redis *r)
{
    if (pthread_create(&r->thread, NULL, sink_main, r) != 0)
        return -1;
    r->started = true;
    return 0;
}

void output_redis_drain(struct output_redis *r)
{
    if (!r || !r->started)
        return;
    uint64_t start = mono_ms(), last_move = start;
    uint64_t prev = UINT64_MAX;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        uint64_t pending = r->mem_events + (spool_usable(r) ? r->spool.records : 0);
        uint64_t now = mono_ms();
        if (pending == 0 || now - start >= r->rc->shutdown_timeout_ms)
            break;
        if (pending != prev) {
            prev = pending;
            last_move = now;
        } else if (now - last_move >= 500) {
            break;
        }
        pthread_cond_signal(&r->wake);
        /* Sleep until the sink has tried a batch, or the limits above. */
        uint64_t until = start + r->rc->shutdown_timeout_ms;
        if (last_move + 500 < until)
            until = last_move + 500;
        struct timespec ts = {(time_t)(until / 1000), (long)(until % 1000) * 1000000};
        pthread_cond_timedwait(&r->progress, &r->lock, &ts);
    }
    pthread_mutex_unlock(&r->lock);
}

void output_redis_finish(struct output_redis *r)
{
    if (!r || !r->started)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    r->stop_deadline_ms = mono_ms() + r->rc->shutdown_timeout_ms;
    r->retry_at_ms = 0;   /* one more attempt at once, even while backing off */
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    r->started = false;
    run_state_close(&r->state, true);   /* nothing is left only in memory */
}

void output_redis_summary(struct output_redis *r, FILE *f)
{
    struct stats s;
    stats_clear(&s);
    output_redis_collect_stats(r, &s);
    fprintf(f, "scrapewatch: redis: final:");
    static const char group[] = "output_redis.";
    for (unsigned i = 0; i < STAT_COUNT; i++) {
        const char *name = stats_name(i);
        if (strncmp(name, group, sizeof(group) - 1) == 0)
            fprintf(f, " %s=%llu", name + sizeof(group) - 1,
                    (unsigned long long)stats_get(&s, i));
    }
    fprintf(f, " spool_pending=%llu\n",
            (unsigned long long)(r->spool.fd >= 0 ? r->spool.records : 0));
}

uint64_t output_redis_undelivered(struct output_redis *r, char *why, size_t whylen)
{
    static const struct { enum stat_id id; const char *what; } reasons[] = {
        {STAT_OUTPUT_REDIS_DROPPED_QUEUE_FULL, "memory queue full without a spool"},
        {STAT_OUTPUT_REDIS_DROPPED_SPOOL_FULL, "spool full"},
        {STAT_OUTPUT_REDIS_DROPPED_SPOOL_ERROR, "spool write errors"},
        {STAT_OUTPUT_REDIS_DROPPED_SHUTDOWN, "left at shutdown without a spool"},
        {STAT_OUTPUT_REDIS_DROPPED_SPOOL_DAMAGED, "spool damaged"},
    };
    pthread_mutex_lock(&r->lock);
    uint64_t total = sink_undelivered(r);
    size_t used = 0;
    if (whylen)
        why[0] = '\0';
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        uint64_t n = stats_get(&r->stats, reasons[i].id);
        if (n && used < whylen)
            used += (size_t)snprintf(why + used, whylen - used, "%s%s: %llu", used ? ", " : "",
                                     reasons[i].what, (unsigned long long)n);
    }
    pthread_mutex_unlock(&r->lock);
    return total;
}

void output_redis_free(struct output_redis *r)
{
    if (!r)
        return;
    output_redis_finish(r);
    while (r->q_head) {
        struct sink_item *it = r->q_head;
        r->q_head = it->next;
        free(it);
    }
    for (size_t i = 0; i < r->batch_count; i++)
        free(r->batch[i]);
    free(r->batch);
    for (size_t i = 0; i < r->fleet_pending_count; i++)
        free(r->fleet_pending[i].json);
    fleet_free(r->fleet);
    if (r->state.rec)
        run_state_close(&r->state, r->issued == 0);
    spool_close(&r->spool);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->wake);
    pthread_cond_destroy(&r->progress);
    free(r);
}
