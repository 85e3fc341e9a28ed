/* window.c - keyed sliding-window aggregates in packet time, bounded.
 *
 * Time is cut into buckets of width w = window_us / WINDOW_BUCKETS (at least
 * 1 us; a window shorter than WINDOW_BUCKETS us is taken as that many us).
 * An observation at time t belongs to bucket number ("epoch") t / w. The
 * window ending at now is the WINDOW_BUCKETS epochs up to and including
 * now's: so an observation is counted for between window_us - w and
 * window_us after it was made, depending on where in its bucket it fell.
 * That is the granularity of every figure reported: count, sum, distinct
 * and first_us all describe the same whole buckets.
 *
 * A key holds a ring of WINDOW_BUCKETS buckets, slot = epoch % WINDOW_BUCKETS;
 * each bucket keeps the time of its first observation (which also names its
 * epoch), a count and a sum. A slot whose epoch is stale is recycled when an
 * observation lands in it; stale buckets are skipped when summing. first_us
 * is the first observation of the oldest bucket still in the window, i.e.
 * exactly the oldest observation still counted.
 *
 * Distinct items: while a key has seen at most distinct_exact of them in the
 * window, it keeps an exact set, an open-addressed table of (64-bit item
 * hash, epoch last seen); items whose last epoch left the window are dropped
 * when the key's epoch moves on. "Exact" means exact over 64-bit hashes. The
 * item that would make the set exceed distinct_exact switches the key to one
 * HyperLogLog sketch per bucket: the exact items go into the sketch of the
 * bucket they were last seen in, and from then on distinct is the estimate
 * of the union of the sketches of the buckets in the window. A key goes back
 * to exact only when a whole window passes without an observation (its
 * buckets are then all stale and it starts over).
 *
 * Memory per key is fixed: one block of sizeof(struct window_key) + key_len
 * bytes (320 + key_len on LP64), plus, from the first observation that
 * carries an item, one distinct area of max(16 * cap, WINDOW_BUCKETS * 256)
 * bytes where cap is the smallest power of two >= 2 * distinct_exact (the
 * exact table is at most half full); with distinct_exact <= 64 that is 2560
 * bytes. The table adds one chain head per key slot (8 bytes times the
 * power of two >= max_keys) and a scratch array of 16 * distinct_exact
 * bytes used while switching a key to HLL.
 *
 * Keys live in a chained hash table (fixed number of chains, chosen from
 * max_keys) and on an LRU list ordered by last update; when the table is
 * full, a new key evicts the tail and counts it.
 *
 * Invariants (checked by window_key_check in debug builds):
 *   - a key's last_us is >= the first_us of every non-empty bucket, and a
 *     non-empty bucket sits in the slot of its epoch;
 *   - in exact mode, exact_count entries are occupied, each with an epoch in
 *     the window of last_us, and exact_count <= distinct_exact;
 *   - the LRU list and the chains hold the same `keys` keys. */
#include "window.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../sensor/base/hash.h"
#include "../sensor/base/membudget.h"
#include "../sensor/base/lru.h"

#define HLL_REGISTERS (1u << HLL_BITS)

struct window_bucket {
    uint64_t first_us;    /* first observation; its epoch names the bucket */
    uint64_t count;       /* 0: empty */
    uint64_t sum;
};

/* One item of an exact set. hash 0 marks a free slot (a real hash of 0 is
 * stored as 1: a 2^-64 collision). */
struct window_exact_entry {
    uint64_t hash;
    uint64_t epoch;       /* last seen */
};

enum window_distinct_mode {
    WINDOW_DISTINCT_EXACT,
    WINDOW_DISTINCT_HLL,
};

struct window_key {
    struct window_key *chain_next;
    struct lru_node lru;             /* on the table's list */
    uint64_t hash;
    uint64_t last_us;
    uint64_t purged_epoch;           /* exact set has no item older than this allows */
    struct window_bucket bucket[WINDOW_BUCKETS];
    /* NULL until an item is seen; then the exact table (cap entries) or
     * WINDOW_BUCKETS struct hll, one per bucket slot. */
    void *distinct;
    size_t exact_count;
    enum window_distinct_mode mode;
    size_t key_len;
    unsigned char key[];
};

