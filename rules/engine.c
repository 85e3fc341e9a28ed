/* engine.c - per-op rule evaluation, aggregation, sequences, suppression
 * (engine.h; the format is rules/FORMAT.md).
 *
 * State. Every (rule, key) that matched keeps one state_entry: its evidence
 * (ops, documents, bytes, distinct targets and servers, up to 8 target
 * names, first/last op), its suppression (when it last alerted and the
 * evidence then, so an update goes out when ops or documents double) and,
 * for a sequence rule, the stage reached. Entries live in one hash table
 * with an LRU list, at most detect.max_keys of them; a new key beyond that
 * forgets the least recently used one (rules.state_evicted). Entries and
 * their distinct sets are charged to the rules' memory budget
 * (memory.rules_mb, shared with the window keys and the cursor chains):
 * when it refuses a new entry, the least recently used ones are forgotten
 * first, the same way and with the same counter; when it refuses a distinct
 * set's growth, the item goes uncounted (memory.buffers_cut). Aggregation
 * thresholds come from window.h: one window table per aggregating rule
 * (each also bounded by max_keys), keyed by the rule's aggregate key.
 *
 * Evidence of an entry starts with its first matching op and is reset when
 * the key has been quiet longer than the rule's window (or, without an
 * aggregate, its suppression period): one burst of activity is one body of
 * evidence, however many alerts and updates it yields.
 *
 * Determinism: rules are evaluated in id order, the alerts of one op are
 * emitted in rule id order, and nothing but packet time is consulted. */
#include "engine.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sensor/base/lru.h"
#include "../sensor/base/membudget.h"
#include "../sensor/base/text.h"
#include "match.h"
#include "rule.h"
#include "window.h"

#define KEY_BYTES 33            /* family, client[16], server[16] */
#define EVIDENCE_CHAINS 4       /* cursor chains remembered per entry */
#define TARGET_NAME_MAX 64

/* Distinct items: exact hashes up to a bound, then HyperLogLog. */
struct distinct_set {
    uint64_t *hashes;
    uint32_t count, cap;
    struct hll *hll;
};

struct evidence {
    uint64_t ops, documents, bytes;
    uint64_t first_us, last_us;
    struct distinct_set targets, servers;
    char names[ALERT_TARGETS_MAX][TARGET_NAME_MAX];
    uint8_t name_count;
    uint8_t chain_next;
    struct {
        char id[OP_CONT_MAX];
        int64_t items;          /* chain.items when last seen */
    } chains[EVIDENCE_CHAINS];
};

struct state_entry {
    struct state_entry *hash_next;
    struct lru_node lru;        /* on state_table.lru */
    uint64_t hash;
    uint32_t rule_id;
    uint8_t key[KEY_BYTES];
    struct evidence ev;
    uint64_t last_serial;       /* the op last added to the evidence */
    bool alerted;
    uint64_t alerted_us;
    uint32_t updates;
    uint64_t base_ops, base_docs;   /* evidence at the last alert or update */
    uint32_t next_stage;        /* sequences: stages reached */
    uint64_t seq_first_us;
    /* issue 14 point 7: what a closing update needs (see "closing updates") */
    struct entry_close *close;  /* NULL until the entry first alerts */
    struct lru_node open;       /* on state_table.open while a close may be due */
    bool on_open;
};

/* The alert an entry last sent, as far as a closing update repeats it: its
 * flow, app, actor labels, distinct count and stage, and (rules about a
 * cursor chain) the chain as the entry last saw it. */
struct entry_close {
    struct flow_meta meta;
    uint8_t app;
    char organisation[ALERT_LABEL_MAX], tool[ALERT_LABEL_MAX], stage[32];
    uint64_t distinct;
    uint8_t has_chain;
    struct chain_info chain;
    /* the last op that grew the evidence: the closing update's `op` (it
     * has no packet of its own: no pcap position) */
    struct alert_op op;
};

struct state_table {
    struct state_entry **buckets;
    size_t bucket_count;        /* a power of two */
    size_t count, max;
    struct lru_list lru;        /* head: least recently used, evicted first */
    uint64_t evicted;
    struct membudget *budget;   /* entries are charged here; NULL: unlimited */
    struct lru_list open;       /* entries that alerted, in order of their first alert */
};

struct rule_engine {
    struct rule_set rs;
    size_t distinct_exact;
    struct window_table **windows;   /* per rule index; NULL without aggregate */
    struct state_table state;
    uint64_t serial;                 /* ops seen: tells one op from the next */
    uint64_t evictions_reported;
    struct alert *pending;           /* this op's alerts, one per rule at most */
    size_t pending_count;
    uint64_t *sequence_fired;        /* per rule index: serial of its last firing */
    uint64_t now_us;                 /* newest packet time seen */
    uint64_t next_sweep_us;          /* closing updates: next look at the open list */
};

/* ---- keys --------------------------------------------------------------- */

