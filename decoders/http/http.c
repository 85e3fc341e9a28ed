/* http.c - HTTP/1.x framing: the framer behind the HTTP-based decoders.
 * The pure head parsers it uses are in http_parse.c.
 *
 * The framer runs one small state machine per direction: it buffers heads
 * (at most header_max bytes), counts body bytes without storing them,
 * queues requests (at most pending_max) and pairs them FIFO with responses.
 * When framing is lost (a gap of unknown length, a malformed or oversized
 * head) it resynchronises on the next line that looks like the start of a
 * message.
 *
 * An observer (http.h) rides on the decoder: it is told of each message's
 * head, its body bytes and its end, and fills the op before it is emitted.
 * Body bytes reach it de-chunked and, for gzip/deflate, inflated through a
 * per-direction zlib stream that exists only while such a body is read. */
#include "http.h"

#include <assert.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>


/* ---------------------------------------------------------------- decoder */

/* What one direction is reading. */
enum dir_state {
    ST_HEAD,         /* a request or response head (blank lines before it skipped) */
    ST_BODY,         /* Content-Length bytes */
    ST_CHUNK_SIZE,   /* a chunk-size line */
    ST_CHUNK_DATA,   /* the bytes of one chunk */
    ST_CHUNK_END,    /* the line end after a chunk */
    ST_TRAILER,      /* the trailer section after the last chunk */
    ST_UNTIL_CLOSE,  /* a response body that ends with the connection */
    ST_RESYNC,       /* framing lost: looking for the start of a message */
    ST_IGNORE        /* direction ended, or the flow became a tunnel */
};

/* Heads are buffered up to header_max, but never less than this, so that a
 * resync candidate always fits and progress is always possible. */
#define HEAD_LIMIT_MIN 64
#define BUF_INITIAL 512
/* A buffer larger than this goes back to BUF_INITIAL once its head is done
 * (head_reset). */
#define BUF_KEEP_MAX 2048
#define QUEUE_INITIAL 4
/* Resync takes "TOKEN SP" at a line start as a request: 3..20 capitals. */
#define RESYNC_METHOD_MIN 3
#define RESYNC_METHOD_MAX 20
/* Inflated bytes go to the body hook in pieces of at most this size (the
 * buffer is on the stack, so a flow holds none of it between calls). */
#define INFLATE_CHUNK 16384
/* zlib counts input in uInt: larger pieces are given in slices. */
#define INFLATE_SLICE ((size_t)1 << 30)

/* A request waiting for its response; its op is filled as it is read. */
struct http_request {
    struct op_record op;
    uint64_t seq;          /* position in the flow's request order */
    bool head_method;      /* HEAD: the response has no body */
    bool connect_method;   /* CONNECT: a 2xx makes the flow a tunnel */
};

/* The codings of a message body as far as the framer undoes them. */
enum body_coding {
    CODING_NONE,      /* identity: bytes go to the hook as they come */
    CODING_GZIP,      /* gzip or x-gzip (zlib also takes a zlib wrapper) */
    CODING_DEFLATE,   /* deflate: zlib-wrapped as RFC 9110 says, or raw */
    CODING_UNKNOWN    /* br, zstd, codings stacked...: no body calls */
};

/* Where one direction's body goes: de-chunked wire bytes in, the
 * observer's body hook out. The inflater is allocated at the first
 * compressed byte and freed when the body ends, is capped or fails. */
struct body_sink {
    bool on;               /* this message's body goes to the hook */
    bool input_seen;       /* some body bytes came */
    bool stream_done;      /* the compressed stream ended: the rest is ignored */
    enum body_coding coding;
    z_stream *zs;
    uint8_t probe[2];      /* deflate: first bytes, to tell zlib from raw */
    size_t probe_len;
    uint64_t delivered;    /* bytes given to the hook for this message */
    struct membudget *budget;  /* the flow's: the inflater is charged there */
};

struct http_direction {
    enum dir_state state;
    char *buf;             /* head, chunk-size line, trailer, resync candidate */
    size_t buf_len, buf_cap;
    size_t scan_from;      /* where the blank-line search resumes */
    bool line_checked;     /* first line of the buffered head validated */
    bool at_line_start;    /* ST_RESYNC: the next byte starts a line */
    bool cr_seen;          /* ST_CHUNK_END: the CR of CRLF came */
    bool ended;
    uint64_t remaining;    /* ST_BODY, ST_CHUNK_DATA */
    uint64_t ts_first;     /* packet time of the buffered head's first byte */
    struct body_sink sink;
};

struct http_flow {
    struct http_direction dirs[2];
    struct http_request *queue;   /* ring of requests not yet answered */
    size_t queue_first, queue_count, queue_cap;
    uint64_t next_seq;
    bool client_active;           /* the client is sending a request body... */
    uint64_t client_seq;          /* ...of this request */
    bool answering;               /* the server is sending a response body... */
    struct http_request answer;   /* ...to this request (popped off the queue) */
    /* The observer saw request_head of request client_seq and not yet its
     * request_end. Implies client_active. */
    bool request_open;
    const struct http_observer *obs;  /* NULL: plain framing */
    void *obs_state;                  /* obs->state_size bytes after this struct */
    enum app_id app;                  /* app of new ops */
    /* Where the buffers, the queue, the inflaters and this struct are
     * charged (decoder_ctx.budget), and this struct's size there. */
    struct membudget *budget;
    size_t alloc_size;
};

static const struct http_params *params_of(const struct decoder_ctx *ctx)
{
    return ctx->params;
}

static size_t head_limit(const struct decoder_ctx *ctx)
{
    size_t n = params_of(ctx)->header_max;
    return n < HEAD_LIMIT_MIN ? HEAD_LIMIT_MIN : n;
}

