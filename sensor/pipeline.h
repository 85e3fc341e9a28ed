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

#include "base/op.h"
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
};

struct msg_packet {
    uint64_t seq;
    uint64_t ts_us;
    uint32_t caplen;
    uint32_t wire_len;
    int32_t linktype;
    uint32_t pad_;
    /* caplen bytes follow */
};

struct msg_tick {
    uint64_t seq;
    uint64_t ts_us;
};

struct record_key {
    uint64_t seq;
    uint64_t flow_seq;
    uint32_t sub;
};

/* The endpoints of a flow, oriented client -> server. */
struct flow_meta {
    uint64_t flow_id;
    uint8_t family;        /* 4 or 6 */
    uint8_t proto;         /* 6 or 17 */
    uint8_t app;           /* enum app_id of its decoder, APP_UNKNOWN if none */
    uint8_t pad_;
    uint16_t client_port;
    uint16_t server_port;
    uint8_t client[16];
    uint8_t server[16];
    char community_id[32];
};

/* Filled by the detect thread (chain.c): the cursor chain an op belongs to. */
struct chain_info {
    char id[OP_CONT_MAX];  /* hash of the chain's first cursor; "" = none */
    uint64_t ops;          /* ops of the chain so far, this one included */
    int64_t items;         /* documents returned by the chain so far */
};

struct rec_op {
    struct record_key key;
    uint64_t ts_us;        /* packet time the op was completed */
    struct flow_meta meta;
    struct op_record op;
    struct chain_info chain;
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
};

struct rec_watermark {
    uint64_t seq;          /* every later record of this worker has seq > this */
};

/* An alert from the rule engine (rules/engine.h), as it travels to output. */
#define ALERT_TARGETS_MAX 8
#define ALERT_NAME_MAX 96
#define ALERT_LABEL_MAX 64
#define ALERT_MITRE_MAX 4

enum alert_severity {
    SEVERITY_INFO = 0, SEVERITY_LOW, SEVERITY_MEDIUM, SEVERITY_HIGH, SEVERITY_CRITICAL
};

enum alert_key { ALERT_KEY_SRC = 0, ALERT_KEY_DEST, ALERT_KEY_PAIR };

struct alert {
    uint64_t ts_us;                 /* packet time of the op that fired it */
    struct flow_meta meta;          /* that op's flow (client = actor) */
    uint8_t op_app;                 /* that op's app (enum app_id) */
    uint8_t severity;               /* enum alert_severity */
    uint8_t key;                    /* enum alert_key */
    uint8_t target_count;
    uint32_t rule_id;
    uint32_t update;                /* 0 first alert, then 1, 2, ... */
    char name[ALERT_NAME_MAX];
    char category[32];
    char mitre[ALERT_MITRE_MAX][16];
    char organisation[ALERT_LABEL_MAX];  /* actor's organisation (network list) */
    char tool[ALERT_LABEL_MAX];          /* actor's tool fingerprint (pattern list) */
    char stage[32];                      /* sequence stage reached, or "" */
    uint64_t ops, documents, bytes;      /* evidence over the window/period */
    uint64_t distinct;                   /* distinct targets (or servers) */
    uint64_t servers;                    /* distinct servers touched */
    uint64_t first_us, last_us;          /* first and last op of the evidence */
    uint64_t window_s;                   /* aggregation window, 0 if none */
    char targets[ALERT_TARGETS_MAX][64]; /* names touched, capped */
};

struct event_stats {
    uint64_t ts_us;        /* packet time (offline) or wall clock (live) */
    uint32_t final;        /* 1 for the last stats event of a run */
    uint32_t pad_;
    uint64_t v[STATS_SLOTS];
};

static inline int record_key_cmp(const struct record_key *a, const struct record_key *b)
{
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    if (a->flow_seq != b->flow_seq)
        return a->flow_seq < b->flow_seq ? -1 : 1;
    if (a->sub != b->sub)
        return a->sub < b->sub ? -1 : 1;
    return 0;
}

#endif
