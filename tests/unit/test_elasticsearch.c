/* test_elasticsearch.c - the Elasticsearch classifier and observer.
 *
 * The classifier is checked as a table. The observer is driven two ways:
 * directly, with heads parsed from text by the pure HTTP parsers and ops
 * filled as the framer fills them; and end to end, through the framer
 * (the "elasticsearch" decoder) on a keep-alive connection. */
#include <stdlib.h>

#include "../../decoders/elasticsearch/elasticsearch.h"
#include "../../decoders/json/json_scan.h"
#include "check.h"

#define SPAN(text) ((struct http_span){ (text), strlen(text) })

static void hash_of(const char *id, char out[OP_CONT_MAX])
{
    es_cursor_hash(id, strlen(id), out);
}

/* ------------------------------------------------------------ classifier */

static void classify(const char *method, const char *target, struct es_call *call)
{
    es_classify_target(SPAN(method), SPAN(target), call);
}

struct classify_case {
    const char *method, *target;
    const char *name;           /* "" : not an ES call (method kept) */
    enum op_class op_class;
    const char *index;
    bool api;
};

static const struct classify_case classify_cases[] = {
    {"GET", "/", "banner", OP_CLASS_HANDSHAKE, "", false},
    {"HEAD", "/", "banner", OP_CLASS_HANDSHAKE, "", false},
    {"POST", "/", "", OP_CLASS_UNKNOWN, "", false},
    {"GET", "/_search", "_search", OP_CLASS_READ, "", true},
    {"POST", "/logs/_search?size=100", "_search", OP_CLASS_READ, "logs", true},
    {"GET", "/logs-*,metrics/_search", "_search", OP_CLASS_READ, "logs-*,metrics", true},
    {"GET", "/_all/_search", "_search", OP_CLASS_READ, "_all", true},
    {"GET", "/%3Clogs-%7Bnow%2Fd%7D%3E/_search", "_search", OP_CLASS_READ, "<logs-{now/d}>", true},
    {"GET", "http://es:9200/idx/_search?q=a", "_search", OP_CLASS_READ, "idx", true},
    {"POST", "/idx/_search/template", "_search/template", OP_CLASS_READ, "idx", true},
    {"POST", "/_search/scroll", "_search/scroll", OP_CLASS_READ, "", true},
    {"GET", "/_search/scroll/c2Nyb2xs", "_search/scroll", OP_CLASS_READ, "", true},
    {"DELETE", "/_search/scroll", "_search/scroll:clear", OP_CLASS_READ, "", true},
    {"DELETE", "/_search/scroll/_all", "_search/scroll:clear", OP_CLASS_READ, "", true},
    {"POST", "/idx/_pit?keep_alive=1m", "_pit", OP_CLASS_READ, "idx", true},
    {"DELETE", "/_pit", "_pit:close", OP_CLASS_READ, "", true},
    {"POST", "/idx/_search/point_in_time?keep_alive=1m", "_pit", OP_CLASS_READ, "idx", true},
    {"DELETE", "/_search/point_in_time", "_pit:close", OP_CLASS_READ, "", true},
    {"POST", "/_msearch", "_msearch", OP_CLASS_READ, "", true},
    {"GET", "/idx/_count", "_count", OP_CLASS_READ, "idx", true},
    {"GET", "/_cat/indices?v", "_cat/indices", OP_CLASS_ENUMERATE, "", true},
    {"GET", "/_cat/indices/logs-*", "_cat/indices", OP_CLASS_ENUMERATE, "logs-*", true},
    {"GET", "/_cat/shards", "_cat/shards", OP_CLASS_ENUMERATE, "", true},
    {"GET", "/_cat", "_cat", OP_CLASS_ENUMERATE, "", true},
    {"GET", "/_nodes", "_nodes", OP_CLASS_HANDSHAKE, "", true},
    {"GET", "/_nodes/stats", "_nodes", OP_CLASS_ENUMERATE, "", true},
    {"GET", "/_nodes/n1/stats/jvm", "_nodes", OP_CLASS_ENUMERATE, "", true},
    {"GET", "/_cluster/health", "_cluster/health", OP_CLASS_HANDSHAKE, "", true},
    {"GET", "/_cluster/state", "_cluster/state", OP_CLASS_ENUMERATE, "", true},
    {"GET", "/_cluster/settings", "_cluster/settings", OP_CLASS_ADMIN, "", true},
    {"PUT", "/_cluster/settings", "_cluster/settings", OP_CLASS_ADMIN, "", true},
    {"POST", "/_cluster/reroute", "_cluster/reroute", OP_CLASS_ADMIN, "", true},
    {"GET", "/idx/_mapping", "_mapping", OP_CLASS_ENUMERATE, "idx", true},
    {"PUT", "/idx/_mapping", "_mapping", OP_CLASS_WRITE, "idx", true},
    {"GET", "/idx/_settings", "_settings", OP_CLASS_ENUMERATE, "idx", true},
    {"PUT", "/idx/_settings", "_settings", OP_CLASS_ADMIN, "idx", true},
    {"GET", "/_aliases", "_aliases", OP_CLASS_ENUMERATE, "", true},
    {"GET", "/_alias/current", "_alias", OP_CLASS_ENUMERATE, "", true},
    {"GET", "/_stats", "_stats", OP_CLASS_ENUMERATE, "", true},
    {"GET", "/idx/_field_caps?fields=*", "_field_caps", OP_CLASS_ENUMERATE, "idx", true},
    {"GET", "/idx/_doc/1", "_doc", OP_CLASS_READ, "idx", true},
    {"GET", "/idx/_source/1", "_doc", OP_CLASS_READ, "idx", true},
    {"PUT", "/idx/_doc/1", "index", OP_CLASS_WRITE, "idx", true},
    {"POST", "/idx/_doc", "index", OP_CLASS_WRITE, "idx", true},
    {"PUT", "/idx/_create/1", "index", OP_CLASS_WRITE, "idx", true},
    {"POST", "/idx/_update/1", "index", OP_CLASS_WRITE, "idx", true},
    {"DELETE", "/idx/_doc/1", "delete_doc", OP_CLASS_DESTROY, "idx", true},
    {"DELETE", "/idx", "delete_index", OP_CLASS_DESTROY, "idx", false},
    {"DELETE", "/_all", "delete_index", OP_CLASS_DESTROY, "_all", false},
    {"DELETE", "/%2A", "delete_index", OP_CLASS_DESTROY, "*", false},
    {"PUT", "/new-index", "create_index", OP_CLASS_WRITE, "new-index", false},
    {"GET", "/idx", "get_index", OP_CLASS_ENUMERATE, "idx", false},
    {"GET", "/idx/type/1", "_doc", OP_CLASS_READ, "idx", false},
    {"PUT", "/idx/type/1", "index", OP_CLASS_WRITE, "idx", false},
    {"DELETE", "/idx/type/1", "delete_doc", OP_CLASS_DESTROY, "idx", false},
    {"GET", "/idx/type/_search", "_search", OP_CLASS_READ, "idx", true},
    {"GET", "/idx/_doc/_search", "_search", OP_CLASS_READ, "idx", true},
    {"POST", "/_mget", "_mget", OP_CLASS_READ, "", true},
    {"POST", "/idx/_bulk", "_bulk", OP_CLASS_WRITE, "idx", true},
    {"POST", "/idx/_delete_by_query", "_delete_by_query", OP_CLASS_DESTROY, "idx", true},
    {"DELETE", "/idx/_query", "_delete_by_query", OP_CLASS_DESTROY, "idx", true},
    {"POST", "/idx/_update_by_query", "_update_by_query", OP_CLASS_WRITE, "idx", true},
    {"POST", "/_reindex", "_reindex", OP_CLASS_WRITE, "", true},
    {"PUT", "/_snapshot/backup", "_snapshot", OP_CLASS_ADMIN, "", true},
    {"GET", "/_security/user", "_security/user", OP_CLASS_ADMIN, "", true},
    {"GET", "/_license", "_license", OP_CLASS_ADMIN, "", true},
    {"GET", "/_xpack", "_xpack", OP_CLASS_ADMIN, "", true},
    {"GET", "/_tasks", "_tasks", OP_CLASS_ADMIN, "", true},
    {"POST", "/_sql?format=json", "_sql", OP_CLASS_READ, "", true},
    {"POST", "/idx/_async_search", "_async_search", OP_CLASS_READ, "idx", true},
    {"GET", "/_foo", "_foo", OP_CLASS_UNKNOWN, "", false},
    {"GET", "/_next/static/app.js", "_next", OP_CLASS_UNKNOWN, "", false},
    {"POST", "/api/console/proxy?path=%2Flogs%2F_search%3Fsize%3D5&method=GET", "_search",
     OP_CLASS_READ, "logs", true},
    {"POST", "/api/console/proxy?path=_cat%2Findices&method=GET", "_cat/indices",
     OP_CLASS_ENUMERATE, "", true},
    {"POST", "/api/console/proxy?uri=http%3A%2F%2Flocalhost%3A9200%2Fidx&method=DELETE",
     "delete_index", OP_CLASS_DESTROY, "idx", true},
};

