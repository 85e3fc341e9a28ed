/* test_redis.c - the Redis decoder: the streaming RESP parser at every split
 * point, the command table, the RDB reader, then the decoder driven through
 * a hand-built decoder_ctx. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../../decoders/redis/redis.h"
#include "../../decoders/redis/redis_commands.h"
#include "../../decoders/redis/redis_rdb.h"
#include "check.h"

/* ---- the parser ---- */

#define ENDS_MAX 64

/* What a walk of a buffer saw: each message's top type and bytes, and the
 * payload bytes handed out. */
struct walk {
    uint8_t type[ENDS_MAX];
    uint64_t bytes[ENDS_MAX];
    size_t ends;
    uint64_t data_bytes;
    size_t headers;
    size_t deep_headers;
    bool malformed;
    uint8_t top;
};

static void walk_feed(struct redis_parser *p, struct walk *w, const uint8_t *buf, size_t len)
{
    while (len > 0 && !w->malformed) {
        struct redis_token t;
        bool idle = redis_parser_idle(p);
        ptrdiff_t r = redis_parse(p, buf, len, &t);
        if (r < 0) {
            w->malformed = true;
            return;
        }
        CHECK(r > 0);
        if (r <= 0)
            return;
        if (idle)
            w->top = buf[0];
        if (t.kind == REDIS_TOK_DATA)
            w->data_bytes += t.text_len;
        if (t.kind == REDIS_TOK_HEADER) {
            w->headers++;
            if (t.deep)
                w->deep_headers++;
        }
        if (t.message_end && w->ends < ENDS_MAX) {
            w->type[w->ends] = t.kind == REDIS_TOK_INLINE ? 'i' : w->top;
            w->bytes[w->ends++] = t.message_bytes;
        }
        buf += r;
        len -= (size_t)r;
    }
}

static struct walk walk_whole(bool requests, const char *s, size_t len)
{
    struct redis_parser p;
    struct walk w;
    memset(&w, 0, sizeof(w));
    redis_parser_init(&p, requests, 1024);
    walk_feed(&p, &w, (const uint8_t *)s, len);
    return w;
}

