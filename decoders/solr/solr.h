/* solr.h - Apache Solr over HTTP: an observer on the HTTP framer, the pure
 * classifier it is built on, and the streaming readers of Solr's response
 * formats.
 *
 * The classifier names each call by its handler ("select", "export",
 * "update", "admin/cores", "admin/collections", "admin/info/system"...),
 * classifies it (a core or collection DELETE/UNLOAD, an update that deletes:
 * destroy), finds the core or collection, and reads q (q=*:* is match_all),
 * rows, start, cursorMark and wt. The observer counts what the response
 * returned: numFound and the documents of JSON (json_scan) and XML (a small
 * tag reader) responses, CSV by lines; javabin is binary and only its bytes
 * count. cursorMark and nextCursorMark enter an op only as hashes, so a deep
 * paging chain can be followed. The known unauthenticated-RCE probes (the
 * VelocityResponseWriter enabled through the config API, wt=velocity with a
 * template, DataImportHandler given a dataConfig) are flagged `probe`.
 *
 * Two ways in: the "solr" decoder (port 8983) reads every op as Solr; the
 * "http" decoder hands a flow to this observer (solr_http_app) when a
 * request path starts with /solr/ or a 2xx body starts like Solr's
 * (a "responseHeader"). */
#ifndef SW_SOLR_H
#define SW_SOLR_H

#include <stdbool.h>
#include <stdint.h>

#include "../http/http.h"

enum solr_kind {
    SOLR_KIND_OTHER = 0,
    SOLR_KIND_SEARCH,       /* select, query, export...: response.numFound/docs */
    SOLR_KIND_GET,          /* realtime get: doc or response.docs */
    SOLR_KIND_CORES,        /* admin/cores STATUS: status.<core> */
    SOLR_KIND_COLLECTIONS,  /* admin/collections LIST: collections[] */
    SOLR_KIND_STREAM,       /* stream, sql: result-set.docs[] less the EOF tuple */
    SOLR_KIND_UPDATE,       /* update: body read for deletes */
    SOLR_KIND_CONFIG,       /* config API: body read for Velocity */
    SOLR_KIND_MAX
};

enum solr_format { SOLR_WT_DEFAULT = 0, SOLR_WT_JSON, SOLR_WT_XML, SOLR_WT_CSV,
                   SOLR_WT_JAVABIN, SOLR_WT_OTHER };

struct solr_call {
    enum solr_kind kind;
    enum op_class op_class;
    bool own_api;                    /* under /solr/ */
    char name[OP_NAME_MAX + 1];
    size_t name_len;
    char target[OP_TARGET_MAX + 1];  /* core or collection; "" if none */
    size_t target_len;
    int64_t rows, start;             /* -1 if absent */
    bool match_all;                  /* q=*:* */
    bool continues;                  /* cursorMark other than "*" */
    bool has_continuation;
    char continuation[OP_CONT_MAX];
    bool probe;                      /* a known RCE probe in the target */
    enum solr_format wt;
};

/* The classifier; `target` is the raw request-target. Never fails. */
void solr_classify(struct http_span method, struct http_span target,
                   struct solr_call *call);

/* ---- XML response reader (wt=xml), pure and streaming ---- */

#define SOLR_XML_TAG_MAX 160
#define SOLR_CURSOR_MAX 256      /* bytes of a cursor mark hashed */

struct solr_xml {
    int state;
    char tag[SOLR_XML_TAG_MAX];      /* the tag being read, cut at the cap */
    size_t tag_len;
    bool tag_cut;
    bool in_result;                  /* inside <result name="response"> */
    uint32_t doc_depth;              /* nested <doc> inside it */
    bool cursor_text;                /* reading <str name="nextCursorMark"> text */
    char text[SOLR_CURSOR_MAX];
    size_t text_len;
    int64_t num_found;               /* -1 until seen */
    int64_t docs;                    /* top-level docs of the result, or the items of
                                        an admin list; -1 until it opens */
    uint8_t list;                    /* enum solr_xml_list: the admin list counted */
    bool in_list;                    /* inside that list's element */
    uint32_t list_depth;             /* elements open inside an item */
    bool has_cursor;
    char cursor[OP_CONT_MAX];        /* hash of nextCursorMark */
};

/* Admin answers in XML: the cores of cores STATUS (the children of
 * <lst name="status">) or the names of collections LIST (the children of
 * <arr name="collections">), counted in docs. */
enum solr_xml_list { SOLR_XML_LIST_NONE = 0, SOLR_XML_LIST_CORES, SOLR_XML_LIST_COLLECTIONS };

void solr_xml_init(struct solr_xml *x);
void solr_xml_count_list(struct solr_xml *x, enum solr_xml_list list);
void solr_xml_feed(struct solr_xml *x, const uint8_t *buf, size_t len);

extern const struct http_observer solr_observer;
extern const struct http_app solr_http_app;
extern const struct decoder solr_decoder;

#endif