static void test_classify_table(void)
{
    for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
        const struct classify_case *c = &classify_cases[i];
        struct es_call call;
        classify(c->method, c->target, &call);
        bool ok = strcmp(call.name, c->name) == 0 && call.op_class == c->op_class &&
                  strcmp(call.target, c->index) == 0 && call.api == c->api;
        if (!ok)
            fprintf(stderr, "case %zu: %s %s -> \"%s\" %s \"%s\" api=%d\n", i, c->method,
                    c->target, call.name, op_class_name(call.op_class), call.target,
                    call.api);
        CHECK(ok);
    }
    CHECK(sizeof(classify_cases) / sizeof(classify_cases[0]) >= 40);
}

static void test_classify_query(void)
{
    struct es_call call;
    char h[OP_CONT_MAX];

    classify("GET", "/idx/_search?size=250&from=1000&q=*:*", &call);
    CHECK_EQ_INT(call.size, 250);
    CHECK_EQ_INT(call.from, 1000);
    CHECK(call.q_present && call.match_all);
    classify("GET", "/idx/_search?q=%2A", &call);
    CHECK(call.match_all);
    classify("GET", "/idx/_search?q=*%3A*", &call);
    CHECK(call.match_all);
    classify("GET", "/idx/_search?q=user:bob&size=x1", &call);
    CHECK(call.q_present && !call.match_all);
    CHECK_EQ_INT(call.size, -1);
    CHECK(call.match_all_if_no_query);

    classify("GET", "/_search/scroll?scroll=1m&scroll_id=DXF1ZXJ5%2BQW5k%3D", &call);
    hash_of("DXF1ZXJ5+QW5k=", h);
    CHECK(call.continues && call.has_continuation);
    CHECK_EQ_STR(call.continuation, h);
    classify("GET", "/_search/scroll/DXF1ZXJ5", &call);
    hash_of("DXF1ZXJ5", h);
    CHECK(call.continues);
    CHECK_EQ_STR(call.continuation, h);
    classify("DELETE", "/_search/scroll?scroll_id=abc", &call);
    hash_of("abc", h);
    CHECK(!call.continues && call.has_continuation);
    CHECK_EQ_STR(call.continuation, h);
    classify("DELETE", "/_search/scroll/_all", &call);
    CHECK(!call.has_continuation);
    classify("GET", "/_async_search/FmRldE8zREVEUzA2", &call);
    CHECK(call.continues && !call.match_all_if_no_query);

    classify("GET", "/_cat/indices?format=json&bytes=b", &call);
    CHECK_EQ_INT(call.format, ES_FORMAT_JSON);
    CHECK(!call.cat_header && !call.cat_columns_given);
    classify("GET", "/_cat/indices?v&h=index,docs.count,store.size", &call);
    CHECK(call.cat_header && call.cat_columns_given);
    CHECK_EQ_INT(call.cat_columns, 3);
    CHECK_EQ_INT(call.cat_docs_column, 1);
    classify("GET", "/_cat/indices?h=i,dc", &call);
    CHECK_EQ_INT(call.cat_docs_column, 1);
    classify("GET", "/_cat/indices?h=i*", &call);
    CHECK_EQ_INT(call.cat_columns, 0);
    CHECK_EQ_INT(call.cat_docs_column, -1);
    classify("GET", "/_cat/indices?v=false", &call);
    CHECK(!call.cat_header);

    /* the index part is capped, one byte over, so the op is marked truncated */
    char target[400] = "/";
    memset(target + 1, 'x', 300);
    strcpy(target + 301, "/_search");
    classify("GET", target, &call);
    CHECK_EQ_INT(call.target_len, OP_TARGET_MAX);
    struct op_record op;
    op_record_init(&op, APP_ELASTICSEARCH);
    op_set_string(&op, op.target, sizeof(op.target), call.target, call.target_len);
    CHECK(op.flags & OP_FLAG_TRUNCATED);
    CHECK_EQ_INT(strlen(op.target), OP_TARGET_MAX - 1);
}

static void test_classify_kibana(void)
{
    struct es_call call;
    classify("POST", "/api/console/proxy?path=%2Fidx%2F_search%3Fq%3D*%253A*%26size%3D10"
             "&method=GET", &call);
    CHECK(call.via_kibana && call.api);
    CHECK_EQ_STR(call.name, "_search");
    CHECK_EQ_STR(call.target, "idx");
    CHECK(call.match_all);
    CHECK_EQ_INT(call.size, 10);
    /* a space prefix (Kibana's basePath) and the Kibana 5 uri= form */
    classify("POST", "/kbn/api/console/proxy?uri=http%3A%2F%2Flocalhost%3A9200%2F_cat%2F"
             "indices%3Fv&method=GET", &call);
    CHECK(call.via_kibana);
    CHECK_EQ_STR(call.name, "_cat/indices");
    CHECK(call.cat_header);
    classify("POST", "/api/console/proxy?method=GET", &call);
    CHECK(call.via_kibana && call.name[0] == '\0');
}

static void test_cursor_hash(void)
{
    char a[OP_CONT_MAX], b[OP_CONT_MAX];
    hash_of("", a);
    CHECK_EQ_STR(a, "cbf29ce484222325");      /* FNV-1a 64 offset basis */
    hash_of("a", a);
    CHECK_EQ_STR(a, "af63dc4c8601ec8c");
    /* ids longer than the scanner's string cap hash by their first bytes */
    char long_a[600], long_b[600];
    memset(long_a, 'q', sizeof(long_a) - 1);
    long_a[sizeof(long_a) - 1] = '\0';
    memcpy(long_b, long_a, sizeof(long_b));
    long_b[500] = 'z';
    hash_of(long_a, a);
    hash_of(long_b, b);
    CHECK_EQ_STR(a, b);
    long_b[10] = 'z';
    hash_of(long_b, b);
    CHECK(strcmp(a, b) != 0);
}

/* ------------------------------------------------------------ observer, direct */

struct es_drive {
    void *st;
    struct decoder_ctx ctx;
    struct http_params params;
    struct stats stats;
    enum app_id app;            /* what the framer gives new ops */
};

