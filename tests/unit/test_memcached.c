/* test_memcached.c - the memcached decoder: its pure parsers, then the
 * decoder driven through a hand-built decoder_ctx (text, binary, UDP). */
#include <stdlib.h>
#include <string.h>

#include "../../decoders/memcached/memcached.h"
#include "check.h"

#define S(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

/* ---- the parsers ---- */

static void parse_line_tokens(void)
{
    struct mc_line l;
    CHECK_EQ_INT(mc_parse_line(S("get a bb  ccc\r\n"), 64, &l), 15);
    CHECK_EQ_INT(l.token_count, 4);
    CHECK(mc_token_is(&l, 0, "get"));
    CHECK(mc_token_is(&l, 2, "bb"));
    CHECK(mc_token_is(&l, 3, "ccc"));
    CHECK_EQ_INT(l.last.len, 3);
    CHECK_EQ_INT(mc_parse_line(S("version\n"), 64, &l), 8);
    CHECK_EQ_INT(l.token_count, 1);
    CHECK_EQ_INT(mc_parse_line(S("\r\n"), 64, &l), 2);
    CHECK_EQ_INT(l.token_count, 0);
    /* more tokens than kept: counted, the last remembered */
    CHECK_EQ_INT(mc_parse_line(S("get 1 2 3 4 5 6 7 8 9 noreply\r\n"), 64, &l), 31);
    CHECK_EQ_INT(l.token_count, 11);
    CHECK_EQ_INT(l.last.len, 7);
    CHECK(memcmp(l.last.p, "noreply", 7) == 0);
    /* malformed: a control byte, or too long */
    CHECK_EQ_INT(mc_parse_line(S("get a\x01\r\n"), 64, &l), MC_MALFORMED);
    CHECK_EQ_INT(mc_parse_line(S("get abcdef\r\n"), 8, &l), MC_MALFORMED);
    CHECK_EQ_INT(mc_parse_line(S("get ab\r\n"), 8, &l), 8);
    static const char line[] = "set k 0 0 5\r\nhello\r\n";
    for (size_t k = 0; k < 13; k++)
        CHECK_EQ_INT(mc_parse_line((const uint8_t *)line, k, 64, &l), MC_NEED_MORE);
    for (size_t k = 13; k <= sizeof(line) - 1; k++)
        CHECK_EQ_INT(mc_parse_line((const uint8_t *)line, k, 64, &l), 13);
    uint64_t n = 0;
    CHECK(mc_token_number(&l.tok[4], &n));
    CHECK_EQ_INT(n, 5);
    struct mc_token big = { (const uint8_t *)"18446744073709551616", 20 };
    CHECK(!mc_token_number(&big, &n));
    struct mc_token max = { (const uint8_t *)"18446744073709551615", 20 };
    CHECK(mc_token_number(&max, &n) && n == UINT64_MAX);
}

static enum mc_reply_kind kind_of(const char *s)
{
    struct mc_line l;
    if (mc_parse_line((const uint8_t *)s, strlen(s), 256, &l) <= 0)
        return (enum mc_reply_kind)-1;
    return mc_reply_classify(&l);
}

static void reply_classify(void)
{
    CHECK_EQ_INT(kind_of("VALUE k 0 5\r\n"), MC_REPLY_VALUE);
    CHECK_EQ_INT(kind_of("END\r\n"), MC_REPLY_END);
    CHECK_EQ_INT(kind_of("STAT pid 1\r\n"), MC_REPLY_STAT);
    CHECK_EQ_INT(kind_of("ITEM k [5 b; 0 s]\r\n"), MC_REPLY_ITEM);
    CHECK_EQ_INT(kind_of("key=k exp=-1 la=1\r\n"), MC_REPLY_KEY);
    CHECK_EQ_INT(kind_of("ERROR\r\n"), MC_REPLY_ERROR);
    CHECK_EQ_INT(kind_of("CLIENT_ERROR bad\r\n"), MC_REPLY_CLIENT_ERROR);
    CHECK_EQ_INT(kind_of("SERVER_ERROR out of memory\r\n"), MC_REPLY_SERVER_ERROR);
    CHECK_EQ_INT(kind_of("STORED\r\n"), MC_REPLY_DONE);
    CHECK_EQ_INT(kind_of("NOT_FOUND\r\n"), MC_REPLY_MISS);
    CHECK_EQ_INT(kind_of("42\r\n"), MC_REPLY_NUMBER);
    CHECK_EQ_INT(kind_of("VERSION 1.6.18\r\n"), MC_REPLY_VERSION);
    CHECK_EQ_INT(kind_of("VA 5 f0\r\n"), MC_REPLY_META_VALUE);
    CHECK_EQ_INT(kind_of("HD\r\n"), MC_REPLY_META_HIT);
    CHECK_EQ_INT(kind_of("EN\r\n"), MC_REPLY_META_MISS);
    CHECK_EQ_INT(kind_of("MN\r\n"), MC_REPLY_META_NOOP);
    CHECK_EQ_INT(kind_of("value k 0 5\r\n"), MC_REPLY_OTHER);
    struct mc_line l;
    uint64_t n = 0;
    mc_parse_line(S("VALUE k 3 17 99\r\n"), 64, &l);
    CHECK(mc_reply_data_length(&l, MC_REPLY_VALUE, &n) && n == 17);
    mc_parse_line(S("VALUE k 3\r\n"), 64, &l);
    CHECK(!mc_reply_data_length(&l, MC_REPLY_VALUE, &n));
    mc_parse_line(S("VA 9 t\r\n"), 64, &l);
    CHECK(mc_reply_data_length(&l, MC_REPLY_META_VALUE, &n) && n == 9);
}

