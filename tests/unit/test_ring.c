/* test_ring.c - the SPSC ring: order and wrap-around, and its waiting: a
 * reader or writer with nothing to do sleeps (costs no CPU) and is woken
 * when the other side publishes or frees, in both wake-up modes. */
#include "../../sensor/ring.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Message i: its length and bytes, a function of i. */
static size_t msg_len(uint32_t i)
{
    return 4 + (i * 37u) % 700u;
}

static void msg_fill(uint8_t *p, uint32_t i)
{
    size_t n = msg_len(i);
    memcpy(p, &i, 4);
    for (size_t k = 4; k < n; k++)
        p[k] = (uint8_t)(i + k);
}

static int msg_ok(const uint8_t *p, size_t len, uint32_t i)
{
    uint32_t got;
    memcpy(&got, p, 4);
    if (got != i || len != msg_len(i))
        return 0;
    for (size_t k = 4; k < len; k++)
        if (p[k] != (uint8_t)(i + k))
            return 0;
    return 1;
}

static void order_and_wrap(void)
{
    struct ring r;
    CHECK_EQ_INT(ring_init(&r, 4096), 0);
    CHECK(!ring_readable(&r));
    uint8_t buf[1024];
    uint32_t next_in = 0, next_out = 0;
    int bad = 0;
    /* Many times round the ring: every wrap leaves a padding message. */
    for (int round = 0; round < 2000; round++) {
        while (ring_writable(&r, msg_len(next_in))) {
            msg_fill(buf, next_in);
            CHECK_EQ_INT(ring_push(&r, 1, buf, msg_len(next_in)), 0);
            next_in++;
        }
        CHECK(ring_readable(&r));
        for (int k = 0; k < 3 && next_out < next_in; k++) {
            uint32_t type;
            size_t len;
            const uint8_t *p = ring_peek(&r, &type, &len);
            bad += !p || type != 1 || !msg_ok(p, len, next_out);
            ring_release(&r);
            next_out++;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(next_in > 4000);
    CHECK(!ring_writable(&r, ring_max_payload(&r) + 1));
    ring_destroy(&r);
}

struct pair {
    struct ring r;
    struct ring_waiter reader, writer;
    uint32_t count;
    unsigned pause_every;    /* producer: sleep this often (0 never) */
    unsigned pause_us;
    int bad;
    uint32_t received;
    double reader_cpu_ms;
};

static void *producer(void *arg)
{
    struct pair *t = arg;
    uint8_t buf[1024];
    for (uint32_t i = 0; i < t->count; i++) {
        msg_fill(buf, i);
        while (ring_push(&t->r, 1, buf, msg_len(i)) != 0)
            ring_wait_writable(&t->r, msg_len(i));
        if (t->pause_every && i % t->pause_every == t->pause_every - 1) {
            ring_flush(&t->r);
            usleep(t->pause_us);
        }
    }
    ring_push(&t->r, 2, NULL, 0);
    ring_flush(&t->r);
    return NULL;
}

static void *consumer(void *arg)
{
    struct pair *t = arg;
    double cpu0 = thread_cpu_ms();
    for (;;) {
        uint32_t type;
        size_t len;
        const uint8_t *p = ring_peek(&t->r, &type, &len);
        if (!p) {
            ring_wait_readable(&t->r, -1);
            continue;
        }
        if (type == 2) {
            ring_release(&t->r);
            break;
        }
        t->bad += !msg_ok(p, len, t->received);
        t->received++;
        ring_release(&t->r);
    }
    t->reader_cpu_ms = thread_cpu_ms() - cpu0;
    return NULL;
}

static void run_pair(struct pair *t, size_t size, size_t batch)
{
    CHECK_EQ_INT(ring_init(&t->r, size), 0);
    ring_waiter_init(&t->reader);
    ring_waiter_init(&t->writer);
    ring_set_waiters(&t->r, &t->reader, &t->writer);
    ring_set_batch(&t->r, batch);
    pthread_t a, b;
    pthread_create(&b, NULL, consumer, t);
    pthread_create(&a, NULL, producer, t);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    ring_destroy(&t->r);
}

/* A small ring, both sides running flat out: each often finds the ring
 * full or empty and sleeps; nothing is lost, reordered or left asleep. */
static void transfer_both_sleep(void)
{
    static struct pair t;
    memset(&t, 0, sizeof(t));
    t.count = 300000;
    run_pair(&t, 4096, 0);
    CHECK_EQ_INT(t.bad, 0);
    CHECK_EQ_INT(t.received, t.count);
}

/* The same with batched wake-ups: the writer flushes when it pauses and
 * at the end, so the reader still gets every message. */
static void transfer_batched(void)
{
    static struct pair t;
    memset(&t, 0, sizeof(t));
    t.count = 100000;
    t.pause_every = 10000;
    t.pause_us = 2000;
    run_pair(&t, 65536, 65536 / 8);
    CHECK_EQ_INT(t.bad, 0);
    CHECK_EQ_INT(t.received, t.count);
}

/* A reader of a trickle (a message every 50 ms) sleeps in between: well
 * under 2 % of the time in CPU (a spinning or yielding reader uses ~100 %). */
static void trickle_reader_sleeps(void)
{
    static struct pair t;
    memset(&t, 0, sizeof(t));
    t.count = 10;
    t.pause_every = 1;
    t.pause_us = 50000;
    double start = mono_ms();
    run_pair(&t, 65536, 0);
    double wall = mono_ms() - start;
    CHECK_EQ_INT(t.received, t.count);
    CHECK(wall >= 450);
    CHECK(t.reader_cpu_ms < wall * 0.02);
    fprintf(stderr, "trickle: reader %.2f ms CPU in %.0f ms\n", t.reader_cpu_ms, wall);
}

/* A timed wait on an empty ring returns after its timeout, asleep. */
static void wait_times_out(void)
{
    struct ring r;
    struct ring_waiter w;
    CHECK_EQ_INT(ring_init(&r, 4096), 0);
    ring_waiter_init(&w);
    ring_set_waiters(&r, &w, NULL);
    double cpu0 = thread_cpu_ms(), t0 = mono_ms();
    ring_wait_readable(&r, 100);
    double took = mono_ms() - t0, cpu = thread_cpu_ms() - cpu0;
    CHECK(took >= 95);
    CHECK(cpu < 10);
    CHECK_EQ_INT(atomic_load(&r.reader_asleep), 0);   /* announcement taken back */
    ring_destroy(&r);
}

int main(void)
{
    check_binary = "test_ring";
    RUN(order_and_wrap);
    RUN(transfer_both_sleep);
    RUN(transfer_batched);
    RUN(trickle_reader_sleeps);
    RUN(wait_times_out);
    CHECK_EXIT();
}
