/* couchdb.c - CouchDB REST calls: classifier and HTTP observer.
 *
 * The classifier (first half) is pure. A path starting with a "_" segment
 * is a server call (_all_dbs, _session, _node/<n>/_stats...), looked up in
 * a table; otherwise the first segment is the database and the second, if
 * it starts with "_", the database call (_all_docs, _find, _changes,
 * _design/<d>/_view/<v>...), else a document id. A few query parameters
 * are read: limit, skip, since, feed, and the key-range ones that stop an
 * _all_docs from reading everything.
 *
 * The observer (second half) reads request bodies (_find's limit, skip,
 * bookmark and selector; keys and docs asked) and response bodies with one
 * JSON scanner each; rule tables say what each kind of body holds where.
 * As in elasticsearch.c, the call is classified again at response time from
 * the op's method and URI, so no per-request state is kept, and an op the
 * "http" decoder hands over mid-flow is read like any other. */
#include "couchdb.h"

#include <pthread.h>
#include <string.h>

#include "../http/http_url.h"
#include "../json/json_rules.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------ classifier */

enum { M_GET = 1, M_HEAD = 2, M_POST = 4, M_PUT = 8, M_DELETE = 16, M_COPY = 32,
       M_OTHER = 64 };
#define M_READ (M_GET | M_HEAD)
#define M_WRITE (M_POST | M_PUT | M_COPY)
#define M_ANY 127

static unsigned method_bit(struct http_span m)
{
    static const struct { const char *name; unsigned bit; } methods[] = {
        {"GET", M_GET}, {"HEAD", M_HEAD}, {"POST", M_POST}, {"PUT", M_PUT},
        {"DELETE", M_DELETE}, {"COPY", M_COPY},
    };
    for (size_t i = 0; i < ARRAY_LEN(methods); i++)
        if (http_span_ieq(m, methods[i].name))
            return methods[i].bit;
    return M_OTHER;
}

/* A call of the tables: segment `seg` (at its place), methods, then what
 * it is. own: CouchDB's alone (the "http" decoder may give it the flow). */
struct couch_row {
    const char *seg;
    uint8_t methods;
    uint8_t kind;
    uint8_t op_class;
    bool own;
    const char *name;
};

#define R(seg, m, kind, cls, own, name) {seg, m, COUCH_KIND_##kind, OP_CLASS_##cls, own, name}

/* Server calls: the first segment. First match wins. */
static const struct couch_row server_rows[] = {
    R("_all_dbs", M_ANY, ALL_DBS, ENUMERATE, true, "_all_dbs"),
    R("_dbs_info", M_ANY, DBS_INFO, ENUMERATE, true, "_dbs_info"),
    R("_membership", M_ANY, MEMBERSHIP, ENUMERATE, true, "_membership"),
    R("_up", M_ANY, OTHER, HANDSHAKE, true, "_up"),
    R("_uuids", M_ANY, OTHER, HANDSHAKE, true, "_uuids"),
    R("_utils", M_ANY, OTHER, HANDSHAKE, true, "_utils"),
    R("_session", M_ANY, OTHER, AUTH, true, "_session"),
    R("_stats", M_ANY, OTHER, ENUMERATE, false, "_stats"),
    R("_active_tasks", M_ANY, OTHER, ENUMERATE, true, "_active_tasks"),
    R("_scheduler", M_ANY, OTHER, ENUMERATE, true, "_scheduler"),
    R("_config", M_READ, OTHER, ENUMERATE, true, "_config"),
    R("_config", M_ANY, OTHER, ADMIN, true, "_config"),
    R("_replicate", M_ANY, OTHER, ADMIN, true, "_replicate"),
    R("_cluster_setup", M_ANY, OTHER, ADMIN, true, "_cluster_setup"),
    R("_restart", M_ANY, OTHER, ADMIN, true, "_restart"),
    R("_reshard", M_ANY, OTHER, ADMIN, true, "_reshard"),
    R("_search_analyze", M_ANY, OTHER, READ, true, "_search_analyze"),
};

/* /_node/<name>/<call>: the third segment. */
static const struct couch_row node_rows[] = {
    R("_stats", M_ANY, OTHER, ENUMERATE, true, "_node/_stats"),
    R("_system", M_ANY, OTHER, ENUMERATE, true, "_node/_system"),
    R("_prometheus", M_ANY, OTHER, ENUMERATE, true, "_node/_prometheus"),
    R("_config", M_READ, OTHER, ENUMERATE, true, "_node/_config"),
    R("_config", M_ANY, OTHER, ADMIN, true, "_node/_config"),
    R("_restart", M_ANY, OTHER, ADMIN, true, "_node/_restart"),
    R("_versions", M_ANY, OTHER, HANDSHAKE, true, "_node/_versions"),
};

