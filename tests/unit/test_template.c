/* test_template.c - the template decoder: its pure parser, then the decoder
 * driven through a hand-built decoder_ctx (no registry, no network). */
#include <stdlib.h>
#include <string.h>

#include "../../decoders/template/template.h"
#include "check.h"

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

/* ---- the parser ---- */

static void parse_line_complete(void)
{
    struct template_line l;
    CHECK_EQ_INT(template_parse_line(S("GET users\r\n"), 64, &l), 11);
    CHECK_EQ_INT(l.verb_len, 3);
    CHECK(memcmp(l.verb, "GET", 3) == 0);
    CHECK_EQ_INT(l.arg_len, 5);
    CHECK(memcmp(l.arg, "users", 5) == 0);
    CHECK_EQ_INT(l.line_len, 11);

    CHECK_EQ_INT(template_parse_line(S("PING\n"), 64, &l), 5);
    CHECK_EQ_INT(l.verb_len, 4);
    CHECK_EQ_INT(l.arg_len, 0);

    /* blanks around and between the words; the argument keeps inner ones */
    const char *line = " \tset \t k  v \t\r\n";
    CHECK_EQ_INT(template_parse_line((const uint8_t *)line, strlen(line), 64, &l), 16);
    CHECK_EQ_INT(l.verb_len, 3);
    CHECK(memcmp(l.verb, "set", 3) == 0);
    CHECK_EQ_INT(l.arg_len, 4);
    CHECK(memcmp(l.arg, "k  v", 4) == 0);

    /* only the first line is consumed */
    CHECK_EQ_INT(template_parse_line(S("LIST\r\nGET a\r\n"), 64, &l), 6);
    CHECK_EQ_INT(l.verb_len, 4);

    /* a blank line is a line with no verb */
    CHECK_EQ_INT(template_parse_line(S("\r\n"), 64, &l), 2);
    CHECK_EQ_INT(l.verb_len, 0);
    CHECK_EQ_INT(l.arg_len, 0);

    /* a '\r' inside the line and bytes >= 0x80 are data */
    CHECK_EQ_INT(template_parse_line(S("GET a\rb\xc3\xa9\r\n"), 64, &l), 11);
    CHECK_EQ_INT(l.arg_len, 5);
}

static void parse_line_need_more_at_every_split(void)
{
    static const char line[] = "SET some key\r\nGET x\r\n";
    size_t first = 14;
    struct template_line l;
    for (size_t k = 0; k < first; k++)
        CHECK_EQ_INT(template_parse_line((const uint8_t *)line, k, 64, &l), TEMPLATE_NEED_MORE);
    for (size_t k = first; k <= sizeof(line) - 1; k++) {
        CHECK_EQ_INT(template_parse_line((const uint8_t *)line, k, 64, &l), (long long)first);
        CHECK_EQ_INT(l.arg_len, 8);
    }
    /* a reply too */
    static const char reply[] = "+OK 12\r\n";
    struct template_reply r;
    for (size_t k = 0; k < sizeof(reply) - 1; k++)
        CHECK_EQ_INT(template_parse_reply((const uint8_t *)reply, k, 64, &r), TEMPLATE_NEED_MORE);
    CHECK_EQ_INT(template_parse_reply(S(reply), 64, &r), 8);
    CHECK_EQ_INT(r.count, 12);
}

static void parse_line_malformed(void)
{
    struct template_line l;
    /* a forbidden control byte is malformed at once, end or not */
    CHECK_EQ_INT(template_parse_line(S("GET \x01"), 64, &l), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_line(S("GET a\0b\r\n"), 64, &l), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_line(S("\x1b[0m\n"), 64, &l), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_line(S("GET \x7f\n"), 64, &l), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_line(S("\x16\x03\x01\x02\x00"), 64, &l), TEMPLATE_MALFORMED);
    /* tab is a blank, not a control byte */
    CHECK_EQ_INT(template_parse_line(S("GET\ta\n"), 64, &l), 6);
    CHECK_EQ_INT(l.arg_len, 1);
    /* a control byte after the line end belongs to the next line */
    CHECK_EQ_INT(template_parse_line(S("GET a\n\x01"), 64, &l), 6);
}

