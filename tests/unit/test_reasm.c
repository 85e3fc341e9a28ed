/* test_reasm.c - TCP reassembly: order, overlaps, gaps, caps, FIN.
 *
 * The sink writes a transcript: delivered bytes as they are, a gap as
 * "[gap N]". Each test pushes segments and compares the transcript and the
 * counters with what one direction of a connection should produce. */
#include "../../sensor/reasm.h"

#include "check.h"

struct transcript {
    char text[4096];
    size_t len;
};

static void transcript_data(void *arg, const uint8_t *buf, size_t len)
{
    struct transcript *t = arg;
    if (len > sizeof(t->text) - 1 - t->len)
        len = sizeof(t->text) - 1 - t->len;
    memcpy(t->text + t->len, buf, len);
    t->len += len;
    t->text[t->len] = '\0';
}

static void transcript_gap(void *arg, uint64_t len)
{
    struct transcript *t = arg;
    int n = snprintf(t->text + t->len, sizeof(t->text) - t->len,
                     "[gap %" PRIu64 "]", len);
    if (n > 0 && (size_t)n < sizeof(t->text) - t->len)
        t->len += (size_t)n;
}

/* One direction with its own counters, limits and transcript. */
struct fixture {
    struct reasm_dir d;
    struct stats st;
    _Atomic size_t used;
    struct reasm_limits lim;
    struct transcript out;
    struct reasm_sink sink;
};

static void fixture_init(struct fixture *f, size_t flow_max, size_t global_max)
{
    memset(f, 0, sizeof(*f));
    reasm_init(&f->d);
    stats_clear(&f->st);
    atomic_init(&f->used, 0);
    f->lim.flow_max = flow_max;
    f->lim.global_max = global_max;
    f->lim.global_used = &f->used;
    f->sink.data = transcript_data;
    f->sink.gap = transcript_gap;
    f->sink.arg = &f->out;
}

static void fixture_open(struct fixture *f, uint32_t isn)
{
    fixture_init(f, 1 << 20, 1 << 24);
    reasm_syn(&f->d, isn);
}

static void push_cut(struct fixture *f, uint32_t seq, const char *s,
                     size_t wire_len)
{
    reasm_push(&f->d, &f->lim, &f->st, seq, (const uint8_t *)s, strlen(s),
               wire_len, &f->sink);
}

static void push(struct fixture *f, uint32_t seq, const char *s)
{
    push_cut(f, seq, s, strlen(s));
}

static void ack(struct fixture *f, uint32_t seq)
{
    reasm_ack(&f->d, &f->lim, &f->st, seq, &f->sink);
}

static int fin(struct fixture *f, uint32_t seq)
{
    return reasm_fin(&f->d, &f->lim, &f->st, seq, &f->sink);
}

static void flush(struct fixture *f)
{
    reasm_flush(&f->d, &f->lim, &f->st, &f->sink);
}

static uint64_t count(const struct fixture *f, enum stat_id id)
{
    return stats_get(&f->st, id);
}

static size_t used(struct fixture *f)
{
    return atomic_load(&f->used);
}

static void test_in_order(void)
{
    struct fixture f;
    fixture_open(&f, 1000);
    push(&f, 1001, "hello ");
    push(&f, 1007, "world");
    CHECK_EQ_STR(f.out.text, "hello world");
    CHECK_EQ_INT(f.d.delivered, 11);
    CHECK_EQ_INT(f.d.next_seq, 1012);
    CHECK_EQ_INT(count(&f, STAT_REASM_OOO_HELD), 0);
    CHECK_EQ_INT(count(&f, STAT_REASM_GAPS), 0);
    reasm_free(&f.d, &f.lim);
}

static void test_out_of_order_reversed(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 7, "ghi");
    push(&f, 4, "def");
    CHECK_EQ_STR(f.out.text, "");
    CHECK_EQ_INT(f.d.held_bytes, 6);
    CHECK_EQ_INT(used(&f), 6);
    push(&f, 1, "abc");
    CHECK_EQ_STR(f.out.text, "abcdefghi");
    CHECK_EQ_INT(count(&f, STAT_REASM_OOO_HELD), 2);
    CHECK_EQ_INT(count(&f, STAT_REASM_OVERLAPS), 0);
    CHECK_EQ_INT(f.d.held_bytes, 0);
    CHECK_EQ_INT(used(&f), 0);
    CHECK(f.d.held == NULL);
}