/* A chain key is the chain id (16 hex digits, chain.h) in the client's
 * place, and the server: one dump on one server. */
static void make_key(uint8_t kind, const struct rec_op *r, uint8_t out[KEY_BYTES])
{
    const struct flow_meta *m = &r->meta;
    memset(out, 0, KEY_BYTES);
    out[0] = m->family;
    if (kind == ALERT_KEY_SRC || kind == ALERT_KEY_PAIR)
        memcpy(out + 1, m->client, 16);
    if (kind == ALERT_KEY_CHAIN)
        memcpy(out + 1, r->chain.id, strnlen(r->chain.id, 16));
    if (kind == ALERT_KEY_DEST || kind == ALERT_KEY_PAIR || kind == ALERT_KEY_CHAIN)
        memcpy(out + 17, m->server, 16);
}

/* A rule keyed by chain, or with chain conditions, speaks of one chain. */
static bool rule_uses_chain(const struct rule *rule)
{
    return rule->sup_key == ALERT_KEY_CHAIN
           || (rule->has_aggregate && rule->agg_key == ALERT_KEY_CHAIN)
           || rule->match.has_chain_items_min || rule->match.chain_read_pct_min
           || rule->match.chain_match_all;
}

/* ---- distinct sets ------------------------------------------------------ */

static void distinct_add(struct distinct_set *d, uint64_t h, size_t exact,
                         struct membudget *b)
{
    if (d->hll) {
        hll_add_hash(d->hll, h);
        return;
    }
    for (uint32_t i = 0; i < d->count; i++)
        if (d->hashes[i] == h)
            return;
    if (d->count < exact) {
        if (d->count == d->cap) {
            uint32_t cap = d->cap ? d->cap * 2 : 4;
            if (cap > exact)
                cap = (uint32_t)exact;
            uint64_t *p = membudget_realloc(b, d->hashes, d->cap * sizeof(*p),
                                            cap * sizeof(*p));
            if (!p)
                return;       /* out of memory: the item goes uncounted */
            d->hashes = p;
            d->cap = cap;
        }
        d->hashes[d->count++] = h;
        return;
    }
    struct hll *hll = membudget_malloc(b, sizeof(*hll));
    if (!hll)
        return;
    hll_clear(hll);
    for (uint32_t i = 0; i < d->count; i++)
        hll_add_hash(hll, d->hashes[i]);
    hll_add_hash(hll, h);
    membudget_free(b, d->hashes, d->cap * sizeof(*d->hashes));
    d->hashes = NULL;
    d->count = d->cap = 0;
    d->hll = hll;
}

static uint64_t distinct_count(const struct distinct_set *d)
{
    return d->hll ? hll_estimate(d->hll) : d->count;
}

static void distinct_free(struct distinct_set *d, struct membudget *b)
{
    membudget_free(b, d->hashes, d->cap * sizeof(*d->hashes));
    if (d->hll)
        membudget_free(b, d->hll, sizeof(*d->hll));
    memset(d, 0, sizeof(*d));
}

/* ---- evidence ----------------------------------------------------------- */

static void evidence_reset(struct evidence *ev, struct membudget *b)
{
    distinct_free(&ev->targets, b);
    distinct_free(&ev->servers, b);
    memset(ev, 0, sizeof(*ev));
}

/* Documents this op adds (read ops only). An op of a cursor chain brings the growth of its
 * chain's running count since this entry last saw the chain (the whole count
 * so far when it is new here), so a dump's documents count once even when
 * its pages reach the rule through different paths; other ops bring their
 * own items. */
static uint64_t evidence_documents(struct evidence *ev, const struct rec_op *r)
{
    /* Documents are what reads return: rows of an index listing or a
     * write's acknowledged items are not data taken. */
    if (r->op.op_class != OP_CLASS_READ)
        return 0;
    if (!r->chain.id[0])
        return r->op.items > 0 ? (uint64_t)r->op.items : 0;
    int64_t items = r->chain.items > 0 ? r->chain.items : 0;
    for (int i = 0; i < EVIDENCE_CHAINS; i++)
        if (strcmp(ev->chains[i].id, r->chain.id) == 0) {
            int64_t seen = ev->chains[i].items;
            ev->chains[i].items = items > seen ? items : seen;
            return items > seen ? (uint64_t)(items - seen) : 0;
        }
    int slot = ev->chain_next;
    ev->chain_next = (uint8_t)((ev->chain_next + 1) % EVIDENCE_CHAINS);
    memcpy(ev->chains[slot].id, r->chain.id, sizeof(ev->chains[slot].id));
    ev->chains[slot].id[OP_CONT_MAX - 1] = '\0';
    ev->chains[slot].items = items;
    return (uint64_t)items;
}