/* A binary message: header, extras, key, then value_len bytes 'v'. */
static size_t bin_msg(uint8_t *out, uint8_t magic, uint8_t opcode, uint16_t status,
                      uint32_t opaque, size_t extras, const char *key, size_t value_len)
{
    size_t key_len = strlen(key);
    uint32_t body = (uint32_t)(extras + key_len + value_len);
    memset(out, 0, 24);
    out[0] = magic;
    out[1] = opcode;
    out[2] = (uint8_t)(key_len >> 8);
    out[3] = (uint8_t)key_len;
    out[4] = (uint8_t)extras;
    out[6] = (uint8_t)(status >> 8);
    out[7] = (uint8_t)status;
    out[8] = (uint8_t)(body >> 24);
    out[9] = (uint8_t)(body >> 16);
    out[10] = (uint8_t)(body >> 8);
    out[11] = (uint8_t)body;
    out[12] = (uint8_t)(opaque >> 24);
    out[13] = (uint8_t)(opaque >> 16);
    out[14] = (uint8_t)(opaque >> 8);
    out[15] = (uint8_t)opaque;
    memset(out + 24, 'e', extras);
    memcpy(out + 24 + extras, key, key_len);
    memset(out + 24 + extras + key_len, 'v', value_len);
    return 24 + body;
}

static void parse_binary(void)
{
    uint8_t m[128];
    size_t n = bin_msg(m, 0x80, 0x01, 0, 7, 8, "key", 5);
    CHECK_EQ_INT(n, 24 + 8 + 3 + 5);
    struct mc_bin_header h;
    for (size_t k = 0; k < 35; k++)
        CHECK_EQ_INT(mc_parse_bin(m, k, &h), MC_NEED_MORE);
    for (size_t k = 35; k <= n; k++) {
        CHECK_EQ_INT(mc_parse_bin(m, k, &h), 35);
        CHECK_EQ_INT(h.value_len, 5);
    }
    CHECK_EQ_INT(h.opcode, 1);
    CHECK_EQ_INT(h.key_len, 3);
    CHECK(memcmp(h.key, "key", 3) == 0);
    CHECK_EQ_INT(h.opaque, 7);
    m[0] = 0x82;
    CHECK_EQ_INT(mc_parse_bin(m, 1, &h), MC_MALFORMED);
    m[0] = 0x80;
    m[5] = 1;   /* data type */
    CHECK_EQ_INT(mc_parse_bin(m, n, &h), MC_MALFORMED);
    m[5] = 0;
    m[11] = 2;  /* body shorter than extras + key */
    CHECK_EQ_INT(mc_parse_bin(m, n, &h), MC_MALFORMED);
    m[11] = 16;
    m[2] = 1;   /* key of 259 bytes */
    CHECK_EQ_INT(mc_parse_bin(m, n, &h), MC_MALFORMED);
}

static void parse_udp_header(void)
{
    struct mc_udp_header h;
    CHECK_EQ_INT(mc_parse_udp_header(S("\x00\x07\x00\x01\x00\x03\x00\x00xyz"), &h), 8);
    CHECK_EQ_INT(h.request_id, 7);
    CHECK_EQ_INT(h.sequence, 1);
    CHECK_EQ_INT(h.total, 3);
    CHECK_EQ_INT(mc_parse_udp_header(S("\x00\x07\x00\x03\x00\x03\x00\x00"), &h), MC_MALFORMED);
    CHECK_EQ_INT(mc_parse_udp_header(S("\x00\x07\x00\x00\x00\x00\x00\x00"), &h), MC_MALFORMED);
    CHECK_EQ_INT(mc_parse_udp_header(S("\x00\x07\x00\x00\x00"), &h), MC_MALFORMED);
}

/* ---- the decoder ---- */

#define OPS_MAX 64

struct harness {
    struct memcached_params params;
    stats_counter counters[MEMCACHED_COUNTER_COUNT];
    struct op_record ops[OPS_MAX];
    size_t count;
    struct decoder_ctx ctx;
    void *state;
};

static void collect(struct decoder_ctx *ctx, const struct op_record *op)
{
    struct harness *h = ctx->owner;
    if (h->count < OPS_MAX)
        h->ops[h->count++] = *op;
}

static void harness_open(struct harness *h, bool datagram, bool midstream)
{
    memset(h, 0, sizeof(*h));
    h->params.line_max = 4096;
    h->params.pending_max = 8;
    h->params.udp_pending_max = 2;
    h->params.udp_reply_max = 64 * 1024;
    h->params.udp_timeout_s = 5;
    h->params.amplification_ratio = 10;
    h->params.amplification_min = 1024;
    h->ctx.now_us = 1000;
    h->ctx.params = &h->params;
    h->ctx.counters = h->counters;
    h->ctx.emit = collect;
    h->ctx.owner = h;
    h->ctx.datagram = datagram;
    h->ctx.midstream = midstream;
    h->state = memcached_decoder.open(&h->ctx);
    CHECK(h->state != NULL);
}

static void feed(struct harness *h, enum decoder_dir dir, const void *bytes, size_t len)
{
    memcached_decoder.data(h->state, &h->ctx, dir, bytes, len);
}

static void feed_str(struct harness *h, enum decoder_dir dir, const char *s)
{
    feed(h, dir, s, strlen(s));
}

/* Feeds s in pieces cut at `cut` (0: whole). */
static void feed_split(struct harness *h, enum decoder_dir dir, const char *s, size_t len,
                       size_t cut)
{
    if (cut == 0 || cut >= len) {
        feed(h, dir, s, len);
        return;
    }
    feed(h, dir, s, cut);
    feed(h, dir, s + cut, len - cut);
}