static struct es_drive *drive_open(enum app_id app)
{
    struct es_drive *d = calloc(1, sizeof(*d));
    if (d == NULL)
        abort();
    d->st = calloc(1, es_observer.state_size);
    if (d->st == NULL)
        abort();
    d->params.header_max = 16384;
    d->params.pending_max = 16;
    d->params.body_max = 1 << 20;
    decoder_ctx_bind(&d->ctx, &elasticsearch_decoder, &d->params, &d->stats);
    d->app = app;
    return d;
}

static void drive_free(struct es_drive *d)
{
    if (es_observer.close != NULL)
        es_observer.close(d->st);
    free(d->st);
    free(d);
}

/* The body in pieces of `piece` bytes (0: whole). */
typedef void (*body_fn)(void *st, struct decoder_ctx *ctx, struct op_record *op,
                        const uint8_t *buf, size_t len);

static void feed_pieces(struct es_drive *d, body_fn fn, struct op_record *op,
                        const char *body, size_t len, size_t piece)
{
    size_t at = 0;
    if (piece == 0)
        piece = len;
    while (at < len) {
        size_t n = len - at < piece ? len - at : piece;
        fn(d->st, &d->ctx, op, (const uint8_t *)body + at, n);
        at += n;
    }
}

/* A request as the framer shows it: head parsed from text, the op filled
 * the way the framer fills it, then the observer's request calls. */
static void drive_request(struct es_drive *d, struct op_record *op, const char *head_text,
                          const char *body, size_t piece)
{
    struct http_head h;
    size_t len = strlen(head_text);
    CHECK_EQ_INT(http_parse_request_head(head_text, len, &h), len);
    op_record_init(op, d->app);
    struct http_span path = http_target_path(h.target);
    op_set_string(op, op->op, sizeof(op->op), h.method.ptr, h.method.len);
    op_set_string(op, op->http.method, sizeof(op->http.method), h.method.ptr, h.method.len);
    op_set_string(op, op->http.uri, sizeof(op->http.uri), h.target.ptr, h.target.len);
    op_set_string(op, op->target, sizeof(op->target), path.ptr, path.len);
    if (http_head_find(&h, "authorization") != NULL) {
        op->flags |= OP_FLAG_AUTH_HEADER;
        op->authenticated = OP_AUTH_YES;
    }
    es_observer.request_head(d->st, &d->ctx, op, &h);
    if (body != NULL)
        feed_pieces(d, es_observer.request_body, op, body, strlen(body), piece);
    es_observer.request_end(d->st, &d->ctx, op);
}

static void drive_response_split(struct es_drive *d, struct op_record *op,
                                 const char *head_text, const char *body, size_t split)
{
    struct http_head h;
    size_t len = strlen(head_text);
    CHECK_EQ_INT(http_parse_response_head(head_text, len, &h), len);
    op->status_code = h.status;
    op->status = h.status == 401 || h.status == 403 ? OP_STATUS_DENIED
                 : h.status >= 400 ? OP_STATUS_ERROR : OP_STATUS_OK;
    es_observer.response_head(d->st, &d->ctx, op, &h);
    if (body != NULL) {
        size_t n = strlen(body);
        if (split > n)
            split = n;
        if (split > 0)
            es_observer.response_body(d->st, &d->ctx, op, (const uint8_t *)body, split);
        if (n > split)
            es_observer.response_body(d->st, &d->ctx, op, (const uint8_t *)body + split,
                                      n - split);
    }
    es_observer.response_end(d->st, &d->ctx, op);
}

static void drive_response(struct es_drive *d, struct op_record *op, const char *head_text,
                           const char *body)
{
    drive_response_split(d, op, head_text, body, 0);
}

#define JSON_200 "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n"
#define TEXT_200 "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=UTF-8\r\n\r\n"

/* One exchange on a fresh ES-mode flow; the op is left in *op. */
static void exchange(struct op_record *op, const char *req_head, const char *req_body,
                     const char *resp_head, const char *resp_body)
{
    struct es_drive *d = drive_open(APP_ELASTICSEARCH);
    drive_request(d, op, req_head, req_body, 0);
    drive_response(d, op, resp_head, resp_body);
    drive_free(d);
}

#define REQ(method_target) method_target " HTTP/1.1\r\nHost: es\r\n\r\n"
#define REQ_BODY(method_target) method_target " HTTP/1.1\r\nHost: es\r\n" \
    "Content-Type: application/json\r\nContent-Length: 1\r\n\r\n"

static void test_request_body_search(void)
{
    struct op_record op;
    char h[OP_CONT_MAX];
    exchange(&op, REQ_BODY("POST /idx/_search"),
             "{\"size\":500,\"from\":20,\"query\":{\"match_all\":{}}}", JSON_200, "{}");
    CHECK_EQ_STR(op.op, "_search");
    CHECK_EQ_INT(op.app, APP_ELASTICSEARCH);
    CHECK_EQ_INT(op.page_size, 500);
    CHECK_EQ_INT(op.offset, 20);
    CHECK(op.flags & OP_FLAG_MATCH_ALL);
    CHECK(!(op.flags & OP_FLAG_CONTINUES));

    exchange(&op, REQ_BODY("POST /idx/_search"),
             "{\"query\":{\"term\":{\"match_all\":{}}},\"aggs\":{\"size\":{}}}", JSON_200, "{}");
    CHECK(!(op.flags & OP_FLAG_MATCH_ALL));
    CHECK_EQ_INT(op.page_size, -1);

    exchange(&op, REQ("GET /idx/_search"), NULL, JSON_200, "{}");
    CHECK(op.flags & OP_FLAG_MATCH_ALL);            /* no query at all */
    exchange(&op, REQ("GET /idx/_search?q=user:bob"), NULL, JSON_200, "{}");
    CHECK(!(op.flags & OP_FLAG_MATCH_ALL));
    exchange(&op, REQ_BODY("POST /idx/_search"), "{\"query\":{\"match_all\":{", JSON_200, "{}");
    CHECK(op.flags & OP_FLAG_MATCH_ALL);            /* said before the cut */
    exchange(&op, REQ_BODY("POST /idx/_search"), "{\"size\":", JSON_200, "{}");
    CHECK(!(op.flags & OP_FLAG_MATCH_ALL));         /* cut body: unknown */

    exchange(&op, REQ_BODY("POST /_search"),
             "{\"size\":100,\"pit\":{\"id\":\"46ToAwMD\",\"keep_alive\":\"1m\"},"
             "\"search_after\":[1681, \"x\"],\"sort\":[{\"@timestamp\":\"asc\"}]}",
             JSON_200, "{\"pit_id\":\"46ToAwME\",\"hits\":{\"hits\":[]}}");
    hash_of("46ToAwMD", h);
    CHECK_EQ_STR(op.continuation, h);
    CHECK(op.flags & OP_FLAG_CONTINUES);
    CHECK(op.flags & OP_FLAG_MATCH_ALL);
    hash_of("46ToAwME", h);
    CHECK_EQ_STR(op.cursor_out, h);
    CHECK_EQ_INT(op.items, 0);
}

