/* redis.c - the Redis decoder: RESP requests and replies paired into ops.
 *
 * Each direction is walked token by token by the streaming parser
 * (redis_parse.h); a request's first arguments are copied (capped) while it
 * streams by, a reply is summarised (type, lengths, hits, cursor, error
 * word) while it streams by, and nothing else is held. Requests wait in a
 * FIFO for their replies, in order. The connection states that change what
 * a reply is are followed here:
 *   CLIENT REPLY OFF/SKIP  the requests it silences expect no reply: their
 *                          ops leave (status unknown) when they reach the
 *                          FIFO's front, so order is kept
 *   subscribed (RESP2)     arrays "subscribe"/"unsubscribe" confirm the
 *                          (UN)SUBSCRIBE at the front, one per channel;
 *                          "message"/"pmessage"/"smessage" are pushes
 *   RESP3 '>' push         never a reply (a subscribe confirmation as above)
 *   RESP3 '|' attribute    skipped; its bytes go to the reply it precedes
 *   MONITOR                after its +OK, "+<timestamp> [...]" lines are
 *                          counted, not paired
 *   SYNC/PSYNC             +FULLRESYNC, then the RDB ($<len> or $EOF:<mark>)
 *                          is read by redis_rdb.c and counted; the op leaves
 *                          when the RDB ends; what the master sends after it
 *                          is the replication stream, counted
 * Losses: a gap inside a bulk's payload is skipped in place (the op is
 * partial); any other gap, and malformed input, resynchronise the direction
 * at the next plausible message start (redis.resync). A reply-side resync
 * flushes every waiting request flagged partial: which replies the gap took
 * is unknown, and a wrong pairing is worse than a lost one. */
#include "redis.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_commands.h"
#include "redis_rdb.h"

/* ---- description: settings, counters, ports ---- */

#define REDIS_PENDING_MAX_DEFAULT 1024
#define REDIS_LINE_MAX_KB_DEFAULT 64

static const struct config_key redis_keys[] = {
    CONFIG_KEY_SIZE(struct redis_params, pending_max, "pending_max", 1, 65536, 1,
                    REDIS_PENDING_MAX_DEFAULT,
                    "Requests per flow waiting for their reply (pipelining); past it the "
                    "oldest is emitted flagged no_response and its reply skipped when it "
                    "comes (redis.pending_overflow). 1..65536."),
    CONFIG_KEY_SIZE(struct redis_params, line_max, "line_max_kb", 1, 1024, CONFIG_KIB,
                    REDIS_LINE_MAX_KB_DEFAULT,
                    "Longest simple-string, error or inline-command line, in KiB (only "
                    "its first 128 bytes are kept); a longer one is malformed and the "
                    "direction resynchronises (redis.malformed). 1..1024."),
};

const struct decoder_settings redis_settings = {
    "redis", redis_keys, sizeof(redis_keys) / sizeof(redis_keys[0]),
    sizeof(struct redis_params),
};

static const struct redis_params redis_defaults = {
    .pending_max = REDIS_PENDING_MAX_DEFAULT,
    .line_max = REDIS_LINE_MAX_KB_DEFAULT * CONFIG_KIB,
};

static const char *const redis_counter_names[REDIS_COUNTER_COUNT] = {
#define REDIS_COUNTER_NAME(id, name) name,
    REDIS_COUNTERS(REDIS_COUNTER_NAME)
#undef REDIS_COUNTER_NAME
};

const struct decoder_counters redis_counters = {
    "redis", redis_counter_names, REDIS_COUNTER_COUNT,
};

static const uint16_t redis_ports[] = { 6379 };
static const char *const redis_ndpi_names[] = { "Redis", NULL };

/* ---- per-flow state ---- */

#define ARGS_MAX 8          /* request arguments copied: command, subcommand, keys */
#define ARG_CAP 256         /* bytes kept of one (a target holds 255) */
#define ARG_POOL 768        /* bytes kept of all of them */
#define HEAD_MAX 48         /* bytes kept of a reply's line or bulk start */
#define FIRST_MAX 32        /* bytes kept of a reply's first element */
#define HOLD_MAX 32         /* bytes of a resync candidate checked */
#define NAME_MAX 64

struct redis_args {
    unsigned count;                 /* arguments in the request */
    unsigned kept;                  /* with a slot, <= ARGS_MAX */
    uint16_t off[ARGS_MAX];
    uint16_t len[ARGS_MAX];
    uint64_t full[ARGS_MAX];        /* their wire length */
    size_t used;
    uint8_t pool[ARG_POOL];
};

/* A streaming scan of INFO's text for "db<N>:keys=<K>," lines. */
struct keyspace_scan {
    uint8_t state;
    uint8_t matched;
    bool found;
    int64_t number;
    int64_t sum;
};

struct redis_reply {
    uint8_t type;                   /* top-level type byte */
    bool null;
    bool partial;
    int64_t value;                  /* top aggregate length, integer, bulk length */
    uint8_t head[HEAD_MAX];         /* top-level line, or a bulk's first bytes */
    size_t head_len;
    uint8_t first[FIRST_MAX];       /* element 0: its text */
    size_t first_len;
    bool first_cut;
    bool first_aggregate;           /* element 0 is an aggregate */
    int64_t second_len;             /* element 1: its length if an aggregate */
    int64_t third_int;              /* element 2: its value if an integer */
    int64_t hits;                   /* non-nil elements */
    uint64_t lines;                 /* '\n' in a top-level bulk */
    struct keyspace_scan keyspace;
};

#define PENDING_TEXT_MAX 64 /* bytes kept of a waiting request's name and target */

enum redis_scheme { SCHEME_NONE = 0, SCHEME_PASSWORD, SCHEME_ACL };

/* What a scanner-looking request is. */
enum redis_probe_kind {
    PROBE_KIND_NONE = 0,
    PROBE_KIND_HTTP,        /* "GET / HTTP/1.1" sent to Redis */
    PROBE_KIND_INLINE,      /* a lower-case inline command opening the connection */
    PROBE_KIND_INFO,        /* "*1 $4 info" opening it: Nmap's probe, or a client
                               library's ready check (ioredis) if more follows */
    PROBE_KIND_ZGRAB,       /* "NONEXISTENT": zgrab2's redis module */
    PROBE_KIND_NMAP_INFO,   /* the third of nmap redis-info's fixed commands */
};

/* A request waiting for its reply: only what its op needs (an op record is
 * about 1.3 KB, this is 128 bytes; the op is rebuilt when it leaves). */
struct redis_pending {
    uint64_t request_bytes;
    uint64_t response_bytes;        /* so far: (un)subscribe confirmations, +FULLRESYNC */
    uint64_t ts_request_us;
    int64_t page_size;
    uint64_t continuation;          /* hash of the cursor it continues (OP_FLAG_CONTINUES) */
    uint32_t flags;                 /* OP_FLAG_* */
    uint32_t confirms;              /* (UN)SUBSCRIBE: confirmations still due; 0 for
                                       an UNSUBSCRIBE of all: until none is left */
    uint32_t confirmed;             /* (UN)SUBSCRIBE: confirmations that came */
    uint16_t command;               /* table index + 1 when the name is the table's;
                                       0: the name leads `text` */
    uint8_t op_class;               /* enum op_class */
    uint8_t scheme;                 /* enum redis_scheme */
    uint8_t items;                  /* enum redis_items */
    uint8_t special;                /* enum redis_special */
    uint8_t name_len;               /* bytes of `text` that are the name */
    uint8_t probe;                  /* enum redis_probe_kind */
    bool no_reply : 1;              /* CLIENT REPLY OFF/SKIP, REPLCONF ACK */
    bool scan_pairs : 1;            /* HSCAN/ZSCAN: field and value per item */
    bool hello_auth : 1;
    bool fullresync : 1;            /* SYNC/PSYNC: +FULLRESYNC came */
    char text[PENDING_TEXT_MAX];    /* the name (unless `command`), then the target */
};

struct redis_resync {
    bool active;
    bool line_start;                /* the previous byte ended a line */
    uint8_t hold[HOLD_MAX];         /* a candidate message start */
    size_t hold_len;
};

/* During a SYNC/PSYNC reply: the RDB's "$..." line, then its bytes. */
struct redis_sync {
    bool body;
    bool eof_mark;                  /* diskless: ends with the 40-byte mark */
    uint8_t line[64];
    size_t line_len;
    uint64_t left;                  /* $<len> form: bytes to come */
    uint8_t mark[40];
    uint8_t fail[40];               /* KMP failure function of the mark */
    uint8_t matched;
    uint64_t bytes;
    struct redis_rdb rdb;
};

enum { REPLY_ON = 0, REPLY_OFF, REPLY_SKIP };

