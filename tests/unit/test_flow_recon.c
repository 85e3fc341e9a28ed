/* test_flow_recon.c - scanners' SYN shapes (sensor/syn_shape.c) and
 * payload-less flows as ops for the flow rules (sensor/flow_recon.c).
 * The SYN values are masscan 1.3.2's and a kernel's own, from
 * pcaps/scenarios/port_sweep.pcap and port_sweep_quiet.pcap (tshark). */
#include "../../sensor/flow_recon.h"
#include "../../sensor/syn_shape.h"
#include "../../decoders/apps.h"
#include "check.h"

#include <string.h>

static uint8_t ip_header[20];

static struct packet_info syn(const char *dst4, uint16_t dport, uint32_t seq, uint16_t window,
                              uint16_t ip_id)
{
    struct packet_info pi;
    memset(&pi, 0, sizeof(pi));
    pi.family = 4;
    pi.proto = 6;
    unsigned a, b, c, d;
    sscanf(dst4, "%u.%u.%u.%u", &a, &b, &c, &d);
    pi.dst[0] = (uint8_t)a, pi.dst[1] = (uint8_t)b, pi.dst[2] = (uint8_t)c, pi.dst[3] = (uint8_t)d;
    pi.dport = dport;
    pi.seq = seq;
    pi.tcp_window = window;
    pi.tcp_flags = TCP_SYN;
    memset(ip_header, 0, sizeof(ip_header));
    ip_header[0] = 0x45;
    ip_header[4] = (uint8_t)(ip_id >> 8);
    ip_header[5] = (uint8_t)ip_id;
    pi.l3 = ip_header;
    pi.l3_len = sizeof(ip_header);
    return pi;
}

static void test_syn_shapes(void)
{
    /* masscan: ip id 0x73a7 = 0x053e (10.0.5.62) ^ 27017 ^ low 16 of seq, window 1024 */
    struct packet_info pi = syn("10.0.5.62", 27017, 2110725904u, 1024, 0x73a7);
    CHECK_EQ_INT(syn_shape(&pi), SYN_TOOL_MASSCAN);
    CHECK_EQ_STR(syn_tool_label(SYN_TOOL_MASSCAN), "masscan (SYN shape)");
    pi = syn("10.0.5.13", 6379, 3931443304u, 1024, 0x0d8e);
    CHECK_EQ_INT(syn_shape(&pi), SYN_TOOL_MASSCAN);
    /* the same SYN with another id, or another window: not masscan */
    pi = syn("10.0.5.62", 27017, 2110725904u, 1024, 0x73a8);
    CHECK_EQ_INT(syn_shape(&pi), SYN_TOOL_NONE);
    pi = syn("10.0.5.62", 27017, 2110725904u, 64240, 0x73a7);
    CHECK_EQ_INT(syn_shape(&pi), SYN_TOOL_NONE);
    /* a SYN-ACK with masscan's numbers is the server's: never a scanner's SYN */
    pi = syn("10.0.5.62", 27017, 2110725904u, 1024, 0x73a7);
    pi.tcp_flags = TCP_SYN | TCP_ACK;
    CHECK_EQ_INT(syn_shape(&pi), SYN_TOOL_NONE);
    /* Linux's own SYN (redis-cli in port_sweep_quiet) */
    pi = syn("10.0.5.6", 6379, 1140146292u, 64240, 0xda28);
    CHECK_EQ_INT(syn_shape(&pi), SYN_TOOL_NONE);
    /* ZMap: id 54321, window 65535 */
    pi = syn("10.0.5.1", 9200, 12345u, 65535, 54321);
    CHECK_EQ_INT(syn_shape(&pi), SYN_TOOL_ZMAP);
    pi = syn("10.0.5.1", 9200, 12345u, 65535, 54322);
    CHECK_EQ_INT(syn_shape(&pi), SYN_TOOL_NONE);
    /* IPv6 has no identification field: never */
    pi = syn("10.0.5.1", 9200, 12345u, 65535, 54321);
    pi.family = 6;
    CHECK_EQ_INT(syn_shape(&pi), SYN_TOOL_NONE);
}

static struct rec_flow flow_of(uint8_t tcp_state, uint8_t payload_seen, uint64_t ops)
{
    struct rec_flow f;
    memset(&f, 0, sizeof(f));
    f.ts_us = 5000000;
    f.start_us = 4000000;
    f.end_us = 4500000;
    f.meta.family = 4;
    f.meta.proto = 6;
    f.meta.app = APP_MONGODB;
    f.meta.server_port = 27017;
    f.tcp_state = tcp_state;
    f.payload_seen = payload_seen;
    f.ops = ops;
    f.orientation = ORIENT_HANDSHAKE;
    f.syn_tool = SYN_TOOL_MASSCAN;
    return f;
}

static void test_flow_as_op(void)
{
    struct rec_op op;
    struct rec_flow f = flow_of(TCP_STATE_SYN | TCP_STATE_SYNACK | TCP_STATE_RST, 0, 0);
    CHECK(flow_recon_op(&f, &op));
    CHECK_EQ_STR(op.op.op, "open");
    CHECK_EQ_STR(op.op.target, "27017");
    CHECK_EQ_STR(op.op.client_id, "masscan (SYN shape)");
    CHECK_EQ_INT(op.op.app, APP_MONGODB);
    CHECK_EQ_INT(op.op.status, OP_STATUS_UNKNOWN);
    CHECK_EQ_INT(op.op.items, -1);
    CHECK_EQ_INT(op.ts_us, 5000000);
    f = flow_of(TCP_STATE_SYN | TCP_STATE_RST, 0, 0);
    CHECK(flow_recon_op(&f, &op));
    CHECK_EQ_STR(op.op.op, "closed");
    f = flow_of(TCP_STATE_SYN, 0, 0);
    f.syn_tool = SYN_TOOL_NONE;
    CHECK(flow_recon_op(&f, &op));
    CHECK_EQ_STR(op.op.op, "no_answer");
    CHECK_EQ_STR(op.op.client_id, "");
    /* not for flow rules: payload, ops, no SYN seen, UDP */
    f = flow_of(TCP_STATE_SYN | TCP_STATE_SYNACK, 1, 0);
    CHECK(!flow_recon_op(&f, &op));
    f = flow_of(TCP_STATE_SYN | TCP_STATE_SYNACK, 0, 1);
    CHECK(!flow_recon_op(&f, &op));
    f = flow_of(TCP_STATE_SYNACK, 0, 0);
    CHECK(!flow_recon_op(&f, &op));
    f = flow_of(TCP_STATE_SYN, 0, 0);
    f.meta.proto = 17;
    CHECK(!flow_recon_op(&f, &op));
}

int main(void)
{
    check_binary = "flow_recon";
    RUN(test_syn_shapes);
    RUN(test_flow_as_op);
    CHECK_EXIT();
}
