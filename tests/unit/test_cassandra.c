/* test_cassandra.c - the Cassandra decoder: its pure parsers, then the
 * decoder driven through a hand-built decoder_ctx with frames built here
 * from the native protocol spec (v4, v5 segments, lz4 and snappy). */
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <snappy-c.h>

#include "../../decoders/cassandra/cassandra.h"
#include "../../decoders/cassandra/cassandra_parse.h"
#include "check.h"

/* ---- building frames ---- */

struct wire {
    uint8_t b[200000];
    size_t n;
};

static void put8(struct wire *w, unsigned v)
{
    w->b[w->n++] = (uint8_t)v;
}

static void put16(struct wire *w, unsigned v)
{
    put8(w, v >> 8);
    put8(w, v);
}

static void put32(struct wire *w, uint32_t v)
{
    put16(w, v >> 16);
    put16(w, v & 0xffff);
}

static void putn(struct wire *w, const void *p, size_t n)
{
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void putstr(struct wire *w, const char *s)
{
    put16(w, (unsigned)strlen(s));
    putn(w, s, strlen(s));
}

static void putlong(struct wire *w, const char *s)
{
    put32(w, (uint32_t)strlen(s));
    putn(w, s, strlen(s));
}

/* A frame of `body` appended to w. */
static void frame(struct wire *w, unsigned version, unsigned flags, int stream, unsigned opcode,
                  const struct wire *body)
{
    put8(w, version);
    put8(w, flags);
    put16(w, (unsigned)(uint16_t)stream);
    put8(w, opcode);
    put32(w, (uint32_t)body->n);
    putn(w, body->b, body->n);
}

static struct wire body_buf, tmp_buf;

/* QUERY body: text, consistency ONE, flags, [page size], [paging state]. */
static void query_body(struct wire *b, const char *cql, int page_size, const char *paging)
{
    b->n = 0;
    putlong(b, cql);
    put16(b, 1);
    unsigned flags = (page_size > 0 ? 0x04 : 0) | (paging ? 0x08 : 0);
    put8(b, flags);
    if (page_size > 0)
        put32(b, (uint32_t)page_size);
    if (paging) {
        put32(b, (uint32_t)strlen(paging));
        putn(b, paging, strlen(paging));
    }
}

/* RESULT Rows: global table spec, one int column, `rows` rows, paging state. */
static void rows_body(struct wire *b, const char *ks, const char *table, unsigned rows,
                      const char *paging)
{
    b->n = 0;
    put32(b, CQL_RESULT_ROWS);
    put32(b, 0x0001 | (paging ? 0x0002 : 0));
    put32(b, 1);
    if (paging) {
        put32(b, (uint32_t)strlen(paging));
        putn(b, paging, strlen(paging));
    }
    putstr(b, ks);
    putstr(b, table);
    putstr(b, "id");
    put16(b, 0x0009);   /* int */
    put32(b, rows);
    for (unsigned i = 0; i < rows; i++) {
        put32(b, 4);
        put32(b, i);
    }
}

static void startup_body(struct wire *b, const char *compression)
{
    b->n = 0;
    put16(b, compression ? 3 : 2);
    putstr(b, "CQL_VERSION");
    putstr(b, "3.0.0");
    putstr(b, "DRIVER_NAME");
    putstr(b, "Test Driver");
    if (compression) {
        putstr(b, "COMPRESSION");
        putstr(b, compression);
    }
}

static void error_body(struct wire *b, uint32_t code, const char *msg)
{
    b->n = 0;
    put32(b, code);
    putstr(b, msg);
}

static void void_body(struct wire *b)
{
    b->n = 0;
    put32(b, CQL_RESULT_VOID);
}

/* ---- the harness ---- */

#define OPS_MAX 64

struct harness {
    struct decoder_ctx ctx;
    stats_counter counters[CASSANDRA_COUNTER_COUNT];
    struct cassandra_params params;
    void *state;
    struct op_record ops[OPS_MAX];
    size_t n;
};

static void collect(struct decoder_ctx *ctx, const struct op_record *op)
{
    struct harness *h = ctx->owner;
    if (h->n < OPS_MAX)
        h->ops[h->n] = *op;
    h->n++;
}

static struct harness *harness_open(int midstream)
{
    struct harness *h = calloc(1, sizeof(*h));
    h->params = (struct cassandra_params){
        .frame_max = 1u << 20, .head_max = 64 * 1024, .compressed_max = 1u << 20,
        .decompressed_max = 1u << 20, .pending_max = 8, .prepared_max = 4,
    };
    h->ctx.now_us = 1000;
    h->ctx.midstream = (uint8_t)midstream;
    h->ctx.params = &h->params;
    h->ctx.counters = h->counters;
    h->ctx.emit = collect;
    h->ctx.owner = h;
    h->state = cassandra_decoder.open(&h->ctx);
    return h;
}

static void feed(struct harness *h, enum decoder_dir dir, const struct wire *w)
{
    h->ctx.now_us += 10;
    cassandra_decoder.data(h->state, &h->ctx, dir, w->b, w->n);
}

/* A new flow with the harness's params as they are now. */
static void harness_reopen(struct harness *h)
{
    cassandra_decoder.close(h->state, &h->ctx);
    h->state = cassandra_decoder.open(&h->ctx);
    h->n = 0;
}

static void harness_close(struct harness *h)
{
    cassandra_decoder.close(h->state, &h->ctx);
    free(h);
}

static uint64_t counter(const struct harness *h, enum cassandra_counter c)
{
    return stats_counter_get(&h->counters[c]);
}

/* One request frame and its response frame, each fed whole. */
static void exchange(struct harness *h, unsigned version, int stream, unsigned req_op,
                     const struct wire *req, unsigned resp_op, const struct wire *resp)
{
    struct wire *w = &tmp_buf;
    w->n = 0;
    frame(w, version, 0, stream, req_op, req);
    feed(h, DIR_TO_SERVER, w);
    w->n = 0;
    frame(w, 0x80 | version, 0, stream, resp_op, resp);
    feed(h, DIR_TO_CLIENT, w);
}

static const struct wire empty_body;

/* OPTIONS/SUPPORTED and STARTUP/READY, v4. */
static void handshake_v4(struct harness *h)
{
    struct wire sup = { .n = 0 };
    put16(&sup, 0);
    exchange(h, 4, 0, CQL_OP_OPTIONS, &empty_body, CQL_OP_SUPPORTED, &sup);
    startup_body(&body_buf, NULL);
    exchange(h, 4, 1, CQL_OP_STARTUP, &body_buf, CQL_OP_READY, &empty_body);
}

/* ---- the pure parsers ---- */

static void parse_header_forms(void)
{
    struct cql_header hd;
    static const uint8_t q[] = { 0x04, 0x00, 0x00, 0x07, CQL_OP_QUERY, 0, 0, 0x01, 0x00 };
    CHECK_EQ_INT(cql_parse_header(q, sizeof(q), 1 << 20, &hd), CQL_HEADER_LEN);
    CHECK_EQ_INT(hd.version, 4);
    CHECK(!hd.response);
    CHECK_EQ_INT(hd.stream, 7);
    CHECK_EQ_INT(hd.opcode, CQL_OP_QUERY);
    CHECK_EQ_INT(hd.length, 256);
    for (size_t k = 0; k < sizeof(q); k++)
        CHECK_EQ_INT(cql_parse_header(q, k, 1 << 20, &hd), CQL_NEED_MORE);
    CHECK_EQ_INT(cql_parse_header(q, sizeof(q), 255, &hd), CQL_MALFORMED);   /* too long */
    static const uint8_t r[] = { 0x85, 0x00, 0xff, 0xff, CQL_OP_EVENT, 0, 0, 0, 0 };
    CHECK_EQ_INT(cql_parse_header(r, sizeof(r), 1 << 20, &hd), CQL_HEADER_LEN);
    CHECK(hd.response);
    CHECK_EQ_INT(hd.stream, -1);
    CHECK_EQ_INT(hd.version, 5);
    uint8_t bad[9];
    memcpy(bad, q, 9);
    bad[0] = 0x02;                      /* v2: 8-byte header, not read */
    CHECK_EQ_INT(cql_parse_header(bad, 9, 1 << 20, &hd), CQL_MALFORMED);
    bad[0] = 0x84;                      /* a QUERY cannot be a response */
    CHECK_EQ_INT(cql_parse_header(bad, 9, 1 << 20, &hd), CQL_MALFORMED);
    bad[0] = 0x04;
    bad[4] = 0x04;                      /* no opcode 4 */
    CHECK_EQ_INT(cql_parse_header(bad, 9, 1 << 20, &hd), CQL_MALFORMED);
    bad[4] = CQL_OP_QUERY;
    bad[2] = 0x80;                      /* requests have non-negative streams */
    CHECK_EQ_INT(cql_parse_header(bad, 9, 1 << 20, &hd), CQL_MALFORMED);
    CHECK_EQ_STR(cql_opcode_name(CQL_OP_AUTH_RESPONSE), "AUTH_RESPONSE");
    CHECK_EQ_STR(cql_opcode_name(0x04), "?");
    CHECK_EQ_STR(cql_opcode_name(0x40), "?");
}

/* Reference values from the Python driver's cassandra/segment.py. */
static void crc_vectors(void)
{
    static const uint8_t h3[] = { 0x05, 0x00, 0x02 };   /* 5 bytes, self-contained */
    CHECK_EQ_INT(cql_crc24(h3, 3), 0x9a9919);
    CHECK_EQ_INT(cql_crc32((const uint8_t *)"hello", 5), 0xb60e8074);
    uint64_t v = 5 | (9ull << 17) | (1ull << 34);
    uint8_t h5[5];
    for (int i = 0; i < 5; i++)
        h5[i] = (uint8_t)(v >> (8 * i));
    CHECK_EQ_INT(cql_crc24(h5, 5), 0x855678);

    uint8_t seg[6] = { 0x05, 0x00, 0x02, 0x19, 0x99, 0x9a };
    struct cql_segment s;
    CHECK_EQ_INT(cql_parse_segment_header(seg, 6, false, &s), 6);
    CHECK_EQ_INT(s.payload_len, 5);
    CHECK(s.self_contained);
    for (size_t k = 0; k < 6; k++)
        CHECK_EQ_INT(cql_parse_segment_header(seg, k, false, &s), CQL_NEED_MORE);
    seg[5] ^= 1;
    CHECK_EQ_INT(cql_parse_segment_header(seg, 6, false, &s), CQL_MALFORMED);
    uint8_t seg8[8];
    memcpy(seg8, h5, 5);
    seg8[5] = 0x78;
    seg8[6] = 0x56;
    seg8[7] = 0x85;
    CHECK_EQ_INT(cql_parse_segment_header(seg8, 8, true, &s), 8);
    CHECK_EQ_INT(s.payload_len, 5);
    CHECK_EQ_INT(s.uncompressed_len, 9);
    CHECK(s.self_contained);
    static const uint8_t trailer[4] = { 0x74, 0x80, 0x0e, 0xb6 };
    CHECK(cql_segment_crc_ok((const uint8_t *)"hello", 5, trailer));
    CHECK(!cql_segment_crc_ok((const uint8_t *)"hellp", 5, trailer));
}

static void statement(const char *cql, const char *verb, const char *ks, const char *name,
                      int has_where, int cls)
{
    struct cql_statement st;
    cql_statement_scan((const uint8_t *)cql, strlen(cql), &st);
    CHECK_EQ_STR(st.verb, verb);
    CHECK_EQ_STR(st.keyspace, ks);
    CHECK_EQ_STR(st.name, name);
    CHECK_EQ_INT(st.has_where, has_where);
    CHECK_EQ_INT(st.op_class, cls);
}

static void statement_scan_forms(void)
{
    statement("SELECT * FROM shop.users", "SELECT", "shop", "users", 0, OP_CLASS_READ);
    statement("  select id, name from Users where id = 'from x' LIMIT 10;", "SELECT", "",
              "users", 1, OP_CLASS_READ);
    statement("SELECT keyspace_name FROM system_schema.keyspaces", "SELECT",
              "system_schema", "keyspaces", 0, OP_CLASS_READ);
    statement("SELECT \"Weird\"\"Col\" FROM \"MyKs\".\"Tbl\"", "SELECT", "MyKs", "Tbl", 0,
              OP_CLASS_READ);
    statement("/* hi */ -- note\nINSERT INTO ks.t (a) VALUES ('x')", "INSERT", "ks", "t", 0,
              OP_CLASS_WRITE);
    statement("UPDATE t SET a = 1 WHERE k = 2", "UPDATE", "", "t", 0, OP_CLASS_WRITE);
    statement("DELETE FROM ks.t WHERE k = 1", "DELETE", "ks", "t", 0, OP_CLASS_WRITE);
    statement("TRUNCATE TABLE ks.t", "TRUNCATE", "ks", "t", 0, OP_CLASS_DESTROY);
    statement("truncate t", "TRUNCATE", "", "t", 0, OP_CLASS_DESTROY);
    statement("DROP TABLE IF EXISTS ks.t", "DROP TABLE", "ks", "t", 0, OP_CLASS_DESTROY);
    statement("DROP KEYSPACE shop", "DROP KEYSPACE", "", "shop", 0, OP_CLASS_DESTROY);
    statement("CREATE KEYSPACE IF NOT EXISTS shop WITH replication = {}", "CREATE KEYSPACE",
              "", "shop", 0, OP_CLASS_ADMIN);
    statement("CREATE OR REPLACE FUNCTION ks.f () RETURNS int", "CREATE FUNCTION", "ks", "f", 0,
              OP_CLASS_ADMIN);
    statement("CREATE MATERIALIZED VIEW ks.v AS SELECT", "CREATE MATERIALIZED VIEW", "ks", "v",
              0, OP_CLASS_ADMIN);
    statement("USE \"Shop\"", "USE", "", "Shop", 0, OP_CLASS_HANDSHAKE);
    statement("GRANT SELECT ON ALL KEYSPACES TO bob", "GRANT", "", "", 0, OP_CLASS_ADMIN);
    statement("LIST ROLES", "LIST ROLES", "", "", 0, OP_CLASS_ENUMERATE);
    statement("BEGIN UNLOGGED BATCH INSERT INTO ks.t (a) VALUES (1); APPLY BATCH", "BATCH",
              "ks", "t", 0, OP_CLASS_WRITE);
    statement("", "", "", "", 0, OP_CLASS_UNKNOWN);
    statement("'just a string'", "", "", "", 0, OP_CLASS_UNKNOWN);
    statement("FROBNICATE x", "FROBNICATE", "", "", 0, OP_CLASS_UNKNOWN);
    /* a string literal that never ends, an unfinished comment */
    statement("SELECT * FROM t WHERE a = 'oops", "SELECT", "", "t", 1, OP_CLASS_READ);
    statement("SELECT * /* FROM x", "SELECT", "", "", 0, OP_CLASS_READ);

    CHECK_EQ_INT(cql_select_class("system_schema", "tables"), OP_CLASS_ENUMERATE);
    CHECK_EQ_INT(cql_select_class("system", "peers"), OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(cql_select_class("system", "peers_v2"), OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(cql_select_class("system", "local"), OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(cql_select_class("system", "size_estimates"), OP_CLASS_ENUMERATE);
    CHECK_EQ_INT(cql_select_class("system", "schema_triggers"), OP_CLASS_ENUMERATE);
    CHECK_EQ_INT(cql_select_class("system", "batches"), OP_CLASS_READ);
    CHECK_EQ_INT(cql_select_class("shop", "peers"), OP_CLASS_READ);
}

static void parse_bodies(void)
{
    struct cql_request q;
    query_body(&body_buf, "SELECT * FROM t", 100, "PS1");
    cql_parse_request(CQL_OP_QUERY, 4, body_buf.b, body_buf.n, &q);
    CHECK_EQ_INT(q.page_size, 100);
    CHECK_EQ_INT(q.paging_state.len, 3);
    CHECK(!q.cut && !q.malformed);
    /* cut anywhere: never past the end, cut said */
    for (size_t k = 0; k < body_buf.n; k++) {
        cql_parse_request(CQL_OP_QUERY, 4, body_buf.b, k, &q);
        CHECK(q.cut);
    }
    struct cql_response r;
    rows_body(&body_buf, "ks", "t", 3, "NEXT");
    cql_parse_response(CQL_OP_RESULT, 4, body_buf.b, body_buf.n, &r);
    CHECK_EQ_INT(r.kind, CQL_RESULT_ROWS);
    CHECK_EQ_INT(r.rows, 3);
    CHECK_EQ_INT(r.paging_state.len, 4);
    CHECK_EQ_INT(r.table_name.len, 1);
    /* the row count is read before the rows: a head without them is enough */
    size_t head = body_buf.n - 3 * 8;
    cql_parse_response(CQL_OP_RESULT, 4, body_buf.b, head, &r);
    CHECK_EQ_INT(r.rows, 3);
    CHECK(!r.cut);
    cql_parse_response(CQL_OP_RESULT, 4, body_buf.b, head - 1, &r);
    CHECK_EQ_INT(r.rows, -1);
    CHECK(r.cut);
    /* a negative row count no server sends */
    body_buf.b[head - 4] = 0xff;
    cql_parse_response(CQL_OP_RESULT, 4, body_buf.b, head, &r);
    CHECK(r.malformed);
    CHECK_EQ_STR(cql_error_name(0x0100), "bad_credentials");
    CHECK_EQ_STR(cql_error_name(0x2100), "unauthorized");
    CHECK_EQ_STR(cql_error_name(0x7777), "error");
}

/* ---- the decoder ---- */

static void decoder_handshake_and_paged_read(void)
{
    struct harness *h = harness_open(0);
    handshake_v4(h);
    CHECK_EQ_INT(h->n, 2);
    CHECK_EQ_STR(h->ops[0].op, "OPTIONS");
    CHECK_EQ_INT(h->ops[0].op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(h->ops[0].status, OP_STATUS_OK);
    CHECK_EQ_INT(h->ops[0].request_bytes, 9);
    CHECK_EQ_INT(h->ops[0].response_bytes, 11);
    CHECK_EQ_STR(h->ops[1].op, "STARTUP");
    CHECK_EQ_STR(h->ops[1].client_id, "Test Driver");
    CHECK_EQ_INT(h->ops[1].authenticated, OP_AUTH_NO);

    query_body(&body_buf, "SELECT * FROM shop.users", 3, NULL);
    rows_body(&tmp_buf, "shop", "users", 3, "PAGE-2");
    struct wire resp = tmp_buf;
    exchange(h, 4, 5, CQL_OP_QUERY, &body_buf, CQL_OP_RESULT, &resp);
    query_body(&body_buf, "SELECT * FROM shop.users", 3, "PAGE-2");
    rows_body(&resp, "shop", "users", 2, NULL);
    exchange(h, 4, 6, CQL_OP_QUERY, &body_buf, CQL_OP_RESULT, &resp);
    CHECK_EQ_INT(h->n, 4);
    const struct op_record *a = &h->ops[2], *b = &h->ops[3];
    CHECK_EQ_INT(a->app, APP_CASSANDRA);
    CHECK_EQ_STR(a->op, "SELECT");
    CHECK_EQ_STR(a->target, "shop.users");
    CHECK_EQ_INT(a->op_class, OP_CLASS_READ);
    CHECK_EQ_INT(a->flags, OP_FLAG_MATCH_ALL);
    CHECK_EQ_INT(a->items, 3);
    CHECK_EQ_INT(a->page_size, 3);
    CHECK_EQ_INT(a->status, OP_STATUS_OK);
    CHECK_EQ_INT(a->authenticated, OP_AUTH_NO);
    CHECK(a->cursor_out[0] != '\0');
    CHECK_EQ_STR(a->continuation, "");
    CHECK_EQ_STR(b->continuation, a->cursor_out);
    CHECK_EQ_INT(b->flags, OP_FLAG_MATCH_ALL | OP_FLAG_CONTINUES);
    CHECK_EQ_INT(b->items, 2);
    CHECK_EQ_STR(b->cursor_out, "");
    char expect[OP_CONT_MAX];
    op_continuation_hash("PAGE-2", 6, expect);
    CHECK_EQ_STR(a->cursor_out, expect);
    CHECK(a->ts_request_us < a->ts_response_us);
    harness_close(h);
}

/* A query and its rows, each frame cut in two at every byte. */
static void decoder_split_at_every_byte(void)
{
    struct wire req = { .n = 0 }, resp = { .n = 0 };
    query_body(&body_buf, "SELECT * FROM system_schema.tables WHERE keyspace_name = 'x'", 10,
               NULL);
    frame(&req, 4, 0, 3, CQL_OP_QUERY, &body_buf);
    rows_body(&body_buf, "system_schema", "tables", 7, "P");
    frame(&resp, 0x84, 0, 3, CQL_OP_RESULT, &body_buf);
    for (size_t k = 0; k <= req.n + resp.n; k++) {
        struct harness *h = harness_open(0);
        h->params.head_max = 80;    /* split frames keep only their head */
        harness_reopen(h);
        if (k <= req.n) {
            cassandra_decoder.data(h->state, &h->ctx, DIR_TO_SERVER, req.b, k);
            cassandra_decoder.data(h->state, &h->ctx, DIR_TO_SERVER, req.b + k, req.n - k);
            cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, resp.b, resp.n);
        } else {
            size_t j = k - req.n;
            cassandra_decoder.data(h->state, &h->ctx, DIR_TO_SERVER, req.b, req.n);
            cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, resp.b, j);
            cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, resp.b + j, resp.n - j);
        }
        CHECK_EQ_INT(h->n, 1);
        CHECK_EQ_STR(h->ops[0].op, "SELECT");
        CHECK_EQ_STR(h->ops[0].target, "system_schema.tables");
        CHECK_EQ_INT(h->ops[0].op_class, OP_CLASS_ENUMERATE);
        CHECK_EQ_INT(h->ops[0].items, 7);
        CHECK_EQ_INT(h->ops[0].page_size, 10);
        CHECK_EQ_INT(h->ops[0].flags, 0);
        CHECK_EQ_INT(h->ops[0].request_bytes, req.n);
        CHECK_EQ_INT(h->ops[0].response_bytes, resp.n);
        CHECK(h->ops[0].cursor_out[0] != '\0');
        /* held: at most the head of one frame, never the rows */
        CHECK(cassandra_held_peak(h->state) <= 4 * 80 + 8 * sizeof(struct op_record) + 1024);
        CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_MALFORMED), 0);
        harness_close(h);
    }
}

