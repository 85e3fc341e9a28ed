/* bson_build.h - a tiny BSON and MongoDB message writer for the tests.
 *
 * Fixed-size buffer, no allocation; nested documents are opened and closed
 * (the length is patched at close). Test-only: it trusts its caller. */
#ifndef SW_BSON_BUILD_H
#define SW_BSON_BUILD_H

#include <stdint.h>
#include <string.h>

#define BB_CAP (1u << 22)
#define BB_DEPTH 16

struct bb {
    uint8_t *buf;          /* caller's, BB_CAP bytes */
    size_t len;
    size_t open[BB_DEPTH]; /* offsets of open documents' lengths */
    int depth;
};

static inline void bb_raw(struct bb *b, const void *p, size_t n)
{
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static inline void bb_u8(struct bb *b, uint8_t v)
{
    b->buf[b->len++] = v;
}

static inline void bb_i32(struct bb *b, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++)
        bb_u8(b, (uint8_t)(u >> (8 * i)));
}

static inline void bb_i64(struct bb *b, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        bb_u8(b, (uint8_t)(u >> (8 * i)));
}

static inline void bb_patch32(struct bb *b, size_t at, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++)
        b->buf[at + (size_t)i] = (uint8_t)(u >> (8 * i));
}

static inline void bb_cstr(struct bb *b, const char *s)
{
    bb_raw(b, s, strlen(s) + 1);
}

static inline void bb_key(struct bb *b, uint8_t type, const char *key)
{
    bb_u8(b, type);
    bb_cstr(b, key);
}

/* A document: top level (key NULL) or nested (type 3 doc, 4 array). */
static inline void bb_open(struct bb *b, uint8_t type, const char *key)
{
    if (key)
        bb_key(b, type, key);
    b->open[b->depth++] = b->len;
    bb_i32(b, 0);
}

static inline void bb_close(struct bb *b)
{
    bb_u8(b, 0);
    size_t at = b->open[--b->depth];
    bb_patch32(b, at, (int32_t)(b->len - at));
}

static inline void bb_int32(struct bb *b, const char *key, int32_t v)
{
    bb_key(b, 0x10, key);
    bb_i32(b, v);
}

static inline void bb_int64(struct bb *b, const char *key, int64_t v)
{
    bb_key(b, 0x12, key);
    bb_i64(b, v);
}

static inline void bb_double(struct bb *b, const char *key, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    bb_key(b, 0x01, key);
    bb_i64(b, (int64_t)u);
}

static inline void bb_bool(struct bb *b, const char *key, int v)
{
    bb_key(b, 0x08, key);
    bb_u8(b, v ? 1 : 0);
}

static inline void bb_string(struct bb *b, const char *key, const char *s)
{
    bb_key(b, 0x02, key);
    bb_i32(b, (int32_t)strlen(s) + 1);
    bb_cstr(b, s);
}

static inline void bb_binary(struct bb *b, const char *key, const void *p, size_t n)
{
    bb_key(b, 0x05, key);
    bb_i32(b, (int32_t)n);
    bb_u8(b, 0);
    bb_raw(b, p, n);
}

/* A message: header written at msg_begin, length patched at msg_end. */
static inline size_t bb_msg_begin(struct bb *b, int32_t request_id, int32_t response_to,
                                  int32_t opcode)
{
    size_t at = b->len;
    bb_i32(b, 0);
    bb_i32(b, request_id);
    bb_i32(b, response_to);
    bb_i32(b, opcode);
    return at;
}

static inline void bb_msg_end(struct bb *b, size_t at)
{
    bb_patch32(b, at, (int32_t)(b->len - at));
}

#endif
