/* config.c - defaults, and loading a libconfig file over them.
 *
 * The file is checked against a schema table: every setting in the file must
 * name a known group and key, have the right type and lie in its range. The
 * first problem found, in file order, is reported as one line
 * "file:line: message" so that a typo never silently becomes a default. */
#include "config.h"

#include "../rules/netlist.h"
#include "base/limits.h"
#include "inputs.h"
#include "paths.h"

#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define CFG_UNSIGNED(name, field, lo, hi) \
    { name, KEY_UNSIGNED, offsetof(struct sw_config, field), 0, lo, hi, 1, NULL, NULL, 0, 0, NULL }
#define CFG_SIZE(name, field, lo, hi, scale) \
    { name, KEY_SIZE, offsetof(struct sw_config, field), 0, lo, hi, scale, NULL, NULL, 0, 0, NULL }
#define CFG_BOOL(name, field) \
    { name, KEY_BOOL, offsetof(struct sw_config, field), 0, 0, 1, 1, NULL, NULL, 0, 0, NULL }
#define CFG_STRING(name, field, minlen) \
    { name, KEY_STRING, offsetof(struct sw_config, field), \
      sizeof(((struct sw_config *)0)->field), minlen, \
      (long long)sizeof(((struct sw_config *)0)->field) - 1, 1, NULL, NULL, 0, 0, NULL }

#define CFG_CHOICE(name, field, list) \
    { name, KEY_CHOICE, offsetof(struct sw_config, field), \
      sizeof(((struct sw_config *)0)->field), 0, 0, 1, list, NULL, 0, 0, NULL }
#define CFG_GROUP(name, table) \
    { name, KEY_GROUP, 0, 0, 0, 0, 1, NULL, table, sizeof(table) / sizeof(table[0]), 0, NULL }

static const struct config_key sensor_keys[] = {
    CFG_STRING("id", sensor.id, 1),
    CFG_UNSIGNED("workers", sensor.workers, 1, WORKERS_MAX),
    CFG_STRING("user", sensor.user, 0),
};

static const struct config_key capture_keys[] = {
    CFG_UNSIGNED("snaplen", capture.snaplen, 64, SNAPLEN_MAX),
    CFG_UNSIGNED("buffer_mb", capture.buffer_mb, 1, 4096),
    CFG_BOOL("promisc", capture.promisc),
    CFG_STRING("bpf", capture.bpf, 0),
    CFG_UNSIGNED("ring_kb", capture.ring_kb, 64, 1048576),
    CFG_UNSIGNED("timeout_ms", capture.timeout_ms, 1, 60000),
    CFG_UNSIGNED("fanout_group", capture.fanout_group, 0, 65535),
    { "interfaces", KEY_IFACES, offsetof(struct sw_config, capture.interfaces),
      offsetof(struct sw_config, capture.interface_count), 0, 0, 1, NULL, NULL, 0, 0, NULL },
};

static const struct config_key tunnels_keys[] = {
    CFG_UNSIGNED("vxlan_port", tunnels.vxlan_port, 0, 65535),
    CFG_UNSIGNED("geneve_port", tunnels.geneve_port, 0, 65535),
    CFG_UNSIGNED("max_depth", tunnels.max_depth, 1, 8),
};

static const struct config_key flows_keys[] = {
    CFG_UNSIGNED("max", flows.max, 1, 100000000),
    CFG_UNSIGNED("idle_timeout", flows.idle_timeout, 1, 86400),
    CFG_UNSIGNED("closed_timeout", flows.closed_timeout, 0, 3600),
};

static const struct config_key reassembly_keys[] = {
    CFG_UNSIGNED("flow_max_kb", reassembly.flow_max_kb, 1, 1048576),
    CFG_UNSIGNED("total_max_mb", reassembly.total_max_mb, 1, 65536),
};

static const struct config_key memory_keys[] = {
    CFG_UNSIGNED("budget_mb", memory.budget_mb, 16, 1048576),
    CFG_UNSIGNED("rules_mb", memory.rules_mb, 1, 1048576),
};

static const struct config_key ndpi_keys[] = {
    CFG_BOOL("enabled", ndpi.enabled),
    CFG_UNSIGNED("max_packets", ndpi.max_packets, 1, 255),
};

static const struct config_key events_keys[] = {
    CFG_BOOL("op", events.op),
    CFG_BOOL("flow", events.flow),
    CFG_UNSIGNED("stats_interval", events.stats_interval, 0, 86400),
    CFG_UNSIGNED("string_max", events.string_max, 16, 65536),
    CFG_UNSIGNED("queue", events.queue, 64, 1048576),
};

static const char *const redis_publish_choices[] = { "alert", "all", NULL };
static const char *const redis_fsync_choices[] = { "always", "batch", "never", NULL };

static const struct config_key redis_fleet_keys[] = {
    CFG_BOOL("enabled", output.redis.fleet.enabled),
    CFG_UNSIGNED("window", output.redis.fleet.window, 1, 86400),
    CFG_UNSIGNED("servers_min", output.redis.fleet.servers_min, 2, 1000000),
    CFG_UNSIGNED("suppress", output.redis.fleet.suppress, 1, 31536000),
    CFG_STRING("prefix", output.redis.fleet.prefix, 1),
};

