/* engine.h - the rule engine: op records in (capture order), alerts out.
 *
 * Runs in the detect thread only. Rules and lists are data (see
 * rules/FORMAT.md); the engine owns all per-key state (windows, sequences,
 * suppression), bounded by detect.max_keys with LRU eviction, and uses
 * packet time only, so a replay always gives the same alerts. */
#ifndef SW_ENGINE_H
#define SW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include "alert.h"
#include "detect_settings.h"
#include "../sensor/base/record.h"
#include "../sensor/base/stats.h"

struct rule_engine;

typedef void (*alert_fn)(void *arg, const struct alert *a);

/* Loads ds->rules and the lists under ds->lists. NULL with
 * err = "FILE:LINE: message" (one line) on any error. A configuration with
 * no rule file gives an engine with no rules. */
struct rule_engine *rule_engine_load(const struct detect_settings *ds, char *err, size_t errlen);
void rule_engine_free(struct rule_engine *e);
/* Charges the rules' window keys to a memory budget from now on (before
 * the first op; see window_table_set_budget). */
struct membudget;
void rule_engine_set_budget(struct rule_engine *e, struct membudget *budget);
/* The client of the flow is in home_nets or trusted_clients. */
bool rule_engine_client_inside(const struct rule_engine *e, const struct flow_meta *m);
/* Number of rules loaded. */
size_t rule_engine_rule_count(const struct rule_engine *e);
/* One op; calls emit for each alert it causes (in a deterministic order).
 * Counters (rules.*) go to st. */
void rule_engine_op(struct rule_engine *e, struct stats *st, const struct rec_op *r,
                    alert_fn emit, void *arg);
/* A payload-less flow as an op (sensor/flow_recon.h): read only by rules
 * with match.record = "flow", which never see rule_engine_op's ops. */
void rule_engine_flow(struct rule_engine *e, struct stats *st, const struct rec_op *r,
                      alert_fn emit, void *arg);
/* The input ended: every burst still open sends its closing update (the
 * final totals of alerts whose evidence grew since they went out). */
void rule_engine_finish(struct rule_engine *e, struct stats *st, alert_fn emit, void *arg);
/* Moves the per-key state of `from` into `to` where rules match by id
 * (SIGHUP reload keeps windows and suppression), then frees `from`. */
void rule_engine_adopt_state(struct rule_engine *to, struct rule_engine *from);

#endif
