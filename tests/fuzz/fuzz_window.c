/* fuzz_window.c - libFuzzer target for the keyed sliding windows.
 *
 * The first byte picks the limits (1 to 4 keys, 0 to 9 exact distinct
 * items), the second the starting time; then each operation is four bytes:
 * key (one of 6, of lengths 0 to 5, so some get evicted), time step
 * (forward, a jump, or backwards), value, and item (0: none). The window is
 * 100 us, so buckets are 10 us wide.
 *
 * Beside the table the harness keeps a brute-force model: for each key the
 * list of its observations since it (last) entered the table, the same LRU
 * order by update, and the same rules for time (a key's time never goes
 * backwards) and for bucket granularity (an observation at t counts while
 * now/10 - t/10 < 10). After each operation count, sum, first_us, last_us,
 * the number of keys and of evictions must equal the model's; while the
 * table says distinct is exact it must equal the model's set size, and it
 * must say exact exactly when the model has not exceeded the bound since
 * the key entered the table or last stayed silent for a whole window. In
 * HLL mode the estimate is checked against loose bounds that hold for any
 * set of items. */
#include "../../rules/window.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_KEYS 6
#define FUZZ_MAX_OPS 2048
#define FUZZ_WINDOW_US 100
#define FUZZ_BUCKET_US (FUZZ_WINDOW_US / WINDOW_BUCKETS)

struct model_obs {
    uint64_t us;
    uint64_t value;
    int item;            /* -1: none */
};

struct model_key {
    int present;
    uint64_t updated;    /* sequence number of the last update: LRU order */
    uint64_t last_us;
    int overflowed;      /* went past the exact bound: the table uses HLL */
    size_t nobs;
    struct model_obs obs[FUZZ_MAX_OPS];
};

static struct model_key model[FUZZ_KEYS];

static int model_live(uint64_t us, uint64_t now)
{
    return now / FUZZ_BUCKET_US - us / FUZZ_BUCKET_US < WINDOW_BUCKETS;
}

static void model_reset(void)
{
    for (size_t i = 0; i < FUZZ_KEYS; i++) {
        model[i].present = 0;
        model[i].nobs = 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t max_keys = 1 + (data[0] & 3);
    size_t distinct_exact = (size_t)(data[0] >> 2) % 10;
    uint64_t now = data[1] == 255 ? UINT64_MAX - 5000 : (uint64_t)data[1] * 1000;
    data += 2;
    size -= 2;

    struct window_table *t = window_table_new(max_keys, FUZZ_WINDOW_US, distinct_exact);
    if (!t)
        abort();
    model_reset();
    size_t present = 0;
    uint64_t evictions = 0, seq = 0;

    for (size_t op = 0; op < FUZZ_MAX_OPS && size >= 4; op++, data += 4, size -= 4) {
        size_t ki = data[0] % FUZZ_KEYS;
        uint8_t step = data[1];
        uint64_t value = data[2];
        uint8_t item_byte = data[3];

        if (step < 128)
            now = now > UINT64_MAX - step ? UINT64_MAX : now + step;
        else if (step < 224)
            now = now > UINT64_MAX - (uint64_t)(step - 128) * 7 ? UINT64_MAX
                                                                 : now + (uint64_t)(step - 128) * 7;
        else
            now -= now < (uint64_t)(step - 224) * 5 ? now : (uint64_t)(step - 224) * 5;

        /* The model's step. */
        struct model_key *m = &model[ki];
        if (!m->present) {
            if (present >= max_keys) {
                size_t victim = FUZZ_KEYS;
                for (size_t i = 0; i < FUZZ_KEYS; i++)
                    if (model[i].present &&
                        (victim == FUZZ_KEYS || model[i].updated < model[victim].updated))
                        victim = i;
                model[victim].present = 0;
                present--;
                evictions++;
            }
            m->present = 1;
            present++;
            m->nobs = 0;
            m->last_us = now;
            m->overflowed = 0;
        }
        uint64_t effective = now > m->last_us ? now : m->last_us;
        if (!model_live(m->last_us, effective))
            m->overflowed = 0;
        m->last_us = effective;
        m->updated = ++seq;
        m->obs[m->nobs].us = effective;
        m->obs[m->nobs].value = value;
        m->obs[m->nobs].item = item_byte ? item_byte : -1;
        m->nobs++;

        uint64_t count = 0, sum = 0, first = effective;
        uint8_t seen[256] = { 0 };
        uint64_t distinct = 0;
        for (size_t i = 0; i < m->nobs; i++) {
            const struct model_obs *o = &m->obs[i];
            if (!model_live(o->us, effective))
                continue;
            count++;
            sum += o->value;
            if (o->us < first)
                first = o->us;
            if (o->item >= 0 && !seen[o->item]) {
                seen[o->item] = 1;
                distinct++;
            }
        }
        if (distinct > distinct_exact)
            m->overflowed = 1;

        /* The table's step, checked against the model. */
        unsigned char key[FUZZ_KEYS];
        memset(key, 'k', sizeof(key));
        uint8_t item = item_byte;
        struct window_stats s;
        if (window_add(t, key, ki, now, value, item_byte ? &item : NULL, 1, &s) != 0)
            abort();
        if (s.count != count || s.sum != sum || s.first_us != first || s.last_us != effective)
            abort();
        if (window_table_keys(t) != present || window_table_evictions(t) != evictions)
            abort();
        if (s.distinct_exact != !m->overflowed)
            abort();
        if (s.distinct_exact) {
            if (s.distinct != distinct)
                abort();
        } else {
            if ((distinct == 0) != (s.distinct == 0))
                abort();
            if (distinct < 128 && s.distinct > 2 * distinct + 1)
                abort();
        }
    }
    window_table_free(t);
    return 0;
}
