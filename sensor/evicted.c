/* evicted.c - the recently evicted connections (see evicted.h). */
#include "evicted.h"

#include <stdlib.h>
#include <string.h>

#define EVICTED_MIN_SLOTS 64u

int evicted_init(struct evicted_keys *e, size_t want)
{
    size_t n = EVICTED_MIN_SLOTS;
    while (n * 2 <= want)
        n *= 2;
    e->slots = calloc(n, sizeof(*e->slots));
    e->count = e->slots ? n : 0;
    return e->slots ? 0 : -1;
}

void evicted_destroy(struct evicted_keys *e)
{
    free(e->slots);
    e->slots = NULL;
    e->count = 0;
}

size_t evicted_bytes(const struct evicted_keys *e)
{
    return e->count * sizeof(*e->slots);
}

/* The set of hash h: its high bits (the low ones chose the worker and the
 * middle ones the flow table's bucket). */
static uint64_t *evicted_set(struct evicted_keys *e, uint64_t h)
{
    size_t sets = e->count / EVICTED_WAYS;
    return &e->slots[((size_t)(h >> 40) & (sets - 1)) * EVICTED_WAYS];
}

void evicted_note(struct evicted_keys *e, uint64_t h)
{
    uint64_t *set = evicted_set(e, h);
    size_t i = 0;
    while (i < EVICTED_WAYS && set[i] != 0)
        i++;
    if (i == EVICTED_WAYS) {   /* full: the oldest goes */
        memmove(set, set + 1, (EVICTED_WAYS - 1) * sizeof(*set));
        i = EVICTED_WAYS - 1;
    }
    set[i] = h | 1u;
}

bool evicted_take(struct evicted_keys *e, uint64_t h)
{
    uint64_t *set = evicted_set(e, h);
    for (size_t i = 0; i < EVICTED_WAYS; i++) {
        if (set[i] != (h | 1u))
            continue;
        /* Close the hole so the set stays oldest first, empties last. */
        memmove(set + i, set + i + 1, (EVICTED_WAYS - 1 - i) * sizeof(*set));
        set[EVICTED_WAYS - 1] = 0;
        return true;
    }
    return false;
}
