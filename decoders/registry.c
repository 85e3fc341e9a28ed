/* registry.c - the decoders compiled in, and what the core needs of them.
 *
 * Adding a decoder is one line in DECODERS: X(name) declares the decoder's
 * `name_decoder` object (defined in decoders/name/) and lists it. Everything
 * else about the protocol -- ports, nDPI names, probe, configuration keys,
 * counters -- is in that object, and the rest of this file derives from it:
 * each counters group gets a range of stats slots, each decoder a parameter
 * block filled with its defaults. */
#include "decoder.h"

#include <assert.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define DECODERS(X) \
    X(http) \
    X(elasticsearch) \
    X(mongodb) \
    X(couchdb) \
    X(solr) \
    X(cassandra) \
    X(redis) \
    X(memcached)

#define DECLARE_DECODER(name) extern const struct decoder name##_decoder;
DECODERS(DECLARE_DECODER)
#undef DECLARE_DECODER

#define LIST_DECODER(name) &name##_decoder,
static const struct decoder *const all_decoders[] = {
    DECODERS(LIST_DECODER)
    NULL,
};
#undef LIST_DECODER

#define DECODER_COUNT (sizeof(all_decoders) / sizeof(all_decoders[0]) - 1)
_Static_assert(DECODER_COUNT <= DECODERS_MAX, "raise DECODERS_MAX");

/* Derived once, on first use, from the decoder objects. */
static struct {
    size_t counter_slot[DECODERS_MAX];
    alignas(max_align_t) unsigned char params[DECODERS_MAX][DECODER_PARAMS_MAX];
} derived;
static pthread_once_t derived_once = PTHREAD_ONCE_INIT;

/* Counter slots: one range per counters group, in registry order; decoders
 * that share a group share its range. The layout is fixed at compile time by
 * the list above, so a failed check here is a programming error. */
static void derive(void)
{
    size_t next = STATS_PROTOCOL_BASE;
    for (size_t i = 0; i < DECODER_COUNT; i++) {
        const struct decoder *d = all_decoders[i];
        size_t slot = next;
        for (size_t j = 0; j < i; j++)
            if (d->counters != NULL && all_decoders[j]->counters == d->counters)
                slot = derived.counter_slot[j];
        if (slot == next && d->counters != NULL)
            next += d->counters->count;
        derived.counter_slot[i] = slot;
        assert(next <= STATS_SLOTS && "raise STATS_PROTOCOL_MAX");
        if (d->settings != NULL) {
            assert(d->settings->params_size <= DECODER_PARAMS_MAX);
            config_key_defaults(d->settings->keys, d->settings->key_count,
                                derived.params[i]);
        }
    }
}

static void derive_once(void)
{
    pthread_once(&derived_once, derive);
}

const struct decoder *const *decoder_all(void)
{
    return all_decoders;
}

const struct decoder *decoder_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < DECODER_COUNT; i++)
        if (strcmp(all_decoders[i]->name, name) == 0)
            return all_decoders[i];
    return NULL;
}

const struct decoder *decoder_for_ndpi_name(const char *ndpi_name)
{
    if (ndpi_name == NULL)
        return NULL;
    for (size_t i = 0; i < DECODER_COUNT; i++)
        for (const char *const *n = all_decoders[i]->ndpi_names; n && *n; n++)
            if (strcasecmp(*n, ndpi_name) == 0)
                return all_decoders[i];
    return NULL;
}

size_t decoder_index(const struct decoder *d)
{
    for (size_t i = 0; i < DECODER_COUNT; i++)
        if (all_decoders[i] == d)
            return i;
    return DECODERS_MAX;   /* not registered (template, http-plain) */
}

size_t decoder_counter_slot(const struct decoder *d)
{
    derive_once();
    size_t i = decoder_index(d);
    if (i < DECODER_COUNT)
        return derived.counter_slot[i];
    /* An unregistered decoder sharing a registered group counts there. */
    for (size_t j = 0; j < DECODER_COUNT; j++)
        if (d->counters != NULL && all_decoders[j]->counters == d->counters)
            return derived.counter_slot[j];
    return STATS_SLOTS;
}

const void *decoder_default_params(const struct decoder *d)
{
    derive_once();
    size_t i = decoder_index(d);
    if (i < DECODER_COUNT)
        return derived.params[i];
    for (size_t j = 0; j < DECODER_COUNT; j++)
        if (d->settings != NULL && all_decoders[j]->settings == d->settings)
            return derived.params[j];
    return NULL;
}

bool decoder_counter_name(size_t slot, char *buf, size_t cap)
{
    derive_once();
    for (size_t i = 0; i < DECODER_COUNT; i++) {
        const struct decoder_counters *c = all_decoders[i]->counters;
        size_t first = derived.counter_slot[i];
        if (c == NULL || slot < first || slot >= first + c->count)
            continue;
        snprintf(buf, cap, "%s.%s", c->group, c->names[slot - first]);
        return true;
    }
    return false;
}

void decoder_ctx_bind(struct decoder_ctx *ctx, const struct decoder *d,
                      const void *params, struct stats *stats)
{
    size_t slot = decoder_counter_slot(d);
    ctx->params = params != NULL ? params : decoder_default_params(d);
    ctx->counters = stats != NULL && slot < STATS_SLOTS ? &stats->v[slot] : NULL;
}

uint64_t decoder_counter_get(const struct stats *stats, const struct decoder *d,
                             unsigned id)
{
    size_t slot = decoder_counter_slot(d);
    if (slot >= STATS_SLOTS || d->counters == NULL || id >= d->counters->count)
        return 0;
    return stats_get(stats, (unsigned)(slot + id));
}