static void decoder_auth(void)
{
    static const char secret[] = "hunter2-secret";
    struct harness *h = harness_open(0);
    startup_body(&body_buf, NULL);
    struct wire auth = { .n = 0 };
    putstr(&auth, "org.apache.cassandra.auth.PasswordAuthenticator");
    exchange(h, 4, 0, CQL_OP_STARTUP, &body_buf, CQL_OP_AUTHENTICATE, &auth);
    struct wire token = { .n = 0 };
    put32(&token, 2 + 4 + (uint32_t)strlen(secret));
    put8(&token, 0);
    putn(&token, "user", 4);
    put8(&token, 0);
    putn(&token, secret, strlen(secret));
    error_body(&body_buf, CQL_ERROR_BAD_CREDENTIALS, "Provided username user and/or password are incorrect");
    exchange(h, 4, 1, CQL_OP_AUTH_RESPONSE, &token, CQL_OP_ERROR, &body_buf);
    struct wire ok = { .n = 0 };
    put32(&ok, 0xffffffffu);
    exchange(h, 4, 2, CQL_OP_AUTH_RESPONSE, &token, CQL_OP_AUTH_SUCCESS, &ok);
    query_body(&body_buf, "SELECT * FROM ks.t WHERE k = 1", 0, NULL);
    void_body(&tmp_buf);
    struct wire v = tmp_buf;
    exchange(h, 4, 3, CQL_OP_QUERY, &body_buf, CQL_OP_RESULT, &v);
    CHECK_EQ_INT(h->n, 4);
    CHECK_EQ_STR(h->ops[0].op, "STARTUP");
    CHECK_EQ_INT(h->ops[0].status, OP_STATUS_OK);
    CHECK_EQ_STR(h->ops[1].op, "AUTH_RESPONSE");
    CHECK_EQ_INT(h->ops[1].op_class, OP_CLASS_AUTH);
    CHECK_EQ_INT(h->ops[1].status, OP_STATUS_DENIED);
    CHECK_EQ_INT(h->ops[1].status_code, 0x0100);
    CHECK_EQ_STR(h->ops[1].error_type, "bad_credentials");
    CHECK_EQ_STR(h->ops[1].auth_scheme, "password");
    CHECK_EQ_INT(h->ops[1].authenticated, OP_AUTH_NO);
    CHECK_EQ_INT(h->ops[1].flags, OP_FLAG_AUTH_HEADER);
    CHECK_EQ_INT(h->ops[2].status, OP_STATUS_OK);
    CHECK_EQ_INT(h->ops[2].authenticated, OP_AUTH_YES);
    CHECK_EQ_INT(h->ops[3].authenticated, OP_AUTH_YES);
    CHECK_EQ_STR(h->ops[3].auth_scheme, "password");
    CHECK_EQ_INT(h->ops[3].items, -1);
    CHECK_EQ_INT(h->ops[3].flags, 0);      /* a WHERE: not match_all */
    for (size_t i = 0; i < h->n; i++) {
        const struct op_record *o = &h->ops[i];
        CHECK(strstr(o->target, "hunter2") == NULL && strstr(o->client_id, "hunter2") == NULL &&
              strstr(o->op, "hunter2") == NULL && strstr(o->error_type, "user") == NULL);
    }
    harness_close(h);

    /* midstream: what came before is unknown */
    h = harness_open(1);
    exchange(h, 4, 3, CQL_OP_QUERY, &body_buf, CQL_OP_RESULT, &v);
    CHECK_EQ_INT(h->n, 1);
    CHECK_EQ_INT(h->ops[0].authenticated, OP_AUTH_UNKNOWN);
    harness_close(h);
}

