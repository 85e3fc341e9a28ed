/* inputs.c - one capture thread per live interface, into one dispatch (see
 * inputs.h). */
#include "inputs.h"

#include <pcap/pcap.h>
#include <string.h>

#include "pipeline.h"

/* Names by index - 1; written by inputs_open before any thread that reads
 * them starts, then only read. */
static char input_names[INPUTS_MAX][INPUT_NAME_MAX];
static unsigned input_name_count;

const char *inputs_name(unsigned index)
{
    return index >= 1 && index <= input_name_count ? input_names[index - 1] : NULL;
}

int inputs_check_names(const char *const *names, size_t count, char *err, size_t errlen)
{
    if (count > INPUTS_MAX) {
        snprintf(err, errlen, "%zu interfaces: at most %d can be captured together", count,
                 INPUTS_MAX);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (names[i][0] == '\0') {
            snprintf(err, errlen, "interface %zu: the name is empty", i + 1);
            return -1;
        }
        if (strlen(names[i]) >= INPUT_NAME_MAX) {
            snprintf(err, errlen, "interface '%.20s...': the name is longer than %d bytes",
                     names[i], INPUT_NAME_MAX - 1);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0) {
                snprintf(err, errlen, "interface '%s' is named twice", names[i]);
                return -1;
            }
    }
    return 0;
}

/* The start-up line of one interface. */
static void input_announce(const char *name, const struct capture_options *o, unsigned fanout)
{
    char extra[64] = "";
    if (fanout)
        snprintf(extra, sizeof(extra), ", fanout group %u", fanout);
    fprintf(stderr, "scrapewatch: capturing on %s (%spromiscuous, buffer %u MiB, snaplen %u%s%s%s%s)\n",
            name, o->promisc ? "" : "not ", o->buffer_mb, o->snaplen,
            o->bpf && o->bpf[0] ? ", filter '" : "", o->bpf ? o->bpf : "",
            o->bpf && o->bpf[0] ? "'" : "", extra);
}

/* Messages on an interface's queue to the merging thread. */
enum input_msg {
    INPUT_PACKET = 1,   /* struct input_packet + caplen bytes */
    INPUT_QUIET,        /* uint64_t: no packet before this time will follow */
    INPUT_END,          /* the capture ended */
};

struct input_packet {
    uint64_t ts_us;
    uint32_t caplen, wire_len;
    int32_t linktype;
    uint32_t pad_;
};

/* A capture thread that has not said anything for this long past a
 * packet's time no longer holds that packet back (inputs.h). */
#define INPUT_STALL_US 1000000

/* The queue holds what the kernel may hold back: as much as its ring. */
static size_t input_queue_bytes(const struct capture_options *o)
{
    size_t mb = o->buffer_mb > 4 ? o->buffer_mb : 4;
    return ring_size(mb * (size_t)1024 * 1024);
}

static int input_open_one(struct inputs *s, size_t i, const char *name,
                          const struct capture_options *o, size_t count, char *err,
                          size_t errlen)
{
    struct input *in = &s->in[i];
    struct capture_options mine = *o;
    if (o->fanout_group)
        mine.fanout_group = o->fanout_group + (unsigned)i;
    char msg[512] = "";
    if (capture_open_live(&in->capture, name, &mine, msg, sizeof(msg)) != 0) {
        snprintf(err, errlen, "%s", msg);
        return -1;
    }
    in->set = s;
    in->index = (uint8_t)(i + 1);
    s->count = i + 1;
    if (count > 1) {
        if (ring_init(&in->queue, input_queue_bytes(o)) != 0) {
            snprintf(err, errlen, "%s: out of memory for its queue", name);
            return -1;
        }
        ring_waiter_init(&in->waiter);
        ring_set_waiters(&in->queue, &s->merge_waiter, &in->waiter);
    }
    if (msg[0])
        fprintf(stderr, "scrapewatch: warning: %s\n", msg);
    snprintf(input_names[i], sizeof(input_names[i]), "%s", name);
    input_name_count = (unsigned)(i + 1);
    input_announce(name, o, mine.fanout_group);
    return 0;
}

