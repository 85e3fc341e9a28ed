/* cassandra_parse.h - pure parsers of the Cassandra native protocol (v3-v5).
 *
 * Functions over a buffer, in the picohttpparser shape: no allocation, no
 * I/O, no state between calls. They read
 *   - the 9-byte envelope ("frame") header, both directions;
 *   - the v5 segment header (3 or 5 bytes + CRC24) and the CRC32 trailer;
 *   - the bodies an op needs: STARTUP's options, QUERY/EXECUTE/BATCH/
 *     PREPARE parameters, RESULT kinds (Rows metadata and row count, never
 *     the rows), ERROR codes, AUTHENTICATE's authenticator, EVENT's type;
 *   - the CQL text of QUERY/PREPARE, only for its verb and table.
 * Values, rows and credentials are skipped, never copied. Every read is
 * bounds-checked; a body that ends early leaves `cut` set and keeps what was
 * read before it (a frame held only up to its first bytes is read so). */
#ifndef SW_CASSANDRA_PARSE_H
#define SW_CASSANDRA_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../sensor/base/op.h"

#define CQL_HEADER_LEN 9
#define CQL_RESPONSE_BIT 0x80u
#define CQL_VERSION_MIN 3
#define CQL_VERSION_MAX 5

/* header flags */
#define CQL_FLAG_COMPRESSION 0x01u
#define CQL_FLAG_TRACING 0x02u
#define CQL_FLAG_CUSTOM_PAYLOAD 0x04u
#define CQL_FLAG_WARNING 0x08u
#define CQL_FLAG_BETA 0x10u

enum cql_opcode {
    CQL_OP_ERROR = 0x00,
    CQL_OP_STARTUP = 0x01,
    CQL_OP_READY = 0x02,
    CQL_OP_AUTHENTICATE = 0x03,
    CQL_OP_OPTIONS = 0x05,
    CQL_OP_SUPPORTED = 0x06,
    CQL_OP_QUERY = 0x07,
    CQL_OP_RESULT = 0x08,
    CQL_OP_PREPARE = 0x09,
    CQL_OP_EXECUTE = 0x0A,
    CQL_OP_REGISTER = 0x0B,
    CQL_OP_EVENT = 0x0C,
    CQL_OP_BATCH = 0x0D,
    CQL_OP_AUTH_CHALLENGE = 0x0E,
    CQL_OP_AUTH_RESPONSE = 0x0F,
    CQL_OP_AUTH_SUCCESS = 0x10,
};

/* RESULT kinds */
enum cql_result_kind {
    CQL_RESULT_VOID = 1,
    CQL_RESULT_ROWS = 2,
    CQL_RESULT_SET_KEYSPACE = 3,
    CQL_RESULT_PREPARED = 4,
    CQL_RESULT_SCHEMA_CHANGE = 5,
};

/* ERROR codes the op names */
#define CQL_ERROR_BAD_CREDENTIALS 0x0100
#define CQL_ERROR_UNAUTHORIZED 0x2100

struct cql_header {
    uint8_t version;        /* without the response bit */
    bool response;
    uint8_t flags;
    int16_t stream;
    uint8_t opcode;
    uint32_t length;        /* body bytes */
};

#define CQL_NEED_MORE 0
#define CQL_MALFORMED (-1)

/* Reads a frame header: CQL_HEADER_LEN, CQL_NEED_MORE (fewer bytes), or
 * CQL_MALFORMED: a version outside 3..5, an opcode this version does not
 * define or that does not go that way (requests: client opcodes; responses:
 * server ones), a request with a negative stream, or length > length_max. */
int cql_parse_header(const uint8_t *buf, size_t len, size_t length_max, struct cql_header *h);

/* The opcode's name ("QUERY"), "?" when unknown. */
const char *cql_opcode_name(uint8_t opcode);
/* True for opcodes a client sends. */
bool cql_opcode_is_request(uint8_t opcode);

/* ---- v5 segments ---- */

#define CQL_SEGMENT_PAYLOAD_MAX 131071u
#define CQL_SEGMENT_TRAILER 4

struct cql_segment {
    size_t header_len;          /* 6 (plain) or 8 (lz4) */
    uint32_t payload_len;       /* bytes on the wire (compressed if so) */
    uint32_t uncompressed_len;  /* lz4: 0 = payload is not compressed */
    bool self_contained;
};