static void decoder_prepared_and_keyspace(void)
{
    struct harness *h = harness_open(0);
    handshake_v4(h);
    h->n = 0;
    query_body(&body_buf, "USE shop", 0, NULL);
    struct wire ks = { .n = 0 };
    put32(&ks, CQL_RESULT_SET_KEYSPACE);
    putstr(&ks, "shop");
    exchange(h, 4, 2, CQL_OP_QUERY, &body_buf, CQL_OP_RESULT, &ks);
    struct wire prep = { .n = 0 };
    putlong(&prep, "SELECT * FROM users");
    struct wire prepared = { .n = 0 };
    put32(&prepared, CQL_RESULT_PREPARED);
    put16(&prepared, 4);
    putn(&prepared, "\x01\x02\x03\x04", 4);
    exchange(h, 4, 3, CQL_OP_PREPARE, &prep, CQL_OP_RESULT, &prepared);
    struct wire exec = { .n = 0 };
    put16(&exec, 4);
    putn(&exec, "\x01\x02\x03\x04", 4);
    put16(&exec, 1);
    put8(&exec, 0x04);
    put32(&exec, 5000);
    rows_body(&body_buf, "shop", "users", 4, NULL);
    exchange(h, 4, 4, CQL_OP_EXECUTE, &exec, CQL_OP_RESULT, &body_buf);
    /* an id never prepared here: named by the rows' table */
    exec.b[5] = 9;
    exchange(h, 4, 5, CQL_OP_EXECUTE, &exec, CQL_OP_RESULT, &body_buf);
    CHECK_EQ_INT(h->n, 4);
    CHECK_EQ_STR(h->ops[0].op, "USE");
    CHECK_EQ_STR(h->ops[0].target, "shop");
    CHECK_EQ_INT(h->ops[0].op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_STR(h->ops[1].op, "PREPARE");
    CHECK_EQ_STR(h->ops[1].target, "shop.users");
    CHECK_EQ_INT(h->ops[1].op_class, OP_CLASS_UNKNOWN);
    CHECK_EQ_INT(h->ops[1].flags, 0);
    CHECK_EQ_STR(h->ops[2].op, "SELECT");
    CHECK_EQ_STR(h->ops[2].target, "shop.users");
    CHECK_EQ_INT(h->ops[2].op_class, OP_CLASS_READ);
    CHECK_EQ_INT(h->ops[2].flags, OP_FLAG_MATCH_ALL);
    CHECK_EQ_INT(h->ops[2].items, 4);
    CHECK_EQ_INT(h->ops[2].page_size, 5000);
    CHECK_EQ_STR(h->ops[3].op, "EXECUTE");
    CHECK_EQ_STR(h->ops[3].target, "shop.users");
    CHECK_EQ_INT(h->ops[3].op_class, OP_CLASS_READ);
    CHECK_EQ_INT(h->ops[3].items, 4);

    /* the prepared table is bounded: the oldest is forgotten */
    for (unsigned i = 0; i < 6; i++) {
        put32(&prepared, 0);
        prepared.n = 4;
        put16(&prepared, 4);
        put32(&prepared, 100 + i);
        exchange(h, 4, 6, CQL_OP_PREPARE, &prep, CQL_OP_RESULT, &prepared);
    }
    CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_PREPARED_OVERFLOW), 3);
    harness_close(h);
}