static void harness_close(struct harness *h)
{
    memcached_decoder.close(h->state, &h->ctx);
    h->state = NULL;
}

static uint64_t counter(const struct harness *h, enum memcached_counter id)
{
    return stats_counter_get(&h->counters[id]);
}

static const char text_requests[] =
    "set k1 0 0 14\r\nab\r\nEND\r\nVALUE\r\n\r\n"
    "get k1 k2 k3\r\n"
    "delete k9 noreply\r\n"
    "stats\r\n"
    "flush_all\r\n";
static const char text_replies[] =
    "STORED\r\n"
    "VALUE k1 0 14\r\nab\r\nEND\r\nVALUE\r\n\r\n"
    "VALUE k3 0 2\r\nxy\r\n"
    "END\r\n"
    "STAT pid 7\r\nSTAT uptime 9\r\nEND\r\n"
    "OK\r\n";

static void check_text_exchange(const struct harness *h)
{
    CHECK_EQ_INT(h->count, 5);
    if (h->count != 5)
        return;
    const struct op_record *op = h->ops;
    /* delete noreply: emitted at once, status unknown */
    CHECK_EQ_STR(op[0].op, "delete");
    CHECK_EQ_STR(op[0].target, "k9");
    CHECK_EQ_INT(op[0].status, OP_STATUS_UNKNOWN);
    CHECK_EQ_INT(op[0].request_bytes, 19);
    CHECK_EQ_INT(op[0].flags, 0);

    CHECK_EQ_STR(op[1].op, "set");
    CHECK_EQ_STR(op[1].target, "k1");
    CHECK_EQ_INT(op[1].op_class, OP_CLASS_WRITE);
    CHECK_EQ_INT(op[1].status, OP_STATUS_OK);
    CHECK_EQ_INT(op[1].request_bytes, 15 + 16);
    CHECK_EQ_INT(op[1].response_bytes, 8);
    CHECK_EQ_INT(op[1].authenticated, OP_AUTH_NO);
    CHECK_EQ_INT(op[1].items, -1);

    CHECK_EQ_STR(op[2].op, "get");
    CHECK_EQ_STR(op[2].target, "k1");
    CHECK_EQ_INT(op[2].op_class, OP_CLASS_READ);
    CHECK_EQ_INT(op[2].status, OP_STATUS_OK);
    CHECK_EQ_INT(op[2].items, 2);
    CHECK_EQ_INT(op[2].page_size, 3);
    CHECK_EQ_INT(op[2].request_bytes, 14);
    CHECK_EQ_INT(op[2].response_bytes, 15 + 16 + 14 + 4 + 5);

    CHECK_EQ_STR(op[3].op, "stats");
    CHECK_EQ_INT(op[3].op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(op[3].items, 2);
    CHECK_EQ_INT(op[3].response_bytes, 12 + 15 + 5);

    CHECK_EQ_STR(op[4].op, "flush_all");
    CHECK_EQ_STR(op[4].target, "");
    CHECK_EQ_INT(op[4].op_class, OP_CLASS_DESTROY);
    CHECK_EQ_INT(op[4].status, OP_STATUS_OK);
    CHECK_EQ_INT(op[4].flags, 0);
    CHECK_EQ_INT(counter(h, MEMCACHED_COUNTER_MALFORMED), 0);
    CHECK_EQ_INT(counter(h, MEMCACHED_COUNTER_RESYNC), 0);
    CHECK_EQ_INT(counter(h, MEMCACHED_COUNTER_UNPAIRED), 0);
}

/* Data blocks holding "END" lines are skipped by length, at every split. */
static void text_exchange_every_split(void)
{
    size_t nreq = sizeof(text_requests) - 1, nrep = sizeof(text_replies) - 1;
    for (size_t cut = 0; cut < nrep; cut++) {
        struct harness h;
        harness_open(&h, false, false);
        feed_split(&h, DIR_TO_SERVER, text_requests, nreq, cut);
        feed_split(&h, DIR_TO_CLIENT, text_replies, nrep, cut);
        harness_close(&h);
        check_text_exchange(&h);
    }
    /* byte by byte */
    struct harness h;
    harness_open(&h, false, false);
    for (size_t i = 0; i < nreq; i++)
        feed(&h, DIR_TO_SERVER, text_requests + i, 1);
    for (size_t i = 0; i < nrep; i++)
        feed(&h, DIR_TO_CLIENT, text_replies + i, 1);
    harness_close(&h);
    check_text_exchange(&h);
}

static void text_listings_and_errors(void)
{
    struct harness h;
    harness_open(&h, false, true);
    feed_str(&h, DIR_TO_SERVER,
             "stats items\r\nstats cachedump 3 100\r\nlru_crawler metadump all\r\n"
             "bogus x\r\nget a\r\nset b 0 0 zz\r\nversion\r\nstats detail dump\r\n");
    feed_str(&h, DIR_TO_CLIENT,
             "STAT items:3:number 2\r\nEND\r\n"
             "ITEM a [1 b; 0 s]\r\nITEM b [1 b; 0 s]\r\nEND\r\n"
             "key=a exp=-1 la=1\r\nkey=b exp=-1 la=2\r\nkey=c exp=-1 la=3\r\nEND\r\n"
             "ERROR\r\nSERVER_ERROR out of memory\r\nCLIENT_ERROR bad data chunk\r\n"
             "VERSION 1.6.21\r\nPREFIX a get 1\r\nEND\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.count, 8);
    if (h.count != 8)
        return;
    CHECK_EQ_STR(h.ops[0].op, "stats items");
    CHECK_EQ_INT(h.ops[0].op_class, OP_CLASS_ENUMERATE);
    CHECK_EQ_INT(h.ops[0].items, 1);
    CHECK_EQ_INT(h.ops[0].authenticated, OP_AUTH_UNKNOWN);
    CHECK_EQ_STR(h.ops[1].op, "stats cachedump");
    CHECK_EQ_STR(h.ops[1].target, "3 100");
    CHECK_EQ_INT(h.ops[1].items, 2);
    CHECK_EQ_STR(h.ops[2].op, "lru_crawler metadump");
    CHECK_EQ_STR(h.ops[2].target, "all");
    CHECK_EQ_INT(h.ops[2].op_class, OP_CLASS_ENUMERATE);
    CHECK_EQ_INT(h.ops[2].items, 3);
    CHECK_EQ_STR(h.ops[3].op, "bogus");
    CHECK_EQ_INT(h.ops[3].status, OP_STATUS_ERROR);
    CHECK_EQ_STR(h.ops[3].error_type, "ERROR");
    CHECK_EQ_STR(h.ops[4].op, "get");
    CHECK_EQ_INT(h.ops[4].status, OP_STATUS_ERROR);
    CHECK_EQ_STR(h.ops[4].error_type, "SERVER_ERROR");
    CHECK_EQ_STR(h.ops[5].op, "set");
    CHECK_EQ_STR(h.ops[5].error_type, "CLIENT_ERROR");
    CHECK_EQ_STR(h.ops[6].op, "version");
    CHECK_EQ_INT(h.ops[6].status, OP_STATUS_OK);
    CHECK_EQ_STR(h.ops[7].op, "stats detail");
    CHECK_EQ_STR(h.ops[7].target, "dump");
    CHECK_EQ_INT(h.ops[7].items, 1);
}

/* A gap inside a value of known length keeps framing; one inside a line
 * resyncs on the next known word. */
static void text_gaps(void)
{
    struct harness h;
    harness_open(&h, false, false);
    feed_str(&h, DIR_TO_SERVER, "get a\r\nget b\r\nget c\r\n");
    feed_str(&h, DIR_TO_CLIENT, "VALUE a 0 10\r\n01");
    memcached_decoder.gap(h.state, &h.ctx, DIR_TO_CLIENT, 4);
    feed_str(&h, DIR_TO_CLIENT, "6789\r\nEND\r\nVALUE b 0 3\r");
    memcached_decoder.gap(h.state, &h.ctx, DIR_TO_CLIENT, 0);
    feed_str(&h, DIR_TO_CLIENT, "x\r\nEND\r\nEND\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.count, 3);
    if (h.count != 3)
        return;
    CHECK_EQ_STR(h.ops[0].target, "a");
    CHECK_EQ_INT(h.ops[0].items, 1);
    CHECK_EQ_INT(h.ops[0].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_STR(h.ops[1].target, "b");
    CHECK_EQ_INT(h.ops[1].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(h.ops[1].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.ops[1].items, 0);
    CHECK_EQ_STR(h.ops[2].target, "c");
    CHECK_EQ_INT(h.ops[2].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.ops[2].flags, 0);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_RESYNC), 1);
}

static void text_overflow_and_unpaired(void)
{
    struct harness h;
    harness_open(&h, false, false);
    h.params.pending_max = 2;
    harness_close(&h);
    h.count = 0;
    h.state = memcached_decoder.open(&h.ctx);
    feed_str(&h, DIR_TO_SERVER, "get a\r\nget b\r\nget c\r\n");
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_PENDING_OVERFLOW), 1);
    CHECK_EQ_INT(h.count, 1);
    CHECK_EQ_STR(h.ops[0].target, "a");
    CHECK_EQ_INT(h.ops[0].flags, OP_FLAG_NO_RESPONSE);
    feed_str(&h, DIR_TO_CLIENT, "END\r\nEND\r\nSTAT x 1\r\nSTAT y 2\r\nEND\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.count, 4);
    CHECK_EQ_STR(h.ops[3].op, "reply");
    CHECK_EQ_INT(h.ops[3].flags, OP_FLAG_UNPAIRED);
    CHECK_EQ_INT(h.ops[3].items, 2);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_UNPAIRED), 1);
}

