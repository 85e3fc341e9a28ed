/* cassandra.h - the Cassandra native protocol (CQL binary, v3-v5) decoder.
 *
 * Each direction is a stream of frames (a 9-byte header: version with the
 * response bit, flags, stream id, opcode, body length; then the body). From
 * v5 on, once the server answered STARTUP (READY or AUTHENTICATE), frames
 * travel inside segments: a 6-byte header (8 with lz4) protected by a CRC24,
 * a payload of at most 128 KiB protected by a CRC32, self-contained (whole
 * frames) or one part of a larger frame.
 *
 * Requests and responses are paired by stream id: one op per request, its
 * response completes and emits it. A frame that lies whole in the bytes of
 * one call is parsed where it lies; a frame split across calls keeps only
 * its first cassandra.head_max_kb bytes (a Rows result's row count and
 * paging state come before its rows, which are skipped, never held).
 * Compressed v3/v4 bodies (lz4, snappy) are held whole, at most
 * cassandra.compressed_max_mb, and decompressed to at most
 * cassandra.decompressed_max_mb; v5 segments are at most 128 KiB each.
 * See README.md next to this file for the ops. */
#ifndef SW_CASSANDRA_H
#define SW_CASSANDRA_H

#include <stddef.h>

#include "../decoder.h"

/* The "cassandra" configuration group. */
struct cassandra_params {
    size_t frame_max;         /* largest frame body accepted */
    size_t head_max;          /* body bytes kept of a frame split across calls */
    size_t compressed_max;    /* compressed v3/v4 body held to decompress */
    size_t decompressed_max;  /* its decompressed size */
    size_t pending_max;       /* requests waiting for a response, per flow */
    size_t prepared_max;      /* prepared statements remembered, per flow */
};

extern const struct decoder_settings cassandra_settings;

/* Stats group "cassandra". */
#define CASSANDRA_COUNTERS(X)                                                  \
    X(MALFORMED, "malformed")                 /* a header or body no peer sends */ \
    X(TOO_LARGE, "too_large")                 /* past frame_max or compressed_max */ \
    X(DECOMPRESS_ERRORS, "decompress_errors") /* a body or segment that did not inflate */ \
    X(CRC_ERRORS, "crc_errors")               /* a v5 segment header or payload CRC wrong */ \
    X(UNPAIRED, "unpaired")                   /* a response with no request */ \
    X(PENDING_OVERFLOW, "pending_overflow")   /* past pending_max: oldest given up */ \
    X(PREPARED_OVERFLOW, "prepared_overflow") /* past prepared_max: oldest forgotten */ \
    X(BODY_CAPPED, "body_capped")             /* a field lay past head_max */ \
    X(RESYNC, "resync")                       /* framing lost to a gap, found again */

enum cassandra_counter {
#define CASSANDRA_COUNTER_ENUM(id, name) CASSANDRA_COUNTER_##id,
    CASSANDRA_COUNTERS(CASSANDRA_COUNTER_ENUM)
#undef CASSANDRA_COUNTER_ENUM
    CASSANDRA_COUNTER_COUNT
};

extern const struct decoder_counters cassandra_counters;

extern const struct decoder cassandra_decoder;

/* For tests and fuzz targets: the most bytes the flow has held at once
 * beyond its fixed state (split frames, segments, decompressed bodies,
 * pending and prepared tables). */
size_t cassandra_held_peak(const void *state);

#endif
