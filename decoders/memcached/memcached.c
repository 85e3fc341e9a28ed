/* memcached.c - the memcached decoder: its description (keys, counters,
 * ports, probe), the per-flow state, the framing loop shared by the text and
 * binary protocols, the waiting requests, gaps and close.
 *
 * Each direction's protocol is chosen by its first byte: 0x80 (requests) or
 * 0x81 (responses) is binary, anything else text. Bytes are parsed where
 * they lie; only an unfinished text line or binary head (header, extras,
 * key) is copied into that direction's buffer, which grows up to line_max.
 * Data blocks and values are skipped by their announced length.
 *
 * Every loss has a counter and a flag on the op it touched:
 *   malformed line/header   memcached.malformed; a text line is skipped to
 *                           its end, binary framing is searched again
 *   gap                     inside a data block or value of known length:
 *                           skipped, framing kept, the op partial; else
 *                           memcached.resync: text skips to a line starting
 *                           with a known word, binary to a plausible header
 *   reply, no request       memcached.unpaired_replies, an op "reply" flagged
 *                           unpaired (a text listing absorbed up to its END)
 *   FIFO full               memcached.pending_overflow, the oldest request
 *                           emitted flagged no_response
 * Invariants: a direction's held_len < its buffer cap <= held_max between
 * calls; pending_count <= pending_cap <= pending_max. */
#include "memcached_flow.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* ---- description: settings, counters, ports ---- */

#define MC_LINE_MAX_KB_DEFAULT 16
#define MC_PENDING_MAX_DEFAULT 64
#define MC_UDP_PENDING_MAX_DEFAULT 16
#define MC_UDP_REPLY_MAX_KB_DEFAULT 1024
#define MC_UDP_TIMEOUT_S_DEFAULT 10
#define MC_AMPLIFICATION_RATIO_DEFAULT 10
#define MC_AMPLIFICATION_MIN_DEFAULT 1024
/* A binary head (24 + extras + key) always fits in the line buffer. */
#define MC_HEAD_MAX (MC_BIN_HEADER + MC_BIN_EXTRAS_MAX + MC_KEY_MAX)

static const struct config_key memcached_keys[] = {
    CONFIG_KEY_SIZE(struct memcached_params, line_max, "line_max_kb", 1, 1024, CONFIG_KIB,
                    MC_LINE_MAX_KB_DEFAULT,
                    "Longest text line (a multi-get with many keys) held per direction while "
                    "unfinished, in KiB; a longer one is skipped (memcached.malformed). 1..1024."),
    CONFIG_KEY_SIZE(struct memcached_params, pending_max, "pending_max", 1, 1024, 1,
                    MC_PENDING_MAX_DEFAULT,
                    "Requests per flow waiting for their reply; past it the oldest is emitted "
                    "without one (memcached.pending_overflow). 1..1024."),
    CONFIG_KEY_SIZE(struct memcached_params, udp_pending_max, "udp_pending_max", 1, 1024, 1,
                    MC_UDP_PENDING_MAX_DEFAULT,
                    "UDP replies of several datagrams reassembled at once per flow; past it "
                    "the oldest is emitted partial (memcached.udp_overflow). 1..1024."),
    CONFIG_KEY_SIZE(struct memcached_params, udp_reply_max, "udp_reply_max_kb", 1, 65536,
                    CONFIG_KIB, MC_UDP_REPLY_MAX_KB_DEFAULT,
                    "Bytes of UDP reply datagrams held per flow while a reply is reassembled, "
                    "in KiB; past it the oldest reply is emitted partial "
                    "(memcached.udp_overflow). 1..65536."),
    CONFIG_KEY_UNSIGNED(struct memcached_params, udp_timeout_s, "udp_timeout_s", 1, 3600,
                        MC_UDP_TIMEOUT_S_DEFAULT,
                        "Seconds a UDP reply waits for its missing datagrams before it is "
                        "emitted partial (memcached.udp_incomplete). 1..3600."),
    CONFIG_KEY_UNSIGNED(struct memcached_params, amplification_ratio, "amplification_ratio",
                        2, 100000, MC_AMPLIFICATION_RATIO_DEFAULT,
                        "A UDP reply at least this many times its request's bytes (and at "
                        "least amplification_min_bytes) flags the op amplified "
                        "(memcached.amplified). 2..100000."),
    CONFIG_KEY_SIZE(struct memcached_params, amplification_min, "amplification_min_bytes", 1,
                    1048576, 1, MC_AMPLIFICATION_MIN_DEFAULT,
                    "Smallest UDP reply, in bytes, that can be flagged amplified. 1..1048576."),
};

