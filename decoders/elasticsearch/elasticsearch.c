/* elasticsearch.c - Elasticsearch/OpenSearch REST calls: classifier and
 * HTTP observer.
 *
 * The classifier (first half) is pure: method and request-target in, a
 * struct es_call out. It splits the path into segments, takes the first one
 * as the index part unless it starts with '_' (or is "_all"), finds the API
 * segment (the first one starting with '_') in a table, and reads the few
 * query parameters that matter (size, from, q, scroll_id, format, v, h).
 *
 * The observer (second half) keeps per flow what is being read on each
 * side: the request body (search bodies, scroll ids, cursors) through one
 * JSON scanner, the response body through another (or, for _cat text
 * output, a line at a time through a fixed line buffer). What a body means
 * depends on the call, so each kind has a short table of JSON paths and
 * what to do with the value found there. Per-request facts travel in the op
 * itself; at response time the call is classified again from the op's
 * method and URI (the framer may be reading request N+1 meanwhile), so no
 * per-request state is kept here.
 *
 * Cursor ids are hashed over their first JSON_SCAN_STRING_MAX bytes: the
 * JSON scanner keeps no more of a string, and scroll/PIT ids differ within
 * their first bytes (they encode the per-shard search contexts). */
#include "elasticsearch.h"

#include <pthread.h>
#include <string.h>

#include "../http/http_url.h"
#include "../json/json_scan.h"

#define ES_SEGMENTS_MAX 8        /* path segments looked at */
#define ES_SEGMENT_TEXT 48       /* decoded segment kept for matching */
#define ES_INNER_TARGET_MAX 2048 /* Kibana's inner path?query, decoded */
#define ES_LINE_MAX 512          /* _cat text: longer lines are counted, not parsed */
#define ES_METHOD_MAX 16
#define ES_BODY_TARGET_LINES 16  /* _bulk/_msearch: NDJSON lines read for _index */
#define ES_BODY_TARGET_NAMES 4   /* ... and distinct index names kept from them */

/* ------------------------------------------------------------ helpers */

static struct http_span span_make(const char *p, size_t len)
{
    struct http_span s = { p, len };
    return s;
}

static bool span_is(struct http_span s, const char *text)
{
    size_t n = strlen(text);
    return s.len == n && memcmp(s.ptr, text, n) == 0;
}

static char lower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive search of `needle` (lowercase) in a span. */
static bool span_contains_ci(struct http_span s, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= s.len && i <= s.len - n; i++) {
        size_t j = 0;
        while (j < n && lower_ascii(s.ptr[i + j]) == needle[j])
            j++;
        if (j == n)
            return true;
    }
    return false;
}

/* A non-negative decimal number of at most 18 digits, or -1. */
static int64_t parse_count(const char *p, size_t len)
{
    if (len == 0 || len > 18)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        n = n * 10 + (p[i] - '0');
    }
    return n;
}

static int64_t add_count(int64_t base, int64_t n)
{
    if (base < 0)
        base = 0;
    return n > INT64_MAX - base ? INT64_MAX : base + n;
}

void es_cursor_hash(const char *id, size_t len, char out[OP_CONT_MAX])
{
    op_continuation_hash(id, len > JSON_SCAN_STRING_MAX ? JSON_SCAN_STRING_MAX : len, out);
}

/* ------------------------------------------------------------ classifier */

enum { M_GET = 1, M_HEAD = 2, M_POST = 4, M_PUT = 8, M_DELETE = 16, M_OTHER = 32 };
#define M_READ (M_GET | M_HEAD)
#define M_ANY 63

