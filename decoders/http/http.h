/* http.h - HTTP/1.x framing: the "http" decoder and the framer that
 * HTTP-based decoders build on. The pure head parsers and span helpers are
 * in http_parse.h, included here.
 *
 * Decoders built on HTTP (Elasticsearch, CouchDB, Solr...) use those parsers
 * and helpers; they never reparse heads their own way. */
#ifndef SW_HTTP_H
#define SW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoder.h"
#include "http_parse.h"

/* The framer's limits: the "http" configuration group, shared by every
 * decoder built on the framer. */
struct http_params {
    size_t header_max;     /* largest header block buffered (bytes) */
    size_t pending_max;    /* requests waiting for a response, per flow */
    size_t body_max;       /* body bytes decoded (inflated) per message */
};
extern const struct decoder_settings http_settings;

/* The framer's counters: stats group "http", shared likewise. */
#define HTTP_COUNTERS(X)                                              \
    X(MALFORMED, "malformed")               /* a head or chunk line no HTTP allows */ \
    X(HEADER_TOO_LARGE, "header_too_large") /* a head past header_max */ \
    X(PENDING_OVERFLOW, "pending_overflow") /* past pending_max: oldest given up */ \
    X(UNPAIRED_RESPONSE, "unpaired_response") /* a response with no request */ \
    X(RESYNC, "resync")                     /* framing found again after a loss */

enum http_counter {
#define HTTP_COUNTER_ENUM(id, name) HTTP_COUNTER_##id,
    HTTP_COUNTERS(HTTP_COUNTER_ENUM)
#undef HTTP_COUNTER_ENUM
    HTTP_COUNTER_COUNT
};
extern const struct decoder_counters http_counters;

/* Recognises HTTP/1.x from its first bytes: a request line with a known
 * method, or a status line from the server (decoder.probe). */
enum probe_result http_probe(const uint8_t *to_server, size_t to_server_len,
                             const uint8_t *to_client, size_t to_client_len);

/* The decoder: frames requests and responses (Content-Length, chunked,
 * until close, HEAD/1xx/204/304), pairs them FIFO and emits one APP_HTTP op
 * per pair. Named "http-plain" and not registered: the registered "http"
 * decoder (elasticsearch.c) is this framer with the Elasticsearch observer. */
extern const struct decoder http_plain_decoder;

/* ---- the framer as a base for HTTP-based protocols ----
 *
 * An observer is an application layer on the framer (Elasticsearch today;
 * CouchDB and Solr later). The framer calls it with each message's head and
 * body bytes, and hands it the op of the request/response pair before the op
 * is emitted, so it can name the operation, classify it and count what the
 * response returned. Body bytes are content-decoded first (Content-Encoding
 * gzip, x-gzip or deflate inflated by zlib, streaming, at most
 * ctx->params->body_max bytes per message; beyond, OP_FLAG_BODY_CAPPED and no
 * more body calls for that message) and de-chunked. Within one direction the
 * calls come in order: head, body..., end; the next message of that
 * direction starts only after `end`. The two directions interleave freely
 * (a response may be read while the next request is already queued), so an
 * observer keeps request-side and response-side state apart. A gap inside a
 * body sets OP_FLAG_PARTIAL and ends the body early (`*_end` is still
 * called); the observer must treat a cut body as incomplete. Every callback
 * may be NULL. */
struct http_observer {
    size_t state_size;   /* per-flow state, zeroed by the framer */
    void (*request_head)(void *st, struct decoder_ctx *ctx, struct op_record *op,
                         const struct http_head *head);
    void (*request_body)(void *st, struct decoder_ctx *ctx, struct op_record *op,
                         const uint8_t *buf, size_t len);
    void (*request_end)(void *st, struct decoder_ctx *ctx, struct op_record *op);
    void (*response_head)(void *st, struct decoder_ctx *ctx, struct op_record *op,
                          const struct http_head *head);
    void (*response_body)(void *st, struct decoder_ctx *ctx, struct op_record *op,
                          const uint8_t *buf, size_t len);
    /* The pair is complete (or the flow ended first): last chance to fill
     * the op; the framer emits it right after. */
    void (*response_end)(void *st, struct decoder_ctx *ctx, struct op_record *op);
    /* The flow is gone: free what the state points to (not the state). */
    void (*close)(void *st);
};

/* Per-flow framer state driving `obs` (NULL: plain framing); ops get `app`
 * unless the observer changes op->app. The functions below are the decoder
 * entry points for any decoder built this way, e.g.
 *   static void *es_open(struct decoder_ctx *c)
 *   { return http_open_with(c, &es_observer, APP_ELASTICSEARCH); }
 *   const struct decoder es_decoder = { "elasticsearch", APP_ELASTICSEARCH,
 *       es_open, http_stream_data, http_stream_gap, http_stream_end,
 *       http_stream_close }; */
