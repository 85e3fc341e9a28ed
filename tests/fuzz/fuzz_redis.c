/* fuzz_redis.c - libFuzzer target for the Redis decoder.
 *
 * Input: 2 bytes (little-endian) = length of the client part, then the
 * client part, then the server part. The input bytes, read again from the
 * start, also drive the schedule (fuzz_support.h): the limits (pending_max,
 * line_max), whether the flow started midstream, which direction goes next,
 * piece sizes, gaps (known or unknown length) and direction ends. The flow
 * is always closed at the end. Every op is checked for sanity and the
 * FIFO for staying within pending_max. */
#include <stdlib.h>
#include <string.h>

#include "../../decoders/redis/redis.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    (void)ctx;
    check_op_strings(op);
    if (op->app != APP_REDIS || op->op_class >= OP_CLASS_COUNT || op->status > OP_STATUS_DENIED ||
        op->authenticated > OP_AUTH_YES)
        abort();
    if (op->items < -1 || op->offset != -1 || op->page_size < -1)
        abort();
    /* command names are upper-cased */
    for (const char *c = op->op; *c != '\0'; c++)
        if (*c >= 'a' && *c <= 'z')
            abort();
    if (op->request_bytes == 0)
        abort();
    /* an error type is a code word, at most "ERR unknown command" */
    if (op->error_type[0] != '\0' && op->status != OP_STATUS_ERROR &&
        op->status != OP_STATUS_DENIED)
        abort();
    if ((op->flags & OP_FLAG_NO_RESPONSE) != 0 && op->status != OP_STATUS_UNKNOWN)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t client_len = (size_t)data[0] | ((size_t)data[1] << 8);
    if (client_len > size - 2)
        client_len = size - 2;

    static const size_t line_max[] = { 1, 8, 64, 65536 };
    struct schedule sched = { data, size, 0 };
    uint8_t limits = choose(&sched);
    struct redis_params params = {
        .pending_max = 1 + ((limits >> 2) & 7),
        .line_max = line_max[limits & 3],
    };
    stats_counter counters[REDIS_COUNTER_COUNT];
    memset(counters, 0, sizeof(counters));
    struct decoder_ctx ctx = { .now_us = 1, .params = &params, .counters = counters,
                               .emit = fuzz_emit, .owner = NULL };
    ctx.midstream = (limits & 0x40) != 0;
    if ((limits & 0x80) != 0)
        ctx.params = NULL;      /* the built-in defaults */
    const struct decoder *d = &redis_decoder;
    void *state = d->open(&ctx);
    if (state == NULL)
        return 0;

    size_t probe_len = client_len < DECODER_PROBE_BYTES ? client_len : DECODER_PROBE_BYTES;
    size_t server_len = size - 2 - client_len;
    size_t probe_server = server_len < DECODER_PROBE_BYTES ? server_len : DECODER_PROBE_BYTES;
    if (d->probe(data + 2, probe_len, data + 2 + client_len, probe_server) > PROBE_NEED_MORE)
        abort();

    struct fuzz_part parts[2] = {
        { data + 2, client_len },
        { data + 2 + client_len, server_len },
    };
    size_t bound = ctx.params != NULL ? params.pending_max : 1024;
    while (parts[0].left > 0 || parts[1].left > 0) {
        enum decoder_dir dir = (choose(&sched) & 1) ? DIR_TO_CLIENT : DIR_TO_SERVER;
        if (parts[dir].left == 0)
            dir = dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
        fuzz_step(d, state, &ctx, &sched, dir, &parts[dir]);
        if (redis_pending_count(state) > bound || redis_pending_capacity(state) > bound)
            abort();
    }
    d->close(state, &ctx);
    return 0;
}
