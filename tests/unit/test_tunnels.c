/* test_tunnels.c - packet_parse across tunnels: each encapsulation on a
 * hand-built frame, the ids it yields, and every way a tunnel header can be
 * malformed, cut or too deep. */
#include <stdint.h>
#include <string.h>

#include "../../sensor/packet.h"
#include "check.h"

static const uint8_t payload[] = "GET / HTTP/1.1\r\n\r\n";
#define PAYLOAD_LEN (sizeof(payload) - 1)
#define TCP_LEN (20 + PAYLOAD_LEN)
#define INNER_LEN (20 + TCP_LEN)   /* inner IPv4 packet */

static const struct packet_options defaults = { 4789, 6081, 4 };

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

static size_t put_eth(uint8_t *b, unsigned ethertype)
{
    memset(b, 0, 12);
    b[0] = 0x02;
    b[6] = 0x04;
    put16(b + 12, ethertype);
    return 14;
}

/* IPv4 a.0.0.1 -> a.0.0.2 with l4_len bytes after it. */
static size_t put_ipv4(uint8_t *b, uint8_t a, uint8_t proto, size_t l4_len)
{
    memset(b, 0, 20);
    b[0] = 0x45;
    put16(b + 2, (unsigned)(20 + l4_len));
    b[8] = 64;
    b[9] = proto;
    b[12] = a, b[15] = 1;
    b[16] = a, b[19] = 2;
    return 20;
}

static size_t put_ipv6(uint8_t *b, uint8_t next, size_t payload_len)
{
    memset(b, 0, 40);
    b[0] = 0x60;
    put16(b + 4, (unsigned)payload_len);
    b[6] = next;
    b[7] = 64;
    b[8] = 0x20, b[9] = 0x01, b[23] = 1;
    b[24] = 0x20, b[25] = 0x01, b[39] = 2;
    return 40;
}

/* The innermost packet of every test: IPv4 10.0.0.1:40000 -> 10.0.0.2:80. */
static size_t put_inner(uint8_t *b)
{
    size_t n = put_ipv4(b, 10, 6, TCP_LEN);
    memset(b + n, 0, 20);
    put16(b + n, 40000);
    put16(b + n + 2, 80);
    b[n + 12] = 5 << 4;
    b[n + 13] = TCP_PSH | TCP_ACK;
    memcpy(b + n + 20, payload, PAYLOAD_LEN);
    return n + TCP_LEN;
}

static size_t put_inner_frame(uint8_t *b)
{
    size_t n = put_eth(b, 0x0800);
    return n + put_inner(b + n);
}

static size_t put_udp(uint8_t *b, unsigned dport, size_t n)
{
    put16(b, 50000);
    put16(b + 2, dport);
    put16(b + 4, (unsigned)(8 + n));
    put16(b + 6, 0);
    return 8;
}

/* Ethernet / IPv4 198.0.0.x / proto, around `inner` bytes already at
 * b + 34 + extra, where `extra` is what the caller put after the IP header. */
static size_t wrap_ipv4(uint8_t *b, uint8_t proto, size_t after_ip)
{
    size_t n = put_eth(b, 0x0800);
    put_ipv4(b + n, 198, proto, after_ip);
    return n + 20 + after_ip;
}

static void check_inner(const struct packet_info *pi)
{
    const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };
    CHECK_EQ_INT(pi->family, 4);
    CHECK_EQ_INT(pi->proto, 6);
    CHECK(memcmp(pi->src, src, 4) == 0);
    CHECK(memcmp(pi->dst, dst, 4) == 0);
    CHECK_EQ_INT(pi->sport, 40000);
    CHECK_EQ_INT(pi->dport, 80);
    CHECK_EQ_INT(pi->payload_len, PAYLOAD_LEN);
    CHECK_EQ_INT(pi->payload_wire_len, PAYLOAD_LEN);
    CHECK(memcmp(pi->payload, payload, PAYLOAD_LEN) == 0);
}

