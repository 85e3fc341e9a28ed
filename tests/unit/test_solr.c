/* test_solr.c - the Solr classifier, the XML response reader and the
 * observer, end to end through the framer ("solr" and "http" decoders) with
 * conversations cut into pieces of every size. */
#include <stdio.h>
#include <stdlib.h>

#include "../../decoders/solr/solr.h"
#include "check.h"
#include "http_session.h"

#define SPAN(text) ((struct http_span){ (text), strlen(text) })

extern const struct decoder http_decoder;

struct classify_case {
    const char *method, *target;
    const char *name;
    enum op_class op_class;
    const char *core;
    bool match_all, probe;
};

static const struct classify_case classify_cases[] = {
    {"GET", "/solr/", "banner", OP_CLASS_HANDSHAKE, "", false, false},
    {"GET", "/solr/admin/info/system?wt=json", "admin/info/system", OP_CLASS_HANDSHAKE, "", false,
     false},
    {"GET", "/solr/admin/info/logging", "admin/info/logging", OP_CLASS_ENUMERATE, "", false, false},
    {"GET", "/solr/admin/cores?action=STATUS", "admin/cores", OP_CLASS_ENUMERATE, "", false, false},
    {"GET", "/solr/admin/cores", "admin/cores", OP_CLASS_ENUMERATE, "", false, false},
    {"GET", "/solr/admin/cores?action=CREATE&name=x", "admin/cores", OP_CLASS_ADMIN, "", false,
     false},
    {"GET", "/solr/admin/cores?action=UNLOAD&core=x", "admin/cores", OP_CLASS_ADMIN, "x", false,
     false},
    {"GET", "/solr/admin/cores?action=UNLOAD&core=x&deleteIndex=true", "delete_core",
     OP_CLASS_DESTROY, "x", false, false},
    {"GET", "/solr/admin/collections?action=LIST", "admin/collections", OP_CLASS_ENUMERATE, "",
     false, false},
    {"GET", "/solr/admin/collections?action=DELETE&name=logs", "delete_collection",
     OP_CLASS_DESTROY, "logs", false, false},
    {"GET", "/solr/admin/collections?action=DELETEALIAS&name=a", "admin/collections",
     OP_CLASS_DESTROY, "a", false, false},
    {"GET", "/solr/products/select?q=*:*&rows=10", "select", OP_CLASS_READ, "products", true,
     false},
    {"GET", "/solr/products/select?q=%2A%3A%2A", "select", OP_CLASS_READ, "products", true, false},
    {"GET", "/solr/products/select?q=name:x", "select", OP_CLASS_READ, "products", false, false},
    {"POST", "/solr/products/query", "query", OP_CLASS_READ, "products", false, false},
    {"GET", "/solr/products/export?q=*:*&sort=id+asc&fl=id", "export", OP_CLASS_READ, "products",
     true, false},
    {"GET", "/solr/products/get?id=1", "get", OP_CLASS_READ, "products", false, false},
    {"POST", "/solr/products/update?commit=true", "update", OP_CLASS_WRITE, "products", false,
     false},
    {"GET", "/solr/products/update?stream.body=%3Cdelete%3E%3Cquery%3E*%3A*%3C%2Fquery%3E%3C%2Fdelete%3E",
     "update", OP_CLASS_DESTROY, "products", false, false},
    {"GET", "/solr/products/config", "config", OP_CLASS_ENUMERATE, "products", false, false},
    {"POST", "/solr/products/config", "config", OP_CLASS_ADMIN, "products", false, false},
    {"GET", "/solr/products/select?q=1&wt=velocity&v.template=custom&v.template.custom=x",
     "select", OP_CLASS_READ, "products", false, true},
    {"GET", "/solr/products/dataimport?command=full-import&dataConfig=%3CdataConfig%3E",
     "dataimport", OP_CLASS_ADMIN, "products", false, true},
    {"GET", "/solr/products/admin/ping", "admin/ping", OP_CLASS_HANDSHAKE, "products", false,
     false},
    {"GET", "/solr/products/schema", "schema", OP_CLASS_ENUMERATE, "products", false, false},
    {"GET", "/products/select?q=*:*", "select", OP_CLASS_READ, "products", true, false},
};

