/* test_http.c - the HTTP/1.x head parsers and the "http" decoder.
 *
 * Decoder tests drive the decoder through a test ctx whose emit appends
 * ops to an array, then check the ops and the counters. */
#include <stdlib.h>

#include "../../decoders/http.h"
#include "check.h"

/* ------------------------------------------------------------ test ctx */

#define TEST_OPS_MAX 64

struct test_ctx {
    struct decoder_ctx ctx;
    struct decoder_params params;
    struct stats stats;
    struct op_record ops[TEST_OPS_MAX];
    size_t op_count;
    size_t op_dropped;
    void *state;
};

static void test_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    struct test_ctx *t = ctx->owner;
    if (t->op_count < TEST_OPS_MAX)
        t->ops[t->op_count++] = *op;
    else
        t->op_dropped++;
}

static struct test_ctx *test_open_limits(size_t header_max, size_t pending_max)
{
    struct test_ctx *t = calloc(1, sizeof(*t));
    if (t == NULL)
        abort();
    t->params.header_max = header_max;
    t->params.pending_max = pending_max;
    t->ctx.params = &t->params;
    t->ctx.stats = &t->stats;
    t->ctx.emit = test_emit;
    t->ctx.owner = t;
    t->ctx.now_us = 1000;
    t->state = http_decoder.open(&t->ctx);
    if (t->state == NULL)
        abort();
    return t;
}

static struct test_ctx *test_open(void)
{
    return test_open_limits(16384, 64);
}

static void send_bytes(struct test_ctx *t, enum decoder_dir dir, const char *buf, size_t len)
{
    http_decoder.data(t->state, &t->ctx, dir, (const uint8_t *)buf, len);
}

static void to_server(struct test_ctx *t, const char *text)
{
    send_bytes(t, DIR_TO_SERVER, text, strlen(text));
}

static void to_client(struct test_ctx *t, const char *text)
{
    send_bytes(t, DIR_TO_CLIENT, text, strlen(text));
}

static uint64_t stat(struct test_ctx *t, enum stat_id id)
{
    return stats_get(&t->stats, id);
}

/* Closes the flow (emitting what is pending) and frees everything. */
static void test_close(struct test_ctx *t)
{
    if (t->state != NULL)
        http_decoder.close(t->state, &t->ctx);
    t->state = NULL;
}

static void test_free(struct test_ctx *t)
{
    test_close(t);
    free(t);
}

static bool ops_equal(const struct op_record *a, const struct op_record *b)
{
    return a->app == b->app && a->op_class == b->op_class &&
           a->authenticated == b->authenticated && a->status == b->status &&
           a->flags == b->flags && a->status_code == b->status_code &&
           strcmp(a->op, b->op) == 0 && strcmp(a->target, b->target) == 0 &&
           strcmp(a->client_id, b->client_id) == 0 &&
           strcmp(a->auth_scheme, b->auth_scheme) == 0 &&
           strcmp(a->continuation, b->continuation) == 0 &&
           a->request_bytes == b->request_bytes &&
           a->response_bytes == b->response_bytes && a->items == b->items &&
           a->page_size == b->page_size && a->ts_request_us == b->ts_request_us &&
           a->ts_response_us == b->ts_response_us &&
           strcmp(a->http.method, b->http.method) == 0 &&
           strcmp(a->http.uri, b->http.uri) == 0;
}

/* ------------------------------------------------------------ parsers */

static const char valid_request[] =
    "POST /logs/_search?scroll=1m HTTP/1.1\r\n"
    "Host: es.example:9200\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Content-Type:application/json  \r\n"
    "Content-Length: 12\r\n"
    "\r\n";

static void test_parse_request_head(void)
{
    struct http_head h;
    size_t len = strlen(valid_request);
    ptrdiff_t n = http_parse_request_head(valid_request, len, &h);
    CHECK_EQ_INT(n, len);
    CHECK(http_span_ieq(h.method, "POST"));
    CHECK(http_span_ieq(h.target, "/logs/_search?scroll=1m"));
    CHECK_EQ_INT(h.minor_version, 1);
    CHECK_EQ_INT(h.header_count, 4);
    CHECK_EQ_INT(h.content_length, 12);
    CHECK(!h.chunked && !h.transfer_encoding && !h.connection_close);
    const struct http_header *ct = http_head_find(&h, "CONTENT-TYPE");
    CHECK(ct != NULL && http_span_ieq(ct->value, "application/json"));
    CHECK(http_head_find(&h, "cookie") == NULL);
    /* trailing bytes after the head are not consumed */
    char more[512];
    snprintf(more, sizeof(more), "%s{\"query\":{}}", valid_request);
    CHECK_EQ_INT(http_parse_request_head(more, strlen(more), &h), len);
}

