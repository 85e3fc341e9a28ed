/* config.h - the sensor's configuration, loaded from a libconfig file.
 *
 * Every key has a default; the file overrides. Unknown keys and wrong types
 * are rejected by name with file:line. */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdalign.h>

#include "../decoders/decoder.h"
#include "../rules/detect_settings.h"
#include "rdns.h"
#include "base/limits.h"


struct config_decoder {
    char name[32];                        /* registry name: "http" */
    bool enabled;
    uint16_t ports[DECODER_PORTS_MAX];     /* TCP server ports that select it */
    size_t port_count;
    uint16_t udp_ports[DECODER_PORTS_MAX]; /* UDP server ports that select it */
    size_t udp_port_count;
};

/* output.redis: the Redis sink (sensor/output_redis.h; README "Redis"). */
struct config_output_redis {
    bool enabled;
    char host[256];                /* TCP server (ignored with unix_socket) */
    unsigned port;
    char unix_socket[108];         /* "" = TCP */
    unsigned db;                   /* SELECT after connecting */
    char password[256];            /* AUTH after connecting, "" = none */
    char stream[128];              /* XADD target */
    unsigned maxlen;               /* XADD MAXLEN ~ n, 0 = no trimming */
    char channel[128];             /* PUBLISH target */
    char publish[8];               /* "alert": alerts are published; "all": every event */
    char health_key[128];          /* "" = "{scrapewatch}:health:<sensor.id>" */
    char alerts_stream[128];       /* alerts only, XADD target, "" = none */
    unsigned alerts_maxlen;        /* its MAXLEN ~ n, 0 = no trimming */
    bool metrics;                  /* the per-minute metrics stream and top lists */
    char metrics_key[128];         /* "" = "{scrapewatch}:metrics:<sensor.id>" */
    unsigned metrics_maxlen;       /* its MAXLEN ~ n, 0 = no trimming */
    char top_prefix[128];          /* top lists: <prefix>actors, <prefix>servers */
    char counters_prefix[128];     /* per-minute counters, "" = none */
    unsigned counters_ttl;         /* seconds, 0 = no EXPIRE */
    unsigned connect_timeout_ms;
    unsigned command_timeout_ms;
    unsigned batch_max;            /* events per pipelined batch */
    unsigned flush_ms;             /* longest an event waits for its batch */
    size_t queue_bytes;            /* memory queue cap (queue_mb) */
    bool spool;                    /* spool to disk (false: beyond memory, drop) */
    char spool_path[512];          /* "" = the default location (spool_location.h) */
    size_t spool_max_bytes;        /* spool file cap (spool_max_mb) */
    char spool_fsync[8];           /* "always" | "batch" | "never" */
    unsigned reconnect_min_ms;     /* back-off doubles from min to max */
    unsigned reconnect_max_ms;
    unsigned shutdown_timeout_ms;  /* flushing at shutdown, then spool */
    struct {                       /* sweeps counted across sensors (fleet.h) */
        bool enabled;
        unsigned window;           /* seconds */
        unsigned servers_min;      /* distinct protected servers that alert */
        unsigned suppress;         /* seconds between fleet alerts on a client */
        char prefix[96];           /* key prefix, "scrapewatch:fleet:" */
    } fleet;
};

struct sw_config {
    char source[512];              /* file it came from ("" for defaults) */
    struct {
        char id[64];               /* sensor name in every event */
        unsigned workers;          /* worker threads, 1..WORKERS_MAX */
        char user[64];             /* drop privileges to this user ("" = stay) */
    } sensor;
    struct {
        unsigned snaplen;
        unsigned buffer_mb;        /* kernel buffer, live capture */
        bool promisc;
        char bpf[1024];            /* capture filter ("" = none) */
        unsigned ring_kb;          /* capture -> worker ring, per worker */
        unsigned timeout_ms;       /* live read timeout */
        unsigned fanout_group;     /* live: PACKET_FANOUT group, 0 = none */
        /* live, when no -i is given: captured together (sensor/inputs.h) */
        char interfaces[INPUTS_MAX][INPUT_NAME_MAX];
        size_t interface_count;
    } capture;
    struct {
        unsigned vxlan_port;       /* UDP destination port, 0 = not decapsulated */
        unsigned geneve_port;      /* UDP destination port, 0 = not decapsulated */
        unsigned max_depth;        /* tunnel layers crossed per packet */
    } tunnels;
    struct {
        unsigned max;              /* flows tracked, all workers together */
        unsigned idle_timeout;     /* seconds without a packet */
        unsigned closed_timeout;   /* seconds after FIN/RST both ways */
    } flows;
    struct {
        unsigned flow_max_kb;      /* out-of-order bytes held per direction */
        unsigned total_max_mb;     /* out-of-order bytes held, all flows */
    } reassembly;
    struct {
        unsigned budget_mb;        /* all the memory the budget covers, all
                                      workers and rules together (base/membudget.h) */
        unsigned rules_mb;         /* of which the rule state's share (detect) */
    } memory;
    struct {
        bool enabled;
        unsigned max_packets;      /* packets nDPI may look at per flow */
    } ndpi;
    /* Each registered decoder's parameter struct, by decoder_index(); the
     * keys and defaults are the decoder's (decoder_settings). */
    alignas(max_align_t) unsigned char decoder_params[DECODERS_MAX][DECODER_PARAMS_MAX];
    struct config_decoder decoders[DECODERS_MAX];
    size_t decoder_count;
    struct {
        bool op;                   /* emit an `op` event per op record */
        bool flow;                 /* emit a `flow` event per database flow */
        unsigned stats_interval;   /* seconds between stats events, 0 = final only */
        unsigned string_max;       /* bytes of any wire string in an event */
        unsigned queue;            /* records queued between threads */
    } events;
    struct {
        char json[512];            /* JSON lines path, "-" stdout, "" none */
        struct config_output_redis redis;
    } output;
    struct detect_settings detect; /* the rule engine's (rules/detect_settings.h) */
    struct config_rdns rdns;       /* attribution by reverse DNS (sensor/rdns.h) */
};

/* Fills cfg with the built-in defaults. */
void config_defaults(struct sw_config *cfg);
/* Loads path over the defaults. On error returns -1 and writes one line
 * "file:line: message" (no newline) into err. */
int config_load(const char *path, struct sw_config *cfg, char *err, size_t errlen);
/* The decoder configured for a TCP server port, or NULL. */
const struct config_decoder *config_decoder_for_port(const struct sw_config *cfg,
                                                     uint16_t port);
/* The same for a UDP server port. */
const struct config_decoder *config_decoder_for_udp_port(const struct sw_config *cfg,
                                                         uint16_t port);
/* A decoder's parameter struct as configured (its defaults if it is not
 * registered). */
const void *config_decoder_params(const struct sw_config *cfg, const struct decoder *d);
/* The configured entry for a decoder name, or NULL. */
const struct config_decoder *config_decoder_named(const struct sw_config *cfg,
                                                  const char *name);

#endif
