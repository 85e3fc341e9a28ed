/* test_membudget.c - the memory budget, and every decoder under it: a
 * refused charge is recovered from (no crash, the message given up), the
 * budget is never exceeded (membudget asserts it on every charge), and a
 * closed flow gives back every byte it took. */
#include <stdlib.h>

#include "../../decoders/decoder.h"
#include "../../decoders/http/http.h"
#include "../../decoders/mongodb/mongodb.h"
#include "../../decoders/template/template.h"
#include "../../rules/window.h"
#include "../../sensor/base/membudget.h"
#include "check.h"

/* ------------------------------------------------------------ the budget */

static void test_charge_and_release(void)
{
    struct stats st;
    struct membudget b;
    stats_clear(&st);
    membudget_init(&b, 1000, &st);
    CHECK(membudget_charge(&b, 600));
    CHECK_EQ_INT(membudget_room(&b), 400);
    CHECK(!membudget_charge(&b, 401));
    CHECK_EQ_INT(stats_get(&st, STAT_MEM_BUFFERS_CUT), 1);
    CHECK(membudget_charge(&b, 400));
    CHECK_EQ_INT(membudget_room(&b), 0);
    CHECK(!membudget_charge(&b, 1));
    CHECK_EQ_INT(stats_get(&st, STAT_MEM_BUFFERS_CUT), 2);
    membudget_release(&b, 1000);
    CHECK_EQ_INT(b.used, 0);
    CHECK_EQ_INT(b.peak, 1000);
}

static void test_flows_share_the_limit(void)
{
    struct membudget b;
    membudget_init(&b, 1000, NULL);
    CHECK(membudget_set_flows(&b, 700));
    CHECK(!membudget_charge(&b, 301));
    CHECK(membudget_charge(&b, 300));
    CHECK(!membudget_set_flows(&b, 701));    /* refused: nothing set */
    CHECK_EQ_INT(b.flows, 700);
    CHECK(membudget_set_flows(&b, 100));     /* going down always fits */
    CHECK_EQ_INT(membudget_room(&b), 600);
}

static void test_realloc_refused_keeps_block(void)
{
    struct membudget b;
    membudget_init(&b, 100, NULL);
    char *p = membudget_malloc(&b, 60);
    CHECK(p != NULL);
    memset(p, 'x', 60);
    CHECK(membudget_realloc(&b, p, 60, 200) == NULL);
    CHECK_EQ_INT(b.used, 60);
    CHECK(p[59] == 'x');
    char *q = membudget_realloc(&b, p, 60, 20);   /* shrinking gives back */
    CHECK(q != NULL);
    CHECK_EQ_INT(b.used, 20);
    membudget_free(&b, q, 20);
    CHECK_EQ_INT(b.used, 0);
}

static void test_sized_blocks(void)
{
    struct membudget b;
    membudget_init(&b, 4096, NULL);
    void *p = membudget_alloc_sized(&b, 1000);
    CHECK(p != NULL);
    CHECK(b.used >= 1000 && b.used < 1100);
    CHECK(membudget_alloc_sized(&b, 4000) == NULL);
    membudget_free_sized(&b, p);
    CHECK_EQ_INT(b.used, 0);
}

static void test_null_budget_is_unlimited(void)
{
    CHECK(membudget_charge(NULL, (size_t)1 << 40));
    membudget_release(NULL, (size_t)1 << 40);
    void *p = membudget_malloc(NULL, 16);
    CHECK(p != NULL);
    membudget_free(NULL, p, 16);
}

/* ------------------------------------------------------------ decoders */

struct drive {
    struct decoder_ctx ctx;
    struct stats stats;
    struct membudget budget;
    size_t ops, partial;
};

static void drive_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    struct drive *d = ctx->owner;
    d->ops++;
    d->partial += (op->flags & OP_FLAG_PARTIAL) != 0;
}

/* One flow of decoder `dec` under a budget of `limit` bytes: the client's
 * bytes, then the server's, each in pieces of `piece`; then the close. */
static void drive_flow(struct drive *d, const struct decoder *dec, size_t limit,
                       const uint8_t *to_server, size_t ts_len,
                       const uint8_t *to_client, size_t tc_len, size_t piece)
{
    memset(d, 0, sizeof(*d));
    membudget_init(&d->budget, limit, &d->stats);
    decoder_ctx_bind(&d->ctx, dec, NULL, &d->stats);
    d->ctx.emit = drive_emit;
    d->ctx.owner = d;
    d->ctx.now_us = 1;
    d->ctx.budget = &d->budget;
    void *state = dec->open(&d->ctx);
    if (state == NULL)
        return;                         /* refused at open: not decoded */
    const uint8_t *bufs[2] = { to_server, to_client };
    size_t lens[2] = { ts_len, tc_len };
    for (int dir = 0; dir < 2; dir++)
        for (size_t off = 0; off < lens[dir]; off += piece) {
            size_t n = lens[dir] - off < piece ? lens[dir] - off : piece;
            d->ctx.now_us++;
            dec->data(state, &d->ctx, (enum decoder_dir)dir, bufs[dir] + off, n);
        }
    dec->close(state, &d->ctx);
}