static bool walks_equal(const struct walk *a, const struct walk *b)
{
    return a->ends == b->ends && a->data_bytes == b->data_bytes && a->malformed == b->malformed &&
           memcmp(a->type, b->type, sizeof(a->type)) == 0 &&
           memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

static const char replies[] =
    "*3\r\n$3\r\nfoo\r\n:42\r\n*2\r\n+a\r\n_\r\n"   /* 29 */
    "%1\r\n+k\r\n$1\r\nv\r\n"                       /* 15 */
    "|1\r\n+key\r\n+val\r\n"                        /* 16: an attribute */
    "+OK\r\n"                                       /* 5 */
    ">2\r\n$7\r\nmessage\r\n$2\r\nhi\r\n"           /* 25 */
    "*?\r\n:1\r\n.\r\n"                             /* 11 */
    "$?\r\n;2\r\nab\r\n;0\r\n"                      /* 16 */
    "$0\r\n\r\n"                                    /* 6 */
    "*-1\r\n-ERR x y\r\n#t\r\n,1.5\r\n(12345\r\n=7\r\ntxt:abc\r\n";

static void parse_replies_whole(void)
{
    struct walk w = walk_whole(false, replies, sizeof(replies) - 1);
    CHECK(!w.malformed);
    CHECK_EQ_INT(w.ends, 14);
    static const char types[] = "*%|+>*$$*-#,(=";
    static const uint64_t bytes[] = { 29, 15, 16, 5, 25, 11, 16, 6, 5, 10, 4, 6, 8, 13 };
    for (size_t i = 0; i < 14; i++) {
        CHECK_EQ_INT(w.type[i], types[i]);
        CHECK_EQ_INT(w.bytes[i], bytes[i]);
    }
    CHECK_EQ_INT(w.data_bytes, 3 + 1 + 7 + 2 + 2 + 7);
}

static void parse_replies_every_split(void)
{
    struct walk whole = walk_whole(false, replies, sizeof(replies) - 1);
    size_t n = sizeof(replies) - 1;
    for (size_t s = 0; s <= n; s++) {
        struct redis_parser p;
        struct walk w;
        memset(&w, 0, sizeof(w));
        redis_parser_init(&p, false, 1024);
        walk_feed(&p, &w, (const uint8_t *)replies, s);
        walk_feed(&p, &w, (const uint8_t *)replies + s, n - s);
        CHECK(walks_equal(&w, &whole));
    }
    /* and one byte at a time */
    struct redis_parser p;
    struct walk w;
    memset(&w, 0, sizeof(w));
    redis_parser_init(&p, false, 1024);
    for (size_t i = 0; i < n; i++)
        walk_feed(&p, &w, (const uint8_t *)replies + i, 1);
    CHECK(walks_equal(&w, &whole));
    CHECK(redis_parser_idle(&p));
}

static void parse_requests_and_inline(void)
{
    static const char req[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a b\n\r\n*0\r\n";
    struct walk w = walk_whole(true, req, sizeof(req) - 1);
    CHECK(!w.malformed);
    CHECK_EQ_INT(w.ends, 5);
    CHECK_EQ_INT(w.type[0], '*');
    CHECK_EQ_INT(w.bytes[0], 20);
    CHECK_EQ_INT(w.type[1], 'i');
    CHECK_EQ_INT(w.bytes[1], 6);
    CHECK_EQ_INT(w.bytes[2], 8);       /* a bare LF ends an inline command */
    CHECK_EQ_INT(w.bytes[3], 2);       /* an empty line */
    CHECK_EQ_INT(w.bytes[4], 4);
    for (size_t s = 0; s <= sizeof(req) - 1; s++) {
        struct redis_parser p;
        struct walk x;
        memset(&x, 0, sizeof(x));
        redis_parser_init(&p, true, 1024);
        walk_feed(&p, &x, (const uint8_t *)req, s);
        walk_feed(&p, &x, (const uint8_t *)req + s, sizeof(req) - 1 - s);
        CHECK(walks_equal(&x, &w));
    }
}

static void parse_malformed(void)
{
    static const char *const bad_replies[] = {
        "*x\r\n", "$3\r\nabcd\r\n", "?\r\n", ".\r\n", "#x\r\n", "$-2\r\n", "*3\n",
        "_x\r\n", ":\r\n", "%-1\r\n", "*99999999999999999999\r\n", ";3\r\nabc\r\n",
        "$12345678901234567890123\r\n", "*1\r\n.\r\n", "|?\r\n",
    };
    for (size_t i = 0; i < sizeof(bad_replies) / sizeof(bad_replies[0]); i++) {
        struct walk w = walk_whole(false, bad_replies[i], strlen(bad_replies[i]));
        CHECK(w.malformed);
        if (!w.malformed)
            fprintf(stderr, "    not malformed: %s\n", bad_replies[i]);
    }
    /* a request's elements are bulk strings */
    struct walk w = walk_whole(true, "*2\r\n$3\r\nGET\r\n:1\r\n", 18);
    CHECK(w.malformed);
    /* a simple line longer than line_max */
    struct redis_parser p;
    redis_parser_init(&p, false, 8);
    struct redis_token t;
    CHECK_EQ_INT(redis_parse(&p, (const uint8_t *)"+12345678", 9, &t), REDIS_MALFORMED);
    redis_parser_init(&p, false, 8);
    CHECK_EQ_INT(redis_parse(&p, (const uint8_t *)"+1234567\r\n", 10, &t), 10);
    CHECK(t.message_end);
    /* a long line keeps its first REDIS_LINE_KEEP bytes */
    static char longline[400];
    longline[0] = '-';
    memset(longline + 1, 'E', 300);
    memcpy(longline + 301, "\r\n", 2);
    redis_parser_init(&p, false, 1024);
    CHECK_EQ_INT(redis_parse(&p, (const uint8_t *)longline, 303, &t), 303);
    CHECK(t.text_cut);
    CHECK_EQ_INT(t.text_len, REDIS_LINE_KEEP - 1);
}

static void parse_huge_counted_not_held(void)
{
    /* a million-key KEYS reply, fed in 4 KiB pieces */
    struct redis_parser p;
    redis_parser_init(&p, false, 1024);
    struct walk w;
    memset(&w, 0, sizeof(w));
    walk_feed(&p, &w, (const uint8_t *)"*1000000\r\n", 10);
    static char piece[4096];
    size_t unit = 7;        /* "$1\r\nk\r\n" */
    size_t per = sizeof(piece) / unit;
    for (size_t i = 0; i < per; i++)
        memcpy(piece + i * unit, "$1\r\nk\r\n", unit);
    size_t left = 1000000;
    while (left > 0) {
        size_t n = left < per ? left : per;
        walk_feed(&p, &w, (const uint8_t *)piece, n * unit);
        left -= n;
    }
    CHECK_EQ_INT(w.ends, 1);
    CHECK_EQ_INT(w.bytes[0], 10 + 7000000ull);
    CHECK_EQ_INT(w.data_bytes, 1000000);
    CHECK_EQ_INT(w.headers, 1000001);

    /* a 1 GiB bulk: handed out where it lies, never copied */
    redis_parser_init(&p, false, 1024);
    memset(&w, 0, sizeof(w));
    walk_feed(&p, &w, (const uint8_t *)"$1073741824\r\n", 13);
    static uint8_t chunk[1 << 20];
    for (int i = 0; i < 1024; i++)
        walk_feed(&p, &w, chunk, sizeof(chunk));
    CHECK_EQ_INT(w.ends, 0);
    walk_feed(&p, &w, (const uint8_t *)"\r\n", 2);
    CHECK_EQ_INT(w.ends, 1);
    CHECK_EQ_INT(w.bytes[0], 13 + 1073741824ull + 2);
    CHECK_EQ_INT(w.data_bytes, 1073741824ull);
}

static void parse_nesting_capped(void)
{
    /* 20 levels: framed exactly, the deep ones reported as such */
    char buf[256];
    size_t n = 0;
    for (int i = 0; i < 20; i++)
        n += (size_t)sprintf(buf + n, "*2\r\n");
    for (int i = 0; i < 21; i++)    /* 2 for the innermost, 1 more per level */
        n += (size_t)sprintf(buf + n, ":%d\r\n", i % 10);
    n += (size_t)sprintf(buf + n, "+next\r\n");
    struct walk w = walk_whole(false, buf, n);
    CHECK(!w.malformed);
    CHECK_EQ_INT(w.ends, 2);
    CHECK_EQ_INT(w.bytes[0], 20 * 4 + 21 * 4);
    CHECK_EQ_INT(w.type[1], '+');
    CHECK_EQ_INT(w.headers, 42);
    /* levels 0..7 hold the stack's 8 frames and level 8 is the last element
     * placed on it; levels 9..19 and the scalars of levels 8..19 are deep */
    CHECK_EQ_INT(w.deep_headers, 11 + 13);
    /* every split too */
    for (size_t s = 0; s <= n; s++) {
        struct redis_parser p;
        struct walk x;
        memset(&x, 0, sizeof(x));
        redis_parser_init(&p, false, 1024);
        walk_feed(&p, &x, (const uint8_t *)buf, s);
        walk_feed(&p, &x, (const uint8_t *)buf + s, n - s);
        CHECK(walks_equal(&x, &w));
    }
    /* an attribute deep down is not an element: "|1 k v" then the value */
    n = 0;
    for (int i = 0; i < 10; i++)
        n += (size_t)sprintf(buf + n, "*1\r\n");
    n += (size_t)sprintf(buf + n, "|1\r\n+k\r\n+v\r\n:1\r\n+after\r\n");
    w = walk_whole(false, buf, n);
    CHECK(!w.malformed);
    CHECK_EQ_INT(w.ends, 2);
    CHECK_EQ_INT(w.bytes[0], 40 + 16);
}

/* ---- the command table and the RDB reader ---- */

static void commands_sorted_and_found(void)
{
    size_t count;
    const struct redis_command *t = redis_command_table(&count);
    CHECK(count > 200);
    for (size_t i = 1; i < count; i++) {
        CHECK(strcmp(t[i - 1].name, t[i].name) < 0);
        if (strcmp(t[i - 1].name, t[i].name) >= 0)
            fprintf(stderr, "    out of order: %s %s\n", t[i - 1].name, t[i].name);
    }
    for (size_t i = 0; i < count; i++)
        CHECK(redis_command_find(t[i].name, strlen(t[i].name)) == &t[i]);
    CHECK(redis_command_find("GETX", 4) == NULL);
    CHECK(redis_command_find("GE", 2) == NULL);
    const struct redis_command *c = redis_command_find("CONFIG GET", 10);
    CHECK(c != NULL && c->op_class == OP_CLASS_ENUMERATE);
    c = redis_command_find("FLUSHALL", 8);
    CHECK(c != NULL && c->op_class == OP_CLASS_DESTROY);
    c = redis_command_find("HSCAN", 5);
    CHECK(c != NULL && c->op_class == OP_CLASS_READ);
    /* key metadata returns no value: one per key is enumeration */
    static const char *const metadata[] = { "TYPE", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME",
                                            "EXISTS", "STRLEN", "HSTRLEN", "HLEN", "LLEN",
                                            "SCARD", "ZCARD", "XLEN", "OBJECT ENCODING",
                                            "OBJECT FREQ", "OBJECT IDLETIME", "MEMORY USAGE",
                                            "DEBUG OBJECT" };
    for (size_t i = 0; i < sizeof(metadata) / sizeof(metadata[0]); i++) {
        c = redis_command_find(metadata[i], strlen(metadata[i]));
        CHECK(c != NULL && c->op_class == OP_CLASS_ENUMERATE);
        if (c == NULL || c->op_class != OP_CLASS_ENUMERATE)
            fprintf(stderr, "    %s is not enumerate\n", metadata[i]);
    }
    c = redis_command_find("GET", 3);
    CHECK(c != NULL && c->op_class == OP_CLASS_READ);
}

/* A small valid RDB: magic, two AUX (one int-encoded), SELECTDB 0,
 * RESIZEDB 3 1, then a key; db 2 with RESIZEDB 2 0 after it is not read. */
static const uint8_t rdb_file[] = {
    'R', 'E', 'D', 'I', 'S', '0', '0', '1', '1',
    0xFA, 9, 'r', 'e', 'd', 'i', 's', '-', 'v', 'e', 'r', 5, '7', '.', '2', '.', '4',
    0xFA, 10, 'r', 'e', 'd', 'i', 's', '-', 'b', 'i', 't', 's', 0xC0, 64,
    0xFA, 5, 'c', 't', 'i', 'm', 'e', 0xC2, 1, 2, 3, 4,
    0xFE, 0,
    0xFB, 3, 1,
    0x00, 1, 'a', 1, '1',
    0x00, 1, 'b', 1, '2',
    0xFC, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 1, 'c', 1, '3',
    0xFE, 2, 0xFB, 2, 0, 0x00, 1, 'd', 1, '4', 0x00, 1, 'e', 1, '5',
    0xFF, 1, 2, 3, 4, 5, 6, 7, 8,
};

static void rdb_header_every_split(void)
{
    for (size_t s = 0; s <= sizeof(rdb_file); s++) {
        struct redis_rdb r;
        redis_rdb_init(&r);
        redis_rdb_feed(&r, rdb_file, s);
        redis_rdb_feed(&r, rdb_file + s, sizeof(rdb_file) - s);
        CHECK(r.stopped);
        CHECK(!r.malformed);
        CHECK_EQ_INT(r.keys, 3);
        CHECK_EQ_INT(r.version, 11);
    }
    /* two databases before the first key (RESIZEDB as Redis writes it) */
    static const uint8_t two[] = { 'R', 'E', 'D', 'I', 'S', '0', '0', '0', '9',
                                   0xFE, 0, 0xFB, 0x40, 0x10, 0,
                                   0xFA, 1, 'x', 0xC3, 2, 5, 'a', 'b',
                                   0xFE, 1, 0xFB, 0x80, 0, 0, 0x01, 0x00, 0, 0xFF };
    struct redis_rdb r;
    redis_rdb_init(&r);
    redis_rdb_feed(&r, two, sizeof(two));
    CHECK(r.stopped && !r.malformed);
    CHECK_EQ_INT(r.keys, 16 + 256);
    /* not an RDB */
    redis_rdb_init(&r);
    redis_rdb_feed(&r, (const uint8_t *)"REDIX0009", 9);
    CHECK(r.stopped && r.malformed);
    CHECK_EQ_INT(r.keys, -1);
}

/* ---- the decoder ---- */

#define OPS_MAX 64

struct collected {
    struct op_record ops[OPS_MAX];
    size_t count;
    size_t dropped;
};

static void collect(struct decoder_ctx *ctx, const struct op_record *op)
{
    struct collected *c = ctx->owner;
    if (c->count < OPS_MAX)
        c->ops[c->count++] = *op;
    else
        c->dropped++;
}

struct harness {
    struct redis_params params;
    stats_counter counters[REDIS_COUNTER_COUNT];
    struct collected out;
    struct decoder_ctx ctx;
    void *state;
};

static void harness_open_with(struct harness *h, size_t pending_max, bool midstream)
{
    memset(h, 0, sizeof(*h));
    h->params.pending_max = pending_max;
    h->params.line_max = 64 * 1024;
    h->ctx.now_us = 1000;
    h->ctx.midstream = midstream;
    h->ctx.params = &h->params;
    h->ctx.counters = h->counters;
    h->ctx.emit = collect;
    h->ctx.owner = &h->out;
    h->state = redis_decoder.open(&h->ctx);
    CHECK(h->state != NULL);
}

static void harness_open(struct harness *h)
{
    harness_open_with(h, 1024, false);
}

static void feed(struct harness *h, enum decoder_dir dir, const char *bytes, size_t len,
                 uint64_t now_us)
{
    h->ctx.now_us = now_us;
    redis_decoder.data(h->state, &h->ctx, dir, (const uint8_t *)bytes, len);
}

static void send(struct harness *h, const char *s)
{
    feed(h, DIR_TO_SERVER, s, strlen(s), 100);
}

static void answer(struct harness *h, const char *s)
{
    feed(h, DIR_TO_CLIENT, s, strlen(s), 200);
}

static void harness_close(struct harness *h)
{
    if (h->state != NULL)
        redis_decoder.close(h->state, &h->ctx);
    h->state = NULL;
}

static uint64_t counter(const struct harness *h, enum redis_counter id)
{
    return stats_counter_get(&h->counters[id]);
}

/* A RESP request array from its arguments (NULL-terminated) into a static
 * buffer of the caller's. */
static const char *cmd(char *out, const char *first, ...)
{
    const char *args[16];
    size_t n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL && n < 16; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    size_t len = (size_t)sprintf(out, "*%zu\r\n", n);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(out + len, "$%zu\r\n%s\r\n", strlen(args[i]), args[i]);
    return out;
}

static const char pipeline_requests[] =
    "*2\r\n$3\r\nGET\r\n$8\r\nticket:1\r\n"                       /* 27 */
    "*4\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"       /* 35 */
    "*2\r\n$7\r\nHGETALL\r\n$10\r\ncustomer:1\r\n"                 /* 34 */
    "*2\r\n$4\r\nKEYS\r\n$1\r\n*\r\n"                              /* 21 */
    "*4\r\n$4\r\nSCAN\r\n$1\r\n0\r\n$5\r\nCOUNT\r\n$2\r\n10\r\n"   /* 40 */
    "*1\r\n$6\r\nDBSIZE\r\n"                                       /* 16 */
    "*2\r\n$4\r\nINFO\r\n$8\r\nkeyspace\r\n"                       /* 28 */
    "*2\r\n$3\r\nGET\r\n$9\r\nnosuchkey\r\n";                      /* 28 */
static const char pipeline_replies[] =
    "$6\r\nsecret\r\n"                                             /* 12 */
    "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n3\r\n"                          /* 23 */
    "*4\r\n$4\r\nname\r\n$6\r\nc00001\r\n$4\r\nplan\r\n$4\r\ngold\r\n" /* 46 */
    "*3\r\n$1\r\nx\r\n$1\r\ny\r\n$1\r\nz\r\n"                      /* 25 */
    "*2\r\n$2\r\n17\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n"               /* 30 */
    ":3\r\n"                                                       /* 4 */
    "$56\r\n# Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0\r\ndb1:keys=4,e\r\n" /* 63 */
    "$-1\r\n";                                                     /* 5 */

static void check_pipeline(const struct harness *h)
{
    const struct collected *c = &h->out;
    CHECK_EQ_INT(c->count, 8);
    if (c->count != 8)
        return;
    const struct op_record *op = c->ops;
    static const char *const names[] = { "GET", "MGET", "HGETALL", "KEYS", "SCAN", "DBSIZE",
                                         "INFO", "GET" };
    static const char *const targets[] = { "ticket:1", "a", "customer:1", "*", "*", "", "",
                                           "nosuchkey" };
    static const int classes[] = { OP_CLASS_READ, OP_CLASS_READ, OP_CLASS_READ,
                                   OP_CLASS_ENUMERATE, OP_CLASS_ENUMERATE, OP_CLASS_ENUMERATE,
                                   OP_CLASS_ENUMERATE, OP_CLASS_READ };
    static const int64_t items[] = { 1, 2, 2, 3, 2, -1, -1, 0 };
    static const int64_t totals[] = { -1, -1, -1, -1, -1, 3, 7, -1 };
    static const uint64_t req[] = { 27, 35, 34, 21, 40, 16, 28, 28 };
    static const uint64_t rep[] = { 12, 23, 46, 25, 30, 4, 63, 5 };
    for (size_t i = 0; i < 8; i++) {
        CHECK_EQ_STR(op[i].op, names[i]);
        CHECK_EQ_STR(op[i].target, targets[i]);
        CHECK_EQ_INT(op[i].op_class, classes[i]);
        CHECK_EQ_INT(op[i].items, items[i]);
        CHECK_EQ_INT(op[i].total, totals[i]);
        CHECK_EQ_INT(op[i].request_bytes, req[i]);
        CHECK_EQ_INT(op[i].response_bytes, rep[i]);
        CHECK_EQ_INT(op[i].status, OP_STATUS_OK);
        CHECK_EQ_INT(op[i].authenticated, OP_AUTH_NO);
        CHECK_EQ_INT(op[i].app, APP_REDIS);
        CHECK_EQ_INT(op[i].flags, i == 4 ? 0 : 0);
    }
    CHECK_EQ_INT(op[4].page_size, 10);
    CHECK_EQ_STR(op[4].continuation, "");
    char h17[OP_CONT_MAX];
    op_continuation_hash("17", 2, h17);
    CHECK_EQ_STR(op[4].cursor_out, h17);
    CHECK_EQ_INT(op[0].ts_request_us, 100);
    CHECK_EQ_INT(op[0].ts_response_us, 200);
}

static void decoder_pipeline_every_split(void)
{
    size_t n = sizeof(pipeline_replies) - 1;
    for (size_t s = 0; s <= n; s++) {
        struct harness h;
        harness_open(&h);
        send(&h, pipeline_requests);
        feed(&h, DIR_TO_CLIENT, pipeline_replies, s, 200);
        feed(&h, DIR_TO_CLIENT, pipeline_replies + s, n - s, 200);
        check_pipeline(&h);
        harness_close(&h);
    }
    size_t m = sizeof(pipeline_requests) - 1;
    for (size_t s = 0; s <= m; s++) {
        struct harness h;
        harness_open(&h);
        feed(&h, DIR_TO_SERVER, pipeline_requests, s, 100);
        feed(&h, DIR_TO_SERVER, pipeline_requests + s, m - s, 100);
        answer(&h, pipeline_replies);
        check_pipeline(&h);
        for (int i = 0; i < REDIS_COUNTER_COUNT; i++)
            CHECK_EQ_INT(counter(&h, (enum redis_counter)i), 0);
        harness_close(&h);
    }
}

static void decoder_inline_and_containers(void)
{
    struct harness h;
    harness_open(&h);
    char b[512];
    send(&h, "ping\r\nkeys user:*\n");
    send(&h, cmd(b, "config", "set", "DIR", "/root/.ssh", NULL));
    send(&h, cmd(b, "CONFIG", "GET", "maxmemory", NULL));
    send(&h, cmd(b, "config", "set", "maxmemory", "100", NULL));
    send(&h, cmd(b, "REPLICAOF", "10.0.0.1", "6379", NULL));
    send(&h, cmd(b, "SLAVEOF", "NO", "ONE", NULL));
    send(&h, cmd(b, "MODULE", "LOAD", "/tmp/exp.so", NULL));
    send(&h, cmd(b, "SELECT", "3", NULL));
    send(&h, cmd(b, "client", "kill", "id", "7", NULL));
    send(&h, cmd(b, "FROBNICATE", "x", NULL));
    send(&h, cmd(b, "SET", "k", "v4lue", NULL));
    answer(&h, "+PONG\r\n*0\r\n+OK\r\n*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n+OK\r\n+OK\r\n+OK\r\n"
               "+OK\r\n+OK\r\n+OK\r\n-ERR unknown command 'FROBNICATE', with args: 'x'\r\n+OK\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 12);
    if (h.out.count != 12)
        return;
    const struct op_record *op = h.out.ops;
    CHECK_EQ_STR(op[0].op, "PING");
    CHECK_EQ_INT(op[0].op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(op[0].request_bytes, 6);
    CHECK_EQ_STR(op[1].op, "KEYS");
    CHECK_EQ_STR(op[1].target, "user:*");
    CHECK_EQ_INT(op[1].items, 0);
    CHECK_EQ_STR(op[2].op, "CONFIG SET");
    CHECK_EQ_STR(op[2].target, "dir");
    CHECK_EQ_INT(op[2].op_class, OP_CLASS_DESTROY);
    CHECK_EQ_STR(op[3].op, "CONFIG GET");
    CHECK_EQ_STR(op[3].target, "maxmemory");
    CHECK_EQ_INT(op[3].op_class, OP_CLASS_ENUMERATE);
    CHECK_EQ_INT(op[3].items, 1);
    CHECK_EQ_INT(op[4].op_class, OP_CLASS_ADMIN);
    CHECK_EQ_STR(op[5].op, "REPLICAOF");
    CHECK_EQ_STR(op[5].target, "10.0.0.1 6379");
    CHECK_EQ_INT(op[5].op_class, OP_CLASS_DESTROY);
    CHECK_EQ_STR(op[6].op, "SLAVEOF");
    CHECK_EQ_STR(op[6].target, "no one");
    CHECK_EQ_INT(op[6].op_class, OP_CLASS_ADMIN);
    CHECK_EQ_STR(op[7].op, "MODULE LOAD");
    CHECK_EQ_STR(op[7].target, "/tmp/exp.so");
    CHECK_EQ_INT(op[7].op_class, OP_CLASS_DESTROY);
    CHECK_EQ_STR(op[8].target, "3");
    CHECK_EQ_STR(op[9].op, "CLIENT KILL");
    CHECK_EQ_INT(op[9].op_class, OP_CLASS_ADMIN);
    CHECK_EQ_STR(op[10].op, "FROBNICATE");
    CHECK_EQ_INT(op[10].op_class, OP_CLASS_UNKNOWN);
    CHECK_EQ_STR(op[10].target, "");
    CHECK_EQ_INT(op[10].status, OP_STATUS_ERROR);
    CHECK_EQ_STR(op[10].error_type, "ERR unknown command");
    CHECK_EQ_STR(op[11].target, "k");
    for (size_t i = 0; i < h.out.count; i++)
        CHECK(memmem(&op[i], sizeof(op[i]), "v4lue", 5) == NULL);
}

static void decoder_client_reply_modes(void)
{
    struct harness h;
    harness_open(&h);
    char b[256];
    send(&h, cmd(b, "GET", "a", NULL));
    send(&h, cmd(b, "CLIENT", "REPLY", "OFF", NULL));
    send(&h, cmd(b, "SET", "b", "1", NULL));
    send(&h, cmd(b, "SET", "c", "1", NULL));
    send(&h, cmd(b, "CLIENT", "REPLY", "ON", NULL));
    send(&h, cmd(b, "CLIENT", "REPLY", "SKIP", NULL));
    send(&h, cmd(b, "SET", "d", "1", NULL));
    send(&h, cmd(b, "GET", "e", NULL));
    CHECK_EQ_INT(h.out.count, 0);       /* GET a still waits: order is kept */
    answer(&h, "$1\r\n1\r\n");
    CHECK_EQ_INT(h.out.count, 4);
    answer(&h, "+OK\r\n");              /* CLIENT REPLY ON */
    CHECK_EQ_INT(h.out.count, 7);
    answer(&h, "$-1\r\n");              /* GET e */
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 8);
    if (h.out.count != 8)
        return;
    const struct op_record *op = h.out.ops;
    CHECK_EQ_STR(op[0].target, "a");
    CHECK_EQ_INT(op[0].items, 1);
    CHECK_EQ_STR(op[1].op, "CLIENT REPLY");
    CHECK_EQ_INT(op[1].status, OP_STATUS_UNKNOWN);
    CHECK_EQ_INT(op[1].flags, 0);
    CHECK_EQ_STR(op[2].target, "b");
    CHECK_EQ_INT(op[2].status, OP_STATUS_UNKNOWN);
    CHECK_EQ_INT(op[2].response_bytes, 0);
    CHECK_EQ_STR(op[3].target, "c");
    CHECK_EQ_STR(op[4].op, "CLIENT REPLY");
    CHECK_EQ_INT(op[4].status, OP_STATUS_OK);
    CHECK_EQ_INT(op[4].response_bytes, 5);
    CHECK_EQ_INT(op[5].status, OP_STATUS_UNKNOWN);   /* SKIP */
    CHECK_EQ_STR(op[6].target, "d");
    CHECK_EQ_INT(op[6].status, OP_STATUS_UNKNOWN);
    CHECK_EQ_STR(op[7].target, "e");
    CHECK_EQ_INT(op[7].status, OP_STATUS_OK);
    CHECK_EQ_INT(op[7].items, 0);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_NO_REPLY), 5);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_UNPAIRED_REPLIES), 0);
}

