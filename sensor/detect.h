/* detect.h - the detect thread: merges the workers' record streams in capture
 * order and turns records into events. This is where the rule engine plugs
 * in (a later issue); today it forwards op and flow records as events and
 * produces stats events. */
#ifndef SW_DETECT_H
#define SW_DETECT_H

#include <pthread.h>
#include <stdbool.h>

#include "chain.h"
#include "config.h"
#include "dispatch.h"
#include "ring.h"
#include "stats.h"
#include "worker.h"

struct detect {
    pthread_t thread;
    struct worker *workers;
    unsigned worker_count;
    const struct dispatch *dispatch;  /* its counters, for stats events */
    const struct sw_config *cfg;
    bool live;                        /* periodic stats by wall clock */
    struct ring out;                  /* to the output thread */
    struct stats stats;
    struct chain_table *chains;       /* cursor chains across flows */
    uint64_t last_ts_us;              /* packet time of the newest record */
};

int detect_init(struct detect *d, const struct sw_config *cfg, struct worker *workers,
                unsigned count, const struct dispatch *dispatch, bool live);
int detect_start(struct detect *d);
void detect_join(struct detect *d);
void detect_destroy(struct detect *d);
/* Sum of every thread's counters (dispatch, workers, detect). */
void detect_collect_stats(const struct detect *d, struct stats *sum);

#endif
