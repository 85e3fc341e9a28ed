/* test_packet.c - packet_parse over hand-built frames of every link type,
 * and every way a packet can be refused. */
#include <stdint.h>
#include <string.h>

#include "../../sensor/packet.h"
#include "check.h"

static const uint8_t http_payload[] = "GET / HTTP/1.1\r\n\r\n"; /* 18 + NUL */
#define HTTP_LEN (sizeof(http_payload) - 1)

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

/* Ethernet header with the given ethertype; returns its length. */
static size_t put_eth(uint8_t *b, unsigned ethertype)
{
    memset(b, 0, 12);
    b[0] = 0x02;
    b[6] = 0x04;
    put16(b + 12, ethertype);
    return 14;
}

/* 20-byte IPv4 header 10.0.0.1 -> 10.0.0.2 carrying l4_len bytes. */
static size_t put_ipv4(uint8_t *b, uint8_t proto, size_t l4_len)
{
    memset(b, 0, 20);
    b[0] = 0x45;
    put16(b + 2, (unsigned)(20 + l4_len));
    b[8] = 64;
    b[9] = proto;
    b[12] = 10, b[15] = 1;
    b[16] = 10, b[19] = 2;
    return 20;
}

/* 40-byte IPv6 header 2001:db8::1 -> 2001:db8::2. */
static size_t put_ipv6(uint8_t *b, uint8_t next, size_t payload_len)
{
    memset(b, 0, 40);
    b[0] = 0x60;
    put16(b + 4, (unsigned)payload_len);
    b[6] = next;
    b[7] = 64;
    b[8] = 0x20, b[9] = 0x01, b[10] = 0x0d, b[11] = 0xb8, b[23] = 1;
    b[24] = 0x20, b[25] = 0x01, b[26] = 0x0d, b[27] = 0xb8, b[39] = 2;
    return 40;
}

/* TCP 40000 -> 80, seq 1000, ack 2000, PSH|ACK, HTTP payload. */
static size_t put_tcp(uint8_t *b)
{
    memset(b, 0, 20);
    put16(b, 40000);
    put16(b + 2, 80);
    put32(b + 4, 1000);
    put32(b + 8, 2000);
    b[12] = 5 << 4;
    b[13] = TCP_PSH | TCP_ACK;
    put16(b + 14, 65535);
    memcpy(b + 20, http_payload, HTTP_LEN);
    return 20 + HTTP_LEN;
}
#define TCP_LEN (20 + HTTP_LEN)

/* UDP 5353 -> 53 with n payload bytes. */
static size_t put_udp(uint8_t *b, size_t n)
{
    put16(b, 5353);
    put16(b + 2, 53);
    put16(b + 4, (unsigned)(8 + n));
    put16(b + 6, 0);
    for (size_t i = 0; i < n; i++)
        b[8 + i] = (uint8_t)('a' + i % 26);
    return 8 + n;
}

/* IPv4 TCP packet at b; returns its length. */
static size_t put_ipv4_tcp(uint8_t *b)
{
    size_t n = put_ipv4(b, IPPROTO_TCP_NUM, TCP_LEN);
    return n + put_tcp(b + n);
}

static size_t put_ipv6_tcp(uint8_t *b)
{
    size_t n = put_ipv6(b, IPPROTO_TCP_NUM, TCP_LEN);
    return n + put_tcp(b + n);
}

static int parse(int linktype, const uint8_t *b, size_t len,
                 struct packet_info *pi, enum stat_id *why)
{
    return packet_parse(linktype, b, len, pi, why);
}