/* Database calls: the second segment. */
static const struct couch_row db_rows[] = {
    R("_all_docs", M_ANY, ROWS, READ, true, "_all_docs"),
    R("_design_docs", M_ANY, ROWS, ENUMERATE, true, "_design_docs"),
    R("_local_docs", M_ANY, ROWS, READ, true, "_local_docs"),
    R("_find", M_ANY, FIND, READ, true, "_find"),
    R("_explain", M_ANY, OTHER, READ, true, "_explain"),
    R("_index", M_READ, OTHER, ENUMERATE, true, "_index"),
    R("_index", M_ANY, OTHER, ADMIN, true, "_index"),
    R("_changes", M_ANY, CHANGES, READ, true, "_changes"),
    R("_bulk_get", M_ANY, BULK_GET, READ, true, "_bulk_get"),
    R("_bulk_docs", M_ANY, BULK_DOCS, WRITE, true, "_bulk_docs"),
    R("_revs_diff", M_ANY, OTHER, READ, true, "_revs_diff"),
    R("_missing_revs", M_ANY, OTHER, READ, true, "_missing_revs"),
    R("_security", M_READ, OTHER, ENUMERATE, false, "_security"),
    R("_security", M_ANY, OTHER, ADMIN, false, "_security"),
    R("_purge", M_ANY, OTHER, DESTROY, true, "_purge"),
    R("_compact", M_ANY, OTHER, ADMIN, true, "_compact"),
    R("_view_cleanup", M_ANY, OTHER, ADMIN, true, "_view_cleanup"),
    R("_ensure_full_commit", M_ANY, OTHER, ADMIN, true, "_ensure_full_commit"),
    R("_revs_limit", M_ANY, OTHER, ADMIN, true, "_revs_limit"),
    R("_shards", M_ANY, OTHER, ENUMERATE, true, "_shards"),
    R("_partition", M_ANY, ROWS, READ, true, "_partition"),
};

/* /db/_design/<d>/<call>/...: the fourth segment. */
static const struct couch_row design_rows[] = {
    R("_view", M_ANY, ROWS, READ, true, "_view"),
    R("_search", M_ANY, OTHER, READ, true, "_design/_search"),
    R("_show", M_ANY, OTHER, READ, true, "_show"),
    R("_list", M_ANY, OTHER, READ, true, "_list"),
    R("_update", M_ANY, OTHER, WRITE, true, "_update"),
    R("_rewrite", M_ANY, OTHER, READ, true, "_rewrite"),
    R("_info", M_ANY, OTHER, ENUMERATE, true, "_design/_info"),
};

/* A document (or design/local document) by its method. */
static const struct couch_row doc_rows[] = {
    R("", M_READ, DOC, READ, false, "doc"),
    R("", M_DELETE, OTHER, DESTROY, false, "delete_doc"),
    R("", M_ANY, OTHER, WRITE, false, "put_doc"),
};

/* The database itself. */
static const struct couch_row db_self_rows[] = {
    R("", M_READ, DB_INFO, ENUMERATE, false, "db_info"),
    R("", M_PUT, OTHER, WRITE, false, "create_db"),
    R("", M_DELETE, OTHER, DESTROY, false, "delete_db"),
    R("", M_POST, OTHER, WRITE, false, "put_doc"),
};

/* Attachments: /db/doc/<name>. */
static const struct couch_row attachment_rows[] = {
    R("", M_READ, OTHER, READ, false, "attachment"),
    R("", M_DELETE, OTHER, DESTROY, false, "delete_attachment"),
    R("", M_ANY, OTHER, WRITE, false, "put_attachment"),
};

#undef R

static const struct couch_row *rows_find(const struct couch_row *rows, size_t n,
                                         const struct http_url *url, size_t i, unsigned m)
{
    for (size_t k = 0; k < n; k++) {
        bool seg_ok = rows[k].seg[0] == '\0' || http_url_seg_is(url, i, rows[k].seg);
        if (seg_ok && (rows[k].methods & m))
            return &rows[k];
    }
    return NULL;
}

static void call_init(struct couch_call *call)
{
    memset(call, 0, sizeof(*call));
    call->limit = -1;
    call->skip = -1;
}

