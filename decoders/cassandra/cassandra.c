/* cassandra.c - the Cassandra native protocol decoder (see cassandra.h).
 *
 * Layers, bottom up, per direction:
 *   segments (v5 after the handshake): header + CRC24, payload + CRC32,
 *     lz4 when STARTUP asked for it; good payloads go to the frame reader;
 *   frames: header, then the body, parsed where it lies when whole, else
 *     its first head_max bytes copied (compressed bodies whole, up to
 *     compressed_max) and the rest skipped;
 *   messages: a request becomes a pending op keyed by its stream id; the
 *     response with that stream id completes and emits it.
 *
 * Every limit and every loss has a counter and a flag on the op it touched:
 *   header no peer sends     cassandra.malformed, then resync
 *   body past frame_max      cassandra.too_large, the frame skipped
 *   field past head_max      cassandra.body_capped, the op body_capped
 *   compressed past cap      cassandra.too_large, the op body_capped
 *   corrupt compression      cassandra.decompress_errors
 *   segment CRC wrong        cassandra.crc_errors, the segment dropped
 *   gap                      the frame it cut partial (known length), or
 *                            cassandra.resync and a scan for the next header
 *   response, no request     cassandra.unpaired, the op flagged unpaired
 *   pending table full       cassandra.pending_overflow, oldest no_response
 *   prepared table full      cassandra.prepared_overflow, oldest forgotten
 * Invariants: held_len <= held_want <= max(head_max, compressed_max);
 * pending_count <= pending_cap <= pending_max; prepared_count <=
 * prepared_cap <= prepared_max. */
#include "cassandra.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cassandra_compress.h"
#include "cassandra_parse.h"

/* ------------------------------------------------------------ description */

#define CASSANDRA_FRAME_MAX_MB_DEFAULT 256
#define CASSANDRA_HEAD_MAX_KB_DEFAULT 64
#define CASSANDRA_COMPRESSED_MAX_MB_DEFAULT 16
#define CASSANDRA_DECOMPRESSED_MAX_MB_DEFAULT 64
#define CASSANDRA_PENDING_MAX_DEFAULT 128
#define CASSANDRA_PREPARED_MAX_DEFAULT 64

static const struct config_key cassandra_keys[] = {
    CONFIG_KEY_SIZE(struct cassandra_params, frame_max, "frame_max_mb", 1, 2047, CONFIG_MIB,
                    CASSANDRA_FRAME_MAX_MB_DEFAULT,
                    "Largest frame body accepted, in MiB (the protocol's own limit is 256); "
                    "a larger header is skipped as malformed (cassandra.too_large). 1..2047."),
    CONFIG_KEY_SIZE(struct cassandra_params, head_max, "head_max_kb", 1, 65536, CONFIG_KIB,
                    CASSANDRA_HEAD_MAX_KB_DEFAULT,
                    "Bytes of a frame body kept when the frame is split across packets, in "
                    "KiB: enough for a query's text and parameters or a result's metadata; "
                    "rows past it are counted, never held. A field past it is lost "
                    "(cassandra.body_capped). 1..65536."),
    CONFIG_KEY_SIZE(struct cassandra_params, compressed_max, "compressed_max_mb", 1, 2047,
                    CONFIG_MIB, CASSANDRA_COMPRESSED_MAX_MB_DEFAULT,
                    "Compressed (lz4, snappy) v3/v4 frame body held per direction so it can "
                    "be decompressed whole, in MiB; a larger one is skipped "
                    "(cassandra.too_large). 1..2047."),
    CONFIG_KEY_SIZE(struct cassandra_params, decompressed_max, "decompressed_max_mb", 1, 2047,
                    CONFIG_MIB, CASSANDRA_DECOMPRESSED_MAX_MB_DEFAULT,
                    "Largest decompressed size of a compressed frame body, in MiB "
                    "(cassandra.too_large past it). 1..2047."),
    CONFIG_KEY_SIZE(struct cassandra_params, pending_max, "pending_max", 1, 32768, 1,
                    CASSANDRA_PENDING_MAX_DEFAULT,
                    "Requests per flow waiting for their response (one per stream id); "
                    "beyond it the oldest is emitted without one "
                    "(cassandra.pending_overflow). 1..32768."),
    CONFIG_KEY_SIZE(struct cassandra_params, prepared_max, "prepared_max", 1, 4096, 1,
                    CASSANDRA_PREPARED_MAX_DEFAULT,
                    "Prepared statements remembered per flow (id to verb and table, for "
                    "EXECUTE); beyond it the oldest is forgotten "
                    "(cassandra.prepared_overflow). 1..4096."),
};

const struct decoder_settings cassandra_settings = {
    "cassandra", cassandra_keys, sizeof(cassandra_keys) / sizeof(cassandra_keys[0]),
    sizeof(struct cassandra_params),
};

static const struct cassandra_params cassandra_defaults = {
    .frame_max = CASSANDRA_FRAME_MAX_MB_DEFAULT * CONFIG_MIB,
    .head_max = CASSANDRA_HEAD_MAX_KB_DEFAULT * CONFIG_KIB,
    .compressed_max = CASSANDRA_COMPRESSED_MAX_MB_DEFAULT * CONFIG_MIB,
    .decompressed_max = CASSANDRA_DECOMPRESSED_MAX_MB_DEFAULT * CONFIG_MIB,
    .pending_max = CASSANDRA_PENDING_MAX_DEFAULT,
    .prepared_max = CASSANDRA_PREPARED_MAX_DEFAULT,
};

static const char *const cassandra_counter_names[CASSANDRA_COUNTER_COUNT] = {
#define CASSANDRA_COUNTER_NAME(id, name) name,
    CASSANDRA_COUNTERS(CASSANDRA_COUNTER_NAME)
#undef CASSANDRA_COUNTER_NAME
};

const struct decoder_counters cassandra_counters = {
    "cassandra", cassandra_counter_names, CASSANDRA_COUNTER_COUNT,
};

static const uint16_t cassandra_ports[] = { 9042 };
static const char *const cassandra_ndpi_names[] = { "Cassandra", NULL };

/* ------------------------------------------------------------ probe */

/* A request header a client opens with: OPTIONS (empty body) or STARTUP
 * (a small string map). */
static enum probe_result probe_request(const uint8_t *p, size_t len)
{
    if (len > 0 && (p[0] < CQL_VERSION_MIN || p[0] > CQL_VERSION_MAX))
        return PROBE_NO;
    if (len >= 5 && p[4] != CQL_OP_OPTIONS && p[4] != CQL_OP_STARTUP)
        return PROBE_NO;
    struct cql_header h;
    int r = cql_parse_header(p, len, 4096, &h);
    if (r == CQL_NEED_MORE)
        return PROBE_NEED_MORE;
    if (r < 0 || (h.flags & ~(unsigned)(CQL_FLAG_TRACING | CQL_FLAG_BETA)) != 0)
        return PROBE_NO;
    if (h.opcode == CQL_OP_OPTIONS)
        return h.length == 0 ? PROBE_YES : PROBE_NO;
    if (h.length < 2)
        return PROBE_NO;
    if (len < CQL_HEADER_LEN + 2)
        return PROBE_NEED_MORE;
    unsigned pairs = (unsigned)p[9] << 8 | p[10];
    return pairs >= 1 && pairs <= 32 ? PROBE_YES : PROBE_NO;
}