static void test_classify_table(void)
{
    for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
        const struct classify_case *c = &classify_cases[i];
        struct solr_call call;
        solr_classify(SPAN(c->method), SPAN(c->target), &call);
        if (strcmp(call.name, c->name) != 0 || call.op_class != c->op_class ||
            strcmp(call.target, c->core) != 0 || call.match_all != c->match_all ||
            call.probe != c->probe)
            fprintf(stderr, "case %zu: %s %s\n", i, c->method, c->target);
        CHECK_EQ_STR(call.name, c->name);
        CHECK_EQ_INT(call.op_class, c->op_class);
        CHECK_EQ_STR(call.target, c->core);
        CHECK_EQ_INT(call.match_all, c->match_all);
        CHECK_EQ_INT(call.probe, c->probe);
    }
}

static void test_classify_paging(void)
{
    struct solr_call call;
    char h[OP_CONT_MAX];
    solr_classify(SPAN("GET"), SPAN("/solr/c/select?q=*:*&rows=500&start=1000&wt=xml"), &call);
    CHECK_EQ_INT(call.rows, 500);
    CHECK_EQ_INT(call.start, 1000);
    CHECK_EQ_INT(call.wt, SOLR_WT_XML);
    CHECK(!call.continues);
    solr_classify(SPAN("GET"), SPAN("/solr/c/select?cursorMark=*&sort=id+asc"), &call);
    CHECK(!call.continues && !call.has_continuation);
    op_continuation_hash("AoEpZDAw", 8, h);
    solr_classify(SPAN("GET"), SPAN("/solr/c/select?cursorMark=AoEpZDAw&wt=javabin"), &call);
    CHECK(call.continues);
    CHECK_EQ_STR(call.continuation, h);
    CHECK_EQ_INT(call.wt, SOLR_WT_JAVABIN);
}