static void decoder_subscribe_mode(void)
{
    struct harness h;
    harness_open(&h);
    char b[256];
    send(&h, cmd(b, "SUBSCRIBE", "news", "alerts", NULL));
    answer(&h, "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    CHECK_EQ_INT(h.out.count, 0);
    answer(&h, "*3\r\n$9\r\nsubscribe\r\n$6\r\nalerts\r\n:2\r\n");
    CHECK_EQ_INT(h.out.count, 1);
    /* messages are pushes, whatever comes */
    answer(&h, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
               "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$4\r\nnews\r\n$2\r\nyo\r\n");
    send(&h, cmd(b, "PING", NULL));
    answer(&h, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
    answer(&h, "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    send(&h, cmd(b, "UNSUBSCRIBE", NULL));
    answer(&h, "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n");
    answer(&h, "*3\r\n$11\r\nunsubscribe\r\n$6\r\nalerts\r\n:0\r\n");
    /* out of subscribed mode an array is a reply again */
    send(&h, cmd(b, "LRANGE", "l", "0", "-1", NULL));
    answer(&h, "*2\r\n$7\r\nmessage\r\n$1\r\nx\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 4);
    if (h.out.count != 4)
        return;
    const struct op_record *op = h.out.ops;
    CHECK_EQ_STR(op[0].op, "SUBSCRIBE");
    CHECK_EQ_STR(op[0].target, "news");
    CHECK_EQ_INT(op[0].items, 2);
    CHECK_EQ_INT(op[0].response_bytes, 33 + 35);
    CHECK_EQ_STR(op[1].op, "PING");
    CHECK_EQ_INT(op[1].status, OP_STATUS_OK);
    CHECK_EQ_INT(op[1].response_bytes, 20);
    CHECK_EQ_STR(op[2].op, "UNSUBSCRIBE");
    CHECK_EQ_INT(op[2].items, 2);
    CHECK_EQ_STR(op[3].op, "LRANGE");
    CHECK_EQ_INT(op[3].items, 2);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_PUSH_MESSAGES), 3);
}

static void decoder_resp3_push_attributes_maps(void)
{
    struct harness h;
    harness_open(&h);
    char b[256];
    send(&h, cmd(b, "HELLO", "3", NULL));
    send(&h, cmd(b, "HGETALL", "h", NULL));
    send(&h, cmd(b, "SUBSCRIBE", "c", NULL));
    answer(&h, "%1\r\n$6\r\nserver\r\n$5\r\nredis\r\n");
    answer(&h, ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n");      /* a push: no reply */
    answer(&h, "|1\r\n+ttl\r\n:5\r\n%2\r\n+a\r\n+1\r\n+b\r\n+2\r\n"); /* attribute, then map */
    answer(&h, ">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n");
    answer(&h, ">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 3);
    if (h.out.count != 3)
        return;
    const struct op_record *op = h.out.ops;
    CHECK_EQ_STR(op[0].op, "HELLO");
    CHECK_EQ_INT(op[0].op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_STR(op[1].op, "HGETALL");
    CHECK_EQ_INT(op[1].items, 2);
    CHECK_EQ_INT(op[1].response_bytes, 14 + 20);    /* the attribute counts */
    CHECK_EQ_STR(op[2].op, "SUBSCRIBE");
    CHECK_EQ_INT(op[2].items, 1);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_PUSH_MESSAGES), 2);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_ATTRIBUTES), 1);
}

static void decoder_monitor(void)
{
    struct harness h;
    harness_open(&h);
    char b[128];
    send(&h, cmd(b, "MONITOR", NULL));
    answer(&h, "+OK\r\n+1700000000.123456 [0 127.0.0.1:5000] \"get\" \"k\"\r\n"
               "+1700000000.223456 [0 127.0.0.1:5000] \"set\" \"k\" \"v\"\r\n");
    send(&h, cmd(b, "QUIT", NULL));
    answer(&h, "+1700000001.000000 [0 lua] \"ping\"\r\n+OK\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_STR(h.out.ops[0].op, "MONITOR");
    CHECK_EQ_INT(h.out.ops[0].op_class, OP_CLASS_READ);
    CHECK_EQ_INT(h.out.ops[0].response_bytes, 5);
    CHECK_EQ_STR(h.out.ops[1].op, "QUIT");
    CHECK_EQ_INT(h.out.ops[1].status, OP_STATUS_OK);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_MONITOR_LINES), 3);
}