/* A server's answer to one: SUPPORTED, READY or AUTHENTICATE. */
static enum probe_result probe_response(const uint8_t *p, size_t len)
{
    if (len > 0 && (p[0] < (CQL_RESPONSE_BIT | CQL_VERSION_MIN) ||
                    p[0] > (CQL_RESPONSE_BIT | CQL_VERSION_MAX)))
        return PROBE_NO;
    struct cql_header h;
    int r = cql_parse_header(p, len, 65536, &h);
    if (r == CQL_NEED_MORE)
        return PROBE_NEED_MORE;
    if (r < 0 || h.stream < 0)
        return PROBE_NO;
    if (h.opcode == CQL_OP_SUPPORTED || h.opcode == CQL_OP_AUTHENTICATE)
        return h.length >= 2 ? PROBE_YES : PROBE_NO;
    return h.opcode == CQL_OP_READY && h.length == 0 ? PROBE_YES : PROBE_NO;
}

static enum probe_result cassandra_probe(const uint8_t *to_server, size_t to_server_len,
                                         const uint8_t *to_client, size_t to_client_len)
{
    if (to_server_len > 0)
        return probe_request(to_server, to_server_len);
    if (to_client_len > 0)
        return probe_response(to_client, to_client_len);
    return PROBE_NEED_MORE;
}

/* ------------------------------------------------------------ state */

#define KEYSPACE_MAX 49      /* Cassandra names are at most 48 characters */
#define CLIENT_ID_MAX 96

enum frame_state { FR_HEADER = 0, FR_BODY, FR_RESYNC };
enum segment_state { SEG_HEADER = 0, SEG_PAYLOAD, SEG_RESYNC };

struct cass_dir {
    /* frames */
    uint8_t state;               /* enum frame_state */
    uint8_t hbuf[CQL_HEADER_LEN];
    size_t hlen;
    struct cql_header hdr;       /* of the frame being read */
    uint64_t ts_first;           /* packet time of its first byte */
    uint32_t body_got;           /* body bytes passed */
    uint8_t *held;               /* its first held_want body bytes, copied */
    size_t held_len, held_cap, held_want;
    bool too_large;              /* compressed body past compressed_max */
    bool partial;                /* a gap cut it */
    bool partial_next;           /* a lost request: the next op of this side is partial */
    bool seen_frame;             /* a good header came this way */
    /* segments (v5) */
    bool segments;
    bool wait_self_contained;    /* after a loss: skip parts of a cut frame */
    bool segment_compressed;     /* the segment being read was lz4 */
    uint8_t seg_state;           /* enum segment_state */
    uint8_t seg_hbuf[8];
    size_t seg_hlen;
    struct cql_segment seg;
    uint8_t *seg_buf;            /* payload and trailer of a split segment */
    size_t seg_len;
};

struct cass_pending {
    int16_t stream;
    uint8_t opcode;
    uint8_t stmt_class;          /* PREPARE: what EXECUTE of it will be */
    bool stmt_match_all;
    char stmt_verb[OP_NAME_MAX];
    struct op_record op;
};

struct cass_prepared {
    uint64_t id_hash;
    uint8_t op_class;
    bool match_all;
    char verb[OP_NAME_MAX];
    char target[OP_TARGET_MAX];
};

struct cass_flow {
    struct membudget *budget;       /* where this state and its buffers are charged */
    struct cass_params_view {
        size_t frame_max, head_max, compressed_max, decompressed_max, pending_max, prepared_max;
    } lim;
    struct cass_dir dir[2];
    struct cass_pending *pending;
    size_t pending_count, pending_cap;
    struct cass_prepared *prepared;      /* a ring: the oldest replaced when full */
    size_t prepared_count, prepared_cap, prepared_next;
    uint8_t version;                     /* of the connection, once known */
    uint8_t startup_version;             /* of the STARTUP sent */
    uint8_t compression;                 /* enum cql_compression STARTUP asked for */
    uint8_t auth;                        /* enum op_auth of the session now */
    bool auth_required;                  /* the server answered AUTHENTICATE */
    bool control;                        /* sent REGISTER: a driver's control connection */
    char scheme[OP_SCHEME_MAX];
    char keyspace[KEYSPACE_MAX];         /* USE / Set_keyspace */
    char client_id[CLIENT_ID_MAX];
    size_t held_now, held_peak;
};

size_t cassandra_held_peak(const void *state)
{
    return ((const struct cass_flow *)state)->held_peak;
}

static void held_add(struct cass_flow *f, size_t n)
{
    f->held_now += n;
    if (f->held_now > f->held_peak)
        f->held_peak = f->held_now;
}

static void held_sub(struct cass_flow *f, size_t n)
{
    assert(f->held_now >= n);
    f->held_now -= n;
}

static void *cassandra_open(struct decoder_ctx *ctx)
{
    const struct cassandra_params *p = ctx->params ? ctx->params : &cassandra_defaults;
    struct cass_flow *f = membudget_calloc(ctx->budget, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->budget = ctx->budget;
    /* the loader enforces the key ranges; tests may hand anything */
    f->lim.frame_max = p->frame_max;
    f->lim.head_max = p->head_max > 0 ? p->head_max : 1;
    f->lim.compressed_max = p->compressed_max;
    f->lim.decompressed_max = p->decompressed_max;
    f->lim.pending_max = p->pending_max > 0 ? p->pending_max : 1;
    f->lim.prepared_max = p->prepared_max > 0 ? p->prepared_max : 1;
    f->auth = ctx->midstream ? OP_AUTH_UNKNOWN : OP_AUTH_NO;
    return f;
}

/* ------------------------------------------------------------ pending requests */

static struct cass_pending *pending_find(struct cass_flow *f, int16_t stream)
{
    for (size_t i = 0; i < f->pending_count; i++)
        if (f->pending[i].stream == stream)
            return &f->pending[i];
    return NULL;
}

static void pending_remove(struct cass_flow *f, struct cass_pending *p)
{
    size_t i = (size_t)(p - f->pending);
    assert(i < f->pending_count);
    memmove(&f->pending[i], &f->pending[i + 1],
            (f->pending_count - i - 1) * sizeof(*f->pending));
    f->pending_count--;
}

/* Emits a request that will get no response, and forgets it. */
static void pending_give_up(struct cass_flow *f, struct decoder_ctx *ctx, struct cass_pending *p)
{
    struct op_record op = p->op;
    op.flags |= OP_FLAG_NO_RESPONSE;
    pending_remove(f, p);
    decoder_emit(ctx, &op);
}

static bool pending_grow(struct cass_flow *f)
{
    size_t cap = f->pending_cap ? f->pending_cap * 2 : 4;
    if (cap > f->lim.pending_max)
        cap = f->lim.pending_max;
    if (cap <= f->pending_cap)
        return false;
    struct cass_pending *p = membudget_realloc(f->budget, f->pending,
                                               f->pending_cap * sizeof(*p), cap * sizeof(*p));
    if (p == NULL)
        return false;
    held_add(f, (cap - f->pending_cap) * sizeof(*p));
    f->pending = p;
    f->pending_cap = cap;
    return true;
}

/* A new request on a stream: a request still waiting on the same stream
 * will never be answered (the client gave up on it); a full table gives
 * up the oldest. */
static struct cass_pending *pending_add(struct cass_flow *f, struct decoder_ctx *ctx,
                                        int16_t stream)
{
    struct cass_pending *old = pending_find(f, stream);
    if (old != NULL)
        pending_give_up(f, ctx, old);
    if (f->pending_count == f->pending_cap && !pending_grow(f)) {
        if (f->pending_count == 0)
            return NULL;
        decoder_count(ctx, CASSANDRA_COUNTER_PENDING_OVERFLOW);
        pending_give_up(f, ctx, &f->pending[0]);
    }
    struct cass_pending *p = &f->pending[f->pending_count++];
    memset(p, 0, offsetof(struct cass_pending, op));
    p->stream = stream;
    return p;
}

/* ------------------------------------------------------------ prepared statements */

static uint64_t id_hash(const struct cql_span *id)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < id->len; i++)
        h = (h ^ id->p[i]) * 0x100000001b3ull;
    return h;
}

