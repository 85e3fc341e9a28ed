/* fleet.c - counting a sweep across sensors (fleet.h). */
#include "fleet.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "event_json.h"
#include "../rules/netlist.h"

/* Pairs already reported, by hash of (client, server, bucket): a slot
 * overwritten by another pair only costs one more (idempotent) report. */
#define FLEET_SEEN_SLOTS 65536

struct fleet {
    const struct sw_config *cfg;
    struct netlist *home, *trusted;
    uint64_t bucket_us;
    uint64_t seen[FLEET_SEEN_SLOTS];
};

struct fleet *fleet_new(const struct sw_config *cfg, char *err, size_t errlen)
{
    const struct detect_settings *ds = &cfg->detect;
    if (!cfg->output.redis.fleet.enabled) {
        snprintf(err, errlen, "fleet counting is off");
        return NULL;
    }
    struct fleet *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    f->cfg = cfg;
    f->bucket_us = (uint64_t)cfg->output.redis.fleet.window * 1000000 / FLEET_BUCKETS;
    if (f->bucket_us == 0)
        f->bucket_us = 1;
    f->home = netlist_from_texts(ds->home_nets[0], ds->home_net_count, DETECT_NET_LEN,
                                 "detect.home_nets", err, errlen);
    f->trusted = f->home ? netlist_from_texts(ds->trusted_clients[0], ds->trusted_client_count,
                                              DETECT_NET_LEN, "detect.trusted_clients",
                                              err, errlen) : NULL;
    if (!f->trusted) {
        fleet_free(f);
        return NULL;
    }
    return f;
}

void fleet_free(struct fleet *f)
{
    if (!f)
        return;
    if (f->home)
        netlist_free(f->home);
    if (f->trusted)
        netlist_free(f->trusted);
    free(f);
}

static bool in_list(const struct netlist *n, const char *ip)
{
    uint8_t addr[16] = {0};
    const char *label;
    if (inet_pton(AF_INET, ip, addr) == 1)
        return netlist_lookup(n, 4, addr, &label) > 0;
    if (inet_pton(AF_INET6, ip, addr) == 1)
        return netlist_lookup(n, 6, addr, &label) > 0;
    return false;
}

/* Outside client to a protected server (every server is, with no home_nets),
 * as the rules' default `from = "outside"` has it. */
static bool pair_counts(const struct fleet *f, const char *src, const char *dest)
{
    if (in_list(f->trusted, src) || in_list(f->home, src))
        return false;
    return netlist_size(f->home) == 0 || in_list(f->home, dest);
}

