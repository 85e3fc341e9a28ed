/* memcached_udp.c - memcached over UDP: every datagram starts with an
 * 8-byte frame header (request id, sequence number, datagram count,
 * reserved). A request is one datagram. A reply may take many: memcached
 * frames each response object on its own (a multi-get's every VALUE is a run
 * of datagrams numbered from 0 with that run's count in its header, the END
 * line riding in the last run), all under the request's id. So the datagrams
 * of one request id are read as one stream, run after run, in sequence order
 * within a run (one that comes early is held), and the reply ends where the
 * text says it ends (END, a status line), not at a datagram count.
 *
 * One reply is read at a time (the oldest); datagrams of other request ids
 * are held until it ends. Held datagrams are bounded per flow by
 * udp_pending_max replies and udp_reply_max bytes (past them the oldest
 * reply is read as far as it goes, memcached.udp_overflow); a reply not
 * ended udp_timeout_s after its first datagram, or at close, is read as far
 * as it goes (memcached.udp_incomplete). Either way its op is partial.
 * Replies pair with requests by request id.
 *
 * Amplification (memcached.c, mc_emit): a UDP op whose reply is at least
 * amplification_ratio times its request and at least amplification_min
 * bytes (memcached message bytes, frame headers not counted) is flagged
 * amplified.
 *
 * Probes: the first request datagram of a flow that is one bare "stats",
 * "version" or "flush_all" line is flagged probe (the reflection
 * reconnaissance of scanners and DDoS kits); masscan's exact datagram
 * (request id 0, "flush_all\r\n") is named "masscan". nmap's memcached-info
 * over UDP asks "stats", then "stats settings" under the next request id:
 * that second op is flagged probe and named "Nmap NSE memcached-info". Over
 * TCP nothing is flagged: the same pair is what monitoring agents ask. */
#include "memcached_flow.h"

#include <stdlib.h>
#include <string.h>

struct mc_udp_chunk {
    struct mc_udp_chunk *next;
    uint16_t sequence;
    uint16_t total;
    size_t len;
    uint8_t data[];
};

/* The datagrams of one request id. Only the oldest reply is being read
 * (active): its chunks are those that came early within the current run.
 * The others hold theirs in arrival order until their turn. */
struct mc_udp_reply {
    struct mc_udp_reply *next;
    uint16_t request_id;
    uint16_t run_total;     /* datagram count of the run being read */
    uint16_t next_seq;      /* the run's next sequence number; 0: between runs */
    bool active;
    uint64_t first_us;
    struct mc_udp_chunk *chunks;
};

static bool payload_is(const uint8_t *buf, size_t len, const char *s)
{
    return len == strlen(s) && memcmp(buf, s, len) == 0;
}
#define MC_NMAP_CLIENT "Nmap NSE memcached-info"

/* nmap's memcached-info over UDP: a flow's first request "stats", its
 * second "stats settings" under the next request id. The second op is named
 * (the first was emitted with its reply before the second came). */
static bool nmap_second(const struct mc_flow *f, const struct mc_udp_header *h,
                        const uint8_t *buf, size_t len)
{
    return f->udp_first_stats && h->request_id == (uint16_t)(f->udp_first_id + 1) &&
           payload_is(buf, len, "stats settings\r\n");
}

static void check_probe(struct mc_flow *f, const struct mc_udp_header *h, const uint8_t *buf,
                        size_t len)
{
    if (f->udp_requests < 2)
        f->udp_requests++;
    if (f->udp_requests == 2) {
        if (nmap_second(f, h, buf, len)) {
            f->probe_next = true;
            f->probe_client = MC_NMAP_CLIENT;
        }
        f->udp_first_stats = false;
        f->udp_requests = 3;
    }
    if (f->udp_requests != 1)
        return;
    f->udp_first_id = h->request_id;
    f->udp_first_stats = payload_is(buf, len, "stats\r\n");
    if (!f->udp_first_stats && !payload_is(buf, len, "version\r\n") &&
        !payload_is(buf, len, "flush_all\r\n"))
        return;
    f->probe_next = true;
    f->probe_client = h->request_id == 0 && payload_is(buf, len, "flush_all\r\n") ? "masscan"
                                                                                   : NULL;
}

