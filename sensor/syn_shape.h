/* syn_shape.h - which stateless scanner sent a TCP SYN, from the fixed
 * header fields its packet template writes (no payload needed: a SYN scan
 * never sends any). Pure: one parsed packet in, a tool out. */
#ifndef SW_SYN_SHAPE_H
#define SW_SYN_SHAPE_H

#include <stdint.h>

#include "packet.h"

enum syn_tool {
    SYN_TOOL_NONE = 0,
    SYN_TOOL_MASSCAN,
    SYN_TOOL_ZMAP,
};

/* The tool whose SYN this is; SYN_TOOL_NONE for anything else (a SYN with
 * ACK, another flag, IPv6, or a kernel's own SYN). */
enum syn_tool syn_shape(const struct packet_info *pi);

/* The name an op's client_id carries for it ("" for SYN_TOOL_NONE); the
 * scanner_agents list turns it into the alert's tool. */
const char *syn_tool_label(enum syn_tool t);

#endif