static const struct cass_prepared *prepared_find(const struct cass_flow *f,
                                                 const struct cql_span *id)
{
    if (id->len == 0)
        return NULL;
    uint64_t h = id_hash(id);
    for (size_t i = 0; i < f->prepared_count; i++)
        if (f->prepared[i].id_hash == h)
            return &f->prepared[i];
    return NULL;
}

static void prepared_add(struct cass_flow *f, struct decoder_ctx *ctx, const struct cql_span *id,
                         const struct cass_pending *p)
{
    if (id->len == 0)
        return;
    struct cass_prepared *slot = (struct cass_prepared *)prepared_find(f, id);
    if (slot == NULL && f->prepared_count == f->prepared_cap) {
        size_t cap = f->prepared_cap ? f->prepared_cap * 2 : 4;
        if (cap > f->lim.prepared_max)
            cap = f->lim.prepared_max;
        struct cass_prepared *n = cap > f->prepared_cap
                                      ? membudget_realloc(f->budget, f->prepared,
                                                          f->prepared_cap * sizeof(*n),
                                                          cap * sizeof(*n))
                                      : NULL;
        if (n != NULL) {
            held_add(f, (cap - f->prepared_cap) * sizeof(*n));
            f->prepared = n;
            f->prepared_cap = cap;
        } else if (f->prepared_count > 0) {
            decoder_count(ctx, CASSANDRA_COUNTER_PREPARED_OVERFLOW);
            slot = &f->prepared[f->prepared_next];
            f->prepared_next = (f->prepared_next + 1) % f->prepared_count;
        } else {
            return;
        }
    }
    if (slot == NULL)
        slot = &f->prepared[f->prepared_count++];
    slot->id_hash = id_hash(id);
    slot->op_class = p->stmt_class;
    slot->match_all = p->stmt_match_all;
    memcpy(slot->verb, p->stmt_verb, sizeof(slot->verb));
    memcpy(slot->target, p->op.target, sizeof(slot->target));
}

/* ------------------------------------------------------------ requests */

static void set_text(struct op_record *op, char *dst, size_t cap, const struct cql_span *s)
{
    op_set_string(op, dst, cap, (const char *)s->p, s->len);
}

/* The target of a statement: keyspace.table, the session's keyspace when
 * the statement names none. */
static void statement_target(const struct cass_flow *f, const struct cql_statement *st,
                             struct op_record *op, const char **keyspace)
{
    *keyspace = st->keyspace[0] ? st->keyspace : f->keyspace;
    if (st->name[0] == '\0')
        return;
    char t[OP_TARGET_MAX * 2 + 2];
    if (st->names_keyspace || (*keyspace)[0] == '\0')
        snprintf(t, sizeof(t), "%s", st->name);
    else
        snprintf(t, sizeof(t), "%s.%s", *keyspace, st->name);
    op_set_string(op, op->target, sizeof(op->target), t, strlen(t));
}

/* The class of a SELECT on keyspace.table on this flow. A driver's control
 * connection (it sent REGISTER) reads the schema tables to build the
 * driver's metadata on every connect and schema change, whatever the
 * application: handshake there, enumerate elsewhere (README). */
static uint8_t select_class(const struct cass_flow *f, const char *keyspace, const char *table)
{
    uint8_t cls = cql_select_class(keyspace, table);
    if (cls == OP_CLASS_ENUMERATE && f->control)
        return OP_CLASS_HANDSHAKE;
    return cls;
}

/* Verb, class, target and match_all of a CQL text into op; what EXECUTE
 * of it would be into p (PREPARE). */
static void apply_statement(const struct cass_flow *f, const struct cql_span *text,
                            struct op_record *op, struct cass_pending *p)
{
    struct cql_statement st;
    cql_statement_scan(text->p, text->len, &st);
    const char *keyspace;
    statement_target(f, &st, op, &keyspace);
    if (st.cut)
        op->flags |= OP_FLAG_TRUNCATED;
    uint8_t cls = st.op_class;
    bool match_all = false;
    if (strcmp(st.verb, "SELECT") == 0) {
        cls = select_class(f, keyspace, st.name);
        match_all = cls == OP_CLASS_READ && !st.has_where && st.name[0] != '\0';
    }
    p->stmt_class = cls;
    p->stmt_match_all = match_all;
    memcpy(p->stmt_verb, st.verb, sizeof(p->stmt_verb));
    if (p->opcode == CQL_OP_PREPARE)
        return;     /* PREPARE names its target; its op stays "PREPARE" */
    if (st.verb[0] != '\0')
        op_set_string(op, op->op, sizeof(op->op), st.verb, strlen(st.verb));
    op->op_class = cls;
    if (match_all)
        op->flags |= OP_FLAG_MATCH_ALL;
}

static void apply_prepared(const struct cass_prepared *s, struct op_record *op)
{
    op_set_string(op, op->op, sizeof(op->op), s->verb, strlen(s->verb));
    op_set_string(op, op->target, sizeof(op->target), s->target, strlen(s->target));
    op->op_class = s->op_class;
    if (s->match_all)
        op->flags |= OP_FLAG_MATCH_ALL;
}

