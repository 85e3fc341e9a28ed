/* detect.c - k-way merge of worker records, records to events (see detect.h).
 *
 * Each worker's stream is already ordered by record key. A record may be
 * passed on when it is the smallest head and every worker with no record
 * waiting has promised (by watermark) that its next record comes later. */
#include "detect.h"
#include "flow_recon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../rules/engine.h"
#include "base/limits.h"
#include "pipeline.h"
#include "rdns.h"

#define DETECT_CHAINS_MAX 65536   /* cursors remembered (chain.h) */
#define DETECT_WALKS_MAX 65536    /* offset walks remembered (paging.h) */

struct merge_head {
    const void *rec;       /* head record, NULL when none waiting */
    uint32_t type;
    uint64_t watermark;
    bool ended;
};

static void detect_push(struct detect *d, uint32_t type, const void *data, size_t len)
{
    while (ring_push(&d->out, type, data, len) != 0)
        ring_wait_writable(&d->out, len);
}

static void *detect_reserve(struct detect *d, uint32_t type, size_t len)
{
    void *p;
    while (!(p = ring_reserve(&d->out, type, len)))
        ring_wait_writable(&d->out, len);
    return p;
}

void detect_collect_stats(const struct detect *d, struct stats *sum)
{
    stats_clear(sum);
    stats_accumulate(sum, &d->dispatch->stats);
    for (unsigned i = 0; i < d->worker_count; i++)
        stats_accumulate(sum, &d->workers[i].stats);
    stats_accumulate(sum, &d->stats);
    if (d->rdns)
        stats_accumulate(sum, rdns_thread_stats(d->rdns));
}

static void detect_emit_stats(struct detect *d, uint64_t ts_us, uint32_t final)
{
    struct stats sum;
    struct event_stats e;
    memset(&e, 0, sizeof(e));
    stats_inc(&d->stats, STAT_EVENTS_STATS);
    detect_collect_stats(d, &sum);
    e.ts_us = ts_us;
    e.final = final;
    for (unsigned i = 0; i < STATS_SLOTS; i++)
        e.v[i] = stats_get(&sum, i);
    detect_push(d, EVENT_STATS, &e, sizeof(e));
}

/* Offline `--stats-interval`: one worker's snapshot (pipeline.h); with
 * the last one, the stats event of that point in packet time. */
static void detect_stats_snapshot(struct detect *d, const struct rec_stats *r)
{
    for (unsigned i = 0; i < STATS_SLOTS; i++)
        d->snap[i] += r->v[i];
    if (++d->snap_parts < d->worker_count)
        return;
    struct event_stats *e = detect_reserve(d, EVENT_STATS, sizeof(*e));
    stats_inc(&d->stats, STAT_EVENTS_STATS);
    memset(e, 0, sizeof(*e));
    e->ts_us = r->ts_us;
    for (unsigned i = 0; i < STATS_SLOTS; i++)
        e->v[i] = d->snap[i] + stats_get(&d->stats, i);
    ring_commit(&d->out);
    memset(d->snap, 0, sizeof(d->snap));
    d->snap_parts = 0;
}

/* The actor's crawler name by reverse DNS, when rdns knows it now; an
 * actor not known yet is looked up in the background and named in its
 * later alerts (rdns.h). The organisation of a network list is kept. */
static void detect_name_actor(struct detect *d, struct alert *a)
{
    struct rdns_answer ans;
    if (!rdns_attribute(d->rdns, &d->stats, a->meta.family, a->meta.client, &ans))
        return;
    snprintf(a->rdns, sizeof(a->rdns), "%s", ans.name);
    if (!a->organisation[0]) {
        snprintf(a->organisation, sizeof(a->organisation), "%s", ans.organisation);
        a->organisation_by_rdns = true;
    }
    stats_inc(&d->stats, STAT_RDNS_ATTRIBUTED);
}

static void detect_alert(void *arg, const struct alert *a)
{
    struct detect *d = arg;
    if (d->rdns && !rule_engine_client_inside(d->engine, &a->meta)) {
        struct alert *named = detect_reserve(d, EVENT_ALERT, sizeof(*named));
        memcpy(named, a, sizeof(*named));
        detect_name_actor(d, named);
        ring_commit(&d->out);
        return;
    }
    detect_push(d, EVENT_ALERT, a, sizeof(*a));
}

/* SIGHUP: load the rules again (and the configuration's detect group, when
 * there is a configuration file) and move the state of rules that are still
 * there into them. On any error the old rules stay, and the error is
 * printed: the sensor keeps running. */
