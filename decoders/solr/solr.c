/* solr.c - Solr REST calls: classifier, response readers and HTTP observer.
 *
 * The classifier (first half) is pure. Paths are /solr/<handler...> for
 * the node's admin handlers (admin/cores, admin/collections, admin/info/...)
 * and /solr/<core>/<handler...> for a core's (select, update, config...);
 * the "/solr" prefix may be missing behind a proxy or on Solr's own port.
 * Admin calls are classified by their action= parameter.
 *
 * The observer (second half) reads JSON bodies with json_scan and rule
 * tables, XML with solr_xml (a tag reader that keeps one tag and one cursor
 * mark, no more), CSV by counting lines. Request bodies are read for what
 * they change: the JSON request API (query, limit, offset, params), update
 * commands that delete, config commands that enable Velocity templates,
 * and form bodies that carry a DataImportHandler dataConfig. Cursor marks
 * hash their first SOLR_CURSOR_MAX bytes, as the JSON scanner keeps no
 * more of a string. */
#include "solr.h"

#include <pthread.h>
#include <string.h>

#include "../http/http_url.h"
#include "../json/json_rules.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FORM_MAX 1024     /* bytes of a form body read for parameters */
#define MARK_WINDOW 32    /* bytes kept to find words across body pieces */
#define WORDS_SCAN_MAX 65536  /* request body bytes searched for words */

/* ------------------------------------------------------------ classifier */

enum { M_READ = 1, M_WRITE = 2, M_DELETE = 4 };

static unsigned method_bit(struct http_span m)
{
    if (http_span_ieq(m, "GET") || http_span_ieq(m, "HEAD"))
        return M_READ;
    if (http_span_ieq(m, "DELETE"))
        return M_DELETE;
    return M_WRITE;
}

static void call_init(struct solr_call *call)
{
    memset(call, 0, sizeof(*call));
    call->rows = -1;
    call->start = -1;
}

static void call_set_name(struct solr_call *call, const char *a, const char *b)
{
    size_t n = 0, cap = sizeof(call->name) - 1;
    for (const char *p = a; *p != '\0' && n < cap; p++)
        call->name[n++] = *p;
    if (b != NULL && n < cap)
        call->name[n++] = '/';
    for (const char *p = b; p != NULL && *p != '\0' && n < cap; p++)
        call->name[n++] = *p;
    call->name[n] = '\0';
    call->name_len = n;
}

static void call_set_target(struct solr_call *call, const struct http_url_segment *s)
{
    bool cut;
    call->target_len = http_url_decode(s->raw, call->target, OP_TARGET_MAX, false, &cut);
    call->target[call->target_len] = '\0';
}

static bool value_ieq(const char *v, size_t n, const char *text)
{
    struct http_span s = { v, n };
    return http_span_ieq(s, text);
}

/* The decoded value of a query parameter, in buf; false when absent. */
static bool param(const struct http_url *url, const char *name, char *buf, size_t cap,
                  size_t *len)
{
    return http_query_get(url->query, name, buf, cap, len);
}

static bool param_true(const struct http_url *url, const char *name)
{
    char v[8];
    size_t n;
    return param(url, name, v, sizeof(v), &n) && value_ieq(v, n, "true");
}

/* admin/cores and admin/collections by action=: listing, destroying, or
 * anything else (create, reload, split...) as admin. */
static void classify_admin_action(struct solr_call *call, const struct http_url *url,
                                  bool collections)
{
    char action[32];
    size_t n = 0;
    bool has = param(url, "action", action, sizeof(action), &n);
    call->op_class = OP_CLASS_ADMIN;
    if (!has || value_ieq(action, n, "STATUS") || value_ieq(action, n, "LIST") ||
        value_ieq(action, n, "CLUSTERSTATUS") || value_ieq(action, n, "LISTALIASES")) {
        call->op_class = OP_CLASS_ENUMERATE;
        call->kind = collections ? SOLR_KIND_COLLECTIONS : SOLR_KIND_CORES;
    } else if (collections && value_ieq(action, n, "DELETE")) {
        call->op_class = OP_CLASS_DESTROY;
        call_set_name(call, "delete_collection", NULL);   /* as rules name drops */
    } else if (value_ieq(action, n, "DELETEALIAS") || value_ieq(action, n, "DELETESHARD") ||
               value_ieq(action, n, "DELETEREPLICA")) {
        call->op_class = OP_CLASS_DESTROY;
    } else if (value_ieq(action, n, "UNLOAD") &&
               (param_true(url, "deleteIndex") || param_true(url, "deleteDataDir") ||
                param_true(url, "deleteInstanceDir"))) {
        call->op_class = OP_CLASS_DESTROY;
        call_set_name(call, "delete_core", NULL);
    }
    char core[OP_TARGET_MAX];
    if (param(url, collections ? "name" : "core", core, sizeof(core), &n) ||
        param(url, "collection", core, sizeof(core), &n)) {
        memcpy(call->target, core, n);
        call->target[n] = '\0';
        call->target_len = n;
    }
}

