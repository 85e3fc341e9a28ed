/* http_url.h - request-target helpers for the application observers on the
 * HTTP framer (CouchDB, Solr): path segments, query parameters, percent
 * decoding, counts. Pure functions over spans; nothing is allocated.
 *
 * Elasticsearch predates this module and keeps its own copies of the same
 * few lines (elasticsearch.c); new observers use these. */
#ifndef SW_HTTP_URL_H
#define SW_HTTP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http_parse.h"

#define HTTP_URL_SEGMENTS_MAX 8     /* path segments kept */
#define HTTP_URL_SEGMENT_TEXT 48    /* decoded bytes kept of each, for matching */

struct http_url_segment {
    struct http_span raw;                  /* as sent (percent-encoded) */
    char text[HTTP_URL_SEGMENT_TEXT + 1];  /* decoded, NUL-terminated */
    bool cut;                              /* longer than text: matches nothing */
};

/* A request-target split: its path segments (empty ones skipped, past
 * HTTP_URL_SEGMENTS_MAX dropped) and its raw query (after '?', before '#'). */
struct http_url {
    struct http_url_segment seg[HTTP_URL_SEGMENTS_MAX];
    size_t count;
    struct http_span path;
    struct http_span query;
};

void http_url_split(struct http_span target, struct http_url *url);
/* Segment i is exactly `text` (false when absent or cut). */
bool http_url_seg_is(const struct http_url *url, size_t i, const char *text);

/* Percent-decodes src into dst (at most cap bytes, not NUL-terminated);
 * with plus_space '+' is a space (query values). A '%' without two hex
 * digits stands for itself. Returns the length; *cut: input was left. */
size_t http_url_decode(struct http_span src, char *dst, size_t cap, bool plus_space,
                       bool *cut);

/* The next "key=value" pair of a raw query from *pos: key and value raw,
 * value empty when there is no '='. False when the query is exhausted. */
bool http_query_next(struct http_span query, size_t *pos, struct http_span *key,
                     struct http_span *value);
/* The value of parameter `name` (first occurrence), decoded into buf (cap
 * bytes); false when absent. */
bool http_query_get(struct http_span query, const char *name, char *buf, size_t cap,
                    size_t *len);

/* A span equals a C string, byte for byte. */
bool http_span_is(struct http_span s, const char *text);
/* A case-insensitive search of `needle` (lower case) in a span. */
bool http_span_contains_ci(struct http_span s, const char *needle);
/* A non-negative decimal of at most 18 digits, or -1. */
int64_t http_parse_count(const char *p, size_t len);
/* base + n, with base -1 (unknown) taken as 0, saturating. */
int64_t http_count_add(int64_t base, int64_t n);

#endif
