/* ring.h - bounded single-producer/single-consumer ring of variable-size
 * messages, the only channel between threads.
 *
 * One thread writes, one thread reads; no locks. Positions grow without
 * wrapping (64-bit) and are masked into a power-of-two buffer. A message is
 * an 8-byte header (length, type) and its bytes, 8-byte aligned, always
 * contiguous: when it would straddle the end, a padding message fills the tail.
 * Invariants (asserted): tail <= head <= tail + size; messages never overlap;
 * the producer holds at most one reservation, committed before the next.
 *
 * Waiting: a thread with nothing to do (its input ring empty, or its output
 * ring full) spins briefly, then sleeps on its ring_waiter (a futex). Before
 * sleeping it announces so and checks its condition once more; the other
 * side, after publishing (commit) or freeing (release), looks at the flag
 * and makes the wake-up system call only when the thread announced it
 * sleeps. A ring names the waiter of its reader and of its writer. */
#ifndef SW_RING_H
#define SW_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a cache line: the producer's and the consumer's fields live on
 * separate lines so that neither side's writes slow the other's reads. */
#define RING_CACHE_LINE 64

/* One thread's doorbell (a futex word); any number of rings may name it.
 * Only its owner sleeps on it. */
struct ring_waiter {
    _Alignas(RING_CACHE_LINE) _Atomic uint32_t word;  /* bumped by each wake */
    unsigned spin;                   /* owner: checks before sleeping (adaptive) */
};

struct ring {
    uint8_t *buf;
    size_t size;                     /* power of two */
    struct ring_waiter *reader;      /* woken by commits (may be NULL) */
    struct ring_waiter *writer;      /* woken by releases (may be NULL) */
    size_t wake_batch;               /* commits wake a sleeping reader once this
                                        many bytes wait (0: at once); see
                                        ring_set_batch */
    _Alignas(RING_CACHE_LINE) _Atomic size_t head; /* written by the producer */
    size_t head_cached_tail;                        /* producer's last view of tail */
    _Alignas(RING_CACHE_LINE) _Atomic size_t tail; /* written by the consumer */
    size_t tail_cached_head;                        /* consumer's last view of head */
    _Alignas(RING_CACHE_LINE) size_t pending;      /* producer: reserved, not committed */
    /* Announcements, each on a line of its own: the other side reads them
     * after every commit or release, and they rarely change. */
    _Alignas(RING_CACHE_LINE) _Atomic uint32_t reader_asleep; /* 1: wake on commit */
    _Alignas(RING_CACHE_LINE) _Atomic size_t writer_wants;    /* free bytes at which a
                                        release wakes the writer; SIZE_MAX: it is not waiting */
};

struct ring_msg {
    uint32_t len;   /* payload bytes */
    uint32_t type;  /* caller's message type; 0 is padding */
};

/* Ring sizes never go below this: a message as large as the largest
 * packet (SNAPLEN_MAX, base/limits.h) must always fit (dispatch.c checks). */
#define RING_MIN_SIZE ((size_t)1 << 20)
static inline size_t ring_size(size_t wanted)
{
    return wanted < RING_MIN_SIZE ? RING_MIN_SIZE : wanted;
}

/* size is rounded up to a power of two (at least 4096). 0 ok, -1 ENOMEM. */
int ring_init(struct ring *r, size_t size);
void ring_destroy(struct ring *r);
/* The largest payload a message may have. */
size_t ring_max_payload(const struct ring *r);

/* Producer: space for a payload of len bytes, or NULL if the ring is full
 * (or len is larger than ring_max_payload). Then ring_commit publishes it. */
void *ring_reserve(struct ring *r, uint32_t type, size_t len);
void ring_commit(struct ring *r);
/* Producer: reserve, copy, commit; 0 ok, -1 full. */
int ring_push(struct ring *r, uint32_t type, const void *data, size_t len);

/* Consumer: the oldest message (payload pointer; type and length set), or
 * NULL when empty. ring_release frees it. */
void *ring_peek(struct ring *r, uint32_t *type, size_t *len);
void ring_release(struct ring *r);
/* Bytes in use (approximate when read by the other side). */
size_t ring_used(struct ring *r);

void ring_waiter_init(struct ring_waiter *w);
/* Who sleeps on this ring: the thread that reads it (waiting for
 * messages) and the one that writes it (waiting for room). Set before the
 * threads start. */
void ring_set_waiters(struct ring *r, struct ring_waiter *reader, struct ring_waiter *writer);
/* Throughput mode (offline): a commit wakes a sleeping reader only once
 * `bytes` are waiting, so that reader and writer do not ping-pong a wake-up
 * per message; the writer then must call ring_flush before it waits for
 * anything itself and when it has written its last message. 0 (the
 * default, live): every commit wakes a sleeping reader. */
void ring_set_batch(struct ring *r, size_t bytes);
/* Producer: wakes the reader if it sleeps, whatever is waiting. */
void ring_flush(struct ring *r);

/* Consumer: a message is waiting. */
int ring_readable(struct ring *r);
/* Producer: a message of len payload bytes fits now. */
int ring_writable(struct ring *r, size_t len);

/* What a waiting thread waits for. ready says whether to stop waiting;
 * announce(arg, 1) tells the rings concerned that this thread is about to
 * sleep (ring_announce_reader, ring_want_space), announce(arg, 0) takes it
 * back. */
struct ring_wait_for {
    int (*ready)(void *arg);
    void (*announce)(void *arg, int on);
    void *arg;
};
/* Waits until ready, a wake-up, or timeout_ms (negative: no limit): spins
 * up to w->spin checks (more when spinning paid off, fewer when it did
 * not), then announces, checks once more and sleeps on the futex. Callers
 * loop on their own condition. */
void ring_wait(struct ring_waiter *w, const struct ring_wait_for *what, int timeout_ms);
/* For announce callbacks: a commit on r wakes r->reader (on = 1), or not. */
void ring_announce_reader(struct ring *r, int on);
/* Consumer: waits for a message on r (r->reader sleeps), at most
 * timeout_ms (negative: no limit). */
void ring_wait_readable(struct ring *r, int timeout_ms);
/* Producer: flushes r and waits until a message of len payload bytes fits
 * (r->writer sleeps; the reader wakes it once a quarter of the ring, or
 * len if more, is free). */
void ring_wait_writable(struct ring *r, size_t len);
/* Producer side of a shared waiter: a release on r wakes r->writer once
 * `bytes` are free (SIZE_MAX: never). ring_wait_writable sets it. */
void ring_want_space(struct ring *r, size_t bytes);

#endif
