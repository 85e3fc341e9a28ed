/* event_json.h - events to JSON, EVE-like (see README "Events").
 *
 * Top level: timestamp, sensor, host, event_type, flow_id (51 bits, as
 * EVE), community_id, src_ip, src_port, dest_ip, dest_port, proto,
 * app_proto, then a block named after the event type (event_eve.h adds the
 * EVE fields of alerts and flows). Source is the client, destination the server. Every
 * string that came off the wire is escaped and capped to string_max bytes. */
#ifndef SW_EVENT_JSON_H
#define SW_EVENT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "pipeline.h"

struct event_json_opts {
    const char *sensor;
    size_t string_max;
    bool flow_alerted;       /* event_json_flow: an alert named this flow */
    const char *const *pcap_files;   /* offline: the files read (pcap_filename) */
    size_t pcap_file_count;
};

void event_json_op(struct json_writer *w, const struct event_json_opts *o,
                   const struct rec_op *r);
void event_json_flow(struct json_writer *w, const struct event_json_opts *o,
                     const struct rec_flow *r);
/* "info", "low", "medium", "high", "critical" (enum alert_severity). */
const char *alert_severity_word(uint8_t s);
void event_json_alert(struct json_writer *w, const struct event_json_opts *o,
                      const struct alert *a);
void event_json_stats(struct json_writer *w, const struct event_json_opts *o,
                      const struct event_stats *s);
/* "2024-01-01T00:00:00.000000+0000" into out (at least 32 bytes). */
void event_time_format(uint64_t ts_us, char *out, size_t cap);

#endif
