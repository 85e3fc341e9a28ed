/* test_couchdb.c - the CouchDB classifier and observer, and the "http"
 * decoder's choice between Elasticsearch, CouchDB and Solr.
 *
 * The classifier is checked as a table. The observer is driven end to end
 * through the framer ("couchdb" decoder, and "http" decoder) with whole
 * conversations cut into pieces of every size from 1 byte. */
#include <stdio.h>
#include <stdlib.h>

#include "../../decoders/couchdb/couchdb.h"
#include "check.h"
#include "http_session.h"

#define SPAN(text) ((struct http_span){ (text), strlen(text) })

extern const struct decoder http_decoder;

/* ------------------------------------------------------------ classifier */

struct classify_case {
    const char *method, *target;
    const char *name;
    enum op_class op_class;
    const char *db;
    bool own;
    bool match_all;
};

static const struct classify_case classify_cases[] = {
    {"GET", "/", "banner", OP_CLASS_HANDSHAKE, "", false, false},
    {"GET", "/_all_dbs", "_all_dbs", OP_CLASS_ENUMERATE, "", true, false},
    {"POST", "/_dbs_info", "_dbs_info", OP_CLASS_ENUMERATE, "", true, false},
    {"GET", "/_membership", "_membership", OP_CLASS_ENUMERATE, "", true, false},
    {"GET", "/_up", "_up", OP_CLASS_HANDSHAKE, "", true, false},
    {"GET", "/_stats", "_stats", OP_CLASS_ENUMERATE, "", false, false},
    {"GET", "/_node/_local/_stats/couchdb", "_node/_stats", OP_CLASS_ENUMERATE, "", true, false},
    {"GET", "/_node/nonode@nohost/_config", "_node/_config", OP_CLASS_ENUMERATE, "", true, false},
    {"PUT", "/_node/_local/_config/admins/bob", "_node/_config", OP_CLASS_ADMIN, "", true, false},
    {"GET", "/_config", "_config", OP_CLASS_ENUMERATE, "", true, false},
    {"POST", "/_session", "_session", OP_CLASS_AUTH, "", true, false},
    {"POST", "/_replicate", "_replicate", OP_CLASS_ADMIN, "", true, false},
    {"GET", "/_users/_all_docs", "_all_docs", OP_CLASS_READ, "_users", true, true},
    {"GET", "/_users/org.couchdb.user%3Abob", "doc", OP_CLASS_READ, "_users", true, false},
    {"GET", "/shop", "db_info", OP_CLASS_ENUMERATE, "shop", false, false},
    {"PUT", "/shop", "create_db", OP_CLASS_WRITE, "shop", false, false},
    {"DELETE", "/shop", "delete_db", OP_CLASS_DESTROY, "shop", false, false},
    {"POST", "/shop", "put_doc", OP_CLASS_WRITE, "shop", false, false},
    {"GET", "/shop/_all_docs?include_docs=true", "_all_docs", OP_CLASS_READ, "shop", true, true},
    {"GET", "/shop/_all_docs?startkey=%22a%22&limit=5", "_all_docs", OP_CLASS_READ, "shop", true,
     false},
    {"POST", "/shop/_all_docs", "_all_docs", OP_CLASS_READ, "shop", true, true},
    {"GET", "/shop/_design_docs", "_design_docs", OP_CLASS_ENUMERATE, "shop", true, false},
    {"POST", "/shop/_find", "_find", OP_CLASS_READ, "shop", true, false},
    {"GET", "/shop/_changes?feed=continuous", "_changes", OP_CLASS_READ, "shop", true, true},
    {"GET", "/shop/_changes?filter=app%2Fmine", "_changes", OP_CLASS_READ, "shop", true, false},
    {"POST", "/shop/_bulk_get", "_bulk_get", OP_CLASS_READ, "shop", true, false},
    {"POST", "/shop/_bulk_docs", "_bulk_docs", OP_CLASS_WRITE, "shop", true, false},
    {"POST", "/shop/_purge", "_purge", OP_CLASS_DESTROY, "shop", true, false},
    {"GET", "/shop/_design/app/_view/by_date?limit=10", "_view", OP_CLASS_READ, "shop", true,
     false},
    {"GET", "/shop/_design/app", "_design", OP_CLASS_READ, "shop", true, false},
    {"DELETE", "/shop/_design/app", "delete_design", OP_CLASS_DESTROY, "shop", true, false},
    {"GET", "/shop/c00042", "doc", OP_CLASS_READ, "shop", false, false},
    {"PUT", "/shop/c00042", "put_doc", OP_CLASS_WRITE, "shop", false, false},
    {"DELETE", "/shop/c00042?rev=1-ab", "delete_doc", OP_CLASS_DESTROY, "shop", false, false},
    {"GET", "/shop/c00042/photo.jpg", "attachment", OP_CLASS_READ, "shop", false, false},
    {"GET", "/shop/_local/x", "doc", OP_CLASS_READ, "shop", true, false},
    {"GET", "/_foo", "_foo", OP_CLASS_UNKNOWN, "", false, false},
    {"GET", "/my%2Fdb/_all_docs", "_all_docs", OP_CLASS_READ, "my/db", true, true},
};

