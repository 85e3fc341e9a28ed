/* test_json_scan.c - the streaming JSON scanner.
 *
 * A recorder callback writes every reported value (type, depth, text,
 * number) into a trace, and counts what the tests look for. Documents are
 * scanned whole, cut at every point, and byte by byte; the traces must be
 * the same. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

#include "../../decoders/json/json_scan.h"
#include "check.h"

/* ------------------------------------------------------------- recorder */

#define TRACE_MAX 65536

struct recorder {
    char trace[TRACE_MAX];
    size_t trace_len;
    bool trace_full;
    int callbacks;
    int hits;              /* OBJECT_START at hits.hits.[] */
    int hits_array;        /* ARRAY_START at hits.hits */
    int hits_array_end;    /* ARRAY_END at hits.hits */
    double total;          /* hits.total.value */
    double docs_sum;       /* [].docs.count, given as strings */
    int top_values;        /* values reported at depth 0 ("" path) */
    int max_depth;
    /* the last string and number */
    char text[JSON_SCAN_STRING_MAX + 1];
    size_t text_len;
    bool truncated;
    double number;
    int strings, numbers, literals;
    enum json_value_type last_type;
};

static void trace_append(struct recorder *r, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (r->trace_full)
        return;
    va_start(ap, fmt);
    n = vsnprintf(r->trace + r->trace_len, TRACE_MAX - r->trace_len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= TRACE_MAX - r->trace_len)
        r->trace_full = true;
    else
        r->trace_len += (size_t)n;
}

static void record(void *arg, const struct json_scan *s, const struct json_scan_value *v)
{
    struct recorder *r = arg;
    int depth = json_scan_value_depth(s);
    size_t i;

    r->callbacks++;
    r->last_type = v->type;
    if (depth > r->max_depth)
        r->max_depth = depth;
    trace_append(r, "%d %d", (int)v->type, depth);
    if (v->type == JSON_STRING || v->type == JSON_NUMBER) {
        trace_append(r, " %zu%s \"", v->len, v->truncated ? "+" : "");
        for (i = 0; i < v->len; i++) {
            unsigned char c = (unsigned char)v->text[i];
            if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
                trace_append(r, "\\x%02x", c);
            else
                trace_append(r, "%c", c);
        }
        trace_append(r, "\"");
        memcpy(r->text, v->text, v->len <= JSON_SCAN_STRING_MAX ? v->len : 0);
        r->text[v->len <= JSON_SCAN_STRING_MAX ? v->len : 0] = '\0';
        r->text_len = v->len;
        r->truncated = v->truncated;
    }
    if (v->type == JSON_NUMBER) {
        trace_append(r, " %.17g", v->number);
        r->number = v->number;
        r->numbers++;
    }
    if (v->type == JSON_STRING)
        r->strings++;
    if (v->type == JSON_TRUE || v->type == JSON_FALSE || v->type == JSON_NULL)
        r->literals++;
    trace_append(r, "\n");

    if (v->type == JSON_OBJECT_START && json_scan_at(s, "hits.hits.[]"))
        r->hits++;
    if (v->type == JSON_ARRAY_START && json_scan_at(s, "hits.hits"))
        r->hits_array++;
    if (v->type == JSON_ARRAY_END && json_scan_at(s, "hits.hits"))
        r->hits_array_end++;
    if (v->type == JSON_NUMBER && json_scan_at(s, "hits.total.value"))
        r->total = v->number;
    if (v->type == JSON_STRING && json_scan_at(s, "[].docs.count"))
        r->docs_sum += strtod(v->text, NULL);
    if (json_scan_at(s, "")) {
        if (v->type != JSON_OBJECT_END && v->type != JSON_ARRAY_END)
            r->top_values++;
    }
}

/* Scans doc in pieces cut at cuts[0..ncuts-1] (increasing), then finishes.
 * Returns 0 if every call returned 0, else -1; *values gets s.values. */
