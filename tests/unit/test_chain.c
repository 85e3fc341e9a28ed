/* test_chain.c - cursor chains: pages of one dump share a chain id and
 * running totals; the table forgets the least recently used cursor. */
#include "../../sensor/chain.h"
#include "../../sensor/base/membudget.h"
#include "../../decoders/apps.h"
#include "check.h"

static struct op_record page(const char *cont, const char *out, int64_t items)
{
    struct op_record op;
    op_record_init(&op, APP_ELASTICSEARCH);
    snprintf(op.continuation, sizeof(op.continuation), "%s", cont);
    snprintf(op.cursor_out, sizeof(op.cursor_out), "%s", out);
    op.items = items;
    return op;
}

static void test_scroll_pages_share_a_chain(void)
{
    struct stats st;
    stats_clear(&st);
    struct flow_meta meta = {0};
    struct chain_table *t = chain_table_new(16);
    struct chain_info c;
    struct op_record op = page("", "aaaa", 1000);   /* _search?scroll=1m */
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_STR(c.id, "aaaa");
    CHECK_EQ_INT(c.ops, 1);
    CHECK_EQ_INT(c.items, 1000);
    op = page("aaaa", "aaaa", 1000);                 /* same scroll id back */
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_STR(c.id, "aaaa");
    CHECK_EQ_INT(c.ops, 2);
    CHECK_EQ_INT(c.items, 2000);
    op = page("aaaa", "bbbb", 500);                  /* server rotates the id */
    chain_table_update(t, &st, &meta, &op, &c);
    op = page("bbbb", "", 0);                        /* last page, clear */
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_STR(c.id, "aaaa");
    CHECK_EQ_INT(c.ops, 4);
    CHECK_EQ_INT(c.items, 2500);
    CHECK_EQ_INT(stats_get(&st, STAT_CHAINS_STARTED), 1);
    CHECK_EQ_INT(stats_get(&st, STAT_CHAINS_CONTINUED), 3);
    op = page("", "", 7);                            /* not a cursor op */
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_STR(c.id, "");
    chain_table_free(t);
}

static void test_unknown_continuation_starts_a_chain(void)
{
    struct stats st;
    stats_clear(&st);
    struct flow_meta meta = {0};
    struct chain_table *t = chain_table_new(16);
    struct chain_info c;
    struct op_record op = page("cccc", "cccc", 10);  /* capture began mid-dump */
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_STR(c.id, "cccc");
    CHECK_EQ_INT(c.ops, 1);
    chain_table_free(t);
}

static void test_lru_forgets_oldest_cursor(void)
{
    struct stats st;
    stats_clear(&st);
    struct flow_meta meta = {0};
    struct chain_table *t = chain_table_new(2);
    struct chain_info c;
    struct op_record a = page("", "a1", 1), b = page("", "b1", 1), d = page("", "d1", 1);
    chain_table_update(t, &st, &meta, &a, &c);
    chain_table_update(t, &st, &meta, &b, &c);
    struct op_record a2 = page("a1", "a1", 1);       /* a1 becomes most recent */
    chain_table_update(t, &st, &meta, &a2, &c);
    chain_table_update(t, &st, &meta, &d, &c);       /* evicts b1 */
    CHECK_EQ_INT(stats_get(&st, STAT_CHAINS_FORGOTTEN), 1);
    struct op_record a3 = page("a1", "", 1);
    chain_table_update(t, &st, &meta, &a3, &c);      /* a1 still known */
    CHECK_EQ_STR(c.id, "a1");
    CHECK_EQ_INT(c.ops, 3);
    struct op_record b2 = page("b1", "", 1);
    chain_table_update(t, &st, &meta, &b2, &c);      /* b1 forgotten: new chain */
    CHECK_EQ_STR(c.id, "b1");
    CHECK_EQ_INT(c.ops, 1);
    chain_table_free(t);
}

/* Cursors and chains are charged to the budget: a table whose budget
 * holds few of them forgets the least recently used (counted) instead of
 * growing, never holds more than the budget, keeps the newest findable,
 * and gives every byte back when freed. */
static void test_budget_forgets_oldest_cursor(void)
{
    struct stats st;
    stats_clear(&st);
    struct membudget b;
    membudget_init(&b, 2048, NULL);
    struct flow_meta meta = {0};
    struct chain_table *t = chain_table_new(1000);
    chain_table_set_budget(t, &b);
    struct chain_info c;
    char id[16];
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof(id), "cursor%d", i);
        struct op_record op = page("", id, 1);
        chain_table_update(t, &st, &meta, &op, &c);
        CHECK_EQ_STR(c.id, id);
        CHECK(b.used <= b.limit);
    }
    CHECK(b.used > 0);
    uint64_t forgotten = stats_get(&st, STAT_CHAINS_FORGOTTEN);
    CHECK(forgotten > 50 && forgotten < 100);   /* the budget, not max, bound it */
    struct op_record last = page("cursor99", "", 1);
    chain_table_update(t, &st, &meta, &last, &c);
    CHECK_EQ_INT(c.ops, 2);                        /* the newest is remembered */
    struct op_record first = page("cursor0", "", 1);
    chain_table_update(t, &st, &meta, &first, &c);
    CHECK_EQ_INT(c.ops, 1);                        /* the oldest was forgotten */
    chain_table_free(t);
    CHECK_EQ_INT(b.used, 0);
}