static unsigned method_bit(struct http_span m)
{
    static const struct { const char *name; unsigned bit; } methods[] = {
        {"GET", M_GET}, {"HEAD", M_HEAD}, {"POST", M_POST}, {"PUT", M_PUT},
        {"DELETE", M_DELETE},
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (http_span_ieq(m, methods[i].name))
            return methods[i].bit;
    return M_OTHER;
}

struct es_segment {
    struct http_span raw;
    char text[ES_SEGMENT_TEXT + 1];  /* decoded, for matching */
    bool cut;                        /* longer than text: matches nothing */
};

struct es_path {
    struct es_segment seg[ES_SEGMENTS_MAX];
    size_t count;
};

/* Splits on '/', skipping empty segments; segments past the cap are dropped
 * (no API path needs that many). */
static void path_split(struct http_span path, struct es_path *p)
{
    size_t i = 0;
    p->count = 0;
    while (i < path.len && p->count < ES_SEGMENTS_MAX) {
        while (i < path.len && path.ptr[i] == '/')
            i++;
        size_t start = i;
        while (i < path.len && path.ptr[i] != '/')
            i++;
        if (i == start)
            break;
        struct es_segment *s = &p->seg[p->count++];
        s->raw = span_make(path.ptr + start, i - start);
        size_t n = http_url_decode(s->raw, s->text, ES_SEGMENT_TEXT, false, &s->cut);
        s->text[n] = '\0';
    }
}

static bool seg_is(const struct es_segment *s, const char *text)
{
    return !s->cut && strcmp(s->text, text) == 0;
}

/* One API of the table. sub: NULL = any, "" = no next segment, "*" = some
 * next segment, else the next segment must be that (or, with
 * ROW_SUB_ANYWHERE, any later segment). name NULL: "<api>/<sub>". */
struct es_api_row {
    const char *api;
    const char *sub;
    uint8_t methods;
    uint8_t kind;        /* enum es_kind */
    uint8_t op_class;    /* enum op_class */
    uint8_t flags;
    const char *name;
};
#define ROW_SUB_ANYWHERE 1

#define R(api, sub, m, kind, cls, name) {api, sub, m, ES_KIND_##kind, OP_CLASS_##cls, 0, name}

/* First match wins: method-specific rows come before the general one. */
static const struct es_api_row es_api_table[] = {
    R("_search", "scroll", M_DELETE, SCROLL_CLEAR, READ, "_search/scroll:clear"),
    R("_search", "scroll", M_ANY, SCROLL, READ, "_search/scroll"),
    R("_search", "point_in_time", M_DELETE, PIT_CLOSE, READ, "_pit:close"),
    R("_search", "point_in_time", M_ANY, PIT_OPEN, READ, "_pit"),
    R("_search", "template", M_ANY, SEARCH, READ, "_search/template"),
    R("_search", NULL, M_ANY, SEARCH, READ, "_search"),
    R("_pit", NULL, M_DELETE, PIT_CLOSE, READ, "_pit:close"),
    R("_pit", NULL, M_ANY, PIT_OPEN, READ, "_pit"),
    R("_msearch", NULL, M_ANY, MSEARCH, READ, "_msearch"),
    R("_count", NULL, M_ANY, COUNT, READ, "_count"),
    R("_mget", NULL, M_ANY, MGET, READ, "_mget"),
    R("_sql", NULL, M_ANY, SQL, READ, "_sql"),
    R("_async_search", NULL, M_ANY, ASYNC_SEARCH, READ, "_async_search"),
    R("_explain", NULL, M_ANY, OTHER, READ, "_explain"),
    R("_termvectors", NULL, M_ANY, OTHER, READ, "_termvectors"),
    R("_doc", NULL, M_READ, DOC, READ, "_doc"),
    R("_doc", NULL, M_DELETE, OTHER, DESTROY, "delete_doc"),
    R("_doc", NULL, M_ANY, OTHER, WRITE, "index"),
    R("_source", NULL, M_READ, DOC, READ, "_doc"),
    R("_create", NULL, M_ANY, OTHER, WRITE, "index"),
    R("_update", NULL, M_ANY, OTHER, WRITE, "index"),
    R("_cat", "indices", M_ANY, CAT_INDICES, ENUMERATE, "_cat/indices"),
    R("_cat", "", M_ANY, CAT, ENUMERATE, "_cat"),
    R("_cat", "*", M_ANY, CAT, ENUMERATE, NULL),
    {"_nodes", "stats", M_ANY, ES_KIND_OTHER, OP_CLASS_ENUMERATE, ROW_SUB_ANYWHERE, "_nodes"},
    R("_nodes", NULL, M_ANY, OTHER, HANDSHAKE, "_nodes"),
    R("_cluster", "health", M_ANY, OTHER, HANDSHAKE, NULL),
    R("_cluster", "state", M_ANY, OTHER, ENUMERATE, NULL),
    R("_cluster", "stats", M_ANY, OTHER, ENUMERATE, NULL),
    R("_cluster", "settings", M_ANY, OTHER, ADMIN, NULL),
    R("_cluster", "", M_ANY, OTHER, ENUMERATE, "_cluster"),
    R("_cluster", "*", M_READ, OTHER, ENUMERATE, NULL),
    R("_cluster", "*", M_ANY, OTHER, ADMIN, NULL),
    R("_mapping", NULL, M_READ, OTHER, ENUMERATE, "_mapping"),
    R("_mapping", NULL, M_ANY, OTHER, WRITE, "_mapping"),
    R("_mappings", NULL, M_READ, OTHER, ENUMERATE, "_mapping"),
    R("_mappings", NULL, M_ANY, OTHER, WRITE, "_mapping"),
    R("_settings", NULL, M_READ, OTHER, ENUMERATE, "_settings"),
    R("_settings", NULL, M_ANY, OTHER, ADMIN, "_settings"),
    R("_aliases", NULL, M_READ, OTHER, ENUMERATE, "_aliases"),
    R("_aliases", NULL, M_ANY, OTHER, ADMIN, "_aliases"),
    R("_alias", NULL, M_READ, OTHER, ENUMERATE, "_alias"),
    R("_alias", NULL, M_ANY, OTHER, ADMIN, "_alias"),
    R("_stats", NULL, M_ANY, OTHER, ENUMERATE, "_stats"),
    R("_field_caps", NULL, M_ANY, OTHER, ENUMERATE, "_field_caps"),
    R("_template", NULL, M_READ, OTHER, ENUMERATE, "_template"),
    R("_template", NULL, M_ANY, OTHER, ADMIN, "_template"),
    R("_index_template", NULL, M_READ, OTHER, ENUMERATE, "_index_template"),
    R("_index_template", NULL, M_ANY, OTHER, ADMIN, "_index_template"),
    R("_bulk", NULL, M_ANY, BULK, WRITE, "_bulk"),
    R("_update_by_query", NULL, M_ANY, BY_QUERY, WRITE, "_update_by_query"),
    R("_reindex", NULL, M_ANY, BY_QUERY, WRITE, "_reindex"),
    R("_delete_by_query", NULL, M_ANY, BY_QUERY, DESTROY, "_delete_by_query"),
    R("_query", NULL, M_DELETE, BY_QUERY, DESTROY, "_delete_by_query"), /* ES 1.x */
    R("_snapshot", NULL, M_ANY, OTHER, ADMIN, "_snapshot"),
    R("_security", "", M_ANY, OTHER, ADMIN, "_security"),
    R("_security", "*", M_ANY, OTHER, ADMIN, NULL),
    R("_license", NULL, M_ANY, OTHER, ADMIN, "_license"),
    R("_xpack", NULL, M_ANY, OTHER, ADMIN, "_xpack"),
    R("_tasks", NULL, M_ANY, OTHER, ADMIN, "_tasks"),
    R("_ingest", NULL, M_ANY, OTHER, ADMIN, "_ingest"),
    R("_open", NULL, M_ANY, OTHER, ADMIN, "_open"),
    R("_close", NULL, M_ANY, OTHER, ADMIN, "_close"),
    R("_refresh", NULL, M_ANY, OTHER, ADMIN, "_refresh"),
    R("_flush", NULL, M_ANY, OTHER, ADMIN, "_flush"),
    R("_forcemerge", NULL, M_ANY, OTHER, ADMIN, "_forcemerge"),
};

/* Calls on an index without an API segment, by how many plain segments
 * follow the index: /idx, /idx/type, /idx/type/id (ES 6 typed paths). */
struct es_plain_row {
    uint8_t extra_min, extra_max;
    uint8_t methods;
    uint8_t kind;
    uint8_t op_class;
    const char *name;
};

static const struct es_plain_row es_plain_table[] = {
    {0, 0, M_PUT, ES_KIND_OTHER, OP_CLASS_WRITE, "create_index"},
    {0, 0, M_DELETE, ES_KIND_OTHER, OP_CLASS_DESTROY, "delete_index"},
    {0, 0, M_READ, ES_KIND_OTHER, OP_CLASS_ENUMERATE, "get_index"},
    {1, 1, M_POST, ES_KIND_OTHER, OP_CLASS_WRITE, "index"},
    {2, ES_SEGMENTS_MAX, M_READ, ES_KIND_DOC, OP_CLASS_READ, "_doc"},
    {2, ES_SEGMENTS_MAX, M_PUT | M_POST, ES_KIND_OTHER, OP_CLASS_WRITE, "index"},
    {2, ES_SEGMENTS_MAX, M_DELETE, ES_KIND_OTHER, OP_CLASS_DESTROY, "delete_doc"},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void call_init(struct es_call *call)
{
    memset(call, 0, sizeof(*call));
    call->size = -1;
    call->from = -1;
    call->cat_docs_column = -1;
}

static void call_set_name(struct es_call *call, const char *a, const char *b)
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

/* The index part (or a _cat pattern), decoded, one byte over the op's cap
 * when longer so that op_set_string marks the op truncated. */
static void call_set_target(struct es_call *call, struct http_span raw)
{
    bool cut;
    call->target_len = http_url_decode(raw, call->target, OP_TARGET_MAX, false, &cut);
    call->target[call->target_len] = '\0';
}

static void call_set_continuation(struct es_call *call, const char *id, size_t len)
{
    es_cursor_hash(id, len, call->continuation);
    call->has_continuation = true;
}

static bool row_sub_matches(const struct es_api_row *row, const struct es_path *p, size_t a)
{
    bool has_next = a + 1 < p->count;
    if (row->sub == NULL)
        return true;
    if (row->sub[0] == '\0')
        return !has_next;
    if (strcmp(row->sub, "*") == 0)
        return has_next;
    if (!(row->flags & ROW_SUB_ANYWHERE))
        return has_next && seg_is(&p->seg[a + 1], row->sub);
    for (size_t i = a + 1; i < p->count; i++)
        if (seg_is(&p->seg[i], row->sub))
            return true;
    return false;
}

static const struct es_api_row *api_find(const struct es_path *p, size_t a, unsigned m)
{
    for (size_t i = 0; i < ARRAY_LEN(es_api_table); i++) {
        const struct es_api_row *row = &es_api_table[i];
        if ((row->methods & m) && seg_is(&p->seg[a], row->api) && row_sub_matches(row, p, a))
            return row;
    }
    return NULL;
}

static bool api_known(const struct es_segment *s)
{
    for (size_t i = 0; i < ARRAY_LEN(es_api_table); i++)
        if (seg_is(s, es_api_table[i].api))
            return true;
    return false;
}

/* Cursor ids and _cat patterns that sit in the path after the API. */
static void classify_path_extras(struct es_call *call, const struct es_path *p, size_t a,
                                 unsigned m)
{
    const struct es_segment *id = NULL;
    if (call->kind == ES_KIND_SCROLL || call->kind == ES_KIND_SCROLL_CLEAR)
        id = a + 2 < p->count ? &p->seg[a + 2] : NULL;      /* _search/scroll/<id> */
    else if (call->kind == ES_KIND_ASYNC_SEARCH)
        id = a + 1 < p->count ? &p->seg[a + 1] : NULL;      /* _async_search/<id> */
    if (id != NULL && !seg_is(id, "_all")) {
        char buf[JSON_SCAN_STRING_MAX];
        bool cut;
        size_t n = http_url_decode(id->raw, buf, sizeof(buf), false, &cut);
        call_set_continuation(call, buf, n);
        /* a scroll page, or fetching an async search's results */
        call->continues = call->kind == ES_KIND_SCROLL || (m & M_READ) != 0;
    }
    if ((call->kind == ES_KIND_CAT || call->kind == ES_KIND_CAT_INDICES) &&
        call->target_len == 0 && a + 2 < p->count)
        call_set_target(call, p->seg[a + 2].raw);            /* _cat/indices/<pattern> */
    if (call->kind == ES_KIND_SEARCH ||
        (call->kind == ES_KIND_ASYNC_SEARCH && id == NULL && (m & M_POST)))
        call->match_all_if_no_query = true;
}

static void classify_api(struct es_call *call, const struct es_path *p, size_t a, unsigned m)
{
    /* ES 6/7 paths with the type "_doc": /idx/_doc/_search */
    if (seg_is(&p->seg[a], "_doc") && a + 1 < p->count && api_known(&p->seg[a + 1]))
        a++;
    const struct es_api_row *row = api_find(p, a, m);
    if (row == NULL) {
        call_set_name(call, p->seg[a].text, NULL);   /* unknown "_x" */
        return;
    }
    call->api = true;
    call->kind = (enum es_kind)row->kind;
    call->op_class = (enum op_class)row->op_class;
    if (row->name != NULL)
        call_set_name(call, row->name, NULL);
    else
        call_set_name(call, row->api, a + 1 < p->count ? p->seg[a + 1].text : NULL);
    classify_path_extras(call, p, a, m);
}

static void classify_plain(struct es_call *call, const struct es_path *p, size_t first,
                           unsigned m)
{
    if (p->count == 0) {
        if (m & M_READ) {
            call->kind = ES_KIND_BANNER;
            call->op_class = OP_CLASS_HANDSHAKE;
            call_set_name(call, "banner", NULL);
        }
        return;
    }
    size_t extra = p->count - first;
    for (size_t i = 0; i < ARRAY_LEN(es_plain_table); i++) {
        const struct es_plain_row *row = &es_plain_table[i];
        if ((row->methods & m) && extra >= row->extra_min && extra <= row->extra_max) {
            call->kind = (enum es_kind)row->kind;
            call->op_class = (enum op_class)row->op_class;
            call_set_name(call, row->name, NULL);
            return;
        }
    }
}

/* ---- query parameters */

static bool is_docs_count_column(const char *p, size_t len)
{
    struct http_span s = span_make(p, len);
    return span_is(s, "docs.count") || span_is(s, "dc") || span_is(s, "docsCount");
}

/* h=col,col,...: how many columns, and where docs.count is. A wildcard
 * makes both unknown. */
static void query_h(struct es_call *call, const char *v, size_t len)
{
    int columns = 0;
    size_t i = 0;
    call->cat_columns_given = true;
    call->cat_docs_column = -1;
    while (i <= len) {
        size_t start = i;
        while (i < len && v[i] != ',')
            i++;
        size_t s = start, e = i;
        while (s < e && v[s] == ' ')
            s++;
        while (e > s && v[e - 1] == ' ')
            e--;
        if (memchr(v + s, '*', e - s) != NULL) {
            call->cat_columns = 0;
            call->cat_docs_column = -1;
            return;
        }
        if (e > s) {
            if (is_docs_count_column(v + s, e - s))
                call->cat_docs_column = columns;
            columns++;
        }
        i++;
    }
    call->cat_columns = columns;
}

static void query_param(struct es_call *call, struct http_span key, const char *v,
                        size_t len, bool cut)
{
    struct http_span value = span_make(v, len);
    if (span_is(key, "size"))
        call->size = parse_count(v, len);
    else if (span_is(key, "from"))
        call->from = parse_count(v, len);
    else if (span_is(key, "q")) {
        call->q_present = true;
        call->match_all = !cut && (span_is(value, "*:*") || span_is(value, "*"));
    } else if (span_is(key, "scroll_id") &&
               (call->kind == ES_KIND_SCROLL || call->kind == ES_KIND_SCROLL_CLEAR)) {
        call_set_continuation(call, v, len);
        call->continues = call->kind == ES_KIND_SCROLL;
    } else if (span_is(key, "format")) {
        call->format = span_is(value, "json") ? ES_FORMAT_JSON
                       : span_is(value, "txt") || span_is(value, "text") ? ES_FORMAT_TEXT
                       : ES_FORMAT_OTHER;
    } else if (span_is(key, "v"))
        call->cat_header = !span_is(value, "false");
    else if (span_is(key, "h") && !cut)
        query_h(call, v, len);
}

/* The value of one parameter of a raw query string, decoded into buf
 * (cap bytes); false when absent. */
static bool query_find(struct http_span query, const char *name, char *buf, size_t cap,
                       size_t *len)
{
    size_t i = 0;
    while (i < query.len) {
        size_t start = i;
        while (i < query.len && query.ptr[i] != '&')
            i++;
        struct http_span pair = span_make(query.ptr + start, i - start);
        i++;
        const char *eq = memchr(pair.ptr, '=', pair.len);
        size_t key_len = eq != NULL ? (size_t)(eq - pair.ptr) : pair.len;
        if (!span_is(span_make(pair.ptr, key_len), name))
            continue;
        size_t off = eq != NULL ? key_len + 1 : pair.len;
        bool cut;
        *len = http_url_decode(span_make(pair.ptr + off, pair.len - off), buf, cap, true, &cut);
        return true;
    }
    return false;
}

/* Parameters that do not change what is counted are ignored: scroll
 * (the response's _scroll_id shows a scroll was opened), search_type,
 * filter_path (when it hides hits.total the total simply stays -1). */
static void parse_query(struct es_call *call, struct http_span query)
{
    size_t i = 0;
    while (i < query.len) {
        size_t start = i;
        while (i < query.len && query.ptr[i] != '&')
            i++;
        struct http_span pair = span_make(query.ptr + start, i - start);
        i++;
        const char *eq = memchr(pair.ptr, '=', pair.len);
        size_t key_len = eq != NULL ? (size_t)(eq - pair.ptr) : pair.len;
        size_t off = eq != NULL ? key_len + 1 : pair.len;
        char value[JSON_SCAN_STRING_MAX];
        bool cut;
        size_t n = http_url_decode(span_make(pair.ptr + off, pair.len - off), value,
                              sizeof(value), true, &cut);
        query_param(call, span_make(pair.ptr, key_len), value, n, cut);
    }
}

void es_classify(struct http_span method, struct http_span path, struct http_span query,
                 struct es_call *call)
{
    struct es_path p;
    unsigned m = method_bit(method);
    size_t first = 0, a;

    call_init(call);
    path_split(path, &p);
    if (p.count > 0 && (p.seg[0].text[0] != '_' || seg_is(&p.seg[0], "_all"))) {
        call_set_target(call, p.seg[0].raw);
        first = 1;
    }
    for (a = first; a < p.count; a++)
        if (p.seg[a].text[0] == '_')
            break;
    if (a < p.count)
        classify_api(call, &p, a, m);
    else
        classify_plain(call, &p, first, m);
    parse_query(call, query);
}

/* Path and query of a target (origin or absolute form); the query stops
 * at a fragment. */
static void target_split(struct http_span target, struct http_span *path,
                         struct http_span *query)
{
    *path = http_target_path(target);
    const char *end = target.ptr + target.len;
    const char *q = path->ptr + path->len;
    *query = span_make(end, 0);
    if (q < end && *q == '?') {
        const char *hash = memchr(q + 1, '#', (size_t)(end - q - 1));
        *query = span_make(q + 1, (size_t)((hash != NULL ? hash : end) - q - 1));
    }
}

static bool is_kibana_proxy(struct http_span path)
{
    static const char suffix[] = "/api/console/proxy";
    size_t n = sizeof(suffix) - 1;
    return path.len >= n && memcmp(path.ptr + path.len - n, suffix, n) == 0;
}

/* Kibana Console: the inner call's target is in path= (Kibana 6+: the path
 * and its own query) or uri= (Kibana 5: a whole URL), its method in
 * method=. The inner target is decoded once here; its query values are
 * decoded again when the inner call is classified. */
static void classify_kibana(struct http_span method, struct http_span query,
                            struct es_call *call)
{
    char inner[ES_INNER_TARGET_MAX];
    char inner_method[ES_METHOD_MAX];
    size_t inner_len, method_len;
    struct http_span m = method;

    if (query_find(query, "method", inner_method, sizeof(inner_method), &method_len))
        m = span_make(inner_method, method_len);
    if (!query_find(query, "path", inner, sizeof(inner), &inner_len) &&
        !query_find(query, "uri", inner, sizeof(inner), &inner_len)) {
        call_init(call);
        call->api = true;
        call->via_kibana = true;
        return;
    }
    struct http_span path, inner_query;
    target_split(span_make(inner, inner_len), &path, &inner_query);
    es_classify(m, path, inner_query, call);
    call->api = true;
    call->via_kibana = true;
}

void es_classify_target(struct http_span method, struct http_span target,
                        struct es_call *call)
{
    struct http_span path, query;
    target_split(target, &path, &query);
    if (is_kibana_proxy(path))
        classify_kibana(method, query, call);
    else
        es_classify(method, path, query, call);
}

/* ------------------------------------------------------------ body rules */

enum es_action {
    /* request side */
    REQ_SIZE = 1,        /* page_size = n */
    REQ_SIZE_ADD,        /* page_size += n (_msearch) */
    REQ_SIZE_COUNT,      /* page_size += 1 per element (_mget ids/docs) */
    REQ_FROM,            /* offset = n */
    REQ_QUERY,           /* a query was given */
    REQ_MATCH_ALL,       /* ... and it is match_all */
    REQ_SEARCH_AFTER,    /* continues: search_after */
    REQ_CURSOR,          /* continuation = hash (first one) */
    REQ_CURSOR_CONTINUES,/* ... and the call continues it */
    /* response side */
    RESP_ITEMS_ZERO,     /* the list exists: items is at least 0 */
    RESP_ITEM,           /* one more item */
    RESP_ITEMS_ONE,      /* items = 1 (a document found) */
    RESP_ITEMS_ADD,      /* items += n */
    RESP_TOTAL_SET,      /* total = n */
    RESP_TOTAL_ADD,      /* total += n (numbers or digit strings) */
    RESP_TOTAL_RELATION, /* total_relation from hits.total.relation */
    RESP_CURSOR,         /* cursor_out = hash (first one) */
    RESP_ERROR,          /* error_type (first one) */
    RESP_TAGLINE,
    RESP_DISTRIBUTION,
};

struct es_rule {
    const char *path;
    uint16_t types;      /* bit (1 << enum json_value_type) per accepted type */
    uint8_t action;
};

#define T(type) (1u << (type))
#define T_ANY_START (T(JSON_OBJECT_START) | T(JSON_ARRAY_START) | T(JSON_STRING) | \
                     T(JSON_NUMBER) | T(JSON_TRUE) | T(JSON_FALSE) | T(JSON_NULL))
#define T_SCALAR_NUMBER (T(JSON_NUMBER) | T(JSON_STRING))
#define RULES_END {NULL, 0, 0}

static const struct es_rule req_search[] = {
    {"size", T(JSON_NUMBER), REQ_SIZE},
    {"from", T(JSON_NUMBER), REQ_FROM},
    {"query", T_ANY_START, REQ_QUERY},
    {"query.match_all", T(JSON_OBJECT_START), REQ_MATCH_ALL},
    {"search_after", T(JSON_ARRAY_START), REQ_SEARCH_AFTER},
    {"pit.id", T(JSON_STRING), REQ_CURSOR},
    RULES_END,
};
static const struct es_rule req_query_only[] = {
    {"query", T_ANY_START, REQ_QUERY},
    {"query.match_all", T(JSON_OBJECT_START), REQ_MATCH_ALL},
    RULES_END,
};
static const struct es_rule req_msearch[] = {
    {"size", T(JSON_NUMBER), REQ_SIZE_ADD},
    {"query.match_all", T(JSON_OBJECT_START), REQ_MATCH_ALL},
    RULES_END,
};
static const struct es_rule req_scroll[] = {
    {"scroll_id", T(JSON_STRING), REQ_CURSOR_CONTINUES},
    RULES_END,
};
static const struct es_rule req_scroll_clear[] = {
    {"scroll_id", T(JSON_STRING), REQ_CURSOR},
    {"scroll_id.[]", T(JSON_STRING), REQ_CURSOR},
    RULES_END,
};
static const struct es_rule req_pit_close[] = {
    {"id", T(JSON_STRING), REQ_CURSOR},
    {"pit_id", T(JSON_STRING), REQ_CURSOR},          /* OpenSearch */
    {"pit_id.[]", T(JSON_STRING), REQ_CURSOR},
    RULES_END,
};
static const struct es_rule req_sql[] = {
    {"fetch_size", T(JSON_NUMBER), REQ_SIZE},
    {"cursor", T(JSON_STRING), REQ_CURSOR_CONTINUES},
    RULES_END,
};
static const struct es_rule req_mget[] = {
    {"docs.[]", T_ANY_START, REQ_SIZE_COUNT},
    {"ids.[]", T_ANY_START, REQ_SIZE_COUNT},
    RULES_END,
};

static const struct es_rule *const es_request_rules[ES_KIND_MAX] = {
    [ES_KIND_SEARCH] = req_search,
    [ES_KIND_ASYNC_SEARCH] = req_search,
    [ES_KIND_COUNT] = req_query_only,
    [ES_KIND_BY_QUERY] = req_query_only,
    [ES_KIND_MSEARCH] = req_msearch,
    [ES_KIND_SCROLL] = req_scroll,
    [ES_KIND_SCROLL_CLEAR] = req_scroll_clear,
    [ES_KIND_PIT_CLOSE] = req_pit_close,
    [ES_KIND_SQL] = req_sql,
    [ES_KIND_MGET] = req_mget,
};

static const struct es_rule resp_search[] = {
    {"hits.hits", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"hits.hits.[]", T_ANY_START, RESP_ITEM},
    {"hits.total", T(JSON_NUMBER), RESP_TOTAL_SET},
    {"hits.total.value", T(JSON_NUMBER), RESP_TOTAL_SET},
    {"hits.total.relation", T(JSON_STRING), RESP_TOTAL_RELATION},
    {"_scroll_id", T(JSON_STRING), RESP_CURSOR},
    {"pit_id", T(JSON_STRING), RESP_CURSOR},
    RULES_END,
};
static const struct es_rule resp_async[] = {
    {"response.hits.hits", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"response.hits.hits.[]", T_ANY_START, RESP_ITEM},
    {"response.hits.total", T(JSON_NUMBER), RESP_TOTAL_SET},
    {"response.hits.total.value", T(JSON_NUMBER), RESP_TOTAL_SET},
    {"response.hits.total.relation", T(JSON_STRING), RESP_TOTAL_RELATION},
    {"id", T(JSON_STRING), RESP_CURSOR},
    RULES_END,
};
static const struct es_rule resp_msearch[] = {
    {"responses.[].hits.hits", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"responses.[].hits.hits.[]", T_ANY_START, RESP_ITEM},
    {"responses.[].hits.total", T(JSON_NUMBER), RESP_TOTAL_ADD},
    {"responses.[].hits.total.value", T(JSON_NUMBER), RESP_TOTAL_ADD},
    RULES_END,
};
static const struct es_rule resp_count[] = {
    {"count", T(JSON_NUMBER), RESP_TOTAL_SET},
    RULES_END,
};
static const struct es_rule resp_cat[] = {
    {"", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"[]", T_ANY_START, RESP_ITEM},
    RULES_END,
};
static const struct es_rule resp_cat_indices[] = {
    {"", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"[]", T_ANY_START, RESP_ITEM},
    {"[].docs.count", T_SCALAR_NUMBER, RESP_TOTAL_ADD},
    RULES_END,
};
static const struct es_rule resp_doc[] = {
    {"found", T(JSON_TRUE), RESP_ITEMS_ONE},
    {"found", T(JSON_FALSE), RESP_ITEMS_ZERO},
    RULES_END,
};
static const struct es_rule resp_mget[] = {
    {"docs", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"docs.[].found", T(JSON_TRUE), RESP_ITEM},
    RULES_END,
};
static const struct es_rule resp_bulk[] = {
    {"items", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"items.[]", T_ANY_START, RESP_ITEM},
    RULES_END,
};
static const struct es_rule resp_pit_open[] = {
    {"id", T(JSON_STRING), RESP_CURSOR},
    {"pit_id", T(JSON_STRING), RESP_CURSOR},         /* OpenSearch */
    RULES_END,
};
static const struct es_rule resp_by_query[] = {
    {"total", T(JSON_NUMBER), RESP_TOTAL_SET},
    {"deleted", T(JSON_NUMBER), RESP_ITEMS_ADD},
    {"updated", T(JSON_NUMBER), RESP_ITEMS_ADD},
    {"created", T(JSON_NUMBER), RESP_ITEMS_ADD},
    RULES_END,
};
static const struct es_rule resp_sql[] = {
    {"rows", T(JSON_ARRAY_START), RESP_ITEMS_ZERO},
    {"rows.[]", T_ANY_START, RESP_ITEM},
    {"cursor", T(JSON_STRING), RESP_CURSOR},
    RULES_END,
};
static const struct es_rule resp_banner[] = {
    {"tagline", T(JSON_STRING), RESP_TAGLINE},
    {"version.distribution", T(JSON_STRING), RESP_DISTRIBUTION},
    RULES_END,
};
/* Any response: {"error":{"type":...}} (ES), {"error":"..."} (old ES, Kibana). */
static const struct es_rule resp_any[] = {
    {"error.type", T(JSON_STRING), RESP_ERROR},
    {"error", T(JSON_STRING), RESP_ERROR},
    RULES_END,
};

static const struct es_rule *const es_response_rules[ES_KIND_MAX] = {
    [ES_KIND_BANNER] = resp_banner,
    [ES_KIND_SEARCH] = resp_search,
    [ES_KIND_SCROLL] = resp_search,
    [ES_KIND_ASYNC_SEARCH] = resp_async,
    [ES_KIND_MSEARCH] = resp_msearch,
    [ES_KIND_COUNT] = resp_count,
    [ES_KIND_CAT] = resp_cat,
    [ES_KIND_CAT_INDICES] = resp_cat_indices,
    [ES_KIND_DOC] = resp_doc,
    [ES_KIND_MGET] = resp_mget,
    [ES_KIND_BULK] = resp_bulk,
    [ES_KIND_PIT_OPEN] = resp_pit_open,
    [ES_KIND_BY_QUERY] = resp_by_query,
    [ES_KIND_SQL] = resp_sql,
};

/* Components of a rule path ("" has none, "hits.total" two). A value at
 * depth d can only match a path of at least d components (more when a key
 * holds a literal dot, as _cat's "docs.count" does). */
static int path_components(const char *path)
{
    int n = *path != '\0';
    for (; *path; path++)
        n += *path == '.';
    return n;
}

static int table_depth(const struct es_rule *rules)
{
    int max = 0;
    for (; rules != NULL && rules->path != NULL; rules++) {
        int c = path_components(rules->path);
        max = c > max ? c : max;
    }
    return max;
}

/* The deepest value each rule table can match, computed once: document
 * fields sit deeper than any rule, and are dismissed on depth alone. */
static int request_depth[ES_KIND_MAX], response_depth[ES_KIND_MAX], any_depth;
static pthread_once_t depth_once = PTHREAD_ONCE_INIT;

static void depth_init(void)
{
    for (int k = 0; k < ES_KIND_MAX; k++) {
        request_depth[k] = table_depth(es_request_rules[k]);
        response_depth[k] = table_depth(es_response_rules[k]);
    }
    any_depth = table_depth(resp_any);
}

/* The first rule of `rules` the reported value matches, or NULL. */
static const struct es_rule *rule_find(const struct es_rule *rules, int max_depth,
                                       const struct json_scan *s,
                                       const struct json_scan_value *v)
{
    if (rules == NULL || json_scan_value_depth(s) > max_depth)
        return NULL;
    for (; rules->path != NULL; rules++)
        if ((rules->types & T(v->type)) && json_scan_at(s, rules->path))
            return rules;
    return NULL;
}

/* A JSON number as a count; -1 when negative, fractional or huge. */
static int64_t value_count(const struct json_scan_value *v)
{
    if (v->type == JSON_STRING)
        return parse_count(v->text, v->len);
    if (v->type != JSON_NUMBER || !(v->number >= 0) || v->number >= 9.0e18)
        return -1;
    int64_t n = (int64_t)v->number;
    return (double)n == v->number ? n : -1;
}

/* ------------------------------------------------------------ observer */

enum es_body_mode { BODY_NONE = 0, BODY_JSON, BODY_TEXT };

/* _cat text output, a line at a time. */
struct es_cat_text {
    char line[ES_LINE_MAX];
    size_t len;
    bool overflow;          /* the line is longer than `line`: counted, not parsed */
    bool header_pending;    /* v: the next non-empty line names the columns */
    bool default_columns;   /* neither v nor h: health status index uuid pri rep docs.count... */
    bool sum_docs;          /* _cat/indices: total = sum of docs.count */
    int columns;            /* tokens a row must have; 0: unknown */
    int docs_column;        /* -1: none */
};

/* _bulk and _msearch with no index in the path name theirs in the body:
 * the `_index` of a bulk action line, the `index` of an msearch header line.
 * Only the first ES_BODY_TARGET_LINES lines are read for it (a bulk body can
 * be megabytes; its first actions say what it writes), and at most
 * ES_BODY_TARGET_NAMES distinct names are kept, comma-separated as in a path. */
struct es_body_targets {
    bool wanted;                 /* the path named no index */
    bool source_next;            /* _bulk: the next line is an action's document */
    bool in_document;            /* the current line is a document or a search body */
    uint32_t line;               /* NDJSON lines begun */
    uint8_t names;               /* names kept in op->target */
};

struct es_request_side {
    bool active;                 /* request_head read it as an ES call */
    bool parse;                  /* its body goes through the scanner */
    bool body_expected, body_seen;
    bool q_present, query_seen, match_all_if_no_query;
    enum es_kind kind;
    struct es_body_targets targets;
    struct op_record *op;        /* set only while a body piece is scanned */
    struct json_scan scan;
};

struct es_response_side {
    bool active;                 /* response_head is reading op's response */
    bool probe;                  /* not yet ES: "GET /" answered, banner read */
    bool tagline_es, tagline_os;
    enum es_kind kind;
    enum es_body_mode mode;
    struct op_record *op;        /* the op being answered (the framer's) */
    struct es_cat_text cat;
    struct json_scan scan;
};

struct es_flow {
    struct es_request_side req;
    struct es_response_side resp;
    bool evidence;       /* the server showed itself to be ES/OpenSearch */
    bool opensearch;
    bool security_off;   /* "security features are not enabled" Warning seen */
};

static bool app_is_es(uint8_t app)
{
    return app == APP_ELASTICSEARCH || app == APP_OPENSEARCH;
}

static void es_apply(const struct es_flow *f, struct op_record *op, const struct es_call *call)
{
    op->app = f->opensearch && !call->via_kibana ? APP_OPENSEARCH : APP_ELASTICSEARCH;
    if (call->name_len > 0)
        op_set_string(op, op->op, sizeof(op->op), call->name, call->name_len);
    op->op_class = (uint8_t)call->op_class;
    op_set_string(op, op->target, sizeof(op->target), call->target, call->target_len);
    if (call->via_kibana)
        op->flags |= OP_FLAG_VIA_KIBANA;
    if (call->match_all)
        op->flags |= OP_FLAG_MATCH_ALL;
    if (call->continues)
        op->flags |= OP_FLAG_CONTINUES;
    if (call->has_continuation)
        memcpy(op->continuation, call->continuation, sizeof(op->continuation));
    if (call->size >= 0)
        op->page_size = call->size;
    if (call->from >= 0)
        op->offset = call->from;
}

/* The call of an op, classified again from what the framer kept. */
static bool op_call(const struct op_record *op, struct es_call *call)
{
    if (op->http.method[0] == '\0')
        return false;   /* a response without a request */
    es_classify_target(span_make(op->http.method, strlen(op->http.method)),
                       span_make(op->http.uri, strlen(op->http.uri)), call);
    return true;
}

/* ---- request side */

static void request_action(struct es_request_side *r, struct op_record *op,
                           const struct es_rule *rule, const struct json_scan_value *v)
{
    int64_t n = value_count(v);
    switch (rule->action) {
    case REQ_SIZE: if (n >= 0) op->page_size = n; break;
    case REQ_SIZE_ADD: if (n >= 0) op->page_size = add_count(op->page_size, n); break;
    case REQ_SIZE_COUNT: op->page_size = add_count(op->page_size, 1); break;
    case REQ_FROM: if (n >= 0) op->offset = n; break;
    case REQ_MATCH_ALL: op->flags |= OP_FLAG_MATCH_ALL; r->query_seen = true; break;
    case REQ_QUERY: r->query_seen = true; break;
    case REQ_SEARCH_AFTER: op->flags |= OP_FLAG_CONTINUES; break;
    case REQ_CURSOR_CONTINUES: op->flags |= OP_FLAG_CONTINUES; /* fall through */
    case REQ_CURSOR:
        if (op->continuation[0] == '\0')
            es_cursor_hash(v->text, v->len, op->continuation);
        break;
    default: break;
    }
}

/* Add one index name to op->target unless it is there already. Index names
 * cannot hold a comma, so the joined list reads back unambiguously. */
static void body_target_add(struct es_body_targets *t, struct op_record *op,
                            const struct json_scan_value *v)
{
    if (v->len == 0 || v->truncated || t->names >= ES_BODY_TARGET_NAMES)
        return;
    size_t used = strlen(op->target);
    for (const char *p = op->target; *p != '\0';) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == v->len && memcmp(p, v->text, n) == 0)
            return;
        p += n + (end ? 1 : 0);
    }
    size_t need = v->len + (used > 0 ? 1 : 0);
    if (used + need >= sizeof(op->target)) {
        op->flags |= OP_FLAG_TRUNCATED;
        t->names = ES_BODY_TARGET_NAMES;    /* full: stop looking */
        return;
    }
    if (used > 0)
        op->target[used++] = ',';
    memcpy(op->target + used, v->text, v->len);
    op->target[used + v->len] = '\0';
    t->names++;
}