/* The fields every IPv4 TCP packet built above must decode to. */
static void check_ipv4_tcp(const struct packet_info *pi, const uint8_t *l3)
{
    const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };
    CHECK_EQ_INT(pi->family, 4);
    CHECK_EQ_INT(pi->proto, IPPROTO_TCP_NUM);
    CHECK(memcmp(pi->src, src, 4) == 0);
    CHECK(memcmp(pi->dst, dst, 4) == 0);
    CHECK_EQ_INT(pi->sport, 40000);
    CHECK_EQ_INT(pi->dport, 80);
    CHECK_EQ_INT(pi->seq, 1000);
    CHECK_EQ_INT(pi->ack, 2000);
    CHECK_EQ_INT(pi->tcp_flags, TCP_PSH | TCP_ACK);
    CHECK(pi->l3 == l3);
    CHECK_EQ_INT(pi->l3_len, 20 + TCP_LEN);
    CHECK(pi->payload == l3 + 40);
    CHECK_EQ_INT(pi->payload_len, HTTP_LEN);
    CHECK_EQ_INT(pi->payload_wire_len, HTTP_LEN);
    CHECK(pi->payload_len == HTTP_LEN &&
          memcmp(pi->payload, http_payload, HTTP_LEN) == 0);
}

static void check_ipv6_tcp(const struct packet_info *pi, const uint8_t *l3)
{
    CHECK_EQ_INT(pi->family, 6);
    CHECK_EQ_INT(pi->proto, IPPROTO_TCP_NUM);
    CHECK(memcmp(pi->src, l3 + 8, 16) == 0);
    CHECK(memcmp(pi->dst, l3 + 24, 16) == 0);
    CHECK_EQ_INT(pi->sport, 40000);
    CHECK_EQ_INT(pi->dport, 80);
    CHECK(pi->l3 == l3);
    CHECK_EQ_INT(pi->payload_len, HTTP_LEN);
    CHECK_EQ_INT(pi->payload_wire_len, HTTP_LEN);
    CHECK(pi->payload_len == HTTP_LEN &&
          memcmp(pi->payload, http_payload, HTTP_LEN) == 0);
}

static void test_linktype_supported(void)
{
    const int yes[] = { LINK_NULL, LINK_ETHERNET, LINK_RAW, 12, 14, LINK_LOOP,
                        LINK_SLL, LINK_SLL2, LINK_IPV4, LINK_IPV6 };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        CHECK(packet_linktype_supported(yes[i]));
    CHECK(!packet_linktype_supported(105)); /* 802.11 */
    CHECK(!packet_linktype_supported(127)); /* radiotap */
    CHECK(!packet_linktype_supported(-1));
}

static void test_ethernet_ipv4_tcp(void)
{
    uint8_t b[128];
    size_t n = put_eth(b, 0x0800);
    n += put_ipv4_tcp(b + n);
    struct packet_info pi;
    enum stat_id why = STAT_COUNT;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    CHECK_EQ_INT(why, STAT_TCP_PACKETS);
    CHECK_EQ_INT(pi.vlan_count, 0);
    check_ipv4_tcp(&pi, b + 14);
}

static void test_ethernet_ipv6_udp(void)
{
    uint8_t b[128];
    size_t n = put_eth(b, 0x86dd);
    n += put_ipv6(b + n, IPPROTO_UDP_NUM, 8 + 5);
    n += put_udp(b + n, 5);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    CHECK_EQ_INT(why, STAT_UDP_PACKETS);
    CHECK_EQ_INT(pi.family, 6);
    CHECK_EQ_INT(pi.proto, IPPROTO_UDP_NUM);
    CHECK_EQ_INT(pi.sport, 5353);
    CHECK_EQ_INT(pi.dport, 53);
    CHECK_EQ_INT(pi.payload_len, 5);
    CHECK_EQ_INT(pi.payload_wire_len, 5);
    CHECK(pi.payload == b + 14 + 40 + 8);
    CHECK_EQ_INT(pi.l3_len, 40 + 13);
    CHECK_EQ_INT(pi.src[15], 1);
    CHECK_EQ_INT(pi.dst[15], 2);
}

