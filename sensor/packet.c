/* packet.c - link, network and transport parsing of one captured packet.
 *
 * The parse runs in three steps, each a small function per protocol:
 *   link layer -> (offset of the network header, its ethertype)
 *   IPv4/IPv6  -> addresses, protocol, and the L4 span (captured, wire)
 *   TCP/UDP    -> ports, flags, and the payload span (captured, wire)
 *
 * Two lengths travel together through the layers: what was captured and what
 * was on the wire (from the IP length fields). A header that claims more
 * than the wire length is malformed (a *_BAD counter); a header that fits on
 * the wire but not in the capture was cut by the snap length (TRUNCATED).
 * Only the payload may be cut: then the parse succeeds with
 * payload_len < payload_wire_len.
 *
 * On success *reason is set to STAT_TCP_PACKETS or STAT_UDP_PACKETS, so a
 * caller can count every packet with one stats_inc(reason). */
#include "packet.h"

#include <string.h>

#define ETHERTYPE_IPV4   0x0800
#define ETHERTYPE_IPV6   0x86dd
#define ETHERTYPE_8021Q  0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ   0x9100 /* pre-standard QinQ outer tag */

/* DLT_RAW as written by some BSDs instead of LINKTYPE_RAW. */
#define LINK_RAW_BSD_12 12
#define LINK_RAW_BSD_14 14

#define ETHERNET_HEADER_LEN 14
#define VLAN_TAG_LEN 4
/* Deeper stacks than this are not seen on real networks; stop walking
 * rather than loop over a frame made of tags. */
#define PACKET_VLAN_MAX_DEPTH 4

#define SLL_HEADER_LEN 16
#define SLL_PROTOCOL_OFFSET 14
#define SLL2_HEADER_LEN 20
#define SLL2_PROTOCOL_OFFSET 0

#define IPV4_MIN_HEADER_LEN 20
#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

#define IPV6_HEADER_LEN 40
/* Extension headers walked before giving up (STAT_IPV6_EXT_LIMIT). */
#define IPV6_MAX_EXT_HEADERS 8
#define IPV6_EXT_HOP_BY_HOP 0
#define IPV6_EXT_ROUTING 43
#define IPV6_EXT_FRAGMENT 44
#define IPV6_EXT_AUTH 51
#define IPV6_EXT_DEST_OPTS 60
#define IPV6_EXT_MOBILITY 135

#define TCP_MIN_HEADER_LEN 20
#define UDP_HEADER_LEN 8

/* Where the network header starts, and what it is. */
struct link_result {
    size_t offset;
    uint16_t ethertype;
};

/* A span of bytes that starts at p: `cap` of them were captured, `wire` of
 * them were on the wire. cap <= wire always holds once built. */
struct span {
    const uint8_t *p;
    size_t cap;
    size_t wire;
};

