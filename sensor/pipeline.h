/* pipeline.h - the messages that travel between the sensor's threads, and
 * the ordering key that makes offline output independent of thread count.
 *
 *   capture --(MSG_PACKET, MSG_TICK, MSG_MARK, MSG_END)--> worker[i]
 *   worker  --(REC_OP, REC_FLOW, REC_WATERMARK, REC_END)--> detect
 *   detect  --(EVENT_*)--> output
 *
 * Every packet and every timeout tick gets a sequence number from the capture
 * thread. A record is keyed (seq of the packet or tick that caused it, the
 * flow's first seq, a counter within the flow). Each packet goes to exactly
 * one worker and a tick's records are per flow, so the key is a total order
 * that does not depend on how flows were spread over workers. */
#ifndef SW_PIPELINE_H
#define SW_PIPELINE_H

#include <stdint.h>

#include "../rules/alert.h"
#include "base/op.h"
#include "base/record.h"
#include "base/stats.h"

enum msg_type {
    MSG_PACKET = 1,   /* struct msg_packet + captured bytes */
    MSG_TICK,         /* struct msg_tick: packet time advanced; run timeouts */
    MSG_MARK,         /* struct msg_tick: dispatch progress; only a watermark */
    MSG_END,          /* no more input: flush everything */
    REC_OP,           /* struct rec_op */
    REC_FLOW,         /* struct rec_flow */
    REC_WATERMARK,    /* struct rec_watermark */
    REC_END,
    EVENT_OP,         /* struct rec_op */
    EVENT_FLOW,       /* struct rec_flow */
    EVENT_STATS,      /* struct event_stats */
    EVENT_ALERT,      /* struct alert */
    EVENT_END,
    MSG_STATS,        /* struct msg_stats: offline stats boundary in packet time */
    REC_STATS,        /* struct rec_stats: one worker's counters at that point */
};

struct msg_packet {
    uint64_t seq;
    uint64_t ts_us;
    uint64_t flow_hash;   /* flow_hash() of the packet's key: dispatch needs it
                             to pick the worker, the worker's table reuses it */
    uint32_t caplen;
    uint32_t wire_len;
    int32_t linktype;
    uint32_t iface;       /* live interface index (sensor/inputs.h), 0 = a file */
    uint32_t pcap_file;    /* files: 1 + the file's index (EVE pcap_filename); live 0 */
    uint64_t pcap_cnt;     /* files: the packet's number in its file (EVE pcap_cnt) */
    /* caplen bytes follow */
};

struct msg_tick {
    uint64_t seq;
    uint64_t ts_us;
};

enum flow_end_reason {
    FLOW_END_FIN = 0, FLOW_END_RST, FLOW_END_TIMEOUT, FLOW_END_EVICTED, FLOW_END_SHUTDOWN
};

/* How the client side of a flow was chosen. */
enum flow_orientation { ORIENT_HANDSHAKE = 0, ORIENT_PORT, ORIENT_FIRST_PACKET };

/* What chose a flow's decoder. */
enum classified_by {
    CLASSIFIED_NONE = 0,       /* no decoder */
    CLASSIFIED_BY_PORT = 1,    /* the server port is configured for a decoder */
    CLASSIFIED_BY_NDPI = 2,    /* nDPI named the protocol */
    CLASSIFIED_BY_PROBE = 3,   /* a decoder's probe recognised the first bytes */
};

/* TCP events seen on a flow, or-ed together in rec_flow.tcp_state. */
enum tcp_state_bit {
    TCP_STATE_SYN = 0x01,             /* SYN from the client */
    TCP_STATE_SYNACK = 0x02,          /* SYN (with ACK) from the server */
    TCP_STATE_FIN_TO_SERVER = 0x04,   /* FIN client -> server */
    TCP_STATE_FIN_TO_CLIENT = 0x08,   /* FIN server -> client */
    TCP_STATE_RST = 0x10,             /* RST either way */
};

struct rec_flow {
    struct record_key key;
    uint64_t ts_us;        /* packet time the flow ended (event time) */
    struct flow_meta meta;
    uint64_t start_us, end_us;      /* first and last packet */
    uint64_t pkts[2], bytes[2];     /* [0] to server, [1] to client */
    uint64_t gaps, gap_bytes;
    uint64_t ops;
    uint8_t reason;        /* enum flow_end_reason */
    uint8_t orientation;   /* enum flow_orientation */
    uint8_t classified_by; /* enum classified_by */
    uint8_t tcp_state;     /* enum tcp_state_bit, or-ed */
    uint8_t syn_tool;      /* enum syn_tool (syn_shape.h) of its opening SYN */
    uint8_t payload_seen;  /* it carried payload bytes (0: a scan's SYN, a
                              connect check): flow-level rules read these */
};

struct rec_watermark {
    uint64_t seq;          /* every later record of this worker has seq > this */
};

/* Offline `--stats-interval`: at each boundary of packet time every worker
 * gets one, in order with its packets, and answers with a snapshot of its
 * counters (rec_stats); the first worker's also carries the capture
 * thread's counters at that point (`v` follows only in that one). The
 * detect thread sums the snapshots of one seq: counters as of that packet,
 * whatever the number of workers. */
struct msg_stats {
    uint64_t seq;          /* the last seq given out: no number of its own */
    uint64_t ts_us;        /* the boundary crossed */
    /* uint64_t v[STATS_SLOTS] follows in the first worker's */
};

struct rec_stats {
    struct record_key key; /* (seq of the msg_stats, UINT64_MAX, 0) */
    uint64_t ts_us;
    uint64_t v[STATS_SLOTS];
};

struct event_stats {
    uint64_t ts_us;        /* packet time (offline) or wall clock (live) */
    uint32_t final;        /* 1 for the last stats event of a run */
    uint32_t pad_;
    uint64_t v[STATS_SLOTS];
};

#endif