static void test_parse_need_more_on_every_prefix(void)
{
    static const char response[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
    static const char bare_lf[] = "GET / HTTP/1.0\nHost: a\n\n";
    struct http_head h;
    for (size_t i = 0; i < strlen(valid_request); i++)
        CHECK_EQ_INT(http_parse_request_head(valid_request, i, &h), HTTP_NEED_MORE);
    for (size_t i = 0; i < strlen(response); i++)
        CHECK_EQ_INT(http_parse_response_head(response, i, &h), HTTP_NEED_MORE);
    for (size_t i = 0; i < strlen(bare_lf); i++)
        CHECK_EQ_INT(http_parse_request_head(bare_lf, i, &h), HTTP_NEED_MORE);
    CHECK_EQ_INT(http_parse_response_head(response, strlen(response), &h), strlen(response));
    CHECK_EQ_INT(h.status, 200);
    CHECK(h.chunked);
    CHECK_EQ_INT(http_parse_request_head(bare_lf, strlen(bare_lf), &h), strlen(bare_lf));
    CHECK_EQ_INT(h.minor_version, 0);
}

static void test_parse_malformed(void)
{
    static const char *const requests[] = {
        " GET / HTTP/1.1\r\n\r\n",              /* leading space */
        "GET  / HTTP/1.1\r\n\r\n",              /* two spaces */
        "GET / HTTP/2.0\r\n\r\n",               /* not 1.x */
        "GET / HTTX/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",              /* junk after version */
        "GET / HTTP/1.1\rX\n\r\n",              /* CR not followed by LF */
        "G(T / HTTP/1.1\r\n\r\n",               /* not a token */
        "GET /a\x01 HTTP/1.1\r\n\r\n",          /* control char in target */
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",   /* space before colon */
        "GET / HTTP/1.1\r\n: x\r\n\r\n",        /* empty name */
        "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",  /* obs-fold */
        "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length:\r\n\r\n",
    };
    static const char *const responses[] = {
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 Odd\r\n\r\n",
        "HTTP/1.1200 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX\r\n\r\n",
    };
    struct http_head h;
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
        ptrdiff_t n = http_parse_request_head(requests[i], strlen(requests[i]), &h);
        if (n != HTTP_MALFORMED)
            fprintf(stderr, "request %zu parsed as %td\n", i, n);
        CHECK_EQ_INT(n, HTTP_MALFORMED);
    }
    for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++) {
        ptrdiff_t n = http_parse_response_head(responses[i], strlen(responses[i]), &h);
        if (n != HTTP_MALFORMED)
            fprintf(stderr, "response %zu parsed as %td\n", i, n);
        CHECK_EQ_INT(n, HTTP_MALFORMED);
    }
    /* Two equal Content-Length values are one length. */
    static const char same[] = "GET / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n";
    CHECK_EQ_INT(http_parse_request_head(same, strlen(same), &h), strlen(same));
    CHECK_EQ_INT(h.content_length, 3);
}

static void test_parse_status_line_variants(void)
{
    struct http_head h;
    static const char no_reason[] = "HTTP/1.1 404\r\n\r\n";
    CHECK_EQ_INT(http_parse_response_head(no_reason, strlen(no_reason), &h), strlen(no_reason));
    CHECK_EQ_INT(h.status, 404);
    CHECK_EQ_INT(h.reason.len, 0);
    static const char reason[] = "HTTP/1.0 503 Service Unavailable\r\nConnection: close\r\n\r\n";
    CHECK_EQ_INT(http_parse_response_head(reason, strlen(reason), &h), strlen(reason));
    CHECK(http_span_ieq(h.reason, "service unavailable"));
    CHECK(h.connection_close);
    CHECK_EQ_INT(h.content_length, -1);
}

static void test_parse_transfer_encoding(void)
{
    struct http_head h;
    static const char last_chunked[] =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n";
    CHECK(http_parse_response_head(last_chunked, strlen(last_chunked), &h) > 0);
    CHECK(h.transfer_encoding && h.chunked);
    static const char not_last[] =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n";
    CHECK(http_parse_response_head(not_last, strlen(not_last), &h) > 0);
    CHECK(h.transfer_encoding && !h.chunked);
}

/* Headers past HTTP_HEADERS_MAX are not kept, but still frame the body. */
static void test_parse_many_headers(void)
{
    char buf[8192];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTP_HEADERS_MAX + 6; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "X-H%d: %d\r\n", i, i);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Content-Length: 7\r\n\r\n");
    struct http_head h;
    CHECK_EQ_INT(http_parse_request_head(buf, n, &h), n);
    CHECK_EQ_INT(h.header_count, HTTP_HEADERS_MAX);
    CHECK_EQ_INT(h.header_dropped, 7);
    CHECK_EQ_INT(h.content_length, 7);
}

static void test_parse_chunk_size(void)
{
    uint64_t size = 0;
    CHECK_EQ_INT(http_parse_chunk_size("1a\r\n", 4, &size), 4);
    CHECK_EQ_INT(size, 26);
    CHECK_EQ_INT(http_parse_chunk_size("FF;name=\"v\";x\r\nrest", 19, &size), 15);
    CHECK_EQ_INT(size, 255);
    CHECK_EQ_INT(http_parse_chunk_size("0 \n", 3, &size), 3);
    CHECK_EQ_INT(size, 0);
    static const char line[] = "10;ext=1\r\n";
    for (size_t i = 0; i < strlen(line); i++)
        CHECK_EQ_INT(http_parse_chunk_size(line, i, &size), HTTP_NEED_MORE);
    CHECK_EQ_INT(http_parse_chunk_size("x\r\n", 3, &size), HTTP_MALFORMED);
    CHECK_EQ_INT(http_parse_chunk_size("\r\n", 2, &size), HTTP_MALFORMED);
    CHECK_EQ_INT(http_parse_chunk_size("1g\r\n", 4, &size), HTTP_MALFORMED);
    CHECK_EQ_INT(http_parse_chunk_size("1\rx", 3, &size), HTTP_MALFORMED);
    CHECK_EQ_INT(http_parse_chunk_size("10000000000000000\r\n", 19, &size), HTTP_MALFORMED);
    CHECK_EQ_INT(http_parse_chunk_size("ffffffffffffffff\r\n", 18, &size), 18);
    CHECK(size == UINT64_MAX);
}