static void apply_paging(const struct cql_request *q, struct op_record *op)
{
    if (q->page_size > 0)
        op->page_size = q->page_size;
    if (q->paging_state.len > 0) {
        op_continuation_hash(q->paging_state.p, q->paging_state.len, op->continuation);
        op->flags |= OP_FLAG_CONTINUES;
    }
}

static void startup_facts(struct cass_flow *f, const struct cql_request *q, uint8_t version)
{
    f->startup_version = version;
    f->version = version;
    if (q->compression.len == 3 && memcmp(q->compression.p, "lz4", 3) == 0)
        f->compression = CQL_COMPRESS_LZ4;
    else if (q->compression.len == 6 && memcmp(q->compression.p, "snappy", 6) == 0)
        f->compression = CQL_COMPRESS_SNAPPY;
    const struct cql_span *name = q->app_name.len > 0 ? &q->app_name : &q->driver_name;
    if (name->len == 0)
        return;
    int n = snprintf(f->client_id, sizeof(f->client_id), "%.*s", (int)name->len,
                     (const char *)name->p);
    if (name == &q->driver_name && q->driver_version.len > 0 && n > 0 &&
        (size_t)n < sizeof(f->client_id))
        snprintf(f->client_id + n, sizeof(f->client_id) - (size_t)n, " %.*s",
                 (int)q->driver_version.len, (const char *)q->driver_version.p);
}

static uint8_t opcode_class(uint8_t opcode)
{
    switch (opcode) {
    case CQL_OP_STARTUP: case CQL_OP_OPTIONS: case CQL_OP_REGISTER:
        return OP_CLASS_HANDSHAKE;
    case CQL_OP_AUTH_RESPONSE:
        return OP_CLASS_AUTH;
    case CQL_OP_BATCH:
        return OP_CLASS_WRITE;
    default:
        return OP_CLASS_UNKNOWN;
    }
}

/* A request frame's body (prefix skipped): its op waits for the response. */
static void on_request(struct cass_flow *f, struct decoder_ctx *ctx, struct cass_dir *d,
                       const uint8_t *body, size_t len, uint32_t op_flags)
{
    const struct cql_header *h = &d->hdr;
    struct cass_pending *p = pending_add(f, ctx, h->stream);
    if (p == NULL)
        return;
    p->opcode = h->opcode;
    struct op_record *op = &p->op;
    op_record_init(op, APP_CASSANDRA);
    const char *name = cql_opcode_name(h->opcode);
    op_set_string(op, op->op, sizeof(op->op), name, strlen(name));
    op->op_class = opcode_class(h->opcode);
    op->flags |= op_flags;
    op->request_bytes = CQL_HEADER_LEN + (uint64_t)h->length;
    op->ts_request_us = d->ts_first;
    op->authenticated = f->auth;
    if (f->client_id[0] != '\0')
        op_set_string(op, op->client_id, sizeof(op->client_id), f->client_id,
                      strlen(f->client_id));
    if (f->scheme[0] != '\0')
        op_set_string(op, op->auth_scheme, sizeof(op->auth_scheme), f->scheme, strlen(f->scheme));

    struct cql_request q;
    cql_parse_request(h->opcode, h->version, body, len, &q);
    if (q.malformed)
        decoder_count(ctx, CASSANDRA_COUNTER_MALFORMED);
    if (q.cut && len < h->length && (op_flags & OP_FLAG_COMPRESSED) == 0) {
        op->flags |= OP_FLAG_BODY_CAPPED;
        decoder_count(ctx, CASSANDRA_COUNTER_BODY_CAPPED);
    }
    switch (h->opcode) {
    case CQL_OP_STARTUP:
        startup_facts(f, &q, h->version);
        if (f->client_id[0] != '\0')
            op_set_string(op, op->client_id, sizeof(op->client_id), f->client_id,
                          strlen(f->client_id));
        break;
    case CQL_OP_AUTH_RESPONSE:
        if (q.has_token)
            op->flags |= OP_FLAG_AUTH_HEADER;
        break;
    case CQL_OP_REGISTER:
        f->control = true;
        break;
    case CQL_OP_QUERY:
    case CQL_OP_PREPARE:
        apply_statement(f, &q.query, op, p);
        apply_paging(&q, op);
        break;
    case CQL_OP_EXECUTE: {
        const struct cass_prepared *s = prepared_find(f, &q.prepared_id);
        if (s != NULL)
            apply_prepared(s, op);
        apply_paging(&q, op);
        break;
    }
    case CQL_OP_BATCH:
        if (q.query.p != NULL) {
            apply_statement(f, &q.query, op, p);
            op_set_string(op, op->op, sizeof(op->op), "BATCH", 5);
        } else {
            const struct cass_prepared *s = prepared_find(f, &q.prepared_id);
            if (s != NULL)
                op_set_string(op, op->target, sizeof(op->target), s->target,
                              strlen(s->target));
        }
        op->op_class = OP_CLASS_WRITE;
        op->flags &= ~(uint32_t)OP_FLAG_MATCH_ALL;
        break;
    default:
        break;
    }
    if (d->partial_next) {
        op->flags |= OP_FLAG_PARTIAL;
        d->partial_next = false;
    }
}

/* ------------------------------------------------------------ responses */

/* "org.apache.cassandra.auth.PasswordAuthenticator" -> "password": the
 * class name's last part, lower case, without "Authenticator". */
