/* sha1_x86.c - the SHA-1 block function on the x86 SHA extensions
 * (SHA-NI: sha1rnds4, sha1nexte, sha1msg1, sha1msg2), about four times
 * faster than the portable rounds in sha1.c; each flow event hashes one
 * block for its Community ID. Used only when the CPU has them (sha1.c asks
 * sha1_x86_available once). The rounds follow Intel's description of the
 * extensions: four rounds per sha1rnds4, the message schedule computed
 * three groups ahead. */
#include "sha1_x86.h"

#if SHA1_X86_BUILT
#include <cpuid.h>
#include <immintrin.h>

bool sha1_x86_available(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return false;
    bool ssse3 = c & bit_SSSE3, sse41 = c & bit_SSE4_1;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return false;
    return ssse3 && sse41 && (b & bit_SHA);
}

/* Four rounds with the function and constant of group f (0..3); the
 * instruction wants f as an immediate. */
__attribute__((target("sha,sse4.1")))
static __m128i sha1_rounds4(__m128i abcd, __m128i e, unsigned f)
{
    switch (f) {
    case 0: return _mm_sha1rnds4_epu32(abcd, e, 0);
    case 1: return _mm_sha1rnds4_epu32(abcd, e, 1);
    case 2: return _mm_sha1rnds4_epu32(abcd, e, 2);
    default: return _mm_sha1rnds4_epu32(abcd, e, 3);
    }
}

__attribute__((target("sha,sse4.1")))
void sha1_x86_compress(uint32_t h[5], const uint8_t block[64])
{
    /* Words are big-endian and the instructions keep A in the top lane:
     * reverse all 16 bytes of each load and the order of the state words. */
    const __m128i reverse = _mm_set_epi64x(0x0001020304050607ll, 0x08090a0b0c0d0e0fll);
    __m128i abcd = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0x1b);
    __m128i e0 = _mm_set_epi32((int)h[4], 0, 0, 0);
    const __m128i abcd_in = abcd, e_in = e0;
    __m128i msg[4], e[2];

    for (int i = 0; i < 4; i++)
        msg[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(block + 16 * i)),
                                  reverse);
    /* Group g is rounds 4g..4g+3. The E of a group is the A of four rounds
     * before (sha1nexte rotates it and adds the group's words); e[] holds
     * it for alternate groups. msg[g % 4] holds the group's words; the
     * words of group g + 1 are finished with sha1msg2 here, those of g + 2
     * get their xor and those of g + 3 their sha1msg1. */
    e[1] = abcd;
    abcd = sha1_rounds4(abcd, _mm_add_epi32(e0, msg[0]), 0);
    for (unsigned g = 1; g < 20; g++) {
        __m128i w = msg[g % 4];
        e[g % 2] = _mm_sha1nexte_epu32(e[g % 2], w);
        e[(g + 1) % 2] = abcd;
        if (g >= 3 && g <= 18)
            msg[(g + 1) % 4] = _mm_sha1msg2_epu32(msg[(g + 1) % 4], w);
        abcd = sha1_rounds4(abcd, e[g % 2], g / 5);
        if (g >= 2 && g <= 17)
            msg[(g + 2) % 4] = _mm_xor_si128(msg[(g + 2) % 4], w);
        if (g <= 16)
            msg[(g + 3) % 4] = _mm_sha1msg1_epu32(msg[(g + 3) % 4], w);
    }
    e0 = _mm_sha1nexte_epu32(e[0], e_in);
    abcd = _mm_add_epi32(abcd, abcd_in);
    _mm_storeu_si128((__m128i *)h, _mm_shuffle_epi32(abcd, 0x1b));
    h[4] = (uint32_t)_mm_extract_epi32(e0, 3);
}
#endif
