/* output.c - events to JSON lines (see output.h). */
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_json.h"
#include "paths.h"
#include "json.h"
#include "pipeline.h"
#include "stats_names.h"
#include "textfmt.h"

int output_init(struct output *o, const struct sw_config *cfg, struct ring *in,
                const char *path, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->cfg = cfg;
    o->in = in;
    ring_waiter_init(&o->waiter);
    in->reader = &o->waiter;
    o->alerted = calloc(1, sizeof(*o->alerted));
    if (!o->alerted) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (cfg->output.redis.enabled) {
        o->health_cap = (size_t)STATS_SLOTS * 128 + 128;
        o->health = malloc(o->health_cap);
        o->redis = o->health ? output_redis_new(cfg, err, errlen) : NULL;
        if (o->redis && cfg->output.redis.metrics && !(o->minute = calloc(1, sizeof(*o->minute)))) {
            output_redis_free(o->redis);
            o->redis = NULL;
            snprintf(err, errlen, "out of memory");
        }
        if (!o->redis) {
            if (!o->health)
                snprintf(err, errlen, "out of memory");
            free(o->health);
            o->health = NULL;
            return -1;
        }
    }
    if (!path || !path[0])
        return 0;
    if (strcmp(path, "-") == 0) {
        o->json = stdout;
        return 0;
    }
    if (strlen(path) >= sizeof(o->json_path)) {
        snprintf(err, errlen, "output path too long: '%s'", path);
        return -1;
    }
    o->json = fopen(path, "a");
    if (!o->json) {
        int e = errno;
        char user[96];
        paths_user_name(user, sizeof(user));
        snprintf(err, errlen, "cannot open '%s' for appending (as %s): %s", path, user,
                 strerror(e));
        return -1;
    }
    memcpy(o->json_path, path, strlen(path) + 1);
    o->close_json = 1;
    return 0;
}

/* After SIGHUP: the file by its name again. The new file is opened before
 * the old one is closed; when it cannot be, events keep going to the old. */
static void output_reopen(struct output *o)
{
    if (!o->reopen || !atomic_load_explicit(o->reopen, memory_order_relaxed)
        || !atomic_exchange(o->reopen, 0) || !o->close_json)
        return;
    FILE *f = fopen(o->json_path, "a");
    if (!f) {
        int e = errno;
        char user[96];
        paths_user_name(user, sizeof(user));
        fprintf(stderr, "scrapewatch: cannot reopen '%s' (as %s): %s; still writing to the "
                        "old file\n", o->json_path, user, strerror(e));
        return;
    }
    if (fclose(o->json) != 0)
        o->write_failed = 1;
    o->json = f;
}

static void output_write(struct output *o, struct json_writer *w)
{
    if (!o->json)
        return;
    if (w->failed || fwrite(w->buf, 1, w->len, o->json) != w->len
        || fputc('\n', o->json) == EOF) {
        stats_inc(&o->stats, STAT_EVENTS_DROPPED);
        o->write_failed = 1;
    }
}

/* The stats event as detect made it, plus this thread's and the Redis
 * sink's counters (nobody else writes those). */
static void output_complete_stats(struct output *o, const struct event_stats *in,
                                  struct event_stats *out)
{
    struct stats extra;
    stats_clear(&extra);
    stats_accumulate(&extra, &o->stats);
    if (o->redis)
        output_redis_collect_stats(o->redis, &extra);
    *out = *in;
    for (unsigned i = 0; i < STATS_SLOTS; i++)
        out->v[i] += stats_get(&extra, i);
}

/* Stats counters as "name value" lines, for the Redis health hash. */
static const char *output_health(struct output *o, const struct event_stats *s)
{
    char when[40];
    size_t len = 0;
    event_time_format(s->ts_us, when, sizeof(when));
    len += (size_t)snprintf(o->health + len, o->health_cap - len,
                            "last_update %s\nfinal %u\n", when, s->final ? 1u : 0u);
    char name[96];
    for (unsigned i = 0; i < STATS_SLOTS && len < o->health_cap; i++)
        if (stats_slot_name(i, name, sizeof(name)))
            len += (size_t)snprintf(o->health + len, o->health_cap - len, "%s %llu\n",
                                    name, (unsigned long long)s->v[i]);
    return o->health;
}