void *http_open_with(struct decoder_ctx *ctx, const struct http_observer *obs,
                     enum app_id app);
void http_stream_data(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                      const uint8_t *buf, size_t len);
void http_stream_gap(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                     uint64_t len);
void http_stream_end(void *state, struct decoder_ctx *ctx, enum decoder_dir dir);
void http_stream_close(void *state, struct decoder_ctx *ctx);

/* ---- several applications on one framer: the "http" decoder ----
 *
 * On a port that is not an application's own (80, 8080, any port found by
 * the probe or nDPI), the server may be Elasticsearch, CouchDB, Solr or
 * none of them. The "http" decoder hosts one observer at a time, chosen per
 * flow from a list of applications (http_apps.c):
 * - apps[0] is the default: it runs while nothing else is known, gets ops
 *   as APP_HTTP and decides itself which ones it reads (Elasticsearch);
 * - another app takes the flow when a request path is one of its own APIs
 *   (`claims`), unless the server has already shown what it is;
 * - the server shows what it is by a response head (`server_head`: a
 *   Server or product header) or by a mark in the first bytes of a 2xx
 *   response body (`body_marks`: a banner, a response envelope). That
 *   choice is final for request claims, and overrides a claim: an op the
 *   previous app had read is reset to the plain op the framer made and read
 *   again by the new app from its method and target; a body mark (within
 *   the first HTTP_APPS_SNIFF_BYTES) hands the op over at once, with a head
 *   that has only the status and the body bytes so far replayed (kept while
 *   sniffing, in a buffer allocated for that time).
 * The chosen app's observer state is allocated when it is chosen and freed
 * when another is; ops of apps other than apps[0] are stamped with the
 * app's id before its hooks see them. */
struct http_app {
    enum app_id app;
    const struct http_observer *obs;
    /* The request's own path names an API of this app and of no other in
     * the list. NULL: never by claim. */
    bool (*claims)(struct http_span method, struct http_span target);
    /* The response head shows the server is this app. NULL: never. */
    bool (*server_head)(const struct http_head *head);
    /* Byte strings that, in the first HTTP_APPS_SNIFF_BYTES of a 2xx body,
     * show the server is this app; NULL-terminated, each shorter than
     * HTTP_APPS_MARK_MAX. NULL: none. */
    const char *const *body_marks;
};

#define HTTP_APPS_SNIFF_BYTES 1024
#define HTTP_APPS_MARK_MAX 32

/* Framer state for a flow read by the first fitting app of `apps` (count
 * entries, the list outliving the flow); ops start as APP_HTTP. */
void *http_open_apps(struct decoder_ctx *ctx, const struct http_app *const *apps,
                     size_t count);
/* The observer state block of a flow opened by http_open_with. */
void *http_flow_observer_state(void *flow);

/* The contract in detail, for observer writers:
 * - `op` is valid only during the call. Never keep it: a queued request's
 *   op moves (the queue grows, the request is popped to be answered), so
 *   the request hooks and the response hooks of one pair get different
 *   addresses for the same op; what one hook writes, the next sees. Keep
 *   what must last in the state block. Heads, and body buffers, likewise
 *   live only during the call.
 * - request_head comes for each request whose head parsed, with method,
 *   uri, target, client_id and auth already filled; request_end follows
 *   once for it (at once if there is no body). A request head cut by a gap
 *   or too large is queued as a partial op without request hooks.
 * - response_head comes for the final response head (1xx interim heads
 *   are skipped, 101 counts as final), with the paired request's op and
 *   status_code/status filled; an UNPAIRED response gets a fresh op.
 * - response_end comes right before EVERY op is emitted, also for ops with
 *   OP_FLAG_NO_RESPONSE (flow closed, or pending_max overflow) and for
 *   partial responses whose head never parsed, i.e. without response_head.
 * - If the server answers before the request body is complete, request_end
 *   comes just before response_end; the rest of that body is not decoded
 *   and the op is not marked partial for it (nothing was lost).
 * - Bodies of HEAD responses and of 1xx/204/304 are empty: no body calls.
 *   Chunk framing and trailers are never body bytes.
 * - Body calls happen only if the observer has the hook for that side; so
 *   do inflating and OP_FLAG_COMPRESSED. A coding other than one gzip,
 *   x-gzip or deflate (br, zstd, two codings, also in Transfer-Encoding)
 *   gives no body calls: the head says why. Deflate may be zlib-wrapped or
 *   raw. A corrupt or truncated compressed stream stops the body calls and
 *   sets OP_FLAG_PARTIAL. A body_max of 0 delivers no bytes at all.
 * - The state block is NULL when state_size is 0. `close` is called once,
 *   after the last op of the flow was emitted; not if http_open_with
 *   failed (it returns NULL). */

#endif