static void check_one_tunnel(const struct packet_info *pi, unsigned type, int has_id,
                             uint32_t id)
{
    CHECK_EQ_INT(pi->tunnel_count, 1);
    CHECK_EQ_INT(pi->tunnel[0].type, type);
    CHECK_EQ_INT(pi->tunnel[0].has_id, has_id);
    CHECK_EQ_INT(pi->tunnel[0].id, id);
}

/* Every cut of a valid tunnelled frame before the payload fails as
 * truncated; cuts inside the payload parse with a short payload. */
static void check_every_cut(const uint8_t *b, size_t n)
{
    size_t headers = n - PAYLOAD_LEN;
    for (size_t cut = 0; cut < n; cut++) {
        struct packet_info pi;
        enum stat_id why;
        int rc = packet_parse(LINK_ETHERNET, b, cut, &pi, &why);
        if (cut < headers) {
            CHECK_EQ_INT(rc, -1);
            CHECK_EQ_INT(why, STAT_TRUNCATED);
        } else {
            CHECK_EQ_INT(rc, 0);
            CHECK_EQ_INT(pi.payload_len, cut - headers);
        }
    }
}

/* Ethernet / IPv4 / UDP dport / VXLAN vni / frame. */
static size_t build_vxlan(uint8_t *b, unsigned dport, uint8_t flags, uint32_t vni)
{
    uint8_t *u = b + 34;
    uint8_t *v = u + 8;
    memset(v, 0, 8);
    v[0] = flags;
    put32(v + 4, vni << 8);
    size_t inner = put_inner_frame(v + 8);
    put_udp(u, dport, 8 + inner);
    return wrap_ipv4(b, 17, 8 + 8 + inner);
}

static void test_vxlan(void)
{
    uint8_t b[256];
    struct packet_info pi;
    enum stat_id why;
    size_t n = build_vxlan(b, 4789, 0x08, 0xabcdef);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    CHECK_EQ_INT(why, STAT_TCP_PACKETS);
    check_inner(&pi);
    check_one_tunnel(&pi, TUNNEL_VXLAN, 1, 0xabcdef);
    CHECK(pi.l3 == b + 34 + 16 + 14);
    check_every_cut(b, n);

    n = build_vxlan(b, 4789, 0x00, 5); /* no I flag */
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TUNNEL_BAD);
    CHECK_EQ_INT(pi.tunnel_count, 0);
}

static void test_udp_ports_configured(void)
{
    uint8_t b[256];
    struct packet_info pi;
    enum stat_id why;
    struct packet_options o = { 0, 6081, 4 };
    size_t n = build_vxlan(b, 4789, 0x08, 7);
    packet_set_options(&o);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    CHECK_EQ_INT(why, STAT_UDP_PACKETS); /* plain UDP to 4789 now */
    CHECK_EQ_INT(pi.dport, 4789);
    CHECK_EQ_INT(pi.tunnel_count, 0);

    o.vxlan_port = 8472;
    packet_set_options(&o);
    n = build_vxlan(b, 8472, 0x08, 7);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_one_tunnel(&pi, TUNNEL_VXLAN, 1, 7);

    o.geneve_port = 8472; /* GENEVE on VXLAN's port: VXLAN wins */
    packet_set_options(&o);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_one_tunnel(&pi, TUNNEL_VXLAN, 1, 7);
    packet_set_options(&defaults);
}

/* Ethernet / IPv4 / UDP 6081 / GENEVE version, option words, proto / x. */
static size_t build_geneve(uint8_t *b, unsigned version, unsigned opt_words,
                           unsigned proto, int frame)
{
    uint8_t *g = b + 34 + 8;
    size_t hlen = 8 + opt_words * 4;
    memset(g, 0xee, hlen);
    g[0] = (uint8_t)(version << 6 | opt_words);
    g[1] = 0;
    put16(g + 2, proto);
    put32(g + 4, 4567u << 8);
    size_t inner = frame ? put_inner_frame(g + hlen) : put_inner(g + hlen);
    put_udp(b + 34, 6081, hlen + inner);
    return wrap_ipv4(b, 17, 8 + hlen + inner);
}