/* The waiting request a reply answers comes to the front; none: the reply
 * is unpaired. */
static void select_request(struct mc_flow *f, uint16_t request_id)
{
    f->udp_orphan = true;
    for (size_t i = 0; i < f->pending_count; i++) {
        if (mc_pending_at(f, i)->udp_id == request_id) {
            mc_pending_to_front(f, i);
            f->udp_orphan = false;
            return;
        }
    }
}

static void feed_reply(struct mc_flow *f, struct decoder_ctx *ctx, uint16_t request_id,
                       const uint8_t *buf, size_t len)
{
    f->udp_id = request_id;
    mc_feed(f, ctx, DIR_TO_CLIENT, buf, len);
    f->udp_id = 0;
}

/* True while the reply being read has not ended: a line or a value cut at
 * a datagram's end, or its op answered but not finished. */
static bool reply_open(struct mc_flow *f, uint16_t request_id)
{
    const struct mc_dir *d = &f->dir[DIR_TO_CLIENT];
    if (d->held_len > 0 || d->skip > 0)
        return true;
    const struct mc_pending *e = mc_pending_front(f);
    return e != NULL && e->udp_id == request_id && e->answered && !f->udp_orphan;
}

static void free_chunk(struct mc_flow *f, struct mc_udp_chunk *c)
{
    f->udp_bytes -= c->len;
    membudget_free(f->budget, c, sizeof(*c) + c->len);
}

/* Reads the early chunks that now follow in sequence. */
static void read_ready(struct mc_flow *f, struct decoder_ctx *ctx, struct mc_udp_reply *r)
{
    while (r->chunks != NULL && r->chunks->sequence == r->next_seq) {
        struct mc_udp_chunk *c = r->chunks;
        r->chunks = c->next;
        feed_reply(f, ctx, r->request_id, c->data, c->len);
        free_chunk(f, c);
        r->next_seq++;
    }
    if (r->next_seq >= r->run_total)
        r->next_seq = 0;
}

/* Reads what the run still holds, a gap before each missing datagram. */
static void read_with_gaps(struct mc_flow *f, struct decoder_ctx *ctx, struct mc_udp_reply *r)
{
    while (r->chunks != NULL) {
        struct mc_udp_chunk *c = r->chunks;
        r->chunks = c->next;
        if (c->sequence != r->next_seq)
            mc_lose(f, ctx, DIR_TO_CLIENT, 0);
        feed_reply(f, ctx, r->request_id, c->data, c->len);
        r->next_seq = (uint16_t)(c->sequence + 1);
        free_chunk(f, c);
    }
    r->next_seq = 0;
}

/* Keeps an early chunk of the active reply, by sequence; a duplicate is
 * dropped. */
static void hold_early(struct mc_flow *f, struct mc_udp_reply *r, struct mc_udp_chunk *c)
{
    struct mc_udp_chunk **p = &r->chunks;
    while (*p != NULL && (*p)->sequence < c->sequence)
        p = &(*p)->next;
    if (*p != NULL && (*p)->sequence == c->sequence) {
        free_chunk(f, c);
        return;
    }
    c->next = *p;
    *p = c;
}

/* One datagram of the active reply: read at once when it is next in its
 * run, held when it comes early. A sequence 0 while a run misses datagrams
 * starts the next run: the missing ones are a gap. */
static void take_datagram(struct mc_flow *f, struct decoder_ctx *ctx, struct mc_udp_reply *r,
                          struct mc_udp_chunk *c)
{
    if (c->sequence == 0 && r->next_seq != 0) {
        decoder_count(ctx, MEMCACHED_COUNTER_UDP_INCOMPLETE);
        read_with_gaps(f, ctx, r);
        mc_lose(f, ctx, DIR_TO_CLIENT, 0);
    }
    if (c->sequence != 0 && c->sequence < r->next_seq) {
        free_chunk(f, c);   /* a duplicate of one read */
        return;
    }
    if (c->sequence != r->next_seq) {
        hold_early(f, r, c);
        return;
    }
    if (c->sequence == 0) {
        r->run_total = c->total;
    } else if (c->total != r->run_total) {
        decoder_count(ctx, MEMCACHED_COUNTER_MALFORMED);
        free_chunk(f, c);
        return;
    }
    feed_reply(f, ctx, r->request_id, c->data, c->len);
    free_chunk(f, c);
    r->next_seq++;
    read_ready(f, ctx, r);
}