/* One value of a _bulk/_msearch body, while its lines are read for targets.
 * A line starts with a top-level value. _bulk: an action line whose verb is
 * index/create/update is followed by its document (never read for names);
 * delete has none. _msearch: header and body lines alternate. */
static void body_target_value(struct es_request_side *r, const struct json_scan *s,
                              const struct json_scan_value *v)
{
    struct es_body_targets *t = &r->targets;
    int depth = json_scan_value_depth(s);
    if (depth == 0) {
        if (v->type == JSON_OBJECT_END || v->type == JSON_ARRAY_END)
            return;
        bool document = r->kind == ES_KIND_BULK ? t->source_next : t->line % 2 == 1;
        t->source_next = false;
        if (++t->line > ES_BODY_TARGET_LINES || t->names >= ES_BODY_TARGET_NAMES) {
            t->wanted = false;
            if (r->kind == ES_KIND_BULK)
                r->parse = false;           /* nothing else is read from a bulk body */
            return;
        }
        t->in_document = document;
        return;
    }
    if (t->in_document)
        return;
    if (r->kind == ES_KIND_BULK) {
        if (depth == 1 && v->type == JSON_OBJECT_START &&
            (json_scan_at(s, "index") || json_scan_at(s, "create") || json_scan_at(s, "update")))
            t->source_next = true;
        if (depth == 2 && v->type == JSON_STRING && json_scan_at(s, "*._index"))
            body_target_add(t, r->op, v);
    } else if (v->type == JSON_STRING &&
               ((depth == 1 && json_scan_at(s, "index")) ||
                (depth == 2 && json_scan_at(s, "index.[]")))) {
        body_target_add(t, r->op, v);
    }
}

