/* hash.h - the sensor's non-cryptographic hashes, written once.
 *
 * FNV-1a 64 (Fowler, Noll, Vo) for byte strings, and the splitmix64
 * finaliser (Steele, Lea, Flood 2014) that spreads every input bit over
 * every output bit. Fixed constants, a byte at a time: the same value on
 * every machine and every run. Values reach output (flow ids, continuation
 * hashes, window sketches), so the constants here must never change.
 *
 * Part of the floor (sensor/base/): includes libc headers only. */
#ifndef SW_BASE_HASH_H
#define SW_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A64_OFFSET UINT64_C(0xcbf29ce484222325)   /* 14695981039346656037 */
#define HASH_FNV1A64_PRIME UINT64_C(0x100000001b3)         /* 1099511628211 */
/* 2^64 / golden ratio: the splitmix64 increment, a good odd multiplier. */
#define HASH_GOLDEN64 UINT64_C(0x9e3779b97f4a7c15)

/* FNV-1a over len bytes, continuing from state h (HASH_FNV1A64_OFFSET to
 * start): hashing a string in pieces gives the same value as in one go. */
static inline uint64_t hash_fnv1a64_update(uint64_t h, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= HASH_FNV1A64_PRIME;
    }
    return h;
}

/* FNV-1a 64 of len bytes ("" gives HASH_FNV1A64_OFFSET). */
static inline uint64_t hash_fnv1a64(const void *buf, size_t len)
{
    return hash_fnv1a64_update(HASH_FNV1A64_OFFSET, buf, len);
}

/* FNV-1a 64 of a NUL-terminated string, without its terminator. */
static inline uint64_t hash_fnv1a64_str(const char *s)
{
    uint64_t h = HASH_FNV1A64_OFFSET;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= HASH_FNV1A64_PRIME;
    }
    return h;
}

/* The splitmix64 finaliser: a bijection on 64-bit values, cheap and well
 * mixed (FNV alone mixes the high bits poorly). */
static inline uint64_t hash_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

#endif