struct redis_flow {
    size_t pending_max;
    struct redis_parser parser[2];
    struct redis_resync resync[2];
    uint64_t message_ts[2];
    bool partial[2];                /* a gap cut this direction's current message */
    struct redis_args *args;        /* while a request is parsed; freed between data
                                       calls when no request is cut across them */
    struct redis_reply reply;
    uint64_t attribute_bytes;       /* attributes before the coming reply */
    struct redis_pending *pending;  /* ring */
    size_t pending_cap;
    size_t pending_head;
    size_t pending_count;
    uint64_t owed_replies;          /* replies of requests the FIFO dropped */
    struct redis_sync *sync;
    uint8_t auth;                   /* enum op_auth */
    uint8_t reply_mode;
    bool subscribed;
    bool monitor;
    bool replica_stream;
    bool http_probe;
    bool request_seen;              /* a request came: the next is not the first */
    uint8_t nmap_step;              /* nmap redis-info's commands seen in order
                                       (NMAP_INFO_BROKEN: not its shape) */
    struct membudget *budget;       /* where this state and its parts are charged */
    struct op_record *held;         /* an opening "info" op, until what follows tells
                                       a scanner from a client library */
    char client_name[NAME_MAX];
    char client_lib[NAME_MAX];      /* CLIENT SETINFO LIB-NAME (and LIB-VER), or the
                                       User-Agent of HTTP sent to Redis */
};

size_t redis_pending_count(const void *state)
{
    return ((const struct redis_flow *)state)->pending_count;
}

size_t redis_pending_capacity(const void *state)
{
    return ((const struct redis_flow *)state)->pending_cap;
}

size_t redis_flow_size(void)
{
    return sizeof(struct redis_flow);
}

size_t redis_pending_size(void)
{
    return sizeof(struct redis_pending);
}

static void reply_reset(struct redis_reply *r)
{
    memset(r, 0, sizeof(*r));
    r->second_len = -1;
    r->third_int = -1;
}