static void request_value(void *arg, const struct json_scan *s, const struct json_scan_value *v)
{
    struct es_request_side *r = arg;
    if (r->targets.wanted && r->op != NULL)
        body_target_value(r, s, v);
    const struct es_rule *rule = rule_find(es_request_rules[r->kind], request_depth[r->kind], s, v);
    if (rule != NULL && r->op != NULL)
        request_action(r, r->op, rule, v);
}

static void es_request_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                            const struct http_head *head)
{
    pthread_once(&depth_once, depth_init);
    struct es_flow *f = st;
    struct es_request_side *r = &f->req;
    struct es_call call;
    (void)ctx;

    memset(r, 0, offsetof(struct es_request_side, scan));
    if (http_head_find(head, "cookie") != NULL)
        op->authenticated = OP_AUTH_YES;    /* a session is a credential */
    es_classify_target(head->method, head->target, &call);
    if (op->app == APP_HTTP && !f->evidence && !call.api)
        return;                             /* not (yet) known as Elasticsearch */
    es_apply(f, op, &call);
    r->active = true;
    r->kind = call.kind;
    r->q_present = call.q_present;
    r->match_all_if_no_query = call.match_all_if_no_query;
    r->body_expected = head->chunked || head->content_length > 0;
    r->parse = es_request_rules[call.kind] != NULL;
    if ((call.kind == ES_KIND_BULK || call.kind == ES_KIND_MSEARCH) && call.target_len == 0) {
        r->targets.wanted = true;
        r->parse = true;
    }
    if (r->parse)
        json_scan_init(&r->scan, request_value, r);
}

