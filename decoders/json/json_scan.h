/* json_scan.h - a streaming JSON scanner for response and request bodies.
 *
 * Bytes are pushed in pieces of any size; nothing is buffered but the current
 * token (numbers, and strings up to JSON_SCAN_STRING_MAX bytes, longer ones
 * are reported cut with `truncated` set). Depth is bounded. It never builds a
 * document: it reports each value, with its path, to a callback, which keeps
 * only what it needs (counts, a few numbers). A sequence of top-level values
 * (NDJSON, as in _bulk and _msearch bodies) is accepted.
 *
 * Paths: the callback can ask whether the value being reported sits at a
 * path given as dotted keys, with "[]" for "any element of an array", e.g.
 * json_scan_at(s, "hits.hits.[]") is true for each element of hits.hits, and
 * json_scan_at(s, "hits.total.value") for that number. A path component
 * "*" is any key of an object ("status.*" is each member of status). */
#ifndef SW_JSON_SCAN_H
#define SW_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_SCAN_DEPTH_MAX 32
#define JSON_SCAN_KEY_MAX 48       /* keys longer are cut (and cannot match) */
#define JSON_SCAN_STRING_MAX 256

enum json_value_type {
    JSON_OBJECT_START = 1,  /* an object value begins (path = the object's) */
    JSON_OBJECT_END,
    JSON_ARRAY_START,
    JSON_ARRAY_END,
    JSON_STRING,            /* text/len: unescaped (UTF-8), at most STRING_MAX */
    JSON_NUMBER,            /* text/len: the number as written; number: its value */
    JSON_TRUE,
    JSON_FALSE,
    JSON_NULL,
};

struct json_scan_value {
    enum json_value_type type;
    const char *text;       /* JSON_STRING, JSON_NUMBER */
    size_t len;
    bool truncated;         /* string longer than JSON_SCAN_STRING_MAX */
    double number;          /* JSON_NUMBER */
};

struct json_scan;
typedef void (*json_scan_fn)(void *arg, const struct json_scan *s,
                             const struct json_scan_value *v);

struct json_scan_level {
    bool is_array;
    uint8_t key_len;        /* key of the value being read inside an object */
    bool key_cut;
    char key[JSON_SCAN_KEY_MAX];
    uint32_t index;         /* element index inside an array */
};

struct json_scan {
    json_scan_fn fn;
    void *arg;
    int state;              /* internal lexer/parser state */
    int depth;              /* open containers */
    struct json_scan_level level[JSON_SCAN_DEPTH_MAX];
    char token[JSON_SCAN_STRING_MAX + 8];
    size_t token_len;
    bool token_cut;
    uint32_t escape;        /* \uXXXX decoding progress */
    uint32_t literal;       /* progress in true/false/null */
    bool failed;            /* malformed or too deep: later bytes ignored */
    uint64_t values;        /* top-level values completed */
};

void json_scan_init(struct json_scan *s, json_scan_fn fn, void *arg);
/* Returns 0, or -1 once the input was malformed or too deep (sticky). */
int json_scan_feed(struct json_scan *s, const uint8_t *buf, size_t len);
/* End of input: -1 if a value was left open (e.g. cut by a gap). */
int json_scan_finish(struct json_scan *s);
/* Inside the callback: is the reported value at `path`? */
bool json_scan_at(const struct json_scan *s, const char *path);
/* Inside the callback: depth of the reported value (top-level value = 0). */
int json_scan_value_depth(const struct json_scan *s);

#endif