static size_t bin_batch_requests(uint8_t *b)
{
    size_t n = 0;
    n += bin_msg(b + n, 0x80, 0x0d, 0, 1, 0, "a", 0);  /* GETKQ */
    n += bin_msg(b + n, 0x80, 0x0d, 0, 2, 0, "b", 0);
    n += bin_msg(b + n, 0x80, 0x0d, 0, 3, 0, "c", 0);
    n += bin_msg(b + n, 0x80, 0x0a, 0, 4, 0, "", 0);   /* NOOP */
    n += bin_msg(b + n, 0x80, 0x10, 0, 5, 0, "", 0);   /* STAT */
    n += bin_msg(b + n, 0x80, 0x11, 0, 6, 8, "q", 4);  /* SETQ */
    n += bin_msg(b + n, 0x80, 0x04, 0, 7, 0, "d", 0);  /* DELETE */
    return n;
}

static size_t bin_batch_responses(uint8_t *b)
{
    size_t n = 0;
    n += bin_msg(b + n, 0x81, 0x0d, 0, 1, 4, "a", 3);
    n += bin_msg(b + n, 0x81, 0x0d, 0, 3, 4, "c", 300);
    n += bin_msg(b + n, 0x81, 0x0a, 0, 4, 0, "", 0);
    n += bin_msg(b + n, 0x81, 0x10, 0, 5, 0, "pid", 2);
    n += bin_msg(b + n, 0x81, 0x10, 0, 5, 0, "uptime", 3);
    n += bin_msg(b + n, 0x81, 0x10, 0, 5, 0, "", 0);
    n += bin_msg(b + n, 0x81, 0x04, 1, 7, 0, "", 9);   /* not found */
    return n;
}