/* Redis before 6 refuses a wrong password with a plain ERR: still a
 * refused login (issue 14). */
static void decoder_auth_err_reply(void)
{
    struct harness h;
    harness_open(&h);
    char b[256];
    send(&h, cmd(b, "AUTH", "guess", NULL));
    answer(&h, "-ERR invalid password\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_INT(h.out.ops[0].status, OP_STATUS_ERROR);
    CHECK_EQ_INT(h.out.ops[0].auth_result, OP_AUTH_RESULT_FAILURE);
}

static void decoder_auth(void)
{
    struct harness h;
    harness_open(&h);
    char b[256];
    send(&h, cmd(b, "GET", "k", NULL));
    send(&h, cmd(b, "AUTH", "hunter2", NULL));
    send(&h, cmd(b, "AUTH", "alice", "s3cr3t", NULL));
    send(&h, cmd(b, "GET", "k", NULL));
    answer(&h, "-NOAUTH Authentication required.\r\n"
               "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
               "+OK\r\n$1\r\nv\r\n");
    send(&h, cmd(b, "CONFIG", "GET", "*", NULL));
    answer(&h, "-NOPERM User alice has no permissions to run the 'config|get' command\r\n");
    send(&h, cmd(b, "HELLO", "3", "AUTH", "bob", "pw", "SETNAME", "worker-1", NULL));
    answer(&h, "%0\r\n");
    send(&h, cmd(b, "PING", NULL));
    answer(&h, "+PONG\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 7);
    if (h.out.count != 7)
        return;
    const struct op_record *op = h.out.ops;
    CHECK_EQ_INT(op[0].status, OP_STATUS_DENIED);
    CHECK_EQ_STR(op[0].error_type, "NOAUTH");
    CHECK_EQ_INT(op[0].authenticated, OP_AUTH_NO);
    CHECK_EQ_STR(op[1].op, "AUTH");
    CHECK_EQ_STR(op[1].target, "");
    CHECK_EQ_STR(op[1].auth_scheme, "password");
    CHECK_EQ_INT(op[1].status, OP_STATUS_DENIED);
    CHECK_EQ_STR(op[1].error_type, "WRONGPASS");
    CHECK_EQ_INT(op[1].authenticated, OP_AUTH_NO);
    CHECK_EQ_INT(op[1].flags, OP_FLAG_AUTH_HEADER);
    CHECK_EQ_STR(op[2].target, "alice");
    CHECK_EQ_STR(op[2].auth_scheme, "acl");
    CHECK_EQ_INT(op[2].status, OP_STATUS_OK);
    CHECK_EQ_INT(op[2].authenticated, OP_AUTH_YES);
    CHECK_EQ_INT(op[3].authenticated, OP_AUTH_YES);
    CHECK_EQ_INT(op[3].items, 1);
    CHECK_EQ_INT(op[4].status, OP_STATUS_DENIED);
    CHECK_EQ_STR(op[4].error_type, "NOPERM");
    CHECK_EQ_STR(op[5].op, "HELLO");
    CHECK_EQ_INT(op[5].op_class, OP_CLASS_AUTH);
    CHECK_EQ_STR(op[5].target, "bob");
    CHECK_EQ_STR(op[5].client_id, "worker-1");
    CHECK_EQ_STR(op[6].client_id, "worker-1");
    /* the login outcome, on the logins only (issue 14) */
    CHECK_EQ_INT(op[0].auth_result, OP_AUTH_RESULT_NONE);
    CHECK_EQ_INT(op[1].auth_result, OP_AUTH_RESULT_FAILURE);
    CHECK_EQ_INT(op[2].auth_result, OP_AUTH_RESULT_SUCCESS);
    CHECK_EQ_INT(op[3].auth_result, OP_AUTH_RESULT_NONE);
    CHECK_EQ_INT(op[4].auth_result, OP_AUTH_RESULT_NONE);
    CHECK_EQ_INT(op[5].auth_result, OP_AUTH_RESULT_SUCCESS);
    CHECK_EQ_INT(op[6].auth_result, OP_AUTH_RESULT_NONE);
    for (size_t i = 0; i < h.out.count; i++) {
        CHECK(memmem(&op[i], sizeof(op[i]), "hunter2", 7) == NULL);
        CHECK(memmem(&op[i], sizeof(op[i]), "s3cr3t", 6) == NULL);
        CHECK(memmem(&op[i], sizeof(op[i]), "config|get", 10) == NULL);
    }

    /* midstream: unknown until the server says */
    harness_open_with(&h, 1024, true);
    send(&h, cmd(b, "GET", "k", NULL));
    send(&h, cmd(b, "GET", "k", NULL));
    answer(&h, "$1\r\nv\r\n-NOAUTH Authentication required.\r\n");
    send(&h, cmd(b, "PING", NULL));
    answer(&h, "+PONG\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 3);
    CHECK_EQ_INT(h.out.ops[0].authenticated, OP_AUTH_UNKNOWN);
    CHECK_EQ_INT(h.out.ops[1].authenticated, OP_AUTH_NO);
    CHECK_EQ_INT(h.out.ops[2].authenticated, OP_AUTH_NO);

    /* redis-py names itself with CLIENT SETINFO */
    harness_open(&h);
    send(&h, cmd(b, "CLIENT", "SETINFO", "LIB-NAME", "redis-py", NULL));
    answer(&h, "+OK\r\n");        /* its op leaves before LIB-VER is sent */
    send(&h, cmd(b, "CLIENT", "SETINFO", "LIB-VER", "5.0.1", NULL));
    send(&h, cmd(b, "GET", "k", NULL));
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 3);
    CHECK_EQ_STR(h.out.ops[0].client_id, "redis-py");
    CHECK_EQ_STR(h.out.ops[2].client_id, "redis-py 5.0.1");
    CHECK_EQ_INT(h.out.ops[2].flags, OP_FLAG_NO_RESPONSE);
}

static void decoder_scan_chain(void)
{
    struct harness h;
    harness_open(&h);
    char b[256];
    send(&h, cmd(b, "SCAN", "0", "MATCH", "user:*", "COUNT", "100", NULL));
    answer(&h, "*2\r\n$4\r\n1536\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
    send(&h, cmd(b, "SCAN", "1536", "MATCH", "user:*", "COUNT", "100", NULL));
    answer(&h, "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nd\r\n");
    send(&h, cmd(b, "HSCAN", "h", "0", NULL));
    answer(&h, "*2\r\n$1\r\n0\r\n*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 3);
    if (h.out.count != 3)
        return;
    const struct op_record *op = h.out.ops;
    char hash[OP_CONT_MAX];
    op_continuation_hash("1536", 4, hash);
    CHECK_EQ_STR(op[0].target, "user:*");
    CHECK_EQ_INT(op[0].page_size, 100);
    CHECK_EQ_INT(op[0].items, 3);
    CHECK_EQ_STR(op[0].continuation, "");
    CHECK_EQ_STR(op[0].cursor_out, hash);
    CHECK_EQ_INT(op[0].flags, 0);
    CHECK_EQ_STR(op[1].continuation, hash);
    CHECK_EQ_INT(op[1].flags, OP_FLAG_CONTINUES);
    CHECK_EQ_STR(op[1].cursor_out, "");
    CHECK_EQ_INT(op[1].items, 1);
    CHECK_EQ_STR(op[2].op, "HSCAN");
    CHECK_EQ_STR(op[2].target, "h");
    CHECK_EQ_INT(op[2].op_class, OP_CLASS_READ);
    CHECK_EQ_INT(op[2].items, 2);
}

/* A SYNC reply around rdb_file: the $<len> form or the diskless one. */
static size_t sync_reply(char *out, bool diskless)
{
    static const char mark[] = "0123456789abcdef0123456789abcdef01234567";
    size_t n;
    if (diskless)
        n = (size_t)sprintf(out, "+FULLRESYNC 8de1 0\r\n\n$EOF:%s\r\n", mark);
    else
        n = (size_t)sprintf(out, "+FULLRESYNC 8de1 0\r\n$%zu\r\n", sizeof(rdb_file));
    memcpy(out + n, rdb_file, sizeof(rdb_file));
    n += sizeof(rdb_file);
    if (diskless) {
        memcpy(out + n, mark, 40);
        n += 40;
    }
    n += (size_t)sprintf(out + n, "*1\r\n$4\r\nPING\r\n");  /* the replication stream */
    return n;
}

static void decoder_sync_rdb(void)
{
    char b[128];
    static char reply[512];
    for (int diskless = 0; diskless < 2; diskless++) {
        size_t n = sync_reply(reply, diskless != 0);
        for (size_t s = 0; s <= n; s++) {
            struct harness h;
            harness_open(&h);
            send(&h, cmd(b, "REPLCONF", "rdb-only", "1", NULL));
            send(&h, cmd(b, "PSYNC", "?", "-1", NULL));
            feed(&h, DIR_TO_CLIENT, "+OK\r\n", 5, 150);
            feed(&h, DIR_TO_CLIENT, reply, s, 200);
            feed(&h, DIR_TO_CLIENT, reply + s, n - s, 300);
            send(&h, cmd(b, "REPLCONF", "ACK", "0", NULL));
            harness_close(&h);
            CHECK_EQ_INT(h.out.count, 3);
            if (h.out.count != 3)
                break;
            const struct op_record *op = h.out.ops;
            CHECK_EQ_STR(op[0].op, "REPLCONF");
            CHECK_EQ_INT(op[0].op_class, OP_CLASS_ADMIN);
            CHECK_EQ_STR(op[1].op, "PSYNC");
            CHECK_EQ_INT(op[1].op_class, OP_CLASS_READ);
            CHECK_EQ_INT(op[1].items, 3);
            CHECK_EQ_INT(op[1].status, OP_STATUS_OK);
            CHECK_EQ_INT(op[1].flags, 0);
            uint64_t header = diskless ? 20 + 1 + 47 : 20 + 6;
            CHECK_EQ_INT(op[1].response_bytes,
                         header + sizeof(rdb_file) + (diskless ? 40 : 0));
            /* the RDB ends 14 bytes before the stream's PING */
            CHECK_EQ_INT(op[1].ts_response_us, s >= n - 14 ? 200 : 300);
            CHECK_EQ_INT(op[2].status, OP_STATUS_UNKNOWN);   /* ACK: no reply */
            CHECK_EQ_INT(op[2].flags, 0);
            CHECK_EQ_INT(counter(&h, REDIS_COUNTER_REPLICATION_COMMANDS), 1);
            CHECK_EQ_INT(counter(&h, REDIS_COUNTER_RDB_BYTES),
                         sizeof(rdb_file) + (diskless ? 40 : 0));
            CHECK_EQ_INT(counter(&h, REDIS_COUNTER_MALFORMED), 0);
        }
    }
    /* old SYNC: no +FULLRESYNC, keep-alive newlines first; cut by the close */
    struct harness h;
    harness_open(&h);
    send(&h, cmd(b, "SYNC", NULL));
    static const char old[] = "\n\n$200\r\nREDIS0009\xfe\x00\xfb\x05\x00";
    feed(&h, DIR_TO_CLIENT, old, sizeof(old) - 1, 200);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].op, "SYNC");
    CHECK_EQ_INT(h.out.ops[0].items, 5);
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(h.out.ops[0].response_bytes, 2 + 6 + 14);
}

static void decoder_gaps_resync(void)
{
    struct harness h;
    harness_open(&h);
    char b[256];
    /* a gap inside a bulk: the framing holds, the op is partial */
    send(&h, cmd(b, "GET", "big", NULL));
    answer(&h, "$100\r\n0123456789");
    redis_decoder.gap(h.state, &h.ctx, DIR_TO_CLIENT, 80);
    answer(&h, "0123456789\r\n");
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(h.out.ops[0].items, 1);
    CHECK_EQ_INT(h.out.ops[0].response_bytes, 108);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_RESYNC), 0);
    /* a gap across replies: the waiting requests leave partial, the bytes
     * up to the next plausible reply are skipped */
    send(&h, cmd(b, "GET", "a", NULL));
    send(&h, cmd(b, "GET", "b", NULL));
    answer(&h, "*2\r\n$1\r\nx");
    redis_decoder.gap(h.state, &h.ctx, DIR_TO_CLIENT, 0);
    answer(&h, "yz\r\n$5\r\nhello\r\n");           /* tail of something: skipped */
    CHECK_EQ_INT(h.out.count, 3);
    CHECK_EQ_INT(h.out.ops[1].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(h.out.ops[2].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_RESYNC), 1);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_UNPAIRED_REPLIES), 1);   /* "$5 hello" */
    send(&h, cmd(b, "PING", NULL));
    answer(&h, "+PONG\r\n");
    CHECK_EQ_INT(h.out.count, 4);
    CHECK_EQ_INT(h.out.ops[3].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.out.ops[3].flags, 0);
    /* a request gap: the cut request is partial, the next one found */
    send(&h, "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva");
    redis_decoder.gap(h.state, &h.ctx, DIR_TO_SERVER, 0);
    send(&h, "lue\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
    answer(&h, "+OK\r\n$5\r\nvalue\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 6);
    if (h.out.count != 6)
        return;
    CHECK_EQ_STR(h.out.ops[4].op, "SET");
    CHECK_EQ_STR(h.out.ops[4].target, "key");
    CHECK_EQ_INT(h.out.ops[4].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_STR(h.out.ops[5].op, "GET");
    CHECK_EQ_INT(h.out.ops[5].flags, 0);
    CHECK_EQ_INT(h.out.ops[5].items, 1);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_RESYNC), 2);
}

