/* test_bson.c - the BSON iterator and the streaming walker. */
#include <stdlib.h>

#include "../../decoders/mongodb/bson.h"
#include "bson_build.h"
#include "check.h"

static uint8_t *buf_a;

/* A reply-shaped document with every type: {cursor:{firstBatch:[n docs],
 * id, ns}, ok:1.0} plus one element of each other type. */
static size_t build_reply(struct bb *b, int docs, int64_t id)
{
    b->len = 0;
    b->depth = 0;
    bb_open(b, 0, NULL);
    bb_open(b, 0x03, "cursor");
    bb_open(b, 0x04, "firstBatch");
    for (int i = 0; i < docs; i++) {
        char k[16];
        snprintf(k, sizeof(k), "%d", i);
        bb_open(b, 0x03, k);
        bb_int32(b, "_id", i);
        bb_string(b, "name", "somebody");
        bb_open(b, 0x04, "tags");
        bb_string(b, "0", "a");
        bb_close(b);
        bb_close(b);
    }
    bb_close(b);
    bb_int64(b, "id", id);
    bb_string(b, "ns", "shop.customers");
    bb_close(b);
    bb_double(b, "ok", 1.0);
    bb_bool(b, "flag", 1);
    bb_binary(b, "bin", "\x01\x02\x03", 3);
    bb_key(b, 0x0A, "null");
    bb_key(b, 0x07, "oid");
    bb_raw(b, "0123456789ab", 12);
    bb_key(b, 0x0B, "re");
    bb_cstr(b, "^a.*");
    bb_cstr(b, "i");
    bb_key(b, 0x13, "dec");
    bb_raw(b, "0123456789abcdef", 16);
    bb_key(b, 0x11, "ts");
    bb_i64(b, 5);
    bb_key(b, 0x09, "date");
    bb_i64(b, 1700000000000LL);
    bb_key(b, 0xFF, "min");
    bb_key(b, 0x7F, "max");
    bb_close(b);
    return b->len;
}

/* What the walker reported, summed up. */
struct seen {
    unsigned events;
    unsigned batch;          /* elements of cursor.firstBatch */
    int64_t id;
    double ok_bits;
    char ns[64];
    unsigned max_depth;
    bool skip_batch_docs;
};

static enum bson_stream_action seen_cb(void *user, const struct bson_event *ev)
{
    struct seen *s = user;
    s->events++;
    if (ev->depth > s->max_depth)
        s->max_depth = ev->depth;
    if (ev->depth == 2 && strcmp(ev->path[0], "cursor") == 0 &&
        strcmp(ev->path[1], "firstBatch") == 0) {
        s->batch++;
        return s->skip_batch_docs ? BSON_SKIP : BSON_WALK;
    }
    if (ev->depth == 1 && strcmp(ev->path[0], "cursor") == 0 && strcmp(ev->key, "id") == 0 &&
        ev->type == BSON_INT64)
        s->id = bson_i64(ev->value);
    if (ev->depth == 1 && strcmp(ev->key, "ns") == 0 && ev->type == BSON_STRING) {
        memcpy(s->ns, ev->value, ev->value_len);
        s->ns[ev->value_len] = '\0';
    }
    if (ev->depth == 0 && strcmp(ev->key, "ok") == 0 && ev->type == BSON_DOUBLE) {
        double d;
        memcpy(&d, ev->value, sizeof(d));
        s->ok_bits = d;
    }
    return BSON_WALK;
}

static int walk_pieces(const uint8_t *doc, size_t len, size_t piece, struct seen *s,
                       size_t *consumed)
{
    struct bson_stream st;
    bson_stream_init(&st, len, seen_cb, s);
    size_t at = 0;
    int rc = BSON_STREAM_MORE;
    while (at < len && rc == BSON_STREAM_MORE) {
        size_t n = len - at < piece ? len - at : piece;
        size_t used = 0;
        rc = bson_stream_feed(&st, doc + at, n, &used);
        at += used;
    }
    *consumed = at;
    return rc;
}

static void test_iterator_all_types(void)
{
    struct bb b = { buf_a, 0, {0}, 0 };
    size_t len = build_reply(&b, 3, 42);
    struct bson_iter it;
    struct bson_elem e;
    CHECK_EQ_INT(bson_iter_init(&it, buf_a, len), BSON_OK);
    unsigned n = 0;
    int rc;
    while ((rc = bson_iter_next(&it, &e)) == BSON_OK)
        n++;
    CHECK_EQ_INT(rc, BSON_END);
    CHECK_EQ_INT(n, 12);
    CHECK_EQ_INT(bson_validate(buf_a, len, 8), BSON_OK);
    CHECK_EQ_INT(bson_validate(buf_a, len, 4), BSON_MALFORMED);   /* top.cursor.firstBatch.N.tags: 5 levels */
    CHECK_EQ_INT(bson_validate(buf_a, len, 5), BSON_OK);
}

