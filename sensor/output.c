/* output.c - events to JSON lines (see output.h). */
#include "output.h"

#include <errno.h>
#include <string.h>

#include "event_json.h"
#include "json.h"
#include "pipeline.h"

int output_init(struct output *o, const struct sw_config *cfg, struct ring *in,
                const char *path, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->cfg = cfg;
    o->in = in;
    if (!path || !path[0])
        return 0;
    if (strcmp(path, "-") == 0) {
        o->json = stdout;
        return 0;
    }
    o->json = fopen(path, "w");
    if (!o->json) {
        snprintf(err, errlen, "cannot open '%s' for writing: %s", path, strerror(errno));
        return -1;
    }
    o->close_json = 1;
    return 0;
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

static void output_event(struct output *o, struct json_writer *w, uint32_t type,
                         const void *ev)
{
    struct event_json_opts opts = {o->cfg->sensor.id, o->cfg->events.string_max};
    json_reset(w);
    if (type == EVENT_OP)
        event_json_op(w, &opts, ev);
    else if (type == EVENT_FLOW)
        event_json_flow(w, &opts, ev);
    else if (type == EVENT_STATS)
        event_json_stats(w, &opts, ev);
    else
        return;
    output_write(o, w);
    /* Stats lines are for people watching: let them out at once. */
    if (type == EVENT_STATS && o->json)
        fflush(o->json);
}

static void *output_main(void *arg)
{
    struct output *o = arg;
    struct json_writer w;
    json_init(&w);
    unsigned round = 0;
    for (;;) {
        uint32_t type;
        size_t len;
        const void *ev = ring_peek(o->in, &type, &len);
        if (!ev) {
            if (round == 200 && o->json)
                fflush(o->json);   /* quiet for a while: flush */
            ring_backoff(&round);
            continue;
        }
        round = 0;
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
    return pthread_create(&o->thread, NULL, output_main, o) == 0 ? 0 : -1;
}

void output_join(struct output *o)
{
    pthread_join(o->thread, NULL);
}

void output_destroy(struct output *o)
{
    if (o->close_json && o->json && fclose(o->json) != 0)
        o->write_failed = 1;
    o->json = NULL;
}