struct window_table {
    struct window_key **chain;
    size_t chain_mask;
    struct lru_list lru;             /* head: least recently updated, evicted first */
    size_t keys;
    size_t max_keys;
    uint64_t bucket_us;
    size_t distinct_exact;
    size_t exact_cap;                /* power of two >= 2 * distinct_exact */
    size_t distinct_bytes;
    struct window_exact_entry *scratch;   /* distinct_exact entries */
    uint64_t evictions;
    struct membudget *budget;        /* keys are charged here; NULL: unlimited */
};

/* ---- hashing ---- */

/* FNV-1a over the bytes, then the splitmix64 finaliser so that every input
 * bit reaches every output bit (FNV alone mixes the high bits poorly, and
 * HLL uses them). Fixed constants, byte at a time: the same on every
 * machine and every run. */
uint64_t window_hash(const void *data, size_t len)
{
    return hash_mix64(hash_fnv1a64(data, len));
}

/* ---- HyperLogLog (Flajolet, Fusy, Gandouet, Meunier 2007) ----
 *
 * The top HLL_BITS bits of the hash choose a register; the register keeps
 * the largest rank seen, the rank being the position of the first 1 bit in
 * the remaining 64 - HLL_BITS bits (1 for a leading 1; all zeros counts as
 * one past the last position). With m = 256 registers the standard error
 * is about 1.04 / sqrt(m) = 6.5%. */

void hll_clear(struct hll *h)
{
    memset(h->reg, 0, sizeof(h->reg));
}

void hll_add_hash(struct hll *h, uint64_t hash)
{
    size_t index = (size_t)(hash >> (64 - HLL_BITS));
    uint64_t rest = hash << HLL_BITS;
    uint8_t rank = 1;
    while (rank <= 64 - HLL_BITS && !(rest & ((uint64_t)1 << 63))) {
        rest <<= 1;
        rank++;
    }
    if (rank > h->reg[index])
        h->reg[index] = rank;
}

/* The sketch of the union of two sets is the register-wise maximum. */
void hll_merge(struct hll *into, const struct hll *from)
{
    for (size_t i = 0; i < HLL_REGISTERS; i++)
        if (from->reg[i] > into->reg[i])
            into->reg[i] = from->reg[i];
}

/* The paper's estimator: alpha_m * m^2 / sum(2^-reg), the normalised
 * harmonic mean of 2^reg. Below 5m/2, while some registers are still 0,
 * linear counting (m ln(m / zeros)) is the better estimate and is used
 * instead; an empty sketch gives m ln 1 = 0. The paper's large-range
 * correction is for 32-bit hashes and is not needed with 64 bits. */
uint64_t hll_estimate(const struct hll *h)
{
    const double m = (double)HLL_REGISTERS;
    const double alpha = 0.7213 / (1.0 + 1.079 / m);
    double inverse_sum = 0.0;
    size_t zeros = 0;
    for (size_t i = 0; i < HLL_REGISTERS; i++) {
        inverse_sum += ldexp(1.0, -(int)h->reg[i]);
        if (h->reg[i] == 0)
            zeros++;
    }
    double estimate = alpha * m * m / inverse_sum;
    if (estimate <= 2.5 * m && zeros > 0)
        estimate = m * log(m / (double)zeros);
    return (uint64_t)(estimate + 0.5);
}

/* ---- the table ---- */

static size_t power_of_two_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

struct window_table *window_table_new(size_t max_keys, uint64_t window_us,
                                      size_t distinct_exact)
{
    if (max_keys == 0)
        max_keys = 1;
    /* Bounds that keep every size computation below from overflowing. */
    if (max_keys > SIZE_MAX / 4 / sizeof(struct window_key *) ||
        distinct_exact > SIZE_MAX / 4 / sizeof(struct window_exact_entry))
        return NULL;
    struct window_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    size_t chains = power_of_two_at_least(max_keys);
    t->chain = calloc(chains, sizeof(*t->chain));
    t->chain_mask = chains - 1;
    lru_init(&t->lru);
    t->max_keys = max_keys;
    t->bucket_us = window_us / WINDOW_BUCKETS;
    if (t->bucket_us == 0)
        t->bucket_us = 1;
    t->distinct_exact = distinct_exact;
    t->exact_cap = power_of_two_at_least(2 * distinct_exact);
    t->distinct_bytes = t->exact_cap * sizeof(struct window_exact_entry);
    if (t->distinct_bytes < WINDOW_BUCKETS * sizeof(struct hll))
        t->distinct_bytes = WINDOW_BUCKETS * sizeof(struct hll);
    t->scratch = malloc((distinct_exact ? distinct_exact : 1) * sizeof(*t->scratch));
    if (!t->chain || !t->scratch) {
        window_table_free(t);
        return NULL;
    }
    return t;
}

