/* test_engine.c - the rule engine: conditions, lists, aggregation, sequences,
 * suppression, home_nets, bounded state, parse errors and reload.
 *
 * Run from the repository root: the fixtures are tests/rules/NAME.rules and
 * tests/rules/lists/, and expected errors name them that way. Ops are made
 * here, not decoded: every field a rule can look at is set explicitly. */
#include "../../rules/engine.h"
#include "../../sensor/config.h"
#include "../../rules/match.h"
#include "../../rules/netlist.h"
#include "../../rules/patlist.h"
#include "../../rules/rule.h"
#include "../../sensor/event_json.h"
#include "../../decoders/apps.h"
#include "../../sensor/base/membudget.h"
#include "check.h"

#include <arpa/inet.h>
#include <unistd.h>
#include <stdlib.h>

#define SEC 1000000ull

static void config_for(struct sw_config *cfg, const char *rules)
{
    config_defaults(cfg);
    cfg->detect.home_net_count = 0;   /* tests set their own networks */
    snprintf(cfg->detect.rules, sizeof(cfg->detect.rules), "%s", rules);
    cfg->detect.rules_set = true;
    snprintf(cfg->detect.lists, sizeof(cfg->detect.lists), "%s", "tests/rules/lists");
}

static void set_ip(uint8_t *family, uint8_t out[16], const char *text)
{
    memset(out, 0, 16);
    if (inet_pton(AF_INET, text, out) == 1)
        *family = 4;
    else if (inet_pton(AF_INET6, text, out) == 1)
        *family = 6;
}

/* An op from client to server at second t, named name; everything else a
 * plain unauthenticated Elasticsearch read that succeeded. */
static struct rec_op make_op(uint64_t t, const char *client, const char *server, const char *name)
{
    struct rec_op r;
    memset(&r, 0, sizeof(r));
    r.ts_us = t * SEC;
    set_ip(&r.meta.family, r.meta.client, client);
    set_ip(&r.meta.family, r.meta.server, server);
    r.meta.proto = 6;
    r.meta.client_port = 40000;
    r.meta.server_port = 9200;
    r.meta.app = APP_ELASTICSEARCH;
    op_record_init(&r.op, APP_ELASTICSEARCH);
    snprintf(r.op.op, sizeof(r.op.op), "%s", name);
    r.op.op_class = OP_CLASS_READ;
    r.op.status = OP_STATUS_OK;
    r.op.status_code = 200;
    r.op.authenticated = OP_AUTH_NO;
    r.op.request_bytes = 100;
    r.op.response_bytes = 900;
    return r;
}

struct collected {
    struct alert a[2048];
    size_t n;
};

static void collect(void *arg, const struct alert *a)
{
    struct collected *c = arg;
    if (c->n < sizeof(c->a) / sizeof(c->a[0]))
        c->a[c->n++] = *a;
}

static size_t count_rule(const struct collected *c, uint32_t id)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        n += c->a[i].rule_id == id;
    return n;
}

static const struct alert *last_of(const struct collected *c, uint32_t id)
{
    for (size_t i = c->n; i > 0; i--)
        if (c->a[i - 1].rule_id == id)
            return &c->a[i - 1];
    return NULL;
}

static struct rule_engine *load(const char *rules, struct sw_config *cfg)
{
    char err[512] = "";
    config_for(cfg, rules);
    struct rule_engine *e = rule_engine_load(&cfg->detect, err, sizeof(err));
    if (!e)
        fprintf(stderr, "load %s: %s\n", rules, err);
    return e;
}

/* ---- conditions --------------------------------------------------------- */

static struct rule_set match_set;

static bool matches(uint32_t id, const struct rec_op *r, bool inside)
{
    const struct rule *rule = rule_set_find(&match_set, id);
    if (!rule)
        return false;
    struct match_labels l = {NULL, NULL};
    return rule_match_op(&rule->match, r, inside, &l);
}

static struct rec_op base_op(void)
{
    struct rec_op r = make_op(1, "198.51.100.7", "10.0.0.1", "_search");
    r.op.flags = OP_FLAG_MATCH_ALL | OP_FLAG_CONTINUES;
    r.op.page_size = 1000;
    r.op.items = 500;
    snprintf(r.op.target, sizeof(r.op.target), "%s", "customers-2019");
    snprintf(r.op.client_id, sizeof(r.op.client_id), "%s", "elasticdump");
    return r;
}

