/* window.h - keyed sliding-window aggregates in packet time, bounded.
 *
 * For each key (a source, a server, or a pair, as bytes) the table keeps, over
 * the last `window` of packet time: the number of observations, the sum of a
 * value, and the number of distinct items — exact up to `distinct_exact`
 * items, then a HyperLogLog estimate. The window slides in buckets (a tenth
 * of the window each), so memory per key is fixed. The table holds at most
 * `max_keys` keys; adding one more forgets the least recently updated
 * (counted). Same input, same output: no clock but packet time, no
 * randomness. Owned by one thread. */
#ifndef SW_WINDOW_H
#define SW_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#define WINDOW_BUCKETS 10

struct window_table;
struct membudget;

struct window_stats {
    uint64_t count;       /* observations in the window, this one included */
    uint64_t sum;         /* sum of their values */
    uint64_t distinct;    /* distinct items (exact or estimated) */
    int distinct_exact;   /* 1 while still exact */
    uint64_t first_us;    /* oldest observation still in the window */
    uint64_t last_us;     /* this one */
};

struct window_table *window_table_new(size_t max_keys, uint64_t window_us,
                                      size_t distinct_exact);
void window_table_free(struct window_table *t);
/* Charges the table's keys to a memory budget (sensor/base/membudget.h)
 * from now on; set before the first key. When the budget refuses a key,
 * the least recently updated keys are forgotten to make room (counted as
 * evictions). */
void window_table_set_budget(struct window_table *t, struct membudget *budget);
/* One observation for `key` at packet time now_us: `value` is added to the
 * sum, `item` (may be NULL) to the distinct set. Fills *out with the
 * aggregate over the window ending at now_us. Time that goes backwards is
 * treated as now = the key's last time. Returns 0, or -1 when out of memory
 * (out then describes only this observation). */
int window_add(struct window_table *t, const void *key, size_t key_len, uint64_t now_us,
               uint64_t value, const void *item, size_t item_len, struct window_stats *out);
/* Keys forgotten because the table was full. */
uint64_t window_table_evictions(const struct window_table *t);
size_t window_table_keys(const struct window_table *t);

/* HyperLogLog with 2^HLL_BITS registers (used when exact sets overflow). */
#define HLL_BITS 8
struct hll {
    uint8_t reg[1u << HLL_BITS];
};
void hll_clear(struct hll *h);
void hll_add_hash(struct hll *h, uint64_t hash);
void hll_merge(struct hll *into, const struct hll *from);
uint64_t hll_estimate(const struct hll *h);
/* 64-bit hash of bytes (stable across runs and machines). */
uint64_t window_hash(const void *data, size_t len);

#endif