static int scan_cuts(struct recorder *r, const char *doc, size_t n, const size_t *cuts,
                     size_t ncuts, uint64_t *values)
{
    struct json_scan s;
    size_t from = 0, i;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    json_scan_init(&s, record, r);
    for (i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        if (json_scan_feed(&s, (const uint8_t *)doc + from, to - from) != 0)
            rc = -1;
        from = to;
    }
    if (json_scan_finish(&s) != 0)
        rc = -1;
    if (values != NULL)
        *values = s.values;
    return rc;
}

static int scan(struct recorder *r, const char *doc)
{
    return scan_cuts(r, doc, strlen(doc), NULL, 0, NULL);
}

/* The document whole, then cut at every point, then byte by byte: the same
 * trace, result and value count each time. */
static void check_split_invariance(const char *doc, size_t n)
{
    static struct recorder whole, split;
    uint64_t values_whole, values_split;
    int rc_whole, rc_split;
    size_t k, *cuts;

    rc_whole = scan_cuts(&whole, doc, n, NULL, 0, &values_whole);
    CHECK(!whole.trace_full);
    for (k = 0; k <= n; k++) {
        rc_split = scan_cuts(&split, doc, n, &k, 1, &values_split);
        if (rc_split != rc_whole || values_split != values_whole ||
            split.trace_len != whole.trace_len ||
            memcmp(split.trace, whole.trace, whole.trace_len) != 0) {
            CHECK(!"split changes the callbacks");
            fprintf(stderr, "  cut at %zu of %zu\n", k, n);
            return;
        }
    }
    cuts = malloc((n + 1) * sizeof(*cuts));
    if (cuts == NULL)
        abort();
    for (k = 0; k < n; k++)
        cuts[k] = k;
    rc_split = scan_cuts(&split, doc, n, cuts, n, &values_split);
    free(cuts);
    CHECK_EQ_INT(rc_split, rc_whole);
    CHECK_EQ_INT(values_split, values_whole);
    CHECK_EQ_INT(split.trace_len, whole.trace_len);
    CHECK(memcmp(split.trace, whole.trace, whole.trace_len) == 0);
}

/* ------------------------------------------------------------ documents */

static const char es_search_response[] =
    "{\n"
    "  \"took\" : 5,\n"
    "  \"timed_out\" : false,\n"
    "  \"_shards\" : {\"total\" : 1, \"successful\" : 1, \"skipped\" : 0, \"failed\" : 0},\n"
    "  \"hits\" : {\n"
    "    \"total\" : {\"value\" : 1234, \"relation\" : \"eq\"},\n"
    "    \"max_score\" : 1.0,\n"
    "    \"hits\" : [\n"
    "      {\"_index\" : \"support-2019\", \"_id\" : \"a1\", \"_score\" : 1.0,\n"
    "       \"_source\" : {\"customer\" : \"J\\u00f6rg \\\"JJ\\\" Smith\",\n"
    "                    \"notes\" : \"line1\\nline2\\ttab \\\\ back\\/slash\",\n"
    "                    \"tags\" : [\"vip\", \"de\", {\"hits\" : [1, 2]}],\n"
    "                    \"case\" : {\"id\" : 7, \"open\" : true, \"agent\" : null}}},\n"
    "      {\"_index\" : \"support-2019\", \"_id\" : \"a2\", \"_score\" : 1.0,\n"
    "       \"_source\" : {\"customer\" : \"\\ud83d\\ude00 emoji\", \"tags\" : [],\n"
    "                    \"case\" : {\"id\" : -8.5e-1, \"history\" : [[1, [2, {}]], []]}}},\n"
    "      {\"_index\" : \"support-2019\", \"_id\" : \"a3\", \"_score\" : 0.5,\n"
    "       \"_source\" : {\"hits\" : {\"hits\" : [{\"not\" : \"a hit\"}]}, \"n\" : 0}}\n"
    "    ]\n"
    "  }\n"
    "}\n";

