/* fuzz_cassandra.c - libFuzzer target for the Cassandra decoder.
 *
 * Input: 1 mode byte, 2 bytes (little-endian) = length of the client part,
 * then the client part, then the server part. Mode bits:
 *   0x01  the built-in defaults instead of small limits
 *   0x02  v5: a STARTUP/READY handshake first, then each part wrapped in
 *         segments (sizes, self-contained flags and the odd wrong CRC drawn
 *         from the schedule), so the fuzzer reaches the frames inside
 *   0x04  with 0x02: lz4 segments
 *   0x08  midstream
 * The input bytes, read again from the start, drive the schedule
 * (fuzz_support.h): direction, piece sizes, gaps, ends. Every op is checked,
 * and the flow's memory against its limits. */
#include <stdlib.h>
#include <string.h>

#include <lz4.h>

#include "../../decoders/cassandra/cassandra.h"
#include "../../decoders/cassandra/cassandra_parse.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    (void)ctx;
    check_op_strings(op);
    if (op->app != APP_CASSANDRA || op->op[0] == '\0')
        abort();
    if (op->status > OP_STATUS_DENIED || op->op_class >= OP_CLASS_COUNT ||
        op->authenticated > OP_AUTH_YES)
        abort();
    if (op->items < -1 || op->page_size < -1 || op->total != -1 || op->offset != -1)
        abort();
    if (op->op_class == OP_CLASS_AUTH && op->target[0] != '\0')
        abort();
    if ((op->flags & OP_FLAG_NO_RESPONSE) != 0 &&
        (op->status != OP_STATUS_UNKNOWN || op->response_bytes != 0))
        abort();
    if ((op->flags & OP_FLAG_UNPAIRED) != 0 && op->request_bytes != 0)
        abort();
}

/* Wraps a part into v5 segments in out (at most out_cap bytes). */
static size_t wrap_segments(struct schedule *s, const uint8_t *in, size_t len, int lz4,
                            uint8_t *out, size_t out_cap)
{
    static uint8_t packed[LZ4_COMPRESSBOUND(CQL_SEGMENT_PAYLOAD_MAX)];
    size_t n = 0;
    while (len > 0) {
        uint8_t c = choose(s);
        size_t take = 1 + (size_t)choose(s) * 4;
        if (take > len)
            take = len;
        const uint8_t *p = in;
        size_t plen = take;
        uint64_t ulen = 0;
        if (lz4 && (c & 0x20)) {
            int k = LZ4_compress_default((const char *)in, (char *)packed, (int)take,
                                         (int)sizeof(packed));
            if (k > 0 && (size_t)k < take) {
                p = packed;
                plen = (size_t)k;
                ulen = take;
            }
        }
        size_t hl = lz4 ? 5 : 3;
        if (n + hl + 3 + plen + 4 > out_cap)
            break;
        uint64_t v = plen | (lz4 ? ulen << 17 : 0);
        if ((c & 1) == 0)
            v |= 1ull << (lz4 ? 34 : 17);       /* self-contained */
        for (size_t i = 0; i < hl; i++)
            out[n + i] = (uint8_t)(v >> (8 * i));
        uint32_t crc = cql_crc24(out + n, hl) ^ ((c & 0xc0) == 0xc0 ? 1u : 0u);
        n += hl;
        for (int i = 0; i < 3; i++)
            out[n++] = (uint8_t)(crc >> (8 * i));
        memcpy(out + n, p, plen);
        crc = cql_crc32(p, plen) ^ ((c & 0xc0) == 0x80 ? 1u : 0u);
        n += plen;
        for (int i = 0; i < 4; i++)
            out[n++] = (uint8_t)(crc >> (8 * i));
        in += take;
        len -= take;
    }
    return n;
}

