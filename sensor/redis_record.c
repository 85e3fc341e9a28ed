/* redis_record.c - one event as the Redis sink queues it in memory and
 * writes it to its spool (redis_record.h). */
#include "redis_record.h"

#include <string.h>

#define RECORD_MAGIC 'W'
#define RECORD_VERSION 2   /* 2 added F_METRICS; version 1 records still read */
#define RECORD_FIXED 32   /* magic, version, pad, run id, n, ts */

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void record_fields(const char *sensor, const struct redis_event *e,
                          const char **s, size_t *len)
{
    s[F_SENSOR] = sensor;
    s[F_TYPE] = e->type;
    s[F_APP] = e->app;
    s[F_SRC] = e->src;
    s[F_DEST] = e->dest;
    s[F_RULE] = e->rule;
    s[F_SEVERITY] = e->severity;
    s[F_JSON] = e->json;
    s[F_HEALTH] = e->health;
    s[F_METRICS] = e->metrics;
    for (int i = 0; i < F_COUNT; i++) {
        if (!s[i])
            s[i] = "";
        len[i] = i == F_JSON ? e->json_len : strlen(s[i]);
    }
}

static size_t fields_size(const size_t *len)
{
    size_t n = RECORD_FIXED;
    for (int i = 0; i < F_COUNT; i++)
        n += 4 + len[i];
    return n;
}

size_t redis_record_size(const char *sensor, const struct redis_event *e)
{
    const char *s[F_COUNT];
    size_t len[F_COUNT];
    record_fields(sensor, e, s, len);
    return fields_size(len);
}

size_t redis_record_encode(uint8_t *out, size_t cap, uint64_t run_id, uint64_t n,
                           const char *sensor, const struct redis_event *e)
{
    const char *s[F_COUNT];
    size_t len[F_COUNT];
    record_fields(sensor, e, s, len);
    size_t need = fields_size(len);
    if (need > cap)
        return 0;
    memset(out, 0, RECORD_FIXED);
    out[0] = RECORD_MAGIC;
    out[1] = RECORD_VERSION;
    put64(out + 8, run_id);
    put64(out + 16, n);
    put64(out + 24, e->ts_us);
    uint8_t *p = out + RECORD_FIXED;
    for (int i = 0; i < F_COUNT; i++) {
        put32(p, (uint32_t)len[i]);
        memcpy(p + 4, s[i], len[i]);
        p += 4 + len[i];
    }
    return need;
}

int redis_record_decode(const uint8_t *p, size_t n, struct record_view *v)
{
    if (n < RECORD_FIXED || p[0] != RECORD_MAGIC || (p[1] != RECORD_VERSION && p[1] != 1))
        return -1;
    int fields = p[1] == 1 ? RECORD_V1_FIELDS : F_COUNT;
    v->run_id = get64(p + 8);
    v->n = get64(p + 16);
    v->ts_us = get64(p + 24);
    size_t off = RECORD_FIXED;
    for (int i = fields; i < F_COUNT; i++) {
        v->s[i] = "";
        v->len[i] = 0;
    }
    for (int i = 0; i < fields; i++) {
        if (n - off < 4)
            return -1;
        size_t len = get32(p + off);
        off += 4;
        if (n - off < len)
            return -1;
        v->s[i] = (const char *)p + off;
        v->len[i] = len;
        off += len;
    }
    return off == n ? 0 : -1;
}
