/* flow.h - one worker's flow table.
 *
 * A chained hash table keyed by the canonical 5-tuple (endpoints sorted, so
 * both directions find the same flow), plus two LRU lists ordered by last
 * packet time: open flows, and flows whose TCP connection has closed (they
 * time out sooner). The table never holds more than `max` flows: creating one
 * more first evicts the least recently seen. Owned by one thread; no locks.
 * The bucket array grows with the flows, not with `max`: when the flows
 * outnumber the buckets the owner may double it (flow_table_grow, after
 * charging flow_table_grow_bytes to its budget), and the flows move to the
 * new array a few buckets per insert (an incremental rehash, as Redis's and
 * Zeek's dictionaries do), so no packet waits for a whole rehash. While
 * moving, a flow is in the old array if its old bucket is not moved yet,
 * else in the new one.
 * Invariants: count equals the flows in the lists and in the hash, and
 * every flow is in exactly one list, the one its `list` names (asserted
 * where cheap on every change, and walked whole when the table is
 * destroyed); the lists are ordered by last_us, except where packet time
 * stepped back (see flow_table_touch). */
#ifndef SW_FLOW_H
#define SW_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "../decoders/decoder.h"
#include "base/lru.h"
#include "base/pool.h"
#include "pipeline.h"
#include "reasm.h"

struct classify_flow;

struct flow_key {
    uint8_t addr_lo[16], addr_hi[16];  /* endpoints, sorted by (addr, port) */
    uint16_t port_lo, port_hi;
    uint8_t family, proto;
};

enum flow_list { FLOW_LIST_OPEN = 0, FLOW_LIST_CLOSED = 1, FLOW_LISTS };

/* Bytes seen before the decoder was chosen, replayed to it once chosen. */
struct flow_early {
    uint8_t *buf;
    size_t len;
};

/* What a flow needs once it carries bytes (payload, a FIN, an acknowledged
 * hole): reassembly, decoder and nDPI state, and the op bookkeeping. A flow
 * that never does (a SYN scan, a half-open connection) never has one. */
struct flow_ext {
    struct reasm_dir reasm[2];     /* [0] client->server, [1] server->client */
    struct flow_meta meta;         /* oriented client -> server; app is the head's */
    void *decoder_state;
    struct classify_flow *ndpi;    /* nDPI's state while it decides */
    struct flow_early early;       /* bytes in arrival order, tagged by dir */
    uint64_t gaps, gap_bytes, ops;
    uint64_t op_sub_seq;           /* seq of the message op_sub counts for */
    uint32_t op_sub;               /* records emitted for op_sub_seq */
};

/* The head: all a tracked flow costs until it carries bytes. Before the
 * extension exists, the TCP sequence state of each direction lives here
 * (what reasm_syn and a RST record); reasm_dir takes it over when the
 * extension is made. */
struct flow {
    struct flow *hash_next;
    struct lru_node lru;           /* on table lru[list] */
    struct flow_ext *ext;          /* NULL until the flow carries bytes */
    uint64_t first_seq;            /* seq of the packet that created it */
    uint64_t first_us, last_us;
    uint64_t pkts[2], bytes[2];
    uint32_t next_seq[2];          /* without ext: reasm's next_seq per dir */
    uint32_t tunnel_id;            /* flow_meta.tunnel_id: of the first packet */
    struct flow_key key;
    uint8_t list;                  /* enum flow_list */
    uint8_t orientation;           /* enum flow_orientation */
    uint8_t classified_by;         /* enum classified_by */
    uint8_t tcp_state;             /* enum tcp_state_bit, or-ed */
    uint8_t app;                   /* enum app_id, as in flow_meta.app */
    uint8_t client_is_lo;          /* the client is the key's low endpoint */
    uint8_t seq_known;             /* without ext: bit d, next_seq[d] valid */
    uint8_t ended;                 /* without ext: bit d, direction ended (RST) */
    uint8_t decided;               /* decoder chosen (or none will be) */
    uint8_t no_decoder;            /* nDPI named a database no decoder reads */
    uint8_t decoder_opened;        /* decoder->open was called (on first bytes) */
    uint8_t end_sent;              /* bit d: decoder told direction d ended */
    uint8_t end_reason;            /* enum flow_end_reason, when ended */
    uint8_t decoder_index;         /* into decoder_all(), when has_decoder */
    uint8_t has_decoder;           /* a decoder was attached */
    uint8_t ndpi_pending;          /* nDPI has not decided yet (state in ext) */
    uint8_t ndpi_packets;          /* packets counted towards ndpi.max_packets */
    uint8_t tunnel;                /* flow_meta.tunnel (0 = none) */
    uint8_t tunnel_has_id;         /* flow_meta.tunnel_has_id */
    uint8_t returned;              /* an evicted connection's again (evicted.h) */
    uint8_t in_iface;              /* flow_meta.in_iface: of the first packet */
    uint8_t syn_tool;              /* enum syn_tool of the SYN that opened it */
};

