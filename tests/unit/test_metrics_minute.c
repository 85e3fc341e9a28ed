/* test_metrics_minute.c - per-minute metrics for Redis (sensor/metrics_minute.h):
 * minutes close on the first event of a later minute and on the final stats
 * event, late events count in the open minute, drops are the growth of the
 * drop counters, and the tables overflow into "other". */
#include "../../sensor/metrics_minute.h"
#include "../../sensor/base/stats.h"
#include "check.h"

#include <arpa/inet.h>
#include <stdlib.h>

#define MIN_US 60000000ull
#define T0 (28000000ull * MIN_US)   /* a minute boundary */

static struct rec_op op_at(uint64_t ts, const char *client, uint8_t cls, int64_t items)
{
    struct rec_op r;
    memset(&r, 0, sizeof(r));
    r.ts_us = ts;
    r.meta.family = 4;
    inet_pton(AF_INET, client, r.meta.client);
    inet_pton(AF_INET, "10.0.0.5", r.meta.server);
    r.meta.server_port = 9200;
    r.op.app = APP_ELASTICSEARCH;
    r.op.op_class = cls;
    r.op.items = items;
    r.op.request_bytes = 10;
    r.op.response_bytes = 90;
    return r;
}

static struct alert alert_at(uint64_t ts, uint32_t rule, uint8_t severity)
{
    struct alert a;
    memset(&a, 0, sizeof(a));
    a.ts_us = ts;
    a.rule_id = rule;
    a.severity = severity;
    return a;
}

static void test_minutes_close_in_order(void)
{
    struct metrics_minute *m = calloc(1, sizeof(*m));
    struct rec_op a = op_at(T0 + 1, "198.51.100.1", OP_CLASS_READ, 500);
    struct rec_op b = op_at(T0 + 2, "198.51.100.2", OP_CLASS_ENUMERATE, 7);
    struct alert al = alert_at(T0 + 3, 5001, SEVERITY_HIGH);
    CHECK(metrics_minute_add(m, "s1", EVENT_OP, &a) == NULL);
    CHECK(metrics_minute_add(m, "s1", EVENT_OP, &b) == NULL);
    CHECK(metrics_minute_add(m, "s1", EVENT_ALERT, &al) == NULL);
    struct rec_op c = op_at(T0 + MIN_US + 5, "198.51.100.1", OP_CLASS_READ, 20);
    const char *t = metrics_minute_add(m, "s1", EVENT_OP, &c);
    CHECK(t != NULL);
    if (t) {
        char want[64];
        snprintf(want, sizeof(want), "f ts %llu\nf sensor s1\n", (unsigned long long)(T0 / 1000));
        CHECK(strncmp(t, want, strlen(want)) == 0);
        CHECK(strstr(t, "f events 3\nf flows 0\nf ops 2\nf ops.elasticsearch 2\n"
                        "f bytes 200\nf documents 500\nf alerts 1\nf alerts.severity.1 1\n"
                        "f alerts.severity.2 0\nf alerts.severity.3 0\n"
                        "f alerts.rule.5001 1\nf drops 0\n"
                        "a 198.51.100.1 500\na 198.51.100.2 0\ns 10.0.0.5:9200 500\n") != NULL);
    }
    /* a late event counts in the open minute; the final stats event closes it */
    struct rec_op late = op_at(T0 + 9, "198.51.100.3", OP_CLASS_READ, 1);
    CHECK(metrics_minute_add(m, "s1", EVENT_OP, &late) == NULL);
    struct event_stats *st = calloc(1, sizeof(*st));
    st->ts_us = T0 + 5 * MIN_US;
    st->final = 1;
    st->v[STAT_KERNEL_DROPS] = 3;
    st->v[STAT_OUTPUT_REDIS_DROPPED_SPOOL_FULL] = 2;
    t = metrics_minute_add(m, "s1", EVENT_STATS, st);
    CHECK(t != NULL);
    if (t) {
        char want[32];
        snprintf(want, sizeof(want), "f ts %llu\n", (unsigned long long)((T0 + MIN_US) / 1000));
        CHECK(strncmp(t, want, strlen(want)) == 0);
        CHECK(strstr(t, "f events 2\n") != NULL);      /* stats is not an event here */
        CHECK(strstr(t, "f documents 21\n") != NULL);
        CHECK(strstr(t, "f drops 5\n") != NULL);
    }
    free(st);
    free(m);
}

/* Drops are growth: a second stats event with the same counters adds none. */
static void test_drops_are_growth(void)
{
    struct metrics_minute *m = calloc(1, sizeof(*m));
    struct event_stats *st = calloc(1, sizeof(*st));
    st->ts_us = T0;
    st->v[STAT_RING_DROPS] = 4;
    CHECK(metrics_minute_add(m, "s1", EVENT_STATS, st) == NULL);
    st->ts_us = T0 + MIN_US;
    const char *t = metrics_minute_add(m, "s1", EVENT_STATS, st);
    CHECK(t != NULL && strstr(t, "f drops 4\n") != NULL);
    st->ts_us = T0 + 2 * MIN_US;
    st->final = 1;
    t = metrics_minute_add(m, "s1", EVENT_STATS, st);
    CHECK(t != NULL && strstr(t, "f drops 0\n") != NULL);
    free(st);
    free(m);
}

static void test_tables_overflow_to_other(void)
{
    struct metrics_minute *m = calloc(1, sizeof(*m));
    char ip[32];
    for (int i = 0; i < 100; i++) {
        snprintf(ip, sizeof(ip), "198.51.100.%d", i);
        struct rec_op r = op_at(T0 + (uint64_t)i, ip, OP_CLASS_READ, 1);
        CHECK(metrics_minute_add(m, "s1", EVENT_OP, &r) == NULL);
        struct alert a = alert_at(T0 + (uint64_t)i, 1000 + (uint32_t)i, SEVERITY_LOW);
        CHECK(metrics_minute_add(m, "s1", EVENT_ALERT, &a) == NULL);
    }
    CHECK_EQ_INT(m->actor_count, METRICS_TOP_MAX);
    struct alert a = alert_at(T0 + MIN_US, 1, SEVERITY_LOW);
    const char *t = metrics_minute_add(m, "s1", EVENT_ALERT, &a);
    CHECK(t != NULL);
    if (t) {
        /* 63 named actors with 1 each, the other 37 in "other" */
        CHECK(strstr(t, "a other 37\n") != NULL);
        CHECK(strstr(t, "f alerts.rule.other 36\n") != NULL);
        CHECK(strstr(t, "f alerts.severity.3 100\n") != NULL);
    }
    free(m);
}

int main(void)
{
    check_binary = "metrics_minute";
    RUN(test_minutes_close_in_order);
    RUN(test_drops_are_growth);
    RUN(test_tables_overflow_to_other);
    CHECK_EXIT();
}
