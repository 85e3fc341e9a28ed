/* sha1.c - SHA-1 as specified in FIPS 180-4, section 6.1.
 *
 * Used only to compute Community ID hashes, which are defined over SHA-1;
 * it is not meant for anything that needs collision resistance. */
#include "sha1.h"

#include <string.h>

static uint32_t sha1_rotl(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static uint32_t sha1_load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void sha1_store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* One 512-bit block: message schedule of 80 words, then 80 rounds in four
 * groups of 20 that differ only in their function f and constant K. */
static void sha1_compress(uint32_t h[5], const uint8_t block[64])
{
    uint32_t w[80];
    for (int t = 0; t < 16; t++)
        w[t] = sha1_load_be32(block + 4 * t);
    for (int t = 16; t < 80; t++)
        w[t] = sha1_rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);

    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999u;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1u;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdcu;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6u;
        }
        uint32_t temp = sha1_rotl(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = sha1_rotl(b, 30);
        b = a;
        a = temp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void sha1_init(struct sha1_ctx *c)
{
    c->h[0] = 0x67452301u;
    c->h[1] = 0xefcdab89u;
    c->h[2] = 0x98badcfeu;
    c->h[3] = 0x10325476u;
    c->h[4] = 0xc3d2e1f0u;
    c->length = 0;
    c->used = 0;
}

void sha1_update(struct sha1_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->length += (uint64_t)len;
    while (len > 0) {
        size_t take = sizeof(c->block) - c->used;
        if (take > len)
            take = len;
        memcpy(c->block + c->used, p, take);
        c->used += take;
        p += take;
        len -= take;
        if (c->used == sizeof(c->block)) {
            sha1_compress(c->h, c->block);
            c->used = 0;
        }
    }
}

/* Padding: a 1 bit, zeros up to 56 mod 64 bytes, then the message length in
 * bits as a 64-bit big-endian number. */
void sha1_final(struct sha1_ctx *c, uint8_t digest[20])
{
    uint64_t bits = c->length * 8;
    c->block[c->used++] = 0x80;
    if (c->used > 56) {
        memset(c->block + c->used, 0, sizeof(c->block) - c->used);
        sha1_compress(c->h, c->block);
        c->used = 0;
    }
    memset(c->block + c->used, 0, 56 - c->used);
    sha1_store_be32(c->block + 56, (uint32_t)(bits >> 32));
    sha1_store_be32(c->block + 60, (uint32_t)bits);
    sha1_compress(c->h, c->block);
    for (int i = 0; i < 5; i++)
        sha1_store_be32(digest + 4 * i, c->h[i]);
    c->used = 0;
}
