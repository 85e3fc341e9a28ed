/* mongodb.h - the MongoDB wire protocol decoder.
 *
 * Every message starts with a 16-byte header (messageLength, requestID,
 * responseTo, opCode, little-endian int32). Bodies are read as they stream
 * in, field by field; their BSON documents go through the streaming walker
 * (bson.h), so a reply of any size costs a few KiB of state. OP_COMPRESSED
 * payloads are decompressed as they stream in (noop, zlib, zstd; the
 * declared uncompressedSize at most mongodb.decompressed_max_mb) and the
 * bytes read as the original message: a flow holds the decompressor and a
 * 16 KiB chunk (zstd: plus the frame's window, bounded), not the message.
 * Only snappy payloads are held whole, because raw snappy cannot be decoded
 * without the whole output (at most mongodb.compressed_max_mb, decompressed
 * at most mongodb.decompressed_max_mb).
 *
 * Requests and replies are paired by requestID <-> responseTo. One op per
 * reply batch: an exhaust stream (a reply with moreToCome, then more replies
 * each answering the previous one) gives one op per reply, the later ones
 * flagged `continues`. A request sent with moreToCome expects no reply: its
 * op is emitted at once (status unknown, no `no_response` flag); so are the
 * legacy OP_INSERT/OP_UPDATE/OP_DELETE/OP_KILL_CURSORS, which have no reply.
 * See README "MongoDB" for the op fields. */
#ifndef SW_MONGODB_H
#define SW_MONGODB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoder.h"

enum mongo_opcode {
    MONGO_OP_REPLY = 1,
    MONGO_OP_UPDATE = 2001,
    MONGO_OP_INSERT = 2002,
    MONGO_OP_QUERY = 2004,
    MONGO_OP_GET_MORE = 2005,
    MONGO_OP_DELETE = 2006,
    MONGO_OP_KILL_CURSORS = 2007,
    MONGO_OP_COMPRESSED = 2012,
    MONGO_OP_MSG = 2013,
};

/* OP_MSG flagBits */
#define MONGO_MSG_CHECKSUM_PRESENT 0x1u
#define MONGO_MSG_MORE_TO_COME 0x2u
#define MONGO_MSG_EXHAUST_ALLOWED 0x10000u

#define MONGO_HEADER_LEN 16

struct mongo_header {
    int32_t length;
    int32_t request_id;
    int32_t response_to;
    int32_t opcode;
};

/* Header parse, a pure function: MONGO_HEADER_LEN when the header was read,
 * 0 when fewer bytes are there, -1 when it cannot start a message (length
 * below 16 or above max_length, or an opcode this decoder does not know). */
int mongo_parse_header(const uint8_t *buf, size_t len, size_t max_length,
                       struct mongo_header *h);

/* The most bytes the flow `flow` (as mongodb_decoder.open returned it)
 * has held at once beyond its fixed state: decompressors, their buffers, a
 * held snappy payload. For tests of the memory bound. */
size_t mongo_held_peak(const void *flow);

/* The op name's class (handshake, auth, enumerate, read, write, admin,
 * destroy), for commands as named on the wire. */
enum op_class mongo_command_class(const char *command);

/* FNV-1a 64 of a cursor id (its decimal text), as op.continuation and
 * op.cursor_out hold it: the same hash for the id in a find reply and in
 * the getMore that continues it. */
void mongo_cursor_hash(int64_t id, char out[OP_CONT_MAX]);

/* The "mongodb" configuration group. */
struct mongodb_params {
    size_t message_max;        /* largest message accepted (bytes) */
    size_t compressed_max;     /* snappy OP_COMPRESSED payload held to decompress */
    size_t decompressed_max;   /* its decompressed size */
    size_t pending_max;        /* requests waiting for a reply, per flow */
};

/* Stats group "mongodb". */
#define MONGODB_COUNTERS(X)                                                   \
    X(MALFORMED, "malformed")                 /* a header or body no server sends */ \
    X(TOO_LARGE, "too_large")                 /* past message_max or compressed_max */ \
    X(DECOMPRESS_ERRORS, "decompress_errors") /* an OP_COMPRESSED that did not inflate */ \
    X(UNPAIRED, "unpaired")                   /* a reply with no request */ \
    X(PENDING_OVERFLOW, "pending_overflow")   /* past pending_max: oldest given up */ \
    X(RESYNC, "resync")                       /* framing found again after a loss */ \
    X(PROBES, "probes")                       /* requests in nmap's NSE shape (flag probe) */

enum mongodb_counter {
#define MONGODB_COUNTER_ENUM(id, name) MONGODB_COUNTER_##id,
    MONGODB_COUNTERS(MONGODB_COUNTER_ENUM)
#undef MONGODB_COUNTER_ENUM
    MONGODB_COUNTER_COUNT
};

/* Recognises the wire protocol from a first message header in either
 * direction (decoder.probe). */
enum probe_result mongodb_probe(const uint8_t *to_server, size_t to_server_len,
                                const uint8_t *to_client, size_t to_client_len);

extern const struct decoder mongodb_decoder;

#endif