static void test_classify_table(void)
{
    for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
        const struct classify_case *c = &classify_cases[i];
        struct couch_call call;
        couch_classify(SPAN(c->method), SPAN(c->target), &call);
        if (strcmp(call.name, c->name) != 0 || call.op_class != c->op_class ||
            strcmp(call.target, c->db) != 0 || call.own_api != c->own ||
            call.match_all != c->match_all)
            fprintf(stderr, "case %zu: %s %s\n", i, c->method, c->target);
        CHECK_EQ_STR(call.name, c->name);
        CHECK_EQ_INT(call.op_class, c->op_class);
        CHECK_EQ_STR(call.target, c->db);
        CHECK_EQ_INT(call.own_api, c->own);
        CHECK_EQ_INT(call.match_all, c->match_all);
    }
}

static void test_classify_query(void)
{
    struct couch_call call;
    couch_classify(SPAN("GET"), SPAN("/db/_all_docs?limit=1000&skip=2000&include_docs=true"),
                   &call);
    CHECK_EQ_INT(call.limit, 1000);
    CHECK_EQ_INT(call.skip, 2000);
    CHECK_EQ_INT(call.kind, COUCH_KIND_ROWS);

    char h[OP_CONT_MAX];
    op_continuation_hash("12-g1AAAA", 9, h);
    couch_classify(SPAN("GET"), SPAN("/db/_changes?since=12-g1AAAA&feed=longpoll"), &call);
    CHECK(call.continues);
    CHECK_EQ_STR(call.continuation, h);
    CHECK_EQ_INT(call.feed, COUCH_FEED_LONGPOLL);
    couch_classify(SPAN("GET"), SPAN("/db/_changes?since=0"), &call);
    CHECK(!call.continues);
    couch_classify(SPAN("GET"), SPAN("/db/_changes?since=now&feed=eventsource"), &call);
    CHECK(!call.continues);
    CHECK_EQ_INT(call.feed, COUCH_FEED_EVENTSOURCE);
    /* since only means something to _changes */
    couch_classify(SPAN("GET"), SPAN("/db/_all_docs?since=5"), &call);
    CHECK(!call.has_continuation);
}

static void test_server_head(void)
{
    struct http_head h;
    static const char couch[] = "HTTP/1.1 200 OK\r\nServer: CouchDB/3.3.2 (Erlang OTP/24)\r\n\r\n";
    static const char reqid[] = "HTTP/1.1 200 OK\r\nX-Couch-Request-ID: 5a3b\r\n\r\n";
    static const char other[] = "HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n";
    CHECK(http_parse_response_head(couch, strlen(couch), &h) > 0 && couch_server_head(&h));
    CHECK(http_parse_response_head(reqid, strlen(reqid), &h) > 0 && couch_server_head(&h));
    CHECK(http_parse_response_head(other, strlen(other), &h) > 0 && !couch_server_head(&h));
}