int inputs_open(struct inputs *s, const char *const *names, size_t count,
                const struct capture_options *o, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    if (inputs_check_names(names, count, err, errlen) != 0)
        return -1;
    /* A PACKET_FANOUT group belongs to one interface: interface i joins
     * group fanout_group + i - 1, so that every sensor started with the
     * same list shares each interface's traffic with the others. */
    if (o->fanout_group && o->fanout_group + count - 1 > 65535) {
        snprintf(err, errlen, "capture.fanout_group %u: with %zu interfaces the groups "
                 "%u..%zu pass 65535", o->fanout_group, count, o->fanout_group,
                 o->fanout_group + count - 1);
        return -1;
    }
    /* A TPACKET_V3 block is handed over at most one timeout after its
     * first packet; the timer and the wake-up take a little more. */
    s->hold_us = 2 * (uint64_t)(o->timeout_ms ? o->timeout_ms : 100) * 1000 + 20000;
    ring_waiter_init(&s->merge_waiter);
    for (size_t i = 0; i < count; i++)
        if (input_open_one(s, i, names[i], o, count, err, errlen) != 0) {
            inputs_close(s);
            return -1;
        }
    return 0;
}

static void input_stat_set(struct stats *st, unsigned index, enum input_stat which, uint64_t v)
{
    stats_set(st, stats_input_slot(index, which), v);
}

/* The capture group's loss counters are the sums of the interfaces'. */
static void inputs_sum_stats(const struct inputs *s, struct stats *st)
{
    static const struct { enum input_stat from; enum stat_id to; } sums[] = {
        {INPUT_STAT_KERNEL_DROPS, STAT_KERNEL_DROPS},
        {INPUT_STAT_IFACE_DROPS, STAT_IFACE_DROPS},
        {INPUT_STAT_UNREAD_AT_STOP, STAT_CAPTURE_UNREAD_AT_STOP},
    };
    for (size_t k = 0; k < sizeof(sums) / sizeof(sums[0]); k++) {
        uint64_t total = 0;
        for (size_t i = 0; i < s->count; i++)
            total += stats_get(st, stats_input_slot(s->in[i].index, sums[k].from));
        stats_set(st, sums[k].to, total);
    }
}

/* The capture threads' own counters into the dispatch's stats, from the
 * dispatching thread (their only writer): kernel drops as last read, and
 * what the queue could not take, which is a ring drop. */
static void inputs_sync_stats(struct inputs *s)
{
    struct stats *st = &s->dispatch->stats;
    for (size_t i = 0; i < s->count; i++) {
        struct input *in = &s->in[i];
        input_stat_set(st, in->index, INPUT_STAT_KERNEL_DROPS, atomic_load(&in->kernel_drops));
        input_stat_set(st, in->index, INPUT_STAT_IFACE_DROPS, atomic_load(&in->iface_drops));
        uint64_t q = atomic_exchange(&in->queue_drops, 0);
        if (q) {
            stats_add(st, STAT_RING_DROPS, q);
            stats_add(st, stats_input_slot(in->index, INPUT_STAT_RING_DROPS), q);
        }
    }
    inputs_sum_stats(s, st);
}

/* From the interface's own thread (libpcap wants it), once a second;
 * false when it was not time yet. */
static bool input_kernel_stats(struct input *in)
{
    uint64_t now = in->set->clock_us(), drops, ifdrops;
    if (now < in->next_kstats)
        return false;
    in->next_kstats = now + 1000000;
    if (capture_kernel_stats(in->capture, &drops, &ifdrops) == 0) {
        atomic_store(&in->kernel_drops, drops);
        atomic_store(&in->iface_drops, ifdrops);
    }
    return true;
}

/* One packet into the dispatch, from the one thread that dispatches; a
 * ring drop (the worker's ring was full) is charged to the interface too. */