static void test_request_body_cursors(void)
{
    struct op_record op;
    char h[OP_CONT_MAX];
    exchange(&op, REQ_BODY("POST /_search/scroll"), "{\"scroll\":\"1m\",\"scroll_id\":\"SID\"}",
             JSON_200, "{}");
    hash_of("SID", h);
    CHECK_EQ_STR(op.op, "_search/scroll");
    CHECK_EQ_STR(op.continuation, h);
    CHECK(op.flags & OP_FLAG_CONTINUES);
    CHECK(!(op.flags & OP_FLAG_MATCH_ALL));

    exchange(&op, REQ_BODY("DELETE /_search/scroll"), "{\"scroll_id\":[\"A\",\"B\"]}",
             JSON_200, "{\"succeeded\":true,\"num_freed\":2}");
    hash_of("A", h);
    CHECK_EQ_STR(op.op, "_search/scroll:clear");
    CHECK_EQ_STR(op.continuation, h);
    CHECK(!(op.flags & OP_FLAG_CONTINUES));

    exchange(&op, REQ_BODY("DELETE /_pit"), "{\"id\":\"P1\"}", JSON_200, "{}");
    hash_of("P1", h);
    CHECK_EQ_STR(op.op, "_pit:close");
    CHECK_EQ_STR(op.continuation, h);

    exchange(&op, REQ_BODY("POST /_msearch"),
             "{\"index\":\"a\"}\n{\"size\":10,\"query\":{\"match_all\":{}}}\n{}\n{\"size\":5}\n",
             JSON_200, "{}");
    CHECK_EQ_INT(op.page_size, 15);
    CHECK(op.flags & OP_FLAG_MATCH_ALL);

    exchange(&op, REQ_BODY("POST /_sql?format=json"),
             "{\"query\":\"SELECT * FROM logs\",\"fetch_size\":1000}", JSON_200,
             "{\"columns\":[{\"name\":\"a\"}],\"rows\":[[1],[2],[3]],\"cursor\":\"C1\"}");
    CHECK_EQ_INT(op.page_size, 1000);
    CHECK_EQ_INT(op.items, 3);
    hash_of("C1", h);
    CHECK_EQ_STR(op.cursor_out, h);
    exchange(&op, REQ_BODY("POST /_sql?format=json"), "{\"cursor\":\"C1\"}", JSON_200,
             "{\"rows\":[]}");
    CHECK_EQ_STR(op.continuation, h);
    CHECK(op.flags & OP_FLAG_CONTINUES);

    exchange(&op, REQ_BODY("POST /idx/_mget"), "{\"ids\":[\"1\",\"2\",\"3\"]}", JSON_200,
             "{\"docs\":[{\"_id\":\"1\",\"found\":true},{\"_id\":\"2\",\"found\":false},"
             "{\"_id\":\"3\",\"found\":true,\"_source\":{\"found\":true}}]}");
    CHECK_EQ_INT(op.page_size, 3);
    CHECK_EQ_INT(op.items, 2);
}

/* _bulk/_msearch with no index in the path: targets from the action and
 * header lines (documents and search bodies never read for names), distinct,
 * at most 4 names from the first 16 lines. */
static void test_body_targets(void)
{
    struct op_record op;
    exchange(&op, REQ_BODY("POST /_bulk"),
             "{\"index\":{\"_index\":\"orders\",\"_id\":\"1\"}}\n"
             "{\"index\":{\"_index\":\"decoy\"}}\n"           /* a document, not an action */
             "{\"delete\":{\"_index\":\"users\",\"_id\":\"2\"}}\n"
             "{\"create\":{\"_index\":\"orders\"}}\n{\"a\":1}\n"
             "{\"update\":{\"_index\":\"logs\"}}\n{\"doc\":{\"_index\":\"x\"}}\n",
             JSON_200, "{\"took\":1,\"errors\":false,\"items\":[]}");
    CHECK_EQ_STR(op.op, "_bulk");
    CHECK_EQ_STR(op.target, "orders,users,logs");

    exchange(&op, REQ_BODY("POST /_msearch"),
             "{\"index\":\"a\"}\n{\"size\":10}\n{\"index\":[\"b\",\"a\"]}\n{\"size\":5}\n"
             "{}\n{\"query\":{\"match_all\":{}}}\n",
             JSON_200, "{}");
    CHECK_EQ_STR(op.target, "a,b");
    CHECK_EQ_INT(op.page_size, 15);
    CHECK(op.flags & OP_FLAG_MATCH_ALL);

    /* the path wins */
    exchange(&op, REQ_BODY("POST /p/_bulk"), "{\"index\":{\"_index\":\"q\"}}\n{}\n", JSON_200,
             "{}");
    CHECK_EQ_STR(op.target, "p");

    /* bounds: names past the 4th, lines past the 16th are not read */
    char body[2048];
    size_t n = 0;
    for (int i = 0; i < 6; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n,
                              "{\"delete\":{\"_index\":\"i%d\"}}\n", i);
    exchange(&op, REQ_BODY("POST /_bulk"), body, JSON_200, "{}");
    CHECK_EQ_STR(op.target, "i0,i1,i2,i3");
    n = 0;
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n,
                              "{\"delete\":{\"_index\":\"%s\"}}\n", i < 16 ? "a" : "late");
    exchange(&op, REQ_BODY("POST /_bulk"), body, JSON_200, "{}");
    CHECK_EQ_STR(op.target, "a");
}

static const char search_response[] =
    "{\"_scroll_id\":\"FGluY2x1ZGVfY29udGV4dF91dWlk\",\"took\":5,\"timed_out\":false,"
    "\"_shards\":{\"total\":1,\"successful\":1,\"skipped\":0,\"failed\":0},"
    "\"hits\":{\"total\":{\"value\":12345,\"relation\":\"gte\"},\"max_score\":1.0,"
    "\"hits\":[{\"_index\":\"i\",\"_id\":\"1\",\"_score\":1.0,\"_source\":"
    "{\"hits\":{\"hits\":[1,2],\"total\":7},\"name\":\"a \\\"quoted\\\" \\u00e9\"}},"
    "{\"_index\":\"i\",\"_id\":\"2\",\"_source\":{}},"
    "{\"_index\":\"i\",\"_id\":\"3\",\"_source\":{\"n\":[[[[[[1]]]]]]}}]}}";

static void test_search_response_every_split(void)
{
    char h[OP_CONT_MAX];
    hash_of("FGluY2x1ZGVfY29udGV4dF91dWlk", h);
    for (size_t split = 0; split <= strlen(search_response); split++) {
        struct es_drive *d = drive_open(APP_ELASTICSEARCH);
        struct op_record op;
        drive_request(d, &op, REQ("GET /i/_search?scroll=1m&size=3"), NULL, 0);
        drive_response_split(d, &op, JSON_200, search_response, split);
        bool ok = op.items == 3 && op.total == 12345 && strcmp(op.cursor_out, h) == 0 &&
                  op.page_size == 3 && op.status == OP_STATUS_OK &&
                  op.total_relation == OP_TOTAL_LOWER_BOUND;
        if (!ok)
            fprintf(stderr, "split %zu: items %" PRId64 " total %" PRId64 "\n", split,
                    op.items, op.total);
        CHECK(ok);
        drive_free(d);
    }
    /* byte at a time */
    struct es_drive *d = drive_open(APP_ELASTICSEARCH);
    struct op_record op;
    drive_request(d, &op, REQ("GET /i/_search"), NULL, 0);
    struct http_head head;
    CHECK(http_parse_response_head(JSON_200, strlen(JSON_200), &head) > 0);
    op.status_code = 200;
    es_observer.response_head(d->st, &d->ctx, &op, &head);
    feed_pieces(d, es_observer.response_body, &op, search_response, strlen(search_response), 1);
    es_observer.response_end(d->st, &d->ctx, &op);
    CHECK_EQ_INT(op.items, 3);
    CHECK_EQ_INT(op.total, 12345);
    CHECK_EQ_INT(op.total_relation, OP_TOTAL_LOWER_BOUND);   /* "relation":"gte" */
    drive_free(d);
}

