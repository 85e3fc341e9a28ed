/* couchdb.h - CouchDB (and PouchDB Server) over HTTP: an observer on the
 * HTTP framer, and the pure classifier it is built on.
 *
 * The classifier reads a method and request-target and names the call
 * ("_all_docs", "_find", "_changes", "delete_db"...), its class, its
 * database, and the paging it asks for (limit, skip, since). The observer
 * counts what the response returned -- rows, documents, changes, database
 * names -- with the streaming JSON scanner, never buffering a body; an
 * eventsource _changes feed is counted by its "data:" lines. Sequence ids
 * and _find bookmarks enter an op only as hashes, so a feed or a paged
 * _find can be followed as a chain.
 *
 * Two ways in: the "couchdb" decoder (port 5984) reads every op as CouchDB;
 * the "http" decoder hands a flow to this observer (couchdb_http_app) when a
 * request path is CouchDB's own or the server shows itself (Server:
 * CouchDB, X-Couch-Request-ID, the {"couchdb":"Welcome"} banner). */
#ifndef SW_COUCHDB_H
#define SW_COUCHDB_H

#include <stdbool.h>
#include <stdint.h>

#include "../http/http.h"

/* What the bodies of a call hold, as far as the observer reads them. */
enum couch_kind {
    COUCH_KIND_OTHER = 0,   /* nothing counted (errors are still read) */
    COUCH_KIND_BANNER,      /* GET / */
    COUCH_KIND_ALL_DBS,     /* ["db",...] */
    COUCH_KIND_DBS_INFO,    /* [{"key":db,"info":{"doc_count":n}}...] */
    COUCH_KIND_MEMBERSHIP,  /* {"all_nodes":[...]} */
    COUCH_KIND_DB_INFO,     /* {"doc_count":n,...} */
    COUCH_KIND_ROWS,        /* _all_docs, _design_docs, _local_docs, views */
    COUCH_KIND_FIND,        /* {"docs":[...],"bookmark":...} */
    COUCH_KIND_CHANGES,     /* {"results":[...],"last_seq":...} or a feed */
    COUCH_KIND_BULK_GET,    /* {"results":[{"docs":[{"ok":{...}}]}]} */
    COUCH_KIND_DOC,         /* one document */
    COUCH_KIND_BULK_DOCS,   /* [{"ok":true,...}...] */
    COUCH_KIND_MAX
};

enum couch_feed { COUCH_FEED_NORMAL = 0, COUCH_FEED_LONGPOLL, COUCH_FEED_CONTINUOUS,
                  COUCH_FEED_EVENTSOURCE };

/* One REST call as read from its method and request-target. Strings are
 * NUL-terminated, each one byte longer than the op field it is copied to
 * (op_set_string marks a cut op truncated). */
struct couch_call {
    enum couch_kind kind;
    enum op_class op_class;
    bool own_api;                   /* a path no other HTTP database has */
    char name[OP_NAME_MAX + 1];
    size_t name_len;
    char target[OP_TARGET_MAX + 1]; /* database, URL-decoded; "" if none */
    size_t target_len;
    int64_t limit;                  /* limit= ; -1 if absent */
    int64_t skip;                   /* skip= ; -1 if absent */
    bool match_all;                 /* reads the whole database (no key range, filter) */
    bool continues;                 /* since= a sequence: continues a feed */
    bool has_continuation;
    char continuation[OP_CONT_MAX];
    enum couch_feed feed;
};

/* The classifier; `target` is the raw request-target. Never fails. */
void couch_classify(struct http_span method, struct http_span target,
                    struct couch_call *call);

/* Does a response head show CouchDB (Server: CouchDB/..., X-Couch-Request-ID)? */
bool couch_server_head(const struct http_head *head);

extern const struct http_observer couchdb_observer;
extern const struct http_app couchdb_http_app;
extern const struct decoder couchdb_decoder;

#endif