/* /solr/admin/<x>[/<y>] */
static void classify_admin(struct solr_call *call, const struct http_url *url, size_t a)
{
    const char *sub = a + 1 < url->count && !url->seg[a + 1].cut ? url->seg[a + 1].text : NULL;
    call_set_name(call, "admin", sub);
    call->op_class = OP_CLASS_ADMIN;
    if (sub == NULL)
        return;
    if (strcmp(sub, "cores") == 0) {
        classify_admin_action(call, url, false);
    } else if (strcmp(sub, "collections") == 0) {
        classify_admin_action(call, url, true);
    } else if (strcmp(sub, "info") == 0) {
        const char *what = a + 2 < url->count && !url->seg[a + 2].cut ? url->seg[a + 2].text
                                                                        : NULL;
        if (what != NULL)
            call_set_name(call, "admin/info", what);
        call->op_class = what != NULL && strcmp(what, "system") == 0 ? OP_CLASS_HANDSHAKE
                                                                      : OP_CLASS_ENUMERATE;
    } else if (strcmp(sub, "metrics") == 0 || strcmp(sub, "zookeeper") == 0 ||
               strcmp(sub, "luke") == 0 || strcmp(sub, "mbeans") == 0 ||
               strcmp(sub, "segments") == 0 || strcmp(sub, "system") == 0) {
        call->op_class = strcmp(sub, "system") == 0 ? OP_CLASS_HANDSHAKE : OP_CLASS_ENUMERATE;
    } else if (strcmp(sub, "ping") == 0) {
        call->op_class = OP_CLASS_HANDSHAKE;
    } else if (strcmp(sub, "configs") == 0) {
        char action[16];
        size_t n = 0;
        bool has = param(url, "action", action, sizeof(action), &n);
        call->op_class = !has || value_ieq(action, n, "LIST") ? OP_CLASS_ENUMERATE
                         : value_ieq(action, n, "DELETE") ? OP_CLASS_DESTROY
                                                          : OP_CLASS_ADMIN;
    } else if (strcmp(sub, "file") == 0) {
        call->op_class = OP_CLASS_READ;
    }
}

/* A core's handler: /<core>/<handler>[/...]. */
struct solr_handler {
    const char *name;
    uint8_t kind;
    uint8_t read_class, write_class;     /* by method: GET/HEAD, other */
};

#define H(name, kind, rc, wc) {name, SOLR_KIND_##kind, OP_CLASS_##rc, OP_CLASS_##wc}
static const struct solr_handler handlers[] = {
    H("select", SEARCH, READ, READ),
    H("query", SEARCH, READ, READ),
    H("export", SEARCH, READ, READ),
    H("browse", SEARCH, READ, READ),
    H("spell", SEARCH, READ, READ),
    H("suggest", SEARCH, READ, READ),
    H("mlt", SEARCH, READ, READ),
    H("tvrh", SEARCH, READ, READ),
    H("terms", OTHER, ENUMERATE, ENUMERATE),
    H("get", GET, READ, READ),
    H("stream", STREAM, READ, READ),
    H("sql", STREAM, READ, READ),
    H("update", UPDATE, WRITE, WRITE),
    H("config", CONFIG, ENUMERATE, ADMIN),
    H("schema", OTHER, ENUMERATE, ADMIN),
    H("dataimport", OTHER, ADMIN, ADMIN),
    H("replication", OTHER, ENUMERATE, ADMIN),
};
#undef H

static void classify_core(struct solr_call *call, const struct http_url *url, size_t c,
                          unsigned m)
{
    call_set_target(call, &url->seg[c]);
    if (c + 1 >= url->count) {
        call_set_name(call, "core", NULL);
        call->op_class = OP_CLASS_ENUMERATE;
        return;
    }
    const struct http_url_segment *h = &url->seg[c + 1];
    if (http_url_seg_is(url, c + 1, "admin")) {
        classify_admin(call, url, c + 1);
        return;
    }
    for (size_t i = 0; i < ARRAY_LEN(handlers); i++) {
        if (!http_url_seg_is(url, c + 1, handlers[i].name))
            continue;
        call->kind = (enum solr_kind)handlers[i].kind;
        call->op_class = (enum op_class)((m & M_READ) ? handlers[i].read_class
                                                      : handlers[i].write_class);
        call_set_name(call, handlers[i].name, NULL);
        return;
    }
    if (!h->cut)
        call_set_name(call, h->text, NULL);
}