static const char cat_indices[] =
    "[{\"health\":\"green\",\"status\":\"open\",\"index\":\"support-a\","
    "\"uuid\":\"x1\",\"pri\":\"1\",\"rep\":\"0\",\"docs.count\":\"1000\","
    "\"docs.deleted\":\"0\",\"store.size\":\"1mb\"},"
    "{\"health\":\"yellow\",\"status\":\"open\",\"index\":\"support-b\","
    "\"docs.count\":\"250\",\"docs.deleted\":\"3\"},"
    "{\"health\":\"red\",\"index\":\"support-c\",\"docs.count\":\"7\"}]";

static const char ndjson[] =
    "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n"
    "{\"field\":\"value\",\"n\":[1,2,3]}\n"
    "{\"delete\":{\"_index\":\"a\",\"_id\":\"2\"}}\n";

/* ---------------------------------------------------------------- tests */

static void test_es_search_response(void)
{
    static struct recorder r;
    uint64_t values = 0;

    CHECK_EQ_INT(scan_cuts(&r, es_search_response, strlen(es_search_response), NULL, 0,
                           &values), 0);
    CHECK_EQ_INT(values, 1);
    CHECK_EQ_INT(r.hits, 3);
    CHECK_EQ_INT(r.hits_array, 1);
    CHECK_EQ_INT(r.hits_array_end, 1);
    CHECK(r.total == 1234);
    CHECK_EQ_INT(r.top_values, 1);
    CHECK_EQ_INT(r.last_type, JSON_OBJECT_END);
    CHECK_EQ_INT(r.max_depth, 9);
    CHECK_EQ_INT(r.literals, 3);
    CHECK(strstr(r.trace, "\"J\\xc3\\xb6rg \\x22JJ\\x22 Smith\"") != NULL);
    CHECK(strstr(r.trace, "\"line1\\x0aline2\\x09tab \\x5c back/slash\"") != NULL);
    CHECK(strstr(r.trace, "\"\\xf0\\x9f\\x98\\x80 emoji\"") != NULL);
    CHECK(strstr(r.trace, "6 6 7 \"-8.5e-1\" -0.84999999999999998") != NULL);
}

static void test_cat_indices(void)
{
    static struct recorder r;
    uint64_t values = 0;

    CHECK_EQ_INT(scan_cuts(&r, cat_indices, strlen(cat_indices), NULL, 0, &values), 0);
    CHECK_EQ_INT(values, 1);
    CHECK(r.docs_sum == 1257);
}

static void test_ndjson(void)
{
    static struct recorder r;
    uint64_t values = 0;

    CHECK_EQ_INT(scan_cuts(&r, ndjson, strlen(ndjson), NULL, 0, &values), 0);
    CHECK_EQ_INT(values, 3);
    CHECK_EQ_INT(r.top_values, 3);
    /* without the final newline, and with blank lines and CRLF */
    CHECK_EQ_INT(scan_cuts(&r, "1\r\n\r\n\"two\"\n  [3] ", 17, NULL, 0, &values), 0);
    CHECK_EQ_INT(values, 3);
    CHECK_EQ_INT(scan_cuts(&r, "{}\n{}", 5, NULL, 0, &values), 0);
    CHECK_EQ_INT(values, 2);
    CHECK_EQ_INT(scan(&r, ""), 0);
    CHECK_EQ_INT(scan(&r, " \n\t\r "), 0);
    CHECK_EQ_INT(r.callbacks, 0);
}

static void test_split_invariance(void)
{
    static const char *const docs[] = {
        cat_indices,
        ndjson,
        "[\"\\u00e9\\ud83d\\ude00\\ud800x\\udc00\\ud800\\n\", -0.5E+10, 0, true, false, null]",
        "{\"a\" : [1, 2.5e3, {\"b\" : \"c\"}], \"k\\u0041y\" : \"v\"}\n42 7",
        "[1, 2, tru]",           /* fails in the middle */
        "{\"a\": \"unterminated",  /* fails at finish */
        "[01]",
    };
    size_t i;

    check_split_invariance(es_search_response, strlen(es_search_response));
    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
        check_split_invariance(docs[i], strlen(docs[i]));
}

