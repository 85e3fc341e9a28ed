/* event_json.c - serialise op, flow and stats events (see event_json.h). */
#include "event_json.h"

#include <stdio.h>
#include <string.h>

#include "../decoders/apps.h"
#include "base/op.h"
#include "inputs.h"
#include "event_eve.h"
#include "packet.h"
#include "stats_names.h"
#include "textfmt.h"

/* Kept for callers that want a bounded C string (textfmt.h). */
void event_time_format(uint64_t ts_us, char *out, size_t cap)
{
    char text[TEXTFMT_TIME_MAX];
    size_t n = textfmt_time(ts_us, text);
    if (cap == 0)
        return;
    if (n >= cap)
        n = cap - 1;   /* cut as snprintf would */
    memcpy(out, text, n);
    out[n] = '\0';
}

static void json_kv_time(struct json_writer *w, const char *key, uint64_t ts_us)
{
    char buf[TEXTFMT_TIME_MAX];
    size_t n = textfmt_time(ts_us, buf);
    json_kv_plain(w, key, buf, n);
}

static void json_kv_ip(struct json_writer *w, const char *key, int family, const uint8_t *a)
{
    char buf[TEXTFMT_IP_MAX];
    size_t n = textfmt_ip(family, a, buf);
    json_kv_plain(w, key, buf, n);
}

/* A wire string, capped. */
static void json_kv_wire(struct json_writer *w, const struct event_json_opts *o,
                         const char *key, const char *s)
{
    json_key(w, key);
    json_string_capped(w, s, strlen(s), o->string_max);
}

/* The fields every flow-related event starts with. */
static void event_header(struct json_writer *w, const struct event_json_opts *o,
                         uint64_t ts_us, const char *type, const struct flow_meta *m)
{
    json_object_open(w);
    json_kv_time(w, "timestamp", ts_us);
    json_kv_string(w, "sensor", o->sensor);
    json_kv_string(w, "host", o->sensor);
    json_kv_string(w, "event_type", type);
    json_kv_uint(w, "flow_id", m->flow_id & EVE_FLOW_ID_MASK);
    json_kv_string(w, "community_id", m->community_id);
    json_kv_ip(w, "src_ip", m->family, m->client);
    json_kv_uint(w, "src_port", m->client_port);
    json_kv_ip(w, "dest_ip", m->family, m->server);
    json_kv_uint(w, "dest_port", m->server_port);
    json_kv_string(w, "proto", m->proto == 6 ? "TCP" : "UDP");
    json_kv_string(w, "app_proto", app_name((enum app_id)m->app));
    /* Live only: offline events have none, as in Suricata's EVE. */
    if (m->in_iface && inputs_name(m->in_iface))
        json_kv_string(w, "in_iface", inputs_name(m->in_iface));
}

/* Offline, EVE's pcap_filename and pcap_cnt: the file and number of the
 * packet that completed the op (as given on the command line). */
static void event_pcap(struct json_writer *w, const struct event_json_opts *o,
                       const struct pcap_position *p)
{
    if (p->file == 0 || p->file > o->pcap_file_count)
        return;
    json_kv_string(w, "pcap_filename", o->pcap_files[p->file - 1]);
    json_kv_uint(w, "pcap_cnt", p->packet);
}

static void op_flags(struct json_writer *w, uint32_t flags)
{
    json_key(w, "flags");
    json_array_open(w);
    uint32_t bit;
    const char *name;
    for (size_t i = 0; (name = op_flag_at(i, &bit)) != NULL; i++)
        if (flags & bit)
            json_string(w, name);
    json_array_close(w);
}

static void op_http(struct json_writer *w, const struct event_json_opts *o,
                    const struct op_record *op)
{
    if (!op->http.method[0])
        return;
    json_key(w, "http");
    json_object_open(w);
    json_kv_wire(w, o, "method", op->http.method);
    json_kv_wire(w, o, "uri", op->http.uri);
    if (op->status_code)
        json_kv_int(w, "status_code", op->status_code);
    json_object_close(w);
}

/* Issue 14: the op's own login outcome and the server's access-control
 * hint, each only when there is one. */
static void op_auth_outcome(struct json_writer *w, const struct op_record *op)
{
    const char *result = op_auth_result_name((enum op_auth_result)op->auth_result);
    const char *hint = op_server_auth_hint_name((enum op_server_auth_hint)op->server_auth_hint);
    if (result)
        json_kv_string(w, "auth_result", result);
    if (hint)
        json_kv_string(w, "server_auth_hint", hint);
}

