/* test_registry.c - the decoders as the core sees them: names, counters,
 * settings, nDPI claims and probes, read only through the registry. */
#include "../../decoders/decoder.h"
#include "../../decoders/http/http.h"
#include "../../decoders/mongodb/mongodb.h"
#include "../../sensor/stats_names.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static void test_names_unique_and_found(void)
{
    const struct decoder *const *all = decoder_all();
    size_t n = 0;
    for (; all[n]; n++) {
        CHECK(decoder_find(all[n]->name) == all[n]);
        CHECK_EQ_INT(decoder_index(all[n]), n);
        for (size_t j = 0; j < n; j++)
            CHECK(strcmp(all[j]->name, all[n]->name) != 0);
        CHECK(all[n]->open && all[n]->data && all[n]->gap && all[n]->end && all[n]->close);
    }
    CHECK(n >= 3 && n <= DECODERS_MAX);
    CHECK(decoder_find("nosuchdb") == NULL);
    CHECK(decoder_find(NULL) == NULL);
    CHECK_EQ_INT(decoder_index(&http_plain_decoder), DECODERS_MAX);
}

/* Every reported stats slot has a name of the form group.name, and no two
 * slots share one: a counter added to a decoder shows up exactly once. */
static void test_stats_slot_names_unique(void)
{
    static char names[STATS_SLOTS][96];
    size_t named = 0;
    for (unsigned i = 0; i < STATS_SLOTS; i++) {
        char name[96];
        if (!stats_slot_name(i, name, sizeof(name)))
            continue;
        CHECK(strchr(name, '.') != NULL);
        for (size_t j = 0; j < named; j++)
            if (strcmp(names[j], name) == 0) {
                fprintf(stderr, "duplicate stats name %s\n", name);
                CHECK(0);
            }
        memcpy(names[named++], name, sizeof(name));
    }
    CHECK(named > STAT_COUNT);
    char name[96];
    CHECK(stats_slot_name(STATS_OPS_BASE + APP_MONGODB, name, sizeof(name)));
    CHECK_EQ_STR(name, "ops.mongodb");
    CHECK(stats_slot_name(STATS_NO_DECODER_BASE + APP_REDIS, name, sizeof(name)));
    CHECK_EQ_STR(name, "no_decoder.redis");
    CHECK(!stats_slot_name(STATS_NO_DECODER_BASE + APP_HTTP, name, sizeof(name)));
    CHECK(!stats_slot_name(STATS_SLOTS - 1, name, sizeof(name)));
}

/* Decoders that share the framer share its counters: a malformed head is
 * one "http.malformed" whichever decoder ran the framer. */
static void test_shared_counters(void)
{
    const struct decoder *http = decoder_find("http");
    const struct decoder *es = decoder_find("elasticsearch");
    const struct decoder *mongo = decoder_find("mongodb");
    CHECK(http && es && mongo);
    if (!http || !es || !mongo)
        return;
    CHECK_EQ_INT(decoder_counter_slot(http), decoder_counter_slot(es));
    CHECK_EQ_INT(decoder_counter_slot(&http_plain_decoder), decoder_counter_slot(http));
    CHECK(decoder_counter_slot(mongo) != decoder_counter_slot(http));
    char name[96];
    CHECK(decoder_counter_name(decoder_counter_slot(http) + HTTP_COUNTER_RESYNC, name,
                               sizeof(name)));
    CHECK_EQ_STR(name, "http.resync");
    CHECK(decoder_counter_name(decoder_counter_slot(mongo) + MONGODB_COUNTER_TOO_LARGE, name,
                               sizeof(name)));
    CHECK_EQ_STR(name, "mongodb.too_large");

    struct stats stats;
    stats_clear(&stats);
    struct decoder_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    decoder_ctx_bind(&ctx, es, NULL, &stats);
    decoder_count(&ctx, HTTP_COUNTER_MALFORMED);
    decoder_ctx_bind(&ctx, http, NULL, &stats);
    decoder_count_add(&ctx, HTTP_COUNTER_MALFORMED, 2);
    CHECK_EQ_INT(decoder_counter_get(&stats, http, HTTP_COUNTER_MALFORMED), 3);
    CHECK_EQ_INT(decoder_counter_get(&stats, mongo, MONGODB_COUNTER_MALFORMED), 0);
    /* Unbound: counting is a no-op, never a crash. */
    ctx.counters = NULL;
    decoder_count(&ctx, HTTP_COUNTER_MALFORMED);
}

static void test_default_params_from_keys(void)
{
    const struct http_params *hp = decoder_default_params(decoder_find("http"));
    CHECK(hp != NULL);
    if (hp) {
        CHECK_EQ_INT(hp->header_max, 16 * 1024);
        CHECK_EQ_INT(hp->pending_max, 64);
        CHECK_EQ_INT(hp->body_max, 256u * 1024 * 1024);
    }
    /* Elasticsearch runs the same framer: same settings, same defaults. */
    const struct http_params *ep = decoder_default_params(decoder_find("elasticsearch"));
    CHECK(ep != NULL && hp != NULL && memcmp(ep, hp, sizeof(*hp)) == 0);
    const struct mongodb_params *mp = decoder_default_params(decoder_find("mongodb"));
    CHECK(mp != NULL);
    if (mp) {
        CHECK_EQ_INT(mp->message_max, 48u * 1024 * 1024);
        CHECK_EQ_INT(mp->pending_max, 64);
    }
}

