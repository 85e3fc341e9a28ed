/* stats.c - counter names and summing of per-thread counter sets. */
#include "stats.h"

#include <stddef.h>

static const char *const stat_names[STAT_COUNT] = {
#define STAT_NAME(id, name) name,
    STATS_LIST(STAT_NAME)
#undef STAT_NAME
};

void stats_clear(struct stats *s)
{
    for (int i = 0; i < STATS_SLOTS; i++)
        atomic_store_explicit(&s->v[i], 0, memory_order_relaxed);
}

void stats_accumulate(struct stats *sum, const struct stats *part)
{
    for (int i = 0; i < STATS_SLOTS; i++)
        stats_add(sum, (unsigned)i, stats_get(part, (unsigned)i));
}

const char *stats_name(unsigned slot)
{
    return slot < STAT_COUNT ? stat_names[slot] : NULL;
}