/* Adds one op; returns the documents it added. */
static uint64_t evidence_add(struct evidence *ev, const struct rec_op *r, size_t exact,
                             struct membudget *b)
{
    uint64_t docs = evidence_documents(ev, r);
    if (ev->ops == 0)
        ev->first_us = r->ts_us;
    ev->ops++;
    ev->documents += docs;
    ev->bytes += r->op.request_bytes + r->op.response_bytes;
    ev->last_us = r->ts_us > ev->last_us ? r->ts_us : ev->last_us;
    const char *t = r->op.target;
    if (t[0]) {
        distinct_add(&ev->targets, window_hash(t, strlen(t)), exact, b);
        char name[TARGET_NAME_MAX];
        text_copy_capped(name, sizeof(name), t);
        bool seen = false;
        for (uint8_t i = 0; i < ev->name_count && !seen; i++)
            seen = strcmp(ev->names[i], name) == 0;
        if (!seen && ev->name_count < ALERT_TARGETS_MAX)
            memcpy(ev->names[ev->name_count++], name, sizeof(name));
    }
    uint8_t server[17];
    server[0] = r->meta.family;
    memcpy(server + 1, r->meta.server, 16);
    distinct_add(&ev->servers, window_hash(server, sizeof(server)), exact, b);
    return docs;
}

/* ---- state table -------------------------------------------------------- */

static uint64_t state_hash(uint32_t rule_id, const uint8_t key[KEY_BYTES])
{
    uint8_t buf[4 + KEY_BYTES];
    memcpy(buf, &rule_id, 4);
    memcpy(buf + 4, key, KEY_BYTES);
    return window_hash(buf, sizeof(buf));
}

static int state_init(struct state_table *t, size_t max)
{
    memset(t, 0, sizeof(*t));
    lru_init(&t->lru);
    lru_init(&t->open);
    t->max = max ? max : 1;
    size_t want = t->max < ((size_t)1 << 20) ? t->max : ((size_t)1 << 20);
    t->bucket_count = 16;
    while (t->bucket_count < want)
        t->bucket_count *= 2;
    t->buckets = calloc(t->bucket_count, sizeof(*t->buckets));
    return t->buckets ? 0 : -1;
}

static struct state_entry *entry_of(struct lru_node *n)
{
    return n ? lru_entry(n, struct state_entry, lru) : NULL;
}

/* Takes e out of the table (hash chain and LRU) without freeing it. */
static void state_detach(struct state_table *t, struct state_entry *e)
{
    struct state_entry **p = &t->buckets[e->hash & (t->bucket_count - 1)];
    while (*p != e)
        p = &(*p)->hash_next;
    *p = e->hash_next;
    e->hash_next = NULL;
    lru_unlink(&t->lru, &e->lru);
    if (e->on_open) {
        lru_unlink(&t->open, &e->open);
        e->on_open = false;
    }
    assert(t->count > 0);
    t->count--;
}

static void entry_free(struct state_table *t, struct state_entry *e)
{
    evidence_reset(&e->ev, t->budget);
    free(e->close);
    membudget_free(t->budget, e, sizeof(*e));
}

/* Forgets the least recently used entry (rules.state_evicted). */
static void state_evict_oldest(struct state_table *t)
{
    struct state_entry *old = entry_of(lru_oldest(&t->lru));
    state_detach(t, old);
    entry_free(t, old);
    t->evicted++;
}

/* Puts e in as the newest, first making room. */
static void state_insert(struct state_table *t, struct state_entry *e)
{
    while (t->count >= t->max && !lru_is_empty(&t->lru))
        state_evict_oldest(t);
    struct state_entry **b = &t->buckets[e->hash & (t->bucket_count - 1)];
    e->hash_next = *b;
    *b = e;
    lru_append(&t->lru, &e->lru);
    if (e->close) {              /* moved over by a reload */
        lru_append(&t->open, &e->open);
        e->on_open = true;
    }
    t->count++;
}

/* A zeroed entry charged to the budget: when the budget refuses, the least
 * recently used entries are forgotten until it fits. NULL when none is
 * left to forget (or memory is out). */
static struct state_entry *state_alloc(struct state_table *t)
{
    for (;;) {
        struct state_entry *e = membudget_calloc(t->budget, sizeof(*e));
        if (e || !t->budget || lru_is_empty(&t->lru))
            return e;
        state_evict_oldest(t);
    }
}

/* The entry for (rule, key), made if new; it becomes the most recently
 * used. NULL only when out of memory. */
static struct state_entry *state_get(struct state_table *t, uint32_t rule_id,
                                     const uint8_t key[KEY_BYTES])
{
    uint64_t h = state_hash(rule_id, key);
    for (struct state_entry *e = t->buckets[h & (t->bucket_count - 1)]; e; e = e->hash_next)
        if (e->hash == h && e->rule_id == rule_id && memcmp(e->key, key, KEY_BYTES) == 0) {
            lru_move_to_tail(&t->lru, &e->lru);
            return e;
        }
    struct state_entry *e = state_alloc(t);
    if (!e)
        return NULL;
    e->hash = h;
    e->rule_id = rule_id;
    memcpy(e->key, key, KEY_BYTES);
    state_insert(t, e);
    return e;
}

