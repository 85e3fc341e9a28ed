/* flow.c - hash table and LRU lists of one worker's flows (see flow.h). */
#include "flow.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

/* Flow heads are carved from slabs that start at 16 KiB and double up to
 * 2 MiB (see base/pool.h): a few flows cost a few pages, a flood 13,107
 * heads per slab; extensions, fewer and larger, from slabs up to 256 KiB. */
#define FLOW_SLAB_FIRST_BYTES (16u * 1024u)
#define FLOW_SLAB_BYTES (2u * 1024u * 1024u)
#define FLOW_EXT_SLAB_FIRST_BYTES (16u * 1024u)
#define FLOW_EXT_SLAB_BYTES (256u * 1024u)

/* The bucket array starts at this many buckets (8 KiB) and doubles while
 * the flows outnumber it, up to enough for `max` flows or this cap. */
#define FLOW_BUCKETS_FIRST 1024u
#define FLOW_BUCKETS_CAP ((size_t)1 << 26)
/* Old buckets moved to the new array per insert while rehashing: a doubling
 * from n buckets is over after n / 8 inserts, long before the flows reach
 * 2n and the next one is due. */
#define FLOW_REHASH_STEP 8u

/* The flow a list node belongs to (NULL for NULL). */
static struct flow *flow_of(struct lru_node *n)
{
    return n ? lru_entry(n, struct flow, lru) : NULL;
}

int flow_table_init(struct flow_table *t, size_t max)
{
    memset(t, 0, sizeof(*t));
    t->buckets = calloc(FLOW_BUCKETS_FIRST, sizeof(*t->buckets));
    if (!t->buckets)
        return -1;
    t->bucket_count = FLOW_BUCKETS_FIRST;
    t->max = max ? max : 1;
    pool_init_growing(&t->heads, sizeof(struct flow), FLOW_SLAB_FIRST_BYTES, FLOW_SLAB_BYTES);
    pool_init_growing(&t->exts, sizeof(struct flow_ext), FLOW_EXT_SLAB_FIRST_BYTES,
                      FLOW_EXT_SLAB_BYTES);
    for (int l = 0; l < FLOW_LISTS; l++)
        lru_init(&t->lru[l]);
    return 0;
}

void flow_free(struct flow_table *t, struct flow *f)
{
    if (f->ext) {
        free(f->ext->early.buf);
        pool_free(&t->exts, f->ext);
    }
    pool_free(&t->heads, f);
}

