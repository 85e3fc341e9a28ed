/* sha1_x86.h - SHA-1's block function on the x86 SHA extensions (see
 * sha1_x86.c); sha1.c chooses it when the CPU has them. */
#ifndef SW_SHA1_X86_H
#define SW_SHA1_X86_H

#include <stdbool.h>
#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA1_X86_BUILT 1
/* Whether this CPU has SHA, SSSE3 and SSE4.1 (cpuid: ask once). */
bool sha1_x86_available(void);
void sha1_x86_compress(uint32_t h[5], const uint8_t block[64]);
#else
#define SHA1_X86_BUILT 0
#endif

#endif
