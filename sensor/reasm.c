/* reasm.c - TCP reassembly of one direction of one connection.
 *
 * The direction is a cursor, `next_seq`, and a sorted list of pieces that
 * arrived ahead of it. Everything before `next_seq` has been handed to the
 * sink (as data or as a gap) exactly once. A piece is some captured bytes
 * followed by some bytes known to be missing (cut by the snap length), so a
 * segment held out of order keeps its wire length without special cases.
 *
 * Inside the held list, positions are compared as offsets from `next_seq`
 * (unsigned, always below 2^31), which makes wrap-around at 2^32 a
 * non-event: segments more than REASM_MAX_AHEAD past the cursor are never
 * held, and segments are never longer than REASM_MAX_SEGMENT.
 *
 * Invariants (checked by reasm_check in debug builds):
 *   - no held pieces unless seq_known;
 *   - held pieces are sorted, do not overlap, are not empty, and all begin
 *     strictly after next_seq (a piece at next_seq is delivered at once);
 *   - held_bytes is the sum of the pieces' costs (see reasm_piece_cost);
 *   - with a FIN pending, no held piece extends past fin_seq;
 *   - a pending FIN is never at next_seq (reaching it ends the direction).
 *
 * The caller (the worker) learns that a direction has ended by reading
 * `ended` after reasm_push, reasm_ack and reasm_flush: delivery may reach a
 * FIN that arrived earlier beyond a hole. The worker sets `ended` itself on
 * a RST, before or after reasm_flush; both orders work. Either sink
 * callback may be NULL. */
#include "reasm.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* No window is this large (the scaled maximum is 2^30): acks, FINs and
 * segments further ahead are stale or garbage. */
#define REASM_MAX_AHEAD ((uint32_t)1 << 30)
/* Larger than any captured TCP segment (even TSO/GRO); a longer one is cut
 * to this and the rest shows up later as a hole. Keeps offsets < 2^31. */
#define REASM_MAX_SEGMENT ((size_t)1 << 24)

struct reasm_seg {
    struct reasm_seg *next;
    uint32_t seq;       /* first byte */
    uint32_t len;       /* captured bytes in data[] */
    uint32_t gap;       /* then this many bytes missing on the wire */
    uint8_t data[];
};

/* Serial-number difference: positive when a is after b. */
static int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

/* Offset of sequence number `seq` from the cursor, for held positions. */
static uint32_t reasm_offset(const struct reasm_dir *d, uint32_t seq)
{
    return seq - d->next_seq;
}

/* Memory a piece is charged: its bytes, or 1 for a piece that is all gap so
 * that even empty pieces are bounded by the caps. */
static size_t reasm_piece_cost(uint32_t len)
{
    return len ? len : 1;
}

#ifndef NDEBUG
static void reasm_check(const struct reasm_dir *d)
{
    size_t sum = 0;
    uint32_t prev_end = 0;

    assert(d->seq_known || !d->held);
    assert(!d->fin_pending || d->fin_seq != d->next_seq);
    for (const struct reasm_seg *s = d->held; s; s = s->next) {
        uint32_t off = reasm_offset(d, s->seq);
        uint32_t end = off + s->len + s->gap;
        assert(s->len + s->gap > 0);
        assert(off > 0 && end <= REASM_MAX_AHEAD + REASM_MAX_SEGMENT);
        assert(off >= prev_end);
        assert(!d->fin_pending || end <= reasm_offset(d, d->fin_seq));
        prev_end = end;
        sum += reasm_piece_cost(s->len);
    }
    assert(sum == d->held_bytes);
}
#else
static void reasm_check(const struct reasm_dir *d)
{
    (void)d;
}
#endif

void reasm_init(struct reasm_dir *d)
{
    memset(d, 0, sizeof(*d));
}

/* The first SYN wins; a retransmitted one changes nothing. */
void reasm_syn(struct reasm_dir *d, uint32_t isn)
{
    if (d->seq_known)
        return;
    d->next_seq = isn + 1;
    d->seq_known = 1;
}

