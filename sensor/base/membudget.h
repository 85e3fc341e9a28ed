/* membudget.h - one worker's share of the sensor's memory budget.
 *
 * The configuration gives one number, memory.budget_mb; each worker owns
 * an equal share of what is left after the rule state's share (flows are
 * hashed evenly to workers), so the accounting needs no atomics and, for a
 * given worker count, what is shed under pressure is deterministic.
 *
 * A worker's share covers:
 *   - its flows: `flows` bytes, set by the worker from its flow count
 *     (worker.c, flows_bytes());
 *   - everything charged through membudget_charge: bytes held by
 *     reassembly, bytes kept while a flow's protocol is decided, and the
 *     decoders' buffers, queues and per-flow state (decoder_ctx.budget).
 *
 * Invariant: flows + used <= limit, always. A charge that would break it is
 * refused (counted in memory.buffers_cut) and the caller recovers as on a
 * gap: it drops what it was holding, reports the loss and resynchronises.
 * Before that happens the worker evicts the flows idle longest
 * (memory.flows_evicted) whenever a packet leaves the share fuller than its
 * high mark (see worker.c, worker_shed).
 *
 * A NULL budget is unlimited: unit tests and fuzz targets drive decoders
 * without one.
 *
 * Part of the floor (sensor/base/): libc and stats.h only. */
#ifndef SW_BASE_MEMBUDGET_H
#define SW_BASE_MEMBUDGET_H

#include <stdbool.h>
#include <stddef.h>

#include "stats.h"

struct membudget {
    size_t limit;            /* bytes this worker may hold */
    size_t flows;            /* bytes of flow state (set by the worker) */
    size_t used;             /* bytes charged */
    size_t peak;             /* most of flows + used at once */
    struct stats *stats;     /* where refusals are counted; may be NULL */
};

void membudget_init(struct membudget *b, size_t limit, struct stats *stats);

/* Bytes still free: limit - flows - used. */
size_t membudget_room(const struct membudget *b);

/* Takes n bytes, or refuses (false, counted) when they do not fit. */
bool membudget_charge(struct membudget *b, size_t n);
/* Gives back n bytes taken by membudget_charge. */
void membudget_release(struct membudget *b, size_t n);
/* Sets the flow state's bytes; false when they do not fit (nothing set). */
bool membudget_set_flows(struct membudget *b, size_t bytes);

/* malloc/realloc/free with the size charged: NULL when refused (counted)
 * or out of memory, and then nothing is charged and, for realloc, the old
 * block is untouched. The caller passes the sizes it holds. */
void *membudget_malloc(struct membudget *b, size_t n);
void *membudget_calloc(struct membudget *b, size_t n);
void *membudget_realloc(struct membudget *b, void *p, size_t old_n, size_t new_n);
void membudget_free(struct membudget *b, void *p, size_t n);
/* The same for callers that cannot pass the size back (zlib's zalloc and
 * zfree): the size is kept in front of the block and charged with it. */
void *membudget_alloc_sized(struct membudget *b, size_t n);
void membudget_free_sized(struct membudget *b, void *p);

#endif