static void check_bin_batch(const struct harness *h)
{
    CHECK_EQ_INT(h->count, 4);
    if (h->count != 4)
        return;
    CHECK_EQ_STR(h->ops[0].op, "get");
    CHECK_EQ_STR(h->ops[0].target, "a");
    CHECK_EQ_INT(h->ops[0].page_size, 3);
    CHECK_EQ_INT(h->ops[0].items, 2);
    CHECK_EQ_INT(h->ops[0].status, OP_STATUS_OK);
    CHECK_EQ_INT(h->ops[0].request_bytes, 25 * 3 + 24);
    CHECK_EQ_INT(h->ops[0].response_bytes, 32 + 329 + 24);
    CHECK_EQ_STR(h->ops[1].op, "stats");
    CHECK_EQ_INT(h->ops[1].items, 2);
    CHECK_EQ_STR(h->ops[2].op, "set");
    CHECK_EQ_STR(h->ops[2].target, "q");
    CHECK_EQ_INT(h->ops[2].status, OP_STATUS_OK);
    CHECK_EQ_INT(h->ops[2].response_bytes, 0);
    CHECK_EQ_STR(h->ops[3].op, "delete");
    CHECK_EQ_INT(h->ops[3].status, OP_STATUS_OK);
    CHECK_EQ_INT(h->ops[3].status_code, 1);   /* NOT_FOUND: a miss, kept as its code */
    CHECK_EQ_INT(h->ops[3].flags, 0);
}

static void binary_batch_every_split(void)
{
    uint8_t req[512], rep[1024];
    size_t nreq = bin_batch_requests(req), nrep = bin_batch_responses(rep);
    for (size_t cut = 0; cut < nrep; cut += 3) {
        struct harness h;
        harness_open(&h, false, false);
        feed_split(&h, DIR_TO_SERVER, (const char *)req, nreq, cut);
        feed_split(&h, DIR_TO_CLIENT, (const char *)rep, nrep, cut);
        harness_close(&h);
        check_bin_batch(&h);
        CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_MALFORMED), 0);
    }
}

static void binary_sasl(void)
{
    uint8_t b[256];
    struct harness h;
    harness_open(&h, false, false);
    size_t n = bin_msg(b, 0x80, 0x21, 0, 1, 0, "PLAIN", 12);
    feed(&h, DIR_TO_SERVER, b, n);
    n = bin_msg(b, 0x81, 0x21, 0x20, 1, 0, "", 0);
    feed(&h, DIR_TO_CLIENT, b, n);
    n = bin_msg(b, 0x80, 0x21, 0, 2, 0, "PLAIN", 12);
    feed(&h, DIR_TO_SERVER, b, n);
    n = bin_msg(b, 0x81, 0x21, 0, 2, 0, "", 13);
    feed(&h, DIR_TO_CLIENT, b, n);
    n = bin_msg(b, 0x80, 0x00, 0, 3, 0, "k", 0);
    feed(&h, DIR_TO_SERVER, b, n);
    n = bin_msg(b, 0x81, 0x00, 0x81, 3, 0, "", 0);
    feed(&h, DIR_TO_CLIENT, b, n);
    harness_close(&h);
    CHECK_EQ_INT(h.count, 3);
    if (h.count != 3)
        return;
    CHECK_EQ_STR(h.ops[0].op, "sasl_auth");
    CHECK_EQ_INT(h.ops[0].op_class, OP_CLASS_AUTH);
    CHECK_EQ_STR(h.ops[0].auth_scheme, "plain");
    CHECK_EQ_STR(h.ops[0].target, "");
    CHECK_EQ_INT(h.ops[0].status, OP_STATUS_DENIED);
    CHECK_EQ_STR(h.ops[0].error_type, "AUTH_ERROR");
    CHECK_EQ_INT(h.ops[0].status_code, 0x20);
    CHECK_EQ_INT(h.ops[0].authenticated, OP_AUTH_NO);
    CHECK_EQ_INT(h.ops[0].flags, OP_FLAG_AUTH_HEADER);
    CHECK_EQ_INT(h.ops[1].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.ops[1].authenticated, OP_AUTH_YES);
    CHECK_EQ_STR(h.ops[2].op, "get");
    CHECK_EQ_INT(h.ops[2].authenticated, OP_AUTH_YES);
    CHECK_EQ_INT(h.ops[2].status, OP_STATUS_ERROR);
    CHECK_EQ_STR(h.ops[2].error_type, "UNKNOWN_COMMAND");
    CHECK_EQ_INT(h.ops[2].items, 0);
}

