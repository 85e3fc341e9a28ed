/* fuzz_budget.c - libFuzzer target: any registered decoder under a memory
 * budget that refuses at any moment.
 *
 * Input: byte 0 picks the decoder (registry order), byte 1 the budget (0 to
 * 255 * 256 bytes), bytes 2-3 (little-endian) the length of the client
 * part; then the client part and the server part. The input read again
 * from the start drives the schedule (directions, piece sizes, gaps, ends)
 * as in the other targets. A refusal must be recovered from; the budget
 * must never go over (membudget asserts it) and the close must give back
 * every byte the flow took. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    (void)ctx;
    check_op_strings(op);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    const struct decoder *const *all = decoder_all();
    size_t count = 0;
    while (all[count] != NULL)
        count++;
    const struct decoder *d = all[data[0] % count];
    size_t limit = (size_t)data[1] * 256;
    size_t client_len = (size_t)data[2] | ((size_t)data[3] << 8);
    if (client_len > size - 4)
        client_len = size - 4;

    struct stats stats;
    stats_clear(&stats);
    struct membudget budget;
    membudget_init(&budget, limit, &stats);
    struct decoder_ctx ctx = { .now_us = 1, .emit = fuzz_emit, .owner = NULL };
    decoder_ctx_bind(&ctx, d, NULL, &stats);
    ctx.budget = &budget;
    ctx.midstream = (data[0] & 0x80) != 0;
    void *state = d->open(&ctx);
    if (state == NULL) {
        if (budget.used != 0)
            abort();
        return 0;
    }
    struct schedule sched = { data, size, 0 };
    struct fuzz_part parts[2] = {
        { data + 4, client_len },
        { data + 4 + client_len, size - 4 - client_len },
    };
    fuzz_feed(d, state, &ctx, &sched, parts);
    d->close(state, &ctx);
    if (budget.used != 0 || budget.peak > limit)
        abort();
    return 0;
}