static void detect_reload(struct detect *d)
{
    char err[1024];
    struct sw_config *cfg = malloc(sizeof(*cfg));
    if (!cfg) {
        fprintf(stderr, "scrapewatch: reload: out of memory; keeping the old rules\n");
        return;
    }
    memcpy(cfg, d->cfg, sizeof(*cfg));
    if (d->config_path) {
        struct sw_config *fresh = malloc(sizeof(*fresh));
        int rc = fresh ? config_load(d->config_path, fresh, err, sizeof(err)) : -1;
        if (rc != 0) {
            fprintf(stderr, "scrapewatch: reload: %s; keeping the old rules\n",
                    fresh ? err : "out of memory");
            free(fresh);
            free(cfg);
            return;
        }
        memcpy(&cfg->detect, &fresh->detect, sizeof(cfg->detect));
        free(fresh);
    }
    struct rule_engine *e = rule_engine_load(&cfg->detect, err, sizeof(err));
    free(cfg);
    if (!e) {
        fprintf(stderr, "scrapewatch: reload: %s; keeping the old rules\n", err);
        return;
    }
    rule_engine_set_budget(e, &d->budget);
    rule_engine_adopt_state(e, d->engine);
    d->engine = e;
    fprintf(stderr, "scrapewatch: rules reloaded: %zu rules\n", rule_engine_rule_count(e));
}

/* One record, in capture order: its event, then the alerts it causes. */
static void detect_record(struct detect *d, uint32_t type, const void *rec)
{
    if (type == REC_OP) {
        /* The record stays in the worker's ring, which is ours to write
         * until ring_release: its chain is filled in there, and the event
         * and the rules read that one copy (a record is 1.4 KB). */
        struct rec_op *r = (struct rec_op *)rec;
        d->last_ts_us = r->ts_us > d->last_ts_us ? r->ts_us : d->last_ts_us;
        chain_table_update(d->chains, &d->stats, &r->meta, &r->op, &r->chain);
        if (d->reload && atomic_exchange(d->reload, 0))
            detect_reload(d);
        if (d->cfg->events.op) {
            stats_inc(&d->stats, STAT_EVENTS_OP);
            detect_push(d, EVENT_OP, r, sizeof(*r));
        }
        if (d->engine) {
            /* pages fetched by offset count as a chain for the rules only
             * (the op event's chain is the cursor's) */
            if (!r->chain.id[0])
                paging_table_update(d->paging, &d->stats, &r->meta, &r->op, &r->chain);
            rule_engine_op(d->engine, &d->stats, r, detect_alert, d);
            stats_set(&d->stats, STAT_MEM_USED, d->budget.used);
        }
    } else if (type == REC_STATS) {
        detect_stats_snapshot(d, rec);
    } else if (type == REC_FLOW) {
        const struct rec_flow *r = rec;
        d->last_ts_us = r->ts_us > d->last_ts_us ? r->ts_us : d->last_ts_us;
        if (d->engine && flow_recon_op(r, &d->recon)) {
            rule_engine_flow(d->engine, &d->stats, &d->recon, detect_alert, d);
            stats_set(&d->stats, STAT_MEM_USED, d->budget.used);
        }
        if (!d->cfg->events.flow)
            return;
        stats_inc(&d->stats, STAT_EVENTS_FLOW);
        detect_push(d, EVENT_FLOW, r, sizeof(*r));
    }
}

static const struct record_key *head_key(const struct merge_head *h)
{
    return (const struct record_key *)h->rec;   /* every record starts with its key */
}

/* Reads watermarks and end markers until a worker shows a data record. */
static void detect_fill(struct detect *d, unsigned i, struct merge_head *h)
{
    struct ring *r = &d->workers[i].out;
    while (!h->rec && !h->ended) {
        uint32_t type;
        size_t len;
        const void *m = ring_peek(r, &type, &len);
        if (!m)
            return;
        if (type == REC_WATERMARK) {
            uint64_t wm = ((const struct rec_watermark *)m)->seq;
            if (wm > h->watermark)
                h->watermark = wm;
        } else if (type == REC_END) {
            h->ended = true;
            h->watermark = UINT64_MAX;
        } else {
            h->rec = m;
            h->type = type;
            return;
        }
        ring_release(r);
    }
}

/* Index of the head that may go next, -1 if none may yet, -2 when all ended. */
static int detect_pick(struct detect *d, struct merge_head *heads)
{
    int best = -1;
    bool all_ended = true;
    for (unsigned i = 0; i < d->worker_count; i++) {
        detect_fill(d, i, &heads[i]);
        all_ended = all_ended && heads[i].ended && !heads[i].rec;
        if (heads[i].rec && (best < 0 || record_key_cmp(head_key(&heads[i]),
                                                        head_key(&heads[best])) < 0))
            best = (int)i;
    }
    if (best < 0)
        return all_ended ? -2 : -1;
    uint64_t seq = head_key(&heads[best])->seq;
    for (unsigned i = 0; i < d->worker_count; i++)
        if (!heads[i].rec && heads[i].watermark < seq)
            return -1;
    return best;
}

static uint64_t wall_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void detect_maybe_periodic_stats(struct detect *d, uint64_t *next_us)
{
    if (!d->live || d->cfg->events.stats_interval == 0)
        return;
    uint64_t now = wall_clock_us();
    if (now < *next_us)
        return;
    *next_us = now + (uint64_t)d->cfg->events.stats_interval * 1000000;
    detect_emit_stats(d, now, 0);
}