/* A scroll page as the decoders give it: ok, a read, `continues` when it
 * asked for more (not on the opening search or a clear). */
static struct op_record read_page(const char *cont, const char *out, int64_t items,
                                  int64_t total)
{
    struct op_record op = page(cont, out, items);
    op.op_class = OP_CLASS_READ;
    op.status = OP_STATUS_OK;
    op.total = total;
    if (cont[0])
        op.flags |= OP_FLAG_CONTINUES;
    return op;
}

static void test_total_and_exhaustion(void)
{
    struct stats st;
    stats_clear(&st);
    struct flow_meta meta = {0};
    struct chain_table *t = chain_table_new(16);
    struct chain_info c;
    struct op_record op = read_page("", "s1", 500, 2500);   /* search?scroll */
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_INT(c.total, 2500);
    CHECK_EQ_INT(c.total_relation, OP_TOTAL_EXACT);
    CHECK_EQ_INT(c.exhausted, 0);
    for (int i = 0; i < 4; i++) {
        op = read_page("s1", "s1", 500, 2500);               /* same id back */
        chain_table_update(t, &st, &meta, &op, &c);
        CHECK_EQ_INT(c.exhausted, 0);
    }
    CHECK_EQ_INT(c.items, 2500);
    op = read_page("s1", "s1", 0, 2500);                     /* empty last page */
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_INT(c.exhausted, 1);
    CHECK_EQ_INT(c.ops, 6);
    chain_table_free(t);
}

static void test_clear_is_not_exhaustion(void)
{
    struct stats st;
    stats_clear(&st);
    struct flow_meta meta = {0};
    struct chain_table *t = chain_table_new(16);
    struct chain_info c;
    struct op_record op = read_page("", "s1", 500, 2500);
    chain_table_update(t, &st, &meta, &op, &c);
    op = read_page("s1", "s1", 500, 2500);
    chain_table_update(t, &st, &meta, &op, &c);
    op = read_page("s1", "", -1, -1);                        /* DELETE _search/scroll */
    op.flags &= ~OP_FLAG_CONTINUES;
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_INT(c.exhausted, 0);
    CHECK_EQ_INT(c.items, 1000);
    CHECK_EQ_INT(c.total, 2500);
    /* an error page with no cursor is not the end either */
    op = read_page("s1", "", -1, -1);
    op.status = OP_STATUS_ERROR;
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_INT(c.exhausted, 0);
    chain_table_free(t);
}

static void test_cursor_zero_and_lower_bound(void)
{
    struct stats st;
    stats_clear(&st);
    struct flow_meta meta = {0};
    struct chain_table *t = chain_table_new(16);
    struct chain_info c;
    /* Mongo find + getMore, the last reply with cursor id 0 (no cursor_out) */
    struct op_record op = read_page("", "m1", 101, -1);
    chain_table_update(t, &st, &meta, &op, &c);
    op = read_page("m1", "", 399, -1);
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_INT(c.exhausted, 1);
    CHECK_EQ_INT(c.total, -1);
    CHECK_EQ_INT(c.items, 500);
    /* Redis SCAN: an empty batch mid-walk is not the end, cursor 0 is */
    op = read_page("", "r1", 0, -1);
    op.op_class = OP_CLASS_ENUMERATE;
    chain_table_update(t, &st, &meta, &op, &c);
    op = read_page("r1", "r2", 0, -1);
    op.op_class = OP_CLASS_ENUMERATE;
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_INT(c.exhausted, 0);
    op = read_page("r2", "", 10, -1);
    op.op_class = OP_CLASS_ENUMERATE;
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_INT(c.exhausted, 1);
    /* a lower bound ("gte") is kept as such; a larger exact total wins */
    op = read_page("", "e1", 1000, 10000);
    op.total_relation = OP_TOTAL_LOWER_BOUND;
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_INT(c.total, 10000);
    CHECK_EQ_INT(c.total_relation, OP_TOTAL_LOWER_BOUND);
    op = read_page("e1", "e1", 1000, 10000);
    chain_table_update(t, &st, &meta, &op, &c);
    CHECK_EQ_INT(c.total_relation, OP_TOTAL_EXACT);
    chain_table_free(t);
}

int main(void)
{
    check_binary = "chain";
    RUN(test_scroll_pages_share_a_chain);
    RUN(test_unknown_continuation_starts_a_chain);
    RUN(test_lru_forgets_oldest_cursor);
    RUN(test_budget_forgets_oldest_cursor);
    RUN(test_total_and_exhaustion);
    RUN(test_clear_is_not_exhaustion);
    RUN(test_cursor_zero_and_lower_bound);
    CHECK_EXIT();
}