/* BSD loopback family written little-endian (x86 capture host). */
static void test_null_little_endian(void)
{
    uint8_t b[128] = { 2, 0, 0, 0 };
    size_t n = 4 + put_ipv4_tcp(b + 4);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_NULL, b, n, &pi, &why), 0);
    check_ipv4_tcp(&pi, b + 4);

    const uint8_t v6_families[] = { 10, 24, 28, 30 };
    for (size_t i = 0; i < sizeof(v6_families); i++) {
        memset(b, 0, 4);
        b[0] = v6_families[i];
        n = 4 + put_ipv6_tcp(b + 4);
        CHECK_EQ_INT(parse(LINK_NULL, b, n, &pi, &why), 0);
        check_ipv6_tcp(&pi, b + 4);
    }
}

/* Same, captured on a big-endian host (old PowerPC / SPARC). */
static void test_null_big_endian(void)
{
    uint8_t b[128] = { 0, 0, 0, 2 };
    size_t n = 4 + put_ipv4_tcp(b + 4);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_NULL, b, n, &pi, &why), 0);
    check_ipv4_tcp(&pi, b + 4);

    memset(b, 0, 4);
    b[3] = 30;
    n = 4 + put_ipv6_tcp(b + 4);
    CHECK_EQ_INT(parse(LINK_NULL, b, n, &pi, &why), 0);
    check_ipv6_tcp(&pi, b + 4);
}

static void test_null_unknown_family(void)
{
    uint8_t b[128] = { 7, 0, 0, 0 };
    size_t n = 4 + put_ipv4_tcp(b + 4);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_NULL, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);
}

/* OpenBSD loop: the family is always network order, so a little-endian 2
 * is not IPv4 there. */
static void test_loop(void)
{
    uint8_t b[128] = { 0, 0, 0, 2 };
    size_t n = 4 + put_ipv4_tcp(b + 4);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_LOOP, b, n, &pi, &why), 0);
    check_ipv4_tcp(&pi, b + 4);

    b[0] = 2, b[3] = 0;
    CHECK_EQ_INT(parse(LINK_LOOP, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);

    memset(b, 0, 4);
    b[3] = 24;
    n = 4 + put_ipv6_tcp(b + 4);
    CHECK_EQ_INT(parse(LINK_LOOP, b, n, &pi, &why), 0);
    check_ipv6_tcp(&pi, b + 4);
}

static void test_linux_sll(void)
{
    uint8_t b[128] = { 0 };
    put16(b, 0);      /* packet type: to us */
    put16(b + 2, 1);  /* ARPHRD_ETHER */
    put16(b + 4, 6);  /* address length */
    put16(b + 14, 0x0800);
    size_t n = 16 + put_ipv4_tcp(b + 16);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_SLL, b, n, &pi, &why), 0);
    check_ipv4_tcp(&pi, b + 16);

    put16(b + 14, 0x86dd);
    n = 16 + put_ipv6_tcp(b + 16);
    CHECK_EQ_INT(parse(LINK_SLL, b, n, &pi, &why), 0);
    check_ipv6_tcp(&pi, b + 16);

    put16(b + 14, 0x0806);
    CHECK_EQ_INT(parse(LINK_SLL, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);
}

static void test_linux_sll2(void)
{
    uint8_t b[128] = { 0 };
    put16(b, 0x0800); /* protocol first in v2 */
    put32(b + 4, 3);  /* interface index */
    put16(b + 8, 1);  /* ARPHRD_ETHER */
    b[11] = 6;
    size_t n = 20 + put_ipv4_tcp(b + 20);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_SLL2, b, n, &pi, &why), 0);
    check_ipv4_tcp(&pi, b + 20);

    put16(b, 0x86dd);
    n = 20 + put_ipv6_tcp(b + 20);
    CHECK_EQ_INT(parse(LINK_SLL2, b, n, &pi, &why), 0);
    check_ipv6_tcp(&pi, b + 20);

    CHECK_EQ_INT(parse(LINK_SLL2, b, 19, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TRUNCATED);
}

/* RAW and the BSD DLT_RAW numbers: the version nibble decides. */
static void test_raw(void)
{
    const int links[] = { LINK_RAW, 12, 14 };
    uint8_t v4[128], v6[128];
    size_t n4 = put_ipv4_tcp(v4), n6 = put_ipv6_tcp(v6);
    struct packet_info pi;
    enum stat_id why;
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(parse(links[i], v4, n4, &pi, &why), 0);
        check_ipv4_tcp(&pi, v4);
        CHECK_EQ_INT(parse(links[i], v6, n6, &pi, &why), 0);
        check_ipv6_tcp(&pi, v6);
    }
    v4[0] = 0x55;
    CHECK_EQ_INT(parse(LINK_RAW, v4, n4, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);
}

