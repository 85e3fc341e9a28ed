/* stats.h - the sensor's counters.
 *
 * A `struct stats` is a flat array of counter slots:
 *   - the core's counters, each named once here (STATS_LIST), so that stats
 *     events, tests and docs agree;
 *   - ops per app, and flows that nDPI named as a database no enabled decoder
 *     reads, indexed by app id (decoders/apps.h);
 *   - the protocols' own counters: each decoder declares its group of
 *     counters in its folder, and the registry (decoders/registry.c) gives
 *     each group a range of STATS_PROTOCOL_MAX slots;
 *   - per live interface (sensor/inputs.h), INPUT_STATS counters each
 *     (enum input_stat), "interfaces.<name>.<counter>".
 * The names of the last four come from the layers that know them
 * (stats_slot_name, sensor/stats_names.c); this floor knows only the layout.
 *
 * Each thread owns one `struct stats` and is its only writer; other threads
 * may read it at any time. Writes are relaxed atomic load+store (plain moves
 * on x86), reads are relaxed loads: no locks, no torn values. */
#ifndef SW_STATS_H
#define SW_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "limits.h"

/* X(id, "dotted.name") -- the name is the JSON path in the stats event. */
#define STATS_LIST(X)                                                   \
    X(PACKETS, "capture.packets")                                       \
    X(BYTES, "capture.bytes")                                           \
    X(KERNEL_DROPS, "capture.kernel_drops")                             \
    X(IFACE_DROPS, "capture.interface_drops")                           \
    X(RING_DROPS, "capture.ring_drops")                                 \
    X(CAPTURE_EXCLUDED, "capture.excluded")                             \
    X(CAPTURE_UNREAD_AT_STOP, "capture.unread_at_stop")                 \
    X(TRUNCATED, "decode.truncated")                                    \
    X(LINK_UNKNOWN, "decode.unknown_linktype")                          \
    X(L3_UNKNOWN, "decode.unknown_ethertype")                           \
    X(VLAN_TOO_DEEP, "decode.vlan_too_deep")                            \
    X(IPV4_BAD, "decode.ipv4_bad_header")                               \
    X(IPV4_FRAGMENT, "decode.ipv4_fragment")                            \
    X(IPV6_BAD, "decode.ipv6_bad_header")                               \
    X(IPV6_FRAGMENT, "decode.ipv6_fragment")                            \
    X(IPV6_EXT_LIMIT, "decode.ipv6_too_many_ext_headers")               \
    X(L4_OTHER, "decode.other_ip_protocol")                             \
    X(TCP_BAD, "decode.tcp_bad_header")                                 \
    X(UDP_BAD, "decode.udp_bad_header")                                 \
    X(TCP_PACKETS, "decode.tcp")                                        \
    X(UDP_PACKETS, "decode.udp")                                        \
    X(TUNNEL_MPLS, "tunnel.mpls")                                       \
    X(TUNNEL_VXLAN, "tunnel.vxlan")                                     \
    X(TUNNEL_GENEVE, "tunnel.geneve")                                   \
    X(TUNNEL_GRE, "tunnel.gre")                                         \
    X(TUNNEL_ERSPAN1, "tunnel.erspan1")                                 \
    X(TUNNEL_ERSPAN2, "tunnel.erspan2")                                 \
    X(TUNNEL_ERSPAN3, "tunnel.erspan3")                                 \
    X(TUNNEL_IPIP, "tunnel.ipip")                                       \
    X(TUNNEL_IP6IP, "tunnel.ip6ip")                                     \
    X(TUNNEL_TOO_DEEP, "tunnel.too_deep")                               \
    X(TUNNEL_BAD, "tunnel.bad_header")                                  \
    X(FLOWS_ACTIVE, "flows.active")                                     \
    X(FLOWS_CREATED, "flows.created")                                   \
    X(FLOWS_EVICTED, "flows.evicted")                                   \
    X(FLOWS_TIMED_OUT, "flows.timed_out")                               \
    X(FLOWS_CLOSED, "flows.closed")                                     \
    X(FLOWS_MIDSTREAM, "flows.midstream")                               \
    X(FLOWS_NO_MEMORY, "flows.no_memory")                               \
    X(FLOWS_RETURNED, "flows.returned")                                 \
    X(FLOWS_EVICTED_AGAIN, "flows.evicted_again")                       \
    X(REASM_GAPS, "reassembly.gaps")                                    \
    X(REASM_GAP_BYTES, "reassembly.gap_bytes")                          \
    X(REASM_OOO_HELD, "reassembly.out_of_order_held")                   \
    X(REASM_RETRANS, "reassembly.retransmissions")                      \
    X(REASM_OVERLAPS, "reassembly.overlaps")                            \
    X(REASM_FLOW_CAP, "reassembly.flow_cap_hits")                       \
    X(REASM_GLOBAL_CAP, "reassembly.global_cap_hits")                   \
    X(REASM_AFTER_CLOSE, "reassembly.data_after_close")                 \
    X(MEM_USED, "memory.used")                                          \
    X(MEM_FLOWS_EVICTED, "memory.flows_evicted")                        \
    X(MEM_BUFFERS_CUT, "memory.buffers_cut")                            \
    X(NDPI_CLASSIFIED, "classify.ndpi_classified")                      \
    X(NDPI_GIVEUP, "classify.ndpi_gave_up")                             \
    X(PORT_CLASSIFIED, "classify.by_port")                              \
    X(PROBE_CLASSIFIED, "classify.by_probe")                            \
    X(PROBE_GIVEUP, "classify.probe_gave_up")                           \
    X(CHAINS_STARTED, "chains.started")                                 \
    X(CHAINS_CONTINUED, "chains.continued")                             \
    X(CHAINS_FORGOTTEN, "chains.forgotten")                             \
    X(OUTPUT_REDIS_SENT, "output_redis.sent")                           \
    X(OUTPUT_REDIS_QUEUED, "output_redis.queued")                       \
    X(OUTPUT_REDIS_SPOOLED, "output_redis.spooled")                     \
    X(OUTPUT_REDIS_REPLAYED, "output_redis.replayed")                   \
    X(OUTPUT_REDIS_DROPPED_QUEUE_FULL, "output_redis.dropped_queue_full")\
    X(OUTPUT_REDIS_DROPPED_SPOOL_FULL, "output_redis.dropped_spool_full")\
    X(OUTPUT_REDIS_DROPPED_SPOOL_ERROR, "output_redis.dropped_spool_error")\
    X(OUTPUT_REDIS_DROPPED_SHUTDOWN, "output_redis.dropped_shutdown")   \
    X(OUTPUT_REDIS_DROPPED_SPOOL_DAMAGED, "output_redis.dropped_spool_damaged")\
    X(OUTPUT_REDIS_SUBMITTED, "output_redis.submitted")                 \
    X(OUTPUT_REDIS_SPOOL_IO_ERRORS, "output_redis.spool_io_errors")     \
    X(OUTPUT_REDIS_SPOOL_SKIPPED_REGIONS, "output_redis.spool_skipped_regions")\
    X(OUTPUT_REDIS_SPOOL_SKIPPED_BYTES, "output_redis.spool_skipped_bytes")\
    X(OUTPUT_REDIS_LOST_PREVIOUS_RUN, "output_redis.lost_previous_run") \
    X(OUTPUT_REDIS_RECONNECTS, "output_redis.reconnects")               \
    X(OUTPUT_REDIS_ERRORS, "output_redis.errors")                       \
    X(OUTPUT_REDIS_TIMEOUTS, "output_redis.timeouts")                   \
    X(OUTPUT_REDIS_FLEET_REPORTS, "output_redis.fleet_reports")         \
    X(OUTPUT_REDIS_FLEET_ALERTS, "output_redis.fleet_alerts")           \
    X(OUTPUT_REDIS_FLEET_ALERTS_LOST, "output_redis.fleet_alerts_lost") \
    X(RULES_MATCHED, "rules.matched")                                   \
    X(RULES_ALERTS, "rules.alerts")                                     \
    X(RULES_UPDATES, "rules.updates")                                   \
    X(RULES_SUPPRESSED, "rules.suppressed")                             \
    X(RULES_STATE_EVICTED, "rules.state_evicted")                       \
    X(EVENTS_OP, "events.op")                                           \
    X(EVENTS_FLOW, "events.flow")                                       \
    X(EVENTS_STATS, "events.stats")                                     \
    X(EVENTS_DROPPED, "events.dropped")                                 \
    /* attribution by reverse DNS (sensor/rdns.h), issue 14 point 9 */  \
    X(RDNS_REQUESTED, "rdns.requested")                                 \
    X(RDNS_QUEUE_FULL, "rdns.queue_full")                               \
    X(RDNS_CACHE_EVICTED, "rdns.cache_evicted")                         \
    X(RDNS_ATTRIBUTED, "rdns.attributed")                               \
    X(RDNS_LOOKUPS, "rdns.lookups")                                     \
    X(RDNS_CONFIRMED, "rdns.confirmed")                                 \
    X(RDNS_UNCONFIRMED, "rdns.unconfirmed")                             \
    X(RDNS_NO_NAME, "rdns.no_name")                                     \
    X(RDNS_FAILED, "rdns.failed")                                       \
    X(RDNS_ABANDONED, "rdns.abandoned_at_stop")