const struct decoder_settings memcached_settings = {
    "memcached", memcached_keys, sizeof(memcached_keys) / sizeof(memcached_keys[0]),
    sizeof(struct memcached_params),
};

static const struct memcached_params memcached_defaults = {
    .line_max = MC_LINE_MAX_KB_DEFAULT * CONFIG_KIB,
    .pending_max = MC_PENDING_MAX_DEFAULT,
    .udp_pending_max = MC_UDP_PENDING_MAX_DEFAULT,
    .udp_reply_max = MC_UDP_REPLY_MAX_KB_DEFAULT * CONFIG_KIB,
    .udp_timeout_s = MC_UDP_TIMEOUT_S_DEFAULT,
    .amplification_ratio = MC_AMPLIFICATION_RATIO_DEFAULT,
    .amplification_min = MC_AMPLIFICATION_MIN_DEFAULT,
};

static const char *const memcached_counter_names[MEMCACHED_COUNTER_COUNT] = {
#define MEMCACHED_COUNTER_NAME(id, name) name,
    MEMCACHED_COUNTERS(MEMCACHED_COUNTER_NAME)
#undef MEMCACHED_COUNTER_NAME
};

const struct decoder_counters memcached_counters = {
    "memcached", memcached_counter_names, MEMCACHED_COUNTER_COUNT,
};

static const uint16_t memcached_ports[] = { 11211 };
static const char *const memcached_ndpi_names[] = { "Memcached", NULL };

/* ---- the probe ---- */

static bool starts_with(const uint8_t *buf, size_t len, const char *s)
{
    size_t n = strlen(s);
    return len >= n && memcmp(buf, s, n) == 0;
}

/* True when all len bytes are the start of s. */
static bool is_prefix(const uint8_t *buf, size_t len, const char *s)
{
    return len < strlen(s) && memcmp(buf, s, len) == 0;
}

/* A binary message of the expected magic with a known opcode. */
static enum probe_result probe_binary(const uint8_t *buf, size_t len, uint8_t magic)
{
    struct mc_bin_header h;
    if (len < MC_BIN_HEADER)
        return PROBE_NEED_MORE;
    if (buf[0] != magic || mc_parse_bin(buf, MC_BIN_HEADER, &h) == MC_MALFORMED)
        return PROBE_NO;
    return mc_bin_known_opcode(buf[1]) ? PROBE_YES : PROBE_NO;
}

/* YES on the client's first line being a memcached command, or its first
 * binary header being valid; with no client bytes, on the server's
 * "VERSION ", "STAT pid " or a valid binary response. */
static enum probe_result memcached_probe(const uint8_t *to_server, size_t to_server_len,
                                         const uint8_t *to_client, size_t to_client_len)
{
    if (to_server_len > 0) {
        if (to_server[0] == MC_BIN_MAGIC_REQUEST)
            return probe_binary(to_server, to_server_len, MC_BIN_MAGIC_REQUEST);
        struct mc_line line;
        ptrdiff_t r = mc_parse_line(to_server, to_server_len, DECODER_PROBE_BYTES, &line);
        if (r == MC_NEED_MORE)
            return PROBE_NEED_MORE;
        if (r < 0 || line.token_count == 0 || !mc_text_is_command(&line.tok[0]))
            return PROBE_NO;
        return PROBE_YES;
    }
    if (to_client_len == 0)
        return PROBE_NEED_MORE;
    if (to_client[0] == MC_BIN_MAGIC_RESPONSE)
        return probe_binary(to_client, to_client_len, MC_BIN_MAGIC_RESPONSE);
    if (starts_with(to_client, to_client_len, "VERSION ") ||
        starts_with(to_client, to_client_len, "STAT pid "))
        return PROBE_YES;
    if (is_prefix(to_client, to_client_len, "VERSION ") ||
        is_prefix(to_client, to_client_len, "STAT pid "))
        return PROBE_NEED_MORE;
    return PROBE_NO;
}

/* ---- per-flow state ---- */

size_t memcached_held_peak(const void *state)
{
    return ((const struct mc_flow *)state)->held_peak;
}

size_t memcached_udp_held(const void *state)
{
    return ((const struct mc_flow *)state)->udp_bytes;
}

