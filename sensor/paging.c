/* paging.c - offset walks (see paging.h): a hash table of walks keyed by
 * client, server, app and target, with an LRU list. */
#include "paging.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/lru.h"
#include "base/text.h"

struct walk {
    struct walk *hash_next;
    struct lru_node lru;        /* head = least recently used */
    uint64_t key;               /* hash of client, server, app, target */
    uint64_t generation;        /* walks started under this key so far */
    int64_t next_offset;        /* where the next page must start */
    struct chain_info info;     /* what the rules see */
};

struct paging_table {
    struct walk **buckets;
    size_t bucket_count, count, max;
    struct lru_list lru;
};

struct paging_table *paging_table_new(size_t max)
{
    struct paging_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->max = max ? max : 1;
    t->bucket_count = 1024;
    while (t->bucket_count < t->max)
        t->bucket_count <<= 1;
    t->buckets = calloc(t->bucket_count, sizeof(*t->buckets));
    lru_init(&t->lru);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    return t;
}

void paging_table_free(struct paging_table *t)
{
    if (!t)
        return;
    struct lru_node *n = lru_oldest(&t->lru);
    while (n) {
        struct lru_node *next = n->next;
        free(lru_entry(n, struct walk, lru));
        n = next;
    }
    free(t->buckets);
    free(t);
}

/* A page of a whole-dataset query fetched by offset, with no cursor. */
static bool is_offset_page(const struct op_record *op)
{
    return op->op_class == OP_CLASS_READ && op->status == OP_STATUS_OK
           && (op->flags & OP_FLAG_MATCH_ALL) && !(op->flags & OP_FLAG_CONTINUES)
           && !op->continuation[0] && !op->cursor_out[0] && op->offset >= 0 && op->items >= 0;
}

static uint64_t walk_key(const struct flow_meta *m, const struct op_record *op)
{
    uint64_t h = hash_fnv1a64(&m->family, 1);
    h = hash_fnv1a64_update(h, m->client, 16);
    h = hash_fnv1a64_update(h, m->server, 16);
    h = hash_fnv1a64_update(h, &op->app, 1);
    return hash_fnv1a64_update(h, op->target, strlen(op->target));
}

static struct walk **walk_slot(struct paging_table *t, uint64_t key)
{
    struct walk **pp = &t->buckets[hash_mix64(key) & (t->bucket_count - 1)];
    while (*pp && (*pp)->key != key)
        pp = &(*pp)->hash_next;
    return pp;
}

static void walk_forget_oldest(struct paging_table *t, struct stats *st)
{
    struct walk *w = lru_entry(lru_oldest(&t->lru), struct walk, lru);
    struct walk **pp = walk_slot(t, w->key);
    assert(*pp == w);
    *pp = w->hash_next;
    lru_unlink(&t->lru, &w->lru);
    free(w);
    t->count--;
    stats_inc(st, STAT_CHAINS_FORGOTTEN);
}

/* A page at offset 0: the walk under this key starts over, with a new id. */
static void walk_start(struct walk *w, const struct op_record *op)
{
    w->generation++;
    memset(&w->info, 0, sizeof(w->info));
    uint64_t id = hash_mix64(w->key ^ hash_mix64(w->generation)) >> 4;   /* 15 hex digits */
    snprintf(w->info.id, sizeof(w->info.id), "p%015llx", (unsigned long long)id);
    w->info.total = -1;
    w->info.match_all = 1;
    text_copy_capped(w->info.target, sizeof(w->info.target), op->target);
    w->next_offset = 0;
}

static void walk_add_page(struct walk *w, const struct op_record *op)
{
    struct chain_info *c = &w->info;
    c->ops++;
    c->items += op->items;
    w->next_offset = op->offset + op->items;
    if (op->total >= 0 && (op->total > c->total
                           || (op->total == c->total && op->total_relation == OP_TOTAL_EXACT))) {
        c->total = op->total;
        c->total_relation = op->total_relation;
    }
    /* a short page, or the end of an exact total: nothing more to fetch */
    if ((op->page_size > 0 && op->items < op->page_size)
        || (c->total >= 0 && c->total_relation == OP_TOTAL_EXACT && w->next_offset >= c->total))
        c->exhausted = 1;
}

bool paging_table_update(struct paging_table *t, struct stats *st, const struct flow_meta *meta,
                         const struct op_record *op, struct chain_info *out)
{
    if (!t || !is_offset_page(op))
        return false;
    uint64_t key = walk_key(meta, op);
    struct walk **pp = walk_slot(t, key);
    struct walk *w = *pp;
    if (!w) {
        if (op->offset != 0)
            return false;              /* random access, not the start of a walk */
        if (t->count >= t->max) {
            walk_forget_oldest(t, st);
            pp = walk_slot(t, key);
        }
        if (!(w = calloc(1, sizeof(*w))))
            return false;
        w->key = key;
        *pp = w;
        lru_append(&t->lru, &w->lru);
        t->count++;
    } else {
        lru_move_to_tail(&t->lru, &w->lru);
    }
    if (op->offset == 0)
        walk_start(w, op);
    else if (op->offset != w->next_offset || !w->info.id[0])
        return false;                  /* not where the walk left off */
    walk_add_page(w, op);
    *out = w->info;
    return true;
}