static struct http_span span_str(const char *s)
{
    struct http_span sp = { s, strlen(s) };
    return sp;
}

static void test_helpers(void)
{
    struct http_span s = http_auth_scheme(span_str("Bearer abc.def"));
    CHECK(http_span_ieq(s, "bearer"));
    CHECK_EQ_INT(http_auth_scheme(span_str("secrettoken")).len, 0);
    CHECK_EQ_INT(http_auth_scheme(span_str("")).len, 0);
    CHECK_EQ_INT(http_auth_scheme(span_str("a/b c")).len, 0);

    CHECK(http_span_ieq(http_target_path(span_str("/idx/_search?q=1")), "/idx/_search"));
    CHECK(http_span_ieq(http_target_path(span_str("/a#frag")), "/a"));
    CHECK(http_span_ieq(http_target_path(span_str("http://h:9200/x/y?z")), "/x/y"));
    CHECK(http_span_ieq(http_target_path(span_str("http://h:9200")), "/"));
    CHECK(http_span_ieq(http_target_path(span_str("http://h?x")), "/"));
    CHECK(http_span_ieq(http_target_path(span_str("*")), "*"));
    CHECK(http_span_ieq(http_target_path(span_str("")), ""));

    CHECK(http_value_has_token(span_str("keep-alive, Upgrade"), "upgrade"));
    CHECK(http_value_has_token(span_str(" close "), "close"));
    CHECK(!http_value_has_token(span_str("closed"), "close"));
    CHECK(!http_value_has_token(span_str(""), "close"));
}

static void test_registry(void)
{
    CHECK(decoder_find("http") == &http_decoder);
    CHECK(decoder_find("nope") == NULL);
    const struct decoder *const *all = decoder_all();
    size_t n = 0;
    while (all[n] != NULL)
        n++;
    CHECK(n >= 1);
    CHECK(all[0] == &http_decoder);
}

/* ------------------------------------------------------------ decoder */

static const char get_req[] = "GET /index/_doc/1?pretty HTTP/1.1\r\nHost: db\r\n"
                              "User-Agent: python-requests/2.31\r\n\r\n";
static const char ok_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

static void test_simple_get(void)
{
    struct test_ctx *t = test_open();
    t->ctx.now_us = 10;
    to_server(t, get_req);
    CHECK_EQ_INT(t->op_count, 0);
    t->ctx.now_us = 20;
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 1);
    const struct op_record *op = &t->ops[0];
    CHECK_EQ_INT(op->app, APP_HTTP);
    CHECK_EQ_STR(op->op, "GET");
    CHECK_EQ_STR(op->http.method, "GET");
    CHECK_EQ_STR(op->http.uri, "/index/_doc/1?pretty");
    CHECK_EQ_STR(op->target, "/index/_doc/1");
    CHECK_EQ_STR(op->client_id, "python-requests/2.31");
    CHECK_EQ_INT(op->status_code, 200);
    CHECK_EQ_INT(op->status, OP_STATUS_OK);
    CHECK_EQ_INT(op->flags, 0);
    CHECK_EQ_INT(op->authenticated, OP_AUTH_UNKNOWN);
    CHECK_EQ_STR(op->auth_scheme, "");
    CHECK_EQ_INT(op->request_bytes, strlen(get_req));
    CHECK_EQ_INT(op->response_bytes, strlen(ok_resp));
    CHECK_EQ_INT(op->ts_request_us, 10);
    CHECK_EQ_INT(op->ts_response_us, 20);
    CHECK_EQ_INT(op->items, -1);
    CHECK_EQ_INT(op->page_size, -1);
    test_close(t);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED) + stat(t, STAT_HTTP_RESYNC), 0);
    test_free(t);
}