static void decoder_errors_and_destroy(void)
{
    struct harness *h = harness_open(0);
    handshake_v4(h);
    h->n = 0;
    query_body(&body_buf, "SELECT * FROM secret.data", 0, NULL);
    struct wire err = { .n = 0 };
    error_body(&err, CQL_ERROR_UNAUTHORIZED, "User x has no SELECT permission");
    exchange(h, 4, 2, CQL_OP_QUERY, &body_buf, CQL_OP_ERROR, &err);
    query_body(&body_buf, "SELEC oops", 0, NULL);
    error_body(&err, 0x2000, "line 1:0 no viable alternative");
    exchange(h, 4, 3, CQL_OP_QUERY, &body_buf, CQL_OP_ERROR, &err);
    struct wire change = { .n = 0 };
    put32(&change, CQL_RESULT_SCHEMA_CHANGE);
    putstr(&change, "DROPPED");
    putstr(&change, "TABLE");
    putstr(&change, "shop");
    putstr(&change, "users");
    query_body(&body_buf, "DROP TABLE shop.users", 0, NULL);
    exchange(h, 4, 4, CQL_OP_QUERY, &body_buf, CQL_OP_RESULT, &change);
    query_body(&body_buf, "TRUNCATE shop.orders", 0, NULL);
    void_body(&err);
    exchange(h, 4, 5, CQL_OP_QUERY, &body_buf, CQL_OP_RESULT, &err);
    CHECK_EQ_INT(h->n, 4);
    CHECK_EQ_INT(h->ops[0].status, OP_STATUS_DENIED);
    CHECK_EQ_INT(h->ops[0].status_code, 0x2100);
    CHECK_EQ_STR(h->ops[0].error_type, "unauthorized");
    CHECK_EQ_INT(h->ops[1].status, OP_STATUS_ERROR);
    CHECK_EQ_STR(h->ops[1].error_type, "syntax_error");
    CHECK_EQ_STR(h->ops[1].op, "SELEC");
    CHECK_EQ_STR(h->ops[2].op, "DROP TABLE");
    CHECK_EQ_INT(h->ops[2].op_class, OP_CLASS_DESTROY);
    CHECK_EQ_STR(h->ops[2].target, "shop.users");
    CHECK_EQ_STR(h->ops[3].op, "TRUNCATE");
    CHECK_EQ_INT(h->ops[3].op_class, OP_CLASS_DESTROY);
    CHECK_EQ_STR(h->ops[3].target, "shop.orders");
    harness_close(h);
}

