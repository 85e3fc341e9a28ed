/* cassandra_compress.c - lz4 and snappy bodies (see cassandra_compress.h). */
#include "cassandra_compress.h"

#include <limits.h>

#include <lz4.h>
#include <snappy-c.h>

#define LZ4_PREFIX 4

bool cql_lz4_block(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len)
{
    if (in_len > INT_MAX || out_len > INT_MAX)
        return false;
    int n = LZ4_decompress_safe((const char *)in, (char *)out, (int)in_len, (int)out_len);
    return n >= 0 && (size_t)n == out_len;
}

bool cql_compressed_length(enum cql_compression c, const uint8_t *in, size_t in_len,
                           size_t *out_len)
{
    if (c == CQL_COMPRESS_LZ4) {
        if (in_len < LZ4_PREFIX)
            return false;
        *out_len = (size_t)in[0] << 24 | (size_t)in[1] << 16 | (size_t)in[2] << 8 | in[3];
        return true;
    }
    if (c == CQL_COMPRESS_SNAPPY)
        return snappy_uncompressed_length((const char *)in, in_len, out_len) == SNAPPY_OK;
    return false;
}

bool cql_decompress_body(enum cql_compression c, const uint8_t *in, size_t in_len,
                         uint8_t *out, size_t out_len)
{
    if (c == CQL_COMPRESS_LZ4) {
        if (in_len < LZ4_PREFIX)
            return false;
        if (out_len == 0)
            return in_len == LZ4_PREFIX || (in_len == LZ4_PREFIX + 1 && in[LZ4_PREFIX] == 0);
        return cql_lz4_block(in + LZ4_PREFIX, in_len - LZ4_PREFIX, out, out_len);
    }
    if (c == CQL_COMPRESS_SNAPPY) {
        size_t n = out_len;
        if (snappy_validate_compressed_buffer((const char *)in, in_len) != SNAPPY_OK)
            return false;
        return snappy_uncompress((const char *)in, in_len, (char *)out, &n) == SNAPPY_OK &&
               n == out_len;
    }
    return false;
}