static void test_response_metrics(void)
{
    struct op_record op;
    char h[OP_CONT_MAX];
    /* ES 6: hits.total is a number */
    exchange(&op, REQ("GET /i/_search"), NULL, JSON_200,
             "{\"hits\":{\"total\":42,\"hits\":[{\"_id\":\"1\"}]}}");
    CHECK_EQ_INT(op.total, 42);
    CHECK_EQ_INT(op.items, 1);
    CHECK_EQ_INT(op.total_relation, OP_TOTAL_EXACT);
    exchange(&op, REQ("GET /i/_search"), NULL, JSON_200,
             "{\"hits\":{\"total\":{\"value\":2500,\"relation\":\"eq\"},\"hits\":[]}}");
    CHECK_EQ_INT(op.total, 2500);
    CHECK_EQ_INT(op.total_relation, OP_TOTAL_EXACT);
    /* filter_path hid the total */
    exchange(&op, REQ("GET /i/_search?filter_path=hits.hits._id"), NULL, JSON_200,
             "{\"hits\":{\"hits\":[{\"_id\":\"1\"},{\"_id\":\"2\"}]}}");
    CHECK_EQ_INT(op.total, -1);
    CHECK_EQ_INT(op.items, 2);
    exchange(&op, REQ("GET /i/_count"), NULL, JSON_200,
             "{\"count\":250000000,\"_shards\":{\"total\":5}}");
    CHECK_EQ_INT(op.total, 250000000);
    CHECK_EQ_INT(op.items, -1);
    exchange(&op, REQ_BODY("POST /_msearch"), "{}\n{}\n", JSON_200,
             "{\"took\":1,\"responses\":[{\"hits\":{\"total\":{\"value\":10},\"hits\":[{},{}]}},"
             "{\"hits\":{\"total\":5,\"hits\":[{}]}},{\"error\":{\"type\":\"x\"}}]}");
    CHECK_EQ_INT(op.items, 3);
    CHECK_EQ_INT(op.total, 15);
    exchange(&op, REQ("GET /i/_doc/1"), NULL, JSON_200,
             "{\"_index\":\"i\",\"_id\":\"1\",\"found\":true,\"_source\":{\"found\":false}}");
    CHECK_EQ_INT(op.items, 1);
    exchange(&op, REQ("GET /i/_doc/2"), NULL,
             "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\r\n",
             "{\"_index\":\"i\",\"_id\":\"2\",\"found\":false}");
    CHECK_EQ_INT(op.items, 0);
    CHECK_EQ_INT(op.status, OP_STATUS_ERROR);
    exchange(&op, REQ_BODY("POST /_bulk"), "{\"index\":{}}\n{\"a\":1}\n", JSON_200,
             "{\"took\":3,\"errors\":false,\"items\":[{\"index\":{\"_id\":\"1\"}},"
             "{\"delete\":{\"_id\":\"2\"}}]}");
    CHECK_EQ_INT(op.items, 2);
    exchange(&op, REQ_BODY("POST /i/_delete_by_query"), "{\"query\":{\"match_all\":{}}}",
             JSON_200, "{\"took\":9,\"total\":1000,\"deleted\":1000,\"failures\":[]}");
    CHECK_EQ_INT(op.items, 1000);
    CHECK_EQ_INT(op.total, 1000);
    CHECK(op.flags & OP_FLAG_MATCH_ALL);
    CHECK_EQ_INT(op.op_class, OP_CLASS_DESTROY);
    exchange(&op, REQ("POST /i/_pit?keep_alive=1m"), NULL, JSON_200, "{\"id\":\"PITX\"}");
    hash_of("PITX", h);
    CHECK_EQ_STR(op.cursor_out, h);
    exchange(&op, REQ("POST /i/_search/point_in_time?keep_alive=1m"), NULL, JSON_200,
             "{\"pit_id\":\"PITY\",\"creation_time\":1}");
    hash_of("PITY", h);
    CHECK_EQ_STR(op.cursor_out, h);
    exchange(&op, REQ("GET /_async_search/abc"), NULL, JSON_200,
             "{\"id\":\"abc\",\"response\":{\"hits\":{\"total\":{\"value\":9},\"hits\":[{}]}}}");
    CHECK_EQ_INT(op.items, 1);
    CHECK_EQ_INT(op.total, 9);
    CHECK(op.flags & OP_FLAG_CONTINUES);
}

static void test_error_responses(void)
{
    struct op_record op;
    exchange(&op, REQ("GET /nope/_search"), NULL,
             "HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n\r\n",
             "{\"error\":{\"root_cause\":[{\"type\":\"index_not_found_exception\"}],"
             "\"type\":\"index_not_found_exception\",\"reason\":\"no such index [nope]\"},"
             "\"status\":404}");
    CHECK_EQ_STR(op.error_type, "index_not_found_exception");
    CHECK_EQ_INT(op.status, OP_STATUS_ERROR);
    CHECK_EQ_INT(op.items, -1);
    exchange(&op, REQ("GET /_cat/indices"), NULL,
             "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n"
             "WWW-Authenticate: Basic realm=\"security\"\r\n\r\n",
             "{\"error\":{\"type\":\"security_exception\",\"reason\":\"missing authentication\"},"
             "\"status\":401}");
    CHECK_EQ_STR(op.error_type, "security_exception");
    CHECK_EQ_INT(op.status, OP_STATUS_DENIED);
    CHECK_EQ_INT(op.authenticated, OP_AUTH_NO);
    CHECK_EQ_INT(op.items, -1);
    CHECK_EQ_INT(op.total, -1);
    exchange(&op, REQ("GET /_search"), NULL,
             "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n\r\n",
             "{\"statusCode\":400,\"error\":\"Bad Request\",\"message\":\"x\"}");
    CHECK_EQ_STR(op.error_type, "Bad Request");
}

static void test_authentication(void)
{
    struct op_record op;
    exchange(&op, REQ("GET /_cat/indices"), NULL, TEXT_200, "");
    CHECK_EQ_INT(op.authenticated, OP_AUTH_NO);
    exchange(&op, "GET /_cat/indices HTTP/1.1\r\nAuthorization: Basic ZWxhc3RpYzpw\r\n\r\n",
             NULL, TEXT_200, "");
    CHECK_EQ_INT(op.authenticated, OP_AUTH_YES);
    exchange(&op, "GET /_cat/indices HTTP/1.1\r\nCookie: sid=Fe26.2**abc\r\n\r\n", NULL,
             TEXT_200, "");
    CHECK_EQ_INT(op.authenticated, OP_AUTH_YES);
    exchange(&op, "GET /_cat/indices HTTP/1.1\r\nAuthorization: Basic ZWxhc3RpYzpw\r\n\r\n",
             NULL, "HTTP/1.1 401 Unauthorized\r\n\r\n", NULL);
    CHECK_EQ_INT(op.authenticated, OP_AUTH_YES);
    CHECK_EQ_INT(op.status, OP_STATUS_DENIED);
}

/* ---- _cat/indices */

static const char cat_default[] =
    "green  open logs-2019.12.05 aBcD1234 5 1 250000000 0 120gb 60gb\n"
    "yellow open customers       eFgH5678 1 1      1000 3 1mb   1mb\r\n"
    "       close archive        iJkL9012\n"
    "\n"
    "green  open .kibana         mNoP3456 1 0        12 0 50kb  50kb";

static const char cat_v[] =
    "health status index    uuid pri rep docs.count docs.deleted store.size pri.store.size\n"
    "green  open   logs     aBcD 5   1   300        0            1gb        1gb\n"
    "green  open   users    eFgH 1   1   45         0            1mb        1mb\n";

static const char cat_h[] = "logs 300\nusers 45\nempty 0\n";

static void cat_exchange(struct op_record *op, const char *target, const char *body,
                         size_t split)
{
    char head[256];
    snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\n\r\n", target);
    struct es_drive *d = drive_open(APP_ELASTICSEARCH);
    drive_request(d, op, head, NULL, 0);
    drive_response_split(d, op, TEXT_200, body, split);
    drive_free(d);
}

