/* syn_shape.c - stateless scanners' SYN templates (syn_shape.h).
 *
 * masscan (src/templ-pkt.c, read in robertdavidgraham/masscan; Debian's
 * masscan 1.3.2 recorded in pcaps/scenarios/port_sweep.pcap): the IPv4
 * identification of every packet it makes is ip_them ^ port_them ^ seqno
 * (tcp_create_packet), cut to 16 bits, and its SYN template fixes the
 * window at 1024. A kernel's ids are a counter or random, so the xor
 * relation holds for one SYN in 65536 by chance, and with the window too
 * far less often.
 *
 * ZMap (src/probe_modules/packet.c: make_ip_header, make_tcp_header): ip_id
 * is the constant 54321 and the window 65535.
 *
 * nmap -sS is not recognised: its SYNs vary the window and options per
 * probe and have no fixed relation a single packet shows. */
#include "syn_shape.h"

#define MASSCAN_WINDOW 1024
#define ZMAP_IP_ID 54321
#define ZMAP_WINDOW 65535

enum syn_tool syn_shape(const struct packet_info *pi)
{
    if (pi->family != 4 || pi->proto != 6 || pi->l3 == NULL || pi->l3_len < 20)
        return SYN_TOOL_NONE;
    if ((pi->tcp_flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) != TCP_SYN)
        return SYN_TOOL_NONE;
    uint16_t ip_id = (uint16_t)(pi->l3[4] << 8 | pi->l3[5]);
    uint16_t them = (uint16_t)(pi->dst[2] << 8 | pi->dst[3]);
    if (pi->tcp_window == MASSCAN_WINDOW &&
        ip_id == (uint16_t)(them ^ pi->dport ^ (pi->seq & 0xffffu)))
        return SYN_TOOL_MASSCAN;
    if (pi->tcp_window == ZMAP_WINDOW && ip_id == ZMAP_IP_ID)
        return SYN_TOOL_ZMAP;
    return SYN_TOOL_NONE;
}

const char *syn_tool_label(enum syn_tool t)
{
    switch (t) {
    case SYN_TOOL_MASSCAN: return "masscan (SYN shape)";
    case SYN_TOOL_ZMAP: return "ZMap (SYN shape)";
    default: return "";
    }
}
