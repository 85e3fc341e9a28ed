/* ring.c - SPSC message ring (see ring.h for the layout and invariants). */
#include "ring.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define RING_ALIGN 8u
#define RING_TYPE_PAD 0u
#define RING_SPIN_MIN 16u     /* checks before sleeping, adapted between these */
#define RING_SPIN_MAX 1024u

static size_t ring_align(size_t n)
{
    return (n + RING_ALIGN - 1) & ~(size_t)(RING_ALIGN - 1);
}

int ring_init(struct ring *r, size_t size)
{
    size_t s = 4096;
    while (s < size && s < ((size_t)1 << 40))
        s <<= 1;
    memset(r, 0, sizeof(*r));
    assert((s & (s - 1)) == 0);
    r->buf = aligned_alloc(RING_CACHE_LINE, s);
    if (!r->buf)
        return -1;
    /* Touched whole now: the ring is a fixed cost the configuration sets,
     * so it is resident from the start rather than page by page as traffic
     * first fills it (which made it look like per-flow memory), and the hot
     * path takes no page faults for it. */
    memset(r->buf, 0, s);
    r->size = s;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    atomic_init(&r->reader_asleep, 0);
    atomic_init(&r->writer_wants, SIZE_MAX);
    return 0;
}

void ring_destroy(struct ring *r)
{
    free(r->buf);
    r->buf = NULL;
}

size_t ring_max_payload(const struct ring *r)
{
    return r->size / 2 - sizeof(struct ring_msg);
}

/* ---- waking the other side ---- */

static void waiter_wake(struct ring_waiter *w)
{
    atomic_fetch_add_explicit(&w->word, 1, memory_order_release);
    syscall(SYS_futex, &w->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* After a commit: the reader announced that it sleeps (the fence orders
 * our head store before that load, as the reader's orders its announcement
 * before its last look at head) and at least `batch` bytes wait. */
static void ring_wake_reader(struct ring *r, size_t batch)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (!atomic_load_explicit(&r->reader_asleep, memory_order_relaxed))
        return;
    if (batch) {
        size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
        if (head - r->head_cached_tail < batch)
            return;   /* the cached tail is older: the real wait is shorter */
        r->head_cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head - r->head_cached_tail < batch)
            return;
    }
    if (atomic_exchange_explicit(&r->reader_asleep, 0, memory_order_acq_rel) && r->reader)
        waiter_wake(r->reader);
}

/* After a release: the writer waits for room and now has what it asked. */
static void ring_wake_writer(struct ring *r)
{
    atomic_thread_fence(memory_order_seq_cst);
    size_t wants = atomic_load_explicit(&r->writer_wants, memory_order_relaxed);
    if (wants == SIZE_MAX)
        return;
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (r->size - (head - tail) < wants)
        return;
    if (atomic_exchange_explicit(&r->writer_wants, SIZE_MAX, memory_order_acq_rel) != SIZE_MAX
        && r->writer)
        waiter_wake(r->writer);
}

/* Free bytes as the producer sees them; refreshes its cached tail only when
 * the cached view says there is not enough room (saves cache-line traffic). */
static size_t ring_free_space(struct ring *r, size_t need)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t space = r->size - (head - r->head_cached_tail);
    if (space < need) {
        r->head_cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        space = r->size - (head - r->head_cached_tail);
    }
    return space;
}

void *ring_reserve(struct ring *r, uint32_t type, size_t len)
{
    assert(type != RING_TYPE_PAD);
    assert(r->pending == 0);   /* the last reservation was committed */
    if (len > ring_max_payload(r))
        return NULL;
    size_t need = ring_align(sizeof(struct ring_msg) + len);
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t offset = head & (r->size - 1);
    size_t to_end = r->size - offset;
    size_t pad = to_end < need ? to_end : 0;
    if (ring_free_space(r, need + pad) < need + pad)
        return NULL;
    if (pad) {
        struct ring_msg *p = (struct ring_msg *)(r->buf + offset);
        p->len = (uint32_t)(pad - sizeof(struct ring_msg));
        p->type = RING_TYPE_PAD;
        offset = 0;
    }
    struct ring_msg *m = (struct ring_msg *)(r->buf + offset);
    m->len = (uint32_t)len;
    m->type = type;
    r->pending = pad + need;
    return m + 1;
}

void ring_commit(struct ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    assert(r->pending > 0);
    /* Room was checked against a tail no newer than the consumer's. */
    assert(head + r->pending - r->head_cached_tail <= r->size);
    atomic_store_explicit(&r->head, head + r->pending, memory_order_release);
    r->pending = 0;
    ring_wake_reader(r, r->wake_batch);
}

int ring_push(struct ring *r, uint32_t type, const void *data, size_t len)
{
    void *p = ring_reserve(r, type, len);
    if (!p)
        return -1;
    if (len)
        memcpy(p, data, len);
    ring_commit(r);
    return 0;
}

/* Consumer view of the next message header, skipping padding. */
static struct ring_msg *ring_next(struct ring *r)
{
    for (;;) {
        size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (tail == r->tail_cached_head) {
            r->tail_cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
            if (tail == r->tail_cached_head)
                return NULL;
        }
        assert(r->tail_cached_head - tail <= r->size);
        struct ring_msg *m = (struct ring_msg *)(r->buf + (tail & (r->size - 1)));
        if (m->type != RING_TYPE_PAD)
            return m;
        size_t skip = sizeof(struct ring_msg) + m->len;
        atomic_store_explicit(&r->tail, tail + skip, memory_order_release);
    }
}