static void test_keep_alive(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "GET /a HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
    t->ctx.now_us = 2000;
    to_server(t, "DELETE /b HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    to_server(t, "PUT /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    to_client(t, "HTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\nx");
    CHECK_EQ_INT(t->op_count, 3);
    CHECK_EQ_STR(t->ops[0].target, "/a");
    CHECK_EQ_INT(t->ops[0].status, OP_STATUS_ERROR);
    CHECK_EQ_STR(t->ops[1].op, "DELETE");
    CHECK_EQ_INT(t->ops[1].status, OP_STATUS_DENIED);
    CHECK_EQ_INT(t->ops[1].ts_request_us, 2000);
    CHECK_EQ_STR(t->ops[2].op, "PUT");
    CHECK_EQ_INT(t->ops[2].request_bytes, strlen("PUT /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"));
    CHECK_EQ_INT(t->ops[2].status_code, 500);
    CHECK_EQ_INT(t->ops[2].status, OP_STATUS_ERROR);
    test_free(t);
}

static void test_pipelining(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 4\r\n\r\n"
                 "abcdHEAD /3 HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 0);
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
                 "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nBB"
                 "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 3);
    CHECK_EQ_STR(t->ops[0].target, "/1");
    CHECK_EQ_STR(t->ops[1].target, "/2");
    CHECK_EQ_INT(t->ops[1].status_code, 201);
    CHECK_EQ_INT(t->ops[1].request_bytes, strlen("POST /2 HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd"));
    CHECK_EQ_STR(t->ops[2].target, "/3");
    CHECK_EQ_INT(t->ops[2].flags, OP_FLAG_HEAD_ONLY);
    to_server(t, "GET /4 HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 4);
    CHECK_EQ_STR(t->ops[3].target, "/4");
    test_free(t);
}

static const char chunked_resp[] =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;name=value\r\nhello\r\n"
    "1A ; quoted=\"a;b\"\r\nabcdefghijklmnopqrstuvwxyz\r\n"
    "0\r\nX-Checksum: 1234\r\nX-Other: y\r\n\r\n";

static void test_chunked_response(void)
{
    struct test_ctx *t = test_open();
    to_server(t, get_req);
    to_client(t, chunked_resp);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].response_bytes, strlen(chunked_resp));
    CHECK_EQ_INT(t->ops[0].flags, 0);
    /* the connection goes on */
    to_server(t, get_req);
    to_client(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED) + stat(t, STAT_HTTP_RESYNC), 0);
    test_free(t);
}

static void test_chunked_request(void)
{
    static const char req[] = "POST /idx/_bulk HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "4\r\nabcd\r\n3\nxyz\n0\r\n\r\n";
    struct test_ctx *t = test_open();
    to_server(t, req);
    to_server(t, get_req);
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_STR(t->ops[0].target, "/idx/_bulk");
    CHECK_EQ_INT(t->ops[0].request_bytes, strlen(req));
    CHECK_EQ_STR(t->ops[1].op, "GET");
    CHECK_EQ_INT(t->ops[1].request_bytes, strlen(get_req));
    CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED), 0);
    test_free(t);
}

static void test_head_response(void)
{
    struct test_ctx *t = test_open();
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n";
    to_server(t, "HEAD /idx HTTP/1.1\r\n\r\n");
    to_client(t, resp);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_HEAD_ONLY);
    CHECK_EQ_INT(t->ops[0].response_bytes, strlen(resp));
    /* The next response is framed from the right place. */
    to_server(t, get_req);
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_INT(t->ops[1].flags, 0);
    CHECK_EQ_INT(t->ops[1].response_bytes, strlen(ok_resp));
    test_free(t);
}

static void test_204_and_304(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "DELETE /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
                 "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_INT(t->ops[0].status_code, 204);
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_HEAD_ONLY);
    CHECK_EQ_INT(t->ops[1].status_code, 304);
    CHECK_EQ_INT(t->ops[1].flags, OP_FLAG_HEAD_ONLY);
    CHECK_EQ_INT(t->ops[1].status, OP_STATUS_OK);
    test_free(t);
}

static void test_100_continue(void)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    static const char req[] = "PUT /idx/_doc/1 HTTP/1.1\r\nExpect: 100-continue\r\n"
                              "Content-Length: 2\r\n\r\n";
    struct test_ctx *t = test_open();
    to_server(t, req);
    to_client(t, cont);
    CHECK_EQ_INT(t->op_count, 0);
    to_server(t, "{}");
    to_client(t, "HTTP/1.1 102 Processing\r\n\r\n");
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].status_code, 200);
    CHECK_EQ_INT(t->ops[0].request_bytes, strlen(req) + 2);
    CHECK_EQ_INT(t->ops[0].response_bytes,
                 strlen(cont) + strlen("HTTP/1.1 102 Processing\r\n\r\n") + strlen(ok_resp));
    CHECK_EQ_INT(t->ops[0].flags, 0);
    CHECK_EQ_INT(stat(t, STAT_HTTP_UNPAIRED_RESPONSE), 0);
    test_free(t);
}

static void test_until_close(void)
{
    static const char resp[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nsome body";
    struct test_ctx *t = test_open();
    to_server(t, "GET /old HTTP/1.0\r\n\r\n");
    to_client(t, resp);
    to_client(t, " and more");
    CHECK_EQ_INT(t->op_count, 0);
    t->ctx.now_us = 5000;
    http_decoder.end(t->state, &t->ctx, DIR_TO_CLIENT);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].flags, 0);
    CHECK_EQ_INT(t->ops[0].response_bytes, strlen(resp) + strlen(" and more"));
    CHECK_EQ_INT(t->ops[0].ts_response_us, 5000);
    test_close(t);
    CHECK_EQ_INT(t->op_count, 1);
    test_free(t);

    /* Without an `end`, close completes it. */
    t = test_open();
    to_server(t, "GET /old HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz");
    test_close(t);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].flags, 0);
    CHECK_EQ_INT(t->ops[0].status_code, 200);
    test_free(t);
}

static const char exchange_client[] =
    "GET /a HTTP/1.1\r\nUser-Agent: x\r\nAuthorization: Basic Zm9vOmJhcg==\r\n\r\n"
    "POST /b/_search HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"
    "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n"
    "\r\nHEAD /d HTTP/1.1\n\n";