static void input_dispatch(struct input *in, const uint8_t *data, uint32_t caplen,
                           uint32_t wire_len, uint64_t ts_us, int linktype)
{
    struct dispatch *d = in->set->dispatch;
    if (!in->linktype_shown) {
        const char *name = pcap_datalink_val_to_name(linktype);
        fprintf(stderr, "scrapewatch: %s: first packet: link type %d (%s)\n",
                inputs_name(in->index), linktype, name ? name : "unknown");
        in->linktype_shown = true;
    }
    uint64_t ring_drops = stats_get(&d->stats, STAT_RING_DROPS);
    d->iface = in->index;
    dispatch_packet(d, data, caplen, wire_len, ts_us, linktype);
    stats_inc(&d->stats, stats_input_slot(in->index, INPUT_STAT_PACKETS));
    if (stats_get(&d->stats, STAT_RING_DROPS) != ring_drops)
        stats_inc(&d->stats, stats_input_slot(in->index, INPUT_STAT_RING_DROPS));
}

/* ---- one interface: its capture thread dispatches ----------------------- */

static void input_direct_waits(void *arg)
{
    dispatch_flush(arg);
}

static void *input_direct_thread(void *arg)
{
    struct input *in = arg;
    struct inputs *s = in->set;
    char err[512];
    struct capture_packet p;
    for (;;) {
        int r = capture_next(in->capture, &p, err, sizeof(err));
        if (r == CAPTURE_END)
            return NULL;
        if (r == CAPTURE_ERROR) {
            fprintf(stderr, "scrapewatch: %s\n", err);
            in->failed = 1;
            return NULL;
        }
        if (r == CAPTURE_PACKET)
            input_dispatch(in, p.data, p.caplen, p.wire_len, p.ts_us, p.linktype);
        else
            dispatch_idle(s->dispatch, s->clock_us());
        if (input_kernel_stats(in))
            inputs_sync_stats(s);
    }
}

/* ---- several: capture threads queue, one thread merges ------------------ */

/* Messages that must arrive (quiet marks, the end) wait for room. */
static void input_push(struct input *in, uint32_t type, const void *data, size_t len)
{
    while (ring_push(&in->queue, type, data, len) != 0)
        ring_wait_writable(&in->queue, len);
}

/* This capture is about to wait, or waited in vain: nothing older than
 * now less the hold will come from it. */
static void input_quiet(void *arg)
{
    struct input *in = arg;
    uint64_t now = in->set->clock_us();
    uint64_t until = now > in->set->hold_us ? now - in->set->hold_us : 0;
    if (until < in->quiet_sent + 1000)
        return;   /* at most one mark a millisecond */
    in->quiet_sent = until;
    input_push(in, INPUT_QUIET, &until, sizeof(until));
}

static void input_queue_packet(struct input *in, const struct capture_packet *p)
{
    struct input_packet *m = ring_reserve(&in->queue, INPUT_PACKET, sizeof(*m) + p->caplen);
    if (!m) {
        atomic_fetch_add(&in->queue_drops, 1);
        return;
    }
    m->ts_us = p->ts_us;
    m->caplen = p->caplen;
    m->wire_len = p->wire_len;
    m->linktype = p->linktype;
    m->pad_ = 0;
    memcpy(m + 1, p->data, p->caplen);
    ring_commit(&in->queue);
}

static void *input_queue_thread(void *arg)
{
    struct input *in = arg;
    char err[512];
    struct capture_packet p;
    for (;;) {
        int r = capture_next(in->capture, &p, err, sizeof(err));
        if (r == CAPTURE_ERROR) {
            /* One broken interface stops the sensor: a service manager
             * restarts it, rather than it running on half blind. */
            fprintf(stderr, "scrapewatch: %s\n", err);
            in->failed = 1;
            inputs_break(in->set);
        }
        if (r == CAPTURE_END || r == CAPTURE_ERROR) {
            input_push(in, INPUT_END, NULL, 0);
            return NULL;
        }
        if (r == CAPTURE_PACKET)
            input_queue_packet(in, &p);
        else
            input_quiet(in);
        input_kernel_stats(in);
    }
}