/* LINKTYPE_IPV4/IPV6 promise the version, so a mismatch is a bad header. */
static void test_linktype_ipv4_ipv6(void)
{
    uint8_t v4[128], v6[128];
    size_t n4 = put_ipv4_tcp(v4), n6 = put_ipv6_tcp(v6);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_IPV4, v4, n4, &pi, &why), 0);
    check_ipv4_tcp(&pi, v4);
    CHECK_EQ_INT(parse(LINK_IPV6, v6, n6, &pi, &why), 0);
    check_ipv6_tcp(&pi, v6);
    CHECK_EQ_INT(parse(LINK_IPV4, v6, n6, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV4_BAD);
    CHECK_EQ_INT(parse(LINK_IPV6, v4, n4, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV6_BAD);
}

/* Ethernet with the given tag protocol ids pushed outer first. */
static size_t put_eth_tags(uint8_t *b, const unsigned *tpids,
                           const unsigned *vids, size_t tags, unsigned inner)
{
    size_t n = put_eth(b, tags ? tpids[0] : inner);
    for (size_t i = 0; i < tags; i++) {
        put16(b + n, vids[i] | 0x2000); /* priority bits must be masked */
        put16(b + n + 2, i + 1 < tags ? tpids[i + 1] : inner);
        n += 4;
    }
    return n;
}

static void test_vlan_single(void)
{
    uint8_t b[160];
    const unsigned tpid[] = { 0x8100 }, vid[] = { 100 };
    size_t n = put_eth_tags(b, tpid, vid, 1, 0x0800);
    size_t l3 = n;
    n += put_ipv4_tcp(b + n);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    CHECK_EQ_INT(pi.vlan_count, 1);
    CHECK_EQ_INT(pi.vlan[0], 100);
    check_ipv4_tcp(&pi, b + l3);
}

static void test_vlan_qinq(void)
{
    uint8_t b[160];
    const unsigned tpid[] = { 0x88a8, 0x8100 }, vid[] = { 10, 4000 };
    size_t n = put_eth_tags(b, tpid, vid, 2, 0x86dd);
    size_t l3 = n;
    n += put_ipv6_tcp(b + n);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    CHECK_EQ_INT(pi.vlan_count, 2);
    CHECK_EQ_INT(pi.vlan[0], 10);
    CHECK_EQ_INT(pi.vlan[1], 4000);
    check_ipv6_tcp(&pi, b + l3);
}

/* Pre-standard 0x9100 outer tag, three tags deep: all crossed, the outer
 * two recorded. */
static void test_vlan_9100_three_tags(void)
{
    uint8_t b[160];
    const unsigned tpid[] = { 0x9100, 0x8100, 0x8100 }, vid[] = { 1, 2, 3 };
    size_t n = put_eth_tags(b, tpid, vid, 3, 0x0800);
    size_t l3 = n;
    n += put_ipv4_tcp(b + n);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    CHECK_EQ_INT(pi.vlan_count, 3);
    CHECK_EQ_INT(pi.vlan[0], 1);
    CHECK_EQ_INT(pi.vlan[1], 2);
    check_ipv4_tcp(&pi, b + l3);
}

static void test_vlan_too_deep(void)
{
    uint8_t b[256];
    unsigned tpid[16], vid[16];
    for (size_t i = 0; i < 16; i++)
        tpid[i] = 0x8100, vid[i] = (unsigned)i;
    size_t n = put_eth_tags(b, tpid, vid, 16, 0x0800);
    n += put_ipv4_tcp(b + n);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_VLAN_TOO_DEEP);
}

