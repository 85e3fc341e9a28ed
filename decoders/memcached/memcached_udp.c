/* memcached_udp.c - memcached over UDP: every datagram starts with an
 * 8-byte frame header (request id, sequence number, datagram count,
 * reserved). A request is one datagram; a reply may take several, which
 * arrive in any order: they are held per request id (at most
 * udp_pending_max replies and udp_reply_max bytes per flow) and read in
 * sequence order once all have come. A reply still missing datagrams after
 * udp_timeout_s, pushed out by the caps, or left at close is read as far as
 * it goes and its op flagged partial (memcached.udp_incomplete /
 * memcached.udp_overflow). Replies pair with requests by request id.
 *
 * Amplification (memcached.c, mc_emit): a UDP op whose reply is at least
 * amplification_ratio times its request and at least amplification_min
 * bytes (memcached message bytes, frame headers not counted) is flagged
 * amplified.
 *
 * Probes: the first request datagram of a flow that is one bare "stats",
 * "version" or "flush_all" line is flagged probe (the reflection
 * reconnaissance of scanners and DDoS kits); masscan's exact datagram
 * (request id 0, "flush_all\r\n") is named "masscan". */
#include "memcached_flow.h"

#include <stdlib.h>
#include <string.h>

struct mc_udp_chunk {
    struct mc_udp_chunk *next;
    uint16_t sequence;
    size_t len;
    uint8_t data[];
};

struct mc_udp_reply {
    struct mc_udp_reply *next;
    uint16_t request_id;
    uint16_t total;
    uint16_t received;
    uint64_t first_us;
    struct mc_udp_chunk *chunks;    /* by sequence */
};

static bool payload_is(const uint8_t *buf, size_t len, const char *s)
{
    return len == strlen(s) && memcmp(buf, s, len) == 0;
}