static void call_set_name(struct couch_call *call, const char *name)
{
    size_t n = strlen(name);
    if (n > sizeof(call->name) - 1)
        n = sizeof(call->name) - 1;
    memcpy(call->name, name, n);
    call->name[n] = '\0';
    call->name_len = n;
}

static void call_apply_row(struct couch_call *call, const struct couch_row *row)
{
    if (row == NULL)
        return;
    call->kind = (enum couch_kind)row->kind;
    call->op_class = (enum op_class)row->op_class;
    call->own_api = row->own;
    call_set_name(call, row->name);
}

static void call_set_target(struct couch_call *call, const struct http_url_segment *s)
{
    bool cut;
    call->target_len = http_url_decode(s->raw, call->target, OP_TARGET_MAX, false, &cut);
    call->target[call->target_len] = '\0';
}

/* Server-level calls: /_x, /_node/<name>/_x. An unknown /_x keeps its name
 * and no class. */
static void classify_server(struct couch_call *call, const struct http_url *url, unsigned m)
{
    if (http_url_seg_is(url, 0, "_node")) {
        if (url->count >= 3)
            call_apply_row(call, rows_find(node_rows, ARRAY_LEN(node_rows), url, 2, m));
        if (call->name_len == 0) {
            call_set_name(call, "_node");
            call->op_class = OP_CLASS_ENUMERATE;
            call->own_api = true;
        }
        return;
    }
    call_apply_row(call, rows_find(server_rows, ARRAY_LEN(server_rows), url, 0, m));
    if (call->name_len == 0 && !url->seg[0].cut)
        call_set_name(call, url->seg[0].text);
}

/* /db/_design/<d>[/_view/<v>...] */
static void classify_design(struct couch_call *call, const struct http_url *url, unsigned m)
{
    if (url->count >= 4) {
        call_apply_row(call, rows_find(design_rows, ARRAY_LEN(design_rows), url, 3, m));
        return;
    }
    call_apply_row(call, rows_find(doc_rows, ARRAY_LEN(doc_rows), url, 0, m));
    call_set_name(call, (m & M_READ) ? "_design" : (m & M_DELETE) ? "delete_design"
                                                                   : "put_design");
    call->own_api = true;
}

static void classify_db(struct couch_call *call, const struct http_url *url, unsigned m)
{
    call_set_target(call, &url->seg[0]);
    if (url->count == 1) {
        call_apply_row(call, rows_find(db_self_rows, ARRAY_LEN(db_self_rows), url, 0, m));
        return;
    }
    const struct http_url_segment *s = &url->seg[1];
    if (http_url_seg_is(url, 1, "_design") || http_url_seg_is(url, 1, "_local")) {
        if (http_url_seg_is(url, 1, "_design") && url->count >= 3)
            classify_design(call, url, m);
        else {
            call_apply_row(call, rows_find(doc_rows, ARRAY_LEN(doc_rows), url, 0, m));
            call->own_api = true;
        }
        return;
    }
    if (s->text[0] == '_' && !s->cut) {
        call_apply_row(call, rows_find(db_rows, ARRAY_LEN(db_rows), url, 1, m));
        if (call->name_len == 0)
            call_set_name(call, s->text);
        return;
    }
    if (url->count == 2)
        call_apply_row(call, rows_find(doc_rows, ARRAY_LEN(doc_rows), url, 0, m));
    else
        call_apply_row(call, rows_find(attachment_rows, ARRAY_LEN(attachment_rows), url, 0, m));
}

/* Parameters that narrow what _all_docs or _changes read. */
static bool is_range_param(struct http_span key)
{
    static const char *const names[] = {
        "key", "keys", "startkey", "endkey", "start_key", "end_key", "startkey_docid",
        "start_key_doc_id", "filter", "doc_ids", "selector",
    };
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (http_span_is(key, names[i]))
            return true;
    return false;
}

