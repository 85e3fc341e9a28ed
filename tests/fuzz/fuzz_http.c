/* fuzz_http.c - libFuzzer target for the HTTP framer and its observer calls.
 *
 * Input: 2 bytes (little-endian) = length of the client part, then the
 * client part, then the server part. The input bytes, read again from the
 * start, also drive the schedule: limits, which direction goes next, piece
 * sizes, gaps (whose lost bytes are skipped), direction ends. The flow is
 * always closed at the end, and every emitted op is checked for sanity.
 *
 * The flow runs with an observer that has every hook and checks the
 * contract of http.h as it goes: the order of calls per side, body sizes
 * under body_max, response_end right before every emission, writes into
 * queued ops surviving to the emitted op, one close. Some schedules wrap
 * one part as a gzip/deflate body (the fuzz bytes compressed, or taken raw
 * as a corrupt stream) so that inflating is exercised. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../../decoders/http/http.h"
#include "fuzz_support.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


/* ------------------------------------------------------------ observer */

/* What the observer checks across calls. Global: one run at a time. */
static struct {
    void *state;               /* the block every call gets */
    bool closed;
    bool request_open;         /* request_head came, request_end not yet */
    bool response_head_seen;   /* response_head came, response_end not yet */
    bool emit_due;             /* response_end came: the emission is next */
    struct op_record last_end; /* the op as response_end left it */
    uint64_t request_body, response_body;
    int64_t requests;          /* request_head calls */
    int64_t requests_emitted;  /* emitted ops that had request_head */
    int64_t last_request_emitted;
    size_t body_max;
} obs;

struct fuzz_state {
    uint64_t magic;            /* 0 at open, then set by the first call */
    uint64_t calls;
};

#define STATE_MAGIC 0x5eb5a7c4e11a0001ull

static void check_call(void *st)
{
    struct fuzz_state *s = st;
    if (st == NULL || obs.closed || obs.emit_due)
        abort();
    if (obs.state == NULL) {
        if (s->magic != 0 || s->calls != 0)
            abort();                        /* the state block is zeroed */
        obs.state = st;
        s->magic = STATE_MAGIC;
    }
    if (st != obs.state || s->magic != STATE_MAGIC)
        abort();
    s->calls++;
}

static void check_head(const struct http_head *head)
{
    if (head == NULL || head->header_count > HTTP_HEADERS_MAX)
        abort();
    for (size_t i = 0; i < head->header_count; i++)
        if (head->headers[i].name.len == 0)
            abort();
}

static void on_request_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                            const struct http_head *head)
{
    (void)ctx;
    check_call(st);
    check_head(head);
    if (obs.request_open || op->page_size != -1)
        abort();
    obs.request_open = true;
    obs.request_body = 0;
    op->page_size = ++obs.requests;         /* must reach the emitted op */
}

static void on_request_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                            const uint8_t *buf, size_t len)
{
    (void)ctx;
    check_call(st);
    if (!obs.request_open || len == 0 || buf == NULL || op->page_size != obs.requests)
        abort();
    obs.request_body += len;
    if (obs.request_body > obs.body_max)
        abort();
    volatile uint8_t sink = buf[0] ^ buf[len - 1];   /* the bytes are readable */
    (void)sink;
}

static void on_request_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    (void)ctx;
    check_call(st);
    if (!obs.request_open || op->page_size != obs.requests)
        abort();
    obs.request_open = false;
    op->offset = op->page_size;
}

static void on_response_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                             const struct http_head *head)
{
    (void)ctx;
    check_call(st);
    check_head(head);
    if (obs.response_head_seen || op->status_code != head->status || head->status < 100 ||
        (head->status < 200 && head->status != 101))
        abort();
    obs.response_head_seen = true;
    obs.response_body = 0;
}

static void on_response_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                             const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)op;
    check_call(st);
    if (!obs.response_head_seen || len == 0 || buf == NULL)
        abort();
    obs.response_body += len;
    if (obs.response_body > obs.body_max)
        abort();
    volatile uint8_t sink = buf[0] ^ buf[len - 1];
    (void)sink;
}

static void on_response_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    (void)ctx;
    check_call(st);
    /* the request side of this op, if still open, ended first */
    if (obs.request_open && op->page_size == obs.requests)
        abort();
    obs.response_head_seen = false;
    op->items = 3;
    memcpy(&obs.last_end, op, sizeof(*op));   /* padding too: memcmp at emit */
    obs.emit_due = true;
}

static void on_close(void *st)
{
    check_call(st);
    obs.closed = true;
}

static const struct http_observer fuzz_observer = {
    .state_size = sizeof(struct fuzz_state),
    .request_head = on_request_head,
    .request_body = on_request_body,
    .request_end = on_request_end,
    .response_head = on_response_head,
    .response_body = on_response_body,
    .response_end = on_response_end,
    .close = on_close,
};

