/* fuzz_elasticsearch.c - libFuzzer target for the Elasticsearch observer.
 *
 * Input: 2 bytes (little-endian) = length of the client part, then the
 * client part, then the server part. The input bytes, read again from the
 * start, also drive the schedule: limits, the mode (the "elasticsearch"
 * decoder, or the observer on the plain http framer), which direction goes
 * next, piece sizes, gaps (whose lost bytes are skipped), direction ends.
 * The flow is always closed at the end, and every emitted op is checked for
 * sanity. */
#include <stdlib.h>
#include <string.h>

#include "../../decoders/elasticsearch/elasticsearch.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    (void)ctx;
    check_op_strings(op);
    bool es = op->app == APP_ELASTICSEARCH || op->app == APP_OPENSEARCH;
    if (!es && op->app != APP_HTTP)
        abort();
    if (!es && (op->items != -1 || op->total != -1 || op->op_class != OP_CLASS_UNKNOWN))
        abort();
    if (es && op->authenticated == OP_AUTH_UNKNOWN)
        abort();
    if (op->status > OP_STATUS_DENIED || op->op_class >= OP_CLASS_COUNT ||
        op->authenticated > OP_AUTH_YES)
        abort();
    if (op->items < -1 || op->total < -1 || op->page_size < -1 || op->offset < -1)
        abort();
    if (op->status_code != 0 && (op->status_code < 100 || op->status_code > 999))
        abort();
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t client_len = (size_t)data[0] | ((size_t)data[1] << 8);
    if (client_len > size - 2)
        client_len = size - 2;

    static const size_t header_max[] = { 1, 64, 300, 16384 };
    static const size_t body_max[] = { 0, 16, 300, 1 << 20 };
    struct schedule sched = { data, size, 0 };
    uint8_t limits = choose(&sched);
    struct http_params params = {
        .header_max = header_max[limits & 3],
        .pending_max = 1 + ((limits >> 2) & 7),
        .body_max = body_max[(limits >> 5) & 3],
    };
    struct stats stats;
    stats_clear(&stats);
    struct decoder_ctx ctx = {
        .now_us = 1,
        .emit = fuzz_emit,
        .owner = NULL,
    };
    decoder_ctx_bind(&ctx, &elasticsearch_decoder, &params, &stats);
    void *state = (limits & 0x80) != 0
                      ? http_open_with(&ctx, &es_observer, APP_HTTP)
                      : elasticsearch_decoder.open(&ctx);
    if (state == NULL)
        return 0;

    struct fuzz_part parts[2] = {
        { data + 2, client_len },
        { data + 2 + client_len, size - 2 - client_len },
    };
    fuzz_feed(&elasticsearch_decoder, state, &ctx, &sched, parts);
    elasticsearch_decoder.close(state, &ctx);
    return 0;
}
