/* worker.c - per-worker flow handling: packets in, op and flow records out.
 *
 * For each packet: find or create its flow (evicting the oldest when the
 * table is full), orient it client -> server, feed its TCP payload through
 * reassembly to the flow's decoder, and pass the ops the decoder emits to
 * the detect thread, keyed so that the detect thread can merge the workers'
 * streams in capture order (see pipeline.h). Timeouts run on ticks that the
 * capture thread derives from packet time, so replay is deterministic. */
#include "worker.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "classify.h"
#include "community_id.h"
#include "packet.h"
#include "pipeline.h"

#define EARLY_MAX (16u * 1024u)   /* bytes kept while nDPI decides */
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
    if (f->op_sub_seq != w->cur_seq) {
        f->op_sub_seq = w->cur_seq;
        f->op_sub = 0;
    }
    struct record_key k = {w->cur_seq, f->first_seq, f->op_sub++};
    return k;
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
    struct rec_op *r = NULL;
    /* A flow of a framing protocol (HTTP) that turned out to be a database
     * says so from now on. */
    if (!app_is_database((enum app_id)f->meta.app) && op->app != f->meta.app
        && op->app != APP_UNKNOWN)
        f->meta.app = op->app;
    while (!(r = ring_reserve(&w->out, REC_OP, sizeof(*r))))
        ring_wait_writable(&w->out, sizeof(*r));
    r->key = worker_next_key(w, f);
    r->ts_us = ctx->now_us;
    r->meta = f->meta;
    r->op = *op;
    if (ctx->midstream)
        r->op.flags |= OP_FLAG_MIDSTREAM;
    ring_commit(&w->out);
    f->ops++;
    stats_inc(&w->stats, op_stat(op->app));
}

static void worker_emit_flow(struct worker *w, struct flow *f)
{
    struct rec_flow r;
    memset(&r, 0, sizeof(r));
    r.key = worker_next_key(w, f);
    r.ts_us = w->dctx.now_us;
    r.meta = f->meta;
    r.start_us = f->first_us;
    r.end_us = f->last_us;
    memcpy(r.pkts, f->pkts, sizeof(r.pkts));
    memcpy(r.bytes, f->bytes, sizeof(r.bytes));
    r.gaps = f->gaps;
    r.gap_bytes = f->gap_bytes;
    r.ops = f->ops;
    r.reason = f->end_reason;
    r.orientation = f->orientation;
    r.classified_by = f->classified_by;
    r.tcp_state = f->tcp_state;
    worker_push(w, REC_FLOW, &r, sizeof(r));
}

/* ---- bytes before the decoder is known ---- */

static void early_discard(struct flow *f)
{
    free(f->early.buf);
    f->early.buf = NULL;
    f->early.len = 0;
}

static void early_append(struct worker *w, struct flow *f, uint8_t kind, int dir,
                         const uint8_t *buf, uint64_t len)
{
    size_t body = kind == EARLY_DATA ? (size_t)len : 0;
    size_t need = 2 + 8 + body;
    if (f->early.len + need > EARLY_MAX) {
        /* Too much to keep while waiting: stop waiting, decode nothing. */
        if (f->ndpi) {
            struct classify_result ignored;
            classify_giveup(w->classifier, f->ndpi, &ignored);
            classify_flow_free(f->ndpi);
            f->ndpi = NULL;
            stats_inc(&w->stats, STAT_NDPI_GIVEUP);
        } else {
            stats_inc(&w->stats, STAT_PROBE_GIVEUP);   /* probes still wanted more */
        }
        early_discard(f);
        f->decided = 1;
        return;
    }
    uint8_t *p = realloc(f->early.buf, f->early.len + need);
    if (!p)
        return;
    f->early.buf = p;
    p += f->early.len;
    p[0] = kind;
    p[1] = (uint8_t)dir;
    memcpy(p + 2, &len, 8);
    if (body)
        memcpy(p + 10, buf, body);
    f->early.len += need;
}

static void early_replay(struct worker *w, struct flow *f)
{
    size_t off = 0;
    while (off + 10 <= f->early.len) {
        const uint8_t *p = f->early.buf + off;
        uint64_t len;
        memcpy(&len, p + 2, 8);
        enum decoder_dir dir = p[1] ? DIR_TO_CLIENT : DIR_TO_SERVER;
        if (p[0] == EARLY_DATA) {
            f->decoder->data(f->decoder_state, flow_ctx(w, f), dir, p + 10, (size_t)len);
            off += 10 + (size_t)len;
        } else {
            f->decoder->gap(f->decoder_state, flow_ctx(w, f), dir, len);
            off += 10;
        }
    }
    early_discard(f);
}

static void flow_probe(struct worker *w, struct flow *f);