static void query_param(struct couch_call *call, struct http_span key, struct http_span raw,
                        bool *narrowed)
{
    char v[JSON_SCAN_STRING_MAX];
    bool cut;
    size_t n = http_url_decode(raw, v, sizeof(v), true, &cut);
    struct http_span value = { v, n };
    if (http_span_is(key, "limit"))
        call->limit = http_parse_count(v, n);
    else if (http_span_is(key, "skip"))
        call->skip = http_parse_count(v, n);
    else if (http_span_is(key, "feed"))
        call->feed = http_span_is(value, "continuous") ? COUCH_FEED_CONTINUOUS
                     : http_span_is(value, "eventsource") ? COUCH_FEED_EVENTSOURCE
                     : http_span_is(value, "longpoll") ? COUCH_FEED_LONGPOLL
                     : COUCH_FEED_NORMAL;
    else if (http_span_is(key, "since") && call->kind == COUCH_KIND_CHANGES &&
             !http_span_is(value, "0") && !http_span_is(value, "now") && n > 0) {
        op_continuation_hash(v, n, call->continuation);
        call->has_continuation = true;
        call->continues = true;
    } else if (is_range_param(key))
        *narrowed = true;
}

void couch_classify(struct http_span method, struct http_span target, struct couch_call *call)
{
    struct http_url url;
    unsigned m = method_bit(method);
    call_init(call);
    http_url_split(target, &url);
    if (url.count == 0) {
        if (m & M_READ) {
            call->kind = COUCH_KIND_BANNER;
            call->op_class = OP_CLASS_HANDSHAKE;
            call_set_name(call, "banner");
        }
    } else if (url.seg[0].text[0] == '_' && !http_url_seg_is(&url, 0, "_users") &&
               !http_url_seg_is(&url, 0, "_replicator") &&
               !http_url_seg_is(&url, 0, "_global_changes")) {
        classify_server(call, &url, m);
    } else {
        classify_db(call, &url, m);
        if (url.seg[0].text[0] == '_')
            call->own_api = true;        /* CouchDB's system databases */
    }
    size_t pos = 0;
    bool narrowed = false;
    struct http_span key, value;
    while (http_query_next(url.query, &pos, &key, &value))
        query_param(call, key, value, &narrowed);
    bool whole = call->kind == COUCH_KIND_CHANGES ||
                 (call->kind == COUCH_KIND_ROWS && strcmp(call->name, "_all_docs") == 0);
    call->match_all = whole && !narrowed && (m & (M_READ | M_POST));
}

