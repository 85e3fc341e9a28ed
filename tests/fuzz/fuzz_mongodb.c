/* fuzz_mongodb.c - libFuzzer target for the MongoDB decoder.
 *
 * Input: 2 bytes (little-endian) = length of the client part, then the
 * client part, then the server part. The input bytes, read again from the
 * start, also drive the schedule: limits (message, compressed and
 * decompressed caps, pending requests), whether each part is first wrapped
 * whole as OP_COMPRESSED messages (noop, snappy, zlib or zstd, compressed
 * here, so that the decoder's decompressed path sees fuzzed messages;
 * sometimes with a wrong uncompressedSize or a corrupted payload), which
 * direction goes next, piece sizes, gaps (known or unknown length) and
 * direction ends, and whether the flow was picked up mid-session. The flow
 * is always closed at the end, and every emitted op is checked for sanity. */
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "../../decoders/mongodb/bson.h"
#include "../../decoders/mongodb/mongodb.h"
#include "../../decoders/mongodb/mongodb_compressed.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    check_op_strings(op);
    if (op->app != APP_MONGODB || op->op[0] == '\0')
        abort();
    /* unknown authentication only, and always no made-up client, mid-session */
    if (op->status > OP_STATUS_DENIED || op->op_class >= OP_CLASS_COUNT ||
        (op->authenticated == OP_AUTH_UNKNOWN && !ctx->midstream) ||
        op->authenticated > OP_AUTH_YES ||
        (ctx->midstream && strcmp(op->client_id, "(none)") == 0))
        abort();
    if (op->auth_result > OP_AUTH_RESULT_FAILURE ||
        op->server_auth_hint > OP_SERVER_AUTH_HINT_ACCESS_CONTROL ||
        (op->auth_result == OP_AUTH_RESULT_SUCCESS && op->authenticated != OP_AUTH_YES))
        abort();
    if (op->items < -1 || op->total < -1 || op->page_size < -1 || op->offset < -1)
        abort();
}

/* The part as one OP_COMPRESSED message (the part is the inner body and
 * starts with the inner opcode's 4 bytes). Returns a malloc'd message. */
static uint8_t *wrap_compressed(const uint8_t *p, size_t n, uint8_t compressor, size_t *out_len)
{
    if (n < 4)
        return NULL;
    int32_t opcode = bson_i32(p);
    const uint8_t *body = p + 4;
    size_t blen = n - 4;
    size_t cap = 25 + blen + blen / 8 + 1024;
    if (compressor == MONGO_ZSTD)
        cap = 25 + ZSTD_compressBound(blen);
    else if (compressor == MONGO_SNAPPY)
        cap = 25 + snappy_max_compressed_length(blen);
    else if (compressor == MONGO_ZLIB)
        cap = 25 + compressBound((uLong)blen);
    uint8_t *m = malloc(cap);
    if (!m)
        return NULL;
    size_t clen = cap - 25;
    if (compressor == MONGO_ZLIB) {
        uLongf z = (uLongf)clen;
        if (compress2(m + 25, &z, body, (uLong)blen, 1) != Z_OK) {
            free(m);
            return NULL;
        }
        clen = z;
    } else if (compressor == MONGO_ZSTD) {
        clen = ZSTD_compress(m + 25, clen, body, blen, 1);
        if (ZSTD_isError(clen)) {
            free(m);
            return NULL;
        }
    } else if (compressor == MONGO_SNAPPY) {
        if (snappy_compress((const char *)body, blen, (char *)m + 25, &clen) != SNAPPY_OK) {
            free(m);
            return NULL;
        }
    } else {
        memcpy(m + 25, body, blen);
        clen = blen;
    }
    uint32_t total = (uint32_t)(25 + clen);
    uint32_t fields[6] = { total, 1, 0, MONGO_OP_COMPRESSED, (uint32_t)opcode, (uint32_t)blen };
    for (int f = 0; f < 6; f++)
        for (int i = 0; i < 4; i++)
            m[f * 4 + i] = (uint8_t)(fields[f] >> (8 * i));
    m[24] = compressor;
    *out_len = 25 + clen;
    return m;
}

