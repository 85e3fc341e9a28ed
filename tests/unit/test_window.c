/* test_window.c - keyed sliding windows: counts, sums, distinct, aging,
 * eviction, and the HyperLogLog underneath.
 *
 * Most tests use a one-second window (buckets of 100 ms) starting at a
 * realistic packet time T0, which is a multiple of the bucket width. */
#include "../../rules/window.h"

#include <math.h>
#include <stdlib.h>

#include "check.h"

#define T0 UINT64_C(1700000000000000)
#define SECOND UINT64_C(1000000)
#define MS UINT64_C(1000)

/* One observation with a string key and a string item (or none). */
static struct window_stats add(struct window_table *t, const char *key, uint64_t now,
                               uint64_t value, const char *item)
{
    struct window_stats s;
    int rc = window_add(t, key, strlen(key), now, value, item, item ? strlen(item) : 0, &s);
    CHECK_EQ_INT(rc, 0);
    return s;
}

static struct window_stats add_item_number(struct window_table *t, const char *key,
                                           uint64_t now, unsigned n)
{
    char item[32];
    snprintf(item, sizeof(item), "item-%u", n);
    return add(t, key, now, 1, item);
}

static void test_counts_and_sums_within_one_window(void)
{
    struct window_table *t = window_table_new(16, SECOND, 8);
    struct window_stats s = add(t, "a", T0, 1, NULL);
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_INT(s.sum, 1);
    CHECK_EQ_INT(s.distinct, 0);
    CHECK_EQ_INT(s.distinct_exact, 1);
    CHECK(s.first_us == T0);
    CHECK(s.last_us == T0);
    for (uint64_t i = 2; i <= 5; i++)
        s = add(t, "a", T0 + i * 100 * MS, i, NULL);
    CHECK_EQ_INT(s.count, 5);
    CHECK_EQ_INT(s.sum, 15);
    CHECK(s.first_us == T0);
    CHECK(s.last_us == T0 + 500 * MS);
    CHECK_EQ_INT(window_table_keys(t), 1);
    window_table_free(t);
}

static void test_observations_age_out_after_window(void)
{
    struct window_table *t = window_table_new(16, SECOND, 8);
    add(t, "a", T0, 10, NULL);
    add(t, "a", T0 + 500 * MS, 20, NULL);
    struct window_stats s = add(t, "a", T0 + SECOND - 1, 1, NULL);
    CHECK_EQ_INT(s.count, 3);
    CHECK_EQ_INT(s.sum, 31);
    CHECK(s.first_us == T0);
    /* Exactly one window after the first observation, it is gone. */
    s = add(t, "a", T0 + SECOND, 1, NULL);
    CHECK_EQ_INT(s.count, 3);
    CHECK_EQ_INT(s.sum, 22);
    CHECK(s.first_us == T0 + 500 * MS);
    s = add(t, "a", T0 + SECOND + 500 * MS, 100, NULL);
    CHECK_EQ_INT(s.count, 3);   /* T0+999.999ms, T0+1s and this one */
    CHECK_EQ_INT(s.sum, 102);
    CHECK(s.first_us == T0 + SECOND - 1);
    /* A long silence empties the window. */
    s = add(t, "a", T0 + 10 * SECOND, 7, NULL);
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_INT(s.sum, 7);
    CHECK(s.first_us == T0 + 10 * SECOND);
    window_table_free(t);
}

/* Granularity is a bucket (window/10): an observation in the middle of a
 * bucket leaves with its bucket, a little before a full window. */
static void test_aging_is_at_bucket_granularity(void)
{
    struct window_table *t = window_table_new(16, SECOND, 8);
    add(t, "a", T0 + 50 * MS, 1, NULL);
    struct window_stats s = add(t, "a", T0 + SECOND - 1, 1, NULL);
    CHECK_EQ_INT(s.count, 2);
    s = add(t, "a", T0 + SECOND, 1, NULL);
    CHECK_EQ_INT(s.count, 2);   /* the first left 950 ms after it was made */
    CHECK(s.first_us == T0 + SECOND - 1);
    window_table_free(t);
}