bool couch_server_head(const struct http_head *head)
{
    for (size_t i = 0; i < head->header_count; i++) {
        const struct http_header *h = &head->headers[i];
        if (http_span_ieq(h->name, "x-couch-request-id") ||
            http_span_ieq(h->name, "x-couchdb-body-time") ||
            (http_span_ieq(h->name, "server") && http_span_contains_ci(h->value, "couchdb")))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ body rules */

enum couch_action {
    REQ_LIMIT = 1,       /* page_size = n */
    REQ_SKIP,            /* offset = n */
    REQ_ASK_ZERO,        /* a list of asked ids: page_size at least 0 */
    REQ_ASK_ONE,         /* page_size += 1 */
    REQ_BOOKMARK,        /* continuation = hash, continues */
    REQ_SELECTOR,        /* the selector object starts */
    REQ_NARROW,          /* keys, doc_ids, filter given in the body */
    RESP_ITEMS_ZERO,
    RESP_ITEM,
    RESP_ITEM_ONE,
    RESP_TOTAL_SET,
    RESP_TOTAL_ADD,
    RESP_CURSOR,
    RESP_ERROR,
};

#define T JSON_RULE_T

static const struct json_rule req_find[] = {
    {"limit", T(JSON_NUMBER), REQ_LIMIT},
    {"skip", T(JSON_NUMBER), REQ_SKIP},
    {"bookmark", T(JSON_STRING), REQ_BOOKMARK},
    {"selector", T(JSON_OBJECT_START), REQ_SELECTOR},
    JSON_RULES_END,
};
static const struct json_rule req_rows[] = {
    {"limit", T(JSON_NUMBER), REQ_LIMIT},
    {"skip", T(JSON_NUMBER), REQ_SKIP},
    {"keys", T(JSON_ARRAY_START), REQ_ASK_ZERO},
    {"keys.[]", JSON_RULE_ANY_START, REQ_ASK_ONE},
    {"key", JSON_RULE_ANY_START, REQ_NARROW},
    {"startkey", JSON_RULE_ANY_START, REQ_NARROW},
    {"start_key", JSON_RULE_ANY_START, REQ_NARROW},
    {"endkey", JSON_RULE_ANY_START, REQ_NARROW},
    {"end_key", JSON_RULE_ANY_START, REQ_NARROW},
    JSON_RULES_END,
};
static const struct json_rule req_keys[] = {   /* _dbs_info */
    {"keys", T(JSON_ARRAY_START), REQ_ASK_ZERO},
    {"keys.[]", JSON_RULE_ANY_START, REQ_ASK_ONE},
    JSON_RULES_END,
};
static const struct json_rule req_bulk_get[] = {
    {"docs", T(JSON_ARRAY_START), REQ_ASK_ZERO},
    {"docs.[]", JSON_RULE_ANY_START, REQ_ASK_ONE},
    JSON_RULES_END,
};
static const struct json_rule req_changes[] = {
    {"doc_ids", JSON_RULE_ANY_START, REQ_NARROW},
    {"selector", JSON_RULE_ANY_START, REQ_NARROW},
    JSON_RULES_END,
};

static const struct json_rule *const request_rules[COUCH_KIND_MAX] = {
    [COUCH_KIND_FIND] = req_find,
    [COUCH_KIND_ROWS] = req_rows,
    [COUCH_KIND_DBS_INFO] = req_keys,
    [COUCH_KIND_BULK_GET] = req_bulk_get,
    [COUCH_KIND_CHANGES] = req_changes,
};

static const struct json_rule resp_list[] = {   /* _all_dbs, _bulk_docs */
    {"", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"[]", JSON_RULE_ANY_START, RESP_ITEM},
    JSON_RULES_END,
};
static const struct json_rule resp_dbs_info[] = {
    {"", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"[]", JSON_RULE_ANY_START, RESP_ITEM},
    {"[].info.doc_count", T(JSON_NUMBER), RESP_TOTAL_ADD},
    JSON_RULES_END,
};
static const struct json_rule resp_membership[] = {
    {"all_nodes", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"all_nodes.[]", JSON_RULE_ANY_START, RESP_ITEM},
    JSON_RULES_END,
};
static const struct json_rule resp_db_info[] = {
    {"doc_count", T(JSON_NUMBER), RESP_TOTAL_SET},
    JSON_RULES_END,
};
static const struct json_rule resp_rows[] = {
    {"rows", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"rows.[]", JSON_RULE_ANY_START, RESP_ITEM},
    {"total_rows", T(JSON_NUMBER), RESP_TOTAL_SET},
    {"results.[].rows", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},    /* .../queries */
    {"results.[].rows.[]", JSON_RULE_ANY_START, RESP_ITEM},
    {"results.[].total_rows", T(JSON_NUMBER), RESP_TOTAL_ADD},
    JSON_RULES_END,
};
static const struct json_rule resp_find[] = {
    {"docs", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"docs.[]", JSON_RULE_ANY_START, RESP_ITEM},
    {"bookmark", T(JSON_STRING), RESP_CURSOR},
    JSON_RULES_END,
};
/* normal and longpoll: one object; continuous: one object per line, each
 * change with its "id", the last with "last_seq". */
static const struct json_rule resp_changes[] = {
    {"results", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"results.[]", JSON_RULE_ANY_START, RESP_ITEM},
    {"id", T(JSON_STRING), RESP_ITEM},
    {"last_seq", JSON_RULE_SCALAR, RESP_CURSOR},
    JSON_RULES_END,
};
static const struct json_rule resp_bulk_get[] = {
    {"results", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"results.[].docs.[].ok", T(JSON_OBJECT_START), RESP_ITEM},
    JSON_RULES_END,
};
static const struct json_rule resp_doc[] = {
    {"_id", T(JSON_STRING), RESP_ITEM_ONE},
    JSON_RULES_END,
};
/* Any response: {"error":"not_found","reason":"..."}. */
static const struct json_rule resp_any[] = {
    {"error", T(JSON_STRING), RESP_ERROR},
    JSON_RULES_END,
};

static const struct json_rule *const response_rules[COUCH_KIND_MAX] = {
    [COUCH_KIND_ALL_DBS] = resp_list,
    [COUCH_KIND_BULK_DOCS] = resp_list,
    [COUCH_KIND_DBS_INFO] = resp_dbs_info,
    [COUCH_KIND_MEMBERSHIP] = resp_membership,
    [COUCH_KIND_DB_INFO] = resp_db_info,
    [COUCH_KIND_ROWS] = resp_rows,
    [COUCH_KIND_FIND] = resp_find,
    [COUCH_KIND_CHANGES] = resp_changes,
    [COUCH_KIND_BULK_GET] = resp_bulk_get,
    [COUCH_KIND_DOC] = resp_doc,
};

#undef T

static int path_components(const char *path)
{
    int n = *path != '\0';
    for (; *path; path++)
        n += *path == '.';
    return n;
}

static int table_depth(const struct json_rule *rules)
{
    int max = 0;
    for (; rules != NULL && rules->path != NULL; rules++) {
        int c = path_components(rules->path);
        max = c > max ? c : max;
    }
    return max;
}

static int request_depth[COUCH_KIND_MAX], response_depth[COUCH_KIND_MAX], any_depth;
static pthread_once_t depth_once = PTHREAD_ONCE_INIT;

static void depth_init(void)
{
    for (int k = 0; k < COUCH_KIND_MAX; k++) {
        request_depth[k] = table_depth(request_rules[k]);
        response_depth[k] = table_depth(response_rules[k]);
    }
    any_depth = table_depth(resp_any);
}

/* ------------------------------------------------------------ observer */

enum couch_body_mode { BODY_NONE = 0, BODY_JSON, BODY_EVENTS };

struct couch_request_side {
    bool active;
    bool parse;
    enum couch_kind kind;
    bool selector_open;          /* inside the top-level selector object */
    uint32_t selector_members;
    bool narrowed;               /* the body narrows what is read */
    struct op_record *op;        /* set only while a body piece is scanned */
    struct json_scan scan;
};

struct couch_response_side {
    bool active;
    enum couch_kind kind;
    enum couch_body_mode mode;
    struct op_record *op;
    uint8_t data_match;          /* eventsource: bytes of "data:" matched at a line start */
    bool line_start;
    struct json_scan scan;
};

struct couch_flow {
    struct couch_request_side req;
    struct couch_response_side resp;
};

static bool op_call(const struct op_record *op, struct couch_call *call)
{
    if (op->http.method[0] == '\0')
        return false;
    struct http_span m = { op->http.method, strlen(op->http.method) };
    struct http_span t = { op->http.uri, strlen(op->http.uri) };
    couch_classify(m, t, call);
    return true;
}

/* Names and classifies the op; runs at request and again at response time
 * (idempotent), so that an op handed over without its request is read. */
static void couch_apply(struct op_record *op, const struct couch_call *call)
{
    op->app = APP_COUCHDB;
    if (call->name_len > 0)
        op_set_string(op, op->op, sizeof(op->op), call->name, call->name_len);
    op->op_class = (uint8_t)call->op_class;
    op_set_string(op, op->target, sizeof(op->target), call->target, call->target_len);
    if (call->match_all)
        op->flags |= OP_FLAG_MATCH_ALL;
    if (call->continues)
        op->flags |= OP_FLAG_CONTINUES;
    if (call->has_continuation && op->continuation[0] == '\0')
        memcpy(op->continuation, call->continuation, sizeof(op->continuation));
    if (call->limit >= 0 && op->page_size < 0)
        op->page_size = call->limit;
    if (call->skip >= 0 && op->offset < 0)
        op->offset = call->skip;
}

/* couch_apply ran on the op already: what the request body said since
 * (keys that narrow a read) must not be undone by applying it again. */
static bool op_named(const struct op_record *op)
{
    return op->app == APP_COUCHDB &&
           (op->op_class != OP_CLASS_UNKNOWN || strcmp(op->op, op->http.method) != 0);
}

/* ---- request side */

static void request_action(struct couch_request_side *r, struct op_record *op,
                           const struct json_rule *rule, const struct json_scan_value *v)
{
    int64_t n = json_value_count(v);
    switch (rule->action) {
    case REQ_LIMIT: if (n >= 0) op->page_size = n; break;
    case REQ_SKIP: if (n >= 0) op->offset = n; break;
    case REQ_ASK_ZERO: if (op->page_size < 0) op->page_size = 0; r->narrowed = true; break;
    case REQ_ASK_ONE: op->page_size = http_count_add(op->page_size, 1); break;
    case REQ_BOOKMARK:
        if (v->len > 0 && !(v->len == 3 && memcmp(v->text, "nil", 3) == 0)) {
            op_continuation_hash(v->text, v->len, op->continuation);
            op->flags |= OP_FLAG_CONTINUES;
        }
        break;
    case REQ_SELECTOR: r->selector_open = true; r->selector_members = 0; break;
    case REQ_NARROW: r->narrowed = true; break;
    default: break;
    }
}

static void request_value(void *arg, const struct json_scan *s, const struct json_scan_value *v)
{
    struct couch_request_side *r = arg;
    if (r->op == NULL)
        return;
    if (r->selector_open && json_scan_value_depth(s) == 1 && json_scan_at(s, "selector") &&
        v->type == JSON_OBJECT_END) {
        r->selector_open = false;
        if (r->selector_members == 0)
            r->op->flags |= OP_FLAG_MATCH_ALL;   /* "selector": {} reads everything */
        return;
    }
    if (r->selector_open && json_scan_value_depth(s) == 2 && v->type != JSON_OBJECT_END &&
        v->type != JSON_ARRAY_END)
        r->selector_members++;
    const struct json_rule *rule = json_rule_find(request_rules[r->kind], request_depth[r->kind],
                                                  s, v);
    if (rule != NULL)
        request_action(r, r->op, rule, v);
}

static void couch_request_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                               const struct http_head *head)
{
    pthread_once(&depth_once, depth_init);
    struct couch_request_side *r = &((struct couch_flow *)st)->req;
    struct couch_call call;
    (void)ctx;
    memset(r, 0, offsetof(struct couch_request_side, scan));
    if (http_head_find(head, "cookie") != NULL)
        op->authenticated = OP_AUTH_YES;        /* an AuthSession cookie */
    couch_classify(head->method, head->target, &call);
    couch_apply(op, &call);
    r->active = true;
    r->kind = call.kind;
    r->parse = request_rules[call.kind] != NULL;
    if (r->parse)
        json_scan_init(&r->scan, request_value, r);
}

static void couch_request_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                               const uint8_t *buf, size_t len)
{
    struct couch_request_side *r = &((struct couch_flow *)st)->req;
    (void)ctx;
    if (!r->active || !r->parse)
        return;
    r->op = op;
    (void)json_scan_feed(&r->scan, buf, len);
    r->op = NULL;
}

