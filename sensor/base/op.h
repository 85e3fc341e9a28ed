/* op.h - the op record: one database operation, request and response paired.
 *
 * This is the one interface between decoders and detection. Decoders fill
 * it from wire data; they never put document contents in it. Strings are NUL-terminated, already truncated to the field
 * size; output escapes them. Fixed size so it can travel through the rings. */
#ifndef SW_OP_H
#define SW_OP_H

#include <stddef.h>
#include <stdint.h>

enum op_class {
    OP_CLASS_UNKNOWN = 0,
    OP_CLASS_HANDSHAKE,
    OP_CLASS_AUTH,
    OP_CLASS_ENUMERATE,
    OP_CLASS_READ,
    OP_CLASS_WRITE,
    OP_CLASS_ADMIN,
    OP_CLASS_DESTROY,
    OP_CLASS_COUNT
};

enum op_auth { OP_AUTH_UNKNOWN = 0, OP_AUTH_NO, OP_AUTH_YES };

/* The outcome of a login the op carried (issue 14): SCRAM/SASL, AUTH,
 * credentials sent with an HTTP request, a CQL AUTH_RESPONSE. NONE when the op
 * attempted no login: authenticated says what the session held, auth_result
 * what this op's own login attempt came to. */
enum op_auth_result { OP_AUTH_RESULT_NONE = 0, OP_AUTH_RESULT_SUCCESS, OP_AUTH_RESULT_FAILURE };

/* What the server itself said about access control, whatever this flow's own
 * login (issue 14): a MongoDB reply whose $clusterTime carries a non-zero
 * signature comes from a server that signs cluster times, i.e. runs with
 * authentication keys. A hint only: it never changes authenticated. */
enum op_server_auth_hint { OP_SERVER_AUTH_HINT_NONE = 0, OP_SERVER_AUTH_HINT_ACCESS_CONTROL };

/* op.total is exact (or unknown), or only a lower bound: Elasticsearch's
 * hits.total {"relation": "gte"} when track_total_hits stopped counting. */
enum op_total_relation { OP_TOTAL_EXACT = 0, OP_TOTAL_LOWER_BOUND };

enum op_status {
    OP_STATUS_UNKNOWN = 0, /* no response seen */
    OP_STATUS_OK,
    OP_STATUS_ERROR,
    OP_STATUS_DENIED
};

/* flags */
#define OP_FLAG_PARTIAL      0x01u /* a gap cut the request or the response */
#define OP_FLAG_NO_RESPONSE  0x02u /* flow ended before a response came */
#define OP_FLAG_TRUNCATED    0x04u /* a string field was cut to its cap */
#define OP_FLAG_AUTH_HEADER  0x08u /* request carried credentials (never their value) */
#define OP_FLAG_HEAD_ONLY    0x10u /* response had no body by rule (HEAD/1xx/204/304) */
#define OP_FLAG_UNPAIRED     0x20u /* response with no matching request */
#define OP_FLAG_VIA_KIBANA   0x40u /* came through Kibana's console proxy */
#define OP_FLAG_MATCH_ALL    0x80u /* whole-index query: q=*:*, match_all, no query */
#define OP_FLAG_CONTINUES    0x100u /* continues a cursor: scroll, search_after, getMore */
#define OP_FLAG_COMPRESSED   0x200u /* a body was gzip/deflate compressed */
#define OP_FLAG_BODY_CAPPED  0x400u /* a body was longer than the decode cap */
#define OP_FLAG_SECURITY_OFF 0x800u /* the server said its security is disabled */
#define OP_FLAG_LEGACY_OPCODE 0x1000u /* a legacy wire opcode no modern driver sends */
#define OP_FLAG_PROBE        0x2000u /* a known scanner probe (client_id names the tool
                                       when the client did not name itself) */
#define OP_FLAG_AMPLIFIED    0x4000u /* UDP reply many times larger than its request */
#define OP_FLAG_MIDSTREAM    0x8000u /* the flow's start was not seen: session state
                                       (auth, selected db) before it is unknown */

