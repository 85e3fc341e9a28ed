/* metrics_minute.c - per-minute counters for dashboards (see metrics_minute.h). */
#include "metrics_minute.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/op.h"
#include "base/stats.h"
#include "event_eve.h"

static void minute_reset(struct metrics_minute *m, uint64_t minute)
{
    uint64_t drops_before = m->drops_before;
    memset(m, 0, offsetof(struct metrics_minute, text));
    m->drops_before = drops_before;
    m->active = true;
    m->minute = minute;
}

/* Adds n to the member called name, or to "other" when the table is full. */
static void member_add(struct metrics_member *t, size_t *count, const char *name, uint64_t n)
{
    for (size_t i = 0; i < *count; i++)
        if (strcmp(t[i].name, name) == 0) {
            t[i].n += n;
            return;
        }
    /* The last slot is kept for "other", which the loop above finds once
     * it exists. */
    if (*count >= METRICS_TOP_MAX - 1 && strcmp(name, "other") != 0) {
        member_add(t, count, "other", n);
        return;
    }
    if (*count >= METRICS_TOP_MAX)
        return;   /* not reached: "other" takes the last slot */
    snprintf(t[*count].name, sizeof(t[*count].name), "%s", name);
    t[(*count)++].n = n;
}

static void address_text(const struct flow_meta *f, const uint8_t *a, uint16_t port,
                         char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(f->family == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip));
    if (port == 0)
        snprintf(out, cap, "%s", ip);
    else if (f->family == 4)
        snprintf(out, cap, "%s:%u", ip, port);
    else
        snprintf(out, cap, "[%s]:%u", ip, port);
}

static void add_op(struct metrics_minute *m, const struct rec_op *r)
{
    m->ops++;
    if (r->op.app < APP_COUNT)
        m->ops_by_app[r->op.app]++;
    m->bytes += r->op.request_bytes + r->op.response_bytes;
    uint64_t docs = r->op.op_class == OP_CLASS_READ && r->op.items > 0 ? (uint64_t)r->op.items : 0;
    m->documents += docs;
    char name[METRICS_MEMBER_MAX];
    address_text(&r->meta, r->meta.client, 0, name, sizeof(name));
    member_add(m->actors, &m->actor_count, name, docs);
    address_text(&r->meta, r->meta.server, r->meta.server_port, name, sizeof(name));
    member_add(m->servers, &m->server_count, name, docs);
}

static void add_alert(struct metrics_minute *m, const struct alert *a)
{
    m->alerts++;
    m->alerts_by_severity[eve_severity(a->severity) - 1]++;
    for (size_t i = 0; i < m->rule_count; i++)
        if (m->rule_id[i] == a->rule_id) {
            m->rule_alerts[i]++;
            return;
        }
    if (m->rule_count == METRICS_RULES_MAX) {
        m->other_rule_alerts++;
        return;
    }
    m->rule_id[m->rule_count] = a->rule_id;
    m->rule_alerts[m->rule_count++] = 1;
}

/* Drops of every kind so far: capture, rings, events, the Redis sink. */
static uint64_t drops_total(const struct event_stats *s)
{
    static const unsigned slots[] = {
        STAT_KERNEL_DROPS, STAT_IFACE_DROPS, STAT_RING_DROPS, STAT_EVENTS_DROPPED,
        STAT_OUTPUT_REDIS_DROPPED_QUEUE_FULL, STAT_OUTPUT_REDIS_DROPPED_SPOOL_FULL,
        STAT_OUTPUT_REDIS_DROPPED_SPOOL_ERROR, STAT_OUTPUT_REDIS_DROPPED_SHUTDOWN,
        STAT_OUTPUT_REDIS_DROPPED_SPOOL_DAMAGED,
    };
    uint64_t n = 0;
    for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
        n += s->v[slots[i]];
    return n;
}

