/* test_rdns.c - the crawler domain list, the FCrDNS check, the resolver
 * thread's cache and queue (sensor/rdns.h), and the cache file. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../../rules/domainlist.h"
#include "../../sensor/rdns.h"
#include "check.h"

static void test_domain_match(void)
{
    struct domainlist *d = domainlist_new();
    CHECK_EQ_INT(domainlist_add(d, "shodan.io", "Shodan"), 0);
    CHECK_EQ_INT(domainlist_add(d, ".census.shodan.io", "Shodan census"), 0);
    CHECK_EQ_INT(domainlist_add(d, "*.binaryedge.ninja.", "BinaryEdge"), 0);
    CHECK_EQ_STR(domainlist_match(d, "census1.shodan.io"), "Shodan");
    CHECK_EQ_STR(domainlist_match(d, "CENSUS1.Shodan.IO."), "Shodan");
    CHECK_EQ_STR(domainlist_match(d, "shodan.io"), "Shodan");
    /* longest domain wins, whatever the order */
    CHECK_EQ_STR(domainlist_match(d, "dojo.census.shodan.io"), "Shodan census");
    CHECK_EQ_STR(domainlist_match(d, "nyc1-4.binaryedge.ninja"), "BinaryEdge");
    /* label boundary: a lookalike is not under the domain */
    CHECK(domainlist_match(d, "evilshodan.io") == NULL);
    CHECK(domainlist_match(d, "shodan.io.example.net") == NULL);
    CHECK(domainlist_match(d, "io") == NULL);
    CHECK(domainlist_match(d, "") == NULL);
    CHECK_EQ_INT(domainlist_add(d, "bad..name", "x"), -1);
    CHECK_EQ_INT(domainlist_add(d, "sp ace.com", "x"), -1);
    CHECK_EQ_INT((int)domainlist_size(d), 3);
    domainlist_free(d);
}

static const char *write_temp(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof(path), "/tmp/sw_test_rdns_%d_%s", (int)getpid(), name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_domain_file(void)
{
    char err[512] = "";
    struct domainlist *d = domainlist_new();
    const char *p = write_temp("ok.domains", "# c\n\nshodan.io Shodan  # trailing\n"
                                             "stretchoid.com   Stretchoid\n");
    CHECK_EQ_INT(domainlist_load_file(d, p, err, sizeof(err)), 0);
    CHECK_EQ_STR(domainlist_match(d, "zg-0930g-40.stretchoid.com"), "Stretchoid");
    domainlist_free(d);
    remove(p);
    d = domainlist_new();
    p = write_temp("bad.domains", "shodan.io Shodan\nnolabel.example\n");
    CHECK_EQ_INT(domainlist_load_file(d, p, err, sizeof(err)), -1);
    CHECK(strstr(err, "bad.domains:2: 'nolabel.example' has no label") != NULL);
    domainlist_free(d);
    remove(p);
    d = domainlist_new();
    p = write_temp("bad2.domains", "\n\nbad/name Label\n");
    CHECK_EQ_INT(domainlist_load_file(d, p, err, sizeof(err)), -1);
    CHECK(strstr(err, "bad2.domains:3: 'bad/name' is not a domain name") != NULL);
    domainlist_free(d);
    remove(p);
    /* the shipped list loads and names the crawlers of issue 14 */
    d = domainlist_new();
    CHECK_EQ_INT(domainlist_load_file(d, "rules/lists/crawlers.domains", err, sizeof(err)), 0);
    CHECK_EQ_STR(domainlist_match(d, "prod-beryllium-us-east-59.li.binaryedge.ninja"),
                 "BinaryEdge");
    CHECK_EQ_STR(domainlist_match(d, "scanner-09.ch1.censys-scanner.com"), "Censys");
    CHECK_EQ_STR(domainlist_match(d, "scan-36a.shadowserver.org"), "Shadowserver");
    domainlist_free(d);
}

/* ---- a resolver that answers from tables ---- */

struct fake_dns {
    const char *ptr_for;      /* dotted address that has a PTR */
    const char *ptr_name;
    const char *forward[3];   /* the name's addresses */
    int ptr_rc;               /* 0, RDNS_NONE or RDNS_FAILED for every PTR */
    int forward_rc;
    int ptr_calls;
    int delay_ms;             /* each PTR question takes this long */
};

static int fake_ptr(void *arg, uint8_t family, const uint8_t addr[16], char *name, size_t cap)
{
    struct fake_dns *f = arg;
    __atomic_add_fetch(&f->ptr_calls, 1, __ATOMIC_SEQ_CST);
    if (f->delay_ms)
        usleep((useconds_t)f->delay_ms * 1000);
    if (f->ptr_rc)
        return f->ptr_rc;
    char text[64];
    inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, text, sizeof(text));
    if (!f->ptr_for || strcmp(text, f->ptr_for) != 0)
        return RDNS_NONE;
    snprintf(name, cap, "%s", f->ptr_name);
    return 0;
}