static void window_key_free(struct window_table *t, struct window_key *k)
{
    membudget_free(t->budget, k->distinct, t->distinct_bytes);
    membudget_free(t->budget, k, sizeof(*k) + k->key_len);
}

void window_table_set_budget(struct window_table *t, struct membudget *budget)
{
    assert(t->keys == 0);   /* keys already held were not charged */
    t->budget = budget;
}

void window_table_free(struct window_table *t)
{
    if (!t)
        return;
    struct lru_node *n = lru_oldest(&t->lru);
    while (n) {
        struct lru_node *next = n->next;
        window_key_free(t, lru_entry(n, struct window_key, lru));
        n = next;
    }
    free(t->chain);
    free(t->scratch);
    free(t);
}

uint64_t window_table_evictions(const struct window_table *t)
{
    return t->evictions;
}

size_t window_table_keys(const struct window_table *t)
{
    return t->keys;
}

static uint64_t window_epoch(const struct window_table *t, uint64_t us)
{
    return us / t->bucket_us;
}

/* Whether a bucket of epoch `epoch` is in the window ending in epoch `now`
 * (epoch <= now always holds: a key's time never goes backwards). */
static int window_epoch_live(uint64_t epoch, uint64_t now)
{
    return now - epoch < WINDOW_BUCKETS;
}

static int window_bucket_live(const struct window_table *t, const struct window_bucket *b,
                              uint64_t now_epoch)
{
    return b->count > 0 && window_epoch_live(window_epoch(t, b->first_us), now_epoch);
}

static struct window_exact_entry *window_exact_table(const struct window_key *k)
{
    return k->distinct;
}

static struct hll *window_key_hll(const struct window_key *k)
{
    return k->distinct;
}

#ifndef NDEBUG
static void window_key_check(const struct window_table *t, const struct window_key *k)
{
    uint64_t now_epoch = window_epoch(t, k->last_us);
    for (size_t i = 0; i < WINDOW_BUCKETS; i++) {
        const struct window_bucket *b = &k->bucket[i];
        if (b->count == 0)
            continue;
        assert(b->first_us <= k->last_us);
        assert(window_epoch(t, b->first_us) % WINDOW_BUCKETS == i);
    }
    if (k->distinct && k->mode == WINDOW_DISTINCT_EXACT) {
        const struct window_exact_entry *e = window_exact_table(k);
        size_t used = 0;
        for (size_t i = 0; i < t->exact_cap; i++) {
            if (e[i].hash == 0)
                continue;
            used++;
            assert(e[i].epoch <= now_epoch);
            assert(window_epoch_live(e[i].epoch, now_epoch));
        }
        assert(used == k->exact_count);
        assert(used <= t->distinct_exact);
    }
}
#else
#define window_key_check(t, k) ((void)0)
#endif

static size_t window_chain_index(const struct window_table *t, uint64_t hash)
{
    return (size_t)(hash & t->chain_mask);
}

static struct window_key *window_find(const struct window_table *t, uint64_t hash,
                                      const void *key, size_t key_len)
{
    for (struct window_key *k = t->chain[window_chain_index(t, hash)]; k; k = k->chain_next)
        if (k->hash == hash && k->key_len == key_len &&
            (key_len == 0 || memcmp(k->key, key, key_len) == 0))
            return k;
    return NULL;
}

/* Takes the least recently updated key out of the table and frees it. */
static void window_evict_oldest(struct window_table *t)
{
    assert(!lru_is_empty(&t->lru));
    struct window_key *victim = lru_entry(lru_oldest(&t->lru), struct window_key, lru);
    struct window_key **link = &t->chain[window_chain_index(t, victim->hash)];
    while (*link != victim)
        link = &(*link)->chain_next;
    *link = victim->chain_next;
    lru_unlink(&t->lru, &victim->lru);
    window_key_free(t, victim);
    assert(t->keys > 0);
    t->keys--;
    t->evictions++;
}