static void test_retransmission(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 1, "abc");
    push(&f, 1, "abc");
    push(&f, 2, "b");
    push(&f, 10, "xyz");
    push(&f, 10, "xyz");
    CHECK_EQ_INT(count(&f, STAT_REASM_RETRANS), 3);
    CHECK_EQ_INT(count(&f, STAT_REASM_OOO_HELD), 1);
    push(&f, 4, "defghi");
    CHECK_EQ_STR(f.out.text, "abcdefghixyz");
    CHECK_EQ_INT(count(&f, STAT_REASM_OVERLAPS), 0);
    CHECK_EQ_INT(used(&f), 0);
}

static void test_overlap_with_delivered(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 1, "abcd");
    push(&f, 3, "CDef");
    CHECK_EQ_STR(f.out.text, "abcdef");
    CHECK_EQ_INT(count(&f, STAT_REASM_OVERLAPS), 1);
    CHECK_EQ_INT(count(&f, STAT_REASM_RETRANS), 0);
    CHECK_EQ_INT(f.d.delivered, 6);
}

/* Among held segments the bytes that arrived first win. */
static void test_overlap_among_held(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 5, "EFGH");       /* [5,9) */
    push(&f, 3, "cdxxxxi");    /* [3,10): keeps [3,5) and [9,10) */
    CHECK_EQ_INT(count(&f, STAT_REASM_OVERLAPS), 1);
    CHECK_EQ_INT(f.d.held_bytes, 7);
    push(&f, 5, "zzzz");       /* exact duplicate of held bytes */
    push(&f, 6, "yy");         /* inside held bytes */
    CHECK_EQ_INT(count(&f, STAT_REASM_RETRANS), 2);
    push(&f, 11, "KL");
    push(&f, 8, "wwwwwww");    /* [8,15): keeps [10,11) and [13,15) */
    CHECK_EQ_INT(count(&f, STAT_REASM_OVERLAPS), 2);
    push(&f, 1, "ab");
    CHECK_EQ_STR(f.out.text, "abcdEFGHiwKLww");
    CHECK_EQ_INT(count(&f, STAT_REASM_OOO_HELD), 4);
    CHECK_EQ_INT(used(&f), 0);
}

/* An in-order segment that runs into held data is delivered whole; the
 * held piece is trimmed to what is new. */
static void test_in_order_covers_held(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 5, "EFG");
    push(&f, 8, "HI");
    push(&f, 1, "abcdefgh");   /* [1,9) covers [5,8) and half of [8,10) */
    CHECK_EQ_STR(f.out.text, "abcdefghI");
    CHECK_EQ_INT(count(&f, STAT_REASM_OVERLAPS), 2);
    CHECK_EQ_INT(f.d.next_seq, 10);
    CHECK_EQ_INT(used(&f), 0);
}

static void test_wrap_in_order(void)
{
    struct fixture f;
    fixture_open(&f, 0xFFFFFFF0u);
    push(&f, 0xFFFFFFF1u, "abcdefghij");      /* ends at 0xFFFFFFFB */
    push(&f, 0xFFFFFFFBu, "klmnopqrst");      /* crosses 2^32 */
    push(&f, 5, "uvw");
    push(&f, 0xFFFFFFFFu, "opq");             /* retransmission across */
    CHECK_EQ_STR(f.out.text, "abcdefghijklmnopqrstuvw");
    CHECK_EQ_INT(f.d.next_seq, 8);
    CHECK_EQ_INT(count(&f, STAT_REASM_RETRANS), 1);
}

static void test_wrap_out_of_order(void)
{
    struct fixture f;
    fixture_open(&f, 0xFFFFFFF0u);
    push(&f, 5, "uvw");
    push(&f, 0xFFFFFFFBu, "klmnopqrst");
    push(&f, 0xFFFFFFFEu, "NOPQ");            /* inside held, across 0 */
    CHECK_EQ_INT(count(&f, STAT_REASM_RETRANS), 1);
    CHECK_EQ_STR(f.out.text, "");
    push(&f, 0xFFFFFFF1u, "abcdefghij");
    CHECK_EQ_STR(f.out.text, "abcdefghijklmnopqrstuvw");
    CHECK_EQ_INT(count(&f, STAT_REASM_OOO_HELD), 2);
    CHECK_EQ_INT(used(&f), 0);
}

static void test_wrap_isn_max(void)
{
    struct fixture f;
    fixture_open(&f, 0xFFFFFFFFu);
    push(&f, 3, "def");
    push(&f, 0, "abc");
    CHECK_EQ_STR(f.out.text, "abcdef");
    CHECK_EQ_INT(f.d.next_seq, 6);
}