static uint16_t read_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int packet_fail(enum stat_id *why, enum stat_id id)
{
    *why = id;
    return -1;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

int packet_linktype_supported(int linktype)
{
    switch (linktype) {
    case LINK_NULL:
    case LINK_ETHERNET:
    case LINK_RAW:
    case LINK_RAW_BSD_12:
    case LINK_RAW_BSD_14:
    case LINK_LOOP:
    case LINK_SLL:
    case LINK_SLL2:
    case LINK_IPV4:
    case LINK_IPV6:
        return 1;
    default:
        return 0;
    }
}

/* ---- link layer ---- */

/* Address family numbers of loopback headers. AF_INET6 differs by OS:
 * 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS. 0 means unknown. */
static uint16_t family_to_ethertype(uint32_t family)
{
    switch (family) {
    case 2:
        return ETHERTYPE_IPV4;
    case 10:
    case 24:
    case 28:
    case 30:
        return ETHERTYPE_IPV6;
    default:
        return 0;
    }
}

/* BSD loopback: the family is in the byte order of the machine that
 * captured, which the file does not tell us; all valid values are small, so
 * whichever order yields a known family is the right one. */
static int link_null(const uint8_t *d, size_t cap, struct link_result *r,
                     enum stat_id *why)
{
    if (cap < 4)
        return packet_fail(why, STAT_TRUNCATED);
    uint32_t little = (uint32_t)d[0] | (uint32_t)d[1] << 8 |
                      (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
    r->ethertype = family_to_ethertype(little);
    if (r->ethertype == 0)
        r->ethertype = family_to_ethertype(read_be32(d));
    if (r->ethertype == 0)
        return packet_fail(why, STAT_L3_UNKNOWN);
    r->offset = 4;
    return 0;
}

/* OpenBSD loopback: like NULL but the family is always big-endian. */
static int link_loop(const uint8_t *d, size_t cap, struct link_result *r,
                     enum stat_id *why)
{
    if (cap < 4)
        return packet_fail(why, STAT_TRUNCATED);
    r->ethertype = family_to_ethertype(read_be32(d));
    if (r->ethertype == 0)
        return packet_fail(why, STAT_L3_UNKNOWN);
    r->offset = 4;
    return 0;
}

static int is_vlan_tpid(uint16_t type)
{
    return type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD ||
           type == ETHERTYPE_QINQ;
}

/* Ethernet II, crossing any 802.1Q / 802.1ad / QinQ tags. The outer two
 * VLAN ids are recorded; deeper ones are only counted. */
static int link_ethernet(const uint8_t *d, size_t cap, struct packet_info *out,
                         struct link_result *r, enum stat_id *why)
{
    if (cap < ETHERNET_HEADER_LEN)
        return packet_fail(why, STAT_TRUNCATED);
    size_t type_off = 12; /* offset of the current ethertype field */
    uint16_t type = read_be16(d + type_off);
    while (is_vlan_tpid(type)) {
        if (out->vlan_count >= PACKET_VLAN_MAX_DEPTH)
            return packet_fail(why, STAT_VLAN_TOO_DEEP);
        /* tag: TCI (2 bytes) then the next ethertype (2 bytes) */
        if (cap - type_off < 2 + VLAN_TAG_LEN)
            return packet_fail(why, STAT_TRUNCATED);
        uint16_t vid = read_be16(d + type_off + 2) & 0x0fff;
        if (out->vlan_count < 2)
            out->vlan[out->vlan_count] = vid;
        out->vlan_count++;
        type_off += VLAN_TAG_LEN;
        type = read_be16(d + type_off);
    }
    r->offset = type_off + 2;
    r->ethertype = type;
    return 0;
}

/* Linux cooked capture v1 and v2 differ only in header length and where
 * the protocol (an ethertype) sits. */
static int link_cooked(const uint8_t *d, size_t cap, size_t header_len,
                       size_t protocol_off, struct link_result *r,
                       enum stat_id *why)
{
    if (cap < header_len)
        return packet_fail(why, STAT_TRUNCATED);
    r->ethertype = read_be16(d + protocol_off);
    r->offset = header_len;
    return 0;
}

/* Raw IP: no link header, the IP version nibble says v4 or v6. */
static int link_raw(const uint8_t *d, size_t cap, struct link_result *r,
                    enum stat_id *why)
{
    if (cap < 1)
        return packet_fail(why, STAT_TRUNCATED);
    switch (d[0] >> 4) {
    case 4:
        r->ethertype = ETHERTYPE_IPV4;
        break;
    case 6:
        r->ethertype = ETHERTYPE_IPV6;
        break;
    default:
        return packet_fail(why, STAT_L3_UNKNOWN);
    }
    r->offset = 0;
    return 0;
}

static int link_parse(int linktype, const uint8_t *d, size_t cap,
                      struct packet_info *out, struct link_result *r,
                      enum stat_id *why)
{
    switch (linktype) {
    case LINK_NULL:
        return link_null(d, cap, r, why);
    case LINK_LOOP:
        return link_loop(d, cap, r, why);
    case LINK_ETHERNET:
        return link_ethernet(d, cap, out, r, why);
    case LINK_SLL:
        return link_cooked(d, cap, SLL_HEADER_LEN, SLL_PROTOCOL_OFFSET, r, why);
    case LINK_SLL2:
        return link_cooked(d, cap, SLL2_HEADER_LEN, SLL2_PROTOCOL_OFFSET, r, why);
    case LINK_RAW:
    case LINK_RAW_BSD_12:
    case LINK_RAW_BSD_14:
        return link_raw(d, cap, r, why);
    case LINK_IPV4:
        r->offset = 0;
        r->ethertype = ETHERTYPE_IPV4;
        return 0;
    case LINK_IPV6:
        r->offset = 0;
        r->ethertype = ETHERTYPE_IPV6;
        return 0;
    default:
        return packet_fail(why, STAT_LINK_UNKNOWN);
    }
}

/* ---- network layer ---- */

/* IPv4: the header must fit in the total length, the capture is trimmed to
 * the total length (dropping Ethernet padding), fragments are not
 * reassembled. */
static int ipv4_parse(const uint8_t *p, size_t cap, struct packet_info *out,
                      struct span *l4, enum stat_id *why)
{
    if (cap < IPV4_MIN_HEADER_LEN)
        return packet_fail(why, STAT_TRUNCATED);
    if ((p[0] >> 4) != 4)
        return packet_fail(why, STAT_IPV4_BAD);
    size_t header_len = (size_t)(p[0] & 0x0f) * 4;
    size_t total_len = read_be16(p + 2);
    if (header_len < IPV4_MIN_HEADER_LEN || total_len < header_len)
        return packet_fail(why, STAT_IPV4_BAD);
    if (cap < header_len)
        return packet_fail(why, STAT_TRUNCATED);
    uint16_t frag = read_be16(p + 6);
    if ((frag & IPV4_FLAG_MF) || (frag & IPV4_OFFSET_MASK))
        return packet_fail(why, STAT_IPV4_FRAGMENT);

    out->family = 4;
    out->proto = p[9];
    memcpy(out->src, p + 12, 4);
    memcpy(out->dst, p + 16, 4);
    out->l3 = p;
    out->l3_len = min_size(cap, total_len);
    l4->p = p + header_len;
    l4->cap = out->l3_len - header_len;
    l4->wire = total_len - header_len;
    return 0;
}

static int is_ipv6_skippable_ext(uint8_t next)
{
    return next == IPV6_EXT_HOP_BY_HOP || next == IPV6_EXT_ROUTING ||
           next == IPV6_EXT_AUTH || next == IPV6_EXT_DEST_OPTS ||
           next == IPV6_EXT_MOBILITY;
}

/* Walks the extension header chain from *off, within `wire` bytes on the
 * wire of which `cap` were captured. Leaves *off at the upper-layer header
 * and returns its protocol number, or -1 with *why set. */
static int ipv6_skip_ext(const uint8_t *p, size_t cap, size_t wire,
                         uint8_t next, size_t *off, enum stat_id *why)
{
    for (int count = 0;; count++) {
        if (next == IPV6_EXT_FRAGMENT)
            return packet_fail(why, STAT_IPV6_FRAGMENT);
        if (!is_ipv6_skippable_ext(next))
            return next;
        if (count == IPV6_MAX_EXT_HEADERS)
            return packet_fail(why, STAT_IPV6_EXT_LIMIT);
        if (wire - *off < 2)
            return packet_fail(why, STAT_IPV6_BAD);
        if (cap - *off < 2)
            return packet_fail(why, STAT_TRUNCATED);
        /* AH counts its length in 4-byte units minus 2, the others in
         * 8-byte units not counting the first 8 bytes. */
        size_t len = next == IPV6_EXT_AUTH ? ((size_t)p[*off + 1] + 2) * 4
                                           : ((size_t)p[*off + 1] + 1) * 8;
        if (wire - *off < len)
            return packet_fail(why, STAT_IPV6_BAD);
        if (cap - *off < len)
            return packet_fail(why, STAT_TRUNCATED);
        next = p[*off];
        *off += len;
    }
}

/* IPv6: fixed header, then extension headers up to TCP/UDP. A payload
 * length of 0 means a jumbogram (hop-by-hop option), which we treat as bad:
 * the sensor has no use for them and they are a classic evasion trick. */
static int ipv6_parse(const uint8_t *p, size_t cap, struct packet_info *out,
                      struct span *l4, enum stat_id *why)
{
    if (cap < IPV6_HEADER_LEN)
        return packet_fail(why, STAT_TRUNCATED);
    if ((p[0] >> 4) != 6)
        return packet_fail(why, STAT_IPV6_BAD);
    size_t payload_len = read_be16(p + 4);
    if (payload_len == 0)
        return packet_fail(why, STAT_IPV6_BAD);
    size_t wire = IPV6_HEADER_LEN + payload_len;
    size_t trimmed = min_size(cap, wire);

    size_t off = IPV6_HEADER_LEN;
    int proto = ipv6_skip_ext(p, trimmed, wire, p[6], &off, why);
    if (proto < 0)
        return -1;

    out->family = 6;
    out->proto = (uint8_t)proto;
    memcpy(out->src, p + 8, 16);
    memcpy(out->dst, p + 24, 16);
    out->l3 = p;
    out->l3_len = trimmed;
    l4->p = p + off;
    l4->cap = trimmed - off;
    l4->wire = wire - off;
    return 0;
}

static int network_parse(uint16_t ethertype, const uint8_t *p, size_t cap,
                         struct packet_info *out, struct span *l4,
                         enum stat_id *why)
{
    switch (ethertype) {
    case ETHERTYPE_IPV4:
        return ipv4_parse(p, cap, out, l4, why);
    case ETHERTYPE_IPV6:
        return ipv6_parse(p, cap, out, l4, why);
    default:
        return packet_fail(why, STAT_L3_UNKNOWN);
    }
}

/* ---- transport layer ---- */

static void set_payload(struct packet_info *out, const struct span *l4,
                        size_t header_len, size_t wire_end)
{
    out->payload = l4->p + header_len;
    out->payload_len = min_size(l4->cap, wire_end) - header_len;
    out->payload_wire_len = wire_end - header_len;
}

static int tcp_parse(const struct span *l4, struct packet_info *out,
                     enum stat_id *why)
{
    if (l4->wire < TCP_MIN_HEADER_LEN)
        return packet_fail(why, STAT_TCP_BAD);
    if (l4->cap < TCP_MIN_HEADER_LEN)
        return packet_fail(why, STAT_TRUNCATED);
    const uint8_t *t = l4->p;
    size_t header_len = (size_t)(t[12] >> 4) * 4;
    if (header_len < TCP_MIN_HEADER_LEN || header_len > l4->wire)
        return packet_fail(why, STAT_TCP_BAD);
    if (header_len > l4->cap)
        return packet_fail(why, STAT_TRUNCATED);

    out->sport = read_be16(t);
    out->dport = read_be16(t + 2);
    out->seq = read_be32(t + 4);
    out->ack = read_be32(t + 8);
    out->tcp_flags = t[13];
    set_payload(out, l4, header_len, l4->wire);
    *why = STAT_TCP_PACKETS;
    return 0;
}

/* The UDP length must cover the header and fit in the IP payload; bytes
 * after it (if the IP length says more) are not payload. */
static int udp_parse(const struct span *l4, struct packet_info *out,
                     enum stat_id *why)
{
    if (l4->wire < UDP_HEADER_LEN)
        return packet_fail(why, STAT_UDP_BAD);
    if (l4->cap < UDP_HEADER_LEN)
        return packet_fail(why, STAT_TRUNCATED);
    const uint8_t *u = l4->p;
    size_t udp_len = read_be16(u + 4);
    if (udp_len < UDP_HEADER_LEN || udp_len > l4->wire)
        return packet_fail(why, STAT_UDP_BAD);

    out->sport = read_be16(u);
    out->dport = read_be16(u + 2);
    set_payload(out, l4, UDP_HEADER_LEN, udp_len);
    *why = STAT_UDP_PACKETS;
    return 0;
}

static int transport_parse(const struct span *l4, struct packet_info *out,
                           enum stat_id *why)
{
    switch (out->proto) {
    case IPPROTO_TCP_NUM:
        return tcp_parse(l4, out, why);
    case IPPROTO_UDP_NUM:
        return udp_parse(l4, out, why);
    default:
        return packet_fail(why, STAT_L4_OTHER);
    }
}

int packet_parse(int linktype, const uint8_t *data, size_t caplen,
                 struct packet_info *out, enum stat_id *reason)
{
    static const uint8_t no_bytes[1];
    enum stat_id why = STAT_TRUNCATED;
    struct link_result link = { 0, 0 };
    struct span l4 = { NULL, 0, 0 };
    int rc;

    memset(out, 0, sizeof(*out));
    if (data == NULL) { /* even data + 0 is undefined on a null pointer */
        data = no_bytes;
        caplen = 0;
    }
    rc = link_parse(linktype, data, caplen, out, &link, &why);
    if (rc == 0)
        rc = network_parse(link.ethertype, data + link.offset,
                           caplen - link.offset, out, &l4, &why);
    if (rc == 0)
        rc = transport_parse(&l4, out, &why);
    if (reason != NULL)
        *reason = why;
    return rc;
}
