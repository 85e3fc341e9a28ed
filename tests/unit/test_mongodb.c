/* test_mongodb.c - the MongoDB decoder: framing, pairing, ops, compression,
 * authentication, legacy opcodes, gaps, limits; every split point. */
#include <stdlib.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "../../decoders/mongodb/bson.h"
#include "../../decoders/mongodb/mongodb.h"
#include "../../decoders/mongodb/mongodb_compressed.h"
#include "bson_build.h"
#include "check.h"

/* ------------------------------------------------------------ harness */

#define MAX_OPS 64

struct harness {
    struct decoder_ctx ctx;
    struct mongodb_params params;
    struct stats stats;
    struct op_record ops[MAX_OPS];
    size_t n;
    void *state;
};

static void h_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    struct harness *h = ctx->owner;
    if (h->n < MAX_OPS)
        h->ops[h->n] = *op;
    h->n++;
}

static void h_open(struct harness *h)
{
    memset(h, 0, sizeof(*h));
    h->params.pending_max = 16;
    h->params.message_max = 48u << 20;
    h->params.compressed_max = 16u << 20;
    h->params.decompressed_max = 48u << 20;
    decoder_ctx_bind(&h->ctx, &mongodb_decoder, &h->params, &h->stats);
    h->ctx.emit = h_emit;
    h->ctx.owner = h;
    h->ctx.now_us = 1000;
    h->state = mongodb_decoder.open(&h->ctx);
}

static void h_feed(struct harness *h, enum decoder_dir dir, const uint8_t *p, size_t n)
{
    h->ctx.now_us++;
    mongodb_decoder.data(h->state, &h->ctx, dir, p, n);
}

static void h_close(struct harness *h)
{
    mongodb_decoder.close(h->state, &h->ctx);
    h->state = NULL;
}

static uint64_t stat_of(struct harness *h, enum mongodb_counter id)
{
    return decoder_counter_get(&h->stats, &mongodb_decoder, id);
}

static bool has_flag(const struct op_record *op, uint32_t f)
{
    return (op->flags & f) != 0;
}

static const char *hash_of(int64_t id)
{
    static char out[OP_CONT_MAX];
    mongo_cursor_hash(id, out);
    return out;
}

/* ------------------------------------------------------------ messages */

static uint8_t *cli_buf, *srv_buf, *tmp_buf;

static size_t msg_begin(struct bb *b, int32_t rid, int32_t resp, uint32_t flags)
{
    size_t at = bb_msg_begin(b, rid, resp, MONGO_OP_MSG);
    bb_i32(b, (int32_t)flags);
    bb_u8(b, 0);          /* section kind 0 */
    return at;
}

static void hello_request(struct bb *b, int32_t rid, const char *app)
{
    size_t at = msg_begin(b, rid, 0, 0);
    bb_open(b, 0, NULL);
    bb_int32(b, "hello", 1);
    bb_open(b, 0x03, "client");
    if (app) {
        bb_open(b, 0x03, "application");
        bb_string(b, "name", app);
        bb_close(b);
    }
    bb_open(b, 0x03, "driver");
    bb_string(b, "name", "nodejs");
    bb_string(b, "version", "6.12.0");
    bb_close(b);
    bb_open(b, 0x03, "os");
    bb_string(b, "type", "Linux");
    bb_close(b);
    bb_close(b);
    bb_string(b, "$db", "admin");
    bb_close(b);
    bb_msg_end(b, at);
}

static void ok_reply(struct bb *b, int32_t rid, int32_t resp)
{
    size_t at = msg_begin(b, rid, resp, 0);
    bb_open(b, 0, NULL);
    bb_bool(b, "isWritablePrimary", 1);
    bb_double(b, "ok", 1.0);
    bb_close(b);
    bb_msg_end(b, at);
}

static void find_request(struct bb *b, int32_t rid, const char *coll, int32_t batch, bool empty)
{
    size_t at = msg_begin(b, rid, 0, 0);
    bb_open(b, 0, NULL);
    bb_string(b, "find", coll);
    bb_open(b, 0x03, "filter");
    if (!empty)
        bb_int32(b, "age", 3);
    bb_close(b);
    bb_int32(b, "batchSize", batch);
    bb_open(b, 0x03, "lsid");
    bb_binary(b, "id", "0123456789abcdef", 16);
    bb_close(b);
    bb_string(b, "$db", "shop");
    bb_close(b);
    bb_msg_end(b, at);
}

static void getmore_request(struct bb *b, int32_t rid, int64_t id, const char *coll,
                            int32_t batch, uint32_t flags)
{
    size_t at = msg_begin(b, rid, 0, flags);
    bb_open(b, 0, NULL);
    bb_int64(b, "getMore", id);
    bb_string(b, "collection", coll);
    bb_int32(b, "batchSize", batch);
    bb_string(b, "$db", "shop");
    bb_close(b);
    bb_msg_end(b, at);
}

static void cursor_reply(struct bb *b, int32_t rid, int32_t resp, uint32_t flags, bool first,
                         int docs, int64_t id)
{
    size_t at = msg_begin(b, rid, resp, flags);
    bb_open(b, 0, NULL);
    bb_open(b, 0x03, "cursor");
    bb_open(b, 0x04, first ? "firstBatch" : "nextBatch");
    for (int i = 0; i < docs; i++) {
        char k[16];
        snprintf(k, sizeof(k), "%d", i);
        bb_open(b, 0x03, k);
        bb_int32(b, "_id", i);
        bb_string(b, "name", "customer");
        /* a document field named like reply fields: must not be read */
        bb_double(b, "ok", 0.0);
        bb_int32(b, "code", 13);
        bb_close(b);
    }
    bb_close(b);
    bb_int64(b, "id", id);
    bb_string(b, "ns", "shop.customers");
    bb_close(b);
    bb_double(b, "ok", 1.0);
    bb_close(b);
    bb_msg_end(b, at);
}

static void error_reply(struct bb *b, int32_t rid, int32_t resp, int32_t code, const char *name)
{
    size_t at = msg_begin(b, rid, resp, 0);
    bb_open(b, 0, NULL);
    bb_double(b, "ok", 0.0);
    bb_string(b, "errmsg", "no");
    bb_int32(b, "code", code);
    bb_string(b, "codeName", name);
    bb_close(b);
    bb_msg_end(b, at);
}

static void sasl_request(struct bb *b, int32_t rid, bool start)
{
    size_t at = msg_begin(b, rid, 0, 0);
    bb_open(b, 0, NULL);
    bb_int32(b, start ? "saslStart" : "saslContinue", 1);
    if (start)
        bb_string(b, "mechanism", "SCRAM-SHA-256");
    bb_binary(b, "payload", "n,,n=alice,r=abc", 16);
    bb_string(b, "$db", "admin");
    bb_close(b);
    bb_msg_end(b, at);
}

static void sasl_reply(struct bb *b, int32_t rid, int32_t resp, bool done)
{
    size_t at = msg_begin(b, rid, resp, 0);
    bb_open(b, 0, NULL);
    bb_int32(b, "conversationId", 1);
    bb_bool(b, "done", done);
    bb_binary(b, "payload", "r=abcdef", 8);
    bb_double(b, "ok", 1.0);
    bb_close(b);
    bb_msg_end(b, at);
}

/* OP_QUERY on ns with the given command (name:1) or, for a collection, an
 * empty or non-empty filter. */
