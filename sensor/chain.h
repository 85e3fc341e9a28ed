/* chain.h - ties cursor continuations into chains: one scroll/PIT/cursor
 * dump is one chain, whatever connections its pages came over.
 *
 * Decoders put a hash of the cursor a request continues in
 * op.continuation, and of the cursor the response returned in
 * op.cursor_out. The detect thread (single-threaded, capture order) looks
 * each op up here, so every page of a dump carries the same chain id and the
 * running count of pages and documents: what a rule needs to see one dump,
 * not thousands of pages. The table is bounded: beyond `max` cursors the
 * least recently used is forgotten (counted). */
#ifndef SW_CHAIN_H
#define SW_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "base/op.h"
#include "pipeline.h"
#include "base/stats.h"

struct chain_table;

struct chain_table *chain_table_new(size_t max);
void chain_table_free(struct chain_table *t);
/* Charges cursors and chains to a memory budget from now on (before the
 * first op): when it refuses one, the least recently used cursors are
 * forgotten first (chains.forgotten). */
struct membudget;
void chain_table_set_budget(struct chain_table *t, struct membudget *budget);
/* Updates the chains with one op and fills *out (out->id[0] == 0 when the op
 * is not part of a chain). */
void chain_table_update(struct chain_table *t, struct stats *st,
                        const struct flow_meta *meta, const struct op_record *op,
                        struct chain_info *out);

#endif
