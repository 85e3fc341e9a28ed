/* test_http.c - the HTTP/1.x head parsers and the "http" decoder.
 *
 * Decoder tests drive the decoder through a test ctx whose emit appends
 * ops to an array, then check the ops and the counters. */
#include <stdlib.h>
#include <zlib.h>

#include "../../decoders/http/http.h"
#include "check.h"

/* ------------------------------------------------------------ test ctx */

#define TEST_OPS_MAX 64

struct test_ctx {
    struct decoder_ctx ctx;
    struct http_params params;
    struct stats stats;
    struct op_record ops[TEST_OPS_MAX];
    size_t op_count;
    size_t op_dropped;
    void *state;
};

/* Observer tests see emissions in their transcript. */
static void (*emit_spy)(const struct op_record *op);

static void test_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    struct test_ctx *t = ctx->owner;
    if (emit_spy != NULL)
        emit_spy(op);
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
    decoder_ctx_bind(&t->ctx, &http_plain_decoder, &t->params, &t->stats);
    t->ctx.emit = test_emit;
    t->ctx.owner = t;
    t->ctx.now_us = 1000;
    t->state = http_plain_decoder.open(&t->ctx);
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
    http_plain_decoder.data(t->state, &t->ctx, dir, (const uint8_t *)buf, len);
}

static void to_server(struct test_ctx *t, const char *text)
{
    send_bytes(t, DIR_TO_SERVER, text, strlen(text));
}

static void to_client(struct test_ctx *t, const char *text)
{
    send_bytes(t, DIR_TO_CLIENT, text, strlen(text));
}

static uint64_t stat(struct test_ctx *t, enum http_counter id)
{
    return decoder_counter_get(&t->stats, &http_plain_decoder, id);
}

/* Closes the flow (emitting what is pending) and frees everything. */
static void test_close(struct test_ctx *t)
{
    if (t->state != NULL)
        http_plain_decoder.close(t->state, &t->ctx);
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
    CHECK(decoder_find("http") != NULL);
    CHECK(decoder_find("http-plain") == NULL);   /* not registered */
    CHECK(decoder_find("nope") == NULL);
    const struct decoder *const *all = decoder_all();
    size_t n = 0;
    while (all[n] != NULL)
        n++;
    CHECK(n >= 1);
    CHECK(strcmp(all[0]->name, "http") == 0);
}

/* ------------------------------------------------------------ decoder */

static const char get_req[] = "GET /index/_doc/1?pretty HTTP/1.1\r\nHost: db\r\n"
                              "User-Agent: python-requests/2.31\r\n\r\n";
static const char ok_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

/* A head buffer grown by one large head is given back once that head is
 * done (decoders/http/http.c, head_reset): the budget's charge returns to
 * what the flow held before; a head of a few KiB keeps its buffer. Both
 * directions, a lost head too. */
static void test_head_buffer_given_back(void)
{
    struct membudget budget;
    membudget_init(&budget, 64u << 20, NULL);
    struct test_ctx *t = calloc(1, sizeof(*t));
    CHECK(t != NULL);
    t->params.header_max = 16384;
    t->params.pending_max = 64;
    decoder_ctx_bind(&t->ctx, &http_plain_decoder, &t->params, &t->stats);
    t->ctx.emit = test_emit;
    t->ctx.owner = t;
    t->ctx.budget = &budget;
    t->state = http_plain_decoder.open(&t->ctx);
    CHECK(t->state != NULL);
    size_t opened = budget.used;

    static char big[12000];
    size_t n = (size_t)snprintf(big, sizeof(big), "GET /i/_search HTTP/1.1\r\nHost: es\r\n");
    while (n + 40 < sizeof(big) - 100)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "X-Filler-%05zu: %020zu\r\n", n, n);
    send_bytes(t, DIR_TO_SERVER, big, n);
    CHECK(budget.used >= opened + 8192);   /* held while the head is open */
    to_server(t, "\r\n");
    CHECK_EQ_INT(budget.used, opened);   /* given back */
    size_t queued = budget.used;

    /* A large response head, the same. */
    memcpy(big, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", 37);
    big[37] = 'X';
    send_bytes(t, DIR_TO_CLIENT, big, n);
    CHECK(budget.used >= queued + 8192);
    to_client(t, "\r\n");
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(budget.used, opened);

    /* A head of 1.5 KiB keeps its (2 KiB) buffer: no reallocation per head. */
    n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: %01500d\r\n\r\n", 0);
    to_server(t, big);
    size_t kept = budget.used;
    CHECK(kept >= opened + 1536);
    to_server(t, big);
    CHECK_EQ_INT(budget.used, kept);

    /* A head too large is lost (counted), and its buffer given back too. */
    t->params.header_max = 4096;
    static char huge[6000];
    memset(huge, 'a', sizeof(huge));
    memcpy(huge, "GET /x HTTP/1.1\r\nY: ", 21);
    send_bytes(t, DIR_TO_SERVER, huge, sizeof(huge));
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_HEADER_TOO_LARGE), 1);
    CHECK(budget.used <= kept);
    test_free(t);
    CHECK_EQ_INT(budget.used, 0);
}

/* Regression (fuzz_http): a first line longer than BUF_KEEP_MAX found
 * malformed once complete. Giving the grown buffer back inside that step
 * made the bytes it consumed be measured against the new buffer; the rest
 * of the call must be read from right after that line. */
