/* dispatch.c - packets from capture to workers (see dispatch.h). */
#include "dispatch.h"

#include <string.h>

#include "base/limits.h"
#include "flow.h"
#include "packet.h"
#include "pipeline.h"

#define MARK_EVERY 512   /* packets between progress marks */

void dispatch_init(struct dispatch *d, struct worker *workers, unsigned count, bool live)
{
    memset(d, 0, sizeof(*d));
    d->workers = workers;
    d->worker_count = count;
    d->live = live;
    ring_waiter_init(&d->waiter);
    for (unsigned i = 0; i < count; i++) {
        struct ring *r = &workers[i].in;
        r->writer = &d->waiter;
        ring_set_batch(r, live ? 0 : r->size / 8);
    }
}

void dispatch_batch_live(struct dispatch *d)
{
    for (unsigned i = 0; i < d->worker_count; i++)
        ring_set_batch(&d->workers[i].in, d->workers[i].in.size / 8);
}

void dispatch_flush(struct dispatch *d)
{
    for (unsigned i = 0; i < d->worker_count; i++)
        ring_flush(&d->workers[i].in);
}

int dispatch_exclude(struct dispatch *d, uint8_t family, const uint8_t *addr, uint16_t port)
{
    if (d->exclude_count >= DISPATCH_EXCLUDE_MAX)
        return -1;
    struct dispatch_exclude *e = &d->exclude[d->exclude_count++];
    memset(e, 0, sizeof(*e));
    e->family = family;
    memcpy(e->addr, addr, family == 4 ? 4 : 16);
    e->port = port;
    return 0;
}

static bool dispatch_is_excluded(const struct dispatch *d, const struct packet_info *pi)
{
    size_t alen = pi->family == 4 ? 4 : 16;
    for (unsigned i = 0; i < d->exclude_count; i++) {
        const struct dispatch_exclude *e = &d->exclude[i];
        if (e->family != pi->family || pi->proto != IPPROTO_TCP_NUM)
            continue;
        if ((pi->dport == e->port && memcmp(pi->dst, e->addr, alen) == 0)
            || (pi->sport == e->port && memcmp(pi->src, e->addr, alen) == 0))
            return true;
    }
    return false;
}

/* Tells every worker (that has room) how far dispatch has got, so the detect
 * thread can pass records of busy workers while others are idle. */
static void dispatch_marks(struct dispatch *d, unsigned skip)
{
    struct msg_tick m = {d->dispatched_seq, d->last_ts_us};
    for (unsigned i = 0; i < d->worker_count; i++) {
        if (i == skip || d->mark_sent[i] >= d->dispatched_seq)
            continue;
        if (ring_push(&d->workers[i].in, MSG_MARK, &m, sizeof(m)) == 0)
            d->mark_sent[i] = d->dispatched_seq;
    }
}

/* What dispatch waits for when worker `full`'s ring is full: room for
 * `len` bytes there, or room for a pending mark in another worker's ring
 * (the detect thread may need that mark to let worker `full` go on). */
struct dispatch_wait {
    struct dispatch *d;
    unsigned full;
    size_t len;
};

static bool mark_pending(const struct dispatch *d, unsigned i)
{
    return d->mark_sent[i] < d->dispatched_seq;
}

static int dispatch_wait_ready(void *arg)
{
    const struct dispatch_wait *a = arg;
    for (unsigned i = 0; i < a->d->worker_count; i++) {
        struct ring *r = &a->d->workers[i].in;
        if (i == a->full ? ring_writable(r, a->len)
                         : mark_pending(a->d, i) && ring_writable(r, sizeof(struct msg_tick)))
            return 1;
    }
    return 0;
}

/* Worker `full` wakes us once a quarter of its ring is free; the others as
 * soon as a mark fits. */
static void dispatch_wait_announce(void *arg, int on)
{
    const struct dispatch_wait *a = arg;
    for (unsigned i = 0; i < a->d->worker_count; i++) {
        struct ring *r = &a->d->workers[i].in;
        size_t want = i == a->full ? r->size / 4 : 64;
        ring_want_space(r, on && (i == a->full || mark_pending(a->d, i)) ? want : SIZE_MAX);
    }
}

/* Worker i's ring is full: marks the others, lets every worker see what it
 * has, and sleeps until there is room (ring.h). */
static void dispatch_wait(struct dispatch *d, unsigned i, size_t len)
{
    dispatch_marks(d, i);
    dispatch_flush(d);
    struct dispatch_wait a = {d, i, len};
    struct ring_wait_for what = {dispatch_wait_ready, dispatch_wait_announce, &a};
    ring_wait(&d->waiter, &what, -1);
}

/* Room in worker i's ring, waiting (and marking the others) if needed.
 * Returns NULL only in live mode when the ring is full. */
static void *dispatch_reserve(struct dispatch *d, unsigned i, uint32_t type, size_t len)
{
    void *p;
    while (!(p = ring_reserve(&d->workers[i].in, type, len))) {
        if (d->live)
            return NULL;
        dispatch_wait(d, i, len);
    }
    return p;
}