static void window_insert(struct window_table *t, struct window_key *k)
{
    size_t i = window_chain_index(t, k->hash);
    k->chain_next = t->chain[i];
    t->chain[i] = k;
    lru_append(&t->lru, &k->lru);
    t->keys++;
}

/* Forgets everything a key has observed: used when a whole window has
 * passed since its last observation, which also brings it back to exact
 * distinct counting. */
static void window_key_reset(struct window_table *t, struct window_key *k)
{
    memset(k->bucket, 0, sizeof(k->bucket));
    if (k->distinct)
        memset(k->distinct, 0, t->distinct_bytes);
    k->exact_count = 0;
    k->mode = WINDOW_DISTINCT_EXACT;
}

/* ---- the exact set: linear probing, at most half full ---- */

static struct window_exact_entry *window_exact_slot(const struct window_table *t,
                                                    struct window_exact_entry *table,
                                                    uint64_t hash)
{
    size_t mask = t->exact_cap - 1;
    size_t i = (size_t)hash & mask;
    while (table[i].hash != 0 && table[i].hash != hash)
        i = (i + 1) & mask;
    return &table[i];
}

/* Drops the items last seen before the window ending in now_epoch. Runs at
 * most once per epoch per key; rebuilds the table from the survivors
 * (simpler than deleting from a linear-probing table in place). */
static void window_exact_purge(struct window_table *t, struct window_key *k, uint64_t now_epoch)
{
    if (k->purged_epoch == now_epoch)
        return;
    k->purged_epoch = now_epoch;
    if (!k->distinct || k->mode != WINDOW_DISTINCT_EXACT || k->exact_count == 0)
        return;
    struct window_exact_entry *table = window_exact_table(k);
    size_t kept = 0, expired = 0;
    for (size_t i = 0; i < t->exact_cap; i++) {
        if (table[i].hash == 0)
            continue;
        if (window_epoch_live(table[i].epoch, now_epoch))
            t->scratch[kept++] = table[i];
        else
            expired++;
    }
    assert(kept + expired == k->exact_count);
    if (expired == 0)
        return;
    memset(table, 0, t->exact_cap * sizeof(*table));
    for (size_t i = 0; i < kept; i++)
        *window_exact_slot(t, table, t->scratch[i].hash) = t->scratch[i];
    k->exact_count = kept;
}

/* Moves a key from its exact set to per-bucket sketches: each item goes
 * into the sketch of the bucket it was last seen in (that bucket is in the
 * window, or the purge would have dropped the item). */
static void window_switch_to_hll(struct window_table *t, struct window_key *k)
{
    struct window_exact_entry *table = window_exact_table(k);
    size_t n = 0;
    for (size_t i = 0; i < t->exact_cap; i++)
        if (table[i].hash != 0)
            t->scratch[n++] = table[i];
    assert(n == k->exact_count);
    memset(k->distinct, 0, t->distinct_bytes);
    struct hll *sketch = window_key_hll(k);
    for (size_t i = 0; i < n; i++)
        hll_add_hash(&sketch[t->scratch[i].epoch % WINDOW_BUCKETS], t->scratch[i].hash);
    k->mode = WINDOW_DISTINCT_HLL;
    k->exact_count = 0;
}

static void window_distinct_add(struct window_table *t, struct window_key *k,
                                uint64_t now_epoch, uint64_t hash)
{
    if (k->mode == WINDOW_DISTINCT_EXACT) {
        uint64_t stored = hash ? hash : 1;
        struct window_exact_entry *slot = window_exact_slot(t, window_exact_table(k), stored);
        if (slot->hash != 0) {
            slot->epoch = now_epoch;
            return;
        }
        if (k->exact_count < t->distinct_exact) {
            slot->hash = stored;
            slot->epoch = now_epoch;
            k->exact_count++;
            return;
        }
        window_switch_to_hll(t, k);
    }
    hll_add_hash(&window_key_hll(k)[now_epoch % WINDOW_BUCKETS], hash);
}

static uint64_t window_distinct_count(const struct window_table *t, const struct window_key *k,
                                      uint64_t now_epoch)
{
    if (!k->distinct || k->mode == WINDOW_DISTINCT_EXACT)
        return k->exact_count;
    struct hll all;
    hll_clear(&all);
    const struct hll *sketch = window_key_hll(k);
    for (size_t i = 0; i < WINDOW_BUCKETS; i++)
        if (window_bucket_live(t, &k->bucket[i], now_epoch))
            hll_merge(&all, &sketch[i]);
    return hll_estimate(&all);
}

