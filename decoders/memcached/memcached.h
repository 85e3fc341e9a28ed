/* memcached.h - the memcached decoder: text and binary protocol, TCP and UDP.
 *
 * One op per request and its reply (README.md next to this file lists the
 * ops, classes, items and flags). Text replies are paired first in first
 * out, binary ones by opaque, UDP ones by request id. Values and data blocks
 * are skipped by their announced length and never buffered; multi-line
 * replies are counted line by line.
 *
 * Memory per flow: the flow struct, one buffer per direction holding only an
 * unfinished line or binary header (at most memcached.line_max_kb), the
 * waiting requests (at most memcached.pending_max, grown by doubling), and
 * for UDP the datagrams of replies still being reassembled (at most
 * memcached.udp_pending_max replies, memcached.udp_reply_max_kb bytes). */
#ifndef SW_MEMCACHED_H
#define SW_MEMCACHED_H

#include <stddef.h>

#include "../decoder.h"
#include "memcached_parse.h"

struct memcached_params {
    size_t line_max;             /* bytes of one text line or binary head */
    size_t pending_max;          /* requests waiting for their reply */
    size_t udp_pending_max;      /* UDP replies being reassembled per flow */
    size_t udp_reply_max;        /* bytes of UDP reply datagrams held per flow */
    unsigned udp_timeout_s;      /* an unfinished UDP reply is emitted after it */
    unsigned amplification_ratio;    /* reply >= ratio x request: amplified */
    size_t amplification_min;    /* ... and at least this many bytes */
};

extern const struct decoder_settings memcached_settings;

#define MEMCACHED_COUNTERS(X)                                       \
    X(MALFORMED, "malformed")                                       \
    X(RESYNC, "resync")                                             \
    X(UNPAIRED, "unpaired_replies")                                 \
    X(PENDING_OVERFLOW, "pending_overflow")                         \
    X(UDP_DATAGRAMS, "udp_datagrams")                               \
    X(UDP_INCOMPLETE, "udp_incomplete")                             \
    X(UDP_OVERFLOW, "udp_overflow")                                 \
    X(AMPLIFIED, "amplified")                                       \
    X(PROBES, "probes")

enum memcached_counter {
#define MEMCACHED_COUNTER_ENUM(id, name) MEMCACHED_COUNTER_##id,
    MEMCACHED_COUNTERS(MEMCACHED_COUNTER_ENUM)
#undef MEMCACHED_COUNTER_ENUM
    MEMCACHED_COUNTER_COUNT
};

extern const struct decoder_counters memcached_counters;

extern const struct decoder memcached_decoder;

/* For tests and fuzz targets: the largest line buffer a flow has held and
 * the UDP reply bytes it holds now. */
size_t memcached_held_peak(const void *state);
size_t memcached_udp_held(const void *state);

#endif
