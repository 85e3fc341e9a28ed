/* evicted.h - which connections a worker evicted recently.
 *
 * An evicted TCP connection usually goes on: its next segment creates the
 * flow again, mid-stream, and under a flood that flow is soon the oldest
 * and evicted again. To keep flows.created and flows.evicted counting
 * connections, not re-creations, the worker notes each evicted flow's key
 * hash here and asks, when a flow is created by a segment other than a SYN,
 * whether it is one of them (then it counts flows.returned, and its next
 * eviction flows.evicted_again).
 *
 * An array of 64-bit key hashes (flow_hash) in sets of EVICTED_WAYS slots
 * chosen by the hash: a fixed size set at init, no allocation after it,
 * constant time. When a set is full, a newer eviction replaces the oldest
 * in it, which is then forgotten (its return counts as a new flow, as
 * before this existed). Two keys are confused only if their 64-bit hashes
 * are equal. */
#ifndef SW_EVICTED_H
#define SW_EVICTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVICTED_WAYS 8u   /* 64 bytes: a set is about one cache line */

struct evicted_keys {
    uint64_t *slots;     /* key hash | 1 (0 = empty); each set oldest first */
    size_t count;        /* power of two, at least EVICTED_WAYS */
};

/* Slots for about `want` keys (rounded down to a power of two, at least
 * 64); the bytes it takes are count * 8. -1 when out of memory. */
int evicted_init(struct evicted_keys *e, size_t want);
void evicted_destroy(struct evicted_keys *e);
/* Bytes of memory the set holds. */
size_t evicted_bytes(const struct evicted_keys *e);
/* Remembers that the flow with key hash h was evicted. */
void evicted_note(struct evicted_keys *e, uint64_t h);
/* True if h was noted (and not replaced since); forgets it. */
bool evicted_take(struct evicted_keys *e, uint64_t h);

#endif