static void decoder_reply_first_midstream(void)
{
    struct harness h;
    harness_open_with(&h, 1024, true);
    char b[128];
    /* the capture starts inside a reply and inside a request */
    answer(&h, "lo world\r\n:12\r\n");
    send(&h, "y\r\n*1\r\n$4\r\nPING\r\n");
    answer(&h, "+PONG\r\n");
    send(&h, cmd(b, "DBSIZE", NULL));
    answer(&h, ":7\r\n");
    harness_close(&h);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_UNPAIRED_REPLIES), 1);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_RESYNC), 0);
    CHECK_EQ_INT(h.out.count, 2);
    if (h.out.count != 2)
        return;
    CHECK_EQ_STR(h.out.ops[0].op, "PING");
    CHECK_EQ_INT(h.out.ops[0].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.out.ops[0].authenticated, OP_AUTH_UNKNOWN);
    CHECK_EQ_INT(h.out.ops[1].total, 7);

    /* seen from the start, a reply with no request is counted, no op */
    harness_open(&h);
    answer(&h, "+OK\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 0);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_UNPAIRED_REPLIES), 1);
}

static void decoder_pending_overflow(void)
{
    struct harness h;
    harness_open_with(&h, 4, false);
    char b[128];
    for (int i = 0; i < 6; i++) {
        char key[8];
        sprintf(key, "k%d", i);
        send(&h, cmd(b, "GET", key, NULL));
    }
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_PENDING_OVERFLOW), 2);
    CHECK_EQ_INT(redis_pending_count(h.state), 4);
    CHECK(redis_pending_capacity(h.state) <= 4);
    for (int i = 0; i < 6; i++)
        answer(&h, "$1\r\nv\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 6);
    CHECK_EQ_STR(h.out.ops[0].target, "k0");
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_NO_RESPONSE);
    CHECK_EQ_STR(h.out.ops[2].target, "k2");
    CHECK_EQ_INT(h.out.ops[2].flags, 0);        /* paired with its own reply */
    CHECK_EQ_INT(h.out.ops[2].response_bytes, 7);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_UNPAIRED_REPLIES), 0);
}