/* After a reply ended or was given up: an op whose reply did not end (a
 * listing without END, missing datagrams) leaves partial. */
static void finish_read(struct mc_flow *f, struct decoder_ctx *ctx, uint16_t request_id)
{
    struct mc_dir *d = &f->dir[DIR_TO_CLIENT];
    if (d->held_len > 0)
        decoder_count(ctx, MEMCACHED_COUNTER_MALFORMED);
    struct mc_pending *e = mc_pending_front(f);
    if (e != NULL && e->udp_id == request_id && e->answered && !f->udp_orphan) {
        e->op.flags |= OP_FLAG_PARTIAL;
        e->op.ts_response_us = ctx->now_us;
        mc_pending_finish(f, ctx, 0);
    }
    mc_dir_reset(d);
    d->partial_next = false;
    f->udp_orphan = false;
}

static void unlink_reply(struct mc_flow *f, struct mc_udp_reply *r)
{
    for (struct mc_udp_reply **p = &f->udp; *p != NULL; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            f->udp_count--;
            return;
        }
    }
}

/* Ends the active reply (the list's head): what it holds is read with
 * gaps, its op emitted. */
static void end_reply(struct mc_flow *f, struct decoder_ctx *ctx, struct mc_udp_reply *r)
{
    if (r->chunks != NULL)
        read_with_gaps(f, ctx, r);
    finish_read(f, ctx, r->request_id);
    unlink_reply(f, r);
    membudget_free(f->budget, r, sizeof(*r));
}

static void activate(struct mc_flow *f, struct decoder_ctx *ctx, struct mc_udp_reply *r);

/* The active reply has ended when its text did; the next one starts. */
static void check_ended(struct mc_flow *f, struct decoder_ctx *ctx)
{
    struct mc_udp_reply *r = f->udp;
    if (r == NULL || !r->active || reply_open(f, r->request_id))
        return;
    if (r->next_seq != 0 || r->chunks != NULL)
        return;     /* its run is not over: more of it is coming */
    end_reply(f, ctx, r);
    if (f->udp != NULL)
        activate(f, ctx, f->udp);
}

/* A held reply's turn: its request comes to the front and its datagrams
 * are taken in the order they came. */
static void activate(struct mc_flow *f, struct decoder_ctx *ctx, struct mc_udp_reply *r)
{
    select_request(f, r->request_id);
    mc_dir_reset(&f->dir[DIR_TO_CLIENT]);
    f->dir[DIR_TO_CLIENT].partial_next = false;
    r->active = true;
    r->next_seq = 0;
    struct mc_udp_chunk *c = r->chunks;
    r->chunks = NULL;
    while (c != NULL) {
        struct mc_udp_chunk *next = c->next;
        take_datagram(f, ctx, r, c);
        c = next;
    }
    check_ended(f, ctx);
}

/* Gives up the active reply (timeout, caps, close). */
static void give_up_active(struct mc_flow *f, struct decoder_ctx *ctx, uint16_t counter)
{
    decoder_count(ctx, counter);
    end_reply(f, ctx, f->udp);
    if (f->udp != NULL)
        activate(f, ctx, f->udp);
}

void mc_udp_flush(struct mc_flow *f, struct decoder_ctx *ctx, bool all)
{
    uint64_t timeout_us = (uint64_t)f->p.udp_timeout_s * 1000000u;
    while (f->udp != NULL && (all || ctx->now_us - f->udp->first_us >= timeout_us))
        give_up_active(f, ctx, MEMCACHED_COUNTER_UDP_INCOMPLETE);
}

static struct mc_udp_reply *find_reply(struct mc_flow *f, uint16_t request_id)
{
    for (struct mc_udp_reply *r = f->udp; r != NULL; r = r->next)
        if (r->request_id == request_id)
            return r;
    return NULL;
}

