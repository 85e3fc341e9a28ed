/* fuzz_packet.c - libFuzzer target for packet_parse.
 *
 * The first input byte picks the link type (its low bits) and the tunnel
 * settings (its high bits: the depth limit, and whether VXLAN and GENEVE
 * share one port), the rest is the captured packet. Every byte the parser points at (l3 span, payload span) is read
 * back so AddressSanitizer reports any span that runs past the capture, and
 * the span invariants the callers rely on are asserted. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../sensor/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int fuzz_links[] = {
    LINK_NULL, LINK_ETHERNET, LINK_RAW, 12, 14, LINK_LOOP,
    LINK_SLL, LINK_SLL2, LINK_IPV4, LINK_IPV6, 105 /* unsupported */,
};

/* Summing through a volatile keeps the reads from being optimised away. */
static void touch(const uint8_t *p, size_t n)
{
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < n; i++)
        sink ^= p[i];
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n_links = sizeof(fuzz_links) / sizeof(fuzz_links[0]);
    int linktype = fuzz_links[(data[0] & 0x0f) % n_links];
    struct packet_options o = { 4789, (data[0] & 0x80) ? 4789 : 6081,
                                1u + ((data[0] >> 4) & 0x07) };
    packet_set_options(&o);
    const uint8_t *pkt = data + 1;
    size_t caplen = size - 1;

    struct packet_info pi;
    enum stat_id why = STAT_COUNT;
    int rc = packet_parse(linktype, pkt, caplen, &pi, &why);
    if (why >= STAT_COUNT)
        abort(); /* every outcome must name a counter */
    if (pi.tunnel_count > o.max_depth)
        abort();
    for (unsigned i = 0; i < pi.tunnel_count; i++)
        if (pi.tunnel[i].type == TUNNEL_NONE || pi.tunnel[i].type >= TUNNEL_TYPE_COUNT)
            abort();
    if (rc != 0)
        return 0;

    if (pi.family != 4 && pi.family != 6)
        abort();
    if (pi.proto != IPPROTO_TCP_NUM && pi.proto != IPPROTO_UDP_NUM)
        abort();
    if (pi.l3 < pkt || pi.l3_len > caplen - (size_t)(pi.l3 - pkt))
        abort();
    if (pi.payload < pi.l3 || pi.payload_len > pi.l3_len - (size_t)(pi.payload - pi.l3))
        abort();
    if (pi.payload_len > pi.payload_wire_len)
        abort();
    touch(pi.l3, pi.l3_len);
    touch(pi.payload, pi.payload_len);
    return 0;
}