static int fake_forward(void *arg, const char *name, uint8_t family, uint8_t (*out)[16],
                        size_t max)
{
    struct fake_dns *f = arg;
    if (f->forward_rc)
        return f->forward_rc;
    size_t n0 = strlen(name);   /* the zone's name, root dot or not */
    if (strncasecmp(name, f->ptr_name, n0) != 0
        || (f->ptr_name[n0] && strcmp(f->ptr_name + n0, ".") != 0))
        return RDNS_NONE;
    size_t n = 0;
    for (size_t i = 0; i < 3 && f->forward[i] && n < max; i++) {
        memset(out[n], 0, 16);
        if (inet_pton(family == 4 ? AF_INET : AF_INET6, f->forward[i], out[n]) == 1)
            n++;
    }
    return (int)n;
}

static void addr_of(const char *text, uint8_t *family, uint8_t addr[16])
{
    memset(addr, 0, 16);
    *family = strchr(text, ':') ? 6 : 4;
    inet_pton(*family == 4 ? AF_INET : AF_INET6, text, addr);
}

static enum rdns_outcome confirm(struct fake_dns *f, const char *ip, char *name, size_t cap)
{
    struct rdns_resolver res = {fake_ptr, fake_forward, f};
    uint8_t family, addr[16];
    addr_of(ip, &family, addr);
    name[0] = '\0';
    return rdns_confirm(&res, family, addr, name, cap);
}

static void test_fcrdns(void)
{
    char name[256];
    struct fake_dns f = {"203.0.113.9", "census1.shodan.io.", {"198.51.100.1", "203.0.113.9"},
                         0, 0, 0, 0};
    /* PTR -> A contains the address: confirmed, root dot dropped */
    CHECK_EQ_INT(confirm(&f, "203.0.113.9", name, sizeof(name)), RDNS_CONFIRMED);
    CHECK_EQ_STR(name, "census1.shodan.io");
    /* a spoofed PTR: the name's A records do not contain the address */
    struct fake_dns spoof = {"203.0.113.66", "census1.shodan.io", {"203.0.113.9"}, 0, 0, 0, 0};
    CHECK_EQ_INT(confirm(&spoof, "203.0.113.66", name, sizeof(name)), RDNS_UNCONFIRMED);
    CHECK_EQ_STR(name, "");
    /* a PTR whose name has no address at all */
    struct fake_dns dangling = {"203.0.113.7", "gone.binaryedge.ninja", {NULL}, 0, 0, 0, 0};
    CHECK_EQ_INT(confirm(&dangling, "203.0.113.7", name, sizeof(name)), RDNS_UNCONFIRMED);
    CHECK_EQ_INT(confirm(&f, "192.0.2.1", name, sizeof(name)), RDNS_NO_NAME);
    /* a PTR that is no host name names nobody */
    struct fake_dns junk = {"192.0.2.5", "not a name", {"192.0.2.5"}, 0, 0, 0, 0};
    CHECK_EQ_INT(confirm(&junk, "192.0.2.5", name, sizeof(name)), RDNS_NO_NAME);
    /* an address written as the PTR would resolve to itself */
    struct fake_dns numeric = {"192.0.2.6", "192.0.2.6", {"192.0.2.6"}, 0, 0, 0, 0};
    CHECK_EQ_INT(confirm(&numeric, "192.0.2.6", name, sizeof(name)), RDNS_NO_NAME);
    struct fake_dns dead = {NULL, "x", {NULL}, RDNS_FAILED, 0, 0, 0};
    CHECK_EQ_INT(confirm(&dead, "192.0.2.1", name, sizeof(name)), RDNS_LOOKUP_FAILED);
    struct fake_dns fwd_dead = {"203.0.113.9", "census1.shodan.io", {NULL}, 0, RDNS_FAILED,
                                0, 0};
    CHECK_EQ_INT(confirm(&fwd_dead, "203.0.113.9", name, sizeof(name)), RDNS_LOOKUP_FAILED);
    /* IPv6 compares all 16 bytes */
    struct fake_dns v6 = {"2001:db8::9", "x.stretchoid.com", {"2001:db8::8", "2001:db8::9"},
                          0, 0, 0, 0};
    CHECK_EQ_INT(confirm(&v6, "2001:db8::9", name, sizeof(name)), RDNS_CONFIRMED);
    CHECK_EQ_STR(name, "x.stretchoid.com");
}

