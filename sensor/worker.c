/* worker.c - per-worker flow handling: packets in, op and flow records out.
 *
 * For each packet: find or create its flow (evicting the oldest when the
 * table is full), orient it client -> server, feed its TCP payload through
 * reassembly to the flow's decoder, and pass the ops the decoder emits to
 * the detect thread, keyed so that the detect thread can merge the workers'
 * streams in capture order (see pipeline.h). Timeouts run on ticks that the
 * capture thread derives from packet time, so replay is deterministic. */
#include "worker.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "classify.h"
#include "community_id.h"
#include "packet.h"
#include "pipeline.h"
#include "syn_shape.h"

#define EARLY_MAX (16u * 1024u)   /* bytes kept while nDPI decides */
/* Bytes of allocator bookkeeping counted with each flow. */
/* Shedding (worker_shed): past the high mark, the flows idle longest are
 * evicted down to the low mark, at most SHED_EVICT_MAX per packet. */
#define SHED_HIGH(limit) ((limit) - (limit) / 8)
#define SHED_LOW(limit) ((limit) - (limit) / 4)
#define SHED_EVICT_MAX 1024u
#define EARLY_DATA 0u
#define EARLY_GAP 1u

/* ---- output to the detect thread ---- */

/* Blocks until the detect thread makes room: records are never dropped. */
static void worker_push(struct worker *w, uint32_t type, const void *data, size_t len)
{
    while (ring_push(&w->out, type, data, len) != 0)
        ring_wait_writable(&w->out, len);
}

static void worker_watermark(struct worker *w, uint64_t seq)
{
    struct rec_watermark m = {seq};
    worker_push(w, REC_WATERMARK, &m, sizeof(m));
    ring_flush(&w->out);   /* the detect thread may be waiting for just this */
}

/* The next key for a record of flow f caused by the current message. */
static struct record_key worker_next_key(struct worker *w, struct flow *f)
{
    struct record_key k = {w->cur_seq, f->first_seq, 0};
    struct flow_ext *x = f->ext;
    if (!x)
        return k;   /* no op yet: the flow's only record */
    if (x->op_sub_seq != w->cur_seq) {
        x->op_sub_seq = w->cur_seq;
        x->op_sub = 0;
    }
    k.sub = x->op_sub++;
    return k;
}

/* The flow's endpoints oriented client -> server, its ids and app: built
 * from the head (the key and which end is the client), so a flow without
 * an extension need not store them. */
static void flow_meta_fill(const struct flow *f, struct flow_meta *m)
{
    const struct flow_key *k = &f->key;
    size_t alen = k->family == 4 ? 4 : 16;
    memset(m, 0, sizeof(*m));
    m->family = k->family;
    m->proto = k->proto;
    m->app = f->app;
    memcpy(m->client, f->client_is_lo ? k->addr_lo : k->addr_hi, alen);
    memcpy(m->server, f->client_is_lo ? k->addr_hi : k->addr_lo, alen);
    m->client_port = f->client_is_lo ? k->port_lo : k->port_hi;
    m->server_port = f->client_is_lo ? k->port_hi : k->port_lo;
    community_id_v1(0, m->family, m->proto, m->client, m->server,
                    m->client_port, m->server_port, m->community_id);
    /* Same flow, same id, whatever the worker count. */
    m->flow_id = (flow_hash(k) ^ (f->first_seq * HASH_GOLDEN64)) & 0x7fffffffffffffffull;
    m->tunnel = f->tunnel;
    m->tunnel_id = f->tunnel_id;
    m->tunnel_has_id = f->tunnel_has_id;
    m->in_iface = f->in_iface;
}

static uint16_t flow_server_port(const struct flow *f)
{
    return f->client_is_lo ? f->key.port_hi : f->key.port_lo;
}

/* The flow's extension, made on its first bytes: reassembly takes over the
 * sequence state the head kept, and the endpoints are worked out once for
 * the ops to come. NULL when out of memory (counted). */
static bool flows_make_room(struct worker *w, const struct flow *keep, size_t need);
static void worker_account_flows(struct worker *w);

static struct flow_ext *flow_ext(struct worker *w, struct flow *f)
{
    if (f->ext)
        return f->ext;
    if (!flows_make_room(w, f, w->flows.exts.obj_size))
        return NULL;
    struct flow_ext *x = flow_ext_make(&w->flows, f);
    if (!x) {
        stats_inc(&w->stats, STAT_FLOWS_NO_MEMORY);
        return NULL;
    }
    worker_account_flows(w);
    for (int d = 0; d < 2; d++) {
        reasm_init(&x->reasm[d]);
        if (f->seq_known & (1u << d))
            reasm_syn(&x->reasm[d], f->next_seq[d] - 1);
        x->reasm[d].ended = (f->ended >> d) & 1u;
    }
    flow_meta_fill(f, &x->meta);
    return x;
}

/* The decoder attached to f, or NULL (the head keeps its index only). */
static const struct decoder *flow_decoder(const struct flow *f)
{
    return f->has_decoder ? decoder_all()[f->decoder_index] : NULL;
}

/* Ops are counted per app ("ops.<app>"); an id out of range as unknown. */
static unsigned op_stat(uint8_t app)
{
    return STATS_OPS_BASE + (app < APP_COUNT ? app : APP_UNKNOWN);
}

/* The decoder context for a call into f's decoder: its parameters and its
 * counters, looked up once per decoder at worker_init. */
static struct decoder_ctx *flow_ctx(struct worker *w, const struct flow *f)
{
    w->dctx.params = w->decoder_params[f->decoder_index];
    w->dctx.counters = w->decoder_counters[f->decoder_index];
    w->dctx.midstream = f->key.proto == IPPROTO_TCP_NUM
                        && !(f->tcp_state & (TCP_STATE_SYN | TCP_STATE_SYNACK));
    w->dctx.datagram = f->key.proto == IPPROTO_UDP_NUM;
    return &w->dctx;
}