/* The decoder's state, opened on the flow's first payload or gap rather
 * than when the decoder is chosen: a flow that never carries bytes (a SYN
 * scan, a half-open connection) costs no decoder memory. Directions that
 * already ended are told at once. NULL if the open failed (then the flow's
 * bytes are not decoded). */
static void *flow_decoder_state(struct worker *w, struct flow *f)
{
    if (f->decoder_state || f->decoder_opened)
        return f->decoder_state;
    f->decoder_opened = 1;
    f->decoder_state = f->decoder->open(flow_ctx(w, f));
    for (int d = 0; d < 2 && f->decoder_state; d++)
        if (f->end_sent[d])
            f->decoder->end(f->decoder_state, flow_ctx(w, f), (enum decoder_dir)d);
    return f->decoder_state;
}

/* ---- reassembly sinks ---- */

static void sink_deliver(struct worker *w, int dir, const uint8_t *buf, size_t len)
{
    struct flow *f = w->cur_flow;
    if (f->decoder) {
        void *state = flow_decoder_state(w, f);
        if (state)
            f->decoder->data(state, flow_ctx(w, f), (enum decoder_dir)dir, buf, len);
    } else if (!f->decided) {
        early_append(w, f, EARLY_DATA, dir, buf, len);
        if (!f->ndpi && !f->decided)
            flow_probe(w, f);
    }
}

static void sink_gap(struct worker *w, int dir, uint64_t len)
{
    struct flow *f = w->cur_flow;
    f->gaps++;
    f->gap_bytes += len;
    if (f->decoder) {
        void *state = flow_decoder_state(w, f);
        if (state)
            f->decoder->gap(state, flow_ctx(w, f), (enum decoder_dir)dir, len);
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
    f->decoder = d;
    f->decoder_index = (uint8_t)decoder_index(d);
    f->classified_by = (uint8_t)by;
    f->meta.app = (uint8_t)d->app;
    stats_inc(&w->stats, by == CLASSIFIED_BY_PORT    ? STAT_PORT_CLASSIFIED
                         : by == CLASSIFIED_BY_PROBE ? STAT_PROBE_CLASSIFIED
                                                     : STAT_NDPI_CLASSIFIED);
    if (f->early.len && flow_decoder_state(w, f))
        early_replay(w, f);
    early_discard(f);
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
    while (off + 10 <= f->early.len && n < DECODER_PROBE_BYTES) {
        const uint8_t *p = f->early.buf + off;
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
    size_t ts = early_prefix(f, 0, to_server), tc = early_prefix(f, 1, to_client);
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
        early_discard(f);
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
            f->meta.app = (uint8_t)app;
            f->classified_by = CLASSIFIED_BY_NDPI;
            f->no_decoder = 1;
            stats_inc(&w->stats, STATS_NO_DECODER_BASE + app);
            f->decided = 1;
            early_discard(f);
            return;
        }
    }
    flow_probe(w, f);
}

/* Asks nDPI about one more packet of an undecided flow. */
static void flow_classify(struct worker *w, struct flow *f, const struct packet_info *pi,
                          uint64_t now_us)
{
    struct classify_result res;
    int done = classify_packet(w->classifier, f->ndpi, pi->l3, pi->l3_len,
                               now_us / 1000, &res);
    if (!done && ++f->ndpi_packets >= w->cfg->ndpi.max_packets) {
        done = classify_giveup(w->classifier, f->ndpi, &res);
        stats_inc(&w->stats, STAT_NDPI_GIVEUP);
    }
    if (!done)
        return;
    classify_flow_free(f->ndpi);
    f->ndpi = NULL;
    flow_classified(w, f, &res);
}

/* ---- flow life ---- */

static void flow_orient(struct worker *w, struct flow *f, const struct packet_info *pi)
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
    if (pi->proto == IPPROTO_TCP_NUM && f->orientation != ORIENT_HANDSHAKE)
        stats_inc(&w->stats, STAT_FLOWS_MIDSTREAM);
    size_t alen = pi->family == 4 ? 4 : 16;
    struct flow_meta *m = &f->meta;
    m->family = pi->family;
    m->proto = pi->proto;
    memcpy(m->client, src_is_client ? pi->src : pi->dst, alen);
    memcpy(m->server, src_is_client ? pi->dst : pi->src, alen);
    m->client_port = src_is_client ? pi->sport : pi->dport;
    m->server_port = src_is_client ? pi->dport : pi->sport;
    community_id_v1(0, m->family, m->proto, m->client, m->server,
                    m->client_port, m->server_port, m->community_id);
    /* Same flow, same id, whatever the worker count. */
    m->flow_id = (flow_hash(&f->key) ^ (f->first_seq * HASH_GOLDEN64))
                 & 0x7fffffffffffffffull;
}

