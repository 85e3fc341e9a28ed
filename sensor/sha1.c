/* sha1.c - SHA-1 as specified in FIPS 180-4, section 6.1.
 *
 * Used only to compute Community ID hashes, which are defined over SHA-1;
 * it is not meant for anything that needs collision resistance. */
#include "sha1.h"

#include <stdatomic.h>
#include <string.h>

#include "sha1_x86.h"

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

/* One 512-bit block: 80 rounds in four groups of 20 that differ only in
 * their function f and constant K. Written out round by round with the
 * message schedule kept as a rolling window of 16 words (w[t] depends only
 * on the 16 before it): the loop with a branch per round was most of a
 * Community ID's cost, which every flow event pays. */
#define SHA1_F1(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))     /* (b & c) | (~b & d) */
#define SHA1_F2(b, c, d) ((b) ^ (c) ^ (d))
#define SHA1_F3(b, c, d) (((b) & (c)) | ((d) & ((b) | (c))))   /* majority */
#define SHA1_W(t)                                                              \
    (w[(t) & 15] = sha1_rotl(w[((t) - 3) & 15] ^ w[((t) - 8) & 15]             \
                             ^ w[((t) - 14) & 15] ^ w[(t) & 15], 1))
#define SHA1_ROUND(a, b, c, d, e, f, k, wt)                                    \
    do {                                                                       \
        (e) += sha1_rotl(a, 5) + f(b, c, d) + (k) + (wt);                      \
        (b) = sha1_rotl(b, 30);                                                \
    } while (0)
/* Five rounds, the working variables renamed instead of moved. */
#define SHA1_FIVE(f, k, t, W)                                                  \
    do {                                                                       \
        SHA1_ROUND(a, b, c, d, e, f, k, W(t));                                 \
        SHA1_ROUND(e, a, b, c, d, f, k, W((t) + 1));                           \
        SHA1_ROUND(d, e, a, b, c, f, k, W((t) + 2));                           \
        SHA1_ROUND(c, d, e, a, b, f, k, W((t) + 3));                           \
        SHA1_ROUND(b, c, d, e, a, f, k, W((t) + 4));                           \
    } while (0)
#define SHA1_W0(t) (w[t] = sha1_load_be32(block + 4 * (t)))

static void sha1_compress(uint32_t h[5], const uint8_t block[64])
{
    uint32_t w[16];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];

    SHA1_FIVE(SHA1_F1, 0x5a827999u, 0, SHA1_W0);
    SHA1_FIVE(SHA1_F1, 0x5a827999u, 5, SHA1_W0);
    SHA1_FIVE(SHA1_F1, 0x5a827999u, 10, SHA1_W0);
    SHA1_ROUND(a, b, c, d, e, SHA1_F1, 0x5a827999u, SHA1_W0(15));
    SHA1_ROUND(e, a, b, c, d, SHA1_F1, 0x5a827999u, SHA1_W(16));
    SHA1_ROUND(d, e, a, b, c, SHA1_F1, 0x5a827999u, SHA1_W(17));
    SHA1_ROUND(c, d, e, a, b, SHA1_F1, 0x5a827999u, SHA1_W(18));
    SHA1_ROUND(b, c, d, e, a, SHA1_F1, 0x5a827999u, SHA1_W(19));
    for (int t = 20; t < 40; t += 5)
        SHA1_FIVE(SHA1_F2, 0x6ed9eba1u, t, SHA1_W);
    for (int t = 40; t < 60; t += 5)
        SHA1_FIVE(SHA1_F3, 0x8f1bbcdcu, t, SHA1_W);
    for (int t = 60; t < 80; t += 5)
        SHA1_FIVE(SHA1_F2, 0xca62c1d6u, t, SHA1_W);

    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

/* The block function in use: the x86 SHA extensions when the CPU has
 * them, else the portable rounds. Chosen on first use by whichever thread
 * comes first (they all choose the same). */
static _Atomic int sha1_choice = -1;   /* -1 not chosen yet, else enum sha1_impl */

static int sha1_best(void)
{
#if SHA1_X86_BUILT
    if (sha1_x86_available())
        return SHA1_IMPL_X86;
#endif
    return SHA1_IMPL_PORTABLE;
}

bool sha1_use(enum sha1_impl impl)
{
    if (impl == SHA1_IMPL_BEST)
        impl = (enum sha1_impl)sha1_best();
    else if (impl == SHA1_IMPL_X86 && sha1_best() != SHA1_IMPL_X86)
        return false;
    atomic_store(&sha1_choice, (int)impl);
    return true;
}

static void sha1_block(uint32_t h[5], const uint8_t block[64])
{
    int impl = atomic_load_explicit(&sha1_choice, memory_order_relaxed);
    if (impl < 0) {
        impl = sha1_best();
        atomic_store(&sha1_choice, impl);
    }
#if SHA1_X86_BUILT
    if (impl == SHA1_IMPL_X86) {
        sha1_x86_compress(h, block);
        return;
    }
#endif
    sha1_compress(h, block);
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
            sha1_block(c->h, c->block);
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
        sha1_block(c->h, c->block);
        c->used = 0;
    }
    memset(c->block + c->used, 0, 56 - c->used);
    sha1_store_be32(c->block + 56, (uint32_t)(bits >> 32));
    sha1_store_be32(c->block + 60, (uint32_t)bits);
    sha1_block(c->h, c->block);
    for (int i = 0; i < 5; i++)
        sha1_store_be32(digest + 4 * i, c->h[i]);
    c->used = 0;
}