/* Responses come back in any order; a stream reused before its answer
 * gives the first up; unpaired responses, EVENTs, and the pending bound. */
static void decoder_pairing(void)
{
    struct harness *h = harness_open(0);
    struct wire w = { .n = 0 };
    query_body(&body_buf, "SELECT * FROM a", 0, NULL);
    frame(&w, 4, 0, 1, CQL_OP_QUERY, &body_buf);
    query_body(&body_buf, "SELECT * FROM b", 0, NULL);
    frame(&w, 4, 0, 2, CQL_OP_QUERY, &body_buf);
    feed(h, DIR_TO_SERVER, &w);
    w.n = 0;
    rows_body(&body_buf, "k", "b", 2, NULL);
    frame(&w, 0x84, 0, 2, CQL_OP_RESULT, &body_buf);
    rows_body(&body_buf, "k", "a", 1, NULL);
    frame(&w, 0x84, 0, 1, CQL_OP_RESULT, &body_buf);
    frame(&w, 0x84, 0, 9, CQL_OP_RESULT, &body_buf);       /* nobody asked */
    struct wire ev = { .n = 0 };
    putstr(&ev, "SCHEMA_CHANGE");
    frame(&w, 0x84, 0, -1, CQL_OP_EVENT, &ev);
    feed(h, DIR_TO_CLIENT, &w);
    CHECK_EQ_INT(h->n, 4);
    CHECK_EQ_STR(h->ops[0].target, "b");
    CHECK_EQ_INT(h->ops[0].items, 2);
    CHECK_EQ_STR(h->ops[1].target, "a");
    CHECK_EQ_INT(h->ops[1].items, 1);
    CHECK_EQ_STR(h->ops[2].op, "RESULT");
    CHECK_EQ_INT(h->ops[2].flags, OP_FLAG_UNPAIRED);
    CHECK_EQ_INT(h->ops[2].items, 1);
    CHECK_EQ_STR(h->ops[3].op, "EVENT");
    CHECK_EQ_STR(h->ops[3].target, "SCHEMA_CHANGE");
    CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_UNPAIRED), 1);

    /* more requests than pending_max (8): the oldest leave unanswered */
    h->n = 0;
    w.n = 0;
    query_body(&body_buf, "SELECT * FROM a", 0, NULL);
    for (int s = 0; s < 10; s++)
        frame(&w, 4, 0, s, CQL_OP_QUERY, &body_buf);
    frame(&w, 4, 0, 9, CQL_OP_QUERY, &body_buf);   /* stream 9 again */
    feed(h, DIR_TO_SERVER, &w);
    CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_PENDING_OVERFLOW), 2);
    CHECK_EQ_INT(h->n, 3);
    CHECK_EQ_INT(h->ops[0].flags, OP_FLAG_NO_RESPONSE | OP_FLAG_MATCH_ALL);
    CHECK_EQ_INT(h->ops[2].status, OP_STATUS_UNKNOWN);
    harness_close(h);       /* the 8 left are emitted without a response */
    CHECK(1);
}