static void authenticator_scheme(struct cass_flow *f, const struct cql_span *a)
{
    size_t start = a->len;
    while (start > 0 && a->p[start - 1] != '.')
        start--;
    size_t n = a->len - start;
    static const char suffix[] = "Authenticator";
    if (n > sizeof(suffix) - 1 &&
        memcmp(a->p + a->len - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1) == 0)
        n -= sizeof(suffix) - 1;
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof(f->scheme); i++) {
        uint8_t c = a->p[start + i];
        if (c < 0x20 || c >= 0x7f)
            continue;
        f->scheme[k++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    f->scheme[k] = '\0';
}

/* After the server answered a v5 STARTUP, both directions are segments. */
static void start_segments(struct cass_flow *f)
{
    for (int i = 0; i < 2; i++) {
        struct cass_dir *d = &f->dir[i];
        d->segments = true;
        d->seg_state = SEG_HEADER;
        d->seg_hlen = 0;
    }
}

static void on_result(struct cass_flow *f, struct decoder_ctx *ctx, const struct cql_response *r,
                      struct cass_pending *p, struct op_record *op)
{
    if (r->kind == CQL_RESULT_ROWS) {
        op->items = r->rows;
        if (r->paging_state.len > 0)
            op_continuation_hash(r->paging_state.p, r->paging_state.len, op->cursor_out);
        if (op->target[0] == '\0' && r->table_name.len > 0) {
            char t[OP_TARGET_MAX];
            snprintf(t, sizeof(t), "%.*s.%.*s", (int)r->table_keyspace.len,
                     (const char *)r->table_keyspace.p, (int)r->table_name.len,
                     (const char *)r->table_name.p);
            op_set_string(op, op->target, sizeof(op->target), t, strlen(t));
            if (op->op_class == OP_CLASS_UNKNOWN) {
                char ks[KEYSPACE_MAX], tb[OP_TARGET_MAX];
                snprintf(ks, sizeof(ks), "%.*s", (int)r->table_keyspace.len,
                         (const char *)r->table_keyspace.p);
                snprintf(tb, sizeof(tb), "%.*s", (int)r->table_name.len,
                         (const char *)r->table_name.p);
                op->op_class = select_class(f, ks, tb);
            }
        }
    } else if (r->kind == CQL_RESULT_SET_KEYSPACE) {
        size_t n = r->keyspace.len < KEYSPACE_MAX - 1 ? r->keyspace.len : KEYSPACE_MAX - 1;
        memcpy(f->keyspace, r->keyspace.p, n);
        f->keyspace[n] = '\0';
    } else if (r->kind == CQL_RESULT_PREPARED && p != NULL && p->opcode == CQL_OP_PREPARE) {
        prepared_add(f, ctx, &r->prepared_id, p);
    }
}

static void on_error(struct cass_flow *f, const struct cql_response *r, struct op_record *op)
{
    op->status_code = r->error_code;
    const char *name = cql_error_name(r->error_code);
    op_set_string(op, op->error_type, sizeof(op->error_type), name, strlen(name));
    bool denied = r->error_code == CQL_ERROR_BAD_CREDENTIALS ||
                  r->error_code == CQL_ERROR_UNAUTHORIZED;
    op->status = denied ? OP_STATUS_DENIED : OP_STATUS_ERROR;
    if (r->error_code == CQL_ERROR_BAD_CREDENTIALS)
        f->auth = OP_AUTH_NO;
}

/* EVENT: a server push on stream -1, its own op. */
static void on_event(struct decoder_ctx *ctx, const struct cass_dir *d,
                     const struct cql_response *r, uint32_t op_flags)
{
    struct op_record op;
    op_record_init(&op, APP_CASSANDRA);
    op_set_string(&op, op.op, sizeof(op.op), "EVENT", 5);
    op.op_class = OP_CLASS_HANDSHAKE;
    set_text(&op, op.target, sizeof(op.target), &r->event_type);
    op.status = OP_STATUS_OK;
    op.flags |= op_flags;
    op.response_bytes = CQL_HEADER_LEN + (uint64_t)d->hdr.length;
    op.ts_request_us = d->ts_first;
    op.ts_response_us = ctx->now_us;
    decoder_emit(ctx, &op);
}

/* The outcome of a login: AUTH_SUCCESS ends one; an ERROR to an
 * AUTH_RESPONSE (or "Bad credentials" to anything) refuses it; an
 * AUTH_CHALLENGE is a step, no outcome yet. */
static uint8_t login_outcome(const struct cass_pending *p, uint8_t opcode,
                             const struct cql_response *r)
{
    if (opcode == CQL_OP_AUTH_SUCCESS)
        return OP_AUTH_RESULT_SUCCESS;
    if (opcode == CQL_OP_ERROR && ((p != NULL && p->opcode == CQL_OP_AUTH_RESPONSE) ||
                                   r->error_code == CQL_ERROR_BAD_CREDENTIALS))
        return OP_AUTH_RESULT_FAILURE;
    return OP_AUTH_RESULT_NONE;
}

/* A response frame's body (prefix skipped): completes its request's op. */
static void on_response(struct cass_flow *f, struct decoder_ctx *ctx, struct cass_dir *d,
                        const uint8_t *body, size_t len, uint32_t op_flags)
{
    const struct cql_header *h = &d->hdr;
    struct cql_response r;
    cql_parse_response(h->opcode, h->version, body, len, &r);
    if (r.malformed)
        decoder_count(ctx, CASSANDRA_COUNTER_MALFORMED);
    if (r.cut && len < h->length && (op_flags & OP_FLAG_COMPRESSED) == 0) {
        op_flags |= OP_FLAG_BODY_CAPPED;
        decoder_count(ctx, CASSANDRA_COUNTER_BODY_CAPPED);
    }
    if (h->opcode == CQL_OP_EVENT) {
        on_event(ctx, d, &r, op_flags);
        return;
    }
    struct op_record op;
    struct cass_pending *p = pending_find(f, h->stream);
    if (p != NULL) {
        op = p->op;
    } else {
        decoder_count(ctx, CASSANDRA_COUNTER_UNPAIRED);
        op_record_init(&op, APP_CASSANDRA);
        const char *name = cql_opcode_name(h->opcode);
        op_set_string(&op, op.op, sizeof(op.op), name, strlen(name));
        op.flags |= OP_FLAG_UNPAIRED;
        op.ts_request_us = d->ts_first;
        op.authenticated = f->auth;
    }
    op.flags |= op_flags;
    op.response_bytes = CQL_HEADER_LEN + (uint64_t)h->length;
    op.ts_response_us = ctx->now_us;
    op.status = OP_STATUS_OK;
    bool answers_startup = p != NULL && p->opcode == CQL_OP_STARTUP;
    switch (h->opcode) {
    case CQL_OP_READY:
        if (!f->auth_required)
            f->auth = OP_AUTH_NO;
        break;
    case CQL_OP_AUTHENTICATE:
        f->auth_required = true;
        f->auth = OP_AUTH_NO;
        authenticator_scheme(f, &r.authenticator);
        break;
    case CQL_OP_AUTH_SUCCESS:
        f->auth = OP_AUTH_YES;
        op.authenticated = OP_AUTH_YES;
        break;
    case CQL_OP_ERROR:
        on_error(f, &r, &op);
        break;
    case CQL_OP_RESULT:
        on_result(f, ctx, &r, p, &op);
        break;
    default:
        break;
    }
    op.auth_result = login_outcome(p, h->opcode, &r);
    if (op.auth_scheme[0] == '\0' && f->scheme[0] != '\0' && op.op_class == OP_CLASS_AUTH)
        op_set_string(&op, op.auth_scheme, sizeof(op.auth_scheme), f->scheme,
                      strlen(f->scheme));
    if (p != NULL)
        pending_remove(f, p);
    decoder_emit(ctx, &op);
    if (answers_startup && h->version >= 5 && !d->segments &&
        (h->opcode == CQL_OP_READY || h->opcode == CQL_OP_AUTHENTICATE))
        start_segments(f);
}

/* ------------------------------------------------------------ frames */

/* Decompresses a v3/v4 body with the flow's algorithm (or, when STARTUP
 * was not seen, whichever works). A malloc'd buffer or NULL. */
static uint8_t *decompress_body(struct cass_flow *f, struct decoder_ctx *ctx,
                                const uint8_t *body, size_t len, size_t *out_len)
{
    static const uint8_t algos[] = { CQL_COMPRESS_LZ4, CQL_COMPRESS_SNAPPY };
    bool too_large = false;
    for (size_t i = 0; i < sizeof(algos); i++) {
        enum cql_compression c = algos[i];
        if (f->compression != CQL_COMPRESS_NONE && f->compression != c)
            continue;
        size_t n;
        if (!cql_compressed_length(c, body, len, &n))
            continue;
        if (n > f->lim.decompressed_max) {
            too_large = true;
            continue;
        }
        uint8_t *out = membudget_malloc(f->budget, n);
        if (out == NULL)
            continue;
        if (cql_decompress_body(c, body, len, out, n)) {
            held_add(f, n);
            *out_len = n;
            return out;
        }
        membudget_free(f->budget, out, n);
    }
    decoder_count(ctx, too_large ? CASSANDRA_COUNTER_TOO_LARGE
                                 : CASSANDRA_COUNTER_DECOMPRESS_ERRORS);
    return NULL;
}

/* A frame is complete: body holds its first `avail` bytes (all of them
 * unless it was held only up to head_max or a gap cut it). */
static void frame_done(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                       const uint8_t *body, size_t avail)
{
    struct cass_dir *d = &f->dir[dir];
    const struct cql_header *h = &d->hdr;
    uint32_t op_flags = d->partial ? OP_FLAG_PARTIAL : 0;
    if (d->segment_compressed)
        op_flags |= OP_FLAG_COMPRESSED;     /* the segment that completed it */
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    if ((h->flags & CQL_FLAG_COMPRESSION) && h->version < 5 && h->length > 0) {
        op_flags |= OP_FLAG_COMPRESSED;
        if (d->too_large || avail < h->length) {
            op_flags |= OP_FLAG_BODY_CAPPED;
            if (d->too_large)
                decoder_count(ctx, CASSANDRA_COUNTER_TOO_LARGE);
            avail = 0;
        } else {
            plain = decompress_body(f, ctx, body, avail, &plain_len);
        }
        body = plain;
        avail = plain_len;
    }
    ptrdiff_t skip = body != NULL ? cql_body_prefix(h, body, avail) : 0;
    if (skip < 0)
        skip = (ptrdiff_t)avail;
    const uint8_t *msg = body != NULL ? body + skip : NULL;
    size_t msg_len = avail - (size_t)skip;
    if (dir == DIR_TO_SERVER)
        on_request(f, ctx, d, msg, msg_len, op_flags);
    else
        on_response(f, ctx, d, msg, msg_len, op_flags);
    if (plain != NULL) {
        held_sub(f, plain_len);
        membudget_free(f->budget, plain, plain_len);
    }
    d->partial = false;
    d->too_large = false;
}

static void held_release(struct cass_flow *f, struct cass_dir *d)
{
    if (d->held != NULL) {
        held_sub(f, d->held_cap);
        membudget_free(f->budget, d->held, d->held_cap);
    }
    d->held = NULL;
    d->held_len = d->held_cap = d->held_want = 0;
}

/* A frame's header is plausible where framing was lost: it goes the way
 * of the direction, speaks the connection's version, and a response
 * answers a waiting request (or is an EVENT). */
static bool header_plausible(const struct cass_flow *f, enum decoder_dir dir,
                             const struct cql_header *h)
{
    if (h->response != (dir == DIR_TO_CLIENT))
        return false;
    if (f->version != 0 && h->version != f->version)
        return false;
    if (!h->response)
        return true;
    if (h->opcode == CQL_OP_EVENT)
        return h->stream == -1;
    for (size_t i = 0; i < f->pending_count; i++)
        if (f->pending[i].stream == h->stream)
            return true;
    return false;
}

static void frame_lost(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    struct cass_dir *d = &f->dir[dir];
    if (d->state == FR_BODY || d->hlen > 0) {
        if (dir == DIR_TO_CLIENT && d->state == FR_BODY) {
            struct cass_pending *p = pending_find(f, d->hdr.stream);
            if (p != NULL)
                p->op.flags |= OP_FLAG_PARTIAL;
        } else if (dir == DIR_TO_SERVER) {
            d->partial_next = true;
        }
    }
    held_release(f, d);
    d->hlen = 0;
    d->partial = false;
    d->too_large = false;
    d->state = FR_RESYNC;
    decoder_count(ctx, CASSANDRA_COUNTER_RESYNC);
}

/* A header was read into d->hdr: decide what of its body to keep. */
static void frame_begin(struct cass_flow *f, struct cass_dir *d)
{
    d->body_got = 0;
    d->held_len = 0;
    if ((d->hdr.flags & CQL_FLAG_COMPRESSION) && d->hdr.version < 5) {
        d->too_large = d->hdr.length > f->lim.compressed_max;
        d->held_want = d->too_large ? 0 : d->hdr.length;
    } else {
        d->held_want = d->hdr.length < f->lim.head_max ? d->hdr.length : f->lim.head_max;
    }
    if (f->version == 0)
        f->version = d->hdr.version;
    d->state = FR_BODY;
}

static bool held_reserve(struct cass_flow *f, struct cass_dir *d, size_t need)
{
    assert(need <= d->held_want);
    if (need <= d->held_cap)
        return true;
    size_t cap = d->held_cap ? d->held_cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > d->held_want)
        cap = d->held_want;
    uint8_t *p = membudget_realloc(f->budget, d->held, d->held_cap, cap);
    if (p == NULL)
        return false;
    held_add(f, cap - d->held_cap);
    d->held = p;
    d->held_cap = cap;
    return true;
}