static void test_iterator_rejects_bad_lengths(void)
{
    static const uint8_t short_len[] = { 4, 0, 0, 0, 0 };
    static const uint8_t long_len[] = { 9, 0, 0, 0, 0 };
    static const uint8_t no_nul[] = { 5, 0, 0, 0, 1 };
    /* {s: string of declared length 100} */
    static const uint8_t str_over[] = { 13, 0, 0, 0, 2, 's', 0, 100, 0, 0, 0, 0, 0 };
    /* {s: string of negative length} */
    static const uint8_t str_neg[] = { 13, 0, 0, 0, 2, 's', 0, 0xff, 0xff, 0xff, 0xff, 0, 0 };
    /* {d: doc claiming 200 bytes} */
    static const uint8_t doc_over[] = { 13, 0, 0, 0, 3, 'd', 0, 200, 0, 0, 0, 0, 0 };
    /* unknown type 0x20 */
    static const uint8_t bad_type[] = { 8, 0, 0, 0, 0x20, 'k', 0, 0 };
    /* key without NUL before the end */
    static const uint8_t key_run[] = { 8, 0, 0, 0, 0x0A, 'k', 'k', 0 };
    struct { const uint8_t *p; size_t n; } cases[] = {
        { short_len, sizeof(short_len) }, { long_len, sizeof(long_len) },
        { no_nul, sizeof(no_nul) }, { str_over, sizeof(str_over) },
        { str_neg, sizeof(str_neg) }, { doc_over, sizeof(doc_over) },
        { bad_type, sizeof(bad_type) }, { key_run, sizeof(key_run) },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ_INT(bson_validate(cases[i].p, cases[i].n, 8), BSON_MALFORMED);
        struct seen s;
        memset(&s, 0, sizeof(s));
        size_t used;
        int rc = walk_pieces(cases[i].p, cases[i].n, 1, &s, &used);
        if (rc != BSON_STREAM_MALFORMED)
            fprintf(stderr, "case %zu: rc %d\n", i, rc);
        CHECK_EQ_INT(rc, BSON_STREAM_MALFORMED);
    }
}

/* The walker reports the same things whatever the piece sizes. */
static void test_stream_every_piece_size(void)
{
    struct bb b = { buf_a, 0, {0}, 0 };
    size_t len = build_reply(&b, 5, 0x1122334455667788LL);
    struct seen whole;
    memset(&whole, 0, sizeof(whole));
    size_t used;
    CHECK_EQ_INT(walk_pieces(buf_a, len, len, &whole, &used), BSON_STREAM_DONE);
    CHECK_EQ_INT(used, len);
    CHECK_EQ_INT(whole.batch, 5);
    CHECK(whole.id == 0x1122334455667788LL);
    CHECK_EQ_STR(whole.ns, "shop.customers");
    CHECK(whole.ok_bits == 1.0);
    CHECK_EQ_INT(whole.max_depth, 4);
    for (size_t piece = 1; piece < len; piece++) {
        struct seen s;
        memset(&s, 0, sizeof(s));
        CHECK_EQ_INT(walk_pieces(buf_a, len, piece, &s, &used), BSON_STREAM_DONE);
        CHECK_EQ_INT(used, len);
        CHECK_EQ_INT(s.events, whole.events);
        CHECK_EQ_INT(s.batch, 5);
        CHECK(s.id == whole.id);
        CHECK_EQ_STR(s.ns, "shop.customers");
    }
}

/* Skipping the batch's documents: they are counted, not walked. */
static void test_stream_skip_and_trailing_bytes(void)
{
    struct bb b = { buf_a, 0, {0}, 0 };
    size_t len = build_reply(&b, 1000, 7);
    memcpy(buf_a + len, "TRAILER", 7);
    struct seen s;
    memset(&s, 0, sizeof(s));
    s.skip_batch_docs = true;
    struct bson_stream st;
    bson_stream_init(&st, len + 7, seen_cb, &s);
    size_t used = 0;
    CHECK_EQ_INT(bson_stream_feed(&st, buf_a, len + 7, &used), BSON_STREAM_DONE);
    CHECK_EQ_INT(used, len);               /* stops at the document's end */
    CHECK_EQ_INT(s.batch, 1000);
    CHECK_EQ_INT(s.max_depth, 2);
    CHECK(s.events < 1100);
    CHECK_EQ_INT(bson_stream_feed(&st, buf_a, 1, &used), BSON_STREAM_DONE);
    CHECK_EQ_INT(used, 0);
}

