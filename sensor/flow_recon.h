/* flow_recon.h - a payload-less TCP flow as the rule engine sees it.
 *
 * Port sweeps (masscan, ZMap, nmap -sS, connect checks) open connections
 * and send nothing, so no decoder ever makes an op of them. When such a
 * flow ends (FIN, RST, timeout, eviction) its record - the worker sends one
 * for every flow with a decoder, i.e. to a database port or one nDPI named -
 * is turned into an op record that only rules with `match.record = "flow"`
 * read (rules/FORMAT.md):
 *
 *   op        "open" (the server answered the SYN with SYN-ACK), else
 *             "closed" (a RST), else "no_answer"
 *   target    the server port, in decimal
 *   client    the scanner its SYN's shape names (syn_shape.h), else ""
 *   app       the flow's decoder by port, as for ops
 *
 * Everything else is unknown (status, authentication) or zero (bytes). */
#ifndef SW_FLOW_RECON_H
#define SW_FLOW_RECON_H

#include <stdbool.h>

#include "base/record.h"
#include "pipeline.h"

/* Fills *out from a flow record and returns true when the flow is a
 * payload-less TCP flow its client opened with a SYN; false otherwise. */
bool flow_recon_op(const struct rec_flow *f, struct rec_op *out);

#endif