/* Looks for a plausible header in buf after a loss: the bytes before it. */
static size_t resync_scan(struct cass_flow *f, enum decoder_dir dir, const uint8_t *buf,
                          size_t len)
{
    struct cass_dir *d = &f->dir[dir];
    for (size_t i = 0; i + CQL_HEADER_LEN <= len; i++) {
        struct cql_header h;
        if (cql_parse_header(buf + i, len - i, f->lim.frame_max, &h) == CQL_HEADER_LEN &&
            header_plausible(f, dir, &h)) {
            d->state = FR_HEADER;
            return i;
        }
    }
    return len;     /* a header cut by the end of buf is missed */
}

static size_t frame_step(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                         const uint8_t *buf, size_t len);

/* Before any frame of a direction, bytes that are not a frame header may
 * be a v5 segment header (the capture began after the handshake): true,
 * and the direction switched to segments, when a CRC24 says so. */
static bool segment_detect(struct cass_flow *f, struct cass_dir *d, const uint8_t *hp)
{
    struct cql_segment s;
    if (d->seen_frame || d->segments)
        return false;
    if (cql_parse_segment_header(hp, CQL_HEADER_LEN, false, &s) > 0) {
        f->compression = CQL_COMPRESS_NONE;
    } else if (cql_parse_segment_header(hp, CQL_HEADER_LEN, true, &s) > 0) {
        f->compression = CQL_COMPRESS_LZ4;
    } else {
        return false;
    }
    f->version = 5;
    d->segments = true;
    d->seg_state = SEG_HEADER;
    d->seg_hlen = 0;
    return true;
}

