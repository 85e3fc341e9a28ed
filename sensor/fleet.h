/* fleet.h - counting a sweep across sensors, in the Redis they share.
 *
 * Each sensor's Redis sink reports, for every op from an outside client to a
 * protected server, the pair once per time bucket: a Lua script adds the
 * server to the client's HyperLogLog of that bucket (and the sensor to
 * another), counts the distinct servers over the window's buckets and, when
 * the count reaches servers_min, sets the client's "alerted" flag with NX:
 * only the sensor whose report takes the fleet over the threshold gets 1
 * back, and it alone raises the fleet alert. The keys share the hash tag of
 * the other keys ({scrapewatch}: one Redis Cluster slot, as a batch's
 * MULTI/EXEC needs).
 * README "Redis", "Fleet view". Used by the sink thread only. */
#ifndef SW_FLEET_H
#define SW_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define FLEET_BUCKETS 5        /* the window is counted in this many buckets */
#define FLEET_KEYS (2 * FLEET_BUCKETS + 1)
#define FLEET_KEY_MAX 192
#define FLEET_RULE_ID 6900

struct fleet;

/* The pair to report: the script's keys and arguments. */
struct fleet_report {
    char keys[FLEET_KEYS][FLEET_KEY_MAX];
    char server[64], actor[64];
    char buckets[8], servers_min[16], ttl[16], suppress[16];
    uint64_t ts_us;
    uint64_t seen_hash;   /* its mark in the memory of reports */
};

/* NULL when fleet counting is off or out of memory (err says which). */
struct fleet *fleet_new(const struct sw_config *cfg, char *err, size_t errlen);
void fleet_free(struct fleet *f);
/* An op from client `src` to server `dest` at ts_us: true and `out` filled
 * when it is a pair to report (outside client, protected server, not yet
 * reported in this bucket as far as the bounded memory of reports knows). */
bool fleet_observe(struct fleet *f, const char *src, size_t src_len, const char *dest,
                   size_t dest_len, uint64_t ts_us, struct fleet_report *out);
/* A report that did not reach Redis (its batch failed): forgotten, so that
 * the batch's retry reports it again. */
void fleet_forget(struct fleet *f, const struct fleet_report *rep);
/* The Lua script (EVAL): returns { crossed 0/1, servers, sensors }. */
const char *fleet_script(void);
/* The fleet alert event (JSON, one line, no newline) into buf; its length,
 * or 0 when it does not fit. */
size_t fleet_alert_json(const struct fleet *f, const struct fleet_report *rep,
                        long long servers, long long sensors, char *buf, size_t cap);

#endif