/* A payload-less flow's whole cost is its head plus its share of the
 * bucket array (8 to 16 bytes: one or two buckets per flow, three while a
 * doubling is under way): keep the head within this. */
#define FLOW_HEAD_MAX 160
_Static_assert(sizeof(struct flow) <= FLOW_HEAD_MAX, "flow head grew past FLOW_HEAD_MAX");

struct flow_table {
    struct flow **buckets;
    size_t bucket_count;           /* power of two */
    struct flow **old_buckets;     /* while rehashing: the array being emptied */
    size_t old_bucket_count;       /* its size (0 when not rehashing) */
    size_t rehash_next;            /* old buckets below this are moved */
    size_t count, max;
    struct lru_list lru[FLOW_LISTS];   /* per enum flow_list; head = oldest */
    struct pool heads;             /* struct flow */
    struct pool exts;              /* struct flow_ext */
    bool unhashed;                 /* flow_table_unhash_all was called */
};

int flow_table_init(struct flow_table *t, size_t max);
/* Frees every flow, its extension and early bytes (no callbacks). */
void flow_table_destroy(struct flow_table *t);
/* End of input: every flow is about to be removed, in creation order,
 * which has nothing to do with the buckets. Emptying the hash at once
 * spares each removal a bucket walk (a cache miss or two per flow on a
 * flood); from then on lookups find nothing and nothing may be inserted.
 * Every flow must be removed before flow_table_destroy. */
void flow_table_unhash_all(struct flow_table *t);

/* Canonical key for a packet's endpoints; *from_lo is 1 when the packet's
 * source is the key's low endpoint. */
void flow_key_make(struct flow_key *k, int family, uint8_t proto,
                   const uint8_t *src, uint16_t sport,
                   const uint8_t *dst, uint16_t dport, int *from_lo);
/* Symmetric hash of the endpoints: both directions give the same value;
 * used to choose the worker as well as the bucket. */
uint64_t flow_hash(const struct flow_key *k);

struct flow *flow_table_lookup(struct flow_table *t, const struct flow_key *k);
/* Inserts a new zeroed flow (no extension) with key k; NULL if allocation
 * failed. The caller must make room first (flow_table_full /
 * flow_table_oldest). */
struct flow *flow_table_insert(struct flow_table *t, const struct flow_key *k);
/* The same, for a caller that has flow_hash(k) already (the worker gets it
 * with each packet from dispatch): hash must be exactly that. */
struct flow *flow_table_lookup_hashed(struct flow_table *t, const struct flow_key *k,
                                      uint64_t hash);
struct flow *flow_table_insert_hashed(struct flow_table *t, const struct flow_key *k,
                                      uint64_t hash);
int flow_table_full(const struct flow_table *t);
/* Bytes a doubling of the bucket array would allocate now, or 0 when it
 * needs none (buckets at least as many as flows, a rehash under way, or
 * enough buckets for `max`). */
size_t flow_table_grow_bytes(const struct flow_table *t);
/* Starts that doubling (the caller charged it first); -1 when out of
 * memory (the table keeps working with longer chains). */
int flow_table_grow(struct flow_table *t);
/* Bytes of the bucket arrays now (both while rehashing). */
size_t flow_table_bucket_bytes(const struct flow_table *t);
/* Oldest flow of all (smallest last_us across both lists), or NULL. */
struct flow *flow_table_oldest(struct flow_table *t);
/* Marks a packet: moves f to the young end of its list. */
void flow_table_touch(struct flow_table *t, struct flow *f, uint64_t now_us);
/* Moves f to the closed list (TCP closed both ways or reset). */
void flow_table_mark_closed(struct flow_table *t, struct flow *f);
/* Unlinks f from hash and list; the caller frees it with flow_free. */
void flow_table_remove(struct flow_table *t, struct flow *f);
/* Returns f (removed) and its extension to the table's pools; the
 * extension's early bytes are freed, its other state must be already. */
void flow_free(struct flow_table *t, struct flow *f);
/* f's extension, made zeroed (from the table's pool) if it has none; NULL
 * when out of memory. The caller fills it in. */
struct flow_ext *flow_ext_make(struct flow_table *t, struct flow *f);

/* Collects up to `cap` flows idle past their timeout at `now_us` into out
 * (oldest first per list); returns how many. */
size_t flow_table_expired(struct flow_table *t, uint64_t now_us,
                          uint64_t idle_us, uint64_t closed_us,
                          struct flow **out, size_t cap);
/* Calls fn for every flow (order unspecified); fn must not modify the table. */
void flow_table_each(struct flow_table *t, void (*fn)(struct flow *, void *), void *arg);

#endif