/* decoder_ctx.emit: wraps an op with its flow's endpoints and sends it. */
static void worker_emit_op(struct decoder_ctx *ctx, const struct op_record *op)
{
    struct worker *w = ctx->owner;
    struct flow *f = w->cur_flow;
    struct flow_ext *x = f->ext;   /* ops come from a decoder: it has one */
    struct rec_op *r = NULL;
    /* A flow of a framing protocol (HTTP) that turned out to be a database
     * says so from now on. */
    if (!app_is_database((enum app_id)f->app) && op->app != f->app
        && op->app != APP_UNKNOWN)
        f->app = op->app;
    while (!(r = ring_reserve(&w->out, REC_OP, sizeof(*r))))
        ring_wait_writable(&w->out, sizeof(*r));
    r->key = worker_next_key(w, f);
    r->ts_us = ctx->now_us;
    r->pcap = w->cur_pcap;
    r->meta = x->meta;
    r->meta.app = f->app;
    r->op = *op;
    if (ctx->midstream)
        r->op.flags |= OP_FLAG_MIDSTREAM;
    ring_commit(&w->out);
    x->ops++;
    stats_inc(&w->stats, op_stat(op->app));
}

static void worker_emit_flow(struct worker *w, struct flow *f)
{
    struct rec_flow r;
    memset(&r, 0, sizeof(r));
    r.key = worker_next_key(w, f);
    r.ts_us = w->dctx.now_us;
    if (f->ext) {
        r.meta = f->ext->meta;
        r.meta.app = f->app;
        r.gaps = f->ext->gaps;
        r.gap_bytes = f->ext->gap_bytes;
        r.ops = f->ext->ops;
    } else {
        flow_meta_fill(f, &r.meta);
    }
    r.start_us = f->first_us;
    r.end_us = f->last_us;
    memcpy(r.pkts, f->pkts, sizeof(r.pkts));
    memcpy(r.bytes, f->bytes, sizeof(r.bytes));
    r.reason = f->end_reason;
    r.orientation = f->orientation;
    r.classified_by = f->classified_by;
    r.tcp_state = f->tcp_state;
    r.syn_tool = f->syn_tool;
    r.payload_seen = f->ext != NULL;
    worker_push(w, REC_FLOW, &r, sizeof(r));
}

/* ---- bytes before the decoder is known ---- */

static void early_discard(struct worker *w, struct flow *f)
{
    if (!f->ext)
        return;
    membudget_free(&w->budget, f->ext->early.buf, f->ext->early.len);
    f->ext->early.buf = NULL;
    f->ext->early.len = 0;
}

/* nDPI's state for f, made on the flow's first payload (or when its packet
 * allowance runs out first): a flow that carries no bytes costs none.
 * NULL when out of memory. */
static struct classify_flow *flow_ndpi(struct worker *w, struct flow *f)
{
    struct flow_ext *x = flow_ext(w, f);
    if (x && !x->ndpi)
        x->ndpi = classify_flow_new();
    return x ? x->ndpi : NULL;
}

/* nDPI is done with f: its state goes at once. */
static void flow_ndpi_done(struct flow *f)
{
    if (f->ext) {
        classify_flow_free(f->ext->ndpi);
        f->ext->ndpi = NULL;
    }
    f->ndpi_pending = 0;
}

/* nDPI's final word on f. Without state (it never saw payload) it has
 * none: both names NULL. */
static void flow_ndpi_giveup(struct worker *w, struct flow *f, struct classify_result *res)
{
    res->names[0] = res->names[1] = NULL;
    if (f->ext && f->ext->ndpi)
        classify_giveup(w->classifier, f->ext->ndpi, res);
    flow_ndpi_done(f);
    stats_inc(&w->stats, STAT_NDPI_GIVEUP);
}

/* Stops waiting for a protocol decision: nDPI is told to give up (or the
 * probes are), the bytes kept are dropped, and no decoder will read the
 * flow. */
static void early_give_up(struct worker *w, struct flow *f)
{
    if (f->ndpi_pending) {
        struct classify_result ignored;
        flow_ndpi_giveup(w, f, &ignored);
    } else {
        stats_inc(&w->stats, STAT_PROBE_GIVEUP);   /* probes still wanted more */
    }
    early_discard(w, f);
    f->decided = 1;
}

static void early_append(struct worker *w, struct flow *f, uint8_t kind, int dir,
                         const uint8_t *buf, uint64_t len)
{
    struct flow_ext *x = f->ext;   /* bytes or a gap came: the flow has one */
    size_t body = kind == EARLY_DATA ? (size_t)len : 0;
    size_t need = 2 + 8 + body;
    if (x->early.len + need > EARLY_MAX) {
        /* Too much to keep while waiting: stop waiting, decode nothing. */
        early_give_up(w, f);
        return;
    }
    uint8_t *p = membudget_realloc(&w->budget, x->early.buf, x->early.len,
                                   x->early.len + need);
    if (!p) {
        early_give_up(w, f);   /* refused by the budget (counted there) */
        return;
    }
    x->early.buf = p;
    p += x->early.len;
    p[0] = kind;
    p[1] = (uint8_t)dir;
    memcpy(p + 2, &len, 8);
    if (body)
        memcpy(p + 10, buf, body);
    x->early.len += need;
}

static void early_replay(struct worker *w, struct flow *f)
{
    struct flow_ext *x = f->ext;
    size_t off = 0;
    while (off + 10 <= x->early.len) {
        const uint8_t *p = x->early.buf + off;
        uint64_t len;
        memcpy(&len, p + 2, 8);
        enum decoder_dir dir = p[1] ? DIR_TO_CLIENT : DIR_TO_SERVER;
        if (p[0] == EARLY_DATA) {
            flow_decoder(f)->data(x->decoder_state, flow_ctx(w, f), dir, p + 10, (size_t)len);
            off += 10 + (size_t)len;
        } else {
            flow_decoder(f)->gap(x->decoder_state, flow_ctx(w, f), dir, len);
            off += 10;
        }
    }
    early_discard(w, f);
}

static void flow_probe(struct worker *w, struct flow *f);