static size_t segment_step(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                           const uint8_t *buf, size_t len);

/* A header that is not one: a segment's, or framing is lost. The bytes
 * consumed (0: the segment reader takes them from buf). */
static size_t header_malformed(struct cass_flow *f, struct decoder_ctx *ctx,
                               enum decoder_dir dir, const uint8_t *hp, bool in_place,
                               size_t used)
{
    struct cass_dir *d = &f->dir[dir];
    if (segment_detect(f, d, hp)) {
        if (in_place)
            return 0;
        uint8_t copy[CQL_HEADER_LEN];
        memcpy(copy, hp, sizeof(copy));
        for (size_t done = 0; done < sizeof(copy);)
            done += segment_step(f, ctx, dir, copy + done, sizeof(copy) - done);
        return used;
    }
    decoder_count(ctx, CASSANDRA_COUNTER_MALFORMED);
    d->state = FR_RESYNC;
    return used;
}

/* Body bytes of the frame being read. */
static size_t body_step(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                        const uint8_t *buf, size_t len)
{
    struct cass_dir *d = &f->dir[dir];
    size_t left = d->hdr.length - d->body_got;
    size_t n = len < left ? len : left;
    if (d->held_len < d->held_want && d->body_got == d->held_len) {
        size_t copy = d->held_want - d->held_len;
        if (copy > n)
            copy = n;
        if (held_reserve(f, d, d->held_len + copy)) {
            memcpy(d->held + d->held_len, buf, copy);
            d->held_len += copy;
        } else {
            d->held_want = d->held_len;     /* no memory: keep what is there */
        }
    }
    d->body_got += (uint32_t)n;
    if (d->body_got == d->hdr.length) {
        d->state = FR_HEADER;
        d->hlen = 0;
        frame_done(f, ctx, dir, d->held, d->held_len);
        held_release(f, d);
    }
    return n;
}

/* One step of the frame reader on buf: the bytes it consumed (0 only when
 * the direction just switched to segments). */
static size_t frame_step(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                         const uint8_t *buf, size_t len)
{
    struct cass_dir *d = &f->dir[dir];
    if (d->state == FR_RESYNC) {
        size_t skipped = resync_scan(f, dir, buf, len);
        if (skipped > 0 || d->state == FR_RESYNC)
            return skipped;
    }
    if (d->state == FR_BODY)
        return body_step(f, ctx, dir, buf, len);
    size_t used = 0;
    const uint8_t *hp = buf;
    if (d->hlen > 0 || len < CQL_HEADER_LEN) {
        if (d->hlen == 0)
            d->ts_first = ctx->now_us;
        used = CQL_HEADER_LEN - d->hlen < len ? CQL_HEADER_LEN - d->hlen : len;
        memcpy(d->hbuf + d->hlen, buf, used);
        d->hlen += used;
        if (d->hlen < CQL_HEADER_LEN)
            return used;
        hp = d->hbuf;
    } else {
        d->ts_first = ctx->now_us;
        used = CQL_HEADER_LEN;
    }
    d->hlen = 0;
    struct cql_header h;
    if (cql_parse_header(hp, CQL_HEADER_LEN, f->lim.frame_max, &h) != CQL_HEADER_LEN ||
        h.response != (dir == DIR_TO_CLIENT) || (d->segments && h.version < 5)) {
        if (cql_parse_header(hp, CQL_HEADER_LEN, SIZE_MAX, &h) == CQL_HEADER_LEN &&
            h.response == (dir == DIR_TO_CLIENT))
            decoder_count(ctx, CASSANDRA_COUNTER_TOO_LARGE);
        return header_malformed(f, ctx, dir, hp, hp == buf, used);
    }
    d->hdr = h;
    d->seen_frame = true;
    frame_begin(f, d);
    if (h.length == 0) {
        d->state = FR_HEADER;
        frame_done(f, ctx, dir, NULL, 0);
        return used;
    }
    if (hp == buf && len - used >= h.length) {
        /* the whole frame lies here: parse it in place */
        d->state = FR_HEADER;
        frame_done(f, ctx, dir, buf + used, h.length);
        return used + h.length;
    }
    return used;
}

/* ------------------------------------------------------------ segments */

static size_t frames_feed(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                          const uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t n = frame_step(f, ctx, dir, buf + done, len - done);
        if (n == 0)
            break;
        done += n;
    }
    return done;
}

/* Segment framing lost: scan for the next good header, and let the frame
 * reader wait for a self-contained segment. */
static void segment_lost(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    struct cass_dir *d = &f->dir[dir];
    if (d->seg_buf != NULL) {
        held_sub(f, d->seg.payload_len + (size_t)CQL_SEGMENT_TRAILER);
        membudget_free(f->budget, d->seg_buf, d->seg.payload_len + (size_t)CQL_SEGMENT_TRAILER);
        d->seg_buf = NULL;
    }
    d->seg_len = 0;
    d->seg_hlen = 0;
    d->seg_state = SEG_RESYNC;
    if (d->state != FR_HEADER || d->hlen > 0)
        frame_lost(f, ctx, dir);
    else
        decoder_count(ctx, CASSANDRA_COUNTER_RESYNC);
    d->state = FR_HEADER;
    d->wait_self_contained = true;
}

static bool lz4_segments(const struct cass_flow *f)
{
    return f->compression == CQL_COMPRESS_LZ4;
}

/* A segment's payload arrived whole with its trailer. */
static void segment_done(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                         const uint8_t *payload, const uint8_t *trailer)
{
    struct cass_dir *d = &f->dir[dir];
    const struct cql_segment *s = &d->seg;
    if (!cql_segment_crc_ok(payload, s->payload_len, trailer)) {
        decoder_count(ctx, CASSANDRA_COUNTER_CRC_ERRORS);
        if (d->state != FR_HEADER || d->hlen > 0)
            frame_lost(f, ctx, dir);
        d->state = FR_HEADER;
        d->wait_self_contained = true;
        return;
    }
    if (s->self_contained) {
        if (d->state != FR_HEADER || d->hlen > 0) {
            decoder_count(ctx, CASSANDRA_COUNTER_MALFORMED);
            frame_lost(f, ctx, dir);
        }
        d->state = FR_HEADER;
        d->wait_self_contained = false;
    } else if (d->wait_self_contained) {
        return;
    }
    uint8_t *plain = NULL;
    size_t len = s->payload_len;
    if (s->uncompressed_len > 0) {
        plain = membudget_malloc(f->budget, s->uncompressed_len);
        if (plain == NULL || !cql_lz4_block(payload, s->payload_len, plain, s->uncompressed_len)) {
            membudget_free(f->budget, plain, s->uncompressed_len);
            decoder_count(ctx, CASSANDRA_COUNTER_DECOMPRESS_ERRORS);
            if (d->state != FR_HEADER || d->hlen > 0)
                frame_lost(f, ctx, dir);
            d->state = FR_HEADER;
            d->wait_self_contained = true;
            return;
        }
        held_add(f, s->uncompressed_len);
        payload = plain;
        len = s->uncompressed_len;
    }
    d->segment_compressed = plain != NULL;
    frames_feed(f, ctx, dir, payload, len);
    d->segment_compressed = false;
    if (d->state == FR_RESYNC) {
        /* a malformed frame inside a segment: the next self-contained one */
        d->state = FR_HEADER;
        d->wait_self_contained = true;
    }
    if (plain != NULL) {
        held_sub(f, s->uncompressed_len);
        membudget_free(f->budget, plain, s->uncompressed_len);
    }
}