static void query_request(struct bb *b, int32_t rid, const char *ns, const char *command,
                          bool with_client, int32_t nret)
{
    size_t at = bb_msg_begin(b, rid, 0, MONGO_OP_QUERY);
    bb_i32(b, 0);
    bb_cstr(b, ns);
    bb_i32(b, 0);
    bb_i32(b, nret);
    bb_open(b, 0, NULL);
    if (command)
        bb_int32(b, command, 1);
    if (with_client) {
        bb_open(b, 0x03, "client");
        bb_open(b, 0x03, "driver");
        bb_string(b, "name", "PyMongo");
        bb_string(b, "version", "3.11.0");
        bb_close(b);
        bb_close(b);
    }
    bb_close(b);
    bb_msg_end(b, at);
}

static void op_reply(struct bb *b, int32_t rid, int32_t resp, int32_t flags, int64_t cursor, int docs)
{
    size_t at = bb_msg_begin(b, rid, resp, MONGO_OP_REPLY);
    bb_i32(b, flags);
    bb_i64(b, cursor);
    bb_i32(b, 0);
    bb_i32(b, docs);
    for (int i = 0; i < docs; i++) {
        bb_open(b, 0, NULL);
        bb_int32(b, "_id", i);
        bb_double(b, "ok", 0.0);
        bb_close(b);
    }
    bb_msg_end(b, at);
}

/* Rewrites the message at b->buf[at..] as OP_COMPRESSED with `compressor`. */
static void compress_last(struct bb *b, size_t at, uint8_t compressor)
{
    size_t len = b->len - at;
    size_t body = len - 16;
    int32_t rid = bson_i32(b->buf + at + 4), resp = bson_i32(b->buf + at + 8);
    int32_t opcode = bson_i32(b->buf + at + 12);
    memcpy(tmp_buf, b->buf + at + 16, body);
    uint8_t *out = tmp_buf + body;
    size_t clen = 0;
    if (compressor == MONGO_ZLIB) {
        uLongf n = compressBound((uLong)body);
        compress2(out, &n, tmp_buf, (uLong)body, 6);
        clen = n;
    } else if (compressor == MONGO_ZSTD) {
        clen = ZSTD_compress(out, ZSTD_compressBound(body), tmp_buf, body, 3);
    } else if (compressor == MONGO_SNAPPY) {
        clen = snappy_max_compressed_length(body);
        snappy_compress((const char *)tmp_buf, body, (char *)out, &clen);
    } else {
        memcpy(out, tmp_buf, body);
        clen = body;
    }
    b->len = at;
    size_t m = bb_msg_begin(b, rid, resp, MONGO_OP_COMPRESSED);
    bb_i32(b, opcode);
    bb_i32(b, (int32_t)body);
    bb_u8(b, compressor);
    bb_raw(b, out, clen);
    bb_msg_end(b, m);
}

/* A conversation: hello, find (3 of batch 2... server sends 3), getMore. */
static void conversation(struct bb *c, struct bb *s)
{
    hello_request(c, 1, "dumper");
    ok_reply(s, 100, 1);
    find_request(c, 2, "customers", 3, true);
    cursor_reply(s, 101, 2, 0, true, 3, 42);
    getmore_request(c, 3, 42, "customers", 3, 0);
    cursor_reply(s, 102, 3, 0, false, 2, 0);
}

static void check_conversation_ops(struct harness *h)
{
    CHECK_EQ_INT(h->n, 3);
    if (h->n < 3)
        return;
    struct op_record *hello = &h->ops[0], *find = &h->ops[1], *more = &h->ops[2];
    CHECK_EQ_INT(hello->app, APP_MONGODB);
    CHECK_EQ_STR(hello->op, "hello");
    CHECK_EQ_INT(hello->op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_STR(hello->client_id, "dumper (nodejs 6.12.0; Linux)");
    CHECK_EQ_INT(hello->status, OP_STATUS_OK);
    CHECK_EQ_STR(find->op, "find");
    CHECK_EQ_INT(find->op_class, OP_CLASS_READ);
    CHECK_EQ_STR(find->target, "shop.customers");
    CHECK(has_flag(find, OP_FLAG_MATCH_ALL));
    CHECK(!has_flag(find, OP_FLAG_CONTINUES));
    CHECK_EQ_INT(find->page_size, 3);
    CHECK_EQ_INT(find->items, 3);
    CHECK_EQ_STR(find->cursor_out, hash_of(42));
    CHECK_EQ_STR(find->continuation, "");
    CHECK_EQ_INT(find->authenticated, OP_AUTH_NO);
    CHECK_EQ_STR(find->client_id, "dumper (nodejs 6.12.0; Linux)");
    CHECK_EQ_INT(find->status, OP_STATUS_OK);
    CHECK_EQ_STR(more->op, "getMore");
    CHECK(has_flag(more, OP_FLAG_CONTINUES));
    CHECK_EQ_STR(more->continuation, hash_of(42));
    CHECK_EQ_STR(more->cursor_out, "");
    CHECK_EQ_INT(more->items, 2);
    CHECK_EQ_STR(more->target, "shop.customers");
    for (size_t i = 0; i < 3; i++) {
        CHECK(!has_flag(&h->ops[i], OP_FLAG_PARTIAL | OP_FLAG_UNPAIRED | OP_FLAG_NO_RESPONSE |
                                        OP_FLAG_LEGACY_OPCODE));
        CHECK(h->ops[i].request_bytes > 16);
        CHECK(h->ops[i].response_bytes > 16);
    }
}

/* ------------------------------------------------------------ tests */

static void test_header(void)
{
    uint8_t hdr[16];
    struct bb b = { hdr, 0, {0}, 0 };
    bb_msg_begin(&b, 7, 9, MONGO_OP_MSG);
    bb_patch32(&b, 0, 21);
    struct mongo_header h;
    CHECK_EQ_INT(mongo_parse_header(hdr, 15, 1000, &h), 0);
    CHECK_EQ_INT(mongo_parse_header(hdr, 16, 1000, &h), 16);
    CHECK_EQ_INT(h.length, 21);
    CHECK_EQ_INT(h.request_id, 7);
    CHECK_EQ_INT(h.response_to, 9);
    CHECK_EQ_INT(h.opcode, 2013);
    CHECK_EQ_INT(mongo_parse_header(hdr, 16, 20, &h), -1);      /* over the max */
    bb_patch32(&b, 0, 15);
    CHECK_EQ_INT(mongo_parse_header(hdr, 16, 1000, &h), -1);    /* under 16 */
    bb_patch32(&b, 0, 21);
    bb_patch32(&b, 12, 2010);                                   /* OP_COMMAND: unknown */
    CHECK_EQ_INT(mongo_parse_header(hdr, 16, 1000, &h), -1);
}

static void test_decompress(void)
{
    static const char text[] = "a document body, a document body, a document body";
    size_t n = sizeof(text);
    uint8_t out[256], comp[256];
    CHECK_EQ_INT(mongo_decompress(MONGO_NOOP, (const uint8_t *)text, n, out, n), 0);
    CHECK(memcmp(out, text, n) == 0);
    uLongf zl = sizeof(comp);
    compress2(comp, &zl, (const uint8_t *)text, n, 6);
    CHECK_EQ_INT(mongo_decompress(MONGO_ZLIB, comp, zl, out, n), 0);
    CHECK(memcmp(out, text, n) == 0);
    CHECK_EQ_INT(mongo_decompress(MONGO_ZLIB, comp, zl, out, n - 1), -1);   /* size lies */
    CHECK_EQ_INT(mongo_decompress(MONGO_ZLIB, comp, zl - 3, out, n), -1);   /* cut */
    size_t zs = ZSTD_compress(comp, sizeof(comp), text, n, 3);
    CHECK_EQ_INT(mongo_decompress(MONGO_ZSTD, comp, zs, out, n), 0);
    CHECK(memcmp(out, text, n) == 0);
    CHECK_EQ_INT(mongo_decompress(MONGO_ZSTD, comp, zs, out, n + 1), -1);
    size_t sn = sizeof(comp);
    snappy_compress(text, n, (char *)comp, &sn);
    CHECK_EQ_INT(mongo_decompress(MONGO_SNAPPY, comp, sn, out, n), 0);
    CHECK(memcmp(out, text, n) == 0);
    CHECK_EQ_INT(mongo_decompress(MONGO_SNAPPY, comp, sn, out, n + 1), -1);
    comp[0] ^= 0xff;
    CHECK_EQ_INT(mongo_decompress(MONGO_SNAPPY, comp, sn, out, n), -1);
    CHECK_EQ_INT(mongo_decompress(9, comp, sn, out, n), -1);
}

static void test_conversation(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    conversation(&c, &s);
    struct harness h;
    h_open(&h);
    /* interleaved as on the wire: request, reply, request, reply... */
    size_t cat = 0, sat = 0;
    for (int i = 0; i < 3; i++) {
        size_t cl = (size_t)bson_i32(cli_buf + cat), sl = (size_t)bson_i32(srv_buf + sat);
        h_feed(&h, DIR_TO_SERVER, cli_buf + cat, cl);
        h_feed(&h, DIR_TO_CLIENT, srv_buf + sat, sl);
        cat += cl;
        sat += sl;
    }
    check_conversation_ops(&h);
    h_close(&h);
    CHECK_EQ_INT(h.n, 3);
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_MALFORMED), 0);
}