static void test_split_invariance_long_values(void)
{
    /* strings and numbers across the cut limit, with escapes near it */
    static char doc[2048];
    size_t n = 0, i;

    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "{\"long\":\"");
    for (i = 0; i < 250; i++)
        doc[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "\\u00e9\\ud83d\\ude00\\n");
    for (i = 0; i < 300; i++)
        doc[n++] = (char)('A' + i % 26);
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, "\\\"\",\"num\":-");
    for (i = 0; i < 300; i++)
        doc[n++] = (char)('1' + i % 9);
    n += (size_t)snprintf(doc + n, sizeof(doc) - n, ".5e-3}");
    check_split_invariance(doc, n);
}

static void test_unicode_escapes(void)
{
    static struct recorder r;

    CHECK_EQ_INT(scan(&r, "\"caf\\u00e9\""), 0);
    CHECK_EQ_STR(r.text, "caf\xc3\xa9");
    CHECK_EQ_INT(scan(&r, "\"\\ud83d\\ude00\""), 0);
    CHECK_EQ_STR(r.text, "\xf0\x9f\x98\x80");
    CHECK_EQ_INT(r.text_len, 4);
    CHECK_EQ_INT(scan(&r, "\"\\u20AC\\u0041\""), 0);
    CHECK_EQ_STR(r.text, "\xe2\x82\xac" "A");
    CHECK_EQ_INT(scan(&r, "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), 0);
    CHECK_EQ_STR(r.text, "\"\\/\b\f\n\r\t");
    /* \u0000 is kept, inside len */
    CHECK_EQ_INT(scan(&r, "\"a\\u0000b\""), 0);
    CHECK_EQ_INT(r.text_len, 3);
    CHECK(memcmp(r.text, "a\0b", 3) == 0);
    /* lone surrogates become U+FFFD */
    CHECK_EQ_INT(scan(&r, "\"\\ud800x\""), 0);
    CHECK_EQ_STR(r.text, "\xef\xbf\xbdx");
    CHECK_EQ_INT(scan(&r, "\"\\udc00\""), 0);
    CHECK_EQ_STR(r.text, "\xef\xbf\xbd");
    CHECK_EQ_INT(scan(&r, "\"\\ud800\\n\""), 0);
    CHECK_EQ_STR(r.text, "\xef\xbf\xbd\n");
    CHECK_EQ_INT(scan(&r, "\"\\ud800\\u0041\""), 0);
    CHECK_EQ_STR(r.text, "\xef\xbf\xbd" "A");
    CHECK_EQ_INT(scan(&r, "\"\\ud800\\ud83d\\ude00\""), 0);
    CHECK_EQ_STR(r.text, "\xef\xbf\xbd\xf0\x9f\x98\x80");
    CHECK_EQ_INT(scan(&r, "\"\\ud800\""), 0);
    CHECK_EQ_STR(r.text, "\xef\xbf\xbd");
    /* raw UTF-8 passes through */
    CHECK_EQ_INT(scan(&r, "\"J\xc3\xb6rg\""), 0);
    CHECK_EQ_STR(r.text, "J\xc3\xb6rg");
    /* bad escapes */
    CHECK_EQ_INT(scan(&r, "\"\\x\""), -1);
    CHECK_EQ_INT(scan(&r, "\"\\u12G4\""), -1);
    CHECK_EQ_INT(scan(&r, "\"\\u12\""), -1);
    CHECK_EQ_INT(scan(&r, "\"\\U0041\""), -1);
    CHECK_EQ_INT(scan(&r, "\"\\'\""), -1);
}

static void test_long_string(void)
{
    static char doc[10 * 1024 + 64];
    static char expect[JSON_SCAN_STRING_MAX + 1];
    static struct recorder r;
    size_t n = 0, i;

    doc[n++] = '[';
    doc[n++] = '"';
    for (i = 0; i < 10 * 1024; i++)
        doc[n++] = (char)('a' + i % 26);
    memcpy(doc + n, "\",\"next\"]", 9);
    n += 9;
    doc[n] = '\0';
    for (i = 0; i < JSON_SCAN_STRING_MAX; i++)
        expect[i] = (char)('a' + i % 26);
    CHECK_EQ_INT(scan_cuts(&r, doc, n, NULL, 0, NULL), 0);
    CHECK_EQ_INT(r.strings, 2);
    CHECK(strstr(r.trace, "5 1 256+ \"abcdefghij") != NULL);
    CHECK(strstr(r.trace, "5 1 4 \"next\"") != NULL);
    /* the cut string alone: its first 256 bytes */
    doc[n - 8] = '\0';
    CHECK_EQ_INT(scan(&r, doc + 1), 0);
    CHECK(r.truncated);
    CHECK_EQ_INT(r.text_len, JSON_SCAN_STRING_MAX);
    CHECK(memcmp(r.text, expect, JSON_SCAN_STRING_MAX) == 0);

    /* exactly STRING_MAX bytes is whole */
    memcpy(doc, "\"", 1);
    memcpy(doc + 1, expect, JSON_SCAN_STRING_MAX);
    memcpy(doc + 1 + JSON_SCAN_STRING_MAX, "\"", 2);
    CHECK_EQ_INT(scan(&r, doc), 0);
    CHECK(!r.truncated);
    CHECK_EQ_INT(r.text_len, JSON_SCAN_STRING_MAX);
    /* one more byte, or one more escaped byte, is cut */
    memcpy(doc + 1 + JSON_SCAN_STRING_MAX, "x\"", 3);
    CHECK_EQ_INT(scan(&r, doc), 0);
    CHECK(r.truncated);
    CHECK_EQ_INT(r.text_len, JSON_SCAN_STRING_MAX);
    memcpy(doc + 1 + JSON_SCAN_STRING_MAX, "\\n\"", 4);
    CHECK_EQ_INT(scan(&r, doc), 0);
    CHECK(r.truncated);
    /* an escaped character is never split at the cut */
    memcpy(doc + 1 + JSON_SCAN_STRING_MAX - 1, "\\u00e9\"", 8);
    CHECK_EQ_INT(scan(&r, doc), 0);
    CHECK(r.truncated);
    CHECK_EQ_INT(r.text_len, JSON_SCAN_STRING_MAX - 1);
    doc[JSON_SCAN_STRING_MAX] = expect[JSON_SCAN_STRING_MAX - 1];
    /* the skipped part is still checked */
    memcpy(doc + 1 + JSON_SCAN_STRING_MAX, "abc\\q\"", 7);
    CHECK_EQ_INT(scan(&r, doc), -1);
    memcpy(doc + 1 + JSON_SCAN_STRING_MAX, "abc\x01\"", 6);
    CHECK_EQ_INT(scan(&r, doc), -1);
    memcpy(doc + 1 + JSON_SCAN_STRING_MAX, "abc\\\"\"", 7);
    CHECK_EQ_INT(scan(&r, doc), 0);
}

static void test_long_key(void)
{
    static struct recorder r;
    char key60[61], key48[49], doc[256], path[128];
    struct json_scan s;

    memset(key60, 'k', 60);
    key60[60] = '\0';
    memset(key48, 'k', 48);
    key48[48] = '\0';

    /* a 48-byte key is whole and matches */
    snprintf(doc, sizeof(doc), "{\"%s\":{\"hits\":[{}]}}", key48);
    snprintf(path, sizeof(path), "%s.hits.[]", key48);
    memset(&r, 0, sizeof(r));
    json_scan_init(&s, record, &r);
    CHECK_EQ_INT(json_scan_feed(&s, (const uint8_t *)doc, strlen(doc)), 0);
    CHECK_EQ_INT(json_scan_finish(&s), 0);
    CHECK_EQ_INT(s.level[0].key_len, 48);
    CHECK(!s.level[0].key_cut);

    /* a 60-byte key is cut: neither its full text nor its first 48 bytes match */
    snprintf(doc, sizeof(doc), "{\"%s\":{\"hits\":{\"hits\":[{}]}}, \"hits\":{\"hits\":[{}]}}",
             key60);
    CHECK_EQ_INT(scan(&r, doc), 0);
    CHECK_EQ_INT(r.hits, 1); /* only the second, real hits.hits */
    snprintf(doc, sizeof(doc), "{\"%s\":{\"total\":{\"value\":5}}}", key60);
    CHECK_EQ_INT(scan(&r, doc), 0);
    CHECK(r.total == 0);
}

/* A callback that checks json_scan_at on a few values of one document. */
struct path_check {
    int top, element, deep, dotted, wrong;
};

static void path_record(void *arg, const struct json_scan *s, const struct json_scan_value *v)
{
    struct path_check *p = arg;

    if (json_scan_at(s, "") && v->type == JSON_ARRAY_START)
        p->top++;
    if (json_scan_at(s, "[]") && v->type == JSON_NUMBER)
        p->element++;
    if (json_scan_at(s, "[].a.[].[]") && v->type == JSON_STRING)
        p->deep++;
    if (json_scan_at(s, "[].x.y") && v->type == JSON_TRUE)
        p->dotted++;
    if (json_scan_at(s, "[].a.") || json_scan_at(s, "[].a.[].") ||
        json_scan_at(s, "[].a[]") || json_scan_at(s, "[]a") || json_scan_at(s, "[.a") ||
        json_scan_at(s, ".[]") || json_scan_at(s, "[].x.y.z"))
        p->wrong++;
}

static void test_paths(void)
{
    static const char doc[] =
        "[1, {\"a\": [[\"s\", \"t\"], \"u\"]}, 2, {\"x.y\": true, \"x\": {\"y\": true}}]";
    struct path_check p;
    struct json_scan s;

    memset(&p, 0, sizeof(p));
    json_scan_init(&s, path_record, &p);
    CHECK_EQ_INT(json_scan_feed(&s, (const uint8_t *)doc, strlen(doc)), 0);
    CHECK_EQ_INT(json_scan_finish(&s), 0);
    CHECK_EQ_INT(p.top, 1);
    CHECK_EQ_INT(p.element, 2);
    CHECK_EQ_INT(p.deep, 2);
    CHECK_EQ_INT(p.dotted, 2); /* the key "x.y" and the path x then y */
    CHECK_EQ_INT(p.wrong, 0);
}

static void test_depth(void)
{
    static struct recorder r;
    char doc[2 * JSON_SCAN_DEPTH_MAX + 8];
    struct json_scan s;
    int i, n = 0;

    for (i = 0; i < JSON_SCAN_DEPTH_MAX; i++)
        doc[n++] = '[';
    for (i = 0; i < JSON_SCAN_DEPTH_MAX; i++)
        doc[n++] = ']';
    CHECK_EQ_INT(scan_cuts(&r, doc, (size_t)n, NULL, 0, NULL), 0);
    CHECK_EQ_INT(r.max_depth, JSON_SCAN_DEPTH_MAX - 1);
    CHECK_EQ_INT(r.callbacks, 2 * JSON_SCAN_DEPTH_MAX);

    n = 0;
    for (i = 0; i < JSON_SCAN_DEPTH_MAX + 1; i++)
        doc[n++] = '[';
    for (i = 0; i < JSON_SCAN_DEPTH_MAX + 1; i++)
        doc[n++] = ']';
    memset(&r, 0, sizeof(r));
    json_scan_init(&s, record, &r);
    CHECK_EQ_INT(json_scan_feed(&s, (const uint8_t *)doc, (size_t)n), -1);
    CHECK(s.failed);
    CHECK_EQ_INT(r.callbacks, JSON_SCAN_DEPTH_MAX); /* the 33rd is not reported */
    /* sticky: later bytes are ignored */
    CHECK_EQ_INT(json_scan_feed(&s, (const uint8_t *)"1 ", 2), -1);
    CHECK_EQ_INT(r.callbacks, JSON_SCAN_DEPTH_MAX);
    CHECK_EQ_INT(json_scan_finish(&s), -1);

    /* depth 32 with objects at every level */
    {
        char deep[512];
        size_t m = 0;
        for (i = 0; i < JSON_SCAN_DEPTH_MAX; i++)
            m += (size_t)snprintf(deep + m, sizeof(deep) - m, "{\"a\":");
        deep[m - 5] = '\0'; /* the innermost is {} */
        m -= 5;
        m += (size_t)snprintf(deep + m, sizeof(deep) - m, "{}");
        for (i = 0; i < JSON_SCAN_DEPTH_MAX - 1; i++)
            deep[m++] = '}';
        deep[m] = '\0';
        CHECK_EQ_INT(scan(&r, deep), 0);
        CHECK_EQ_INT(r.max_depth, JSON_SCAN_DEPTH_MAX - 1);
    }
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "[1,]", "{\"a\":1,}", "[,1]", "{,}", "{\"a\" 1}", "{\"a\"}", "{\"a\":}",
        "tru", "[tru]", "truex", "nul", "nulll", "fals", "True", "[True]",
        "\"unterminated", "[\"unterminated", "\"a\x01z\"", "\"tab\there\"",
        "\"new\nline\"", "\"\x1f\"",
        "01", "[01]", "-01", "00", "-", "[-]", "1.", "1.e5", ".5", "+1", "1e", "1e+",
        "1E-", "0x10", "1.5.2", "--1", "[1 2]", "{\"a\":1 \"b\":2}", "[}", "{]", "]",
        "}", "[1]]", "{\"a\":1}}", "{1:2}", "{a:1}", "{'a':1}", "['a']", "[1,,2]",
        "{\"a\"::1}", "{\"a\":1,,\"b\":2}", "1 2x", "{}{}", "[][]", "1x", "\"a\"\"b\"",
        "[", "{", "{\"a\"", "{\"a\":", "{\"a\":1", "[1,", "\"\\", "\"\\u00", "\x00",
        "\xef\xbb\xbf{}", "[NaN]", "[Infinity]", "[-Infinity]", "/* c */ 1",
    };
    static struct recorder r;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]) + (bad[i][0] == '\0');
        if (scan_cuts(&r, bad[i], n, NULL, 0, NULL) != -1) {
            CHECK(!"malformed input accepted");
            fprintf(stderr, "  input %zu: \"%s\"\n", i, bad[i]);
        }
    }
}