void *ring_peek(struct ring *r, uint32_t *type, size_t *len)
{
    struct ring_msg *m = ring_next(r);
    if (!m)
        return NULL;
    *type = m->type;
    *len = m->len;
    return m + 1;
}

void ring_release(struct ring *r)
{
    struct ring_msg *m = ring_next(r);
    assert(m != NULL);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t used = ring_align(sizeof(struct ring_msg) + m->len);
    assert(used <= r->tail_cached_head - tail);   /* only what was published */
    atomic_store_explicit(&r->tail, tail + used, memory_order_release);
    ring_wake_writer(r);
}

size_t ring_used(struct ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    return head - tail;
}

void ring_waiter_init(struct ring_waiter *w)
{
    atomic_init(&w->word, 0);
    w->spin = RING_SPIN_MIN;
}

void ring_set_waiters(struct ring *r, struct ring_waiter *reader, struct ring_waiter *writer)
{
    r->reader = reader;
    r->writer = writer;
}

void ring_set_batch(struct ring *r, size_t bytes)
{
    r->wake_batch = bytes;
}

void ring_flush(struct ring *r)
{
    ring_wake_reader(r, 0);
}

/* Bytes a message of len payload bytes takes now, padding included. */
static size_t ring_need(const struct ring *r, size_t len)
{
    size_t need = ring_align(sizeof(struct ring_msg) + len);
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t to_end = r->size - (head & (r->size - 1));
    return need + (to_end < need ? to_end : 0);
}

int ring_readable(struct ring *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    return atomic_load_explicit(&r->head, memory_order_acquire) != tail;
}

int ring_writable(struct ring *r, size_t len)
{
    if (len > ring_max_payload(r))
        return 0;
    size_t need = ring_need(r, len);
    return ring_free_space(r, need) >= need;
}

void ring_announce_reader(struct ring *r, int on)
{
    atomic_store_explicit(&r->reader_asleep, on ? 1u : 0u, memory_order_seq_cst);
}

void ring_want_space(struct ring *r, size_t bytes)
{
    atomic_store_explicit(&r->writer_wants, bytes, memory_order_seq_cst);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#else
    atomic_signal_fence(memory_order_seq_cst);
#endif
}

static void futex_sleep(struct ring_waiter *w, uint32_t word, int timeout_ms)
{
    struct timespec ts, *tp = NULL;
    if (timeout_ms >= 0) {
        ts.tv_sec = timeout_ms / 1000;
        ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
        tp = &ts;
    }
    /* Returns at once (EAGAIN) if a wake-up bumped the word since we read
     * it; EINTR and timeouts are ordinary returns: callers loop. */
    syscall(SYS_futex, &w->word, FUTEX_WAIT_PRIVATE, word, tp, NULL, 0);
}

void ring_wait(struct ring_waiter *w, const struct ring_wait_for *what, int timeout_ms)
{
    for (unsigned i = 0; i < w->spin; i++) {
        cpu_relax();
        if (what->ready(what->arg)) {
            w->spin = w->spin * 2 < RING_SPIN_MAX ? w->spin * 2 : RING_SPIN_MAX;
            return;
        }
    }
    w->spin = w->spin / 2 > RING_SPIN_MIN ? w->spin / 2 : RING_SPIN_MIN;
    if (timeout_ms == 0)
        return;
    /* Read the word before announcing: a wake-up after the announcement
     * changes it, and then the futex does not sleep. */
    uint32_t word = atomic_load_explicit(&w->word, memory_order_acquire);
    what->announce(what->arg, 1);
    atomic_thread_fence(memory_order_seq_cst);
    if (!what->ready(what->arg))
        futex_sleep(w, word, timeout_ms);
    what->announce(what->arg, 0);
}

static int readable_cb(void *arg)
{
    return ring_readable(arg);
}

static void announce_reader_cb(void *arg, int on)
{
    ring_announce_reader(arg, on);
}

void ring_wait_readable(struct ring *r, int timeout_ms)
{
    assert(r->reader != NULL);
    struct ring_wait_for what = {readable_cb, announce_reader_cb, r};
    ring_wait(r->reader, &what, timeout_ms);
}

struct writable_arg {
    struct ring *r;
    size_t len;
};

static int writable_cb(void *arg)
{
    const struct writable_arg *a = arg;
    return ring_writable(a->r, a->len);
}

/* The writer sleeps until a quarter of the ring is free (or what the
 * message needs, if more): not one wake-up per released message. */
static void announce_writer_cb(void *arg, int on)
{
    const struct writable_arg *a = arg;
    size_t need = ring_need(a->r, a->len), quarter = a->r->size / 4;
    ring_want_space(a->r, !on ? SIZE_MAX : need > quarter ? need : quarter);
}

void ring_wait_writable(struct ring *r, size_t len)
{
    assert(r->writer != NULL);
    struct writable_arg a = {r, len};
    struct ring_wait_for what = {writable_cb, announce_writer_cb, &a};
    ring_flush(r);
    ring_wait(r->writer, &what, -1);
}
