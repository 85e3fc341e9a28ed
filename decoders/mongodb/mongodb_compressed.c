/* mongodb_compressed.c - OP_COMPRESSED decompression (see mongodb_compressed.h).
 *
 * The codec knows nothing of the message it decompresses: it checks sizes
 * and streams, counts what it allocates, and hands bytes to a sink. */
#include "mongodb_compressed.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

int mongo_decompress(uint8_t compressor, const uint8_t *in, size_t in_len,
                     uint8_t *out, size_t out_len)
{
    switch (compressor) {
    case MONGO_NOOP:
        if (in_len != out_len)
            return -1;
        if (out_len > 0)
            memcpy(out, in, out_len);
        return 0;
    case MONGO_SNAPPY: {
        size_t n = 0;
        if (snappy_uncompressed_length((const char *)in, in_len, &n) != SNAPPY_OK || n != out_len)
            return -1;
        n = out_len;
        if (snappy_uncompress((const char *)in, in_len, (char *)out, &n) != SNAPPY_OK ||
            n != out_len)
            return -1;
        return 0;
    }
    case MONGO_ZLIB: {
        z_stream z;
        memset(&z, 0, sizeof(z));
        if (inflateInit(&z) != Z_OK)
            return -1;
        z.next_in = (Bytef *)(uintptr_t)in;
        z.next_out = out;
        int rc = Z_OK;
        size_t in_left = in_len, out_left = out_len;
        /* avail_* are 32-bit: feed in slices */
        while (rc == Z_OK) {
            z.avail_in = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
            z.avail_out = out_left > UINT32_MAX ? UINT32_MAX : (uInt)out_left;
            uInt ai = z.avail_in, ao = z.avail_out;
            rc = inflate(&z, Z_FINISH);
            in_left -= ai - z.avail_in;
            out_left -= ao - z.avail_out;
            if (rc == Z_BUF_ERROR && (in_left == 0 || out_left == 0))
                break;
            if (rc == Z_BUF_ERROR)
                rc = Z_OK;
        }
        inflateEnd(&z);
        return rc == Z_STREAM_END && out_left == 0 ? 0 : -1;
    }
    case MONGO_ZSTD: {
        size_t n = ZSTD_decompress(out, out_len, in, in_len);
        return ZSTD_isError(n) || n != out_len ? -1 : 0;
    }
    default:
        return -1;
    }
}

/* ------------------------------------------------------------ counted memory */

/* Every allocation a codec makes goes through these, so that what a flow
 * holds is counted: the size sits before the block. */
static void *held_alloc(struct mongo_held *h, size_t n)
{
    if (n > SIZE_MAX - sizeof(max_align_t))
        return NULL;
    max_align_t *p = membudget_malloc(h->budget, sizeof(max_align_t) + n);
    if (!p) {
        h->refused = true;
        return NULL;
    }
    memcpy(p, &n, sizeof(n));
    h->now += n;
    if (h->now > h->peak)
        h->peak = h->now;
    return p + 1;
}

static void held_free(struct mongo_held *h, void *block)
{
    if (!block)
        return;
    max_align_t *p = (max_align_t *)block - 1;
    size_t n;
    memcpy(&n, p, sizeof(n));
    assert(h->now >= n);
    h->now -= n;
    membudget_free(h->budget, p, sizeof(max_align_t) + n);
}

static voidpf zlib_alloc(voidpf opaque, uInt items, uInt size)
{
    if (size != 0 && items > SIZE_MAX / size)
        return Z_NULL;
    return held_alloc(opaque, (size_t)items * size);
}

static void zlib_free(voidpf opaque, voidpf block)
{
    held_free(opaque, block);
}

/* zstd allocates inside the DStream (its window grows with the frame's,
 * at most 2^MONGO_ZSTD_WINDOW_LOG_MAX): counted, and charged to the budget,
 * by asking it its size after each call. False when the budget refuses the
 * growth (the caller fails the codec, which frees the DStream). */
static bool zstd_account(struct mongo_codec *c)
{
    size_t now = c->zstd ? ZSTD_sizeof_DStream(c->zstd) : 0;
    assert(c->held->now >= c->zstd_held);
    if (now > c->zstd_held && !membudget_charge(c->held->budget, now - c->zstd_held)) {
        c->held->refused = true;
        return false;
    }
    if (now < c->zstd_held)
        membudget_release(c->held->budget, c->zstd_held - now);
    c->held->now = c->held->now - c->zstd_held + now;
    c->zstd_held = now;
    if (c->held->now > c->held->peak)
        c->held->peak = c->held->now;
    return true;
}

/* ------------------------------------------------------------ the codec */

void mongo_codec_release(struct mongo_codec *c)
{
    if (c->zlib) {
        inflateEnd(c->zlib);
        held_free(c->held, c->zlib);
        c->zlib = NULL;
    }
    if (c->zstd) {
        ZSTD_freeDStream(c->zstd);
        c->zstd = NULL;
        (void)zstd_account(c);   /* going down: always accepted */
    }
    held_free(c->held, c->chunk);
    c->chunk = NULL;
    held_free(c->held, c->payload);
    c->payload = NULL;
    c->payload_len = c->payload_alloc = 0;
}

/* Fails the codec: releases it and returns -1. */
static int codec_fail(struct mongo_codec *c)
{
    mongo_codec_release(c);
    return -1;
}