static void test_long_bad_first_line_then_request(void)
{
    struct membudget budget;
    membudget_init(&budget, 1u << 20, NULL);
    struct test_ctx *t = calloc(1, sizeof(*t));
    CHECK(t != NULL);
    t->params.header_max = 16384;
    t->params.pending_max = 64;
    decoder_ctx_bind(&t->ctx, &http_plain_decoder, &t->params, &t->stats);
    t->ctx.emit = test_emit;
    t->ctx.owner = t;
    t->ctx.budget = &budget;
    t->state = http_plain_decoder.open(&t->ctx);
    static char msg[8000];
    memset(msg, 'x', 5000);
    memcpy(msg, "GARBAGE ", 8);
    size_t n = 5000;
    n += (size_t)snprintf(msg + n, sizeof(msg) - n,
                          "\nGET /ok HTTP/1.1\r\nHost: es\r\n\r\n");
    send_bytes(t, DIR_TO_SERVER, msg, n);
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED), 1);
    CHECK_EQ_INT(t->op_count, 1);
    if (t->op_count == 1)
        CHECK_EQ_STR(t->ops[0].http.uri, "/ok");
    test_free(t);
    CHECK_EQ_INT(budget.used, 0);
}

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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED) + stat(t, HTTP_COUNTER_RESYNC), 0);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED) + stat(t, HTTP_COUNTER_RESYNC), 0);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED), 0);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_UNPAIRED_RESPONSE), 0);
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
    http_plain_decoder.end(t->state, &t->ctx, DIR_TO_CLIENT);
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
    CHECK_EQ_INT(stat(bytes, HTTP_COUNTER_MALFORMED) + stat(bytes, HTTP_COUNTER_RESYNC), 0);
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

/* Credentials on a request are a login attempt (issue 14): 401 refused it,
 * any other answer (403 included: a permission, not a login) accepted it;
 * no credentials, no outcome; no answer, no outcome. */
static void test_login_outcome(void)
{
    static const struct { const char *auth, *status; uint8_t result; } cases[] = {
        { "Authorization: Basic Zm9vOmJhcg==\r\n", "401 Unauthorized", OP_AUTH_RESULT_FAILURE },
        { "Authorization: Basic Zm9vOmJhcg==\r\n", "403 Forbidden", OP_AUTH_RESULT_SUCCESS },
        { "Authorization: Bearer abc\r\n", "200 OK", OP_AUTH_RESULT_SUCCESS },
        { "Authorization: Basic Zm9vOmJhcg==\r\n", "500 Internal Server Error", OP_AUTH_RESULT_SUCCESS },
        { "", "401 Unauthorized", OP_AUTH_RESULT_NONE },
        { "", "200 OK", OP_AUTH_RESULT_NONE },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct test_ctx *t = test_open();
        char req[256], resp[256];
        snprintf(req, sizeof(req), "GET /x HTTP/1.1\r\n%s\r\n", cases[i].auth);
        snprintf(resp, sizeof(resp), "HTTP/1.1 %s\r\nContent-Length: 0\r\n\r\n", cases[i].status);
        to_server(t, req);
        to_client(t, resp);
        CHECK_EQ_INT(t->op_count, 1);
        CHECK_EQ_INT(t->ops[0].auth_result, cases[i].result);
        test_free(t);
    }
    struct test_ctx *t = test_open();
    to_server(t, "GET /x HTTP/1.1\r\nAuthorization: Basic Zm9vOmJhcg==\r\n\r\n");
    test_close(t);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK(t->ops[0].flags & OP_FLAG_NO_RESPONSE);
    CHECK_EQ_INT(t->ops[0].auth_result, OP_AUTH_RESULT_NONE);
    test_free(t);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_HEADER_TOO_LARGE), 1);
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_RESYNC), 1);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED), 1);
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_RESYNC), 1);
    to_client(t, ok_resp);
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_STR(t->ops[0].target, "/ok");
    CHECK_EQ_INT(t->ops[0].flags, 0);
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_UNPAIRED_RESPONSE), 0);

    /* a bad header: the request line still pairs with its response */
    to_server(t, "GET /bad HTTP/1.1\r\nBad Header: x\r\n\r\nGET /good HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED), 2);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED), 1);
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
    http_plain_decoder.gap(t->state, &t->ctx, DIR_TO_SERVER, 80);
    to_server(t, "0123456789GET /b HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
    http_plain_decoder.gap(t->state, &t->ctx, DIR_TO_CLIENT, 990);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_RESYNC), 0);

    /* a gap inside a chunk of known size is counted the same way */
    to_server(t, get_req);
    to_client(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n01");
    http_plain_decoder.gap(t->state, &t->ctx, DIR_TO_CLIENT, 14);
    to_client(t, "\r\n0\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 3);
    CHECK_EQ_INT(t->ops[2].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_RESYNC), 0);
    test_free(t);
}

static void test_gap_in_head(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "GET /a HTTP/1.1\r\nHost: x");
    http_plain_decoder.gap(t->state, &t->ctx, DIR_TO_SERVER, 30);
    to_server(t, "GET /b HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_RESYNC), 1);
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
    http_plain_decoder.gap(t->state, &t->ctx, DIR_TO_CLIENT, 0);
    to_client(t, "xx\r\n0\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 4);
    CHECK_EQ_STR(t->ops[2].target, "/c");
    CHECK_EQ_INT(t->ops[2].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_STR(t->ops[3].target, "/d");
    CHECK_EQ_INT(t->ops[3].status_code, 201);
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_RESYNC), 2);
    test_free(t);
}

static void test_gap_lost_whole_messages(void)
{
    struct test_ctx *t = test_open();
    /* a request lost whole still takes its place in the queue */
    to_server(t, "GET /a HTTP/1.1\r\n\r\n");
    http_plain_decoder.gap(t->state, &t->ctx, DIR_TO_SERVER, 40);
    to_server(t, "GET /c HTTP/1.1\r\n\r\n");
    to_client(t, ok_resp);
    /* and a response lost whole answers the oldest request */
    http_plain_decoder.gap(t->state, &t->ctx, DIR_TO_CLIENT, 40);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_PENDING_OVERFLOW), 1);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_PENDING_OVERFLOW), 0);
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_UNPAIRED_RESPONSE), 0);
    test_free(t);
}