static void test_conditions(void)
{
    struct sw_config cfg;
    char err[512] = "";
    config_for(&cfg, "tests/rules/match.rules");
    CHECK_EQ_INT(rule_set_load(&cfg.detect, &match_set, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(match_set.count, 20);
    struct rec_op r = base_op(), m;

    CHECK(matches(1, &r, false));
    CHECK(!matches(1, &r, true));
    CHECK(matches(2, &r, true));
    CHECK(!matches(2, &r, false));
    CHECK(matches(3, &r, true) && matches(3, &r, false));

    CHECK(matches(4, &r, false));
    m = r; m.op.app = APP_MONGODB; CHECK(!matches(4, &m, false));
    m = r; m.op.app = APP_OPENSEARCH; CHECK(matches(4, &m, false));

    CHECK(matches(5, &r, false));
    m = r; snprintf(m.op.op, sizeof(m.op.op), "_search/scroll"); CHECK(!matches(5, &m, false));
    CHECK(matches(6, &m, false));
    m = r; snprintf(m.op.op, sizeof(m.op.op), "_searchx"); CHECK(!matches(6, &m, false));
    m = r; snprintf(m.op.op, sizeof(m.op.op), "_SEARCH"); CHECK(matches(6, &m, false));  /* REG_ICASE */

    CHECK(matches(7, &r, false));
    m = r; m.op.op_class = OP_CLASS_ENUMERATE; CHECK(!matches(7, &m, false));
    CHECK(matches(8, &r, false));
    m = r; m.op.status = OP_STATUS_DENIED; CHECK(!matches(8, &m, false));
    CHECK(matches(9, &r, false));
    m = r; m.op.authenticated = OP_AUTH_UNKNOWN; CHECK(!matches(9, &m, false));

    CHECK(matches(10, &r, false));
    m = r; m.op.flags = OP_FLAG_MATCH_ALL; CHECK(!matches(10, &m, false));
    CHECK(!matches(11, &r, false));
    m = r; m.op.flags |= OP_FLAG_SECURITY_OFF; CHECK(matches(11, &m, false));

    CHECK(matches(12, &r, false));
    m = r; m.op.page_size = 999; CHECK(!matches(12, &m, false));
    m = r; m.op.page_size = -1; CHECK(!matches(12, &m, false));
    CHECK(matches(13, &r, false));
    m = r; m.op.items = 499; CHECK(!matches(13, &m, false));
    m = r; m.op.items = -1; CHECK(!matches(13, &m, false));

    CHECK(matches(14, &r, false));
    m = r; snprintf(m.op.target, sizeof(m.op.target), "CUSTOMERS"); CHECK(matches(14, &m, false));
    m = r; snprintf(m.op.target, sizeof(m.op.target), "old-customers"); CHECK(!matches(14, &m, false));
    CHECK(matches(15, &r, false));
    m = r; snprintf(m.op.client_id, sizeof(m.op.client_id), "curl/8.0"); CHECK(!matches(15, &m, false));

    struct match_labels l = {NULL, NULL};
    CHECK(rule_match_op(&rule_set_find(&match_set, 16)->match, &r, false, &l));
    CHECK(l.organisation && strcmp(l.organisation, "Host Org") == 0);
    m = r; set_ip(&m.meta.family, m.meta.client, "192.0.2.1"); CHECK(!matches(16, &m, false));

    l.organisation = l.tool = NULL;
    CHECK(rule_match_op(&rule_set_find(&match_set, 17)->match, &r, false, &l));
    CHECK(l.tool && strcmp(l.tool, "elasticdump") == 0);
    m = r; snprintf(m.op.client_id, sizeof(m.op.client_id), "Mozilla/5.0"); CHECK(!matches(17, &m, false));

    CHECK(!matches(18, &r, false));
    m = r; snprintf(m.op.target, sizeof(m.op.target), "recover_data"); CHECK(!matches(18, &m, false));
    m = r; snprintf(m.op.target, sizeof(m.op.target), "read_me_to_recover_x"); CHECK(matches(18, &m, false));
    m = r; snprintf(m.op.target, sizeof(m.op.target), "READ_ME"); CHECK(matches(18, &m, false));

    CHECK(matches(19, &r, false));
    m = r; m.op.authenticated = OP_AUTH_YES; CHECK(!matches(19, &m, false));

    /* Several lists: the longest prefix over all of them, the first
     * pattern list that matches. */
    l.organisation = l.tool = NULL;
    CHECK(rule_match_op(&rule_set_find(&match_set, 20)->match, &r, false, &l));
    CHECK(l.organisation && strcmp(l.organisation, "Host Org") == 0);
    CHECK(l.tool && strcmp(l.tool, "elasticdump") == 0);
    m = r; set_ip(&m.meta.family, m.meta.client, "192.0.2.5");
    l.organisation = NULL;
    CHECK(rule_match_op(&rule_set_find(&match_set, 20)->match, &m, false, &l));
    CHECK(l.organisation && strcmp(l.organisation, "Doc Org") == 0);
    m = r; set_ip(&m.meta.family, m.meta.client, "198.51.7.1");
    l.organisation = NULL;
    CHECK(rule_match_op(&rule_set_find(&match_set, 20)->match, &m, false, &l));
    CHECK(l.organisation && strcmp(l.organisation, "Big Org") == 0);
    m = r; set_ip(&m.meta.family, m.meta.client, "203.0.113.1"); CHECK(!matches(20, &m, false));
    rule_set_free(&match_set);
}

/* ---- lists -------------------------------------------------------------- */

static const char *net_label(const struct netlist *n, const char *ip)
{
    uint8_t family = 0, addr[16];
    const char *label;
    set_ip(&family, addr, ip);
    return netlist_lookup(n, family, addr, &label) ? label : NULL;
}

static void test_network_list_longest_prefix(void)
{
    char err[256] = "";
    struct netlist *n = netlist_new();
    CHECK_EQ_INT(netlist_load_file(n, "tests/rules/lists/scanners.cidr", err, sizeof(err)), 0);
    CHECK_EQ_INT(netlist_size(n), 5);
    const char *l;
    CHECK((l = net_label(n, "198.51.100.7")) && strcmp(l, "Host Org") == 0);
    CHECK((l = net_label(n, "198.51.100.200")) && strcmp(l, "Narrow Org") == 0);
    CHECK((l = net_label(n, "198.51.100.5")) && strcmp(l, "Wide Org") == 0);
    CHECK(!net_label(n, "198.51.101.1"));
    CHECK(!net_label(n, "10.0.0.1"));
    CHECK((l = net_label(n, "2001:db8:1::5")) && strcmp(l, "V6 Narrow") == 0);
    CHECK((l = net_label(n, "2001:db8:2::1")) && strcmp(l, "V6 Org") == 0);
    CHECK(!net_label(n, "2001:db9::1"));
    /* An IPv4 address never matches an IPv6 network with the same bits. */
    CHECK(!net_label(n, "32.1.13.184"));
    netlist_free(n);

    n = netlist_new();
    uint8_t family, addr[16];
    unsigned prefix;
    CHECK_EQ_INT(cidr_parse("0.0.0.0/0", &family, addr, &prefix), 0);
    CHECK_EQ_INT(prefix, 0);
    netlist_add(n, family, addr, prefix, "everything");
    CHECK((l = net_label(n, "203.0.113.1")) && strcmp(l, "everything") == 0);
    netlist_free(n);

    CHECK_EQ_INT(cidr_parse("10.0.0.0/33", &family, addr, &prefix), -1);
    CHECK_EQ_INT(cidr_parse("10.0.0/8", &family, addr, &prefix), -1);
    CHECK_EQ_INT(cidr_parse("fd00::/129", &family, addr, &prefix), -1);
    CHECK_EQ_INT(cidr_parse("10.0.0.0/", &family, addr, &prefix), -1);
    CHECK_EQ_INT(cidr_parse("fd00::/8", &family, addr, &prefix), 0);
    CHECK_EQ_INT(family, 6);

    FILE *f = fopen("tests/out/bad.cidr", "w");
    if (f) {
        fputs("# ok\n10.0.0.0/8 ten\n10.0.0.0/99 bad\n", f);
        fclose(f);
        n = netlist_new();
        CHECK_EQ_INT(netlist_load_file(n, "tests/out/bad.cidr", err, sizeof(err)), -1);
        CHECK_EQ_STR(err, "tests/out/bad.cidr:3: '10.0.0.0/99' is not a network (CIDR)");
        netlist_free(n);
    }
}

static const char *pat_label(const struct patlist *p, const char *s)
{
    const char *label;
    return patlist_match(p, s, &label) ? label : NULL;
}

static void test_pattern_list_kinds(void)
{
    char err[256] = "";
    struct patlist *p = patlist_new();
    CHECK_EQ_INT(patlist_load_file(p, "tests/rules/lists/agents.patterns", err, sizeof(err)), 0);
    CHECK_EQ_INT(patlist_size(p), 6);
    const char *l;
    CHECK((l = pat_label(p, "Mozilla/5.0 zgrab/0.x")) && strcmp(l, "ZGrab") == 0);    /* substr */
    CHECK((l = pat_label(p, "ZGRAB")) && strcmp(l, "ZGrab") == 0);
    CHECK((l = pat_label(p, "curl/7.88.1")) && strcmp(l, "curl") == 0);              /* prefix */
    CHECK(!pat_label(p, "libcurl/7.88.1"));
    CHECK((l = pat_label(p, "elasticdump")) && strcmp(l, "elasticdump") == 0);       /* exact */
    CHECK(!pat_label(p, "elasticdump/6.0"));
    CHECK((l = pat_label(p, "l9tcpid/v1.0")) && strcmp(l, "LeakIX") == 0);           /* regex */
    CHECK(!pat_label(p, "xl9tcpid"));
    CHECK((l = pat_label(p, "python-xyz-requests/2.31")) && strcmp(l, "requests") == 0); /* glob */
    CHECK(!pat_label(p, "python-requests/2.31"));
    CHECK((l = pat_label(p, "Mozilla/5.0 (compatible; Nmap Scripting Engine)"))
          && strcmp(l, "Nmap NSE") == 0);
    patlist_free(p);

    CHECK(glob_match("*-meow", "users-meow"));
    CHECK(!glob_match("*-meow", "users-meow2"));
    CHECK(glob_match("a*b*c", "aXXbYYc"));
    CHECK(glob_match("?", "x") && !glob_match("?", ""));

    FILE *f = fopen("tests/out/bad.patterns", "w");
    if (f) {
        fputs("substr ok label\nregex (bad label\n", f);
        fclose(f);
        p = patlist_new();
        CHECK_EQ_INT(patlist_load_file(p, "tests/out/bad.patterns", err, sizeof(err)), -1);
        CHECK(strncmp(err, "tests/out/bad.patterns:2: bad regex '(bad'", 41) == 0);
        patlist_free(p);
    }
}

/* ---- aggregation -------------------------------------------------------- */

static void test_count_threshold(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/engine.rules", &cfg);
    CHECK(e != NULL);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    for (int i = 0; i < 4; i++) {
        struct rec_op r = make_op(100 + (uint64_t)i, "203.0.113.1", "10.0.0.1", "count");
        rule_engine_op(e, &st, &r, collect, &c);
    }
    CHECK_EQ_INT(c.n, 0);                 /* 4 of 5: just below */
    struct rec_op r = make_op(104, "203.0.113.1", "10.0.0.1", "count");
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(c.n, 1);                 /* the 5th: at */
    if (c.n == 1) {
        CHECK_EQ_INT(c.a[0].rule_id, 110);
        CHECK_EQ_INT(c.a[0].ops, 5);
        CHECK_EQ_INT(c.a[0].window_s, 60);
        CHECK_EQ_INT(c.a[0].first_us, 100 * SEC);
        CHECK_EQ_INT(c.a[0].last_us, 104 * SEC);
        CHECK_EQ_INT(c.a[0].bytes, 5000);
        CHECK_EQ_INT(c.a[0].key, ALERT_KEY_SRC);
        CHECK_EQ_INT(c.a[0].severity, SEVERITY_MEDIUM);
    }
    CHECK_EQ_INT(stats_get(&st, STAT_RULES_MATCHED), 5);
    CHECK_EQ_INT(stats_get(&st, STAT_RULES_ALERTS), 1);

    /* Another source, ops spread wider than the window: never 5 at once. */
    c.n = 0;
    for (int i = 0; i < 10; i++) {
        struct rec_op o = make_op(1000 + (uint64_t)i * 20, "203.0.113.2", "10.0.0.1", "count");
        rule_engine_op(e, &st, &o, collect, &c);
    }
    CHECK_EQ_INT(c.n, 0);
    rule_engine_free(e);
}

static void test_sum_threshold_and_chains(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/engine.rules", &cfg);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    for (int i = 0; i < 4; i++) {
        struct rec_op r = make_op(10 + (uint64_t)i, "203.0.113.1", "10.0.0.1", "docs");
        r.op.items = 1249;
        rule_engine_op(e, &st, &r, collect, &c);
    }
    CHECK_EQ_INT(c.n, 0);                 /* 4996 of 5000 */
    struct rec_op r = make_op(14, "203.0.113.1", "10.0.0.1", "docs");
    r.op.items = 4;
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(c.n, 1);
    if (c.n)
        CHECK_EQ_INT(c.a[0].documents, 5000);

    /* A scroll dump of 6 pages of 1000: each page's chain carries the running
     * count; the documents count once (6000), not as the sum of the running
     * counts. The first page of the chain was seen before the rule matched. */
    c.n = 0;
    for (int i = 0; i < 6; i++) {
        struct rec_op o = make_op(100 + (uint64_t)i, "203.0.113.9", "10.0.0.1",
                                  i == 0 ? "first" : "scroll");
        o.op.items = 1000;
        snprintf(o.chain.id, sizeof(o.chain.id), "%s", "abc123");
        o.chain.ops = (uint64_t)i + 1;
        o.chain.items = 1000 * (i + 1);
        rule_engine_op(e, &st, &o, collect, &c);
    }
    /* pages 2..5 bring the chain to 5000 at page 5 */
    CHECK_EQ_INT(count_rule(&c, 111), 1);
    const struct alert *a = last_of(&c, 111);
    if (a) {
        CHECK_EQ_INT(a->documents, 5000);
        CHECK_EQ_INT(a->ops, 4);
        CHECK_EQ_INT(a->key, ALERT_KEY_PAIR);
    }
    rule_engine_free(e);
}

/* Issue 14: a walk of `pages` pages of 500 on chain `id` (total 2500 unless
 * told), each op with its chain as the detect thread fills it. */
static void walk(struct rule_engine *e, struct stats *st, struct collected *c, uint64_t t0,
                 const char *client, const char *id, int pages, int64_t total, bool match_all)
{
    for (int i = 0; i < pages; i++) {
        struct rec_op o = make_op(t0 + (uint64_t)i, client, "10.0.0.1", "walk");
        o.op.items = 500;
        snprintf(o.chain.id, sizeof(o.chain.id), "%s", id);
        o.chain.ops = (uint64_t)i + 1;
        o.chain.items = 500 * (i + 1);
        o.chain.total = total;
        o.chain.match_all = match_all;
        snprintf(o.chain.target, sizeof(o.chain.target), "%s", "archive");
        rule_engine_op(e, st, &o, collect, c);
    }
}

static void test_chain_conditions_and_key(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/engine.rules", &cfg);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    /* 2,500 of 2,500 on the 5th page (90 % is 2,250: page 4 has 2,000) */
    walk(e, &st, &c, 10, "203.0.113.5", "aaaa000000000001", 4, 2500, true);
    CHECK_EQ_INT(count_rule(&c, 140), 0);
    walk(e, &st, &c, 20, "203.0.113.5", "aaaa000000000001", 6, 2500, true);
    CHECK_EQ_INT(count_rule(&c, 140), 1);              /* once for the chain */
    const struct alert *a = last_of(&c, 140);
    if (a) {
        CHECK_EQ_INT(a->key, ALERT_KEY_CHAIN);
        CHECK_EQ_INT(a->has_chain, 1);
        CHECK_EQ_STR(a->chain.id, "aaaa000000000001");
        CHECK_EQ_STR(a->chain.target, "archive");
        CHECK_EQ_INT(a->chain.items, 2500);
        CHECK_EQ_INT(a->chain.total, 2500);
        CHECK_EQ_INT(a->chain.ops, 5);
    }
    /* a second chain of the same client and server is a second alert */
    walk(e, &st, &c, 40, "203.0.113.5", "aaaa000000000002", 5, 2500, true);
    CHECK_EQ_INT(count_rule(&c, 140), 2);
    /* a filtered query's walk, an unknown total, a lower bound: no alert */
    walk(e, &st, &c, 60, "203.0.113.6", "aaaa000000000003", 5, 2500, false);
    walk(e, &st, &c, 70, "203.0.113.6", "aaaa000000000004", 5, -1, true);
    size_t before = count_rule(&c, 140);
    for (int i = 0; i < 5; i++) {
        struct rec_op o = make_op(80 + (uint64_t)i, "203.0.113.6", "10.0.0.1", "walk");
        snprintf(o.chain.id, sizeof(o.chain.id), "%s", "aaaa000000000005");
        o.chain.items = 2000 * (i + 1);
        o.chain.total = 10000;
        o.chain.total_relation = OP_TOTAL_LOWER_BOUND;
        o.chain.match_all = true;
        rule_engine_op(e, &st, &o, collect, &c);
    }
    CHECK_EQ_INT(count_rule(&c, 140), before);
    CHECK_EQ_INT(before, 2);
    /* ... but the same cursor running out is the end of the dataset */
    struct rec_op o = make_op(90, "203.0.113.6", "10.0.0.1", "walk");
    snprintf(o.chain.id, sizeof(o.chain.id), "%s", "aaaa000000000004");
    o.chain.items = 2500;
    o.chain.total = -1;
    o.chain.match_all = true;
    o.chain.exhausted = 1;
    rule_engine_op(e, &st, &o, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 140), 3);
    /* an op that is part of no chain never fires a chain-keyed rule */
    struct rec_op lone = make_op(95, "203.0.113.7", "10.0.0.1", "walk");
    lone.op.items = 5000;
    rule_engine_op(e, &st, &lone, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 140), 3);
    rule_engine_free(e);
}