static void es_request_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                            const uint8_t *buf, size_t len)
{
    struct es_flow *f = st;
    (void)ctx;
    if (!f->req.active)
        return;
    f->req.body_seen = true;
    if (!f->req.parse)
        return;
    f->req.op = op;
    (void)json_scan_feed(&f->req.scan, buf, len);
    f->req.op = NULL;
}

/* A search that names no query at all reads the whole index; that can only
 * be said when the whole body was read and understood. */
static void es_request_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    struct es_request_side *r = &((struct es_flow *)st)->req;
    (void)ctx;
    if (!r->active)
        return;
    r->active = false;
    bool body_ok = !r->body_expected || (r->body_seen && r->parse &&
                                         json_scan_finish(&r->scan) == 0);
    if (r->match_all_if_no_query && !r->q_present && !r->query_seen && body_ok &&
        (op->flags & (OP_FLAG_PARTIAL | OP_FLAG_BODY_CAPPED)) == 0)
        op->flags |= OP_FLAG_MATCH_ALL;
}

/* ---- response side: _cat text */

/* The next blank-separated token of line[0..len) from *pos. */
static bool next_token(const char *line, size_t len, size_t *pos, size_t *start, size_t *tlen)
{
    size_t i = *pos;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len)
        return false;
    *start = i;
    while (i < len && line[i] != ' ' && line[i] != '\t')
        i++;
    *tlen = i - *start;
    *pos = i;
    return true;
}