/* CRC24 of a v5 segment header (its 3 or 5 length bytes, wire order). */
uint32_t cql_crc24(const uint8_t *buf, size_t len);
/* CRC32 of a v5 segment payload (seeded as the spec says). */
uint32_t cql_crc32(const uint8_t *buf, size_t len);
/* Reads a segment header of the plain (compressed false) or lz4 format:
 * header_len, CQL_NEED_MORE, or CQL_MALFORMED when its CRC24 is wrong. */
int cql_parse_segment_header(const uint8_t *buf, size_t len, bool compressed,
                             struct cql_segment *s);
/* True when the 4 bytes after a payload are its CRC32. */
bool cql_segment_crc_ok(const uint8_t *payload, size_t len, const uint8_t trailer[4]);

/* ---- bodies ---- */

/* A span of the body (never NUL-terminated). */
struct cql_span {
    const uint8_t *p;
    size_t len;
};

/* What a CQL statement is, read from its text only. */
struct cql_statement {
    char verb[OP_NAME_MAX];       /* "SELECT", "DROP TABLE", "" when none */
    uint8_t op_class;             /* enum op_class, keyspace not yet applied */
    char keyspace[OP_TARGET_MAX]; /* named in the statement, "" if not */
    char name[OP_TARGET_MAX];     /* table (or keyspace for USE/KEYSPACE verbs) */
    bool names_keyspace;          /* `name` is a keyspace (USE, CREATE KEYSPACE) */
    bool has_where;
    bool cut;                     /* a name was longer than its field */
};

/* Reads a CQL statement's verb and first table. Never fails: unknown text
 * gives its first word as verb (class unknown), or an empty verb. */
void cql_statement_scan(const uint8_t *text, size_t len, struct cql_statement *st);

/* A request body, as far as an op needs it. */
struct cql_request {
    struct cql_span query;          /* QUERY, PREPARE; BATCH: first text query */
    struct cql_span prepared_id;    /* EXECUTE; BATCH: first prepared query */
    int32_t page_size;              /* -1 when not asked */
    struct cql_span paging_state;   /* len 0 when none */
    struct cql_span keyspace;       /* v5 keyspace flag */
    unsigned batch_count;
    uint8_t batch_type;
    struct cql_span driver_name, driver_version, compression, app_name;  /* STARTUP */
    bool has_token;                 /* AUTH_RESPONSE carried a token */
    bool cut;                       /* the body ended before all was read */
    bool malformed;                 /* a length no encoder writes */
};

/* Reads a request body (after any custom payload was skipped) of opcode. */
void cql_parse_request(uint8_t opcode, uint8_t version, const uint8_t *body, size_t len,
                       struct cql_request *r);

/* A response body. */
struct cql_response {
    int32_t kind;                   /* RESULT */
    int64_t rows;                   /* Rows: rows_count, -1 unknown */
    struct cql_span paging_state;
    struct cql_span table_keyspace, table_name;  /* Rows global table spec */
    struct cql_span keyspace;       /* Set_keyspace */
    struct cql_span prepared_id;    /* Prepared */
    int32_t error_code;             /* ERROR */
    struct cql_span authenticator;  /* AUTHENTICATE */
    struct cql_span event_type;     /* EVENT */
    bool cut;
    bool malformed;
};

void cql_parse_response(uint8_t opcode, uint8_t version, const uint8_t *body, size_t len,
                        struct cql_response *r);

/* Bytes at the start of a body that are not the message: tracing id,
 * warnings, custom payload, as the header's flags say. -1 when they run past
 * len. */
ptrdiff_t cql_body_prefix(const struct cql_header *h, const uint8_t *body, size_t len);

/* The fixed name of an ERROR code ("bad_credentials"), "error" when unknown. */
const char *cql_error_name(int32_t code);

/* The class of a SELECT on keyspace.table: handshake for the topology
 * tables every driver reads on every connection (system.local, peers,
 * peers_v2), enumerate for the schema tables and system.size_estimates/
 * table_estimates, read otherwise. */
uint8_t cql_select_class(const char *keyspace, const char *table);

#endif