/* A tag header cut by the snap length. */
static void test_vlan_truncated(void)
{
    uint8_t b[160];
    const unsigned tpid[] = { 0x8100 }, vid[] = { 7 };
    size_t n = put_eth_tags(b, tpid, vid, 1, 0x0800);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, n - 1, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TRUNCATED);
}

/* IPv6 with hop-by-hop, routing, destination options, AH and mobility
 * headers before TCP. */
static void test_ipv6_extension_headers(void)
{
    uint8_t b[256];
    size_t ext_len = 8 + 24 + 16 + 12 + 8;
    size_t n = put_eth(b, 0x86dd);
    size_t l3 = n;
    n += put_ipv6(b + n, 0, ext_len + TCP_LEN);
    memset(b + n, 0, ext_len);
    b[n] = 43, b[n + 1] = 0;         /* hop-by-hop, 8 bytes */
    n += 8;
    b[n] = 60, b[n + 1] = 2;         /* routing, 24 bytes */
    n += 24;
    b[n] = 51, b[n + 1] = 1;         /* destination options, 16 bytes */
    n += 16;
    b[n] = 135, b[n + 1] = 1;        /* AH: (1 + 2) * 4 = 12 bytes */
    n += 12;
    b[n] = IPPROTO_TCP_NUM, b[n + 1] = 0; /* mobility, 8 bytes */
    n += 8;
    n += put_tcp(b + n);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    check_ipv6_tcp(&pi, b + l3);
    CHECK_EQ_INT(pi.l3_len, 40 + ext_len + TCP_LEN);
    CHECK(pi.payload == b + l3 + 40 + ext_len + 20);
}

/* Nine destination options headers: one more than the walk allows. */
static void test_ipv6_ext_limit(void)
{
    uint8_t b[256];
    size_t n = put_ipv6(b, 60, 9 * 8 + TCP_LEN);
    for (int i = 0; i < 9; i++, n += 8) {
        memset(b + n, 0, 8);
        b[n] = i < 8 ? 60 : IPPROTO_TCP_NUM;
    }
    n += put_tcp(b + n);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_IPV6, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV6_EXT_LIMIT);

    /* eight are fine */
    n = put_ipv6(b, 60, 8 * 8 + TCP_LEN);
    for (int i = 0; i < 8; i++, n += 8) {
        memset(b + n, 0, 8);
        b[n] = i < 7 ? 60 : IPPROTO_TCP_NUM;
    }
    n += put_tcp(b + n);
    CHECK_EQ_INT(parse(LINK_IPV6, b, n, &pi, &why), 0);
    check_ipv6_tcp(&pi, b);
}

static void test_ipv6_fragment(void)
{
    uint8_t b[128];
    size_t n = put_ipv6(b, 44, 8 + TCP_LEN);
    memset(b + n, 0, 8);
    b[n] = IPPROTO_TCP_NUM;
    b[n + 3] = 1; /* more fragments */
    n += 8;
    n += put_tcp(b + n);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_IPV6, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV6_FRAGMENT);

    /* behind a hop-by-hop header too */
    n = put_ipv6(b, 0, 16 + TCP_LEN);
    memset(b + n, 0, 16);
    b[n] = 44;
    b[n + 8] = IPPROTO_TCP_NUM;
    n += 16;
    n += put_tcp(b + n);
    CHECK_EQ_INT(parse(LINK_IPV6, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV6_FRAGMENT);
}

/* An extension header longer than the IPv6 payload is malformed, not
 * truncated. */
static void test_ipv6_ext_past_payload(void)
{
    uint8_t b[128];
    size_t n = put_ipv6(b, 60, 8);
    memset(b + n, 0, 8);
    b[n] = IPPROTO_TCP_NUM;
    b[n + 1] = 1; /* claims 16 bytes */
    n += 8;
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_IPV6, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV6_BAD);
}

static void test_ipv6_jumbogram_bad(void)
{
    uint8_t b[128];
    size_t n = put_ipv6_tcp(b);
    put16(b + 4, 0);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_IPV6, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV6_BAD);
}