/* A body that narrows (keys, doc_ids) undoes what the path alone said. */
static void couch_request_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    struct couch_request_side *r = &((struct couch_flow *)st)->req;
    (void)ctx;
    if (!r->active)
        return;
    r->active = false;
    if (r->narrowed && r->kind != COUCH_KIND_FIND)
        op->flags &= ~OP_FLAG_MATCH_ALL;
}

/* ---- response side */

static void response_action(struct op_record *op, const struct json_rule *rule,
                            const struct json_scan_value *v)
{
    int64_t n = json_value_count(v);
    switch (rule->action) {
    case RESP_ITEMS_ZERO: if (op->items < 0) op->items = 0; break;
    case RESP_ITEM: op->items = http_count_add(op->items, 1); break;
    case RESP_ITEM_ONE: op->items = 1; break;
    case RESP_TOTAL_SET: if (n >= 0) op->total = n; break;
    case RESP_TOTAL_ADD: if (n >= 0) op->total = http_count_add(op->total, n); break;
    case RESP_CURSOR:
        if (v->len > 0)
            op_continuation_hash(v->text, v->len, op->cursor_out);   /* the last one */
        break;
    case RESP_ERROR:
        if (op->error_type[0] == '\0')
            op_set_string(op, op->error_type, sizeof(op->error_type), v->text, v->len);
        break;
    default: break;
    }
}