static const struct config_key redis_keys[] = {
    CFG_BOOL("enabled", output.redis.enabled),
    CFG_STRING("host", output.redis.host, 1),
    CFG_UNSIGNED("port", output.redis.port, 1, 65535),
    CFG_STRING("unix_socket", output.redis.unix_socket, 0),
    CFG_UNSIGNED("db", output.redis.db, 0, 1000000),
    CFG_STRING("password", output.redis.password, 0),
    CFG_STRING("stream", output.redis.stream, 1),
    CFG_UNSIGNED("maxlen", output.redis.maxlen, 0, 1000000000),
    CFG_STRING("channel", output.redis.channel, 1),
    CFG_CHOICE("publish", output.redis.publish, redis_publish_choices),
    CFG_STRING("health_key", output.redis.health_key, 0),
    CFG_STRING("alerts_stream", output.redis.alerts_stream, 0),
    CFG_UNSIGNED("alerts_maxlen", output.redis.alerts_maxlen, 0, 1000000000),
    CFG_BOOL("metrics", output.redis.metrics),
    CFG_STRING("metrics_key", output.redis.metrics_key, 0),
    CFG_UNSIGNED("metrics_maxlen", output.redis.metrics_maxlen, 0, 1000000000),
    CFG_STRING("top_prefix", output.redis.top_prefix, 1),
    CFG_STRING("counters_prefix", output.redis.counters_prefix, 0),
    CFG_UNSIGNED("counters_ttl", output.redis.counters_ttl, 0, 31536000),
    CFG_UNSIGNED("connect_timeout_ms", output.redis.connect_timeout_ms, 1, 600000),
    CFG_UNSIGNED("command_timeout_ms", output.redis.command_timeout_ms, 1, 600000),
    CFG_UNSIGNED("batch_max", output.redis.batch_max, 1, 100000),
    CFG_UNSIGNED("flush_ms", output.redis.flush_ms, 1, 60000),
    CFG_SIZE("queue_mb", output.redis.queue_bytes, 1, 65536, 1024 * 1024),
    CFG_BOOL("spool", output.redis.spool),
    CFG_STRING("spool_path", output.redis.spool_path, 0),
    CFG_SIZE("spool_max_mb", output.redis.spool_max_bytes, 1, 1048576, 1024 * 1024),
    CFG_CHOICE("spool_fsync", output.redis.spool_fsync, redis_fsync_choices),
    CFG_UNSIGNED("reconnect_min_ms", output.redis.reconnect_min_ms, 1, 3600000),
    CFG_UNSIGNED("reconnect_max_ms", output.redis.reconnect_max_ms, 1, 3600000),
    CFG_UNSIGNED("shutdown_timeout_ms", output.redis.shutdown_timeout_ms, 0, 600000),
    CFG_GROUP("fleet", redis_fleet_keys),
};

#define CFG_NETS(name, field, count) \
    { name, KEY_NETS, offsetof(struct sw_config, field), \
      offsetof(struct sw_config, count), 0, 0, 1, NULL, NULL, 0, 0, NULL }

static const struct config_key detect_keys[] = {
    CFG_STRING("rules", detect.rules, 0),
    CFG_STRING("lists", detect.lists, 1),
    CFG_NETS("home_nets", detect.home_nets, detect.home_net_count),
    CFG_NETS("trusted_clients", detect.trusted_clients, detect.trusted_client_count),
    CFG_UNSIGNED("max_keys", detect.max_keys, 1, 100000000),
    CFG_UNSIGNED("distinct_exact", detect.distinct_exact, 1, 4096),
};

/* rdns: attribution by forward-confirmed reverse DNS (sensor/rdns.h). */
static const struct config_key rdns_keys[] = {
    CFG_BOOL("enabled", rdns.enabled),
    CFG_STRING("domains", rdns.domains, 1),
    CFG_STRING("cache_file", rdns.cache_file, 0),
    CFG_STRING("save_file", rdns.save_file, 0),
    CFG_UNSIGNED("queue", rdns.queue, 1, 65536),
    CFG_UNSIGNED("cache_max", rdns.cache_max, 1, 10000000),
    CFG_UNSIGNED("ttl", rdns.ttl, 1, 604800),
    CFG_UNSIGNED("negative_ttl", rdns.negative_ttl, 1, 604800),
    CFG_UNSIGNED("timeout", rdns.timeout, 1, 30),
};

static const struct config_key output_keys[] = {
    CFG_STRING("json", output.json, 0),
    CFG_GROUP("redis", redis_keys),
};

/* The keys of one entry under `decoders`, relative to struct config_decoder. */
static const struct config_key decoder_keys[] = {
    { "enabled", KEY_BOOL, offsetof(struct config_decoder, enabled), 0, 0, 1, 1, NULL, NULL, 0, 0, NULL },
    { "ports", KEY_PORTS, offsetof(struct config_decoder, ports),
      offsetof(struct config_decoder, port_count), 1, 65535, 1, NULL, NULL, 0, 0, NULL },
    { "udp_ports", KEY_PORTS, offsetof(struct config_decoder, udp_ports),
      offsetof(struct config_decoder, udp_port_count), 1, 65535, 1, NULL, NULL, 0, 0, NULL },
};