static void test_numbers(void)
{
    static const struct {
        const char *text;
        double value;
    } cases[] = {
        {"0", 0}, {"-0", -0.0}, {"1.5e3", 1500}, {"1E-2", 0.01}, {"-12.25E+2", -1225},
        {"123456789012345", 123456789012345.0}, {"1234567890123456789", 1234567890123456789.0},
        {"-9007199254740993", -9007199254740993.0}, {"0.5", 0.5}, {"0e0", 0}, {"10", 10},
        {"1e400", HUGE_VAL}, {"-1e-400", -0.0}, {"1e99999999999999999999", HUGE_VAL},
        {"0.1e-99999999999999999999", 0}, {"123.456e2", 12345.6}, {"1e22", 1e22},
        {"1e23", 1e23}, {"0.000000000000000000000001", 1e-24}, {"9.87654321e-22", 9.87654321e-22},
        {"100000000000000000000000000000000000000000000000000", 1e50},
    };
    static struct recorder r;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char doc[64];
        snprintf(doc, sizeof(doc), "[%s]", cases[i].text);
        CHECK_EQ_INT(scan(&r, doc), 0);
        CHECK_EQ_INT(r.numbers, 1);
        CHECK_EQ_STR(r.text, cases[i].text);
        CHECK(!r.truncated);
        if (r.number != cases[i].value || signbit(r.number) != signbit(cases[i].value))
            CHECK(!"number value");
    }
    /* in objects, before each kind of delimiter */
    CHECK_EQ_INT(scan(&r, "{\"a\":1,\"b\":-2.5 ,\"c\":3e1}\n[4\t,5\r]"), 0);
    CHECK_EQ_INT(r.numbers, 5);
    CHECK(r.number == 5);
}

