/* test_flow_pool.c - the object pool (sensor/base/pool.h) and what the flow
 * table takes from it: sizes, zeroing, reuse without growth in the steady
 * state, slab growth, and the bound on a payload-less flow's head. */
#include "../../sensor/base/pool.h"
#include "../../sensor/flow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void test_pool_sizes(void)
{
    struct pool p;
    pool_init(&p, 1, 4096);
    CHECK_EQ_INT(p.obj_size, POOL_ALIGN);
    CHECK_EQ_INT(p.per_slab, (4096 - POOL_SLAB_HEADER) / POOL_ALIGN);
    pool_init(&p, 161, 4096);
    CHECK_EQ_INT(p.obj_size, 176);
    CHECK_EQ_INT(p.per_slab, (4096 - POOL_SLAB_HEADER) / 176);
    pool_init(&p, 10000, 4096);   /* bigger than a slab: one per slab */
    CHECK_EQ_INT(p.per_slab, 1);
    CHECK_EQ_INT(p.capacity, 0);  /* nothing allocated before the first use */
    pool_destroy(&p);
}

static void test_pool_zeroed_distinct_and_reused(void)
{
    struct pool p;
    pool_init(&p, 48, 1024);
    unsigned char *a = pool_alloc(&p), *b = pool_alloc(&p);
    CHECK(a && b && a != b);
    CHECK((uintptr_t)a % POOL_ALIGN == 0 && (uintptr_t)b % POOL_ALIGN == 0);
    CHECK(a + 48 <= b || b + 48 <= a);
    CHECK_EQ_INT(p.in_use, 2);
    memset(a, 0xAB, 48);
    pool_free(&p, a);
    CHECK_EQ_INT(p.in_use, 1);
    unsigned char *c = pool_alloc(&p);
    CHECK(c == a);   /* the last one given back is the next one out */
    int zero = 1;
    for (int i = 0; i < 48; i++)
        zero &= c[i] == 0;
    CHECK(zero);
    pool_free(&p, NULL);
    CHECK_EQ_INT(p.in_use, 2);
    pool_destroy(&p);
    CHECK_EQ_INT(p.in_use, 0);
    CHECK_EQ_INT(p.capacity, 0);
}

/* Taking and giving back as many objects as are in use never grows the
 * pool: the steady state allocates nothing. */
static void test_pool_steady_state_and_growth(void)
{
    struct pool p;
    pool_init(&p, 64, 1024);
    size_t per = p.per_slab;
    void *objs[64];
    for (size_t i = 0; i <= per; i++)
        objs[i] = pool_alloc(&p);
    CHECK_EQ_INT(p.capacity, 2 * per);   /* one past a slab opened a second */
    for (int round = 0; round < 1000; round++) {
        size_t i = (size_t)round % (per + 1);
        pool_free(&p, objs[i]);
        objs[i] = pool_alloc(&p);
        CHECK(objs[i] != NULL);
    }
    CHECK_EQ_INT(p.capacity, 2 * per);
    CHECK_EQ_INT(p.in_use, per + 1);
    for (size_t i = 0; i <= per; i++)
        pool_free(&p, objs[i]);
    CHECK_EQ_INT(p.in_use, 0);
    pool_destroy(&p);
}