static void test_midstream_start(void)
{
    struct fixture f;
    fixture_init(&f, 1 << 20, 1 << 24);
    ack(&f, 9000);             /* nothing known yet: ignored */
    push(&f, 5000, "abc");
    CHECK(f.d.seq_known);
    push(&f, 5006, "ghi");
    push(&f, 5003, "def");
    push(&f, 4990, "old");
    CHECK_EQ_STR(f.out.text, "abcdefghi");
    CHECK_EQ_INT(count(&f, STAT_REASM_RETRANS), 1);
    CHECK_EQ_INT(count(&f, STAT_REASM_GAPS), 0);
}

static void test_gap_by_ack(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 1, "abc");
    push(&f, 10, "xyz");
    ack(&f, 3);                /* not ahead: nothing */
    ack(&f, 4);
    ack(&f, 4 + (1u << 30) + 1); /* absurd: nothing */
    CHECK_EQ_STR(f.out.text, "abc");
    ack(&f, 8);
    CHECK_EQ_STR(f.out.text, "abc[gap 4]");
    ack(&f, 13);
    CHECK_EQ_STR(f.out.text, "abc[gap 4][gap 2]xyz");
    ack(&f, 20);
    CHECK_EQ_STR(f.out.text, "abc[gap 4][gap 2]xyz[gap 7]");
    CHECK_EQ_INT(count(&f, STAT_REASM_GAPS), 3);
    CHECK_EQ_INT(count(&f, STAT_REASM_GAP_BYTES), 13);
    CHECK_EQ_INT(used(&f), 0);
}

/* One ack past several holes gives up on all of them. */
static void test_ack_past_several_holes(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 1, "a");
    push(&f, 3, "c");
    push(&f, 6, "f");
    ack(&f, 7);
    CHECK_EQ_STR(f.out.text, "a[gap 1]c[gap 2]f");
    CHECK_EQ_INT(count(&f, STAT_REASM_GAPS), 2);
    CHECK_EQ_INT(used(&f), 0);
}

static void test_gap_at_flush(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 1, "abc");
    push(&f, 6, "fg");
    push(&f, 12, "l");
    flush(&f);
    CHECK_EQ_STR(f.out.text, "abc[gap 2]fg[gap 4]l");
    CHECK_EQ_INT(count(&f, STAT_REASM_GAPS), 2);
    CHECK_EQ_INT(count(&f, STAT_REASM_GAP_BYTES), 6);
    CHECK(f.d.held == NULL);
    CHECK_EQ_INT(f.d.held_bytes, 0);
    CHECK_EQ_INT(used(&f), 0);
    CHECK_EQ_INT(f.d.ended, 0);
}

static void test_flush_nothing(void)
{
    struct fixture f;
    fixture_init(&f, 100, 100);
    flush(&f);
    reasm_free(&f.d, &f.lim);
    reasm_syn(&f.d, 7);
    flush(&f);
    flush(&f);
    reasm_free(&f.d, &f.lim);
    CHECK_EQ_STR(f.out.text, "");
    CHECK_EQ_INT(count(&f, STAT_REASM_GAPS), 0);
    CHECK_EQ_INT(used(&f), 0);
    CHECK_EQ_INT(f.d.next_seq, 8);
}

/* Hitting the per-flow cap gives up on the first hole, which frees room. */
static void test_flow_cap(void)
{
    struct fixture f;
    fixture_init(&f, 5, 1000);
    reasm_syn(&f.d, 0);
    push(&f, 1, "a");
    push(&f, 5, "efg");
    push(&f, 9, "ijk");        /* 3 + 3 > 5 */
    CHECK_EQ_INT(count(&f, STAT_REASM_FLOW_CAP), 1);
    CHECK_EQ_STR(f.out.text, "a[gap 3]efg");
    CHECK_EQ_INT(f.d.held_bytes, 3);
    push(&f, 8, "h");
    CHECK_EQ_STR(f.out.text, "a[gap 3]efghijk");
    CHECK_EQ_INT(count(&f, STAT_REASM_GAPS), 1);
    CHECK_EQ_INT(count(&f, STAT_REASM_GAP_BYTES), 3);
    CHECK_EQ_INT(used(&f), 0);
}