/* Query parameters that matter to what is read. */
static void classify_params(struct solr_call *call, const struct http_url *url)
{
    char v[SOLR_CURSOR_MAX];
    size_t n;
    if (param(url, "q", v, sizeof(v), &n))
        call->match_all = value_ieq(v, n, "*:*") || value_ieq(v, n, "*");
    if (param(url, "rows", v, sizeof(v), &n))
        call->rows = http_parse_count(v, n);
    if (param(url, "start", v, sizeof(v), &n))
        call->start = http_parse_count(v, n);
    if (param(url, "cursorMark", v, sizeof(v), &n) && n > 0 && !value_ieq(v, n, "*")) {
        op_continuation_hash(v, n, call->continuation);
        call->has_continuation = true;
        call->continues = true;
    }
    if (param(url, "wt", v, sizeof(v), &n)) {
        call->wt = value_ieq(v, n, "json") ? SOLR_WT_JSON
                   : value_ieq(v, n, "xml") ? SOLR_WT_XML
                   : value_ieq(v, n, "csv") ? SOLR_WT_CSV
                   : value_ieq(v, n, "javabin") ? SOLR_WT_JAVABIN : SOLR_WT_OTHER;
        if (value_ieq(v, n, "velocity") && (param(url, "v.template", v, sizeof(v), &n) ||
                                            param(url, "v.template.custom", v, sizeof(v), &n)))
            call->probe = true;             /* CVE-2019-17558 template injection */
    }
    if (param(url, "dataConfig", v, sizeof(v), &n))
        call->probe = true;                 /* DataImportHandler script/URL injection */
    if (param(url, "stream.body", v, sizeof(v), &n) && call->kind == SOLR_KIND_UPDATE) {
        struct http_span body = { v, n };
        if (http_span_contains_ci(body, "<delete") || http_span_contains_ci(body, "\"delete\""))
            call->op_class = OP_CLASS_DESTROY;
    }
}

void solr_classify(struct http_span method, struct http_span target, struct solr_call *call)
{
    struct http_url url;
    unsigned m = method_bit(method);
    call_init(call);
    http_url_split(target, &url);
    size_t c = 0;
    if (http_url_seg_is(&url, 0, "solr")) {
        call->own_api = true;
        c = 1;
    }
    if (c >= url.count) {
        call_set_name(call, "banner", NULL);     /* the admin UI's page */
        call->op_class = OP_CLASS_HANDSHAKE;
    } else if (http_url_seg_is(&url, c, "admin")) {
        classify_admin(call, &url, c);
    } else {
        classify_core(call, &url, c, m);
    }
    classify_params(call, &url);
}

/* ------------------------------------------------------------ XML reader */

enum { XML_TEXT = 0, XML_TAG };

void solr_xml_init(struct solr_xml *x)
{
    memset(x, 0, sizeof(*x));
    x->num_found = -1;
    x->docs = -1;
}

void solr_xml_count_list(struct solr_xml *x, enum solr_xml_list list)
{
    x->list = (uint8_t)list;
}

/* The value of attribute `name` in a tag's text; false if absent. */
static bool xml_attr(const char *tag, size_t len, const char *name, const char **v,
                     size_t *vlen)
{
    size_t n = strlen(name);
    for (size_t i = 0; i + n + 2 <= len; i++) {
        if ((tag[i] != ' ' && tag[i] != '\t' && tag[i] != '\n') ||
            memcmp(tag + i + 1, name, n) != 0 || tag[i + 1 + n] != '=')
            continue;
        size_t q = i + 2 + n;
        if (q >= len || (tag[q] != '"' && tag[q] != '\''))
            continue;
        const char *end = memchr(tag + q + 1, tag[q], len - q - 1);
        if (end == NULL)
            return false;
        *v = tag + q + 1;
        *vlen = (size_t)(end - (tag + q + 1));
        return true;
    }
    return false;
}

static bool tag_named(const char *tag, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len >= n && memcmp(tag, name, n) == 0 &&
           (len == n || tag[n] == ' ' || tag[n] == '\t' || tag[n] == '\n' || tag[n] == '/');
}

static bool attr_is(const char *tag, size_t len, const char *name, const char *want)
{
    const char *v;
    size_t vlen;
    return xml_attr(tag, len, name, &v, &vlen) && vlen == strlen(want) &&
           memcmp(v, want, vlen) == 0;
}

/* The admin list's element opens, or a tag inside it: each element right
 * under it is one item (a core's <lst>, a collection's <str>). */