static void test_cat_indices_text(void)
{
    struct op_record op;
    for (size_t split = 0; split <= strlen(cat_default); split++) {
        cat_exchange(&op, "/_cat/indices", cat_default, split);
        bool ok = op.items == 4 && op.total == 250000000 + 1000 + 12;
        if (!ok)
            fprintf(stderr, "default split %zu: items %" PRId64 " total %" PRId64 "\n",
                    split, op.items, op.total);
        CHECK(ok);
    }
    CHECK_EQ_STR(op.op, "_cat/indices");
    CHECK_EQ_INT(op.op_class, OP_CLASS_ENUMERATE);
    for (size_t split = 0; split <= strlen(cat_v); split++) {
        cat_exchange(&op, "/_cat/indices?v", cat_v, split);
        CHECK(op.items == 2 && op.total == 345);
    }
    for (size_t split = 0; split <= strlen(cat_h); split++) {
        cat_exchange(&op, "/_cat/indices?h=index,docs.count", cat_h, split);
        CHECK(op.items == 3 && op.total == 345);
    }
    /* v and h: the header names the columns */
    cat_exchange(&op, "/_cat/indices?v&h=docs.count,index", "docs.count index\n7 a\n8 b\n", 0);
    CHECK_EQ_INT(op.items, 2);
    CHECK_EQ_INT(op.total, 15);
    /* ES < 5: no uuid column */
    cat_exchange(&op, "/_cat/indices", "green open a 5 1 10 0 1kb 1kb\n", 0);
    CHECK_EQ_INT(op.total, 10);
    /* no docs.count column asked: rows only */
    cat_exchange(&op, "/_cat/indices?h=index", "a\nb\n", 0);
    CHECK_EQ_INT(op.items, 2);
    CHECK_EQ_INT(op.total, -1);
    /* a line longer than the line buffer is counted, not parsed */
    char big[2048];
    memset(big, 'x', 1500);
    strcpy(big + 1500, " 5\nsmall 7\n");
    cat_exchange(&op, "/_cat/indices?h=index,docs.count", big, 700);
    CHECK_EQ_INT(op.items, 2);
    CHECK_EQ_INT(op.total, 7);
    /* generic _cat: rows */
    cat_exchange(&op, "/_cat/nodes", "10.0.0.1 50 90 3 0.1 0.2 0.3 cdfhilmrstw * n1\n", 0);
    CHECK_EQ_INT(op.items, 1);
    CHECK_EQ_INT(op.total, -1);
    CHECK_EQ_STR(op.op, "_cat/nodes");
}

static void test_cat_indices_json(void)
{
    static const char body[] =
        "[{\"health\":\"green\",\"status\":\"open\",\"index\":\"logs\",\"uuid\":\"x\","
        "\"pri\":\"5\",\"rep\":\"1\",\"docs.count\":\"300\",\"docs.deleted\":\"0\"},"
        "{\"health\":\"yellow\",\"index\":\"users\",\"docs.count\":45},"
        "{\"status\":\"close\",\"index\":\"old\",\"docs.count\":null}]";
    struct op_record op;
    for (size_t split = 0; split <= strlen(body); split++) {
        struct es_drive *d = drive_open(APP_ELASTICSEARCH);
        drive_request(d, &op, REQ("GET /_cat/indices?format=json"), NULL, 0);
        drive_response_split(d, &op, JSON_200, body, split);
        CHECK(op.items == 3 && op.total == 345);
        drive_free(d);
    }
    /* no Content-Type: format=json decides */
    exchange(&op, REQ("GET /_cat/indices?format=json"), NULL, "HTTP/1.1 200 OK\r\n\r\n", body);
    CHECK_EQ_INT(op.items, 3);
    exchange(&op, REQ("GET /_cat/indices?format=json"), NULL, JSON_200, "[]");
    CHECK_EQ_INT(op.items, 0);
    CHECK_EQ_INT(op.total, 0);
}

/* ---- flows */