static const char exchange_server[] =
    "HTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\n\r\nno!"
    "HTTP/1.1 100 Continue\r\n\r\n"
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n"
    "HTTP/1.1 201 Created\nContent-Length: 1\n\nz"
    "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";

static void run_exchange(struct test_ctx *t, size_t piece)
{
    size_t cl = strlen(exchange_client), sl = strlen(exchange_server);
    for (size_t i = 0; i < cl; i += piece)
        send_bytes(t, DIR_TO_SERVER, exchange_client + i, cl - i < piece ? cl - i : piece);
    for (size_t i = 0; i < sl; i += piece)
        send_bytes(t, DIR_TO_CLIENT, exchange_server + i, sl - i < piece ? sl - i : piece);
    test_close(t);
}

static void test_byte_at_a_time(void)
{
    struct test_ctx *whole = test_open();
    struct test_ctx *bytes = test_open();
    struct test_ctx *threes = test_open();
    run_exchange(whole, SIZE_MAX / 2);
    run_exchange(bytes, 1);
    run_exchange(threes, 3);
    CHECK_EQ_INT(whole->op_count, 4);
    CHECK_EQ_INT(bytes->op_count, whole->op_count);
    CHECK_EQ_INT(threes->op_count, whole->op_count);
    for (size_t i = 0; i < whole->op_count; i++) {
        CHECK(ops_equal(&whole->ops[i], &bytes->ops[i]));
        CHECK(ops_equal(&whole->ops[i], &threes->ops[i]));
    }
    CHECK_EQ_INT(whole->ops[0].status, OP_STATUS_DENIED);
    CHECK_EQ_STR(whole->ops[2].target, "/c");
    CHECK_EQ_INT(whole->ops[2].status_code, 201);
    CHECK_EQ_INT(whole->ops[3].flags, OP_FLAG_HEAD_ONLY);
    uint64_t req_total = 0, resp_total = 0;
    for (size_t i = 0; i < whole->op_count; i++) {
        req_total += whole->ops[i].request_bytes;
        resp_total += whole->ops[i].response_bytes;
    }
    /* every byte is counted once, but the blank line before HEAD */
    CHECK_EQ_INT(req_total, strlen(exchange_client) - 2);
    CHECK_EQ_INT(resp_total, strlen(exchange_server));
    CHECK_EQ_INT(stat(bytes, STAT_HTTP_MALFORMED) + stat(bytes, STAT_HTTP_RESYNC), 0);
    test_free(whole);
    test_free(bytes);
    test_free(threes);
}

static bool bytes_contain(const void *hay, size_t hay_len, const char *needle)
{
    return memmem(hay, hay_len, needle, strlen(needle)) != NULL;
}