static void state_free(struct state_table *t)
{
    struct lru_node *n = lru_oldest(&t->lru);
    while (n) {
        struct lru_node *next = n->next;
        entry_free(t, entry_of(n));
        n = next;
    }
    free(t->buckets);
    memset(t, 0, sizeof(*t));
}

/* ---- loading ------------------------------------------------------------ */

void rule_engine_free(struct rule_engine *e)
{
    if (!e)
        return;
    for (size_t i = 0; e->windows && i < e->rs.count; i++)
        window_table_free(e->windows[i]);
    free(e->windows);
    state_free(&e->state);
    free(e->pending);
    free(e->sequence_fired);
    rule_set_free(&e->rs);
    free(e);
}

struct rule_engine *rule_engine_load(const struct detect_settings *ds, char *err, size_t errlen)
{
    struct rule_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (rule_set_load(ds, &e->rs, err, errlen) != 0) {
        free(e);
        return NULL;
    }
    e->distinct_exact = ds->distinct_exact;
    size_t n = e->rs.count ? e->rs.count : 1;
    e->windows = calloc(n, sizeof(*e->windows));
    /* one alert per rule, and before it the closing update of its old burst */
    e->pending = calloc(2 * n, sizeof(*e->pending));
    e->sequence_fired = calloc(n, sizeof(*e->sequence_fired));
    if (!e->windows || !e->pending || !e->sequence_fired
        || state_init(&e->state, ds->max_keys) != 0)
        goto oom;
    for (size_t i = 0; i < e->rs.count; i++) {
        const struct rule *r = &e->rs.rules[i];
        if (!r->has_aggregate)
            continue;
        e->windows[i] = window_table_new(ds->max_keys, r->window_s * 1000000,
                                         ds->distinct_exact);
        if (!e->windows[i])
            goto oom;
    }
    return e;
oom:
    snprintf(err, errlen, "out of memory loading rules");
    rule_engine_free(e);
    return NULL;
}

bool rule_engine_client_inside(const struct rule_engine *e, const struct flow_meta *m)
{
    const char *label;
    return netlist_lookup(e->rs.home_nets, m->family, m->client, &label)
           || netlist_lookup(e->rs.trusted_clients, m->family, m->client, &label);
}

size_t rule_engine_rule_count(const struct rule_engine *e)
{
    return e->rs.count;
}

/* ---- alerts ------------------------------------------------------------- */

/* The actor's organisation and tool: from the rule's own lists when they
 * matched, else from every network list the rule set uses as a src_list
 * (longest prefix over all; on a tie the first by list name) and every
 * pattern list it uses as a client_list (first by list name that
 * matches). */
static void attribute(const struct rule_engine *e, const struct rec_op *r,
                      const struct match_labels *labels, struct alert *a)
{
    const char *org = labels ? labels->organisation : NULL;
    const char *tool = labels ? labels->tool : NULL;
    bool find_org = !org;
    int best = 0;
    for (size_t i = 0; i < e->rs.list_count; i++) {
        const struct rule_list *l = &e->rs.lists[i];
        const char *label;
        int len;
        if (find_org && l->actor_org
            && (len = netlist_lookup(l->net, r->meta.family, r->meta.client, &label)) > best) {
            best = len;
            org = label;
        }
        if (!tool && l->actor_tool && r->op.client_id[0]
            && patlist_match(l->pat, r->op.client_id, &label))
            tool = label;
    }
    text_copy_capped(a->organisation, sizeof(a->organisation), org ? org : "");
    text_copy_capped(a->tool, sizeof(a->tool), tool ? tool : "");
}

static void alert_op_fill(struct alert_op *d, const struct op_record *op)
{
    d->op_class = op->op_class;
    d->status = op->status;
    d->items = op->items;
    memcpy(d->name, op->op, sizeof(d->name));
    memcpy(d->target, op->target, sizeof(d->target));
}