/* ---- the rdns object ---- */

static struct config_rdns base_cfg(void)
{
    struct config_rdns c;
    memset(&c, 0, sizeof(c));
    c.enabled = true;
    snprintf(c.domains, sizeof(c.domains), "crawlers");
    c.queue = 4;
    c.cache_max = 8;
    c.ttl = 3600;
    c.negative_ttl = 600;
    c.timeout = 1;
    return c;
}

static void wait_idle(struct rdns *r)
{
    for (int i = 0; i < 500 && rdns_pending(r); i++)
        usleep(2000);
}

static void test_answer_arrives_later(void)
{
    char err[512] = "";
    struct config_rdns c = base_cfg();
    struct rdns *r = rdns_new(&c, "rules/lists", err, sizeof(err));
    CHECK(r != NULL);
    if (!r)
        return;
    struct fake_dns f = {"203.0.113.9", "census1.shodan.io", {"203.0.113.9"}, 0, 0, 0, 300};
    struct rdns_resolver res = {fake_ptr, fake_forward, &f};
    rdns_set_resolver(r, &res);
    CHECK_EQ_INT(rdns_start(r), 0);
    struct stats st;
    stats_clear(&st);
    struct rdns_answer a;
    uint8_t family, addr[16];
    addr_of("203.0.113.9", &family, addr);
    /* not known: the caller goes on at once, a lookup is queued once */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(!rdns_attribute(r, &st, family, addr, &a));
    CHECK(!rdns_attribute(r, &st, family, addr, &a));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long waited_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(waited_ms < 200);   /* the 300 ms lookup was not waited for */
    CHECK_EQ_INT(stats_get(&st, STAT_RDNS_REQUESTED), 1);
    wait_idle(r);
    /* the answer arrived: later alerts carry it */
    CHECK(rdns_attribute(r, &st, family, addr, &a));
    CHECK_EQ_STR(a.name, "census1.shodan.io");
    CHECK_EQ_STR(a.organisation, "Shodan");
    CHECK_EQ_INT(f.ptr_calls, 1);   /* cached: asked once */
    CHECK_EQ_INT(stats_get(rdns_thread_stats(r), STAT_RDNS_CONFIRMED), 1);
    /* an address with no PTR is cached as "none" (negative caching) */
    uint8_t other[16];
    addr_of("192.0.2.1", &family, other);
    CHECK(!rdns_attribute(r, &st, family, other, &a));
    wait_idle(r);
    CHECK(!rdns_attribute(r, &st, family, other, &a));
    CHECK_EQ_INT(f.ptr_calls, 2);
    CHECK_EQ_INT(stats_get(rdns_thread_stats(r), STAT_RDNS_NO_NAME), 1);
    CHECK_EQ_INT(rdns_stop(r, err, sizeof(err)), 0);
    rdns_free(r);
}