static void test_ndpi_claims(void)
{
    CHECK(decoder_for_ndpi_name("HTTP") == decoder_find("http"));
    CHECK(decoder_for_ndpi_name("http_proxy") == decoder_find("http"));
    CHECK(decoder_for_ndpi_name("MongoDB") == decoder_find("mongodb"));
    CHECK(decoder_for_ndpi_name("HTTP_Connect") == NULL);
    CHECK(decoder_for_ndpi_name(NULL) == NULL);
    CHECK_EQ_INT(app_from_ndpi_name("Redis"), APP_REDIS);
    CHECK_EQ_INT(app_from_ndpi_name("MsSQL-TDS"), APP_MSSQL);
    CHECK_EQ_INT(app_from_ndpi_name("TLS"), APP_UNKNOWN);
    CHECK(app_is_database(APP_REDIS));
    CHECK(!app_is_database(APP_HTTP));
    CHECK_EQ_INT(app_from_name("opensearch"), APP_OPENSEARCH);
    CHECK_EQ_STR(app_name(APP_COUNT), "unknown");
}

static enum probe_result probe_str(enum probe_result (*probe)(const uint8_t *, size_t,
                                                              const uint8_t *, size_t),
                                   const char *to_server, const char *to_client)
{
    return probe((const uint8_t *)to_server, strlen(to_server),
                 (const uint8_t *)to_client, strlen(to_client));
}

static void test_http_probe(void)
{
    CHECK_EQ_INT(probe_str(http_probe, "GET /_cat/indices HTTP/1.1\r\n", ""), PROBE_YES);
    CHECK_EQ_INT(probe_str(http_probe, "POST /x/_search HTTP/1.0\n", ""), PROBE_YES);
    CHECK_EQ_INT(probe_str(http_probe, "GE", ""), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe_str(http_probe, "GET /_cat/ind", ""), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe_str(http_probe, "", ""), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe_str(http_probe, "\x16\x03\x01\x02", ""), PROBE_NO);
    CHECK_EQ_INT(probe_str(http_probe, "GETX / HTTP/1.1\r\n", ""), PROBE_NO);
    CHECK_EQ_INT(probe_str(http_probe, "CONNECT a:443 HTTP/1.1\r\n", ""), PROBE_NO);
    CHECK_EQ_INT(probe_str(http_probe, "GET / SMTP\r\n", ""), PROBE_NO);
    CHECK_EQ_INT(probe_str(http_probe, "", "HTTP/1.1 200 OK\r\n"), PROBE_YES);
    CHECK_EQ_INT(probe_str(http_probe, "", "HTTP/"), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe_str(http_probe, "", "+PONG\r\n"), PROBE_NO);
}

/* A MongoDB message header: length, requestID, responseTo, opCode. */
static size_t mongo_header(uint8_t *out, uint32_t length, uint32_t response_to,
                           uint32_t opcode)
{
    uint32_t v[4] = { length, 7, response_to, opcode };
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            out[i * 4 + b] = (uint8_t)(v[i] >> (8 * b));
    return 16;
}

static void test_mongodb_probe(void)
{
    uint8_t h[16];
    mongo_header(h, 200, 0, 2013);
    CHECK_EQ_INT(mongodb_probe(h, 16, NULL, 0), PROBE_YES);
    CHECK_EQ_INT(mongodb_probe(h, 10, NULL, 0), PROBE_NEED_MORE);
    mongo_header(h, 200, 0, 2004);   /* OP_QUERY: nmap, old drivers */
    CHECK_EQ_INT(mongodb_probe(h, 16, NULL, 0), PROBE_YES);
    mongo_header(h, 200, 0, 7);      /* no such opcode */
    CHECK_EQ_INT(mongodb_probe(h, 16, NULL, 0), PROBE_NO);
    mongo_header(h, 8, 0, 2013);     /* shorter than its own header */
    CHECK_EQ_INT(mongodb_probe(h, 16, NULL, 0), PROBE_NO);
    mongo_header(h, 200, 5, 2013);   /* a request answers nothing */
    CHECK_EQ_INT(mongodb_probe(h, 16, NULL, 0), PROBE_NO);
    CHECK_EQ_INT(probe_str(mongodb_probe, "GET / HTTP/1.1\r\n", ""), PROBE_NO);
    CHECK_EQ_INT(mongodb_probe(NULL, 0, NULL, 0), PROBE_NEED_MORE);
    mongo_header(h, 300, 7, 2013);   /* picked up mid-stream: a reply */
    CHECK_EQ_INT(mongodb_probe(NULL, 0, h, 16), PROBE_YES);
}

int main(void)
{
    check_binary = "test_registry";
    RUN(test_names_unique_and_found);
    RUN(test_stats_slot_names_unique);
    RUN(test_shared_counters);
    RUN(test_default_params_from_keys);
    RUN(test_ndpi_claims);
    RUN(test_http_probe);
    RUN(test_mongodb_probe);
    CHECK_EXIT();
}