/* ---- global budget ---- */

/* Held bytes count against both the reassembly cap shared by all workers
 * and the worker's memory budget (when it has one). */
static int reasm_reserve_global(const struct reasm_limits *lim, size_t n)
{
    size_t used = atomic_load_explicit(lim->global_used, memory_order_relaxed);
    do {
        if (used > lim->global_max || n > lim->global_max - used)
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(
        lim->global_used, &used, used + n, memory_order_relaxed,
        memory_order_relaxed));
    if (lim->budget != NULL && !membudget_charge(lim->budget, n)) {
        atomic_fetch_sub_explicit(lim->global_used, n, memory_order_relaxed);
        return 0;
    }
    return 1;
}

static void reasm_release_global(const struct reasm_limits *lim, size_t n)
{
    size_t before = atomic_fetch_sub_explicit(lim->global_used, n, memory_order_relaxed);
    assert(before >= n);   /* never gives back more than was reserved */
    (void)before;
    if (lim->budget != NULL)
        membudget_release(lim->budget, n);
}

/* ---- delivery: everything that moves next_seq ---- */

/* Reaching a pending FIN ends the direction. next_seq stays at the FIN, the
 * end of the data, so that anything later is told apart from a
 * retransmission; the one number the FIN takes matters only to acks, which
 * an ended direction ignores. */
static void reasm_check_fin(struct reasm_dir *d)
{
    if (d->fin_pending && d->next_seq == d->fin_seq) {
        d->fin_pending = 0;
        d->ended = 1;
    }
}

static void reasm_emit_gap(struct reasm_dir *d, struct stats *st,
                           const struct reasm_sink *sink, uint32_t n)
{
    if (n == 0)
        return;
    if (sink->gap)
        sink->gap(sink->arg, n);
    stats_inc(st, STAT_REASM_GAPS);
    stats_add(st, STAT_REASM_GAP_BYTES, n);
    d->next_seq += n;
}

/* Hands `len` bytes then a gap of `gap` to the sink, at next_seq. */
static void reasm_emit(struct reasm_dir *d, struct stats *st,
                       const struct reasm_sink *sink, const uint8_t *data,
                       uint32_t len, uint32_t gap)
{
    if (len > 0) {
        if (sink->data)
            sink->data(sink->arg, data, len);
        d->delivered += len;
        d->next_seq += len;
    }
    reasm_emit_gap(d, st, sink, gap);
}

/* Emits `len` bytes + `gap` missing that begin `skip` bytes before
 * next_seq, dropping the part already delivered. */
static void reasm_emit_tail(struct reasm_dir *d, struct stats *st,
                            const struct reasm_sink *sink,
                            const uint8_t *data, uint32_t len, uint32_t gap,
                            uint32_t skip)
{
    if (skip < len) {
        reasm_emit(d, st, sink, data + skip, len - skip, gap);
    } else {
        reasm_emit(d, st, sink, NULL, 0, gap - (skip - len));
    }
}

static void reasm_unhold(struct reasm_dir *d, const struct reasm_limits *lim,
                         struct reasm_seg *s)
{
    size_t cost = reasm_piece_cost(s->len);
    assert(d->held == s && d->held_bytes >= cost);
    d->held = s->next;
    d->held_bytes -= cost;
    reasm_release_global(lim, cost);
    free(s);
}

/* Delivers the held pieces that now touch or overlap next_seq. A piece that
 * the in-order data already covered in part is trimmed (counted overlap). */
static void reasm_deliver_contiguous(struct reasm_dir *d,
                                     const struct reasm_limits *lim,
                                     struct stats *st,
                                     const struct reasm_sink *sink)
{
    struct reasm_seg *s;

    while ((s = d->held) && seq_diff(s->seq, d->next_seq) <= 0) {
        uint32_t skip = d->next_seq - s->seq;
        if (skip > 0)
            stats_inc(st, STAT_REASM_OVERLAPS);
        if (skip < s->len + s->gap)
            reasm_emit_tail(d, st, sink, s->data, s->len, s->gap, skip);
        reasm_unhold(d, lim, s);
    }
    reasm_check_fin(d);
}

