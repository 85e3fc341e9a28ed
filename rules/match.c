/* match.c - one op against one rule's conditions (match.h). Cheap
 * conditions first, regexes and lists last. */
#include "match.h"

#include <string.h>

static bool in_mask(uint32_t mask, unsigned v)
{
    return mask == 0 || (v < 32 && (mask & (1u << v)));
}

/* The label of the first of the lists with a matching pattern. */
static bool any_pattern(const struct patlist *const *lists, size_t count, const char *s,
                        const char **label)
{
    for (size_t i = 0; i < count; i++)
        if (patlist_match(lists[i], s, label))
            return true;
    return false;
}

/* The op's cursor chain has read the whole dataset it walked: it ran to
 * exhaustion, or its documents reached pct % of the exact total the server
 * reported (a lower bound, "gte", only says the dataset is at least that
 * big, so it never proves a whole read). */
static bool chain_read_whole(const struct chain_info *c, unsigned pct)
{
    if (!c->id[0])
        return false;
    if (c->exhausted)
        return true;
    if (c->total <= 0 || c->total_relation != OP_TOTAL_EXACT || c->items <= 0)
        return false;
    return (uint64_t)c->items * 100 >= (uint64_t)c->total * pct;
}

bool rule_match_op(const struct rule_match *m, const struct rec_op *r, bool inside,
                   struct match_labels *labels)
{
    const struct op_record *op = &r->op;
    if ((m->from == RULE_FROM_OUTSIDE && inside) || (m->from == RULE_FROM_INSIDE && !inside))
        return false;
    if (!in_mask(m->apps, op->app) || !in_mask(m->classes, op->op_class)
        || !in_mask(m->statuses, op->status) || !in_mask(m->auth_results, op->auth_result))
        return false;
    if (m->authenticated >= 0 && op->authenticated != m->authenticated)
        return false;
    if ((op->flags & m->flags_all) != m->flags_all)
        return false;
    if (m->flags_any && !(op->flags & m->flags_any))
        return false;
    /* Unknown page size or items (-1) never satisfy a minimum. */
    if (m->has_page_size_min && (op->page_size < 0 || op->page_size < m->page_size_min))
        return false;
    if (m->has_items_min && (op->items < 0 || op->items < m->items_min))
        return false;
    if (m->has_chain_items_min && (!r->chain.id[0] || r->chain.items < m->chain_items_min))
        return false;
    if (m->chain_read_pct_min && !chain_read_whole(&r->chain, m->chain_read_pct_min))
        return false;
    if (m->chain_match_all
        && (!r->chain.id[0] || (r->chain.match_all != 0) != (m->chain_match_all == 1)))
        return false;
    if (m->op_count) {
        size_t i = 0;
        while (i < m->op_count && strcmp(m->ops[i], op->op) != 0)
            i++;
        if (i == m->op_count)
            return false;
    }
    if (m->op_regex && regexec(m->op_regex, op->op, 0, NULL, 0) != 0)
        return false;
    if (m->target_regex && regexec(m->target_regex, op->target, 0, NULL, 0) != 0)
        return false;
    if (m->client_regex && regexec(m->client_regex, op->client_id, 0, NULL, 0) != 0)
        return false;
    const char *label;
    if (m->target_list_count && !any_pattern(m->target_lists, m->target_list_count,
                                             op->target, &label))
        return false;
    if (m->client_list_count) {
        if (!any_pattern(m->client_lists, m->client_list_count, op->client_id, &label))
            return false;
        if (labels)
            labels->tool = label;
    }
    if (m->src_list_count) {
        /* The longest prefix over all the named lists; on a tie, the first list. */
        unsigned best = 0;
        for (size_t i = 0; i < m->src_list_count; i++) {
            const char *l;
            unsigned len = (unsigned)netlist_lookup(m->src_lists[i], r->meta.family,
                                                    r->meta.client, &l);
            if (len > best) {
                best = len;
                label = l;
            }
        }
        if (!best)
            return false;
        if (labels)
            labels->organisation = label;
    }
    if (m->not_match && rule_match_op(m->not_match, r, inside, NULL))
        return false;
    return true;
}