/* Issue 14 point 7: a 6-page dump of 1,000 fires rule 111 (5,000 in 300 s,
 * key pair) at 5,000; the burst's end sends one closing update with 6,000. */
static void dump_pages(struct rule_engine *e, struct stats *st, struct collected *c,
                       uint64_t t0, const char *client, int pages)
{
    for (int i = 0; i < pages; i++) {
        struct rec_op o = make_op(t0 + (uint64_t)i, client, "10.0.0.1", "docs");
        o.op.items = 1000;
        rule_engine_op(e, st, &o, collect, c);
    }
}

static void test_closing_update_at_end(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/engine.rules", &cfg);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    dump_pages(e, &st, &c, 10, "203.0.113.20", 6);
    struct rec_op once = make_op(20, "203.0.113.21", "10.0.0.1", "once");   /* 102: no updates */
    rule_engine_op(e, &st, &once, collect, &c);
    rule_engine_op(e, &st, &once, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 111), 1);
    CHECK_EQ_INT(count_rule(&c, 102), 1);
    if (c.n)
        CHECK_EQ_INT(c.a[0].documents, 5000);
    rule_engine_finish(e, &st, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 111), 2);
    CHECK_EQ_INT(count_rule(&c, 102), 1);       /* one-op rules send no updates */
    const struct alert *a = last_of(&c, 111);
    if (a) {
        CHECK_EQ_INT(a->final, 1);
        CHECK_EQ_INT(a->update, 1);
        CHECK_EQ_INT(a->documents, 6000);
        CHECK_EQ_INT(a->ops, 6);
        CHECK_EQ_INT(a->ts_us, 20 * SEC);       /* the newest packet time */
        CHECK_EQ_INT(a->last_us, 15 * SEC);
    }
    size_t n = c.n;
    rule_engine_finish(e, &st, collect, &c);    /* nothing new: nothing more */
    CHECK_EQ_INT(c.n, n);
    rule_engine_free(e);

    /* nothing grew after the alert: no closing update */
    e = load("tests/rules/engine.rules", &cfg);
    if (!e)
        return;
    c.n = 0;
    dump_pages(e, &st, &c, 10, "203.0.113.22", 5);
    rule_engine_finish(e, &st, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 111), 1);
    rule_engine_free(e);
}