static void test_distinct_exact_then_hll_estimate(void)
{
    struct window_table *t = window_table_new(16, 10 * SECOND, 64);
    struct window_stats s;
    for (unsigned i = 0; i < 64; i++) {
        s = add_item_number(t, "a", T0 + i, i);
        CHECK_EQ_INT(s.distinct, i + 1);
        CHECK_EQ_INT(s.distinct_exact, 1);
    }
    /* Items already in the set do not grow it. */
    s = add_item_number(t, "a", T0 + 64, 3);
    CHECK_EQ_INT(s.distinct, 64);
    CHECK_EQ_INT(s.distinct_exact, 1);
    s = add_item_number(t, "a", T0 + 65, 64);
    CHECK_EQ_INT(s.distinct_exact, 0);
    CHECK(s.distinct >= 55 && s.distinct <= 75);
    for (unsigned i = 65; i < 10000; i++)
        s = add_item_number(t, "a", T0 + 100 + i * 100, i);   /* 1 s in all */
    CHECK_EQ_INT(s.distinct_exact, 0);
    CHECK_EQ_INT(s.count, 10001);
    /* Standard error 1.04/sqrt(256) = 6.5%; allow three of them. */
    double error = fabs((double)s.distinct - 10000.0) / 10000.0;
    CHECK(error <= 3 * 1.04 / 16.0);
    /* Repeating items does not move the estimate. */
    uint64_t before = s.distinct;
    for (unsigned i = 0; i < 1000; i++)
        s = add_item_number(t, "a", T0 + 2 * SECOND, i);
    CHECK(s.distinct == before);
    window_table_free(t);
}

static void test_distinct_items_age_out(void)
{
    struct window_table *t = window_table_new(16, SECOND, 8);
    add(t, "a", T0, 1, "A");
    add(t, "a", T0 + 300 * MS, 1, "B");
    struct window_stats s = add(t, "a", T0 + 600 * MS, 1, "A");
    CHECK_EQ_INT(s.distinct, 2);
    s = add(t, "a", T0 + SECOND + 100 * MS, 1, NULL);
    CHECK_EQ_INT(s.distinct, 2);
    s = add(t, "a", T0 + SECOND + 300 * MS, 1, NULL);   /* B last seen 1 s ago */
    CHECK_EQ_INT(s.distinct, 1);
    CHECK_EQ_INT(s.distinct_exact, 1);
    s = add(t, "a", T0 + SECOND + 600 * MS, 1, "C");     /* so is A now */
    CHECK_EQ_INT(s.distinct, 1);
    window_table_free(t);
}

/* Per-bucket sketches age out with their buckets, and a key that stayed
 * silent for a whole window is exact again. */
static void test_hll_buckets_age_out(void)
{
    struct window_table *t = window_table_new(16, SECOND, 8);
    struct window_stats s;
    for (unsigned i = 0; i < 100; i++)
        add_item_number(t, "a", T0, i);
    for (unsigned i = 100; i < 200; i++)
        s = add_item_number(t, "a", T0 + 500 * MS, i);
    CHECK_EQ_INT(s.distinct_exact, 0);
    CHECK(s.distinct >= 170 && s.distinct <= 230);
    s = add(t, "a", T0 + SECOND, 1, NULL);   /* the first hundred left */
    CHECK_EQ_INT(s.distinct_exact, 0);
    CHECK(s.distinct >= 85 && s.distinct <= 115);
    CHECK_EQ_INT(s.count, 101);
    s = add(t, "a", T0 + SECOND + 500 * MS, 1, NULL);   /* all gone */
    CHECK_EQ_INT(s.distinct, 0);
    s = add(t, "a", T0 + 3 * SECOND, 1, "X");
    CHECK_EQ_INT(s.distinct_exact, 1);
    CHECK_EQ_INT(s.distinct, 1);
    CHECK_EQ_INT(s.count, 1);
    window_table_free(t);
}

static void test_two_keys_are_independent(void)
{
    struct window_table *t = window_table_new(16, SECOND, 8);
    add(t, "a", T0, 5, "x");
    add(t, "a", T0 + 1, 5, "y");
    struct window_stats s = add(t, "b", T0 + 2, 7, "x");
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_INT(s.sum, 7);
    CHECK_EQ_INT(s.distinct, 1);
    CHECK(s.first_us == T0 + 2);
    s = add(t, "a", T0 + 3, 5, NULL);
    CHECK_EQ_INT(s.count, 3);
    CHECK_EQ_INT(s.sum, 15);
    CHECK_EQ_INT(s.distinct, 2);
    CHECK(s.first_us == T0);
    /* A prefix is a different key. */
    s = add(t, "ab", T0 + 4, 1, NULL);
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_INT(window_table_keys(t), 3);
    window_table_free(t);
}

static void test_lru_eviction_at_max_keys(void)
{
    struct window_table *t = window_table_new(3, SECOND, 8);
    add(t, "a", T0, 1, "i");
    add(t, "b", T0 + 1, 1, "i");
    add(t, "c", T0 + 2, 1, "i");
    add(t, "a", T0 + 3, 1, NULL);      /* b is now the least recently updated */
    CHECK_EQ_INT(window_table_evictions(t), 0);
    add(t, "d", T0 + 4, 1, NULL);
    CHECK_EQ_INT(window_table_keys(t), 3);
    CHECK_EQ_INT(window_table_evictions(t), 1);
    struct window_stats s = add(t, "b", T0 + 5, 1, NULL);   /* fresh; evicts c */
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_INT(s.distinct, 0);
    CHECK(s.first_us == T0 + 5);
    CHECK_EQ_INT(window_table_evictions(t), 2);
    s = add(t, "a", T0 + 6, 1, NULL);
    CHECK_EQ_INT(s.count, 3);
    CHECK_EQ_INT(s.distinct, 1);
    s = add(t, "c", T0 + 7, 1, NULL);   /* c was evicted: fresh; evicts d */
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_INT(window_table_evictions(t), 3);
    CHECK_EQ_INT(window_table_keys(t), 3);
    window_table_free(t);
}

