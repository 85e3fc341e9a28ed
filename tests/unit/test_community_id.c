/* test_community_id.c - SHA-1 (FIPS 180-4 vectors) and Community ID v1
 * (published vectors of the spec). */
#include <stdint.h>
#include <string.h>

#include "../../sensor/community_id.h"
#include "../../sensor/sha1.h"
#include "check.h"

static void hex(const uint8_t *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static void sha1_hex(const void *data, size_t len, char out[41])
{
    struct sha1_ctx c;
    uint8_t digest[20];
    sha1_init(&c);
    sha1_update(&c, data, len);
    sha1_final(&c, digest);
    hex(digest, sizeof(digest), out);
}

/* FIPS 180-4 examples (NIST CSRC "SHA1.pdf" example values). */
static void test_sha1_fips_vectors(void)
{
    char h[41];
    sha1_hex("abc", 3, h);
    CHECK_EQ_STR(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
    sha1_hex("", 0, h);
    CHECK_EQ_STR(h, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *two_block = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha1_hex(two_block, strlen(two_block), h);
    CHECK_EQ_STR(h, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

/* One million 'a' fed in uneven pieces: exercises block carry-over. */
static void test_sha1_million_a_chunked(void)
{
    uint8_t chunk[997];
    memset(chunk, 'a', sizeof(chunk));
    struct sha1_ctx c;
    sha1_init(&c);
    size_t left = 1000000;
    while (left > 0) {
        size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
        sha1_update(&c, chunk, n);
        left -= n;
    }
    uint8_t digest[20];
    char h[41];
    sha1_final(&c, digest);
    hex(digest, sizeof(digest), h);
    CHECK_EQ_STR(h, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

/* Lengths around the 55/56/64-byte padding boundaries must agree whether
 * fed at once or byte by byte. */
static void test_sha1_padding_boundaries(void)
{
    uint8_t buf[130];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    for (size_t len = 50; len <= sizeof(buf); len++) {
        char whole[41], bytewise[41];
        uint8_t digest[20];
        struct sha1_ctx c;
        sha1_hex(buf, len, whole);
        sha1_init(&c);
        for (size_t i = 0; i < len; i++)
            sha1_update(&c, buf + i, 1);
        sha1_final(&c, digest);
        hex(digest, sizeof(digest), bytewise);
        CHECK_EQ_STR(whole, bytewise);
    }
}

static void v4(uint8_t *a, int b0, int b1, int b2, int b3)
{
    a[0] = (uint8_t)b0;
    a[1] = (uint8_t)b1;
    a[2] = (uint8_t)b2;
    a[3] = (uint8_t)b3;
}

/* Both directions of a flow must give the published value. */
static void check_both_ways(uint16_t seed, int family, uint8_t proto,
                            const uint8_t *a, const uint8_t *b, uint16_t pa,
                            uint16_t pb, const char *expected)
{
    char id[COMMUNITY_ID_LEN];
    community_id_v1(seed, family, proto, a, b, pa, pb, id);
    CHECK_EQ_STR(id, expected);
    community_id_v1(seed, family, proto, b, a, pb, pa, id);
    CHECK_EQ_STR(id, expected);
    CHECK_EQ_INT(strlen(id), COMMUNITY_ID_LEN - 1);
}

/* Vectors below are from corelight/community-id-spec,
 * baseline/baseline_deflt.json (seed 0) and baseline/baseline_seed1.json
 * (seed 1). */
static void test_community_id_ipv4_tcp(void)
{
    uint8_t a[4], b[4];
    v4(a, 128, 232, 110, 120);
    v4(b, 66, 35, 250, 204);
    check_both_ways(0, 4, 6, a, b, 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
}

static void test_community_id_ipv4_udp(void)
{
    uint8_t a[4], b[4];
    v4(a, 192, 168, 1, 52);
    v4(b, 8, 8, 8, 8);
    check_both_ways(0, 4, 17, a, b, 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
}

static void test_community_id_ipv6_tcp(void)
{
    /* 2001:470:e5bf:dead:4957:2174:e82c:4887 -> 2607:f8b0:400c:c03::1a */
    const uint8_t a[16] = { 0x20, 0x01, 0x04, 0x70, 0xe5, 0xbf, 0xde, 0xad,
                            0x49, 0x57, 0x21, 0x74, 0xe8, 0x2c, 0x48, 0x87 };
    const uint8_t b[16] = { 0x26, 0x07, 0xf8, 0xb0, 0x40, 0x0c, 0x0c, 0x03,
                            0, 0, 0, 0, 0, 0, 0, 0x1a };
    check_both_ways(0, 6, 6, a, b, 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
    check_both_ways(1, 6, 6, a, b, 63943, 25, "1:eJYTW6AOzFLlSUoESovMjnu7rMw=");
}

static void test_community_id_seed1(void)
{
    uint8_t a[4], b[4];
    v4(a, 128, 232, 110, 120);
    v4(b, 66, 35, 250, 204);
    check_both_ways(1, 4, 6, a, b, 34855, 80, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=");
    v4(a, 192, 168, 1, 52);
    v4(b, 8, 8, 8, 8);
    check_both_ways(1, 4, 17, a, b, 54585, 53, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=");
}

/* SCTP has ports like TCP/UDP; equal addresses' order falls to the ports
 * (here they are equal too). RSVP (46) has no ports at all. */
static void test_community_id_sctp_and_portless(void)
{
    uint8_t a[4], b[4];
    v4(a, 192, 168, 170, 8);
    v4(b, 192, 168, 170, 56);
    check_both_ways(0, 4, 132, a, b, 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=");
    v4(a, 10, 1, 12, 1);
    v4(b, 10, 1, 12, 2);
    check_both_ways(0, 4, 46, a, b, 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=");
    check_both_ways(1, 4, 46, a, b, 0, 0, "1:rYir8gphR31noO9iDRQmF/BteEI=");
}

/* Same address both ends: the smaller port must come first either way. */
static void test_community_id_equal_addresses_ordered_by_port(void)
{
    uint8_t a[4];
    char one[COMMUNITY_ID_LEN], two[COMMUNITY_ID_LEN];
    v4(a, 127, 0, 0, 1);
    community_id_v1(0, 4, 6, a, a, 40000, 6379, one);
    community_id_v1(0, 4, 6, a, a, 6379, 40000, two);
    CHECK_EQ_STR(one, two);
    community_id_v1(0, 4, 6, a, a, 40001, 6379, two);
    CHECK(strcmp(one, two) != 0);
}

/* The same digests from the portable rounds and, where the CPU has them,
 * the x86 SHA extensions, over every length up to 300 bytes. */
static void test_sha1_implementations_agree(void)
{
    uint8_t data[300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131 + 7);
    if (!sha1_use(SHA1_IMPL_X86)) {
        printf("skip community_id/x86 SHA extensions: not on this CPU\n");
        sha1_use(SHA1_IMPL_BEST);
        return;
    }
    for (size_t len = 0; len <= sizeof(data); len++) {
        char portable[41], x86[41];
        sha1_use(SHA1_IMPL_PORTABLE);
        sha1_hex(data, len, portable);
        sha1_use(SHA1_IMPL_X86);
        sha1_hex(data, len, x86);
        CHECK_EQ_STR(x86, portable);
    }
    sha1_use(SHA1_IMPL_BEST);
}

/* The SHA-1 vectors with each block function there is. */
static void run_sha1_tests(const char *impl)
{
    printf("# sha1 with %s\n", impl);
    RUN(test_sha1_fips_vectors);
    RUN(test_sha1_million_a_chunked);
    RUN(test_sha1_padding_boundaries);
}

int main(void)
{
    check_binary = "community_id";
    CHECK(sha1_use(SHA1_IMPL_PORTABLE));
    run_sha1_tests("the portable rounds");
    if (sha1_use(SHA1_IMPL_X86))
        run_sha1_tests("the x86 SHA extensions");
    sha1_use(SHA1_IMPL_BEST);
    RUN(test_sha1_implementations_agree);
    RUN(test_community_id_ipv4_tcp);
    RUN(test_community_id_ipv4_udp);
    RUN(test_community_id_ipv6_tcp);
    RUN(test_community_id_seed1);
    RUN(test_community_id_sctp_and_portless);
    RUN(test_community_id_equal_addresses_ordered_by_port);
    CHECK_EXIT();
}
