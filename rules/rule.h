/* rule.h - a loaded rule set: rules (rules/FORMAT.md) and the lists they use.
 *
 * rule_parse.c reads the libconfig rule file and the list files into these
 * structures; match.c evaluates a rule's `match` on one op; engine.c keeps
 * the per-key state. Rules are kept sorted by id: that is the order in which
 * they are evaluated, and the order of the alerts one op causes. */
#ifndef SW_RULE_H
#define SW_RULE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "detect_settings.h"
#include "../sensor/base/op.h"
#include "../sensor/base/record.h"
#include "netlist.h"
#include "patlist.h"

#define RULE_STAGES_MAX 8
#define RULE_ID_MAX 999999
#define RULE_LISTS_MAX 4        /* lists one *_list condition may name */

enum rule_from { RULE_FROM_OUTSIDE = 0, RULE_FROM_INSIDE, RULE_FROM_ANY };

/* What a rule reads: ops from the decoders, or payload-less TCP flows at
 * their end (sensor/flow_recon.h), never both. */
enum rule_record { RULE_RECORD_OP = 0, RULE_RECORD_FLOW };

/* What `aggregate.sum` adds up and what `aggregate.distinct` counts. */
enum rule_field {
    RULE_FIELD_NONE = 0,
    RULE_FIELD_ITEMS,           /* documents (chain-aware, see engine.c) */
    RULE_FIELD_REQUEST_BYTES,
    RULE_FIELD_RESPONSE_BYTES,
    RULE_FIELD_TARGET,
    RULE_FIELD_DEST,
    RULE_FIELD_OP,
};

/* Conditions on one op; every condition set must hold. Masks are bit sets
 * over the enum values (0 = no condition). */
struct rule_match {
    uint8_t from;                  /* enum rule_from */
    uint8_t record;                /* enum rule_record (top level only) */
    uint32_t apps;                 /* 1 << enum app_id */
    uint32_t classes;              /* 1 << enum op_class */
    uint32_t statuses;             /* 1 << enum op_status */
    uint32_t auth_results;         /* 1 << enum op_auth_result */
    int authenticated;             /* enum op_auth, -1 = any */
    char (*ops)[OP_NAME_MAX];
    size_t op_count;
    regex_t *op_regex, *target_regex, *client_regex;   /* NULL = none */
    uint32_t flags_all, flags_any; /* OP_FLAG_* */
    bool has_page_size_min, has_items_min;
    int64_t page_size_min, items_min;
    /* Lists, owned by the rule set; a condition naming several holds when
     * any of them matches. */
    const struct netlist *src_lists[RULE_LISTS_MAX];
    const struct patlist *client_lists[RULE_LISTS_MAX], *target_lists[RULE_LISTS_MAX];
    size_t src_list_count, client_list_count, target_list_count;
    struct rule_match *not_match;       /* must not hold, or NULL */
    /* issue 14 (whole-dataset reads): conditions on the op's cursor chain */
    bool has_chain_items_min;
    int64_t chain_items_min;       /* chain.items >= this */
    uint8_t chain_read_pct_min;    /* 1..100; 0 = no condition (see match.c) */
    uint8_t chain_match_all;       /* 0 any; 1 the chain was opened by a
                                      whole-dataset query (flag match_all); 2 not */
};

struct rule {
    uint32_t id;
    uint32_t rev;                  /* revision, default 1 */
    uint8_t confidence;            /* enum alert_confidence, default medium */
    char name[ALERT_NAME_MAX];
    uint8_t severity;              /* enum alert_severity */
    char category[32];
    char mitre[ALERT_MITRE_MAX][16];
    size_t mitre_count;
    struct rule_match match;

    bool has_aggregate;
    uint8_t agg_key;               /* enum alert_key */
    uint64_t window_s;
    uint64_t count_min, sum_min, distinct_min;   /* 0 = not set */
    uint8_t sum_field, distinct_field;           /* enum rule_field */

    bool is_sequence;
    uint8_t seq_key;               /* enum alert_key */
    uint64_t within_s;
    uint32_t stages[RULE_STAGES_MAX];
    size_t stage_count;

    uint8_t sup_key;               /* enum alert_key */
    uint64_t period_s;
    bool updates_set;              /* suppress.updates given */
    bool updates;                  /* its value; default: only aggregating rules */
};

enum rule_list_kind { RULE_LIST_NETWORK, RULE_LIST_PATTERN };

struct rule_list {
    char name[64];
    enum rule_list_kind kind;
    struct netlist *net;
    struct patlist *pat;
    bool actor_org, actor_tool;    /* used as src_list / client_list */
};

struct rule_set {
    struct rule *rules;            /* sorted by id */
    size_t count;
    struct rule_list *lists;       /* sorted by name, then kind */
    size_t list_count;
    struct netlist *home_nets;     /* empty: every server is ours */
    struct netlist *trusted_clients;
};

/* Reads ds->rules (and the lists it names under ds->lists)
 * and ds->home_nets/trusted_clients. On error returns -1 with one
 * line "FILE:LINE: message" in err; rs is then empty. */
int rule_set_load(const struct detect_settings *ds, struct rule_set *rs, char *err, size_t errlen);
void rule_set_free(struct rule_set *rs);
/* The rule with this id, or NULL. */
const struct rule *rule_set_find(const struct rule_set *rs, uint32_t id);

/* The file NAME.EXT in the first directory of dirs (':'-separated) that
 * has it: 0, or -1 with path naming it in the first directory. */
int rule_list_path(const char *dirs, const char *name, const char *ext, char *path,
                   size_t cap);

const char *severity_name(enum alert_severity s);
const char *alert_key_name(enum alert_key k);

#endif