static void parse_line_too_long(void)
{
    struct template_line l;
    /* line_max counts the whole line, end included */
    CHECK_EQ_INT(template_parse_line(S("GET 123\n"), 8, &l), 8);
    CHECK_EQ_INT(template_parse_line(S("GET 1234\n"), 8, &l), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_line(S("GET 1234"), 8, &l), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_line(S("GET 123"), 8, &l), TEMPLATE_NEED_MORE);
    CHECK_EQ_INT(template_parse_line(S("GET 12\r\n"), 8, &l), 8);
    CHECK_EQ_INT(template_parse_line(S("GET 123\r\n"), 8, &l), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_line(S("\n"), 1, &l), 1);
    CHECK_EQ_INT(template_parse_line(S("a\n"), 1, &l), TEMPLATE_MALFORMED);
}

static void parse_reply_forms(void)
{
    struct template_reply r;
    CHECK_EQ_INT(template_parse_reply(S("+OK\r\n"), 64, &r), 5);
    CHECK(r.ok);
    CHECK(!r.has_count);
    CHECK_EQ_INT(r.line_len, 5);

    CHECK_EQ_INT(template_parse_reply(S("+OK 42\n"), 64, &r), 7);
    CHECK(r.ok);
    CHECK(r.has_count);
    CHECK_EQ_INT(r.count, 42);

    CHECK_EQ_INT(template_parse_reply(S("+OK 0\r\n"), 64, &r), 7);
    CHECK(r.has_count);
    CHECK_EQ_INT(r.count, 0);

    CHECK_EQ_INT(template_parse_reply(S("-ERR no such key\r\n"), 64, &r), 18);
    CHECK(!r.ok);
    CHECK(!r.has_count);
    CHECK_EQ_INT(r.text_len, 11);
    CHECK(memcmp(r.text, "no such key", 11) == 0);

    CHECK_EQ_INT(template_parse_reply(S("-ERR\n"), 64, &r), 5);
    CHECK(!r.ok);
    CHECK_EQ_INT(r.text_len, 0);

    CHECK_EQ_INT(template_parse_reply(S("+OK 4x\r\n"), 64, &r), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_reply(S("+OK -1\r\n"), 64, &r), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_reply(S("+OK 1 2\r\n"), 64, &r), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_reply(S("+ok\r\n"), 64, &r), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_reply(S("+OK5\r\n"), 64, &r), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_reply(S("OK\r\n"), 64, &r), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_reply(S("\r\n"), 64, &r), TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_reply(S("GET a\r\n"), 64, &r), TEMPLATE_MALFORMED);
}

static void parse_reply_count_overflow(void)
{
    struct template_reply r;
    CHECK_EQ_INT(template_parse_reply(S("+OK 9223372036854775807\r\n"), 64, &r), 25);
    CHECK(r.has_count);
    CHECK(r.count == INT64_MAX);
    CHECK_EQ_INT(template_parse_reply(S("+OK 9223372036854775808\r\n"), 64, &r),
                 TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_reply(S("+OK 10000000000000000000\r\n"), 64, &r),
                 TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_reply(S("+OK 99999999999999999999999999\r\n"), 64, &r),
                 TEMPLATE_MALFORMED);
    CHECK_EQ_INT(template_parse_reply(S("+OK 00000000000000000000000001\r\n"), 64, &r), 32);
    CHECK_EQ_INT(r.count, 1);
}

/* ---- the decoder, through a hand-built context ---- */

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
    struct template_params params;
    stats_counter counters[TEMPLATE_COUNTER_COUNT];
    struct collected out;
    struct decoder_ctx ctx;
    void *state;
};

static void harness_open(struct harness *h, size_t line_max, size_t pending_max)
{
    memset(h, 0, sizeof(*h));
    h->params.line_max = line_max;
    h->params.pending_max = pending_max;
    h->ctx.now_us = 1000;
    h->ctx.params = &h->params;
    h->ctx.counters = h->counters;
    h->ctx.emit = collect;
    h->ctx.owner = &h->out;
    h->state = template_decoder.open(&h->ctx);
    CHECK(h->state != NULL);
}