/* Gives up on the bytes between next_seq and `upto`: reports them as a gap,
 * then delivers what became contiguous. */
static void reasm_skip_hole(struct reasm_dir *d, const struct reasm_limits *lim,
                            struct stats *st, const struct reasm_sink *sink,
                            uint32_t upto)
{
    int32_t n = seq_diff(upto, d->next_seq);
    if (n > 0)
        reasm_emit_gap(d, st, sink, (uint32_t)n);
    reasm_deliver_contiguous(d, lim, st, sink);
}

/* Delivers every held piece that begins before `seq`, with gaps for the
 * holes, leaving next_seq at or past `seq` or at a held piece after it. */
static void reasm_release_before(struct reasm_dir *d,
                                 const struct reasm_limits *lim,
                                 struct stats *st,
                                 const struct reasm_sink *sink, uint32_t seq)
{
    while (d->held && seq_diff(d->held->seq, seq) < 0)
        reasm_skip_hole(d, lim, st, sink, d->held->seq);
}

/* ---- holding segments that arrived early ---- */

/* Walks the stretches of [from, end) (offsets from next_seq) that no held
 * piece covers, in order; remembers whether any part was covered. */
struct reasm_walk {
    const struct reasm_dir *d;
    const struct reasm_seg *h;   /* first held piece that may still matter */
    uint32_t from, end;
    int covered;
};

static void reasm_walk_start(struct reasm_walk *w, const struct reasm_dir *d,
                             uint32_t from, uint32_t end)
{
    w->d = d;
    w->h = d->held;
    w->from = from;
    w->end = end;
    w->covered = 0;
}

static int reasm_walk_next(struct reasm_walk *w, uint32_t *a, uint32_t *b)
{
    while (w->from < w->end) {
        const struct reasm_seg *h = w->h;
        uint32_t h_off = h ? reasm_offset(w->d, h->seq) : w->end;
        uint32_t h_end = h ? h_off + h->len + h->gap : w->end;
        if (h_off >= w->end) {
            *a = w->from;
            *b = w->end;
            w->from = w->end;
            return 1;
        }
        if (h_end <= w->from) {
            w->h = h->next;
            continue;
        }
        if (w->from < h_off) {
            *a = w->from;
            *b = h_off;
            w->from = h_off;
            return 1;
        }
        w->covered = 1;
        w->from = h_end;
        w->h = h->next;
    }
    return 0;
}

/* A segment being held: `len` captured bytes then `wire - len` missing,
 * starting at offset `off` from next_seq. */
struct reasm_new {
    uint32_t seq, off, len, wire;
    const uint8_t *data;
};

/* Captured bytes of the segment that fall in [a, b). */
static uint32_t reasm_new_bytes_in(const struct reasm_new *n, uint32_t a,
                                   uint32_t b)
{
    uint32_t data_end = n->off + n->len;
    if (a >= data_end)
        return 0;
    return (b < data_end ? b : data_end) - a;
}

/* What storing the uncovered parts of the segment would cost; *covered
 * says whether held pieces already cover some of it. */
static size_t reasm_uncovered_cost(const struct reasm_dir *d,
                                   const struct reasm_new *n, int *covered)
{
    struct reasm_walk w;
    uint32_t a, b;
    size_t cost = 0;

    reasm_walk_start(&w, d, n->off, n->off + n->wire);
    while (reasm_walk_next(&w, &a, &b))
        cost += reasm_piece_cost(reasm_new_bytes_in(n, a, b));
    *covered = w.covered;
    return cost;
}

/* Frees up room for `cost` more bytes by giving up on holes from the front,
 * never past the new segment. Returns 1 with the global budget reserved, or
 * 0 when the segment must be delivered now instead. */
