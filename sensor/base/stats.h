/* stats.h - the sensor's counters.
 *
 * Every counter is named once here (X-macro) so that stats events, tests and
 * docs agree. Each thread owns one `struct stats` and is its only writer;
 * other threads may read it at any time. Writes are relaxed atomic load+store
 * (plain moves on x86), reads are relaxed loads: no locks, no torn values. */
#ifndef SW_STATS_H
#define SW_STATS_H

#include <stdatomic.h>
#include <stdint.h>

/* X(id, "dotted.name") -- the name is the JSON path in the stats event. */
#define STATS_LIST(X)                                                   \
    X(PACKETS, "capture.packets")                                       \
    X(BYTES, "capture.bytes")                                           \
    X(KERNEL_DROPS, "capture.kernel_drops")                             \
    X(IFACE_DROPS, "capture.interface_drops")                           \
    X(RING_DROPS, "capture.ring_drops")                                 \
    X(CAPTURE_EXCLUDED, "capture.excluded")                             \
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
    X(FLOWS_ACTIVE, "flows.active")                                     \
    X(FLOWS_CREATED, "flows.created")                                   \
    X(FLOWS_EVICTED, "flows.evicted")                                   \
    X(FLOWS_TIMED_OUT, "flows.timed_out")                               \
    X(FLOWS_CLOSED, "flows.closed")                                     \
    X(FLOWS_MIDSTREAM, "flows.midstream")                               \
    X(REASM_GAPS, "reassembly.gaps")                                    \
    X(REASM_GAP_BYTES, "reassembly.gap_bytes")                          \
    X(REASM_OOO_HELD, "reassembly.out_of_order_held")                   \
    X(REASM_RETRANS, "reassembly.retransmissions")                      \
    X(REASM_OVERLAPS, "reassembly.overlaps")                            \
    X(REASM_FLOW_CAP, "reassembly.flow_cap_hits")                       \
    X(REASM_GLOBAL_CAP, "reassembly.global_cap_hits")                   \
    X(REASM_AFTER_CLOSE, "reassembly.data_after_close")                 \
    X(NDPI_CLASSIFIED, "classify.ndpi_classified")                      \
    X(NDPI_GIVEUP, "classify.ndpi_gave_up")                             \
    X(PORT_CLASSIFIED, "classify.by_port")                              \
    X(HTTP_MALFORMED, "http.malformed")                                 \
    X(HTTP_HEADER_TOO_LARGE, "http.header_too_large")                   \
    X(HTTP_PENDING_OVERFLOW, "http.pending_overflow")                   \
    X(HTTP_UNPAIRED_RESPONSE, "http.unpaired_response")                 \
    X(HTTP_RESYNC, "http.resync")                                       \
    X(MONGODB_MALFORMED, "mongodb.malformed")                           \
    X(MONGODB_TOO_LARGE, "mongodb.too_large")                           \
    X(MONGODB_DECOMPRESS_ERRORS, "mongodb.decompress_errors")           \
    X(MONGODB_UNPAIRED, "mongodb.unpaired")                             \
    X(MONGODB_PENDING_OVERFLOW, "mongodb.pending_overflow")             \
    X(MONGODB_RESYNC, "mongodb.resync")                                 \
    X(OPS_HTTP, "ops.http")                                             \
    X(OPS_ELASTICSEARCH, "ops.elasticsearch")                           \
    X(OPS_OPENSEARCH, "ops.opensearch")                                 \
    X(OPS_MONGODB, "ops.mongodb")                                       \
    X(OPS_OTHER, "ops.other")                                           \
    X(CHAINS_STARTED, "chains.started")                                 \
    X(CHAINS_CONTINUED, "chains.continued")                             \
    X(CHAINS_FORGOTTEN, "chains.forgotten")                             \
    X(REDIS_SENT, "redis.sent")                                         \
    X(REDIS_QUEUED, "redis.queued")                                     \
    X(REDIS_SPOOLED, "redis.spooled")                                   \
    X(REDIS_REPLAYED, "redis.replayed")                                 \
    X(REDIS_DROPPED_QUEUE_FULL, "redis.dropped_queue_full")             \
    X(REDIS_DROPPED_SPOOL_FULL, "redis.dropped_spool_full")             \
    X(REDIS_DROPPED_SPOOL_ERROR, "redis.dropped_spool_error")           \
    X(REDIS_DROPPED_SHUTDOWN, "redis.dropped_shutdown")                 \
    X(REDIS_RECONNECTS, "redis.reconnects")                             \
    X(REDIS_ERRORS, "redis.errors")                                     \
    X(REDIS_TIMEOUTS, "redis.timeouts")                                 \
    X(RULES_MATCHED, "rules.matched")                                   \
    X(RULES_ALERTS, "rules.alerts")                                     \
    X(RULES_UPDATES, "rules.updates")                                   \
    X(RULES_SUPPRESSED, "rules.suppressed")                             \
    X(RULES_STATE_EVICTED, "rules.state_evicted")                       \
    X(EVENTS_OP, "events.op")                                           \
    X(EVENTS_FLOW, "events.flow")                                       \
    X(EVENTS_STATS, "events.stats")                                     \
    X(EVENTS_DROPPED, "events.dropped")

enum stat_id {
#define STAT_ENUM(id, name) STAT_##id,
    STATS_LIST(STAT_ENUM)
#undef STAT_ENUM
    STAT_COUNT
};

struct stats {
    _Atomic uint64_t v[STAT_COUNT];
};

/* Single-writer add: only the owning thread calls this on its struct. */
static inline void stats_add(struct stats *s, enum stat_id id, uint64_t n)
{
    uint64_t cur = atomic_load_explicit(&s->v[id], memory_order_relaxed);
    atomic_store_explicit(&s->v[id], cur + n, memory_order_relaxed);
}

static inline void stats_inc(struct stats *s, enum stat_id id)
{
    stats_add(s, id, 1);
}

static inline void stats_set(struct stats *s, enum stat_id id, uint64_t n)
{
    atomic_store_explicit(&s->v[id], n, memory_order_relaxed);
}

static inline uint64_t stats_get(const struct stats *s, enum stat_id id)
{
    return atomic_load_explicit(&s->v[id], memory_order_relaxed);
}

void stats_clear(struct stats *s);
/* sum += part, counter by counter */
void stats_accumulate(struct stats *sum, const struct stats *part);
const char *stats_name(enum stat_id id);

#endif