static void feed(struct harness *h, enum decoder_dir dir, const char *bytes, size_t len,
                 uint64_t now_us)
{
    h->ctx.now_us = now_us;
    template_decoder.data(h->state, &h->ctx, dir, (const uint8_t *)bytes, len);
}

static void feed_str(struct harness *h, enum decoder_dir dir, const char *s, uint64_t now_us)
{
    feed(h, dir, s, strlen(s), now_us);
}

static void harness_close(struct harness *h)
{
    template_decoder.close(h->state, &h->ctx);
    h->state = NULL;
}

static uint64_t counter(const struct harness *h, enum template_counter id)
{
    return stats_counter_get(&h->counters[id]);
}

static const char pipelined_requests[] = "LIST\r\nGET users\r\nset k v\nDROP t\r\n";
static const char pipelined_replies[] = "+OK 3\r\n+OK 1\r\n-ERR denied\r\n+OK\n";

/* The four ops of the pipelined exchange, whatever the pieces were. */
static void check_pipelined(const struct harness *h, bool check_times)
{
    const struct collected *c = &h->out;
    CHECK_EQ_INT(c->count, 4);
    CHECK_EQ_INT(c->dropped, 0);
    if (c->count != 4)
        return;
    const struct op_record *op = c->ops;
    CHECK_EQ_STR(op[0].op, "LIST");
    CHECK_EQ_STR(op[0].target, "");
    CHECK_EQ_INT(op[0].op_class, OP_CLASS_ENUMERATE);
    CHECK_EQ_INT(op[0].status, OP_STATUS_OK);
    CHECK_EQ_INT(op[0].items, 3);
    CHECK_EQ_INT(op[0].request_bytes, 6);
    CHECK_EQ_INT(op[0].response_bytes, 7);

    CHECK_EQ_STR(op[1].op, "GET");
    CHECK_EQ_STR(op[1].target, "users");
    CHECK_EQ_INT(op[1].op_class, OP_CLASS_READ);
    CHECK_EQ_INT(op[1].status, OP_STATUS_OK);
    CHECK_EQ_INT(op[1].items, 1);
    CHECK_EQ_INT(op[1].request_bytes, 11);
    CHECK_EQ_INT(op[1].response_bytes, 7);

    CHECK_EQ_STR(op[2].op, "SET");
    CHECK_EQ_STR(op[2].target, "k v");
    CHECK_EQ_INT(op[2].op_class, OP_CLASS_WRITE);
    CHECK_EQ_INT(op[2].status, OP_STATUS_ERROR);
    CHECK_EQ_INT(op[2].items, -1);
    CHECK_EQ_STR(op[2].error_type, "");
    CHECK_EQ_INT(op[2].request_bytes, 8);
    CHECK_EQ_INT(op[2].response_bytes, 13);

    CHECK_EQ_STR(op[3].op, "DROP");
    CHECK_EQ_STR(op[3].target, "t");
    CHECK_EQ_INT(op[3].op_class, OP_CLASS_DESTROY);
    CHECK_EQ_INT(op[3].status, OP_STATUS_OK);
    CHECK_EQ_INT(op[3].items, -1);
    CHECK_EQ_INT(op[3].request_bytes, 8);
    CHECK_EQ_INT(op[3].response_bytes, 4);

    for (size_t i = 0; i < 4; i++) {
        CHECK_EQ_INT(op[i].app, APP_UNKNOWN);
        CHECK_EQ_INT(op[i].flags, 0);
        if (check_times) {
            CHECK_EQ_INT(op[i].ts_request_us, 100);
            CHECK_EQ_INT(op[i].ts_response_us, 200);
        }
    }
    for (unsigned id = 0; id < TEMPLATE_COUNTER_COUNT; id++)
        CHECK_EQ_INT(counter(h, id), 0);
}

static void decoder_pipelined_pairs(void)
{
    struct harness h;
    harness_open(&h, 4096, 32);
    feed(&h, DIR_TO_SERVER, pipelined_requests, sizeof(pipelined_requests) - 1, 100);
    CHECK_EQ_INT(h.out.count, 0);     /* requests wait for their replies */
    feed(&h, DIR_TO_CLIENT, pipelined_replies, sizeof(pipelined_replies) - 1, 200);
    check_pipelined(&h, true);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 4);     /* nothing left to flush */
}