static void test_authorization_scheme_only(void)
{
    static const char *const cases[][2] = {
        { "Basic ZWxhc3RpYzpjaGFuZ2VtZQ==", "basic" },
        { "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "bearer" },
        { "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==", "apikey" },
        { "NEGOTIATE YIIJvwYGKwYBBQUCoIIJszCCCa", "negotiate" },
        { "SecretWithoutScheme", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct test_ctx *t = test_open();
        char req[512];
        snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nAuthorization: %s\r\n\r\n", cases[i][0]);
        to_server(t, req);
        to_client(t, ok_resp);
        CHECK_EQ_INT(t->op_count, 1);
        const struct op_record *op = &t->ops[0];
        CHECK(op->flags & OP_FLAG_AUTH_HEADER);
        CHECK_EQ_INT(op->authenticated, OP_AUTH_YES);
        CHECK_EQ_STR(op->auth_scheme, cases[i][1]);
        const char *cred = strchr(cases[i][0], ' ');
        cred = cred != NULL ? cred + 1 : cases[i][0];
        CHECK(!bytes_contain(op, sizeof(*op), cred));
        /* nor any 6-byte piece of it */
        for (size_t j = 0; j + 6 <= strlen(cred); j++) {
            char piece[7];
            memcpy(piece, cred + j, 6);
            piece[6] = '\0';
            CHECK(!bytes_contain(op, sizeof(*op), piece));
        }
        test_free(t);
    }
}

static void test_long_uri_truncated(void)
{
    char req[2048];
    char path[1200];
    memset(path, 'a', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    snprintf(req, sizeof(req), "GET %s?q=1 HTTP/1.1\r\n\r\n", path);
    struct test_ctx *t = test_open();
    to_server(t, req);
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK(t->ops[0].flags & OP_FLAG_TRUNCATED);
    CHECK_EQ_INT(strlen(t->ops[0].http.uri), OP_URI_MAX - 1);
    CHECK_EQ_INT(strlen(t->ops[0].target), OP_TARGET_MAX - 1);
    CHECK_EQ_INT(t->ops[0].request_bytes, strlen(req));
    test_free(t);
}

static void test_header_too_large(void)
{
    struct test_ctx *t = test_open_limits(256, 64);
    char big[1024];
    size_t n = (size_t)snprintf(big, sizeof(big), "GET /big HTTP/1.1\r\n");
    while (n < 600)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Pad: 0123456789012345678901234\r\n");
    snprintf(big + n, sizeof(big) - n, "\r\n");
    to_server(t, big);
    to_server(t, "GET /next HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(stat(t, STAT_HTTP_HEADER_TOO_LARGE), 1);
    CHECK_EQ_INT(stat(t, STAT_HTTP_RESYNC), 1);
    to_client(t, "HTTP/1.1 431 Too Large\r\nContent-Length: 0\r\n\r\n");
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 2);
    /* the oversized request is kept as partial, from its request line */
    CHECK_EQ_STR(t->ops[0].target, "/big");
    CHECK(t->ops[0].flags & OP_FLAG_PARTIAL);
    CHECK_EQ_INT(t->ops[0].status_code, 431);
    CHECK_EQ_STR(t->ops[1].target, "/next");
    CHECK_EQ_INT(t->ops[1].flags, 0);
    CHECK_EQ_INT(t->ops[1].status_code, 200);
    test_free(t);
}

static void test_malformed_request_line(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "\x16\x03\x01\x02\x05 garbage\r\nmore garbage\r\nGET /ok HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED), 1);
    CHECK_EQ_INT(stat(t, STAT_HTTP_RESYNC), 1);
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_STR(t->ops[0].target, "/ok");
    CHECK_EQ_INT(t->ops[0].flags, 0);
    CHECK_EQ_INT(stat(t, STAT_HTTP_UNPAIRED_RESPONSE), 0);

    /* a bad header: the request line still pairs with its response */
    to_server(t, "GET /bad HTTP/1.1\r\nBad Header: x\r\n\r\nGET /good HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED), 2);
    to_client(t, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 3);
    CHECK_EQ_STR(t->ops[1].target, "/bad");
    CHECK_EQ_INT(t->ops[1].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(t->ops[1].status, OP_STATUS_ERROR);
    CHECK_EQ_STR(t->ops[2].target, "/good");
    test_free(t);
}

static void test_malformed_response_resync(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\nbody\r\n"
                 "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED), 1);
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_STR(t->ops[0].target, "/1");
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(t->ops[0].status_code, 200);
    CHECK_EQ_STR(t->ops[1].target, "/2");
    CHECK_EQ_INT(t->ops[1].status_code, 404);
    CHECK_EQ_INT(t->ops[1].flags, 0);
    test_free(t);
}

static void test_gap_in_body(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789");
    http_decoder.gap(t->state, &t->ctx, DIR_TO_SERVER, 80);
    to_server(t, "0123456789GET /b HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
    http_decoder.gap(t->state, &t->ctx, DIR_TO_CLIENT, 990);
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_STR(t->ops[0].target, "/a");
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(t->ops[0].request_bytes,
                 strlen("POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\n") + 100);
    CHECK_EQ_INT(t->ops[0].response_bytes,
                 strlen("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n") + 1000);
    CHECK_EQ_STR(t->ops[1].target, "/b");
    CHECK_EQ_INT(t->ops[1].flags, 0);
    CHECK_EQ_INT(stat(t, STAT_HTTP_RESYNC), 0);

    /* a gap inside a chunk of known size is counted the same way */
    to_server(t, get_req);
    to_client(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n01");
    http_decoder.gap(t->state, &t->ctx, DIR_TO_CLIENT, 14);
    to_client(t, "\r\n0\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 3);
    CHECK_EQ_INT(t->ops[2].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(stat(t, STAT_HTTP_RESYNC), 0);
    test_free(t);
}

static void test_gap_in_head(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "GET /a HTTP/1.1\r\nHost: x");
    http_decoder.gap(t->state, &t->ctx, DIR_TO_SERVER, 30);
    to_server(t, "GET /b HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(stat(t, STAT_HTTP_RESYNC), 1);
    to_client(t, ok_resp);
    to_client(t, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_STR(t->ops[0].target, "/a");
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(t->ops[0].status_code, 200);
    CHECK_EQ_STR(t->ops[1].target, "/b");
    CHECK_EQ_INT(t->ops[1].flags, 0);
    CHECK_EQ_INT(t->ops[1].status_code, 404);

    /* A gap of unknown size in a response body: partial, then resync on
     * the next status line, which may follow body bytes on the same line
     * only after a line end. */
    to_server(t, "GET /c HTTP/1.1\r\n\r\nGET /d HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
    http_decoder.gap(t->state, &t->ctx, DIR_TO_CLIENT, 0);
    to_client(t, "xx\r\n0\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 4);
    CHECK_EQ_STR(t->ops[2].target, "/c");
    CHECK_EQ_INT(t->ops[2].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_STR(t->ops[3].target, "/d");
    CHECK_EQ_INT(t->ops[3].status_code, 201);
    CHECK_EQ_INT(stat(t, STAT_HTTP_RESYNC), 2);
    test_free(t);
}

static void test_gap_lost_whole_messages(void)
{
    struct test_ctx *t = test_open();
    /* a request lost whole still takes its place in the queue */
    to_server(t, "GET /a HTTP/1.1\r\n\r\n");
    http_decoder.gap(t->state, &t->ctx, DIR_TO_SERVER, 40);
    to_server(t, "GET /c HTTP/1.1\r\n\r\n");
    to_client(t, ok_resp);
    /* and a response lost whole answers the oldest request */
    http_decoder.gap(t->state, &t->ctx, DIR_TO_CLIENT, 40);
    to_client(t, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 3);
    CHECK_EQ_STR(t->ops[0].target, "/a");
    CHECK_EQ_INT(t->ops[0].flags, 0);
    CHECK_EQ_STR(t->ops[1].op, "");
    CHECK_EQ_INT(t->ops[1].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(t->ops[1].status, OP_STATUS_UNKNOWN);
    CHECK_EQ_STR(t->ops[2].target, "/c");
    CHECK_EQ_INT(t->ops[2].status_code, 202);
    test_free(t);
}

static void test_pending_overflow(void)
{
    struct test_ctx *t = test_open_limits(16384, 2);
    to_server(t, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(stat(t, STAT_HTTP_PENDING_OVERFLOW), 1);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_STR(t->ops[0].target, "/1");
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_NO_RESPONSE);
    CHECK_EQ_INT(t->ops[0].status, OP_STATUS_UNKNOWN);
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_STR(t->ops[1].target, "/2");
    test_close(t);
    CHECK_EQ_INT(t->op_count, 3);
    CHECK_EQ_STR(t->ops[2].target, "/3");
    CHECK_EQ_INT(t->ops[2].flags, OP_FLAG_NO_RESPONSE);
    test_free(t);

    /* The queue grows past its first allocation up to the limit. */
    t = test_open_limits(16384, 40);
    for (int i = 0; i < 30; i++)
        to_server(t, get_req);
    for (int i = 0; i < 30; i++)
        to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 30);
    CHECK_EQ_INT(stat(t, STAT_HTTP_PENDING_OVERFLOW), 0);
    CHECK_EQ_INT(stat(t, STAT_HTTP_UNPAIRED_RESPONSE), 0);
    test_free(t);
}

static void test_unpaired_response(void)
{
    struct test_ctx *t = test_open();
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    CHECK_EQ_INT(stat(t, STAT_HTTP_UNPAIRED_RESPONSE), 1);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_UNPAIRED);
    CHECK_EQ_INT(t->ops[0].status_code, 200);
    CHECK_EQ_INT(t->ops[0].response_bytes, strlen("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
    CHECK_EQ_STR(t->ops[0].op, "");
    test_free(t);
}

static void test_pending_at_close(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nPOST /3 HTTP/1.1\r\n"
                 "Content-Length: 50\r\n\r\nabc");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
    CHECK_EQ_INT(t->op_count, 0);
    test_close(t);
    CHECK_EQ_INT(t->op_count, 3);
    CHECK_EQ_STR(t->ops[0].target, "/1");
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_PARTIAL);   /* response cut */
    CHECK_EQ_INT(t->ops[0].status_code, 200);
    CHECK_EQ_STR(t->ops[1].target, "/2");
    CHECK_EQ_INT(t->ops[1].flags, OP_FLAG_NO_RESPONSE);
    CHECK_EQ_STR(t->ops[2].target, "/3");
    CHECK_EQ_INT(t->ops[2].flags, OP_FLAG_NO_RESPONSE | OP_FLAG_PARTIAL);
    CHECK_EQ_INT(t->ops[2].request_bytes,
                 strlen("POST /3 HTTP/1.1\r\nContent-Length: 50\r\n\r\nabc"));
    test_free(t);
}

static void test_bytes_exact(void)
{
    static const char req[] = "POST /i/_bulk HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "a;ext\r\n0123456789\r\n0\r\nX-T: v\r\n\r\n";
    static const char resp[] = "HTTP/1.1 100 Continue\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\nabc\r\n0\r\n\r\n";
    struct test_ctx *t = test_open();
    to_server(t, "\r\n");       /* blank lines between messages are not counted */
    to_server(t, req);
    to_client(t, resp);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].request_bytes, strlen(req));
    CHECK_EQ_INT(t->ops[0].response_bytes, strlen(resp));
    test_free(t);
}

static void test_tunnel(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    to_client(t, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
    to_server(t, "\x81\x05hello GET / HTTP/1.1\r\n\r\n");
    to_client(t, "\x81\x02hi HTTP/1.1 200 OK\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].status_code, 101);
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_HEAD_ONLY);
    CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED), 0);
    test_close(t);
    CHECK_EQ_INT(t->op_count, 1);
    test_free(t);

    t = test_open();
    to_server(t, "CONNECT db:9200 HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01");
    to_server(t, "\x16\x03\x01\x02");
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_STR(t->ops[0].target, "db:9200");
    CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED), 0);
    test_free(t);
}

static void test_end_cuts_response(void)
{
    struct test_ctx *t = test_open();
    to_server(t, get_req);
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123");
    http_decoder.end(t->state, &t->ctx, DIR_TO_CLIENT);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_PARTIAL);
    to_client(t, "456789");      /* after end: ignored */
    test_close(t);
    CHECK_EQ_INT(t->op_count, 1);
    test_free(t);
}

static void test_end_cuts_head(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "GET /cut HTTP/1.1\r\nHost: x\r\n");
    http_decoder.end(t->state, &t->ctx, DIR_TO_SERVER);
    to_client(t, "HTTP/1.1 400 Bad Request\r\nContent-Len");
    http_decoder.end(t->state, &t->ctx, DIR_TO_CLIENT);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_STR(t->ops[0].target, "/cut");
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(t->ops[0].status_code, 400);
    test_close(t);
    CHECK_EQ_INT(t->op_count, 1);
    test_free(t);
}

static void test_malformed_chunks(void)
{
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct test_ctx *t = test_open();
        to_server(t, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
        to_client(t, bad[i]);
        to_client(t, "\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED), 1);
        CHECK_EQ_INT(stat(t, STAT_HTTP_RESYNC), 1);
        CHECK_EQ_INT(t->op_count, 2);
        CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_PARTIAL);
        CHECK_EQ_INT(t->ops[0].status_code, 200);
        CHECK_EQ_STR(t->ops[1].target, "/2");
        CHECK_EQ_INT(t->ops[1].status_code, 404);
        test_free(t);
    }
    /* a trailer section longer than header_max */
    struct test_ctx *t = test_open_limits(64, 4);
    to_server(t, "GET / HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
    for (int i = 0; i < 10; i++)
        to_client(t, "X-Trailer: 0123456789\r\n");
    CHECK_EQ_INT(stat(t, STAT_HTTP_HEADER_TOO_LARGE), 1);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_PARTIAL);
    test_free(t);
}

/* A server may answer before the request body is all sent (413, 401). */
static void test_early_response(void)
{
    static const char head[] = "POST /up HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
    struct test_ctx *t = test_open();
    to_server(t, head);
    to_server(t, "012");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab");
    to_server(t, "3456789");            /* counted on the op being answered */
    to_client(t, "cd");
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].request_bytes, strlen(head) + 10);

    to_server(t, head);
    to_server(t, "012");
    to_client(t, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_INT(t->ops[1].request_bytes, strlen(head) + 3);
    CHECK_EQ_INT(t->ops[1].status, OP_STATUS_ERROR);
    to_server(t, "3456789GET /after HTTP/1.1\r\n\r\n");   /* framing holds */
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 3);
    CHECK_EQ_STR(t->ops[2].target, "/after");
    CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED) + stat(t, STAT_HTTP_RESYNC), 0);
    test_free(t);
}

/* RFC 9112 6.3: a request whose Transfer-Encoding is not chunked has no
 * knowable length. */
static void test_request_transfer_encoding_not_chunked(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b\x08"
                 "\nGET /y HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(stat(t, STAT_HTTP_MALFORMED), 1);
    to_client(t, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_STR(t->ops[0].target, "/x");
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_STR(t->ops[1].target, "/y");
    test_free(t);
}

static void test_status_classes(void)
{
    static const int codes[] = { 200, 302, 401, 403, 404, 429, 500, 503, 999 };
    static const int want[] = { OP_STATUS_OK, OP_STATUS_OK, OP_STATUS_DENIED,
                                OP_STATUS_DENIED, OP_STATUS_ERROR, OP_STATUS_ERROR,
                                OP_STATUS_ERROR, OP_STATUS_ERROR, OP_STATUS_UNKNOWN };
    struct test_ctx *t = test_open();
    char resp[128];
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        to_server(t, get_req);
        snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", codes[i]);
        to_client(t, resp);
        CHECK_EQ_INT(t->op_count, i + 1);
        CHECK_EQ_INT(t->ops[i].status_code, codes[i]);
        CHECK_EQ_INT(t->ops[i].status, want[i]);
    }
    test_free(t);
}

static void test_absolute_form_target(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "GET http://10.0.0.1:9200/_cat/indices?v HTTP/1.1\r\n\r\n");
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_STR(t->ops[0].http.uri, "http://10.0.0.1:9200/_cat/indices?v");
    CHECK_EQ_STR(t->ops[0].target, "/_cat/indices");
    test_free(t);
}