static void flow_choose_decoder(struct worker *w, struct flow *f)
{
    if (f->meta.proto == IPPROTO_UDP_NUM) {
        const struct config_decoder *cd = port_entry(w->cfg, f->meta.proto,
                                                     f->meta.server_port);
        const struct decoder *d = cd ? decoder_find(cd->name) : NULL;
        if (d)
            flow_attach_decoder(w, f, d, CLASSIFIED_BY_PORT);
        f->decided = 1;
        return;
    }
    if (f->meta.proto != IPPROTO_TCP_NUM) {
        f->decided = 1;
        return;
    }
    const struct decoder *d = worker_decoder_for_port(w->cfg, f->meta.server_port);
    if (d) {
        flow_attach_decoder(w, f, d, CLASSIFIED_BY_PORT);
        return;
    }
    if (w->classifier)
        f->ndpi = classify_flow_new();
    f->decided = f->ndpi == NULL && !w->any_probe;
}

static void flow_count_end(struct worker *w, enum flow_end_reason reason)
{
    switch (reason) {
    case FLOW_END_FIN:
    case FLOW_END_RST: stats_inc(&w->stats, STAT_FLOWS_CLOSED); break;
    case FLOW_END_TIMEOUT: stats_inc(&w->stats, STAT_FLOWS_TIMED_OUT); break;
    case FLOW_END_EVICTED: stats_inc(&w->stats, STAT_FLOWS_EVICTED); break;
    case FLOW_END_SHUTDOWN: break;   /* still open at the end of input */
    }
}

static void flow_end(struct worker *w, struct flow *f, enum flow_end_reason reason)
{
    w->cur_flow = f;
    f->end_reason = (uint8_t)reason;
    for (int d = 0; d < 2; d++)
        reasm_flush(&f->reasm[d], &w->reasm_limits, &w->stats, &w->sink[d]);
    if (f->decoder_state)
        f->decoder->close(f->decoder_state, flow_ctx(w, f));
    f->decoder_state = NULL;
    if (f->ndpi)
        classify_flow_free(f->ndpi);
    f->ndpi = NULL;
    early_discard(f);
    if (f->decoder || f->no_decoder)
        worker_emit_flow(w, f);
    for (int d = 0; d < 2; d++)
        reasm_free(&f->reasm[d], &w->reasm_limits);
    flow_count_end(w, reason);
    flow_table_remove(&w->flows, f);
    flow_free(f);
    w->cur_flow = NULL;
}

static struct flow *flow_create(struct worker *w, const struct flow_key *k,
                                const struct packet_info *pi, uint64_t now_us)
{
    if (flow_table_full(&w->flows)) {
        struct flow *victim = flow_table_oldest(&w->flows);
        if (victim)
            flow_end(w, victim, FLOW_END_EVICTED);
    }
    struct flow *f = flow_table_insert(&w->flows, k);
    if (!f)
        return NULL;
    f->first_seq = w->cur_seq;
    f->first_us = f->last_us = now_us;
    reasm_init(&f->reasm[0]);
    reasm_init(&f->reasm[1]);
    flow_orient(w, f, pi);
    stats_inc(&w->stats, STAT_FLOWS_CREATED);
    w->cur_flow = f;
    flow_choose_decoder(w, f);
    return f;
}

/* ---- TCP ---- */

/* Tells the decoder about directions that reassembly has ended. */
static void flow_check_ends(struct worker *w, struct flow *f)
{
    for (int d = 0; d < 2; d++) {
        if (!f->reasm[d].ended || f->end_sent[d])
            continue;
        f->end_sent[d] = 1;
        if (f->decoder_state)
            f->decoder->end(f->decoder_state, flow_ctx(w, f), (enum decoder_dir)d);
    }
    if (f->end_sent[0] && f->end_sent[1])
        flow_table_mark_closed(&w->flows, f);
}

static void flow_reset(struct worker *w, struct flow *f)
{
    f->tcp_state |= TCP_STATE_RST;
    for (int d = 0; d < 2; d++) {
        reasm_flush(&f->reasm[d], &w->reasm_limits, &w->stats, &w->sink[d]);
        f->reasm[d].ended = 1;
    }
    flow_check_ends(w, f);
}

