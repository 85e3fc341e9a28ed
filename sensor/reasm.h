/* reasm.h - TCP reassembly of one direction of one connection.
 *
 * Delivers the bytes of a direction in order, exactly once, through a sink.
 * Out-of-order segments are held (bounded per flow and globally) until the
 * hole fills. Bytes that will not come (lost in capture, beyond a cap, cut by
 * the snap length, acknowledged by the peer but never seen, or missing at
 * close) are reported as an explicit gap so the decoder can resynchronise.
 *
 * Overlap policy: bytes already delivered are never delivered again (a
 * retransmission is dropped; the new part of a partly-overlapping segment is
 * delivered). Among held segments, bytes that arrived first win. Overlaps
 * and retransmissions are counted, not compared. Sequence numbers use serial
 * arithmetic, so wrap-around at 2^32 is transparent. */
#ifndef SW_REASM_H
#define SW_REASM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/membudget.h"
#include "base/stats.h"

struct reasm_seg;

struct reasm_sink {
    void (*data)(void *arg, const uint8_t *buf, size_t len);
    void (*gap)(void *arg, uint64_t len);
    void *arg;
};

/* Memory bounds; `global_used` is shared by all workers. Held bytes are
 * also charged to the worker's memory budget (NULL: none); a refusal is
 * handled like the global cap: holes are given up from the front (gaps). */
struct reasm_limits {
    size_t flow_max;                 /* bytes held out of order per direction */
    size_t global_max;               /* bytes held out of order, all flows */
    _Atomic size_t *global_used;
    struct membudget *budget;
};

struct reasm_dir {
    uint32_t next_seq;        /* next byte expected */
    uint8_t seq_known;        /* next_seq is valid */
    uint8_t ended;            /* FIN or RST seen; later data counted, dropped */
    uint8_t fin_pending;      /* FIN seen beyond a hole */
    uint32_t fin_seq;         /* sequence number of the FIN */
    struct reasm_seg *held;   /* out-of-order segments, sorted by seq */
    size_t held_bytes;
    uint64_t delivered;       /* bytes delivered so far */
};

void reasm_init(struct reasm_dir *d);
/* A SYN (or SYN-ACK) with sequence number `isn` opens the direction. */
void reasm_syn(struct reasm_dir *d, uint32_t isn);
/* A segment: `len` captured bytes at `seq`, of `wire_len` bytes on the wire
 * (wire_len > len when the snap length cut it; the rest is a gap). */
void reasm_push(struct reasm_dir *d, const struct reasm_limits *lim,
                struct stats *st, uint32_t seq, const uint8_t *data,
                size_t len, size_t wire_len, const struct reasm_sink *sink);
/* The peer acknowledged up to `ack`: bytes before it that we never saw
 * were lost in capture; report them as a gap and move on. */
void reasm_ack(struct reasm_dir *d, const struct reasm_limits *lim,
               struct stats *st, uint32_t ack, const struct reasm_sink *sink);
/* FIN at `seq` (the sequence number after the last data byte). Returns 1
 * when the direction has ended (all bytes before the FIN delivered). */
int reasm_fin(struct reasm_dir *d, const struct reasm_limits *lim,
              struct stats *st, uint32_t seq, const struct reasm_sink *sink);
/* Delivers everything held, with gaps for the holes, and frees it
 * (connection close, RST, timeout, eviction). */
void reasm_flush(struct reasm_dir *d, const struct reasm_limits *lim,
                 struct stats *st, const struct reasm_sink *sink);
/* Frees held segments without delivering them. */
void reasm_free(struct reasm_dir *d, const struct reasm_limits *lim);

#endif
