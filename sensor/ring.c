/* ring.c - SPSC message ring (see ring.h for the layout and invariants). */
#include "ring.h"

#include <assert.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING_ALIGN 8u
#define RING_TYPE_PAD 0u

static size_t ring_align(size_t n)
{
    return (n + RING_ALIGN - 1) & ~(size_t)(RING_ALIGN - 1);
}

int ring_init(struct ring *r, size_t size)
{
    size_t s = 4096;
    while (s < size && s < ((size_t)1 << 40))
        s <<= 1;
    memset(r, 0, sizeof(*r));
    assert((s & (s - 1)) == 0);
    r->buf = aligned_alloc(RING_CACHE_LINE, s);
    if (!r->buf)
        return -1;
    r->size = s;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

void ring_destroy(struct ring *r)
{
    free(r->buf);
    r->buf = NULL;
}

size_t ring_max_payload(const struct ring *r)
{
    return r->size / 2 - sizeof(struct ring_msg);
}

/* Free bytes as the producer sees them; refreshes its cached tail only when
 * the cached view says there is not enough room (saves cache-line traffic). */
static size_t ring_free_space(struct ring *r, size_t need)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t space = r->size - (head - r->head_cached_tail);
    if (space < need) {
        r->head_cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        space = r->size - (head - r->head_cached_tail);
    }
    return space;
}

void *ring_reserve(struct ring *r, uint32_t type, size_t len)
{
    assert(type != RING_TYPE_PAD);
    assert(r->pending == 0);   /* the last reservation was committed */
    if (len > ring_max_payload(r))
        return NULL;
    size_t need = ring_align(sizeof(struct ring_msg) + len);
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t offset = head & (r->size - 1);
    size_t to_end = r->size - offset;
    size_t pad = to_end < need ? to_end : 0;
    if (ring_free_space(r, need + pad) < need + pad)
        return NULL;
    if (pad) {
        struct ring_msg *p = (struct ring_msg *)(r->buf + offset);
        p->len = (uint32_t)(pad - sizeof(struct ring_msg));
        p->type = RING_TYPE_PAD;
        offset = 0;
    }
    struct ring_msg *m = (struct ring_msg *)(r->buf + offset);
    m->len = (uint32_t)len;
    m->type = type;
    r->pending = pad + need;
    return m + 1;
}

void ring_commit(struct ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    assert(r->pending > 0);
    /* Room was checked against a tail no newer than the consumer's. */
    assert(head + r->pending - r->head_cached_tail <= r->size);
    atomic_store_explicit(&r->head, head + r->pending, memory_order_release);
    r->pending = 0;
}

int ring_push(struct ring *r, uint32_t type, const void *data, size_t len)
{
    void *p = ring_reserve(r, type, len);
    if (!p)
        return -1;
    if (len)
        memcpy(p, data, len);
    ring_commit(r);
    return 0;
}

/* Consumer view of the next message header, skipping padding. */
static struct ring_msg *ring_next(struct ring *r)
{
    for (;;) {
        size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (tail == r->tail_cached_head) {
            r->tail_cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
            if (tail == r->tail_cached_head)
                return NULL;
        }
        assert(r->tail_cached_head - tail <= r->size);
        struct ring_msg *m = (struct ring_msg *)(r->buf + (tail & (r->size - 1)));
        if (m->type != RING_TYPE_PAD)
            return m;
        size_t skip = sizeof(struct ring_msg) + m->len;
        atomic_store_explicit(&r->tail, tail + skip, memory_order_release);
    }
}

void *ring_peek(struct ring *r, uint32_t *type, size_t *len)
{
    struct ring_msg *m = ring_next(r);
    if (!m)
        return NULL;
    *type = m->type;
    *len = m->len;
    return m + 1;
}

void ring_release(struct ring *r)
{
    struct ring_msg *m = ring_next(r);
    assert(m != NULL);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t used = ring_align(sizeof(struct ring_msg) + m->len);
    assert(used <= r->tail_cached_head - tail);   /* only what was published */
    atomic_store_explicit(&r->tail, tail + used, memory_order_release);
}

size_t ring_used(struct ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    return head - tail;
}

void ring_backoff(unsigned *round)
{
    unsigned n = (*round)++;
    if (n < 64)
        return;
    if (n < 128) {
        sched_yield();
        return;
    }
    long ns = n < 1024 ? 20000L : 1000000L;
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}