/* Each direction cut in two at every offset, and fed byte by byte: the same ops. */
static void test_every_split_point(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    conversation(&c, &s);
    size_t max = c.len > s.len ? c.len : s.len;
    for (size_t k = 0; k <= max; k++) {
        struct harness h;
        h_open(&h);
        size_t ck = k < c.len ? k : c.len, sk = k < s.len ? k : s.len;
        h_feed(&h, DIR_TO_SERVER, cli_buf, ck);
        h_feed(&h, DIR_TO_SERVER, cli_buf + ck, c.len - ck);
        h_feed(&h, DIR_TO_CLIENT, srv_buf, sk);
        h_feed(&h, DIR_TO_CLIENT, srv_buf + sk, s.len - sk);
        int before = check_case_failed;
        check_conversation_ops(&h);
        h_close(&h);
        if (check_case_failed && !before)
            fprintf(stderr, "  (split at %zu)\n", k);
        if (check_case_failed)
            break;
    }
    struct harness h;
    h_open(&h);
    for (size_t i = 0; i < c.len; i++)
        h_feed(&h, DIR_TO_SERVER, cli_buf + i, 1);
    for (size_t i = 0; i < s.len; i++)
        h_feed(&h, DIR_TO_CLIENT, srv_buf + i, 1);
    check_conversation_ops(&h);
    h_close(&h);
}

/* The same conversation with every message compressed, each compressor,
 * and split everywhere. */
static void test_compressed(void)
{
    static const uint8_t compressors[] = { MONGO_NOOP, MONGO_ZLIB, MONGO_ZSTD, MONGO_SNAPPY };
    for (size_t ci = 0; ci < sizeof(compressors); ci++) {
        struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
        hello_request(&c, 1, "dumper");
        ok_reply(&s, 100, 1);
        size_t at = c.len;
        find_request(&c, 2, "customers", 3, true);
        compress_last(&c, at, compressors[ci]);
        at = s.len;
        cursor_reply(&s, 101, 2, 0, true, 3, 42);
        compress_last(&s, at, compressors[ci]);
        at = c.len;
        getmore_request(&c, 3, 42, "customers", 3, 0);
        compress_last(&c, at, compressors[ci]);
        at = s.len;
        cursor_reply(&s, 102, 3, 0, false, 2, 0);
        compress_last(&s, at, compressors[ci]);
        for (size_t k = 0; k <= s.len; k += 7) {
            struct harness h;
            h_open(&h);
            size_t ck = k < c.len ? k : c.len;
            h_feed(&h, DIR_TO_SERVER, cli_buf, ck);
            h_feed(&h, DIR_TO_SERVER, cli_buf + ck, c.len - ck);
            h_feed(&h, DIR_TO_CLIENT, srv_buf, k);
            h_feed(&h, DIR_TO_CLIENT, srv_buf + k, s.len - k);
            check_conversation_ops(&h);
            if (h.n >= 3) {
                CHECK(!has_flag(&h.ops[0], OP_FLAG_COMPRESSED));
                CHECK(has_flag(&h.ops[1], OP_FLAG_COMPRESSED));
                CHECK(has_flag(&h.ops[2], OP_FLAG_COMPRESSED));
            }
            CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_DECOMPRESS_ERRORS), 0);
            h_close(&h);
            if (check_case_failed) {
                fprintf(stderr, "  (compressor %u split %zu)\n", compressors[ci], k);
                return;
            }
        }
    }
}

/* A corrupt compressed reply: counted, the op still emitted and paired. */
static void test_decompress_error(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    find_request(&c, 2, "customers", 3, true);
    size_t at = s.len;
    cursor_reply(&s, 101, 2, 0, true, 3, 42);
    compress_last(&s, at, MONGO_ZSTD);
    srv_buf[at + 16 + 9 + 4] ^= 0x55;    /* inside the zstd frame */
    struct harness h;
    h_open(&h);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_DECOMPRESS_ERRORS), 1);
    CHECK_EQ_INT(h.n, 1);
    CHECK_EQ_STR(h.ops[0].op, "find");
    CHECK_EQ_INT(h.ops[0].items, -1);
    CHECK(has_flag(&h.ops[0], OP_FLAG_COMPRESSED));
    h_close(&h);
    CHECK_EQ_INT(h.n, 1);
}

/* moreToCome on a request: emitted at once, no reply expected, no flag. */
static void test_more_to_come_request(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 };
    size_t at = msg_begin(&c, 5, 0, MONGO_MSG_MORE_TO_COME);
    bb_open(&c, 0, NULL);
    bb_string(&c, "insert", "logs");
    bb_string(&c, "$db", "app");
    bb_close(&c);
    /* a kind 1 sequence of two documents */
    bb_u8(&c, 1);
    size_t size_at = c.len;
    bb_i32(&c, 0);
    bb_cstr(&c, "documents");
    bb_open(&c, 0, NULL);
    bb_int32(&c, "a", 1);
    bb_close(&c);
    bb_open(&c, 0, NULL);
    bb_int32(&c, "a", 2);
    bb_close(&c);
    bb_patch32(&c, size_at, (int32_t)(c.len - size_at));
    bb_msg_end(&c, at);
    struct harness h;
    h_open(&h);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    CHECK_EQ_INT(h.n, 1);
    CHECK_EQ_STR(h.ops[0].op, "insert");
    CHECK_EQ_INT(h.ops[0].op_class, OP_CLASS_WRITE);
    CHECK_EQ_STR(h.ops[0].target, "app.logs");
    CHECK_EQ_INT(h.ops[0].status, OP_STATUS_UNKNOWN);
    CHECK(!has_flag(&h.ops[0], OP_FLAG_NO_RESPONSE));
    h_close(&h);
    CHECK_EQ_INT(h.n, 1);
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_MALFORMED), 0);
}