/* Every split point of each direction, both directions cut independently. */
static void decoder_split_at_every_byte(void)
{
    size_t rl = sizeof(pipelined_requests) - 1, al = sizeof(pipelined_replies) - 1;
    int failures = 0;
    for (size_t s = 0; s <= rl && failures == 0; s++) {
        for (size_t t = 0; t <= al && failures == 0; t++) {
            struct harness h;
            harness_open(&h, 4096, 32);
            feed(&h, DIR_TO_SERVER, pipelined_requests, s, 100);
            feed(&h, DIR_TO_SERVER, pipelined_requests + s, rl - s, 100);
            feed(&h, DIR_TO_CLIENT, pipelined_replies, t, 200);
            feed(&h, DIR_TO_CLIENT, pipelined_replies + t, al - t, 200);
            check_pipelined(&h, true);
            failures += check_case_failed;
            harness_close(&h);
        }
    }
    /* one byte at a time, interleaved, each byte at a later time */
    struct harness h;
    harness_open(&h, 4096, 32);
    for (size_t i = 0; i < rl; i++)
        feed(&h, DIR_TO_SERVER, pipelined_requests + i, 1, 100 + i);
    for (size_t i = 0; i < al; i++)
        feed(&h, DIR_TO_CLIENT, pipelined_replies + i, 1, 200 + i);
    check_pipelined(&h, false);
    /* a request's time is its first byte's, a reply's its last byte's */
    CHECK_EQ_INT(h.out.ops[1].ts_request_us, 106);
    CHECK_EQ_INT(h.out.ops[1].ts_response_us, 213);
    harness_close(&h);
}

static void decoder_request_gap_resyncs(void)
{
    struct harness h;
    harness_open(&h, 4096, 32);
    feed_str(&h, DIR_TO_SERVER, "GET a\r\nGET b", 100);
    template_decoder.gap(h.state, &h.ctx, DIR_TO_SERVER, 4);
    /* the rest of the cut line is skipped; the next line is read */
    feed_str(&h, DIR_TO_SERVER, "junk\r\nSET c\r\n", 110);
    feed_str(&h, DIR_TO_CLIENT, "+OK 1\r\n+OK\r\n", 200);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_STR(h.out.ops[0].op, "GET");
    CHECK_EQ_STR(h.out.ops[0].target, "a");
    CHECK_EQ_INT(h.out.ops[0].flags, 0);
    CHECK_EQ_INT(h.out.ops[0].items, 1);
    CHECK_EQ_STR(h.out.ops[1].op, "SET");
    CHECK_EQ_STR(h.out.ops[1].target, "c");
    CHECK_EQ_INT(h.out.ops[1].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(h.out.ops[1].status, OP_STATUS_OK);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_RESYNC), 1);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_MALFORMED), 0);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 2);
}

static void decoder_reply_gap_resyncs(void)
{
    struct harness h;
    harness_open(&h, 4096, 32);
    feed_str(&h, DIR_TO_SERVER, "GET a\r\nGET b\r\n", 100);
    feed_str(&h, DIR_TO_CLIENT, "+O", 200);
    template_decoder.gap(h.state, &h.ctx, DIR_TO_CLIENT, 0);
    feed_str(&h, DIR_TO_CLIENT, "K 1\r\n+OK 2\r\n", 210);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].target, "a");
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(h.out.ops[0].items, 2);
    CHECK_EQ_INT(h.out.ops[0].response_bytes, 7);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_RESYNC), 1);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_STR(h.out.ops[1].target, "b");
    CHECK_EQ_INT(h.out.ops[1].flags, OP_FLAG_NO_RESPONSE);
    CHECK_EQ_INT(h.out.ops[1].status, OP_STATUS_UNKNOWN);

    /* a reply gap with nothing waiting flags the next reply's op */
    harness_open(&h, 4096, 32);
    template_decoder.gap(h.state, &h.ctx, DIR_TO_CLIENT, 10);
    feed_str(&h, DIR_TO_CLIENT, "x\r\n", 200);
    feed_str(&h, DIR_TO_SERVER, "PING\r\n", 210);
    feed_str(&h, DIR_TO_CLIENT, "+OK\r\n", 220);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].op, "PING");
    CHECK_EQ_INT(h.out.ops[0].op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_RESYNC), 1);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_UNPAIRED), 0);
    harness_close(&h);
}