static int reasm_make_room(struct reasm_dir *d, const struct reasm_limits *lim,
                           struct stats *st, const struct reasm_sink *sink,
                           uint32_t seq, size_t cost)
{
    int counted = 0;

    for (;;) {
        int flow_ok = cost <= lim->flow_max &&
                      d->held_bytes <= lim->flow_max - cost;
        if (flow_ok && reasm_reserve_global(lim, cost))
            return 1;
        if (!counted)
            stats_inc(st, flow_ok ? STAT_REASM_GLOBAL_CAP : STAT_REASM_FLOW_CAP);
        counted = 1;
        if (!d->held || seq_diff(d->held->seq, seq) >= 0)
            return 0;
        reasm_skip_hole(d, lim, st, sink, d->held->seq);
    }
}

static void reasm_free_list(struct reasm_seg *s)
{
    while (s) {
        struct reasm_seg *next = s->next;
        free(s);
        s = next;
    }
}

/* Copies the uncovered parts of the segment into a sorted chain of new
 * pieces. Returns NULL when out of memory. */
static struct reasm_seg *reasm_copy_uncovered(const struct reasm_dir *d,
                                              const struct reasm_new *n)
{
    struct reasm_seg *first = NULL, **tail = &first;
    struct reasm_walk w;
    uint32_t a, b;

    reasm_walk_start(&w, d, n->off, n->off + n->wire);
    while (reasm_walk_next(&w, &a, &b)) {
        uint32_t bytes = reasm_new_bytes_in(n, a, b);
        struct reasm_seg *s = malloc(sizeof(*s) + bytes);
        if (!s) {
            reasm_free_list(first);
            return NULL;
        }
        s->next = NULL;
        s->seq = n->seq + (a - n->off);
        s->len = bytes;
        s->gap = (b - a) - bytes;
        if (bytes > 0)
            memcpy(s->data, n->data + (a - n->off), bytes);
        *tail = s;
        tail = &s->next;
    }
    return first;
}

/* Links a sorted chain of pieces that overlap nothing into the held list;
 * returns what they cost. */
static size_t reasm_link(struct reasm_dir *d, struct reasm_seg *chain)
{
    struct reasm_seg **pp = &d->held;
    size_t cost = 0;

    while (chain) {
        struct reasm_seg *s = chain;
        uint32_t off = reasm_offset(d, s->seq);
        chain = s->next;
        while (*pp && reasm_offset(d, (*pp)->seq) < off)
            pp = &(*pp)->next;
        s->next = *pp;
        *pp = s;
        pp = &s->next;
        cost += reasm_piece_cost(s->len);
    }
    d->held_bytes += cost;
    return cost;
}

/* Holds a segment that begins after next_seq: the bytes no held piece
 * covers yet are stored (first arrival wins). Returns 1 when done with the
 * segment, 0 when it could not be held and must be delivered now. */
static int reasm_hold(struct reasm_dir *d, const struct reasm_limits *lim,
                      struct stats *st, const struct reasm_sink *sink,
                      const struct reasm_new *n)
{
    int covered;
    size_t cost = reasm_uncovered_cost(d, n, &covered), linked;
    struct reasm_seg *chain;
    struct reasm_new here;

    if (cost == 0) {
        stats_inc(st, STAT_REASM_RETRANS);
        return 1;
    }
    if (!reasm_make_room(d, lim, st, sink, n->seq, cost))
        return 0;
    /* Giving up on holes moved next_seq: the segment may now be due. Holes
     * given up lay before it, so what it needs stored did not change. */
    if (seq_diff(n->seq, d->next_seq) <= 0) {
        reasm_release_global(lim, cost);
        return 0;
    }
    here = *n;
    here.off = reasm_offset(d, n->seq);
    chain = reasm_copy_uncovered(d, &here);
    if (!chain) {
        reasm_release_global(lim, cost);
        return 0;
    }
    linked = reasm_link(d, chain);
    assert(linked == cost);
    (void)linked;
    stats_inc(st, STAT_REASM_OOO_HELD);
    if (covered)
        stats_inc(st, STAT_REASM_OVERLAPS);
    return 1;
}