static void alert_fill(const struct rule_engine *e, const struct rule *rule,
                       const struct state_entry *s, const struct rec_op *r,
                       const struct match_labels *labels, const struct window_stats *win,
                       const char *stage, struct alert *a)
{
    memset(a, 0, sizeof(*a));
    a->ts_us = r->ts_us;
    a->meta = r->meta;
    a->op_app = r->op.app;
    a->severity = rule->severity;
    a->key = rule->sup_key;
    a->rule_id = rule->id;
    a->rev = rule->rev;
    a->confidence = rule->confidence;
    a->update = s->updates;
    alert_op_fill(&a->op, &r->op);
    a->pcap = r->pcap;
    memcpy(a->name, rule->name, sizeof(a->name));
    memcpy(a->category, rule->category, sizeof(a->category));
    for (size_t i = 0; i < rule->mitre_count; i++)
        memcpy(a->mitre[i], rule->mitre[i], sizeof(a->mitre[i]));
    attribute(e, r, labels, a);
    if (stage)
        text_copy_capped(a->stage, sizeof(a->stage), stage);
    a->ops = s->ev.ops;
    a->documents = s->ev.documents;
    a->bytes = s->ev.bytes;
    a->distinct = win && rule->distinct_field ? win->distinct : distinct_count(&s->ev.targets);
    a->servers = distinct_count(&s->ev.servers);
    a->first_us = s->ev.first_us;
    a->last_us = s->ev.last_us;
    a->window_s = rule->has_aggregate ? rule->window_s : rule->is_sequence ? rule->within_s : 0;
    if (rule_uses_chain(rule)) {
        a->has_chain = 1;
        a->chain = r->chain;
    }
    a->target_count = s->ev.name_count;
    for (uint8_t i = 0; i < s->ev.name_count; i++)
        memcpy(a->targets[i], s->ev.names[i], sizeof(a->targets[i]));
}

/* The rule would fire for entry s: alert, update, or stay quiet. Returns
 * true when an alert is to go out (s updated accordingly). */
static bool suppress_decide(const struct rule *rule, struct state_entry *s, uint64_t now,
                            struct stats *st)
{
    uint64_t period_us = rule->period_s * 1000000;
    /* Updates tell of growing evidence: a window of a scraper's reads. A
     * one-op rule ("exposed", "scanner seen") has said all it has to say. */
    bool updates = rule->updates_set ? rule->updates : rule->has_aggregate;
    if (s->alerted && period_us && now < s->alerted_us + period_us) {
        bool doubled = updates && (s->ev.ops >= 2 * s->base_ops
                       || (s->base_docs > 0 && s->ev.documents >= 2 * s->base_docs)
                       || (s->base_docs == 0 && s->base_ops == 0 && s->ev.documents > 0));
        if (!doubled) {
            stats_inc(st, STAT_RULES_SUPPRESSED);
            return false;
        }
        s->updates++;
    } else {
        s->alerted = true;
        s->alerted_us = now;
        s->updates = 0;
    }
    s->base_ops = s->ev.ops;
    s->base_docs = s->ev.documents;
    return true;
}

/* ---- closing updates (issue 14 point 7) ----------------------------------
 *
 * Updates go out when the evidence doubles, so the last alert of a burst
 * understates it (a 6,000-document dump last reported at 5,000). When the
 * burst ends - its key quiet longer than the rule's window (without an
 * aggregate: its period), or the input ends - an entry whose evidence grew
 * since its last alert sends one more update, marked final, with the totals
 * as they ended. Only rules that send updates do (rules/FORMAT.md). Entries
 * that alerted are kept on state_table.open in the order they first did; the
 * list is looked at once per second of packet time and at the end, and an
 * entry about to start a new burst is closed first, so what goes out and
 * when depends on packet time and op order only. */

static bool rule_sends_updates(const struct rule *rule)
{
    return rule->updates_set ? rule->updates : rule->has_aggregate;
}

static uint64_t quiet_us_of(const struct rule *rule)
{
    return (rule->has_aggregate ? rule->window_s : rule->period_s) * 1000000;
}

/* The entry alerted and its evidence grew since: a closing update is owed. */
static bool closing_due(const struct rule *rule, const struct state_entry *s)
{
    return s->alerted && s->close && rule_sends_updates(rule)
           && (s->ev.ops > s->base_ops || s->ev.documents > s->base_docs);
}

/* Remembers what an alert just sent said, for a later closing update. */
static void entry_remember(struct state_table *t, struct state_entry *s, const struct alert *a)
{
    if (!s->close && !(s->close = calloc(1, sizeof(*s->close))))
        return;                  /* out of memory: this entry sends no closing update */
    struct entry_close *c = s->close;
    c->meta = a->meta;
    c->app = a->op_app;
    memcpy(c->organisation, a->organisation, sizeof(c->organisation));
    memcpy(c->tool, a->tool, sizeof(c->tool));
    memcpy(c->stage, a->stage, sizeof(c->stage));
    c->distinct = a->distinct;
    c->has_chain = a->has_chain;
    c->chain = a->chain;
    c->op = a->op;
    if (!s->on_open) {
        lru_append(&t->open, &s->open);
        s->on_open = true;
    }
}

/* A matching op grew the evidence of an entry that has alerted: keep what
 * changed, and make sure the entry is looked at again. */
static void entry_touch(struct state_table *t, const struct rule *rule, struct state_entry *s,
                        const struct rec_op *r, const struct window_stats *win)
{
    if (!s->close)
        return;
    if (s->close->has_chain && r->chain.id[0])
        s->close->chain = r->chain;
    alert_op_fill(&s->close->op, &r->op);
    if (win && rule->distinct_field)
        s->close->distinct = win->distinct;
    if (!s->on_open) {
        lru_append(&t->open, &s->open);
        s->on_open = true;
    }
}