static void test_geneve(void)
{
    uint8_t b[512];
    struct packet_info pi;
    enum stat_id why;
    size_t n = build_geneve(b, 0, 3, 0x6558, 1);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);
    check_one_tunnel(&pi, TUNNEL_GENEVE, 1, 4567);
    check_every_cut(b, n);

    n = build_geneve(b, 0, 0, 0x0800, 0); /* IPv4 straight after it */
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);

    n = build_geneve(b, 1, 0, 0x6558, 1);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TUNNEL_BAD);

    /* options longer than the datagram */
    n = build_geneve(b, 0, 0, 0x6558, 1);
    b[34 + 8] = 63;
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TUNNEL_BAD);

    n = build_geneve(b, 0, 0, 0x0806, 1); /* ARP */
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);
}

/* Ethernet / IPv4 / GRE flags proto [csum][key][seq] / body. Returns the
 * offset of the body in *body. */
static size_t build_gre(uint8_t *b, unsigned flags, unsigned proto, size_t *body)
{
    uint8_t *g = b + 34;
    put16(g, flags);
    put16(g + 2, proto);
    size_t len = 4;
    if (flags & 0x8000) {
        put32(g + len, 0);
        len += 4;
    }
    if (flags & 0x2000) {
        put32(g + len, 0xdeadbeef);
        len += 4;
    }
    if (flags & 0x1000) {
        put32(g + len, 99);
        len += 4;
    }
    *body = 34 + len;
    return len;
}

static size_t finish_gre(uint8_t *b, size_t gre_len, size_t body_len)
{
    return wrap_ipv4(b, 47, gre_len + body_len);
}

static void test_gre(void)
{
    uint8_t b[256];
    struct packet_info pi;
    enum stat_id why;
    size_t body;
    size_t g = build_gre(b, 0, 0x0800, &body);
    size_t n = finish_gre(b, g, put_inner(b + body));
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);
    check_one_tunnel(&pi, TUNNEL_GRE, 0, 0);

    g = build_gre(b, 0xb000, 0x6558, &body); /* checksum, key, sequence; TEB */
    n = finish_gre(b, g, put_inner_frame(b + body));
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);
    check_one_tunnel(&pi, TUNNEL_GRE, 1, 0xdeadbeef);
    check_every_cut(b, n);

    g = build_gre(b, 0x4000, 0x0800, &body); /* source routing */
    n = finish_gre(b, g, put_inner(b + body));
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TUNNEL_BAD);

    g = build_gre(b, 0x3001, 0x880b, &body); /* version 1: PPTP */
    n = finish_gre(b, g, put_inner(b + body));
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);

    /* the inner IPv4 claims more bytes than GRE carries */
    g = build_gre(b, 0, 0x0800, &body);
    n = finish_gre(b, g, put_inner(b + body));
    put16(b + body + 2, INNER_LEN + 1);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n + 1, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV4_BAD);
}

static void test_erspan_1_and_2(void)
{
    uint8_t b[256];
    struct packet_info pi;
    enum stat_id why;
    size_t body;
    size_t g = build_gre(b, 0, 0x88be, &body); /* type I: no header */
    size_t n = finish_gre(b, g, put_inner_frame(b + body));
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);
    check_one_tunnel(&pi, TUNNEL_ERSPAN1, 0, 0);

    g = build_gre(b, 0x1000, 0x88be, &body); /* type II */
    memset(b + body, 0, 8);
    put16(b + body, 0x1000 | 33);            /* version 1, VLAN 33 */
    put16(b + body + 2, 0x1c00 | 0x3ff);      /* COS 7, session 1023 */
    n = finish_gre(b, g, 8 + put_inner_frame(b + body + 8));
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);
    check_one_tunnel(&pi, TUNNEL_ERSPAN2, 1, 1023);
    check_every_cut(b, n);

    b[body] = 0x20; /* version 2 in a type II header */
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TUNNEL_BAD);
}

