/* packet.h - link, network and transport parsing of one captured packet.
 *
 * A pure function over the captured bytes: no allocation, no I/O. It either
 * fills a packet_info for a TCP or UDP packet over IPv4/IPv6, or says why the
 * packet is not one (a stats counter id), so nothing is ignored silently.
 *
 * Tunnels are crossed on the way (MPLS, VXLAN, GENEVE, GRE, ERSPAN I/II/III,
 * IP-in-IP, IPv6-in-IP, nested up to a configured depth): the addresses,
 * ports and payload are always the innermost packet's, and the layers
 * crossed are listed in packet_info.tunnel, outermost first. */
#ifndef SW_PACKET_H
#define SW_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "base/stats.h"

/* Link types we read (values of pcap's LINKTYPE_*, as in pcap files). */
#define LINK_NULL      0    /* BSD loopback, host byte order family */
#define LINK_ETHERNET  1
#define LINK_RAW       101  /* raw IPv4/IPv6 (DLT_RAW is 12 or 14 on some BSDs) */
#define LINK_LOOP      108  /* OpenBSD loopback, network byte order family */
#define LINK_SLL       113  /* Linux cooked v1 */
#define LINK_SLL2      276  /* Linux cooked v2 */
#define LINK_IPV4      228
#define LINK_IPV6      229

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

#define IPPROTO_TCP_NUM 6
#define IPPROTO_UDP_NUM 17

/* The encapsulations packet_parse crosses (stats: "tunnel.<name>"). */
enum tunnel_type {
    TUNNEL_NONE,
    TUNNEL_MPLS,        /* id: the top label */
    TUNNEL_VXLAN,       /* id: VNI */
    TUNNEL_GENEVE,      /* id: VNI */
    TUNNEL_GRE,         /* id: the key, when the K bit is set */
    TUNNEL_ERSPAN1,     /* no id (type I has no ERSPAN header) */
    TUNNEL_ERSPAN2,     /* id: session id */
    TUNNEL_ERSPAN3,     /* id: session id */
    TUNNEL_IPIP,        /* IPv4 or IPv6 in IPv4/IPv6, protocol 4: no id */
    TUNNEL_IP6IP,       /* protocol 41: no id */
    TUNNEL_TYPE_COUNT
};

/* Layers recorded per packet; packet_options.max_depth is at most this. */
#define PACKET_TUNNEL_MAX 8

struct packet_tunnel {
    uint8_t type;            /* enum tunnel_type */
    uint8_t has_id;
    uint32_t id;
};

/* Process-wide settings, from the `tunnels` configuration group. */
struct packet_options {
    uint16_t vxlan_port;     /* UDP destination port of VXLAN, 0 = none */
    uint16_t geneve_port;    /* UDP destination port of GENEVE, 0 = none */
    unsigned max_depth;      /* tunnel layers crossed, 1..PACKET_TUNNEL_MAX */
};

struct packet_info {
    uint8_t family;          /* 4 or 6 */
    uint8_t proto;           /* 6 (TCP) or 17 (UDP) */
    uint8_t src[16];         /* IPv4 addresses use the first 4 bytes */
    uint8_t dst[16];
    uint16_t sport, dport;
    uint8_t tcp_flags;
    uint16_t tcp_window;     /* as sent, unscaled (scanner SYN shapes, syn_shape.h) */
    uint32_t seq, ack;
    uint16_t vlan_count;     /* VLAN tags crossed */
    uint16_t vlan[2];        /* outer first */
    const uint8_t *l3;       /* start of the IP header (for nDPI) */
    size_t l3_len;           /* captured bytes from l3 on */
    const uint8_t *payload;  /* captured payload bytes (may be fewer than wire) */
    size_t payload_len;      /* captured payload length */
    size_t payload_wire_len; /* payload length on the wire (from IP lengths) */
    uint8_t tunnel_count;    /* tunnel layers crossed (also when the parse failed) */
    struct packet_tunnel tunnel[PACKET_TUNNEL_MAX]; /* outermost first */
};

/* Sets the tunnel settings; call before any thread parses packets. Without
 * a call the defaults hold: VXLAN 4789, GENEVE 6081, depth 4. */
void packet_set_options(const struct packet_options *o);

/* "vxlan", "gre", ... ("none" for TUNNEL_NONE). */
const char *tunnel_type_name(unsigned type);

/* Counts the tunnel layers a parsed packet crossed, one per layer
 * ("tunnel.<name>"). */
void packet_count_tunnels(const struct packet_info *pi, struct stats *st);

/* True when the link type is one packet_parse understands. */
int packet_linktype_supported(int linktype);

/* Parses one packet. Returns 0 and fills `out` for TCP/UDP; otherwise
 * returns -1 and sets *reason to the counter that explains why (unknown link
 * or ethertype, bad header, fragment, other protocol, truncated). A packet
 * whose payload was cut by the snap length still returns 0, with
 * payload_len < payload_wire_len. */
int packet_parse(int linktype, const uint8_t *data, size_t caplen,
                 struct packet_info *out, enum stat_id *reason);

#endif
