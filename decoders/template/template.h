/* template.h - the template decoder: the files a new protocol brings.
 *
 * A worked example, compiled and tested but not listed in registry.c: it
 * decodes a tiny line protocol (README.md next to this file) into op
 * records, one per request/reply pair, paired first in first out (requests
 * may be pipelined). Copy this folder to start a protocol; decoders/README.md
 * walks through the rest.
 *
 * Memory per flow: the flow struct, one buffer per direction holding only the
 * unfinished line (at most template.line_max_kb), and the waiting requests'
 * op records (at most template.pending_max, grown by doubling). */
#ifndef SW_TEMPLATE_H
#define SW_TEMPLATE_H

#include <stddef.h>

#include "../decoder.h"
#include "template_parse.h"

/* The decoder's parameters, filled by the configuration loader from the
 * "template = { ... }" group through template_settings' keys. */
struct template_params {
    size_t line_max;        /* bytes of one line, its end included */
    size_t pending_max;     /* requests waiting for their reply */
};

extern const struct decoder_settings template_settings;

/* X(ID, "name"): the counters, reported as "template.<name>". */
#define TEMPLATE_COUNTERS(X)                                        \
    X(MALFORMED, "malformed")                                       \
    X(UNPAIRED, "unpaired")                                         \
    X(PENDING_OVERFLOW, "pending_overflow")                         \
    X(RESYNC, "resync")

enum template_counter {
#define TEMPLATE_COUNTER_ENUM(id, name) TEMPLATE_COUNTER_##id,
    TEMPLATE_COUNTERS(TEMPLATE_COUNTER_ENUM)
#undef TEMPLATE_COUNTER_ENUM
    TEMPLATE_COUNTER_COUNT
};

extern const struct decoder_counters template_counters;

extern const struct decoder template_decoder;

/* For tests and fuzz targets: the largest line buffer a flow has held, in
 * bytes allocated (never more than line_max). */
size_t template_held_peak(const void *state);

#endif
