/* chain.c - cursor chains (see chain.h): a hash table of cursor hashes with
 * an LRU list, each entry pointing at its chain's running totals. Cursors
 * and chains are charged to the rules' memory budget when one is set
 * (chain_table_set_budget): a cursor or chain the budget refuses first
 * makes the least recently used cursors be forgotten (chains.forgotten). */
#include "chain.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/membudget.h"
#include "base/lru.h"
#include "base/text.h"

struct chain {
    char id[OP_CONT_MAX];
    uint64_t ops;
    int64_t items;
    int64_t total;           /* -1 until the server reports one */
    uint8_t total_relation;  /* enum op_total_relation */
    bool exhausted;
    bool match_all;          /* the first page had OP_FLAG_MATCH_ALL */
    int64_t limit;           /* the first page's op.limit */
    char target[64];         /* from the first page that named one */
    unsigned refs;           /* cursors pointing here */
};

struct cursor {
    struct cursor *hash_next;
    struct lru_node lru;     /* on the table's list; head = least recently used */
    char key[OP_CONT_MAX];
    struct chain *chain;
};

struct chain_table {
    struct cursor **buckets;
    size_t bucket_count, count, max;
    struct lru_list lru;
    struct membudget *budget;   /* cursors and chains charged here; NULL: none */
};

struct chain_table *chain_table_new(size_t max)
{
    struct chain_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->bucket_count = 1024;
    while (t->bucket_count < max)
        t->bucket_count <<= 1;
    t->buckets = calloc(t->bucket_count, sizeof(*t->buckets));
    t->max = max ? max : 1;
    lru_init(&t->lru);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    return t;
}

static void chain_release(struct chain_table *t, struct chain *c)
{
    if (--c->refs == 0)
        membudget_free(t->budget, c, sizeof(*c));
}

void chain_table_set_budget(struct chain_table *t, struct membudget *budget)
{
    assert(t->count == 0);   /* what was allocated before was not charged */
    t->budget = budget;
}

void chain_table_free(struct chain_table *t)
{
    if (!t)
        return;
    struct lru_node *n = lru_oldest(&t->lru);
    while (n) {
        struct lru_node *next = n->next;
        struct cursor *c = lru_entry(n, struct cursor, lru);
        chain_release(t, c->chain);
        membudget_free(t->budget, c, sizeof(*c));
        n = next;
    }
    free(t->buckets);
    free(t);
}

static size_t bucket_of(const struct chain_table *t, const char *key)
{
    return (size_t)hash_fnv1a64_str(key) & (t->bucket_count - 1);
}