static void cat_header_line(struct es_cat_text *c, struct op_record *op)
{
    size_t pos = 0, start, len;
    int i = 0;
    c->docs_column = -1;
    while (next_token(c->line, c->len, &pos, &start, &len)) {
        if (is_docs_count_column(c->line + start, len))
            c->docs_column = i;
        i++;
    }
    c->columns = i;
    if (c->sum_docs && c->docs_column >= 0 && op->total < 0)
        op->total = 0;
}

/* A row: counted; for _cat/indices its docs.count added when the row has
 * the expected number of columns (closed indices have fewer). */
static void cat_row(struct es_cat_text *c, struct op_record *op)
{
    size_t pos = 0, start, len, docs_start = 0, docs_len = 0, alt_start = 0, alt_len = 0;
    int i = 0;
    op->items = add_count(op->items, 1);
    if (!c->sum_docs || (!c->default_columns && c->docs_column < 0))
        return;
    while (next_token(c->line, c->len, &pos, &start, &len)) {
        if (i == (c->default_columns ? 6 : c->docs_column)) {
            docs_start = start;
            docs_len = len;
        }
        if (i == 5) {               /* ES < 5: no uuid column */
            alt_start = start;
            alt_len = len;
        }
        i++;
    }
    if (c->default_columns && i == 9) {
        docs_start = alt_start;
        docs_len = alt_len;
    } else if (i != (c->default_columns ? 10 : c->columns)) {
        return;
    }
    int64_t n = parse_count(c->line + docs_start, docs_len);
    if (n >= 0)
        op->total = add_count(op->total, n);
}