static void test_unpaired_response(void)
{
    struct test_ctx *t = test_open();
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_UNPAIRED_RESPONSE), 1);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED), 0);
    test_close(t);
    CHECK_EQ_INT(t->op_count, 1);
    test_free(t);

    t = test_open();
    to_server(t, "CONNECT db:9200 HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01");
    to_server(t, "\x16\x03\x01\x02");
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_STR(t->ops[0].target, "db:9200");
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED), 0);
    test_free(t);
}

static void test_end_cuts_response(void)
{
    struct test_ctx *t = test_open();
    to_server(t, get_req);
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123");
    http_plain_decoder.end(t->state, &t->ctx, DIR_TO_CLIENT);
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
    http_plain_decoder.end(t->state, &t->ctx, DIR_TO_SERVER);
    to_client(t, "HTTP/1.1 400 Bad Request\r\nContent-Len");
    http_plain_decoder.end(t->state, &t->ctx, DIR_TO_CLIENT);
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
        CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED), 1);
        CHECK_EQ_INT(stat(t, HTTP_COUNTER_RESYNC), 1);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_HEADER_TOO_LARGE), 1);
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
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED) + stat(t, HTTP_COUNTER_RESYNC), 0);
    test_free(t);
}

/* RFC 9112 6.3: a request whose Transfer-Encoding is not chunked has no
 * knowable length. */
static void test_request_transfer_encoding_not_chunked(void)
{
    struct test_ctx *t = test_open();
    to_server(t, "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n\x1f\x8b\x08"
                 "\nGET /y HTTP/1.1\r\n\r\n");
    CHECK_EQ_INT(stat(t, HTTP_COUNTER_MALFORMED), 1);
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

/* ------------------------------------------------------------ observer
 *
 * A recording observer writes a transcript of its calls, one token each,
 * consecutive body calls of a side summed into one token:
 *   QH:<method>  QB:<bytes>  QE  RH:<status>  RB:<bytes>  RE  OP
 * An end token gets "!" when the op is partial, "-" when it has no
 * response, "z" when compressed, "c" when its body was capped. OP is the
 * emission. Body bytes are kept per side to compare with what was sent. */

#define REC_TEXT_MAX 4096
#define REC_BODY_MAX (256 * 1024)

struct recorder {
    char text[REC_TEXT_MAX];
    size_t text_len;
    char last_kind;                /* 'q' or 'r' after a body call, else 0 */
    size_t last_token_at;          /* where that body token starts */
    size_t last_bytes;
    uint8_t body[2][REC_BODY_MAX];
    size_t body_len[2];
    size_t body_calls[2];
    int closes;
    void *state;                   /* the state block every call must get */
    bool state_mismatch;
    bool state_was_zero;
    bool write_ops;                /* the hooks write into ops */
    int64_t request_index;         /* request_head calls so far */
};

static struct recorder rec;

struct rec_state {
    uint64_t calls;
    unsigned char scratch[120];
};

static void rec_token(const char *fmt, const char *arg, long long n)
{
    if (rec.text_len + 64 >= REC_TEXT_MAX)
        return;
    rec.last_kind = 0;
    int w = snprintf(rec.text + rec.text_len, REC_TEXT_MAX - rec.text_len, "%s", " ");
    rec.text_len += (size_t)w;
    w = arg != NULL ? snprintf(rec.text + rec.text_len, 64, fmt, arg)
                    : snprintf(rec.text + rec.text_len, 64, fmt, n);
    rec.text_len += (size_t)w;
}

static void rec_flags(const struct op_record *op)
{
    char marks[8];
    size_t n = 0;
    if (op->flags & OP_FLAG_PARTIAL)
        marks[n++] = '!';
    if (op->flags & OP_FLAG_NO_RESPONSE)
        marks[n++] = '-';
    if (op->flags & OP_FLAG_COMPRESSED)
        marks[n++] = 'z';
    if (op->flags & OP_FLAG_BODY_CAPPED)
        marks[n++] = 'c';
    marks[n] = '\0';
    if (n > 0 && rec.text_len + n + 1 < REC_TEXT_MAX) {
        memcpy(rec.text + rec.text_len, marks, n + 1);
        rec.text_len += n;
    }
}

static void rec_touch(void *st)
{
    struct rec_state *s = st;
    if (rec.state == NULL) {
        rec.state = st;
        rec.state_was_zero = s->calls == 0;
        for (size_t i = 0; i < sizeof(s->scratch); i++)
            if (s->scratch[i] != 0)
                rec.state_was_zero = false;
    } else if (rec.state != st) {
        rec.state_mismatch = true;
    }
    s->calls++;
    memset(s->scratch, 0xa5, sizeof(s->scratch));
}

static void rec_body(void *st, int side, const uint8_t *buf, size_t len)
{
    rec_touch(st);
    char kind = side == 0 ? 'q' : 'r';
    CHECK(len > 0);
    if (rec.last_kind == kind) {
        rec.last_bytes += len;
        rec.text_len = rec.last_token_at;
    } else {
        rec.last_bytes = len;
    }
    size_t at = rec.text_len;
    rec_token(side == 0 ? "QB:%lld" : "RB:%lld", NULL, (long long)rec.last_bytes);
    rec.last_kind = kind;
    rec.last_token_at = at;
    rec.body_calls[side]++;
    size_t room = REC_BODY_MAX - rec.body_len[side];
    size_t n = len < room ? len : room;
    memcpy(rec.body[side] + rec.body_len[side], buf, n);
    rec.body_len[side] += n;
}

static void rec_request_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                             const struct http_head *head)
{
    (void)ctx;
    rec_touch(st);
    CHECK(http_span_ieq(head->method, op->http.method));
    rec_token("QH:%s", op->http.method, 0);
    if (rec.write_ops)
        op->page_size = rec.request_index;
    rec.request_index++;
}