static void test_long_number(void)
{
    static char doc[400];
    static struct recorder r;
    size_t n = 0, i;

    doc[n++] = '[';
    for (i = 0; i < 300; i++)
        doc[n++] = '7';
    doc[n++] = ']';
    doc[n] = '\0';
    CHECK_EQ_INT(scan(&r, doc), 0);
    CHECK(r.truncated);
    CHECK_EQ_INT(r.text_len, JSON_SCAN_STRING_MAX);
    CHECK(r.number > 7.7e255 && r.number < 7.8e255);
    /* a bad byte after the cut is still seen */
    doc[n - 2] = 'x';
    CHECK_EQ_INT(scan(&r, doc), -1);
}

static void test_number_at_end(void)
{
    static struct recorder r;
    struct json_scan s;

    memset(&r, 0, sizeof(r));
    json_scan_init(&s, record, &r);
    CHECK_EQ_INT(json_scan_feed(&s, (const uint8_t *)"42", 2), 0);
    CHECK_EQ_INT(r.callbacks, 0);
    CHECK_EQ_INT(s.values, 0);
    CHECK_EQ_INT(json_scan_finish(&s), 0);
    CHECK_EQ_INT(r.callbacks, 1);
    CHECK(r.number == 42);
    CHECK_EQ_STR(r.text, "42");
    CHECK_EQ_INT(s.values, 1);
    CHECK_EQ_INT(json_scan_finish(&s), 0); /* finish twice: nothing more */
    CHECK_EQ_INT(r.callbacks, 1);

    /* pieces "4", "2" */
    memset(&r, 0, sizeof(r));
    json_scan_init(&s, record, &r);
    CHECK_EQ_INT(json_scan_feed(&s, (const uint8_t *)"4", 1), 0);
    CHECK_EQ_INT(json_scan_feed(&s, (const uint8_t *)"2", 1), 0);
    CHECK_EQ_INT(json_scan_finish(&s), 0);
    CHECK(r.number == 42);

    /* incomplete numbers and open containers fail at finish */
    CHECK_EQ_INT(scan(&r, "-"), -1);
    CHECK_EQ_INT(scan(&r, "1e"), -1);
    CHECK_EQ_INT(scan(&r, "[42"), -1);
    CHECK_EQ_INT(scan(&r, "1.0"), 0);
    CHECK_EQ_INT(scan(&r, "true"), 0);
    CHECK_EQ_INT(r.literals, 1);
}