#define OP_NAME_MAX     48
#define OP_TARGET_MAX   256
#define OP_CLIENT_MAX   256
#define OP_METHOD_MAX   16
#define OP_URI_MAX      512
#define OP_SCHEME_MAX   16
#define OP_CONT_MAX     24  /* continuation ids are hashes, never the wire id */
#define OP_ERROR_MAX    48

struct op_record {
    uint8_t app;            /* enum app_id (decoders/apps.h) */
    uint8_t op_class;       /* enum op_class */
    uint8_t authenticated;  /* enum op_auth */
    uint8_t status;         /* enum op_status */
    uint32_t flags;         /* OP_FLAG_* */
    int32_t status_code;    /* HTTP status, protocol error code; 0 if none */
    char op[OP_NAME_MAX];           /* protocol verb: GET, _search, find */
    char target[OP_TARGET_MAX];     /* index/db/collection/key pattern */
    char client_id[OP_CLIENT_MAX];  /* User-Agent, driver, CLIENT SETNAME */
    char auth_scheme[OP_SCHEME_MAX];/* "basic", "bearer", "scram-sha-256" */
    char continuation[OP_CONT_MAX]; /* hash of the cursor the request continues */
    char cursor_out[OP_CONT_MAX];   /* hash of the cursor the response returned */
    char error_type[OP_ERROR_MAX];  /* server's error type/name, if any */
    uint64_t request_bytes;   /* wire bytes of the request message */
    uint64_t response_bytes;  /* wire bytes of the response message */
    int64_t items;            /* documents/rows/keys returned; -1 unknown */
    int64_t page_size;        /* page size asked; -1 unknown */
    int64_t offset;           /* offset asked (from, skip); -1 unknown */
    int64_t total;            /* total matches / summed doc counts; -1 unknown */
    uint64_t ts_request_us;   /* packet time of the request's first byte */
    uint64_t ts_response_us;  /* packet time of the response's last byte */
    struct {                  /* HTTP-based protocols only */
        char method[OP_METHOD_MAX];
        char uri[OP_URI_MAX];
    } http;
    /* issue 14, login outcome and mid-session pickup (helper "auth") */
    uint8_t auth_result;      /* enum op_auth_result */
    uint8_t server_auth_hint; /* enum op_server_auth_hint */
    /* issue 14 (whole-dataset reads): how far `total` can be trusted. */
    uint8_t total_relation;   /* enum op_total_relation */
    int64_t limit;            /* most documents the query may return in all
                                 (MongoDB find limit); -1 none: a cursor that
                                 ran out at its limit did not reach the end */
};

void op_record_init(struct op_record *op, unsigned app);
/* Copy src (length len, not NUL-terminated) into dst of size cap, truncating;
 * sets OP_FLAG_TRUNCATED on op when it had to cut. */
void op_set_string(struct op_record *op, char *dst, size_t cap,
                   const char *src, size_t len);
/* The id of a cursor as op.continuation and op.cursor_out hold it: FNV-1a 64
 * of its len bytes as 16 lowercase hex digits, never the wire id itself.
 * Every decoder hashes its cursors this way, so chains (chain.h) compare
 * like with like. */
void op_continuation_hash(const void *id, size_t len, char out[OP_CONT_MAX]);

/* Flag names, once for events and rules: the i-th flag's name (and bit in
 * *bit), in output order; NULL past the last. */
const char *op_flag_at(size_t i, uint32_t *bit);
/* The bit of a flag name, 0 when unknown. */
uint32_t op_flag_from_name(const char *name);

const char *op_class_name(enum op_class c);
const char *op_auth_name(enum op_auth a);
const char *op_status_name(enum op_status s);
/* "success", "failure"; NULL for OP_AUTH_RESULT_NONE (the field is absent). */
const char *op_auth_result_name(enum op_auth_result r);
/* "access_control"; NULL for OP_SERVER_AUTH_HINT_NONE. */
const char *op_server_auth_hint_name(enum op_server_auth_hint h);

#endif