static void cat_line(struct es_cat_text *c, struct op_record *op)
{
    while (c->len > 0 && (c->line[c->len - 1] == '\r' || c->line[c->len - 1] == ' '))
        c->len--;
    if (c->overflow) {
        if (c->header_pending)
            c->header_pending = false;      /* columns unknown: rows only */
        else
            op->items = add_count(op->items, 1);
    } else {
        size_t pos = 0, start, len;
        if (next_token(c->line, c->len, &pos, &start, &len)) {
            if (c->header_pending) {
                c->header_pending = false;
                cat_header_line(c, op);
            } else {
                cat_row(c, op);
            }
        }
    }
    c->len = 0;
    c->overflow = false;
}

static void cat_feed(struct es_cat_text *c, struct op_record *op, const uint8_t *buf,
                     size_t len)
{
    while (len > 0) {
        const uint8_t *nl = memchr(buf, '\n', len);
        size_t n = nl != NULL ? (size_t)(nl - buf) : len;
        size_t room = sizeof(c->line) - c->len;
        if (n > room) {
            c->overflow = true;
            n = room;
        }
        memcpy(c->line + c->len, buf, n);
        c->len += n;
        if (nl == NULL)
            return;
        cat_line(c, op);
        len -= (size_t)(nl - buf) + 1;
        buf = nl + 1;
    }
}

static void cat_start(struct es_cat_text *c, const struct es_call *call, struct op_record *op)
{
    c->len = 0;
    c->overflow = false;
    c->sum_docs = call->kind == ES_KIND_CAT_INDICES;
    c->header_pending = call->cat_header;
    c->default_columns = !call->cat_header && !call->cat_columns_given;
    c->columns = call->cat_columns;
    c->docs_column = call->cat_header ? -1 : call->cat_docs_column;
    op->items = 0;
    if (c->sum_docs && (c->default_columns || c->docs_column >= 0))
        op->total = 0;
}

/* ---- response side: JSON */

static void response_action(struct es_flow *f, struct op_record *op,
                            const struct es_rule *rule, const struct json_scan_value *v)
{
    int64_t n = value_count(v);
    struct http_span text = span_make(v->text, v->len);
    switch (rule->action) {
    case RESP_ITEMS_ZERO: if (op->items < 0) op->items = 0; break;
    case RESP_ITEM: op->items = add_count(op->items, 1); break;
    case RESP_ITEMS_ONE: op->items = 1; break;
    case RESP_ITEMS_ADD: if (n >= 0) op->items = add_count(op->items, n); break;
    case RESP_TOTAL_SET: if (n >= 0) op->total = n; break;
    case RESP_TOTAL_ADD: if (n >= 0) op->total = add_count(op->total, n); break;
    case RESP_TOTAL_RELATION:
        /* "gte": the server stopped counting at track_total_hits */
        op->total_relation = span_is(text, "gte") ? OP_TOTAL_LOWER_BOUND : OP_TOTAL_EXACT;
        break;
    case RESP_CURSOR:
        if (op->cursor_out[0] == '\0')
            es_cursor_hash(v->text, v->len, op->cursor_out);
        break;
    case RESP_ERROR:
        if (op->error_type[0] == '\0')
            op_set_string(op, op->error_type, sizeof(op->error_type), v->text, v->len);
        break;
    case RESP_TAGLINE:
        f->resp.tagline_es |= span_contains_ci(text, "you know, for search");
        f->resp.tagline_os |= span_contains_ci(text, "opensearch");
        break;
    case RESP_DISTRIBUTION: f->resp.tagline_os |= span_is(text, "opensearch"); break;
    default: break;
    }
}