enum stat_id {
#define STAT_ENUM(id, name) STAT_##id,
    STATS_LIST(STAT_ENUM)
#undef STAT_ENUM
    STAT_COUNT
};

#define STATS_APP_MAX 32        /* apps with an ops counter (decoders/apps.h) */
#define STATS_PROTOCOL_MAX 192  /* slots for all decoders' counters together */

enum stats_layout {
    STATS_OPS_BASE = STAT_COUNT,                              /* + app id */
    STATS_NO_DECODER_BASE = STATS_OPS_BASE + STATS_APP_MAX,   /* + app id */
    STATS_PROTOCOL_BASE = STATS_NO_DECODER_BASE + STATS_APP_MAX,
    STATS_INPUT_BASE = STATS_PROTOCOL_BASE + STATS_PROTOCOL_MAX,   /* + enum input_stat */
    STATS_SLOTS = STATS_INPUT_BASE + INPUTS_MAX * 5
};

/* X(id, "name") -- one live interface's counters, the causes of loss as in
 * the capture group. */
#define INPUT_STATS_LIST(X)                                             \
    X(PACKETS, "packets")                                               \
    X(KERNEL_DROPS, "kernel_drops")                                     \
    X(IFACE_DROPS, "interface_drops")                                   \
    X(RING_DROPS, "ring_drops")                                         \
    X(UNREAD_AT_STOP, "unread_at_stop")