static void check_probe(struct mc_flow *f, const struct mc_udp_header *h, const uint8_t *buf,
                        size_t len)
{
    if (f->udp_seen_request)
        return;
    f->udp_seen_request = true;
    if (!payload_is(buf, len, "stats\r\n") && !payload_is(buf, len, "version\r\n") &&
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

/* After a reply's datagrams were read: an op whose reply did not end (a
 * listing without END, missing datagrams) leaves partial. */
static void finish_read(struct mc_flow *f, struct decoder_ctx *ctx, uint16_t request_id)
{
    struct mc_dir *d = &f->dir[DIR_TO_CLIENT];
    if (d->held_len > 0)
        decoder_count(ctx, MEMCACHED_COUNTER_MALFORMED);
    struct mc_pending *e = mc_pending_front(f);
    if (e != NULL && e->udp_id == request_id && e->answered) {
        e->op.flags |= OP_FLAG_PARTIAL;
        e->op.ts_response_us = ctx->now_us;
        mc_pending_finish(f, ctx, 0);
    }
    mc_dir_reset(d);
    d->partial_next = false;
    f->udp_orphan = false;
    f->udp_id = 0;
}

static void read_single(struct mc_flow *f, struct decoder_ctx *ctx, uint16_t request_id,
                        const uint8_t *buf, size_t len)
{
    select_request(f, request_id);
    f->udp_id = request_id;
    mc_dir_reset(&f->dir[DIR_TO_CLIENT]);
    mc_feed(f, ctx, DIR_TO_CLIENT, buf, len);
    finish_read(f, ctx, request_id);
}

/* Reads a held reply's datagrams in order (a missing one is a gap), emits
 * and frees it. */
static void read_reply(struct mc_flow *f, struct decoder_ctx *ctx, struct mc_udp_reply *r)
{
    bool complete = r->received == r->total;
    if (!complete)
        decoder_count(ctx, MEMCACHED_COUNTER_UDP_INCOMPLETE);
    select_request(f, r->request_id);
    f->udp_id = r->request_id;
    mc_dir_reset(&f->dir[DIR_TO_CLIENT]);
    uint16_t expect = 0;
    for (struct mc_udp_chunk *c = r->chunks; c != NULL; c = c->next) {
        if (c->sequence != expect)
            mc_lose(f, ctx, DIR_TO_CLIENT, 0);
        mc_feed(f, ctx, DIR_TO_CLIENT, c->data, c->len);
        expect = (uint16_t)(c->sequence + 1);
    }
    if (!complete && mc_pending_front(f) != NULL &&
        mc_pending_front(f)->udp_id == r->request_id && !f->udp_orphan)
        mc_pending_front(f)->answered = 1;
    finish_read(f, ctx, r->request_id);
    for (struct mc_udp_chunk *c = r->chunks, *next; c != NULL; c = next) {
        next = c->next;
        f->udp_bytes -= c->len;
        free(c);
    }
    free(r);
}

/* Unlinks reply r from the flow's list. */
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

static void flush_oldest(struct mc_flow *f, struct decoder_ctx *ctx)
{
    struct mc_udp_reply *r = f->udp;
    unlink_reply(f, r);
    read_reply(f, ctx, r);
}

void mc_udp_flush(struct mc_flow *f, struct decoder_ctx *ctx, bool all)
{
    uint64_t timeout_us = (uint64_t)f->p.udp_timeout_s * 1000000u;
    struct mc_udp_reply *r = f->udp;
    while (r != NULL) {
        struct mc_udp_reply *next = r->next;
        if (all || ctx->now_us - r->first_us >= timeout_us) {
            unlink_reply(f, r);
            read_reply(f, ctx, r);
        }
        r = next;
    }
}

static struct mc_udp_reply *find_reply(struct mc_flow *f, uint16_t request_id)
{
    for (struct mc_udp_reply *r = f->udp; r != NULL; r = r->next)
        if (r->request_id == request_id)
            return r;
    return NULL;
}

static struct mc_udp_reply *new_reply(struct mc_flow *f, struct decoder_ctx *ctx,
                                      const struct mc_udp_header *h)
{
    if (f->udp_count >= f->p.udp_pending_max) {
        decoder_count(ctx, MEMCACHED_COUNTER_UDP_OVERFLOW);
        flush_oldest(f, ctx);
    }
    struct mc_udp_reply *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->request_id = h->request_id;
    r->total = h->total;
    r->first_us = ctx->now_us;
    struct mc_udp_reply **p = &f->udp;
    while (*p != NULL)
        p = &(*p)->next;
    *p = r;
    f->udp_count++;
    return r;
}

/* Holds one datagram of a reply of several; reads the reply once whole. */
static void hold_datagram(struct mc_flow *f, struct decoder_ctx *ctx,
                          const struct mc_udp_header *h, const uint8_t *buf, size_t len)
{
    while (f->udp != NULL && f->udp_bytes + len > f->p.udp_reply_max) {
        decoder_count(ctx, MEMCACHED_COUNTER_UDP_OVERFLOW);
        flush_oldest(f, ctx);
    }
    if (len > f->p.udp_reply_max) {
        decoder_count(ctx, MEMCACHED_COUNTER_UDP_OVERFLOW);
        return;
    }
    struct mc_udp_reply *r = find_reply(f, h->request_id);
    if (r == NULL && (r = new_reply(f, ctx, h)) == NULL)
        return;
    if (h->total != r->total) {
        decoder_count(ctx, MEMCACHED_COUNTER_MALFORMED);
        return;
    }
    struct mc_udp_chunk **p = &r->chunks;
    while (*p != NULL && (*p)->sequence < h->sequence)
        p = &(*p)->next;
    if (*p != NULL && (*p)->sequence == h->sequence)
        return;     /* a duplicate */
    struct mc_udp_chunk *c = malloc(sizeof(*c) + len);
    if (c == NULL)
        return;
    c->sequence = h->sequence;
    c->len = len;
    memcpy(c->data, buf, len);
    c->next = *p;
    *p = c;
    f->udp_bytes += len;
    r->received++;
    if (r->received == r->total) {
        unlink_reply(f, r);
        read_reply(f, ctx, r);
    }
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
        if (h.total == 1)
            read_single(f, ctx, h.request_id, buf, len);
        else
            hold_datagram(f, ctx, &h, buf, len);
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