static void response_value(void *arg, const struct json_scan *s, const struct json_scan_value *v)
{
    struct couch_response_side *r = arg;
    if (r->op == NULL)
        return;
    const struct json_rule *rule = json_rule_find(response_rules[r->kind],
                                                  response_depth[r->kind], s, v);
    if (rule == NULL && json_scan_value_depth(s) == 1 && s->values == 0)
        rule = json_rule_find(resp_any, any_depth, s, v);
    if (rule != NULL)
        response_action(r->op, rule, v);
}

/* eventsource: each event is a "data: {...}" line; one per change. */
static void events_feed(struct couch_response_side *r, struct op_record *op,
                        const uint8_t *buf, size_t len)
{
    static const char data[] = "data:";
    for (size_t i = 0; i < len; i++) {
        char c = (char)buf[i];
        if (c == '\n') {
            r->line_start = true;
            r->data_match = 0;
            continue;
        }
        if (!r->line_start)
            continue;
        if (c == data[r->data_match]) {
            if (++r->data_match == sizeof(data) - 1) {
                op->items = http_count_add(op->items, 1);
                r->line_start = false;
            }
        } else {
            r->line_start = false;
        }
    }
}

static void couch_response_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                                const struct http_head *head)
{
    pthread_once(&depth_once, depth_init);
    struct couch_response_side *r = &((struct couch_flow *)st)->resp;
    struct couch_call call;
    (void)ctx;
    memset(r, 0, offsetof(struct couch_response_side, scan));
    if (!op_call(op, &call))
        return;
    if (!op_named(op))
        couch_apply(op, &call);     /* handed over without its request */
    bool ok = op->status_code >= 200 && op->status_code < 300;
    const struct http_header *ct = http_head_find(head, "content-type");
    r->active = true;
    r->op = op;
    r->kind = call.kind;
    /* An eventsource feed is read as events only when it comes as one: a
     * server without it (PouchDB Server) answers a normal JSON feed. */
    if (ok && call.kind == COUCH_KIND_CHANGES && call.feed == COUCH_FEED_EVENTSOURCE &&
        (ct == NULL || http_span_contains_ci(ct->value, "event-stream"))) {
        r->mode = BODY_EVENTS;
        r->line_start = true;
        op->items = 0;
        return;
    }
    if (ct != NULL && !http_span_contains_ci(ct->value, "json") &&
        !http_span_contains_ci(ct->value, "text/plain"))
        return;                     /* attachments, Fauxton pages */
    if (response_rules[call.kind] == NULL && ok)
        return;
    r->mode = BODY_JSON;
    json_scan_init(&r->scan, response_value, r);
}