static void decoder_gaps(void)
{
    struct harness *h = harness_open(0);
    struct wire req = { .n = 0 }, resp = { .n = 0 };
    query_body(&body_buf, "SELECT * FROM ks.big", 0, NULL);
    frame(&req, 4, 0, 1, CQL_OP_QUERY, &body_buf);
    rows_body(&body_buf, "ks", "big", 100, NULL);
    frame(&resp, 0x84, 0, 1, CQL_OP_RESULT, &body_buf);
    feed(h, DIR_TO_SERVER, &req);
    /* a gap of known length inside the rows: the count stands, partial */
    size_t cut = resp.n - 400;
    cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, resp.b, cut);
    cassandra_decoder.gap(h->state, &h->ctx, DIR_TO_CLIENT, 100);
    cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, resp.b + cut + 100, 300);
    CHECK_EQ_INT(h->n, 1);
    CHECK_EQ_INT(h->ops[0].items, 100);
    CHECK_EQ_INT(h->ops[0].flags, OP_FLAG_PARTIAL | OP_FLAG_MATCH_ALL);
    /* a gap of unknown length: resync on the next plausible header */
    feed(h, DIR_TO_SERVER, &req);
    cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, resp.b, 30);
    cassandra_decoder.gap(h->state, &h->ctx, DIR_TO_CLIENT, 0);
    cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, resp.b + 200, 100);
    CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_RESYNC), 1);
    feed(h, DIR_TO_CLIENT, &resp);
    CHECK_EQ_INT(h->n, 2);
    CHECK_EQ_INT(h->ops[1].items, 100);
    CHECK_EQ_INT(h->ops[1].flags, OP_FLAG_PARTIAL | OP_FLAG_MATCH_ALL);
    /* a gap cutting a request: the next request is flagged */
    cassandra_decoder.data(h->state, &h->ctx, DIR_TO_SERVER, req.b, 12);
    cassandra_decoder.gap(h->state, &h->ctx, DIR_TO_SERVER, 0);
    feed(h, DIR_TO_SERVER, &req);
    feed(h, DIR_TO_CLIENT, &resp);
    CHECK_EQ_INT(h->n, 3);
    CHECK_EQ_INT(h->ops[2].flags, OP_FLAG_PARTIAL | OP_FLAG_MATCH_ALL);
    CHECK_EQ_INT(h->ops[2].items, 100);
    harness_close(h);
}

/* A long query text past head_max: what lies past it is lost, said. */
static void decoder_body_capped(void)
{
    struct harness *h = harness_open(0);
    h->params.head_max = 32;
    harness_reopen(h);
    char cql[200];
    memset(cql, ' ', sizeof(cql));
    memcpy(cql, "SELECT * FROM ks.t WHERE k IN (1", 32);
    cql[sizeof(cql) - 2] = ')';
    cql[sizeof(cql) - 1] = '\0';
    query_body(&body_buf, cql, 50, NULL);
    struct wire req = { .n = 0 };
    frame(&req, 4, 0, 1, CQL_OP_QUERY, &body_buf);
    cassandra_decoder.data(h->state, &h->ctx, DIR_TO_SERVER, req.b, 20);
    cassandra_decoder.data(h->state, &h->ctx, DIR_TO_SERVER, req.b + 20, req.n - 20);
    void_body(&body_buf);
    struct wire resp = { .n = 0 };
    frame(&resp, 0x84, 0, 1, CQL_OP_RESULT, &body_buf);
    feed(h, DIR_TO_CLIENT, &resp);
    CHECK_EQ_INT(h->n, 1);
    CHECK_EQ_STR(h->ops[0].op, "QUERY");       /* the text itself was cut */
    CHECK_EQ_INT(h->ops[0].flags, OP_FLAG_BODY_CAPPED);
    CHECK_EQ_INT(h->ops[0].page_size, -1);
    CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_BODY_CAPPED), 1);
    CHECK(cassandra_held_peak(h->state) <= 32 + 4 * (sizeof(struct op_record) + 64));
    harness_close(h);
}

/* v4 lz4 compression: a 4-byte length then an lz4 block. */
static void compress_lz4(const struct wire *in, struct wire *out)
{
    out->n = 0;
    put32(out, (uint32_t)in->n);
    int n = LZ4_compress_default((const char *)in->b, (char *)out->b + 4, (int)in->n,
                                 (int)(sizeof(out->b) - 4));
    out->n += (size_t)n;
}

static void compress_snappy(const struct wire *in, struct wire *out)
{
    size_t n = sizeof(out->b);
    snappy_compress((const char *)in->b, in->n, (char *)out->b, &n);
    out->n = n;
}

static void decoder_compression(void)
{
    const char *algos[] = { "lz4", "snappy" };
    void (*fns[])(const struct wire *, struct wire *) = { compress_lz4, compress_snappy };
    for (int i = 0; i < 2; i++) {
        struct harness *h = harness_open(0);
        startup_body(&body_buf, algos[i]);
        exchange(h, 4, 0, CQL_OP_STARTUP, &body_buf, CQL_OP_READY, &empty_body);
        static struct wire plain, packed, w;
        query_body(&plain, "SELECT * FROM ks.t", 1000, NULL);
        fns[i](&plain, &packed);
        w.n = 0;
        frame(&w, 4, CQL_FLAG_COMPRESSION, 1, CQL_OP_QUERY, &packed);
        feed(h, DIR_TO_SERVER, &w);
        rows_body(&plain, "ks", "t", 1000, "MORE");
        fns[i](&plain, &packed);
        w.n = 0;
        frame(&w, 0x84, CQL_FLAG_COMPRESSION, 1, CQL_OP_RESULT, &packed);
        cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, w.b, 100);
        cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, w.b + 100, w.n - 100);
        CHECK_EQ_INT(h->n, 2);
        CHECK_EQ_STR(h->ops[1].op, "SELECT");
        CHECK_EQ_STR(h->ops[1].target, "ks.t");
        CHECK_EQ_INT(h->ops[1].items, 1000);
        CHECK_EQ_INT(h->ops[1].page_size, 1000);
        CHECK_EQ_INT(h->ops[1].flags, OP_FLAG_COMPRESSED | OP_FLAG_MATCH_ALL);
        CHECK(h->ops[1].cursor_out[0] != '\0');
        CHECK_EQ_INT(h->ops[1].response_bytes, w.n);
        /* a corrupt body (past lz4's length, at snappy's first tag):
         * counted, the op still emitted */
        query_body(&plain, "SELECT * FROM ks.t", 1000, NULL);
        fns[i](&plain, &packed);
        size_t from = i == 0 ? 4 : 1;
        memset(packed.b + from, 0xff, packed.n - from);
        w.n = 0;
        frame(&w, 4, CQL_FLAG_COMPRESSION, 2, CQL_OP_QUERY, &packed);
        feed(h, DIR_TO_SERVER, &w);
        CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_DECOMPRESS_ERRORS), 1);

        /* past decompressed_max: too large */
        h->params.decompressed_max = 100;
        rows_body(&plain, "ks", "t", 1000, "MORE");
        fns[i](&plain, &packed);
        w.n = 0;
        frame(&w, 0x84, CQL_FLAG_COMPRESSION, 2, CQL_OP_RESULT, &packed);
        harness_reopen(h);
        startup_body(&body_buf, algos[i]);
        exchange(h, 4, 0, CQL_OP_STARTUP, &body_buf, CQL_OP_READY, &empty_body);
        h->n = 0;
        query_body(&body_buf, "SELECT * FROM ks.t", 0, NULL);
        struct wire q = { .n = 0 };
        frame(&q, 4, 0, 2, CQL_OP_QUERY, &body_buf);
        feed(h, DIR_TO_SERVER, &q);
        feed(h, DIR_TO_CLIENT, &w);
        CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_TOO_LARGE), 1);
        CHECK_EQ_INT(h->n, 1);
        CHECK_EQ_INT(h->ops[0].items, -1);
        CHECK_EQ_INT(h->ops[0].flags, OP_FLAG_COMPRESSED | OP_FLAG_MATCH_ALL);
        harness_close(h);
    }
}