static void decoder_http_probe(void)
{
    struct harness h;
    harness_open(&h);
    send(&h, "GET / HTTP/1.1\r\nHost: 10.0.0.5:6379\r\nUser-Agent: Mozilla/5.0 (compatible; "
             "CensysInspect/1.1; +https://about.censys.io/)\r\n\r\n");
    answer(&h, "-ERR wrong number of arguments for 'get' command\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].op, "HTTP");
    CHECK_EQ_INT(h.out.ops[0].op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_PROBE);
    CHECK_EQ_INT(h.out.ops[0].status, OP_STATUS_ERROR);
    /* the User-Agent names the tool, capped at 63 bytes */
    CHECK_EQ_STR(h.out.ops[0].client_id,
                 "Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.cens");
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_PROBES), 1);

    /* curl's request as recorded in pcaps/redis_nmap.pcap; Redis closes */
    harness_open(&h);
    send(&h, "GET / HTTP/1.1\r\nHost: 127.0.0.1:6379\r\nUser-Agent: curl/7.88.1\r\n"
             "Accept: */*\r\n\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].client_id, "curl/7.88.1");
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_PROBE | OP_FLAG_NO_RESPONSE);

    /* no User-Agent */
    harness_open(&h);
    send(&h, "HEAD / HTTP/1.0\r\n\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].client_id, "HTTP client");
}