static struct mc_udp_reply *new_reply(struct mc_flow *f, struct decoder_ctx *ctx,
                                      uint16_t request_id)
{
    if (f->udp_count >= f->p.udp_pending_max)
        give_up_active(f, ctx, MEMCACHED_COUNTER_UDP_OVERFLOW);
    struct mc_udp_reply *r = membudget_calloc(f->budget, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->request_id = request_id;
    r->first_us = ctx->now_us;
    struct mc_udp_reply **p = &f->udp;
    while (*p != NULL)
        p = &(*p)->next;
    *p = r;
    f->udp_count++;
    return r;
}

static struct mc_udp_chunk *new_chunk(struct mc_flow *f, const struct mc_udp_header *h,
                                      const uint8_t *buf, size_t len)
{
    struct mc_udp_chunk *c = membudget_malloc(f->budget, sizeof(*c) + len);
    if (c == NULL)
        return NULL;
    c->next = NULL;
    c->sequence = h->sequence;
    c->total = h->total;
    c->len = len;
    memcpy(c->data, buf, len);
    f->udp_bytes += len;
    return c;
}

static void append_chunk(struct mc_udp_reply *r, struct mc_udp_chunk *c)
{
    struct mc_udp_chunk **p = &r->chunks;
    while (*p != NULL)
        p = &(*p)->next;
    *p = c;
}

/* One reply datagram: taken by the active reply, or held for its own. */
static void reply_datagram(struct mc_flow *f, struct decoder_ctx *ctx,
                           const struct mc_udp_header *h, const uint8_t *buf, size_t len)
{
    if (len > f->p.udp_reply_max) {
        decoder_count(ctx, MEMCACHED_COUNTER_UDP_OVERFLOW);
        return;
    }
    while (f->udp != NULL && f->udp_bytes + len > f->p.udp_reply_max)
        give_up_active(f, ctx, MEMCACHED_COUNTER_UDP_OVERFLOW);
    struct mc_udp_reply *r = find_reply(f, h->request_id);
    if (r == NULL && (r = new_reply(f, ctx, h->request_id)) == NULL)
        return;
    struct mc_udp_chunk *c = new_chunk(f, h, buf, len);
    if (c == NULL)
        return;
    if (!r->active && r == f->udp) {
        append_chunk(r, c);
        activate(f, ctx, r);
        return;
    }
    if (!r->active) {
        append_chunk(r, c);
        return;
    }
    take_datagram(f, ctx, r, c);
    check_ended(f, ctx);
}

void mc_udp_datagram(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                     const uint8_t *buf, size_t len)
{
    decoder_count(ctx, MEMCACHED_COUNTER_UDP_DATAGRAMS);
    mc_udp_flush(f, ctx, false);
    struct mc_udp_header h;
    if (mc_parse_udp_header(buf, len, &h) < 0) {
        decoder_count(ctx, MEMCACHED_COUNTER_MALFORMED);
        return;
    }
    buf += MC_UDP_HEADER;
    len -= MC_UDP_HEADER;
    if (dir == DIR_TO_CLIENT) {
        reply_datagram(f, ctx, &h, buf, len);
        return;
    }
    struct mc_dir *d = &f->dir[DIR_TO_SERVER];
    check_probe(f, &h, buf, len);
    mc_dir_reset(d);
    f->udp_id = h.request_id;
    mc_feed(f, ctx, DIR_TO_SERVER, buf, len);
    if (d->held_len > 0)
        decoder_count(ctx, MEMCACHED_COUNTER_MALFORMED);
    mc_dir_reset(d);
    f->udp_id = 0;
    f->probe_next = false;
}

void mc_udp_gap(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    /* the datagram was cut by the snap length: the op it carried is partial
     * (a request's op waits at the back; a reply's was already read) */
    struct mc_pending *back = mc_pending_back(f);
    if (dir == DIR_TO_SERVER && back != NULL)
        back->op.flags |= OP_FLAG_PARTIAL;
    decoder_count(ctx, MEMCACHED_COUNTER_RESYNC);
}