static void closing_fill(const struct rule *rule, struct state_entry *s, uint64_t now,
                         struct alert *a)
{
    const struct entry_close *c = s->close;
    memset(a, 0, sizeof(*a));
    a->ts_us = now;
    a->meta = c->meta;
    a->op_app = c->app;
    a->severity = rule->severity;
    a->key = rule->sup_key;
    a->rule_id = rule->id;
    a->update = ++s->updates;
    a->final = 1;
    a->rev = rule->rev;
    a->confidence = rule->confidence;
    a->op = c->op;
    memcpy(a->name, rule->name, sizeof(a->name));
    memcpy(a->category, rule->category, sizeof(a->category));
    for (size_t i = 0; i < rule->mitre_count; i++)
        memcpy(a->mitre[i], rule->mitre[i], sizeof(a->mitre[i]));
    memcpy(a->organisation, c->organisation, sizeof(a->organisation));
    memcpy(a->tool, c->tool, sizeof(a->tool));
    memcpy(a->stage, c->stage, sizeof(a->stage));
    a->ops = s->ev.ops;
    a->documents = s->ev.documents;
    a->bytes = s->ev.bytes;
    a->distinct = rule->distinct_field ? c->distinct : distinct_count(&s->ev.targets);
    a->servers = distinct_count(&s->ev.servers);
    a->first_us = s->ev.first_us;
    a->last_us = s->ev.last_us;
    a->window_s = rule->has_aggregate ? rule->window_s : rule->is_sequence ? rule->within_s : 0;
    a->target_count = s->ev.name_count;
    for (uint8_t i = 0; i < s->ev.name_count; i++)
        memcpy(a->targets[i], s->ev.names[i], sizeof(a->targets[i]));
    a->has_chain = c->has_chain;
    a->chain = c->chain;
    /* said: the next closing needs new evidence */
    s->base_ops = s->ev.ops;
    s->base_docs = s->ev.documents;
}

static void emit_counted(struct stats *st, const struct alert *a, alert_fn emit, void *arg)
{
    stats_inc(st, STAT_RULES_ALERTS);
    if (a->update)
        stats_inc(st, STAT_RULES_UPDATES);
    if (emit)
        emit(arg, a);
}

/* Closes the bursts that ended by `now` (all of them when `all`): their
 * closing updates go out in the order the entries first alerted. */
static void closing_sweep(struct rule_engine *e, struct stats *st, uint64_t now, bool all,
                          alert_fn emit, void *arg)
{
    struct lru_node *n = lru_oldest(&e->state.open);
    while (n) {
        struct lru_node *next = n->next;
        struct state_entry *s = lru_entry(n, struct state_entry, open);
        const struct rule *rule = rule_set_find(&e->rs, s->rule_id);
        uint64_t quiet = rule ? quiet_us_of(rule) : 0;
        bool ended = all || (quiet && now > s->ev.last_us && now - s->ev.last_us > quiet);
        if (rule && ended && closing_due(rule, s)) {
            struct alert a;
            closing_fill(rule, s, now, &a);
            emit_counted(st, &a, emit, arg);
        }
        if (!rule || ended || !rule_sends_updates(rule)) {
            lru_unlink(&e->state.open, &s->open);   /* back on when it grows again */
            s->on_open = false;
        }
        n = next;
    }
}

void rule_engine_finish(struct rule_engine *e, struct stats *st, alert_fn emit, void *arg)
{
    if (e)
        closing_sweep(e, st, e->now_us, true, emit, arg);
}

/* Evidence is one burst: reset after the key was quiet for `quiet_us`. A
 * reset while suppressed makes the next firing an update (a new burst). The
 * burst that ends gets its closing update first (into the op's alerts). */
static void maybe_reset(struct rule_engine *e, const struct rule *rule, struct state_entry *s,
                        uint64_t now, uint64_t quiet_us)
{
    if (s->ev.ops && quiet_us && now > s->ev.last_us && now - s->ev.last_us > quiet_us) {
        if (closing_due(rule, s))
            closing_fill(rule, s, now, &e->pending[e->pending_count++]);
        evidence_reset(&s->ev, e->state.budget);
        s->base_ops = s->base_docs = 0;
    }
}

/* ---- evaluation --------------------------------------------------------- */

static uint64_t field_value(uint8_t field, uint64_t docs, const struct op_record *op)
{
    switch (field) {
    case RULE_FIELD_ITEMS:
        /* Reads: the documents taken (a chain counted once). Other ops:
         * their own items (documents deleted, written). */
        if (op->op_class == OP_CLASS_READ)
            return docs;
        return op->items > 0 ? (uint64_t)op->items : 0;
    case RULE_FIELD_REQUEST_BYTES: return op->request_bytes;
    case RULE_FIELD_RESPONSE_BYTES: return op->response_bytes;
    default: return 0;
    }
}