static void test_closing_update_when_window_ends(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/engine.rules", &cfg);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    dump_pages(e, &st, &c, 10, "203.0.113.30", 6);          /* last page at 15 s */
    /* another client's op within the window: the burst is still open */
    struct rec_op other = make_op(300, "203.0.113.31", "10.0.0.1", "count");
    rule_engine_op(e, &st, &other, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 111), 1);
    /* past 15 + 300 s, any op closes it, before that op's own alerts */
    other = make_op(316, "203.0.113.31", "10.0.0.1", "count");
    rule_engine_op(e, &st, &other, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 111), 2);
    const struct alert *a = last_of(&c, 111);
    if (a) {
        CHECK_EQ_INT(a->final, 1);
        CHECK_EQ_INT(a->documents, 6000);
        CHECK_EQ_INT(a->ts_us, 316 * SEC);
    }
    rule_engine_finish(e, &st, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 111), 2);
    /* a new burst of the same pair long after: the old one's closing goes
     * out first (here: nothing owed), then the new burst alerts afresh */
    c.n = 0;
    dump_pages(e, &st, &c, 5000, "203.0.113.30", 6);
    CHECK_EQ_INT(count_rule(&c, 111), 1);
    if (c.n)
        CHECK_EQ_INT(c.a[0].final, 0);
    rule_engine_free(e);
}

static void test_closing_before_new_burst(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/engine.rules", &cfg);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    dump_pages(e, &st, &c, 10, "203.0.113.40", 6);
    /* At 315 s the burst (last page at 15 s) is exactly 300 s old: still
     * open when another op makes the once-a-second sweep look. Half a second
     * later the pair reads again: the sweep does not look before next
     * second, so the op's own evaluation closes the old burst (6,000) before
     * it counts a new one. */
    struct rec_op other = make_op(315, "203.0.113.41", "10.0.0.1", "count");
    rule_engine_op(e, &st, &other, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 111), 1);
    struct rec_op o = make_op(315, "203.0.113.40", "10.0.0.1", "docs");
    o.ts_us += SEC / 2;
    o.op.items = 5000;
    rule_engine_op(e, &st, &o, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 111), 3);
    if (c.n >= 3) {
        CHECK_EQ_INT(c.a[1].final, 1);
        CHECK_EQ_INT(c.a[1].documents, 6000);
        CHECK_EQ_INT(c.a[1].ts_us, 315 * SEC + SEC / 2);
        CHECK_EQ_INT(c.a[2].final, 0);
        CHECK_EQ_INT(c.a[2].documents, 5000);
    }
    rule_engine_free(e);
}