/* zgrab2's redis module: PING, INFO, NONEXISTENT, QUIT; the made-up
 * command is the probe, named after the tool. */
static void decoder_zgrab_probe(void)
{
    struct harness h;
    harness_open(&h);
    send(&h, "*1\r\n$4\r\nPING\r\n");
    answer(&h, "+PONG\r\n");
    send(&h, "*1\r\n$4\r\nINFO\r\n");
    answer(&h, "$10\r\n# Server\r\n\r\n");
    send(&h, "*1\r\n$11\r\nNONEXISTENT\r\n");
    answer(&h, "-ERR unknown command 'NONEXISTENT', with args beginning with: \r\n");
    send(&h, "*1\r\n$4\r\nQUIT\r\n");
    answer(&h, "+OK\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 4);
    CHECK_EQ_INT(h.out.ops[1].flags & OP_FLAG_PROBE, 0);
    CHECK_EQ_STR(h.out.ops[2].op, "NONEXISTENT");
    CHECK_EQ_INT(h.out.ops[2].flags & OP_FLAG_PROBE, OP_FLAG_PROBE);
    CHECK_EQ_STR(h.out.ops[2].client_id, "zgrab2 redis module");
    CHECK_EQ_STR(h.out.ops[2].error_type, "ERR unknown command");
    CHECK_EQ_INT(h.out.ops[3].flags & OP_FLAG_PROBE, 0);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_PROBES), 1);
}

/* nmap's redis-info: INFO, CONFIG GET bind, PUBSUB CHANNELS, ... in that
 * order from the connection's start: the third is the probe. The same
 * commands after a client library named itself, or spelled otherwise, are not. */
static void redis_info_session(struct harness *h, const char *first)
{
    harness_open(h);
    if (first)
        send(h, first), answer(h, "+OK\r\n");
    send(h, "*1\r\n$4\r\nINFO\r\n");
    answer(h, "$10\r\n# Server\r\n\r\n");
    send(h, "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nbind\r\n");
    answer(h, "*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n");
    send(h, "*2\r\n$6\r\nPUBSUB\r\n$8\r\nCHANNELS\r\n");
    answer(h, "*0\r\n");
    send(h, "*2\r\n$6\r\nCLIENT\r\n$4\r\nLIST\r\n");
    answer(h, "$3\r\nid=\r\n");
    harness_close(h);
}

static void decoder_nmap_redis_info(void)
{
    struct harness h;
    redis_info_session(&h, NULL);
    CHECK_EQ_INT(h.out.count, 4);
    CHECK_EQ_INT(h.out.ops[1].flags & OP_FLAG_PROBE, 0);
    CHECK_EQ_STR(h.out.ops[2].op, "PUBSUB CHANNELS");
    CHECK_EQ_INT(h.out.ops[2].flags & OP_FLAG_PROBE, OP_FLAG_PROBE);
    CHECK_EQ_STR(h.out.ops[2].client_id, "Nmap NSE redis-info");
    CHECK_EQ_INT(h.out.ops[3].flags & OP_FLAG_PROBE, 0);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_PROBES), 1);
    /* with AUTH first (the script's credentials): still the shape */
    redis_info_session(&h, "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n");
    CHECK_EQ_INT(h.out.count, 5);
    CHECK_EQ_INT(h.out.ops[3].flags & OP_FLAG_PROBE, OP_FLAG_PROBE);
    /* a client library names itself first: not nmap */
    redis_info_session(&h, "*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$8\r\nredis-py\r\n");
    CHECK_EQ_INT(h.out.count, 5);
    for (size_t i = 0; i < h.out.count; i++)
        CHECK_EQ_INT(h.out.ops[i].flags & OP_FLAG_PROBE, 0);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_PROBES), 0);
}

/* Banner grabs: a lower-case inline first command, and Nmap's service probe
 * "*1 $4 info" when nothing follows it (ioredis sends the same bytes as its
 * ready check, then more). */
