/* record.h - what a worker says about a flow and its ops: the records the
 * detect thread merges and the rule engine reads. Part of the floor: the
 * pipeline (sensor/pipeline.h) carries them between threads, the rules
 * (rules/) match them, and neither needs the other to know their shape. */
#ifndef SW_RECORD_H
#define SW_RECORD_H

#include <stdint.h>

#include "op.h"

/* The order of records: (seq of the packet or tick that caused it, the
 * flow's first seq, a counter within the flow); see sensor/pipeline.h. */
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
    uint8_t tunnel;        /* outermost tunnel its first packet crossed
                              (enum tunnel_type, sensor/packet.h), 0 = none */
    uint16_t client_port;
    uint16_t server_port;
    uint8_t client[16];
    uint8_t server[16];
    char community_id[32];
    uint32_t tunnel_id;    /* VNI, GRE key, ERSPAN session, MPLS label */
    uint8_t tunnel_has_id;
    uint8_t in_iface;      /* live interface its first packet came from
                              (index, sensor/inputs.h), 0 = a file */
};

/* Filled by the detect thread (chain.c): the cursor chain an op belongs to. */
struct chain_info {
    char id[OP_CONT_MAX];  /* hash of the chain's first cursor; "" = none */
    uint64_t ops;          /* ops of the chain so far, this one included */
    int64_t items;         /* documents returned by the chain so far */
    /* issue 14 (whole-dataset reads): how much of the dataset the chain walked */
    int64_t total;         /* largest total the server reported for it; -1 unknown */
    uint8_t total_relation;/* enum op_total_relation of that total */
    uint8_t exhausted;     /* the cursor ran out: the server had nothing more */
    uint8_t match_all;     /* its first page asked for every document (flag match_all) */
    char target[64];       /* the index/collection its first page named, capped */
};

/* Offline, the packet that completed an op (EVE pcap_filename, pcap_cnt). */
struct pcap_position {
    uint32_t file;         /* 1 + the index of its file; 0 live or unknown */
    uint64_t packet;       /* its number in that file, from 1 */
};

struct rec_op {
    struct record_key key;
    uint64_t ts_us;        /* packet time the op was completed */
    struct pcap_position pcap;
    struct flow_meta meta;
    struct op_record op;
    struct chain_info chain;
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