static void decoder_unpaired_reply(void)
{
    struct harness h;
    harness_open(&h, 4096, 32);
    feed_str(&h, DIR_TO_CLIENT, "+OK 7\r\n", 300);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].op, "reply");
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_UNPAIRED);
    CHECK_EQ_INT(h.out.ops[0].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.out.ops[0].items, 7);
    CHECK_EQ_INT(h.out.ops[0].op_class, OP_CLASS_UNKNOWN);
    CHECK_EQ_INT(h.out.ops[0].request_bytes, 0);
    CHECK_EQ_INT(h.out.ops[0].response_bytes, 7);
    CHECK_EQ_INT(h.out.ops[0].ts_request_us, 300);
    CHECK_EQ_INT(h.out.ops[0].ts_response_us, 300);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_UNPAIRED), 1);
    /* afterwards, pairing goes on as usual */
    feed_str(&h, DIR_TO_SERVER, "GET a\r\n", 310);
    feed_str(&h, DIR_TO_CLIENT, "-ERR nope\r\n", 320);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_STR(h.out.ops[1].op, "GET");
    CHECK_EQ_INT(h.out.ops[1].flags, 0);
    CHECK_EQ_INT(h.out.ops[1].status, OP_STATUS_ERROR);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_UNPAIRED), 1);
    harness_close(&h);
}

static void decoder_pending_overflow(void)
{
    struct harness h;
    harness_open(&h, 4096, 2);
    feed_str(&h, DIR_TO_SERVER, "GET a\nGET b\nGET c\n", 100);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].target, "a");
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_NO_RESPONSE);
    CHECK_EQ_INT(h.out.ops[0].status, OP_STATUS_UNKNOWN);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_PENDING_OVERFLOW), 1);
    feed_str(&h, DIR_TO_CLIENT, "+OK 1\n+OK 2\n", 200);
    CHECK_EQ_INT(h.out.count, 3);
    CHECK_EQ_STR(h.out.ops[1].target, "b");
    CHECK_EQ_INT(h.out.ops[1].items, 1);
    CHECK_EQ_STR(h.out.ops[2].target, "c");
    CHECK_EQ_INT(h.out.ops[2].items, 2);
    CHECK_EQ_INT(h.out.ops[2].flags, 0);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 3);

    /* the ring grows (4 -> 8 -> ... -> pending_max) and keeps its order */
    harness_open(&h, 4096, 32);
    char line[32];
    for (int i = 0; i < 40; i++) {
        snprintf(line, sizeof(line), "GET k%d\r\n", i);
        feed_str(&h, DIR_TO_SERVER, line, 100);
    }
    CHECK_EQ_INT(h.out.count, 8);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_PENDING_OVERFLOW), 8);
    CHECK_EQ_STR(h.out.ops[7].target, "k7");
    for (int i = 0; i < 32; i++)
        feed_str(&h, DIR_TO_CLIENT, "+OK\r\n", 200);
    CHECK_EQ_INT(h.out.count, 40);
    int in_order = 1;
    for (int i = 0; i < 40; i++) {
        snprintf(line, sizeof(line), "k%d", i);
        in_order &= strcmp(h.out.ops[i].target, line) == 0;
    }
    CHECK(in_order);
    CHECK_EQ_INT(h.out.ops[39].flags, 0);
    harness_close(&h);
}

/* True when the secret appears anywhere in the op's bytes. */
static bool op_holds(const struct op_record *op, const char *secret)
{
    return memmem(op, sizeof(*op), secret, strlen(secret)) != NULL;
}