/* A gap in binary framing: the next valid header is found again. */
static void binary_resync(void)
{
    uint8_t b[512];
    struct harness h;
    harness_open(&h, false, false);
    size_t n = bin_msg(b, 0x80, 0x00, 0, 1, 0, "a", 0);
    n += bin_msg(b + n, 0x80, 0x00, 0, 2, 0, "b", 0);
    feed(&h, DIR_TO_SERVER, b, n);
    n = bin_msg(b, 0x81, 0x00, 0, 1, 4, "", 5);
    feed(&h, DIR_TO_CLIENT, b, 10);
    memcached_decoder.gap(h.state, &h.ctx, DIR_TO_CLIENT, 0);
    static const uint8_t junk[] = { 0x00, 0x81, 0x99, 0x81, 0x00 };
    feed(&h, DIR_TO_CLIENT, junk, sizeof(junk));
    n = bin_msg(b, 0x81, 0x00, 0, 2, 4, "", 5);
    feed(&h, DIR_TO_CLIENT, b, n);
    harness_close(&h);
    CHECK_EQ_INT(h.count, 2);
    if (h.count != 2)
        return;
    CHECK_EQ_STR(h.ops[0].target, "a");
    CHECK_EQ_INT(h.ops[0].flags, OP_FLAG_PARTIAL | OP_FLAG_NO_RESPONSE);
    CHECK_EQ_STR(h.ops[1].target, "b");
    CHECK_EQ_INT(h.ops[1].items, 1);
    CHECK_EQ_INT(h.ops[1].flags, 0);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_RESYNC), 1);
}

static size_t udp_dgram(uint8_t *out, uint16_t id, uint16_t seq, uint16_t total, const char *s,
                        size_t len)
{
    uint8_t hdr[8] = { (uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(seq >> 8), (uint8_t)seq,
                       (uint8_t)(total >> 8), (uint8_t)total, 0, 0 };
    memcpy(out, hdr, 8);
    memcpy(out + 8, s, len);
    return 8 + len;
}

static void udp_single_and_reassembled(void)
{
    struct harness h;
    harness_open(&h, true, false);
    uint8_t d[2048];
    feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 5, 0, 1, "get a b\r\n", 9));
    feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 6, 0, 1, "version\r\n", 9));
    /* 6 answered first, in one datagram */
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 6, 0, 1, "VERSION 1.6\r\n", 13));
    /* 5 in three datagrams, out of order, a value cut across two */
    char big[1400];
    memset(big, 'x', sizeof(big));
    memcpy(big, "VALUE a 0 2000\r\n", 16);
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 5, 2, 3, "END\r\n", 5));
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 5, 0, 3, big, sizeof(big)));
    CHECK_EQ_INT(h.count, 1);
    /* sequence 0 is read as it comes; only the early END waits */
    CHECK_EQ_INT(memcached_udp_held(h.state), 5);
    char rest[618];
    memset(rest, 'y', sizeof(rest));
    memcpy(rest + 616, "\r\n", 2);
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 5, 1, 3, rest, sizeof(rest)));
    CHECK_EQ_INT(memcached_udp_held(h.state), 0);
    harness_close(&h);
    CHECK_EQ_INT(h.count, 2);
    if (h.count != 2)
        return;
    CHECK_EQ_STR(h.ops[0].op, "version");
    CHECK_EQ_INT(h.ops[0].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.ops[0].flags, 0);
    CHECK_EQ_STR(h.ops[1].op, "get");
    CHECK_EQ_INT(h.ops[1].items, 1);
    CHECK_EQ_INT(h.ops[1].page_size, 2);
    CHECK_EQ_INT(h.ops[1].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.ops[1].request_bytes, 9);
    CHECK_EQ_INT(h.ops[1].response_bytes, 16 + 2002 + 5);
    CHECK_EQ_INT(h.ops[1].ts_response_us, 1000);
    CHECK_EQ_INT(h.ops[1].flags, OP_FLAG_AMPLIFIED);
    CHECK_EQ_INT(h.ops[1].authenticated, OP_AUTH_NO);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_AMPLIFIED), 1);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_UDP_DATAGRAMS), 6);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_MALFORMED), 0);
}

/* A reply missing a datagram is emitted partial at close; the caps push
 * the oldest out. */
static void udp_incomplete_and_probe(void)
{
    struct harness h;
    harness_open(&h, true, false);
    uint8_t d[256];
    feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 0, 0, 1, "flush_all\r\n", 11));
    feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 1, 0, 1, "stats\r\n", 7));
    feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 2, 0, 1, "stats\r\n", 7));
    feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 3, 0, 1, "stats\r\n", 7));
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 1, 0, 2, "STAT a 1\r\n", 10));
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 2, 0, 2, "STAT a 1\r\n", 10));
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 3, 1, 2, "STAT b 1\r\nEND\r\n", 15));
    /* udp_pending_max 2: reply 1 pushed out */
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_UDP_OVERFLOW), 1);
    CHECK_EQ_INT(h.count, 1);
    h.ctx.now_us += 6 * 1000000u;
    feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 4, 0, 1, "\r\n", 2));
    CHECK_EQ_INT(h.count, 3);   /* both timed out */
    harness_close(&h);
    CHECK_EQ_INT(h.count, 4);
    if (h.count != 4)
        return;
    CHECK_EQ_STR(h.ops[0].op, "stats");
    CHECK_EQ_INT(h.ops[0].items, 1);
    CHECK_EQ_INT(h.ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(h.ops[1].items, 1);
    CHECK_EQ_INT(h.ops[1].flags, OP_FLAG_PARTIAL);
    /* its first datagram lost: the line after the gap may be a fragment */
    CHECK_EQ_INT(h.ops[2].items, 0);
    CHECK_EQ_INT(h.ops[2].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.ops[2].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_STR(h.ops[3].op, "flush_all");
    CHECK_EQ_INT(h.ops[3].flags, OP_FLAG_PROBE | OP_FLAG_NO_RESPONSE);
    CHECK_EQ_STR(h.ops[3].client_id, "masscan");
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_PROBES), 1);
    /* reply 1 left by the cap counts as overflow, 2 and 3 as incomplete */
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_UDP_INCOMPLETE), 2);
}