/* What the detect thread waits for when no record may go yet: a record or
 * watermark from a worker that has none waiting. */
struct detect_wait {
    struct detect *d;
    struct merge_head *heads;
};

static int detect_wait_ready(void *arg)
{
    struct detect_wait *a = arg;
    return detect_pick(a->d, a->heads) != -1;
}

/* Only the workers whose next record is wanted wake us: a worker whose
 * head record waits may write on without waking anybody. */
static void detect_wait_announce(void *arg, int on)
{
    struct detect_wait *a = arg;
    for (unsigned i = 0; i < a->d->worker_count; i++)
        ring_announce_reader(&a->d->workers[i].out,
                             on && !a->heads[i].rec && !a->heads[i].ended);
}

/* Nothing to merge: sleep until a worker writes, or (live) until the next
 * periodic stats are due. A rule reload asked for by SIGHUP waits for the
 * next wake-up: at most a second live, where every worker sends a watermark
 * each second. */
static void detect_wait(struct detect *d, struct merge_head *heads, uint64_t next_stats_us)
{
    int timeout_ms = -1;
    if (d->live && d->cfg->events.stats_interval) {
        uint64_t now = wall_clock_us();
        timeout_ms = next_stats_us <= now ? 0 : (int)((next_stats_us - now) / 1000 + 1);
    }
    ring_flush(&d->out);
    struct detect_wait a = {d, heads};
    struct ring_wait_for what = {detect_wait_ready, detect_wait_announce, &a};
    ring_wait(&d->waiter, &what, timeout_ms);
}

static void *detect_main(void *arg)
{
    struct detect *d = arg;
    struct merge_head heads[WORKERS_MAX];
    memset(heads, 0, sizeof(heads));
    uint64_t next_stats_us = wall_clock_us() + (uint64_t)d->cfg->events.stats_interval * 1000000;
    for (;;) {
        int i = detect_pick(d, heads);
        if (i == -2)
            break;
        if (i < 0) {
            /* Nothing to merge: a quiet sensor still reloads at once. */
            if (d->reload && atomic_exchange(d->reload, 0))
                detect_reload(d);
            detect_maybe_periodic_stats(d, &next_stats_us);
            detect_wait(d, heads, next_stats_us);
            continue;
        }
        detect_record(d, heads[i].type, heads[i].rec);
        heads[i].rec = NULL;
        ring_release(&d->workers[i].out);
        detect_maybe_periodic_stats(d, &next_stats_us);
    }
    /* the bursts still open end with the input: their closing updates */
    rule_engine_finish(d->engine, &d->stats, detect_alert, d);
    uint64_t final_ts = d->live ? wall_clock_us() : d->dispatch->last_ts_us;
    detect_emit_stats(d, final_ts, 1);
    detect_push(d, EVENT_END, NULL, 0);
    ring_flush(&d->out);
    return NULL;
}

int detect_init(struct detect *d, const struct sw_config *cfg, struct worker *workers,
                unsigned count, const struct dispatch *dispatch, bool live,
                struct rule_engine *engine, atomic_int *reload, const char *config_path)
{
    memset(d, 0, sizeof(*d));
    membudget_init(&d->budget, (size_t)cfg->memory.rules_mb * 1024 * 1024, &d->stats);
    rule_engine_set_budget(engine, &d->budget);
    d->engine = engine;
    d->reload = reload;
    d->config_path = config_path;
    if (count > WORKERS_MAX)
        return -1;
    d->cfg = cfg;
    d->workers = workers;
    d->worker_count = count;
    d->dispatch = dispatch;
    d->live = live;
    if (!(d->chains = chain_table_new(DETECT_CHAINS_MAX)))
        return -1;
    chain_table_set_budget(d->chains, &d->budget);
    if (!(d->paging = paging_table_new(DETECT_WALKS_MAX)))
        return -1;
    if (ring_init(&d->out, ring_size(cfg->events.queue * sizeof(struct rec_op))) != 0)
        return -1;
    /* Offline, a reader is woken once an eighth of its ring waits (and
     * when its writer goes idle); live at once (ring_set_batch). */
    ring_waiter_init(&d->waiter);
    d->out.writer = &d->waiter;
    ring_set_batch(&d->out, live ? 0 : d->out.size / 8);
    for (unsigned i = 0; i < count; i++) {
        workers[i].out.reader = &d->waiter;
        ring_set_batch(&workers[i].out, live ? 0 : workers[i].out.size / 8);
    }
    return 0;
}

void detect_set_rdns(struct detect *d, struct rdns *rdns)
{
    d->rdns = rdns;
}

int detect_start(struct detect *d)
{
    return pthread_create(&d->thread, NULL, detect_main, d) == 0 ? 0 : -1;
}

void detect_join(struct detect *d)
{
    pthread_join(d->thread, NULL);
}

void detect_destroy(struct detect *d)
{
    ring_destroy(&d->out);
    chain_table_free(d->chains);
    paging_table_free(d->paging);
    rule_engine_free(d->engine);
    d->engine = NULL;
}
