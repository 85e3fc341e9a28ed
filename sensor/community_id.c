/* community_id.c - Community ID v1 (corelight community-id-spec).
 *
 * The hash input is: seed (2 bytes, big-endian), the two addresses, the IP
 * protocol, one zero byte, then the two ports (big-endian) for protocols that
 * have them. The endpoints are ordered so the smaller (address, port) comes
 * first, which makes both directions of a flow hash the same. The SHA-1
 * digest is base64 encoded and prefixed with the version "1:". */
#include "community_id.h"

#include <string.h>

#include "sha1.h"

/* The spec feeds ports for TCP, UDP and SCTP. ICMP types/codes would need
 * the spec's type-to-port mapping, which callers do not use (the sensor only
 * tracks TCP and UDP), so every other protocol hashes without ports. */
static int community_id_has_ports(uint8_t proto)
{
    return proto == 6 || proto == 17 || proto == 132;
}

/* Standard base64 with '=' padding; writes 4*ceil(len/3) chars plus NUL. */
static void community_id_base64(const uint8_t *in, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
}

void community_id_v1(uint16_t seed, int family, uint8_t proto,
                     const uint8_t *src, const uint8_t *dst,
                     uint16_t sport, uint16_t dport, char *out)
{
    size_t addr_len = family == 6 ? 16 : 4;

    /* Order endpoints: address bytes first, then the port when the
     * addresses are equal. */
    int cmp = memcmp(src, dst, addr_len);
    if (cmp > 0 || (cmp == 0 && sport > dport)) {
        const uint8_t *tmp_addr = src;
        src = dst;
        dst = tmp_addr;
        uint16_t tmp_port = sport;
        sport = dport;
        dport = tmp_port;
    }

    uint8_t head[2] = { (uint8_t)(seed >> 8), (uint8_t)seed };
    uint8_t mid[2] = { proto, 0 };
    uint8_t ports[4] = { (uint8_t)(sport >> 8), (uint8_t)sport,
                         (uint8_t)(dport >> 8), (uint8_t)dport };

    struct sha1_ctx ctx;
    sha1_init(&ctx);
    sha1_update(&ctx, head, sizeof(head));
    sha1_update(&ctx, src, addr_len);
    sha1_update(&ctx, dst, addr_len);
    sha1_update(&ctx, mid, sizeof(mid));
    if (community_id_has_ports(proto))
        sha1_update(&ctx, ports, sizeof(ports));

    uint8_t digest[20];
    sha1_final(&ctx, digest);
    out[0] = '1';
    out[1] = ':';
    community_id_base64(digest, sizeof(digest), out + 2);
}