/* delete with an empty filter in a kind 1 "deletes" sequence: destroy. */
static void test_delete_all(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    size_t at = msg_begin(&c, 5, 0, 0);
    bb_open(&c, 0, NULL);
    bb_string(&c, "delete", "users");
    bb_string(&c, "$db", "app");
    bb_close(&c);
    bb_u8(&c, 1);
    size_t size_at = c.len;
    bb_i32(&c, 0);
    bb_cstr(&c, "deletes");
    bb_open(&c, 0, NULL);
    bb_open(&c, 0x03, "q");
    bb_close(&c);
    bb_int32(&c, "limit", 0);
    bb_close(&c);
    bb_patch32(&c, size_at, (int32_t)(c.len - size_at));
    bb_msg_end(&c, at);
    ok_reply(&s, 9, 5);
    struct harness h;
    h_open(&h);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(h.n, 1);
    CHECK_EQ_STR(h.ops[0].op, "delete");
    CHECK_EQ_INT(h.ops[0].op_class, OP_CLASS_DESTROY);
    CHECK(has_flag(&h.ops[0], OP_FLAG_MATCH_ALL));
    h_close(&h);
}

/* An exhaust getMore: one op per reply batch, the later ones continue. */
static void test_exhaust(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    getmore_request(&c, 10, 77, "events", 2, MONGO_MSG_EXHAUST_ALLOWED);
    cursor_reply(&s, 500, 10, MONGO_MSG_MORE_TO_COME, false, 2, 77);
    cursor_reply(&s, 501, 500, MONGO_MSG_MORE_TO_COME, false, 2, 77);
    cursor_reply(&s, 502, 501, 0, false, 1, 0);
    find_request(&c, 11, "other", 5, false);
    cursor_reply(&s, 503, 11, 0, true, 0, 0);
    struct harness h;
    h_open(&h);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(h.n, 4);
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_UNPAIRED), 0);
    if (h.n >= 4) {
        for (int i = 0; i < 3; i++) {
            CHECK_EQ_STR(h.ops[i].op, "getMore");
            CHECK(has_flag(&h.ops[i], OP_FLAG_CONTINUES));
            CHECK_EQ_STR(h.ops[i].continuation, hash_of(77));
        }
        CHECK_EQ_INT(h.ops[0].items, 2);
        CHECK_EQ_INT(h.ops[1].items, 2);
        CHECK_EQ_INT(h.ops[2].items, 1);
        CHECK(h.ops[0].request_bytes > 0);
        CHECK_EQ_INT(h.ops[1].request_bytes, 0);
        CHECK_EQ_STR(h.ops[3].op, "find");
        CHECK(!has_flag(&h.ops[3], OP_FLAG_MATCH_ALL));
        CHECK_EQ_INT(h.ops[3].items, 0);
    }
    h_close(&h);
}

/* SCRAM: a failed conversation, a denied read, a successful conversation,
 * then an authenticated read. */
static void test_auth(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    hello_request(&c, 1, NULL);
    ok_reply(&s, 100, 1);
    sasl_request(&c, 2, true);
    sasl_reply(&s, 101, 2, false);
    sasl_request(&c, 3, false);
    error_reply(&s, 102, 3, 18, "AuthenticationFailed");
    find_request(&c, 4, "payroll", 10, true);
    error_reply(&s, 103, 4, 13, "Unauthorized");
    sasl_request(&c, 5, true);
    sasl_reply(&s, 104, 5, false);
    sasl_request(&c, 6, false);
    sasl_reply(&s, 105, 6, false);
    sasl_request(&c, 7, false);
    sasl_reply(&s, 106, 7, true);
    find_request(&c, 8, "payroll", 10, true);
    cursor_reply(&s, 107, 8, 0, true, 4, 0);
    struct harness h;
    h_open(&h);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(h.n, 8);
    if (h.n == 8) {
        CHECK_EQ_STR(h.ops[0].client_id, "nodejs 6.12.0; Linux");
        CHECK_EQ_STR(h.ops[1].op, "saslStart");
        CHECK_EQ_INT(h.ops[1].op_class, OP_CLASS_AUTH);
        CHECK_EQ_STR(h.ops[1].auth_scheme, "scram-sha-256");
        CHECK_EQ_INT(h.ops[1].status, OP_STATUS_OK);
        CHECK_EQ_INT(h.ops[1].authenticated, OP_AUTH_NO);
        CHECK_EQ_INT(h.ops[1].auth_result, OP_AUTH_RESULT_NONE);   /* a step, not the end */
        CHECK_EQ_INT(h.ops[2].auth_result, OP_AUTH_RESULT_FAILURE);
        CHECK_EQ_INT(h.ops[2].status, OP_STATUS_DENIED);
        CHECK_EQ_INT(h.ops[2].status_code, 18);
        CHECK_EQ_STR(h.ops[2].error_type, "AuthenticationFailed");
        CHECK_EQ_INT(h.ops[3].status, OP_STATUS_DENIED);
        CHECK_EQ_INT(h.ops[3].status_code, 13);
        CHECK_EQ_STR(h.ops[3].error_type, "Unauthorized");
        CHECK_EQ_INT(h.ops[3].authenticated, OP_AUTH_NO);
        CHECK_EQ_INT(h.ops[3].items, -1);
        CHECK_EQ_INT(h.ops[5].authenticated, OP_AUTH_NO);
        CHECK_EQ_INT(h.ops[6].authenticated, OP_AUTH_YES);    /* done: true */
        CHECK_EQ_INT(h.ops[3].auth_result, OP_AUTH_RESULT_NONE);   /* a data command */
        CHECK_EQ_INT(h.ops[5].auth_result, OP_AUTH_RESULT_NONE);
        CHECK_EQ_INT(h.ops[6].auth_result, OP_AUTH_RESULT_SUCCESS);
        CHECK_EQ_INT(h.ops[7].auth_result, OP_AUTH_RESULT_NONE);
        CHECK_EQ_INT(h.ops[7].authenticated, OP_AUTH_YES);
        CHECK_EQ_STR(h.ops[7].auth_scheme, "scram-sha-256");
        CHECK_EQ_INT(h.ops[7].items, 4);
    }
    h_close(&h);
}

/* A reply of a server with access control: $clusterTime signed (keyId
 * non-zero). keyId 0, what a replica set without auth sends, is no hint. */
static void cluster_time_reply(struct bb *b, int32_t rid, int32_t resp, int64_t key_id)
{
    size_t at = msg_begin(b, rid, resp, 0);
    bb_open(b, 0, NULL);
    bb_bool(b, "isWritablePrimary", 1);
    bb_double(b, "ok", 1.0);
    bb_open(b, 0x03, "$clusterTime");
    bb_int64(b, "clusterTime", 7);
    bb_open(b, 0x03, "signature");
    bb_binary(b, "hash", "0123456789abcdefghij", 20);
    bb_int64(b, "keyId", key_id);
    bb_close(b);
    bb_close(b);
    bb_close(b);
    bb_msg_end(b, at);
}