static void xml_list_tag(struct solr_xml *x, const char *t, size_t len, bool self_closing)
{
    if (!x->in_list) {
        bool opens = x->list == SOLR_XML_LIST_CORES
                     ? tag_named(t, len, "lst") && attr_is(t, len, "name", "status")
                     : tag_named(t, len, "arr") && attr_is(t, len, "name", "collections");
        if (opens && x->docs < 0) {
            x->docs = 0;
            x->in_list = !self_closing;
            x->list_depth = 0;
        }
        return;
    }
    if (len > 0 && t[0] == '/') {
        if (x->list_depth == 0)
            x->in_list = false;
        else
            x->list_depth--;
        return;
    }
    if (len == 0 || t[0] == '?' || t[0] == '!')
        return;
    if (x->list_depth == 0)
        x->docs++;
    if (!self_closing)
        x->list_depth++;
}

/* A whole tag (without its angle brackets) was read. */
static void xml_tag(struct solr_xml *x)
{
    const char *t = x->tag;
    size_t len = x->tag_len;
    const char *v;
    size_t vlen;
    bool self_closing = len > 0 && t[len - 1] == '/';
    if (x->list != SOLR_XML_LIST_NONE) {
        xml_list_tag(x, t, len, self_closing);
        return;
    }
    if (x->cursor_text && tag_named(t, len, "/str")) {
        op_continuation_hash(x->text, x->text_len, x->cursor);
        x->has_cursor = true;
        x->cursor_text = false;
        return;
    }
    if (tag_named(t, len, "result") && xml_attr(t, len, "name", &v, &vlen) &&
        vlen == 8 && memcmp(v, "response", 8) == 0 && !x->in_result) {
        x->in_result = !self_closing;
        x->docs = 0;
        x->doc_depth = 0;
        if (xml_attr(t, len, "numFound", &v, &vlen))
            x->num_found = http_parse_count(v, vlen);
    } else if (x->in_result && tag_named(t, len, "/result") && x->doc_depth == 0) {
        x->in_result = false;
    } else if (x->in_result && tag_named(t, len, "doc")) {
        if (x->doc_depth == 0)
            x->docs++;
        if (!self_closing)
            x->doc_depth++;
    } else if (x->in_result && tag_named(t, len, "/doc") && x->doc_depth > 0) {
        x->doc_depth--;
    } else if (!x->in_result && tag_named(t, len, "str") && !self_closing &&
               xml_attr(t, len, "name", &v, &vlen) && vlen == 14 &&
               memcmp(v, "nextCursorMark", 14) == 0) {
        x->cursor_text = true;
        x->text_len = 0;
    }
}

void solr_xml_feed(struct solr_xml *x, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = (char)buf[i];
        if (x->state == XML_TEXT) {
            if (c == '<') {
                x->state = XML_TAG;
                x->tag_len = 0;
                x->tag_cut = false;
            } else if (x->cursor_text && x->text_len < sizeof(x->text)) {
                x->text[x->text_len++] = c;
            }
            continue;
        }
        if (c == '>') {
            x->state = XML_TEXT;
            if (!x->tag_cut)
                xml_tag(x);                 /* a longer tag is none we read */
            continue;
        }
        if (x->tag_len < sizeof(x->tag))
            x->tag[x->tag_len++] = c;
        else
            x->tag_cut = true;
    }
}

/* ------------------------------------------------------------ body rules */

enum solr_action {
    REQ_QUERY = 1,       /* JSON request API "query": match_all when "*:*" */
    REQ_LIMIT,           /* page_size */
    REQ_OFFSET,          /* offset */
    REQ_CURSOR,          /* params.cursorMark */
    REQ_DELETE,          /* an update command deletes */
    RESP_ITEMS_ZERO,
    RESP_ITEM,
    RESP_ITEM_ONE,
    RESP_ITEM_UNDO,      /* the EOF tuple of a stream is no document */
    RESP_TOTAL_SET,
    RESP_CURSOR,
    RESP_ERROR_META,     /* error.metadata: ["error-class", "<class>", ...] */
};

#define T JSON_RULE_T

static const struct json_rule req_search[] = {
    {"query", T(JSON_STRING), REQ_QUERY},
    {"params.q", T(JSON_STRING), REQ_QUERY},
    {"limit", T(JSON_NUMBER), REQ_LIMIT},
    {"params.rows", JSON_RULE_SCALAR, REQ_LIMIT},
    {"offset", T(JSON_NUMBER), REQ_OFFSET},
    {"params.start", JSON_RULE_SCALAR, REQ_OFFSET},
    {"params.cursorMark", T(JSON_STRING), REQ_CURSOR},
    JSON_RULES_END,
};
static const struct json_rule req_update[] = {
    {"delete", JSON_RULE_ANY_START, REQ_DELETE},
    JSON_RULES_END,
};