/* ------------------------------------------------------------ end to end */

static char *response(const char *head, const char *body)
{
    size_t n = strlen(head) + strlen(body) + 64;
    char *s = malloc(n);
    if (s != NULL)
        snprintf(s, n, "%sContent-Length: %zu\r\n\r\n%s", head, strlen(body), body);
    return s;
}

static const char all_docs_body[] =
    "{\"total_rows\":5,\"offset\":0,\"rows\":[\n"
    "{\"id\":\"a\",\"key\":\"a\",\"value\":{\"rev\":\"1-x\"},\"doc\":{\"_id\":\"a\",\"rows\":[1,2]}},\n"
    "{\"id\":\"b\",\"key\":\"b\",\"value\":{\"rev\":\"1-x\"},\"doc\":{\"_id\":\"b\",\"total_rows\":9}},\n"
    "{\"id\":\"c\",\"key\":\"c\",\"value\":{\"rev\":\"1-x\"},\"doc\":{\"_id\":\"c\"}}\n"
    "]}\n";

/* Pipelined: _all_docs dump, _find with a bookmark, _changes normal, a
 * 404 with an error, and a doc GET. */
static void test_keep_alive_every_split(void)
{
    char *r1 = response("HTTP/1.1 200 OK\r\nServer: CouchDB/3.3.2\r\nContent-Type: application/json\r\n",
                        all_docs_body);
    char *r2 = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                        "{\"docs\":[{\"_id\":\"a\"},{\"_id\":\"b\"}],\"bookmark\":\"g1AAAAB\"}");
    char *r3 = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                        "{\"results\":[{\"seq\":\"1-g\",\"id\":\"a\",\"changes\":[]},"
                        "{\"seq\":\"2-g\",\"id\":\"b\",\"changes\":[]}],\"last_seq\":\"2-g\",\"pending\":0}");
    char *r4 = response("HTTP/1.1 404 Object Not Found\r\nContent-Type: application/json\r\n",
                        "{\"error\":\"not_found\",\"reason\":\"missing\"}");
    char *r5 = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                        "{\"_id\":\"a\",\"_rev\":\"1-x\",\"secret\":\"hunter2\"}");
    static const char find_req[] =
        "POST /shop/_find HTTP/1.1\r\nHost: db\r\nContent-Type: application/json\r\n"
        "Authorization: Basic YWRtaW46aHVudGVyMg==\r\nContent-Length: 65\r\n\r\n"
        "{\"selector\":{\"x\":{\"$gt\":1}},\"limit\":2,\"skip\":4,\"bookmark\":\"g1AA\"}";
    const struct session_step steps[] = {
        {DIR_TO_SERVER, "GET /shop/_all_docs?include_docs=true HTTP/1.1\r\nHost: db\r\n"
                        "User-Agent: nano/11\r\n\r\n"},
        {DIR_TO_SERVER, find_req},
        {DIR_TO_SERVER, "GET /shop/_changes?since=1-g HTTP/1.1\r\nHost: db\r\n\r\n"},
        {DIR_TO_SERVER, "GET /nope HTTP/1.1\r\nHost: db\r\n\r\n"},
        {DIR_TO_SERVER, "GET /shop/a HTTP/1.1\r\nCookie: AuthSession=abc\r\n\r\n"},
        {DIR_TO_CLIENT, r1}, {DIR_TO_CLIENT, r2}, {DIR_TO_CLIENT, r3},
        {DIR_TO_CLIENT, r4}, {DIR_TO_CLIENT, r5},
    };
    char h_bm_in[OP_CONT_MAX], h_bm_out[OP_CONT_MAX], h_since[OP_CONT_MAX], h_last[OP_CONT_MAX];
    op_continuation_hash("g1AA", 4, h_bm_in);
    op_continuation_hash("g1AAAAB", 7, h_bm_out);
    op_continuation_hash("1-g", 3, h_since);
    op_continuation_hash("2-g", 3, h_last);
    static struct session s;
    size_t total = 0;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        total += strlen(steps[i].text);
    for (size_t piece = 1; piece <= total; piece += piece < 40 ? 1 : 97) {
        session_run(&s, &couchdb_decoder, steps, sizeof(steps) / sizeof(steps[0]), piece);
        CHECK_EQ_INT(s.count, 5);
        if (s.count != 5)
            return;
        const struct op_record *a = &s.ops[0], *f = &s.ops[1], *c = &s.ops[2], *e = &s.ops[3],
                               *d = &s.ops[4];
        CHECK_EQ_STR(a->op, "_all_docs");
        CHECK_EQ_INT(a->app, APP_COUCHDB);
        CHECK_EQ_INT(a->items, 3);
        CHECK_EQ_INT(a->total, 5);
        CHECK(a->flags & OP_FLAG_MATCH_ALL);
        CHECK_EQ_INT(a->authenticated, OP_AUTH_NO);
        CHECK_EQ_STR(a->client_id, "nano/11");
        CHECK_EQ_STR(f->op, "_find");
        CHECK_EQ_INT(f->items, 2);
        CHECK_EQ_INT(f->page_size, 2);
        CHECK_EQ_INT(f->offset, 4);
        CHECK(!(f->flags & OP_FLAG_MATCH_ALL));
        CHECK(f->flags & OP_FLAG_CONTINUES);
        CHECK_EQ_STR(f->continuation, h_bm_in);
        CHECK_EQ_STR(f->cursor_out, h_bm_out);
        CHECK_EQ_INT(f->authenticated, OP_AUTH_YES);
        CHECK_EQ_STR(f->auth_scheme, "basic");
        CHECK_EQ_STR(c->op, "_changes");
        CHECK_EQ_INT(c->items, 2);
        CHECK_EQ_STR(c->continuation, h_since);
        CHECK_EQ_STR(c->cursor_out, h_last);
        CHECK_EQ_STR(e->op, "db_info");
        CHECK_EQ_INT(e->status, OP_STATUS_ERROR);
        CHECK_EQ_STR(e->error_type, "not_found");
        CHECK_EQ_INT(e->total, -1);
        CHECK_EQ_STR(d->op, "doc");
        CHECK_EQ_INT(d->items, 1);
        CHECK_EQ_INT(d->authenticated, OP_AUTH_YES);
        for (size_t i = 0; i < s.count; i++) {
            CHECK(!(s.ops[i].flags & (OP_FLAG_PARTIAL | OP_FLAG_NO_RESPONSE)));
            CHECK(memmem(&s.ops[i], sizeof(s.ops[i]), "hunter2", 7) == NULL);
            CHECK(memmem(&s.ops[i], sizeof(s.ops[i]), "YWRtaW46", 8) == NULL);
        }
    }
    free(r1); free(r2); free(r3); free(r4); free(r5);
}