static void decoder_auth_never_leaks(void)
{
    static const char req[] = "auth s3cr3t-hunter2\r\nGET a\r\n";
    static const char rep[] = "+OK\r\n-ERR s3cr3t-hunter2\r\n";
    size_t rl = sizeof(req) - 1;
    for (size_t s = 0; s <= rl; s++) {
        struct harness h;
        harness_open(&h, 4096, 32);
        feed(&h, DIR_TO_SERVER, req, s, 100);
        feed(&h, DIR_TO_SERVER, req + s, rl - s, 100);
        feed_str(&h, DIR_TO_CLIENT, rep, 200);
        CHECK_EQ_INT(h.out.count, 2);
        if (h.out.count != 2) {
            harness_close(&h);
            break;
        }
        CHECK_EQ_STR(h.out.ops[0].op, "AUTH");
        CHECK_EQ_STR(h.out.ops[0].target, "");
        CHECK_EQ_INT(h.out.ops[0].op_class, OP_CLASS_AUTH);
        CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_AUTH_HEADER);
        CHECK_EQ_INT(h.out.ops[0].request_bytes, 21);
        /* the error text may echo it: it is not copied either */
        CHECK_EQ_INT(h.out.ops[1].status, OP_STATUS_ERROR);
        CHECK(!op_holds(&h.out.ops[0], "s3cr3t"));
        CHECK(!op_holds(&h.out.ops[1], "s3cr3t"));
        harness_close(&h);
    }
    /* with no reply, flushed at close; and AUTH with no argument */
    struct harness h;
    harness_open(&h, 4096, 32);
    feed_str(&h, DIR_TO_SERVER, "AUTH   pa ss word  \nAUTH\n", 100);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_STR(h.out.ops[0].target, "");
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_AUTH_HEADER | OP_FLAG_NO_RESPONSE);
    CHECK(!op_holds(&h.out.ops[0], "pa ss"));
    CHECK_EQ_INT(h.out.ops[1].flags, OP_FLAG_NO_RESPONSE);
}

static void decoder_malformed_lines_skipped(void)
{
    struct harness h;
    harness_open(&h, 4096, 32);
    static const char req[] = "GET a\r\nG\x01T b\r\nSET c\r\n";
    feed(&h, DIR_TO_SERVER, req, sizeof(req) - 1, 100);
    feed_str(&h, DIR_TO_CLIENT, "+OK\r\nbogus\r\n+OK 2\r\n", 200);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_STR(h.out.ops[0].target, "a");
    CHECK_EQ_STR(h.out.ops[1].target, "c");
    CHECK_EQ_INT(h.out.ops[1].items, 2);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_MALFORMED), 2);
    harness_close(&h);

    /* too long: skipped to its end, in pieces, never buffered past line_max */
    harness_open(&h, 16, 32);
    char longline[64];
    memset(longline, 'x', sizeof(longline));
    memcpy(longline, "GET ", 4);
    for (size_t i = 0; i < sizeof(longline); i += 5)
        feed(&h, DIR_TO_SERVER, longline + i, sizeof(longline) - i < 5 ? sizeof(longline) - i : 5,
             100);
    feed_str(&h, DIR_TO_SERVER, "xx\r\nPING\r\nGET 1234567890\r\n", 110);
    feed_str(&h, DIR_TO_CLIENT, "+OK\r\n+OK 3\r\n", 200);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_MALFORMED), 1);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_STR(h.out.ops[0].op, "PING");
    CHECK_EQ_STR(h.out.ops[1].target, "1234567890");    /* 16 bytes exactly */
    CHECK(template_held_peak(h.state) <= 16);
    harness_close(&h);

    /* a line of exactly line_max bytes arriving one byte at a time */
    harness_open(&h, 16, 32);
    static const char exact[] = "GET 1234567890\r\n";
    for (size_t i = 0; i < sizeof(exact) - 1; i++)
        feed(&h, DIR_TO_SERVER, exact + i, 1, 100);
    static const char over[] = "GET 12345678901\r\nLIST\r\n";
    for (size_t i = 0; i < sizeof(over) - 1; i++)
        feed(&h, DIR_TO_SERVER, over + i, 1, 100);
    CHECK(template_held_peak(h.state) <= 16);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_STR(h.out.ops[0].target, "1234567890");
    CHECK_EQ_STR(h.out.ops[1].op, "LIST");
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_MALFORMED), 1);
}