static size_t segment_resync(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                             const uint8_t *buf, size_t len)
{
    struct cass_dir *d = &f->dir[dir];
    bool lz4 = lz4_segments(f);
    for (size_t i = 0; i < len; i++) {
        struct cql_segment s;
        if (cql_parse_segment_header(buf + i, len - i, lz4, &s) > 0) {
            d->seg_state = SEG_HEADER;
            return i > 0 ? i : segment_step(f, ctx, dir, buf, len);
        }
    }
    return len;
}

static size_t segment_step(struct cass_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                           const uint8_t *buf, size_t len)
{
    struct cass_dir *d = &f->dir[dir];
    if (d->seg_state == SEG_RESYNC)
        return segment_resync(f, ctx, dir, buf, len);
    size_t need = (size_t)d->seg.payload_len + CQL_SEGMENT_TRAILER;
    if (d->seg_state == SEG_PAYLOAD) {
        size_t n = need - d->seg_len < len ? need - d->seg_len : len;
        memcpy(d->seg_buf + d->seg_len, buf, n);
        d->seg_len += n;
        if (d->seg_len == need) {
            uint8_t *p = d->seg_buf;
            d->seg_buf = NULL;
            d->seg_state = SEG_HEADER;
            segment_done(f, ctx, dir, p, p + d->seg.payload_len);
            held_sub(f, need);
            membudget_free(f->budget, p, need);
        }
        return n;
    }
    bool lz4 = lz4_segments(f);
    size_t hlen = lz4 ? 8 : 6;
    size_t used;
    const uint8_t *hp = buf;
    if (d->seg_hlen > 0 || len < hlen) {
        used = hlen - d->seg_hlen < len ? hlen - d->seg_hlen : len;
        memcpy(d->seg_hbuf + d->seg_hlen, buf, used);
        d->seg_hlen += used;
        if (d->seg_hlen < hlen)
            return used;
        hp = d->seg_hbuf;
    } else {
        used = hlen;
    }
    d->seg_hlen = 0;
    if (cql_parse_segment_header(hp, hlen, lz4, &d->seg) <= 0) {
        decoder_count(ctx, CASSANDRA_COUNTER_CRC_ERRORS);
        segment_lost(f, ctx, dir);
        return used;
    }
    need = (size_t)d->seg.payload_len + CQL_SEGMENT_TRAILER;
    if (hp == buf && len - used >= need) {
        segment_done(f, ctx, dir, buf + used, buf + used + d->seg.payload_len);
        return used + need;
    }
    d->seg_buf = membudget_malloc(f->budget, need);
    if (d->seg_buf == NULL) {
        segment_lost(f, ctx, dir);
        return used;
    }
    held_add(f, need);
    d->seg_len = 0;
    d->seg_state = SEG_PAYLOAD;
    return used;
}

/* ------------------------------------------------------------ the decoder */

static void cassandra_data(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                           const uint8_t *buf, size_t len)
{
    struct cass_flow *f = state;
    struct cass_dir *d = &f->dir[dir];
    while (len > 0) {
        size_t n = d->segments ? segment_step(f, ctx, dir, buf, len)
                               : frame_step(f, ctx, dir, buf, len);
        assert(n <= len && (n > 0 || d->segments));
        buf += n;
        len -= n;
    }
    assert(d->held_len <= d->held_want);
    assert(f->pending_count <= f->pending_cap && f->pending_cap <= f->lim.pending_max);
    assert(f->prepared_count <= f->prepared_cap && f->prepared_cap <= f->lim.prepared_max);
}

static void cassandra_gap(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                          uint64_t len)
{
    struct cass_flow *f = state;
    struct cass_dir *d = &f->dir[dir];
    if (d->segments) {
        segment_lost(f, ctx, dir);
        return;
    }
    if (d->state == FR_BODY && len > 0 && len <= d->hdr.length - d->body_got) {
        /* the body goes on after the gap: the frame is kept, partial, and
         * read only up to where the gap cut its held bytes */
        d->partial = true;
        if (d->held_len < d->held_want)
            d->held_want = d->held_len;
        d->body_got += (uint32_t)len;
        if (d->body_got == d->hdr.length) {
            d->state = FR_HEADER;
            frame_done(f, ctx, dir, d->held, d->held_len);
            held_release(f, d);
        }
        return;
    }
    if (d->state == FR_RESYNC)
        return;
    frame_lost(f, ctx, dir);
}

/* A frame cut by the end of its direction is dropped. */
static void dir_drop(struct cass_flow *f, enum decoder_dir dir)
{
    struct cass_dir *d = &f->dir[dir];
    held_release(f, d);
    if (d->seg_buf != NULL) {
        held_sub(f, d->seg.payload_len + (size_t)CQL_SEGMENT_TRAILER);
        membudget_free(f->budget, d->seg_buf, d->seg.payload_len + (size_t)CQL_SEGMENT_TRAILER);
        d->seg_buf = NULL;
    }
    d->hlen = 0;
    d->seg_hlen = 0;
}

static void cassandra_end(void *state, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    (void)ctx;
    dir_drop(state, dir);
}

static void cassandra_close(void *state, struct decoder_ctx *ctx)
{
    struct cass_flow *f = state;
    dir_drop(f, DIR_TO_SERVER);
    dir_drop(f, DIR_TO_CLIENT);
    while (f->pending_count > 0)
        pending_give_up(f, ctx, &f->pending[0]);
    struct membudget *budget = f->budget;
    membudget_free(budget, f->pending, f->pending_cap * sizeof(*f->pending));
    membudget_free(budget, f->prepared, f->prepared_cap * sizeof(*f->prepared));
    membudget_free(budget, f, sizeof(*f));
}

const struct decoder cassandra_decoder = {
    .name = "cassandra",
    .app = APP_CASSANDRA,
    .ports = cassandra_ports,
    .port_count = sizeof(cassandra_ports) / sizeof(cassandra_ports[0]),
    .ndpi_names = cassandra_ndpi_names,
    .probe = cassandra_probe,
    .settings = &cassandra_settings,
    .counters = &cassandra_counters,
    .open = cassandra_open,
    .data = cassandra_data,
    .gap = cassandra_gap,
    .end = cassandra_end,
    .close = cassandra_close,
};