/* What memcached 1.6 sends: every VALUE of a multi-get is its own run of
 * datagrams (sequence from 0, the run's count in the header), all under the
 * request id, END in the last run. One op, ended by END; a small value is a
 * run of one datagram; a run's datagrams may come out of order. */
static void udp_runs_per_value(void)
{
    struct harness h;
    harness_open(&h, true, false);
    uint8_t d[2048];
    feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 7, 0, 1, "get a b c\r\n", 11));
    char v[1200];
    memset(v, 'v', sizeof(v));
    memcpy(v, "VALUE a 0 2000\r\n", 16);
    char rest[818];
    memset(rest, 'w', sizeof(rest));
    memcpy(rest + 816, "\r\n", 2);
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 7, 0, 2, v, sizeof(v)));
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 7, 1, 2, rest, sizeof(rest)));
    CHECK_EQ_INT(h.count, 0);
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 7, 0, 1, "VALUE b 0 3\r\nabc\r\n", 18));
    CHECK_EQ_INT(h.count, 0);
    /* value c's run comes out of order; END rides in its last datagram */
    memcpy(v, "VALUE c 0 2000\r\n", 16);
    char last[sizeof(rest) + 5];
    memcpy(last, rest, sizeof(rest));
    memcpy(last + sizeof(rest), "END\r\n", 5);
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 7, 1, 2, last, sizeof(last)));
    CHECK_EQ_INT(h.count, 0);
    CHECK_EQ_INT(memcached_udp_held(h.state), sizeof(last));
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 7, 0, 2, v, sizeof(v)));
    CHECK_EQ_INT(h.count, 1);
    CHECK_EQ_INT(memcached_udp_held(h.state), 0);
    harness_close(&h);
    CHECK_EQ_INT(h.count, 1);
    if (h.count != 1)
        return;
    CHECK_EQ_STR(h.ops[0].op, "get");
    CHECK_EQ_INT(h.ops[0].items, 3);
    CHECK_EQ_INT(h.ops[0].page_size, 3);
    CHECK_EQ_INT(h.ops[0].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.ops[0].flags, OP_FLAG_AMPLIFIED);
    CHECK_EQ_INT(h.ops[0].response_bytes, 16 + 2002 + 13 + 5 + 16 + 2002 + 5);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_UNPAIRED), 0);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_UDP_INCOMPLETE), 0);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_MALFORMED), 0);
}


/* nmap's memcached-info over UDP: "stats", then "stats settings" under the
 * next request id names the second op; another id or command does not. */
static void udp_nmap_memcached_info(void)
{
    const uint16_t second_ids[2] = { 0x0de3, 0x0de4 };
    for (int i = 0; i < 2; i++) {
        struct harness h;
        harness_open(&h, true, false);
        uint8_t d[256];
        feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 0x0de2, 0, 1, "stats\r\n", 7));
        feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 0x0de2, 0, 1, "STAT pid 1\r\nEND\r\n", 17));
        feed(&h, DIR_TO_SERVER, d,
             udp_dgram(d, second_ids[i], 0, 1, "stats settings\r\n", 16));
        feed(&h, DIR_TO_CLIENT, d,
             udp_dgram(d, second_ids[i], 0, 1, "STAT maxconns 1024\r\nEND\r\n", 25));
        feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 0x0de5, 0, 1, "stats settings\r\n", 16));
        harness_close(&h);
        CHECK_EQ_INT(h.count, 3);
        if (h.count != 3)
            return;
        CHECK_EQ_INT(h.ops[0].flags, OP_FLAG_PROBE);
        CHECK_EQ_STR(h.ops[0].client_id, "");
        CHECK_EQ_STR(h.ops[1].op, "stats settings");
        CHECK_EQ_INT(h.ops[1].items, 1);
        CHECK_EQ_INT(h.ops[1].flags, i == 0 ? OP_FLAG_PROBE : 0);
        CHECK_EQ_STR(h.ops[1].client_id, i == 0 ? "Nmap NSE memcached-info" : "");
        CHECK_EQ_INT(h.ops[2].flags, OP_FLAG_NO_RESPONSE);
        CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_PROBES), i == 0 ? 2 : 1);
    }
}

/* Meta commands: ms's data block skipped, VA's value skipped, q emitted at
 * once. */
static void text_meta(void)
{
    struct harness h;
    harness_open(&h, false, false);
    feed_str(&h, DIR_TO_SERVER, "ms k 5 T0\r\nEN\r\nX\r\nmg k v\r\nmg z v\r\nmd k q\r\nmn\r\n");
    feed_str(&h, DIR_TO_CLIENT, "HD\r\nVA 4\r\nEN\r\n\r\nEN\r\nMN\r\n");
    harness_close(&h);
    CHECK_EQ_INT(h.count, 5);
    if (h.count != 5)
        return;
    CHECK_EQ_STR(h.ops[0].op, "md");
    CHECK_EQ_INT(h.ops[0].status, OP_STATUS_UNKNOWN);
    CHECK_EQ_STR(h.ops[1].op, "ms");
    CHECK_EQ_INT(h.ops[1].request_bytes, 11 + 7);
    CHECK_EQ_INT(h.ops[1].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.ops[1].items, -1);
    CHECK_EQ_STR(h.ops[2].op, "mg");
    CHECK_EQ_INT(h.ops[2].items, 1);
    CHECK_EQ_INT(h.ops[2].response_bytes, 6 + 6);
    CHECK_EQ_STR(h.ops[3].target, "z");
    CHECK_EQ_INT(h.ops[3].items, 0);
    CHECK_EQ_STR(h.ops[4].op, "mn");
    CHECK_EQ_INT(h.ops[4].op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_UNPAIRED), 0);
}