static void decoder_unfinished_line_at_end(void)
{
    struct harness h;
    harness_open(&h, 4096, 32);
    feed_str(&h, DIR_TO_SERVER, "GET a\r\nGET b", 100);
    template_decoder.end(h.state, &h.ctx, DIR_TO_SERVER);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_MALFORMED), 1);
    feed_str(&h, DIR_TO_CLIENT, "+OK\r\n", 200);
    template_decoder.end(h.state, &h.ctx, DIR_TO_CLIENT);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].target, "a");
    CHECK_EQ_INT(h.out.ops[0].flags, 0);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_MALFORMED), 1);

    /* blank lines ask nothing */
    harness_open(&h, 4096, 32);
    feed_str(&h, DIR_TO_SERVER, "\r\n \t\r\n\nPING\r\n", 100);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_STR(h.out.ops[0].op, "PING");
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_MALFORMED), 0);
}

static void decoder_caps_and_classes(void)
{
    struct harness h;
    harness_open(&h, 4096, 32);
    char line[600];
    memset(line, 'v', 60);
    line[60] = ' ';
    memset(line + 61, 'a', 300);
    memcpy(line + 361, "\r\n", 2);
    feed(&h, DIR_TO_SERVER, line, 363, 100);
    feed_str(&h, DIR_TO_SERVER, "Frobnicate x\r\n", 100);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 2);
    CHECK_EQ_INT(strlen(h.out.ops[0].op), OP_NAME_MAX - 1);
    CHECK_EQ_INT(h.out.ops[0].op[0], 'V');
    CHECK_EQ_INT(strlen(h.out.ops[0].target), OP_TARGET_MAX - 1);
    CHECK_EQ_INT(h.out.ops[0].flags, OP_FLAG_TRUNCATED | OP_FLAG_NO_RESPONSE);
    CHECK_EQ_INT(h.out.ops[0].op_class, OP_CLASS_UNKNOWN);
    CHECK_EQ_INT(h.out.ops[0].request_bytes, 363);
    CHECK_EQ_STR(h.out.ops[1].op, "FROBNICATE");
    CHECK_EQ_INT(h.out.ops[1].op_class, OP_CLASS_UNKNOWN);
}

static void decoder_without_params(void)
{
    /* no parameters: the key table's defaults (4 KiB lines) */
    struct harness h;
    harness_open(&h, 0, 0);
    h.ctx.params = NULL;
    template_decoder.close(h.state, &h.ctx);
    h.state = template_decoder.open(&h.ctx);
    CHECK(h.state != NULL);
    static char line[4097 + 8];
    memcpy(line, "GET ", 4);
    memset(line + 4, 'k', 4090);
    memcpy(line + 4094, "\r\n", 2);         /* 4096 bytes: fits */
    feed(&h, DIR_TO_SERVER, line, 4096, 100);
    memcpy(line, "GET ", 4);
    memset(line + 4, 'k', 4091);
    memcpy(line + 4095, "\r\n", 2);         /* 4097 bytes: too long */
    feed(&h, DIR_TO_SERVER, line, 2000, 100);
    feed(&h, DIR_TO_SERVER, line + 2000, 2097, 100);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_MALFORMED), 1);
    CHECK(template_held_peak(h.state) <= 4096);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 1);
    CHECK_EQ_INT(h.out.ops[0].request_bytes, 4096);

    /* pending_max default 32: the 33rd request overflows */
    harness_open(&h, 0, 0);
    h.ctx.params = NULL;
    template_decoder.close(h.state, &h.ctx);
    h.state = template_decoder.open(&h.ctx);
    for (int i = 0; i < 33; i++)
        feed_str(&h, DIR_TO_SERVER, "PING\n", 100);
    CHECK_EQ_INT(counter(&h, TEMPLATE_COUNTER_PENDING_OVERFLOW), 1);
    harness_close(&h);
    CHECK_EQ_INT(h.out.count, 33);
}