static const struct json_rule *const request_rules[SOLR_KIND_MAX] = {
    [SOLR_KIND_SEARCH] = req_search,
    [SOLR_KIND_UPDATE] = req_update,
};

static const struct json_rule resp_search[] = {
    {"response.numFound", T(JSON_NUMBER), RESP_TOTAL_SET},
    {"response.docs", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"response.docs.[]", JSON_RULE_ANY_START, RESP_ITEM},
    {"nextCursorMark", T(JSON_STRING), RESP_CURSOR},
    JSON_RULES_END,
};
static const struct json_rule resp_get[] = {
    {"doc", T(JSON_OBJECT_START), RESP_ITEM_ONE},
    {"doc", T(JSON_NULL), RESP_ITEMS_ZERO},
    {"response.numFound", T(JSON_NUMBER), RESP_TOTAL_SET},
    {"response.docs", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"response.docs.[]", JSON_RULE_ANY_START, RESP_ITEM},
    JSON_RULES_END,
};
static const struct json_rule resp_cores[] = {
    {"status", T(JSON_OBJECT_START), RESP_ITEMS_ZERO},
    {"status.*", T(JSON_OBJECT_START), RESP_ITEM},
    JSON_RULES_END,
};
static const struct json_rule resp_collections[] = {
    {"collections", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"collections.[]", JSON_RULE_ANY_START, RESP_ITEM},
    JSON_RULES_END,
};
static const struct json_rule resp_stream[] = {
    {"result-set.docs", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"result-set.docs.[]", JSON_RULE_ANY_START, RESP_ITEM},
    {"result-set.docs.[].EOF", T(JSON_TRUE), RESP_ITEM_UNDO},
    JSON_RULES_END,
};
static const struct json_rule resp_any[] = {
    {"error.metadata.[]", T(JSON_STRING), RESP_ERROR_META},
    JSON_RULES_END,
};

static const struct json_rule *const response_rules[SOLR_KIND_MAX] = {
    [SOLR_KIND_SEARCH] = resp_search,
    [SOLR_KIND_GET] = resp_get,
    [SOLR_KIND_CORES] = resp_cores,
    [SOLR_KIND_COLLECTIONS] = resp_collections,
    [SOLR_KIND_STREAM] = resp_stream,
};

#undef T

static int table_depth(const struct json_rule *rules)
{
    int max = 0;
    for (; rules != NULL && rules->path != NULL; rules++) {
        const char *p = rules->path;
        int n = *p != '\0';
        for (; *p; p++)
            n += *p == '.';
        max = n > max ? n : max;
    }
    return max;
}

static int request_depth[SOLR_KIND_MAX], response_depth[SOLR_KIND_MAX], any_depth;
static pthread_once_t depth_once = PTHREAD_ONCE_INIT;

static void depth_init(void)
{
    for (int k = 0; k < SOLR_KIND_MAX; k++) {
        request_depth[k] = table_depth(request_rules[k]);
        response_depth[k] = table_depth(response_rules[k]);
    }
    any_depth = table_depth(resp_any);
}

/* ------------------------------------------------------------ observer */

enum solr_body { BODY_NONE = 0, BODY_JSON, BODY_XML, BODY_CSV, BODY_FORM, BODY_TEXT };

/* Words that, anywhere in a request body, mark a known attack. */
static const char *const probe_words[] = {
    "velocityresponsewriter", "resource.loader.enabled", "dataconfig", NULL,
};
/* ...and words that make an update a deletion (XML or JSON commands). */
static const char *const delete_words[] = { "<delete", "\"delete\"", NULL };

/* Lower-cased last bytes of a body, to find words across body pieces. */
struct solr_words {
    char window[MARK_WINDOW];
    size_t len;
    size_t scanned;              /* bytes looked at, up to WORDS_SCAN_MAX */
};

struct solr_request_side {
    bool active;
    enum solr_kind kind;
    enum solr_body mode;
    struct op_record *op;
    struct solr_words words;     /* for probe_words */
    struct solr_words deletes;   /* for delete_words */
    size_t form_len;
    char form[FORM_MAX];         /* a form body's first bytes (select via POST) */
    struct json_scan scan;
};

struct solr_response_side {
    bool active;
    enum solr_kind kind;
    enum solr_body mode;
    struct op_record *op;
    bool error_class_next;       /* the next metadata string is the error class */
    bool csv_header;             /* the first CSV line names the fields */
    bool csv_line_open;          /* bytes seen since the last newline */
    union {
        struct json_scan scan;
        struct solr_xml xml;
    } u;
};

struct solr_flow {
    struct solr_request_side req;
    struct solr_response_side resp;
};