/* A segment larger than the cap: held data first, then a gap, then it. */
static void test_flow_cap_large_segment(void)
{
    struct fixture f;
    fixture_init(&f, 5, 1000);
    reasm_syn(&f.d, 0);
    push(&f, 1, "a");
    push(&f, 4, "de");
    push(&f, 10, "0123456789");
    CHECK_EQ_INT(count(&f, STAT_REASM_FLOW_CAP), 1);
    CHECK_EQ_STR(f.out.text, "a[gap 2]de[gap 4]0123456789");
    CHECK_EQ_INT(f.d.next_seq, 20);
    CHECK_EQ_INT(count(&f, STAT_REASM_GAPS), 2);
    CHECK_EQ_INT(used(&f), 0);
}

/* The global budget is shared: one direction's holdings squeeze another. */
static void test_global_cap(void)
{
    struct fixture f, g;
    fixture_init(&f, 100, 4);
    fixture_init(&g, 100, 4);
    g.lim.global_used = &f.used;
    reasm_syn(&f.d, 0);
    reasm_syn(&g.d, 100);
    push(&f, 5, "xyz");
    CHECK_EQ_INT(used(&f), 3);
    push(&g, 101, "a");
    push(&g, 105, "ef");       /* 3 + 2 > 4 */
    CHECK_EQ_INT(count(&g, STAT_REASM_GLOBAL_CAP), 1);
    CHECK_EQ_STR(g.out.text, "a[gap 3]ef");
    push(&g, 110, "j");        /* 3 + 1 fits */
    CHECK_EQ_INT(count(&g, STAT_REASM_GLOBAL_CAP), 1);
    CHECK_EQ_INT(used(&f), 4);
    reasm_free(&f.d, &f.lim);
    CHECK_EQ_INT(used(&f), 1);
    reasm_flush(&g.d, &g.lim, &g.st, &g.sink);
    CHECK_EQ_STR(g.out.text, "a[gap 3]ef[gap 3]j");
    CHECK_EQ_INT(used(&f), 0);
    CHECK_EQ_INT(used(&g), 0);
}

static void test_snaplen_in_order(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push_cut(&f, 1, "abc", 10);
    CHECK_EQ_STR(f.out.text, "abc[gap 7]");
    CHECK_EQ_INT(f.d.next_seq, 11);
    push(&f, 11, "k");
    push_cut(&f, 12, "", 3);
    push(&f, 15, "o");
    CHECK_EQ_STR(f.out.text, "abc[gap 7]k[gap 3]o");
    CHECK_EQ_INT(count(&f, STAT_REASM_GAP_BYTES), 10);
    CHECK_EQ_INT(f.d.delivered, 5);
}

static void test_snaplen_out_of_order(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push_cut(&f, 5, "ef", 4);  /* [5,7) data, [7,9) cut */
    push_cut(&f, 12, "", 2);   /* all cut */
    CHECK_EQ_INT(f.d.held_bytes, 3);
    push(&f, 7, "GH");         /* first arrival (the cut) wins */
    CHECK_EQ_INT(count(&f, STAT_REASM_RETRANS), 1);
    push(&f, 1, "abcd");
    CHECK_EQ_STR(f.out.text, "abcdef[gap 2]");
    push(&f, 9, "ijk");
    CHECK_EQ_STR(f.out.text, "abcdef[gap 2]ijk[gap 2]");
    CHECK_EQ_INT(f.d.next_seq, 14);
    CHECK_EQ_INT(used(&f), 0);
}

/* A segment cut to nothing may come without a data pointer. */
static void test_snaplen_no_data(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    reasm_push(&f.d, &f.lim, &f.st, 4, NULL, 0, 3, &f.sink);
    CHECK_EQ_INT(f.d.held_bytes, 1);
    reasm_push(&f.d, &f.lim, &f.st, 1, NULL, 0, 2, &f.sink);
    push(&f, 3, "c");
    CHECK_EQ_STR(f.out.text, "[gap 2]c[gap 3]");
    CHECK_EQ_INT(used(&f), 0);
}

static void test_fin_in_order(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 1, "abc");
    CHECK_EQ_INT(fin(&f, 4), 1);
    CHECK(f.d.ended);
    CHECK_EQ_INT(f.d.next_seq, 4);
    CHECK_EQ_INT(fin(&f, 4), 1);   /* retransmitted FIN */
    ack(&f, 5);                    /* ack of the FIN: no gap */
    push(&f, 1, "abc");
    CHECK_EQ_INT(count(&f, STAT_REASM_RETRANS), 1);
    push(&f, 4, "x");
    push(&f, 50, "y");
    CHECK_EQ_INT(count(&f, STAT_REASM_AFTER_CLOSE), 2);
    CHECK_EQ_STR(f.out.text, "abc");
    CHECK_EQ_INT(count(&f, STAT_REASM_GAPS), 0);
}

