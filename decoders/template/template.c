/* template.c - the template decoder: lines in, one op per request/reply pair.
 *
 * Each direction is cut into lines by template_parse.c. Bytes are parsed
 * where they lie; only an unfinished line is copied, into that direction's
 * buffer, which grows up to line_max and never holds more than that line.
 * Requests wait in a FIFO (at most pending_max) for their replies; the
 * oldest one is answered by the next reply.
 *
 * Every limit and every loss has a counter and a flag on the op it touched:
 *   malformed line     template.malformed, skipped up to its end
 *   gap                template.resync, the line it cut dropped, the bytes
 *                      up to the next line end skipped, the op partial
 *   reply, no request  template.unpaired, an op "reply" flagged unpaired
 *   FIFO full          template.pending_overflow, the oldest request emitted
 *                      flagged no_response
 * Invariants: a direction's held_len < line_max between calls, and held_len
 * is 0 while it skips; pending_count <= pending_cap <= pending_max. */
#include "template.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- description: settings, counters, ports ---- */

#define TEMPLATE_LINE_MAX_KB_DEFAULT 4
#define TEMPLATE_PENDING_MAX_DEFAULT 32

static const struct config_key template_keys[] = {
    CONFIG_KEY_SIZE(struct template_params, line_max, "line_max_kb", 1, 1024, CONFIG_KIB,
                    TEMPLATE_LINE_MAX_KB_DEFAULT,
                    "Longest line (request or reply) buffered per direction, in KiB; a longer "
                    "one is skipped (template.malformed). 1..1024."),
    /* a count, not a size: KEY_SIZE with scale 1 because the field is a
     * size_t (KEY_UNSIGNED stores an `unsigned`) */
    CONFIG_KEY_SIZE(struct template_params, pending_max, "pending_max", 1, 256, 1,
                    TEMPLATE_PENDING_MAX_DEFAULT,
                    "Requests per flow waiting for their reply (pipelining); past it the "
                    "oldest is emitted without one (template.pending_overflow). 1..256."),
};

const struct decoder_settings template_settings = {
    "template", template_keys, sizeof(template_keys) / sizeof(template_keys[0]),
    sizeof(struct template_params),
};

/* What the decoder uses when a test or tool gives it no parameters: the
 * same defaults as the key table, from the same macros. */
static const struct template_params template_defaults = {
    .line_max = TEMPLATE_LINE_MAX_KB_DEFAULT * CONFIG_KIB,
    .pending_max = TEMPLATE_PENDING_MAX_DEFAULT,
};

static const char *const template_counter_names[TEMPLATE_COUNTER_COUNT] = {
#define TEMPLATE_COUNTER_NAME(id, name) name,
    TEMPLATE_COUNTERS(TEMPLATE_COUNTER_NAME)
#undef TEMPLATE_COUNTER_NAME
};

const struct decoder_counters template_counters = {
    "template", template_counter_names, TEMPLATE_COUNTER_COUNT,
};

static const uint16_t template_ports[] = { 7777 };

/* The verbs the protocol defines, and the class of their ops. */
static const struct {
    const char *verb;
    enum op_class op_class;
} template_verbs[] = {
    { "LIST", OP_CLASS_ENUMERATE },
    { "GET", OP_CLASS_READ },
    { "SET", OP_CLASS_WRITE },
    { "DROP", OP_CLASS_DESTROY },
    { "PING", OP_CLASS_HANDSHAKE },
    { "AUTH", OP_CLASS_AUTH },
};

static bool ascii_equal_nocase(const uint8_t *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a[i], y = (uint8_t)b[i];
        if (x >= 'a' && x <= 'z')
            x = (uint8_t)(x - 'a' + 'A');
        if (x != y)
            return false;
    }
    return true;
}

/* The verb's index in template_verbs (case-insensitive), or -1. */
static int verb_index(const uint8_t *verb, size_t len)
{
    for (size_t i = 0; i < sizeof(template_verbs) / sizeof(template_verbs[0]); i++)
        if (strlen(template_verbs[i].verb) == len &&
            ascii_equal_nocase(verb, template_verbs[i].verb, len))
            return (int)i;
    return -1;
}

/* YES when the client's first line is a request with a known verb. Only the
 * client's bytes count: "+OK" alone says too little. */