/* _find with an empty selector reads everything; POST _all_docs with keys
 * does not, and asks for as many documents as keys. */
static void test_request_bodies(void)
{
    static const char find_all[] =
        "POST /db/_find HTTP/1.1\r\nContent-Length: 29\r\n\r\n{\"selector\":{},\"limit\":10000}";
    static const char keys[] =
        "POST /db/_all_docs HTTP/1.1\r\nContent-Length: 26\r\n\r\n{\"keys\":[\"a\",\"b\",\"c\",\"d\"]}";
    char *r = response("HTTP/1.1 200 OK\r\n", "{\"total_rows\":9,\"rows\":[{},{}]}");
    const struct session_step steps[] = {
        {DIR_TO_SERVER, find_all}, {DIR_TO_CLIENT, r}, {DIR_TO_SERVER, keys}, {DIR_TO_CLIENT, r},
    };
    static struct session s;
    for (size_t piece = 1; piece < 80; piece++) {
        session_run(&s, &couchdb_decoder, steps, 4, piece);
        CHECK_EQ_INT(s.count, 2);
        if (s.count != 2)
            break;
        CHECK(s.ops[0].flags & OP_FLAG_MATCH_ALL);
        CHECK_EQ_INT(s.ops[0].page_size, 10000);
        CHECK(!(s.ops[1].flags & OP_FLAG_MATCH_ALL));
        CHECK_EQ_INT(s.ops[1].page_size, 4);
        CHECK_EQ_INT(s.ops[1].items, 2);
        CHECK_EQ_INT(s.ops[1].total, 9);
    }
    free(r);
}

