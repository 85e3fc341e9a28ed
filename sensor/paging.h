/* paging.h - the pages of one query fetched by offset (Elasticsearch
 * from/size, MongoDB skip/limit, Solr start/rows, CouchDB skip/limit) with
 * no cursor, grouped into a "walk" the rules can treat like a cursor chain
 * (chain.h): a scraper that pages through a whole index 500 at a time by
 * offset reads the dataset as surely as one that scrolls.
 *
 * A walk is the read pages of a whole-dataset query (flag match_all) from
 * one client to one server, app and target, starting at offset 0, each page
 * starting where the previous one ended. A page at offset 0 starts a new
 * walk; a page anywhere else that does not continue the walk is random
 * access and belongs to none. The walk has run out when a page came back
 * shorter than the page size asked, or reached the reported total. Walk ids
 * are "p" and 15 hex digits, never a cursor chain's 16. The detect thread
 * only; at most `max` walks, the least recently used forgotten (counted as
 * chains forgotten). */
#ifndef SW_PAGING_H
#define SW_PAGING_H

#include <stdbool.h>
#include <stddef.h>

#include "base/op.h"
#include "base/record.h"
#include "base/stats.h"

struct paging_table;

struct paging_table *paging_table_new(size_t max);
void paging_table_free(struct paging_table *t);
/* When op is a page of a walk, fills *out as a chain (id, ops, items,
 * total, total_relation, exhausted, match_all, target) and returns true;
 * otherwise leaves *out alone and returns false. */
bool paging_table_update(struct paging_table *t, struct stats *st, const struct flow_meta *meta,
                         const struct op_record *op, struct chain_info *out);

#endif