static void test_distinct_beyond_exact(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/engine.rules", &cfg);
    if (!e)
        return;
    CHECK_EQ_INT(cfg.detect.distinct_exact, 64);
    static struct collected c;
    c.n = 0;
    char server[32];
    for (int i = 0; i < 60; i++) {
        snprintf(server, sizeof(server), "10.0.%d.%d", i / 200, 1 + i % 200);
        struct rec_op r = make_op(1, "203.0.113.1", server, "sweep");
        rule_engine_op(e, &st, &r, collect, &c);
        /* the same servers again do not count */
        r = make_op(2, "203.0.113.1", server, "sweep");
        rule_engine_op(e, &st, &r, collect, &c);
    }
    CHECK_EQ_INT(c.n, 0);                 /* 60 distinct (exact) < 70 */
    for (int i = 60; i < 200; i++) {
        snprintf(server, sizeof(server), "10.0.%d.%d", i / 200, 1 + i % 200);
        struct rec_op r = make_op(3, "203.0.113.1", server, "sweep");
        rule_engine_op(e, &st, &r, collect, &c);
    }
    /* Past 64 the count is a HyperLogLog estimate: it fires around 70 (and
     * then stays suppressed: ops do not double). The evidence's own server
     * count agrees. */
    CHECK_EQ_INT(count_rule(&c, 112), 1);
    if (c.n) {
        CHECK(c.a[0].distinct >= 70 && c.a[0].distinct <= 80);
        CHECK(c.a[0].servers >= 60 && c.a[0].servers <= 90);
    }
    rule_engine_free(e);
}

/* ---- sequences ---------------------------------------------------------- */

static void feed(struct rule_engine *e, struct stats *st, struct collected *c, uint64_t t,
                 const char *client, const char *name)
{
    struct rec_op r = make_op(t, client, "10.0.0.1", name);
    rule_engine_op(e, st, &r, collect, c);
}

static void test_sequence(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/engine.rules", &cfg);
    if (!e)
        return;
    static struct collected c;

    c.n = 0;                                  /* in order, within an hour */
    feed(e, &st, &c, 10, "203.0.113.1", "list");
    feed(e, &st, &c, 20, "203.0.113.1", "dump");
    CHECK_EQ_INT(count_rule(&c, 130), 0);
    feed(e, &st, &c, 30, "203.0.113.1", "wipe");
    CHECK_EQ_INT(count_rule(&c, 130), 1);
    const struct alert *a = last_of(&c, 130);
    if (a) {
        CHECK_EQ_STR(a->stage, "destroy");    /* the last stage rule's category */
        CHECK_EQ_INT(a->ops, 3);
        CHECK_EQ_INT(a->first_us, 10 * SEC);
        CHECK_EQ_INT(a->window_s, 3600);
        CHECK_EQ_INT(a->severity, SEVERITY_CRITICAL);
        /* the sequence alert comes after the stage alert of the same op? No:
         * one op's alerts go out by rule id: 122 before 130. */
        CHECK(a == &c.a[c.n - 1] && c.a[c.n - 2].rule_id == 122);
    }

    c.n = 0;                                  /* out of order */
    feed(e, &st, &c, 10, "203.0.113.2", "wipe");
    feed(e, &st, &c, 20, "203.0.113.2", "dump");
    feed(e, &st, &c, 30, "203.0.113.2", "list");
    CHECK_EQ_INT(count_rule(&c, 130), 0);
    feed(e, &st, &c, 40, "203.0.113.2", "wipe");   /* list, wipe: dump missing */
    CHECK_EQ_INT(count_rule(&c, 130), 0);

    c.n = 0;                                  /* too late */
    feed(e, &st, &c, 10, "203.0.113.3", "list");
    feed(e, &st, &c, 20, "203.0.113.3", "dump");
    feed(e, &st, &c, 3611, "203.0.113.3", "wipe");
    CHECK_EQ_INT(count_rule(&c, 130), 0);

    c.n = 0;                                  /* same source, other server: key is the pair */
    struct rec_op r = make_op(10, "203.0.113.4", "10.0.0.1", "list");
    rule_engine_op(e, &st, &r, collect, &c);
    r = make_op(20, "203.0.113.4", "10.0.0.2", "dump");
    rule_engine_op(e, &st, &r, collect, &c);
    r = make_op(30, "203.0.113.4", "10.0.0.2", "wipe");
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(count_rule(&c, 130), 0);
    rule_engine_free(e);
}

/* ---- suppression -------------------------------------------------------- */

/* A rule without an aggregate says its piece once per period: no updates. */
static void test_one_op_rule_no_updates(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/engine.rules", &cfg);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    for (int i = 0; i < 100; i++) {
        struct rec_op r = make_op(1 + (uint64_t)i, "203.0.113.1", "10.0.0.1", "once");
        rule_engine_op(e, &st, &r, collect, &c);
    }
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_INT(stats_get(&st, STAT_RULES_SUPPRESSED), 99);
    rule_engine_free(e);
}

static void test_suppression_doubling(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/engine.rules", &cfg);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    for (int i = 0; i < 1000; i++) {
        struct rec_op r = make_op(1 + (uint64_t)i, "203.0.113.1", "10.0.0.1", "plain");
        snprintf(r.op.target, sizeof(r.op.target), "index-%d", i % 20);
        r.op.items = 10;
        rule_engine_op(e, &st, &r, collect, &c);
    }
    /* first alert at op 1, updates at 2, 4, 8, ..., 512 */
    CHECK_EQ_INT(c.n, 10);
    for (size_t i = 0; i < c.n; i++) {
        CHECK_EQ_INT(c.a[i].rule_id, 100);
        CHECK_EQ_INT(c.a[i].update, i);
        CHECK_EQ_INT(c.a[i].ops, 1u << i);
    }
    const struct alert *a = &c.a[9];
    CHECK_EQ_INT(a->documents, 5120);
    CHECK_EQ_INT(a->distinct, 20);
    CHECK_EQ_INT(a->target_count, 8);
    CHECK_EQ_STR(a->targets[0], "index-0");
    CHECK_EQ_STR(a->targets[7], "index-7");
    CHECK_EQ_INT(a->servers, 1);
    CHECK_EQ_INT(a->window_s, 0);
    CHECK_EQ_STR(a->mitre[1], "T1213");
    CHECK_EQ_INT(stats_get(&st, STAT_RULES_ALERTS), 10);
    CHECK_EQ_INT(stats_get(&st, STAT_RULES_UPDATES), 9);
    CHECK_EQ_INT(stats_get(&st, STAT_RULES_SUPPRESSED), 990);

    /* After the period a new alert (update 0) with the evidence so far. */
    c.n = 0;
    struct rec_op r = make_op(3700, "203.0.113.1", "10.0.0.1", "plain");
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(c.n, 1);
    if (c.n) {
        CHECK_EQ_INT(c.a[0].update, 0);
        CHECK_EQ_INT(c.a[0].ops, 1001);
    }
    /* After a quiet spell longer than the period, the evidence starts over. */
    c.n = 0;
    r = make_op(3700 + 7300, "203.0.113.1", "10.0.0.1", "plain");
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(c.n, 1);
    if (c.n) {
        CHECK_EQ_INT(c.a[0].update, 0);
        CHECK_EQ_INT(c.a[0].ops, 1);
    }
    rule_engine_free(e);
}