static enum probe_result template_probe(const uint8_t *to_server, size_t to_server_len,
                                        const uint8_t *to_client, size_t to_client_len)
{
    (void)to_client;
    (void)to_client_len;
    struct template_line line;
    ptrdiff_t r = template_parse_line(to_server, to_server_len, DECODER_PROBE_BYTES, &line);
    if (r == TEMPLATE_NEED_MORE)
        return PROBE_NEED_MORE;
    if (r < 0 || verb_index(line.verb, line.verb_len) < 0)
        return PROBE_NO;
    return PROBE_YES;
}

/* ---- per-flow state ---- */

struct template_dir {
    uint8_t *held;          /* the unfinished line, copied */
    size_t held_len;
    size_t held_cap;
    uint64_t held_ts;       /* packet time of its first byte */
    bool skipping;          /* discarding up to the next '\n' */
    bool partial_next;      /* a gap cut this direction: the next op is partial */
};

struct template_flow {
    /* The worker's memory budget (decoder_ctx.budget): this state and every
     * buffer and queue are charged there; a refusal is handled like a gap. */
    struct membudget *budget;
    size_t line_max;
    size_t pending_max;
    struct template_dir dir[2];
    struct op_record *pending;  /* ring of waiting requests */
    size_t pending_cap;
    size_t pending_head;
    size_t pending_count;
    size_t held_peak;           /* largest held_cap so far */
};

size_t template_held_peak(const void *state)
{
    return ((const struct template_flow *)state)->held_peak;
}