/* The limit bounds the top-level length; nested lengths are bound by their parent. */
static void test_stream_limits(void)
{
    struct bb b = { buf_a, 0, {0}, 0 };
    size_t len = build_reply(&b, 2, 1);
    struct seen s;
    memset(&s, 0, sizeof(s));
    struct bson_stream st;
    size_t used;
    bson_stream_init(&st, len - 1, seen_cb, &s);
    CHECK_EQ_INT(bson_stream_feed(&st, buf_a, len, &used), BSON_STREAM_MALFORMED);
    /* a nested document claiming more than its parent holds */
    static const uint8_t nested[] = { 20, 0, 0, 0, 3, 'a', 0, 12, 0, 0, 0, 0x0A, 'b', 0, 0, 0, 0, 0, 0, 0 };
    bson_stream_init(&st, sizeof(nested), seen_cb, &s);
    CHECK_EQ_INT(bson_stream_feed(&st, nested, sizeof(nested), &used), BSON_STREAM_MALFORMED);
    /* a string whose last byte is not NUL */
    static const uint8_t str[] = { 14, 0, 0, 0, 2, 's', 0, 2, 0, 0, 0, 'x', 'y', 0 };
    bson_stream_init(&st, sizeof(str), seen_cb, &s);
    CHECK_EQ_INT(bson_stream_feed(&st, str, sizeof(str), &used), BSON_STREAM_MALFORMED);
}

/* Deeper than BSON_STREAM_DEPTH_MAX: skipped whole, still framed. */
static void test_stream_depth_bound(void)
{
    struct bb b = { buf_a, 0, {0}, 0 };
    bb_open(&b, 0, NULL);
    int levels = 0;
    /* bb tracks 16 levels: build 60 levels by hand */
    b.depth = 0;
    b.len = 0;
    size_t starts[64];
    bb_u8(&b, 0); bb_u8(&b, 0); bb_u8(&b, 0); bb_u8(&b, 0);
    for (levels = 0; levels < 60; levels++) {
        bb_key(&b, 0x03, "d");
        starts[levels] = b.len;
        bb_i32(&b, 0);
    }
    bb_int32(&b, "leaf", 1);
    for (int i = 59; i >= 0; i--) {
        bb_u8(&b, 0);
        bb_patch32(&b, starts[i], (int32_t)(b.len - starts[i]));
    }
    bb_u8(&b, 0);
    bb_patch32(&b, 0, (int32_t)b.len);
    struct seen s;
    memset(&s, 0, sizeof(s));
    size_t used;
    CHECK_EQ_INT(walk_pieces(buf_a, b.len, 3, &s, &used), BSON_STREAM_DONE);
    CHECK_EQ_INT(used, b.len);
    CHECK_EQ_INT(s.max_depth, BSON_STREAM_DEPTH_MAX);
    CHECK_EQ_INT(bson_validate(buf_a, b.len, 100), BSON_OK);
    CHECK_EQ_INT(bson_validate(buf_a, b.len, 10), BSON_MALFORMED);
}

/* Long keys and strings are cut, and say so. */
struct cut_seen { bool key_cut, value_cut; size_t key_len, value_len; };

static enum bson_stream_action cut_cb(void *user, const struct bson_event *ev)
{
    struct cut_seen *c = user;
    c->key_cut = ev->key_cut;
    c->value_cut = ev->value_cut;
    c->key_len = ev->key_len;
    c->value_len = ev->value_len;
    return BSON_WALK;
}

static void test_stream_cuts(void)
{
    struct bb b = { buf_a, 0, {0}, 0 };
    char key[200], val[400];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    memset(val, 'v', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    bb_open(&b, 0, NULL);
    bb_string(&b, key, val);
    bb_close(&b);
    for (size_t piece = 1; piece <= b.len; piece += 37) {
        struct bson_stream st;
        struct cut_seen c = { 0, 0, 0, 0 };
        bson_stream_init(&st, b.len, cut_cb, &c);
        size_t at = 0, used = 0;
        int rc = BSON_STREAM_MORE;
        while (at < b.len && rc == BSON_STREAM_MORE) {
            size_t n = b.len - at < piece ? b.len - at : piece;
            rc = bson_stream_feed(&st, buf_a + at, n, &used);
            at += used;
        }
        CHECK_EQ_INT(rc, BSON_STREAM_DONE);
        CHECK(c.key_cut);
        CHECK(c.value_cut);
        CHECK_EQ_INT(c.key_len, BSON_STREAM_KEY_MAX);
        CHECK_EQ_INT(c.value_len, BSON_STREAM_STRING_MAX);
    }
}

int main(void)
{
    check_binary = "test_bson";
    buf_a = malloc(BB_CAP);
    if (!buf_a)
        return 1;
    RUN(test_iterator_all_types);
    RUN(test_iterator_rejects_bad_lengths);
    RUN(test_stream_every_piece_size);
    RUN(test_stream_skip_and_trailing_bytes);
    RUN(test_stream_limits);
    RUN(test_stream_depth_bound);
    RUN(test_stream_cuts);
    free(buf_a);
    CHECK_EXIT();
}