/* ---- home_nets, trusted_clients ----------------------------------------- */

static void test_home_nets_and_trusted(void)
{
    struct sw_config cfg;
    char err[512] = "";
    struct stats st;
    stats_clear(&st);
    config_for(&cfg, "tests/rules/engine.rules");
    snprintf(cfg.detect.home_nets[0], DETECT_NET_LEN, "10.0.0.0/8");
    snprintf(cfg.detect.home_nets[1], DETECT_NET_LEN, "fd00::/8");
    cfg.detect.home_net_count = 2;
    snprintf(cfg.detect.trusted_clients[0], DETECT_NET_LEN, "203.0.113.50/32");
    cfg.detect.trusted_client_count = 1;
    struct rule_engine *e = rule_engine_load(&cfg.detect, err, sizeof(err));
    CHECK(e != NULL);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    struct rec_op r = make_op(1, "203.0.113.1", "192.0.2.1", "plain");   /* not our server */
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(c.n, 0);
    r = make_op(1, "10.9.9.9", "10.0.0.1", "plain");                    /* inside client */
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(c.n, 0);
    r = make_op(1, "203.0.113.50", "10.0.0.1", "plain");                /* trusted client */
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(c.n, 0);
    r = make_op(1, "203.0.113.1", "10.0.0.1", "plain");                 /* outside -> ours */
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(c.n, 1);
    r = make_op(1, "2001:db8::1", "fd00::5", "plain");                   /* IPv6 */
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(c.n, 2);
    rule_engine_free(e);

    /* Empty home_nets: every server is ours. */
    e = load("tests/rules/engine.rules", &cfg);
    c.n = 0;
    r = make_op(1, "203.0.113.1", "192.0.2.1", "plain");
    rule_engine_op(e, &st, &r, collect, &c);
    CHECK_EQ_INT(c.n, 1);
    rule_engine_free(e);
}

/* ---- bounded state ------------------------------------------------------ */

static void test_lru_eviction(void)
{
    struct sw_config cfg;
    char err[512] = "";
    struct stats st;
    stats_clear(&st);
    config_for(&cfg, "tests/rules/engine.rules");
    cfg.detect.max_keys = 3;
    struct rule_engine *e = rule_engine_load(&cfg.detect, err, sizeof(err));
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    char client[32];
    for (int i = 1; i <= 5; i++) {
        snprintf(client, sizeof(client), "203.0.113.%d", i);
        feed(e, &st, &c, 10, client, "plain");
    }
    CHECK_EQ_INT(c.n, 5);
    CHECK_EQ_INT(stats_get(&st, STAT_RULES_STATE_EVICTED), 2);
    /* .5 is remembered (suppressed), .1 was forgotten (alerts again). */
    c.n = 0;
    feed(e, &st, &c, 11, "203.0.113.5", "plain");   /* ops 2: an update */
    feed(e, &st, &c, 12, "203.0.113.5", "plain");   /* ops 3: suppressed */
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_INT(c.a[0].update, 1);
    feed(e, &st, &c, 13, "203.0.113.1", "plain");
    CHECK_EQ_INT(c.n, 2);
    CHECK_EQ_INT(c.a[1].update, 0);
    CHECK_EQ_INT(stats_get(&st, STAT_RULES_STATE_EVICTED), 3);

    /* Window tables are bounded too, and counted in the same counter. */
    uint64_t before = stats_get(&st, STAT_RULES_STATE_EVICTED);
    for (int i = 1; i <= 10; i++) {
        snprintf(client, sizeof(client), "198.18.0.%d", i);
        feed(e, &st, &c, 20, client, "count");
    }
    CHECK(stats_get(&st, STAT_RULES_STATE_EVICTED) >= before + 14);
    rule_engine_free(e);
}

/* Suppression entries are charged to the rules' budget: with room for a
 * few, new keys make the least recently used be forgotten (counted in
 * rules.state_evicted, well below max_keys), the budget is never passed,
 * the newest key is still suppressed, and freeing the engine gives every
 * byte back. */
static void test_state_charged_to_budget(void)
{
    struct sw_config cfg;
    char err[512] = "";
    struct stats st;
    stats_clear(&st);
    config_for(&cfg, "tests/rules/engine.rules");
    struct rule_engine *e = rule_engine_load(&cfg.detect, err, sizeof(err));
    if (!e)
        return;
    struct membudget b;
    membudget_init(&b, 64 * 1024, NULL);
    rule_engine_set_budget(e, &b);
    static struct collected c;
    c.n = 0;
    char client[32];
    for (int i = 0; i < 200; i++) {
        snprintf(client, sizeof(client), "203.0.%d.%d", i / 250, i % 250 + 1);
        feed(e, &st, &c, 10, client, "plain");
        CHECK(b.used <= b.limit);
    }
    CHECK_EQ_INT(c.n, 200);                /* each new source alerted once */
    uint64_t evicted = stats_get(&st, STAT_RULES_STATE_EVICTED);
    CHECK(evicted > 100 && evicted < 200);
    CHECK(cfg.detect.max_keys > 200);      /* the budget bound it, not max_keys */
    c.n = 0;
    feed(e, &st, &c, 11, "203.0.0.200", "plain");   /* the newest: remembered */
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_INT(c.a[0].update, 1);
    c.n = 0;
    feed(e, &st, &c, 12, "203.0.0.1", "plain");     /* the oldest: forgotten */
    CHECK_EQ_INT(c.n, 1);
    CHECK_EQ_INT(c.a[0].update, 0);
    rule_engine_free(e);
    CHECK_EQ_INT(b.used, 0);
}

/* ---- ordering, attribution ---------------------------------------------- */

static void test_one_op_alerts_by_rule_id(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/match.rules", &cfg);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    struct rec_op r = base_op();
    rule_engine_op(e, &st, &r, collect, &c);
    /* all but 2 (inside), 11 (flags_any), 18 (target_list) */
    CHECK_EQ_INT(c.n, 17);
    for (size_t i = 1; i < c.n; i++)
        CHECK(c.a[i - 1].rule_id < c.a[i].rule_id);
    /* The actor is attributed from the rule set's lists even by rules that do
     * not name them. */
    CHECK_EQ_STR(c.a[0].organisation, "Host Org");
    CHECK_EQ_STR(c.a[0].tool, "elasticdump");
    rule_engine_free(e);
}

