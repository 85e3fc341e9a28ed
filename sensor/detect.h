/* detect.h - the detect thread: merges the workers' record streams in capture
 * order and turns records into events: op and flow events, the alerts the
 * rule engine (rules/engine.h) draws from each op (each right after its op
 * event), and stats events. On request (SIGHUP) it reloads the rules between
 * two ops, keeping the old ones when the new ones do not load. */
#ifndef SW_DETECT_H
#define SW_DETECT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "chain.h"
#include "paging.h"
#include "config.h"
#include "dispatch.h"
#include "ring.h"
#include "base/stats.h"
#include "worker.h"

struct rule_engine;

struct detect {
    pthread_t thread;
    struct worker *workers;
    unsigned worker_count;
    const struct dispatch *dispatch;  /* its counters, for stats events */
    const struct sw_config *cfg;
    bool live;                        /* periodic stats by wall clock */
    struct ring out;                  /* to the output thread */
    struct ring_waiter waiter;        /* sleeps here: no record may go, or `out` full */
    struct stats stats;
    struct chain_table *chains;       /* cursor chains across flows */
    struct rec_op recon;              /* a payload-less flow as an op (flow_recon.h) */
    struct paging_table *paging;      /* offset walks (for the rules) */
    uint64_t last_ts_us;              /* packet time of the newest record */
    struct rule_engine *engine;       /* owned; NULL = no rules */
    atomic_int *reload;               /* set (by a signal handler): reload the rules */
    const char *config_path;          /* re-read on reload for the detect group, or NULL */
    uint64_t snap[STATS_SLOTS];       /* offline stats: workers' snapshots summed */
    unsigned snap_parts;              /* snapshots summed so far */
    struct membudget budget;          /* the rules' share (memory.rules_mb) */
    struct rdns *rdns;                /* attribution by reverse DNS, or NULL */
};

/* Takes ownership of engine (may be NULL). reload may be NULL. */
int detect_init(struct detect *d, const struct sw_config *cfg, struct worker *workers,
                unsigned count, const struct dispatch *dispatch, bool live,
                struct rule_engine *engine, atomic_int *reload, const char *config_path);
/* Alerts of outside actors ask rdns for the actor's crawler name (not
 * owned; before detect_start). */
struct rdns;
void detect_set_rdns(struct detect *d, struct rdns *rdns);
int detect_start(struct detect *d);
void detect_join(struct detect *d);
void detect_destroy(struct detect *d);
/* Sum of every thread's counters (dispatch, workers, detect). */
void detect_collect_stats(const struct detect *d, struct stats *sum);

#endif