static void flow_tcp(struct worker *w, struct flow *f, int dir, const struct packet_info *pi)
{
    struct reasm_dir *rd = &f->reasm[dir];
    const struct reasm_limits *lim = &w->reasm_limits;
    uint8_t fl = pi->tcp_flags;
    if (fl & TCP_SYN) {
        reasm_syn(rd, pi->seq);
        f->tcp_state |= dir == 0 ? TCP_STATE_SYN : TCP_STATE_SYNACK;
    }
    if (fl & TCP_RST) {
        flow_reset(w, f);
        return;
    }
    if (pi->payload_wire_len > 0)
        reasm_push(rd, lim, &w->stats, pi->seq + ((fl & TCP_SYN) ? 1u : 0u), pi->payload,
                   pi->payload_len, pi->payload_wire_len, &w->sink[dir]);
    if ((fl & TCP_ACK) && f->reasm[!dir].seq_known)
        reasm_ack(&f->reasm[!dir], lim, &w->stats, pi->ack, &w->sink[!dir]);
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
        f->decoder->data(state, flow_ctx(w, f), d, pi->payload, pi->payload_len);
    if (pi->payload_wire_len > pi->payload_len) {
        uint64_t lost = pi->payload_wire_len - pi->payload_len;
        f->gaps++;
        f->gap_bytes += lost;
        f->decoder->gap(state, flow_ctx(w, f), d, lost);
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

static void worker_packet(struct worker *w, const struct msg_packet *m)
{
    const uint8_t *data = (const uint8_t *)(m + 1);
    struct packet_info pi;
    enum stat_id reason;
    if (packet_parse(m->linktype, data, m->caplen, &pi, &reason) != 0)
        return;   /* counted by the capture thread, which parsed it first */
    w->cur_seq = m->seq;
    w->dctx.now_us = m->ts_us;
    struct flow_key k;
    int from_lo;
    flow_key_make(&k, pi.family, pi.proto, pi.src, pi.sport, pi.dst, pi.dport, &from_lo);
    struct flow *f = flow_table_lookup(&w->flows, &k);
    if (f && flow_is_reused(f, &pi)) {
        /* A new connection on the same ports: the old one is over. */
        flow_end(w, f, flow_closed_reason(f));
        f = NULL;
    }
    if (!f && !(f = flow_create(w, &k, &pi, m->ts_us)))
        return;
    w->cur_flow = f;
    size_t alen = pi.family == 4 ? 4 : 16;
    int dir = !(pi.sport == f->meta.client_port && memcmp(pi.src, f->meta.client, alen) == 0);
    f->pkts[dir]++;
    f->bytes[dir] += m->wire_len;
    flow_table_touch(&w->flows, f, m->ts_us);
    if (f->ndpi)
        flow_classify(w, f, &pi, m->ts_us);
    if (pi.proto == IPPROTO_TCP_NUM)
        flow_tcp(w, f, dir, &pi);
    else if (f->decoder && pi.payload_wire_len > 0)
        flow_datagram(w, f, dir, &pi);
    stats_set(&w->stats, STAT_FLOWS_ACTIVE, w->flows.count);
    w->cur_flow = NULL;
}

static int flow_first_seq_cmp(const void *a, const void *b)
{
    const struct flow *fa = *(struct flow *const *)a, *fb = *(struct flow *const *)b;
    return (fa->first_seq > fb->first_seq) - (fa->first_seq < fb->first_seq);
}

/* Ends flows idle past their timeout, in creation order. */
static void worker_tick(struct worker *w, const struct msg_tick *t)
{
    w->cur_seq = t->seq;
    w->dctx.now_us = t->ts_us;
    size_t n;
    do {
        n = flow_table_expired(&w->flows, t->ts_us, w->idle_us, w->closed_us,
                               w->scratch, w->scratch_cap);
        qsort(w->scratch, n, sizeof(*w->scratch), flow_first_seq_cmp);
        for (size_t i = 0; i < n; i++) {
            struct flow *f = w->scratch[i];
            flow_end(w, f, f->list != FLOW_LIST_CLOSED ? FLOW_END_TIMEOUT
                                                       : flow_closed_reason(f));
        }
    } while (n == w->scratch_cap);
    stats_set(&w->stats, STAT_FLOWS_ACTIVE, w->flows.count);
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
    w->dctx.now_us = t->ts_us;
    free(w->scratch);
    w->scratch = calloc(w->flows.count + 1, sizeof(*w->scratch));
    w->scratch_cap = 0;
    if (!w->scratch)
        return;
    flow_table_each(&w->flows, collect_flow, w);
    size_t n = w->scratch_cap;
    qsort(w->scratch, n, sizeof(*w->scratch), flow_first_seq_cmp);
    for (size_t i = 0; i < n; i++) {
        struct flow *f = w->scratch[i];
        /* A connection that had already closed says so, not "shutdown". */
        flow_end(w, f, f->list != FLOW_LIST_CLOSED ? FLOW_END_SHUTDOWN
                                                   : flow_closed_reason(f));
    }
    stats_set(&w->stats, STAT_FLOWS_ACTIVE, w->flows.count);
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
    if (w->classifier)
        classifier_free(w->classifier);
    free(w->scratch);
    ring_destroy(&w->in);
    ring_destroy(&w->out);
}