static void test_single_key_table(void)
{
    struct window_table *t = window_table_new(1, SECOND, 8);
    add(t, "a", T0, 1, NULL);
    struct window_stats s = add(t, "b", T0, 1, NULL);
    CHECK_EQ_INT(s.count, 1);
    s = add(t, "a", T0, 1, NULL);
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_INT(window_table_evictions(t), 2);
    CHECK_EQ_INT(window_table_keys(t), 1);
    window_table_free(t);
}

static void test_time_going_backwards(void)
{
    struct window_table *t = window_table_new(16, SECOND, 8);
    add(t, "a", T0 + 500 * MS, 1, "x");
    struct window_stats s = add(t, "a", T0, 2, "y");
    CHECK(s.last_us == T0 + 500 * MS);
    CHECK(s.first_us == T0 + 500 * MS);
    CHECK_EQ_INT(s.count, 2);
    CHECK_EQ_INT(s.sum, 3);
    CHECK_EQ_INT(s.distinct, 2);
    /* Far in the past: still "now" for this key, nothing ages out. */
    s = add(t, "a", 0, 4, NULL);
    CHECK(s.last_us == T0 + 500 * MS);
    CHECK_EQ_INT(s.count, 3);
    /* Another key has its own clock. */
    s = add(t, "b", T0 - SECOND, 1, NULL);
    CHECK(s.last_us == T0 - SECOND);
    /* Time then moves on from the key's latest, not from the stale one. */
    s = add(t, "a", T0 + SECOND + 499 * MS, 1, NULL);
    CHECK_EQ_INT(s.count, 4);
    s = add(t, "a", T0 + SECOND + 500 * MS, 1, NULL);
    CHECK_EQ_INT(s.count, 2);
    window_table_free(t);
}

static void test_key_of_zero_length(void)
{
    struct window_table *t = window_table_new(16, SECOND, 8);
    struct window_stats s;
    CHECK_EQ_INT(window_add(t, NULL, 0, T0, 3, "i", 1, &s), 0);
    CHECK_EQ_INT(window_add(t, "", 0, T0 + 1, 4, "", 0, &s), 0);
    CHECK_EQ_INT(s.count, 2);
    CHECK_EQ_INT(s.sum, 7);
    CHECK_EQ_INT(s.distinct, 2);   /* an empty item is an item */
    CHECK_EQ_INT(window_add(t, "\0", 1, T0 + 2, 1, NULL, 0, &s), 0);
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_INT(window_table_keys(t), 2);
    window_table_free(t);
}

static void test_distinct_exact_zero_is_hll_from_the_start(void)
{
    struct window_table *t = window_table_new(16, SECOND, 0);
    struct window_stats s = add(t, "a", T0, 1, NULL);
    CHECK_EQ_INT(s.distinct, 0);
    CHECK_EQ_INT(s.distinct_exact, 1);
    s = add(t, "a", T0, 1, "x");
    CHECK_EQ_INT(s.distinct, 1);
    CHECK_EQ_INT(s.distinct_exact, 0);
    s = add(t, "a", T0, 1, "x");
    CHECK_EQ_INT(s.distinct, 1);
    window_table_free(t);
}

static void test_sum_saturates(void)
{
    struct window_table *t = window_table_new(16, SECOND, 8);
    add(t, "a", T0, UINT64_MAX - 1, NULL);
    struct window_stats s = add(t, "a", T0 + 100 * MS, 5, NULL);
    CHECK(s.sum == UINT64_MAX);
    window_table_free(t);
}

/* Windows shorter than WINDOW_BUCKETS microseconds get 1 us buckets. */
static void test_tiny_window(void)
{
    struct window_table *t = window_table_new(16, 0, 8);
    add(t, "a", 0, 1, NULL);
    struct window_stats s = add(t, "a", 9, 1, NULL);
    CHECK_EQ_INT(s.count, 2);
    s = add(t, "a", 10, 1, NULL);
    CHECK_EQ_INT(s.count, 2);
    s = add(t, "a", UINT64_MAX, 1, NULL);
    CHECK_EQ_INT(s.count, 1);
    window_table_free(t);
}