static void test_alert_json(void)
{
    struct alert a;
    memset(&a, 0, sizeof(a));
    struct rec_op r = make_op(1577836800, "198.51.100.7", "10.0.0.1", "x");
    a.ts_us = r.ts_us;
    a.meta = r.meta;
    a.op_app = APP_ELASTICSEARCH;
    a.severity = SEVERITY_HIGH;
    a.key = ALERT_KEY_SRC;
    a.rule_id = 1001;
    a.update = 2;
    a.rev = 3;
    a.confidence = CONFIDENCE_HIGH;
    a.op.op_class = OP_CLASS_ENUMERATE;
    a.op.status = OP_STATUS_OK;
    a.op.items = 4;
    snprintf(a.op.name, sizeof(a.op.name), "_cat/indices");
    snprintf(a.op.target, sizeof(a.op.target), "*");
    snprintf(a.name, sizeof(a.name), "Scanner \"indexed\" it");
    snprintf(a.category, sizeof(a.category), "reconnaissance");
    snprintf(a.mitre[0], sizeof(a.mitre[0]), "T1595.002");
    snprintf(a.organisation, sizeof(a.organisation), "BinaryEdge");
    a.ops = 3;
    a.documents = 7;
    a.bytes = 99;
    a.distinct = 2;
    a.servers = 1;
    a.first_us = r.ts_us;
    a.last_us = r.ts_us + 1500000;
    a.window_s = 300;
    a.target_count = 2;
    snprintf(a.targets[0], sizeof(a.targets[0]), "customers");
    snprintf(a.targets[1], sizeof(a.targets[1]), "a\"b");
    struct json_writer w;
    json_init(&w);
    struct event_json_opts o = {"s1", 256, false, NULL, 0};
    event_json_alert(&w, &o, &a);
    const char *want =
        "{\"timestamp\":\"2020-01-01T00:00:00.000000+0000\",\"sensor\":\"s1\","
        "\"host\":\"s1\",\"event_type\":\"alert\",\"flow_id\":0,\"community_id\":\"\","
        "\"src_ip\":\"198.51.100.7\",\"src_port\":40000,\"dest_ip\":\"10.0.0.1\","
        "\"dest_port\":9200,\"proto\":\"TCP\",\"app_proto\":\"elasticsearch\","
        "\"op\":{\"app\":\"elasticsearch\",\"name\":\"_cat/indices\",\"class\":\"enumerate\","
        "\"target\":\"*\",\"status\":\"ok\",\"items\":4},"
        "\"alert\":{\"action\":\"allowed\",\"gid\":1,\"signature_id\":1001,\"rev\":3,"
        "\"signature\":\"Scanner \\\"indexed\\\" it\",\"category\":\"reconnaissance\","
        "\"severity\":1,\"metadata\":{\"mitre_technique_id\":[\"T1595.002\"],"
        "\"mitre_tactic_name\":[\"reconnaissance\"],\"confidence\":[\"high\"],"
        "\"attack_stage\":[\"indexed\"]},"
        "\"rule_info\":{\"id\":1001,\"name\":\"Scanner \\\"indexed\\\" it\","
        "\"severity\":\"high\",\"category\":\"reconnaissance\",\"mitre\":[\"T1595.002\"]},"
        "\"update\":2,\"key\":\"src\",\"actor\":{\"ip\":\"198.51.100.7\","
        "\"organisation\":\"BinaryEdge\"},\"server\":{\"ip\":\"10.0.0.1\",\"port\":9200,"
        "\"app\":\"elasticsearch\"},\"evidence\":{\"ops\":3,\"documents\":7,\"bytes\":99,"
        "\"distinct\":2,\"targets\":[\"customers\",\"a\\\"b\"],\"servers\":1,"
        "\"first\":\"2020-01-01T00:00:00.000000+0000\","
        "\"last\":\"2020-01-01T00:00:01.500000+0000\",\"window\":300}}}";
    CHECK(!w.failed);
    CHECK_EQ_STR(w.buf, want);
    json_free(&w);
}

/* ---- parse errors ------------------------------------------------------- */

static void expect_error(const char *rules, const char *want)
{
    struct sw_config cfg;
    char err[512] = "";
    config_for(&cfg, rules);
    struct rule_engine *e = rule_engine_load(&cfg.detect, err, sizeof(err));
    CHECK(e == NULL);
    CHECK_EQ_STR(err, want);
    rule_engine_free(e);
}

/* detect.lists may name several directories: each list file comes from the
 * first that has it (an installed sensor's /etc over /usr/share). */
static void test_list_search_path(void)
{
    char dir[] = "/tmp/sw_lists_XXXXXX", bad[64], err[512] = "";
    CHECK(mkdtemp(dir) != NULL);
    struct sw_config cfg;
    config_for(&cfg, "tests/rules/match.rules");
    snprintf(cfg.detect.lists, sizeof(cfg.detect.lists), "%s/none:tests/rules/lists", dir);
    struct rule_engine *e = rule_engine_load(&cfg.detect, err, sizeof(err));
    CHECK(e != NULL);
    CHECK_EQ_STR(err, "");
    rule_engine_free(e);
    /* A file in the first directory wins over the second's: a broken one
     * there is the one reported. */
    snprintf(bad, sizeof(bad), "%s/agents.patterns", dir);
    FILE *f = fopen(bad, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("nosuchkind x y\n", f);
        fclose(f);
    }
    snprintf(cfg.detect.lists, sizeof(cfg.detect.lists), "%s:tests/rules/lists", dir);
    e = rule_engine_load(&cfg.detect, err, sizeof(err));
    CHECK(e == NULL);
    CHECK(strncmp(err, bad, strlen(bad)) == 0);
    rule_engine_free(e);
    unlink(bad);
    /* A list in none of them names the directories searched. */
    config_for(&cfg, "tests/rules/bad_list.rules");
    snprintf(cfg.detect.lists, sizeof(cfg.detect.lists), "%s:tests/rules/lists", dir);
    char want[256];
    snprintf(want, sizeof(want), "tests/rules/bad_list.rules:3: rule 1: 'match.src_list': unknown "
             "network list 'nosuch' (no file nosuch.cidr in %s:tests/rules/lists)", dir);
    e = rule_engine_load(&cfg.detect, err, sizeof(err));
    CHECK(e == NULL);
    CHECK_EQ_STR(err, want);
    rule_engine_free(e);
    rmdir(dir);
}

