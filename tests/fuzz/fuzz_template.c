/* fuzz_template.c - libFuzzer target for the template decoder.
 *
 * Input: 2 bytes (little-endian) = length of the client part, then the
 * client part, then the server part. The input bytes, read again from the
 * start, also drive the schedule (fuzz_support.h): the limits (line_max,
 * pending_max), which direction goes next, piece sizes, gaps (known or
 * unknown length) and direction ends. The flow is always closed at the end.
 * Every emitted op is checked for sanity, AUTH ops for an empty target, and
 * the line buffers for staying within line_max. */
#include <stdlib.h>
#include <string.h>

#include "../../decoders/template/template.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    (void)ctx;
    check_op_strings(op);
    if (op->app != APP_UNKNOWN || op->op[0] == '\0')
        abort();
    if (op->status > OP_STATUS_ERROR || op->op_class >= OP_CLASS_COUNT ||
        op->authenticated != OP_AUTH_UNKNOWN)
        abort();
    if (op->items < -1 || op->total != -1 || op->page_size != -1 || op->offset != -1)
        abort();
    /* verbs are upper-cased; "reply" (an unpaired reply) is the one lower */
    if ((op->flags & OP_FLAG_UNPAIRED) != 0) {
        if (strcmp(op->op, "reply") != 0 || op->request_bytes != 0)
            abort();
    } else {
        for (const char *c = op->op; *c != '\0'; c++)
            if (*c >= 'a' && *c <= 'z')
                abort();
        if (op->request_bytes == 0)
            abort();
    }
    /* a credential never reaches the op */
    if (op->op_class == OP_CLASS_AUTH && op->target[0] != '\0')
        abort();
    if ((op->flags & OP_FLAG_NO_RESPONSE) != 0 &&
        (op->status != OP_STATUS_UNKNOWN || op->response_bytes != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t client_len = (size_t)data[0] | ((size_t)data[1] << 8);
    if (client_len > size - 2)
        client_len = size - 2;

    static const size_t line_max[] = { 1, 8, 64, 4096 };
    struct schedule sched = { data, size, 0 };
    uint8_t limits = choose(&sched);
    struct template_params params = {
        .line_max = line_max[limits & 3],
        .pending_max = 1 + ((limits >> 2) & 7),
    };
    stats_counter counters[TEMPLATE_COUNTER_COUNT];
    memset(counters, 0, sizeof(counters));
    struct decoder_ctx ctx = { .now_us = 1, .params = &params, .counters = counters,
                               .emit = fuzz_emit, .owner = NULL };
    if ((limits & 0x80) != 0)
        ctx.params = NULL;      /* the built-in defaults */
    const struct decoder *d = &template_decoder;
    void *state = d->open(&ctx);
    if (state == NULL)
        return 0;

    /* the probe sees what the classifier would give it */
    size_t probe_len = client_len < DECODER_PROBE_BYTES ? client_len : DECODER_PROBE_BYTES;
    if (d->probe(data + 2, probe_len, NULL, 0) > PROBE_NEED_MORE)
        abort();

    struct fuzz_part parts[2] = {
        { data + 2, client_len },
        { data + 2 + client_len, size - 2 - client_len },
    };
    fuzz_feed(d, state, &ctx, &sched, parts);
    size_t bound = ctx.params != NULL ? params.line_max : 4 * CONFIG_KIB;
    if (template_held_peak(state) > bound)
        abort();
    d->close(state, &ctx);
    return 0;
}
