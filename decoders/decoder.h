/* decoder.h - what a protocol decoder is, and what it may call.
 *
 * A decoder turns the in-order bytes of one TCP connection (two directions)
 * into op records. The worker owns the flow and calls the decoder; the decoder
 * never sees packets, only reassembled bytes, explicit gaps, direction ends
 * and the flow's close. Everything a decoder needs from the outside comes
 * through `struct decoder_ctx`, a plain struct so unit tests and fuzz targets
 * can drive a decoder without a network. */
#ifndef SW_DECODER_H
#define SW_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "../sensor/op.h"
#include "../sensor/stats.h"

enum decoder_dir { DIR_TO_SERVER = 0, DIR_TO_CLIENT = 1 };

/* Limits that bound a decoder's memory; filled from the configuration. */
struct decoder_params {
    size_t header_max;     /* largest HTTP header block buffered (bytes) */
    size_t pending_max;    /* requests waiting for a response, per flow */
    size_t body_max;       /* body bytes decoded (inflated) per message */
    size_t mongodb_message_max;      /* largest MongoDB message accepted (bytes) */
    size_t mongodb_compressed_max;   /* OP_COMPRESSED payload held to decompress */
    size_t mongodb_decompressed_max; /* its decompressed size */
};

struct decoder_ctx {
    uint64_t now_us;                    /* packet time of the bytes given */
    const struct decoder_params *params;
    struct stats *stats;                /* the calling worker's counters */
    /* Hands a finished op to the pipeline. The op is copied. */
    void (*emit)(struct decoder_ctx *ctx, const struct op_record *op);
    void *owner;                        /* the caller's, for emit */
};

struct decoder {
    const char *name;       /* config key: "http" */
    enum app_id app;        /* app of the ops it emits by default */
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

/* Registry: all decoders compiled in, looked up by config name. */
const struct decoder *decoder_find(const char *name);
/* NULL-terminated list of all decoders. */
const struct decoder *const *decoder_all(void);

static inline void decoder_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    ctx->emit(ctx, op);
}

#endif