static void rec_request_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                             const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)op;
    rec_body(st, 0, buf, len);
}

static void rec_request_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    (void)ctx;
    rec_touch(st);
    rec_token("%s", "QE", 0);
    rec_flags(op);
    if (rec.write_ops)
        op->offset = op->page_size + 100;
}

static void rec_response_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                              const struct http_head *head)
{
    (void)ctx;
    rec_touch(st);
    CHECK_EQ_INT(op->status_code, head->status);
    rec_token("RH:%lld", NULL, head->status);
}

static void rec_response_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                              const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)op;
    rec_body(st, 1, buf, len);
}

static void rec_response_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    (void)ctx;
    rec_touch(st);
    rec_token("%s", "RE", 0);
    rec_flags(op);
    if (rec.write_ops) {
        op->items = 7;
        op->app = APP_ELASTICSEARCH;
    }
}

static void rec_close(void *st)
{
    rec_touch(st);
    rec.closes++;
}

static void rec_emit(const struct op_record *op)
{
    (void)op;
    rec_token("%s", "OP", 0);
}

static const struct http_observer rec_observer = {
    .state_size = sizeof(struct rec_state),
    .request_head = rec_request_head,
    .request_body = rec_request_body,
    .request_end = rec_request_end,
    .response_head = rec_response_head,
    .response_body = rec_response_body,
    .response_end = rec_response_end,
    .close = rec_close,
};

/* The same without body hooks: the framer must neither inflate nor flag. */
static const struct http_observer rec_observer_heads = {
    .state_size = sizeof(struct rec_state),
    .request_head = rec_request_head,
    .request_end = rec_request_end,
    .response_head = rec_response_head,
    .response_end = rec_response_end,
    .close = rec_close,
};

static struct test_ctx *obs_open_with(const struct http_observer *obs, size_t body_max,
                                      size_t pending_max)
{
    memset(&rec, 0, sizeof(rec));
    emit_spy = rec_emit;
    struct test_ctx *t = calloc(1, sizeof(*t));
    if (t == NULL)
        abort();
    t->params.header_max = 16384;
    t->params.pending_max = pending_max;
    t->params.body_max = body_max;
    decoder_ctx_bind(&t->ctx, &http_plain_decoder, &t->params, &t->stats);
    t->ctx.emit = test_emit;
    t->ctx.owner = t;
    t->ctx.now_us = 1000;
    t->state = http_open_with(&t->ctx, obs, APP_HTTP);
    if (t->state == NULL)
        abort();
    return t;
}

static struct test_ctx *obs_open(size_t body_max)
{
    return obs_open_with(&rec_observer, body_max, 64);
}

static void obs_free(struct test_ctx *t)
{
    test_free(t);
    emit_spy = NULL;
}

/* The transcript without its leading blank. */
static const char *transcript(void)
{
    return rec.text_len > 0 ? rec.text + 1 : rec.text;
}

static bool body_is(int side, const void *want, size_t len)
{
    return rec.body_len[side] == len && memcmp(rec.body[side], want, len) == 0;
}

/* Sends a head then `len` body bytes, in pieces of `piece` (0: whole). */
static void send_message(struct test_ctx *t, enum decoder_dir dir, const char *head,
                         const uint8_t *body, size_t len, size_t piece)
{
    send_bytes(t, dir, head, strlen(head));
    if (piece == 0)
        piece = len > 0 ? len : 1;
    for (size_t i = 0; i < len; i += piece)
        send_bytes(t, dir, (const char *)body + i, len - i < piece ? len - i : piece);
}

/* A JSON-like text of `len` bytes that compresses well but not trivially. */
static uint8_t *make_text(size_t len)
{
    uint8_t *p = malloc(len);
    if (p == NULL)
        abort();
    size_t i = 0;
    for (unsigned n = 0; i < len; n++) {
        char line[128];
        int w = snprintf(line, sizeof(line),
                         "{\"_index\":\"support\",\"_id\":\"%u\",\"_source\":{\"case\":%u}}\n",
                         n * 7919u % 100003u, n);
        for (int k = 0; k < w && i < len; k++)
            p[i++] = (uint8_t)line[k];
    }
    return p;
}

/* Compresses with deflate(): window_bits 31 gzip, 15 zlib, -15 raw. */
static size_t deflate_with(const uint8_t *in, size_t len, int window_bits,
                           uint8_t *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        abort();
    size_t n = zs.total_out;
    deflateEnd(&zs);
    return n;
}

#define TEXT_LEN 60000        /* several inflate output chunks */
#define ZBUF_MAX (TEXT_LEN + 1024)