/* The merging thread's view of one queue. */
struct merge_head {
    const struct input_packet *packet;  /* peeked, not released; NULL: none */
    uint64_t known_until;   /* no packet before this time will come */
    bool ended;
};

/* Reads queue i up to its next packet (kept peeked) or its end. */
static void merge_read(struct input *in, struct merge_head *h)
{
    uint32_t type;
    size_t len;
    void *m;
    while (!h->packet && !h->ended && (m = ring_peek(&in->queue, &type, &len))) {
        if (type == INPUT_PACKET) {
            h->packet = m;
            return;
        }
        if (type == INPUT_QUIET && *(const uint64_t *)m > h->known_until)
            h->known_until = *(const uint64_t *)m;
        if (type == INPUT_END) {
            h->ended = true;
            h->known_until = UINT64_MAX;
        }
        ring_release(&in->queue);
    }
}

/* The queue whose packet goes next, or -1 when the oldest packet must
 * still wait for an interface that may hold an older one. *all_ended: no
 * queue has anything left. */
static int merge_pick(const struct inputs *s, const struct merge_head *h, uint64_t now,
                      bool *all_ended)
{
    int best = -1;
    *all_ended = true;
    for (size_t i = 0; i < s->count; i++) {
        if (h[i].packet && (best < 0 || h[i].packet->ts_us < h[best].packet->ts_us))
            best = (int)i;
        if (!h[i].ended || h[i].packet)
            *all_ended = false;
    }
    if (best < 0)
        return -1;
    uint64_t ts = h[best].packet->ts_us;
    if (now > ts + s->hold_us + INPUT_STALL_US)
        return best;
    for (size_t i = 0; i < s->count; i++)
        if (!h[i].packet && h[i].known_until < ts)
            return -1;
    return best;
}

/* Time is known up to the oldest of the queues' marks. */
static uint64_t merge_watermark(const struct inputs *s, const struct merge_head *h)
{
    uint64_t w = UINT64_MAX;
    for (size_t i = 0; i < s->count; i++) {
        uint64_t k = h[i].packet && h[i].packet->ts_us > h[i].known_until
                         ? h[i].packet->ts_us : h[i].known_until;
        if (k < w)
            w = k;
    }
    return w;
}

struct merge_wait {
    struct inputs *s;
    const struct merge_head *h;
};

/* News can only come from queues whose next packet is not yet known. */
static int merge_ready(void *arg)
{
    const struct merge_wait *a = arg;
    for (size_t i = 0; i < a->s->count; i++)
        if (!a->h[i].packet && !a->h[i].ended && ring_readable(&a->s->in[i].queue))
            return 1;
    return 0;
}

static void merge_announce(void *arg, int on)
{
    const struct merge_wait *a = arg;
    for (size_t i = 0; i < a->s->count; i++)
        ring_announce_reader(&a->s->in[i].queue, on && !a->h[i].packet && !a->h[i].ended);
}

static void merge_run(struct inputs *s)
{
    struct merge_head h[INPUTS_MAX];
    memset(h, 0, sizeof(h));
    uint64_t last_idle = 0;
    int idle_ms = (int)(s->hold_us / 2000);
    for (;;) {
        for (size_t i = 0; i < s->count; i++)
            merge_read(&s->in[i], &h[i]);
        bool all_ended;
        uint64_t now = s->clock_us();
        int i = merge_pick(s, h, now, &all_ended);
        if (i >= 0) {
            const struct input_packet *m = h[i].packet;
            input_dispatch(&s->in[i], (const uint8_t *)(m + 1), m->caplen, m->wire_len,
                           m->ts_us, m->linktype);
            if (m->ts_us > h[i].known_until)
                h[i].known_until = m->ts_us;
            h[i].packet = NULL;
            ring_release(&s->in[i].queue);
            continue;
        }
        if (all_ended)
            return;
        inputs_sync_stats(s);
        if (now >= last_idle + (uint64_t)idle_ms * 1000) {
            uint64_t w = merge_watermark(s, h);
            if (w != UINT64_MAX)
                dispatch_idle(s->dispatch, w);
            last_idle = now;
        }
        dispatch_flush(s->dispatch);
        struct merge_wait a = {s, h};
        struct ring_wait_for what = {merge_ready, merge_announce, &a};
        ring_wait(&s->merge_waiter, &what, idle_ms > 0 ? idle_ms : 1);
    }
}