static void feed_handshake(const struct decoder *d, void *state, struct decoder_ctx *ctx, int lz4)
{
    static const uint8_t startup[] = {
        0x05, 0, 0, 0, CQL_OP_STARTUP, 0, 0, 0, 22,
        0, 1, 0, 11, 'C', 'O', 'M', 'P', 'R', 'E', 'S', 'S', 'I', 'O', 'N', 0, 3, 'l', 'z', '4',
    };
    static const uint8_t startup_plain[] = {
        0x05, 0, 0, 0, CQL_OP_STARTUP, 0, 0, 0, 2, 0, 0,
    };
    static const uint8_t ready[] = { 0x85, 0, 0, 0, CQL_OP_READY, 0, 0, 0, 0 };
    if (lz4)
        d->data(state, ctx, DIR_TO_SERVER, startup, sizeof(startup));
    else
        d->data(state, ctx, DIR_TO_SERVER, startup_plain, sizeof(startup_plain));
    d->data(state, ctx, DIR_TO_CLIENT, ready, sizeof(ready));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t wrapped[2][1 << 18];
    if (size < 3)
        return 0;
    uint8_t mode = data[0];
    size_t client_len = (size_t)data[1] | ((size_t)data[2] << 8);
    if (client_len > size - 3)
        client_len = size - 3;

    struct schedule sched = { data, size, 0 };
    uint8_t limits = choose(&sched);
    struct cassandra_params params = {
        .frame_max = (size_t)1 << (10 + (limits & 7)),
        .head_max = (size_t)16 << ((limits >> 3) & 7),
        .compressed_max = (size_t)64 << ((limits >> 5) & 7),
        .decompressed_max = 4096,
        .pending_max = 1 + (limits & 15),
        .prepared_max = 1 + ((limits >> 4) & 3),
    };
    stats_counter counters[CASSANDRA_COUNTER_COUNT];
    memset(counters, 0, sizeof(counters));
    struct decoder_ctx ctx = { .now_us = 1, .params = &params, .counters = counters,
                               .emit = fuzz_emit, .owner = NULL };
    if (mode & 0x01)
        ctx.params = NULL;
    ctx.midstream = (mode & 0x08) != 0;
    const struct decoder *d = &cassandra_decoder;
    void *state = d->open(&ctx);
    if (state == NULL)
        return 0;

    size_t probe_len = client_len < DECODER_PROBE_BYTES ? client_len : DECODER_PROBE_BYTES;
    if (d->probe(data + 3, probe_len, NULL, 0) > PROBE_NEED_MORE)
        abort();

    struct fuzz_part parts[2] = {
        { data + 3, client_len },
        { data + 3 + client_len, size - 3 - client_len },
    };
    if (mode & 0x02) {
        int lz4 = (mode & 0x04) != 0;
        feed_handshake(d, state, &ctx, lz4);
        for (int i = 0; i < 2; i++) {
            size_t n = wrap_segments(&sched, parts[i].p, parts[i].left, lz4, wrapped[i],
                                     sizeof(wrapped[i]));
            parts[i].p = wrapped[i];
            parts[i].left = n;
        }
    }
    fuzz_feed(d, state, &ctx, &sched, parts);
    /* what a flow may hold: per direction a head or a compressed body, a
     * segment and its decompressed payload, one decompressed body, and the
     * two tables */
    if (ctx.params != NULL) {
        size_t seg = CQL_SEGMENT_PAYLOAD_MAX + CQL_SEGMENT_TRAILER;
        size_t head = params.head_max > params.compressed_max ? params.head_max
                                                               : params.compressed_max;
        size_t bound = 2 * (head + seg) + CQL_SEGMENT_PAYLOAD_MAX + params.decompressed_max +
                       params.pending_max * (sizeof(struct op_record) + 64) +
                       params.prepared_max * (OP_TARGET_MAX + OP_NAME_MAX + 16);
        if (cassandra_held_peak(state) > bound)
            abort();
    }
    d->close(state, &ctx);
    return 0;
}