static void test_observer_keep_alive(void)
{
    struct test_ctx *t = obs_open(1 << 20);
    to_server(t, "GET /a HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    to_server(t, "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    to_client(t, "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    CHECK_EQ_STR(transcript(), "QH:GET QE RH:200 RB:5 RE OP QH:POST QB:3 QE RH:201 RB:2 RE OP");
    CHECK(body_is(0, "abc", 3));
    CHECK(body_is(1, "hellook", 7));
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_INT(t->ops[0].flags, 0);
    CHECK_EQ_INT(t->ops[1].flags, 0);
    CHECK_EQ_INT(rec.closes, 0);
    test_close(t);
    CHECK_EQ_INT(rec.closes, 1);
    CHECK(rec.state_was_zero);
    CHECK(!rec.state_mismatch);
    CHECK_EQ_STR(transcript(), "QH:GET QE RH:200 RB:5 RE OP QH:POST QB:3 QE RH:201 RB:2 RE OP");
    obs_free(t);
}

/* Ten pipelined requests grow the queue (4 at first) while the observer
 * writes into the queued ops: every write must reach the emitted op. */
static void test_observer_pipelined(void)
{
    struct test_ctx *t = obs_open(1 << 20);
    rec.write_ops = true;
    char req[64];
    for (int i = 0; i < 10; i++) {
        if (i % 3 == 1)
            snprintf(req, sizeof(req), "POST /%d HTTP/1.1\r\nContent-Length: 2\r\n\r\n%02d", i, i);
        else
            snprintf(req, sizeof(req), "GET /%d HTTP/1.1\r\n\r\n", i);
        to_server(t, req);
    }
    CHECK_EQ_INT(t->op_count, 0);
    CHECK_EQ_STR(transcript(), "QH:GET QE QH:POST QB:2 QE QH:GET QE QH:GET QE QH:POST QB:2 QE "
                               "QH:GET QE QH:GET QE QH:POST QB:2 QE QH:GET QE QH:GET QE");
    rec.text_len = 0;
    for (int i = 0; i < 10; i++)
        to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
    CHECK_EQ_STR(transcript(), "RH:200 RB:1 RE OP RH:200 RB:1 RE OP RH:200 RB:1 RE OP "
                               "RH:200 RB:1 RE OP RH:200 RB:1 RE OP RH:200 RB:1 RE OP "
                               "RH:200 RB:1 RE OP RH:200 RB:1 RE OP RH:200 RB:1 RE OP "
                               "RH:200 RB:1 RE OP");
    CHECK(body_is(0, "010407", 6));
    CHECK_EQ_INT(t->op_count, 10);
    for (size_t i = 0; i < t->op_count; i++) {
        char target[32];
        snprintf(target, sizeof(target), "/%zu", i);
        CHECK_EQ_STR(t->ops[i].target, target);
        CHECK_EQ_INT(t->ops[i].page_size, i);
        CHECK_EQ_INT(t->ops[i].offset, i + 100);
        CHECK_EQ_INT(t->ops[i].items, 7);
        CHECK_EQ_INT(t->ops[i].app, APP_ELASTICSEARCH);
    }
    obs_free(t);
}

/* A response read while the next request's body is still coming: the two
 * sides interleave, each in order. */
static void test_observer_interleaved(void)
{
    struct test_ctx *t = obs_open(1 << 20);
    to_server(t, "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 6\r\n\r\nabc");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    to_server(t, "def");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_STR(transcript(), "QH:GET QE QH:POST QB:3 RH:200 RB:2 RE OP QB:3 QE RH:200 RE OP");
    CHECK(body_is(0, "abcdef", 6));
    obs_free(t);
}

static void test_observer_request_bodies(void)
{
    struct test_ctx *t = obs_open(1 << 20);
    to_server(t, "PUT /i/_doc/1 HTTP/1.1\r\nContent-Length: 13\r\n\r\n{\"a\":\"hello\"}");
    to_client(t, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
    CHECK(body_is(0, "{\"a\":\"hello\"}", 13));
    rec.body_len[0] = 0;
    /* chunked, a chunk extension and a trailer: neither is body */
    to_server(t, "POST /_bulk HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "4;ext=1\r\n{\"in\r\n"
                 "9\r\ndex\":{}}\n\r\n"
                 "0\r\nX-Trailer: not-body\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    CHECK(body_is(0, "{\"index\":{}}\n", 13));
    CHECK_EQ_STR(transcript(), "QH:PUT QB:13 QE RH:201 RE OP QH:POST QB:13 QE RH:200 RE OP");
    CHECK_EQ_INT(t->ops[1].flags, 0);
    obs_free(t);
}

/* Expect: 100-continue: the body comes after the interim response, which
 * the observer never sees. */
static void test_observer_100_continue(void)
{
    struct test_ctx *t = obs_open(1 << 20);
    to_server(t, "POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    to_client(t, "HTTP/1.1 100 Continue\r\n\r\n");
    to_server(t, "hello");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CHECK_EQ_STR(transcript(), "QH:POST QB:5 QE RH:200 RB:2 RE OP");
    CHECK(body_is(0, "hello", 5));
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].status_code, 200);
    CHECK_EQ_INT(t->ops[0].flags, 0);
    obs_free(t);
}

static void test_observer_no_body_responses(void)
{
    struct test_ctx *t = obs_open(1 << 20);
    to_server(t, "HEAD /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\nContent-Encoding: gzip\r\n\r\n"
                 "HTTP/1.1 204 No Content\r\n\r\n"
                 "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n");
    CHECK_EQ_STR(transcript(), "QH:HEAD QE QH:GET QE QH:GET QE RH:200 RE OP RH:204 RE OP "
                               "RH:304 RE OP");
    CHECK_EQ_INT(rec.body_calls[1], 0);
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_HEAD_ONLY);
    obs_free(t);
}

static void check_gzip_response(size_t piece, bool chunked)
{
    uint8_t *text = make_text(TEXT_LEN);
    uint8_t *z = malloc(ZBUF_MAX);
    if (z == NULL)
        abort();
    size_t zlen = deflate_with(text, TEXT_LEN, 31, z, ZBUF_MAX);
    CHECK(zlen > 0 && zlen < TEXT_LEN / 4);
    struct test_ctx *t = obs_open(1 << 20);
    to_server(t, get_req);
    if (chunked) {
        /* the compressed stream split across chunks of 1000 bytes */
        to_client(t, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n");
        for (size_t i = 0; i < zlen; i += 1000) {
            size_t n = zlen - i < 1000 ? zlen - i : 1000;
            char size_line[32];
            snprintf(size_line, sizeof(size_line), "%zx\r\n", n);
            to_client(t, size_line);
            send_message(t, DIR_TO_CLIENT, "", z + i, n, piece);
            to_client(t, "\r\n");
        }
        to_client(t, "0\r\n\r\n");
    } else {
        char head[128];
        snprintf(head, sizeof(head),
                 "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
                 zlen);
        send_message(t, DIR_TO_CLIENT, head, z, zlen, piece);
    }
    CHECK(body_is(1, text, TEXT_LEN));
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_COMPRESSED);
    char want[64];
    snprintf(want, sizeof(want), "QH:GET QE RH:200 RB:%d REz OP", TEXT_LEN);
    CHECK_EQ_STR(transcript(), want);
    obs_free(t);
    free(z);
    free(text);
}

static void test_observer_gzip_whole(void)
{
    check_gzip_response(0, false);
    check_gzip_response(0, true);
}

static void test_observer_gzip_byte_by_byte(void)
{
    check_gzip_response(1, false);
    check_gzip_response(1, true);
}

/* deflate zlib-wrapped (compress2), deflate raw, and x-gzip, each whole
 * and byte by byte (the zlib/raw decision waits for two bytes). */
static void test_observer_deflate(void)
{
    uint8_t *text = make_text(TEXT_LEN);
    uint8_t *z = malloc(ZBUF_MAX);
    if (z == NULL)
        abort();
    for (int kind = 0; kind < 3; kind++) {
        size_t zlen;
        const char *coding = "deflate";
        if (kind == 0) {
            uLongf n = ZBUF_MAX;
            CHECK_EQ_INT(compress2(z, &n, text, TEXT_LEN, 9), Z_OK);
            zlen = n;
        } else if (kind == 1) {
            zlen = deflate_with(text, TEXT_LEN, -15, z, ZBUF_MAX);
        } else {
            zlen = deflate_with(text, TEXT_LEN, 31, z, ZBUF_MAX);
            coding = "x-gzip";
        }
        for (size_t piece = 0; piece < 2; piece++) {
            struct test_ctx *t = obs_open(1 << 20);
            char head[128];
            snprintf(head, sizeof(head),
                     "POST /_bulk HTTP/1.1\r\nContent-Encoding: %s\r\nContent-Length: %zu\r\n\r\n",
                     coding, zlen);
            send_message(t, DIR_TO_SERVER, head, z, zlen, piece);
            to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            if (!body_is(0, text, TEXT_LEN))
                fprintf(stderr, "coding %d piece %zu: %zu bytes\n", kind, piece, rec.body_len[0]);
            CHECK(body_is(0, text, TEXT_LEN));
            CHECK_EQ_INT(t->op_count, 1);
            CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_COMPRESSED);
            obs_free(t);
        }
    }
    free(z);
    free(text);
}

/* Stacked or unknown codings are not decoded; Transfer-Encoding gzip is. */
static void test_observer_codings(void)
{
    static const uint8_t text[] = "{\"took\":1,\"hits\":{\"total\":3}}";
    uint8_t z[256];
    size_t zlen = deflate_with(text, sizeof(text) - 1, 31, z, sizeof(z));
    struct test_ctx *t = obs_open(1 << 20);
    to_server(t, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nxyz");
    char head[160];
    snprintf(head, sizeof(head),
             "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Encoding: deflate\r\n"
             "Content-Length: %zu\r\n\r\n", zlen);
    send_message(t, DIR_TO_CLIENT, head, z, zlen, 0);
    snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
             "%zx\r\n", zlen);
    send_message(t, DIR_TO_CLIENT, head, z, zlen, 0);
    to_client(t, "\r\n0\r\n\r\n");
    CHECK_EQ_INT(t->op_count, 3);
    CHECK_EQ_INT(t->ops[0].flags, 0);
    CHECK_EQ_INT(t->ops[1].flags, 0);
    CHECK_EQ_INT(t->ops[2].flags, OP_FLAG_COMPRESSED);
    CHECK(body_is(1, text, sizeof(text) - 1));
    obs_free(t);
}

/* Without body hooks nothing is inflated and no flag changes. */
static void test_observer_without_body_hooks(void)
{
    static const uint8_t text[] = "hello hello hello hello";
    uint8_t z[256];
    size_t zlen = deflate_with(text, sizeof(text) - 1, 31, z, sizeof(z));
    struct test_ctx *t = obs_open_with(&rec_observer_heads, 1 << 20, 64);
    to_server(t, get_req);
    char head[128];
    snprintf(head, sizeof(head),
             "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zlen);
    send_message(t, DIR_TO_CLIENT, head, z, zlen, 0);
    CHECK_EQ_STR(transcript(), "QH:GET QE RH:200 RE OP");
    CHECK_EQ_INT(t->op_count, 1);
    CHECK_EQ_INT(t->ops[0].flags, 0);
    test_close(t);
    CHECK_EQ_INT(rec.closes, 1);
    obs_free(t);
}

static void test_observer_body_cap(void)
{
    /* identity: 100 bytes with a cap of 40, then exactly 40 */
    struct test_ctx *t = obs_open(40);
    uint8_t *text = make_text(TEXT_LEN);
    to_server(t, get_req);
    send_message(t, DIR_TO_CLIENT, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", text,
                 100, 7);
    CHECK(body_is(1, text, 40));
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_BODY_CAPPED);
    CHECK_EQ_INT(t->ops[0].response_bytes,
                 strlen("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n") + 100);
    rec.body_len[1] = 0;
    to_server(t, get_req);
    send_message(t, DIR_TO_CLIENT, "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n", text, 40, 0);
    CHECK(body_is(1, text, 40));
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_INT(t->ops[1].flags, 0);
    CHECK_EQ_STR(transcript(), "QH:GET QE RH:200 RB:40 REc OP QH:GET QE RH:200 RB:40 RE OP");
    obs_free(t);

    /* gzip: the cap counts inflated bytes; the next message starts over */
    uint8_t *z = malloc(ZBUF_MAX);
    if (z == NULL)
        abort();
    size_t zlen = deflate_with(text, TEXT_LEN, 31, z, ZBUF_MAX);
    for (size_t piece = 0; piece < 2; piece++) {
        t = obs_open(20000);
        char head[128];
        snprintf(head, sizeof(head),
                 "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zlen);
        to_server(t, get_req);
        send_message(t, DIR_TO_CLIENT, head, z, zlen, piece);
        CHECK(body_is(1, text, 20000));
        CHECK_EQ_INT(t->op_count, 1);
        CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_COMPRESSED | OP_FLAG_BODY_CAPPED);
        CHECK_EQ_INT(t->ops[0].response_bytes, strlen(head) + zlen);
        rec.body_len[1] = 0;
        to_server(t, get_req);
        send_message(t, DIR_TO_CLIENT, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
                     text, 5, 0);
        CHECK(body_is(1, text, 5));
        CHECK_EQ_INT(t->op_count, 2);
        CHECK_EQ_INT(t->ops[1].flags, 0);
        CHECK_EQ_STR(transcript(), "QH:GET QE RH:200 RB:20000 REzc OP QH:GET QE RH:200 RB:5 RE OP");
        obs_free(t);
    }
    /* a cap of 0 delivers nothing */
    t = obs_open(0);
    to_server(t, "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    CHECK_EQ_STR(transcript(), "QH:POST QEc");
    obs_free(t);
    free(z);
    free(text);
}

static void test_observer_corrupt_gzip(void)
{
    uint8_t *text = make_text(TEXT_LEN);
    uint8_t *z = malloc(ZBUF_MAX);
    if (z == NULL)
        abort();
    size_t zlen = deflate_with(text, TEXT_LEN, 31, z, ZBUF_MAX);
    for (size_t i = zlen / 2; i < zlen / 2 + 16; i++)
        z[i] ^= 0x5a;
    for (size_t piece = 0; piece < 2; piece++) {
        struct test_ctx *t = obs_open(1 << 20);
        char head[128];
        snprintf(head, sizeof(head),
                 "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zlen);
        to_server(t, get_req);
        send_message(t, DIR_TO_CLIENT, head, z, zlen, piece);
        CHECK(rec.body_len[1] <= TEXT_LEN);   /* garbage may come out before the error */
        CHECK_EQ_INT(t->op_count, 1);
        CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_COMPRESSED | OP_FLAG_PARTIAL);
        CHECK_EQ_INT(t->ops[0].response_bytes, strlen(head) + zlen);
        to_server(t, get_req);
        to_client(t, ok_resp);
        CHECK_EQ_INT(t->op_count, 2);
        CHECK_EQ_INT(t->ops[1].flags, 0);
        CHECK_EQ_INT(t->ops[1].status_code, 200);
        CHECK(rec.body_len[1] >= 5 &&
              memcmp(rec.body[1] + rec.body_len[1] - 5, "hello", 5) == 0);
        obs_free(t);
    }
    /* not gzip at all, and a stream cut short by the framing */
    struct test_ctx *t = obs_open(1 << 20);
    to_server(t, get_req);
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello");
    to_server(t, get_req);
    char head[128];
    snprintf(head, sizeof(head),
             "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
             zlen / 4);
    send_message(t, DIR_TO_CLIENT, head, z, zlen / 4, 0);
    CHECK_EQ_INT(t->op_count, 2);
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_COMPRESSED | OP_FLAG_PARTIAL);
    CHECK_EQ_INT(t->ops[1].flags, OP_FLAG_COMPRESSED | OP_FLAG_PARTIAL);
    CHECK(memcmp(rec.body[1], text, rec.body_len[1]) == 0);
    obs_free(t);
    free(z);
    free(text);
}

static void test_observer_gap_in_body(void)
{
    struct test_ctx *t = obs_open(1 << 20);
    to_server(t, "POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    http_stream_gap(t->state, &t->ctx, DIR_TO_SERVER, 4);
    to_server(t, "hij");
    CHECK_EQ_STR(transcript(), "QH:POST QB:3 QE!");
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
    http_stream_gap(t->state, &t->ctx, DIR_TO_CLIENT, 5);
    CHECK_EQ_STR(transcript(), "QH:POST QB:3 QE! RH:200 RB:5 RE! OP");
    CHECK(body_is(0, "abc", 3));
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_PARTIAL);
    rec.text_len = 0;
    /* a gap of unknown length loses the framing: the ends still come */
    to_server(t, "POST /b HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    http_stream_gap(t->state, &t->ctx, DIR_TO_SERVER, 0);
    to_server(t, "GET /c HTTP/1.1\r\n\r\n");
    to_client(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab");
    http_stream_gap(t->state, &t->ctx, DIR_TO_CLIENT, 0);
    to_client(t, ok_resp);
    CHECK_EQ_STR(transcript(), "QH:POST QB:3 QE! QH:GET QE RH:200 RB:2 RE! OP RH:200 RB:5 RE OP");
    /* a gzip body with a hole is not decoded past it */
    rec.text_len = 0;
    uint8_t *text = make_text(TEXT_LEN);
    uint8_t *z = malloc(ZBUF_MAX);
    if (z == NULL)
        abort();
    size_t zlen = deflate_with(text, TEXT_LEN, 31, z, ZBUF_MAX);
    char head[128];
    snprintf(head, sizeof(head),
             "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n", zlen);
    to_server(t, get_req);
    send_message(t, DIR_TO_CLIENT, head, z, 100, 0);
    http_stream_gap(t->state, &t->ctx, DIR_TO_CLIENT, 100);
    size_t seen = rec.body_len[1];
    send_bytes(t, DIR_TO_CLIENT, (const char *)z + 200, zlen - 200);
    CHECK_EQ_INT(rec.body_len[1], seen);
    CHECK_EQ_INT(t->op_count, 4);
    CHECK_EQ_INT(t->ops[3].flags, OP_FLAG_COMPRESSED | OP_FLAG_PARTIAL);
    obs_free(t);
    free(z);
    free(text);
}

/* Requests still waiting at close, or pushed out by pending_max, end with
 * response_end too; a request body cut by the end of the flow is partial. */
static void test_observer_no_response(void)
{
    struct test_ctx *t = obs_open_with(&rec_observer, 1 << 20, 2);
    rec.write_ops = true;
    to_server(t, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"
                 "POST /4 HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc");
    CHECK_EQ_STR(transcript(), "QH:GET QE QH:GET QE RE- OP QH:GET QE RE- OP QH:POST QB:3");
    test_close(t);
    CHECK_EQ_STR(transcript(), "QH:GET QE QH:GET QE RE- OP QH:GET QE RE- OP QH:POST QB:3 QE! "
                               "RE- OP RE!- OP");
    CHECK_EQ_INT(rec.closes, 1);
    CHECK_EQ_INT(t->op_count, 4);
    for (size_t i = 0; i < t->op_count; i++) {
        CHECK_EQ_INT(t->ops[i].page_size, i);
        CHECK_EQ_INT(t->ops[i].items, 7);
        CHECK(t->ops[i].flags & OP_FLAG_NO_RESPONSE);
    }
    obs_free(t);
}

/* An answer before the request body is complete ends the request side
 * first; the rest of that body is framed but not decoded. */
static void test_observer_early_response(void)
{
    struct test_ctx *t = obs_open(1 << 20);
    to_server(t, "PUT /big HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    to_client(t, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n");
    to_server(t, "defghij");
    to_server(t, "GET /next HTTP/1.1\r\n\r\n");
    to_client(t, ok_resp);
    CHECK_EQ_STR(transcript(), "QH:PUT QB:3 RH:413 QE RE OP QH:GET QE RH:200 RB:5 RE OP");
    CHECK(body_is(0, "abc", 3));
    CHECK_EQ_INT(t->ops[0].flags, 0);
    CHECK_EQ_STR(t->ops[1].target, "/next");
    obs_free(t);
}

/* Unpaired responses get a fresh op of the flow's app; a response read
 * until the connection closes ends there. */
static void test_observer_unpaired_and_until_close(void)
{
    struct test_ctx *t = obs_open(1 << 20);
    to_client(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    CHECK_EQ_STR(transcript(), "RH:200 RB:2 RE OP");
    CHECK_EQ_INT(t->ops[0].flags, OP_FLAG_UNPAIRED);
    CHECK_EQ_INT(t->ops[0].app, APP_HTTP);
    rec.text_len = 0;
    static const uint8_t text[] = "until the very end";
    uint8_t z[128];
    size_t zlen = deflate_with(text, sizeof(text) - 1, 31, z, sizeof(z));
    to_server(t, "GET / HTTP/1.0\r\n\r\n");
    send_message(t, DIR_TO_CLIENT, "HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\n", z,
                 zlen, 3);
    http_stream_end(t->state, &t->ctx, DIR_TO_CLIENT);
    CHECK_EQ_STR(transcript(), "QH:GET QE RH:200 RB:18 REz OP");
    CHECK(body_is(1, "hi" "until the very end", 20));
    test_close(t);
    CHECK_EQ_INT(rec.closes, 1);
    obs_free(t);
}

/* The decoders built on the framer take the app they are given. */
static void test_observer_app(void)
{
    struct test_ctx *t = obs_open_with(&rec_observer, 1 << 20, 64);
    test_close(t);
    CHECK_EQ_INT(rec.closes, 1);
    CHECK(rec.state != NULL && !rec.state_mismatch);
    obs_free(t);

    memset(&rec, 0, sizeof(rec));
    struct test_ctx *u = test_open();
    void *state = http_open_with(&u->ctx, &rec_observer, APP_ELASTICSEARCH);
    CHECK(state != NULL);
    http_stream_data(state, &u->ctx, DIR_TO_SERVER, (const uint8_t *)get_req, strlen(get_req));
    http_stream_close(state, &u->ctx);
    CHECK_EQ_INT(u->op_count, 1);
    CHECK_EQ_INT(u->ops[0].app, APP_ELASTICSEARCH);
    CHECK_EQ_INT(rec.closes, 1);
    CHECK(rec.state_was_zero);
    /* a plain framer with no state block and no hooks */
    static const struct http_observer nothing = { 0 };
    state = http_open_with(&u->ctx, &nothing, APP_SOLR);
    CHECK(state != NULL);
    http_stream_data(state, &u->ctx, DIR_TO_SERVER, (const uint8_t *)get_req, strlen(get_req));
    http_stream_close(state, &u->ctx);
    CHECK_EQ_INT(u->op_count, 2);
    CHECK_EQ_INT(u->ops[1].app, APP_SOLR);
    test_free(u);
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
    RUN(test_head_buffer_given_back);
    RUN(test_long_bad_first_line_then_request);
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
    RUN(test_login_outcome);
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
    RUN(test_observer_keep_alive);
    RUN(test_observer_pipelined);
    RUN(test_observer_interleaved);
    RUN(test_observer_request_bodies);
    RUN(test_observer_100_continue);
    RUN(test_observer_no_body_responses);
    RUN(test_observer_gzip_whole);
    RUN(test_observer_gzip_byte_by_byte);
    RUN(test_observer_deflate);
    RUN(test_observer_codings);
    RUN(test_observer_without_body_hooks);
    RUN(test_observer_body_cap);
    RUN(test_observer_corrupt_gzip);
    RUN(test_observer_gap_in_body);
    RUN(test_observer_no_response);
    RUN(test_observer_early_response);
    RUN(test_observer_unpaired_and_until_close);
    RUN(test_observer_app);
    CHECK_EXIT();
}