int mongo_codec_init(struct mongo_codec *c, struct mongo_held *held, uint8_t compressor,
                     uint64_t uncompressed_size, size_t payload_max)
{
    assert(!c->zlib && !c->zstd && !c->chunk && !c->payload);
    c->held = held;
    c->compressor = compressor;
    c->left = uncompressed_size;
    c->frame_done = false;
    c->payload_cap = payload_max;
    bool ok = compressor <= MONGO_ZSTD;
    if (ok && compressor == MONGO_ZLIB) {
        c->zlib = held_alloc(held, sizeof(*c->zlib));
        ok = c->zlib != NULL;
        if (ok) {
            memset(c->zlib, 0, sizeof(*c->zlib));
            c->zlib->zalloc = zlib_alloc;
            c->zlib->zfree = zlib_free;
            c->zlib->opaque = held;
            if (inflateInit(c->zlib) != Z_OK) {
                held_free(held, c->zlib);
                c->zlib = NULL;
                ok = false;
            }
        }
    } else if (ok && compressor == MONGO_ZSTD) {
        c->zstd = ZSTD_createDStream();
        ok = c->zstd != NULL && !ZSTD_isError(ZSTD_initDStream(c->zstd)) &&
             !ZSTD_isError(ZSTD_DCtx_setParameter(c->zstd, ZSTD_d_windowLogMax,
                                                  MONGO_ZSTD_WINDOW_LOG_MAX));
        ok = zstd_account(c) && ok;
    }
    if (ok && (compressor == MONGO_ZLIB || compressor == MONGO_ZSTD)) {
        c->chunk = held_alloc(held, MONGO_CHUNK);
        ok = c->chunk != NULL;
    }
    return ok ? 0 : codec_fail(c);
}

/* n decompressed bytes to the sink. More than uncompressedSize in all is
 * false (the caller fails the codec). */
static bool deliver(struct mongo_codec *c, const uint8_t *buf, size_t n,
                    mongo_codec_sink sink, void *user)
{
    if (n > c->left)
        return false;
    sink(user, buf, n, c->left);
    c->left -= n;
    return true;
}

/* snappy: the payload is kept until it ends. */
static int hold_payload(struct mongo_codec *c, const uint8_t *buf, size_t len)
{
    if (c->payload_len + len > c->payload_cap)   /* framing forbids it */
        return codec_fail(c);
    if (c->payload_len + len > c->payload_alloc) {
        /* grow by doubling: a declared size costs nothing until bytes come */
        size_t cap = c->payload_alloc ? c->payload_alloc : 4096;
        while (cap < c->payload_len + len)
            cap *= 2;
        if (cap > c->payload_cap)
            cap = c->payload_cap;
        uint8_t *p = held_alloc(c->held, cap);
        if (!p)
            return codec_fail(c);
        if (c->payload_len > 0)
            memcpy(p, c->payload, c->payload_len);
        held_free(c->held, c->payload);
        c->payload = p;
        c->payload_alloc = cap;
    }
    memcpy(c->payload + c->payload_len, buf, len);
    c->payload_len += len;
    return 0;
}

static int inflate_feed(struct mongo_codec *c, const uint8_t *buf, size_t len,
                        mongo_codec_sink sink, void *user)
{
    while (len > 0 && !c->frame_done) {
        /* avail_in is 32-bit: feed in slices */
        uInt slice = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c->zlib->next_in = (Bytef *)(uintptr_t)buf;
        c->zlib->avail_in = slice;
        for (;;) {
            c->zlib->next_out = c->chunk;
            c->zlib->avail_out = (uInt)MONGO_CHUNK;
            int rc = inflate(c->zlib, Z_NO_FLUSH);
            size_t made = MONGO_CHUNK - c->zlib->avail_out;
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
                return codec_fail(c);
            if (made > 0 && !deliver(c, c->chunk, made, sink, user))
                return codec_fail(c);
            if (rc == Z_STREAM_END) {
                c->frame_done = true;   /* bytes after the stream are ignored */
                break;
            }
            if (rc == Z_BUF_ERROR || (c->zlib->avail_in == 0 && made < MONGO_CHUNK))
                break;
        }
        buf += slice;
        len -= slice;
    }
    return 0;
}

static int zstd_feed(struct mongo_codec *c, const uint8_t *buf, size_t len,
                     mongo_codec_sink sink, void *user)
{
    ZSTD_inBuffer in = { buf, len, 0 };
    for (;;) {
        ZSTD_outBuffer out = { c->chunk, MONGO_CHUNK, 0 };
        size_t rc = ZSTD_decompressStream(c->zstd, &out, &in);
        if (!zstd_account(c) || ZSTD_isError(rc))
            return codec_fail(c);
        if (out.pos > 0 && !deliver(c, c->chunk, out.pos, sink, user))
            return codec_fail(c);
        c->frame_done = rc == 0;
        if (in.pos == in.size && out.pos < out.size)
            break;
    }
    return 0;
}

int mongo_codec_feed(struct mongo_codec *c, const uint8_t *buf, size_t len,
                     mongo_codec_sink sink, void *user)
{
    switch (c->compressor) {
    case MONGO_SNAPPY:
        return hold_payload(c, buf, len);
    case MONGO_NOOP:
        return deliver(c, buf, len, sink, user) ? 0 : codec_fail(c);
    case MONGO_ZLIB:
        return inflate_feed(c, buf, len, sink, user);
    default:
        return zstd_feed(c, buf, len, sink, user);
    }
}

int mongo_codec_finish(struct mongo_codec *c, mongo_codec_sink sink, void *user)
{
    int rc = 0;
    if (c->compressor == MONGO_SNAPPY) {
        size_t usize = (size_t)c->left;
        uint8_t *out = held_alloc(c->held, usize ? usize : 1);
        if (!out || mongo_decompress(MONGO_SNAPPY, c->payload, c->payload_len, out, usize) != 0)
            rc = -1;
        else
            (void)deliver(c, out, usize, sink, user);
        held_free(c->held, out);
    } else if (c->left != 0 || (c->compressor != MONGO_NOOP && !c->frame_done)) {
        rc = -1;
    }
    mongo_codec_release(c);
    return rc;
}