/* A continuous feed is counted line by line and emitted, partial, when the
 * flow ends under it; an eventsource feed by its data: lines. */
static void test_feeds(void)
{
    const struct session_step cont[] = {
        {DIR_TO_SERVER, "GET /db/_changes?feed=continuous HTTP/1.1\r\n\r\n"},
        {DIR_TO_CLIENT, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                        "Content-Type: application/json\r\n\r\n"
                        "2d\r\n{\"seq\":1,\"id\":\"a\",\"changes\":[{\"rev\":\"1-a\"}]}\n\r\n"
                        "2d\r\n{\"seq\":2,\"id\":\"b\",\"changes\":[{\"rev\":\"1-b\"}]}\n\r\n"
                        "1\r\n\n\r\n"},
    };
    const struct session_step events[] = {
        {DIR_TO_SERVER, "GET /db/_changes?feed=eventsource HTTP/1.1\r\n\r\n"},
        {DIR_TO_CLIENT, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n"
                        "20\r\ndata: {\"seq\":1,\"id\":\"a\"}\nid: 1\n\n\r\n"
                        "20\r\ndata: {\"seq\":2,\"id\":\"b\"}\nid: 2\n\n\r\n"
                        "1\r\n\n\r\n"
                        "0\r\n\r\n"},
    };
    /* PouchDB Server answers feed=eventsource with a normal feed */
    const struct session_step normal[] = {
        {DIR_TO_SERVER, "GET /db/_changes?feed=eventsource&since=0 HTTP/1.1\r\n\r\n"},
        {DIR_TO_CLIENT, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Content-Length: 65\r\n\r\n"
                        "{\"results\":[{\"id\":\"a\",\"seq\":1},{\"id\":\"b\",\"seq\":2}],\"last_seq\":2}\n"},
    };
    static struct session s;
    for (size_t piece = 1; piece < 60; piece++) {
        session_run(&s, &couchdb_decoder, normal, 2, piece);
        CHECK_EQ_INT(s.count, 1);
        CHECK_EQ_INT(s.ops[0].items, 2);
        CHECK(!(s.ops[0].flags & OP_FLAG_PARTIAL));
        session_run(&s, &couchdb_decoder, cont, 2, piece);
        CHECK_EQ_INT(s.count, 1);
        CHECK_EQ_INT(s.ops[0].items, 2);
        CHECK(s.ops[0].flags & OP_FLAG_PARTIAL);
        session_run(&s, &couchdb_decoder, events, 2, piece);
        CHECK_EQ_INT(s.count, 1);
        CHECK_EQ_INT(s.ops[0].items, 2);
        CHECK(!(s.ops[0].flags & OP_FLAG_PARTIAL));
    }
}

/* A gap in the middle of a response body: the op is partial and what was
 * counted before the hole stays. */
static void test_gap_in_body(void)
{
    static struct session s;
    char *r = response("HTTP/1.1 200 OK\r\n", all_docs_body);
    session_open(&s, &couchdb_decoder);
    static const char req[] = "GET /shop/_all_docs HTTP/1.1\r\n\r\n";
    session_send(&s, DIR_TO_SERVER, req, strlen(req), 1000);
    const char *body = strstr(r, "\r\n\r\n") + 4;
    size_t head = (size_t)(body - r);
    const char *cut = strstr(body, "{\"id\":\"b\"");
    session_send(&s, DIR_TO_CLIENT, r, (size_t)(cut - r), 7);
    s.dec->gap(s.state, &s.ctx, DIR_TO_CLIENT, 20);
    size_t rest = (size_t)(cut - r) + 20;
    session_send(&s, DIR_TO_CLIENT, r + rest, strlen(r) - rest, 5);
    s.dec->close(s.state, &s.ctx);
    CHECK_EQ_INT(s.count, 1);
    CHECK(s.ops[0].flags & OP_FLAG_PARTIAL);
    CHECK_EQ_INT(s.ops[0].items, 1);
    CHECK_EQ_INT(s.ops[0].total, 5);
    CHECK_EQ_INT(s.ops[0].response_bytes, strlen(r));
    (void)head;
    free(r);
}

