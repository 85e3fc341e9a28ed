/* elasticsearch.h - Elasticsearch and OpenSearch over HTTP: an observer on
 * the HTTP framer, and the pure classifier it is built on.
 *
 * The observer names each request/response pair by its REST API
 * ("_search", "_cat/indices", "delete_index"), classifies it, finds the
 * indices it targets, and counts what the response returned (hits, rows,
 * documents, totals) with the streaming JSON scanner: bodies are never
 * buffered. Cursors (scroll ids, point-in-time ids, SQL cursors) enter an
 * op only as a hash, so that a scroll chain can be followed from page to
 * page without the id itself ever leaving the sensor.
 *
 * Two modes, told apart by the app of the ops the framer hands over:
 * - "elasticsearch" decoder (ops arrive as APP_ELASTICSEARCH): every op is
 *   read as an Elasticsearch call;
 * - "http" decoder with this observer (ops arrive as APP_HTTP): an op is
 *   read as Elasticsearch only when its own path is a known ES API (or the
 *   Kibana console proxy), or when the server has shown itself to be
 *   Elasticsearch/OpenSearch on this flow (X-elastic-product header, the
 *   "security features are not enabled" Warning, or the "/" banner);
 *   other ops are left exactly as the framer made them. */
#ifndef SW_ELASTICSEARCH_H
#define SW_ELASTICSEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../http/http.h"

/* What the bodies of a call hold, as far as the observer reads them. */
enum es_kind {
    ES_KIND_OTHER = 0,    /* nothing counted (errors are still read) */
    ES_KIND_BANNER,       /* GET / : tagline, version.distribution */
    ES_KIND_SEARCH,       /* _search: hits, total, _scroll_id, pit_id */
    ES_KIND_SCROLL,       /* _search/scroll */
    ES_KIND_SCROLL_CLEAR, /* DELETE _search/scroll */
    ES_KIND_PIT_OPEN,
    ES_KIND_PIT_CLOSE,
    ES_KIND_MSEARCH,
    ES_KIND_COUNT,
    ES_KIND_CAT,          /* _cat/<x>: rows */
    ES_KIND_CAT_INDICES,  /* _cat/indices: rows and summed docs.count */
    ES_KIND_DOC,          /* GET one document */
    ES_KIND_MGET,
    ES_KIND_BULK,
    ES_KIND_BY_QUERY,     /* _delete_by_query, _update_by_query, _reindex */
    ES_KIND_SQL,
    ES_KIND_ASYNC_SEARCH,
    ES_KIND_MAX           /* number of kinds */
};

/* _cat output format asked by the format= parameter. */
enum es_format { ES_FORMAT_DEFAULT = 0, ES_FORMAT_JSON, ES_FORMAT_TEXT, ES_FORMAT_OTHER };

/* One REST call as read from its method and request-target: the result
 * of the pure classifier. Strings are NUL-terminated; each buffer holds one
 * byte more than the op field it is copied to, so that copying it with
 * op_set_string marks the op truncated when it was cut. */
struct es_call {
    enum es_kind kind;
    enum op_class op_class;
    bool api;                        /* the path is a known ES API (or Kibana proxy) */
    bool via_kibana;                 /* came through /api/console/proxy */
    char name[OP_NAME_MAX + 1];      /* "" : not an ES call, keep the method */
    size_t name_len;
    char target[OP_TARGET_MAX + 1];  /* index part, URL-decoded; "" if none */
    size_t target_len;
    int64_t size;                    /* size= ; -1 if absent */
    int64_t from;                    /* from= ; -1 if absent */
    bool q_present;                  /* q= given */
    bool match_all;                  /* q=*:* or q=* */
    bool match_all_if_no_query;      /* a search: no query at all reads everything */
    bool continues;                  /* continues a cursor (scroll id given) */
    bool has_continuation;
    char continuation[OP_CONT_MAX];  /* hash of the cursor id given in the target */
    enum es_format format;
    bool cat_header;                 /* v: the first _cat line names the columns */
    bool cat_columns_given;          /* h= given */
    int cat_columns;                 /* with h=: number of columns, 0 if unknown */
    int cat_docs_column;             /* with h=: index of docs.count, -1 if none */
};

/* The classifier. `path` and `query` are raw (percent-encoded) as they
 * appear in a request-target, without the '?'. Fills *call; never fails. */
void es_classify(struct http_span method, struct http_span path,
                 struct http_span query, struct es_call *call);

/* The whole request-target: splits path and query, and for Kibana's
 * /api/console/proxy?path=...&method=... (or the older uri=) classifies the
 * inner call and sets via_kibana. */
void es_classify_target(struct http_span method, struct http_span target,
                        struct es_call *call);

/* FNV-1a 64 of the first JSON_SCAN_STRING_MAX bytes of a cursor id, as 16
 * lowercase hex digits: the same id gives the same hash whether it was seen
 * in a query string, a request body or a response (where the JSON scanner
 * keeps only that many bytes of a string). */
void es_cursor_hash(const char *id, size_t len, char out[OP_CONT_MAX]);

/* The observer: per-flow state of fixed size (two JSON scanners and one
 * text line), nothing allocated. Used by the "elasticsearch" decoder and by
 * the "http" decoder. */
extern const struct http_observer es_observer;

extern const struct decoder elasticsearch_decoder;
/* Elasticsearch as one of the "http" decoder's apps (its default). */
extern const struct http_app es_http_app;

#endif
