/* packet.h - link, network and transport parsing of one captured packet.
 *
 * A pure function over the captured bytes: no allocation, no I/O. It either
 * fills a packet_info for a TCP or UDP packet over IPv4/IPv6, or says why the
 * packet is not one (a stats counter id), so nothing is ignored silently. */
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

struct packet_info {
    uint8_t family;          /* 4 or 6 */
    uint8_t proto;           /* 6 (TCP) or 17 (UDP) */
    uint8_t src[16];         /* IPv4 addresses use the first 4 bytes */
    uint8_t dst[16];
    uint16_t sport, dport;
    uint8_t tcp_flags;
    uint32_t seq, ack;
    uint16_t vlan_count;     /* VLAN tags crossed */
    uint16_t vlan[2];        /* outer first */
    const uint8_t *l3;       /* start of the IP header (for nDPI) */
    size_t l3_len;           /* captured bytes from l3 on */
    const uint8_t *payload;  /* captured payload bytes (may be fewer than wire) */
    size_t payload_len;      /* captured payload length */
    size_t payload_wire_len; /* payload length on the wire (from IP lengths) */
};

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