static void test_ipv4_fragment(void)
{
    uint8_t b[128];
    size_t n = put_ipv4_tcp(b);
    struct packet_info pi;
    enum stat_id why;
    put16(b + 6, 0x2000); /* first fragment: MF, offset 0 */
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV4_FRAGMENT);
    put16(b + 6, 0x0010); /* last fragment: offset 16*8 */
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV4_FRAGMENT);
    put16(b + 6, 0x4000); /* DF alone is not a fragment */
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), 0);
}

/* A 60-byte minimum Ethernet frame around a short UDP datagram: the padding
 * is not payload and not part of l3. */
static void test_ethernet_padding_trimmed(void)
{
    enum { FRAME = 60 };
    uint8_t b[96]; /* room for put_tcp's payload, which the frame cuts off */
    memset(b, 0xee, sizeof(b));
    size_t n = put_eth(b, 0x0800);
    n += put_ipv4(b + n, IPPROTO_UDP_NUM, 8 + 2);
    n += put_udp(b + n, 2);
    CHECK(n < FRAME);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, FRAME, &pi, &why), 0);
    CHECK_EQ_INT(pi.l3_len, 20 + 8 + 2);
    CHECK_EQ_INT(pi.payload_len, 2);
    CHECK_EQ_INT(pi.payload_wire_len, 2);

    /* Same for TCP with no payload (a bare ACK). */
    n = put_eth(b, 0x0800);
    n += put_ipv4(b + n, IPPROTO_TCP_NUM, 20);
    put_tcp(b + n);
    memset(b + n + 20, 0xee, FRAME - n - 20);
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, FRAME, &pi, &why), 0);
    CHECK_EQ_INT(pi.l3_len, 40);
    CHECK_EQ_INT(pi.payload_len, 0);
    CHECK_EQ_INT(pi.payload_wire_len, 0);
}

/* Every cut inside the L2+L3+L4 headers is TRUNCATED; every cut inside the
 * payload parses with payload_len < payload_wire_len. */
static void test_truncated_headers_and_cut_payload(void)
{
    uint8_t b[128];
    size_t n = put_eth(b, 0x0800);
    n += put_ipv4_tcp(b + n);
    size_t headers = 14 + 20 + 20;
    struct packet_info pi;
    enum stat_id why;
    for (size_t cut = 0; cut < headers; cut++) {
        CHECK_EQ_INT(parse(LINK_ETHERNET, b, cut, &pi, &why), -1);
        CHECK_EQ_INT(why, STAT_TRUNCATED);
    }
    for (size_t cut = headers; cut <= n; cut++) {
        CHECK_EQ_INT(parse(LINK_ETHERNET, b, cut, &pi, &why), 0);
        CHECK_EQ_INT(pi.payload_len, cut - headers);
        CHECK_EQ_INT(pi.payload_wire_len, HTTP_LEN);
        CHECK_EQ_INT(pi.l3_len, cut - 14);
    }
}

static void test_truncated_ipv6_and_udp(void)
{
    uint8_t b[128];
    size_t n = put_ipv6(b, IPPROTO_UDP_NUM, 8 + 30);
    n += put_udp(b + n, 30);
    struct packet_info pi;
    enum stat_id why;
    for (size_t cut = 0; cut < 48; cut++) {
        CHECK_EQ_INT(parse(LINK_RAW, b, cut, &pi, &why), -1);
        CHECK_EQ_INT(why, STAT_TRUNCATED);
    }
    CHECK_EQ_INT(parse(LINK_RAW, b, 50, &pi, &why), 0);
    CHECK_EQ_INT(pi.payload_len, 2);
    CHECK_EQ_INT(pi.payload_wire_len, 30);
}

/* Option-bearing headers cut by the snap length: IPv4 options, TCP
 * options, IPv6 extension headers. */
