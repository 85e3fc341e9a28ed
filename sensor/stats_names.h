/* stats_names.h - the name of every stats slot, for events and the health
 * hash: the core's own (base/stats.h), ops and no-decoder flows per app
 * (decoders/apps.h), each protocol's counters (decoders/registry.c), and
 * each live interface's (sensor/inputs.h). */
#ifndef SW_STATS_NAMES_H
#define SW_STATS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Writes "group.name" of the slot into buf; false for a slot with no name
 * (unused app ids and protocol slots), which is never reported. */
bool stats_slot_name(unsigned slot, char *buf, size_t cap);

#endif