static void dispatch_broadcast(struct dispatch *d, uint32_t type, uint64_t ts_us)
{
    struct msg_tick t = {++d->seq, ts_us};
    for (unsigned i = 0; i < d->worker_count; i++) {
        /* Ticks and the end are never dropped, even live: wait for room. */
        while (ring_push(&d->workers[i].in, type, &t, sizeof(t)) != 0)
            dispatch_wait(d, i, sizeof(t));
    }
    d->dispatched_seq = d->seq;
    dispatch_flush(d);
}

static void dispatch_maybe_tick(struct dispatch *d, uint64_t ts_us)
{
    uint64_t sec = ts_us / 1000000;
    if (sec <= d->last_tick_sec)
        return;
    d->last_tick_sec = sec;
    dispatch_broadcast(d, MSG_TICK, ts_us);
}

/* Offline, at each stats_interval boundary of packet time: every worker
 * snapshots its counters after the packets before it (pipeline.h). */
static void dispatch_maybe_stats(struct dispatch *d, uint64_t ts_us)
{
    uint64_t slot = ts_us / d->stats_interval_us;
    if (d->last_stats_slot == 0 || slot < d->last_stats_slot) {
        d->last_stats_slot = slot ? slot : 1;  /* the first packet starts the clock */
        return;
    }
    if (slot == d->last_stats_slot)
        return;
    d->last_stats_slot = slot;
    struct {
        struct msg_stats m;
        uint64_t v[STATS_SLOTS];
    } first;
    /* No sequence number of its own (flow ids derive from them): it goes
     * right after the last message, whose records all sort before it. */
    first.m.seq = d->seq;
    first.m.ts_us = slot * d->stats_interval_us;
    for (unsigned i = 0; i < STATS_SLOTS; i++)
        first.v[i] = stats_get(&d->stats, i);
    for (unsigned i = 0; i < d->worker_count; i++) {
        size_t len = i == 0 ? sizeof(first) : sizeof(first.m);
        while (ring_push(&d->workers[i].in, MSG_STATS, &first, len) != 0)
            dispatch_wait(d, i, len);
    }
}

void dispatch_set_position(struct dispatch *d, uint32_t file, uint64_t packet)
{
    d->pcap_file = file;
    d->pcap_cnt = packet;
}

void dispatch_packet(struct dispatch *d, const uint8_t *data, uint32_t caplen,
                     uint32_t wire_len, uint64_t ts_us, int linktype)
{
    if (d->stats_interval_us && !d->live)
        dispatch_maybe_stats(d, ts_us);
    stats_inc(&d->stats, STAT_PACKETS);
    stats_add(&d->stats, STAT_BYTES, wire_len);
    if (ts_us > d->last_ts_us)
        d->last_ts_us = ts_us;
    dispatch_maybe_tick(d, ts_us);
    struct packet_info pi;
    enum stat_id reason;
    int parsed = packet_parse(linktype, data, caplen, &pi, &reason);
    packet_count_tunnels(&pi, &d->stats);
    if (parsed != 0) {
        stats_inc(&d->stats, reason);
        return;
    }
    if (d->exclude_count && dispatch_is_excluded(d, &pi)) {
        stats_inc(&d->stats, STAT_CAPTURE_EXCLUDED);
        return;
    }
    if (pi.payload_len < pi.payload_wire_len)
        stats_inc(&d->stats, STAT_TRUNCATED);
    stats_inc(&d->stats, pi.proto == IPPROTO_TCP_NUM ? STAT_TCP_PACKETS : STAT_UDP_PACKETS);
    struct flow_key k;
    int from_lo;
    flow_key_make(&k, pi.family, pi.proto, pi.src, pi.sport, pi.dst, pi.dport, &from_lo);
    uint64_t hash = flow_hash(&k);
    unsigned w = (unsigned)(hash % d->worker_count);
    _Static_assert(RING_MIN_SIZE / 2 - sizeof(struct ring_msg)
                   >= sizeof(struct msg_packet) + SNAPLEN_MAX,
                   "the smallest ring holds the largest live packet");
    if (sizeof(struct msg_packet) + caplen > ring_max_payload(&d->workers[w].in)) {
        stats_inc(&d->stats, STAT_RING_DROPS);   /* cannot happen with RING_MIN_SIZE */
        return;
    }
    struct msg_packet *m = dispatch_reserve(d, w, MSG_PACKET, sizeof(*m) + caplen);
    if (!m) {
        stats_inc(&d->stats, STAT_RING_DROPS);
        return;
    }
    m->seq = ++d->seq;
    m->ts_us = ts_us;
    m->flow_hash = hash;
    m->caplen = caplen;
    m->wire_len = wire_len;
    m->linktype = linktype;
    m->iface = d->iface;
    m->pcap_file = d->pcap_file;
    m->pcap_cnt = d->pcap_cnt;
    memcpy(m + 1, data, caplen);
    ring_commit(&d->workers[w].in);
    d->dispatched_seq = d->seq;
    if (++d->since_mark >= MARK_EVERY) {
        d->since_mark = 0;
        dispatch_marks(d, d->worker_count);
    }
}

void dispatch_idle(struct dispatch *d, uint64_t now_us)
{
    if (now_us > d->last_ts_us)
        d->last_ts_us = now_us;
    dispatch_maybe_tick(d, d->last_ts_us);
    dispatch_marks(d, d->worker_count);
    dispatch_flush(d);
}

void dispatch_end(struct dispatch *d)
{
    dispatch_broadcast(d, MSG_END, d->last_ts_us);
}