static void test_truncated_options(void)
{
    uint8_t b[128];
    struct packet_info pi;
    enum stat_id why;
    /* IPv4 IHL 6 (4 option bytes), cut after 22 bytes */
    size_t n = put_ipv4(b, IPPROTO_TCP_NUM, TCP_LEN);
    b[0] = 0x46;
    put16(b + 2, (unsigned)(24 + TCP_LEN));
    memset(b + 20, 1, 4); /* NOP options */
    n = 24 + put_tcp(b + 24);
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), 0);
    CHECK_EQ_INT(pi.sport, 40000);
    CHECK_EQ_INT(pi.payload_len, HTTP_LEN);
    CHECK_EQ_INT(parse(LINK_IPV4, b, 22, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TRUNCATED);

    /* TCP data offset 8 (12 option bytes), cut inside the options */
    n = put_ipv4(b, IPPROTO_TCP_NUM, 32);
    put_tcp(b + n);
    b[n + 12] = 8 << 4;
    memset(b + n + 20, 1, 12);
    CHECK_EQ_INT(parse(LINK_IPV4, b, 52, &pi, &why), 0);
    CHECK_EQ_INT(pi.payload_len, 0);
    CHECK_EQ_INT(parse(LINK_IPV4, b, 45, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TRUNCATED);

    /* IPv6 destination options cut */
    n = put_ipv6(b, 60, 16 + TCP_LEN);
    memset(b + n, 0, 16);
    b[n] = IPPROTO_TCP_NUM;
    b[n + 1] = 1;
    CHECK_EQ_INT(parse(LINK_IPV6, b, 41, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TRUNCATED);
    CHECK_EQ_INT(parse(LINK_IPV6, b, 50, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TRUNCATED);
}

static void test_ipv4_bad_headers(void)
{
    uint8_t b[128];
    size_t n = put_ipv4_tcp(b);
    struct packet_info pi;
    enum stat_id why;
    b[0] = 0x44; /* IHL 4 */
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV4_BAD);
    b[0] = 0x40; /* IHL 0 */
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV4_BAD);
    b[0] = 0x45;
    put16(b + 2, 19); /* total length shorter than the header */
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV4_BAD);
    put16(b + 2, 0);
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV4_BAD);
    put16(b + 2, (unsigned)n);
    b[0] = 0x4f; /* IHL 15 = 60 bytes, more than the total length */
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_IPV4_BAD);
}

static void test_tcp_bad_offset(void)
{
    uint8_t b[128];
    size_t n = put_ipv4_tcp(b);
    struct packet_info pi;
    enum stat_id why;
    b[20 + 12] = 4 << 4;
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TCP_BAD);
    b[20 + 12] = 15 << 4; /* 60 bytes, more than the 38 on the wire */
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TCP_BAD);

    /* IP says there are fewer than 20 TCP bytes */
    n = put_ipv4(b, IPPROTO_TCP_NUM, 12);
    put_tcp(b + n);
    CHECK_EQ_INT(parse(LINK_IPV4, b, 60, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_TCP_BAD);
}

static void test_udp_bad_length(void)
{
    uint8_t b[128];
    size_t n = put_ipv4(b, IPPROTO_UDP_NUM, 8 + 10);
    n += put_udp(b + n, 10);
    struct packet_info pi;
    enum stat_id why;
    put16(b + 20 + 4, 7);
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_UDP_BAD);
    put16(b + 20 + 4, 19); /* more than IP carries */
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_UDP_BAD);
    put16(b + 20 + 4, 12); /* less than IP carries: trailing bytes dropped */
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), 0);
    CHECK_EQ_INT(pi.payload_len, 4);
    CHECK_EQ_INT(pi.payload_wire_len, 4);

    n = put_ipv4(b, IPPROTO_UDP_NUM, 4);
    CHECK_EQ_INT(parse(LINK_IPV4, b, n + 4, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_UDP_BAD);
}

static void test_unknown_ethertype(void)
{
    uint8_t b[64] = { 0 };
    put_eth(b, 0x0806); /* ARP */
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, sizeof(b), &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);
    put_eth(b, 0x0026); /* 802.3 length field, LLC follows */
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, sizeof(b), &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L3_UNKNOWN);
}

static void test_unknown_linktype(void)
{
    uint8_t b[128];
    size_t n = put_ipv4_tcp(b);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(105, b, n, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_LINK_UNKNOWN);
}