/* The decoder's state, opened on the flow's first payload or gap rather
 * than when the decoder is chosen: a flow that never carries bytes (a SYN
 * scan, a half-open connection) costs no decoder memory. Directions that
 * already ended are told at once. NULL if the open failed (then the flow's
 * bytes are not decoded). */
static void *flow_decoder_state(struct worker *w, struct flow *f)
{
    if (f->decoder_opened)
        return f->ext ? f->ext->decoder_state : NULL;
    struct flow_ext *x = flow_ext(w, f);
    if (!x)
        return NULL;
    f->decoder_opened = 1;
    x->decoder_state = flow_decoder(f)->open(flow_ctx(w, f));
    for (int d = 0; d < 2 && x->decoder_state; d++)
        if (f->end_sent & (1u << d))
            flow_decoder(f)->end(x->decoder_state, flow_ctx(w, f), (enum decoder_dir)d);
    return x->decoder_state;
}

/* ---- reassembly sinks ---- */

static void sink_deliver(struct worker *w, int dir, const uint8_t *buf, size_t len)
{
    struct flow *f = w->cur_flow;
    if (flow_decoder(f)) {
        void *state = flow_decoder_state(w, f);
        if (state)
            flow_decoder(f)->data(state, flow_ctx(w, f), (enum decoder_dir)dir, buf, len);
    } else if (!f->decided) {
        early_append(w, f, EARLY_DATA, dir, buf, len);
        if (!f->ndpi_pending && !f->decided)
            flow_probe(w, f);
    }
}

static void sink_gap(struct worker *w, int dir, uint64_t len)
{
    struct flow *f = w->cur_flow;
    f->ext->gaps++;   /* reassembly lives in the extension */
    f->ext->gap_bytes += len;
    if (flow_decoder(f)) {
        void *state = flow_decoder_state(w, f);
        if (state)
            flow_decoder(f)->gap(state, flow_ctx(w, f), (enum decoder_dir)dir, len);
    } else if (!f->decided)
        early_append(w, f, EARLY_GAP, dir, NULL, len);
}

static void sink_data_to_server(void *arg, const uint8_t *buf, size_t len)
{
    sink_deliver(arg, 0, buf, len);
}

static void sink_data_to_client(void *arg, const uint8_t *buf, size_t len)
{
    sink_deliver(arg, 1, buf, len);
}

static void sink_gap_to_server(void *arg, uint64_t len)
{
    sink_gap(arg, 0, len);
}

static void sink_gap_to_client(void *arg, uint64_t len)
{
    sink_gap(arg, 1, len);
}

/* ---- decoder choice ---- */

/* The decoder entry a server port selects, by transport. */
static const struct config_decoder *port_entry(const struct sw_config *cfg, uint8_t proto,
                                               uint16_t port)
{
    return proto == IPPROTO_UDP_NUM ? config_decoder_for_udp_port(cfg, port)
                                    : config_decoder_for_port(cfg, port);
}

const struct decoder *worker_decoder_for_port(const struct sw_config *cfg, uint16_t port)
{
    const struct config_decoder *cd = config_decoder_for_port(cfg, port);
    if (!cd || !cd->enabled)
        return NULL;
    return decoder_find(cd->name);
}

static void flow_attach_decoder(struct worker *w, struct flow *f,
                                const struct decoder *d, enum classified_by by)
{
    f->decided = 1;
    f->has_decoder = 1;
    f->decoder_index = (uint8_t)decoder_index(d);
    f->classified_by = (uint8_t)by;
    f->app = (uint8_t)d->app;
    stats_inc(&w->stats, by == CLASSIFIED_BY_PORT    ? STAT_PORT_CLASSIFIED
                         : by == CLASSIFIED_BY_PROBE ? STAT_PROBE_CLASSIFIED
                                                     : STAT_NDPI_CLASSIFIED);
    if (f->ext && f->ext->early.len && flow_decoder_state(w, f))
        early_replay(w, f);
    early_discard(w, f);
}

/* A registered decoder that the configuration has not disabled (looked up
 * once, at worker_init). */
static bool decoder_enabled(const struct worker *w, const struct decoder *d)
{
    size_t i = d ? decoder_index(d) : DECODERS_MAX;
    return i < DECODERS_MAX && w->decoder_on[i];
}

static bool config_enables(const struct sw_config *cfg, const struct decoder *d)
{
    const struct config_decoder *cd = config_decoder_named(cfg, d->name);
    return !cd || cd->enabled;
}

/* The first bytes of one direction held in the early buffer, up to its
 * first gap, copied into out (at most DECODER_PROBE_BYTES). */
static size_t early_prefix(const struct flow *f, int dir, uint8_t *out)
{
    size_t n = 0, off = 0;
    const struct flow_early *e = &f->ext->early;
    while (off + 10 <= e->len && n < DECODER_PROBE_BYTES) {
        const uint8_t *p = e->buf + off;
        uint64_t len;
        memcpy(&len, p + 2, 8);
        size_t body = p[0] == EARLY_DATA ? (size_t)len : 0;
        off += 10 + body;
        if (p[1] != dir)
            continue;
        if (p[0] != EARLY_DATA)
            break;
        size_t take = body < DECODER_PROBE_BYTES - n ? body : DECODER_PROBE_BYTES - n;
        memcpy(out + n, p + 10, take);
        n += take;
    }
    return n;
}

/* Port-independent recognition: asks every enabled decoder's probe about
 * the first bytes of each direction. The first (in registry order) that
 * says yes takes the flow; while one still wants more bytes and there is
 * room for them, the flow stays undecided; otherwise no decoder will read
 * it. */
