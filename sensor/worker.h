/* worker.h - a worker thread: owns a share of the flows (by flow hash),
 * reassembles their TCP streams, selects and runs their decoders, and sends
 * op and flow records to the detect thread. No locks on its hot path: it
 * talks to other threads only through its two rings. */
#ifndef SW_WORKER_H
#define SW_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../decoders/decoder.h"
#include "config.h"
#include "evicted.h"
#include "flow.h"
#include "reasm.h"
#include "ring.h"
#include "base/stats.h"

struct classifier;

struct worker {
    unsigned index;
    pthread_t thread;
    struct ring in;                 /* from the capture thread */
    struct ring out;                /* to the detect thread */
    struct ring_waiter waiter;      /* sleeps here: `in` empty or `out` full */
    struct flow_table flows;
    struct evicted_keys evicted;    /* connections evicted, to tell returns */
    struct stats stats;
    const struct sw_config *cfg;
    struct classifier *classifier;  /* NULL when nDPI is off */
    struct reasm_limits reasm_limits;
    struct membudget budget;        /* this worker's share of memory.budget_mb */
    struct decoder_ctx dctx;
    /* Per registered decoder (decoder_index): its parameters as configured
     * and its counters in `stats`; set into dctx before each call. */
    const void *decoder_params[DECODERS_MAX];
    stats_counter *decoder_counters[DECODERS_MAX];
    bool decoder_on[DECODERS_MAX];  /* not disabled by the configuration */
    bool any_probe;                 /* an enabled decoder has a probe */
    struct reasm_sink sink[2];      /* per direction, for the current flow */
    struct flow *cur_flow;          /* flow being worked on */
    uint64_t cur_seq;               /* seq of the message being worked on */
    struct pcap_position cur_pcap;  /* the packet being worked on (offline), or 0s */
    uint64_t idle_us, closed_us;
    struct flow **scratch;          /* expired / remaining flows, sorted */
    size_t scratch_cap;
};

/* Sets up a worker (rings, flow table for max_flows). 0 ok, -1 on error. */
int worker_init(struct worker *w, unsigned index, const struct sw_config *cfg,
                size_t max_flows, _Atomic size_t *reasm_global_used);
int worker_start(struct worker *w);
void worker_join(struct worker *w);
void worker_destroy(struct worker *w);

/* The decoder a flow's server port selects, or NULL. */
const struct decoder *worker_decoder_for_port(const struct sw_config *cfg, uint16_t port);

#endif