/* A v5 segment around `payload`: plain, or lz4 when lz4 is set. */
static void segment(struct wire *w, const struct wire *payload, int self_contained, int lz4)
{
    static struct wire packed;
    const struct wire *p = payload;
    uint32_t ulen = 0;
    if (lz4) {
        packed.n = (size_t)LZ4_compress_default((const char *)payload->b, (char *)packed.b,
                                                (int)payload->n, (int)sizeof(packed.b));
        if (packed.n < payload->n) {
            p = &packed;
            ulen = (uint32_t)payload->n;
        }
    }
    uint64_t v = p->n;
    size_t hl = lz4 ? 5 : 3;
    if (lz4)
        v |= (uint64_t)ulen << 17;
    if (self_contained)
        v |= 1ull << (lz4 ? 34 : 17);
    uint8_t hb[5];
    for (size_t i = 0; i < hl; i++)
        hb[i] = (uint8_t)(v >> (8 * i));
    putn(w, hb, hl);
    uint32_t crc = cql_crc24(hb, hl);
    for (int i = 0; i < 3; i++)
        put8(w, (crc >> (8 * i)) & 0xff);
    putn(w, p->b, p->n);
    crc = cql_crc32(p->b, p->n);
    for (int i = 0; i < 4; i++)
        put8(w, (crc >> (8 * i)) & 0xff);
}

static void v5_session(int lz4)
{
    struct harness *h = harness_open(0);
    startup_body(&body_buf, lz4 ? "lz4" : NULL);
    exchange(h, 5, 0, CQL_OP_STARTUP, &body_buf, CQL_OP_READY, &empty_body);
    static struct wire frames, w, big;
    /* a query in a self-contained segment */
    struct wire qb = { .n = 0 };
    putlong(&qb, "SELECT * FROM system_schema.keyspaces");
    put16(&qb, 1);
    put32(&qb, 0x04);           /* v5: flags are an int */
    put32(&qb, 5000);
    frames.n = 0;
    frame(&frames, 5, 0, 1, CQL_OP_QUERY, &qb);
    w.n = 0;
    segment(&w, &frames, 1, lz4);
    feed(h, DIR_TO_SERVER, &w);
    /* its rows in two segments that are not self-contained, split */
    rows_body(&big, "system_schema", "keyspaces", 6000, NULL);
    frames.n = 0;
    frame(&frames, 0x85, 0, 1, CQL_OP_RESULT, &big);
    struct wire part1 = { .n = 0 }, part2 = { .n = 0 };
    putn(&part1, frames.b, 30000);
    putn(&part2, frames.b + 30000, frames.n - 30000);
    w.n = 0;
    segment(&w, &part1, 0, lz4);
    segment(&w, &part2, 0, lz4);
    for (size_t i = 0; i < w.n; i += 1000) {
        struct wire piece = { .n = 0 };
        putn(&piece, w.b + i, w.n - i < 1000 ? w.n - i : 1000);
        feed(h, DIR_TO_CLIENT, &piece);
    }
    CHECK_EQ_INT(h->n, 2);
    CHECK_EQ_STR(h->ops[1].op, "SELECT");
    CHECK_EQ_STR(h->ops[1].target, "system_schema.keyspaces");
    CHECK_EQ_INT(h->ops[1].op_class, OP_CLASS_ENUMERATE);
    CHECK_EQ_INT(h->ops[1].items, 6000);
    CHECK_EQ_INT(h->ops[1].page_size, 5000);
    CHECK_EQ_INT(h->ops[1].flags, lz4 ? OP_FLAG_COMPRESSED : 0);   /* 6000 rows compress */
    CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_CRC_ERRORS), 0);

    /* a payload CRC wrong: the segment is dropped, counted */
    frames.n = 0;
    frame(&frames, 5, 0, 2, CQL_OP_QUERY, &qb);
    w.n = 0;
    segment(&w, &frames, 1, lz4);
    w.b[w.n - 1] ^= 0x40;
    feed(h, DIR_TO_SERVER, &w);
    CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_CRC_ERRORS), 1);
    /* a header CRC wrong: counted, then the next good segment is found */
    w.n = 0;
    segment(&w, &frames, 1, lz4);
    w.b[lz4 ? 6 : 4] ^= 0x01;
    segment(&w, &frames, 1, lz4);
    feed(h, DIR_TO_SERVER, &w);
    CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_CRC_ERRORS), 2);
    rows_body(&big, "system_schema", "keyspaces", 3, NULL);
    frames.n = 0;
    frame(&frames, 0x85, 0, 2, CQL_OP_RESULT, &big);
    w.n = 0;
    segment(&w, &frames, 1, lz4);
    feed(h, DIR_TO_CLIENT, &w);
    CHECK_EQ_INT(h->n, 3);
    CHECK_EQ_INT(h->ops[2].items, 3);
    CHECK_EQ_INT(h->ops[2].flags & ~OP_FLAG_COMPRESSED, 0);
    harness_close(h);

    /* joined after the handshake: the segments are recognised by their CRC */
    h = harness_open(1);
    frames.n = 0;
    frame(&frames, 5, 0, 2, CQL_OP_QUERY, &qb);
    w.n = 0;
    segment(&w, &frames, 1, lz4);
    feed(h, DIR_TO_SERVER, &w);
    frames.n = 0;
    frame(&frames, 0x85, 0, 2, CQL_OP_RESULT, &big);
    w.n = 0;
    segment(&w, &frames, 1, lz4);
    cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, w.b, 4);
    cassandra_decoder.data(h->state, &h->ctx, DIR_TO_CLIENT, w.b + 4, w.n - 4);
    CHECK_EQ_INT(h->n, 1);
    CHECK_EQ_INT(h->ops[0].items, 3);
    CHECK_EQ_INT(h->ops[0].authenticated, OP_AUTH_UNKNOWN);
    CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_MALFORMED), 0);
    harness_close(h);
}