static void flow_probe(struct worker *w, struct flow *f)
{
    uint8_t to_server[DECODER_PROBE_BYTES], to_client[DECODER_PROBE_BYTES];
    size_t ts = 0, tc = 0;
    if (f->ext) {
        ts = early_prefix(f, 0, to_server);
        tc = early_prefix(f, 1, to_client);
    }
    bool want_more = false;
    for (const struct decoder *const *d = decoder_all(); *d; d++) {
        if (!(*d)->probe || !decoder_enabled(w, *d))
            continue;
        enum probe_result r = (*d)->probe(to_server, ts, to_client, tc);
        if (r == PROBE_YES) {
            flow_attach_decoder(w, f, *d, CLASSIFIED_BY_PROBE);
            return;
        }
        want_more |= r == PROBE_NEED_MORE;
    }
    if (!want_more || (ts >= DECODER_PROBE_BYTES && tc >= DECODER_PROBE_BYTES)) {
        if (want_more)
            stats_inc(&w->stats, STAT_PROBE_GIVEUP);
        f->decided = 1;
        early_discard(w, f);
    }
}

/* nDPI has named the flow's protocols (or given up): the first name a
 * decoder claims selects it. A database that no enabled decoder reads
 * still names the flow, is counted, and gets its flow event. Otherwise the
 * probes have their say. */
static void flow_classified(struct worker *w, struct flow *f,
                            const struct classify_result *res)
{
    for (int i = 0; i < 2; i++) {
        const struct decoder *d = decoder_for_ndpi_name(res->names[i]);
        if (decoder_enabled(w, d)) {
            flow_attach_decoder(w, f, d, CLASSIFIED_BY_NDPI);
            return;
        }
    }
    for (int i = 0; i < 2; i++) {
        enum app_id app = app_from_ndpi_name(res->names[i]);
        if (app_is_database(app)) {
            f->app = (uint8_t)app;
            f->classified_by = CLASSIFIED_BY_NDPI;
            f->no_decoder = 1;
            stats_inc(&w->stats, STATS_NO_DECODER_BASE + app);
            f->decided = 1;
            early_discard(w, f);
            return;
        }
    }
    flow_probe(w, f);
}

/* Asks nDPI about one more packet of an undecided flow. Its state is made
 * on the first packet with payload; packets before it count towards
 * ndpi.max_packets all the same. */
static void flow_classify(struct worker *w, struct flow *f, const struct packet_info *pi,
                          uint64_t now_us)
{
    struct classify_result res;
    int done = 0;
    if (pi->payload_len > 0 || (f->ext && f->ext->ndpi)) {
        struct classify_flow *n = flow_ndpi(w, f);
        if (!n)
            return;
        done = classify_packet(w->classifier, n, pi->l3, pi->l3_len, now_us / 1000, &res);
    }
    if (!done && ++f->ndpi_packets >= w->cfg->ndpi.max_packets) {
        flow_ndpi_giveup(w, f, &res);
        done = 1;
    }
    if (!done)
        return;
    flow_ndpi_done(f);
    flow_classified(w, f, &res);
}

/* ---- flow life ---- */

/* Orients a new flow: which endpoint is the client, and how that was told.
 * from_lo: the packet's source is the key's low endpoint. */
static void flow_orient(struct worker *w, struct flow *f, const struct packet_info *pi,
                        int from_lo)
{
    int src_is_client;
    uint8_t syn = pi->tcp_flags & TCP_SYN, ack = pi->tcp_flags & TCP_ACK;
    if (pi->proto == IPPROTO_TCP_NUM && syn) {
        src_is_client = !ack;
        f->orientation = ORIENT_HANDSHAKE;
    } else if (port_entry(w->cfg, pi->proto, pi->dport)) {
        src_is_client = 1;
        f->orientation = ORIENT_PORT;
    } else if (port_entry(w->cfg, pi->proto, pi->sport)) {
        src_is_client = 0;
        f->orientation = ORIENT_PORT;
    } else {
        src_is_client = 1;
        f->orientation = ORIENT_FIRST_PACKET;
    }
    f->client_is_lo = (uint8_t)(src_is_client == from_lo);
    if (pi->tunnel_count > 0) {
        f->tunnel = pi->tunnel[0].type;
        f->tunnel_has_id = pi->tunnel[0].has_id;
        f->tunnel_id = pi->tunnel[0].id;
    }
}

static void flow_choose_decoder(struct worker *w, struct flow *f)
{
    uint8_t proto = f->key.proto;
    if (proto == IPPROTO_UDP_NUM) {
        const struct config_decoder *cd = port_entry(w->cfg, proto, flow_server_port(f));
        const struct decoder *d = cd ? decoder_find(cd->name) : NULL;
        if (d)
            flow_attach_decoder(w, f, d, CLASSIFIED_BY_PORT);
        f->decided = 1;
        return;
    }
    if (proto != IPPROTO_TCP_NUM) {
        f->decided = 1;
        return;
    }
    const struct decoder *d = worker_decoder_for_port(w->cfg, flow_server_port(f));
    if (d) {
        flow_attach_decoder(w, f, d, CLASSIFIED_BY_PORT);
        return;
    }
    f->ndpi_pending = w->classifier != NULL;
    f->decided = !f->ndpi_pending && !w->any_probe;
}

/* Counts how f ended. An eviction counts in flows.evicted the first time
 * a connection is evicted, in flows.evicted_again when it had come back
 * (evicted.h); either way its key is remembered so a return is told. */
static void flow_count_end(struct worker *w, const struct flow *f,
                           enum flow_end_reason reason)
{
    switch (reason) {
    case FLOW_END_FIN:
    case FLOW_END_RST: stats_inc(&w->stats, STAT_FLOWS_CLOSED); break;
    case FLOW_END_TIMEOUT: stats_inc(&w->stats, STAT_FLOWS_TIMED_OUT); break;
    case FLOW_END_EVICTED:
        stats_inc(&w->stats, f->returned ? STAT_FLOWS_EVICTED_AGAIN : STAT_FLOWS_EVICTED);
        evicted_note(&w->evicted, flow_hash(&f->key));
        break;
    case FLOW_END_SHUTDOWN: break;   /* still open at the end of input */
    }
}

/* A flow made by a packet that does not open a connection (a TCP segment
 * without SYN, any UDP datagram) whose key was evicted before is that
 * connection come back: counted in flows.returned instead of
 * flows.created. It is mid-stream (no SYN seen) like any such flow, but
 * not counted again in flows.midstream. */
