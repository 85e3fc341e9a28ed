/* fuzz_couchdb.c - libFuzzer target for the CouchDB observer, alone (the
 * "couchdb" decoder) and as one of the "http" decoder's apps (the flow
 * handed between Elasticsearch, CouchDB and Solr by paths, headers and
 * banners).
 *
 * Input: 2 bytes (little-endian) = length of the client part, then the
 * client part, then the server part; the input read again from the start
 * drives the schedule (limits, mode, directions, piece sizes, gaps, ends),
 * as in fuzz_elasticsearch.c. Every op is checked for sanity. */
#include <stdlib.h>
#include <string.h>

#include "../../decoders/couchdb/couchdb.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern const struct decoder http_decoder;
static bool couch_only;

static void fuzz_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    (void)ctx;
    check_op_strings(op);
    bool known = op->app == APP_COUCHDB || op->app == APP_HTTP || op->app == APP_SOLR ||
                 op->app == APP_ELASTICSEARCH || op->app == APP_OPENSEARCH;
    if (!known || (couch_only && op->app != APP_COUCHDB))
        abort();
    if (op->app == APP_COUCHDB && op->authenticated == OP_AUTH_UNKNOWN)
        abort();                        /* ctx.midstream is 0: known either way */
    if (op->app == APP_HTTP && (op->items != -1 || op->total != -1 ||
                                op->op_class != OP_CLASS_UNKNOWN))
        abort();                        /* a plain op was reset whole */
    if (op->status > OP_STATUS_DENIED || op->op_class >= OP_CLASS_COUNT ||
        op->authenticated > OP_AUTH_YES)
        abort();
    if (op->items < -1 || op->total < -1 || op->page_size < -1 || op->offset < -1)
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
    couch_only = (limits & 0x80) == 0;
    const struct decoder *d = couch_only ? &couchdb_decoder : &http_decoder;
    struct stats stats;
    stats_clear(&stats);
    struct decoder_ctx ctx = { .now_us = 1, .emit = fuzz_emit, .owner = NULL };
    decoder_ctx_bind(&ctx, d, &params, &stats);
    void *state = d->open(&ctx);
    if (state == NULL)
        return 0;

    struct fuzz_part parts[2] = {
        { data + 2, client_len },
        { data + 2 + client_len, size - 2 - client_len },
    };
    fuzz_feed(d, state, &ctx, &sched, parts);
    d->close(state, &ctx);
    return 0;
}