/* Regression guard: a tiny header_max still lets heads that fit through. */
static void test_small_header_max(void)
{
    struct test_ctx *t = test_open_limits(1, 1);
    to_server(t, "GET / HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\n\r\n");
    test_close(t);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].status_code, 200);
    test_free(t);
}

int main(void)
{
    check_binary = "test_http";
    RUN(test_parse_request_head);
    RUN(test_parse_need_more_on_every_prefix);
    RUN(test_parse_malformed);
    RUN(test_parse_status_line_variants);
    RUN(test_parse_transfer_encoding);
    RUN(test_parse_many_headers);
    RUN(test_parse_chunk_size);
    RUN(test_helpers);
    RUN(test_registry);
    RUN(test_simple_get);
    RUN(test_keep_alive);
    RUN(test_pipelining);
    RUN(test_chunked_response);
    RUN(test_chunked_request);
    RUN(test_head_response);
    RUN(test_204_and_304);
    RUN(test_100_continue);
    RUN(test_until_close);
    RUN(test_byte_at_a_time);
    RUN(test_authorization_scheme_only);
    RUN(test_long_uri_truncated);
    RUN(test_header_too_large);
    RUN(test_malformed_request_line);
    RUN(test_malformed_response_resync);
    RUN(test_gap_in_body);
    RUN(test_gap_in_head);
    RUN(test_gap_lost_whole_messages);
    RUN(test_pending_overflow);
    RUN(test_unpaired_response);
    RUN(test_pending_at_close);
    RUN(test_bytes_exact);
    RUN(test_tunnel);
    RUN(test_end_cuts_response);
    RUN(test_end_cuts_head);
    RUN(test_malformed_chunks);
    RUN(test_early_response);
    RUN(test_request_transfer_encoding_not_chunked);
    RUN(test_status_classes);
    RUN(test_absolute_form_target);
    RUN(test_small_header_max);
    CHECK_EXIT();
}
