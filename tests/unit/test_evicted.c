/* test_evicted.c - the recently evicted connections (sensor/evicted.h):
 * sizing, a noted key is found once, sets keep their newest keys. */
#include "../../sensor/evicted.h"

#include <stdint.h>

#include "check.h"

/* A hash whose set bits (40 and up) pick `set` and whose low bits tell
 * keys apart within it. */
static uint64_t hash_in(uint64_t set, uint64_t n)
{
    return (set << 40) | (n << 8);
}

static void test_evicted_sizes(void)
{
    struct evicted_keys e;
    CHECK_EQ_INT(evicted_init(&e, 0), 0);
    CHECK_EQ_INT(e.count, 64);
    CHECK_EQ_INT(evicted_bytes(&e), 64 * 8);
    evicted_destroy(&e);
    CHECK_EQ_INT(evicted_init(&e, 100000), 0);
    CHECK_EQ_INT(e.count, 65536);   /* rounded down to a power of two */
    evicted_destroy(&e);
    CHECK_EQ_INT(e.count, 0);
}

static void test_evicted_take_once(void)
{
    struct evicted_keys e;
    CHECK_EQ_INT(evicted_init(&e, 1024), 0);
    CHECK(!evicted_take(&e, hash_in(3, 1)));
    evicted_note(&e, hash_in(3, 1));
    evicted_note(&e, hash_in(3, 2));
    CHECK(!evicted_take(&e, hash_in(3, 3)));   /* same set, another key */
    CHECK(!evicted_take(&e, hash_in(4, 1)));   /* another set */
    CHECK(evicted_take(&e, hash_in(3, 1)));
    CHECK(!evicted_take(&e, hash_in(3, 1)));   /* forgotten once taken */
    CHECK(evicted_take(&e, hash_in(3, 2)));
    evicted_note(&e, 0);                       /* a zero hash is a key too */
    CHECK(evicted_take(&e, 0));
    CHECK(!evicted_take(&e, 0));
    evicted_destroy(&e);
}

/* A full set forgets its oldest key for the newest; taking one from the
 * middle leaves the others findable. */
static void test_evicted_set_full(void)
{
    struct evicted_keys e;
    CHECK_EQ_INT(evicted_init(&e, 64), 0);
    for (uint64_t n = 1; n <= EVICTED_WAYS + 2; n++)
        evicted_note(&e, hash_in(5, n));
    CHECK(!evicted_take(&e, hash_in(5, 1)));
    CHECK(!evicted_take(&e, hash_in(5, 2)));
    CHECK(evicted_take(&e, hash_in(5, 4)));
    evicted_note(&e, hash_in(5, 100));          /* fills the hole */
    for (uint64_t n = 3; n <= EVICTED_WAYS + 2; n++)
        CHECK(n == 4 || evicted_take(&e, hash_in(5, n)));
    CHECK(evicted_take(&e, hash_in(5, 100)));
    evicted_destroy(&e);
}

int main(void)
{
    check_binary = "evicted";
    RUN(test_evicted_sizes);
    RUN(test_evicted_take_once);
    RUN(test_evicted_set_full);
    CHECK_EXIT();
}