#define KEYS(table) table, sizeof(table) / sizeof(table[0])

struct config_group {
    const char *name;
    const struct config_key *keys;  /* NULL: the `decoders` group */
    size_t key_count;
};

static const struct config_group config_groups[] = {
    { "sensor", KEYS(sensor_keys) },
    { "capture", KEYS(capture_keys) },
    { "tunnels", KEYS(tunnels_keys) },
    { "flows", KEYS(flows_keys) },
    { "reassembly", KEYS(reassembly_keys) },
    { "memory", KEYS(memory_keys) },
    { "ndpi", KEYS(ndpi_keys) },
    { "decoders", NULL, 0 },
    { "events", KEYS(events_keys) },
    { "output", KEYS(output_keys) },
    { "detect", KEYS(detect_keys) },
    { "rdns", KEYS(rdns_keys) },
};

/* Off: an operator enables it knowingly (it sends outside addresses to
 * the DNS resolvers; README "Crawler attribution by reverse DNS"). */
static void config_default_rdns(struct config_rdns *r)
{
    r->enabled = false;
    snprintf(r->domains, sizeof(r->domains), "%s", "crawlers");
    r->queue = 256;
    r->cache_max = 16384;
    r->ttl = 86400;
    r->negative_ttl = 3600;
    r->timeout = 2;
}

/* Every registered decoder, enabled on the server ports it names, with its
 * parameters at their defaults: the protocol owns both (decoders/). */
static void config_default_decoders(struct sw_config *cfg)
{
    const struct decoder *const *all = decoder_all();
    for (size_t i = 0; all[i] != NULL && i < DECODERS_MAX; i++) {
        const struct decoder *dec = all[i];
        struct config_decoder *d = &cfg->decoders[cfg->decoder_count++];
        snprintf(d->name, sizeof(d->name), "%s", dec->name);
        d->enabled = true;
        for (size_t k = 0; k < dec->port_count && k < DECODER_PORTS_MAX; k++)
            d->ports[d->port_count++] = dec->ports[k];
        for (size_t k = 0; k < dec->udp_port_count && k < DECODER_PORTS_MAX; k++)
            d->udp_ports[d->udp_port_count++] = dec->udp_ports[k];
        const void *params = decoder_default_params(dec);
        if (dec->settings != NULL && params != NULL)
            memcpy(cfg->decoder_params[i], params, dec->settings->params_size);
    }
}

void config_defaults(struct sw_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->sensor.id, sizeof(cfg->sensor.id), "%s", "scrapewatch");
    cfg->sensor.workers = 2;
    cfg->capture.snaplen = 65535;
    cfg->capture.buffer_mb = 64;
    cfg->capture.promisc = true;
    cfg->capture.ring_kb = 4096;
    cfg->capture.timeout_ms = 100;
    cfg->tunnels.vxlan_port = 4789;
    cfg->tunnels.geneve_port = 6081;
    cfg->tunnels.max_depth = 4;
    cfg->flows.max = 200000;
    cfg->flows.idle_timeout = 600;
    cfg->flows.closed_timeout = 5;
    cfg->reassembly.flow_max_kb = 1024;
    cfg->reassembly.total_max_mb = 512;
    cfg->memory.budget_mb = 1024;
    cfg->memory.rules_mb = 128;
    cfg->ndpi.enabled = true;
    cfg->ndpi.max_packets = 12;
    config_default_decoders(cfg);

    cfg->events.op = true;
    cfg->events.flow = true;
    cfg->events.stats_interval = 60;
    cfg->events.string_max = 256;
    cfg->events.queue = 4096;

    struct config_output_redis *r = &cfg->output.redis;
    r->enabled = false;
    snprintf(r->host, sizeof(r->host), "%s", "127.0.0.1");
    r->port = 6379;
    /* Keys share the hash tag {scrapewatch}: a batch is one MULTI/EXEC,
     * which a Redis Cluster runs only on keys of one slot. */
    snprintf(r->stream, sizeof(r->stream), "%s", "{scrapewatch}:events");
    r->maxlen = 100000;
    snprintf(r->channel, sizeof(r->channel), "%s", "scrapewatch:alerts");
    snprintf(r->publish, sizeof(r->publish), "%s", "alert");
    snprintf(r->alerts_stream, sizeof(r->alerts_stream), "%s", "{scrapewatch}:alerts");
    r->alerts_maxlen = 100000;
    r->metrics = true;
    r->metrics_maxlen = 43200;   /* 30 days of minutes */
    snprintf(r->top_prefix, sizeof(r->top_prefix), "%s", "{scrapewatch}:top:");
    snprintf(r->counters_prefix, sizeof(r->counters_prefix), "%s", "{scrapewatch}:counts:");
    r->counters_ttl = 7 * 86400;
    r->connect_timeout_ms = 1000;
    r->command_timeout_ms = 2000;
    r->batch_max = 256;
    r->flush_ms = 50;
    r->queue_bytes = (size_t)64 * 1024 * 1024;
    r->spool = true;
    r->spool_max_bytes = (size_t)1024 * 1024 * 1024;
    snprintf(r->spool_fsync, sizeof(r->spool_fsync), "%s", "batch");
    r->reconnect_min_ms = 100;
    r->reconnect_max_ms = 5000;
    r->shutdown_timeout_ms = 5000;
    r->fleet.enabled = false;
    r->fleet.window = 600;
    r->fleet.servers_min = 10;
    r->fleet.suppress = 3600;
    snprintf(r->fleet.prefix, sizeof(r->fleet.prefix), "%s", "{scrapewatch}:fleet:");

    paths_default_rules(cfg->detect.rules, sizeof(cfg->detect.rules));
    paths_default_lists(cfg->detect.lists, sizeof(cfg->detect.lists));
    cfg->detect.max_keys = 100000;
    cfg->detect.distinct_exact = 64;
    config_default_rdns(&cfg->rdns);
    /* Like Suricata's HOME_NET: the private ranges are ours, the internet
     * is outside. */
    static const char *const private_nets[] = {
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
    };
    for (size_t i = 0; i < sizeof(private_nets) / sizeof(private_nets[0]); i++)
        snprintf(cfg->detect.home_nets[cfg->detect.home_net_count++], DETECT_NET_LEN, "%s",
                 private_nets[i]);
}