static bool copy_ip(char *out, size_t cap, const char *s, size_t len)
{
    if (len == 0 || len >= cap)
        return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

static void fill_keys(const struct fleet *f, struct fleet_report *r, uint64_t bucket)
{
    const char *prefix = f->cfg->output.redis.fleet.prefix;
    for (unsigned i = 0; i < FLEET_BUCKETS; i++) {
        uint64_t b = bucket - i;
        snprintf(r->keys[i], FLEET_KEY_MAX, "%s%s:servers:%" PRIu64, prefix, r->actor, b);
        snprintf(r->keys[FLEET_BUCKETS + i], FLEET_KEY_MAX, "%s%s:sensors:%" PRIu64,
                 prefix, r->actor, b);
    }
    snprintf(r->keys[2 * FLEET_BUCKETS], FLEET_KEY_MAX, "%s%s:alerted", prefix, r->actor);
}

bool fleet_observe(struct fleet *f, const char *src, size_t src_len, const char *dest,
                   size_t dest_len, uint64_t ts_us, struct fleet_report *out)
{
    const struct config_output_redis *rc = &f->cfg->output.redis;
    if (!copy_ip(out->actor, sizeof(out->actor), src, src_len) ||
        !copy_ip(out->server, sizeof(out->server), dest, dest_len) ||
        !pair_counts(f, out->actor, out->server))
        return false;
    uint64_t bucket = ts_us / f->bucket_us;
    uint64_t h = hash_fnv1a64_str(out->actor);
    h = hash_fnv1a64_update(h, "|", 1);
    h = hash_fnv1a64_update(h, out->server, strlen(out->server));
    h = hash_fnv1a64_update(h, &bucket, sizeof(bucket)) | 1;
    uint64_t *slot = &f->seen[h % FLEET_SEEN_SLOTS];
    if (*slot == h)
        return false;
    *slot = h;
    out->seen_hash = h;
    out->ts_us = ts_us;
    fill_keys(f, out, bucket);
    snprintf(out->buckets, sizeof(out->buckets), "%u", FLEET_BUCKETS);
    snprintf(out->servers_min, sizeof(out->servers_min), "%u", rc->fleet.servers_min);
    /* a bucket's keys live as long as a window can reach back to them */
    snprintf(out->ttl, sizeof(out->ttl), "%llu",
             (unsigned long long)(rc->fleet.window + f->bucket_us / 1000000 + 1));
    snprintf(out->suppress, sizeof(out->suppress), "%u", rc->fleet.suppress);
    return true;
}

void fleet_forget(struct fleet *f, const struct fleet_report *rep)
{
    uint64_t *slot = &f->seen[rep->seen_hash % FLEET_SEEN_SLOTS];
    if (*slot == rep->seen_hash)
        *slot = 0;
}

const char *fleet_script(void)
{
    return
        "-- scrapewatch fleet view (sensor/fleet.h)\n"
        "-- KEYS: servers HLLs of the window's buckets (newest first), then the\n"
        "-- sensors HLLs, then the client's alerted flag.\n"
        "-- ARGV: server, sensor id, buckets, servers_min, key ttl, suppress seconds\n"
        "local n = tonumber(ARGV[3])\n"
        "redis.call('PFADD', KEYS[1], ARGV[1])\n"
        "redis.call('EXPIRE', KEYS[1], ARGV[5])\n"
        "redis.call('PFADD', KEYS[n + 1], ARGV[2])\n"
        "redis.call('EXPIRE', KEYS[n + 1], ARGV[5])\n"
        "local servers = redis.call('PFCOUNT', unpack(KEYS, 1, n))\n"
        "if servers < tonumber(ARGV[4]) then return { 0, servers, 0 } end\n"
        "local sensors = redis.call('PFCOUNT', unpack(KEYS, n + 1, 2 * n))\n"
        "if redis.call('SET', KEYS[2 * n + 1], ARGV[2], 'NX', 'EX', ARGV[6]) then\n"
        "  return { 1, servers, sensors }\n"
        "end\n"
        "return { 0, servers, sensors }\n";
}

size_t fleet_alert_json(const struct fleet *f, const struct fleet_report *rep,
                        long long servers, long long sensors, char *buf, size_t cap)
{
    const struct config_output_redis *rc = &f->cfg->output.redis;
    const char *id = f->cfg->sensor.id;
    char when[40], name[160];
    event_time_format(rep->ts_us, when, sizeof(when));
    snprintf(name, sizeof(name), "Fleet-wide sweep: one source touched %u protected servers "
             "in %u seconds, across sensors", rc->fleet.servers_min, rc->fleet.window);
    int n = snprintf(buf, cap,
        "{\"timestamp\":\"%s\",\"sensor\":\"%s\",\"host\":\"%s\",\"event_type\":\"alert\","
        "\"src_ip\":\"%s\",\"dest_ip\":\"%s\","
        "\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":%d,\"rev\":1,"
        "\"signature\":\"%s\",\"category\":\"reconnaissance\",\"severity\":2,"
        "\"metadata\":{\"mitre_technique_id\":[\"T1595.001\",\"T1046\"],"
        "\"mitre_tactic_name\":[\"reconnaissance\",\"discovery\"],\"confidence\":[\"medium\"],"
        "\"attack_stage\":[\"indexed\"]},"
        "\"rule_info\":{\"id\":%d,\"name\":\"%s\",\"severity\":\"medium\","
        "\"category\":\"reconnaissance\",\"mitre\":[\"T1595.001\",\"T1046\"]},"
        "\"update\":0,\"key\":\"src\",\"scope\":\"fleet\",\"actor\":{\"ip\":\"%s\"},"
        "\"evidence\":{\"servers\":%lld,\"sensors\":%lld,\"window\":%u,\"last_server\":\"%s\"}}}",
        when, id, id, rep->actor, rep->server, FLEET_RULE_ID, name, FLEET_RULE_ID, name,
        rep->actor, servers, sensors, rc->fleet.window, rep->server);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