static void fuzz_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    (void)ctx;
    if (!obs.emit_due || memcmp(op, &obs.last_end, sizeof(*op)) != 0)
        abort();
    obs.emit_due = false;
    check_string(op->op, sizeof(op->op));
    check_string(op->target, sizeof(op->target));
    check_string(op->client_id, sizeof(op->client_id));
    check_string(op->auth_scheme, sizeof(op->auth_scheme));
    check_string(op->http.method, sizeof(op->http.method));
    check_string(op->http.uri, sizeof(op->http.uri));
    if (op->app != APP_HTTP || op->status > OP_STATUS_DENIED || op->items != 3)
        abort();
    if (op->status_code != 0 && (op->status_code < 100 || op->status_code > 999))
        abort();
    /* ops with a request head leave in request order, written as left */
    if (op->page_size != -1) {
        if (op->page_size <= obs.last_request_emitted || op->page_size > obs.requests)
            abort();
        if (op->offset != -1 && op->offset != op->page_size)
            abort();
        obs.last_request_emitted = op->page_size;
        obs.requests_emitted++;
    }
}

/* ------------------------------------------------------------ schedule */


/* Wraps `body` as one message with a Content-Encoding: compressed by
 * deflate() when `compress` is set, else as it is (a corrupt stream, as
 * far as zlib can tell). Returns a malloc'd buffer, or NULL. */
static uint8_t *wrap_encoded(enum decoder_dir dir, uint8_t how, const uint8_t *body,
                             size_t len, size_t *out_len)
{
    static const char *const codings[] = { "gzip", "deflate", "deflate", "x-gzip" };
    static const int window_bits[] = { 31, 15, -15, 31 };
    bool compress = (how & 0x04) != 0;
    bool chunked = (how & 0x08) != 0;
    size_t cap = compressBound((uLong)len) + 64;
    uint8_t *z = malloc(cap);
    if (z == NULL)
        return NULL;
    size_t zlen = len;
    if (compress) {
        z_stream zs;
        memset(&zs, 0, sizeof(zs));
        if (deflateInit2(&zs, 1, Z_DEFLATED, window_bits[how & 3], 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            free(z);
            return NULL;
        }
        zs.next_in = (Bytef *)(uintptr_t)body;
        zs.avail_in = (uInt)len;
        zs.next_out = z;
        zs.avail_out = (uInt)cap;
        int rc = deflate(&zs, Z_FINISH);
        zlen = zs.total_out;
        deflateEnd(&zs);
        if (rc != Z_STREAM_END) {
            free(z);
            return NULL;
        }
    } else {
        memcpy(z, body, len);
    }
    char head[160];
    int n = dir == DIR_TO_SERVER
        ? snprintf(head, sizeof(head), "POST /i/_search HTTP/1.1\r\nContent-Encoding: %s\r\n",
                   codings[how & 3])
        : snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\n",
                   codings[how & 3]);
    n += chunked ? snprintf(head + n, sizeof(head) - (size_t)n,
                            "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", zlen)
                 : snprintf(head + n, sizeof(head) - (size_t)n,
                            "Content-Length: %zu\r\n\r\n", zlen);
    static const char tail[] = "\r\n0\r\n\r\n";
    size_t total = (size_t)n + zlen + (chunked ? sizeof(tail) - 1 : 0);
    uint8_t *out = malloc(total);
    if (out == NULL) {
        free(z);
        return NULL;
    }
    memcpy(out, head, (size_t)n);
    memcpy(out + n, z, zlen);
    if (chunked)
        memcpy(out + n + zlen, tail, sizeof(tail) - 1);
    free(z);
    *out_len = total;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t client_len = (size_t)data[0] | ((size_t)data[1] << 8);
    if (client_len > size - 2)
        client_len = size - 2;

    static const size_t header_max[] = { 1, 64, 300, 16384 };
    static const size_t body_max[] = { 0, 1, 13, 100, 1000, 16384, 70000, 1 << 20 };
    struct schedule sched = { data, size, 0 };
    uint8_t limits = choose(&sched);
    uint8_t encode = data[size - 1];
    struct http_params params = {
        .header_max = header_max[limits & 3],
        .pending_max = 1 + ((limits >> 2) & 7),
        .body_max = body_max[limits >> 5],
    };
    struct stats stats;
    stats_clear(&stats);
    struct decoder_ctx ctx = {
        .now_us = 1,
        .emit = fuzz_emit,
        .owner = NULL,
    };
    decoder_ctx_bind(&ctx, &http_plain_decoder, &params, &stats);
    memset(&obs, 0, sizeof(obs));
    obs.body_max = params.body_max;

    struct fuzz_part parts[2] = {
        { data + 2, client_len },
        { data + 2 + client_len, size - 2 - client_len },
    };
    /* The last byte's top two bits may pick a part to send as one
     * encoded message (01: the server's, 10: the client's). */
    uint8_t *wrapped = NULL;
    if ((encode & 0xc0) != 0 && (encode & 0xc0) != 0xc0) {
        enum decoder_dir dir = (encode & 0x40) ? DIR_TO_CLIENT : DIR_TO_SERVER;
        size_t len = 0;
        wrapped = wrap_encoded(dir, encode, parts[dir].p, parts[dir].left, &len);
        if (wrapped != NULL) {
            parts[dir].p = wrapped;
            parts[dir].left = len;
        }
    }

    void *state = http_open_with(&ctx, &fuzz_observer, APP_HTTP);
    if (state == NULL) {
        free(wrapped);
        return 0;
    }
    fuzz_feed(&http_plain_decoder, state, &ctx, &sched, parts);
    http_stream_close(state, &ctx);
    /* closed once, every request head emitted once, nothing left open */
    if ((obs.state != NULL && !obs.closed) || obs.emit_due || obs.request_open ||
        obs.requests_emitted != obs.requests)
        abort();
    free(wrapped);
    return 0;
}
