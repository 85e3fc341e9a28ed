/* redis.h - the Redis decoder: RESP2/RESP3 requests and replies into ops.
 *
 * Each direction is walked by the streaming parser (redis_parse.h): nothing
 * of a message is held but its header line and the first few request
 * arguments (command, subcommand, keys) up to small caps. Requests wait in a
 * FIFO (redis.pending_max) for their replies, in order (pipelining); the
 * stateful cases (CLIENT REPLY OFF/SKIP/ON, subscribed mode, RESP3 pushes
 * and attributes, MONITOR, SYNC/PSYNC with their RDB payload and the
 * replication stream after it) keep the pairing in step. README.md next to
 * this file lists the ops, fields, counters and limits.
 *
 * Memory per flow: the flow struct (two parsers, the request arguments, the
 * reply summary; tests/unit/test_redis.c asserts its size), the waiting
 * requests, 128 bytes each (not op records: name, target capped at 64 bytes,
 * counts, flags, times), in a ring grown by doubling from 4, at most
 * pending_max; during a SYNC only, a small RDB reader; for an opening "info"
 * only, its op until the next request or the end. */
#ifndef SW_REDIS_H
#define SW_REDIS_H

#include <stddef.h>

#include "../decoder.h"
#include "redis_parse.h"

struct redis_params {
    size_t pending_max;     /* requests waiting for a reply, per flow */
    size_t line_max;        /* longest simple-string/error/inline line, bytes */
};

extern const struct decoder_settings redis_settings;

/* Stats group "redis". */
#define REDIS_COUNTERS(X)                                       \
    X(MALFORMED, "malformed")                                   \
    X(RESYNC, "resync")                                         \
    X(UNPAIRED_REPLIES, "unpaired_replies")                     \
    X(PENDING_OVERFLOW, "pending_overflow")                     \
    X(PUSH_MESSAGES, "push_messages")                           \
    X(ATTRIBUTES, "attributes")                                 \
    X(MONITOR_LINES, "monitor_lines")                           \
    X(REPLICATION_COMMANDS, "replication_commands")             \
    X(RDB_BYTES, "rdb_bytes")                                   \
    X(DEEP_NESTING, "deep_nesting")                             \
    X(NO_REPLY, "no_reply")                                     \
    X(PROBES, "probes")

enum redis_counter {
#define REDIS_COUNTER_ENUM(id, name) REDIS_COUNTER_##id,
    REDIS_COUNTERS(REDIS_COUNTER_ENUM)
#undef REDIS_COUNTER_ENUM
    REDIS_COUNTER_COUNT
};

extern const struct decoder_counters redis_counters;

extern const struct decoder redis_decoder;

/* For tests and fuzz targets: requests waiting, and the FIFO's capacity. */
size_t redis_pending_count(const void *state);
size_t redis_pending_capacity(const void *state);
/* For tests: bytes of a flow's state as opened, and of one waiting request. */
size_t redis_flow_size(void);
size_t redis_pending_size(void);

#endif