static void *template_open(struct decoder_ctx *ctx)
{
    const struct template_params *p = ctx->params;
    if (p == NULL)
        p = &template_defaults;
    struct template_flow *f = membudget_calloc(ctx->budget, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->budget = ctx->budget;
    /* the loader enforces the key ranges; tests may hand anything */
    f->line_max = p->line_max > 0 ? p->line_max : 1;
    f->pending_max = p->pending_max > 0 ? p->pending_max : 1;
    f->pending_cap = f->pending_max < 4 ? f->pending_max : 4;
    f->pending = membudget_malloc(f->budget, f->pending_cap * sizeof(*f->pending));
    if (f->pending == NULL) {
        membudget_free(f->budget, f, sizeof(*f));
        return NULL;
    }
    return f;
}

/* ---- the waiting requests ---- */

static struct op_record *pending_front(struct template_flow *f)
{
    return f->pending_count > 0 ? &f->pending[f->pending_head] : NULL;
}

static void pending_pop(struct template_flow *f, struct op_record *out)
{
    assert(f->pending_count > 0);
    *out = f->pending[f->pending_head];
    f->pending_head = (f->pending_head + 1) % f->pending_cap;
    f->pending_count--;
}

/* Doubles the ring (at most pending_max), keeping its order. */
static bool pending_grow(struct template_flow *f)
{
    size_t cap = f->pending_cap * 2;
    if (cap > f->pending_max)
        cap = f->pending_max;
    if (cap <= f->pending_cap)
        return false;
    struct op_record *ring = membudget_malloc(f->budget, cap * sizeof(*ring));
    if (ring == NULL)
        return false;
    for (size_t i = 0; i < f->pending_count; i++)
        ring[i] = f->pending[(f->pending_head + i) % f->pending_cap];
    membudget_free(f->budget, f->pending, f->pending_cap * sizeof(*ring));
    f->pending = ring;
    f->pending_cap = cap;
    f->pending_head = 0;
    return true;
}

/* Queues a request for its reply. When the FIFO is full (pending_max, or
 * memory would not grow it) the oldest request leaves without a reply. */
static void pending_push(struct template_flow *f, struct decoder_ctx *ctx,
                         const struct op_record *op)
{
    if (f->pending_count == f->pending_cap && !pending_grow(f)) {
        struct op_record oldest;
        pending_pop(f, &oldest);
        oldest.flags |= OP_FLAG_NO_RESPONSE;
        decoder_count(ctx, TEMPLATE_COUNTER_PENDING_OVERFLOW);
        decoder_emit(ctx, &oldest);
    }
    f->pending[(f->pending_head + f->pending_count) % f->pending_cap] = *op;
    f->pending_count++;
}

/* ---- lines ---- */

/* A request line: its op waits for the reply. AUTH's argument is a
 * credential: it never goes into the op, only the fact that one was sent. */
static void request_line(struct template_flow *f, struct decoder_ctx *ctx,
                         const struct template_line *line, uint64_t ts_first)
{
    if (line->verb_len == 0)
        return;     /* a blank line asks nothing */
    struct op_record op;
    op_record_init(&op, APP_UNKNOWN);
    op_set_string(&op, op.op, sizeof(op.op), (const char *)line->verb, line->verb_len);
    for (char *c = op.op; *c != '\0'; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    int v = verb_index(line->verb, line->verb_len);
    op.op_class = (uint8_t)(v >= 0 ? template_verbs[v].op_class : OP_CLASS_UNKNOWN);
    if (op.op_class == OP_CLASS_AUTH) {
        if (line->arg_len > 0)
            op.flags |= OP_FLAG_AUTH_HEADER;
    } else {
        op_set_string(&op, op.target, sizeof(op.target), (const char *)line->arg,
                      line->arg_len);
    }
    op.request_bytes = line->line_len;
    op.ts_request_us = ts_first;
    struct template_dir *d = &f->dir[DIR_TO_SERVER];
    if (d->partial_next) {
        op.flags |= OP_FLAG_PARTIAL;
        d->partial_next = false;
    }
    pending_push(f, ctx, &op);
}

/* A reply line answers the oldest waiting request; the op is emitted. The
 * "-ERR" text is not copied: it may echo the request's argument. */
static void reply_line(struct template_flow *f, struct decoder_ctx *ctx,
                       const struct template_reply *reply, uint64_t ts_first)
{
    struct op_record op;
    if (f->pending_count > 0) {
        pending_pop(f, &op);
    } else {
        decoder_count(ctx, TEMPLATE_COUNTER_UNPAIRED);
        op_record_init(&op, APP_UNKNOWN);
        op.flags |= OP_FLAG_UNPAIRED;
        op_set_string(&op, op.op, sizeof(op.op), "reply", 5);  /* lower case: no verb */
        op.ts_request_us = ts_first;
    }
    op.status = (uint8_t)(reply->ok ? OP_STATUS_OK : OP_STATUS_ERROR);
    if (reply->has_count)
        op.items = reply->count;
    op.response_bytes = reply->line_len;
    op.ts_response_us = ctx->now_us;
    struct template_dir *d = &f->dir[DIR_TO_CLIENT];
    if (d->partial_next) {
        op.flags |= OP_FLAG_PARTIAL;
        d->partial_next = false;
    }
    decoder_emit(ctx, &op);
}

/* Parses one line of a direction at buf and acts on it; the parser's result. */
static ptrdiff_t take_line(struct template_flow *f, struct decoder_ctx *ctx,
                           enum decoder_dir dir, const uint8_t *buf, size_t len,
                           uint64_t ts_first)
{
    if (dir == DIR_TO_SERVER) {
        struct template_line line;
        ptrdiff_t r = template_parse_line(buf, len, f->line_max, &line);
        if (r > 0)
            request_line(f, ctx, &line, ts_first);
        return r;
    }
    struct template_reply reply;
    ptrdiff_t r = template_parse_reply(buf, len, f->line_max, &reply);
    if (r > 0)
        reply_line(f, ctx, &reply, ts_first);
    return r;
}

/* Bytes of a direction went missing (a gap, or memory for its line): drop
 * the line they cut, skip to the next line end, and flag the op they touch:
 * the oldest waiting request for a lost reply, else the direction's next. */
static void resync(struct template_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    struct template_dir *d = &f->dir[dir];
    d->held_len = 0;
    d->skipping = true;
    struct op_record *front = pending_front(f);
    if (dir == DIR_TO_CLIENT && front != NULL)
        front->flags |= OP_FLAG_PARTIAL;
    else
        d->partial_next = true;
    decoder_count(ctx, TEMPLATE_COUNTER_RESYNC);
}

/* Room for `need` bytes of a line (need <= line_max). */
static bool held_reserve(struct template_flow *f, struct template_dir *d, size_t need)
{
    assert(need <= f->line_max);
    if (need <= d->held_cap)
        return true;
    size_t cap = d->held_cap > 0 ? d->held_cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > f->line_max)
        cap = f->line_max;
    uint8_t *p = membudget_realloc(f->budget, d->held, d->held_cap, cap);
    if (p == NULL)
        return false;
    d->held = p;
    d->held_cap = cap;
    if (cap > f->held_peak)
        f->held_peak = cap;
    return true;
}

/* Cuts a direction's bytes into lines: skips what a loss or a malformed
 * line left to skip, completes the held line, parses the rest in place and
 * holds what is left of an unfinished line. */
static void feed_lines(struct template_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                       const uint8_t *buf, size_t len)
{
    struct template_dir *d = &f->dir[dir];
    while (len > 0) {
        if (d->skipping) {
            const uint8_t *nl = memchr(buf, '\n', len);
            if (nl == NULL)
                return;
            size_t n = (size_t)(nl - buf) + 1;
            buf += n;
            len -= n;
            d->skipping = false;
            continue;
        }
        if (d->held_len > 0) {
            /* complete the held line: up to its end, or to line_max */
            const uint8_t *nl = memchr(buf, '\n', len);
            size_t n = nl != NULL ? (size_t)(nl - buf) + 1 : len;
            size_t room = f->line_max - d->held_len;
            if (n > room)
                n = room;
            if (!held_reserve(f, d, d->held_len + n)) {
                resync(f, ctx, dir);
                continue;
            }
            memcpy(d->held + d->held_len, buf, n);
            d->held_len += n;
            ptrdiff_t r = take_line(f, ctx, dir, d->held, d->held_len, d->held_ts);
            assert(r <= 0 || (size_t)r == d->held_len);
            d->skipping = r < 0 && d->held[d->held_len - 1] != '\n';
            buf += n;
            len -= n;
            if (r == TEMPLATE_NEED_MORE) {
                assert(len == 0);
                return;
            }
            if (r < 0)
                decoder_count(ctx, TEMPLATE_COUNTER_MALFORMED);
            d->held_len = 0;
            continue;
        }
        ptrdiff_t r = take_line(f, ctx, dir, buf, len, ctx->now_us);
        if (r > 0) {
            buf += r;
            len -= (size_t)r;
            continue;
        }
        if (r == TEMPLATE_NEED_MORE) {
            /* the parser said need-more, so len < line_max */
            if (!held_reserve(f, d, len)) {
                resync(f, ctx, dir);
                return;
            }
            memcpy(d->held, buf, len);
            d->held_len = len;
            d->held_ts = ctx->now_us;
            return;
        }
        decoder_count(ctx, TEMPLATE_COUNTER_MALFORMED);
        d->skipping = true;     /* the branch above finds the line's end */
    }
}

static void template_data(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                          const uint8_t *buf, size_t len)
{
    struct template_flow *f = state;
    feed_lines(f, ctx, dir, buf, len);
    const struct template_dir *d = &f->dir[dir];
    assert(d->held_len < f->line_max && !(d->skipping && d->held_len > 0));
    assert(f->pending_count <= f->pending_cap && f->pending_cap <= f->pending_max);
}

static void template_gap(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                         uint64_t len)
{
    (void)len;  /* known or not, the line it cut is lost */
    resync(state, ctx, dir);
}

/* A line that never ended is dropped and counted as malformed. */
static void drop_unfinished(struct template_flow *f, struct decoder_ctx *ctx,
                            enum decoder_dir dir)
{
    struct template_dir *d = &f->dir[dir];
    if (d->held_len > 0)
        decoder_count(ctx, TEMPLATE_COUNTER_MALFORMED);
    d->held_len = 0;
    d->skipping = false;
}

static void template_end(void *state, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    drop_unfinished(state, ctx, dir);
}

static void template_close(void *state, struct decoder_ctx *ctx)
{
    struct template_flow *f = state;
    drop_unfinished(f, ctx, DIR_TO_SERVER);
    drop_unfinished(f, ctx, DIR_TO_CLIENT);
    while (f->pending_count > 0) {
        struct op_record op;
        pending_pop(f, &op);
        op.flags |= OP_FLAG_NO_RESPONSE;
        decoder_emit(ctx, &op);
    }
    struct membudget *budget = f->budget;
    for (int dir = 0; dir < 2; dir++)
        membudget_free(budget, f->dir[dir].held, f->dir[dir].held_cap);
    membudget_free(budget, f->pending, f->pending_cap * sizeof(*f->pending));
    membudget_free(budget, f, sizeof(*f));
}

const struct decoder template_decoder = {
    .name = "template",
    .app = APP_UNKNOWN,
    .ports = template_ports,
    .port_count = sizeof(template_ports) / sizeof(template_ports[0]),
    .ndpi_names = NULL,
    .probe = template_probe,
    .settings = &template_settings,
    .counters = &template_counters,
    .open = template_open,
    .data = template_data,
    .gap = template_gap,
    .end = template_end,
    .close = template_close,
};