/* Stage rule `stage` would fire on this op: advance the sequences that
 * name it. */
static void sequences_advance(struct rule_engine *e, struct stats *st, const struct rule *stage,
                              const struct rec_op *r)
{
    for (size_t i = 0; i < e->rs.count; i++) {
        const struct rule *q = &e->rs.rules[i];
        if (!q->is_sequence)
            continue;
        size_t k = 0;
        while (k < q->stage_count && q->stages[k] != stage->id)
            k++;
        if (k == q->stage_count)
            continue;
        uint8_t key[KEY_BYTES];
        make_key(q->seq_key, r, key);
        struct state_entry *s = state_get(&e->state, q->id, key);
        if (!s)
            continue;
        uint64_t now = r->ts_us;
        if (s->next_stage && now > s->seq_first_us
            && now - s->seq_first_us > q->within_s * 1000000) {
            s->next_stage = 0;           /* too late: start again */
            evidence_reset(&s->ev, e->state.budget);
            s->base_ops = s->base_docs = 0;
        }
        bool advanced = false;
        if (s->next_stage < q->stage_count && q->stages[s->next_stage] == stage->id) {
            if (s->next_stage == 0) {
                s->seq_first_us = now;
                evidence_reset(&s->ev, e->state.budget);
            }
            s->next_stage++;
            advanced = true;
        }
        if (!s->next_stage)
            continue;                    /* not started: a later stage alone is nothing */
        if (s->last_serial != e->serial) {
            evidence_add(&s->ev, r, e->distinct_exact, e->state.budget);
            s->last_serial = e->serial;
            entry_touch(&e->state, q, s, r, NULL);
        }
        bool complete = s->next_stage == q->stage_count;
        bool last = stage->id == q->stages[q->stage_count - 1];
        if (!complete || !(advanced || last) || e->sequence_fired[i] == e->serial)
            continue;
        e->sequence_fired[i] = e->serial;
        if (!suppress_decide(q, s, now, st))
            continue;
        const char *name = stage->category[0] ? stage->category : stage->name;
        struct alert *a = &e->pending[e->pending_count++];
        alert_fill(e, q, s, r, NULL, NULL, name, a);
        entry_remember(&e->state, s, a);
    }
}

/* Rule id order; a rule's closing update (of its previous burst) before
 * the alert of its new one. */
static int cmp_alert(const void *a, const void *b)
{
    const struct alert *p = a, *q = b;
    if (p->rule_id != q->rule_id)
        return p->rule_id < q->rule_id ? -1 : 1;
    return (int)q->final - (int)p->final;
}

static void report_evictions(struct rule_engine *e, struct stats *st)
{
    uint64_t total = e->state.evicted;
    for (size_t i = 0; i < e->rs.count; i++)
        if (e->windows[i])
            total += window_table_evictions(e->windows[i]);
    if (total > e->evictions_reported)
        stats_add(st, STAT_RULES_STATE_EVICTED, total - e->evictions_reported);
    e->evictions_reported = total;
}

static void engine_run(struct rule_engine *e, struct stats *st, const struct rec_op *r,
                       enum rule_record record, alert_fn emit, void *arg);

void rule_engine_op(struct rule_engine *e, struct stats *st, const struct rec_op *r,
                    alert_fn emit, void *arg)
{
    engine_run(e, st, r, RULE_RECORD_OP, emit, arg);
}

void rule_engine_flow(struct rule_engine *e, struct stats *st, const struct rec_op *r,
                      alert_fn emit, void *arg)
{
    engine_run(e, st, r, RULE_RECORD_FLOW, emit, arg);
}

/* One record through the rules that read its kind. */
static void engine_run(struct rule_engine *e, struct stats *st, const struct rec_op *r,
                       enum rule_record record, alert_fn emit, void *arg)
{
    if (!e || !e->rs.count)
        return;
    if (r->ts_us > e->now_us)
        e->now_us = r->ts_us;
    if (e->now_us >= e->next_sweep_us) {
        e->next_sweep_us = e->now_us + 1000000;
        closing_sweep(e, st, e->now_us, false, emit, arg);
    }
    const struct rule_set *rs = &e->rs;
    const char *label;
    /* A server outside home_nets is not ours: nothing about it alerts. */
    if (netlist_size(rs->home_nets)
        && !netlist_lookup(rs->home_nets, r->meta.family, r->meta.server, &label))
        return;
    bool inside = rule_engine_client_inside(e, &r->meta);
    e->serial++;
    e->pending_count = 0;
    uint64_t now = r->ts_us;

