/* decoder.h - what a protocol decoder is, and what it may call.
 *
 * A decoder turns the in-order bytes of one TCP connection (two directions)
 * into op records. The worker owns the flow and calls the decoder; the decoder
 * never sees packets, only reassembled bytes, explicit gaps, direction ends
 * and the flow's close. Everything a decoder needs from the outside comes
 * through `struct decoder_ctx`, a plain struct so unit tests and fuzz targets
 * can drive a decoder without a network.
 *
 * A decoder also describes itself, and the core reads the description and
 * never names a protocol: its name (config key, nDPI claim), the app of its
 * ops, its default server ports, the nDPI protocols it reads, an optional
 * probe for recognising it on any port, its configuration keys (parsed by
 * the generic loader into its own parameter block) and its counters
 * (reported in `stats` under its own group). Adding a protocol is one folder
 * under decoders/ and one line in registry.c; decoders/template/ shows the
 * files. */
#ifndef SW_DECODER_H
#define SW_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "../sensor/base/config_key.h"
#include "../sensor/base/membudget.h"
#include "../sensor/base/op.h"
#include "../sensor/base/stats.h"
#include "apps.h"

enum decoder_dir { DIR_TO_SERVER = 0, DIR_TO_CLIENT = 1 };

#define DECODERS_MAX 16          /* decoders compiled in */
#define DECODER_PARAMS_MAX 256   /* bytes of one decoder's parameter block */
#define DECODER_PORTS_MAX 64     /* server ports per decoder */
#define DECODER_PROBE_BYTES 512  /* bytes of each direction a probe may see */

/* A probe's answer about the first bytes of a flow. */
enum probe_result { PROBE_NO = 0, PROBE_YES, PROBE_NEED_MORE };

/* A protocol's configuration: one top-level group of the configuration file
 * ("mongodb = { message_max_mb = 48; };"), its keys describing fields of the
 * protocol's parameter struct, with their defaults and docs. Decoders that
 * share a framing share its settings (both HTTP decoders read "http"). */
struct decoder_settings {
    const char *group;
    const struct config_key *keys;
    size_t key_count;
    size_t params_size;          /* sizeof the parameter struct */
};

/* A protocol's counters: reported as "<group>.<name>" in stats events.
 * Decoders built on one framer share its counters. */
struct decoder_counters {
    const char *group;
    const char *const *names;
    size_t count;
};

struct decoder_ctx {
    uint64_t now_us;                    /* packet time of the bytes given */
    /* 1 when the flow's TCP handshake was not seen (capture or sensor started
     * mid-connection): what the session did before (authenticate, select a
     * database) is unknown, so auth state starts "unknown", not "no". 0 for
     * UDP and for flows seen from their SYN. */
    uint8_t midstream;
    /* 1 for a UDP flow: each data call is one whole datagram (with what the
     * snap length cut reported as a gap right after it). */
    uint8_t datagram;
    const void *params;                 /* the decoder's parameter struct */
    stats_counter *counters;            /* the decoder's counters (its group) */
    /* The worker's memory budget: per-flow state and every buffer or queue
     * a decoder grows is taken from it (membudget_malloc and friends), and
     * a refusal is recovered from like a gap: drop what was held, flag the
     * op partial, resynchronise. Decoders keep the pointer in their state
     * (it is the same for the flow's life). NULL: unlimited (tests). */
    struct membudget *budget;
    /* Hands a finished op to the pipeline. The op is copied. */
    void (*emit)(struct decoder_ctx *ctx, const struct op_record *op);
    void *owner;                        /* the caller's, for emit */
};

struct decoder {
    const char *name;               /* config key and registry name: "mongodb" */
    enum app_id app;                /* app of the ops it emits by default */
    const uint16_t *ports;          /* default TCP server ports */
    size_t port_count;
    const uint16_t *udp_ports;      /* default UDP server ports: each datagram's
                                       payload is one `data` call */
    size_t udp_port_count;
    const char *const *ndpi_names;  /* nDPI protocols it reads; NULL-terminated */
    /* Port-independent recognition from the first bytes of each direction
     * (at most DECODER_PROBE_BYTES each, either may be empty). NULL: none. */
    enum probe_result (*probe)(const uint8_t *to_server, size_t to_server_len,
                               const uint8_t *to_client, size_t to_client_len);
    const struct decoder_settings *settings;  /* NULL: no keys of its own */
    const struct decoder_counters *counters;  /* NULL: no counters */

    /* Allocates per-flow state; NULL on allocation failure. */
    void *(*open)(struct decoder_ctx *ctx);
    /* In-order bytes of one direction. */
    void (*data)(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                 const uint8_t *buf, size_t len);
    /* `len` bytes of one direction are missing (0 if unknown). */
    void (*gap)(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                uint64_t len);
    /* One direction ended (FIN or RST): no more data will come on it. */
    void (*end)(void *state, struct decoder_ctx *ctx, enum decoder_dir dir);
    /* The flow is gone: emit what is pending, then free the state. */
    void (*close)(void *state, struct decoder_ctx *ctx);
};

/* ---- the registry (registry.c) ---- */

/* NULL-terminated list of all decoders, in registry order. */
const struct decoder *const *decoder_all(void);
/* Looked up by config name; NULL if none. */
const struct decoder *decoder_find(const char *name);
/* The decoder that claims an nDPI protocol name (case-insensitive); NULL if
 * none does. */
const struct decoder *decoder_for_ndpi_name(const char *ndpi_name);
/* Position in decoder_all(); DECODERS_MAX for an unregistered decoder. */
size_t decoder_index(const struct decoder *d);
/* The stats slot of the decoder's first counter (STATS_PROTOCOL_BASE + n);
 * decoders sharing a counters group share the slots. */
size_t decoder_counter_slot(const struct decoder *d);
/* The decoder's parameter struct filled with its defaults. */
const void *decoder_default_params(const struct decoder *d);
/* Name of a stats slot in STATS_PROTOCOL_BASE..STATS_SLOTS as "group.name"
 * into buf; false for an unused slot. */
bool decoder_counter_name(size_t slot, char *buf, size_t cap);

/* Points ctx at a decoder's parameters (NULL: its defaults) and at its
 * counters in `stats`. Tests and fuzz targets call it as the worker does. */
void decoder_ctx_bind(struct decoder_ctx *ctx, const struct decoder *d,
                      const void *params, struct stats *stats);
/* A decoder's counter, read from a stats set (tests, facts). */
uint64_t decoder_counter_get(const struct stats *stats, const struct decoder *d,
                             unsigned id);

/* ---- for decoders ---- */

static inline void decoder_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    ctx->emit(ctx, op);
}

/* Adds to counter `id` of the decoder's own group. */
static inline void decoder_count_add(struct decoder_ctx *ctx, unsigned id, uint64_t n)
{
    if (ctx->counters != NULL)
        stats_counter_add(&ctx->counters[id], n);
}

static inline void decoder_count(struct decoder_ctx *ctx, unsigned id)
{
    decoder_count_add(ctx, id, 1);
}

#endif