/* ERSPAN III with frame type ft, the O bit, session 300. */
static size_t build_erspan3(uint8_t *b, unsigned ft, int sub)
{
    size_t body;
    size_t g = build_gre(b, 0x1000, 0x22eb, &body);
    uint8_t *h = b + body;
    memset(h, 0, 20);
    put16(h, 0x2000);
    put16(h + 2, 300);
    put32(h + 4, 123456);
    h[10] = (uint8_t)(ft << 2);
    h[11] = (uint8_t)(1 << 4 | 3 << 1 | (sub ? 1 : 0));
    size_t hlen = sub ? 20 : 12;
    size_t inner = ft == 0 ? put_inner_frame(h + hlen) : put_inner(h + hlen);
    return finish_gre(b, g, hlen + inner);
}

static void test_erspan_3(void)
{
    uint8_t b[256];
    struct packet_info pi;
    enum stat_id why;
    for (int sub = 0; sub < 2; sub++) {
        size_t n = build_erspan3(b, 0, sub);
        CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
        check_inner(&pi);
        check_one_tunnel(&pi, TUNNEL_ERSPAN3, 1, 300);
        check_every_cut(b, n);
    }
    size_t n = build_erspan3(b, 2, 1); /* frame type IP */
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);
    n = build_erspan3(b, 5, 0);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);
}

static size_t put_labels(uint8_t *b, const uint32_t *labels, size_t count, int bottom)
{
    for (size_t i = 0; i < count; i++)
        put32(b + 4 * i, labels[i] << 12 | ((bottom && i == count - 1) ? 0x100u : 0) | 64);
    return 4 * count;
}

static void test_mpls(void)
{
    uint8_t b[256];
    struct packet_info pi;
    enum stat_id why;
    const uint32_t labels[] = { 1000, 2000 };
    size_t n = put_eth(b, 0x8847);
    n += put_labels(b + n, labels, 2, 1);
    n += put_inner(b + n);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);
    check_one_tunnel(&pi, TUNNEL_MPLS, 1, 1000);
    check_every_cut(b, n);

    /* Ethernet pseudowire with its control word */
    n = put_eth(b, 0x8847);
    n += put_labels(b + n, labels, 1, 1);
    memset(b + n, 0, 4);
    n += 4;
    n += put_inner_frame(b + n);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);
    check_one_tunnel(&pi, TUNNEL_MPLS, 1, 1000);

    /* no bottom of stack within 8 labels */
    const uint32_t many[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    n = put_eth(b, 0x8847);
    n += put_labels(b + n, many, 9, 1);
    n += put_inner(b + n);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TUNNEL_TOO_DEEP);

    /* first nibble neither 0, 4 nor 6 */
    n = put_eth(b, 0x8847);
    n += put_labels(b + n, labels, 1, 1);
    n += put_inner(b + n);
    b[18] = 0x55;
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);
}

static void test_ip_in_ip(void)
{
    uint8_t b[256];
    struct packet_info pi;
    enum stat_id why;
    size_t n = wrap_ipv4(b, 4, put_inner(b + 34));
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);
    check_one_tunnel(&pi, TUNNEL_IPIP, 0, 0);

    /* IPv6 carrying IPv4 (protocol 4), and IPv4 carrying IPv6 (41) */
    n = put_ipv6(b, 4, INNER_LEN);
    n += put_inner(b + n);
    CHECK_EQ_INT(packet_parse(LINK_IPV6, b, n, &pi, &why), 0);
    check_inner(&pi);
    check_one_tunnel(&pi, TUNNEL_IPIP, 0, 0);

    size_t inner6 = put_ipv6(b + 20, 6, TCP_LEN);
    memcpy(b + 20 + inner6, b + 40 + 20, TCP_LEN); /* the TCP segment above */
    put_ipv4(b, 192, 41, inner6 + TCP_LEN);
    CHECK_EQ_INT(packet_parse(LINK_IPV4, b, 20 + inner6 + TCP_LEN, &pi, &why), 0);
    CHECK_EQ_INT(pi.family, 6);
    CHECK_EQ_INT(pi.dport, 80);
    check_one_tunnel(&pi, TUNNEL_IP6IP, 0, 0);
}

