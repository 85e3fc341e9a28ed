/* json_rules.c - matching scanner values against rule tables. */
#include "json_rules.h"

#include <stddef.h>

const struct json_rule *json_rule_find(const struct json_rule *rules, int max_depth,
                                       const struct json_scan *s,
                                       const struct json_scan_value *v)
{
    if (rules == NULL || json_scan_value_depth(s) > max_depth)
        return NULL;
    for (; rules->path != NULL; rules++)
        if ((rules->types & JSON_RULE_T(v->type)) && json_scan_at(s, rules->path))
            return rules;
    return NULL;
}

int64_t json_value_count(const struct json_scan_value *v)
{
    if (v->type == JSON_STRING) {
        if (v->len == 0 || v->len > 18)
            return -1;
        int64_t n = 0;
        for (size_t i = 0; i < v->len; i++) {
            if (v->text[i] < '0' || v->text[i] > '9')
                return -1;
            n = n * 10 + (v->text[i] - '0');
        }
        return n;
    }
    if (v->type != JSON_NUMBER || !(v->number >= 0) || v->number >= 9.0e18)
        return -1;
    int64_t n = (int64_t)v->number;
    return (double)n == v->number ? n : -1;
}