static void test_queue_and_cache_bounds(void)
{
    char err[512] = "";
    struct config_rdns c = base_cfg();
    c.queue = 2;
    c.cache_max = 3;
    struct rdns *r = rdns_new(&c, "rules/lists", err, sizeof(err));
    CHECK(r != NULL);
    if (!r)
        return;
    /* a resolver that takes long: the queue fills, requests beyond it are
     * dropped and counted, the caller never waits */
    struct fake_dns f = {NULL, "x", {NULL}, 0, 0, 0, 150};
    struct rdns_resolver res = {fake_ptr, fake_forward, &f};
    rdns_set_resolver(r, &res);
    CHECK_EQ_INT(rdns_start(r), 0);
    struct stats st;
    stats_clear(&st);
    struct rdns_answer a;
    char ip[32];
    for (int i = 1; i <= 6; i++) {
        uint8_t family, addr[16];
        snprintf(ip, sizeof(ip), "192.0.2.%d", i);
        addr_of(ip, &family, addr);
        CHECK(!rdns_attribute(r, &st, family, addr, &a));
        for (int w = 0; i == 1 && w < 1000 && !__atomic_load_n(&f.ptr_calls, __ATOMIC_SEQ_CST);
             w++)
            usleep(1000);    /* the thread has taken the first one */
    }
    CHECK_EQ_INT(stats_get(&st, STAT_RDNS_REQUESTED), 3);
    CHECK_EQ_INT(stats_get(&st, STAT_RDNS_QUEUE_FULL), 3);
    wait_idle(r);
    /* more addresses than cache_max: the oldest is evicted */
    for (int i = 10; i <= 11; i++) {
        uint8_t family, addr[16];
        snprintf(ip, sizeof(ip), "192.0.2.%d", i);
        addr_of(ip, &family, addr);
        rdns_attribute(r, &st, family, addr, &a);
    }
    CHECK_EQ_INT(stats_get(&st, STAT_RDNS_CACHE_EVICTED), 2);
    CHECK_EQ_INT(rdns_stop(r, err, sizeof(err)), 0);
    rdns_free(r);
}

/* A resolver that never answers within the lookup: the caller is never
 * held, and the stop waits at most for the lookup in progress. */
static void test_dead_resolver_does_not_block(void)
{
    char err[512] = "";
    struct config_rdns c = base_cfg();
    snprintf(c.save_file, sizeof(c.save_file), "/tmp/sw_test_rdns_%d_dead", (int)getpid());
    struct rdns *r = rdns_new(&c, "rules/lists", err, sizeof(err));
    CHECK(r != NULL);
    if (!r)
        return;
    struct fake_dns f = {NULL, "x", {NULL}, RDNS_FAILED, 0, 0, 600};
    struct rdns_resolver res = {fake_ptr, fake_forward, &f};
    rdns_set_resolver(r, &res);
    rdns_start(r);
    struct stats st;
    stats_clear(&st);
    struct rdns_answer a;
    uint8_t family, addr[16];
    addr_of("203.0.113.50", &family, addr);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 1000; i++)
        CHECK(!rdns_attribute(r, &st, family, addr, &a));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    CHECK(ms < 400);   /* far below the 600 ms the lookup takes */
    CHECK_EQ_INT(stats_get(&st, STAT_RDNS_REQUESTED), 1);
    wait_idle(r);
    /* a failed lookup names nobody, and is not asked again at once */
    CHECK(!rdns_attribute(r, &st, family, addr, &a));
    CHECK_EQ_INT(f.ptr_calls, 1);
    CHECK_EQ_INT(stats_get(rdns_thread_stats(r), STAT_RDNS_FAILED), 1);
    CHECK_EQ_INT(rdns_stop(r, err, sizeof(err)), 0);
    rdns_free(r);
    /* a timeout is no answer: nothing saved for the address */
    FILE *fp = fopen(c.save_file, "r");
    char text[512] = "";
    size_t n = fp ? fread(text, 1, sizeof(text) - 1, fp) : 0;
    text[n] = '\0';
    if (fp)
        fclose(fp);
    CHECK(fp != NULL && strstr(text, "203.0.113.50") == NULL);
    remove(c.save_file);
}