/* A flow picked up after its handshake and login (issue 14): authentication
 * is unknown, not "no", and no client is made up from a first command that
 * is not the connection's first; a login seen to succeed still says yes. */
static void test_midstream(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    find_request(&c, 40, "payroll", 10, true);
    cursor_reply(&s, 140, 40, 0, true, 3, 0);
    hello_request(&c, 41, "late");
    cluster_time_reply(&s, 141, 41, 7291851256373411842LL);
    hello_request(&c, 42, "late");
    cluster_time_reply(&s, 142, 42, 0);
    sasl_request(&c, 43, true);
    sasl_reply(&s, 143, 43, true);
    find_request(&c, 44, "payroll", 10, true);
    cursor_reply(&s, 144, 44, 0, true, 2, 0);
    struct harness h;
    h_open(&h);
    h.ctx.midstream = 1;
    mongodb_decoder.close(h.state, &h.ctx);
    h.state = mongodb_decoder.open(&h.ctx);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(h.n, 5);
    if (h.n == 5) {
        CHECK_EQ_STR(h.ops[0].op, "find");
        CHECK_EQ_INT(h.ops[0].authenticated, OP_AUTH_UNKNOWN);
        CHECK_EQ_STR(h.ops[0].client_id, "");
        CHECK_EQ_INT(h.ops[0].server_auth_hint, OP_SERVER_AUTH_HINT_NONE);
        CHECK_EQ_INT(h.ops[1].server_auth_hint, OP_SERVER_AUTH_HINT_ACCESS_CONTROL);
        CHECK_EQ_INT(h.ops[1].authenticated, OP_AUTH_UNKNOWN);
        CHECK_EQ_INT(h.ops[2].server_auth_hint, OP_SERVER_AUTH_HINT_NONE);
        CHECK_EQ_INT(h.ops[3].auth_result, OP_AUTH_RESULT_SUCCESS);
        CHECK_EQ_INT(h.ops[3].authenticated, OP_AUTH_YES);
        CHECK_EQ_INT(h.ops[4].authenticated, OP_AUTH_YES);
    }
    h_close(&h);

    /* the same find on a flow seen from its start: no login, so "no" */
    h_open(&h);
    c.len = 0;
    s.len = 0;
    find_request(&c, 40, "payroll", 10, true);
    cursor_reply(&s, 140, 40, 0, true, 3, 0);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(h.n, 1);
    CHECK_EQ_INT(h.ops[0].authenticated, OP_AUTH_NO);
    CHECK_EQ_STR(h.ops[0].client_id, "(none)");
    h_close(&h);
}

/* Legacy opcodes: OP_QUERY isMaster (not flagged) and buildinfo (flagged),
 * a legacy find answered by OP_REPLY, OP_GET_MORE, OP_DELETE, OP_INSERT,
 * OP_KILL_CURSORS; a first command without a client document. */
static void test_legacy(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    query_request(&c, 1, "admin.$cmd", "buildinfo", false, -1);
    op_reply(&s, 100, 1, 0, 0, 1);
    query_request(&c, 2, "admin.$cmd", "isMaster", true, -1);
    op_reply(&s, 101, 2, 0, 0, 1);
    query_request(&c, 3, "shop.customers", NULL, false, 7);
    op_reply(&s, 102, 3, 0, 99, 7);
    size_t at = bb_msg_begin(&c, 4, 0, MONGO_OP_GET_MORE);
    bb_i32(&c, 0);
    bb_cstr(&c, "shop.customers");
    bb_i32(&c, 5);
    bb_i64(&c, 99);
    bb_msg_end(&c, at);
    op_reply(&s, 103, 4, 0, 0, 3);
    at = bb_msg_begin(&c, 5, 0, MONGO_OP_DELETE);
    bb_i32(&c, 0);
    bb_cstr(&c, "shop.customers");
    bb_i32(&c, 0);
    bb_open(&c, 0, NULL);
    bb_close(&c);
    bb_msg_end(&c, at);
    at = bb_msg_begin(&c, 6, 0, MONGO_OP_INSERT);
    bb_i32(&c, 0);
    bb_cstr(&c, "shop.x");
    bb_open(&c, 0, NULL);
    bb_int32(&c, "a", 1);
    bb_close(&c);
    bb_msg_end(&c, at);
    at = bb_msg_begin(&c, 7, 0, MONGO_OP_KILL_CURSORS);
    bb_i32(&c, 0);
    bb_i32(&c, 1);
    bb_i64(&c, 99);
    bb_msg_end(&c, at);
    query_request(&c, 8, "shop.$cmd", "dropDatabase", false, -1);
    op_reply(&s, 104, 8, 0x2, 0, 1);   /* QueryFailure */
    struct harness h;
    h_open(&h);
    /* on the wire, requests and replies alternate; all requests first is fine too */
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(h.n, 8);
    if (h.n == 8) {
        /* fire-and-forget ones come out as they are read */
        CHECK_EQ_STR(h.ops[0].op, "delete");
        CHECK_EQ_INT(h.ops[0].op_class, OP_CLASS_DESTROY);
        CHECK(has_flag(&h.ops[0], OP_FLAG_MATCH_ALL | OP_FLAG_LEGACY_OPCODE));
        CHECK_EQ_STR(h.ops[1].op, "insert");
        CHECK_EQ_STR(h.ops[1].target, "shop.x");
        CHECK_EQ_STR(h.ops[2].op, "killCursors");
        CHECK_EQ_STR(h.ops[3].op, "buildinfo");
        CHECK(has_flag(&h.ops[3], OP_FLAG_LEGACY_OPCODE));
        CHECK_EQ_STR(h.ops[3].client_id, "(none)");
        CHECK_EQ_INT(h.ops[3].items, -1);
        CHECK_EQ_STR(h.ops[4].op, "isMaster");
        CHECK(!has_flag(&h.ops[4], OP_FLAG_LEGACY_OPCODE));
        CHECK_EQ_STR(h.ops[5].op, "find");
        CHECK(has_flag(&h.ops[5], OP_FLAG_LEGACY_OPCODE | OP_FLAG_MATCH_ALL));
        CHECK_EQ_INT(h.ops[5].items, 7);
        CHECK_EQ_INT(h.ops[5].page_size, 7);
        CHECK_EQ_STR(h.ops[5].cursor_out, hash_of(99));
        CHECK_EQ_INT(h.ops[5].status, OP_STATUS_OK);   /* data documents' "ok" not read */
        CHECK_EQ_STR(h.ops[6].op, "getMore");
        CHECK_EQ_STR(h.ops[6].continuation, hash_of(99));
        CHECK_EQ_INT(h.ops[6].items, 3);
        CHECK_EQ_STR(h.ops[7].op, "dropDatabase");
        CHECK_EQ_INT(h.ops[7].op_class, OP_CLASS_DESTROY);
        CHECK_EQ_INT(h.ops[7].status, OP_STATUS_ERROR);
    }
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_MALFORMED), 0);
    h_close(&h);
}

/* nmap's NSE shape (responseTo -1, numberToReturn -1, ids from 12345 on) is
 * flagged probe with the script's name; the same command from a driver
 * (responseTo 0), an old driver's -1 with its own ids, or another
 * numberToReturn is not. */