static void couch_response_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                                const uint8_t *buf, size_t len)
{
    struct couch_response_side *r = &((struct couch_flow *)st)->resp;
    (void)ctx;
    if (!r->active || op != r->op)
        return;
    if (r->mode == BODY_JSON)
        (void)json_scan_feed(&r->scan, buf, len);
    else if (r->mode == BODY_EVENTS)
        events_feed(r, op, buf, len);
}

static void couch_response_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    struct couch_response_side *r = &((struct couch_flow *)st)->resp;
    if (r->active && op == r->op) {
        if (r->mode == BODY_JSON)
            (void)json_scan_finish(&r->scan);
        r->active = false;
        r->op = NULL;
    } else {
        struct couch_call call;
        if (!op_named(op) && op_call(op, &call))
            couch_apply(op, &call);     /* no response head: named all the same */
        op->app = APP_COUCHDB;
    }
    /* POST /_session is a cookie login with the name and password in its
     * body: 401 refused it (credentials in a header: http.c). */
    if (strcmp(op->op, "_session") == 0 && strcmp(op->http.method, "POST") == 0 &&
        op->status_code >= 100)
        op->auth_result = op->status_code == 401 ? OP_AUTH_RESULT_FAILURE
                                                 : OP_AUTH_RESULT_SUCCESS;
    /* Credentials sent or not; unknown when the flow's start was missed. */
    if (op->authenticated != OP_AUTH_YES)
        op->authenticated = ctx->midstream ? OP_AUTH_UNKNOWN : OP_AUTH_NO;
}

const struct http_observer couchdb_observer = {
    .state_size = sizeof(struct couch_flow),
    .request_head = couch_request_head,
    .request_body = couch_request_body,
    .request_end = couch_request_end,
    .response_head = couch_response_head,
    .response_body = couch_response_body,
    .response_end = couch_response_end,
    .close = NULL,
};

/* ------------------------------------------------------------ decoders */

static bool couch_claims(struct http_span method, struct http_span target)
{
    struct couch_call call;
    couch_classify(method, target, &call);
    return call.own_api;
}

static const char *const couch_marks[] = {
    "\"couchdb\":\"Welcome", "\"express-pouchdb\":\"Welcome", "{\"pouchdb-server\":", NULL,
};

const struct http_app couchdb_http_app = {
    .app = APP_COUCHDB,
    .obs = &couchdb_observer,
    .claims = couch_claims,
    .server_head = couch_server_head,
    .body_marks = couch_marks,
};

static void *couch_open(struct decoder_ctx *ctx)
{
    return http_open_with(ctx, &couchdb_observer, APP_COUCHDB);
}

static const uint16_t couch_ports[] = { 5984 };

/* "couchdb": CouchDB's port; every op is read as a CouchDB call. */
const struct decoder couchdb_decoder = {
    .name = "couchdb",
    .app = APP_COUCHDB,
    .ports = couch_ports,
    .port_count = ARRAY_LEN(couch_ports),
    .settings = &http_settings,
    .counters = &http_counters,
    .open = couch_open,
    .data = http_stream_data,
    .gap = http_stream_gap,
    .end = http_stream_end,
    .close = http_stream_close,
};