static void decoder_description(void)
{
    const struct decoder *d = &template_decoder;
    CHECK_EQ_STR(d->name, "template");
    CHECK_EQ_INT(d->app, APP_UNKNOWN);
    CHECK_EQ_INT(d->port_count, 1);
    CHECK_EQ_INT(d->ports[0], 7777);
    CHECK(d->ndpi_names == NULL);
    CHECK(d->settings == &template_settings);
    CHECK_EQ_STR(template_settings.group, "template");
    CHECK_EQ_INT(template_settings.key_count, 2);
    CHECK_EQ_INT(template_settings.params_size, sizeof(struct template_params));
    struct template_params p;
    memset(&p, 0xff, sizeof(p));
    config_key_defaults(template_settings.keys, template_settings.key_count, &p);
    CHECK_EQ_INT(p.line_max, 4096);
    CHECK_EQ_INT(p.pending_max, 32);
    const struct config_key *k =
        config_key_find(template_settings.keys, template_settings.key_count, "line_max_kb");
    CHECK(k != NULL && k->min == 1 && k->max == 1024 && k->doc != NULL);
    k = config_key_find(template_settings.keys, template_settings.key_count, "pending_max");
    CHECK(k != NULL && k->min == 1 && k->max == 256 && k->doc != NULL);
    CHECK(d->counters == &template_counters);
    CHECK_EQ_STR(template_counters.group, "template");
    CHECK_EQ_INT(template_counters.count, 4);
    CHECK_EQ_STR(template_counters.names[TEMPLATE_COUNTER_MALFORMED], "malformed");
    CHECK_EQ_STR(template_counters.names[TEMPLATE_COUNTER_UNPAIRED], "unpaired");
    CHECK_EQ_STR(template_counters.names[TEMPLATE_COUNTER_PENDING_OVERFLOW], "pending_overflow");
    CHECK_EQ_STR(template_counters.names[TEMPLATE_COUNTER_RESYNC], "resync");
}

static enum probe_result probe(const uint8_t *to_server, size_t len)
{
    return template_decoder.probe(to_server, len, NULL, 0);
}

static void decoder_probe(void)
{
    CHECK_EQ_INT(probe(S("GET users\r\n")), PROBE_YES);
    CHECK_EQ_INT(probe(S("ping\n")), PROBE_YES);
    CHECK_EQ_INT(probe(S("AUTH x\r\nGET a\r\n")), PROBE_YES);
    CHECK_EQ_INT(probe(S("")), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe(S("GET users")), PROBE_NEED_MORE);
    CHECK_EQ_INT(probe(S("HELLO\r\n")), PROBE_NO);
    CHECK_EQ_INT(probe(S("\r\n")), PROBE_NO);
    CHECK_EQ_INT(probe(S("GETX a\r\n")), PROBE_NO);
    CHECK_EQ_INT(probe(S("\x16\x03\x01\x00\xa5\x01")), PROBE_NO);   /* TLS */
    static uint8_t big[DECODER_PROBE_BYTES];
    memset(big, 'A', sizeof(big));
    CHECK_EQ_INT(probe(big, sizeof(big)), PROBE_NO);                /* no end in sight */
    CHECK_EQ_INT(probe(big, sizeof(big) - 1), PROBE_NEED_MORE);
    /* the server's side alone says nothing */
    CHECK_EQ_INT(template_decoder.probe(NULL, 0, (const uint8_t *)"+OK\r\n", 5), PROBE_NEED_MORE);
}

int main(void)
{
    check_binary = "test_template";
    RUN(parse_line_complete);
    RUN(parse_line_need_more_at_every_split);
    RUN(parse_line_malformed);
    RUN(parse_line_too_long);
    RUN(parse_reply_forms);
    RUN(parse_reply_count_overflow);
    RUN(decoder_pipelined_pairs);
    RUN(decoder_split_at_every_byte);
    RUN(decoder_request_gap_resyncs);
    RUN(decoder_reply_gap_resyncs);
    RUN(decoder_unpaired_reply);
    RUN(decoder_pending_overflow);
    RUN(decoder_auth_never_leaks);
    RUN(decoder_malformed_lines_skipped);
    RUN(decoder_unfinished_line_at_end);
    RUN(decoder_caps_and_classes);
    RUN(decoder_without_params);
    RUN(decoder_description);
    RUN(decoder_probe);
    CHECK_EXIT();
}