static void test_nmap_shape(void)
{
    static const struct { int32_t rid, resp, nret; const char *cmd, *client; } cases[] = {
        {12346, -1, -1, "listDatabases", "Nmap NSE mongodb-databases"},
        {12348, -1, -1, "serverStatus", "Nmap NSE mongodb-info"},
        {12350, -1, -1, "buildinfo", "Nmap NSE mongodb-info"},
        {12352, -1, -1, "getlasterror", "Nmap NSE mongodb library"},
        {12346, 0, -1, "serverStatus", NULL},                    /* a driver's header */
        {(int32_t)0xb3d56506, -1, -1, "getlasterror", NULL},     /* 2010-era driver */
        {12346, -1, 1, "serverStatus", NULL},
        {12345 + (1 << 20), -1, -1, "serverStatus", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
        query_request(&c, cases[i].rid, "admin.$cmd", cases[i].cmd, false, cases[i].nret);
        memcpy(cli_buf + 8, &cases[i].resp, 4);      /* responseTo, little-endian host */
        op_reply(&s, 1001, cases[i].rid, 0, 0, 1);
        struct harness h;
        h_open(&h);
        h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
        h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
        CHECK_EQ_INT(h.n, 1);
        if (h.n == 1) {
            CHECK_EQ_INT(has_flag(&h.ops[0], OP_FLAG_PROBE), cases[i].client != NULL);
            CHECK_EQ_STR(h.ops[0].client_id, cases[i].client ? cases[i].client : "(none)");
        }
        CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_PROBES), cases[i].client != NULL);
        h_close(&h);
    }
}

/* zgrab2's shape: every request with requestID 0 (isMaster, listDatabases
 * as OP_QUERY, numberToReturn 1, then buildinfo as OP_MSG): the second is
 * the probe. A driver counting its ids from 0 is not. */
static void test_zgrab2_shape(void)
{
    for (int zgrab = 1; zgrab >= 0; zgrab--) {
        struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
        struct harness h;
        h_open(&h);
        query_request(&c, 0, "admin.$cmd", "isMaster", false, 1);
        op_reply(&s, 7, 0, 0, 0, 1);
        h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
        h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
        c.len = s.len = 0;
        query_request(&c, zgrab ? 0 : 1, "admin.$cmd", "listDatabases", false, 1);
        op_reply(&s, 8, zgrab ? 0 : 1, 0, 0, 1);
        h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
        h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
        c.len = s.len = 0;
        hello_request(&c, zgrab ? 0 : 2, NULL);
        ok_reply(&s, 9, zgrab ? 0 : 2);
        h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
        h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
        CHECK_EQ_INT(h.n, 3);
        if (h.n == 3) {
            CHECK_EQ_INT(has_flag(&h.ops[0], OP_FLAG_PROBE), false);
            CHECK_EQ_STR(h.ops[1].op, "listDatabases");
            CHECK_EQ_INT(has_flag(&h.ops[1], OP_FLAG_PROBE), zgrab);
            CHECK_EQ_STR(h.ops[1].client_id, zgrab ? "zgrab2 mongodb module" : "(none)");
            CHECK_EQ_INT(has_flag(&h.ops[2], OP_FLAG_PROBE), false);
        }
        CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_PROBES), zgrab);
        h_close(&h);
    }
}

/* A gap of known length inside a reply: that op is partial, framing holds. */
static void test_gap_inside_reply(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    conversation(&c, &s);
    size_t first = (size_t)bson_i32(srv_buf);
    size_t second = (size_t)bson_i32(srv_buf + first);
    struct harness h;
    h_open(&h);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, first + 40);
    mongodb_decoder.gap(h.state, &h.ctx, DIR_TO_CLIENT, 30);
    h_feed(&h, DIR_TO_CLIENT, srv_buf + first + 70, s.len - first - 70);
    CHECK_EQ_INT(h.n, 3);
    if (h.n == 3) {
        CHECK(has_flag(&h.ops[1], OP_FLAG_PARTIAL));
        CHECK(!has_flag(&h.ops[2], OP_FLAG_PARTIAL));
        CHECK_EQ_INT(h.ops[2].items, 2);
    }
    (void)second;
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_RESYNC), 0);
    h_close(&h);
}

/* A gap of unknown length: the message is cut, the next header is found. */
static void test_gap_resync(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    conversation(&c, &s);
    size_t first = (size_t)bson_i32(srv_buf);
    size_t second = (size_t)bson_i32(srv_buf + first);
    struct harness h;
    h_open(&h);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, first + 40);
    mongodb_decoder.gap(h.state, &h.ctx, DIR_TO_CLIENT, 0);
    h_feed(&h, DIR_TO_CLIENT, srv_buf + first + 60, s.len - first - 60);
    CHECK_EQ_INT(h.n, 3);
    if (h.n == 3) {
        CHECK(has_flag(&h.ops[1], OP_FLAG_PARTIAL));
        CHECK_EQ_STR(h.ops[2].op, "getMore");
        CHECK_EQ_INT(h.ops[2].items, 2);
    }
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_RESYNC), 1);
    (void)second;
    h_close(&h);
}

/* Garbage before a request: counted malformed, then found again. */
static void test_garbage_then_request(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    bb_raw(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    find_request(&c, 2, "customers", 3, false);
    cursor_reply(&s, 101, 2, 0, true, 3, 0);
    struct harness h;
    h_open(&h);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_MALFORMED), 1);
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_RESYNC), 1);
    CHECK_EQ_INT(h.n, 1);
    if (h.n == 1)
        CHECK_EQ_INT(h.ops[0].items, 3);
    h_close(&h);
}

/* A 20000-document reply read in 1460-byte pieces: counted, never held. */
static void test_large_reply_streamed(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    find_request(&c, 2, "customers", 20000, true);
    cursor_reply(&s, 101, 2, 0, true, 20000, 5);
    CHECK(s.len > 1000000);
    struct harness h;
    h_open(&h);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    for (size_t at = 0; at < s.len; at += 1460)
        h_feed(&h, DIR_TO_CLIENT, srv_buf + at, s.len - at < 1460 ? s.len - at : 1460);
    CHECK_EQ_INT(h.n, 1);
    if (h.n == 1) {
        CHECK_EQ_INT(h.ops[0].items, 20000);
        CHECK_EQ_INT((int64_t)h.ops[0].response_bytes, (int64_t)s.len);
    }
    h_close(&h);
}

/* A header claiming more than message_max: skipped whole, counted. */
static void test_too_large(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    find_request(&c, 2, "customers", 3, true);
    cursor_reply(&s, 101, 2, 0, true, 300, 0);
    find_request(&c, 3, "customers", 3, true);
    cursor_reply(&s, 102, 3, 0, true, 1, 0);
    struct harness h;
    h_open(&h);
    h.params.message_max = 1024;
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_TOO_LARGE), 1);
    CHECK_EQ_INT(h.n, 2);
    if (h.n == 2) {
        CHECK(has_flag(&h.ops[0], OP_FLAG_BODY_CAPPED));
        CHECK_EQ_INT(h.ops[0].items, -1);
        CHECK_EQ_INT(h.ops[1].items, 1);
    }
    h_close(&h);
}