static void decoder_banner_probes(void)
{
    char b[256];
    struct harness h;
    harness_open(&h);
    send(&h, "info\r\n");
    answer(&h, "$10\r\n# Server\r\n\r\n");
    send(&h, "ping\r\n");
    answer(&h, "+PONG\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_STR(h.out.ops[0].op, "INFO");
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_PROBE);
    CHECK_EQ_STR(h.out.ops[0].client_id, "Inline banner grab (nc, telnet or a scanner)");
    CHECK_EQ_INT(h.out.ops[1].flags, 0);       /* only the opening command */
    CHECK_EQ_STR(h.out.ops[1].client_id, "");
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_PROBES), 1);

    /* upper case inline (redis-cli --rdb sends "SYNC"), or midstream: no */
    harness_open(&h);
    send(&h, "PING\r\n");
    answer(&h, "+PONG\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_INT(h.out.ops[0].flags, 0);
    harness_open_with(&h, 1024, true);
    send(&h, "ping\r\n");
    answer(&h, "+PONG\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_INT(h.out.ops[0].flags, 0); /* the core adds midstream; no probe */

    /* Nmap -sV: "*1 $4 info", the reply, the client closes */
    harness_open(&h);
    send(&h, cmd(b, "info", NULL));
    answer(&h, "$10\r\n# Server\r\n\r\n");
    CHECK_EQ_INT(h.out.count, 0);               /* held: what follows decides */
    redis_decoder.end(h.state, &h.ctx, DIR_TO_SERVER);
    CHECK_EQ_INT(h.out.count, 1);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].op, "INFO");
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_PROBE);
    CHECK_EQ_STR(h.out.ops[0].client_id, "Nmap service probe");
    CHECK_EQ_INT(h.out.ops[0].response_bytes, 17);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_PROBES), 1);

    /* ioredis: the same "info", then its commands */
    harness_open(&h);
    send(&h, cmd(b, "info", NULL));
    answer(&h, "$10\r\n# Server\r\n\r\n");
    send(&h, cmd(b, "hgetall", "customer:0001", NULL));
    answer(&h, "*0\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_STR(h.out.ops[0].op, "INFO");
    CHECK_EQ_INT(h.out.ops[0].flags, 0);
    CHECK_EQ_STR(h.out.ops[1].op, "HGETALL");
    CHECK_EQ_INT(h.out.ops[1].flags, 0);
    CHECK_EQ_INT(counter(&h, REDIS_COUNTER_PROBES), 0);

    /* "info" never answered, the flow gone: a probe, no response */
    harness_open(&h);
    send(&h, cmd(b, "info", NULL));
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_PROBE | OP_FLAG_NO_RESPONSE);
}

/* Per-flow memory: the state as opened, one waiting request, and 1024
 * pipelined requests (the ring doubles from 4 up to pending_max). */
static void decoder_memory(void)
{
    CHECK_EQ_INT(redis_flow_size(), 1352);
    CHECK_EQ_INT(redis_pending_size(), 128);
    char b[256];
    char key[16];
    struct harness h;
    harness_open(&h);
    CHECK_EQ_INT(redis_pending_capacity(h.state), 0);
    for (int i = 0; i < 1024; i++) {
        snprintf(key, sizeof(key), "k%04d", i);
        send(&h, cmd(b, "GET", key, NULL));
    }
    CHECK_EQ_INT(redis_pending_count(h.state), 1024);
    CHECK_EQ_INT(redis_pending_capacity(h.state), 1024);
    CHECK(redis_pending_capacity(h.state) * redis_pending_size() <= 128 * 1024);
    for (int i = 0; i < 1024; i++)
        answer(&h, "$1\r\nv\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count + h.out.dropped, 1024);
    for (size_t i = 0; i < h.out.count; i++) {
        snprintf(key, sizeof(key), "k%04zu", i);
        CHECK_EQ_STR(h.out.ops[i].target, key);
        CHECK_EQ_STR(h.out.ops[i].op, "GET");
        CHECK_EQ_INT(h.out.ops[i].items, 1);
        CHECK_EQ_INT(h.out.ops[i].request_bytes, 24);
    }

    /* a waiting target keeps 63 bytes; an unknown command's name shares them */
    char longkey[101];
    memset(longkey, 'x', 100);
    longkey[100] = '\0';
    harness_open(&h);
    send(&h, cmd(b, "GET", longkey, NULL));
    send(&h, cmd(b, "CONFIG", "FROBNICATE", "maxmemory", NULL));
    send(&h, cmd(b, "NOSUCHCOMMAND", NULL));
    answer(&h, "$-1\r\n-ERR unknown subcommand\r\n-ERR unknown command\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 3);
    CHECK_EQ_INT(strlen(h.out.ops[0].target), 63);
    CHECK(h.out.ops[0].flags & OP_FLAG_TRUNCATED);
    CHECK_EQ_STR(h.out.ops[1].op, "CONFIG FROBNICATE");
    CHECK_EQ_STR(h.out.ops[2].op, "NOSUCHCOMMAND");
    CHECK_EQ_STR(h.out.ops[2].target, "");
}

static enum probe_result probe(const char *c, const char *s)
{
    return redis_decoder.probe((const uint8_t *)c, strlen(c), (const uint8_t *)s, strlen(s));
}

static void decoder_probe(void)
{
    CHECK_EQ_INT(probe("*1\r\n$4\r\nPING\r\n", ""), PROBE_YES);
    CHECK_EQ_INT(probe("*1\r\n$4", ""), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe("*1\r\n", ""), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe("info\r\n", ""), PROBE_YES);
    CHECK_EQ_INT(probe("PING\r\n", ""), PROBE_YES);
    CHECK_EQ_INT(probe("PIN", ""), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe("GET / HTTP/1.1\r\n", ""), PROBE_NO);
    CHECK_EQ_INT(probe("get foo\r\n", ""), PROBE_NO);       /* memcached says that too */
    CHECK_EQ_INT(probe("\x16\x03\x01\x00\xa5", ""), PROBE_NO);
    CHECK_EQ_INT(probe("", ""), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe("", "+PONG\r\n"), PROBE_YES);
    CHECK_EQ_INT(probe("", "-NOAUTH Authentication required.\r\n"), PROBE_YES);
    CHECK_EQ_INT(probe("", "-ERR unknown command 'x'"), PROBE_YES);
    CHECK_EQ_INT(probe("", "-NO"), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe("", "HTTP/1.1 200 OK\r\n"), PROBE_NO);
}

static void decoder_description(void)
{
    const struct decoder *d = &redis_decoder;
    CHECK_EQ_STR(d->name, "redis");
    CHECK_EQ_INT(d->app, APP_REDIS);
    CHECK_EQ_INT(d->port_count, 1);
    CHECK_EQ_INT(d->ports[0], 6379);
    CHECK(d->ndpi_names != NULL && strcmp(d->ndpi_names[0], "Redis") == 0 &&
          d->ndpi_names[1] == NULL);
    CHECK_EQ_STR(redis_settings.group, "redis");
    CHECK_EQ_INT(redis_settings.key_count, 2);
    struct redis_params p;
    memset(&p, 0xff, sizeof(p));
    config_key_defaults(redis_settings.keys, redis_settings.key_count, &p);
    CHECK_EQ_INT(p.pending_max, 1024);
    CHECK_EQ_INT(p.line_max, 64 * 1024);
    CHECK_EQ_STR(redis_counters.group, "redis");
    CHECK_EQ_INT(redis_counters.count, REDIS_COUNTER_COUNT);
    CHECK_EQ_STR(redis_counters.names[REDIS_COUNTER_UNPAIRED_REPLIES], "unpaired_replies");
    CHECK(decoder_find("redis") == d);
}

int main(void)
{
    check_binary = "test_redis";
    RUN(parse_replies_whole);
    RUN(parse_replies_every_split);
    RUN(parse_requests_and_inline);
    RUN(parse_malformed);
    RUN(parse_huge_counted_not_held);
    RUN(parse_nesting_capped);
    RUN(commands_sorted_and_found);
    RUN(rdb_header_every_split);
    RUN(decoder_pipeline_every_split);
    RUN(decoder_inline_and_containers);
    RUN(decoder_client_reply_modes);
    RUN(decoder_subscribe_mode);
    RUN(decoder_resp3_push_attributes_maps);
    RUN(decoder_monitor);
    RUN(decoder_auth);
    RUN(decoder_auth_err_reply);
    RUN(decoder_scan_chain);
    RUN(decoder_sync_rdb);
    RUN(decoder_gaps_resync);
    RUN(decoder_reply_first_midstream);
    RUN(decoder_pending_overflow);
    RUN(decoder_http_probe);
    RUN(decoder_banner_probes);
    RUN(decoder_zgrab_probe);
    RUN(decoder_nmap_redis_info);
    RUN(decoder_memory);
    RUN(decoder_probe);
    RUN(decoder_description);
    CHECK_EXIT();
}