enum input_stat {
#define INPUT_STAT_ENUM(id, name) INPUT_STAT_##id,
    INPUT_STATS_LIST(INPUT_STAT_ENUM)
#undef INPUT_STAT_ENUM
    INPUT_STATS
};
_Static_assert(INPUT_STATS == 5, "STATS_SLOTS reserves 5 counters per interface");

/* The slot of counter `which` of interface `index` (1..INPUTS_MAX). */
static inline unsigned stats_input_slot(unsigned index, enum input_stat which)
{
    return STATS_INPUT_BASE + (index - 1) * INPUT_STATS + (unsigned)which;
}

typedef _Atomic uint64_t stats_counter;

struct stats {
    stats_counter v[STATS_SLOTS];
};

/* Single-writer add to one slot: only the owning thread writes its slots. */
static inline void stats_counter_add(stats_counter *c, uint64_t n)
{
    uint64_t cur = atomic_load_explicit(c, memory_order_relaxed);
    atomic_store_explicit(c, cur + n, memory_order_relaxed);
}

static inline uint64_t stats_counter_get(const stats_counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static inline void stats_add(struct stats *s, unsigned slot, uint64_t n)
{
    stats_counter_add(&s->v[slot], n);
}

static inline void stats_inc(struct stats *s, unsigned slot)
{
    stats_add(s, slot, 1);
}

static inline void stats_set(struct stats *s, unsigned slot, uint64_t n)
{
    atomic_store_explicit(&s->v[slot], n, memory_order_relaxed);
}

static inline uint64_t stats_get(const struct stats *s, unsigned slot)
{
    return stats_counter_get(&s->v[slot]);
}

void stats_clear(struct stats *s);
/* sum += part, slot by slot */
void stats_accumulate(struct stats *sum, const struct stats *part);
/* Name of a core counter ("capture.packets"); NULL past STAT_COUNT. */
const char *stats_name(unsigned slot);

#endif