static void flow_count_new(struct worker *w, struct flow *f, const struct packet_info *pi)
{
    bool opens = pi->proto == IPPROTO_TCP_NUM && (pi->tcp_flags & TCP_SYN);
    if (!opens && evicted_take(&w->evicted, flow_hash(&f->key))) {
        f->returned = 1;
        stats_inc(&w->stats, STAT_FLOWS_RETURNED);
        return;
    }
    stats_inc(&w->stats, STAT_FLOWS_CREATED);
    if (pi->proto == IPPROTO_TCP_NUM && f->orientation != ORIENT_HANDSHAKE)
        stats_inc(&w->stats, STAT_FLOWS_MIDSTREAM);
}

/* Flushes and closes what the extension holds (before the flow event, so
 * that the decoder's last ops and the gaps come first). */
static void flow_ext_close(struct worker *w, struct flow *f)
{
    struct flow_ext *x = f->ext;
    if (!x)
        return;
    for (int d = 0; d < 2; d++)
        reasm_flush(&x->reasm[d], &w->reasm_limits, &w->stats, &w->sink[d]);
    if (x->decoder_state)
        flow_decoder(f)->close(x->decoder_state, flow_ctx(w, f));
    x->decoder_state = NULL;
    classify_flow_free(x->ndpi);
    x->ndpi = NULL;
    early_discard(w, f);
}

/* ---- memory ---- */

/* Bytes of flow state this worker holds with `count` flow heads: the heads,
 * the extensions in use (from the table's pools) and the bucket arrays. */
static size_t flows_bytes(const struct worker *w, size_t count)
{
    const struct flow_table *t = &w->flows;
    return count * t->heads.obj_size + t->exts.in_use * t->exts.obj_size
           + flow_table_bucket_bytes(t);
}

/* The budget's view of the flow state, after a flow or an extension came
 * (room was made first: flows_make_room) or went. */
static void worker_account_flows(struct worker *w)
{
    bool ok = membudget_set_flows(&w->budget, flows_bytes(w, w->flows.count));
    assert(ok);   /* less always fits; more had room made for it */
    (void)ok;
}

/* memory.used: what traffic makes this worker hold now (the table's
 * buckets and the evicted connections' set left out, so that the figure
 * does not depend on the worker count: 0 again once every flow has ended). */
static void worker_memory_stats(struct worker *w)
{
    stats_set(&w->stats, STAT_MEM_USED,
              w->budget.flows + w->budget.used - flow_table_bucket_bytes(&w->flows)
                  - evicted_bytes(&w->evicted));
}

static void flow_end(struct worker *w, struct flow *f, enum flow_end_reason reason);

/* Evicts the flow idle longest, for memory. False when there is none other
 * than `keep` (the flow of the packet at hand, never evicted). */
static bool evict_for_memory(struct worker *w, const struct flow *keep)
{
    struct flow *victim = flow_table_oldest(&w->flows);
    if (!victim || victim == keep)
        return false;
    bool again = victim->returned;   /* counted in flows.evicted_again only */
    flow_end(w, victim, FLOW_END_EVICTED);
    if (!again)
        stats_inc(&w->stats, STAT_MEM_FLOWS_EVICTED);
    return true;
}

/* Room in the budget for `need` more bytes of flow state, made by evicting
 * the flows idle longest (never `keep`). False, and counted, when there is
 * none left to evict. */
static bool flows_make_room(struct worker *w, const struct flow *keep, size_t need)
{
    struct flow *cur = w->cur_flow;   /* flow_end clears it */
    bool ok = true;
    while (ok && membudget_room(&w->budget) < need)
        ok = evict_for_memory(w, keep);
    w->cur_flow = cur;
    if (!ok)
        stats_inc(&w->stats, STAT_MEM_BUFFERS_CUT);
    return ok;
}

/* The first way to shed: once a packet leaves the worker's share fuller
 * than its high mark, the flows idle longest are evicted until it is back
 * under the low mark (their buffers, held bytes and state go with them).
 * Charges refused in between cut buffers instead (membudget.h). */
static void worker_shed(struct worker *w, const struct flow *keep)
{
    const struct membudget *b = &w->budget;
    if (b->flows + b->used <= SHED_HIGH(b->limit))
        return;
    for (unsigned n = 0; n < SHED_EVICT_MAX && b->flows + b->used > SHED_LOW(b->limit); n++)
        if (!evict_for_memory(w, keep))
            break;
}

static void flow_end(struct worker *w, struct flow *f, enum flow_end_reason reason)
{
    w->cur_flow = f;
    f->end_reason = (uint8_t)reason;
    flow_ext_close(w, f);
    if (flow_decoder(f) || f->no_decoder)
        worker_emit_flow(w, f);
    for (int d = 0; d < 2 && f->ext; d++)
        reasm_free(&f->ext->reasm[d], &w->reasm_limits);
    flow_count_end(w, f, reason);
    flow_table_remove(&w->flows, f);
    flow_free(&w->flows, f);
    worker_account_flows(w);
    w->cur_flow = NULL;
}

/* Doubles the flow table's buckets when the flows outnumber them and the
 * budget has room for the new array besides the next head (charged before
 * it is allocated). Without room the table keeps its buckets, with longer
 * chains, until room comes back: flows are not evicted for buckets. */
static void worker_grow_buckets(struct worker *w)
{
    size_t grow = flow_table_grow_bytes(&w->flows);
    if (grow && membudget_room(&w->budget) >= grow + w->flows.heads.obj_size
        && flow_table_grow(&w->flows) == 0)
        worker_account_flows(w);
}

