/* fuzz_memcached.c - libFuzzer target for the memcached decoder.
 *
 * Input: 2 bytes (little-endian) = length of the client part, then the
 * client part, then the server part. The input bytes, read again from the
 * start, also drive the schedule (fuzz_support.h): the limits, TCP or UDP
 * (each data call then one datagram), midstream or not, which direction
 * goes next, piece sizes, gaps and direction ends. The flow is always
 * closed at the end. Every emitted op is checked for sanity, SASL ops for
 * an empty target, and the buffers for staying within their limits. */
#include <stdlib.h>
#include <string.h>

#include "../../decoders/memcached/memcached.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    check_op_strings(op);
    if (op->app != APP_MEMCACHED || op->op[0] == '\0')
        abort();
    if (op->status > OP_STATUS_DENIED || op->op_class >= OP_CLASS_COUNT ||
        op->authenticated > OP_AUTH_YES)
        abort();
    if (ctx->midstream == 0 && op->authenticated == OP_AUTH_UNKNOWN)
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
    if ((op->flags & OP_FLAG_AMPLIFIED) != 0 && ctx->datagram == 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t client_len = (size_t)data[0] | ((size_t)data[1] << 8);
    if (client_len > size - 2)
        client_len = size - 2;

    struct schedule sched = { data, size, 0 };
    uint8_t limits = choose(&sched);
    struct memcached_params params = {
        .line_max = (limits & 1) ? 64 : 4096,
        .pending_max = 1 + ((limits >> 1) & 7),
        .udp_pending_max = 1 + ((limits >> 4) & 1),
        .udp_reply_max = (limits & 0x20) ? 100 : 64 * 1024,
        .udp_timeout_s = 1,
        .amplification_ratio = 2,
        .amplification_min = 16,
    };
    stats_counter counters[MEMCACHED_COUNTER_COUNT];
    memset(counters, 0, sizeof(counters));
    uint8_t mode = choose(&sched);
    struct decoder_ctx ctx = { .now_us = 1, .params = &params, .counters = counters,
                               .emit = fuzz_emit, .owner = NULL,
                               .datagram = (mode & 1) != 0, .midstream = (mode & 2) != 0 };
    if ((limits & 0x80) != 0)
        ctx.params = NULL;      /* the built-in defaults */
    if (ctx.datagram)
        ctx.midstream = 0;
    const struct decoder *d = &memcached_decoder;
    void *state = d->open(&ctx);
    if (state == NULL)
        return 0;

    size_t probe_len = client_len < DECODER_PROBE_BYTES ? client_len : DECODER_PROBE_BYTES;
    if (d->probe(data + 2, probe_len, data + 2 + client_len, 0) > PROBE_NEED_MORE)
        abort();

    struct fuzz_part parts[2] = {
        { data + 2, client_len },
        { data + 2 + client_len, size - 2 - client_len },
    };
    size_t line_bound = ctx.params != NULL ? params.line_max : 16 * CONFIG_KIB;
    size_t udp_bound = ctx.params != NULL ? params.udp_reply_max : 1024 * CONFIG_KIB;
    while (parts[0].left > 0 || parts[1].left > 0) {
        enum decoder_dir dir = (choose(&sched) & 1) ? DIR_TO_CLIENT : DIR_TO_SERVER;
        if (parts[dir].left == 0)
            dir = dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
        fuzz_step(d, state, &ctx, &sched, dir, &parts[dir]);
        if (memcached_udp_held(state) > udp_bound)
            abort();
    }
    if (memcached_held_peak(state) > (line_bound < 338 ? 338 : line_bound))
        abort();
    d->close(state, &ctx);
    return 0;
}