static void solr_apply(struct op_record *op, const struct solr_call *call)
{
    op->app = APP_SOLR;
    if (call->name_len > 0)
        op_set_string(op, op->op, sizeof(op->op), call->name, call->name_len);
    if (op->op_class != OP_CLASS_DESTROY)
        op->op_class = (uint8_t)call->op_class;
    op_set_string(op, op->target, sizeof(op->target), call->target, call->target_len);
    if (call->match_all)
        op->flags |= OP_FLAG_MATCH_ALL;
    if (call->continues)
        op->flags |= OP_FLAG_CONTINUES;
    if (call->probe)
        op->flags |= OP_FLAG_PROBE;
    if (call->has_continuation && op->continuation[0] == '\0')
        memcpy(op->continuation, call->continuation, sizeof(op->continuation));
    if (call->rows >= 0 && op->page_size < 0)
        op->page_size = call->rows;
    if (call->start >= 0 && op->offset < 0)
        op->offset = call->start;
}

static bool op_call(const struct op_record *op, struct solr_call *call)
{
    if (op->http.method[0] == '\0')
        return false;
    struct http_span m = { op->http.method, strlen(op->http.method) };
    struct http_span t = { op->http.uri, strlen(op->http.uri) };
    solr_classify(m, t, call);
    return true;
}

/* ---- request side */

/* Slides body bytes through the window; true when one of `words` ends in
 * it. Only the first WORDS_SCAN_MAX bytes of a body are searched: commands
 * and configurations are small, bulk updates are not. */
static bool words_feed(struct solr_words *w, const uint8_t *buf, size_t len,
                       const char *const *words)
{
    bool found = false;
    if (len > WORDS_SCAN_MAX - w->scanned)
        len = WORDS_SCAN_MAX - w->scanned;
    w->scanned += len;
    for (size_t i = 0; i < len; i++) {
        if (w->len == sizeof(w->window)) {
            memmove(w->window, w->window + 1, sizeof(w->window) - 1);
            w->len--;
        }
        w->window[w->len++] = (char)http_ascii_lower(buf[i]);
        for (const char *const *word = words; *word != NULL && !found; word++) {
            size_t n = strlen(*word);
            found = n <= w->len && memcmp(w->window + w->len - n, *word, n) == 0;
        }
    }
    return found;
}

static void request_value(void *arg, const struct json_scan *s, const struct json_scan_value *v)
{
    struct solr_request_side *r = arg;
    if (r->op == NULL)
        return;
    const struct json_rule *rule = json_rule_find(request_rules[r->kind], request_depth[r->kind],
                                                  s, v);
    if (rule == NULL)
        return;
    struct op_record *op = r->op;
    int64_t n = json_value_count(v);
    switch (rule->action) {
    case REQ_QUERY:
        if (v->len == 3 && memcmp(v->text, "*:*", 3) == 0)
            op->flags |= OP_FLAG_MATCH_ALL;
        break;
    case REQ_LIMIT: if (n >= 0) op->page_size = n; break;
    case REQ_OFFSET: if (n >= 0) op->offset = n; break;
    case REQ_CURSOR:
        if (v->len > 0 && !(v->len == 1 && v->text[0] == '*')) {
            op_continuation_hash(v->text, v->len, op->continuation);
            op->flags |= OP_FLAG_CONTINUES;
        }
        break;
    case REQ_DELETE: op->op_class = OP_CLASS_DESTROY; break;
    default: break;
    }
}

static void solr_request_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                              const struct http_head *head)
{
    pthread_once(&depth_once, depth_init);
    struct solr_request_side *r = &((struct solr_flow *)st)->req;
    struct solr_call call;
    (void)ctx;
    memset(r, 0, offsetof(struct solr_request_side, form));
    solr_classify(head->method, head->target, &call);
    solr_apply(op, &call);
    r->active = true;
    r->kind = call.kind;
    const struct http_header *ct = http_head_find(head, "content-type");
    if (ct != NULL && http_span_contains_ci(ct->value, "x-www-form-urlencoded"))
        r->mode = BODY_FORM;
    else if (ct != NULL && http_span_contains_ci(ct->value, "json") &&
             request_rules[call.kind] != NULL)
        r->mode = BODY_JSON;
    else
        r->mode = BODY_TEXT;
    if (r->mode == BODY_JSON)
        json_scan_init(&r->scan, request_value, r);
}

