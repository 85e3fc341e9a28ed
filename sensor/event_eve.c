/* event_eve.c - EVE-compatible fields (see event_eve.h). */
#include "event_eve.h"

#include <string.h>

#include "../decoders/apps.h"
#include "base/hash.h"
#include "base/op.h"
#include "event_json.h"

unsigned eve_severity(uint8_t severity)
{
    switch (severity) {
    case SEVERITY_CRITICAL:
    case SEVERITY_HIGH:
        return 1;
    case SEVERITY_MEDIUM:
        return 2;
    default:
        return 3;
    }
}

unsigned eve_severity_of_word(const char *word, size_t len)
{
    for (uint8_t sev = SEVERITY_INFO; sev <= SEVERITY_CRITICAL; sev++) {
        const char *w = alert_severity_word(sev);
        if (strlen(w) == len && memcmp(w, word, len) == 0)
            return eve_severity(sev);
    }
    return 0;
}

/* ATT&CK tactic of a technique id (the part before the dot), for the
 * techniques our rules name; "" when we do not know it. */
static const char *mitre_tactic(const char *technique)
{
    static const struct { const char *id, *tactic; } map[] = {
        {"T1046", "discovery"},      {"T1087", "discovery"},
        {"T1098", "persistence"},    {"T1110", "credential_access"},
        {"T1119", "collection"},     {"T1190", "initial_access"},
        {"T1213", "collection"},     {"T1485", "impact"},
        {"T1486", "impact"},         {"T1498", "impact"},
        {"T1530", "collection"},     {"T1565", "impact"},
        {"T1595", "reconnaissance"},
    };
    size_t base = strcspn(technique, ".");
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i].id) == base && strncmp(map[i].id, technique, base) == 0)
            return map[i].tactic;
    return "";
}

/* Where in an exposure story the rule's category sits:
 * exposed -> indexed -> enumerated -> dumped -> wiped. */
static const char *attack_stage(const char *category)
{
    static const struct { const char *category, *stage; } map[] = {
        {"exposure", "exposed"},     {"reconnaissance", "indexed"},
        {"discovery", "enumerated"}, {"collection", "dumped"},
        {"impact", "wiped"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].category, category) == 0)
            return map[i].stage;
    return category;
}

static const char *confidence_word(uint8_t c)
{
    return c == CONFIDENCE_LOW ? "low" : c == CONFIDENCE_HIGH ? "high" : "medium";
}

/* EVE metadata: every value is an array of strings, as Suricata writes a
 * rule's metadata keywords. Tactics are listed once each. */
static void eve_metadata(struct json_writer *w, const struct alert *a)
{
    json_key(w, "metadata");
    json_object_open(w);
    json_key(w, "mitre_technique_id");
    json_array_open(w);
    for (size_t i = 0; i < ALERT_MITRE_MAX && a->mitre[i][0]; i++)
        json_string(w, a->mitre[i]);
    json_array_close(w);
    json_key(w, "mitre_tactic_name");
    json_array_open(w);
    for (size_t i = 0; i < ALERT_MITRE_MAX && a->mitre[i][0]; i++) {
        const char *t = mitre_tactic(a->mitre[i]);
        bool seen = !t[0];
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(mitre_tactic(a->mitre[k]), t) == 0;
        if (!seen)
            json_string(w, t);
    }
    json_array_close(w);
    json_key(w, "confidence");
    json_array_open(w);
    json_string(w, confidence_word(a->confidence));
    json_array_close(w);
    json_key(w, "attack_stage");
    json_array_open(w);
    json_string(w, attack_stage(a->category));
    json_array_close(w);
    json_object_close(w);
}

void eve_alert_fields(struct json_writer *w, const struct alert *a)
{
    json_kv_string(w, "action", "allowed");   /* a passive sensor blocks nothing */
    json_kv_uint(w, "gid", 1);
    json_kv_uint(w, "signature_id", a->rule_id);
    json_kv_uint(w, "rev", a->rev);
    json_kv_string(w, "signature", a->name);
    json_kv_string(w, "category", a->category);
    json_kv_uint(w, "severity", eve_severity(a->severity));
    eve_metadata(w, a);
}

void eve_alert_op(struct json_writer *w, const struct alert *a, size_t string_max)
{
    json_key(w, "op");
    json_object_open(w);
    json_kv_string(w, "app", app_name((enum app_id)a->op_app));
    json_key(w, "name");
    json_string_capped(w, a->op.name, strnlen(a->op.name, sizeof(a->op.name)), string_max);
    json_kv_string(w, "class", op_class_name((enum op_class)a->op.op_class));
    json_key(w, "target");
    json_string_capped(w, a->op.target, strnlen(a->op.target, sizeof(a->op.target)),
                       string_max);
    json_kv_string(w, "status", op_status_name((enum op_status)a->op.status));
    if (a->op.items >= 0)
        json_kv_int(w, "items", a->op.items);
    json_object_close(w);
}

const char *eve_flow_state(const struct rec_flow *r)
{
    if (r->tcp_state & (TCP_STATE_FIN_TO_SERVER | TCP_STATE_FIN_TO_CLIENT | TCP_STATE_RST))
        return "closed";
    return r->pkts[1] ? "established" : "new";
}

const char *eve_flow_reason(uint8_t end_reason)
{
    if (end_reason == FLOW_END_EVICTED)
        return "forced";
    if (end_reason == FLOW_END_SHUTDOWN)
        return "shutdown";
    return "timeout";
}

static size_t alerted_slot(uint64_t flow_id)
{
    return (size_t)(hash_mix64(flow_id) % EVE_ALERTED_SLOTS);
}

void eve_alerted_mark(struct eve_alerted *t, uint64_t flow_id)
{
    t->slot[alerted_slot(flow_id)] = flow_id + 1;
}

bool eve_alerted_take(struct eve_alerted *t, uint64_t flow_id)
{
    uint64_t *s = &t->slot[alerted_slot(flow_id)];
    if (*s != flow_id + 1)
        return false;
    *s = 0;
    return true;
}