/* Flow records reach only rules with match.record = "flow"; ops never do. */
static void test_flow_records(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *e = load("tests/rules/flow.rules", &cfg);
    CHECK(e != NULL);
    if (!e)
        return;
    static struct collected c;
    c.n = 0;
    static const char *const servers[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"};
    for (int i = 0; i < 4; i++) {
        struct rec_op r = make_op(100 + (uint64_t)i, "203.0.113.9", servers[i], "open");
        op_record_init(&r.op, APP_ELASTICSEARCH);
        snprintf(r.op.op, sizeof(r.op.op), "open");
        snprintf(r.op.target, sizeof(r.op.target), "%s", i == 1 ? "22" : "9200");
        snprintf(r.op.client_id, sizeof(r.op.client_id), "masscan (SYN shape)");
        rule_engine_flow(e, &st, &r, collect, &c);
    }
    /* the port-22 flow does not count: servers 1, 3, 4 make the three */
    CHECK_EQ_INT(c.n, 1);
    if (c.n == 1) {
        CHECK_EQ_INT(c.a[0].rule_id, 1);
        CHECK_EQ_INT(c.a[0].ops, 3);
        CHECK_EQ_INT(c.a[0].servers, 3);
        CHECK_EQ_INT(c.a[0].key, ALERT_KEY_SRC);
    }
    /* an op from the same source: rule 2 only */
    c.n = 0;
    struct rec_op op = make_op(110, "203.0.113.9", "10.0.0.5", "_search");
    rule_engine_op(e, &st, &op, collect, &c);
    CHECK_EQ_INT(c.n, 1);
    if (c.n == 1)
        CHECK_EQ_INT(c.a[0].rule_id, 2);
    /* ops shaped like flows still never reach rule 1 */
    c.n = 0;
    for (int i = 0; i < 4; i++) {
        struct rec_op r = make_op(200 + (uint64_t)i, "203.0.113.10", servers[i], "open");
        snprintf(r.op.target, sizeof(r.op.target), "9200");
        rule_engine_op(e, &st, &r, collect, &c);
    }
    CHECK_EQ_INT(count_rule(&c, 1), 0);
    rule_engine_free(e);
}

static void test_parse_errors(void)
{
    expect_error("tests/rules/bad_record.rules",
                 "tests/rules/bad_record.rules:3: rule 1: 'match.not.record' belongs in the "
                 "rule's match, not in 'not'");
    expect_error("tests/rules/bad_unknown_key.rules",
                 "tests/rules/bad_unknown_key.rules:3: rule 1: unknown key 'match.opp'");
    expect_error("tests/rules/bad_severity.rules",
                 "tests/rules/bad_severity.rules:3: rule 1: 'severity' is 'urgent', must be "
                 "info, low, medium, high or critical");
    expect_error("tests/rules/bad_regex.rules",
                 "tests/rules/bad_regex.rules:4: rule 1: 'match.target_regex': bad regex "
                 "'(unclosed': Unmatched ( or \\(");
    expect_error("tests/rules/bad_list.rules",
                 "tests/rules/bad_list.rules:3: rule 1: 'match.src_list': unknown network list "
                 "'nosuch' (no file tests/rules/lists/nosuch.cidr)");
    expect_error("tests/rules/bad_duplicate.rules",
                 "tests/rules/bad_duplicate.rules:3: duplicate rule id 7");
    expect_error("tests/rules/bad_sequence.rules",
                 "tests/rules/bad_sequence.rules:5: rule 2: 'sequence.stages' names unknown "
                 "rule 99");
    expect_error("tests/rules/include_bad.rules",
                 "tests/rules/included_bad.rules:3: rule 2: 'aggregate' needs a threshold: "
                 "count_min, sum_min or distinct_min");
    expect_error("tests/rules/bad_chain_key.rules",
                 "tests/rules/bad_chain_key.rules:4: rule 2: 'sequence.key' is 'chain', must be "
                 "src, dest or pair");
    expect_error("tests/rules/nosuch.rules",
                 "tests/rules/nosuch.rules: cannot read rules: No such file or directory");

    /* A missing rule file is an error, even when it is the built-in
     * default (the path is named). */
    struct sw_config cfg;
    char err[512] = "";
    config_defaults(&cfg);
    snprintf(cfg.detect.rules, sizeof(cfg.detect.rules), "%s", "tests/rules/nosuch.rules");
    struct rule_engine *e = rule_engine_load(&cfg.detect, err, sizeof(err));
    CHECK(e == NULL);
    CHECK_EQ_STR(err, "tests/rules/nosuch.rules: cannot read rules: No such file or directory");
    /* No rule file at all: an engine with no rules. */
    cfg.detect.rules[0] = '\0';
    e = rule_engine_load(&cfg.detect, err, sizeof(err));
    CHECK(e != NULL && rule_engine_rule_count(e) == 0);
    rule_engine_free(e);
}

/* ---- reload ------------------------------------------------------------- */

static void test_reload_keeps_state(void)
{
    struct sw_config cfg;
    struct stats st;
    stats_clear(&st);
    struct rule_engine *a = load("tests/rules/engine.rules", &cfg);
    if (!a)
        return;
    static struct collected c;
    c.n = 0;
    for (uint64_t t = 1; t <= 3; t++) {
        feed(a, &st, &c, t, "203.0.113.1", "count");
        feed(a, &st, &c, t, "203.0.113.1", "plain");
    }
    CHECK_EQ_INT(count_rule(&c, 100), 2);          /* alert at 1, update at 2 */
    CHECK_EQ_INT(count_rule(&c, 110), 0);
    struct rule_engine *b = load("tests/rules/engine.rules", &cfg);
    if (!b) {
        rule_engine_free(a);
        return;
    }
    rule_engine_adopt_state(b, a);
    c.n = 0;
    for (uint64_t t = 4; t <= 5; t++) {
        feed(b, &st, &c, t, "203.0.113.1", "count");
        feed(b, &st, &c, t, "203.0.113.1", "plain");
    }
    /* the window kept its 3 ops: the 5th fires; suppression kept: ops 4 is
     * the 2nd update, not a new alert */
    CHECK_EQ_INT(count_rule(&c, 110), 1);
    CHECK_EQ_INT(count_rule(&c, 100), 1);
    const struct alert *x = last_of(&c, 100);
    if (x) {
        CHECK_EQ_INT(x->update, 2);
        CHECK_EQ_INT(x->ops, 4);
    }
    rule_engine_free(b);
}

int main(void)
{
    check_binary = "test_engine";
    RUN(test_conditions);
    RUN(test_network_list_longest_prefix);
    RUN(test_pattern_list_kinds);
    RUN(test_count_threshold);
    RUN(test_sum_threshold_and_chains);
    RUN(test_chain_conditions_and_key);
    RUN(test_closing_update_at_end);
    RUN(test_closing_update_when_window_ends);
    RUN(test_closing_before_new_burst);
    RUN(test_distinct_beyond_exact);
    RUN(test_sequence);
    RUN(test_suppression_doubling);
    RUN(test_one_op_rule_no_updates);
    RUN(test_home_nets_and_trusted);
    RUN(test_lru_eviction);
    RUN(test_state_charged_to_budget);
    RUN(test_one_op_alerts_by_rule_id);
    RUN(test_alert_json);
    RUN(test_flow_records);
    RUN(test_parse_errors);
    RUN(test_list_search_path);
    RUN(test_reload_keeps_state);
    CHECK_EXIT();
}