    for (size_t i = 0; i < rs->count; i++) {
        const struct rule *rule = &rs->rules[i];
        struct match_labels labels = {NULL, NULL};
        if (rule->is_sequence || rule->match.record != record
            || !rule_match_op(&rule->match, r, inside, &labels))
            continue;
        if (rule_uses_chain(rule) && !r->chain.id[0])
            continue;                    /* keyed by a chain the op is not part of */
        stats_inc(st, STAT_RULES_MATCHED);
        uint8_t key[KEY_BYTES];
        make_key(rule->sup_key, r, key);
        struct state_entry *s = state_get(&e->state, rule->id, key);
        if (!s)
            continue;
        maybe_reset(e, rule, s, now, quiet_us_of(rule));
        uint64_t docs = evidence_add(&s->ev, r, e->distinct_exact, e->state.budget);
        s->last_serial = e->serial;

        bool fire = true;
        struct window_stats win;
        memset(&win, 0, sizeof(win));
        if (rule->has_aggregate) {
            uint8_t akey[KEY_BYTES];
            make_key(rule->agg_key, r, akey);
            uint8_t server[17];
            const void *item = NULL;
            size_t item_len = 0;
            if (rule->distinct_field == RULE_FIELD_TARGET) {
                item = r->op.target;
                item_len = strlen(r->op.target);
            } else if (rule->distinct_field == RULE_FIELD_OP) {
                item = r->op.op;
                item_len = strlen(r->op.op);
            } else if (rule->distinct_field == RULE_FIELD_DEST) {
                server[0] = r->meta.family;
                memcpy(server + 1, r->meta.server, 16);
                item = server;
                item_len = sizeof(server);
            }
            window_add(e->windows[i], akey, sizeof(akey), now,
                       field_value(rule->sum_field, docs, &r->op), item, item_len, &win);
            fire = (!rule->count_min || win.count >= rule->count_min)
                   && (!rule->sum_min || win.sum >= rule->sum_min)
                   && (!rule->distinct_min || win.distinct >= rule->distinct_min);
        }
        entry_touch(&e->state, rule, s, r, rule->has_aggregate ? &win : NULL);
        if (!fire)
            continue;
        if (suppress_decide(rule, s, now, st)) {
            struct alert *a = &e->pending[e->pending_count++];
            alert_fill(e, rule, s, r, &labels, rule->has_aggregate ? &win : NULL, NULL, a);
            entry_remember(&e->state, s, a);
        }
        sequences_advance(e, st, rule, r);   /* may evict s: not used after this */
    }

    report_evictions(e, st);
    qsort(e->pending, e->pending_count, sizeof(*e->pending), cmp_alert);
    for (size_t i = 0; i < e->pending_count; i++)
        emit_counted(st, &e->pending[i], emit, arg);
}

/* ---- reload ------------------------------------------------------------- */

static bool same_aggregate(const struct rule *a, const struct rule *b)
{
    return a->has_aggregate && b->has_aggregate && a->window_s == b->window_s
           && a->agg_key == b->agg_key && a->sum_field == b->sum_field
           && a->distinct_field == b->distinct_field;
}

void rule_engine_set_budget(struct rule_engine *e, struct membudget *budget)
{
    if (e)
        e->state.budget = budget;
    for (size_t i = 0; e && i < e->rs.count; i++)
        if (e->windows[i])
            window_table_set_budget(e->windows[i], budget);
}

void rule_engine_adopt_state(struct rule_engine *to, struct rule_engine *from)
{
    if (!to || !from) {
        rule_engine_free(from);
        return;
    }
    /* Oldest first, each inserted as the newest: the LRU order survives. */
    struct state_entry *s = entry_of(lru_oldest(&from->state.lru));
    while (s) {
        struct state_entry *newer = entry_of(s->lru.next);
        state_detach(&from->state, s);
        const struct rule *old = rule_set_find(&from->rs, s->rule_id);
        const struct rule *now = rule_set_find(&to->rs, s->rule_id);
        if (old && now && old->is_sequence == now->is_sequence
            && (now->is_sequence ? old->seq_key == now->seq_key : old->sup_key == now->sup_key)) {
            if (now->is_sequence && s->next_stage > now->stage_count)
                s->next_stage = 0;
            state_insert(&to->state, s);
        } else {
            entry_free(&from->state, s);
        }
        s = newer;
    }
    /* A window table moves whole when the rule aggregates the same way. */
    for (size_t i = 0; i < to->rs.count; i++) {
        const struct rule *now = &to->rs.rules[i];
        const struct rule *old = rule_set_find(&from->rs, now->id);
        if (!old || !same_aggregate(old, now))
            continue;
        size_t j = (size_t)(old - from->rs.rules);
        struct window_table *t = to->windows[i];
        to->windows[i] = from->windows[j];
        from->windows[j] = t;
    }
    to->serial = from->serial;
    to->now_us = from->now_us;
    to->next_sweep_us = from->next_sweep_us;
    to->evictions_reported = 0;    /* evictions made room for adopted state: count them */
    for (size_t i = 0; i < to->rs.count; i++)
        if (to->windows[i])
            to->evictions_reported += window_table_evictions(to->windows[i]);
    rule_engine_free(from);
}
