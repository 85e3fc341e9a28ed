/* match.h - does one op satisfy a rule's `match` (rules/FORMAT.md)?
 *
 * A pure function of the op, the rule and where the client stands; it
 * also reports the labels the lists gave (the actor's organisation from
 * src_list, the tool from client_list), which the alert carries. */
#ifndef SW_MATCH_H
#define SW_MATCH_H

#include <stdbool.h>

#include "rule.h"

struct match_labels {
    const char *organisation;   /* NULL when no src_list matched */
    const char *tool;           /* NULL when no client_list matched */
};

/* inside: the client is in home_nets or trusted_clients. */
bool rule_match_op(const struct rule_match *m, const struct rec_op *r, bool inside,
                   struct match_labels *labels);

#endif