/* State of one load: where errors go, and the file name for settings that
 * do not know theirs. */
struct config_loader {
    const char *path;
    char *err;
    size_t errlen;
    char dir[512];      /* the file's directory, where @include looks */
    char absdir[PATH_MAX];  /* the same, absolute: relative paths start here */
};

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int config_fail(struct config_loader *ld, const char *file, int line,
                       const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!ld->err || ld->errlen == 0)
        return -1;
    /* libconfig names an included file as written in @include; show the
     * path it was actually read from. */
    const char *dir = "", *sep = "";
    if (file != ld->path && strcmp(file, ld->path) != 0 && file[0] != '/' &&
        ld->dir[0] != '\0' && strcmp(ld->dir, ".") != 0) {
        dir = ld->dir;
        sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
    }
    if (line > 0)
        snprintf(ld->err, ld->errlen, "%s%s%s:%d: %s", dir, sep, file, line, msg);
    else
        snprintf(ld->err, ld->errlen, "%s%s%s: %s", dir, sep, file, msg);
    return -1;
}

/* Reports a problem with setting `s`, at the file and line it came from. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int setting_fail(struct config_loader *ld, const config_setting_t *s,
                        const char *fmt, ...)
{
    char msg[480];
    va_list ap;
    const char *file = config_setting_source_file(s);

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return config_fail(ld, file ? file : ld->path,
                       (int)config_setting_source_line(s), "%s", msg);
}

static bool setting_is_integer(const config_setting_t *s)
{
    int type = config_setting_type(s);
    return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
}

/* Index of the decoders entry called name, or -1. */
static int config_entry_index(const struct sw_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->decoder_count; i++)
        if (strcmp(cfg->decoders[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* One of a decoder entry's port lists (TCP or UDP, by the key's offsets). */
static uint16_t *port_list(const struct config_decoder *d, const struct config_key *key,
                           size_t **count)
{
    *count = (size_t *)(void *)((char *)d + key->size);
    return (uint16_t *)(void *)((char *)d + key->offset);
}

/* Reads a ports list into d. A port may appear once in the whole decoders
 * table, per transport: otherwise which decoder a server port selects would
 * be ambiguous. */
static int load_ports(struct config_loader *ld, struct sw_config *cfg,
                      struct config_decoder *d, const config_setting_t *s,
                      const struct config_key *key, const char *path)
{
    size_t *own_count;
    uint16_t *own = port_list(d, key, &own_count);
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
        return setting_fail(ld, s, "'%s' must be an array of port numbers", path);

    int n = config_setting_length(s);
    *own_count = 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        /* Elements carry no line of their own in libconfig 1.5. */
        const config_setting_t *where = config_setting_source_line(e) ? e : s;
        if (!setting_is_integer(e))
            return setting_fail(ld, where, "'%s' must be an array of port numbers", path);
        long long v = config_setting_get_int64(e);
        if (v < key->min || v > key->max)
            return setting_fail(ld, where, "'%s' ports must be between %lld and %lld",
                                path, key->min, key->max);
        for (size_t j = 0; j < cfg->decoder_count; j++) {
            const struct config_decoder *other = &cfg->decoders[j];
            size_t *count;
            const uint16_t *ports = port_list(other, key, &count);
            for (size_t k = 0; k < *count; k++) {
                if (ports[k] != v)
                    continue;
                if (other == d)
                    return setting_fail(ld, where, "duplicate port %lld in '%s'", v, path);
                return setting_fail(ld, where,
                                    "port %lld in '%s' is already used by decoder '%s'",
                                    v, path, other->name);
            }
        }
        if (*own_count >= DECODER_PORTS_MAX)
            return setting_fail(ld, where, "'%s' has more than %d ports", path,
                                DECODER_PORTS_MAX);
        own[(*own_count)++] = (uint16_t)v;
    }
    return 0;
}

/* Reads an array of CIDR strings (detect.home_nets, detect.trusted_clients);
 * each must parse, so a typo is an error here rather than a network that
 * silently never matches. */
static int load_nets(struct config_loader *ld, void *base, const config_setting_t *s,
                     const struct config_key *key, const char *path)
{
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
        return setting_fail(ld, s, "'%s' must be an array of networks (\"10.0.0.0/8\")", path);
    char (*nets)[DETECT_NET_LEN] = (void *)((char *)base + key->offset);
    size_t *count = (size_t *)(void *)((char *)base + key->size);
    int n = config_setting_length(s);
    *count = 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const config_setting_t *where = config_setting_source_line(e) ? e : s;
        const char *v = config_setting_type(e) == CONFIG_TYPE_STRING
                            ? config_setting_get_string(e) : NULL;
        uint8_t family, addr[16];
        unsigned prefix;
        if (!v || strlen(v) >= DETECT_NET_LEN || cidr_parse(v, &family, addr, &prefix) != 0)
            return setting_fail(ld, where, "'%s' element %d is not a network (\"10.0.0.0/8\", "
                                "\"fd00::/8\")", path, i + 1);
        if (*count >= DETECT_NETS_MAX)
            return setting_fail(ld, where, "'%s' has more than %d networks", path,
                                DETECT_NETS_MAX);
        memcpy(nets[(*count)++], v, strlen(v) + 1);
    }
    return 0;
}