static void response_value(void *arg, const struct json_scan *s, const struct json_scan_value *v)
{
    struct es_flow *f = arg;
    if (f->resp.op == NULL)
        return;
    const struct es_rule *rule = rule_find(es_response_rules[f->resp.kind], response_depth[f->resp.kind], s, v);
    if (rule == NULL)
        rule = rule_find(resp_any, any_depth, s, v);
    if (rule != NULL)
        response_action(f, f->resp.op, rule, v);
}

/* Evidence in the response head that the server is Elasticsearch. */
static void note_server_head(struct es_flow *f, const struct http_head *h)
{
    for (size_t i = 0; i < h->header_count; i++) {
        const struct http_header *line = &h->headers[i];
        if (http_span_ieq(line->name, "x-elastic-product") &&
            http_span_ieq(line->value, "Elasticsearch"))
            f->evidence = true;
        if (http_span_ieq(line->name, "warning") &&
            span_contains_ci(line->value, "security features are not enabled")) {
            f->evidence = true;
            f->security_off = true;
        }
    }
}

/* JSON, _cat text, or nothing: by Content-Type, else by the call. */
static enum es_body_mode response_mode(const struct es_call *call, const struct op_record *op,
                                       const struct http_head *h)
{
    bool ok = op->status_code >= 200 && op->status_code < 300;
    bool cat = call->kind == ES_KIND_CAT || call->kind == ES_KIND_CAT_INDICES;
    bool wanted = es_response_rules[call->kind] != NULL || !ok;
    const struct http_header *ct = http_head_find(h, "content-type");
    if (!wanted)
        return BODY_NONE;
    if (ct != NULL) {
        if (span_contains_ci(ct->value, "json"))
            return BODY_JSON;
        return cat && ok && span_contains_ci(ct->value, "text/plain") ? BODY_TEXT : BODY_NONE;
    }
    if (cat && ok)
        return call->format == ES_FORMAT_JSON ? BODY_JSON
               : call->format == ES_FORMAT_OTHER ? BODY_NONE : BODY_TEXT;
    return BODY_JSON;
}

static void es_response_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                             const struct http_head *head)
{
    pthread_once(&depth_once, depth_init);
    struct es_flow *f = st;
    struct es_response_side *r = &f->resp;
    struct es_call call;
    (void)ctx;

    memset(r, 0, offsetof(struct es_response_side, cat));
    note_server_head(f, head);
    if (!op_call(op, &call))
        return;
    bool is_es = app_is_es(op->app);
    if (!is_es && f->evidence) {
        es_apply(f, op, &call);     /* the server just showed what it is */
        is_es = true;
    }
    r->probe = !is_es && call.kind == ES_KIND_BANNER;
    if (!is_es && !r->probe)
        return;
    r->active = true;
    r->op = op;
    r->kind = call.kind;
    r->mode = response_mode(&call, op, head);
    if (r->mode == BODY_TEXT)
        cat_start(&r->cat, &call, op);
    if (r->mode == BODY_JSON) {
        json_scan_init(&r->scan, response_value, f);
        bool ok = op->status_code >= 200 && op->status_code < 300;
        if (call.kind == ES_KIND_CAT_INDICES && ok &&
            (!call.cat_columns_given || call.cat_docs_column >= 0))
            op->total = 0;
    }
}

static void es_response_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                             const uint8_t *buf, size_t len)
{
    struct es_response_side *r = &((struct es_flow *)st)->resp;
    (void)ctx;
    if (!r->active || op != r->op)
        return;
    if (r->mode == BODY_JSON)
        (void)json_scan_feed(&r->scan, buf, len);
    else if (r->mode == BODY_TEXT)
        cat_feed(&r->cat, op, buf, len);
}

/* The banner told what the server is; a probed "GET /" becomes an ES op. */
static void response_banner_end(struct es_flow *f, struct op_record *op)
{
    if (f->resp.tagline_es || f->resp.tagline_os)
        f->evidence = true;
    if (f->resp.tagline_os)
        f->opensearch = true;
    struct es_call call;
    if (f->resp.probe && f->evidence && op_call(op, &call))
        es_apply(f, op, &call);
}

static void es_response_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    struct es_flow *f = st;
    struct es_response_side *r = &f->resp;
    (void)ctx;

    if (r->active && op == r->op) {
        if (r->mode == BODY_JSON)
            (void)json_scan_finish(&r->scan);
        else if (r->mode == BODY_TEXT && (r->cat.len > 0 || r->cat.overflow))
            cat_line(&r->cat, op);
        if (r->kind == ES_KIND_BANNER)
            response_banner_end(f, op);
        r->active = false;
        r->op = NULL;
    }
    if (!app_is_es(op->app))
        return;
    /* Credentials sent or not, whatever the outcome (status says that). */
    op->authenticated = op->authenticated == OP_AUTH_YES ? OP_AUTH_YES : OP_AUTH_NO;
    if (f->opensearch && !(op->flags & OP_FLAG_VIA_KIBANA))
        op->app = APP_OPENSEARCH;
    if (f->security_off)
        op->flags |= OP_FLAG_SECURITY_OFF;
}

const struct http_observer es_observer = {
    .state_size = sizeof(struct es_flow),
    .request_head = es_request_head,
    .request_body = es_request_body,
    .request_end = es_request_end,
    .response_head = es_response_head,
    .response_body = es_response_body,
    .response_end = es_response_end,
    .close = NULL,
};

static void *es_open(struct decoder_ctx *ctx)
{
    return http_open_with(ctx, &es_observer, APP_ELASTICSEARCH);
}

/* Elasticsearch's and OpenSearch's REST ports. */
static const uint16_t es_ports[] = { 9200, 9201 };

const struct decoder elasticsearch_decoder = {
    .name = "elasticsearch",
    .app = APP_ELASTICSEARCH,
    .ports = es_ports,
    .port_count = sizeof(es_ports) / sizeof(es_ports[0]),
    .settings = &http_settings,
    .counters = &http_counters,
    .open = es_open,
    .data = http_stream_data,
    .gap = http_stream_gap,
    .end = http_stream_end,
    .close = http_stream_close,
};

/* ---- the "http" decoder's view of Elasticsearch (http_decoder.c) */

/* The path names an Elasticsearch API (or Kibana's console proxy). */
static bool es_claims(struct http_span method, struct http_span target)
{
    struct es_call call;
    es_classify_target(method, target, &call);
    return call.api;
}

static bool es_server_head(const struct http_head *head)
{
    struct es_flow f = { .evidence = false };
    note_server_head(&f, head);
    return f.evidence;
}

static const char *const es_marks[] = {
    "You Know, for Search", "The OpenSearch Project", NULL,
};

/* The default app of the "http" decoder: it runs while nothing else is
 * known, reading an op as Elasticsearch only when its path is an ES API or
 * the server has shown itself (see elasticsearch.h). */
const struct http_app es_http_app = {
    .app = APP_ELASTICSEARCH,
    .obs = &es_observer,
    .claims = es_claims,
    .server_head = es_server_head,
    .body_marks = es_marks,
};