/* More requests waiting than pending_max: the oldest gives up. */
static void test_pending_overflow_and_unpaired(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    for (int i = 0; i < 5; i++)
        find_request(&c, 10 + i, "customers", 3, true);
    cursor_reply(&s, 101, 99, 0, true, 1, 0);     /* answers nothing we saw */
    struct harness h;
    h_open(&h);
    h.params.pending_max = 3;
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_PENDING_OVERFLOW), 2);
    CHECK_EQ_INT(h.n, 2);
    if (h.n == 2)
        CHECK(has_flag(&h.ops[0], OP_FLAG_NO_RESPONSE));
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_UNPAIRED), 1);
    CHECK_EQ_INT(h.n, 3);
    if (h.n == 3) {
        CHECK(has_flag(&h.ops[2], OP_FLAG_UNPAIRED));
        CHECK_EQ_INT(h.ops[2].items, 1);
    }
    h_close(&h);
    CHECK_EQ_INT(h.n, 6);   /* the three still waiting, at close */
}

/* hint {$natural: 1} reads everything whatever the filter; count's n is
 * the total; listDatabases counts databases; a client document with an
 * application name. */
static void test_hint_count_listdatabases(void)
{
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
    size_t at = msg_begin(&c, 1, 0, 0);
    bb_open(&c, 0, NULL);
    bb_string(&c, "find", "logs");
    bb_open(&c, 0x03, "filter");
    bb_int32(&c, "level", 3);
    bb_close(&c);
    bb_open(&c, 0x03, "hint");
    bb_int32(&c, "$natural", 1);
    bb_close(&c);
    bb_int32(&c, "limit", 50);
    bb_int32(&c, "skip", 10);
    bb_string(&c, "$db", "app");
    bb_close(&c);
    bb_msg_end(&c, at);
    cursor_reply(&s, 100, 1, 0, true, 0, 0);
    at = msg_begin(&c, 2, 0, 0);
    bb_open(&c, 0, NULL);
    bb_string(&c, "count", "logs");
    bb_string(&c, "$db", "app");
    bb_close(&c);
    bb_msg_end(&c, at);
    at = msg_begin(&s, 101, 2, 0);
    bb_open(&s, 0, NULL);
    bb_int32(&s, "n", 1234);
    bb_double(&s, "ok", 1.0);
    bb_close(&s);
    bb_msg_end(&s, at);
    at = msg_begin(&c, 3, 0, 0);
    bb_open(&c, 0, NULL);
    bb_int32(&c, "listDatabases", 1);
    bb_bool(&c, "nameOnly", 1);
    bb_string(&c, "$db", "admin");
    bb_close(&c);
    bb_msg_end(&c, at);
    at = msg_begin(&s, 102, 3, 0);
    bb_open(&s, 0, NULL);
    bb_open(&s, 0x04, "databases");
    for (int i = 0; i < 4; i++) {
        char k[4];
        snprintf(k, sizeof(k), "%d", i);
        bb_open(&s, 0x03, k);
        bb_string(&s, "name", "db");
        bb_close(&s);
    }
    bb_close(&s);
    bb_double(&s, "ok", 1.0);
    bb_close(&s);
    bb_msg_end(&s, at);
    struct harness h;
    h_open(&h);
    h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
    h_feed(&h, DIR_TO_CLIENT, srv_buf, s.len);
    CHECK_EQ_INT(h.n, 3);
    if (h.n == 3) {
        CHECK(has_flag(&h.ops[0], OP_FLAG_MATCH_ALL));
        CHECK_EQ_INT(h.ops[0].page_size, 50);
        CHECK_EQ_INT(h.ops[0].offset, 10);
        CHECK_EQ_INT(h.ops[0].limit, 50);
        CHECK_EQ_INT(h.ops[1].limit, -1);     /* count: no limit */
        CHECK_EQ_INT(h.ops[0].items, 0);
        CHECK_EQ_STR(h.ops[0].client_id, "(none)");
        CHECK_EQ_STR(h.ops[1].op, "count");
        CHECK_EQ_INT(h.ops[1].total, 1234);
        CHECK(has_flag(&h.ops[1], OP_FLAG_MATCH_ALL));
        CHECK_EQ_STR(h.ops[2].op, "listDatabases");
        CHECK_EQ_INT(h.ops[2].op_class, OP_CLASS_ENUMERATE);
        CHECK_EQ_STR(h.ops[2].target, "admin");
        CHECK_EQ_INT(h.ops[2].items, 4);
    }
    h_close(&h);
}

/* Writes the message msg[0..len) to out as OP_COMPRESSED with compressor
 * (zstd with a window of 2^zstd_window_log, 0 for the level's default);
 * returns its length. out must hold compressBound/ZSTD_compressBound + 25. */
static size_t compress_message(const uint8_t *msg, size_t len, uint8_t compressor,
                               int zstd_window_log, uint8_t *out)
{
    size_t body = len - 16;
    uint8_t *payload = out + 25;
    size_t clen = 0;
    if (compressor == MONGO_ZLIB) {
        uLongf n = compressBound((uLong)body);
        CHECK_EQ_INT(compress2(payload, &n, msg + 16, (uLong)body, 6), Z_OK);
        clen = n;
    } else if (compressor == MONGO_ZSTD) {
        ZSTD_CCtx *cc = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 3);
        if (zstd_window_log)
            ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, zstd_window_log);
        clen = ZSTD_compress2(cc, payload, ZSTD_compressBound(body), msg + 16, body);
        CHECK(!ZSTD_isError(clen));
        ZSTD_freeCCtx(cc);
    } else {
        memcpy(payload, msg + 16, body);
        clen = body;
    }
    struct bb b = { out, 0, {0}, 0 };
    size_t m = bb_msg_begin(&b, bson_i32(msg + 4), bson_i32(msg + 8), MONGO_OP_COMPRESSED);
    bb_i32(&b, bson_i32(msg + 12));
    bb_i32(&b, (int32_t)body);
    bb_u8(&b, compressor);
    b.len += clen;
    bb_msg_end(&b, m);
    return b.len;
}

/* An 8 MiB reply (140,000 documents in firstBatch) compressed with zlib and
 * zstd, read in 1460-byte pieces: counted exactly, and the flow never holds
 * more than the decompressor and its chunk (under 1 MiB with a 128 KiB zstd
 * window; under 3 MiB with the 2 MiB window zstd level 3 picks itself).
 * compressed_max (held payloads only) does not limit a streamed one. */