/* ---- segments ---- */

/* Delivers a segment that begins at or before next_seq: only its new part,
 * then whatever held pieces it made contiguous. */
static void reasm_deliver_new(struct reasm_dir *d,
                              const struct reasm_limits *lim,
                              struct stats *st, const struct reasm_sink *sink,
                              uint32_t seq, const uint8_t *data, uint32_t len,
                              uint32_t wire)
{
    uint32_t skip = d->next_seq - seq;

    if (d->ended || skip >= wire) {
        stats_inc(st, STAT_REASM_RETRANS);
        return;
    }
    if (skip > 0)
        stats_inc(st, STAT_REASM_OVERLAPS);
    reasm_emit_tail(d, st, sink, data, len, wire - len, skip);
    reasm_deliver_contiguous(d, lim, st, sink);
}

/* With a FIN pending, nothing may extend past it: cuts the segment at the
 * FIN. Returns 0 when nothing is left. */
static int reasm_clip_to_fin(const struct reasm_dir *d, struct stats *st,
                             uint32_t seq, uint32_t *len, uint32_t *wire)
{
    int32_t room;

    if (!d->fin_pending)
        return 1;
    room = seq_diff(d->fin_seq, seq);
    if (room <= 0) {
        stats_inc(st, STAT_REASM_AFTER_CLOSE);
        return 0;
    }
    if (*wire > (uint32_t)room) {
        stats_inc(st, STAT_REASM_AFTER_CLOSE);
        *wire = (uint32_t)room;
        if (*len > *wire)
            *len = *wire;
    }
    return 1;
}

/* A segment that begins after next_seq: holds it, or, when it cannot be
 * held, gives up on the holes before it. Returns 1 when it was held (or
 * held already), 0 when it is now due for delivery. */
static int reasm_push_ahead(struct reasm_dir *d, const struct reasm_limits *lim,
                            struct stats *st, const struct reasm_sink *sink,
                            uint32_t seq, const uint8_t *data, uint32_t len,
                            uint32_t wire)
{
    struct reasm_new n = { seq, reasm_offset(d, seq), len, wire, data };
    int32_t off;

    if (reasm_hold(d, lim, st, sink, &n))
        return 1;
    reasm_release_before(d, lim, st, sink, seq);
    off = seq_diff(seq, d->next_seq);
    if (off > 0)
        reasm_emit_gap(d, st, sink, (uint32_t)off);
    return 0;
}

void reasm_push(struct reasm_dir *d, const struct reasm_limits *lim,
                struct stats *st, uint32_t seq, const uint8_t *data,
                size_t len, size_t wire_len, const struct reasm_sink *sink)
{
    uint32_t len32, wire32;
    int32_t off;

    if (wire_len < len)
        wire_len = len;
    if (wire_len == 0)
        return;
    if (wire_len > REASM_MAX_SEGMENT)
        wire_len = REASM_MAX_SEGMENT;
    if (len > wire_len)
        len = wire_len;
    len32 = (uint32_t)len;
    wire32 = (uint32_t)wire_len;

    if (d->ended) {
        int32_t end = seq_diff(seq + wire32, d->next_seq);
        stats_inc(st, end <= 0 ? STAT_REASM_RETRANS : STAT_REASM_AFTER_CLOSE);
        return;
    }
    if (!d->seq_known) {
        d->next_seq = seq;
        d->seq_known = 1;
    }
    if (!reasm_clip_to_fin(d, st, seq, &len32, &wire32))
        return;

    off = seq_diff(seq, d->next_seq);
    if (off > (int32_t)REASM_MAX_AHEAD) {
        /* Far outside any window: stale or forged; dropped like a
         * retransmission. */
        stats_inc(st, STAT_REASM_RETRANS);
    } else if (off <= 0 || !reasm_push_ahead(d, lim, st, sink, seq, data,
                                               len32, wire32)) {
        reasm_deliver_new(d, lim, st, sink, seq, data, len32, wire32);
    }
    reasm_check(d);
}