static void decoder_v5_segments(void)
{
    v5_session(0);
    v5_session(1);
}

static void decoder_batch_and_custom_payload(void)
{
    struct harness *h = harness_open(0);
    struct wire b = { .n = 0 };
    put8(&b, 0);            /* logged */
    put16(&b, 2);
    put8(&b, 0);
    putlong(&b, "INSERT INTO ks.t (a) VALUES (?)");
    put16(&b, 1);
    put32(&b, 4);
    put32(&b, 7);
    put8(&b, 0);
    putlong(&b, "DELETE FROM ks.t WHERE a = 1");
    put16(&b, 0);
    put16(&b, 1);
    put8(&b, 0);
    void_body(&body_buf);
    exchange(h, 4, 1, CQL_OP_BATCH, &b, CQL_OP_RESULT, &body_buf);
    /* tracing + warnings on the response, custom payload on the request */
    struct wire q = { .n = 0 };
    put16(&q, 1);
    putstr(&q, "k");
    put32(&q, 2);
    putn(&q, "vv", 2);
    query_body(&tmp_buf, "SELECT * FROM ks.u", 0, NULL);
    putn(&q, tmp_buf.b, tmp_buf.n);
    struct wire w = { .n = 0 };
    frame(&w, 4, CQL_FLAG_CUSTOM_PAYLOAD, 2, CQL_OP_QUERY, &q);
    feed(h, DIR_TO_SERVER, &w);
    struct wire r = { .n = 0 };
    putn(&r, "0123456789abcdef", 16);
    put16(&r, 1);
    putstr(&r, "Aggregation query used without partition key");
    rows_body(&tmp_buf, "ks", "u", 9, NULL);
    putn(&r, tmp_buf.b, tmp_buf.n);
    w.n = 0;
    frame(&w, 0x84, CQL_FLAG_TRACING | CQL_FLAG_WARNING, 2, CQL_OP_RESULT, &r);
    feed(h, DIR_TO_CLIENT, &w);
    CHECK_EQ_INT(h->n, 2);
    CHECK_EQ_STR(h->ops[0].op, "BATCH");
    CHECK_EQ_STR(h->ops[0].target, "ks.t");
    CHECK_EQ_INT(h->ops[0].op_class, OP_CLASS_WRITE);
    CHECK_EQ_STR(h->ops[1].op, "SELECT");
    CHECK_EQ_STR(h->ops[1].target, "ks.u");
    CHECK_EQ_INT(h->ops[1].items, 9);
    harness_close(h);
}

static void decoder_garbage_and_description(void)
{
    struct harness *h = harness_open(0);
    struct wire w = { .n = 0 };
    putn(&w, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    feed(h, DIR_TO_SERVER, &w);
    CHECK_EQ_INT(counter(h, CASSANDRA_COUNTER_MALFORMED), 1);
    CHECK_EQ_INT(h->n, 0);
    harness_close(h);

    CHECK_EQ_STR(cassandra_decoder.name, "cassandra");
    CHECK_EQ_INT(cassandra_decoder.app, APP_CASSANDRA);
    CHECK_EQ_INT(cassandra_decoder.port_count, 1);
    CHECK_EQ_INT(cassandra_decoder.ports[0], 9042);
    CHECK_EQ_STR(cassandra_decoder.ndpi_names[0], "Cassandra");

    /* defaults when no params are given */
    struct decoder_ctx ctx = { .now_us = 1, .emit = collect };
    void *s = cassandra_decoder.open(&ctx);
    CHECK(s != NULL);
    cassandra_decoder.close(s, &ctx);
}

static void decoder_probe(void)
{
    static const uint8_t options[] = { 0x04, 0, 0, 0, CQL_OP_OPTIONS, 0, 0, 0, 0 };
    enum probe_result (*probe)(const uint8_t *, size_t, const uint8_t *, size_t) =
        cassandra_decoder.probe;
    CHECK_EQ_INT(probe(options, sizeof(options), NULL, 0), PROBE_YES);
    for (size_t k = 1; k < sizeof(options); k++)
        CHECK_EQ_INT(probe(options, k, NULL, 0), PROBE_NEED_MORE);
    uint8_t v5[9];
    memcpy(v5, options, 9);
    v5[0] = 0x05;
    v5[1] = CQL_FLAG_BETA;
    CHECK_EQ_INT(probe(v5, 9, NULL, 0), PROBE_YES);
    struct wire w = { .n = 0 };
    startup_body(&body_buf, NULL);
    frame(&w, 4, 0, 0, CQL_OP_STARTUP, &body_buf);
    CHECK_EQ_INT(probe(w.b, w.n, NULL, 0), PROBE_YES);
    /* a query first is not an opening; nor is a body on OPTIONS */
    w.n = 0;
    query_body(&body_buf, "SELECT 1", 0, NULL);
    frame(&w, 4, 0, 0, CQL_OP_QUERY, &body_buf);
    CHECK_EQ_INT(probe(w.b, w.n, NULL, 0), PROBE_NO);
    uint8_t bad[9];
    memcpy(bad, options, 9);
    bad[8] = 4;
    CHECK_EQ_INT(probe(bad, 9, NULL, 0), PROBE_NO);
    CHECK_EQ_INT(probe((const uint8_t *)"GET / HTTP/1.1\r\n", 16, NULL, 0), PROBE_NO);
    CHECK_EQ_INT(probe((const uint8_t *)"\x16\x03\x01", 3, NULL, 0), PROBE_NO);
    /* the server side: READY with an empty body */
    static const uint8_t ready[] = { 0x84, 0, 0, 0, CQL_OP_READY, 0, 0, 0, 0 };
    CHECK_EQ_INT(probe(NULL, 0, ready, sizeof(ready)), PROBE_YES);
    CHECK_EQ_INT(probe(NULL, 0, NULL, 0), PROBE_NEED_MORE);
}

int main(void)
{
    check_binary = "test_cassandra";
    RUN(parse_header_forms);
    RUN(crc_vectors);
    RUN(statement_scan_forms);
    RUN(parse_bodies);
    RUN(decoder_handshake_and_paged_read);
    RUN(decoder_split_at_every_byte);
    RUN(decoder_auth);
    RUN(decoder_prepared_and_keyspace);
    RUN(decoder_errors_and_destroy);
    RUN(decoder_pairing);
    RUN(decoder_gaps);
    RUN(decoder_body_capped);
    RUN(decoder_compression);
    RUN(decoder_v5_segments);
    RUN(decoder_batch_and_custom_payload);
    RUN(decoder_garbage_and_description);
    RUN(decoder_probe);
    CHECK_EXIT();
}
