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
 * Between the network and the transport step, tunnels are crossed: an IP
 * protocol (4, 41, 47 GRE), a UDP destination port (VXLAN, GENEVE) or an
 * ethertype (MPLS) says another packet follows, and the walk starts over on
 * it (decap_walk). The inner packet's lengths are bounded by the outer
 * span: an inner header that claims more than its carrier is malformed.
 * Each layer crossed is recorded (packet_info.tunnel), and more layers than
 * the configured depth fail with STAT_TUNNEL_TOO_DEEP.
 *
 * On success *reason is set to STAT_TCP_PACKETS or STAT_UDP_PACKETS, so a
 * caller can count every packet with one stats_inc(reason). */
#include "packet.h"

#include <stdint.h>
#include <string.h>

#define ETHERTYPE_IPV4   0x0800
#define ETHERTYPE_IPV6   0x86dd
#define ETHERTYPE_8021Q  0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ   0x9100 /* pre-standard QinQ outer tag */
#define ETHERTYPE_MPLS   0x8847
#define ETHERTYPE_MPLS_MC 0x8848
#define ETHERTYPE_TEB    0x6558 /* transparent Ethernet bridging: a frame */
#define ETHERTYPE_ERSPAN 0x88be /* GRE: ERSPAN type I (no S bit) or II */
#define ETHERTYPE_ERSPAN3 0x22eb

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

#define IPPROTO_IPIP_NUM 4
#define IPPROTO_IPV6_NUM 41
#define IPPROTO_GRE_NUM 47

#define MPLS_ENTRY_LEN 4
#define MPLS_BOTTOM 0x100       /* S bit of a label stack entry */
#define MPLS_MAX_LABELS 8       /* deeper stacks are not walked */
#define MPLS_PW_CW_LEN 4        /* pseudowire control word */

#define VXLAN_HEADER_LEN 8
#define VXLAN_FLAG_VNI 0x08     /* I bit: the VNI is valid */

#define GENEVE_MIN_HEADER_LEN 8

#define GRE_MIN_HEADER_LEN 4
#define GRE_FLAG_CSUM 0x8000
#define GRE_FLAG_ROUTING 0x4000
#define GRE_FLAG_KEY 0x2000
#define GRE_FLAG_SEQ 0x1000
#define GRE_VERSION_MASK 0x0007

#define ERSPAN2_HEADER_LEN 8
#define ERSPAN3_HEADER_LEN 12
#define ERSPAN3_SUBHEADER_LEN 8 /* the platform specific subheader (O bit) */
#define ERSPAN_SESSION_MASK 0x03ff
#define ERSPAN3_FT_ETHERNET 0
#define ERSPAN3_FT_IP 2

/* Steps of the walk before it gives up: each tunnel layer takes at most
 * three (its carrier's IP, its own header, an inner Ethernet frame). */
#define DECAP_MAX_STEPS (3 * PACKET_TUNNEL_MAX + 3)

static struct packet_options packet_opts = { 4789, 6081, 4 };