/* Hands the serialised event and its flat fields to the Redis sink. */
static void output_to_redis(struct output *o, const struct json_writer *w, uint32_t type,
                            const void *ev, const char *metrics)
{
    char src[TEXTFMT_IP_MAX] = "", dest[TEXTFMT_IP_MAX] = "";
    struct redis_event e = {
        .type = "", .app = "", .src = src, .dest = dest, .rule = "", .severity = "",
        .json = w->buf, .json_len = w->len, .health = NULL, .metrics = metrics,
    };
    const struct flow_meta *m = NULL;
    char rule[16];
    if (type == EVENT_ALERT) {
        const struct alert *a = ev;
        e.type = "alert";
        e.ts_us = a->ts_us;
        snprintf(rule, sizeof(rule), "%u", a->rule_id);
        e.rule = rule;
        e.severity = alert_severity_word(a->severity);
        m = &a->meta;
    } else if (type == EVENT_OP) {
        const struct rec_op *r = ev;
        e.type = "op";
        e.ts_us = r->ts_us;
        m = &r->meta;
    } else if (type == EVENT_FLOW) {
        const struct rec_flow *r = ev;
        e.type = "flow";
        e.ts_us = r->ts_us;
        m = &r->meta;
    } else {
        const struct event_stats *s = ev;
        e.type = "stats";
        e.ts_us = s->ts_us;
        e.health = output_health(o, s);
    }
    if (m) {
        e.app = app_name((enum app_id)m->app);
        textfmt_ip(m->family, m->client, src);
        textfmt_ip(m->family, m->server, dest);
    }
    output_redis_submit(o->redis, &e);
}

static void output_event(struct output *o, struct json_writer *w, uint32_t type,
                         const void *ev)
{
    struct event_json_opts opts = {o->cfg->sensor.id, o->cfg->events.string_max, false,
                                   o->pcap_files, o->pcap_file_count};
    if (type == EVENT_ALERT) {
        eve_alerted_mark(o->alerted, ((const struct alert *)ev)->meta.flow_id);
    } else if (type == EVENT_FLOW) {
        const struct rec_flow *f = ev;
        opts.flow_alerted = eve_alerted_take(o->alerted, f->meta.flow_id);
    }
    struct event_stats stats;
    if (type == EVENT_STATS) {
        /* The last stats event should count what the sink really did. */
        if (((const struct event_stats *)ev)->final && o->redis)
            output_redis_drain(o->redis);
        output_complete_stats(o, ev, &stats);
        ev = &stats;
    }
    json_reset(w);
    if (type == EVENT_OP)
        event_json_op(w, &opts, ev);
    else if (type == EVENT_FLOW)
        event_json_flow(w, &opts, ev);
    else if (type == EVENT_STATS)
        event_json_stats(w, &opts, ev);
    else if (type == EVENT_ALERT)
        event_json_alert(w, &opts, ev);
    else
        return;
    output_write(o, w);
    const char *metrics = o->minute ? metrics_minute_add(o->minute, opts.sensor, type, ev) : NULL;
    if (o->redis && !w->failed)
        output_to_redis(o, w, type, ev, metrics);
    /* Stats lines are for people watching: let them out at once. */
    if (type == EVENT_STATS && o->json)
        fflush(o->json);
}

#define OUTPUT_QUIET_MS 2   /* JSON lines are flushed after this long without events */

/* No event waiting; `idle` counts the calls since the last one. The Redis
 * sink ends its spool write batch at once; JSON lines are flushed once no
 * event came for OUTPUT_QUIET_MS; then the thread sleeps until woken. */
static void output_idle(struct output *o, int idle)
{
    if (idle == 0) {
        if (o->redis)
            output_redis_idle(o->redis);
        ring_wait_readable(o->in, OUTPUT_QUIET_MS);
        return;
    }
    if (idle == 1 && o->json)
        fflush(o->json);
    ring_wait_readable(o->in, -1);
}

static void *output_main(void *arg)
{
    struct output *o = arg;
    struct json_writer w;
    json_init(&w);
    int idle = 0;
    for (;;) {
        uint32_t type;
        size_t len;
        output_reopen(o);
        const void *ev = ring_peek(o->in, &type, &len);
        if (!ev) {
            output_idle(o, idle++);
            continue;
        }
        idle = 0;
        if (type == EVENT_END) {
            ring_release(o->in);
            break;
        }
        output_event(o, &w, type, ev);
        ring_release(o->in);
    }
    if (o->json && fflush(o->json) != 0)
        o->write_failed = 1;
    json_free(&w);
    return NULL;
}

int output_start(struct output *o)
{
    if (o->redis && output_redis_start(o->redis) != 0)
        return -1;
    return pthread_create(&o->thread, NULL, output_main, o) == 0 ? 0 : -1;
}

void output_join(struct output *o)
{
    pthread_join(o->thread, NULL);
    if (o->redis) {
        output_redis_finish(o->redis);
        output_redis_summary(o->redis, stderr);
        o->undelivered = output_redis_undelivered(o->redis, o->undelivered_why,
                                                  sizeof(o->undelivered_why));
    }
}

void output_destroy(struct output *o)
{
    if (o->close_json && o->json && fclose(o->json) != 0)
        o->write_failed = 1;
    o->json = NULL;
    output_redis_free(o->redis);
    o->redis = NULL;
    free(o->health);
    o->health = NULL;
    free(o->alerted);
    o->alerted = NULL;
    free(o->minute);
    o->minute = NULL;
}
