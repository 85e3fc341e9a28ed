/* membudget.c - one worker's share of the memory budget (see membudget.h). */
#include "membudget.h"

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void membudget_init(struct membudget *b, size_t limit, struct stats *stats)
{
    memset(b, 0, sizeof(*b));
    b->limit = limit;
    b->stats = stats;
}

size_t membudget_room(const struct membudget *b)
{
    size_t held = b->flows + b->used;
    return held < b->limit ? b->limit - held : 0;
}

static void note_peak(struct membudget *b)
{
    assert(b->flows + b->used <= b->limit);
    if (b->flows + b->used > b->peak)
        b->peak = b->flows + b->used;
}

bool membudget_charge(struct membudget *b, size_t n)
{
    if (b == NULL)
        return true;
    if (n > membudget_room(b)) {
        if (b->stats != NULL)
            stats_inc(b->stats, STAT_MEM_BUFFERS_CUT);
        return false;
    }
    b->used += n;
    note_peak(b);
    return true;
}

void membudget_release(struct membudget *b, size_t n)
{
    if (b == NULL)
        return;
    assert(b->used >= n);
    b->used -= n;
}

bool membudget_set_flows(struct membudget *b, size_t bytes)
{
    if (bytes > b->flows && bytes - b->flows > membudget_room(b))
        return false;
    b->flows = bytes;
    note_peak(b);
    return true;
}

void *membudget_malloc(struct membudget *b, size_t n)
{
    if (!membudget_charge(b, n))
        return NULL;
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        membudget_release(b, n);
    return p;
}

void *membudget_calloc(struct membudget *b, size_t n)
{
    if (!membudget_charge(b, n))
        return NULL;
    void *p = calloc(1, n ? n : 1);
    if (p == NULL)
        membudget_release(b, n);
    return p;
}

void *membudget_realloc(struct membudget *b, void *p, size_t old_n, size_t new_n)
{
    if (new_n > old_n && !membudget_charge(b, new_n - old_n))
        return NULL;
    void *q = realloc(p, new_n ? new_n : 1);
    if (q == NULL) {
        if (new_n > old_n)
            membudget_release(b, new_n - old_n);
        return NULL;
    }
    if (new_n < old_n)
        membudget_release(b, old_n - new_n);
    return q;
}

void membudget_free(struct membudget *b, void *p, size_t n)
{
    if (p == NULL)
        return;
    free(p);
    membudget_release(b, n);
}

/* The size sits in a max_align_t before the block, so the block stays
 * aligned for anything. */
void *membudget_alloc_sized(struct membudget *b, size_t n)
{
    if (n > SIZE_MAX - sizeof(max_align_t))
        return NULL;
    max_align_t *p = membudget_malloc(b, sizeof(max_align_t) + n);
    if (p == NULL)
        return NULL;
    memcpy(p, &n, sizeof(n));
    return p + 1;
}

void membudget_free_sized(struct membudget *b, void *block)
{
    if (block == NULL)
        return;
    max_align_t *p = (max_align_t *)block - 1;
    size_t n;
    memcpy(&n, p, sizeof(n));
    membudget_free(b, p, sizeof(max_align_t) + n);
}