/* Reads capture.interfaces: one name ("eth1") or an array of names, none
 * empty or named twice (inputs_check_names says which). */
static int load_ifaces(struct config_loader *ld, void *base, const config_setting_t *s,
                       const struct config_key *key, const char *path)
{
    char (*names)[INPUT_NAME_MAX] = (void *)((char *)base + key->offset);
    size_t *count = (size_t *)(void *)((char *)base + key->size);
    int type = config_setting_type(s);
    bool one = type == CONFIG_TYPE_STRING;
    if (!one && type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
        return setting_fail(ld, s, "'%s' must be an interface name or an array of them "
                            "([\"eth1\", \"eth2\"])", path);
    int n = one ? 1 : config_setting_length(s);
    if (n > INPUTS_MAX)
        return setting_fail(ld, s, "'%s' has more than %d interfaces", path, INPUTS_MAX);
    const char *list[INPUTS_MAX];
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = one ? s : config_setting_get_elem(s, (unsigned)i);
        list[i] = config_setting_type(e) == CONFIG_TYPE_STRING ? config_setting_get_string(e)
                                                                : NULL;
        if (!list[i])
            return setting_fail(ld, s, "'%s' element %d is not a string", path, i + 1);
    }
    char why[256];
    if (inputs_check_names(list, (size_t)n, why, sizeof(why)) != 0)
        return setting_fail(ld, s, "'%s': %s", path, why);
    for (int i = 0; i < n; i++)
        snprintf(names[i], INPUT_NAME_MAX, "%s", list[i]);
    *count = (size_t)n;
    return 0;
}

/* Stores the value of setting s, described by key, into the struct at base. */
static int load_keys(struct config_loader *ld, struct sw_config *cfg, void *base,
                     const config_setting_t *g, const char *group_path,
                     const struct config_key *keys, size_t key_count);

static int load_value(struct config_loader *ld, struct sw_config *cfg, void *base,
                      const struct config_key *key, const config_setting_t *s,
                      const char *path)
{
    char *field = (char *)base + key->offset;

    switch (key->kind) {
    case KEY_UNSIGNED:
    case KEY_SIZE: {
        if (!setting_is_integer(s))
            return setting_fail(ld, s, "'%s' must be an integer", path);
        long long v = config_setting_get_int64(s);
        if (v < key->min || v > key->max)
            return setting_fail(ld, s, "'%s' must be between %lld and %lld",
                                path, key->min, key->max);
        if (key->kind == KEY_UNSIGNED)
            *(unsigned *)(void *)field = (unsigned)v;
        else
            *(size_t *)(void *)field = (size_t)v * key->scale;
        return 0;
    }
    case KEY_BOOL:
        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
            return setting_fail(ld, s, "'%s' must be true or false", path);
        *(bool *)(void *)field = config_setting_get_bool(s) != 0;
        return 0;
    case KEY_STRING: {
        if (config_setting_type(s) != CONFIG_TYPE_STRING)
            return setting_fail(ld, s, "'%s' must be a string", path);
        const char *v = config_setting_get_string(s);
        size_t len = strlen(v);
        if ((long long)len < key->min)
            return setting_fail(ld, s, "'%s' must not be empty", path);
        if ((long long)len > key->max)
            return setting_fail(ld, s, "'%s' must be at most %lld bytes long",
                                path, key->max);
        memcpy(field, v, len + 1);
        return 0;
    }
    case KEY_PORTS:
        return load_ports(ld, cfg, base, s, key, path);
    case KEY_CHOICE: {
        char list[128] = "";
        const char *v = config_setting_type(s) == CONFIG_TYPE_STRING
                            ? config_setting_get_string(s) : NULL;
        for (const char *const *c = key->choices; *c; c++) {
            if (v && strcmp(v, *c) == 0 && strlen(v) < key->size) {
                memcpy(field, v, strlen(v) + 1);
                return 0;
            }
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
                     c == key->choices ? "" : c[1] ? ", " : " or ", *c);
        }
        return setting_fail(ld, s, "'%s' must be %s", path, list);
    }
    case KEY_NETS:
        return load_nets(ld, base, s, key, path);
    case KEY_IFACES:
        return load_ifaces(ld, base, s, key, path);
    case KEY_GROUP:
        if (!config_setting_is_group(s))
            return setting_fail(ld, s, "'%s' must be a group", path);
        return load_keys(ld, cfg, base, s, path, key->sub, key->sub_count);
    }
    return setting_fail(ld, s, "'%s' has no handler", path);
}