/* Appends s to buf at *len (the caller sized buf). */
static void put(uint8_t *buf, size_t *len, const char *s)
{
    size_t n = strlen(s);
    memcpy(buf + *len, s, n);
    *len += n;
}

static void put_le32(uint8_t *buf, size_t *len, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        buf[(*len)++] = (uint8_t)(v >> (8 * i));
}

/* A 15 KiB request head that ends, then `more` pipelined requests. */
static size_t http_client(uint8_t *buf, int more)
{
    size_t n = 0;
    put(buf, &n, "GET /big HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < 300; i++)
        put(buf, &n, "X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    put(buf, &n, "\r\n");
    for (int i = 0; i < more; i++)
        put(buf, &n, "GET /i HTTP/1.1\r\nHost: h\r\n\r\n");
    return n;
}

static size_t http_server(uint8_t *buf, int count)
{
    size_t n = 0;
    for (int i = 0; i < count; i++)
        put(buf, &n, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    return n;
}

/* MongoDB: an OP_COMPRESSED (snappy) announcing 15 MiB, with 256 KiB of
 * its payload sent. */
static size_t mongo_client(uint8_t *buf)
{
    size_t n = 0, payload = 256 * 1024;
    put_le32(buf, &n, (uint32_t)(16 + 9 + payload));
    put_le32(buf, &n, 1);                   /* requestID */
    put_le32(buf, &n, 0);                   /* responseTo */
    put_le32(buf, &n, 2012);                /* OP_COMPRESSED */
    put_le32(buf, &n, 2013);                /* originalOpcode: OP_MSG */
    put_le32(buf, &n, 15u << 20);           /* uncompressedSize */
    buf[n++] = 1;                           /* snappy */
    memset(buf + n, 0x41, payload);
    return n + payload;
}

/* Redis: 2000 pipelined GETs and one 40 KiB inline line. */
static size_t redis_client(uint8_t *buf)
{
    size_t n = 0;
    for (int i = 0; i < 2000; i++)
        put(buf, &n, "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
    for (int i = 0; i < 40 * 1024; i++)
        buf[n++] = 'a';
    return n;
}

/* memcached: 2000 pipelined gets and a value announced larger than sent. */
static size_t memcached_client(uint8_t *buf)
{
    size_t n = 0;
    for (int i = 0; i < 2000; i++)
        put(buf, &n, "get key\r\n");
    put(buf, &n, "set k 0 0 1000000\r\n");
    memset(buf + n, 'v', 30000);
    return n + 30000;
}

/* Cassandra v4: a QUERY frame announcing 1 MB, 64 KiB of it sent. */
static size_t cassandra_client(uint8_t *buf)
{
    size_t n = 0;
    const uint8_t head[9] = { 0x04, 0x00, 0x00, 0x01, 0x07, 0x00, 0x10, 0x00, 0x00 };
    memcpy(buf, head, sizeof(head));
    n = sizeof(head);
    memset(buf + n, 'q', 64 * 1024);
    return n + 64 * 1024;
}

#define BUF_BYTES (1024 * 1024)

/* Every decoder, under budgets from nothing to plenty, fed in large and
 * tiny pieces: it never crashes, the budget never goes over (asserted in
 * membudget), and closing gives everything back. */
static void test_decoders_under_every_budget(void)
{
    static const size_t limits[] = { 0, 64, 512, 2048, 8192, 32768, 131072, 1 << 20, 64 << 20 };
    static const size_t pieces[] = { 1460, 7 };
    uint8_t *client = malloc(BUF_BYTES), *server = malloc(BUF_BYTES);
    struct drive *d = malloc(sizeof(*d));
    CHECK(client && server && d);
    if (!client || !server || !d)
        return;
    size_t server_len = http_server(server, 101);
    for (const struct decoder *const *dec = decoder_all(); *dec; dec++) {
        const char *name = (*dec)->name;
        size_t len;
        if (strcmp(name, "mongodb") == 0)
            len = mongo_client(client);
        else if (strcmp(name, "redis") == 0)
            len = redis_client(client);
        else if (strcmp(name, "memcached") == 0)
            len = memcached_client(client);
        else if (strcmp(name, "cassandra") == 0)
            len = cassandra_client(client);
        else
            len = http_client(client, 100);
        for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++)
            for (size_t p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
                drive_flow(d, *dec, limits[l], client, len, server, server_len, pieces[p]);
                if (d->budget.used != 0)
                    fprintf(stderr, "%s: limit %zu piece %zu: %zu bytes not given back\n",
                            name, limits[l], pieces[p], d->budget.used);
                CHECK_EQ_INT(d->budget.used, 0);
                CHECK(d->budget.peak <= limits[l]);
            }
    }
    free(client);
    free(server);
    free(d);
}

/* HTTP: a head that does not fit the budget is given up like one cut by a
 * gap: its op leaves partial, the refusal is counted, the next requests
 * are decoded. */
static void test_http_head_refused(void)
{
    uint8_t *client = malloc(BUF_BYTES), *server = malloc(BUF_BYTES);
    struct drive *d = malloc(sizeof(*d));
    CHECK(client && server && d);
    if (!client || !server || !d)
        return;
    size_t len = http_client(client, 0), server_len = http_server(server, 1);
    drive_flow(d, &http_plain_decoder, 64 << 20, client, len, server, server_len, 1460);
    CHECK_EQ_INT(d->ops, 1);
    CHECK_EQ_INT(d->partial, 0);
    CHECK_EQ_INT(stats_get(&d->stats, STAT_MEM_BUFFERS_CUT), 0);
    size_t roomy_peak = d->budget.peak;
    /* room for the flow and its first buffers, not for a 15 KiB head */
    drive_flow(d, &http_plain_decoder, roomy_peak - 8192, client, len, server, server_len,
               1460);
    CHECK_EQ_INT(stats_get(&d->stats, STAT_MEM_BUFFERS_CUT), 1);
    CHECK_EQ_INT(d->partial, 1);
    CHECK_EQ_INT(d->ops, 1);
    CHECK_EQ_INT(decoder_counter_get(&d->stats, &http_plain_decoder,
                                     HTTP_COUNTER_HEADER_TOO_LARGE), 0);
    CHECK_EQ_INT(d->budget.used, 0);
    free(client);
    free(server);
    free(d);
}

/* MongoDB: a snappy payload the budget cannot hold is a cut (counted), not
 * a decompression error; the message's op still leaves, partial. */
static void test_mongodb_payload_refused(void)
{
    uint8_t *client = malloc(BUF_BYTES);
    struct drive *d = malloc(sizeof(*d));
    CHECK(client && d);
    if (!client || !d)
        return;
    size_t len = mongo_client(client);
    const struct decoder *mongo = decoder_find("mongodb");
    drive_flow(d, mongo, 64 * 1024, client, len, NULL, 0, 1460);
    CHECK(stats_get(&d->stats, STAT_MEM_BUFFERS_CUT) >= 1);
    CHECK_EQ_INT(decoder_counter_get(&d->stats, mongo, MONGODB_COUNTER_DECOMPRESS_ERRORS), 0);
    CHECK_EQ_INT(d->ops, 1);
    CHECK_EQ_INT(d->partial, 1);
    CHECK_EQ_INT(d->budget.used, 0);
    free(client);
    free(d);
}

/* Rule windows: keys beyond the budget push the least recently updated
 * out (counted as evictions) rather than going over or failing. */
static void test_window_keys_under_budget(void)
{
    struct membudget b;
    membudget_init(&b, 64 * 1024, NULL);
    struct window_table *t = window_table_new(100000, 60000000, 64);
    CHECK(t != NULL);
    if (!t)
        return;
    window_table_set_budget(t, &b);
    struct window_stats out;
    char key[32], item[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "client-%d", i);
        snprintf(item, sizeof(item), "index-%d", i);
        CHECK_EQ_INT(window_add(t, key, strlen(key), 1000 + (uint64_t)i, 1, item,
                                strlen(item), &out), 0);
        CHECK_EQ_INT(out.count, 1);
    }
    CHECK(window_table_evictions(t) > 900);
    CHECK(window_table_keys(t) > 0 && window_table_keys(t) < 100);
    CHECK(b.peak <= 64 * 1024);
    /* the newest key is still there, with its count */
    CHECK_EQ_INT(window_add(t, key, strlen(key), 5000, 1, NULL, 0, &out), 0);
    CHECK_EQ_INT(out.count, 2);
    window_table_free(t);
    CHECK_EQ_INT(b.used, 0);
}

int main(void)
{
    check_binary = "membudget";
    RUN(test_charge_and_release);
    RUN(test_flows_share_the_limit);
    RUN(test_realloc_refused_keeps_block);
    RUN(test_sized_blocks);
    RUN(test_null_budget_is_unlimited);
    RUN(test_decoders_under_every_budget);
    RUN(test_http_head_refused);
    RUN(test_mongodb_payload_refused);
    RUN(test_window_keys_under_budget);
    CHECK_EXIT();
}