static void op_body(struct json_writer *w, const struct event_json_opts *o,
                    const struct op_record *op)
{
    json_key(w, "op");
    json_object_open(w);
    json_kv_string(w, "app", app_name((enum app_id)op->app));
    json_kv_wire(w, o, "name", op->op);
    json_kv_string(w, "class", op_class_name((enum op_class)op->op_class));
    json_kv_wire(w, o, "target", op->target);
    json_kv_string(w, "status", op_status_name((enum op_status)op->status));
    json_kv_int(w, "status_code", op->status_code);
    json_kv_string(w, "authenticated", op_auth_name((enum op_auth)op->authenticated));
    if (op->auth_scheme[0])
        json_kv_wire(w, o, "auth_scheme", op->auth_scheme);
    if (op->client_id[0])
        json_kv_wire(w, o, "client", op->client_id);
    if (op->continuation[0])
        json_kv_string(w, "continuation", op->continuation);
    if (op->cursor_out[0])
        json_kv_string(w, "cursor", op->cursor_out);
    if (op->error_type[0])
        json_kv_wire(w, o, "error_type", op->error_type);
    json_kv_uint(w, "request_bytes", op->request_bytes);
    json_kv_uint(w, "response_bytes", op->response_bytes);
    if (op->items >= 0)
        json_kv_int(w, "items", op->items);
    if (op->total >= 0)
        json_kv_int(w, "total", op->total);
    if (op->total >= 0 && op->total_relation == OP_TOTAL_LOWER_BOUND)
        json_kv_string(w, "total_relation", "gte");
    if (op->page_size >= 0)
        json_kv_int(w, "page_size", op->page_size);
    if (op->offset >= 0)
        json_kv_int(w, "offset", op->offset);
    if (op->ts_request_us)
        json_kv_time(w, "request_time", op->ts_request_us);
    if (op->ts_response_us)
        json_kv_time(w, "response_time", op->ts_response_us);
    op_flags(w, op->flags);
    op_http(w, o, op);
    op_auth_outcome(w, op);
    json_object_close(w);
}

static void op_chain(struct json_writer *w, const struct chain_info *c)
{
    if (!c->id[0])
        return;
    json_key(w, "chain");
    json_object_open(w);
    json_kv_string(w, "id", c->id);
    json_kv_uint(w, "ops", c->ops);
    json_kv_int(w, "items", c->items);
    json_object_close(w);
}

void event_json_op(struct json_writer *w, const struct event_json_opts *o,
                   const struct rec_op *r)
{
    event_header(w, o, r->ts_us, "op", &r->meta);
    event_pcap(w, o, &r->pcap);
    op_body(w, o, &r->op);
    op_chain(w, &r->chain);
    json_object_close(w);
}

