/* event_eve.h - the fields that make our events readable by tools built for
 * Suricata's EVE JSON (EveBox, Elastic's Suricata integration, the Splunk
 * add-on, Wazuh): alert.{action, gid, signature_id, rev, signature, category,
 * severity, metadata}, the 51-bit flow_id, flow.state/reason/alerted. Our own
 * fields stay beside them; README "EVE compatibility" has the mapping. */
#ifndef SW_EVENT_EVE_H
#define SW_EVENT_EVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "pipeline.h"

/* Suricata masks flow ids to 51 bits so JavaScript UIs keep every digit;
 * every event type goes through this, so flow_id joins across them. */
#define EVE_FLOW_ID_MASK ((UINT64_C(1) << 51) - 1)

/* EVE severity, 1 (highest) to 3: critical and high are 1, medium 2, low
 * and info 3. */
unsigned eve_severity(uint8_t severity);
/* The same from our severity word ("high"), len bytes; 0 if not one. */
unsigned eve_severity_of_word(const char *word, size_t len);
/* The alert's EVE fields, written into the open `alert` object. */
void eve_alert_fields(struct json_writer *w, const struct alert *a);
/* The op that fired the alert, as a top-level `op` object (metadata only);
 * the caller writes wire strings capped (string_max). */
void eve_alert_op(struct json_writer *w, const struct alert *a, size_t string_max);
/* "new" (nothing from the server), "established", "closed" (FIN or RST). */
const char *eve_flow_state(const struct rec_flow *r);
/* "timeout" (FIN, RST or idle: Suricata logs closed flows at their timeout),
 * "forced" (evicted for room), "shutdown". */
const char *eve_flow_reason(uint8_t end_reason);

/* Which flows had an alert, for flow.alerted. A direct-mapped table of
 * flow ids (fixed size, no allocation): a flow whose slot another alerted
 * flow took before it ended reads as not alerted. Used by one thread. */
#define EVE_ALERTED_SLOTS 4096
struct eve_alerted {
    uint64_t slot[EVE_ALERTED_SLOTS];   /* flow_id + 1; 0 = empty */
};
void eve_alerted_mark(struct eve_alerted *t, uint64_t flow_id);
/* Whether the flow alerted; forgets it (the flow has ended). */
bool eve_alerted_take(struct eve_alerted *t, uint64_t flow_id);

#endif
