/* flow.c - hash table and LRU lists of one worker's flows (see flow.h). */
#include "flow.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int flow_table_init(struct flow_table *t, size_t max)
{
    memset(t, 0, sizeof(*t));
    size_t n = 1024;
    while (n < max && n < ((size_t)1 << 26))
        n <<= 1;
    t->buckets = calloc(n, sizeof(*t->buckets));
    if (!t->buckets)
        return -1;
    t->bucket_count = n;
    t->max = max ? max : 1;
    t->hash_seed = 0x9e3779b97f4a7c15ull;
    return 0;
}

void flow_free(struct flow *f)
{
    free(f->early.buf);
    free(f);
}

void flow_table_destroy(struct flow_table *t)
{
    for (size_t i = 0; i < t->bucket_count; i++) {
        struct flow *f = t->buckets[i];
        while (f) {
            struct flow *next = f->hash_next;
            flow_free(f);
            f = next;
        }
    }
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

/* Orders two endpoints: address bytes first, then port. */
static int endpoint_cmp(const uint8_t *a, uint16_t ap, const uint8_t *b,
                        uint16_t bp, size_t alen)
{
    int c = memcmp(a, b, alen);
    if (c)
        return c;
    return (ap > bp) - (ap < bp);
}

void flow_key_make(struct flow_key *k, int family, uint8_t proto,
                   const uint8_t *src, uint16_t sport,
                   const uint8_t *dst, uint16_t dport, int *from_lo)
{
    size_t alen = family == 4 ? 4 : 16;
    memset(k, 0, sizeof(*k));
    k->family = (uint8_t)family;
    k->proto = proto;
    int lo = endpoint_cmp(src, sport, dst, dport, alen) <= 0;
    memcpy(k->addr_lo, lo ? src : dst, alen);
    memcpy(k->addr_hi, lo ? dst : src, alen);
    k->port_lo = lo ? sport : dport;
    k->port_hi = lo ? dport : sport;
    *from_lo = lo;
}

/* splitmix64 finaliser: cheap, well mixed. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

uint64_t flow_hash(const struct flow_key *k)
{
    /* The key is canonical (sorted), so hashing it is symmetric. */
    uint64_t h = mix64(((uint64_t)k->family << 40) ^ ((uint64_t)k->proto << 32)
                       ^ ((uint64_t)k->port_lo << 16) ^ k->port_hi);
    for (size_t i = 0; i < 16; i += 8) {
        uint64_t a, b;
        memcpy(&a, k->addr_lo + i, 8);
        memcpy(&b, k->addr_hi + i, 8);
        h = mix64(h ^ a);
        h = mix64(h ^ b);
    }
    return h;
}

static int key_equal(const struct flow_key *a, const struct flow_key *b)
{
    return a->family == b->family && a->proto == b->proto
        && a->port_lo == b->port_lo && a->port_hi == b->port_hi
        && memcmp(a->addr_lo, b->addr_lo, 16) == 0
        && memcmp(a->addr_hi, b->addr_hi, 16) == 0;
}

static size_t bucket_of(const struct flow_table *t, const struct flow_key *k)
{
    return (size_t)(flow_hash(k) >> 7) & (t->bucket_count - 1);
}

struct flow *flow_table_lookup(struct flow_table *t, const struct flow_key *k)
{
    for (struct flow *f = t->buckets[bucket_of(t, k)]; f; f = f->hash_next)
        if (key_equal(&f->key, k))
            return f;
    return NULL;
}

static void lru_unlink(struct flow_table *t, struct flow *f)
{
    int l = f->list;
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        t->lru_head[l] = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        t->lru_tail[l] = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_append(struct flow_table *t, struct flow *f, int list)
{
    f->list = (uint8_t)list;
    f->lru_next = NULL;
    f->lru_prev = t->lru_tail[list];
    if (t->lru_tail[list])
        t->lru_tail[list]->lru_next = f;
    else
        t->lru_head[list] = f;
    t->lru_tail[list] = f;
}

struct flow *flow_table_insert(struct flow_table *t, const struct flow_key *k)
{
    assert(t->count < t->max);
    struct flow *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->key = *k;
    size_t b = bucket_of(t, k);
    f->hash_next = t->buckets[b];
    t->buckets[b] = f;
    lru_append(t, f, FLOW_LIST_OPEN);
    t->count++;
    return f;
}

int flow_table_full(const struct flow_table *t)
{
    return t->count >= t->max;
}

struct flow *flow_table_oldest(struct flow_table *t)
{
    struct flow *a = t->lru_head[FLOW_LIST_OPEN], *b = t->lru_head[FLOW_LIST_CLOSED];
    if (!a)
        return b;
    if (!b)
        return a;
    /* Ties go to the closed flow: it has less left to say. */
    return b->last_us <= a->last_us ? b : a;
}

void flow_table_touch(struct flow_table *t, struct flow *f, uint64_t now_us)
{
    /* Packet time may step back in merged captures: last_us never does, so
     * a list can only go out of order by such steps, which merely delays an
     * expiry to a later tick. */
    if (now_us > f->last_us)
        f->last_us = now_us;
    if (t->lru_tail[f->list] == f)
        return;
    lru_unlink(t, f);
    lru_append(t, f, f->list);
}

void flow_table_mark_closed(struct flow_table *t, struct flow *f)
{
    if (f->list == FLOW_LIST_CLOSED)
        return;
    lru_unlink(t, f);
    lru_append(t, f, FLOW_LIST_CLOSED);
}

void flow_table_remove(struct flow_table *t, struct flow *f)
{
    struct flow **pp = &t->buckets[bucket_of(t, &f->key)];
    while (*pp && *pp != f)
        pp = &(*pp)->hash_next;
    assert(*pp == f);
    *pp = f->hash_next;
    lru_unlink(t, f);
    assert(t->count > 0);
    t->count--;
}

size_t flow_table_expired(struct flow_table *t, uint64_t now_us,
                          uint64_t idle_us, uint64_t closed_us,
                          struct flow **out, size_t cap)
{
    size_t n = 0;
    uint64_t timeout[2] = {idle_us, closed_us};
    for (int l = 0; l < 2; l++) {
        for (struct flow *f = t->lru_head[l]; f && n < cap; f = f->lru_next) {
            if (f->last_us + timeout[l] > now_us)
                break;
            out[n++] = f;
        }
    }
    return n;
}

void flow_table_each(struct flow_table *t, void (*fn)(struct flow *, void *), void *arg)
{
    for (int l = 0; l < 2; l++) {
        struct flow *f = t->lru_head[l];
        while (f) {
            struct flow *next = f->lru_next;
            fn(f, arg);
            f = next;
        }
    }
}