static void solr_request_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                              const uint8_t *buf, size_t len)
{
    struct solr_request_side *r = &((struct solr_flow *)st)->req;
    (void)ctx;
    if (!r->active)
        return;
    bool commands = r->kind != SOLR_KIND_SEARCH && r->kind != SOLR_KIND_GET &&
                    r->kind != SOLR_KIND_STREAM;
    if (commands && words_feed(&r->words, buf, len, probe_words))
        op->flags |= OP_FLAG_PROBE;
    if (r->kind == SOLR_KIND_UPDATE && r->mode != BODY_JSON) {
        if (words_feed(&r->deletes, buf, len, delete_words))
            op->op_class = OP_CLASS_DESTROY;
    }
    if (r->mode == BODY_FORM) {
        size_t n = len < FORM_MAX - r->form_len ? len : FORM_MAX - r->form_len;
        memcpy(r->form + r->form_len, buf, n);
        r->form_len += n;
    } else if (r->mode == BODY_JSON) {
        r->op = op;
        (void)json_scan_feed(&r->scan, buf, len);
        r->op = NULL;
    }
}

/* A form body holds the same parameters a query string would. */
static void solr_request_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    struct solr_request_side *r = &((struct solr_flow *)st)->req;
    (void)ctx;
    if (!r->active)
        return;
    r->active = false;
    if (r->mode != BODY_FORM || r->form_len == 0)
        return;
    char target[FORM_MAX + 2];
    struct solr_call call;
    target[0] = '/';
    target[1] = '?';
    memcpy(target + 2, r->form, r->form_len);
    struct http_span t = { target, r->form_len + 2 };
    struct http_span m = { "GET", 3 };
    solr_classify(m, t, &call);
    if (call.match_all)
        op->flags |= OP_FLAG_MATCH_ALL;
    if (call.probe)
        op->flags |= OP_FLAG_PROBE;
    if (call.rows >= 0)
        op->page_size = call.rows;
    if (call.start >= 0)
        op->offset = call.start;
    if (call.has_continuation) {
        memcpy(op->continuation, call.continuation, sizeof(op->continuation));
        op->flags |= OP_FLAG_CONTINUES;
    }
}

/* ---- response side */

static void response_value(void *arg, const struct json_scan *s, const struct json_scan_value *v)
{
    struct solr_response_side *r = arg;
    struct op_record *op = r->op;
    if (op == NULL)
        return;
    const struct json_rule *rule = json_rule_find(response_rules[r->kind],
                                                  response_depth[r->kind], s, v);
    if (rule == NULL)
        rule = json_rule_find(resp_any, any_depth, s, v);
    if (rule == NULL)
        return;
    int64_t n = json_value_count(v);
    switch (rule->action) {
    case RESP_ITEMS_ZERO: if (op->items < 0) op->items = 0; break;
    case RESP_ITEM: op->items = http_count_add(op->items, 1); break;
    case RESP_ITEM_ONE: op->items = 1; break;
    case RESP_ITEM_UNDO: if (op->items > 0) op->items--; break;
    case RESP_TOTAL_SET: if (n >= 0) op->total = n; break;
    case RESP_CURSOR:
        if (v->len > 0)
            op_continuation_hash(v->text, v->len, op->cursor_out);
        break;
    case RESP_ERROR_META:
        if (r->error_class_next && op->error_type[0] == '\0')
            op_set_string(op, op->error_type, sizeof(op->error_type), v->text, v->len);
        r->error_class_next = v->len == 11 && memcmp(v->text, "error-class", 11) == 0;
        break;
    default: break;
    }
}

/* JSON, XML, CSV or nothing (javabin and the rest): by Content-Type, else
 * by wt=, else Solr's default (JSON since Solr 7). */
static enum solr_body response_mode(const struct solr_call *call, const struct http_head *h)
{
    const struct http_header *ct = http_head_find(h, "content-type");
    if (ct != NULL) {
        if (http_span_contains_ci(ct->value, "json"))
            return BODY_JSON;
        if (http_span_contains_ci(ct->value, "xml"))
            return BODY_XML;
        if (http_span_contains_ci(ct->value, "csv") ||
            (call->wt == SOLR_WT_CSV && http_span_contains_ci(ct->value, "text/plain")))
            return BODY_CSV;
        return BODY_NONE;
    }
    switch (call->wt) {
    case SOLR_WT_DEFAULT:
    case SOLR_WT_JSON: return BODY_JSON;
    case SOLR_WT_XML: return BODY_XML;
    case SOLR_WT_CSV: return BODY_CSV;
    default: return BODY_NONE;
    }
}