static const char *flow_reason_name(uint8_t r)
{
    static const char *const names[] = {
        [FLOW_END_FIN] = "fin", [FLOW_END_RST] = "rst", [FLOW_END_TIMEOUT] = "timeout",
        [FLOW_END_EVICTED] = "evicted", [FLOW_END_SHUTDOWN] = "shutdown",
    };
    return r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

static const char *flow_orientation_name(uint8_t o)
{
    static const char *const names[] = {
        [ORIENT_HANDSHAKE] = "handshake", [ORIENT_PORT] = "port",
        [ORIENT_FIRST_PACKET] = "first_packet",
    };
    return o < sizeof(names) / sizeof(names[0]) ? names[o] : "unknown";
}

/* An unknown value reads as "none", as it always has. */
static const char *flow_classified_by_name(uint8_t by)
{
    static const char *const names[] = {
        [CLASSIFIED_NONE] = "none", [CLASSIFIED_BY_PORT] = "port",
        [CLASSIFIED_BY_NDPI] = "ndpi", [CLASSIFIED_BY_PROBE] = "probe",
    };
    return by < sizeof(names) / sizeof(names[0]) ? names[by] : names[CLASSIFIED_NONE];
}

/* The outermost tunnel the flow arrived in, when there was one. */
static void flow_tunnel(struct json_writer *w, const struct flow_meta *m)
{
    if (m->tunnel == TUNNEL_NONE)
        return;
    json_key(w, "tunnel");
    json_object_open(w);
    json_kv_string(w, "type", tunnel_type_name(m->tunnel));
    if (m->tunnel_has_id)
        json_kv_uint(w, "id", m->tunnel_id);
    json_object_close(w);
}

void event_json_flow(struct json_writer *w, const struct event_json_opts *o,
                     const struct rec_flow *r)
{
    event_header(w, o, r->ts_us, "flow", &r->meta);
    flow_tunnel(w, &r->meta);
    json_key(w, "flow");
    json_object_open(w);
    json_kv_uint(w, "pkts_toserver", r->pkts[0]);
    json_kv_uint(w, "pkts_toclient", r->pkts[1]);
    json_kv_uint(w, "bytes_toserver", r->bytes[0]);
    json_kv_uint(w, "bytes_toclient", r->bytes[1]);
    json_kv_time(w, "start", r->start_us);
    json_kv_time(w, "end", r->end_us);
    json_kv_uint(w, "age", (r->end_us - r->start_us) / 1000000);
    json_kv_string(w, "state", eve_flow_state(r));
    json_kv_string(w, "reason", eve_flow_reason(r->reason));
    json_kv_bool(w, "alerted", o->flow_alerted);
    json_kv_string(w, "end_reason", flow_reason_name(r->reason));
    json_kv_string(w, "orientation", flow_orientation_name(r->orientation));
    json_kv_string(w, "classified_by", flow_classified_by_name(r->classified_by));
    json_kv_uint(w, "ops", r->ops);
    json_kv_uint(w, "gaps", r->gaps);
    json_kv_uint(w, "gap_bytes", r->gap_bytes);
    json_object_close(w);
    json_object_close(w);
}

const char *alert_severity_word(uint8_t s)
{
    static const char *const names[] = {
        [SEVERITY_INFO] = "info", [SEVERITY_LOW] = "low", [SEVERITY_MEDIUM] = "medium",
        [SEVERITY_HIGH] = "high", [SEVERITY_CRITICAL] = "critical",
    };
    return s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static const char *alert_key_word(uint8_t k)
{
    static const char *const names[] = {
        [ALERT_KEY_SRC] = "src", [ALERT_KEY_DEST] = "dest", [ALERT_KEY_PAIR] = "pair",
        [ALERT_KEY_CHAIN] = "chain",
    };
    return k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

/* evidence.chain of an alert whose rule speaks of a cursor chain: its
 * pages and documents, the total the server reported (and whether only as
 * a lower bound), the fraction of it read, and whether the cursor ran out. */
static void alert_chain(struct json_writer *w, const struct event_json_opts *o,
                        const struct alert *a)
{
    const struct chain_info *c = &a->chain;
    json_key(w, "chain");
    json_object_open(w);
    json_kv_string(w, "id", c->id);
    if (c->target[0])
        json_kv_wire(w, o, "target", c->target);
    json_kv_uint(w, "pages", c->ops);
    json_kv_int(w, "documents", c->items);
    if (c->total >= 0) {
        json_kv_int(w, "total", c->total);
        json_kv_string(w, "total_relation",
                       c->total_relation == OP_TOTAL_LOWER_BOUND ? "gte" : "eq");
    }
    if (c->total > 0 && c->items >= 0) {
        /* two decimals, computed in integers: the same text on every machine */
        uint64_t hundredths = ((uint64_t)c->items * 100 + (uint64_t)c->total / 2)
                              / (uint64_t)c->total;
        char text[32];
        snprintf(text, sizeof(text), "%llu.%02llu", (unsigned long long)(hundredths / 100),
                 (unsigned long long)(hundredths % 100));
        json_key(w, "fraction");
        json_raw(w, text);
    }
    json_kv_bool(w, "exhausted", c->exhausted != 0);
    json_object_close(w);
}

/* An alert (rules/FORMAT.md "Alerts"). Rule texts come from the operator's
 * rule file, labels from list files, target names from the wire: all are
 * escaped, and the ones that can come from the wire or a list are capped. */
void event_json_alert(struct json_writer *w, const struct event_json_opts *o,
                      const struct alert *a)
{
    event_header(w, o, a->ts_us, "alert", &a->meta);
    event_pcap(w, o, &a->pcap);
    eve_alert_op(w, a, o->string_max);
    json_key(w, "alert");
    json_object_open(w);
    eve_alert_fields(w, a);

    json_key(w, "rule_info");
    json_object_open(w);
    json_kv_uint(w, "id", a->rule_id);
    json_kv_string(w, "name", a->name);
    json_kv_string(w, "severity", alert_severity_word(a->severity));
    json_kv_string(w, "category", a->category);
    json_key(w, "mitre");
    json_array_open(w);
    for (size_t i = 0; i < ALERT_MITRE_MAX && a->mitre[i][0]; i++)
        json_string(w, a->mitre[i]);
    json_array_close(w);
    json_object_close(w);

    json_kv_uint(w, "update", a->update);
    if (a->final)
        json_kv_bool(w, "final", true);
    json_kv_string(w, "key", alert_key_word(a->key));

    json_key(w, "actor");
    json_object_open(w);
    json_kv_ip(w, "ip", a->meta.family, a->meta.client);
    if (a->organisation[0])
        json_kv_wire(w, o, "organisation", a->organisation);
    if (a->tool[0])
        json_kv_wire(w, o, "tool", a->tool);
    if (a->organisation_by_rdns)
        json_kv_string(w, "attribution", "rdns");
    if (a->rdns[0])
        json_kv_wire(w, o, "rdns", a->rdns);
    json_object_close(w);

    json_key(w, "server");
    json_object_open(w);
    json_kv_ip(w, "ip", a->meta.family, a->meta.server);
    json_kv_uint(w, "port", a->meta.server_port);
    json_kv_string(w, "app", app_name((enum app_id)a->op_app));
    json_object_close(w);

    json_key(w, "evidence");
    json_object_open(w);
    json_kv_uint(w, "ops", a->ops);
    json_kv_uint(w, "documents", a->documents);
    json_kv_uint(w, "bytes", a->bytes);
    json_kv_uint(w, "distinct", a->distinct);
    json_key(w, "targets");
    json_array_open(w);
    for (size_t i = 0; i < a->target_count && i < ALERT_TARGETS_MAX; i++) {
        const char *t = a->targets[i];
        json_string_capped(w, t, strnlen(t, sizeof(a->targets[i])), o->string_max);
    }
    json_array_close(w);
    json_kv_uint(w, "servers", a->servers);
    json_kv_time(w, "first", a->first_us);
    json_kv_time(w, "last", a->last_us);
    json_kv_uint(w, "window", a->window_s);
    if (a->stage[0])
        json_kv_string(w, "stage", a->stage);
    if (a->has_chain)
        alert_chain(w, o, a);
    json_object_close(w);

    json_object_close(w);
    json_object_close(w);
}

/* Opens or closes the objects between the path of the last counter
 * (open, depth *open_n) and `name`'s: all but its last dotted part. */
static void stats_path_to(struct json_writer *w, char open[][INPUT_NAME_MAX + 32],
                          size_t *open_n, char *name, const char **leaf)
{
    char *parts[3];
    size_t n = 0;
    parts[n++] = name;
    for (char *dot = strchr(name, '.'); dot && n < 3; dot = strchr(dot + 1, '.')) {
        *dot = '\0';
        parts[n++] = dot + 1;
    }
    *leaf = parts[n - 1];
    size_t same = 0;
    while (same < *open_n && same < n - 1 && strcmp(open[same], parts[same]) == 0)
        same++;
    for (; *open_n > same; (*open_n)--)
        json_object_close(w);
    for (; *open_n < n - 1; (*open_n)++) {
        snprintf(open[*open_n], INPUT_NAME_MAX + 32, "%s", parts[*open_n]);
        json_key(w, parts[*open_n]);
        json_object_open(w);
    }
}

/* Writes counters as nested objects from their dotted names (up to three
 * parts: "interfaces.eth1.packets"); the names of a group are in contiguous
 * slots, so one pass suffices. */
static void stats_body(struct json_writer *w, const struct event_stats *s)
{
    char open[2][INPUT_NAME_MAX + 32], name[INPUT_NAME_MAX + 96];
    size_t open_n = 0;
    json_key(w, "stats");
    json_object_open(w);
    for (unsigned i = 0; i < STATS_SLOTS; i++) {
        if (!stats_slot_name(i, name, sizeof(name)))
            continue;
        const char *leaf;
        stats_path_to(w, open, &open_n, name, &leaf);
        json_kv_uint(w, leaf, s->v[i]);
    }
    for (; open_n > 0; open_n--)
        json_object_close(w);
    json_object_close(w);
}

void event_json_stats(struct json_writer *w, const struct event_json_opts *o,
                      const struct event_stats *s)
{
    json_object_open(w);
    json_kv_time(w, "timestamp", s->ts_us);
    json_kv_string(w, "sensor", o->sensor);
    json_kv_string(w, "host", o->sensor);
    json_kv_string(w, "event_type", "stats");
    json_kv_bool(w, "final", s->final != 0);
    stats_body(w, s);
    json_object_close(w);
}