/* ---- acks, FIN, close ---- */

void reasm_ack(struct reasm_dir *d, const struct reasm_limits *lim,
               struct stats *st, uint32_t ack, const struct reasm_sink *sink)
{
    int32_t ahead;
    uint32_t target = ack;

    if (!d->seq_known || d->ended)
        return;
    ahead = seq_diff(ack, d->next_seq);
    if (ahead <= 0 || ahead > (int32_t)REASM_MAX_AHEAD)
        return;
    /* An ack of the FIN covers the FIN's number, not a data byte. */
    if (d->fin_pending && seq_diff(target, d->fin_seq) > 0)
        target = d->fin_seq;
    while (!d->ended && seq_diff(target, d->next_seq) > 0) {
        uint32_t upto = target;
        if (d->held && seq_diff(d->held->seq, upto) < 0)
            upto = d->held->seq;
        reasm_skip_hole(d, lim, st, sink, upto);
    }
    reasm_check(d);
}

/* Drops held bytes past a newly seen FIN: data after the close. */
static void reasm_drop_after_fin(struct reasm_dir *d,
                                 const struct reasm_limits *lim,
                                 struct stats *st)
{
    uint32_t fin_off = reasm_offset(d, d->fin_seq);
    struct reasm_seg **pp = &d->held;

    while (*pp) {
        struct reasm_seg *s = *pp;
        uint32_t off = reasm_offset(d, s->seq);
        if (off + s->len + s->gap <= fin_off) {
            pp = &s->next;
            continue;
        }
        stats_inc(st, STAT_REASM_AFTER_CLOSE);
        if (off >= fin_off) {
            *pp = s->next;
            d->held_bytes -= reasm_piece_cost(s->len);
            reasm_release_global(lim, reasm_piece_cost(s->len));
            free(s);
            continue;
        }
        /* Keep the part before the FIN; cost only goes down. */
        size_t before = reasm_piece_cost(s->len);
        uint32_t keep = fin_off - off;
        if (s->len > keep) {
            s->len = keep;
            s->gap = 0;
        } else {
            s->gap = keep - s->len;
        }
        d->held_bytes -= before - reasm_piece_cost(s->len);
        reasm_release_global(lim, before - reasm_piece_cost(s->len));
        pp = &s->next;
    }
}

int reasm_fin(struct reasm_dir *d, const struct reasm_limits *lim,
              struct stats *st, uint32_t seq, const struct reasm_sink *sink)
{
    int32_t ahead;

    (void)sink;
    if (d->ended)
        return 1;
    if (!d->seq_known) {
        d->next_seq = seq;
        d->seq_known = 1;
    }
    ahead = seq_diff(seq, d->next_seq);
    /* A FIN inside delivered data, far ahead, or other than the first one
     * seen contradicts the stream: it is ignored. */
    if (ahead < 0 || ahead > (int32_t)REASM_MAX_AHEAD ||
        (d->fin_pending && d->fin_seq != seq))
        return 0;
    d->fin_pending = 1;
    d->fin_seq = seq;
    reasm_drop_after_fin(d, lim, st);
    reasm_check_fin(d);
    reasm_check(d);
    return d->ended;
}

void reasm_flush(struct reasm_dir *d, const struct reasm_limits *lim,
                 struct stats *st, const struct reasm_sink *sink)
{
    while (d->held)
        reasm_skip_hole(d, lim, st, sink, d->held->seq);
    if (d->fin_pending)
        reasm_skip_hole(d, lim, st, sink, d->fin_seq);
    reasm_check(d);
}

void reasm_free(struct reasm_dir *d, const struct reasm_limits *lim)
{
    size_t released = 0;
    while (d->held) {
        struct reasm_seg *s = d->held;
        d->held = s->next;
        reasm_release_global(lim, reasm_piece_cost(s->len));
        released += reasm_piece_cost(s->len);
        free(s);
    }
    assert(released == d->held_bytes);
    (void)released;
    d->held_bytes = 0;
}