/* Walks every setting of group g against the key table; base is the struct
 * the keys' offsets point into. */
static int load_keys(struct config_loader *ld, struct sw_config *cfg, void *base,
                     const config_setting_t *g, const char *group_path,
                     const struct config_key *keys, size_t key_count)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        char path[256];
        snprintf(path, sizeof(path), "%s.%s", group_path, config_setting_name(s));
        const struct config_key *key = config_key_find(keys, key_count, config_setting_name(s));
        if (!key)
            return setting_fail(ld, s, "unknown key '%s'", path);
        if (load_value(ld, cfg, base, key, s, path) < 0)
            return -1;
    }
    return 0;
}

/* The `decoders` group: each entry names a registered decoder and replaces
 * that decoder's configuration as a whole (an entry without `ports` has no
 * ports; `enabled` defaults to true). Entries are first reset, all of them,
 * so that ports move between decoders regardless of the order in the file;
 * then filled in file order, which reports a port conflict on the later one. */
static int load_decoders(struct config_loader *ld, struct sw_config *cfg,
                         const config_setting_t *g)
{
    int n = config_setting_length(g);

    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(s);
        if (!decoder_find(name))
            return setting_fail(ld, s, "unknown decoder '%s' in 'decoders'", name);
        if (!config_setting_is_group(s))
            return setting_fail(ld, s, "'decoders.%s' must be a group", name);
        int index = config_entry_index(cfg, name);
        struct config_decoder *d = index >= 0 ? &cfg->decoders[index] : NULL;
        if (!d) {
            if (cfg->decoder_count >= DECODERS_MAX)
                return setting_fail(ld, s, "more than %d decoders configured",
                                    DECODERS_MAX);
            if (strlen(name) >= sizeof(d->name))
                return setting_fail(ld, s, "decoder name '%s' is too long", name);
            d = &cfg->decoders[cfg->decoder_count++];
            memcpy(d->name, name, strlen(name) + 1);
        }
        d->enabled = true;
        d->port_count = 0;
        d->udp_port_count = 0;
    }
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        char path[128];
        snprintf(path, sizeof(path), "decoders.%s", config_setting_name(s));
        struct config_decoder *d = &cfg->decoders[config_entry_index(cfg, config_setting_name(s))];
        if (load_keys(ld, cfg, d, s, path, KEYS(decoder_keys)) < 0)
            return -1;
    }
    return 0;
}

/* A protocol's own group ("<name> = {...}"): its keys come from the
 * decoder's settings, and fill the parameter block of every decoder that
 * shares those settings. 1 when no decoder has a group of that name. */
static int load_decoder_settings(struct config_loader *ld, struct sw_config *cfg,
                                 const config_setting_t *s, const char *name)
{
    const struct decoder *const *all = decoder_all();
    int found = 0;
    for (size_t i = 0; all[i] != NULL && i < DECODERS_MAX; i++) {
        const struct decoder_settings *ds = all[i]->settings;
        if (ds == NULL || strcmp(ds->group, name) != 0)
            continue;
        found = 1;
        if (!config_setting_is_group(s))
            return setting_fail(ld, s, "'%s' must be a group", name);
        if (load_keys(ld, cfg, cfg->decoder_params[i], s, name, ds->keys, ds->key_count) < 0)
            return -1;
    }
    return found ? 0 : 1;
}

