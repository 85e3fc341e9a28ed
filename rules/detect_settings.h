/* detect_settings.h - what the rule engine is configured with: the
 * `detect` group of the configuration (sensor/config.c fills it). The
 * engine takes this, not the sensor's whole configuration. */
#ifndef SW_DETECT_SETTINGS_H
#define SW_DETECT_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#define DETECT_NETS_MAX 256   /* networks in home_nets, trusted_clients */
#define DETECT_NET_LEN 48     /* bytes of one CIDR string */

struct detect_settings {
    char rules[512];       /* rule file, "" = no rules */
    bool rules_set;        /* `rules` came from the file, not the default */
    char lists[512];       /* directory of list files */
    char home_nets[DETECT_NETS_MAX][DETECT_NET_LEN];   /* servers we protect */
    size_t home_net_count;     /* 0: every server is ours */
    char trusted_clients[DETECT_NETS_MAX][DETECT_NET_LEN];
    size_t trusted_client_count;
    unsigned max_keys;     /* per-key state kept, LRU beyond */
    unsigned distinct_exact;   /* exact distinct items per key, then HyperLogLog */
};

#endif
