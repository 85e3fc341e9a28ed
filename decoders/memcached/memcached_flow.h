/* memcached_flow.h - the memcached decoder's per-flow state, shared by its
 * files: memcached.c (description, framing loop, waiting requests, gaps,
 * close), memcached_text.c (text commands and replies), memcached_binary.c
 * (binary messages) and memcached_udp.c (frame header, reassembly,
 * amplification). Not an interface for anyone else. */
#ifndef SW_MEMCACHED_FLOW_H
#define SW_MEMCACHED_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "memcached.h"

enum mc_mode { MC_MODE_UNKNOWN = 0, MC_MODE_TEXT, MC_MODE_BINARY };

/* What answer a waiting request expects. */
enum mc_shape {
    MC_SHAPE_LINE = 0,   /* text: one line */
    MC_SHAPE_VALUES,     /* text: VALUE lines (data skipped), END */
    MC_SHAPE_LIST,       /* text: counted lines (STAT, ITEM, key=...), END */
    MC_SHAPE_META,       /* text: one meta line (VA: data skipped) */
    MC_SHAPE_BIN,        /* binary: one response with the same opaque */
    MC_SHAPE_BIN_STAT,   /* binary: STAT responses up to an empty key */
    MC_SHAPE_BIN_BATCH,  /* binary: quiet gets, answered by hits, closed by a NOOP */
    MC_SHAPE_BIN_QUIET,  /* binary: quiet op, a response only on failure */
};

struct mc_pending {
    struct op_record op;
    uint32_t opaque;        /* binary: the opaque that answers it */
    uint16_t udp_id;        /* UDP: the request id of its datagram */
    uint8_t shape;          /* enum mc_shape */
    uint8_t batch_open;     /* BIN_BATCH not yet closed by its NOOP */
    uint8_t answered;       /* some reply bytes came */
};

struct mc_dir {
    uint8_t *held;          /* an unfinished line or binary head, copied */
    size_t held_len;
    size_t held_cap;
    uint64_t held_ts;       /* packet time of its first byte */
    uint64_t skip;          /* bytes of a data block or value still to skip */
    uint8_t mode;           /* enum mc_mode, from the direction's first byte */
    bool skip_line;         /* text: discarding up to the next '\n' */
    bool resync;            /* after a gap: looking for a known word / header */
    bool partial_next;      /* a gap cut this direction: its next op is partial */
};

struct mc_udp_reply;

struct mc_flow {
    struct memcached_params p;
    struct membudget *budget;       /* where this state and its parts are charged */
    struct mc_dir dir[2];
    struct mc_pending *pending;     /* ring of waiting requests */
    size_t pending_cap;
    size_t pending_head;
    size_t pending_count;
    size_t held_peak;
    uint8_t auth;                   /* enum op_auth for the next ops */
    bool datagram;                  /* a UDP flow */
    char mechanism[OP_SCHEME_MAX];  /* SASL mechanism last asked */
    /* UDP: the request id of the datagram being read, and whether the reply
     * being read answers a waiting request */
    uint16_t udp_id;
    bool udp_orphan;
    uint8_t udp_requests;           /* request datagrams seen: 0, 1, 2, 3 (more) */
    bool udp_first_stats;           /* the first was a bare "stats" */
    uint16_t udp_first_id;          /* its request id */
    const char *probe_client;       /* the next request op is a known probe: */
    bool probe_next;                /* flag it, and name the tool if known */
    struct mc_udp_reply *udp;       /* replies being reassembled (list) */
    size_t udp_count;
    size_t udp_bytes;
};

/* ---- memcached.c ---- */
struct mc_pending *mc_pending_front(struct mc_flow *f);
struct mc_pending *mc_pending_back(struct mc_flow *f);
struct mc_pending *mc_pending_at(struct mc_flow *f, size_t i);
/* Queues a request; the oldest leaves (no_response) when the ring is full. */
struct mc_pending *mc_pending_push(struct mc_flow *f, struct decoder_ctx *ctx,
                                   const struct op_record *op, enum mc_shape shape);
/* Removes entry i and emits its op. */
void mc_pending_finish(struct mc_flow *f, struct decoder_ctx *ctx, size_t i);
/* Moves entry i to the front, the others keeping their order. */
void mc_pending_to_front(struct mc_flow *f, size_t i);
/* An op started by a request: app, auth state, time, partial flag. */
void mc_request_op(struct mc_flow *f, struct decoder_ctx *ctx, struct op_record *op,
                   uint64_t ts);
/* Emits an op: amplification check for UDP. */
void mc_emit(struct mc_flow *f, struct decoder_ctx *ctx, struct op_record *op);
/* Feeds stream bytes of a direction (TCP data, a UDP payload). */
void mc_feed(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
             const uint8_t *buf, size_t len);
/* A direction lost bytes: len of them (0: unknown). */
void mc_lose(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir, uint64_t len);
/* Forgets a direction's framing state (a new UDP datagram). */
void mc_dir_reset(struct mc_dir *d);
void mc_lower(char *s);

/* ---- memcached_text.c ---- */
/* A whole text line: a request (to the server) or a reply line. */
void mc_text_request(struct mc_flow *f, struct decoder_ctx *ctx, const struct mc_line *line,
                     uint64_t ts);
void mc_text_reply(struct mc_flow *f, struct decoder_ctx *ctx, const struct mc_line *line,
                   uint64_t ts);
/* True when the line starts with a word this direction may start with. */
bool mc_text_known(enum decoder_dir dir, const struct mc_line *line);
/* Text command words, for the probe. */
bool mc_text_is_command(const struct mc_token *t);

/* ---- memcached_binary.c ---- */
void mc_bin_request(struct mc_flow *f, struct decoder_ctx *ctx, const struct mc_bin_header *h,
                    uint64_t ts);
void mc_bin_response(struct mc_flow *f, struct decoder_ctx *ctx, const struct mc_bin_header *h);
/* True for an opcode of the binary protocol. */
bool mc_bin_known_opcode(uint8_t opcode);

/* ---- memcached_udp.c ---- */
void mc_udp_datagram(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir,
                     const uint8_t *buf, size_t len);
void mc_udp_gap(struct mc_flow *f, struct decoder_ctx *ctx, enum decoder_dir dir);
/* Emits every reply still being reassembled (partial) and frees them. */
void mc_udp_flush(struct mc_flow *f, struct decoder_ctx *ctx, bool all);

#endif