static void test_compressed_large_streamed(void)
{
    enum { DOCS = 140000 };
    size_t cap = (size_t)12 << 20;
    uint8_t *plain = malloc(cap), *wire = malloc(cap);
    if (!plain || !wire) {
        CHECK(false);
        free(plain);
        free(wire);
        return;
    }
    struct bb c = { cli_buf, 0, {0}, 0 }, s = { plain, 0, {0}, 0 };
    find_request(&c, 2, "customers", DOCS, true);
    cursor_reply(&s, 101, 2, 0, true, DOCS, 5);
    find_request(&c, 3, "customers", 3, true);
    CHECK(s.len > ((size_t)8 << 20));
    static const struct { uint8_t compressor; int window_log; size_t bound; } cases[] = {
        { MONGO_ZLIB, 0, (size_t)1 << 20 },
        { MONGO_ZSTD, 17, (size_t)1 << 20 },
        { MONGO_ZSTD, 0, (size_t)3 << 20 },
        { MONGO_NOOP, 0, (size_t)64 << 10 },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t wlen = compress_message(plain, s.len, cases[k].compressor, cases[k].window_log,
                                       wire);
        /* then a small reply to the second find, uncompressed */
        struct bb tail = { wire, wlen, {0}, 0 };
        cursor_reply(&tail, 102, 3, 0, true, 1, 0);
        struct harness h;
        h_open(&h);
        h.params.compressed_max = 64u << 10;
        h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
        for (size_t at = 0; at < tail.len; at += 1460)
            h_feed(&h, DIR_TO_CLIENT, wire + at, tail.len - at < 1460 ? tail.len - at : 1460);
        CHECK_EQ_INT(h.n, 2);
        if (h.n == 2) {
            CHECK_EQ_STR(h.ops[0].op, "find");
            CHECK_EQ_INT(h.ops[0].items, DOCS);
            CHECK(has_flag(&h.ops[0], OP_FLAG_COMPRESSED));
            CHECK_EQ_STR(h.ops[0].cursor_out, hash_of(5));
            CHECK_EQ_INT((int64_t)h.ops[0].response_bytes, (int64_t)wlen);
            CHECK_EQ_INT(h.ops[0].status, OP_STATUS_OK);
            CHECK_EQ_INT(h.ops[1].items, 1);
        }
        CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_DECOMPRESS_ERRORS), 0);
        CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_TOO_LARGE), 0);
        size_t peak = mongo_held_peak(h.state);
        CHECK(peak > 0 || cases[k].compressor == MONGO_NOOP);
        CHECK(peak < cases[k].bound);
        h_close(&h);
        if (check_case_failed) {
            fprintf(stderr, "  (compressor %u window %d peak %zu)\n", cases[k].compressor,
                    cases[k].window_log, peak);
            break;
        }
    }
    free(plain);
    free(wire);
}

/* Corrupt streams, and streams that decompress to more or fewer bytes than
 * uncompressedSize: a decompress error each, the op emitted with nothing of
 * its body, and the next reply read as usual. */
static void test_decompress_errors_then_next(void)
{
    static const uint8_t compressors[] = { MONGO_NOOP, MONGO_ZLIB, MONGO_ZSTD, MONGO_SNAPPY };
    for (size_t ci = 0; ci < sizeof(compressors); ci++) {
        for (int fault = 0; fault < 3; fault++) {  /* corrupt, too long, too short */
            if (fault == 0 && compressors[ci] == MONGO_NOOP)
                continue;                          /* noop cannot be corrupt */
            struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
            find_request(&c, 2, "customers", 3, true);
            find_request(&c, 3, "customers", 3, true);
            size_t at = s.len;
            cursor_reply(&s, 101, 2, 0, true, 300, 42);
            compress_last(&s, at, compressors[ci]);
            size_t body = (size_t)bson_i32(srv_buf + at + 20);
            if (fault == 0) {
                for (size_t i = at + 16 + 9 + 2; i < s.len - 4; i += 16)
                    srv_buf[i] ^= 0x5a;            /* throughout the payload */
            } else {
                bb_patch32(&s, at + 20, (int32_t)(fault == 1 ? body - 10 : body + 10));
            }
            size_t next = s.len;
            cursor_reply(&s, 102, 3, 0, true, 2, 0);
            compress_last(&s, next, compressors[ci]);
            struct harness h;
            h_open(&h);
            h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
            for (size_t k = 0; k < s.len; k += 1460)
                h_feed(&h, DIR_TO_CLIENT, srv_buf + k, s.len - k < 1460 ? s.len - k : 1460);
            CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_DECOMPRESS_ERRORS), 1);
            CHECK_EQ_INT(h.n, 2);
            if (h.n == 2) {
                CHECK_EQ_STR(h.ops[0].op, "find");
                CHECK_EQ_INT(h.ops[0].items, -1);
                CHECK(has_flag(&h.ops[0], OP_FLAG_COMPRESSED));
                CHECK_EQ_INT(h.ops[1].items, 2);
                CHECK_EQ_INT(h.ops[1].status, OP_STATUS_OK);
            }
            h_close(&h);
            if (check_case_failed) {
                fprintf(stderr, "  (compressor %u fault %d)\n", compressors[ci], fault);
                return;
            }
        }
    }
}

/* A small compressed reply split at every byte, and fed one byte at a time,
 * gives the same op as read whole. */
static void test_compressed_every_split(void)
{
    static const uint8_t compressors[] = { MONGO_NOOP, MONGO_ZLIB, MONGO_ZSTD, MONGO_SNAPPY };
    for (size_t ci = 0; ci < sizeof(compressors); ci++) {
        struct bb c = { cli_buf, 0, {0}, 0 }, s = { srv_buf, 0, {0}, 0 };
        find_request(&c, 2, "customers", 3, true);
        cursor_reply(&s, 101, 2, 0, true, 5, 42);
        compress_last(&s, 0, compressors[ci]);
        for (size_t k = 0; k <= s.len + 1; k++) {
            struct harness h;
            h_open(&h);
            h_feed(&h, DIR_TO_SERVER, cli_buf, c.len);
            if (k <= s.len) {
                h_feed(&h, DIR_TO_CLIENT, srv_buf, k);
                h_feed(&h, DIR_TO_CLIENT, srv_buf + k, s.len - k);
            } else {
                for (size_t i = 0; i < s.len; i++)
                    h_feed(&h, DIR_TO_CLIENT, srv_buf + i, 1);
            }
            CHECK_EQ_INT(h.n, 1);
            if (h.n == 1) {
                CHECK_EQ_STR(h.ops[0].op, "find");
                CHECK_EQ_INT(h.ops[0].items, 5);
                CHECK_EQ_STR(h.ops[0].cursor_out, hash_of(42));
                CHECK_EQ_INT(h.ops[0].status, OP_STATUS_OK);
                CHECK_EQ_INT((int64_t)h.ops[0].response_bytes, (int64_t)s.len);
                CHECK(has_flag(&h.ops[0], OP_FLAG_COMPRESSED));
                CHECK(!has_flag(&h.ops[0], OP_FLAG_PARTIAL));
            }
            CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_DECOMPRESS_ERRORS), 0);
            CHECK_EQ_INT(stat_of(&h, MONGODB_COUNTER_MALFORMED), 0);
            h_close(&h);
            if (check_case_failed) {
                fprintf(stderr, "  (compressor %u split %zu)\n", compressors[ci], k);
                return;
            }
        }
    }
}

int main(void)
{
    check_binary = "test_mongodb";
    cli_buf = malloc(BB_CAP);
    srv_buf = malloc(BB_CAP);
    tmp_buf = malloc(2 * BB_CAP);
    if (!cli_buf || !srv_buf || !tmp_buf)
        return 1;
    RUN(test_header);
    RUN(test_decompress);
    RUN(test_conversation);
    RUN(test_every_split_point);
    RUN(test_compressed);
    RUN(test_decompress_error);
    RUN(test_more_to_come_request);
    RUN(test_delete_all);
    RUN(test_exhaust);
    RUN(test_auth);
    RUN(test_midstream);
    RUN(test_legacy);
    RUN(test_nmap_shape);
    RUN(test_zgrab2_shape);
    RUN(test_gap_inside_reply);
    RUN(test_gap_resync);
    RUN(test_garbage_then_request);
    RUN(test_large_reply_streamed);
    RUN(test_too_large);
    RUN(test_pending_overflow_and_unpaired);
    RUN(test_hint_count_listdatabases);
    RUN(test_compressed_large_streamed);
    RUN(test_decompress_errors_then_next);
    RUN(test_compressed_every_split);
    free(cli_buf);
    free(srv_buf);
    free(tmp_buf);
    CHECK_EXIT();
}