static int load_root(struct config_loader *ld, struct sw_config *cfg,
                     const config_setting_t *root)
{
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        const struct config_group *group = NULL;
        for (size_t j = 0; j < sizeof(config_groups) / sizeof(config_groups[0]); j++)
            if (strcmp(config_groups[j].name, name) == 0)
                group = &config_groups[j];
        if (!group) {
            int rc = load_decoder_settings(ld, cfg, s, name);
            if (rc < 0)
                return -1;
            if (rc == 0)
                continue;
            return setting_fail(ld, s, "unknown %s '%s'",
                                config_setting_is_group(s) ? "group" : "key", name);
        }
        if (!config_setting_is_group(s))
            return setting_fail(ld, s, "'%s' must be a group", name);
        int rc = group->keys
                     ? load_keys(ld, cfg, cfg, s, name, group->keys, group->key_count)
                     : load_decoders(ld, cfg, s);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The later of two settings (the one set in the file if only one is). */
static const config_setting_t *later_setting(config_t *lc, const char *a, const char *b)
{
    const config_setting_t *sa = config_lookup(lc, a), *sb = config_lookup(lc, b);
    if (!sa || (sb && config_setting_source_line(sb) > config_setting_source_line(sa)))
        return sb;
    return sa;
}

/* The rule state's share and the out-of-order bytes are held inside the
 * memory budget: the share must leave room for the workers, and the
 * reassembly cap cannot be larger than the budget. Reported at the later
 * key's line. */
static int check_memory(struct config_loader *ld, const struct sw_config *cfg, config_t *lc)
{
    const char *budget = "memory.budget_mb", *rules = "memory.rules_mb";
    const char *total = "reassembly.total_max_mb";
    if (cfg->memory.rules_mb > cfg->memory.budget_mb / 2)
        return setting_fail(ld, later_setting(lc, budget, rules),
                            "'%s' (%u) must be at most half of '%s' (%u)", rules,
                            cfg->memory.rules_mb, budget, cfg->memory.budget_mb);
    if (cfg->reassembly.total_max_mb > cfg->memory.budget_mb)
        return setting_fail(ld, later_setting(lc, budget, total),
                            "'%s' (%u) must not exceed '%s' (%u)", total,
                            cfg->reassembly.total_max_mb, budget, cfg->memory.budget_mb);
    return 0;
}

/* The hash tag of a Redis key (the part between the first '{' and the next
 * '}', when not empty), as Redis Cluster picks a key's slot; "" if none. */
static void redis_hash_tag(const char *key, char *tag, size_t cap)
{
    const char *open = strchr(key, '{');
    const char *close = open ? strchr(open + 1, '}') : NULL;
    size_t n = close ? (size_t)(close - open - 1) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(tag, n ? open + 1 : "", n);
    tag[n] = '\0';
}

/* A batch is one MULTI/EXEC, which a Redis Cluster runs only on keys of one
 * slot: keys that name a hash tag must name the same one. */
static int check_redis_tags(struct config_loader *ld, const struct sw_config *cfg, config_t *lc)
{
    const struct config_output_redis *r = &cfg->output.redis;
    const struct { const char *name, *value; } keys[] = {
        {"stream", r->stream}, {"alerts_stream", r->alerts_stream},
        {"health_key", r->health_key}, {"metrics_key", r->metrics_key},
        {"top_prefix", r->top_prefix}, {"counters_prefix", r->counters_prefix},
        {"fleet.prefix", r->fleet.prefix},
    };
    char first[128] = "", tag[128], path[64];
    const char *first_name = NULL;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        redis_hash_tag(keys[i].value, tag, sizeof(tag));
        if (!tag[0])
            continue;
        if (!first_name) {
            memcpy(first, tag, sizeof(first));
            first_name = keys[i].name;
        } else if (strcmp(first, tag) != 0) {
            snprintf(path, sizeof(path), "output.redis.%s", keys[i].name);
            const config_setting_t *at = config_lookup(lc, path);
            if (!at) {   /* a default: report at the key that was set */
                snprintf(path, sizeof(path), "output.redis.%s", first_name);
                at = config_lookup(lc, path);
            }
            if (!at)
                at = config_root_setting(lc);
            return setting_fail(ld, at,
                                "'output.redis.%s' has the hash tag {%s} but "
                                "'output.redis.%s' has {%s}: the keys of one batch must "
                                "share one tag (one Redis Cluster slot)",
                                keys[i].name, tag, first_name, first);
        }
    }
    return 0;
}

/* Rules between output.redis keys, reported at the later key's line. */
static int check_redis(struct config_loader *ld, const struct sw_config *cfg, config_t *lc)
{
    const struct config_output_redis *r = &cfg->output.redis;
    if (r->reconnect_min_ms > r->reconnect_max_ms) {
        const config_setting_t *s = config_lookup(lc, "output.redis.reconnect_max_ms");
        if (!s)
            s = config_lookup(lc, "output.redis.reconnect_min_ms");
        return setting_fail(ld, s, "'output.redis.reconnect_min_ms' (%u) must not exceed "
                            "'output.redis.reconnect_max_ms' (%u)",
                            r->reconnect_min_ms, r->reconnect_max_ms);
    }
    return check_redis_tags(ld, cfg, lc);
}

/* The path-like keys: a relative value is taken from the directory of the
 * file that sets it. */
#define CFG_PATH(name, field) \
    { name, offsetof(struct sw_config, field), sizeof(((struct sw_config *)0)->field) }

static const struct config_path_key {
    const char *name;
    size_t offset, size;
} config_path_keys[] = {
    CFG_PATH("detect.rules", detect.rules),
    CFG_PATH("detect.lists", detect.lists),
    CFG_PATH("output.json", output.json),
    CFG_PATH("rdns.cache_file", rdns.cache_file),
    CFG_PATH("rdns.save_file", rdns.save_file),
    CFG_PATH("output.redis.spool_path", output.redis.spool_path),
    CFG_PATH("output.redis.unix_socket", output.redis.unix_socket),
};

/* The absolute directory of the file a setting was read from (the main
 * file, or one it @includes, which libconfig names as written). */
static void setting_dir(const struct config_loader *ld, const config_setting_t *s,
                        char *out, size_t cap)
{
    const char *file = config_setting_source_file(s);
    if (!file || strcmp(file, ld->path) == 0) {
        snprintf(out, cap, "%s", ld->absdir);
        return;
    }
    paths_from_dir(ld->absdir, file, out, cap);
    char *slash = strrchr(out, '/');
    if (slash)
        *(slash == out ? slash + 1 : slash) = '\0';
}

/* Rewrites one path value; detect.lists may name several directories
 * separated by ':', each resolved on its own. */
