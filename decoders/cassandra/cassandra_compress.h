/* cassandra_compress.h - the compressions of the native protocol, whole
 * buffer to whole buffer.
 *
 * v3/v4 compress a frame's body when its header has the compression flag,
 * with the algorithm the STARTUP message named: lz4 (a 4-byte big-endian
 * uncompressed length, then an lz4 block) or snappy (raw snappy, which
 * states its own length). v5 compresses segment payloads with lz4 blocks
 * whose uncompressed length is in the segment header. A body is only ever
 * decompressed whole, into a buffer the caller sized from the declared
 * length after checking it against its cap. */
#ifndef SW_CASSANDRA_COMPRESS_H
#define SW_CASSANDRA_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cql_compression { CQL_COMPRESS_NONE = 0, CQL_COMPRESS_LZ4, CQL_COMPRESS_SNAPPY };

/* The uncompressed length a compressed v3/v4 body declares; false when the
 * body is too short or snappy's varint is corrupt. */
bool cql_compressed_length(enum cql_compression c, const uint8_t *in, size_t in_len,
                           size_t *out_len);
/* Decompresses a v3/v4 body into out (exactly out_len bytes, as
 * cql_compressed_length said). false on corrupt data or another size. */
bool cql_decompress_body(enum cql_compression c, const uint8_t *in, size_t in_len,
                         uint8_t *out, size_t out_len);
/* An lz4 block of exactly out_len bytes (v5 segments). */
bool cql_lz4_block(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len);

#endif
