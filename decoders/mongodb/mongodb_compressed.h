/* mongodb_compressed.h - OP_COMPRESSED payloads: the compressor ids, and
 * decompression of a payload whole or as its bytes stream in.
 *
 * A codec decompresses one message's payload. noop passes the bytes
 * through; zlib inflates and zstd streams (ZSTD_decompressStream) through a
 * fixed MONGO_CHUNK output buffer, each filled chunk handed to the caller's
 * sink at once. So a codec holds its state and that chunk (zlib: ~45 KiB;
 * zstd: the frame's window, at most 2^MONGO_ZSTD_WINDOW_LOG_MAX, 2 MiB at
 * the levels servers use), never the message. snappy is the exception: its
 * raw format refers back anywhere in the output, so it cannot be decoded
 * without all of it; a snappy payload is held whole (at most payload_max
 * bytes) and decompressed at finish into a buffer of uncompressedSize, then
 * handed to the sink in one call. More decompressed bytes than
 * uncompressedSize, fewer, or a corrupt stream fails the codec.
 *
 * Every byte a codec allocates is counted in a struct mongo_held its caller
 * owns (one per flow), so that a flow's memory bound can be tested. */
#ifndef SW_MONGODB_COMPRESSED_H
#define SW_MONGODB_COMPRESSED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../sensor/base/membudget.h"

/* OP_COMPRESSED compressorId */
enum mongo_compressor { MONGO_NOOP = 0, MONGO_SNAPPY = 1, MONGO_ZLIB = 2, MONGO_ZSTD = 3 };

#define MONGO_CHUNK ((size_t)16 * 1024)  /* zlib/zstd output, fed to the sink as it fills */
#define MONGO_ZSTD_WINDOW_LOG_MAX 23      /* 8 MiB: larger windows are decompress errors */

/* Bytes held beyond a flow's fixed state: now, and the most at once. They
 * are charged to `budget` (the worker's memory budget; NULL: unlimited);
 * a refusal fails the codec with `refused` set, so the caller can tell it
 * from a corrupt stream. */
struct mongo_held {
    size_t now;
    size_t peak;
    struct membudget *budget;
    bool refused;
};

struct z_stream_s;      /* zlib's z_stream */
struct ZSTD_DCtx_s;     /* zstd's ZSTD_DStream */

/* One payload's decompression. All zero is idle (nothing held); so is a
 * released codec. */
struct mongo_codec {
    struct mongo_held *held;     /* where its allocations are counted */
    uint8_t compressor;          /* enum mongo_compressor */
    bool frame_done;             /* zlib/zstd: the stream ended where it should */
    uint64_t left;               /* decompressed bytes still expected */
    struct z_stream_s *zlib;
    struct ZSTD_DCtx_s *zstd;
    size_t zstd_held;            /* ZSTD_sizeof_DStream when last looked at */
    uint8_t *chunk;              /* MONGO_CHUNK bytes of zlib/zstd output */
    uint8_t *payload;            /* snappy: grows as the payload arrives, up to payload_cap */
    size_t payload_len, payload_alloc, payload_cap;
};

/* Receives the decompressed message in order: len bytes at buf, with `left`
 * bytes (left >= len) still expected from buf on. */
typedef void (*mongo_codec_sink)(void *user, const uint8_t *buf, size_t len, uint64_t left);

/* Starts an idle codec on a payload of `compressor` that decompresses to
 * uncompressed_size bytes; payload_max bounds a held (snappy) payload.
 * 0, or -1 (the codec released) for an unknown compressor or no memory. */
int mongo_codec_init(struct mongo_codec *c, struct mongo_held *held, uint8_t compressor,
                     uint64_t uncompressed_size, size_t payload_max);
/* The next len payload bytes: decompressed to the sink, or (snappy) held.
 * 0, or -1 (the codec released) when the payload is corrupt, decompresses
 * to more than uncompressed_size, exceeds payload_max, or memory ran out. */
int mongo_codec_feed(struct mongo_codec *c, const uint8_t *buf, size_t len,
                     mongo_codec_sink sink, void *user);
/* The payload ended: snappy is decompressed to the sink now; the others
 * must have produced exactly uncompressed_size bytes and ended their
 * stream. 0 or -1; the codec is released either way. */
int mongo_codec_finish(struct mongo_codec *c, mongo_codec_sink sink, void *user);
/* Frees what the codec holds; it is idle again. Safe on an idle codec. A
 * payload cut short is released without finish (it is not an error). */
void mongo_codec_release(struct mongo_codec *c);

/* Decompresses a whole OP_COMPRESSED payload into out, which must hold
 * exactly out_len (the message's uncompressedSize) bytes. 0 on success, -1
 * when the data is corrupt, of another size, or the compressor unknown. */
int mongo_decompress(uint8_t compressor, const uint8_t *in, size_t in_len,
                     uint8_t *out, size_t out_len);

#endif