struct part {
    const uint8_t *p;
    size_t left;
};

static void step(void *state, struct decoder_ctx *ctx, struct schedule *s,
                 enum decoder_dir dir, struct part *part)
{
    uint8_t c = choose(s);
    if ((c & 0xf0) == 0xf0) {
        size_t n = 1 + choose(s) % 64;
        if (n > part->left)
            n = part->left;
        mongodb_decoder.gap(state, ctx, dir, (c & 1) ? n : 0);
        part->p += n;
        part->left -= n;
        return;
    }
    size_t n = (c & 0x0f) == 0x0f ? part->left : (size_t)(c & 0x0f) * 7 + 1;
    if (n > part->left)
        n = part->left;
    ctx->now_us += c;
    mongodb_decoder.data(state, ctx, dir, part->p, n);
    part->p += n;
    part->left -= n;
    if (part->left == 0 && (c & 0x10) != 0)
        mongodb_decoder.end(state, ctx, dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t client_len = (size_t)data[0] | ((size_t)data[1] << 8);
    if (client_len > size - 2)
        client_len = size - 2;

    static const size_t message_max[] = { 16, 100, 4096, 48u << 20 };
    static const size_t comp_max[] = { 1, 64, 4096, 16u << 20 };
    struct schedule sched = { data, size, 0 };
    uint8_t limits = choose(&sched);
    uint8_t wrap = choose(&sched);
    struct mongodb_params params = {
        .pending_max = 1 + ((limits >> 4) & 7),
        .message_max = message_max[limits & 3],
        .compressed_max = comp_max[(limits >> 2) & 3],
        .decompressed_max = comp_max[(limits >> 6) & 3],
    };
    struct stats stats;
    stats_clear(&stats);
    struct decoder_ctx ctx = { .now_us = 1, .emit = fuzz_emit, .owner = NULL,
                               .midstream = (wrap & 0x40) != 0 };
    decoder_ctx_bind(&ctx, &mongodb_decoder, &params, &stats);
    void *state = mongodb_decoder.open(&ctx);
    if (state == NULL)
        return 0;

    struct part parts[2] = {
        { data + 2, client_len },
        { data + 2 + client_len, size - 2 - client_len },
    };
    uint8_t *owned[2] = { NULL, NULL };
    for (int d = 0; d < 2; d++) {
        if ((wrap >> d) & 1) {
            size_t n = 0;
            owned[d] = wrap_compressed(parts[d].p, parts[d].left, (uint8_t)((wrap >> 2) & 3), &n);
            if (owned[d]) {
                /* sometimes lie about uncompressedSize, or corrupt the payload */
                if (wrap & 0x10) {
                    uint32_t usize = (uint32_t)bson_i32(owned[d] + 20);
                    usize += (uint32_t)(int32_t)(int8_t)choose(&sched);
                    for (int i = 0; i < 4; i++)
                        owned[d][20 + i] = (uint8_t)(usize >> (8 * i));
                }
                if ((wrap & 0x20) && n > 25)
                    owned[d][25 + choose(&sched) % (n - 25)] ^= (uint8_t)(1 + choose(&sched) % 255);
                parts[d].p = owned[d];
                parts[d].left = n;
            }
        }
    }
    while (parts[0].left > 0 || parts[1].left > 0) {
        enum decoder_dir dir = (choose(&sched) & 1) ? DIR_TO_CLIENT : DIR_TO_SERVER;
        if (parts[dir].left == 0)
            dir = dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
        step(state, &ctx, &sched, dir, &parts[dir]);
    }
    /* what a flow held at once: per direction, a snappy payload (grown by
     * doubling: old and new blocks) and its output, or a zstd window */
    size_t bound = 2 * (2 * params.compressed_max + params.decompressed_max +
                        ((size_t)10 << 20));
    if (mongo_held_peak(state) > bound)
        abort();
    mongodb_decoder.close(state, &ctx);
    free(owned[0]);
    free(owned[1]);
    return 0;
}