static void test_other_ip_protocols(void)
{
    uint8_t b[128];
    struct packet_info pi;
    enum stat_id why;
    size_t n = put_ipv4(b, 1, 8); /* ICMP echo */
    memset(b + n, 0, 8);
    b[n] = 8;
    CHECK_EQ_INT(parse(LINK_IPV4, b, n + 8, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L4_OTHER);

    n = put_ipv6(b, 58, 8); /* ICMPv6 */
    memset(b + n, 0, 8);
    CHECK_EQ_INT(parse(LINK_IPV6, b, n + 8, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L4_OTHER);

    n = put_ipv6(b, 59, 8); /* no next header */
    CHECK_EQ_INT(parse(LINK_IPV6, b, n + 8, &pi, &why), -1);
    CHECK_EQ_INT(why, STAT_L4_OTHER);
}

/* No bytes at all, a null pointer, and a null reason are all safe. */
static void test_empty_and_null(void)
{
    struct packet_info pi;
    enum stat_id why;
    const int links[] = { LINK_NULL, LINK_ETHERNET, LINK_RAW, LINK_LOOP,
                          LINK_SLL, LINK_SLL2, LINK_IPV4, LINK_IPV6 };
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        CHECK_EQ_INT(packet_parse(links[i], NULL, 0, &pi, &why), -1);
        CHECK_EQ_INT(why, STAT_TRUNCATED);
    }
    uint8_t b[128];
    size_t n = put_ipv4_tcp(b);
    CHECK_EQ_INT(packet_parse(LINK_IPV4, b, n, &pi, NULL), 0);
    CHECK_EQ_INT(packet_parse(LINK_IPV4, b, 3, &pi, NULL), -1);
}

/* A failed parse must not leave the previous packet's fields behind. */
static void test_output_cleared(void)
{
    uint8_t b[160];
    const unsigned tpid[] = { 0x8100 }, vid[] = { 5 };
    size_t n = put_eth_tags(b, tpid, vid, 1, 0x0800);
    n += put_ipv4_tcp(b + n);
    struct packet_info pi;
    enum stat_id why;
    CHECK_EQ_INT(parse(LINK_ETHERNET, b, n, &pi, &why), 0);
    n = put_ipv4_tcp(b);
    CHECK_EQ_INT(parse(LINK_IPV4, b, n, &pi, &why), 0);
    CHECK_EQ_INT(pi.vlan_count, 0);
}

int main(void)
{
    check_binary = "packet";
    RUN(test_linktype_supported);
    RUN(test_ethernet_ipv4_tcp);
    RUN(test_ethernet_ipv6_udp);
    RUN(test_null_little_endian);
    RUN(test_null_big_endian);
    RUN(test_null_unknown_family);
    RUN(test_loop);
    RUN(test_linux_sll);
    RUN(test_linux_sll2);
    RUN(test_raw);
    RUN(test_linktype_ipv4_ipv6);
    RUN(test_vlan_single);
    RUN(test_vlan_qinq);
    RUN(test_vlan_9100_three_tags);
    RUN(test_vlan_too_deep);
    RUN(test_vlan_truncated);
    RUN(test_ipv6_extension_headers);
    RUN(test_ipv6_ext_limit);
    RUN(test_ipv6_fragment);
    RUN(test_ipv6_ext_past_payload);
    RUN(test_ipv6_jumbogram_bad);
    RUN(test_ipv4_fragment);
    RUN(test_ethernet_padding_trimmed);
    RUN(test_truncated_headers_and_cut_payload);
    RUN(test_truncated_ipv6_and_udp);
    RUN(test_truncated_options);
    RUN(test_ipv4_bad_headers);
    RUN(test_tcp_bad_offset);
    RUN(test_udp_bad_length);
    RUN(test_unknown_ethertype);
    RUN(test_unknown_linktype);
    RUN(test_other_ip_protocols);
    RUN(test_empty_and_null);
    RUN(test_output_cleared);
    CHECK_EXIT();
}