static struct flow_key key_n(uint32_t n)
{
    struct flow_key k;
    uint8_t src[16] = {10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    uint8_t dst[16] = {192, 168, 0, 1};
    int from_lo;
    flow_key_make(&k, 4, 6, src, (uint16_t)(40000 + n % 20000), dst, 9200, &from_lo);
    return k;
}

/* Flows come and go through the pools: a table churning through many more
 * flows than it holds keeps the pools at the size of its peak, and an
 * extension is made only when asked for. Destroy frees what is left,
 * early bytes included (the ASan build checks for leaks). */
static void test_flow_table_churn(void)
{
    struct flow_table t;
    CHECK_EQ_INT(flow_table_init(&t, 1000), 0);
    for (uint32_t i = 0; i < 1000; i++) {
        struct flow_key k = key_n(i);
        struct flow *f = flow_table_insert(&t, &k);
        CHECK(f != NULL && f->ext == NULL);
        f->last_us = i;
    }
    size_t heads = t.heads.capacity;
    CHECK(flow_table_full(&t));
    for (uint32_t i = 1000; i < 50000; i++) {
        struct flow *old = flow_table_oldest(&t);
        CHECK(old != NULL && old->last_us == i - 1000);
        if (i % 7 == 0)
            CHECK(flow_ext_make(&t, old) != NULL);
        flow_table_remove(&t, old);
        flow_free(&t, old);
        struct flow_key k = key_n(i);
        struct flow *f = flow_table_insert(&t, &k);
        CHECK(f != NULL && f->ext == NULL && f->last_us == 0);
        f->last_us = i;
    }
    CHECK_EQ_INT(t.heads.capacity, heads);
    CHECK(t.exts.capacity <= t.exts.per_slab);   /* one at a time in use */
    CHECK_EQ_INT(t.exts.in_use, 0);
    struct flow_key k = key_n(49999);
    struct flow *f = flow_table_lookup(&t, &k);
    CHECK(f != NULL);
    struct flow_ext *x = flow_ext_make(&t, f);
    CHECK(x != NULL && flow_ext_make(&t, f) == x);
    x->early.buf = malloc(100);
    x->early.len = 100;
    CHECK_EQ_INT(t.exts.in_use, 1);
    CHECK_EQ_INT(t.count, 1000);
    flow_table_destroy(&t);
}

/* A growing pool starts with a small slab and doubles the next ones up to
 * its largest: a few objects pin a few KiB, not the largest slab. */
static void test_pool_growing_slabs(void)
{
    struct pool p;
    pool_init_growing(&p, 160, 16 * 1024, 2 * 1024 * 1024);
    size_t first = (16 * 1024 - POOL_SLAB_HEADER) / 160;
    CHECK_EQ_INT(p.per_slab, first);
    CHECK_EQ_INT(p.per_slab_max, (2 * 1024 * 1024 - POOL_SLAB_HEADER) / 160);
    void *o = pool_alloc(&p);
    CHECK(o != NULL);
    CHECK_EQ_INT(p.capacity, first);
    size_t slabs = 1, last = first;
    while (p.per_slab < p.per_slab_max) {   /* each next slab holds about twice */
        CHECK(p.per_slab >= 2 * last - 1 && p.per_slab <= 2 * last + 1);
        last = p.per_slab;
        size_t cap = p.capacity;
        while (p.capacity == cap)
            CHECK(pool_alloc(&p) != NULL);
        slabs++;
    }
    CHECK(slabs >= 7 && slabs <= 8);   /* 16 KiB doubled to 2 MiB */
    size_t cap = p.capacity;   /* from now on every slab is the largest */
    while (p.capacity == cap)
        CHECK(pool_alloc(&p) != NULL);
    CHECK_EQ_INT(p.capacity, cap + p.per_slab_max);
    pool_destroy(&p);
}

/* What a tracked flow that sent no payload costs: its head (from a pool,
 * with no overhead per object) plus its share of the bucket array, which
 * grows with the flows, whatever `max` is: at least one bucket for two
 * flows and at most three buckets per flow (two, plus the old array while
 * a doubling is under way). A small table pins one small slab. */
static void test_flow_head_bound(void)
{
    CHECK(sizeof(struct flow) <= FLOW_HEAD_MAX);
    struct flow_table t;
    CHECK_EQ_INT(flow_table_init(&t, 200000), 0);
    CHECK_EQ_INT(t.heads.obj_size, FLOW_HEAD_MAX);
    CHECK(flow_table_bucket_bytes(&t) <= 8 * 1024);   /* not sized for max */
    uint32_t n = 0;
    for (uint32_t target = 5000; target <= 100000; target *= 2) {
        for (; n < target; n++) {
            if (flow_table_grow_bytes(&t))
                CHECK_EQ_INT(flow_table_grow(&t), 0);
            struct flow_key k = key_n(n);
            CHECK(flow_table_insert(&t, &k) != NULL);
        }
        size_t share = flow_table_bucket_bytes(&t) / t.count;
        CHECK(t.bucket_count * 2 >= t.count);
        CHECK(share <= 3 * sizeof(*t.buckets));
        CHECK(t.heads.obj_size + share <= 256);
        /* The heads' slabs hold the flows with at most one slab to spare. */
        CHECK(t.heads.capacity - t.count <= t.heads.per_slab_max);
    }
    flow_table_destroy(&t);
}

/* Every flow is found while the bucket array doubles under it, whether it
 * is still on an old bucket or already moved, and removals from both
 * arrays keep the table whole (flow_table_destroy walks it). The array
 * never grows past what `max` needs. */
static void test_flow_table_rehash(void)
{
    struct flow_table t;
    CHECK_EQ_INT(flow_table_init(&t, 6000), 0);
    size_t grows = 0, mid_rehash_checks = 0;
    for (uint32_t i = 0; i < 6000; i++) {
        if (flow_table_grow_bytes(&t)) {
            size_t before = flow_table_bucket_bytes(&t);
            CHECK_EQ_INT(flow_table_grow_bytes(&t), 2 * before);
            CHECK_EQ_INT(flow_table_grow(&t), 0);
            CHECK_EQ_INT(flow_table_bucket_bytes(&t), 3 * before);
            CHECK_EQ_INT(flow_table_grow_bytes(&t), 0);   /* one at a time */
            grows++;
        }
        struct flow_key k = key_n(i);
        struct flow *f = flow_table_insert(&t, &k);
        CHECK(f != NULL);
        f->last_us = i;
        if (t.old_buckets && i % 17 == 0) {   /* all found mid-rehash */
            uint32_t missing = 0;
            for (uint32_t j = 0; j <= i; j++) {
                struct flow_key kj = key_n(j);
                struct flow *g = flow_table_lookup(&t, &kj);
                int removed = j % 3 == 1 && j + 1 < i;   /* below */
                missing += removed ? g != NULL : !(g && g->last_us == j);
            }
            CHECK_EQ_INT(missing, 0);
            mid_rehash_checks++;
        }
        /* Every third flow goes again: from whichever array holds it. */
        if (i % 3 == 2) {
            struct flow_key kr = key_n(i - 1);
            struct flow *r = flow_table_lookup(&t, &kr);
            CHECK(r != NULL);
            flow_table_remove(&t, r);
            flow_free(&t, r);
            CHECK(flow_table_lookup(&t, &kr) == NULL);
        }
    }
    CHECK(grows >= 2);
    CHECK(mid_rehash_checks > 0);
    CHECK(t.bucket_count <= 8192);   /* enough for max = 6000, no more */
    CHECK_EQ_INT(t.count, 4000);
    flow_table_destroy(&t);
}

/* End of input: after flow_table_unhash_all lookups find nothing, and
 * every flow can still be removed (from its list; the walk of its bucket
 * is skipped), in any order, leaving an empty table to destroy. */
static void test_flow_table_unhash_all(void)
{
    struct flow_table t;
    CHECK_EQ_INT(flow_table_init(&t, 5000), 0);
    struct flow *flows[5000];
    for (uint32_t i = 0; i < 5000; i++) {
        struct flow_key k = key_n(i);
        flows[i] = flow_table_insert(&t, &k);
        CHECK(flows[i] != NULL);
    }
    struct flow_key k = key_n(1234);
    CHECK(flow_table_lookup(&t, &k) == flows[1234]);
    CHECK(flow_table_lookup_hashed(&t, &k, flow_hash(&k)) == flows[1234]);
    flow_table_unhash_all(&t);
    CHECK(flow_table_lookup(&t, &k) == NULL);
    for (uint32_t i = 0; i < 5000; i++) {
        struct flow *f = flows[(i * 2713u) % 5000];   /* not bucket order */
        flow_table_remove(&t, f);
        flow_free(&t, f);
    }
    CHECK_EQ_INT(t.count, 0);
    CHECK(flow_table_oldest(&t) == NULL);
    CHECK_EQ_INT(t.heads.in_use, 0);
    flow_table_destroy(&t);
}

int main(void)
{
    check_binary = "flow_pool";
    RUN(test_pool_sizes);
    RUN(test_pool_zeroed_distinct_and_reused);
    RUN(test_pool_steady_state_and_growth);
    RUN(test_pool_growing_slabs);
    RUN(test_flow_head_bound);
    RUN(test_flow_table_rehash);
    RUN(test_flow_table_churn);
    RUN(test_flow_table_unhash_all);
    CHECK_EXIT();
}