/* `levels` IPv4 headers with protocol 4, then the inner packet. */
static size_t build_ipip_levels(uint8_t *b, unsigned levels)
{
    size_t inner = put_inner(b + 20 * levels);
    for (unsigned i = levels; i-- > 0;)
        put_ipv4(b + 20 * i, (uint8_t)(100 + i), 4, 20 * (levels - 1 - i) + inner);
    return 20 * levels + inner;
}

static void test_depth(void)
{
    uint8_t b[512];
    struct packet_info pi;
    enum stat_id why;
    size_t n = build_ipip_levels(b, 4);
    CHECK_EQ_INT(packet_parse(LINK_IPV4, b, n, &pi, &why), 0);
    check_inner(&pi);
    CHECK_EQ_INT(pi.tunnel_count, 4);

    n = build_ipip_levels(b, 5);
    CHECK_EQ_INT(packet_parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TUNNEL_TOO_DEEP);
    CHECK_EQ_INT(pi.tunnel_count, 4);

    struct packet_options o = defaults;
    o.max_depth = 8;
    packet_set_options(&o);
    n = build_ipip_levels(b, 8);
    CHECK_EQ_INT(packet_parse(LINK_IPV4, b, n, &pi, &why), 0);
    CHECK_EQ_INT(pi.tunnel_count, 8);
    n = build_ipip_levels(b, 9);
    CHECK_EQ_INT(packet_parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TUNNEL_TOO_DEEP);

    o.max_depth = 1;
    packet_set_options(&o);
    n = build_ipip_levels(b, 2);
    CHECK_EQ_INT(packet_parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TUNNEL_TOO_DEEP);
    packet_set_options(&defaults);
}

/* VXLAN in GRE: both recorded, outermost first; counted once each. */
static void test_nested_and_counted(void)
{
    uint8_t b[512];
    struct packet_info pi;
    enum stat_id why;
    size_t body;
    size_t g = build_gre(b, 0x2000, 0x6558, &body);
    size_t vx = build_vxlan(b + body, 4789, 0x08, 9);
    size_t n = finish_gre(b, g, vx);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_inner(&pi);
    CHECK_EQ_INT(pi.tunnel_count, 2);
    CHECK_EQ_INT(pi.tunnel[0].type, TUNNEL_GRE);
    CHECK_EQ_INT(pi.tunnel[0].id, 0xdeadbeef);
    CHECK_EQ_INT(pi.tunnel[1].type, TUNNEL_VXLAN);
    CHECK_EQ_INT(pi.tunnel[1].id, 9);

    static struct stats st;
    stats_clear(&st);
    packet_count_tunnels(&pi, &st);
    CHECK_EQ_INT(stats_get(&st, STAT_TUNNEL_GRE), 1);
    CHECK_EQ_INT(stats_get(&st, STAT_TUNNEL_VXLAN), 1);
    CHECK_EQ_INT(stats_get(&st, STAT_TUNNEL_MPLS), 0);
    CHECK_EQ_STR(tunnel_type_name(TUNNEL_ERSPAN3), "erspan3");
    CHECK_EQ_STR(tunnel_type_name(200), "none");
}

/* A bridged frame only comes out of a tunnel. */
static void test_teb_outside_tunnel(void)
{
    uint8_t b[256];
    struct packet_info pi;
    enum stat_id why;
    size_t n = put_eth(b, 0x6558);
    n += put_inner_frame(b + n);
    CHECK_EQ_INT(packet_parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);
}

int main(void)
{
    check_binary = "tunnels";
    RUN(test_vxlan);
    RUN(test_udp_ports_configured);
    RUN(test_geneve);
    RUN(test_gre);
    RUN(test_erspan_1_and_2);
    RUN(test_erspan_3);
    RUN(test_mpls);
    RUN(test_ip_in_ip);
    RUN(test_depth);
    RUN(test_nested_and_counted);
    RUN(test_teb_outside_tunnel);
    CHECK_EXIT();
}