void packet_set_options(const struct packet_options *o)
{
    packet_opts = *o;
    if (packet_opts.max_depth > PACKET_TUNNEL_MAX)
        packet_opts.max_depth = PACKET_TUNNEL_MAX;
}

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
    unsigned tags = 0; /* in this frame (a tunnel may carry more frames) */
    while (is_vlan_tpid(type)) {
        if (tags++ >= PACKET_VLAN_MAX_DEPTH)
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
static int ipv4_parse(const struct span *in, struct packet_info *out,
                      struct span *l4, enum stat_id *why)
{
    const uint8_t *p = in->p;
    size_t cap = in->cap;
    if (in->wire < IPV4_MIN_HEADER_LEN)
        return packet_fail(why, STAT_IPV4_BAD);
    if (cap < IPV4_MIN_HEADER_LEN)
        return packet_fail(why, STAT_TRUNCATED);
    if ((p[0] >> 4) != 4)
        return packet_fail(why, STAT_IPV4_BAD);
    size_t header_len = (size_t)(p[0] & 0x0f) * 4;
    size_t total_len = read_be16(p + 2);
    if (header_len < IPV4_MIN_HEADER_LEN || total_len < header_len ||
        total_len > in->wire)
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
static int ipv6_parse(const struct span *in, struct packet_info *out,
                      struct span *l4, enum stat_id *why)
{
    const uint8_t *p = in->p;
    size_t cap = in->cap;
    if (in->wire < IPV6_HEADER_LEN)
        return packet_fail(why, STAT_IPV6_BAD);
    if (cap < IPV6_HEADER_LEN)
        return packet_fail(why, STAT_TRUNCATED);
    if ((p[0] >> 4) != 6)
        return packet_fail(why, STAT_IPV6_BAD);
    size_t payload_len = read_be16(p + 4);
    if (payload_len == 0)
        return packet_fail(why, STAT_IPV6_BAD);
    size_t wire = IPV6_HEADER_LEN + payload_len;
    if (wire > in->wire)
        return packet_fail(why, STAT_IPV6_BAD);
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
    out->tcp_window = read_be16(t + 14);
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

/* ---- tunnels ---- */

static const char *const tunnel_names[TUNNEL_TYPE_COUNT] = {
    [TUNNEL_NONE] = "none",       [TUNNEL_MPLS] = "mpls",
    [TUNNEL_VXLAN] = "vxlan",     [TUNNEL_GENEVE] = "geneve",
    [TUNNEL_GRE] = "gre",         [TUNNEL_ERSPAN1] = "erspan1",
    [TUNNEL_ERSPAN2] = "erspan2", [TUNNEL_ERSPAN3] = "erspan3",
    [TUNNEL_IPIP] = "ipip",       [TUNNEL_IP6IP] = "ip6ip",
};

static const enum stat_id tunnel_stats[TUNNEL_TYPE_COUNT] = {
    [TUNNEL_NONE] = STAT_COUNT,              [TUNNEL_MPLS] = STAT_TUNNEL_MPLS,
    [TUNNEL_VXLAN] = STAT_TUNNEL_VXLAN,      [TUNNEL_GENEVE] = STAT_TUNNEL_GENEVE,
    [TUNNEL_GRE] = STAT_TUNNEL_GRE,          [TUNNEL_ERSPAN1] = STAT_TUNNEL_ERSPAN1,
    [TUNNEL_ERSPAN2] = STAT_TUNNEL_ERSPAN2,  [TUNNEL_ERSPAN3] = STAT_TUNNEL_ERSPAN3,
    [TUNNEL_IPIP] = STAT_TUNNEL_IPIP,        [TUNNEL_IP6IP] = STAT_TUNNEL_IP6IP,
};

const char *tunnel_type_name(unsigned type)
{
    return type < TUNNEL_TYPE_COUNT ? tunnel_names[type] : "none";
}

void packet_count_tunnels(const struct packet_info *pi, struct stats *st)
{
    for (unsigned i = 0; i < pi->tunnel_count && i < PACKET_TUNNEL_MAX; i++) {
        unsigned t = pi->tunnel[i].type;
        if (t != TUNNEL_NONE && t < TUNNEL_TYPE_COUNT)
            stats_inc(st, tunnel_stats[t]);
    }
}

/* Records one layer crossed; fails past the configured depth. */
static int tunnel_push(struct packet_info *out, enum tunnel_type type, int has_id,
                       uint32_t id, enum stat_id *why)
{
    if (out->tunnel_count >= packet_opts.max_depth ||
        out->tunnel_count >= PACKET_TUNNEL_MAX)
        return packet_fail(why, STAT_TUNNEL_TOO_DEEP);
    struct packet_tunnel *t = &out->tunnel[out->tunnel_count++];
    t->type = (uint8_t)type;
    t->has_id = (uint8_t)(has_id != 0);
    t->id = id;
    return 0;
}

/* The span holds n bytes on the wire (else the tunnel header is bad) and
 * in the capture (else it was cut). */
static int span_need(const struct span *s, size_t n, enum stat_id *why)
{
    if (s->wire < n)
        return packet_fail(why, STAT_TUNNEL_BAD);
    if (s->cap < n)
        return packet_fail(why, STAT_TRUNCATED);
    return 0;
}

static void span_skip(struct span *s, size_t n)
{
    s->p += n;
    s->cap -= n;
    s->wire -= n;
}

/* The first nibble of what follows says IPv4 or IPv6. */
static int ip_by_version(const struct span *s, uint16_t *type, enum stat_id *why)
{
    if (span_need(s, 1, why) != 0)
        return -1;
    switch (s->p[0] >> 4) {
    case 4:
        *type = ETHERTYPE_IPV4;
        return 0;
    case 6:
        *type = ETHERTYPE_IPV6;
        return 0;
    default:
        return packet_fail(why, STAT_L3_UNKNOWN);
    }
}

/* MPLS: the label stack down to its bottom entry, then IPv4 or IPv6 by
 * the first nibble, or an Ethernet pseudowire when a control word (first
 * nibble 0) follows (RFC 4385). */
static int mpls_step(struct span *s, uint16_t *type, struct packet_info *out,
                     enum stat_id *why)
{
    uint32_t top = 0;
    for (unsigned i = 0;; i++) {
        if (i == MPLS_MAX_LABELS)
            return packet_fail(why, STAT_TUNNEL_TOO_DEEP);
        if (span_need(s, MPLS_ENTRY_LEN, why) != 0)
            return -1;
        uint32_t entry = read_be32(s->p);
        if (i == 0)
            top = entry >> 12;
        span_skip(s, MPLS_ENTRY_LEN);
        if (entry & MPLS_BOTTOM)
            break;
    }
    if (tunnel_push(out, TUNNEL_MPLS, 1, top, why) != 0)
        return -1;
    if (span_need(s, 1, why) != 0)
        return -1;
    if ((s->p[0] >> 4) == 0) {
        if (span_need(s, MPLS_PW_CW_LEN, why) != 0)
            return -1;
        span_skip(s, MPLS_PW_CW_LEN);
        *type = ETHERTYPE_TEB;
        return 0;
    }
    return ip_by_version(s, type, why);
}

/* An Ethernet frame carried by a tunnel, with its own VLAN tags. */
static int ethernet_step(struct span *s, uint16_t *type, struct packet_info *out,
                         enum stat_id *why)
{
    struct link_result r;
    if (span_need(s, ETHERNET_HEADER_LEN, why) != 0)
        return -1;
    if (link_ethernet(s->p, s->cap, out, &r, why) != 0)
        return -1;
    if (r.offset > s->wire)
        return packet_fail(why, STAT_TUNNEL_BAD);
    if (r.ethertype == ETHERTYPE_TEB)  /* a frame in a frame: nothing crossed */
        return packet_fail(why, STAT_L3_UNKNOWN);
    span_skip(s, r.offset);
    *type = r.ethertype;
    return 0;
}

/* VXLAN (RFC 7348): 8 bytes with the I flag and a 24-bit VNI, then a
 * frame. */
static int vxlan_step(struct span *s, uint16_t *type, struct packet_info *out,
                      enum stat_id *why)
{
    if (span_need(s, VXLAN_HEADER_LEN, why) != 0)
        return -1;
    if (!(s->p[0] & VXLAN_FLAG_VNI))
        return packet_fail(why, STAT_TUNNEL_BAD);
    uint32_t vni = read_be32(s->p + 4) >> 8;
    if (tunnel_push(out, TUNNEL_VXLAN, 1, vni, why) != 0)
        return -1;
    span_skip(s, VXLAN_HEADER_LEN);
    *type = ETHERTYPE_TEB;
    return 0;
}

/* GENEVE (RFC 8926): version 0, options skipped by their length (in
 * 4-byte words), the protocol type is an ethertype. */
static int geneve_step(struct span *s, uint16_t *type, struct packet_info *out,
                       enum stat_id *why)
{
    if (span_need(s, GENEVE_MIN_HEADER_LEN, why) != 0)
        return -1;
    if ((s->p[0] >> 6) != 0)
        return packet_fail(why, STAT_TUNNEL_BAD);
    size_t len = GENEVE_MIN_HEADER_LEN + (size_t)(s->p[0] & 0x3f) * 4;
    uint16_t proto = read_be16(s->p + 2);
    uint32_t vni = read_be32(s->p + 4) >> 8;
    if (span_need(s, len, why) != 0)
        return -1;
    if (tunnel_push(out, TUNNEL_GENEVE, 1, vni, why) != 0)
        return -1;
    span_skip(s, len);
    *type = proto;
    return 0;
}

/* ERSPAN type II: version 1, session id in the low 10 bits of the second
 * 16-bit word, then the mirrored frame. */
static int erspan2_step(struct span *s, uint16_t *type, struct packet_info *out,
                        enum stat_id *why)
{
    if (span_need(s, ERSPAN2_HEADER_LEN, why) != 0)
        return -1;
    if ((s->p[0] >> 4) != 1)
        return packet_fail(why, STAT_TUNNEL_BAD);
    uint32_t session = read_be16(s->p + 2) & ERSPAN_SESSION_MASK;
    if (tunnel_push(out, TUNNEL_ERSPAN2, 1, session, why) != 0)
        return -1;
    span_skip(s, ERSPAN2_HEADER_LEN);
    *type = ETHERTYPE_TEB;
    return 0;
}

/* ERSPAN type III: version 2, 12 bytes whose last bit (O) announces an
 * 8-byte platform subheader; the frame type (FT) says Ethernet or IP. */
static int erspan3_step(struct span *s, uint16_t *type, struct packet_info *out,
                        enum stat_id *why)
{
    if (span_need(s, ERSPAN3_HEADER_LEN, why) != 0)
        return -1;
    const uint8_t *h = s->p;
    if ((h[0] >> 4) != 2)
        return packet_fail(why, STAT_TUNNEL_BAD);
    uint32_t session = read_be16(h + 2) & ERSPAN_SESSION_MASK;
    unsigned frame_type = (h[10] >> 2) & 0x1f;
    size_t len = ERSPAN3_HEADER_LEN + ((h[11] & 1) ? ERSPAN3_SUBHEADER_LEN : 0);
    if (span_need(s, len, why) != 0)
        return -1;
    if (tunnel_push(out, TUNNEL_ERSPAN3, 1, session, why) != 0)
        return -1;
    span_skip(s, len);
    if (frame_type == ERSPAN3_FT_ETHERNET) {
        *type = ETHERTYPE_TEB;
        return 0;
    }
    if (frame_type == ERSPAN3_FT_IP)
        return ip_by_version(s, type, why);
    return packet_fail(why, STAT_L3_UNKNOWN);
}

/* GRE (RFC 2784/2890): version 0; checksum, key and sequence number are
 * optional 4-byte fields (the key is the tunnel's id); source routing
 * (RFC 1701) is not read. The protocol is an ethertype, or ERSPAN. */
static int gre_step(struct span *s, uint16_t *type, struct packet_info *out,
                    enum stat_id *why)
{
    if (span_need(s, GRE_MIN_HEADER_LEN, why) != 0)
        return -1;
    uint16_t flags = read_be16(s->p);
    uint16_t proto = read_be16(s->p + 2);
    if (flags & GRE_VERSION_MASK)  /* version 1 is PPTP's PPP carrier */
        return packet_fail(why, STAT_L3_UNKNOWN);
    if (flags & GRE_FLAG_ROUTING)
        return packet_fail(why, STAT_TUNNEL_BAD);
    size_t len = GRE_MIN_HEADER_LEN + ((flags & GRE_FLAG_CSUM) ? 4 : 0);
    size_t key_off = len;
    len += ((flags & GRE_FLAG_KEY) ? 4 : 0) + ((flags & GRE_FLAG_SEQ) ? 4 : 0);
    if (span_need(s, len, why) != 0)
        return -1;
    int has_key = (flags & GRE_FLAG_KEY) != 0;
    uint32_t key = has_key ? read_be32(s->p + key_off) : 0;
    span_skip(s, len);
    if (proto == ETHERTYPE_ERSPAN && (flags & GRE_FLAG_SEQ))
        return erspan2_step(s, type, out, why);
    if (proto == ETHERTYPE_ERSPAN) {  /* type I: no ERSPAN header */
        *type = ETHERTYPE_TEB;
        return tunnel_push(out, TUNNEL_ERSPAN1, 0, 0, why);
    }
    if (proto == ETHERTYPE_ERSPAN3)
        return erspan3_step(s, type, out, why);
    *type = proto;
    return tunnel_push(out, TUNNEL_GRE, has_key, key, why);
}

/* UDP to a tunnel port: its payload is the tunnel's header. Returns 1
 * when the datagram is not a tunnel's. */
static int udp_tunnel_step(const struct packet_info *udp, struct span *s,
                           uint16_t *type, struct packet_info *out, enum stat_id *why)
{
    int vxlan = packet_opts.vxlan_port && udp->dport == packet_opts.vxlan_port;
    int geneve = packet_opts.geneve_port && udp->dport == packet_opts.geneve_port;
    if (!vxlan && !geneve)
        return 1;
    s->p = udp->payload;
    s->cap = udp->payload_len;
    s->wire = udp->payload_wire_len;
    return vxlan ? vxlan_step(s, type, out, why) : geneve_step(s, type, out, why);
}

/* An IP packet: either the end of the walk (TCP, UDP, another protocol),
 * or a tunnel whose inner packet replaces *s. Returns 1 at the end, 0 to
 * go on, -1 on failure. */
static int ip_step(struct span *s, uint16_t *type, struct packet_info *out,
                   enum stat_id *why)
{
    struct span l4 = { NULL, 0, 0 };
    int rc = *type == ETHERTYPE_IPV4 ? ipv4_parse(s, out, &l4, why)
                                     : ipv6_parse(s, out, &l4, why);
    if (rc != 0)
        return -1;
    switch (out->proto) {
    case IPPROTO_IPIP_NUM:
    case IPPROTO_IPV6_NUM:
        *s = l4;
        *type = out->proto == IPPROTO_IPIP_NUM ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
        return tunnel_push(out, out->proto == IPPROTO_IPIP_NUM ? TUNNEL_IPIP
                                                               : TUNNEL_IP6IP, 0, 0, why);
    case IPPROTO_GRE_NUM:
        *s = l4;
        return gre_step(s, type, out, why);
    case IPPROTO_UDP_NUM:
        if (udp_parse(&l4, out, why) != 0)
            return -1;
        return udp_tunnel_step(out, s, type, out, why);
    default:
        return transport_parse(&l4, out, why) == 0 ? 1 : -1;
    }
}

/* Walks headers from the network layer in: IP (ending the walk or
 * entering a tunnel), MPLS, or a tunnelled Ethernet frame. */
static int decap_walk(uint16_t type, struct span *s, struct packet_info *out,
                      enum stat_id *why)
{
    for (unsigned step = 0; step < DECAP_MAX_STEPS; step++) {
        int rc;
        switch (type) {
        case ETHERTYPE_IPV4:
        case ETHERTYPE_IPV6:
            rc = ip_step(s, &type, out, why);
            if (rc != 0)
                return rc > 0 ? 0 : -1;
            break;
        case ETHERTYPE_MPLS:
        case ETHERTYPE_MPLS_MC:
            if (mpls_step(s, &type, out, why) != 0)
                return -1;
            break;
        case ETHERTYPE_TEB:
            if (out->tunnel_count == 0)  /* only a tunnel carries a frame */
                return packet_fail(why, STAT_L3_UNKNOWN);
            if (ethernet_step(s, &type, out, why) != 0)
                return -1;
            break;
        default:
            return packet_fail(why, STAT_L3_UNKNOWN);
        }
    }
    return packet_fail(why, STAT_TUNNEL_TOO_DEEP);
}

int packet_parse(int linktype, const uint8_t *data, size_t caplen,
                 struct packet_info *out, enum stat_id *reason)
{
    static const uint8_t no_bytes[1];
    enum stat_id why = STAT_TRUNCATED;
    struct link_result link = { 0, 0 };
    int rc;

    memset(out, 0, sizeof(*out));
    if (data == NULL) { /* even data + 0 is undefined on a null pointer */
        data = no_bytes;
        caplen = 0;
    }
    rc = link_parse(linktype, data, caplen, out, &link, &why);
    if (rc == 0) {
        /* The link layer does not know the wire length: unbounded. */
        struct span s = { data + link.offset, caplen - link.offset, SIZE_MAX };
        rc = decap_walk(link.ethertype, &s, out, &why);
    }
    if (reason != NULL)
        *reason = why;
    return rc;
}