static void test_scroll_chain_hashes(void)
{
    /* an id longer than the scanner keeps, in the response and in the next
     * request's query string (percent-encoded) and body */
    char id[700], resp[900], query_req[2400], body[900];
    for (size_t i = 0; i < 600; i++)
        id[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[i * 7 % 64];
    id[600] = '\0';
    snprintf(resp, sizeof(resp), "{\"_scroll_id\":\"%s\",\"hits\":{\"hits\":[{}]}}", id);
    snprintf(body, sizeof(body), "{\"scroll\":\"1m\",\"scroll_id\":\"%s\"}", id);
    size_t n = (size_t)snprintf(query_req, sizeof(query_req),
                                "GET /_search/scroll?scroll=1m&scroll_id=");
    for (size_t i = 0; i < 600; i++)
        n += (size_t)snprintf(query_req + n, sizeof(query_req) - n,
                              id[i] == '+' ? "%%2B" : id[i] == '/' ? "%%2F" : "%c", id[i]);
    snprintf(query_req + n, sizeof(query_req) - n, " HTTP/1.1\r\n\r\n");

    struct es_drive *d = drive_open(APP_ELASTICSEARCH);
    struct op_record first, second, third;
    drive_request(d, &first, REQ("POST /logs/_search?scroll=1m&size=1000"), NULL, 0);
    drive_response(d, &first, JSON_200, resp);
    drive_request(d, &second, REQ_BODY("POST /_search/scroll"), body, 3);
    drive_response(d, &second, JSON_200, resp);
    drive_request(d, &third, query_req, NULL, 0);
    drive_response(d, &third, JSON_200, "{\"hits\":{\"hits\":[]}}");
    drive_free(d);

    CHECK(first.cursor_out[0] != '\0');
    CHECK_EQ_STR(second.continuation, first.cursor_out);
    CHECK_EQ_STR(third.continuation, first.cursor_out);
    CHECK(second.flags & OP_FLAG_CONTINUES);
    CHECK(third.flags & OP_FLAG_CONTINUES);
    CHECK(!(first.flags & OP_FLAG_CONTINUES));
    CHECK(first.flags & OP_FLAG_MATCH_ALL);
    CHECK_EQ_INT(third.items, 0);
}

static void test_kibana_proxy(void)
{
    struct op_record op;
    exchange(&op,
             "POST /api/console/proxy?path=%2Fcustomers%2F_search%3Fsize%3D10000&method=GET "
             "HTTP/1.1\r\nkbn-xsrf: true\r\nContent-Length: 1\r\n\r\n",
             "{\"query\":{\"match_all\":{}}}", JSON_200,
             "{\"hits\":{\"total\":{\"value\":2},\"hits\":[{},{}]}}");
    CHECK_EQ_STR(op.op, "_search");
    CHECK_EQ_STR(op.target, "customers");
    CHECK_EQ_INT(op.app, APP_ELASTICSEARCH);
    CHECK(op.flags & OP_FLAG_VIA_KIBANA);
    CHECK(op.flags & OP_FLAG_MATCH_ALL);
    CHECK_EQ_INT(op.page_size, 10000);
    CHECK_EQ_INT(op.items, 2);
    CHECK_EQ_INT(op.total, 2);

    /* through the plain http decoder too: the proxy path is evidence enough */
    struct es_drive *d = drive_open(APP_HTTP);
    drive_request(d, &op, "POST /api/console/proxy?uri=http%3A%2F%2Flocalhost%3A9200%2F_cat%2F"
                  "indices&method=GET HTTP/1.1\r\n\r\n", NULL, 0);
    drive_response(d, &op, TEXT_200, cat_default);
    drive_free(d);
    CHECK_EQ_INT(op.app, APP_ELASTICSEARCH);
    CHECK_EQ_STR(op.op, "_cat/indices");
    CHECK(op.flags & OP_FLAG_VIA_KIBANA);
    CHECK_EQ_INT(op.items, 4);
    CHECK_EQ_INT(op.authenticated, OP_AUTH_NO);
}

static const char opensearch_banner[] =
    "{\"name\":\"node-1\",\"cluster_name\":\"docker-cluster\",\"cluster_uuid\":\"x\","
    "\"version\":{\"distribution\":\"opensearch\",\"number\":\"2.11.0\"},"
    "\"tagline\":\"The OpenSearch Project: https://opensearch.org/\"}";

static const char es_banner[] =
    "{\"name\":\"es01\",\"cluster_name\":\"prod\",\"version\":{\"number\":\"7.4.0\","
    "\"build_flavor\":\"default\"},\"tagline\":\"You Know, for Search\"}";

static void test_opensearch_banner(void)
{
    struct es_drive *d = drive_open(APP_ELASTICSEARCH);
    struct op_record banner, search;
    drive_request(d, &banner, REQ("GET /"), NULL, 0);
    drive_response(d, &banner, JSON_200, opensearch_banner);
    drive_request(d, &search, REQ("GET /logs/_search"), NULL, 0);
    drive_response(d, &search, JSON_200, "{\"hits\":{\"hits\":[]}}");
    drive_free(d);
    CHECK_EQ_STR(banner.op, "banner");
    CHECK_EQ_INT(banner.op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(banner.app, APP_OPENSEARCH);
    CHECK_EQ_STR(banner.target, "");
    CHECK_EQ_INT(search.app, APP_OPENSEARCH);
}

static void test_http_mode(void)
{
    struct es_drive *d = drive_open(APP_HTTP);
    struct op_record page, banner, doc;
    /* an ordinary web page: left as the framer made it */
    drive_request(d, &page, REQ("GET /index.html"), NULL, 0);
    drive_response(d, &page, "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\r\n", "<html>");
    CHECK_EQ_INT(page.app, APP_HTTP);
    CHECK_EQ_STR(page.op, "GET");
    CHECK_EQ_STR(page.target, "/index.html");
    CHECK_EQ_INT(page.op_class, OP_CLASS_UNKNOWN);
    CHECK_EQ_INT(page.authenticated, OP_AUTH_UNKNOWN);
    /* a plain path means nothing before the server said what it is */
    drive_request(d, &doc, REQ("GET /idx/type/1"), NULL, 0);
    drive_response(d, &doc, JSON_200, "{\"found\":true}");
    CHECK_EQ_INT(doc.app, APP_HTTP);
    CHECK_EQ_STR(doc.op, "GET");
    /* the banner makes the flow Elasticsearch... */
    drive_request(d, &banner, REQ("GET /"), NULL, 0);
    drive_response_split(d, &banner, JSON_200, es_banner, 17);
    CHECK_EQ_INT(banner.app, APP_ELASTICSEARCH);
    CHECK_EQ_STR(banner.op, "banner");
    CHECK_EQ_INT(banner.op_class, OP_CLASS_HANDSHAKE);
    CHECK_EQ_INT(banner.authenticated, OP_AUTH_NO);
    /* ...and from then on plain paths are ES calls */
    drive_request(d, &doc, REQ("GET /idx/type/1"), NULL, 0);
    drive_response(d, &doc, JSON_200, "{\"found\":true}");
    CHECK_EQ_INT(doc.app, APP_ELASTICSEARCH);
    CHECK_EQ_STR(doc.op, "_doc");
    CHECK_EQ_STR(doc.target, "idx");
    CHECK_EQ_INT(doc.items, 1);
    drive_free(d);

    /* a "/" that is not Elasticsearch stays plain HTTP */
    d = drive_open(APP_HTTP);
    drive_request(d, &banner, REQ("GET /"), NULL, 0);
    drive_response(d, &banner, JSON_200, "{\"status\":\"ok\"}");
    CHECK_EQ_INT(banner.app, APP_HTTP);
    CHECK_EQ_STR(banner.op, "GET");
    /* an ES API path is an ES call by itself */
    drive_request(d, &doc, REQ("GET /_cat/indices?format=json"), NULL, 0);
    drive_response(d, &doc, JSON_200, "[{\"docs.count\":\"5\"}]");
    CHECK_EQ_INT(doc.app, APP_ELASTICSEARCH);
    CHECK_EQ_INT(doc.total, 5);
    /* ...but does not make the flow Elasticsearch */
    drive_request(d, &doc, REQ("DELETE /idx"), NULL, 0);
    drive_response(d, &doc, "HTTP/1.1 200 OK\r\n\r\n", NULL);
    CHECK_EQ_INT(doc.app, APP_HTTP);
    drive_free(d);
}

static void test_security_disabled_warning(void)
{
    struct es_drive *d = drive_open(APP_HTTP);
    struct op_record del, next;
    drive_request(d, &del, REQ("DELETE /customers"), NULL, 0);
    drive_response(d, &del,
                   "HTTP/1.1 200 OK\r\n"
                   "Warning: 299 Elasticsearch-7.17.0-bee86328 \"Elasticsearch built-in "
                   "security features are not enabled. Without authentication, your cluster "
                   "could be accessible to anyone.\"\r\n"
                   "content-type: application/json\r\n\r\n",
                   "{\"acknowledged\":true}");
    CHECK_EQ_INT(del.app, APP_ELASTICSEARCH);
    CHECK_EQ_STR(del.op, "delete_index");
    CHECK_EQ_INT(del.op_class, OP_CLASS_DESTROY);
    CHECK_EQ_STR(del.target, "customers");
    CHECK_EQ_INT(del.authenticated, OP_AUTH_NO);
    drive_request(d, &next, REQ("PUT /read_me"), NULL, 0);
    CHECK_EQ_INT(next.app, APP_ELASTICSEARCH);      /* known at request time now */
    CHECK_EQ_STR(next.op, "create_index");
    drive_response(d, &next, "HTTP/1.1 200 OK\r\nX-elastic-product: Elasticsearch\r\n\r\n",
                   NULL);
    drive_free(d);

    d = drive_open(APP_HTTP);
    drive_request(d, &del, REQ("GET /idx"), NULL, 0);
    drive_response(d, &del, "HTTP/1.1 200 OK\r\nX-Elastic-Product: Elasticsearch\r\n\r\n", "{}");
    CHECK_EQ_INT(del.app, APP_ELASTICSEARCH);
    CHECK_EQ_STR(del.op, "get_index");
    drive_free(d);
}

/* A response that is not the one being read (the framer gave up an old
 * request) leaves the response being read alone. */
static void test_response_end_of_other_op(void)
{
    struct es_drive *d = drive_open(APP_ELASTICSEARCH);
    struct op_record a, b;
    drive_request(d, &a, REQ("GET /i/_search"), NULL, 0);
    drive_request(d, &b, REQ("GET /j/_search"), NULL, 0);
    struct http_head head;
    CHECK(http_parse_response_head(JSON_200, strlen(JSON_200), &head) > 0);
    a.status_code = 200;
    es_observer.response_head(d->st, &d->ctx, &a, &head);
    es_observer.response_body(d->st, &d->ctx, &a, (const uint8_t *)"{\"hits\":{\"hits\":[{}", 19);
    b.flags |= OP_FLAG_NO_RESPONSE;
    es_observer.response_end(d->st, &d->ctx, &b);
    es_observer.response_body(d->st, &d->ctx, &a, (const uint8_t *)",{}]}}", 6);
    es_observer.response_end(d->st, &d->ctx, &a);
    CHECK_EQ_INT(a.items, 2);
    CHECK_EQ_INT(b.items, -1);
    CHECK_EQ_INT(b.authenticated, OP_AUTH_NO);
    drive_free(d);
}

/* ------------------------------------------------------------ end to end */

#define E2E_OPS_MAX 16

struct e2e {
    struct decoder_ctx ctx;
    struct http_params params;
    struct stats stats;
    struct op_record ops[E2E_OPS_MAX];
    size_t count;
};

static void e2e_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    struct e2e *t = ctx->owner;
    if (t->count < E2E_OPS_MAX)
        t->ops[t->count++] = *op;
}

static void e2e_send(const struct decoder *dec, void *state, struct e2e *t,
                     enum decoder_dir dir, const char *text, size_t piece)
{
    size_t len = strlen(text), at = 0;
    while (at < len) {
        size_t n = len - at < piece ? len - at : piece;
        t->ctx.now_us += 10;
        dec->data(state, &t->ctx, dir, (const uint8_t *)text + at, n);
        at += n;
    }
}

static const char e2e_search_req[] =
    "POST /customers/_search?scroll=1m HTTP/1.1\r\nHost: es:9200\r\n"
    "User-Agent: python-requests/2.22\r\nContent-Type: application/json\r\n"
    "Content-Length: 43\r\n\r\n"
    "{\"size\":2,\"query\":{\"match_all\":{}}}        ";
static const char e2e_search_resp[] =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\n"
    "Transfer-Encoding: chunked\r\n\r\n"
    "21\r\n{\"_scroll_id\":\"DnF1ZXJ5VGhlbkZl\",\r\n"
    "40\r\n\"hits\":{\"total\":{\"value\":3,\"relation\":\"eq\"},\"hits\":[{\"_id\":\"1\"},\r\n"
    "f\r\n{\"_id\":\"2\"}]}}\n\r\n"
    "0\r\n\r\n";
static const char e2e_scroll_req[] =
    "POST /_search/scroll HTTP/1.1\r\nHost: es:9200\r\nContent-Type: application/json\r\n"
    "Content-Length: 46\r\n\r\n"
    "{\"scroll\":\"1m\",\"scroll_id\":\"DnF1ZXJ5VGhlbkZl\"}";
static const char e2e_scroll_resp[] =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\n"
    "Content-Length: 99\r\n\r\n"
    "{\"_scroll_id\":\"DnF1ZXJ5VGhlbkZl\",\"hits\":{\"total\":{\"value\":3,\"relation\":\"eq\"},"
    "\"hits\":[{\"_id\":\"3\"}]}}";
static const char e2e_clear_req[] =
    "DELETE /_search/scroll HTTP/1.1\r\nHost: es:9200\r\nContent-Type: application/json\r\n"
    "Content-Length: 32\r\n\r\n"
    "{\"scroll_id\":\"DnF1ZXJ5VGhlbkZl\"}";
static const char e2e_clear_resp[] =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\n"
    "Content-Length: 33\r\n\r\n"
    "{\"succeeded\":true,\"num_freed\":1}\n";

static void e2e_run(struct e2e *t, size_t piece, bool pipelined)
{
    memset(t, 0, sizeof(*t));
    t->params.header_max = 16384;
    t->params.pending_max = 8;
    t->params.body_max = 1 << 20;
    decoder_ctx_bind(&t->ctx, &elasticsearch_decoder, &t->params, &t->stats);
    t->ctx.emit = e2e_emit;
    t->ctx.owner = t;
    const struct decoder *dec = decoder_find("elasticsearch");
    if (dec == NULL)
        dec = &elasticsearch_decoder;
    void *state = dec->open(&t->ctx);
    CHECK(state != NULL);
    if (state == NULL)
        return;
    if (pipelined) {
        e2e_send(dec, state, t, DIR_TO_SERVER, e2e_search_req, piece);
        e2e_send(dec, state, t, DIR_TO_SERVER, e2e_scroll_req, piece);
        e2e_send(dec, state, t, DIR_TO_SERVER, e2e_clear_req, piece);
        e2e_send(dec, state, t, DIR_TO_CLIENT, e2e_search_resp, piece);
        e2e_send(dec, state, t, DIR_TO_CLIENT, e2e_scroll_resp, piece);
        e2e_send(dec, state, t, DIR_TO_CLIENT, e2e_clear_resp, piece);
    } else {
        e2e_send(dec, state, t, DIR_TO_SERVER, e2e_search_req, piece);
        e2e_send(dec, state, t, DIR_TO_CLIENT, e2e_search_resp, piece);
        e2e_send(dec, state, t, DIR_TO_SERVER, e2e_scroll_req, piece);
        e2e_send(dec, state, t, DIR_TO_CLIENT, e2e_scroll_resp, piece);
        e2e_send(dec, state, t, DIR_TO_SERVER, e2e_clear_req, piece);
        e2e_send(dec, state, t, DIR_TO_CLIENT, e2e_clear_resp, piece);
    }
    dec->close(state, &t->ctx);
}

static void e2e_check(const struct e2e *t)
{
    CHECK_EQ_INT(t->count, 3);
    if (t->count != 3)
        return;
    const struct op_record *s = &t->ops[0], *sc = &t->ops[1], *cl = &t->ops[2];
    char h[OP_CONT_MAX];
    hash_of("DnF1ZXJ5VGhlbkZl", h);
    CHECK_EQ_STR(s->op, "_search");
    CHECK_EQ_STR(s->target, "customers");
    CHECK_EQ_INT(s->app, APP_ELASTICSEARCH);
    CHECK_EQ_INT(s->op_class, OP_CLASS_READ);
    CHECK_EQ_INT(s->items, 2);
    CHECK_EQ_INT(s->total, 3);
    CHECK_EQ_INT(s->page_size, 2);
    CHECK(s->flags & OP_FLAG_MATCH_ALL);
    CHECK_EQ_STR(s->cursor_out, h);
    CHECK_EQ_INT(s->authenticated, OP_AUTH_NO);
    CHECK_EQ_STR(s->client_id, "python-requests/2.22");
    CHECK_EQ_STR(sc->op, "_search/scroll");
    CHECK_EQ_STR(sc->continuation, s->cursor_out);
    CHECK(sc->flags & OP_FLAG_CONTINUES);
    CHECK_EQ_INT(sc->items, 1);
    CHECK_EQ_INT(sc->total, 3);
    CHECK_EQ_STR(cl->op, "_search/scroll:clear");
    CHECK_EQ_STR(cl->continuation, s->cursor_out);
    CHECK_EQ_INT(cl->status, OP_STATUS_OK);
    for (size_t i = 0; i < t->count; i++)
        CHECK(!(t->ops[i].flags & (OP_FLAG_PARTIAL | OP_FLAG_NO_RESPONSE | OP_FLAG_TRUNCATED)));
}

static void test_end_to_end_keep_alive(void)
{
    static struct e2e t;
    static const size_t pieces[] = { 1, 2, 7, 64, 100000 };
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        e2e_run(&t, pieces[i], false);
        e2e_check(&t);
        e2e_run(&t, pieces[i], true);
        e2e_check(&t);
    }
}

int main(void)
{
    check_binary = "elasticsearch";
    RUN(test_classify_table);
    RUN(test_classify_query);
    RUN(test_classify_kibana);
    RUN(test_cursor_hash);
    RUN(test_request_body_search);
    RUN(test_request_body_cursors);
    RUN(test_body_targets);
    RUN(test_search_response_every_split);
    RUN(test_response_metrics);
    RUN(test_error_responses);
    RUN(test_authentication);
    RUN(test_cat_indices_text);
    RUN(test_cat_indices_json);
    RUN(test_scroll_chain_hashes);
    RUN(test_kibana_proxy);
    RUN(test_opensearch_banner);
    RUN(test_http_mode);
    RUN(test_security_disabled_warning);
    RUN(test_response_end_of_other_op);
    RUN(test_end_to_end_keep_alive);
    CHECK_EXIT();
}