static size_t pending_limit(const struct decoder_ctx *ctx)
{
    size_t n = params_of(ctx)->pending_max;
    return n < 1 ? 1 : n;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Grows a direction's buffer to hold `need` bytes (need <= head_limit).
 * False when the memory budget refuses (or memory is out): the caller gives
 * the message up as on a gap, without a counter of its own (the budget
 * counts memory.buffers_cut). */
static bool buf_reserve(struct http_flow *f, struct http_direction *d, size_t need)
{
    if (need <= d->buf_cap)
        return true;
    size_t cap = d->buf_cap;
    while (cap < need)
        cap *= 2;
    char *p = membudget_realloc(f->budget, d->buf, d->buf_cap, cap);
    if (p == NULL)
        return false;
    d->buf = p;
    d->buf_cap = cap;
    return true;
}

static void pair_emit(struct http_flow *f, struct decoder_ctx *ctx,
                      struct http_request *r);

/* ---- the request queue */

static struct http_request *queue_at(struct http_flow *f, size_t i)
{
    assert(i < f->queue_count && f->queue_cap > 0);
    return &f->queue[(f->queue_first + i) % f->queue_cap];
}

static void queue_drop_front(struct http_flow *f)
{
    assert(f->queue_count > 0);
    f->queue_first = (f->queue_first + 1) % f->queue_cap;
    f->queue_count--;
}

/* Doubles the ring up to `limit` entries, unwrapping it. */
static bool queue_grow(struct http_flow *f, size_t limit)
{
    size_t cap = min_size(f->queue_cap * 2, limit);
    if (cap <= f->queue_cap || cap > SIZE_MAX / sizeof(struct http_request))
        return false;
    struct http_request *q = membudget_malloc(f->budget, cap * sizeof(*q));
    if (q == NULL)
        return false;
    for (size_t i = 0; i < f->queue_count; i++)
        q[i] = *queue_at(f, i);
    membudget_free(f->budget, f->queue, f->queue_cap * sizeof(*q));
    f->queue = q;
    f->queue_first = 0;
    f->queue_cap = cap;
    return true;
}

/* A new request at the back. When pending_max requests already wait (or
 * memory is short), the oldest is given up: emitted without a response. */
static struct http_request *queue_push(struct http_flow *f, struct decoder_ctx *ctx)
{
    size_t limit = pending_limit(ctx);
    if (f->queue_count == f->queue_cap &&
        (f->queue_cap >= limit || !queue_grow(f, limit))) {
        struct http_request *oldest = queue_at(f, 0);
        decoder_count(ctx, HTTP_COUNTER_PENDING_OVERFLOW);
        oldest->op.flags |= OP_FLAG_NO_RESPONSE;
        pair_emit(f, ctx, oldest);
        queue_drop_front(f);
    }
    f->queue_count++;
    struct http_request *r = queue_at(f, f->queue_count - 1);
    op_record_init(&r->op, (enum app_id)f->app);
    r->seq = f->next_seq++;
    r->head_method = false;
    r->connect_method = false;
    return r;
}

/* ---- the op a direction is currently adding bytes to */

/* The request whose body the client is sending, wherever it now is: still
 * queued, being answered, or already emitted (NULL). */
static struct op_record *client_op(struct http_flow *f)
{
    if (!f->client_active)
        return NULL;
    if (f->answering && f->answer.seq == f->client_seq)
        return &f->answer.op;
    if (f->queue_count == 0)
        return NULL;
    uint64_t first = queue_at(f, 0)->seq;
    if (f->client_seq < first || f->client_seq - first >= f->queue_count)
        return NULL;
    return &queue_at(f, (size_t)(f->client_seq - first))->op;
}

static struct op_record *message_op(struct http_flow *f, enum decoder_dir dir)
{
    if (dir == DIR_TO_SERVER)
        return client_op(f);
    return f->answering ? &f->answer.op : NULL;
}

/* Counts wire bytes of the message being read toward its op. */
static void account(struct http_flow *f, enum decoder_dir dir, uint64_t n)
{
    struct op_record *op = message_op(f, dir);
    if (op == NULL)
        return;
    if (dir == DIR_TO_SERVER)
        op->request_bytes += n;
    else
        op->response_bytes += n;
}

static void mark_partial(struct http_flow *f, enum decoder_dir dir)
{
    struct op_record *op = message_op(f, dir);
    if (op != NULL)
        op->flags |= OP_FLAG_PARTIAL;
}

/* ---- body bytes for the observer */

/* The coding to undo before the body means anything: every coding named by
 * Content-Encoding lines, and by Transfer-Encoding lines other than
 * "chunked" (which framing already removes). One gzip or deflate is undone;
 * none is identity; anything else, including two codings, is unknown. */
static enum body_coding body_coding_of(const struct http_head *h)
{
    enum body_coding coding = CODING_NONE;
    for (size_t i = 0; i < h->header_count; i++) {
        const struct http_header *line = &h->headers[i];
        bool transfer = http_span_ieq(line->name, "transfer-encoding");
        if (!transfer && !http_span_ieq(line->name, "content-encoding"))
            continue;
        size_t pos = 0;
        struct http_span e;
        while (http_list_next(line->value, &pos, &e)) {
            enum body_coding c;
            if (http_span_ieq(e, "identity") || (transfer && http_span_ieq(e, "chunked")))
                continue;
            if (http_span_ieq(e, "gzip") || http_span_ieq(e, "x-gzip"))
                c = CODING_GZIP;
            else if (http_span_ieq(e, "deflate"))
                c = CODING_DEFLATE;
            else
                return CODING_UNKNOWN;
            if (coding != CODING_NONE)
                return CODING_UNKNOWN;
            coding = c;
        }
    }
    return coding;
}

/* RFC 1950: CM 8, a window of at most 32 KiB, and a check sum of 31. */
static bool is_zlib_header(const uint8_t p[2])
{
    return (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && ((p[0] << 8) | p[1]) % 31 == 0;
}

/* Stops the body going to the hook and frees the inflater. */
static void sink_stop(struct body_sink *s)
{
    if (s->zs != NULL) {
        inflateEnd(s->zs);
        membudget_free_sized(s->budget, s->zs);
        s->zs = NULL;
    }
    s->on = false;
}

/* A message with a body starts: its bytes go to the hook if the observer
 * has one for this side and the coding is one the framer can undo. */
static void sink_start(struct http_flow *f, enum decoder_dir dir,
                       const struct http_head *h, struct op_record *op)
{
    struct body_sink *s = &f->dirs[dir].sink;
    sink_stop(s);
    s->input_seen = false;
    s->stream_done = false;
    s->probe_len = 0;
    s->delivered = 0;
    s->coding = CODING_NONE;
    if (f->obs == NULL ||
        (dir == DIR_TO_SERVER ? f->obs->request_body : f->obs->response_body) == NULL)
        return;
    s->coding = body_coding_of(h);
    if (s->coding == CODING_UNKNOWN)
        return;
    if (s->coding != CODING_NONE)
        op->flags |= OP_FLAG_COMPRESSED;
    s->on = true;
}

/* Gives decoded bytes to the hook, up to body_max per message. False when
 * the cap was hit: the hook has had exactly body_max bytes and the sink is
 * off for the rest of the message. */
static bool sink_deliver(struct http_flow *f, struct decoder_ctx *ctx,
                         enum decoder_dir dir, struct op_record *op,
                         const uint8_t *buf, size_t len)
{
    struct body_sink *s = &f->dirs[dir].sink;
    uint64_t cap = params_of(ctx)->body_max;
    uint64_t room = s->delivered < cap ? cap - s->delivered : 0;
    bool capped = len > room;
    size_t n = capped ? (size_t)room : len;
    if (n > 0) {
        s->delivered += n;
        if (dir == DIR_TO_SERVER)
            f->obs->request_body(f->obs_state, ctx, op, buf, n);
        else
            f->obs->response_body(f->obs_state, ctx, op, buf, n);
    }
    if (capped) {
        op->flags |= OP_FLAG_BODY_CAPPED;
        sink_stop(s);
    }
    return !capped;
}

/* Allocates the inflater: gzip with zlib's header auto-detection (15+32),
 * deflate zlib-wrapped (15) or raw (-15) as its first two bytes say. */
static voidpf inflate_alloc(voidpf budget, uInt items, uInt size)
{
    if (size != 0 && items > SIZE_MAX / size)
        return Z_NULL;
    return membudget_alloc_sized(budget, (size_t)items * size);
}

static void inflate_free(voidpf budget, voidpf block)
{
    membudget_free_sized(budget, block);
}

/* The inflater and zlib's own allocations are charged to the budget; a
 * refusal stops the body like a corrupt stream (the op is partial). */
static bool sink_inflate_start(struct body_sink *s)
{
    s->zs = membudget_alloc_sized(s->budget, sizeof(*s->zs));
    if (s->zs == NULL)
        return false;
    memset(s->zs, 0, sizeof(*s->zs));
    s->zs->zalloc = inflate_alloc;
    s->zs->zfree = inflate_free;
    s->zs->opaque = s->budget;
    int bits = 15 + 32;
    if (s->coding == CODING_DEFLATE)
        bits = is_zlib_header(s->probe) ? 15 : -15;
    if (inflateInit2(s->zs, bits) != Z_OK) {
        membudget_free_sized(s->budget, s->zs);
        s->zs = NULL;
        return false;
    }
    return true;
}

/* Compressed bytes in, decoded bytes to the hook. A stream that ends
 * frees the inflater and ignores what follows; a corrupt one stops the
 * body and marks the op partial. */
static void sink_inflate(struct http_flow *f, struct decoder_ctx *ctx,
                         enum decoder_dir dir, struct op_record *op,
                         const uint8_t *buf, size_t len)
{
    struct body_sink *s = &f->dirs[dir].sink;
    uint8_t out[INFLATE_CHUNK];
    while (len > 0) {
        size_t slice = min_size(len, INFLATE_SLICE);
        s->zs->next_in = buf;
        s->zs->avail_in = (uInt)slice;
        buf += slice;
        len -= slice;
        for (;;) {
            s->zs->next_out = out;
            s->zs->avail_out = sizeof(out);
            int rc = inflate(s->zs, Z_NO_FLUSH);
            size_t produced = sizeof(out) - s->zs->avail_out;
            bool out_full = s->zs->avail_out == 0;
            bool in_left = s->zs->avail_in > 0;
            if (produced > 0 && !sink_deliver(f, ctx, dir, op, out, produced))
                return;                     /* capped: the inflater is gone */
            if (rc == Z_STREAM_END) {
                s->stream_done = true;
                inflateEnd(s->zs);
                membudget_free_sized(s->budget, s->zs);
                s->zs = NULL;
                return;
            }
            if (rc == Z_BUF_ERROR)
                break;                      /* needs more input */
            if (rc != Z_OK) {
                op->flags |= OP_FLAG_PARTIAL;
                sink_stop(s);
                return;
            }
            if (!in_left && !out_full)
                break;
        }
    }
}

/* De-chunked body bytes of the message `dir` is reading. */
static void sink_feed(struct http_flow *f, struct decoder_ctx *ctx,
                      enum decoder_dir dir, const char *data, size_t len)
{
    struct body_sink *s = &f->dirs[dir].sink;
    if (!s->on || s->stream_done || len == 0)
        return;
    struct op_record *op = message_op(f, dir);
    if (op == NULL) {
        sink_stop(s);
        return;
    }
    s->input_seen = true;
    const uint8_t *buf = (const uint8_t *)data;
    if (s->coding == CODING_NONE) {
        (void)sink_deliver(f, ctx, dir, op, buf, len);
        return;
    }
    if (s->zs == NULL) {
        if (s->coding == CODING_DEFLATE) {
            while (s->probe_len < sizeof(s->probe) && len > 0) {
                s->probe[s->probe_len++] = *buf++;
                len--;
            }
            if (s->probe_len < sizeof(s->probe))
                return;
        }
        if (!sink_inflate_start(s)) {
            op->flags |= OP_FLAG_PARTIAL;
            sink_stop(s);
            return;
        }
        if (s->coding == CODING_DEFLATE) {
            sink_inflate(f, ctx, dir, op, s->probe, sizeof(s->probe));
            if (s->zs == NULL)
                return;                     /* ended, capped or failed */
        }
    }
    sink_inflate(f, ctx, dir, op, buf, len);
}

/* The message's body ended by its framing: a compressed stream that had
 * not ended with it was cut, so what the hook saw is incomplete. */
static void sink_finish(struct body_sink *s, struct op_record *op)
{
    if (s->on && s->coding != CODING_NONE && s->input_seen && !s->stream_done &&
        op != NULL)
        op->flags |= OP_FLAG_PARTIAL;
    sink_stop(s);
}

/* ---- observer calls that end a message */

/* The request side of the observer is done with request client_seq: its
 * body is complete, cut, or no longer wanted because its op is about to
 * be emitted. `op` is that request's op wherever it now is. */
static void request_end_hook(struct http_flow *f, struct decoder_ctx *ctx,
                             struct op_record *op)
{
    if (!f->request_open)
        return;
    f->request_open = false;
    sink_finish(&f->dirs[DIR_TO_SERVER].sink, op);
    if (op != NULL && f->obs != NULL && f->obs->request_end != NULL)
        f->obs->request_end(f->obs_state, ctx, op);
}

/* The request the client is sending a body for ends (before client_active
 * is cleared, so that its op can be found). */
static void request_close(struct http_flow *f, struct decoder_ctx *ctx)
{
    if (f->request_open)
        request_end_hook(f, ctx, client_op(f));
}

/* Credentials sent on a request are a login attempt: a 401 refused them,
 * any other answer means they were accepted (a 403 after that is a
 * permission, not a login, failure). No answer: no outcome. */
static void login_outcome(struct op_record *op)
{
    if (!(op->flags & OP_FLAG_AUTH_HEADER) || op->status_code < 100)
        return;
    op->auth_result = op->status_code == 401 ? OP_AUTH_RESULT_FAILURE : OP_AUTH_RESULT_SUCCESS;
}

/* Every op leaves here. If the request's body was still coming (the server
 * answered early, the queue overflowed, the flow ended), the request side
 * ends first, so an observer always sees request_end before response_end. */
static void pair_emit(struct http_flow *f, struct decoder_ctx *ctx,
                      struct http_request *r)
{
    if (f->request_open && f->client_seq == r->seq) {
        /* Nothing was lost on the wire: the rest of the body is simply
         * not decoded, so the op is not marked partial for it. */
        sink_stop(&f->dirs[DIR_TO_SERVER].sink);
        request_end_hook(f, ctx, &r->op);
    }
    login_outcome(&r->op);
    if (f->obs != NULL && f->obs->response_end != NULL)
        f->obs->response_end(f->obs_state, ctx, &r->op);
    decoder_emit(ctx, &r->op);
}

/* ---- filling ops */

static enum op_status status_of(int code)
{
    if (code == 401 || code == 403)
        return OP_STATUS_DENIED;
    if (code >= 400 && code < 600)
        return OP_STATUS_ERROR;
    if (code >= 100 && code < 400)
        return OP_STATUS_OK;
    return OP_STATUS_UNKNOWN;
}

static void request_from_line(struct http_request *r, const struct http_head *h)
{
    struct op_record *op = &r->op;
    struct http_span path = http_target_path(h->target);
    op_set_string(op, op->op, sizeof(op->op), h->method.ptr, h->method.len);
    op_set_string(op, op->http.method, sizeof(op->http.method), h->method.ptr,
                  h->method.len);
    op_set_string(op, op->http.uri, sizeof(op->http.uri), h->target.ptr, h->target.len);
    op_set_string(op, op->target, sizeof(op->target), path.ptr, path.len);
    r->head_method = http_span_ieq(h->method, "HEAD");
    r->connect_method = http_span_ieq(h->method, "CONNECT");
}

/* Client identity and credentials. Of Authorization only the scheme is
 * kept, lower-cased: the credential itself never enters an op. */
static void request_from_headers(struct op_record *op, const struct http_head *h)
{
    const struct http_header *ua = http_head_find(h, "user-agent");
    if (ua != NULL)
        op_set_string(op, op->client_id, sizeof(op->client_id), ua->value.ptr,
                      ua->value.len);
    const struct http_header *auth = http_head_find(h, "authorization");
    if (auth == NULL)
        return;
    struct http_span scheme = http_auth_scheme(auth->value);
    op->flags |= OP_FLAG_AUTH_HEADER;
    op->authenticated = OP_AUTH_YES;
    op_set_string(op, op->auth_scheme, sizeof(op->auth_scheme), scheme.ptr, scheme.len);
    for (char *c = op->auth_scheme; *c != '\0'; c++)
        *c = (char)http_ascii_lower((unsigned char)*c);
}

/* ---- message boundaries */

static void head_reset(struct http_direction *d)
{
    d->buf_len = 0;
    d->scan_from = 0;
    d->line_checked = false;
}

/* An empty buffer grown past BUF_KEEP_MAX by one large head (chunk line,
 * trailer) goes back to BUF_INITIAL, its bytes given back to the budget:
 * otherwise every flow that once sent a 15 KiB head would hold 16 KiB for
 * the rest of its life (README "Memory"). Up to BUF_KEEP_MAX is kept, so
 * flows whose heads are all a few KiB do not reallocate for each one.
 * Called between steps of a call from the worker (http_stream_data,
 * http_stream_gap), never inside one: a parsed head points into the
 * buffer until the step that parsed it returns. */
static void buffers_give_back(struct http_flow *f)
{
    for (int i = 0; i < 2; i++) {
        struct http_direction *d = &f->dirs[i];
        if (d->buf_len > 0 || d->buf_cap <= BUF_KEEP_MAX)
            continue;
        char *p = membudget_realloc(f->budget, d->buf, d->buf_cap, BUF_INITIAL);
        if (p != NULL) {   /* else it keeps the larger one, still charged */
            d->buf = p;
            d->buf_cap = BUF_INITIAL;
        }
    }
}

/* The server starts answering the oldest request (or none: unpaired). */
static void answer_start(struct http_flow *f, struct decoder_ctx *ctx, int status,
                         uint64_t head_bytes)
{
    assert(!f->answering);
    if (f->queue_count > 0) {
        f->answer = *queue_at(f, 0);
        queue_drop_front(f);
    } else {
        decoder_count(ctx, HTTP_COUNTER_UNPAIRED_RESPONSE);
        op_record_init(&f->answer.op, (enum app_id)f->app);
        f->answer.op.flags |= OP_FLAG_UNPAIRED;
        f->answer.seq = UINT64_MAX;
        f->answer.head_method = false;
        f->answer.connect_method = false;
    }
    f->answering = true;
    f->answer.op.status_code = status;
    f->answer.op.status = (uint8_t)status_of(status);
    f->answer.op.response_bytes += head_bytes;
}

static void response_finish(struct http_flow *f, struct decoder_ctx *ctx)
{
    assert(f->answering);
    sink_finish(&f->dirs[DIR_TO_CLIENT].sink, &f->answer.op);
    f->answer.op.ts_response_us = ctx->now_us;
    pair_emit(f, ctx, &f->answer);
    f->answering = false;
    f->dirs[DIR_TO_CLIENT].state = ST_HEAD;
}

static void message_finish(struct http_flow *f, struct decoder_ctx *ctx,
                           enum decoder_dir dir)
{
    if (dir == DIR_TO_CLIENT) {
        response_finish(f, ctx);
        return;
    }
    request_close(f, ctx);
    f->client_active = false;
    f->dirs[DIR_TO_SERVER].state = ST_HEAD;
}

static void enter_resync(struct http_flow *f, struct decoder_ctx *ctx,
                         enum decoder_dir dir, bool at_line_start)
{
    struct http_direction *d = &f->dirs[dir];
    decoder_count(ctx, HTTP_COUNTER_RESYNC);
    head_reset(d);
    d->state = ST_RESYNC;
    d->at_line_start = at_line_start;
}

/* The first line of the buffered head: request line from the client,
 * status line from the server. True if it is complete and valid. */
static bool parse_first_line(const struct http_direction *d, enum decoder_dir dir,
                             struct http_head *h)
{
    ptrdiff_t n = dir == DIR_TO_SERVER ? http_parse_request_line(d->buf, d->buf_len, h)
                                       : http_parse_status_line(d->buf, d->buf_len, h);
    return n > 0;
}

/* A head that will not be completed (gap, too large, malformed). Whatever
 * its first line tells is kept, so that pairing stays right: a request is
 * queued as partial, a response answers the oldest request as partial. If
 * bytes were lost, a message was there even when nothing of it is known. */
static void head_abandon(struct http_flow *f, struct decoder_ctx *ctx,
                         enum decoder_dir dir, bool bytes_lost)
{
    struct http_direction *d = &f->dirs[dir];
    struct http_head h;
    bool line = d->buf_len > 0 && parse_first_line(d, dir, &h);
    if (!line && !bytes_lost)
        return;
    if (dir == DIR_TO_SERVER) {
        struct http_request *r = queue_push(f, ctx);
        if (line)
            request_from_line(r, &h);
        r->op.flags |= OP_FLAG_PARTIAL;
        r->op.request_bytes = d->buf_len;
        r->op.ts_request_us = d->buf_len > 0 ? d->ts_first : ctx->now_us;
        return;
    }
    if (line && h.status < 200 && h.status != 101)
        return;                                 /* a cut interim response */
    if (!line && f->queue_count == 0)
        return;                                 /* nothing to pair, nothing known */
    answer_start(f, ctx, line ? h.status : 0, d->buf_len);
    f->answer.op.flags |= OP_FLAG_PARTIAL;
    response_finish(f, ctx);
}

/* Gives up on the head being buffered; `why` is a counter or HTTP_COUNTER_COUNT. */
static void lose_head(struct http_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                      enum http_counter why, bool bytes_lost, bool at_line_start)
{
    if (why != HTTP_COUNTER_COUNT)
        decoder_count(ctx, why);
    head_abandon(f, ctx, dir, bytes_lost);
    enter_resync(f, ctx, dir, at_line_start);
}

/* Gives up on the body being read: its op is partial and is emitted (a
 * response) or left to wait for its response (a request). */
static void lose_body(struct http_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                      enum http_counter why, bool at_line_start)
{
    if (why != HTTP_COUNTER_COUNT)
        decoder_count(ctx, why);
    mark_partial(f, dir);
    if (dir == DIR_TO_CLIENT && f->answering)
        response_finish(f, ctx);
    if (dir == DIR_TO_SERVER) {
        request_close(f, ctx);
        f->client_active = false;
    }
    sink_stop(&f->dirs[dir].sink);
    enter_resync(f, ctx, dir, at_line_start);
}

/* ---- heads */

/* The end of the first blank line at or after `from` (0 if none yet).
 * Offset 0 counts as a line start. */
static size_t find_blank_line(const char *buf, size_t len, size_t from)
{
    for (size_t i = from; i < len; i++) {
        if (i > 0 && buf[i - 1] != '\n')
            continue;
        if (buf[i] == '\n')
            return i + 1;
        if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
    }
    return 0;
}

/* Request framing, RFC 9112 6.3: chunked, else Content-Length, else none.
 * Another Transfer-Encoding leaves the length unknown: malformed. */
static bool request_head_done(struct http_flow *f, struct decoder_ctx *ctx,
                              const char *buf, size_t len)
{
    struct http_direction *d = &f->dirs[DIR_TO_SERVER];
    struct http_head h;
    if (http_parse_request_head(buf, len, &h) != (ptrdiff_t)len)
        return false;
    if (h.transfer_encoding && !h.chunked)
        return false;
    struct http_request *r = queue_push(f, ctx);
    request_from_line(r, &h);
    request_from_headers(&r->op, &h);
    r->op.request_bytes = len;
    r->op.ts_request_us = d->ts_first;

    d->state = ST_HEAD;
    if (h.chunked)
        d->state = ST_CHUNK_SIZE;
    else if (h.content_length > 0)
        d->state = ST_BODY;
    d->remaining = h.content_length > 0 ? (uint64_t)h.content_length : 0;
    f->client_active = d->state != ST_HEAD;
    f->client_seq = r->seq;

    assert(!f->request_open);
    if (f->obs != NULL && f->obs->request_head != NULL)
        f->obs->request_head(f->obs_state, ctx, &r->op, &h);
    if (f->client_active) {
        f->request_open = true;
        sink_start(f, DIR_TO_SERVER, &h, &r->op);
    } else if (f->obs != NULL && f->obs->request_end != NULL) {
        f->obs->request_end(f->obs_state, ctx, &r->op);
    }
    return true;
}

/* After 101 or a 2xx to CONNECT the bytes are no longer HTTP. */
static void become_tunnel(struct http_flow *f, struct decoder_ctx *ctx)
{
    request_close(f, ctx);
    f->client_active = false;
    sink_stop(&f->dirs[DIR_TO_SERVER].sink);
    sink_stop(&f->dirs[DIR_TO_CLIENT].sink);
    for (int i = 0; i < 2; i++) {
        head_reset(&f->dirs[i]);
        f->dirs[i].state = ST_IGNORE;
    }
}

/* Response framing, RFC 9112 6.3. */
static void response_body_start(struct http_flow *f, struct decoder_ctx *ctx,
                                const struct http_head *h)
{
    struct http_direction *d = &f->dirs[DIR_TO_CLIENT];
    int s = h->status;
    if (f->answer.head_method || s < 200 || s == 204 || s == 304) {
        f->answer.op.flags |= OP_FLAG_HEAD_ONLY;
        response_finish(f, ctx);
        if (s == 101 || (f->answer.connect_method && s < 300))
            become_tunnel(f, ctx);
        return;
    }
    if (f->answer.connect_method && s < 300) {
        response_finish(f, ctx);
        become_tunnel(f, ctx);
    } else if (h->chunked) {
        d->state = ST_CHUNK_SIZE;
    } else if (h->transfer_encoding || h->content_length < 0) {
        d->state = ST_UNTIL_CLOSE;
    } else if (h->content_length == 0) {
        response_finish(f, ctx);
    } else {
        d->state = ST_BODY;
        d->remaining = (uint64_t)h->content_length;
    }
    if (f->answering)
        sink_start(f, DIR_TO_CLIENT, h, &f->answer.op);
}

/* Interim responses (1xx but 101) count toward the oldest request's
 * response and leave it waiting for the final one. */
static bool response_head_done(struct http_flow *f, struct decoder_ctx *ctx,
                               const char *buf, size_t len)
{
    struct http_head h;
    if (http_parse_response_head(buf, len, &h) != (ptrdiff_t)len)
        return false;
    if (h.status < 200 && h.status != 101) {
        if (f->queue_count > 0)
            queue_at(f, 0)->op.response_bytes += len;
        f->dirs[DIR_TO_CLIENT].state = ST_HEAD;
        return true;
    }
    answer_start(f, ctx, h.status, len);
    if (f->obs != NULL && f->obs->response_head != NULL)
        f->obs->response_head(f->obs_state, ctx, &f->answer.op, &h);
    response_body_start(f, ctx, &h);
    return true;
}

/* Buffers head bytes; the head is parsed once its blank line is in. The
 * search for that line resumes where it stopped, so a head delivered byte
 * by byte costs linear time. */
static size_t feed_head(struct http_flow *f, struct decoder_ctx *ctx,
                        enum decoder_dir dir, const char *buf, size_t len)
{
    struct http_direction *d = &f->dirs[dir];
    if (d->buf_len == 0) {
        size_t skip = 0;                /* RFC 9112 2.2: blank lines between messages */
        while (skip < len && (buf[skip] == '\r' || buf[skip] == '\n'))
            skip++;
        if (skip > 0)
            return skip;
        d->ts_first = ctx->now_us;
    }
    size_t limit = head_limit(ctx);
    size_t old = d->buf_len;
    size_t take = min_size(len, limit - old);
    assert(take > 0);
    if (!buf_reserve(f, d, old + take)) {
        lose_head(f, ctx, dir, HTTP_COUNTER_COUNT, false, false);
        return 0;
    }
    memcpy(d->buf + old, buf, take);
    d->buf_len += take;

    if (!d->line_checked) {
        const char *nl = memchr(d->buf + old, '\n', take);
        if (nl != NULL) {
            /* Checked as soon as it is complete, so that garbage is
             * rejected after one line rather than after header_max bytes. */
            struct http_head h;
            d->line_checked = true;
            if (!parse_first_line(d, dir, &h)) {
                lose_head(f, ctx, dir, HTTP_COUNTER_MALFORMED, false, true);
                return (size_t)(nl - (d->buf + old)) + 1;
            }
        }
    }
    size_t end = find_blank_line(d->buf, d->buf_len, d->scan_from);
    if (end == 0) {
        d->scan_from = d->buf_len - 1;
        if (d->buf_len >= limit)
            lose_head(f, ctx, dir, HTTP_COUNTER_HEADER_TOO_LARGE, false,
                      d->buf[d->buf_len - 1] == '\n');
        return take;
    }
    assert(end > old);
    bool ok = dir == DIR_TO_SERVER ? request_head_done(f, ctx, d->buf, end)
                                   : response_head_done(f, ctx, d->buf, end);
    if (ok)
        head_reset(d);
    else
        lose_head(f, ctx, dir, HTTP_COUNTER_MALFORMED, false, true);
    return end - old;
}

/* ---- bodies */

/* Bytes of a Content-Length body or of one chunk (buf may be NULL when
 * len is 0: a gap took the last bytes). */
static size_t feed_body(struct http_flow *f, struct decoder_ctx *ctx,
                        enum decoder_dir dir, const char *buf, size_t len)
{
    struct http_direction *d = &f->dirs[dir];
    size_t n = (size_t)(d->remaining < len ? d->remaining : len);
    d->remaining -= n;
    account(f, dir, n);
    sink_feed(f, ctx, dir, buf, n);
    if (d->remaining == 0) {
        if (d->state == ST_CHUNK_DATA) {
            d->state = ST_CHUNK_END;
            d->cr_seen = false;
        } else {
            message_finish(f, ctx, dir);
        }
    }
    return n;
}

static size_t feed_chunk_size(struct http_flow *f, struct decoder_ctx *ctx,
                              enum decoder_dir dir, const char *buf, size_t len)
{
    struct http_direction *d = &f->dirs[dir];
    const char *nl = memchr(buf, '\n', len);
    size_t take = nl != NULL ? (size_t)(nl - buf) + 1 : len;
    if ((d->buf_len == 0 && http_hex_value(buf[0]) < 0) ||
        take > head_limit(ctx) - d->buf_len) {
        lose_body(f, ctx, dir, HTTP_COUNTER_MALFORMED, false);
        return 0;
    }
    if (!buf_reserve(f, d, d->buf_len + take)) {
        lose_body(f, ctx, dir, HTTP_COUNTER_COUNT, false);
        return 0;
    }
    memcpy(d->buf + d->buf_len, buf, take);
    d->buf_len += take;
    account(f, dir, take);
    if (nl == NULL)
        return take;

    uint64_t size = 0;
    ptrdiff_t n = http_parse_chunk_size(d->buf, d->buf_len, &size);
    bool ok = n == (ptrdiff_t)d->buf_len;
    head_reset(d);
    if (!ok)
        lose_body(f, ctx, dir, HTTP_COUNTER_MALFORMED, true);
    else if (size == 0)
        d->state = ST_TRAILER;
    else {
        d->state = ST_CHUNK_DATA;
        d->remaining = size;
    }
    return take;
}

/* CRLF (or LF) closing a chunk's data. */
static size_t feed_chunk_end(struct http_flow *f, struct decoder_ctx *ctx,
                             enum decoder_dir dir, const char *buf)
{
    struct http_direction *d = &f->dirs[dir];
    if (buf[0] == '\r' && !d->cr_seen) {
        d->cr_seen = true;
    } else if (buf[0] == '\n') {
        d->state = ST_CHUNK_SIZE;
    } else {
        lose_body(f, ctx, dir, HTTP_COUNTER_MALFORMED, false);
        return 0;
    }
    account(f, dir, 1);
    return 1;
}

/* The trailer section: header lines up to a blank line, often only that. */
static size_t feed_trailer(struct http_flow *f, struct decoder_ctx *ctx,
                           enum decoder_dir dir, const char *buf, size_t len)
{
    struct http_direction *d = &f->dirs[dir];
    size_t limit = head_limit(ctx);
    size_t old = d->buf_len;
    size_t take = min_size(len, limit - old);
    assert(take > 0);
    if (!buf_reserve(f, d, old + take)) {
        lose_body(f, ctx, dir, HTTP_COUNTER_COUNT, false);
        return 0;
    }
    memcpy(d->buf + old, buf, take);
    d->buf_len += take;
    size_t end = find_blank_line(d->buf, d->buf_len, d->scan_from);
    if (end == 0) {
        account(f, dir, take);
        d->scan_from = d->buf_len - 1;
        if (d->buf_len >= limit)
            lose_body(f, ctx, dir, HTTP_COUNTER_HEADER_TOO_LARGE,
                      d->buf[d->buf_len - 1] == '\n');
        return take;
    }
    assert(end > old);
    account(f, dir, end - old);
    struct http_head h;
    bool ok = http_parse_headers(d->buf, end, &h) == (ptrdiff_t)end;
    head_reset(d);
    if (ok)
        message_finish(f, ctx, dir);
    else
        lose_body(f, ctx, dir, HTTP_COUNTER_MALFORMED, true);
    return end - old;
}

/* ---- resynchronisation */

enum candidate { CAND_NO, CAND_MORE, CAND_YES };

/* "TOKEN SP" with a token of capitals: how request lines start. */
static enum candidate request_start(const char *p, size_t n)
{
    char c = p[n - 1];
    if (c == ' ')
        return n - 1 >= RESYNC_METHOD_MIN ? CAND_YES : CAND_NO;
    if ((c >= 'A' && c <= 'Z') || c == '-' || c == '_')
        return n <= RESYNC_METHOD_MAX ? CAND_MORE : CAND_NO;
    return CAND_NO;
}

static enum candidate response_start(const char *p, size_t n)
{
    static const char magic[] = "HTTP/1.";
    if (p[n - 1] != magic[n - 1])
        return CAND_NO;
    return n == sizeof(magic) - 1 ? CAND_YES : CAND_MORE;
}

/* Skips to a line start, then collects bytes while they could begin a
 * message of this direction. A match becomes the start of a head. The end
 * of a gap counts as a line start: segments lost whole leave the next
 * message at the start of the next data. */
static size_t feed_resync(struct http_flow *f, struct decoder_ctx *ctx,
                          enum decoder_dir dir, const char *buf, size_t len)
{
    struct http_direction *d = &f->dirs[dir];
    size_t i = 0;
    while (i < len) {
        if (!d->at_line_start) {
            const char *nl = memchr(buf + i, '\n', len - i);
            if (nl == NULL)
                return len;
            i = (size_t)(nl - buf) + 1;
            d->at_line_start = true;
            continue;
        }
        char c = buf[i++];
        if (d->buf_len == 0)
            d->ts_first = ctx->now_us;
        assert(d->buf_len < d->buf_cap);
        d->buf[d->buf_len++] = c;
        enum candidate m = dir == DIR_TO_SERVER ? request_start(d->buf, d->buf_len)
                                                : response_start(d->buf, d->buf_len);
        if (m == CAND_YES) {
            d->state = ST_HEAD;
            d->line_checked = false;
            d->scan_from = 0;
            return i;
        }
        if (m == CAND_NO) {
            d->buf_len = 0;
            d->at_line_start = c == '\n';
        }
    }
    return i;
}

/* ---- decoder entry points */

/* Consumes a prefix of buf; 0 only after a state change that will consume. */
static size_t feed(struct http_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                   const char *buf, size_t len)
{
    struct http_direction *d = &f->dirs[dir];
    switch (d->state) {
    case ST_HEAD:        return feed_head(f, ctx, dir, buf, len);
    case ST_BODY:        return feed_body(f, ctx, dir, buf, len);
    case ST_CHUNK_SIZE:  return feed_chunk_size(f, ctx, dir, buf, len);
    case ST_CHUNK_DATA:  return feed_body(f, ctx, dir, buf, len);
    case ST_CHUNK_END:   return feed_chunk_end(f, ctx, dir, buf);
    case ST_TRAILER:     return feed_trailer(f, ctx, dir, buf, len);
    case ST_UNTIL_CLOSE:
        account(f, dir, len);
        sink_feed(f, ctx, dir, buf, len);
        return len;
    case ST_RESYNC:      return feed_resync(f, ctx, dir, buf, len);
    case ST_IGNORE:      return len;
    }
    return len;
}

void http_stream_data(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                      const uint8_t *data, size_t len)
{
    struct http_flow *f = state;
    if (f == NULL || (dir != DIR_TO_SERVER && dir != DIR_TO_CLIENT))
        return;
    const char *buf = (const char *)data;
    while (len > 0) {
        size_t used = feed(f, ctx, dir, buf, len);
        assert(used <= len);
        buffers_give_back(f);
        buf += used;
        len -= used;
    }
}

/* A gap of known length inside a body of known length costs nothing but
 * the data (and the rest of the body for the observer: a body with a hole
 * cannot be decoded); anywhere else framing is lost and the direction
 * resyncs. */
static void gap_step(struct http_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                     uint64_t len)
{
    struct http_direction *d = &f->dirs[dir];
    switch (d->state) {
    case ST_BODY:
    case ST_CHUNK_DATA:
        if (len > 0 && len <= d->remaining) {
            mark_partial(f, dir);
            sink_stop(&d->sink);
            d->remaining -= len;
            account(f, dir, len);
            if (d->remaining == 0)
                (void)feed_body(f, ctx, dir, NULL, 0);   /* ends the body or chunk */
            return;
        }
        lose_body(f, ctx, dir, HTTP_COUNTER_COUNT, true);
        return;
    case ST_UNTIL_CLOSE:
        mark_partial(f, dir);
        sink_stop(&d->sink);
        account(f, dir, len);
        return;
    case ST_RESYNC:
        d->buf_len = 0;
        d->at_line_start = true;
        return;
    case ST_IGNORE:
        return;
    case ST_HEAD:
        lose_head(f, ctx, dir, HTTP_COUNTER_COUNT, true, true);
        return;
    case ST_CHUNK_SIZE:
    case ST_CHUNK_END:
    case ST_TRAILER:
        lose_body(f, ctx, dir, HTTP_COUNTER_COUNT, true);
        return;
    }
}

void http_stream_gap(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                     uint64_t len)
{
    struct http_flow *f = state;
    if (f == NULL || (dir != DIR_TO_SERVER && dir != DIR_TO_CLIENT))
        return;
    gap_step(f, ctx, dir, len);
    buffers_give_back(f);
}

/* No more bytes in this direction. A response read until close is complete
 * now; a response cut short is emitted as partial; a head cut short is
 * kept as partial if its first line came. */
void http_stream_end(void *state, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    struct http_flow *f = state;
    if (f == NULL || (dir != DIR_TO_SERVER && dir != DIR_TO_CLIENT))
        return;
    struct http_direction *d = &f->dirs[dir];
    if (d->ended)
        return;
    if (dir == DIR_TO_CLIENT && f->answering) {
        if (d->state != ST_UNTIL_CLOSE)
            mark_partial(f, dir);
        response_finish(f, ctx);
    }
    if (dir == DIR_TO_SERVER && f->client_active) {
        mark_partial(f, dir);
        request_close(f, ctx);
        f->client_active = false;
    }
    if (d->state == ST_HEAD && d->buf_len > 0)
        head_abandon(f, ctx, dir, false);
    d->ended = true;
    head_reset(d);
    d->state = ST_IGNORE;
}

static void http_free(struct http_flow *f)
{
    struct membudget *b = f->budget;
    sink_stop(&f->dirs[0].sink);
    sink_stop(&f->dirs[1].sink);
    membudget_free(b, f->dirs[0].buf, f->dirs[0].buf_cap);
    membudget_free(b, f->dirs[1].buf, f->dirs[1].buf_cap);
    membudget_free(b, f->queue, f->queue_cap * sizeof(*f->queue));
    membudget_free(b, f, f->alloc_size);
}

/* Ends both directions, then gives up every request still waiting; the
 * observer closes last, after it has seen every op. */
void http_stream_close(void *state, struct decoder_ctx *ctx)
{
    struct http_flow *f = state;
    if (f == NULL)
        return;
    http_stream_end(f, ctx, DIR_TO_CLIENT);
    http_stream_end(f, ctx, DIR_TO_SERVER);
    while (f->queue_count > 0) {
        struct http_request *r = queue_at(f, 0);
        r->op.flags |= OP_FLAG_NO_RESPONSE;
        pair_emit(f, ctx, r);
        queue_drop_front(f);
    }
    if (f->obs != NULL && f->obs->close != NULL)
        f->obs->close(f->obs_state);
    http_free(f);
}

/* Starts small: buffers and queue grow on demand up to their limits. The
 * observer's state shares the flow's allocation, aligned after it. */
void *http_open_with(struct decoder_ctx *ctx, const struct http_observer *obs,
                     enum app_id app)
{
    const size_t align = alignof(max_align_t);
    const size_t base = (sizeof(struct http_flow) + align - 1) / align * align;
    size_t extra = obs != NULL ? obs->state_size : 0;
    if (extra > SIZE_MAX - base)
        return NULL;
    struct http_flow *f = membudget_calloc(ctx->budget, base + extra);
    if (f == NULL)
        return NULL;
    f->budget = ctx->budget;
    f->alloc_size = base + extra;
    f->obs = obs;
    f->obs_state = extra > 0 ? (char *)f + base : NULL;
    f->app = app;
    size_t buf_cap = min_size(BUF_INITIAL, head_limit(ctx));
    size_t queue_cap = min_size(QUEUE_INITIAL, pending_limit(ctx));
    for (int i = 0; i < 2; i++) {
        f->dirs[i].sink.budget = f->budget;
        f->dirs[i].buf = membudget_malloc(f->budget, buf_cap);
        f->dirs[i].buf_cap = f->dirs[i].buf != NULL ? buf_cap : 0;
        f->dirs[i].state = ST_HEAD;
    }
    f->queue = membudget_malloc(f->budget, queue_cap * sizeof(*f->queue));
    f->queue_cap = f->queue != NULL ? queue_cap : 0;
    if (f->dirs[0].buf == NULL || f->dirs[1].buf == NULL || f->queue == NULL) {
        http_free(f);
        return NULL;
    }
    return f;
}

void *http_flow_observer_state(void *flow)
{
    return flow != NULL ? ((struct http_flow *)flow)->obs_state : NULL;
}

static void *http_open(struct decoder_ctx *ctx)
{
    return http_open_with(ctx, NULL, APP_HTTP);
}

/* The framer alone, with no application layer: not registered (the "http"
 * decoder in the registry also recognises Elasticsearch, see
 * elasticsearch.c); used by tests and as the plainest HTTP decoder. */
const struct decoder http_plain_decoder = {
    .name = "http-plain",
    .app = APP_HTTP,
    .probe = http_probe,
    .settings = &http_settings,
    .counters = &http_counters,
    .open = http_open,
    .data = http_stream_data,
    .gap = http_stream_gap,
    .end = http_stream_end,
    .close = http_stream_close,
};

/* ---- what the framer registers (shared by the decoders built on it) ---- */

static const struct config_key http_keys[] = {
    CONFIG_KEY_SIZE(struct http_params, header_max, "header_max_kb", 1, 1024, CONFIG_KIB, 16,
                    "Largest HTTP header block buffered per message, in KiB."),
    CONFIG_KEY_SIZE(struct http_params, pending_max, "pending_max", 1, 256, 1, 64,
                    "Requests per flow waiting for their response (pipelining); "
                    "each holds about 1.4 KiB."),
    CONFIG_KEY_SIZE(struct http_params, body_max, "body_max_mb", 1, 4096, CONFIG_MIB, 256,
                    "Body bytes per message handed to an application decoder after "
                    "de-chunking and inflating, in MiB."),
};

const struct decoder_settings http_settings = {
    "http", http_keys, sizeof(http_keys) / sizeof(http_keys[0]), sizeof(struct http_params),
};

static const char *const http_counter_names[HTTP_COUNTER_COUNT] = {
#define HTTP_COUNTER_NAME(id, name) name,
    HTTP_COUNTERS(HTTP_COUNTER_NAME)
#undef HTTP_COUNTER_NAME
};

const struct decoder_counters http_counters = { "http", http_counter_names, HTTP_COUNTER_COUNT };

/* Methods a probe accepts: what HTTP APIs of databases are called with.
 * CONNECT is left out: after it the bytes are a tunnel, not HTTP. */
static const char *const probe_methods[] = {
    "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", NULL,
};

/* Does buf start with "METHOD "? PROBE_NEED_MORE while it is a prefix. */
static enum probe_result probe_method(const uint8_t *buf, size_t len)
{
    bool prefix = false;
    for (const char *const *m = probe_methods; *m; m++) {
        size_t n = strlen(*m);
        size_t cmp = len < n + 1 ? len : n + 1;
        char want[16];
        snprintf(want, sizeof(want), "%s ", *m);
        if (memcmp(buf, want, cmp) != 0)
            continue;
        if (len >= n + 1)
            return PROBE_YES;
        prefix = true;
    }
    return prefix ? PROBE_NEED_MORE : PROBE_NO;
}

enum probe_result http_probe(const uint8_t *to_server, size_t to_server_len,
                             const uint8_t *to_client, size_t to_client_len)
{
    if (to_server_len > 0) {
        enum probe_result r = probe_method(to_server, to_server_len);
        if (r != PROBE_YES)
            return r;
        struct http_head head;
        ptrdiff_t n = http_parse_request_line((const char *)to_server, to_server_len, &head);
        if (n > 0)
            return PROBE_YES;
        return n == HTTP_NEED_MORE && to_server_len < DECODER_PROBE_BYTES ? PROBE_NEED_MORE
                                                                          : PROBE_NO;
    }
    if (to_client_len == 0)
        return PROBE_NEED_MORE;
    /* Picked up mid-stream: the server's status line. */
    static const char status[] = "HTTP/1.";
    size_t cmp = to_client_len < sizeof(status) - 1 ? to_client_len : sizeof(status) - 1;
    if (memcmp(to_client, status, cmp) != 0)
        return PROBE_NO;
    return cmp == sizeof(status) - 1 ? PROBE_YES : PROBE_NEED_MORE;
}