static void test_cache_file(void)
{
    char err[512] = "";
    char save[256];
    snprintf(save, sizeof(save), "/tmp/sw_test_rdns_%d_save", (int)getpid());
    /* a live run writes what it learnt */
    struct config_rdns c = base_cfg();
    snprintf(c.save_file, sizeof(c.save_file), "%s", save);
    struct rdns *r = rdns_new(&c, "rules/lists", err, sizeof(err));
    CHECK(r != NULL);
    if (!r)
        return;
    struct fake_dns f = {"203.0.113.9", "nyc1-4.binaryedge.ninja", {"203.0.113.9"}, 0, 0, 0, 0};
    struct rdns_resolver res = {fake_ptr, fake_forward, &f};
    rdns_set_resolver(r, &res);
    rdns_start(r);
    struct stats st;
    stats_clear(&st);
    struct rdns_answer a;
    uint8_t family, addr[16], none[16];
    addr_of("203.0.113.9", &family, addr);
    addr_of("192.0.2.44", &family, none);
    rdns_attribute(r, &st, family, addr, &a);
    rdns_attribute(r, &st, family, none, &a);
    CHECK_EQ_INT(rdns_stop(r, err, sizeof(err)), 0);   /* waits for both answers */
    rdns_free(r);
    FILE *fp = fopen(save, "r");
    char text[512] = "";
    size_t n = fp ? fread(text, 1, sizeof(text) - 1, fp) : 0;
    text[n] = '\0';
    if (fp)
        fclose(fp);
    CHECK(strstr(text, "\n203.0.113.9 nyc1-4.binaryedge.ninja\n") != NULL);
    CHECK(strstr(text, "\n192.0.2.44 -\n") != NULL);

    /* a replay with it: the only source, no thread, same answers */
    c = base_cfg();
    snprintf(c.cache_file, sizeof(c.cache_file), "%s", save);
    r = rdns_new(&c, "rules/lists", err, sizeof(err));
    CHECK(r != NULL);
    if (!r)
        return;
    struct fake_dns never = {NULL, "x", {NULL}, RDNS_FAILED, 0, 0, 0};
    struct rdns_resolver nres = {fake_ptr, fake_forward, &never};
    rdns_set_resolver(r, &nres);
    CHECK_EQ_INT(rdns_start(r), 0);
    CHECK(rdns_attribute(r, &st, family, addr, &a));
    CHECK_EQ_STR(a.organisation, "BinaryEdge");
    CHECK(!rdns_attribute(r, &st, family, none, &a));
    uint8_t unknown[16];
    addr_of("198.51.100.3", &family, unknown);
    CHECK(!rdns_attribute(r, &st, family, unknown, &a));
    CHECK_EQ_INT(never.ptr_calls, 0);   /* nothing asked */
    CHECK_EQ_INT(rdns_pending(r), 0);
    rdns_stop(r, err, sizeof(err));
    rdns_free(r);
    remove(save);

    /* a bad line is FILE:LINE */
    const char *p = write_temp("cache", "203.0.113.9 a.shodan.io\nnot-an-address x.shodan.io\n");
    c = base_cfg();
    snprintf(c.cache_file, sizeof(c.cache_file), "%s", p);
    CHECK(rdns_new(&c, "rules/lists", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "_cache:2: expected 'ADDRESS NAME' or 'ADDRESS -'") != NULL);
    /* more lines than cache_max */
    p = write_temp("cache", "192.0.2.1 -\n192.0.2.2 -\n192.0.2.3 -\n");
    c.cache_max = 2;
    CHECK(rdns_new(&c, "rules/lists", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "_cache:3: more than rdns.cache_max (2) addresses") != NULL);
    remove(p);
    /* a missing domain list */
    c = base_cfg();
    snprintf(c.domains, sizeof(c.domains), "nosuchlist");
    CHECK(rdns_new(&c, "rules/lists", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "rdns.domains: no domain list rules/lists/nosuchlist.domains") != NULL);
}

int main(void)
{
    check_binary = "test_rdns";
    RUN(test_domain_match);
    RUN(test_domain_file);
    RUN(test_fcrdns);
    RUN(test_answer_arrives_later);
    RUN(test_queue_and_cache_bounds);
    RUN(test_dead_resolver_does_not_block);
    RUN(test_cache_file);
    CHECK_EXIT();
}
