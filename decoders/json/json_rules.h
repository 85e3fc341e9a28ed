/* json_rules.h - "at this JSON path, with this type of value, do that":
 * small tables that observers match the values reported by the streaming
 * scanner against (json_scan.h), so that what a body means is data. */
#ifndef SW_JSON_RULES_H
#define SW_JSON_RULES_H

#include <stdint.h>

#include "json_scan.h"

struct json_rule {
    const char *path;    /* as json_scan_at takes it; NULL ends a table */
    uint16_t types;      /* JSON_RULE_T(type) per accepted value type */
    uint8_t action;      /* the observer's own enum */
};

#define JSON_RULE_T(type) (1u << (type))
#define JSON_RULE_ANY_START (JSON_RULE_T(JSON_OBJECT_START) | JSON_RULE_T(JSON_ARRAY_START) | \
                             JSON_RULE_T(JSON_STRING) | JSON_RULE_T(JSON_NUMBER) |          \
                             JSON_RULE_T(JSON_TRUE) | JSON_RULE_T(JSON_FALSE) |             \
                             JSON_RULE_T(JSON_NULL))
#define JSON_RULE_SCALAR (JSON_RULE_T(JSON_STRING) | JSON_RULE_T(JSON_NUMBER))
#define JSON_RULES_END {NULL, 0, 0}

/* The first rule the reported value matches, or NULL. Values deeper than
 * max_depth (the deepest rule path; document fields) are dismissed at once. */
const struct json_rule *json_rule_find(const struct json_rule *rules, int max_depth,
                                       const struct json_scan *s,
                                       const struct json_scan_value *v);

/* A value as a count: a non-negative integral number or digit string; -1
 * otherwise. */
int64_t json_value_count(const struct json_scan_value *v);

#endif