int inputs_run(struct inputs *s, struct dispatch *d, uint64_t (*clock_us)(void))
{
    s->dispatch = d;
    s->clock_us = clock_us;
    bool merged = s->count > 1;
    /* Workers are woken per burst of packets, not per packet, when the
     * dispatching thread flushes before it waits (else per packet, as
     * dispatch_init set). */
    bool batch = true;
    for (size_t i = 0; i < s->count; i++) {
        struct input *in = &s->in[i];
        int rc = merged ? capture_on_wait(in->capture, input_quiet, in)
                        : capture_on_wait(in->capture, input_direct_waits, d);
        if (rc != 0)
            batch = false;
    }
    if (batch || merged)
        dispatch_batch_live(d);
    for (size_t i = 0; i < s->count; i++) {
        struct input *in = &s->in[i];
        if (pthread_create(&in->thread, NULL, merged ? input_queue_thread : input_direct_thread,
                           in) != 0) {
            fprintf(stderr, "scrapewatch: cannot start the capture thread of %s\n",
                    inputs_name(in->index));
            in->failed = 1;
            inputs_break(s);
            /* its queue will never end: the merge must not wait for it */
            if (merged)
                input_push(in, INPUT_END, NULL, 0);
            continue;
        }
        in->started = true;
    }
    if (merged)
        merge_run(s);
    int rc = 0;
    for (size_t i = 0; i < s->count; i++) {
        if (s->in[i].started)
            pthread_join(s->in[i].thread, NULL);
        s->in[i].started = false;
        rc |= s->in[i].failed;
    }
    inputs_sync_stats(s);
    return rc;
}

void inputs_break(struct inputs *s)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->in[i].capture)
            capture_break(s->in[i].capture);
}

void inputs_final_stats(struct inputs *s, struct stats *st)
{
    for (size_t i = 0; i < s->count; i++) {
        struct input *in = &s->in[i];
        uint64_t drops, ifdrops;
        if (capture_kernel_stats(in->capture, &drops, &ifdrops) == 0) {
            input_stat_set(st, in->index, INPUT_STAT_KERNEL_DROPS, drops);
            input_stat_set(st, in->index, INPUT_STAT_IFACE_DROPS, ifdrops);
        }
        input_stat_set(st, in->index, INPUT_STAT_UNREAD_AT_STOP,
                       capture_unread_at_stop(in->capture));
    }
    inputs_sum_stats(s, st);
}

void inputs_summary(const struct inputs *s, const struct stats *st, FILE *f)
{
    for (size_t i = 0; i < s->count; i++) {
        unsigned x = s->in[i].index;
        fprintf(f, "scrapewatch: capture: final: %s: packets=%llu kernel_drops=%llu "
                   "interface_drops=%llu ring_drops=%llu unread_at_stop=%llu\n",
                inputs_name(x),
                (unsigned long long)stats_get(st, stats_input_slot(x, INPUT_STAT_PACKETS)),
                (unsigned long long)stats_get(st, stats_input_slot(x, INPUT_STAT_KERNEL_DROPS)),
                (unsigned long long)stats_get(st, stats_input_slot(x, INPUT_STAT_IFACE_DROPS)),
                (unsigned long long)stats_get(st, stats_input_slot(x, INPUT_STAT_RING_DROPS)),
                (unsigned long long)stats_get(st, stats_input_slot(x, INPUT_STAT_UNREAD_AT_STOP)));
    }
}

void inputs_close(struct inputs *s)
{
    for (size_t i = 0; i < s->count; i++) {
        capture_close(s->in[i].capture);
        s->in[i].capture = NULL;
        if (s->in[i].queue.buf)
            ring_destroy(&s->in[i].queue);
    }
    s->count = 0;
}
