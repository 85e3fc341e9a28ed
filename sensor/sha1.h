/* sha1.h - SHA-1 (FIPS 180-4), for Community ID only; not for security. */
#ifndef SW_SHA1_H
#define SW_SHA1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sha1_ctx {
    uint32_t h[5];
    uint64_t length;
    uint8_t block[64];
    size_t used;
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);
void sha1_final(struct sha1_ctx *c, uint8_t digest[20]);

/* Which block function to use: by default (and with SHA1_IMPL_BEST) the
 * x86 SHA extensions when the CPU has them, else the portable rounds.
 * Tests choose each in turn; false when the one asked for is missing. */
enum sha1_impl { SHA1_IMPL_PORTABLE, SHA1_IMPL_X86, SHA1_IMPL_BEST };
bool sha1_use(enum sha1_impl impl);

#endif
