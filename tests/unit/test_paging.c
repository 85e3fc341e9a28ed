/* test_paging.c - offset walks: pages of one whole-dataset query fetched by
 * from/skip/start form a walk with a chain id, running totals and an end. */
#include "../../sensor/paging.h"
#include "../../decoders/apps.h"
#include "check.h"

static struct op_record page(int64_t offset, int64_t size, int64_t items, int64_t total)
{
    struct op_record op;
    op_record_init(&op, APP_ELASTICSEARCH);
    snprintf(op.op, sizeof(op.op), "%s", "_search");
    snprintf(op.target, sizeof(op.target), "%s", "archive");
    op.op_class = OP_CLASS_READ;
    op.status = OP_STATUS_OK;
    op.flags = OP_FLAG_MATCH_ALL;
    op.offset = offset;
    op.page_size = size;
    op.items = items;
    op.total = total;
    return op;
}

static struct flow_meta meta_of(uint8_t client_last)
{
    struct flow_meta m;
    memset(&m, 0, sizeof(m));
    m.family = 4;
    m.client[0] = 198, m.client[1] = 51, m.client[2] = 100, m.client[3] = client_last;
    m.server[0] = 10, m.server[3] = 5;
    return m;
}

static void test_walk_to_the_end(void)
{
    struct stats st;
    stats_clear(&st);
    struct paging_table *t = paging_table_new(16);
    struct flow_meta m = meta_of(1);
    struct chain_info c;
    memset(&c, 0, sizeof(c));
    for (int i = 0; i < 5; i++) {
        struct op_record op = page(500 * i, 500, 500, 2500);
        CHECK(paging_table_update(t, &st, &m, &op, &c));
    }
    CHECK_EQ_INT(c.id[0], 'p');
    CHECK_EQ_INT(strlen(c.id), 16);
    CHECK_EQ_INT(c.ops, 5);
    CHECK_EQ_INT(c.items, 2500);
    CHECK_EQ_INT(c.total, 2500);
    CHECK_EQ_INT(c.exhausted, 1);                /* reached the total */
    CHECK_EQ_INT(c.match_all, 1);
    CHECK_EQ_STR(c.target, "archive");
    /* starting again at 0 is a new walk */
    char first[OP_CONT_MAX];
    memcpy(first, c.id, sizeof(first));
    struct op_record op = page(0, 500, 500, 2500);
    CHECK(paging_table_update(t, &st, &m, &op, &c));
    CHECK(strcmp(first, c.id) != 0);
    CHECK_EQ_INT(c.items, 500);
    CHECK_EQ_INT(c.exhausted, 0);
    paging_table_free(t);
}

static void test_short_page_ends_a_walk_without_total(void)
{
    struct stats st;
    stats_clear(&st);
    struct paging_table *t = paging_table_new(16);
    struct flow_meta m = meta_of(2);
    struct chain_info c;
    struct op_record op = page(0, 100, 100, -1);     /* Mongo skip/limit: no total */
    CHECK(paging_table_update(t, &st, &m, &op, &c));
    op = page(100, 100, 40, -1);
    CHECK(paging_table_update(t, &st, &m, &op, &c));
    CHECK_EQ_INT(c.items, 140);
    CHECK_EQ_INT(c.exhausted, 1);
    paging_table_free(t);
}

static void test_not_a_walk(void)
{
    struct stats st;
    stats_clear(&st);
    struct paging_table *t = paging_table_new(16);
    struct flow_meta m = meta_of(3);
    struct chain_info c;
    memset(&c, 0, sizeof(c));
    struct op_record op = page(1000, 500, 500, 2500);  /* starts mid-way: random access */
    CHECK(!paging_table_update(t, &st, &m, &op, &c));
    op = page(0, 500, 500, 2500);
    CHECK(paging_table_update(t, &st, &m, &op, &c));
    op = page(1500, 500, 500, 2500);                   /* skips ahead */
    CHECK(!paging_table_update(t, &st, &m, &op, &c));
    op = page(500, 500, 500, 2500);                    /* the walk goes on */
    CHECK(paging_table_update(t, &st, &m, &op, &c));
    CHECK_EQ_INT(c.items, 1000);
    op = page(1000, 500, 500, 2500);
    op.flags = 0;                                      /* a filtered query */
    CHECK(!paging_table_update(t, &st, &m, &op, &c));
    op = page(1000, 500, 500, 2500);
    op.status = OP_STATUS_ERROR;
    CHECK(!paging_table_update(t, &st, &m, &op, &c));
    op = page(0, 500, 500, 2500);                      /* a cursor's first page */
    snprintf(op.cursor_out, sizeof(op.cursor_out), "%s", "abcd");
    CHECK(!paging_table_update(t, &st, &m, &op, &c));
    /* another client's pages are another walk */
    struct flow_meta other = meta_of(4);
    op = page(500, 500, 500, 2500);
    CHECK(!paging_table_update(t, &st, &other, &op, &c));
    paging_table_free(t);
}

static void test_forgets_least_recent(void)
{
    struct stats st;
    stats_clear(&st);
    struct paging_table *t = paging_table_new(2);
    struct chain_info c;
    for (uint8_t i = 10; i < 13; i++) {
        struct flow_meta m = meta_of(i);
        struct op_record op = page(0, 500, 500, 2500);
        CHECK(paging_table_update(t, &st, &m, &op, &c));
    }
    CHECK_EQ_INT(stats_get(&st, STAT_CHAINS_FORGOTTEN), 1);
    struct flow_meta m = meta_of(10);                  /* forgotten: no walk */
    struct op_record op = page(500, 500, 500, 2500);
    CHECK(!paging_table_update(t, &st, &m, &op, &c));
    m = meta_of(12);
    CHECK(paging_table_update(t, &st, &m, &op, &c));
    CHECK_EQ_INT(c.items, 1000);
    paging_table_free(t);
}

int main(void)
{
    check_binary = "paging";
    RUN(test_walk_to_the_end);
    RUN(test_short_page_ends_a_walk_without_total);
    RUN(test_not_a_walk);
    RUN(test_forgets_least_recent);
    CHECK_EXIT();
}
