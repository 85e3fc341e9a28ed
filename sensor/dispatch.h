/* dispatch.h - the capture thread's half of the pipeline: counts and parses
 * each packet, gives it a sequence number, and hands it to the worker that
 * owns its flow (flow hash % workers). Also derives timeout ticks from packet
 * time and progress marks that let the detect thread merge without waiting. */
#ifndef SW_DISPATCH_H
#define SW_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/stats.h"
#include "worker.h"

/* A TCP endpoint whose packets are not monitored traffic (our own Redis). */
struct dispatch_exclude {
    uint8_t family;            /* 4 or 6 */
    uint8_t addr[16];
    uint16_t port;
};

#define DISPATCH_EXCLUDE_MAX 8

struct dispatch {
    struct worker *workers;
    unsigned worker_count;
    bool live;                 /* full ring: drop (live) or wait (offline) */
    struct stats stats;        /* capture and decode counters */
    uint64_t seq;              /* last sequence number given out */
    uint64_t dispatched_seq;   /* every message up to this one is in a ring */
    uint64_t last_tick_sec;
    uint64_t last_ts_us;       /* packet time of the newest packet */
    uint64_t since_mark;       /* packets since the last progress marks */
    uint64_t mark_sent[64];    /* per worker: newest mark it holds */
    struct dispatch_exclude exclude[DISPATCH_EXCLUDE_MAX];
    unsigned exclude_count;
    uint64_t stats_interval_us; /* offline: stats snapshots by packet time, 0 = none */
    uint64_t last_stats_slot;   /* packet time / stats_interval_us of the last one */
    struct ring_waiter waiter;  /* offline: sleeps here while a ring is full */
    uint8_t iface;              /* live: index of the interface the packet being
                                   dispatched came from (sensor/inputs.h), 0 = a file */
    uint32_t pcap_file;         /* the next packet's file and number (dispatch_set_position) */
    uint64_t pcap_cnt;
};

/* Live, each packet wakes its worker if it sleeps; offline a worker is
 * woken once an eighth of its ring is filled, and at every tick, wait and
 * end (ring_set_batch). */
void dispatch_init(struct dispatch *d, struct worker *workers, unsigned count, bool live);
/* Live: batch wake-ups as offline; the caller promises dispatch_flush
 * whenever the capture is about to wait for packets (capture_on_wait). */
void dispatch_batch_live(struct dispatch *d);
/* Every worker that sleeps is woken to read what its ring holds. */
void dispatch_flush(struct dispatch *d);
/* Packets to or from this TCP endpoint are counted (capture.excluded) and
 * dropped before any flow sees them. Set at start; -1 when the list is full. */
int dispatch_exclude(struct dispatch *d, uint8_t family, const uint8_t *addr, uint16_t port);
/* Where the next packet comes from, for pcap_filename/pcap_cnt: file is 1 +
 * the file's index, packet its number in that file (0 and 0 live). */
void dispatch_set_position(struct dispatch *d, uint32_t file, uint64_t packet);
/* One captured packet. */
void dispatch_packet(struct dispatch *d, const uint8_t *data, uint32_t caplen,
                     uint32_t wire_len, uint64_t ts_us, int linktype);
/* Live capture saw no packet for a while: time still moves. */
void dispatch_idle(struct dispatch *d, uint64_t now_us);
/* End of input: every worker flushes its flows and stops. */
void dispatch_end(struct dispatch *d);

#endif