static void test_same_input_same_output(void)
{
    struct window_table *t1 = window_table_new(4, SECOND, 4);
    struct window_table *t2 = window_table_new(4, SECOND, 4);
    uint64_t x = 12345;
    for (int i = 0; i < 5000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        char key[2] = { (char)('a' + (x >> 60) % 6), 0 };
        char item[3] = { (char)('A' + (x >> 50) % 26), (char)('A' + (x >> 40) % 26), 0 };
        uint64_t now = T0 + (uint64_t)i * 3 * MS;
        struct window_stats s1, s2;
        window_add(t1, key, 1, now, x >> 54, item, 2, &s1);
        window_add(t2, key, 1, now, x >> 54, item, 2, &s2);
        CHECK(memcmp(&s1, &s2, sizeof(s1)) == 0);
    }
    CHECK(window_table_evictions(t1) == window_table_evictions(t2));
    CHECK(window_table_evictions(t1) > 0);
    window_table_free(t1);
    window_table_free(t2);
}

/* Pinned values: the hash must not change between machines or versions,
 * or saved state and test expectations would drift. */
static void test_hash_is_stable(void)
{
    CHECK(window_hash("", 0) == UINT64_C(0xf52a15e9a9b5e89b));
    CHECK(window_hash("a", 1) == UINT64_C(0x02c0bdbf481420f8));
    CHECK(window_hash("scrapewatch", 11) == UINT64_C(0xe7d3a6f856d3b92c));
    CHECK(window_hash(NULL, 0) == window_hash("", 0));
    CHECK(window_hash("ab", 2) != window_hash("ba", 2));
}

static void hll_add_numbers(struct hll *h, unsigned from, unsigned to)
{
    char item[32];
    for (unsigned i = from; i < to; i++) {
        snprintf(item, sizeof(item), "item-%u", i);
        hll_add_hash(h, window_hash(item, strlen(item)));
    }
}

static void test_hll_merge_equals_union(void)
{
    struct hll a, b, both;
    hll_clear(&a);
    hll_clear(&b);
    hll_clear(&both);
    hll_add_numbers(&a, 0, 5000);
    hll_add_numbers(&b, 2500, 7500);
    hll_add_numbers(&both, 0, 7500);
    hll_merge(&a, &b);
    CHECK(memcmp(a.reg, both.reg, sizeof(a.reg)) == 0);
    CHECK(hll_estimate(&a) == hll_estimate(&both));
    double error = fabs((double)hll_estimate(&a) - 7500.0) / 7500.0;
    CHECK(error <= 3 * 1.04 / 16.0);
    /* Merging is idempotent. */
    hll_merge(&both, &both);
    CHECK(memcmp(a.reg, both.reg, sizeof(a.reg)) == 0);
}

static void test_hll_empty_is_zero(void)
{
    struct hll h;
    hll_clear(&h);
    CHECK_EQ_INT(hll_estimate(&h), 0);
}

/* Linear counting takes over for small sets: within 10% from 1 to 100. */
static void test_hll_small_range(void)
{
    struct hll h;
    hll_clear(&h);
    for (unsigned n = 1; n <= 100; n++) {
        hll_add_numbers(&h, n - 1, n);
        uint64_t estimate = hll_estimate(&h);
        double error = fabs((double)estimate - n) / n;
        if (error > 0.10)
            fprintf(stderr, "n=%u estimate=%" PRIu64 "\n", n, estimate);
        CHECK(error <= 0.10);
    }
}

/* Large sets use the harmonic-mean estimator. */
static void test_hll_large_range(void)
{
    static const unsigned sizes[] = { 1000, 30000, 200000 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct hll h;
        hll_clear(&h);
        hll_add_numbers(&h, 0, sizes[i]);
        double error = fabs((double)hll_estimate(&h) - sizes[i]) / sizes[i];
        CHECK(error <= 3 * 1.04 / 16.0);
    }
}

int main(void)
{
    check_binary = "window";
    RUN(test_counts_and_sums_within_one_window);
    RUN(test_observations_age_out_after_window);
    RUN(test_aging_is_at_bucket_granularity);
    RUN(test_distinct_exact_then_hll_estimate);
    RUN(test_distinct_items_age_out);
    RUN(test_hll_buckets_age_out);
    RUN(test_two_keys_are_independent);
    RUN(test_lru_eviction_at_max_keys);
    RUN(test_single_key_table);
    RUN(test_time_going_backwards);
    RUN(test_key_of_zero_length);
    RUN(test_distinct_exact_zero_is_hll_from_the_start);
    RUN(test_sum_saturates);
    RUN(test_tiny_window);
    RUN(test_same_input_same_output);
    RUN(test_hash_is_stable);
    RUN(test_hll_merge_equals_union);
    RUN(test_hll_empty_is_zero);
    RUN(test_hll_small_range);
    RUN(test_hll_large_range);
    CHECK_EXIT();
}