static struct flow *flow_create(struct worker *w, const struct flow_key *k, uint64_t hash,
                                int from_lo, const struct packet_info *pi, uint64_t now_us)
{
    if (flow_table_full(&w->flows)) {
        struct flow *victim = flow_table_oldest(&w->flows);
        if (victim)
            flow_end(w, victim, FLOW_END_EVICTED);
    }
    /* One more flow head must fit in the budget. */
    if (!flows_make_room(w, NULL, w->flows.heads.obj_size))
        return NULL;   /* the packet is not tracked */
    worker_grow_buckets(w);
    struct flow *f = flow_table_insert_hashed(&w->flows, k, hash);
    if (!f) {
        stats_inc(&w->stats, STAT_FLOWS_NO_MEMORY);
        return NULL;
    }
    worker_account_flows(w);
    f->first_seq = w->cur_seq;
    f->first_us = f->last_us = now_us;
    f->app = APP_UNKNOWN;
    flow_orient(w, f, pi, from_lo);
    f->syn_tool = (uint8_t)syn_shape(pi);
    flow_count_new(w, f, pi);
    w->cur_flow = f;
    flow_choose_decoder(w, f);
    return f;
}

/* ---- TCP ---- */

static bool flow_dir_ended(const struct flow *f, int d)
{
    return f->ext ? f->ext->reasm[d].ended : (f->ended >> d) & 1u;
}

/* Tells the decoder about directions that reassembly has ended. */
static void flow_check_ends(struct worker *w, struct flow *f)
{
    for (int d = 0; d < 2; d++) {
        if (!flow_dir_ended(f, d) || (f->end_sent & (1u << d)))
            continue;
        f->end_sent |= (uint8_t)(1u << d);
        if (f->ext && f->ext->decoder_state)
            flow_decoder(f)->end(f->ext->decoder_state, flow_ctx(w, f), (enum decoder_dir)d);
    }
    if (f->end_sent == 3)
        flow_table_mark_closed(&w->flows, f);
}

static void flow_reset(struct worker *w, struct flow *f)
{
    f->tcp_state |= TCP_STATE_RST;
    for (int d = 0; d < 2 && f->ext; d++) {
        reasm_flush(&f->ext->reasm[d], &w->reasm_limits, &w->stats, &w->sink[d]);
        f->ext->reasm[d].ended = 1;
    }
    f->ended = 3;
    flow_check_ends(w, f);
}

/* A segment that reassembly has work for: bytes, a FIN, or an ACK that
 * moves past what the peer's direction has delivered (a hole to report).
 * Until one comes, the head's sequence numbers are all a flow needs. */
static bool flow_tcp_needs_ext(const struct flow *f, int dir, const struct packet_info *pi)
{
    int peer = !dir;
    return pi->payload_wire_len > 0 || (pi->tcp_flags & TCP_FIN)
        || ((pi->tcp_flags & TCP_ACK) && (f->seq_known & (1u << peer))
            && !((f->ended >> peer) & 1u) && pi->ack != f->next_seq[peer]);
}

/* A SYN, recorded in the head while the flow has no extension. */
static void flow_head_syn(struct flow *f, int dir, uint32_t isn)
{
    if (f->seq_known & (1u << dir))
        return;
    f->next_seq[dir] = isn + 1;
    f->seq_known |= (uint8_t)(1u << dir);
}

static void flow_tcp(struct worker *w, struct flow *f, int dir, const struct packet_info *pi)
{
    uint8_t fl = pi->tcp_flags;
    if (fl & TCP_SYN) {
        if (f->ext)
            reasm_syn(&f->ext->reasm[dir], pi->seq);
        else
            flow_head_syn(f, dir, pi->seq);
        f->tcp_state |= dir == 0 ? TCP_STATE_SYN : TCP_STATE_SYNACK;
    }
    if (fl & TCP_RST) {
        flow_reset(w, f);
        return;
    }
    if (!f->ext && (!flow_tcp_needs_ext(f, dir, pi) || !flow_ext(w, f)))
        return;
    struct reasm_dir *rd = &f->ext->reasm[dir];
    const struct reasm_limits *lim = &w->reasm_limits;
    if (pi->payload_wire_len > 0)
        reasm_push(rd, lim, &w->stats, pi->seq + ((fl & TCP_SYN) ? 1u : 0u), pi->payload,
                   pi->payload_len, pi->payload_wire_len, &w->sink[dir]);
    if ((fl & TCP_ACK) && f->ext->reasm[!dir].seq_known)
        reasm_ack(&f->ext->reasm[!dir], lim, &w->stats, pi->ack, &w->sink[!dir]);
    if (fl & TCP_FIN) {
        f->tcp_state |= dir == 0 ? TCP_STATE_FIN_TO_SERVER : TCP_STATE_FIN_TO_CLIENT;
        uint32_t fin_seq = pi->seq + (uint32_t)pi->payload_wire_len
                           + ((fl & TCP_SYN) ? 1u : 0u);
        reasm_fin(rd, lim, &w->stats, fin_seq, &w->sink[dir]);
    }
    flow_check_ends(w, f);
}

/* ---- UDP ---- */

/* A datagram is a message of its own: its payload is one `data` call, and
 * what the snap length cut off is reported as a gap right after it. */
static void flow_datagram(struct worker *w, struct flow *f, int dir,
                          const struct packet_info *pi)
{
    void *state = flow_decoder_state(w, f);
    if (!state)
        return;
    enum decoder_dir d = (enum decoder_dir)dir;
    if (pi->payload_len > 0)
        flow_decoder(f)->data(state, flow_ctx(w, f), d, pi->payload, pi->payload_len);
    if (pi->payload_wire_len > pi->payload_len) {
        uint64_t lost = pi->payload_wire_len - pi->payload_len;
        f->ext->gaps++;
        f->ext->gap_bytes += lost;
        flow_decoder(f)->gap(state, flow_ctx(w, f), d, lost);
    }
}

/* ---- messages from the capture thread ---- */

/* Why a closed connection ended: reset, or else FINs. */
static enum flow_end_reason flow_closed_reason(const struct flow *f)
{
    return (f->tcp_state & TCP_STATE_RST) ? FLOW_END_RST : FLOW_END_FIN;
}

/* A SYN (without ACK) on a flow whose connection has closed opens a new
 * connection on the same ports (port reuse, common with scanners). */