static void add_stats(struct metrics_minute *m, const struct event_stats *s)
{
    uint64_t total = drops_total(s);
    if (total > m->drops_before)
        m->drops += total - m->drops_before;
    m->drops_before = total;
}

struct text {
    char *p;
    size_t len, cap;
};

static void put(struct text *t, char kind, const char *name, uint64_t v)
{
    if (t->len >= t->cap)
        return;
    int n = snprintf(t->p + t->len, t->cap - t->len, "%c %s %llu\n", kind, name,
                     (unsigned long long)v);
    if (n > 0)
        t->len += (size_t)n < t->cap - t->len ? (size_t)n : t->cap - t->len;
}

/* The finished minute as text (metrics_minute.h). Fields that are zero are
 * kept for the totals and severities (a dashboard's series stay continuous)
 * and left out for apps. */
static const char *minute_text(struct metrics_minute *m, const char *sensor)
{
    struct text t = {m->text, 0, sizeof(m->text)};
    char name[64];
    put(&t, 'f', "ts", m->minute * 1000);
    if (t.len < t.cap)
        t.len += (size_t)snprintf(t.p + t.len, t.cap - t.len, "f sensor %.63s\n", sensor);
    put(&t, 'f', "events", m->events);
    put(&t, 'f', "flows", m->flows);
    put(&t, 'f', "ops", m->ops);
    for (unsigned a = 0; a < APP_COUNT; a++)
        if (m->ops_by_app[a]) {
            snprintf(name, sizeof(name), "ops.%s", app_name((enum app_id)a));
            put(&t, 'f', name, m->ops_by_app[a]);
        }
    put(&t, 'f', "bytes", m->bytes);
    put(&t, 'f', "documents", m->documents);
    put(&t, 'f', "alerts", m->alerts);
    for (unsigned i = 0; i < 3; i++) {
        snprintf(name, sizeof(name), "alerts.severity.%u", i + 1);
        put(&t, 'f', name, m->alerts_by_severity[i]);
    }
    for (size_t i = 0; i < m->rule_count; i++) {
        snprintf(name, sizeof(name), "alerts.rule.%u", m->rule_id[i]);
        put(&t, 'f', name, m->rule_alerts[i]);
    }
    if (m->other_rule_alerts)
        put(&t, 'f', "alerts.rule.other", m->other_rule_alerts);
    put(&t, 'f', "drops", m->drops);
    for (size_t i = 0; i < m->actor_count; i++)
        put(&t, 'a', m->actors[i].name, m->actors[i].n);
    for (size_t i = 0; i < m->server_count; i++)
        put(&t, 's', m->servers[i].name, m->servers[i].n);
    m->text[t.len < t.cap ? t.len : t.cap - 1] = '\0';
    m->active = false;
    return m->text;
}

static uint64_t event_time(uint32_t type, const void *ev)
{
    switch (type) {
    case EVENT_OP:
        return ((const struct rec_op *)ev)->ts_us;
    case EVENT_FLOW:
        return ((const struct rec_flow *)ev)->ts_us;
    case EVENT_ALERT:
        return ((const struct alert *)ev)->ts_us;
    default:
        return ((const struct event_stats *)ev)->ts_us;
    }
}

const char *metrics_minute_add(struct metrics_minute *m, const char *sensor, uint32_t type,
                               const void *ev)
{
    uint64_t minute = event_time(type, ev) / 60000000 * 60;
    bool final = type == EVENT_STATS && ((const struct event_stats *)ev)->final;
    const char *done = NULL;
    if (m->active && minute > m->minute && !final)   /* the last one closes what is open */
        done = minute_text(m, sensor);
    if (!m->active)
        minute_reset(m, minute);
    if (type == EVENT_OP)
        add_op(m, ev);
    else if (type == EVENT_FLOW)
        m->flows++;
    else if (type == EVENT_ALERT)
        add_alert(m, ev);
    if (type != EVENT_STATS)
        m->events++;
    else
        add_stats(m, ev);
    if (final)
        done = minute_text(m, sensor);
    return done;
}