static void test_fin_beyond_hole(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 1, "abc");
    push(&f, 6, "fg");
    CHECK_EQ_INT(fin(&f, 8), 0);
    CHECK(f.d.fin_pending);
    CHECK(!f.d.ended);
    push(&f, 4, "de");
    CHECK_EQ_STR(f.out.text, "abcdefg");
    CHECK(f.d.ended);
    CHECK(!f.d.fin_pending);
    CHECK_EQ_INT(used(&f), 0);
    CHECK_EQ_INT(fin(&f, 8), 1);
}

static void test_fin_pending_flush(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 1, "ab");
    CHECK_EQ_INT(fin(&f, 10), 0);
    push(&f, 8, "hijk");       /* [10,12) is past the FIN */
    push(&f, 12, "x");
    CHECK_EQ_INT(count(&f, STAT_REASM_AFTER_CLOSE), 2);
    flush(&f);
    CHECK_EQ_STR(f.out.text, "ab[gap 5]hi");
    CHECK(f.d.ended);
    CHECK_EQ_INT(used(&f), 0);
}

/* A FIN before held data: the held bytes past it are data after close. */
static void test_fin_drops_held_beyond(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 1, "a");
    push(&f, 5, "efgh");
    push(&f, 12, "l");
    CHECK_EQ_INT(fin(&f, 7), 0);
    CHECK_EQ_INT(count(&f, STAT_REASM_AFTER_CLOSE), 2);
    CHECK_EQ_INT(f.d.held_bytes, 2);
    CHECK_EQ_INT(used(&f), 2);
    push(&f, 2, "bcd");
    CHECK_EQ_STR(f.out.text, "abcdef");
    CHECK(f.d.ended);
    CHECK_EQ_INT(used(&f), 0);
}

static void test_fin_acked_over_hole(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 1, "abc");
    CHECK_EQ_INT(fin(&f, 10), 0);
    ack(&f, 11);
    CHECK_EQ_STR(f.out.text, "abc[gap 6]");
    CHECK(f.d.ended);
}

static void test_fin_midstream(void)
{
    struct fixture f;
    fixture_init(&f, 100, 100);
    CHECK_EQ_INT(fin(&f, 77), 1);
    push(&f, 77, "z");
    CHECK_EQ_INT(count(&f, STAT_REASM_AFTER_CLOSE), 1);
    CHECK_EQ_STR(f.out.text, "");
}

static void test_free_returns_budget(void)
{
    struct fixture f;
    fixture_open(&f, 0);
    push(&f, 10, "abc");
    push(&f, 20, "def");
    push_cut(&f, 30, "", 5);
    CHECK_EQ_INT(used(&f), 7);
    reasm_free(&f.d, &f.lim);
    CHECK_EQ_INT(used(&f), 0);
    CHECK(f.d.held == NULL);
    CHECK_EQ_INT(f.d.held_bytes, 0);
    CHECK_EQ_STR(f.out.text, "");
}

int main(void)
{
    check_binary = "reasm";
    RUN(test_in_order);
    RUN(test_out_of_order_reversed);
    RUN(test_retransmission);
    RUN(test_overlap_with_delivered);
    RUN(test_overlap_among_held);
    RUN(test_in_order_covers_held);
    RUN(test_wrap_in_order);
    RUN(test_wrap_out_of_order);
    RUN(test_wrap_isn_max);
    RUN(test_midstream_start);
    RUN(test_gap_by_ack);
    RUN(test_ack_past_several_holes);
    RUN(test_gap_at_flush);
    RUN(test_flush_nothing);
    RUN(test_flow_cap);
    RUN(test_flow_cap_large_segment);
    RUN(test_global_cap);
    RUN(test_snaplen_in_order);
    RUN(test_snaplen_out_of_order);
    RUN(test_snaplen_no_data);
    RUN(test_fin_in_order);
    RUN(test_fin_beyond_hole);
    RUN(test_fin_pending_flush);
    RUN(test_fin_drops_held_beyond);
    RUN(test_fin_acked_over_hole);
    RUN(test_fin_midstream);
    RUN(test_free_returns_budget);
    CHECK_EXIT();
}