static void *redis_open(struct decoder_ctx *ctx)
{
    const struct redis_params *p = ctx->params != NULL ? ctx->params : &redis_defaults;
    struct redis_flow *f = membudget_calloc(ctx->budget, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->budget = ctx->budget;
    f->pending_max = p->pending_max > 0 ? p->pending_max : 1;
    size_t line_max = p->line_max > 0 ? p->line_max : 1;
    redis_parser_init(&f->parser[DIR_TO_SERVER], true, line_max);
    redis_parser_init(&f->parser[DIR_TO_CLIENT], false, line_max);
    reply_reset(&f->reply);
    f->auth = ctx->midstream ? OP_AUTH_UNKNOWN : OP_AUTH_NO;
    if (ctx->midstream) {
        /* the first bytes may be anywhere in a message */
        for (int d = 0; d < 2; d++) {
            f->resync[d].active = true;
            f->resync[d].line_start = true;
        }
    }
    return f;
}

/* ---- small helpers ---- */

static uint8_t upper(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
}

static bool equal_nocase(const uint8_t *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (upper(a[i]) != upper((uint8_t)b[i]))
            return false;
    return true;
}

static bool starts_with(const uint8_t *a, size_t alen, const char *prefix)
{
    size_t n = strlen(prefix);
    return alen >= n && memcmp(a, prefix, n) == 0;
}

/* ---- the waiting requests ---- */

static struct redis_pending *pending_front(struct redis_flow *f)
{
    return f->pending_count > 0 ? &f->pending[f->pending_head] : NULL;
}

static void pending_pop(struct redis_flow *f, struct redis_pending *out)
{
    assert(f->pending_count > 0);
    *out = f->pending[f->pending_head];
    f->pending_head = (f->pending_head + 1) % f->pending_cap;
    f->pending_count--;
}

static bool pending_grow(struct redis_flow *f)
{
    size_t cap = f->pending_cap == 0 ? 4 : f->pending_cap * 2;
    if (cap > f->pending_max)
        cap = f->pending_max;
    if (cap <= f->pending_cap)
        return false;
    struct redis_pending *ring = membudget_malloc(f->budget, cap * sizeof(*ring));
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

/* A request's op, compacted to wait (the inverse of pending_op). */
static void pending_pack(struct redis_pending *p, const struct op_record *op,
                         const struct redis_command *c)
{
    size_t table_count;
    const struct redis_command *table = redis_command_table(&table_count);
    p->op_class = op->op_class;
    p->flags = op->flags;
    p->request_bytes = op->request_bytes;
    p->ts_request_us = op->ts_request_us;
    p->page_size = op->page_size;
    if (op->flags & OP_FLAG_CONTINUES)
        p->continuation = strtoull(op->continuation, NULL, 16);
    p->scheme = strcmp(op->auth_scheme, "acl") == 0        ? SCHEME_ACL
                : strcmp(op->auth_scheme, "password") == 0 ? SCHEME_PASSWORD
                                                           : SCHEME_NONE;
    size_t n = 0;
    if (c != NULL && strcmp(c->name, op->op) == 0) {
        p->command = (uint16_t)(c - table + 1);
    } else {
        n = strlen(op->op);         /* < OP_NAME_MAX < PENDING_TEXT_MAX */
        memcpy(p->text, op->op, n);
        p->name_len = (uint8_t)n;
    }
    size_t t = strlen(op->target);
    if (t > PENDING_TEXT_MAX - 1 - n) {
        t = PENDING_TEXT_MAX - 1 - n;
        p->flags |= OP_FLAG_TRUNCATED;
    }
    memcpy(p->text + n, op->target, t);
    p->text[n + t] = '\0';
}

static void set_client_id(const struct redis_flow *f, const struct redis_pending *p,
                          struct op_record *op)
{
    const char *id = f->client_name[0] != '\0' ? f->client_name : f->client_lib;
    if (id[0] == '\0' && p->probe == PROBE_KIND_HTTP)
        id = "HTTP client";
    else if (id[0] == '\0' && p->probe == PROBE_KIND_INLINE)
        id = "Inline banner grab (nc, telnet or a scanner)";
    else if (id[0] == '\0' && p->probe == PROBE_KIND_ZGRAB)
        id = "zgrab2 redis module";
    else if (id[0] == '\0' && p->probe == PROBE_KIND_NMAP_INFO)
        id = "Nmap NSE redis-info";
    op_set_string(op, op->client_id, sizeof(op->client_id), id, strlen(id));
}

/* The op of a request that waited. */
static void pending_op(const struct redis_flow *f, const struct redis_pending *p,
                       struct op_record *op)
{
    size_t table_count;
    const struct redis_command *table = redis_command_table(&table_count);
    op_record_init(op, APP_REDIS);
    op->op_class = p->op_class;
    op->flags = p->flags;
    op->request_bytes = p->request_bytes;
    op->response_bytes = p->response_bytes;
    op->ts_request_us = p->ts_request_us;
    op->page_size = p->page_size;
    if (p->command > 0) {
        const char *name = table[p->command - 1].name;
        op_set_string(op, op->op, sizeof(op->op), name, strlen(name));
    } else {
        op_set_string(op, op->op, sizeof(op->op), p->text, p->name_len);
    }
    const char *target = p->text + p->name_len;
    op_set_string(op, op->target, sizeof(op->target), target, strlen(target));
    if (p->flags & OP_FLAG_CONTINUES)
        snprintf(op->continuation, sizeof(op->continuation), "%016" PRIx64, p->continuation);
    if (p->scheme != SCHEME_NONE) {
        const char *scheme = p->scheme == SCHEME_ACL ? "acl" : "password";
        op_set_string(op, op->auth_scheme, sizeof(op->auth_scheme), scheme, strlen(scheme));
    }
    if (p->confirmed > 0)
        op->items = p->confirmed;
    set_client_id(f, p, op);
}

/* The front request leaves: its facts in *p, its op rebuilt in *op. */
static void pending_take(struct redis_flow *f, struct redis_pending *p, struct op_record *op)
{
    pending_pop(f, p);
    pending_op(f, p, op);
}

static void emit_op(struct redis_flow *f, struct decoder_ctx *ctx, struct op_record *op)
{
    if (op->authenticated == OP_AUTH_UNKNOWN)
        op->authenticated = f->auth;
    decoder_emit(ctx, op);
}

/* The held opening "info" leaves: a probe when nothing followed it. */
static void held_release(struct redis_flow *f, struct decoder_ctx *ctx, bool probe)
{
    struct op_record *op = f->held;
    if (op == NULL)
        return;
    f->held = NULL;
    if (probe) {
        op->flags |= OP_FLAG_PROBE;
        if (op->client_id[0] == '\0')
            op_set_string(op, op->client_id, sizeof(op->client_id), "Nmap service probe",
                          strlen("Nmap service probe"));
        decoder_count(ctx, REDIS_COUNTER_PROBES);
    }
    emit_op(f, ctx, op);
    membudget_free(f->budget, op, sizeof(*op));
}

/* A request's op leaves; an opening "info" waits for what follows it. */
static void emit_request(struct redis_flow *f, struct decoder_ctx *ctx,
                         const struct redis_pending *p, struct op_record *op)
{
    if (p->probe == PROBE_KIND_INFO && f->held == NULL) {
        if (op->authenticated == OP_AUTH_UNKNOWN)
            op->authenticated = f->auth;
        f->held = membudget_malloc(f->budget, sizeof(*f->held));
        if (f->held != NULL) {
            *f->held = *op;
            return;
        }
    }
    emit_op(f, ctx, op);
}

/* Requests that expect no reply leave as soon as they reach the front. */
static void pending_settle(struct redis_flow *f, struct decoder_ctx *ctx)
{
    struct redis_pending *p;
    while ((p = pending_front(f)) != NULL && p->no_reply) {
        struct redis_pending done;
        struct op_record op;
        pending_take(f, &done, &op);
        emit_request(f, ctx, &done, &op);
    }
}

/* Queues a request. When the FIFO is full the oldest leaves flagged
 * no_response; its reply, when it comes, is skipped (owed_replies). */
static void pending_push(struct redis_flow *f, struct decoder_ctx *ctx,
                         const struct redis_pending *p)
{
    if (f->pending_cap == 0 && !pending_grow(f)) {
        /* The memory budget refused even one slot: the request leaves now,
         * unanswered; its reply is skipped. */
        struct op_record op;
        pending_op(f, p, &op);
        if (!p->no_reply) {
            op.flags |= OP_FLAG_NO_RESPONSE;
            f->owed_replies++;
        }
        emit_request(f, ctx, p, &op);
        return;
    }
    if (f->pending_count == f->pending_cap && !pending_grow(f)) {
        struct redis_pending oldest;
        struct op_record op;
        pending_take(f, &oldest, &op);
        op.flags |= OP_FLAG_NO_RESPONSE;
        if (!oldest.no_reply)
            f->owed_replies++;
        decoder_count(ctx, REDIS_COUNTER_PENDING_OVERFLOW);
        emit_request(f, ctx, &oldest, &op);
    }
    f->pending[(f->pending_head + f->pending_count) % f->pending_cap] = *p;
    f->pending_count++;
    pending_settle(f, ctx);
}

/* Every waiting request leaves, with `flags`. */
static void pending_flush(struct redis_flow *f, struct decoder_ctx *ctx, uint32_t flags)
{
    while (f->pending_count > 0) {
        struct redis_pending p;
        struct op_record op;
        pending_take(f, &p, &op);
        if (!p.no_reply)
            op.flags |= flags;
        emit_request(f, ctx, &p, &op);
    }
}

/* ---- request arguments ---- */

static void args_reset(struct redis_args *a)
{
    if (a == NULL)
        return;
    a->count = 0;
    a->kept = 0;
    a->used = 0;
}

/* A request begins: its argument slots are allocated now (NULL if that
 * fails: the request then goes unnamed and its reply unpaired). */
static void args_start(struct redis_flow *f)
{
    if (f->args == NULL)
        f->args = membudget_malloc(f->budget, sizeof(*f->args));
    args_reset(f->args);
}

static void args_open(struct redis_args *a, uint64_t full)
{
    if (a == NULL)
        return;
    a->count++;
    if (a->kept >= ARGS_MAX)
        return;
    a->off[a->kept] = (uint16_t)a->used;
    a->len[a->kept] = 0;
    a->full[a->kept] = full;
    a->kept++;
}

static void args_append(struct redis_args *a, const uint8_t *s, size_t n)
{
    if (a == NULL || a->kept == 0 || a->kept != a->count)
        return;                     /* the current argument has no slot */
    size_t i = a->kept - 1;
    size_t room = ARG_CAP - a->len[i];
    if (room > ARG_POOL - a->used)
        room = ARG_POOL - a->used;
    if (n > room)
        n = room;
    memcpy(a->pool + a->used, s, n);
    a->used += n;
    a->len[i] = (uint16_t)(a->len[i] + n);
}

/* Splits an inline command into arguments at spaces and tabs. */
static void args_from_line(struct redis_args *a, const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        size_t start = i;
        while (i < n && s[i] != ' ' && s[i] != '\t')
            i++;
        if (i > start) {
            args_open(a, i - start);
            args_append(a, s + start, i - start);
        }
    }
}

static bool arg_is(const struct redis_args *a, unsigned i, const char *word)
{
    return i < a->kept && equal_nocase(a->pool + a->off[i], a->len[i], word);
}

/* Index of the first argument from `from` equal to word (any case), or -1. */
static int arg_find(const struct redis_args *a, unsigned from, const char *word)
{
    for (unsigned i = from; i < a->kept; i++)
        if (arg_is(a, i, word))
            return (int)i;
    return -1;
}

/* Copies argument i into an op string; truncated when it was cut. */
static void arg_to(struct op_record *op, char *dst, size_t cap, const struct redis_args *a,
                   unsigned i)
{
    if (i >= a->kept)
        return;
    op_set_string(op, dst, cap, (const char *)a->pool + a->off[i], a->len[i]);
    if (a->len[i] < a->full[i])
        op->flags |= OP_FLAG_TRUNCATED;
}

static void lower_string(char *s)
{
    for (; *s != '\0'; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

static bool arg_int(const struct redis_args *a, unsigned i, int64_t *out)
{
    return i < a->kept && a->len[i] == a->full[i] &&
           redis_parse_int(a->pool + a->off[i], a->len[i], out);
}

/* ---- requests ---- */

/* The op's name (upper case, "CONFIG GET" for a container) and its entry. */
static const struct redis_command *name_request(struct op_record *op,
                                                const struct redis_args *a)
{
    char name[OP_NAME_MAX];
    size_t n = 0;
    for (size_t i = 0; i < a->len[0] && n < sizeof(name) - 1; i++)
        name[n++] = (char)upper(a->pool[a->off[0] + i]);
    const struct redis_command *c = redis_command_find(name, n);
    if (c != NULL && c->special == REDIS_SPECIAL_CONTAINER && a->kept >= 2) {
        if (n < sizeof(name) - 1)
            name[n++] = ' ';
        for (size_t i = 0; i < a->len[1] && n < sizeof(name) - 1; i++)
            name[n++] = (char)upper(a->pool[a->off[1] + i]);
        const struct redis_command *sub = redis_command_find(name, n);
        if (sub != NULL)
            c = sub;
    }
    op_set_string(op, op->op, sizeof(op->op), name, n);
    if (a->len[0] < a->full[0])
        op->flags |= OP_FLAG_TRUNCATED;
    return c;
}

static void request_target(struct op_record *op, const struct redis_command *c,
                           const struct redis_args *a)
{
    int i;
    switch (c->target) {
    case REDIS_TARGET_ARG:
        arg_to(op, op->target, sizeof(op->target), a, c->arg);
        break;
    case REDIS_TARGET_PARAM:
        arg_to(op, op->target, sizeof(op->target), a, c->arg);
        lower_string(op->target);
        break;
    case REDIS_TARGET_SCAN:
        i = arg_find(a, 2, "MATCH");
        if (i >= 0 && (unsigned)i + 1 < a->kept)
            arg_to(op, op->target, sizeof(op->target), a, (unsigned)i + 1);
        else
            op_set_string(op, op->target, sizeof(op->target), "*", 1);
        break;
    case REDIS_TARGET_AUTH:
        if (a->count == 3)
            arg_to(op, op->target, sizeof(op->target), a, 1);
        break;
    case REDIS_TARGET_HELLO:
        i = arg_find(a, 1, "AUTH");
        if (i >= 0)
            arg_to(op, op->target, sizeof(op->target), a, (unsigned)i + 1);
        break;
    case REDIS_TARGET_STREAMS:
        i = arg_find(a, 1, "STREAMS");
        if (i >= 0)
            arg_to(op, op->target, sizeof(op->target), a, (unsigned)i + 1);
        break;
    case REDIS_TARGET_REPLICAOF:
        if (arg_is(a, 1, "NO") && arg_is(a, 2, "ONE")) {
            op_set_string(op, op->target, sizeof(op->target), "no one", 6);
        } else if (a->kept >= 3) {
            char hp[OP_TARGET_MAX];
            size_t n = 0;
            for (unsigned k = 1; k <= 2; k++) {
                if (k == 2 && n < sizeof(hp))
                    hp[n++] = ' ';
                size_t l = a->len[k];
                if (l > sizeof(hp) - n)
                    l = sizeof(hp) - n;
                memcpy(hp + n, a->pool + a->off[k], l);
                n += l;
            }
            op_set_string(op, op->target, sizeof(op->target), hp, n);
        }
        break;
    default:
        break;
    }
}

static void copy_name(char *dst, const struct redis_args *a, unsigned i)
{
    if (i >= a->kept)
        return;
    size_t n = a->len[i] < NAME_MAX - 1 ? a->len[i] : NAME_MAX - 1;
    memcpy(dst, a->pool + a->off[i], n);
    dst[n] = '\0';
}

/* The client's own name: CLIENT SETNAME, HELLO SETNAME, CLIENT SETINFO. */
static void request_names(struct redis_flow *f, const struct redis_command *c,
                          const struct redis_args *a)
{
    if (c->special == REDIS_SPECIAL_SETNAME) {
        copy_name(f->client_name, a, 2);
    } else if (c->special == REDIS_SPECIAL_HELLO) {
        int i = arg_find(a, 1, "SETNAME");
        if (i >= 0)
            copy_name(f->client_name, a, (unsigned)i + 1);
    } else if (c->special == REDIS_SPECIAL_SETINFO && a->kept >= 4) {
        if (arg_is(a, 2, "LIB-NAME")) {
            copy_name(f->client_lib, a, 3);
        } else if (arg_is(a, 2, "LIB-VER") && f->client_lib[0] != '\0' &&
                   strchr(f->client_lib, ' ') == NULL) {
            size_t n = strlen(f->client_lib);
            size_t l = a->len[3];
            if (n + 1 + l < NAME_MAX) {
                f->client_lib[n] = ' ';
                memcpy(f->client_lib + n + 1, a->pool + a->off[3], l);
                f->client_lib[n + 1 + l] = '\0';
            }
        }
    }
}

/* SCAN and its kin: the cursor it continues, the page size it asks. */
static void request_scan(struct op_record *op, const struct redis_command *c,
                         const struct redis_args *a)
{
    unsigned cursor = c->target == REDIS_TARGET_SCAN ? 1 : 2;
    if (cursor < a->kept && a->len[cursor] == a->full[cursor] &&
        !(a->len[cursor] == 1 && a->pool[a->off[cursor]] == '0')) {
        op_continuation_hash(a->pool + a->off[cursor], a->len[cursor], op->continuation);
        op->flags |= OP_FLAG_CONTINUES;
    }
    int i = arg_find(a, cursor + 1, "COUNT");
    int64_t count;
    if (i >= 0 && arg_int(a, (unsigned)i + 1, &count))
        op->page_size = count;
}

/* What a request does to the connection and its op's class. */
static void request_special(struct redis_flow *f, struct redis_pending *p, struct op_record *op,
                            const struct redis_command *c, const struct redis_args *a)
{
    switch (c->special) {
    case REDIS_SPECIAL_AUTH:
        op->flags |= OP_FLAG_AUTH_HEADER;
        op_set_string(op, op->auth_scheme, sizeof(op->auth_scheme),
                      a->count == 3 ? "acl" : "password", a->count == 3 ? 3 : 8);
        break;
    case REDIS_SPECIAL_HELLO:
        if (arg_find(a, 1, "AUTH") >= 0) {
            p->hello_auth = true;
            op->op_class = OP_CLASS_AUTH;
            op->flags |= OP_FLAG_AUTH_HEADER;
            op_set_string(op, op->auth_scheme, sizeof(op->auth_scheme), "acl", 3);
        }
        break;
    case REDIS_SPECIAL_INFO:
        if (arg_find(a, 1, "KEYSPACE") >= 0)
            op->op_class = OP_CLASS_ENUMERATE;
        break;
    case REDIS_SPECIAL_SCAN:
        request_scan(op, c, a);
        p->scan_pairs = c->target != REDIS_TARGET_SCAN && !arg_is(a, 0, "SSCAN");
        break;
    case REDIS_SPECIAL_SUBSCRIBE:
    case REDIS_SPECIAL_UNSUBSCRIBE:
        p->confirms = a->count - 1;
        break;
    case REDIS_SPECIAL_CONFIG_SET:
        if (strcmp(op->target, "dir") == 0 || strcmp(op->target, "dbfilename") == 0)
            op->op_class = OP_CLASS_DESTROY;
        break;
    case REDIS_SPECIAL_REPLICAOF:
        if (strcmp(op->target, "no one") == 0)
            op->op_class = OP_CLASS_ADMIN;
        break;
    case REDIS_SPECIAL_REPLCONF:
        p->no_reply = arg_is(a, 1, "ACK");
        break;
    case REDIS_SPECIAL_CLIENT_REPLY:
        if (arg_is(a, 2, "ON")) {
            f->reply_mode = REPLY_ON;
        } else if (arg_is(a, 2, "OFF")) {
            f->reply_mode = REPLY_OFF;
            p->no_reply = true;
        } else if (arg_is(a, 2, "SKIP")) {
            p->no_reply = true;
            if (f->reply_mode == REPLY_ON)
                f->reply_mode = REPLY_SKIP;
            return;
        }
        break;
    default:
        break;
    }
}

/* "GET / HTTP/1.1" sent to Redis: a scanner looking for a web server. */
static bool http_request_line(const struct redis_args *a)
{
    static const char *const methods[] = { "GET", "POST", "PUT", "HEAD", "OPTIONS",
                                           "DELETE", "CONNECT", "PATCH" };
    if (a->count != 3 || a->kept < 3)
        return false;
    if (!starts_with(a->pool + a->off[2], a->len[2], "HTTP/"))
        return false;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (equal_nocase(a->pool + a->off[0], a->len[0], methods[i]))
            return true;
    return false;
}

/* A header line after an HTTP request line ("Host: x"). */
static bool http_header_line(const struct redis_args *a)
{
    return a->kept > 0 && a->len[0] > 1 && a->pool[a->off[0] + a->len[0] - 1] == ':';
}

/* "User-Agent: curl/8.0": its value, arguments joined by one space, capped. */
static void http_user_agent(struct redis_flow *f, const struct redis_args *a)
{
    if (!arg_is(a, 0, "User-Agent:") || f->client_lib[0] != '\0')
        return;
    size_t n = 0;
    for (unsigned i = 1; i < a->kept; i++) {
        if (i > 1 && n < NAME_MAX - 1)
            f->client_lib[n++] = ' ';
        size_t l = a->len[i] < NAME_MAX - 1 - n ? a->len[i] : NAME_MAX - 1 - n;
        memcpy(f->client_lib + n, a->pool + a->off[i], l);
        n += l;
    }
    f->client_lib[n] = '\0';
}

/* True when the command word has no upper-case letter and one lower-case. */
static bool lower_case_word(const struct redis_args *a)
{
    bool lower = false;
    for (size_t i = 0; i < a->len[0]; i++) {
        uint8_t ch = a->pool[a->off[0] + i];
        if (ch >= 'A' && ch <= 'Z')
            return false;
        lower |= ch >= 'a' && ch <= 'z';
    }
    return lower;
}

/* nmap's redis-info script (scripts/redis-info.nse, nmap 7.93) sends on one
 * connection, after an optional AUTH, INFO and then its "extras" in a fixed
 * table order: CONFIG GET bind, PUBSUB CHANNELS, CLIENT LIST, CLUSTER NODES,
 * as RESP arrays spelled exactly so (pcaps/redis_nmap.pcap). A client
 * library names itself first (CLIENT SETINFO, HELLO); redis-cli opens a
 * connection per command line. The third command in the order completes the
 * shape: true for it. */
#define NMAP_INFO_BROKEN 0xff

static bool arg_exact(const struct redis_args *a, unsigned i, const char *word)
{
    size_t n = strlen(word);
    return i < a->kept && a->len[i] == n && memcmp(a->pool + a->off[i], word, n) == 0;
}

static bool nmap_redis_info_step(struct redis_flow *f, struct decoder_ctx *ctx,
                                 const struct redis_args *a)
{
    static const char *const order[][3] = {
        {"INFO", NULL, NULL}, {"CONFIG", "GET", "bind"}, {"PUBSUB", "CHANNELS", NULL},
    };
    const size_t steps = sizeof(order) / sizeof(order[0]);
    if (f->nmap_step >= steps)
        return false;                       /* done, or broken */
    if (ctx->midstream) {
        f->nmap_step = NMAP_INFO_BROKEN;
        return false;
    }
    if (f->nmap_step == 0 && arg_exact(a, 0, "AUTH"))
        return false;
    const char *const *want = order[f->nmap_step];
    unsigned n = 0;
    while (n < 3 && want[n] != NULL && arg_exact(a, n, want[n]))
        n++;
    if (n == 0 || n != a->count || (n < 3 && want[n] != NULL)) {
        f->nmap_step = NMAP_INFO_BROKEN;
        return false;
    }
    return ++f->nmap_step == steps;
}

/* Scanners' openings. Client libraries and redis-cli send RESP arrays, so a
 * lower-case inline "info" or "ping" opening a connection is a banner grab. "*1 $4 info"
 * is Nmap's service probe (nmap-service-probes, "Probe TCP Redis") but also
 * ioredis's ready check; it is told apart by what follows (held_release). */
static uint8_t request_probe(struct redis_flow *f, struct decoder_ctx *ctx,
                             const struct redis_args *a, bool is_inline)
{
    if (is_inline && http_request_line(a)) {
        f->http_probe = true;
        decoder_count(ctx, REDIS_COUNTER_PROBES);
        return PROBE_KIND_HTTP;
    }
    /* zgrab2's redis module sends PING, INFO, then the made-up command
     * NONEXISTENT (to see the unknown-command error), then QUIT. */
    if (a->count == 1 && arg_is(a, 0, "NONEXISTENT")) {
        decoder_count(ctx, REDIS_COUNTER_PROBES);
        return PROBE_KIND_ZGRAB;
    }
    if (nmap_redis_info_step(f, ctx, a)) {
        decoder_count(ctx, REDIS_COUNTER_PROBES);
        return PROBE_KIND_NMAP_INFO;
    }
    if (f->request_seen || ctx->midstream || !lower_case_word(a))
        return PROBE_KIND_NONE;
    if (is_inline && (arg_is(a, 0, "info") || arg_is(a, 0, "ping"))) {
        decoder_count(ctx, REDIS_COUNTER_PROBES);
        return PROBE_KIND_INLINE;   /* "set k v" typed into nc is not a banner grab */
    }
    if (a->count == 1 && starts_with(a->pool + a->off[0], a->len[0], "info") &&
        a->len[0] == 4)
        return PROBE_KIND_INFO;
    return PROBE_KIND_NONE;
}

/* A whole request: its op waits for the reply (or leaves at once). */
static void request_done(struct redis_flow *f, struct decoder_ctx *ctx, uint64_t bytes,
                         bool is_inline, bool partial)
{
    struct redis_args *a = f->args;
    if (a == NULL || a->kept == 0)
        return;                     /* an empty line or "*0": asks nothing */
    if (is_inline && f->http_probe && http_header_line(a)) {
        http_user_agent(f, a);
        return;                     /* part of the HTTP request already counted */
    }
    held_release(f, ctx, false);    /* more came: a client library's ready check */
    struct redis_pending p;
    memset(&p, 0, sizeof(p));
    struct op_record op;
    op_record_init(&op, APP_REDIS);
    op.request_bytes = bytes;
    op.ts_request_us = f->message_ts[DIR_TO_SERVER];
    if (partial)
        op.flags |= OP_FLAG_PARTIAL;
    p.probe = request_probe(f, ctx, a, is_inline);
    f->request_seen = true;
    const struct redis_command *c = NULL;
    if (p.probe == PROBE_KIND_HTTP) {
        op_set_string(&op, op.op, sizeof(op.op), "HTTP", 4);
        op.op_class = OP_CLASS_HANDSHAKE;
        op.flags |= OP_FLAG_PROBE;
    } else {
        c = name_request(&op, a);
        if (c != NULL) {
            op.op_class = c->op_class;
            p.items = c->items;
            if (p.items == REDIS_ITEMS_AGG && arg_find(a, 2, "WITHSCORES") >= 0)
                p.items = REDIS_ITEMS_SCORED;
            p.special = c->special;
            request_target(&op, c, a);
            request_names(f, c, a);
            request_special(f, &p, &op, c, a);
        }
        if (p.probe == PROBE_KIND_INLINE || p.probe == PROBE_KIND_ZGRAB ||
            p.probe == PROBE_KIND_NMAP_INFO)
            op.flags |= OP_FLAG_PROBE;
    }
    pending_pack(&p, &op, c);
    /* CLIENT REPLY itself was settled by request_special */
    if (p.special != REDIS_SPECIAL_CLIENT_REPLY && !p.no_reply && f->reply_mode != REPLY_ON) {
        p.no_reply = true;
        if (f->reply_mode == REPLY_SKIP)
            f->reply_mode = REPLY_ON;
    }
    if (p.no_reply)
        decoder_count(ctx, REDIS_COUNTER_NO_REPLY);
    pending_push(f, ctx, &p);
}

/* ---- replies ---- */

/* Feeds INFO text to the keyspace scan: sums K of "db<N>:keys=<K>,". */
static void keyspace_feed(struct keyspace_scan *k, const uint8_t *s, size_t n)
{
    enum { PREFIX = 0, DIGITS, KEYS, NUMBER, SKIP };
    static const char prefix[] = "db";
    static const char keys[] = "keys=";
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        bool digit = c >= '0' && c <= '9';
        if (c == '\n') {
            k->state = PREFIX;
            k->matched = 0;
            continue;
        }
        switch (k->state) {
        case PREFIX:
            if (c != (uint8_t)prefix[k->matched])
                k->state = SKIP;
            else if (++k->matched == sizeof(prefix) - 1)
                k->state = DIGITS, k->matched = 0;
            break;
        case DIGITS:
            if (digit)
                k->matched = 1;
            else if (c == ':' && k->matched == 1)
                k->state = KEYS, k->matched = 0;
            else
                k->state = SKIP;
            break;
        case KEYS:
            if (c != (uint8_t)keys[k->matched])
                k->state = SKIP;
            else if (++k->matched == sizeof(keys) - 1)
                k->state = NUMBER, k->matched = 0, k->number = 0;
            break;
        case NUMBER:
            if (digit && k->number < INT64_MAX / 10 - 10) {
                k->number = k->number * 10 + (c - '0');
                k->matched = 1;
                break;
            }
            if (k->matched == 1 && (c == ',' || c == '\r')) {
                k->found = true;
                k->sum = k->sum > INT64_MAX - k->number ? INT64_MAX : k->sum + k->number;
            }
            k->state = SKIP;
            break;
        default:
            break;
        }
    }
}

static void copy_capped(uint8_t *dst, size_t *len, size_t cap, const uint8_t *s, size_t n)
{
    if (n > cap - *len)
        n = cap - *len;
    memcpy(dst + *len, s, n);
    *len += n;
}

static bool is_aggregate_type(uint8_t t)
{
    return t == '*' || t == '%' || t == '~' || t == '>';
}

/* A token of the reply: what the op will need of it. */
static void reply_token(struct redis_flow *f, const struct redis_token *t)
{
    struct redis_reply *r = &f->reply;
    const struct redis_pending *front = pending_front(f);
    uint8_t items = front != NULL ? front->items : REDIS_ITEMS_NONE;
    if (t->deep)
        return;
    if (t->kind == REDIS_TOK_HEADER && t->depth == 0) {
        r->type = t->type;
        r->null = t->null;
        r->value = t->value;
        if (!is_aggregate_type(t->type) && t->type != '$' && t->type != '|')
            copy_capped(r->head, &r->head_len, HEAD_MAX, t->text, t->text_len);
    } else if (t->kind == REDIS_TOK_HEADER && t->depth == 1) {
        if (!t->null)
            r->hits++;
        if (t->index == 0 && t->type != '$')
            copy_capped(r->first, &r->first_len, FIRST_MAX, t->text, t->text_len);
        if (t->index == 0 && is_aggregate_type(t->type))
            r->first_aggregate = true;
        if (t->index == 1 && is_aggregate_type(t->type))
            r->second_len = t->null ? 0 : t->value;
        if (t->index == 2 && t->type == ':')
            r->third_int = t->value;
    } else if (t->kind == REDIS_TOK_DATA && t->depth == 0) {
        copy_capped(r->head, &r->head_len, HEAD_MAX, t->text, t->text_len);
        if (items == REDIS_ITEMS_INFO)
            keyspace_feed(&r->keyspace, t->text, t->text_len);
        if (items == REDIS_ITEMS_LINES)
            for (const uint8_t *s = t->text, *end = t->text + t->text_len;
                 (s = memchr(s, '\n', (size_t)(end - s))) != NULL; s++)
                r->lines++;
    } else if (t->kind == REDIS_TOK_DATA && t->depth == 1 && t->index == 0) {
        size_t before = r->first_len;
        copy_capped(r->first, &r->first_len, FIRST_MAX, t->text, t->text_len);
        if (r->first_len - before < t->text_len)
            r->first_cut = true;
    }
}

static bool is_error_type(uint8_t t)
{
    return t == '-' || t == '!';
}

/* status and error_type from an error's text: its code word only (the rest
 * may quote the request), "ERR unknown command" kept as such. */
static void reply_error(struct op_record *op, const struct redis_reply *r)
{
    size_t n = 0;
    while (n < r->head_len && r->head[n] != ' ' && r->head[n] != '\r' && r->head[n] != '\n')
        n++;
    if (starts_with(r->head, r->head_len, "ERR unknown command"))
        n = strlen("ERR unknown command");
    op_set_string(op, op->error_type, sizeof(op->error_type), (const char *)r->head, n);
    op->status = OP_STATUS_ERROR;
    if (equal_nocase(r->head, n, "NOAUTH") || equal_nocase(r->head, n, "WRONGPASS") ||
        equal_nocase(r->head, n, "NOPERM"))
        op->status = OP_STATUS_DENIED;
}

static int64_t reply_items(const struct redis_pending *p, const struct redis_reply *r)
{
    bool aggregate = is_aggregate_type(r->type);
    switch (p->items) {
    case REDIS_ITEMS_AGG:
        return aggregate ? (r->null ? 0 : r->value) : (r->type == '_' ? 0 : -1);
    case REDIS_ITEMS_PAIRS:
        if (r->null || r->type == '_')
            return 0;
        return r->type == '%' ? r->value : r->type == '*' ? r->value / 2 : -1;
    case REDIS_ITEMS_HITS:
        return aggregate ? r->hits : -1;
    case REDIS_ITEMS_ONE:
        if (r->null || r->type == '_')
            return 0;
        return r->type == '$' || r->type == '+' || r->type == '=' || r->type == ':' ? 1 : -1;
    case REDIS_ITEMS_SCAN:
        if (r->type != '*' || r->second_len < 0)
            return -1;
        return p->scan_pairs ? r->second_len / 2 : r->second_len;
    case REDIS_ITEMS_LINES:
        return r->type == '$' || r->type == '=' ? (int64_t)r->lines : -1;
    case REDIS_ITEMS_SCORED:
        if (r->null || r->type == '_')
            return 0;
        if (r->type != '*')
            return -1;
        return r->first_aggregate ? r->value : r->value / 2;
    default:
        return -1;
    }
}

/* The outcome of a login (AUTH, HELLO ... AUTH) on its own op: any error
 * reply (WRONGPASS, "ERR invalid password", ERR without a password set)
 * refused it. */
static void reply_auth_result(const struct redis_pending *p, struct op_record *op)
{
    if (p->special != REDIS_SPECIAL_AUTH && !p->hello_auth)
        return;
    if (op->status == OP_STATUS_OK)
        op->auth_result = OP_AUTH_RESULT_SUCCESS;
    else if (op->status == OP_STATUS_ERROR || op->status == OP_STATUS_DENIED)
        op->auth_result = OP_AUTH_RESULT_FAILURE;
}

/* What a successful reply changes in the connection. */
static void reply_effects(struct redis_flow *f, const struct redis_pending *p,
                          const struct op_record *op)
{
    if (op->status != OP_STATUS_OK)
        return;
    if (p->special == REDIS_SPECIAL_AUTH || p->hello_auth)
        f->auth = OP_AUTH_YES;
    else if (p->special == REDIS_SPECIAL_MONITOR)
        f->monitor = true;
}

/* The reply answers the request at the front. */
static void reply_pair(struct redis_flow *f, struct decoder_ctx *ctx, uint64_t bytes)
{
    struct redis_reply *r = &f->reply;
    struct redis_pending p;
    struct op_record op_storage;
    pending_take(f, &p, &op_storage);
    struct op_record *op = &op_storage;
    op->response_bytes += bytes;
    op->ts_response_us = ctx->now_us;
    if (r->partial)
        op->flags |= OP_FLAG_PARTIAL;
    if (is_error_type(r->type)) {
        reply_error(op, r);
        if (op->status == OP_STATUS_DENIED && strcmp(op->error_type, "NOAUTH") == 0) {
            op->authenticated = OP_AUTH_NO;
            if (f->auth == OP_AUTH_UNKNOWN)
                f->auth = OP_AUTH_NO;
        }
    } else {
        op->status = OP_STATUS_OK;
        op->items = reply_items(&p, r);
        if (p.items == REDIS_ITEMS_TOTAL_INT && r->type == ':')
            op->total = r->value;
        if (p.items == REDIS_ITEMS_INFO && r->keyspace.found)
            op->total = r->keyspace.sum;
        if (p.items == REDIS_ITEMS_SCAN && r->type == '*' && r->first_len > 0 && !r->first_cut &&
            !(r->first_len == 1 && r->first[0] == '0'))
            op_continuation_hash(r->first, r->first_len, op->cursor_out);
    }
    reply_auth_result(&p, op);
    reply_effects(f, &p, op);
    emit_request(f, ctx, &p, op);
    pending_settle(f, ctx);
}

enum pubsub_kind { PUBSUB_NONE = 0, PUBSUB_MESSAGE, PUBSUB_SUBSCRIBED, PUBSUB_UNSUBSCRIBED };

static enum pubsub_kind pubsub_kind(const struct redis_reply *r)
{
    static const char *const messages[] = { "message", "pmessage", "smessage" };
    static const char *const subs[] = { "subscribe", "psubscribe", "ssubscribe" };
    static const char *const unsubs[] = { "unsubscribe", "punsubscribe", "sunsubscribe" };
    for (int i = 0; i < 3; i++) {
        if (equal_nocase(r->first, r->first_len, messages[i]))
            return PUBSUB_MESSAGE;
        if (equal_nocase(r->first, r->first_len, subs[i]))
            return PUBSUB_SUBSCRIBED;
        if (equal_nocase(r->first, r->first_len, unsubs[i]))
            return PUBSUB_UNSUBSCRIBED;
    }
    return PUBSUB_NONE;
}

/* A (un)subscribe confirmation: counted on the (UN)SUBSCRIBE at the front,
 * which leaves when its last channel is confirmed. False when no such
 * request waits (then the array is a push). */
static bool pubsub_confirm(struct redis_flow *f, struct decoder_ctx *ctx, enum pubsub_kind kind,
                           uint64_t bytes)
{
    struct redis_pending *p = pending_front(f);
    uint8_t want = kind == PUBSUB_SUBSCRIBED ? REDIS_SPECIAL_SUBSCRIBE : REDIS_SPECIAL_UNSUBSCRIBE;
    f->subscribed = kind == PUBSUB_SUBSCRIBED || f->reply.third_int != 0;
    if (p == NULL || p->special != want)
        return false;
    p->response_bytes += bytes;
    p->confirmed++;
    bool last = p->confirms > 0 ? --p->confirms == 0 : f->reply.third_int <= 0;
    if (!last)
        return true;
    struct redis_pending done;
    struct op_record op;
    pending_take(f, &done, &op);
    op.status = OP_STATUS_OK;
    op.ts_response_us = ctx->now_us;
    if (f->reply.partial)
        op.flags |= OP_FLAG_PARTIAL;
    emit_request(f, ctx, &done, &op);
    pending_settle(f, ctx);
    return true;
}

/* A pub/sub-shaped message: a RESP3 push, or an array while subscribed (or
 * while a (UN)SUBSCRIBE waits). True when it was consumed as one. */
static bool reply_pubsub(struct redis_flow *f, struct decoder_ctx *ctx, uint64_t bytes)
{
    struct redis_reply *r = &f->reply;
    const struct redis_pending *front = pending_front(f);
    bool waiting = front != NULL && (front->special == REDIS_SPECIAL_SUBSCRIBE ||
                                     front->special == REDIS_SPECIAL_UNSUBSCRIBE);
    if (r->type != '>' && !(r->type == '*' && (f->subscribed || waiting)))
        return false;
    enum pubsub_kind kind = pubsub_kind(r);
    if (r->type == '*' && kind == PUBSUB_NONE)
        return false;               /* e.g. ["pong", ""] answers a PING */
    if (kind != PUBSUB_MESSAGE && kind != PUBSUB_NONE && pubsub_confirm(f, ctx, kind, bytes))
        return true;
    decoder_count(ctx, REDIS_COUNTER_PUSH_MESSAGES);
    return true;
}

/* "+1700000000.123456 [0 127.0.0.1:5000] "get" "k"": a MONITOR line. */
static bool monitor_line(const struct redis_reply *r)
{
    size_t i = 0;
    while (i < r->head_len && r->head[i] >= '0' && r->head[i] <= '9')
        i++;
    return i > 0 && i < r->head_len && r->head[i] == '.';
}

static void sync_start(struct redis_flow *f);

/* A whole reply (or push, or attribute) came. */
static void reply_done(struct redis_flow *f, struct decoder_ctx *ctx, uint64_t bytes)
{
    struct redis_reply *r = &f->reply;
    if (r->type == '|') {
        f->attribute_bytes += bytes;
        decoder_count(ctx, REDIS_COUNTER_ATTRIBUTES);
        return;
    }
    bytes += f->attribute_bytes;
    f->attribute_bytes = 0;
    struct redis_pending *front = pending_front(f);
    if (f->replica_stream) {
        decoder_count(ctx, REDIS_COUNTER_REPLICATION_COMMANDS);
    } else if (reply_pubsub(f, ctx, bytes)) {
        /* counted there */
    } else if (f->monitor && r->type == '+' && monitor_line(r)) {
        decoder_count(ctx, REDIS_COUNTER_MONITOR_LINES);
    } else if (f->owed_replies > 0) {
        f->owed_replies--;
    } else if (front == NULL) {
        decoder_count(ctx, REDIS_COUNTER_UNPAIRED_REPLIES);
    } else if (front->special == REDIS_SPECIAL_SYNC && r->type == '+' &&
               starts_with(r->head, r->head_len, "FULLRESYNC")) {
        front->fullresync = true;   /* the RDB follows */
        front->response_bytes += bytes;
        sync_start(f);
    } else {
        bool resumed = front->special == REDIS_SPECIAL_SYNC && r->type == '+' &&
                       starts_with(r->head, r->head_len, "CONTINUE");
        reply_pair(f, ctx, bytes);
        if (resumed)
            f->replica_stream = true;
    }
}

/* ---- SYNC/PSYNC: the RDB payload ---- */

static void sync_start(struct redis_flow *f)
{
    if (f->sync == NULL)
        f->sync = membudget_calloc(f->budget, sizeof(*f->sync));
    if (f->sync != NULL) {
        memset(f->sync, 0, sizeof(*f->sync));
        redis_rdb_init(&f->sync->rdb);
    }
}

/* The RDB ended (or was cut): the SYNC op leaves, the stream follows. */
static void sync_finish(struct redis_flow *f, struct decoder_ctx *ctx, uint32_t flags)
{
    struct redis_sync *s = f->sync;
    f->sync = NULL;
    struct redis_pending *front = pending_front(f);
    if (front != NULL && front->special == REDIS_SPECIAL_SYNC) {
        struct redis_pending p;
        struct op_record op;
        pending_take(f, &p, &op);
        op.response_bytes += s->bytes + s->line_len;
        op.items = s->rdb.keys;
        op.status = OP_STATUS_OK;
        op.ts_response_us = ctx->now_us;
        op.flags |= flags;
        emit_request(f, ctx, &p, &op);
    }
    membudget_free(f->budget, s, sizeof(*s));
    f->replica_stream = true;
    pending_settle(f, ctx);
}

static void mark_prepare(struct redis_sync *s)
{
    s->fail[0] = 0;
    uint8_t k = 0;
    for (uint8_t i = 1; i < 40; i++) {
        while (k > 0 && s->mark[i] != s->mark[k])
            k = s->fail[k - 1];
        if (s->mark[i] == s->mark[k])
            k++;
        s->fail[i] = k;
    }
}

/* "$<len>\r\n" or "$EOF:<40 bytes>\r\n". False: not an RDB header. */
static bool sync_header(struct redis_sync *s)
{
    size_t n = s->line_len;
    if (n < 3 || s->line[0] != '$' || s->line[n - 2] != '\r')
        return false;
    if (n == 5 + 40 + 2 && memcmp(s->line, "$EOF:", 5) == 0) {
        memcpy(s->mark, s->line + 5, 40);
        mark_prepare(s);
        s->eof_mark = true;
        return true;
    }
    int64_t len;
    if (!redis_parse_int(s->line + 1, n - 3, &len) || len < 0)
        return false;
    s->left = (uint64_t)len;
    return true;
}

static size_t sync_body(struct redis_flow *f, struct decoder_ctx *ctx, const uint8_t *buf,
                        size_t len)
{
    struct redis_sync *s = f->sync;
    size_t n = len;
    bool done = false;
    if (!s->eof_mark) {
        n = s->left < len ? (size_t)s->left : len;
        s->left -= n;
        done = s->left == 0;
    } else {
        for (size_t i = 0; i < len; i++) {
            while (s->matched > 0 && buf[i] != s->mark[s->matched])
                s->matched = s->fail[s->matched - 1];
            if (buf[i] == s->mark[s->matched])
                s->matched++;
            if (s->matched == 40) {
                n = i + 1;
                done = true;
                break;
            }
        }
    }
    if (!s->rdb.stopped)
        redis_rdb_feed(&s->rdb, buf, n);
    s->bytes += n;
    decoder_count_add(ctx, REDIS_COUNTER_RDB_BYTES, n);
    if (done)
        sync_finish(f, ctx, 0);
    return n;
}

static void resync_start(struct redis_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir);

/* Bytes while a SYNC's RDB is expected or streaming. */
static size_t sync_feed(struct redis_flow *f, struct decoder_ctx *ctx, const uint8_t *buf,
                        size_t len)
{
    struct redis_sync *s = f->sync;
    if (s->body)
        return sync_body(f, ctx, buf, len);
    size_t i = 0;
    while (i < len) {
        uint8_t c = buf[i];
        if (s->line_len == 0 && c != '$' && c != '\n')
            return i;               /* "+FULLRESYNC": the parser's */
        i++;
        if (s->line_len == 0 && c == '\n') {
            s->bytes++;             /* the master's keep-alive newline */
            continue;
        }
        s->line[s->line_len++] = c;
        if (c == '\n') {
            if (!sync_header(s)) {
                decoder_count(ctx, REDIS_COUNTER_MALFORMED);
                sync_finish(f, ctx, OP_FLAG_PARTIAL);
                f->replica_stream = false;
                resync_start(f, ctx, DIR_TO_CLIENT);
                return i;
            }
            s->body = true;
            if (!s->eof_mark && s->left == 0)
                sync_finish(f, ctx, 0);
            return i;
        }
        if (s->line_len == sizeof(s->line)) {
            decoder_count(ctx, REDIS_COUNTER_MALFORMED);
            sync_finish(f, ctx, OP_FLAG_PARTIAL);
            f->replica_stream = false;
            resync_start(f, ctx, DIR_TO_CLIENT);
            return i;
        }
    }
    return i;
}

/* True when the reply side should hand its bytes to the SYNC reader: the
 * RDB is under way, or a SYNC waits at the front and its reply begins with
 * '$' (SYNC sends no +FULLRESYNC) or a keep-alive '\n'. */
static bool sync_wanted(struct redis_flow *f, const uint8_t *buf)
{
    if (f->sync != NULL)
        return f->sync->body || f->sync->line_len > 0 || buf[0] == '$' || buf[0] == '\n';
    const struct redis_pending *front = pending_front(f);
    if (front == NULL || front->special != REDIS_SPECIAL_SYNC ||
        !redis_parser_idle(&f->parser[DIR_TO_CLIENT]) || f->owed_replies > 0)
        return false;
    if (buf[0] != '$' && buf[0] != '\n')
        return false;
    sync_start(f);
    return f->sync != NULL;
}

/* ---- losses: resynchronising a direction ---- */

static void finish_cut_request(struct redis_flow *f, struct decoder_ctx *ctx)
{
    struct redis_parser *p = &f->parser[DIR_TO_SERVER];
    if (!redis_parser_idle(p) && f->args != NULL && f->args->kept > 0)
        request_done(f, ctx, p->message_bytes, p->inline_line, true);
    if (f->args != NULL)
        args_reset(f->args);
}

/* A direction lost its place: what was cut leaves flagged partial, and
 * the bytes up to the next plausible message start are skipped. */
static void resync_start(struct redis_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    decoder_count(ctx, REDIS_COUNTER_RESYNC);
    if (dir == DIR_TO_SERVER) {
        finish_cut_request(f, ctx);
    } else {
        if (f->sync != NULL)
            sync_finish(f, ctx, OP_FLAG_PARTIAL);
        pending_flush(f, ctx, OP_FLAG_PARTIAL);
        f->owed_replies = 0;
        f->attribute_bytes = 0;
        reply_reset(&f->reply);
    }
    redis_parser_reset(&f->parser[dir]);
    f->partial[dir] = false;
    struct redis_resync *rs = &f->resync[dir];
    rs->active = true;
    rs->line_start = false;
    rs->hold_len = 0;
}

enum verdict { VERDICT_NO = 0, VERDICT_YES, VERDICT_MORE };

static enum verdict number_line(const uint8_t *s, size_t n, size_t *line_end, bool allow_null)
{
    size_t i = 1;
    if (i < n && s[i] == '-')
        i++;
    size_t digits = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == n)
        return i - digits > 10 ? VERDICT_NO : VERDICT_MORE;
    if (i == digits || i - digits > 10 || s[i] != '\r')
        return VERDICT_NO;
    if (s[1] == '-' && !(allow_null && i == 3 && s[2] == '1'))
        return VERDICT_NO;
    if (i + 1 == n)
        return VERDICT_MORE;
    if (s[i + 1] != '\n')
        return VERDICT_NO;
    *line_end = i + 2;
    return VERDICT_YES;
}

/* Is the held text the start of a reply? */
static enum verdict plausible_reply(const uint8_t *s, size_t n)
{
    size_t end;
    switch (s[0]) {
    case '*': case '$': case '%': case '~': case '>': case '|':
        return number_line(s, n, &end, s[0] == '*' || s[0] == '$');
    case ':':
        if (n >= 2 && s[1] == '-')
            return n >= 3 && s[2] >= '0' && s[2] <= '9' ? number_line(s + 1, n - 1, &end, false)
                                                         : (n < 3 ? VERDICT_MORE : VERDICT_NO);
        return number_line(s, n, &end, false);
    case '+':
    case '-':
        for (size_t i = 1; i < n; i++) {
            if (s[i] == '\r')
                return i + 1 == n ? VERDICT_MORE : s[i + 1] == '\n' && i > 1 ? VERDICT_YES
                                                                              : VERDICT_NO;
            if (s[i] < 0x20 || s[i] > 0x7e)
                return VERDICT_NO;
            if (s[0] == '-' && i == 1 && !(s[i] >= 'A' && s[i] <= 'Z'))
                return VERDICT_NO;
        }
        return VERDICT_MORE;
    case '_':
        return n < 3 ? VERDICT_MORE : (s[1] == '\r' && s[2] == '\n') ? VERDICT_YES : VERDICT_NO;
    default:
        return VERDICT_NO;
    }
}

/* Is the held text the start of a request: "*<n>\r\n$<n>\r\n", or an
 * inline line whose first word is a command? */
static enum verdict plausible_request(const uint8_t *s, size_t n)
{
    size_t end = 0;
    if (s[0] == '*') {
        enum verdict v = number_line(s, n, &end, false);
        if (v != VERDICT_YES || s[1] == '0')
            return v == VERDICT_YES ? VERDICT_NO : v;
        if (end == n)
            return VERDICT_MORE;
        if (s[end] != '$')
            return VERDICT_NO;
        size_t end2;
        return number_line(s + end, n - end, &end2, false);
    }
    char word[24];
    size_t i = 0;
    for (; i < n; i++) {
        if (s[i] == ' ' || s[i] == '\r' || s[i] == '\n')
            break;
        if (i == sizeof(word) || !((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
            return VERDICT_NO;
        word[i] = (char)upper(s[i]);
    }
    if (i == n)
        return VERDICT_MORE;
    return i > 0 && redis_command_find(word, i) != NULL ? VERDICT_YES : VERDICT_NO;
}

static void feed(struct redis_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                 const uint8_t *buf, size_t len);

/* Skips bytes up to a plausible message start; returns the bytes used. */
static size_t resync_scan(struct redis_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                          const uint8_t *buf, size_t len)
{
    struct redis_resync *rs = &f->resync[dir];
    size_t i = 0;
    while (i < len) {
        uint8_t c = buf[i++];
        if (rs->hold_len == 0) {
            if (rs->line_start && c != '\r' && c != '\n')
                rs->hold[rs->hold_len++] = c;
            rs->line_start = c == '\n';
            if (rs->hold_len == 0)
                continue;
        } else {
            rs->hold[rs->hold_len++] = c;
        }
        enum verdict v = dir == DIR_TO_SERVER ? plausible_request(rs->hold, rs->hold_len)
                                              : plausible_reply(rs->hold, rs->hold_len);
        if (v == VERDICT_MORE && rs->hold_len < HOLD_MAX)
            continue;
        if (v == VERDICT_YES) {
            uint8_t held[HOLD_MAX];
            size_t n = rs->hold_len;
            memcpy(held, rs->hold, n);
            rs->active = false;
            rs->hold_len = 0;
            feed(f, ctx, dir, held, n);
            return i;
        }
        rs->hold_len = 0;
        rs->line_start = c == '\n';
    }
    return i;
}

/* ---- walking a direction ---- */

static void request_token(struct redis_flow *f, const struct redis_token *t)
{
    if (t->kind == REDIS_TOK_HEADER && t->depth == 1 && t->type == '$')
        args_open(f->args, t->null ? 0 : (uint64_t)t->value);
    else if (t->kind == REDIS_TOK_DATA && t->depth == 1)
        args_append(f->args, t->text, t->text_len);
    else if (t->kind == REDIS_TOK_INLINE && f->args != NULL)
        args_from_line(f->args, t->text, t->text_len);
}

/* One parser step; returns the bytes it used. */
static size_t parse_step(struct redis_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                         const uint8_t *buf, size_t len)
{
    struct redis_parser *p = &f->parser[dir];
    if (redis_parser_idle(p)) {
        f->message_ts[dir] = ctx->now_us;
        if (dir == DIR_TO_SERVER)
            args_start(f);
        else
            reply_reset(&f->reply);
    }
    struct redis_token t;
    ptrdiff_t r = redis_parse(p, buf, len, &t);
    if (r < 0) {
        decoder_count(ctx, REDIS_COUNTER_MALFORMED);
        resync_start(f, ctx, dir);
        return 1;                   /* the byte it choked on is not a start */
    }
    if (dir == DIR_TO_SERVER)
        request_token(f, &t);
    else
        reply_token(f, &t);
    if (t.message_end) {
        if (p->went_deep)
            decoder_count(ctx, REDIS_COUNTER_DEEP_NESTING);
        bool partial = f->partial[dir];
        f->partial[dir] = false;
        if (dir == DIR_TO_SERVER) {
            request_done(f, ctx, t.message_bytes, t.kind == REDIS_TOK_INLINE, partial);
            args_reset(f->args);
        } else {
            f->reply.partial = partial;
            reply_done(f, ctx, t.message_bytes);
        }
    }
    return (size_t)r;
}

static void feed(struct redis_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                 const uint8_t *buf, size_t len)
{
    while (len > 0) {
        size_t used;
        if (f->resync[dir].active)
            used = resync_scan(f, ctx, dir, buf, len);
        else if (dir == DIR_TO_CLIENT && sync_wanted(f, buf))
            used = sync_feed(f, ctx, buf, len);
        else if (dir == DIR_TO_CLIENT && buf[0] == '\n' && redis_parser_idle(&f->parser[dir]))
            used = 1;               /* a bare newline between replies (a master's keep-alive) */
        else
            used = parse_step(f, ctx, dir, buf, len);
        assert(used > 0 && used <= len);
        buf += used;
        len -= used;
    }
}

static void redis_data(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                       const uint8_t *buf, size_t len)
{
    struct redis_flow *f = state;
    feed(f, ctx, dir, buf, len);
    if (dir == DIR_TO_SERVER && redis_parser_idle(&f->parser[DIR_TO_SERVER])) {
        membudget_free(f->budget, f->args, sizeof(*f->args));   /* no request is cut across calls */
        f->args = NULL;
    }
    assert(f->pending_count <= f->pending_cap && f->pending_cap <= f->pending_max);
}

static void redis_gap(void *state, struct decoder_ctx *ctx, enum decoder_dir dir, uint64_t len)
{
    struct redis_flow *f = state;
    struct redis_parser *p = &f->parser[dir];
    if (f->resync[dir].active) {
        f->resync[dir].hold_len = 0;
        f->resync[dir].line_start = false;
        return;
    }
    if (dir == DIR_TO_CLIENT && f->sync != NULL && f->sync->body && !f->sync->eof_mark &&
        len > 0 && len < f->sync->left) {
        f->sync->left -= len;       /* inside the RDB: counted, not read */
        f->sync->bytes += len;
        f->sync->rdb.stopped = true;
        struct redis_pending *front = pending_front(f);
        if (front != NULL)
            front->flags |= OP_FLAG_PARTIAL;
        return;
    }
    if (f->sync == NULL && len > 0 && redis_parser_skip_payload(p, len)) {
        f->partial[dir] = true;     /* inside a bulk's payload: the framing holds */
        struct redis_args *a = f->args;
        if (dir == DIR_TO_SERVER && a != NULL && a->kept > 0 && a->kept == a->count)
            a->full[a->kept - 1] = UINT64_MAX;    /* that argument is cut */
        return;
    }
    resync_start(f, ctx, dir);
}

/* A direction ended: a message it left unfinished was cut. */
static void redis_end(void *state, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    struct redis_flow *f = state;
    if (dir == DIR_TO_SERVER) {
        finish_cut_request(f, ctx);
        held_release(f, ctx, true); /* nothing followed the opening "info" */
    } else if (f->sync != NULL) {
        sync_finish(f, ctx, OP_FLAG_PARTIAL);
    } else if (!redis_parser_idle(&f->parser[dir]) && pending_front(f) != NULL) {
        struct redis_pending p;
        struct op_record op;
        pending_take(f, &p, &op);
        op.flags |= OP_FLAG_PARTIAL;
        op.response_bytes += f->parser[dir].message_bytes;
        emit_request(f, ctx, &p, &op);
        pending_settle(f, ctx);
    }
    redis_parser_reset(&f->parser[dir]);
}

static void redis_close(void *state, struct decoder_ctx *ctx)
{
    struct redis_flow *f = state;
    redis_end(f, ctx, DIR_TO_SERVER);
    redis_end(f, ctx, DIR_TO_CLIENT);
    pending_flush(f, ctx, OP_FLAG_NO_RESPONSE);
    held_release(f, ctx, true);
    struct membudget *budget = f->budget;
    membudget_free(budget, f->args, sizeof(*f->args));
    membudget_free(budget, f->sync, sizeof(*f->sync));
    membudget_free(budget, f->pending, f->pending_cap * sizeof(*f->pending));
    membudget_free(budget, f, sizeof(*f));
}

/* ---- the probe ---- */

/* Inline words other line protocols share: not a strong sign alone. */
static bool ambiguous_inline(const char *word, size_t n)
{
    static const char *const words[] = { "GET", "SET", "APPEND", "INCR", "DECR", "QUIT",
                                         "TOUCH", "DELETE", "ECHO", "TIME", "TYPE", "HELP" };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i]) == n && memcmp(words[i], word, n) == 0)
            return true;
    return false;
}

static enum probe_result probe_client(const uint8_t *s, size_t n)
{
    if (n == 0)
        return PROBE_NEED_MORE;
    if (s[0] == '*') {
        enum verdict v = plausible_request(s, n < HOLD_MAX ? n : HOLD_MAX);
        return v == VERDICT_YES ? PROBE_YES : v == VERDICT_MORE && n < HOLD_MAX ? PROBE_NEED_MORE
                                                                                : PROBE_NO;
    }
    char word[24];
    size_t i = 0;
    for (; i < n && s[i] != ' ' && s[i] != '\r' && s[i] != '\n'; i++) {
        if (i == sizeof(word) || !((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
            return PROBE_NO;
        word[i] = (char)upper(s[i]);
    }
    if (i == n)
        return PROBE_NEED_MORE;
    if (i == 0 || redis_command_find(word, i) == NULL || ambiguous_inline(word, i))
        return PROBE_NO;
    const uint8_t *eol = memchr(s + i, '\n', n - i);
    if (eol == NULL)
        return n < DECODER_PROBE_BYTES ? PROBE_NEED_MORE : PROBE_NO;
    if (eol == s || eol[-1] != '\r' || memmem(s, (size_t)(eol - s), " HTTP/", 6) != NULL)
        return PROBE_NO;
    return PROBE_YES;
}

static enum probe_result probe_server(const uint8_t *s, size_t n)
{
    static const char *const signs[] = { "+PONG\r\n", "-NOAUTH", "-ERR unknown command" };
    bool shorter = false;
    for (size_t i = 0; i < sizeof(signs) / sizeof(signs[0]); i++) {
        size_t l = strlen(signs[i]);
        size_t m = n < l ? n : l;
        if (memcmp(s, signs[i], m) == 0) {
            if (n >= l)
                return PROBE_YES;
            shorter = true;
        }
    }
    return shorter ? PROBE_NEED_MORE : PROBE_NO;
}

/* YES on the client's RESP array or inline command, or the server's
 * "+PONG", "-NOAUTH", "-ERR unknown command". */
static enum probe_result redis_probe(const uint8_t *to_server, size_t to_server_len,
                                     const uint8_t *to_client, size_t to_client_len)
{
    enum probe_result c = probe_client(to_server, to_server_len);
    if (c == PROBE_YES)
        return PROBE_YES;
    enum probe_result s = to_client_len > 0 ? probe_server(to_client, to_client_len)
                                            : PROBE_NEED_MORE;
    if (s == PROBE_YES)
        return PROBE_YES;
    if (c == PROBE_NO)
        return to_client_len > 0 && s == PROBE_NEED_MORE ? PROBE_NEED_MORE : PROBE_NO;
    return to_server_len > 0 || s == PROBE_NEED_MORE ? PROBE_NEED_MORE : PROBE_NO;
}

const struct decoder redis_decoder = {
    .name = "redis",
    .app = APP_REDIS,
    .ports = redis_ports,
    .port_count = sizeof(redis_ports) / sizeof(redis_ports[0]),
    .ndpi_names = redis_ndpi_names,
    .probe = redis_probe,
    .settings = &redis_settings,
    .counters = &redis_counters,
    .open = redis_open,
    .data = redis_data,
    .gap = redis_gap,
    .end = redis_end,
    .close = redis_close,
};