static int resolve_path(struct config_loader *ld, const config_setting_t *s,
                        const struct config_path_key *key, char *value)
{
    char dir[PATH_MAX], out[PATH_MAX * 2] = "", part[PATH_MAX];
    if (strcmp(value, "-") == 0 && strcmp(key->name, "output.json") == 0)
        return 0;
    setting_dir(ld, s, dir, sizeof(dir));
    size_t used = 0;
    for (const char *p = value;;) {
        size_t n = strcspn(p, ":");
        snprintf(part, sizeof(part), "%.*s", (int)n, p);
        if (paths_from_dir(dir, part, out + used, sizeof(out) - used) != 0)
            break;
        used += strlen(out + used);
        if (!p[n] || used + 1 >= sizeof(out))
            break;
        out[used++] = ':';
        p += n + 1;
    }
    if (strlen(out) >= key->size)
        return setting_fail(ld, s, "'%s': the path '%s' is too long", key->name, out);
    memcpy(value, out, strlen(out) + 1);
    return 0;
}

static int resolve_paths(struct config_loader *ld, struct sw_config *cfg, config_t *lc)
{
    for (size_t i = 0; i < sizeof(config_path_keys) / sizeof(config_path_keys[0]); i++) {
        const struct config_path_key *key = &config_path_keys[i];
        const config_setting_t *s = config_lookup(lc, key->name);
        if (s && resolve_path(ld, s, key, (char *)cfg + key->offset) != 0)
            return -1;
    }
    return 0;
}

int config_load(const char *path, struct sw_config *cfg, char *err, size_t errlen)
{
    struct config_loader ld = { path, err, errlen, "", "" };
    struct sw_config loaded;
    char *dir = ld.dir;
    config_t lc;
    int rc;

    if (err && errlen > 0)
        err[0] = '\0';
    if (strlen(path) >= sizeof(loaded.source) || strlen(path) >= sizeof(ld.dir))
        return config_fail(&ld, path, 0, "path too long");

    /* libconfig says only "file I/O error"; find out why ourselves. */
    FILE *f = fopen(path, "r");
    if (!f)
        return config_fail(&ld, path, 0, "cannot read configuration: %s", strerror(errno));
    struct stat st;
    int is_dir = fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode);
    fclose(f);
    if (is_dir)
        return config_fail(&ld, path, 0, "cannot read configuration: %s", strerror(EISDIR));

    config_defaults(&loaded);
    memcpy(loaded.source, path, strlen(path) + 1);

    /* libconfig 1.5 resolves @include against the include dir, not the
     * including file: make it the file's directory. */
    memcpy(dir, path, strlen(path) + 1);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof(ld.dir), "%s", ".");

    if (!realpath(dir, ld.absdir))
        snprintf(ld.absdir, sizeof(ld.absdir), "%s", dir);
    config_init(&lc);
    config_set_include_dir(&lc, dir);
    if (config_read_file(&lc, path) != CONFIG_TRUE) {
        const char *file = config_error_file(&lc);
        const char *text = config_error_text(&lc);
        rc = config_fail(&ld, file ? file : path, config_error_line(&lc), "%s",
                         text ? text : "cannot read configuration");
    } else {
        rc = load_root(&ld, &loaded, config_root_setting(&lc));
        if (rc == 0)
            rc = check_redis(&ld, &loaded, &lc);
        if (rc == 0)
            rc = check_memory(&ld, &loaded, &lc);
        if (rc == 0)
            rc = resolve_paths(&ld, &loaded, &lc);
        if (rc == 0 && config_lookup(&lc, "detect.rules"))
            loaded.detect.rules_set = true;
    }
    config_destroy(&lc);

    if (rc == 0)
        memcpy(cfg, &loaded, sizeof(*cfg));
    return rc;
}

/* Only enabled decoders select traffic; a port appears at most once per
 * transport. */
static const struct config_decoder *decoder_on_port(const struct sw_config *cfg,
                                                    uint16_t port, bool udp)
{
    for (size_t i = 0; i < cfg->decoder_count; i++) {
        const struct config_decoder *d = &cfg->decoders[i];
        const uint16_t *ports = udp ? d->udp_ports : d->ports;
        size_t count = udp ? d->udp_port_count : d->port_count;
        if (!d->enabled)
            continue;
        for (size_t k = 0; k < count; k++)
            if (ports[k] == port)
                return d;
    }
    return NULL;
}

const struct config_decoder *config_decoder_for_port(const struct sw_config *cfg,
                                                     uint16_t port)
{
    return decoder_on_port(cfg, port, false);
}

const struct config_decoder *config_decoder_for_udp_port(const struct sw_config *cfg,
                                                         uint16_t port)
{
    return decoder_on_port(cfg, port, true);
}

const void *config_decoder_params(const struct sw_config *cfg, const struct decoder *d)
{
    size_t i = decoder_index(d);
    if (i >= DECODERS_MAX || d->settings == NULL)
        return decoder_default_params(d);
    return cfg->decoder_params[i];
}

const struct config_decoder *config_decoder_named(const struct sw_config *cfg,
                                                  const char *name)
{
    int index = config_entry_index(cfg, name);
    return index >= 0 ? &cfg->decoders[index] : NULL;
}
