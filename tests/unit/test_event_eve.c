/* test_event_eve.c - the EVE-compatible fields: severity mapping, the 51-bit
 * flow id, ATT&CK tactics and attack stage, flow state/reason/alerted, and
 * the rule keys rev and confidence. */
#include "../../rules/engine.h"
#include "../../rules/rule.h"
#include "../../sensor/config.h"
#include "../../sensor/event_eve.h"
#include "../../sensor/event_json.h"
#include "check.h"

#include <stdlib.h>

static void test_severity_mapping(void)
{
    CHECK_EQ_INT(eve_severity(SEVERITY_CRITICAL), 1);
    CHECK_EQ_INT(eve_severity(SEVERITY_HIGH), 1);
    CHECK_EQ_INT(eve_severity(SEVERITY_MEDIUM), 2);
    CHECK_EQ_INT(eve_severity(SEVERITY_LOW), 3);
    CHECK_EQ_INT(eve_severity(SEVERITY_INFO), 3);
}

static void flow_json(const struct rec_flow *r, bool alerted, struct json_writer *w)
{
    struct event_json_opts o = {"s9", 256, alerted, NULL, 0};
    json_reset(w);
    event_json_flow(w, &o, r);
    CHECK(!w->failed);
}

/* Every event type writes the same masked id: a 63-bit id loses its top 12
 * bits, and the host field names the sensor. */
static void test_flow_id_is_51_bits(void)
{
    struct rec_flow r;
    memset(&r, 0, sizeof(r));
    r.meta.family = 4;
    r.meta.proto = 6;
    r.meta.flow_id = UINT64_C(0x7fffffffffffffff);
    struct json_writer w;
    json_init(&w);
    flow_json(&r, false, &w);
    CHECK(strstr(w.buf, "\"flow_id\":2251799813685247,") != NULL);
    CHECK(strstr(w.buf, "\"sensor\":\"s9\",\"host\":\"s9\",") != NULL);
    json_free(&w);
}

static void test_flow_state_and_reason(void)
{
    struct rec_flow r;
    memset(&r, 0, sizeof(r));
    r.meta.family = 4;
    r.meta.proto = 6;
    r.pkts[0] = 1;
    r.reason = FLOW_END_TIMEOUT;
    struct json_writer w;
    json_init(&w);
    flow_json(&r, false, &w);
    CHECK(strstr(w.buf, "\"state\":\"new\",\"reason\":\"timeout\",\"alerted\":false,"
                        "\"end_reason\":\"timeout\"") != NULL);
    r.pkts[1] = 1;
    r.reason = FLOW_END_EVICTED;
    flow_json(&r, true, &w);
    CHECK(strstr(w.buf, "\"state\":\"established\",\"reason\":\"forced\",\"alerted\":true,"
                        "\"end_reason\":\"evicted\"") != NULL);
    r.tcp_state = TCP_STATE_SYN | TCP_STATE_RST;
    r.reason = FLOW_END_RST;
    flow_json(&r, false, &w);
    CHECK(strstr(w.buf, "\"state\":\"closed\",\"reason\":\"timeout\",") != NULL);
    r.reason = FLOW_END_SHUTDOWN;
    flow_json(&r, false, &w);
    CHECK(strstr(w.buf, "\"reason\":\"shutdown\",") != NULL);
    json_free(&w);
}

static void test_alerted_table(void)
{
    struct eve_alerted *t = calloc(1, sizeof(*t));
    CHECK(!eve_alerted_take(t, 5));
    eve_alerted_mark(t, 5);
    eve_alerted_mark(t, 0);      /* id 0 is a flow id like any other */
    CHECK(eve_alerted_take(t, 5));
    CHECK(!eve_alerted_take(t, 5));   /* forgotten once the flow ended */
    CHECK(eve_alerted_take(t, 0));
    CHECK(!eve_alerted_take(t, 6));
    free(t);
}

/* Tactics are named once each, in technique order; unknown techniques add
 * none; the stage follows the category. */
static void test_metadata(void)
{
    struct alert a;
    memset(&a, 0, sizeof(a));
    snprintf(a.mitre[0], sizeof(a.mitre[0]), "T1213");
    snprintf(a.mitre[1], sizeof(a.mitre[1]), "T9999");
    snprintf(a.mitre[2], sizeof(a.mitre[2]), "T1530");
    snprintf(a.mitre[3], sizeof(a.mitre[3]), "T1485");
    snprintf(a.category, sizeof(a.category), "collection");
    a.severity = SEVERITY_MEDIUM;
    a.rev = 1;
    a.confidence = CONFIDENCE_MEDIUM;
    struct json_writer w;
    json_init(&w);
    json_object_open(&w);
    eve_alert_fields(&w, &a);
    json_object_close(&w);
    CHECK_EQ_STR(w.buf,
                 "{\"action\":\"allowed\",\"gid\":1,\"signature_id\":0,\"rev\":1,"
                 "\"signature\":\"\",\"category\":\"collection\",\"severity\":2,"
                 "\"metadata\":{\"mitre_technique_id\":[\"T1213\",\"T9999\",\"T1530\",\"T1485\"],"
                 "\"mitre_tactic_name\":[\"collection\",\"impact\"],\"confidence\":[\"medium\"],"
                 "\"attack_stage\":[\"dumped\"]}}");
    json_free(&w);
}

static void load_error(const char *path, const char *want)
{
    struct sw_config cfg;
    char err[512] = "";
    config_defaults(&cfg);
    snprintf(cfg.detect.rules, sizeof(cfg.detect.rules), "%s", path);
    cfg.detect.rules_set = true;
    snprintf(cfg.detect.lists, sizeof(cfg.detect.lists), "%s", "tests/rules/lists");
    struct rule_engine *e = rule_engine_load(&cfg.detect, err, sizeof(err));
    CHECK(e == NULL);
    CHECK_EQ_STR(err, want);
    rule_engine_free(e);
}

/* rev defaults to 1 and must be positive; confidence is a word. */
static void test_rule_rev_and_confidence(void)
{
    struct detect_settings ds;
    struct sw_config cfg;
    config_defaults(&cfg);
    ds = cfg.detect;
    snprintf(ds.rules, sizeof(ds.rules), "%s", "rules/scrapewatch.rules");
    ds.rules_set = true;
    snprintf(ds.lists, sizeof(ds.lists), "%s", "rules/lists");
    struct rule_set rs;
    char err[512] = "";
    CHECK_EQ_INT(rule_set_load(&ds, &rs, err, sizeof(err)), 0);
    const struct rule *r = rule_set_find(&rs, 1001);
    CHECK(r != NULL);
    if (r) {
        CHECK_EQ_INT(r->rev, 1);
        CHECK_EQ_INT(r->confidence, CONFIDENCE_MEDIUM);
    }
    rule_set_free(&rs);
    load_error("tests/rules/bad_rev.rules",
               "tests/rules/bad_rev.rules:3: rule 1: 'rev' must be between 1 and 4294967295");
    load_error("tests/rules/bad_confidence.rules",
               "tests/rules/bad_confidence.rules:3: rule 1: 'confidence' is 'sure', must be "
               "low, medium or high");
}

int main(void)
{
    check_binary = "event_eve";
    RUN(test_severity_mapping);
    RUN(test_flow_id_is_51_bits);
    RUN(test_flow_state_and_reason);
    RUN(test_alerted_table);
    RUN(test_metadata);
    RUN(test_rule_rev_and_confidence);
    CHECK_EXIT();
}