static const char xml_body[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n"
    "<lst name=\"responseHeader\"><int name=\"status\">0</int></lst>\n"
    "<result name=\"response\" numFound=\"1234\" start=\"0\" numFoundExact=\"true\">\n"
    "  <doc><str name=\"id\">a</str><str name=\"t\">&lt;doc&gt;</str></doc>\n"
    "  <doc><str name=\"id\">b</str><doc><str name=\"id\">b-child</str></doc></doc>\n"
    "  <doc/>\n"
    "</result>\n<str name=\"nextCursorMark\">AoEpYg==</str>\n</response>\n";

static void test_xml_every_split(void)
{
    char h[OP_CONT_MAX];
    op_continuation_hash("AoEpYg==", 8, h);
    size_t n = strlen(xml_body);
    for (size_t cut = 0; cut <= n; cut++) {
        struct solr_xml x;
        solr_xml_init(&x);
        solr_xml_feed(&x, (const uint8_t *)xml_body, cut);
        solr_xml_feed(&x, (const uint8_t *)xml_body + cut, n - cut);
        CHECK_EQ_INT(x.docs, 3);
        CHECK_EQ_INT(x.num_found, 1234);
        CHECK(x.has_cursor);
        CHECK_EQ_STR(x.cursor, h);
    }
    struct solr_xml x;
    solr_xml_init(&x);
    static const char none[] = "<response><lst name=\"status\"/></response>";
    solr_xml_feed(&x, (const uint8_t *)none, strlen(none));
    CHECK_EQ_INT(x.docs, -1);
    CHECK_EQ_INT(x.num_found, -1);
}

static const char xml_cores[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n"
    "<lst name=\"responseHeader\"><int name=\"status\">0</int><int name=\"QTime\">1</int></lst>\n"
    "<lst name=\"initFailures\"/>\n<lst name=\"status\">\n"
    "  <lst name=\"products\"><str name=\"name\">products</str>"
    "<lst name=\"index\"><int name=\"numDocs\">5000</int></lst></lst>\n"
    "  <lst name=\"empty\"/>\n"
    "  <lst name=\"customers\"><str name=\"name\">customers</str><lst name=\"status\"/></lst>\n"
    "</lst>\n<lst name=\"status\"><lst name=\"x\"/></lst>\n</response>\n";

static const char xml_collections[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n"
    "<lst name=\"responseHeader\"><int name=\"status\">0</int></lst>\n"
    "<arr name=\"collections\">\n  <str>customers</str>\n  <str>products</str>\n"
    "  <str>logs</str>\n  <str/>\n</arr>\n</response>\n";

/* Admin answers in XML: cores of STATUS and names of LIST, cut anywhere. */
static void test_xml_admin_lists(void)
{
    static const struct { const char *body; enum solr_xml_list list; int64_t want; } cases[] = {
        { xml_cores, SOLR_XML_LIST_CORES, 3 },
        { xml_collections, SOLR_XML_LIST_COLLECTIONS, 4 },
        { xml_collections, SOLR_XML_LIST_CORES, -1 },
        { xml_body, SOLR_XML_LIST_COLLECTIONS, -1 },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t n = strlen(cases[c].body);
        for (size_t cut = 0; cut <= n; cut++) {
            struct solr_xml x;
            solr_xml_init(&x);
            solr_xml_count_list(&x, cases[c].list);
            solr_xml_feed(&x, (const uint8_t *)cases[c].body, cut);
            solr_xml_feed(&x, (const uint8_t *)cases[c].body + cut, n - cut);
            CHECK_EQ_INT(x.docs, cases[c].want);
            CHECK_EQ_INT(x.num_found, -1);
        }
    }
}

static char *response(const char *head, const char *body)
{
    size_t n = strlen(head) + strlen(body) + 64;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%sContent-Length: %zu\r\n\r\n%s", head, strlen(body), body);
    return s;
}

/* Pipelined: a JSON cursor page, an XML page, a CSV page, a form-encoded
 * select, an XML update that deletes, and a 400 with Solr's error. */
static void test_keep_alive_every_split(void)
{
    char *json = response("HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=utf-8\r\n",
                          "{\"responseHeader\":{\"status\":0},\"response\":{\"numFound\":7,\"start\":0,"
                          "\"docs\":[{\"id\":\"a\",\"response\":{\"docs\":[1]}},{\"id\":\"b\"}]},"
                          "\"nextCursorMark\":\"AoEpYg==\"}");
    char *xml = response("HTTP/1.1 200 OK\r\nContent-Type: application/xml; charset=UTF-8\r\n",
                         xml_body);
    char *csv = response("HTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=utf-8\r\n",
                         "id,name\na,x\nb,y\nc,z");
    char *ok = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                        "{\"responseHeader\":{\"status\":0,\"QTime\":2}}");
    char *bad = response("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n",
                         "{\"error\":{\"metadata\":[\"error-class\",\"org.apache.solr.common."
                         "SolrException\"],\"msg\":\"undefined field\",\"code\":400}}");
    const struct session_step steps[] = {
        {DIR_TO_SERVER, "GET /solr/p/select?q=*:*&rows=2&sort=id+asc&cursorMark=AoEpYQ== HTTP/1.1\r\n"
                        "User-Agent: pysolr\r\n\r\n"},
        {DIR_TO_SERVER, "GET /solr/p/select?q=*:*&wt=xml HTTP/1.1\r\n\r\n"},
        {DIR_TO_SERVER, "GET /solr/p/select?q=*:*&wt=csv&rows=3 HTTP/1.1\r\n\r\n"},
        {DIR_TO_SERVER, "POST /solr/p/select HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        "Content-Length: 22\r\n\r\nq=*:*&rows=300&start=9"},
        {DIR_TO_SERVER, "POST /solr/p/update HTTP/1.1\r\nContent-Type: text/xml\r\n"
                        "Content-Length: 40\r\n\r\n<delete><query>id:*</query></delete>   "},
        {DIR_TO_SERVER, "GET /solr/p/select?q=x:y HTTP/1.1\r\n\r\n"},
        {DIR_TO_CLIENT, json}, {DIR_TO_CLIENT, xml}, {DIR_TO_CLIENT, csv},
        {DIR_TO_CLIENT, json}, {DIR_TO_CLIENT, ok}, {DIR_TO_CLIENT, bad},
    };
    size_t n = sizeof(steps) / sizeof(steps[0]), total = 0;
    char h_in[OP_CONT_MAX], h_out[OP_CONT_MAX];
    op_continuation_hash("AoEpYQ==", 8, h_in);
    op_continuation_hash("AoEpYg==", 8, h_out);
    for (size_t i = 0; i < n; i++)
        total += strlen(steps[i].text);
    static struct session s;
    for (size_t piece = 1; piece <= total; piece += piece < 40 ? 1 : 89) {
        session_run(&s, &solr_decoder, steps, n, piece);
        CHECK_EQ_INT(s.count, 6);
        if (s.count != 6)
            return;
        const struct op_record *j = &s.ops[0], *x = &s.ops[1], *c = &s.ops[2], *f = &s.ops[3],
                               *u = &s.ops[4], *e = &s.ops[5];
        CHECK_EQ_STR(j->op, "select");
        CHECK_EQ_INT(j->app, APP_SOLR);
        CHECK_EQ_STR(j->target, "p");
        CHECK_EQ_INT(j->items, 2);
        CHECK_EQ_INT(j->total, 7);
        CHECK_EQ_INT(j->page_size, 2);
        CHECK(j->flags & OP_FLAG_MATCH_ALL);
        CHECK(j->flags & OP_FLAG_CONTINUES);
        CHECK_EQ_STR(j->continuation, h_in);
        CHECK_EQ_STR(j->cursor_out, h_out);
        CHECK_EQ_INT(j->authenticated, OP_AUTH_NO);
        CHECK_EQ_INT(x->items, 3);
        CHECK_EQ_INT(x->total, 1234);
        CHECK_EQ_STR(x->cursor_out, h_out);
        CHECK_EQ_INT(c->items, 3);
        CHECK_EQ_INT(c->total, -1);
        CHECK(f->flags & OP_FLAG_MATCH_ALL);
        CHECK_EQ_INT(f->page_size, 300);
        CHECK_EQ_INT(f->offset, 9);
        CHECK_EQ_INT(f->items, 2);
        CHECK_EQ_STR(u->op, "update");
        CHECK_EQ_INT(u->op_class, OP_CLASS_DESTROY);
        CHECK_EQ_INT(e->status, OP_STATUS_ERROR);
        CHECK_EQ_STR(e->error_type, "org.apache.solr.common.SolrException");
        for (size_t i = 0; i < s.count; i++)
            CHECK(!(s.ops[i].flags & (OP_FLAG_PARTIAL | OP_FLAG_NO_RESPONSE | OP_FLAG_PROBE)));
    }
    free(json); free(xml); free(csv); free(ok); free(bad);
}

/* The Velocity probe in a config body, JSON update deletes, realtime get,
 * and core STATUS counted by its cores. */
static void test_bodies(void)
{
    static const char velocity[] =
        "{\"update-queryresponsewriter\":{\"name\":\"velocity\",\"class\":\"solr.VelocityResponseWriter\","
        "\"params.resource.loader.enabled\":\"true\"}}";
    char req[512];
    snprintf(req, sizeof(req), "POST /solr/p/config HTTP/1.1\r\nContent-Type: application/json\r\n"
             "Content-Length: %zu\r\n\r\n%s", strlen(velocity), velocity);
    char *ok = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                        "{\"responseHeader\":{\"status\":0}}");
    char *get = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                         "{\"doc\":{\"id\":\"x\",\"doc\":{}}}");
    char *cores = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                           "{\"responseHeader\":{},\"initFailures\":{},\"status\":{\"a\":{\"name\":\"a\","
                           "\"index\":{\"numDocs\":3}},\"b\":{\"name\":\"b\"}}}");
    const struct session_step steps[] = {
        {DIR_TO_SERVER, req}, {DIR_TO_CLIENT, ok},
        {DIR_TO_SERVER, "POST /solr/p/update HTTP/1.1\r\nContent-Type: application/json\r\n"
                        "Content-Length: 27\r\n\r\n{\"delete\":{\"query\":\"*:*\"}}"},
        {DIR_TO_CLIENT, ok},
        {DIR_TO_SERVER, "GET /solr/p/get?id=x HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, get},
        {DIR_TO_SERVER, "GET /solr/admin/cores?action=STATUS HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, cores},
    };
    static struct session s;
    for (size_t piece = 1; piece < 120; piece++) {
        session_run(&s, &solr_decoder, steps, 8, piece);
        CHECK_EQ_INT(s.count, 4);
        if (s.count != 4)
            break;
        CHECK(s.ops[0].flags & OP_FLAG_PROBE);
        CHECK_EQ_INT(s.ops[0].op_class, OP_CLASS_ADMIN);
        CHECK_EQ_INT(s.ops[1].op_class, OP_CLASS_DESTROY);
        CHECK(!(s.ops[1].flags & OP_FLAG_PROBE));
        CHECK_EQ_INT(s.ops[2].items, 1);
        CHECK_EQ_INT(s.ops[3].items, 2);
    }
    free(ok); free(get); free(cores);
}

/* On the "http" decoder: /solr/ takes the flow; a prefix-less select is
 * recognised by its answer and counted, the mark at the body's start, 300
 * or 990 bytes in (handed over at once, the bytes so far replayed); a mark
 * past the first 1 KiB is not looked for: the op stays plain HTTP. */
static void test_http_decoder(void)
{
    char *json = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                          "{\"responseHeader\":{\"status\":0},\"response\":{\"numFound\":7,"
                          "\"docs\":[{\"id\":\"a\"}]}}");
    const struct session_step prefixed[] = {
        {DIR_TO_SERVER, "GET /solr/p/select?q=*:* HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, json},
    };
    const struct session_step bare[] = {
        {DIR_TO_SERVER, "GET /p/select?q=*:* HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, json},
        {DIR_TO_SERVER, "GET /p/select?q=*:* HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, json},
    };
    char body[1200], body_far[1200];
    snprintf(body, sizeof(body), "{%300s\"responseHeader\":{\"status\":0},\"response\":{"
             "\"numFound\":7,\"docs\":[{\"id\":\"a\"},{\"id\":\"b\"}]}}", "");
    char *padded = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", body);
    const struct session_step late[] = {
        {DIR_TO_SERVER, "GET /p/select?q=*:* HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, padded},
        {DIR_TO_SERVER, "GET /p/select?q=*:* HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, json},
    };
    /* the mark's last byte is the body's 1024th: still seen */
    snprintf(body_far, sizeof(body_far), "{%1006s\"responseHeader\":{\"status\":0},\"response\":{"
             "\"numFound\":7,\"docs\":[{\"id\":\"a\"},{\"id\":\"b\"},{\"id\":\"c\"}]}}", "");
    char *edge = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", body_far);
    memmove(body_far + 2, body_far + 1, strlen(body_far));   /* one more space: */
    body_far[1] = ' ';                                       /* the mark ends at byte 1025 */
    char *beyond = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n", body_far);
    const struct session_step edges[] = {
        {DIR_TO_SERVER, "GET /p/select?q=*:* HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, beyond},
        {DIR_TO_SERVER, "GET /p/select?q=*:* HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, edge},
    };
    static struct session s;
    for (size_t piece = 1; piece < 60; piece++) {
        session_run(&s, &http_decoder, prefixed, 2, piece);
        CHECK_EQ_INT(s.count, 1);
        CHECK_EQ_INT(s.ops[0].app, APP_SOLR);
        CHECK_EQ_INT(s.ops[0].items, 1);
        session_run(&s, &http_decoder, bare, 4, piece);
        CHECK_EQ_INT(s.count, 2);
        CHECK_EQ_INT(s.ops[0].app, APP_SOLR);
        CHECK_EQ_STR(s.ops[0].op, "select");
        CHECK_EQ_INT(s.ops[0].items, 1);       /* handed over mid-body, replayed */
        CHECK_EQ_INT(s.ops[0].total, 7);
        CHECK_EQ_INT(s.ops[1].app, APP_SOLR);
        CHECK_EQ_INT(s.ops[1].items, 1);
        CHECK_EQ_INT(s.ops[1].total, 7);
        session_run(&s, &http_decoder, late, 4, piece);
        CHECK_EQ_INT(s.count, 2);
        CHECK_EQ_INT(s.ops[0].app, APP_SOLR);
        CHECK_EQ_STR(s.ops[0].op, "select");
        CHECK_EQ_INT(s.ops[0].items, 2);       /* 301 bytes in: replayed, counted */
        CHECK_EQ_INT(s.ops[0].total, 7);
        CHECK_EQ_INT(s.ops[1].items, 1);
        session_run(&s, &http_decoder, edges, 4, piece);
        CHECK_EQ_INT(s.count, 2);
        CHECK_EQ_INT(s.ops[0].app, APP_HTTP);  /* past the sniffed bytes: not seen */
        CHECK_EQ_INT(s.ops[0].items, -1);
        CHECK_EQ_INT(s.ops[1].app, APP_SOLR);
        CHECK_EQ_INT(s.ops[1].items, 3);
        CHECK_EQ_INT(s.ops[1].total, 7);
    }
    free(json);
    free(padded);
    free(edge);
    free(beyond);
}

int main(void)
{
    check_binary = "solr";
    RUN(test_classify_table);
    RUN(test_classify_paging);
    RUN(test_xml_every_split);
    RUN(test_xml_admin_lists);
    RUN(test_keep_alive_every_split);
    RUN(test_bodies);
    RUN(test_http_decoder);
    CHECK_EXIT();
}
