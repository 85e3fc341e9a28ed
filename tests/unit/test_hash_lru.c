/* test_hash_lru.c - the floor's hash (sensor/base/hash.h) against known
 * FNV-1a vectors and the values other modules already put in output, and its
 * LRU list (sensor/base/lru.h): order after append, move and unlink of the
 * head, the tail, a middle node and the only node. */
#include "../../sensor/base/hash.h"
#include "../../sensor/base/limits.h"
#include "../../sensor/base/lru.h"

#include <stdint.h>
#include <string.h>

#include "../../decoders/elasticsearch/elasticsearch.h"
#include "../../rules/window.h"
#include "check.h"

static void test_fnv1a64_known_vectors(void)
{
    CHECK(hash_fnv1a64("", 0) == UINT64_C(0xcbf29ce484222325));
    CHECK(hash_fnv1a64("a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
    CHECK(hash_fnv1a64("foobar", 6) == UINT64_C(0x85944171f73967e8));
    CHECK(HASH_FNV1A64_OFFSET == UINT64_C(14695981039346656037));
    CHECK(HASH_FNV1A64_PRIME == UINT64_C(1099511628211));
}

static void test_fnv1a64_in_pieces_and_strings(void)
{
    uint64_t h = hash_fnv1a64_update(HASH_FNV1A64_OFFSET, "foo", 3);
    h = hash_fnv1a64_update(h, "", 0);
    h = hash_fnv1a64_update(h, "bar", 3);
    CHECK(h == hash_fnv1a64("foobar", 6));
    CHECK(hash_fnv1a64_str("foobar") == hash_fnv1a64("foobar", 6));
    CHECK(hash_fnv1a64_str("") == HASH_FNV1A64_OFFSET);
    /* Bytes above 0x7f hash as themselves, not sign-extended. */
    CHECK(hash_fnv1a64_str("\xff") == hash_fnv1a64("\xff", 1));
    CHECK(hash_fnv1a64("\xff", 1) == ((HASH_FNV1A64_OFFSET ^ 0xffu) * HASH_FNV1A64_PRIME));
}

static void test_mix64(void)
{
    /* splitmix64 finaliser: 0 is a fixed point, and known outputs. */
    CHECK(hash_mix64(0) == 0);
    CHECK(hash_mix64(1) == UINT64_C(0x5692161d100b05e5));
    CHECK(hash_mix64(HASH_GOLDEN64) == UINT64_C(0xe220a8397b1dcdaf));
}

/* What reaches output must not move: the window hash and the continuation
 * hash are built on these helpers. */
static void test_users_keep_their_values(void)
{
    CHECK(window_hash("foobar", 6) == hash_mix64(UINT64_C(0x85944171f73967e8)));
    char out[OP_CONT_MAX];
    es_cursor_hash("foobar", 6, out);
    CHECK_EQ_STR(out, "85944171f73967e8");
    op_continuation_hash("", 0, out);
    CHECK_EQ_STR(out, "cbf29ce484222325");
}

struct item {
    int id;
    struct lru_node node;
};

/* The ids from head (least recently used) to tail, as a string, checking
 * the back links on the way. */
static const char *order(const struct lru_list *l)
{
    static char buf[32];
    size_t n = 0;
    const struct lru_node *prev = NULL;
    for (struct lru_node *i = lru_oldest(l); i && n + 1 < sizeof(buf); i = i->next) {
        CHECK(i->prev == prev);
        buf[n++] = (char)('0' + lru_entry(i, struct item, node)->id);
        prev = i;
    }
    CHECK(lru_newest(l) == prev);
    buf[n] = '\0';
    return buf;
}

static void fill(struct lru_list *l, struct item *items, int n)
{
    lru_init(l);
    memset(items, 0, sizeof(*items) * (size_t)n);
    for (int i = 0; i < n; i++) {
        items[i].id = i;
        lru_append(l, &items[i].node);
    }
}

static void test_lru_append_and_move(void)
{
    struct lru_list l;
    struct item it[4];
    lru_init(&l);
    CHECK(lru_is_empty(&l));
    CHECK(lru_oldest(&l) == NULL && lru_newest(&l) == NULL);
    CHECK_EQ_STR(order(&l), "");
    fill(&l, it, 4);
    CHECK(!lru_is_empty(&l));
    CHECK_EQ_STR(order(&l), "0123");
    lru_move_to_tail(&l, &it[1].node);
    CHECK_EQ_STR(order(&l), "0231");
    lru_move_to_tail(&l, &it[1].node);      /* already the tail */
    CHECK_EQ_STR(order(&l), "0231");
    lru_move_to_tail(&l, &it[0].node);      /* the head */
    CHECK_EQ_STR(order(&l), "2310");
    CHECK(lru_entry(lru_oldest(&l), struct item, node) == &it[2]);
    CHECK(lru_entry(lru_newest(&l), struct item, node) == &it[0]);
}

static void test_lru_unlink(void)
{
    struct lru_list l;
    struct item it[4];

    fill(&l, it, 4);
    lru_unlink(&l, &it[0].node);            /* head */
    CHECK_EQ_STR(order(&l), "123");
    CHECK(it[0].node.prev == NULL && it[0].node.next == NULL);
    lru_unlink(&l, &it[3].node);            /* tail */
    CHECK_EQ_STR(order(&l), "12");
    lru_append(&l, &it[3].node);            /* an unlinked node goes back in */
    lru_append(&l, &it[0].node);
    CHECK_EQ_STR(order(&l), "1230");
    lru_unlink(&l, &it[2].node);            /* middle */
    CHECK_EQ_STR(order(&l), "130");
    CHECK(it[2].node.prev == NULL && it[2].node.next == NULL);

    fill(&l, it, 1);
    lru_unlink(&l, &it[0].node);            /* the only one */
    CHECK(lru_is_empty(&l));
    CHECK_EQ_STR(order(&l), "");
    lru_append(&l, &it[0].node);
    CHECK_EQ_STR(order(&l), "0");
    lru_move_to_tail(&l, &it[0].node);
    CHECK_EQ_STR(order(&l), "0");
}

static void test_lru_evict_oldest_until_empty(void)
{
    struct lru_list l;
    struct item it[5];
    fill(&l, it, 5);
    lru_move_to_tail(&l, &it[2].node);
    char seen[8];
    size_t n = 0;
    while (!lru_is_empty(&l) && n + 1 < sizeof(seen)) {
        struct item *old = lru_entry(lru_oldest(&l), struct item, node);
        seen[n++] = (char)('0' + old->id);
        lru_unlink(&l, &old->node);
    }
    seen[n] = '\0';
    CHECK_EQ_STR(seen, "01342");
}

static void test_limits(void)
{
    CHECK_EQ_INT(WORKERS_MAX, 64);
    CHECK_EQ_INT(SNAPLEN_MAX, 262144);
}

int main(void)
{
    check_binary = "hash_lru";
    RUN(test_fnv1a64_known_vectors);
    RUN(test_fnv1a64_in_pieces_and_strings);
    RUN(test_mix64);
    RUN(test_users_keep_their_values);
    RUN(test_lru_append_and_move);
    RUN(test_lru_unlink);
    RUN(test_lru_evict_oldest_until_empty);
    RUN(test_limits);
    CHECK_EXIT();
}