/* A quiet set that fails is answered with its opaque; one that succeeds is
 * ok once a later response comes; a response nobody asked for is unpaired. */
static void binary_quiet_and_unpaired(void)
{
    uint8_t b[512];
    struct harness h;
    harness_open(&h, false, true);
    size_t n = bin_msg(b, 0x80, 0x11, 0, 1, 8, "a", 2);
    n += bin_msg(b + n, 0x80, 0x11, 0, 2, 8, "b", 2);
    n += bin_msg(b + n, 0x80, 0x0b, 0, 3, 0, "", 0);
    feed(&h, DIR_TO_SERVER, b, n);
    n = bin_msg(b, 0x81, 0x11, 0x0002, 2, 0, "", 0);
    n += bin_msg(b + n, 0x81, 0x0b, 0, 3, 0, "", 6);
    n += bin_msg(b + n, 0x81, 0x08, 0, 9, 0, "", 0);
    feed(&h, DIR_TO_CLIENT, b, n);
    harness_close(&h);
    CHECK_EQ_INT(h.count, 4);
    if (h.count != 4)
        return;
    CHECK_EQ_STR(h.ops[0].target, "a");
    CHECK_EQ_INT(h.ops[0].status, OP_STATUS_OK);
    CHECK_EQ_INT(h.ops[0].authenticated, OP_AUTH_UNKNOWN);
    CHECK_EQ_STR(h.ops[1].target, "b");
    CHECK_EQ_INT(h.ops[1].status, OP_STATUS_ERROR);
    CHECK_EQ_STR(h.ops[1].error_type, "KEY_EXISTS");
    CHECK_EQ_INT(h.ops[1].status_code, 2);
    CHECK_EQ_STR(h.ops[2].op, "version");
    CHECK_EQ_INT(h.ops[2].response_bytes, 30);
    CHECK_EQ_STR(h.ops[3].op, "flush_all");
    CHECK_EQ_INT(h.ops[3].flags, OP_FLAG_UNPAIRED);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_UNPAIRED), 1);
}

/* A request datagram cut by the snap length: its op is partial; a datagram
 * without a frame header is malformed. */
static void udp_cut_and_malformed(void)
{
    struct harness h;
    harness_open(&h, true, false);
    uint8_t d[64];
    feed(&h, DIR_TO_SERVER, d, udp_dgram(d, 9, 0, 1, "get k\r\n", 7));
    memcached_decoder.gap(h.state, &h.ctx, DIR_TO_SERVER, 100);
    feed(&h, DIR_TO_SERVER, "\x00\x01", 2);
    feed(&h, DIR_TO_CLIENT, d, udp_dgram(d, 9, 0, 1, "END\r\n", 5));
    harness_close(&h);
    CHECK_EQ_INT(h.count, 1);
    CHECK_EQ_INT(h.ops[0].flags, OP_FLAG_PARTIAL);
    CHECK_EQ_INT(h.ops[0].items, 0);
    CHECK_EQ_INT(h.ops[0].status, OP_STATUS_OK);
    CHECK_EQ_INT(counter(&h, MEMCACHED_COUNTER_MALFORMED), 1);
}

static void probe(void)
{
    const struct decoder *d = &memcached_decoder;
    CHECK_EQ_INT(d->probe(S("stats\r\n"), NULL, 0), PROBE_YES);
    CHECK_EQ_INT(d->probe(S("get user:1\r\n"), NULL, 0), PROBE_YES);
    CHECK_EQ_INT(d->probe(S("get user"), NULL, 0), PROBE_NEED_MORE);
    CHECK_EQ_INT(d->probe(S("GET / HTTP/1.1\r\n"), NULL, 0), PROBE_NO);
    uint8_t b[64];
    size_t n = bin_msg(b, 0x80, 0x0b, 0, 1, 0, "", 0);
    CHECK_EQ_INT(d->probe(b, n, NULL, 0), PROBE_YES);
    CHECK_EQ_INT(d->probe(b, 10, NULL, 0), PROBE_NEED_MORE);
    b[1] = 0x77;
    CHECK_EQ_INT(d->probe(b, n, NULL, 0), PROBE_NO);
    CHECK_EQ_INT(d->probe(NULL, 0, S("VERSION 1.6.21\r\n")), PROBE_YES);
    CHECK_EQ_INT(d->probe(NULL, 0, S("VERS")), PROBE_NEED_MORE);
    CHECK_EQ_INT(d->probe(NULL, 0, S("HTTP/1.1 200")), PROBE_NO);
    CHECK_EQ_INT(d->probe(NULL, 0, NULL, 0), PROBE_NEED_MORE);
}

int main(void)
{
    check_binary = "test_memcached";
    RUN(parse_line_tokens);
    RUN(reply_classify);
    RUN(parse_binary);
    RUN(parse_udp_header);
    RUN(text_exchange_every_split);
    RUN(text_listings_and_errors);
    RUN(text_gaps);
    RUN(text_overflow_and_unpaired);
    RUN(binary_batch_every_split);
    RUN(binary_sasl);
    RUN(binary_resync);
    RUN(udp_single_and_reassembled);
    RUN(udp_incomplete_and_probe);
    RUN(udp_runs_per_value);
    RUN(udp_nmap_memcached_info);
    RUN(text_meta);
    RUN(binary_quiet_and_unpaired);
    RUN(udp_cut_and_malformed);
    RUN(probe);
    CHECK_EXIT();
}