static void *memcached_open(struct decoder_ctx *ctx)
{
    const struct memcached_params *p = ctx->params;
    if (p == NULL)
        p = &memcached_defaults;
    struct mc_flow *f = membudget_calloc(ctx->budget, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->budget = ctx->budget;
    f->p = *p;
    /* the loader enforces the key ranges; tests may hand anything */
    if (f->p.line_max < MC_HEAD_MAX)
        f->p.line_max = MC_HEAD_MAX;
    if (f->p.pending_max == 0)
        f->p.pending_max = 1;
    if (f->p.udp_pending_max == 0)
        f->p.udp_pending_max = 1;
    if (f->p.amplification_ratio == 0)
        f->p.amplification_ratio = 1;
    f->pending_cap = f->p.pending_max < 4 ? f->p.pending_max : 4;
    f->pending = membudget_malloc(f->budget, f->pending_cap * sizeof(*f->pending));
    if (f->pending == NULL) {
        membudget_free(f->budget, f, sizeof(*f));
        return NULL;
    }
    f->datagram = ctx->datagram != 0;
    f->auth = ctx->midstream ? OP_AUTH_UNKNOWN : OP_AUTH_NO;
    return f;
}

void mc_lower(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* ---- the waiting requests ---- */

struct mc_pending *mc_pending_at(struct mc_flow *f, size_t i)
{
    if (i >= f->pending_count)
        return NULL;
    return &f->pending[(f->pending_head + i) % f->pending_cap];
}

struct mc_pending *mc_pending_front(struct mc_flow *f)
{
    return mc_pending_at(f, 0);
}

struct mc_pending *mc_pending_back(struct mc_flow *f)
{
    return f->pending_count > 0 ? mc_pending_at(f, f->pending_count - 1) : NULL;
}

void mc_emit(struct mc_flow *f, struct decoder_ctx *ctx, struct op_record *op)
{
    if (f->datagram && op->request_bytes > 0 && op->response_bytes >= f->p.amplification_min &&
        op->response_bytes / f->p.amplification_ratio >= op->request_bytes) {
        op->flags |= OP_FLAG_AMPLIFIED;
        decoder_count(ctx, MEMCACHED_COUNTER_AMPLIFIED);
    }
    decoder_emit(ctx, op);
}

/* Removes entry i, keeping the order of the others. */
static void pending_remove(struct mc_flow *f, size_t i, struct mc_pending *out)
{
    assert(i < f->pending_count);
    *out = *mc_pending_at(f, i);
    for (size_t j = i; j > 0; j--)
        *mc_pending_at(f, j) = *mc_pending_at(f, j - 1);
    f->pending_head = (f->pending_head + 1) % f->pending_cap;
    f->pending_count--;
}

void mc_pending_finish(struct mc_flow *f, struct decoder_ctx *ctx, size_t i)
{
    struct mc_pending e;
    pending_remove(f, i, &e);
    mc_emit(f, ctx, &e.op);
}

void mc_pending_to_front(struct mc_flow *f, size_t i)
{
    struct mc_pending e;
    pending_remove(f, i, &e);
    f->pending_head = (f->pending_head + f->pending_cap - 1) % f->pending_cap;
    f->pending_count++;
    *mc_pending_front(f) = e;
}

/* Doubles the ring (at most pending_max), keeping its order. */
static bool pending_grow(struct mc_flow *f)
{
    size_t cap = f->pending_cap * 2;
    if (cap > f->p.pending_max)
        cap = f->p.pending_max;
    if (cap <= f->pending_cap)
        return false;
    struct mc_pending *ring = membudget_malloc(f->budget, cap * sizeof(*ring));
    if (ring == NULL)
        return false;
    for (size_t i = 0; i < f->pending_count; i++)
        ring[i] = *mc_pending_at(f, i);
    membudget_free(f->budget, f->pending, f->pending_cap * sizeof(*ring));
    f->pending = ring;
    f->pending_cap = cap;
    f->pending_head = 0;
    return true;
}

/* An op that leaves without its answer: quiet binary ops expect none. */
static void finish_unanswered(struct mc_flow *f, struct decoder_ctx *ctx, size_t i)
{
    struct mc_pending *e = mc_pending_at(f, i);
    if (e->answered)
        e->op.flags |= OP_FLAG_PARTIAL;
    else if (e->shape != MC_SHAPE_BIN_QUIET && e->shape != MC_SHAPE_BIN_BATCH)
        e->op.flags |= OP_FLAG_NO_RESPONSE;
    mc_pending_finish(f, ctx, i);
}

struct mc_pending *mc_pending_push(struct mc_flow *f, struct decoder_ctx *ctx,
                                   const struct op_record *op, enum mc_shape shape)
{
    if (f->pending_count == f->pending_cap && !pending_grow(f)) {
        decoder_count(ctx, MEMCACHED_COUNTER_PENDING_OVERFLOW);
        finish_unanswered(f, ctx, 0);
    }
    f->pending_count++;
    struct mc_pending *e = mc_pending_back(f);
    memset(e, 0, sizeof(*e));
    e->op = *op;
    e->shape = (uint8_t)shape;
    e->udp_id = f->udp_id;
    return e;
}

void mc_request_op(struct mc_flow *f, struct decoder_ctx *ctx, struct op_record *op,
                   uint64_t ts)
{
    op_record_init(op, APP_MEMCACHED);
    op->authenticated = f->auth;
    op->ts_request_us = ts;
    if (f->probe_next) {
        op->flags |= OP_FLAG_PROBE;
        if (f->probe_client != NULL)
            op_set_string(op, op->client_id, sizeof(op->client_id), f->probe_client,
                          strlen(f->probe_client));
        f->probe_next = false;
        decoder_count(ctx, MEMCACHED_COUNTER_PROBES);
    }
    struct mc_dir *d = &f->dir[DIR_TO_SERVER];
    if (d->partial_next) {
        op->flags |= OP_FLAG_PARTIAL;
        d->partial_next = false;
    }
}

/* ---- framing ---- */

void mc_dir_reset(struct mc_dir *d)
{
    d->held_len = 0;
    d->skip = 0;
    d->mode = MC_MODE_UNKNOWN;
    d->skip_line = false;
    d->resync = false;
}

/* Room for `need` bytes of a unit (need <= line_max). */
static bool held_reserve(struct mc_flow *f, struct mc_dir *d, size_t need)
{
    assert(need <= f->p.line_max);
    if (need <= d->held_cap)
        return true;
    size_t cap = d->held_cap > 0 ? d->held_cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > f->p.line_max)
        cap = f->p.line_max;
    uint8_t *p = membudget_realloc(f->budget, d->held, d->held_cap, cap);
    if (p == NULL)
        return false;
    d->held = p;
    d->held_cap = cap;
    if (cap > f->held_peak)
        f->held_peak = cap;
    return true;
}

/* One text line at buf: acted on, or ignored while resynchronising. */
static ptrdiff_t take_text(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                           const uint8_t *buf, size_t len, uint64_t ts)
{
    struct mc_dir *d = &f->dir[dir];
    struct mc_line line;
    ptrdiff_t r = mc_parse_line(buf, len, f->p.line_max, &line);
    if (r <= 0)
        return r;
    if (d->resync) {
        if (!mc_text_known(dir, &line))
            return r;
        d->resync = false;
    }
    if (dir == DIR_TO_SERVER)
        mc_text_request(f, ctx, &line, ts);
    else
        mc_text_reply(f, ctx, &line, ts);
    return r;
}

/* One binary head at buf; its value is skipped afterwards. */
static ptrdiff_t take_binary(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                             const uint8_t *buf, size_t len, uint64_t ts)
{
    struct mc_bin_header h;
    uint8_t magic = dir == DIR_TO_SERVER ? MC_BIN_MAGIC_REQUEST : MC_BIN_MAGIC_RESPONSE;
    if ((len > 0 && buf[0] != magic) || (len > 1 && !mc_bin_known_opcode(buf[1])))
        return MC_MALFORMED;
    ptrdiff_t r = mc_parse_bin(buf, len, &h);
    if (r <= 0)
        return r;
    f->dir[dir].resync = false;
    f->dir[dir].skip = h.value_len;
    if (dir == DIR_TO_SERVER)
        mc_bin_request(f, ctx, &h, ts);
    else
        mc_bin_response(f, ctx, &h);
    return r;
}

static ptrdiff_t take_unit(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                           const uint8_t *buf, size_t len, uint64_t ts)
{
    if (f->dir[dir].mode == MC_MODE_BINARY)
        return take_binary(f, ctx, dir, buf, len, ts);
    return take_text(f, ctx, dir, buf, len, ts);
}

/* Framing was lost in a direction: the op it touches is partial, and the
 * direction looks for a place to start again. */
static void lose_framing(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    struct mc_dir *d = &f->dir[dir];
    d->held_len = 0;
    d->skip = 0;
    d->resync = true;
    d->skip_line = d->mode != MC_MODE_BINARY;
    struct mc_pending *front = mc_pending_front(f);
    if (dir == DIR_TO_CLIENT && front != NULL)
        front->op.flags |= OP_FLAG_PARTIAL;
    else
        d->partial_next = true;
    decoder_count(ctx, MEMCACHED_COUNTER_RESYNC);
}

/* A malformed unit: a text line is skipped to its end; binary framing is
 * searched again from the next byte. */
static void malformed(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    struct mc_dir *d = &f->dir[dir];
    if (d->resync)
        return;     /* still searching: not a new loss */
    decoder_count(ctx, MEMCACHED_COUNTER_MALFORMED);
    if (d->mode == MC_MODE_BINARY)
        lose_framing(f, ctx, dir);
}

/* How many bytes of buf complete the held unit (never past its end). */
static size_t held_wants(struct mc_flow *f, struct mc_dir *d, const uint8_t *buf, size_t len)
{
    size_t n;
    if (d->mode == MC_MODE_BINARY) {
        size_t need = MC_BIN_HEADER;
        if (d->held_len >= MC_BIN_HEADER)
            need += (size_t)d->held[4] + (((size_t)d->held[2] << 8) | d->held[3]);
        n = need > d->held_len ? need - d->held_len : 1;
    } else {
        const uint8_t *nl = memchr(buf, '\n', len);
        n = nl != NULL ? (size_t)(nl - buf) + 1 : len;
    }
    if (n > len)
        n = len;
    if (n > f->p.line_max - d->held_len)
        n = f->p.line_max - d->held_len;
    return n;
}

/* Completes the held unit with bytes at buf; the bytes used. */
static size_t feed_held(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                        const uint8_t *buf, size_t len)
{
    struct mc_dir *d = &f->dir[dir];
    size_t n = held_wants(f, d, buf, len);
    if (n == 0 || !held_reserve(f, d, d->held_len + n)) {
        lose_framing(f, ctx, dir);
        return n;
    }
    memcpy(d->held + d->held_len, buf, n);
    d->held_len += n;
    ptrdiff_t r = take_unit(f, ctx, dir, d->held, d->held_len, d->held_ts);
    if (r == MC_NEED_MORE)
        return n;
    if (r < 0 && d->mode == MC_MODE_BINARY && d->resync) {
        /* not a header after all: search again from the candidate's second
         * byte; the bytes just copied are read again from buf */
        size_t old = d->held_len - n, from = 1;
        while (from < old && d->held[from] != MC_BIN_MAGIC_REQUEST &&
               d->held[from] != MC_BIN_MAGIC_RESPONSE)
            from++;
        memmove(d->held, d->held + from, old - from);
        d->held_len = old - from;
        return 0;
    }
    if (r < 0) {
        bool text_unended = d->mode != MC_MODE_BINARY && d->held[d->held_len - 1] != '\n';
        malformed(f, ctx, dir);
        if (text_unended)
            d->skip_line = true;
    }
    d->held_len = 0;
    return n;
}

/* Skips what a data block, a lost line or lost binary framing leaves to
 * skip; the bytes skipped (0: nothing to skip). */
static size_t feed_skip(struct mc_dir *d, const uint8_t *buf, size_t len)
{
    if (d->skip > 0) {
        size_t n = d->skip < len ? (size_t)d->skip : len;
        d->skip -= n;
        return n;
    }
    if (d->skip_line) {
        const uint8_t *nl = memchr(buf, '\n', len);
        if (nl == NULL)
            return len;
        d->skip_line = false;
        return (size_t)(nl - buf) + 1;
    }
    if (d->mode == MC_MODE_BINARY && d->resync && d->held_len == 0 && buf[0] != 0x80 &&
        buf[0] != 0x81) {
        size_t i = 1;
        while (i < len && buf[i] != 0x80 && buf[i] != 0x81)
            i++;
        return i;
    }
    return 0;
}

void mc_feed(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
             const uint8_t *buf, size_t len)
{
    struct mc_dir *d = &f->dir[dir];
    while (len > 0) {
        if (d->mode == MC_MODE_UNKNOWN)
            d->mode = (buf[0] == MC_BIN_MAGIC_REQUEST || buf[0] == MC_BIN_MAGIC_RESPONSE)
                      ? MC_MODE_BINARY : MC_MODE_TEXT;
        size_t n = feed_skip(d, buf, len);
        if (n == 0 && d->held_len > 0) {
            n = feed_held(f, ctx, dir, buf, len);
            if (n == 0)
                continue;   /* the held bytes shrank or were dropped */
        } else if (n == 0) {
            ptrdiff_t r = take_unit(f, ctx, dir, buf, len, ctx->now_us);
            if (r > 0) {
                n = (size_t)r;
            } else if (r == MC_NEED_MORE) {
                if (!held_reserve(f, d, len)) {
                    lose_framing(f, ctx, dir);
                    return;
                }
                memcpy(d->held, buf, len);
                d->held_len = len;
                d->held_ts = ctx->now_us;
                return;
            } else {
                malformed(f, ctx, dir);
                if (d->mode == MC_MODE_BINARY)
                    n = 1;  /* search again from the next byte */
                else
                    d->skip_line = true;
            }
        }
        buf += n;
        len -= n;
    }
}

void mc_lose(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir, uint64_t len)
{
    struct mc_dir *d = &f->dir[dir];
    if (len > 0 && len <= d->skip && d->held_len == 0) {
        /* the gap fell inside a value of known length: framing holds */
        d->skip -= len;
        struct mc_pending *front = mc_pending_front(f);
        if (dir == DIR_TO_CLIENT && front != NULL)
            front->op.flags |= OP_FLAG_PARTIAL;
        else if (dir == DIR_TO_SERVER && mc_pending_back(f) != NULL)
            mc_pending_back(f)->op.flags |= OP_FLAG_PARTIAL;
        else
            d->partial_next = true;
        return;
    }
    lose_framing(f, ctx, dir);
}

static void memcached_data(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                           const uint8_t *buf, size_t len)
{
    struct mc_flow *f = state;
    if (f->datagram)
        mc_udp_datagram(f, ctx, dir, buf, len);
    else
        mc_feed(f, ctx, dir, buf, len);
    const struct mc_dir *d = &f->dir[dir];
    assert(d->held_len < f->p.line_max || d->held_len == 0);
    assert(f->pending_count <= f->pending_cap && f->pending_cap <= f->p.pending_max);
}

static void memcached_gap(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                          uint64_t len)
{
    struct mc_flow *f = state;
    if (f->datagram)
        mc_udp_gap(f, ctx, dir);
    else
        mc_lose(f, ctx, dir, len);
}

/* A unit that never ended is dropped and counted as malformed. */
static void drop_unfinished(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    struct mc_dir *d = &f->dir[dir];
    if (d->held_len > 0)
        decoder_count(ctx, MEMCACHED_COUNTER_MALFORMED);
    d->held_len = 0;
}

static void memcached_end(void *state, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    struct mc_flow *f = state;
    if (!f->datagram)
        drop_unfinished(f, ctx, dir);
}

static void memcached_close(void *state, struct decoder_ctx *ctx)
{
    struct mc_flow *f = state;
    mc_udp_flush(f, ctx, true);
    drop_unfinished(f, ctx, DIR_TO_SERVER);
    drop_unfinished(f, ctx, DIR_TO_CLIENT);
    while (f->pending_count > 0)
        finish_unanswered(f, ctx, 0);
    struct membudget *budget = f->budget;
    for (int dir = 0; dir < 2; dir++)
        membudget_free(budget, f->dir[dir].held, f->dir[dir].held_cap);
    membudget_free(budget, f->pending, f->pending_cap * sizeof(*f->pending));
    membudget_free(budget, f, sizeof(*f));
}

const struct decoder memcached_decoder = {
    .name = "memcached",
    .app = APP_MEMCACHED,
    .ports = memcached_ports,
    .port_count = sizeof(memcached_ports) / sizeof(memcached_ports[0]),
    .udp_ports = memcached_ports,
    .udp_port_count = sizeof(memcached_ports) / sizeof(memcached_ports[0]),
    .ndpi_names = memcached_ndpi_names,
    .probe = memcached_probe,
    .settings = &memcached_settings,
    .counters = &memcached_counters,
    .open = memcached_open,
    .data = memcached_data,
    .gap = memcached_gap,
    .end = memcached_end,
    .close = memcached_close,
};