static int flow_is_reused(const struct flow *f, const struct packet_info *pi)
{
    return pi->proto == IPPROTO_TCP_NUM && (pi->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN
        && f->list == FLOW_LIST_CLOSED;
}

/* The packet's direction in f: 0 when its source is the client. */
static int flow_dir_of(const struct flow *f, const struct packet_info *pi)
{
    const struct flow_key *k = &f->key;
    size_t alen = pi->family == 4 ? 4 : 16;
    uint16_t client_port = f->client_is_lo ? k->port_lo : k->port_hi;
    const uint8_t *client = f->client_is_lo ? k->addr_lo : k->addr_hi;
    return !(pi->sport == client_port && memcmp(pi->src, client, alen) == 0);
}

static void worker_packet(struct worker *w, const struct msg_packet *m)
{
    const uint8_t *data = (const uint8_t *)(m + 1);
    struct packet_info pi;
    enum stat_id reason;
    if (packet_parse(m->linktype, data, m->caplen, &pi, &reason) != 0)
        return;   /* counted by the capture thread, which parsed it first */
    w->cur_seq = m->seq;
    w->cur_pcap = (struct pcap_position){m->pcap_file, m->pcap_cnt};
    w->dctx.now_us = m->ts_us;
    struct flow_key k;
    int from_lo;
    flow_key_make(&k, pi.family, pi.proto, pi.src, pi.sport, pi.dst, pi.dport, &from_lo);
    struct flow *f = flow_table_lookup_hashed(&w->flows, &k, m->flow_hash);
    if (f && flow_is_reused(f, &pi)) {
        /* A new connection on the same ports: the old one is over. */
        flow_end(w, f, flow_closed_reason(f));
        f = NULL;
    }
    if (!f) {
        if (!(f = flow_create(w, &k, m->flow_hash, from_lo, &pi, m->ts_us)))
            return;
        f->in_iface = (uint8_t)m->iface;
    }
    w->cur_flow = f;
    int dir = flow_dir_of(f, &pi);
    f->pkts[dir]++;
    f->bytes[dir] += m->wire_len;
    flow_table_touch(&w->flows, f, m->ts_us);
    if (f->ndpi_pending)
        flow_classify(w, f, &pi, m->ts_us);
    if (pi.proto == IPPROTO_TCP_NUM)
        flow_tcp(w, f, dir, &pi);
    else if (flow_decoder(f) && pi.payload_wire_len > 0)
        flow_datagram(w, f, dir, &pi);
    worker_shed(w, f);
    stats_set(&w->stats, STAT_FLOWS_ACTIVE, w->flows.count);
    worker_memory_stats(w);
    w->cur_flow = NULL;
}

static int flow_first_seq_cmp(const void *a, const void *b)
{
    const struct flow *fa = *(struct flow *const *)a, *fb = *(struct flow *const *)b;
    return (fa->first_seq > fb->first_seq) - (fa->first_seq < fb->first_seq);
}

/* Puts flows in creation order. They are often in it already (the lists
 * are in order of last packet, which for scans and short connections is
 * the order of the first): one pass checks that before sorting. */
static void flows_sort_by_creation(struct flow **flows, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (flows[i - 1]->first_seq > flows[i]->first_seq) {
            qsort(flows, n, sizeof(*flows), flow_first_seq_cmp);
            return;
        }
}

/* Ends flows idle past their timeout, in creation order. */
static void worker_tick(struct worker *w, const struct msg_tick *t)
{
    w->cur_seq = t->seq;
    w->cur_pcap = (struct pcap_position){0, 0};   /* not caused by a packet */
    w->dctx.now_us = t->ts_us;
    size_t n;
    do {
        n = flow_table_expired(&w->flows, t->ts_us, w->idle_us, w->closed_us,
                               w->scratch, w->scratch_cap);
        flows_sort_by_creation(w->scratch, n);
        for (size_t i = 0; i < n; i++) {
            struct flow *f = w->scratch[i];
            flow_end(w, f, f->list != FLOW_LIST_CLOSED ? FLOW_END_TIMEOUT
                                                       : flow_closed_reason(f));
        }
    } while (n == w->scratch_cap);
    stats_set(&w->stats, STAT_FLOWS_ACTIVE, w->flows.count);
    worker_memory_stats(w);
}

static void collect_flow(struct flow *f, void *arg)
{
    struct worker *w = arg;
    w->scratch[w->scratch_cap++] = f;
}

/* End of input: every flow still open ends now, in creation order. */
static void worker_shutdown(struct worker *w, const struct msg_tick *t)
{
    w->cur_seq = t->seq;
    w->cur_pcap = (struct pcap_position){0, 0};
    w->dctx.now_us = t->ts_us;
    free(w->scratch);
    w->scratch = calloc(w->flows.count + 1, sizeof(*w->scratch));
    w->scratch_cap = 0;
    if (!w->scratch)
        return;
    flow_table_each(&w->flows, collect_flow, w);
    size_t n = w->scratch_cap;
    flows_sort_by_creation(w->scratch, n);
    flow_table_unhash_all(&w->flows);
    for (size_t i = 0; i < n; i++) {
        struct flow *f = w->scratch[i];
        /* A connection that had already closed says so, not "shutdown". */
        flow_end(w, f, f->list != FLOW_LIST_CLOSED ? FLOW_END_SHUTDOWN
                                                   : flow_closed_reason(f));
    }
    stats_set(&w->stats, STAT_FLOWS_ACTIVE, w->flows.count);
    worker_memory_stats(w);
}

/* Offline stats boundary: this worker's counters after every packet
 * before it (plus the capture thread's, carried by the message). */
static void worker_stats_snapshot(struct worker *w, const void *m, size_t len)
{
    const struct msg_stats *s = m;
    const uint64_t *carried = len >= sizeof(*s) + sizeof(uint64_t) * STATS_SLOTS
                                  ? (const uint64_t *)(s + 1) : NULL;
    struct rec_stats *r;
    while (!(r = ring_reserve(&w->out, REC_STATS, sizeof(*r))))
        ring_wait_writable(&w->out, sizeof(*r));
    r->key.seq = s->seq;
    r->key.flow_seq = UINT64_MAX;  /* after every record of that seq */
    r->key.sub = 0;
    r->ts_us = s->ts_us;
    for (unsigned i = 0; i < STATS_SLOTS; i++)
        r->v[i] = stats_get(&w->stats, i) + (carried ? carried[i] : 0);
    ring_commit(&w->out);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (;;) {
        uint32_t type;
        size_t len;
        const void *m = ring_peek(&w->in, &type, &len);
        if (!m) {
            /* Idle: what we wrote goes on now, then sleep until a packet. */
            ring_flush(&w->out);
            ring_wait_readable(&w->in, -1);
            continue;
        }
        const struct msg_tick *t = m;
        if (type == MSG_PACKET) {
            worker_packet(w, m);
        } else if (type == MSG_TICK) {
            worker_tick(w, t);
            worker_watermark(w, t->seq);
        } else if (type == MSG_STATS) {
            worker_stats_snapshot(w, m, len);
        } else if (type == MSG_MARK) {
            worker_watermark(w, t->seq);
        } else if (type == MSG_END) {
            worker_shutdown(w, t);
            ring_release(&w->in);
            worker_watermark(w, UINT64_MAX);
            worker_push(w, REC_END, NULL, 0);
            ring_flush(&w->out);
            return NULL;
        }
        ring_release(&w->in);
    }
}

/* The evicted connections' set (evicted.h): EVICTED_KEYS_MAX slots (2 MiB,
 * a quarter of a million connections) or 1/32 of the worker's memory share
 * if less, charged to it. Sized by memory, not by flows.max: the
 * connections evicted and still going on can far outnumber the flows the
 * table holds (long connections through a small table). Its pages are
 * touched only as flows are evicted. */
#define EVICTED_KEYS_MAX ((size_t)1 << 18)
static int worker_evicted_init(struct worker *w)
{
    size_t want = w->budget.limit / 32 / sizeof(uint64_t);
    if (want > EVICTED_KEYS_MAX)
        want = EVICTED_KEYS_MAX;
    if (evicted_init(&w->evicted, want) != 0)
        return -1;
    if (!membudget_charge(&w->budget, evicted_bytes(&w->evicted))) {
        fprintf(stderr, "scrapewatch: memory.budget_mb (%u) leaves each worker too little "
                "for its flow table\n", w->cfg->memory.budget_mb);
        return -1;
    }
    return 0;
}

int worker_init(struct worker *w, unsigned index, const struct sw_config *cfg,
                size_t max_flows, _Atomic size_t *reasm_global_used)
{
    memset(w, 0, sizeof(*w));
    w->index = index;
    w->cfg = cfg;
    if (ring_init(&w->in, ring_size(cfg->capture.ring_kb * (size_t)1024)) != 0
        || ring_init(&w->out, ring_size(cfg->events.queue * sizeof(struct rec_op))) != 0
        || flow_table_init(&w->flows, max_flows) != 0)
        return -1;
    ring_waiter_init(&w->waiter);
    w->in.reader = &w->waiter;    /* the writer of `in` is dispatch's, the */
    w->out.writer = &w->waiter;   /* reader of `out` detect's (their _init) */
    w->reasm_limits.flow_max = (size_t)cfg->reassembly.flow_max_kb * 1024;
    w->reasm_limits.global_max = (size_t)cfg->reassembly.total_max_mb * 1024 * 1024;
    w->reasm_limits.global_used = reasm_global_used;
    unsigned workers = cfg->sensor.workers ? cfg->sensor.workers : 1;
    size_t share = (size_t)(cfg->memory.budget_mb - cfg->memory.rules_mb) * 1024 * 1024;
    membudget_init(&w->budget, share / workers, &w->stats);
    w->reasm_limits.budget = &w->budget;
    if (!membudget_set_flows(&w->budget, flows_bytes(w, 0))) {
        fprintf(stderr, "scrapewatch: memory.budget_mb (%u) leaves each worker %zu bytes, "
                "less than its flow table (flows.max %u) needs empty\n",
                cfg->memory.budget_mb, w->budget.limit, cfg->flows.max);
        return -1;
    }
    if (worker_evicted_init(w) != 0)
        return -1;
    w->idle_us = (uint64_t)cfg->flows.idle_timeout * 1000000;
    w->closed_us = (uint64_t)cfg->flows.closed_timeout * 1000000;
    w->scratch_cap = 1024;
    w->scratch = calloc(w->scratch_cap, sizeof(*w->scratch));
    if (!w->scratch)
        return -1;
    if (cfg->ndpi.enabled && !(w->classifier = classifier_new()))
        return -1;
    const struct decoder *const *all = decoder_all();
    for (size_t i = 0; all[i] != NULL; i++) {
        struct decoder_ctx bound;
        decoder_ctx_bind(&bound, all[i], config_decoder_params(cfg, all[i]), &w->stats);
        w->decoder_params[i] = bound.params;
        w->decoder_counters[i] = bound.counters;
        w->decoder_on[i] = config_enables(cfg, all[i]);
        w->any_probe |= all[i]->probe != NULL && w->decoder_on[i];
    }
    w->dctx.emit = worker_emit_op;
    w->dctx.owner = w;
    w->dctx.budget = &w->budget;
    w->sink[0] = (struct reasm_sink){sink_data_to_server, sink_gap_to_server, w};
    w->sink[1] = (struct reasm_sink){sink_data_to_client, sink_gap_to_client, w};
    return 0;
}

int worker_start(struct worker *w)
{
    return pthread_create(&w->thread, NULL, worker_main, w) == 0 ? 0 : -1;
}

void worker_join(struct worker *w)
{
    pthread_join(w->thread, NULL);
}

void worker_destroy(struct worker *w)
{
    flow_table_destroy(&w->flows);
    evicted_destroy(&w->evicted);
    if (w->classifier)
        classifier_free(w->classifier);
    free(w->scratch);
    ring_destroy(&w->in);
    ring_destroy(&w->out);
}