static void solr_response_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                               const struct http_head *head)
{
    pthread_once(&depth_once, depth_init);
    struct solr_response_side *r = &((struct solr_flow *)st)->resp;
    struct solr_call call;
    (void)ctx;
    memset(r, 0, offsetof(struct solr_response_side, u));
    if (!op_call(op, &call))
        return;
    solr_apply(op, &call);
    bool ok = op->status_code >= 200 && op->status_code < 300;
    r->active = true;
    r->op = op;
    r->kind = call.kind;
    r->mode = response_mode(&call, head);
    if (r->mode == BODY_JSON)
        json_scan_init(&r->u.scan, response_value, r);
    else if (r->mode == BODY_XML) {
        solr_xml_init(&r->u.xml);
        if (ok && call.kind == SOLR_KIND_CORES)
            solr_xml_count_list(&r->u.xml, SOLR_XML_LIST_CORES);
        else if (ok && call.kind == SOLR_KIND_COLLECTIONS)
            solr_xml_count_list(&r->u.xml, SOLR_XML_LIST_COLLECTIONS);
    } else if (r->mode == BODY_CSV && ok && call.kind == SOLR_KIND_SEARCH) {
        op->items = 0;
        r->csv_header = true;
    } else
        r->mode = BODY_NONE;
}

/* CSV: one document per line after the header (csv.header=false is not
 * told apart: counted as if a header came). */
static void csv_feed(struct solr_response_side *r, struct op_record *op, const uint8_t *buf,
                     size_t len)
{
    for (const uint8_t *p = buf, *end = buf + len; p < end;) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            r->csv_line_open = true;
            return;
        }
        if (nl > p || r->csv_line_open) {
            if (r->csv_header)
                r->csv_header = false;
            else
                op->items = http_count_add(op->items, 1);
        }
        r->csv_line_open = false;
        p = nl + 1;
    }
}

static void solr_response_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                               const uint8_t *buf, size_t len)
{
    struct solr_response_side *r = &((struct solr_flow *)st)->resp;
    (void)ctx;
    if (!r->active || op != r->op)
        return;
    if (r->mode == BODY_JSON)
        (void)json_scan_feed(&r->u.scan, buf, len);
    else if (r->mode == BODY_XML)
        solr_xml_feed(&r->u.xml, buf, len);
    else if (r->mode == BODY_CSV)
        csv_feed(r, op, buf, len);
}

static void solr_response_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    struct solr_response_side *r = &((struct solr_flow *)st)->resp;
    if (r->active && op == r->op) {
        if (r->mode == BODY_JSON)
            (void)json_scan_finish(&r->u.scan);
        if (r->mode == BODY_XML) {
            if (r->u.xml.docs >= 0)
                op->items = r->u.xml.docs;
            if (r->u.xml.num_found >= 0)
                op->total = r->u.xml.num_found;
            if (r->u.xml.has_cursor)
                memcpy(op->cursor_out, r->u.xml.cursor, sizeof(op->cursor_out));
        }
        if (r->mode == BODY_CSV && r->csv_line_open && !r->csv_header)
            op->items = http_count_add(op->items, 1);   /* a last line without newline */
        r->active = false;
        r->op = NULL;
    } else {
        struct solr_call call;
        if (op_call(op, &call))
            solr_apply(op, &call);
        op->app = APP_SOLR;
    }
    if (op->authenticated != OP_AUTH_YES)
        op->authenticated = ctx->midstream ? OP_AUTH_UNKNOWN : OP_AUTH_NO;
}

const struct http_observer solr_observer = {
    .state_size = sizeof(struct solr_flow),
    .request_head = solr_request_head,
    .request_body = solr_request_body,
    .request_end = solr_request_end,
    .response_head = solr_response_head,
    .response_body = solr_response_body,
    .response_end = solr_response_end,
    .close = NULL,
};

/* ------------------------------------------------------------ decoders */

static bool solr_claims(struct http_span method, struct http_span target)
{
    struct http_url url;
    (void)method;
    http_url_split(target, &url);
    return http_url_seg_is(&url, 0, "solr");
}

static const char *const solr_marks[] = {
    "\"responseHeader\":", "<lst name=\"responseHeader\">", NULL,
};

const struct http_app solr_http_app = {
    .app = APP_SOLR,
    .obs = &solr_observer,
    .claims = solr_claims,
    .server_head = NULL,
    .body_marks = solr_marks,
};

static void *solr_open(struct decoder_ctx *ctx)
{
    return http_open_with(ctx, &solr_observer, APP_SOLR);
}

static const uint16_t solr_ports[] = { 8983 };

/* "solr": Solr's port; every op is read as a Solr call. */
const struct decoder solr_decoder = {
    .name = "solr",
    .app = APP_SOLR,
    .ports = solr_ports,
    .port_count = ARRAY_LEN(solr_ports),
    .settings = &http_settings,
    .counters = &http_counters,
    .open = solr_open,
    .data = http_stream_data,
    .gap = http_stream_gap,
    .end = http_stream_end,
    .close = http_stream_close,
};