static void window_fill(const struct window_table *t, const struct window_key *k,
                        struct window_stats *out)
{
    uint64_t now_epoch = window_epoch(t, k->last_us);
    memset(out, 0, sizeof(*out));
    out->first_us = k->last_us;
    out->last_us = k->last_us;
    for (size_t i = 0; i < WINDOW_BUCKETS; i++) {
        const struct window_bucket *b = &k->bucket[i];
        if (!window_bucket_live(t, b, now_epoch))
            continue;
        out->count += b->count;
        out->sum = b->sum > UINT64_MAX - out->sum ? UINT64_MAX : out->sum + b->sum;
        if (b->first_us < out->first_us)
            out->first_us = b->first_us;
    }
    out->distinct = window_distinct_count(t, k, now_epoch);
    out->distinct_exact = k->mode == WINDOW_DISTINCT_EXACT;
}

/* n zeroed bytes charged to the memory budget. When the budget refuses,
 * the least recently updated keys are forgotten (counted as evictions) to
 * make room, but never `keep`. NULL when that is not enough. */
static void *window_alloc(struct window_table *t, size_t n, const struct window_key *keep)
{
    for (;;) {
        void *p = membudget_calloc(t->budget, n);
        if (p || !t->budget || lru_is_empty(&t->lru)
            || lru_entry(lru_oldest(&t->lru), struct window_key, lru) == keep)
            return p;
        window_evict_oldest(t);
    }
}

/* Allocations come first, so that running out of memory changes nothing:
 * then *out describes this observation alone and -1 is returned. */
int window_add(struct window_table *t, const void *key, size_t key_len, uint64_t now_us,
               uint64_t value, const void *item, size_t item_len, struct window_stats *out)
{
    uint64_t hash = window_hash(key, key_len);
    struct window_key *k = window_find(t, hash, key, key_len);
    void *new_distinct = NULL;
    if (item && (!k || !k->distinct)) {
        new_distinct = window_alloc(t, t->distinct_bytes, k);
        if (!new_distinct)
            goto out_of_memory;
    }
    if (!k) {
        if (key_len > SIZE_MAX - sizeof(*k))
            goto out_of_memory;
        k = window_alloc(t, sizeof(*k) + key_len, NULL);
        if (!k)
            goto out_of_memory;
        if (key_len)
            memcpy(k->key, key, key_len);
        k->key_len = key_len;
        k->hash = hash;
        k->last_us = now_us;
        k->purged_epoch = window_epoch(t, now_us);
        k->mode = WINDOW_DISTINCT_EXACT;
        if (t->keys >= t->max_keys)
            window_evict_oldest(t);
        window_insert(t, k);
    } else {
        lru_move_to_tail(&t->lru, &k->lru);
    }
    if (new_distinct)
        k->distinct = new_distinct;

    if (now_us < k->last_us)
        now_us = k->last_us;
    uint64_t now_epoch = window_epoch(t, now_us);
    if (!window_epoch_live(window_epoch(t, k->last_us), now_epoch))
        window_key_reset(t, k);
    k->last_us = now_us;

    size_t slot = (size_t)(now_epoch % WINDOW_BUCKETS);
    struct window_bucket *b = &k->bucket[slot];
    if (b->count == 0 || window_epoch(t, b->first_us) != now_epoch) {
        b->first_us = now_us;
        b->count = 0;
        b->sum = 0;
        if (k->mode == WINDOW_DISTINCT_HLL)
            hll_clear(&window_key_hll(k)[slot]);
    }
    b->count++;
    b->sum = value > UINT64_MAX - b->sum ? UINT64_MAX : b->sum + value;

    window_exact_purge(t, k, now_epoch);
    if (item)
        window_distinct_add(t, k, now_epoch, window_hash(item, item_len));
    window_key_check(t, k);
    window_fill(t, k, out);
    return 0;

out_of_memory:
    membudget_free(t->budget, new_distinct, t->distinct_bytes);
    memset(out, 0, sizeof(*out));
    out->count = 1;
    out->sum = value;
    out->distinct = item ? 1 : 0;
    out->distinct_exact = 1;
    out->first_us = now_us;
    out->last_us = now_us;
    return -1;
}