struct flow_ext *flow_ext_make(struct flow_table *t, struct flow *f)
{
    if (!f->ext)
        f->ext = pool_alloc(&t->exts);
    return f->ext;
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

uint64_t flow_hash(const struct flow_key *k)
{
    /* The key is canonical (sorted), so hashing it is symmetric. */
    uint64_t h = hash_mix64(((uint64_t)k->family << 40) ^ ((uint64_t)k->proto << 32)
                            ^ ((uint64_t)k->port_lo << 16) ^ k->port_hi);
    for (size_t i = 0; i < 16; i += 8) {
        uint64_t a, b;
        memcpy(&a, k->addr_lo + i, 8);
        memcpy(&b, k->addr_hi + i, 8);
        h = hash_mix64(h ^ a);
        h = hash_mix64(h ^ b);
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

/* The bits of a key's hash that choose its bucket (the low bits chose
 * the worker). */
static size_t bucket_hash(const struct flow_key *k)
{
    return (size_t)(flow_hash(k) >> 7);
}

/* The chain a key with bucket hash h is on: its old bucket while that is
 * not moved yet, else its bucket in the current array. */
static struct flow **chain_of(const struct flow_table *t, size_t h)
{
    if (t->old_buckets) {
        size_t ob = h & (t->old_bucket_count - 1);
        if (ob >= t->rehash_next)
            return &t->old_buckets[ob];
    }
    return &t->buckets[h & (t->bucket_count - 1)];
}

struct flow *flow_table_lookup_hashed(struct flow_table *t, const struct flow_key *k,
                                      uint64_t hash)
{
    for (struct flow *f = *chain_of(t, (size_t)(hash >> 7)); f; f = f->hash_next)
        if (key_equal(&f->key, k))
            return f;
    return NULL;
}

struct flow *flow_table_lookup(struct flow_table *t, const struct flow_key *k)
{
    return flow_table_lookup_hashed(t, k, flow_hash(k));
}

size_t flow_table_grow_bytes(const struct flow_table *t)
{
    if (t->old_buckets || t->count < t->bucket_count || t->bucket_count >= FLOW_BUCKETS_CAP
        || t->bucket_count >= t->max)
        return 0;
    return 2 * t->bucket_count * sizeof(*t->buckets);
}

int flow_table_grow(struct flow_table *t)
{
    assert(!t->old_buckets);
    struct flow **fresh = calloc(2 * t->bucket_count, sizeof(*fresh));
    if (!fresh)
        return -1;
    t->old_buckets = t->buckets;
    t->old_bucket_count = t->bucket_count;
    t->rehash_next = 0;
    t->buckets = fresh;
    t->bucket_count *= 2;
    return 0;
}

size_t flow_table_bucket_bytes(const struct flow_table *t)
{
    return (t->bucket_count + t->old_bucket_count) * sizeof(*t->buckets);
}

/* Moves up to FLOW_REHASH_STEP old buckets' flows to the new array; frees
 * the old array once it is empty. */
static void flow_table_rehash_step(struct flow_table *t)
{
    for (unsigned n = 0; n < FLOW_REHASH_STEP && t->old_buckets; n++) {
        struct flow *f = t->old_buckets[t->rehash_next];
        t->old_buckets[t->rehash_next++] = NULL;
        while (f) {
            struct flow *next = f->hash_next;
            struct flow **chain = &t->buckets[bucket_hash(&f->key) & (t->bucket_count - 1)];
            f->hash_next = *chain;
            *chain = f;
            f = next;
        }
        if (t->rehash_next == t->old_bucket_count) {
            free(t->old_buckets);
            t->old_buckets = NULL;
            t->old_bucket_count = t->rehash_next = 0;
        }
    }
}

/* Walks the whole table: every flow in the hash is in the bucket of its key
 * and in the list its `list` names, and both hold `count` flows. O(flows),
 * so only run when the table is destroyed. */
static void flow_table_check(const struct flow_table *t)
{
#ifndef NDEBUG
    size_t in_lists = 0, in_hash = 0;
    for (int l = 0; l < FLOW_LISTS; l++)
        for (struct lru_node *i = lru_oldest(&t->lru[l]); i; i = i->next) {
            assert(flow_of(i)->list == l);
            in_lists++;
        }
    for (size_t b = 0; b < t->bucket_count; b++)
        for (const struct flow *f = t->buckets[b]; f; f = f->hash_next) {
            assert(chain_of(t, bucket_hash(&f->key)) == &t->buckets[b]);
            in_hash++;
        }
    for (size_t b = 0; b < t->old_bucket_count; b++)
        for (const struct flow *f = t->old_buckets[b]; f; f = f->hash_next) {
            assert(chain_of(t, bucket_hash(&f->key)) == &t->old_buckets[b]);
            in_hash++;
        }
    assert(in_lists == t->count && in_hash == t->count);
#else
    (void)t;
#endif
}

/* Frees every flow on the n chains of an array. */
static void flow_free_chains(struct flow_table *t, struct flow **chains, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct flow *f = chains[i];
        while (f) {
            struct flow *next = f->hash_next;
            flow_free(t, f);
            f = next;
        }
    }
}

void flow_table_destroy(struct flow_table *t)
{
    flow_table_check(t);
    flow_free_chains(t, t->buckets, t->bucket_count);
    flow_free_chains(t, t->old_buckets, t->old_bucket_count);
    assert(t->heads.in_use == 0 && t->exts.in_use == 0);
    pool_destroy(&t->heads);
    pool_destroy(&t->exts);
    free(t->buckets);
    free(t->old_buckets);
    memset(t, 0, sizeof(*t));
}

/* Puts f at the young end of list l. */
static void flow_list_append(struct flow_table *t, struct flow *f, enum flow_list l)
{
    assert(l < FLOW_LISTS);
    f->list = (uint8_t)l;
    lru_append(&t->lru[l], &f->lru);
}

static void flow_list_unlink(struct flow_table *t, struct flow *f)
{
    assert(f->list < FLOW_LISTS);
    lru_unlink(&t->lru[f->list], &f->lru);
}

void flow_table_unhash_all(struct flow_table *t)
{
    memset(t->buckets, 0, t->bucket_count * sizeof(*t->buckets));
    if (t->old_buckets)   /* mid-rehash: the flows not moved yet are there */
        memset(t->old_buckets, 0, t->old_bucket_count * sizeof(*t->old_buckets));
    t->unhashed = true;
}

struct flow *flow_table_insert_hashed(struct flow_table *t, const struct flow_key *k,
                                      uint64_t hash)
{
    assert(t->count < t->max && !t->unhashed);
    struct flow *f = pool_alloc(&t->heads);
    if (!f)
        return NULL;
    f->key = *k;
    flow_table_rehash_step(t);
    struct flow **chain = chain_of(t, (size_t)(hash >> 7));
    f->hash_next = *chain;
    *chain = f;
    flow_list_append(t, f, FLOW_LIST_OPEN);
    t->count++;
    assert(t->count <= t->max);
    return f;
}

struct flow *flow_table_insert(struct flow_table *t, const struct flow_key *k)
{
    return flow_table_insert_hashed(t, k, flow_hash(k));
}

int flow_table_full(const struct flow_table *t)
{
    return t->count >= t->max;
}

struct flow *flow_table_oldest(struct flow_table *t)
{
    struct flow *a = flow_of(lru_oldest(&t->lru[FLOW_LIST_OPEN]));
    struct flow *b = flow_of(lru_oldest(&t->lru[FLOW_LIST_CLOSED]));
    assert((a || b) == (t->count > 0));
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
    assert(f->list < FLOW_LISTS);
    lru_move_to_tail(&t->lru[f->list], &f->lru);
}

void flow_table_mark_closed(struct flow_table *t, struct flow *f)
{
    if (f->list == FLOW_LIST_CLOSED)
        return;
    flow_list_unlink(t, f);
    flow_list_append(t, f, FLOW_LIST_CLOSED);
}

void flow_table_remove(struct flow_table *t, struct flow *f)
{
    if (!t->unhashed) {
        struct flow **pp = chain_of(t, bucket_hash(&f->key));
        while (*pp && *pp != f)
            pp = &(*pp)->hash_next;
        assert(*pp == f);
        *pp = f->hash_next;
    }
    f->hash_next = NULL;
    flow_list_unlink(t, f);
    assert(t->count > 0);
    t->count--;
}

size_t flow_table_expired(struct flow_table *t, uint64_t now_us,
                          uint64_t idle_us, uint64_t closed_us,
                          struct flow **out, size_t cap)
{
    size_t n = 0;
    uint64_t timeout[FLOW_LISTS] = {
        [FLOW_LIST_OPEN] = idle_us, [FLOW_LIST_CLOSED] = closed_us,
    };
    for (int l = 0; l < FLOW_LISTS; l++) {
        for (struct lru_node *i = lru_oldest(&t->lru[l]); i && n < cap; i = i->next) {
            struct flow *f = flow_of(i);
            if (f->last_us + timeout[l] > now_us)
                break;
            out[n++] = f;
        }
    }
    return n;
}

void flow_table_each(struct flow_table *t, void (*fn)(struct flow *, void *), void *arg)
{
    for (int l = 0; l < FLOW_LISTS; l++) {
        struct lru_node *i = lru_oldest(&t->lru[l]);
        while (i) {
            struct lru_node *next = i->next;
            fn(flow_of(i), arg);
            i = next;
        }
    }
}
