/* ring.h - bounded single-producer/single-consumer ring of variable-size
 * messages, the only channel between threads.
 *
 * One thread writes, one thread reads; no locks. Positions grow without
 * wrapping (64-bit) and are masked into a power-of-two buffer. A message is
 * an 8-byte header (length, type) and its bytes, 8-byte aligned, always
 * contiguous: when it would straddle the end, a padding message fills the tail.
 * Invariants (asserted): tail <= head <= tail + size; messages never overlap;
 * the producer holds at most one reservation, committed before the next. */
#ifndef SW_RING_H
#define SW_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a cache line: the producer's and the consumer's fields live on
 * separate lines so that neither side's writes slow the other's reads. */
#define RING_CACHE_LINE 64

struct ring {
    uint8_t *buf;
    size_t size;                     /* power of two */
    _Alignas(RING_CACHE_LINE) _Atomic size_t head; /* written by the producer */
    size_t head_cached_tail;                        /* producer's last view of tail */
    _Alignas(RING_CACHE_LINE) _Atomic size_t tail; /* written by the consumer */
    size_t tail_cached_head;                        /* consumer's last view of head */
    _Alignas(RING_CACHE_LINE) size_t pending;      /* producer: reserved, not committed */
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

/* Back-off for a thread that found a ring full or empty: spins a little,
 * then yields, then sleeps up to a millisecond. `round` counts calls. */
void ring_backoff(unsigned *round);

#endif