static struct cursor *cursor_find(struct chain_table *t, const char *key)
{
    for (struct cursor *c = t->buckets[bucket_of(t, key)]; c; c = c->hash_next)
        if (strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

static void cursor_remove(struct chain_table *t, struct cursor *c)
{
    struct cursor **pp = &t->buckets[bucket_of(t, c->key)];
    while (*pp != c)
        pp = &(*pp)->hash_next;
    *pp = c->hash_next;
    lru_unlink(&t->lru, &c->lru);
    chain_release(t, c->chain);
    membudget_free(t->budget, c, sizeof(*c));
    assert(t->count > 0);
    t->count--;
}

/* Forgets the least recently used cursor (its chain goes with its last
 * cursor). */
static void cursor_forget_oldest(struct chain_table *t, struct stats *st)
{
    cursor_remove(t, lru_entry(lru_oldest(&t->lru), struct cursor, lru));
    stats_inc(st, STAT_CHAINS_FORGOTTEN);
}

/* n zeroed bytes charged to the budget, forgetting the least recently used
 * cursors while it refuses; NULL when none is left (or memory is out). */
static void *chain_alloc(struct chain_table *t, struct stats *st, size_t n)
{
    for (;;) {
        void *p = membudget_calloc(t->budget, n);
        if (p || !t->budget || lru_is_empty(&t->lru))
            return p;
        cursor_forget_oldest(t, st);
    }
}

/* Points `key` at chain (replacing what it pointed at), most recently used. */
static void cursor_set(struct chain_table *t, struct stats *st, const char *key,
                       struct chain *chain)
{
    struct cursor *c = cursor_find(t, key);
    if (c) {
        chain->refs++;
        chain_release(t, c->chain);
        c->chain = chain;
        lru_move_to_tail(&t->lru, &c->lru);
        return;
    }
    if (t->count >= t->max)
        cursor_forget_oldest(t, st);
    c = chain_alloc(t, st, sizeof(*c));
    if (!c)
        return;
    memcpy(c->key, key, sizeof(c->key));
    c->chain = chain;
    chain->refs++;
    size_t b = bucket_of(t, key);
    c->hash_next = t->buckets[b];
    t->buckets[b] = c;
    lru_append(&t->lru, &c->lru);
    t->count++;
    assert(t->count <= t->max);
}

/* The server reported how many documents the walk matches: keep the largest
 * (an exact total wins over an equal lower bound). */
static void chain_note_total(struct chain *c, const struct op_record *op)
{
    if (op->total < 0 || op->status != OP_STATUS_OK)
        return;
    if (op->total > c->total
        || (op->total == c->total && op->total_relation == OP_TOTAL_EXACT)) {
        c->total = op->total;
        c->total_relation = op->total_relation;
    }
}

/* A page that continued the chain and came back without a cursor to go on
 * with (Mongo cursor id 0, Redis SCAN cursor 0, Cassandra without paging
 * state) or, for reads, with no documents at all (the empty last page of an
 * Elasticsearch scroll or search_after, a Solr cursorMark that stopped
 * moving): the walk reached the end of what the server had. SCAN pages may
 * be empty mid-walk, so an empty page ends only a read. */
static bool chain_op_exhausts(const struct op_record *op)
{
    /* Only a page that asked for more: closing a scroll or a PIT
     * (continuation, no `continues`) says nothing about the walk. */
    if (!(op->flags & OP_FLAG_CONTINUES) || !op->continuation[0]
        || op->status != OP_STATUS_OK)
        return false;
    if (!op->cursor_out[0])
        return true;
    return op->op_class == OP_CLASS_READ && op->items == 0;
}

void chain_table_update(struct chain_table *t, struct stats *st,
                        const struct flow_meta *meta, const struct op_record *op,
                        struct chain_info *out)
{
    (void)meta;
    memset(out, 0, sizeof(*out));
    out->total = -1;
    if (!t || (!op->continuation[0] && !op->cursor_out[0]))
        return;
    struct cursor *prev = op->continuation[0] ? cursor_find(t, op->continuation) : NULL;
    struct chain *chain;
    if (prev) {
        chain = prev->chain;
        stats_inc(st, STAT_CHAINS_CONTINUED);
    } else {
        if (!(chain = chain_alloc(t, st, sizeof(*chain))))
            return;
        memcpy(chain->id, op->continuation[0] ? op->continuation : op->cursor_out,
               sizeof(chain->id));
        chain->total = -1;
        chain->match_all = (op->flags & OP_FLAG_MATCH_ALL) != 0;
        chain->limit = op->limit;
        stats_inc(st, STAT_CHAINS_STARTED);
    }
    chain->refs++;   /* held while we work on it */
    chain->ops++;
    if (op->items > 0)
        chain->items += op->items;
    chain_note_total(chain, op);
    if (!chain->target[0] && op->target[0])
        text_copy_capped(chain->target, sizeof(chain->target), op->target);
    /* A cursor that stopped at the query's own limit was cut short, not
     * walked to the end. */
    if (prev && chain_op_exhausts(op) && (chain->limit < 0 || chain->items < chain->limit))
        chain->exhausted = true;
    if (op->continuation[0])
        cursor_set(t, st, op->continuation, chain);
    if (op->cursor_out[0])
        cursor_set(t, st, op->cursor_out, chain);
    memcpy(out->id, chain->id, sizeof(out->id));
    out->ops = chain->ops;
    out->items = chain->items;
    out->total = chain->total;
    out->total_relation = chain->total_relation;
    out->exhausted = chain->exhausted;
    out->match_all = chain->match_all;
    memcpy(out->target, chain->target, sizeof(out->target));
    chain_release(t, chain);
}