static void test_literals_and_empty(void)
{
    static struct recorder r;

    CHECK_EQ_INT(scan(&r, "[true,false,null,{},[],\"\",{\"\":\"\"}]"), 0);
    CHECK(strstr(r.trace, "3 0\n7 1\n8 1\n9 1\n1 1\n2 1\n3 1\n4 1\n5 1 0 \"\"\n1 1\n"
                          "5 2 0 \"\"\n2 1\n4 0\n") != NULL);
    /* feeding nothing is harmless, even with a NULL buffer */
    {
        struct json_scan s;
        json_scan_init(&s, NULL, NULL);
        CHECK_EQ_INT(json_scan_feed(&s, NULL, 0), 0);
        CHECK_EQ_INT(json_scan_feed(&s, (const uint8_t *)"[1]", 3), 0);
        CHECK_EQ_INT(json_scan_finish(&s), 0);
        CHECK_EQ_INT(s.values, 1);
    }
}

int main(void)
{
    check_binary = "json_scan";
    RUN(test_es_search_response);
    RUN(test_cat_indices);
    RUN(test_ndjson);
    RUN(test_split_invariance);
    RUN(test_split_invariance_long_values);
    RUN(test_unicode_escapes);
    RUN(test_long_string);
    RUN(test_long_key);
    RUN(test_paths);
    RUN(test_depth);
    RUN(test_malformed);
    RUN(test_numbers);
    RUN(test_long_number);
    RUN(test_number_at_end);
    RUN(test_literals_and_empty);
    CHECK_EXIT();
}