/* ------------------------------------------------------------ the "http" decoder */

/* nmap's couchdb-stats probe: /_stats is an Elasticsearch API too; the
 * server's Server header decides. */
static void test_http_stats_probe(void)
{
    static const char req[] = "GET /_stats HTTP/1.1\r\nHost: x\r\nUser-Agent: Nmap\r\n\r\n";
    char *couch = response("HTTP/1.1 200 OK\r\nServer: CouchDB/1.6.1 (Erlang OTP/R16B03)\r\n"
                           "Content-Type: text/plain; charset=utf-8\r\n",
                           "{\"couchdb\":{\"request_time\":{}}}");
    char *es = response("HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\n"
                        "content-type: application/json\r\n",
                        "{\"_shards\":{\"total\":1},\"_all\":{}}");
    static struct session s;
    for (size_t piece = 1; piece < 90; piece += 3) {
        const struct session_step a[] = {
            {DIR_TO_SERVER, req}, {DIR_TO_CLIENT, couch},
            {DIR_TO_SERVER, "GET /mydb HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, es + 0},
        };
        session_run(&s, &http_decoder, a, 2, piece);
        CHECK_EQ_INT(s.count, 1);
        CHECK_EQ_INT(s.ops[0].app, APP_COUCHDB);
        CHECK_EQ_STR(s.ops[0].op, "_stats");
        CHECK_EQ_INT(s.ops[0].op_class, OP_CLASS_ENUMERATE);
        CHECK_EQ_INT(s.ops[0].authenticated, OP_AUTH_NO);
        const struct session_step b[] = { {DIR_TO_SERVER, req}, {DIR_TO_CLIENT, es} };
        session_run(&s, &http_decoder, b, 2, piece);
        CHECK_EQ_INT(s.count, 1);
        CHECK_EQ_INT(s.ops[0].app, APP_ELASTICSEARCH);
        CHECK_EQ_STR(s.ops[0].op, "_stats");
        (void)a;
    }
    free(couch);
    free(es);
}

/* The banner shows CouchDB: the / op is read again as CouchDB's, and the
 * flow's next ops (a plain database info, not a CouchDB-only path) are
 * CouchDB's. Without the banner that op stays plain HTTP. */
static void test_http_banner(void)
{
    char *welcome = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                             "{\"couchdb\":\"Welcome\",\"version\":\"3.3.2\"}");
    char *info = response("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n",
                          "{\"db_name\":\"shop\",\"doc_count\":42}");
    char *page = response("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", "<html></html>");
    const struct session_step steps[] = {
        {DIR_TO_SERVER, "GET / HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, welcome},
        {DIR_TO_SERVER, "GET /shop HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, info},
    };
    const struct session_step plain[] = {
        {DIR_TO_SERVER, "GET / HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, page},
        {DIR_TO_SERVER, "GET /shop HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, info},
    };
    static struct session s;
    for (size_t piece = 1; piece < 70; piece++) {
        session_run(&s, &http_decoder, steps, 4, piece);
        CHECK_EQ_INT(s.count, 2);
        CHECK_EQ_INT(s.ops[0].app, APP_COUCHDB);
        CHECK_EQ_STR(s.ops[0].op, "banner");
        CHECK_EQ_INT(s.ops[1].app, APP_COUCHDB);
        CHECK_EQ_STR(s.ops[1].op, "db_info");
        CHECK_EQ_INT(s.ops[1].total, 42);
        session_run(&s, &http_decoder, plain, 4, piece);
        CHECK_EQ_INT(s.count, 2);
        CHECK_EQ_INT(s.ops[0].app, APP_HTTP);
        CHECK_EQ_INT(s.ops[1].app, APP_HTTP);
        CHECK_EQ_STR(s.ops[1].op, "GET");
        CHECK_EQ_INT(s.ops[1].total, -1);
    }
    free(welcome);
    free(info);
    free(page);
}

/* Once the server showed it is Elasticsearch, a CouchDB-looking path does
 * not take the flow; before that, it does. */
static void test_http_claims_frozen(void)
{
    char *es = response("HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\n"
                        "content-type: application/json\r\n", "{\"count\":3}");
    char *list = response("HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n",
                          "[\"a\",\"b\"]");
    const struct session_step shown[] = {
        {DIR_TO_SERVER, "GET /idx/_count HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, es},
        {DIR_TO_SERVER, "GET /_all_dbs HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, list},
    };
    const struct session_step unknown[] = {
        {DIR_TO_SERVER, "GET /_all_dbs HTTP/1.1\r\n\r\n"}, {DIR_TO_CLIENT, list},
    };
    static struct session s;
    session_run(&s, &http_decoder, shown, 4, 1000);
    CHECK_EQ_INT(s.count, 2);
    CHECK_EQ_INT(s.ops[0].app, APP_ELASTICSEARCH);
    CHECK_EQ_INT(s.ops[1].app, APP_ELASTICSEARCH);
    CHECK_EQ_STR(s.ops[1].op, "_all_dbs");
    session_run(&s, &http_decoder, unknown, 2, 1000);
    CHECK_EQ_INT(s.count, 1);
    CHECK_EQ_INT(s.ops[0].app, APP_COUCHDB);
    CHECK_EQ_INT(s.ops[0].items, 2);
    free(es);
    free(list);
}

/* Pipelined across a change of hands: the second request was read by
 * Elasticsearch (its path is an ES API) before the first answer showed
 * CouchDB; both ops end up CouchDB's, the second with nothing of ES's. */
static void test_http_pipelined_switch(void)
{
    char *dbs = response("HTTP/1.1 200 OK\r\nServer: CouchDB/3.3.2\r\n", "[\"a\",\"b\",\"c\"]");
    char *err = response("HTTP/1.1 400 Bad Request\r\n", "{\"error\":\"bad_request\"}");
    const struct session_step steps[] = {
        {DIR_TO_SERVER, "GET /_all_dbs HTTP/1.1\r\n\r\n"},
        {DIR_TO_SERVER, "GET /idx/_search?size=10&q=*:* HTTP/1.1\r\n\r\n"},
        {DIR_TO_CLIENT, dbs}, {DIR_TO_CLIENT, err},
    };
    static struct session s;
    for (size_t piece = 1; piece < 60; piece++) {
        session_run(&s, &http_decoder, steps, 4, piece);
        CHECK_EQ_INT(s.count, 2);
        if (s.count != 2)
            break;
        CHECK_EQ_INT(s.ops[0].app, APP_COUCHDB);
        CHECK_EQ_INT(s.ops[0].items, 3);
        CHECK_EQ_INT(s.ops[1].app, APP_COUCHDB);
        CHECK_EQ_STR(s.ops[1].op, "_search");
        CHECK_EQ_INT(s.ops[1].op_class, OP_CLASS_UNKNOWN);
        CHECK_EQ_INT(s.ops[1].page_size, -1);
        CHECK(!(s.ops[1].flags & OP_FLAG_MATCH_ALL));
        CHECK_EQ_STR(s.ops[1].error_type, "bad_request");
    }
    free(dbs);
    free(err);
}

int main(void)
{
    check_binary = "couchdb";
    RUN(test_classify_table);
    RUN(test_classify_query);
    RUN(test_server_head);
    RUN(test_keep_alive_every_split);
    RUN(test_request_bodies);
    RUN(test_feeds);
    RUN(test_gap_in_body);
    RUN(test_http_stats_probe);
    RUN(test_http_banner);
    RUN(test_http_claims_frozen);
    RUN(test_http_pipelined_switch);
    CHECK_EXIT();
}
