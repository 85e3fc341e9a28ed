/* cassandra_parse.c - pure parsers of the Cassandra native protocol
 * (see cassandra_parse.h). Written from native_protocol_v4.spec and
 * native_protocol_v5.spec. */
#include "cassandra_parse.h"

#include <string.h>

/* ------------------------------------------------------------ header */

static bool opcode_known(uint8_t op)
{
    return op <= CQL_OP_AUTH_SUCCESS && op != 0x04;
}

bool cql_opcode_is_request(uint8_t op)
{
    switch (op) {
    case CQL_OP_STARTUP: case CQL_OP_OPTIONS: case CQL_OP_QUERY: case CQL_OP_PREPARE:
    case CQL_OP_EXECUTE: case CQL_OP_REGISTER: case CQL_OP_BATCH: case CQL_OP_AUTH_RESPONSE:
        return true;
    default:
        return false;
    }
}

static const char *const opcode_names[] = {
    "ERROR", "STARTUP", "READY", "AUTHENTICATE", "?", "OPTIONS", "SUPPORTED", "QUERY",
    "RESULT", "PREPARE", "EXECUTE", "REGISTER", "EVENT", "BATCH", "AUTH_CHALLENGE",
    "AUTH_RESPONSE", "AUTH_SUCCESS",
};

const char *cql_opcode_name(uint8_t op)
{
    return opcode_known(op) ? opcode_names[op] : "?";
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

int cql_parse_header(const uint8_t *buf, size_t len, size_t length_max, struct cql_header *h)
{
    if (len < CQL_HEADER_LEN)
        return CQL_NEED_MORE;
    h->response = (buf[0] & CQL_RESPONSE_BIT) != 0;
    h->version = buf[0] & 0x7f;
    h->flags = buf[1];
    h->stream = (int16_t)be16(buf + 2);
    h->opcode = buf[4];
    h->length = be32(buf + 5);
    if (h->version < CQL_VERSION_MIN || h->version > CQL_VERSION_MAX)
        return CQL_MALFORMED;
    if (!opcode_known(h->opcode) || cql_opcode_is_request(h->opcode) == h->response)
        return CQL_MALFORMED;
    if (!h->response && h->stream < 0)
        return CQL_MALFORMED;
    if (h->length > length_max)
        return CQL_MALFORMED;
    return CQL_HEADER_LEN;
}

/* ------------------------------------------------------------ v5 segments */

#define CRC24_INIT 0x875060u
#define CRC24_POLY 0x1974F0Bu

uint32_t cql_crc24(const uint8_t *buf, size_t len)
{
    uint32_t crc = CRC24_INIT;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint32_t)buf[i] << 16;
        for (int b = 0; b < 8; b++) {
            crc <<= 1;
            if (crc & 0x1000000u)
                crc ^= CRC24_POLY;
        }
    }
    return crc & 0xffffffu;
}

/* Reflected CRC-32 (polynomial 0xEDB88320), bit by bit: segments are small
 * and this keeps the parser free of tables and libraries. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        crc ^= buf[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc;
}

uint32_t cql_crc32(const uint8_t *buf, size_t len)
{
    static const uint8_t seed[4] = { 0xfa, 0x2d, 0x55, 0xca };
    uint32_t crc = crc32_update(0xffffffffu, seed, sizeof(seed));
    return ~crc32_update(crc, buf, len);
}

static uint64_t le_bytes(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

int cql_parse_segment_header(const uint8_t *buf, size_t len, bool compressed,
                             struct cql_segment *s)
{
    size_t body = compressed ? 5 : 3;
    if (len < body + 3)
        return CQL_NEED_MORE;
    if (cql_crc24(buf, body) != (uint32_t)le_bytes(buf + body, 3))
        return CQL_MALFORMED;
    uint64_t v = le_bytes(buf, body);
    s->header_len = body + 3;
    s->payload_len = (uint32_t)(v & 0x1ffff);
    if (compressed) {
        s->uncompressed_len = (uint32_t)((v >> 17) & 0x1ffff);
        s->self_contained = ((v >> 34) & 1) != 0;
    } else {
        s->uncompressed_len = 0;
        s->self_contained = ((v >> 17) & 1) != 0;
    }
    return (int)s->header_len;
}

bool cql_segment_crc_ok(const uint8_t *payload, size_t len, const uint8_t trailer[4])
{
    return cql_crc32(payload, len) == (uint32_t)le_bytes(trailer, 4);
}

/* ------------------------------------------------------------ body reading */

/* A bounds-checked reader over a body. A read past the end sets `cut` and
 * fails; a length no encoder writes sets `bad`. */
struct reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool cut;
    bool bad;
};

static bool need(struct reader *r, size_t n)
{
    if (r->len - r->pos < n) {
        r->cut = true;
        return false;
    }
    return true;
}

static bool read_u8(struct reader *r, uint8_t *v)
{
    if (!need(r, 1))
        return false;
    *v = r->p[r->pos++];
    return true;
}

static bool read_u16(struct reader *r, uint16_t *v)
{
    if (!need(r, 2))
        return false;
    *v = be16(r->p + r->pos);
    r->pos += 2;
    return true;
}

static bool read_i32(struct reader *r, int32_t *v)
{
    if (!need(r, 4))
        return false;
    *v = (int32_t)be32(r->p + r->pos);
    r->pos += 4;
    return true;
}

static bool skip(struct reader *r, size_t n)
{
    if (!need(r, n))
        return false;
    r->pos += n;
    return true;
}

static bool take(struct reader *r, size_t n, struct cql_span *out)
{
    if (!need(r, n))
        return false;
    if (out) {
        out->p = r->p + r->pos;
        out->len = n;
    }
    r->pos += n;
    return true;
}

/* [string] / [short bytes] */
static bool read_short_span(struct reader *r, struct cql_span *out)
{
    uint16_t n;
    return read_u16(r, &n) && take(r, n, out);
}

/* [long string] */
static bool read_long_string(struct reader *r, struct cql_span *out)
{
    int32_t n;
    if (!read_i32(r, &n))
        return false;
    if (n < 0) {
        r->bad = true;
        return false;
    }
    return take(r, (size_t)n, out);
}

/* [bytes] / [value]: null (-1) and not set (-2) are empty. */
static bool read_bytes(struct reader *r, struct cql_span *out)
{
    int32_t n;
    if (!read_i32(r, &n))
        return false;
    if (n < 0) {
        if (n < -2) {
            r->bad = true;
            return false;
        }
        if (out)
            out->len = 0;
        return true;
    }
    return take(r, (size_t)n, out);
}

static bool span_is(const struct cql_span *s, const char *lit)
{
    size_t n = strlen(lit);
    return s->len == n && memcmp(s->p, lit, n) == 0;
}

/* [string map]: keeps the values of the keys STARTUP names. */
static bool read_startup_map(struct reader *r, struct cql_request *q)
{
    uint16_t n;
    if (!read_u16(r, &n))
        return false;
    for (unsigned i = 0; i < n; i++) {
        struct cql_span k, v;
        if (!read_short_span(r, &k) || !read_short_span(r, &v))
            return false;
        if (span_is(&k, "DRIVER_NAME"))
            q->driver_name = v;
        else if (span_is(&k, "DRIVER_VERSION"))
            q->driver_version = v;
        else if (span_is(&k, "COMPRESSION"))
            q->compression = v;
        else if (span_is(&k, "APPLICATION_NAME"))
            q->app_name = v;
    }
    return true;
}

/* [bytes map], a request or response's custom payload. */
static bool skip_bytes_map(struct reader *r)
{
    uint16_t n;
    if (!read_u16(r, &n))
        return false;
    for (unsigned i = 0; i < n; i++)
        if (!read_short_span(r, NULL) || !read_bytes(r, NULL))
            return false;
    return true;
}

ptrdiff_t cql_body_prefix(const struct cql_header *h, const uint8_t *body, size_t len)
{
    struct reader r = { body, len, 0, false, false };
    if (h->response && (h->flags & CQL_FLAG_TRACING) && !skip(&r, 16))
        return -1;
    if (h->response && (h->flags & CQL_FLAG_WARNING)) {
        uint16_t n;
        if (!read_u16(&r, &n))
            return -1;
        for (unsigned i = 0; i < n; i++)
            if (!read_short_span(&r, NULL))
                return -1;
    }
    if ((h->flags & CQL_FLAG_CUSTOM_PAYLOAD) && !skip_bytes_map(&r))
        return -1;
    return (ptrdiff_t)r.pos;
}

/* query flags */
#define QF_VALUES 0x01u
#define QF_PAGE_SIZE 0x04u
#define QF_PAGING_STATE 0x08u
#define QF_SERIAL 0x10u
#define QF_TIMESTAMP 0x20u
#define QF_NAMES 0x40u
#define QF_KEYSPACE 0x80u

/* n [value]s, each named when names is set. */
static bool skip_values(struct reader *r, bool names)
{
    uint16_t n;
    if (!read_u16(r, &n))
        return false;
    for (unsigned i = 0; i < n; i++) {
        if (names && !read_short_span(r, NULL))
            return false;
        if (!read_bytes(r, NULL))
            return false;
    }
    return true;
}

/* <consistency><flags>[values][page size][paging state][serial][timestamp]
 * [keyspace]: the parameters of QUERY and EXECUTE. */
static void read_query_parameters(struct reader *r, uint8_t version, struct cql_request *q)
{
    uint32_t flags;
    if (!skip(r, 2))
        return;
    if (version >= 5) {
        int32_t f;
        if (!read_i32(r, &f))
            return;
        flags = (uint32_t)f;
    } else {
        uint8_t f;
        if (!read_u8(r, &f))
            return;
        flags = f;
    }
    if ((flags & QF_VALUES) && !skip_values(r, (flags & QF_NAMES) != 0))
        return;
    if (flags & QF_PAGE_SIZE) {
        int32_t n;
        if (!read_i32(r, &n))
            return;
        q->page_size = n;
    }
    if ((flags & QF_PAGING_STATE) && !read_bytes(r, &q->paging_state))
        return;
    if ((flags & QF_SERIAL) && !skip(r, 2))
        return;
    if ((flags & QF_TIMESTAMP) && !skip(r, 8))
        return;
    if (version >= 5 && (flags & QF_KEYSPACE))
        read_short_span(r, &q->keyspace);
}

/* <type><n><query_1>...<query_n><consistency><flags>...: the first text
 * query and the first prepared id are kept. */
static void read_batch(struct reader *r, uint8_t version, struct cql_request *q)
{
    uint16_t n;
    if (!read_u8(r, &q->batch_type) || !read_u16(r, &n))
        return;
    q->batch_count = n;
    for (unsigned i = 0; i < n; i++) {
        uint8_t kind;
        struct cql_span s;
        if (!read_u8(r, &kind))
            return;
        if (kind == 0) {
            if (!read_long_string(r, &s))
                return;
            if (q->query.p == NULL)
                q->query = s;
        } else if (kind == 1) {
            if (!read_short_span(r, &s))
                return;
            if (q->prepared_id.p == NULL)
                q->prepared_id = s;
        } else {
            r->bad = true;
            return;
        }
        if (!skip_values(r, false))
            return;
    }
    (void)version;  /* the trailing consistency and flags say nothing an op needs */
}

void cql_parse_request(uint8_t opcode, uint8_t version, const uint8_t *body, size_t len,
                       struct cql_request *q)
{
    memset(q, 0, sizeof(*q));
    q->page_size = -1;
    struct reader r = { body, len, 0, false, false };
    switch (opcode) {
    case CQL_OP_STARTUP:
        read_startup_map(&r, q);
        break;
    case CQL_OP_QUERY:
        if (read_long_string(&r, &q->query))
            read_query_parameters(&r, version, q);
        break;
    case CQL_OP_PREPARE:
        read_long_string(&r, &q->query);
        break;
    case CQL_OP_EXECUTE:
        if (read_short_span(&r, &q->prepared_id) &&
            (version < 5 || read_short_span(&r, NULL)))
            read_query_parameters(&r, version, q);
        break;
    case CQL_OP_BATCH:
        read_batch(&r, version, q);
        break;
    case CQL_OP_AUTH_RESPONSE: {
        struct cql_span token = { NULL, 0 };
        if (read_bytes(&r, &token))
            q->has_token = token.len > 0;
        break;
    }
    default:
        break;
    }
    q->cut = r.cut;
    q->malformed = r.bad;
}

/* ------------------------------------------------------------ responses */

#define TYPE_DEPTH_MAX 16

/* A column type [option], nested types included. */
static bool skip_type(struct reader *r, unsigned depth)
{
    uint16_t id, n;
    if (depth > TYPE_DEPTH_MAX) {
        r->bad = true;
        return false;
    }
    if (!read_u16(r, &id))
        return false;
    switch (id) {
    case 0x0000:    /* custom: class name */
        return read_short_span(r, NULL);
    case 0x0020: case 0x0022:   /* list, set */
        return skip_type(r, depth + 1);
    case 0x0021:    /* map */
        return skip_type(r, depth + 1) && skip_type(r, depth + 1);
    case 0x0030:    /* UDT: keyspace, name, fields */
        if (!read_short_span(r, NULL) || !read_short_span(r, NULL) || !read_u16(r, &n))
            return false;
        for (unsigned i = 0; i < n; i++)
            if (!read_short_span(r, NULL) || !skip_type(r, depth + 1))
                return false;
        return true;
    case 0x0031:    /* tuple */
        if (!read_u16(r, &n))
            return false;
        for (unsigned i = 0; i < n; i++)
            if (!skip_type(r, depth + 1))
                return false;
        return true;
    default:
        if (id > 0x0031) {
            r->bad = true;
            return false;
        }
        return true;    /* a native type */
    }
}

#define RM_GLOBAL_TABLES 0x0001
#define RM_HAS_MORE_PAGES 0x0002
#define RM_NO_METADATA 0x0004
#define RM_METADATA_CHANGED 0x0008

/* Rows metadata up to the first row: paging state, table, column specs. */
static bool read_rows_metadata(struct reader *r, uint8_t version, struct cql_response *p)
{
    int32_t flags, columns;
    if (!read_i32(r, &flags) || !read_i32(r, &columns))
        return false;
    if (columns < 0) {
        r->bad = true;
        return false;
    }
    if ((flags & RM_HAS_MORE_PAGES) && !read_bytes(r, &p->paging_state))
        return false;
    if (version >= 5 && (flags & RM_METADATA_CHANGED) && !read_short_span(r, NULL))
        return false;
    if (flags & RM_NO_METADATA)
        return true;
    bool global = (flags & RM_GLOBAL_TABLES) != 0;
    if (global && (!read_short_span(r, &p->table_keyspace) ||
                   !read_short_span(r, &p->table_name)))
        return false;
    for (int32_t i = 0; i < columns; i++) {
        if (!global) {
            struct cql_span ks, t;
            if (!read_short_span(r, &ks) || !read_short_span(r, &t))
                return false;
            if (i == 0) {
                p->table_keyspace = ks;
                p->table_name = t;
            }
        }
        if (!read_short_span(r, NULL) || !skip_type(r, 0))
            return false;
    }
    return true;
}

static void read_result(struct reader *r, uint8_t version, struct cql_response *p)
{
    if (!read_i32(r, &p->kind))
        return;
    switch (p->kind) {
    case CQL_RESULT_ROWS: {
        int32_t n;
        if (read_rows_metadata(r, version, p) && read_i32(r, &n)) {
            if (n < 0)
                r->bad = true;
            else
                p->rows = n;
        }
        break;
    }
    case CQL_RESULT_SET_KEYSPACE:
        read_short_span(r, &p->keyspace);
        break;
    case CQL_RESULT_PREPARED:
        read_short_span(r, &p->prepared_id);
        break;
    default:
        break;
    }
}

void cql_parse_response(uint8_t opcode, uint8_t version, const uint8_t *body, size_t len,
                        struct cql_response *p)
{
    memset(p, 0, sizeof(*p));
    p->rows = -1;
    struct reader r = { body, len, 0, false, false };
    switch (opcode) {
    case CQL_OP_RESULT:
        read_result(&r, version, p);
        break;
    case CQL_OP_ERROR:
        read_i32(&r, &p->error_code);
        break;
    case CQL_OP_AUTHENTICATE:
        read_short_span(&r, &p->authenticator);
        break;
    case CQL_OP_EVENT:
        read_short_span(&r, &p->event_type);
        break;
    default:
        break;
    }
    p->cut = r.cut;
    p->malformed = r.bad;
}

static const struct {
    int32_t code;
    const char *name;
} error_names[] = {
    { 0x0000, "server_error" }, { 0x000A, "protocol_error" },
    { 0x0100, "bad_credentials" }, { 0x1000, "unavailable" }, { 0x1001, "overloaded" },
    { 0x1002, "is_bootstrapping" }, { 0x1003, "truncate_error" },
    { 0x1100, "write_timeout" }, { 0x1200, "read_timeout" }, { 0x1300, "read_failure" },
    { 0x1400, "function_failure" }, { 0x1500, "write_failure" },
    { 0x1600, "cdc_write_failure" }, { 0x1700, "cas_write_unknown" },
    { 0x2000, "syntax_error" }, { 0x2100, "unauthorized" }, { 0x2200, "invalid" },
    { 0x2300, "config_error" }, { 0x2400, "already_exists" }, { 0x2500, "unprepared" },
};

const char *cql_error_name(int32_t code)
{
    for (size_t i = 0; i < sizeof(error_names) / sizeof(error_names[0]); i++)
        if (error_names[i].code == code)
            return error_names[i].name;
    return "error";
}

/* ------------------------------------------------------------ CQL text */

enum token_type { TOK_END = 0, TOK_WORD, TOK_QUOTED, TOK_STRING, TOK_PUNCT };

struct token {
    uint8_t type;
    const uint8_t *p;
    size_t len;
};

struct lexer {
    const uint8_t *p;
    size_t len;
    size_t pos;
};

static bool is_word_start(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_word_char(uint8_t c)
{
    return is_word_start(c) || (c >= '0' && c <= '9');
}

/* Skips blanks and comments (--, //, and block comments). */
static void skip_blank(struct lexer *x)
{
    while (x->pos < x->len) {
        uint8_t c = x->p[x->pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            x->pos++;
        } else if (x->len - x->pos >= 2 &&
                   ((c == '-' && x->p[x->pos + 1] == '-') || (c == '/' && x->p[x->pos + 1] == '/'))) {
            while (x->pos < x->len && x->p[x->pos] != '\n')
                x->pos++;
        } else if (x->len - x->pos >= 2 && c == '/' && x->p[x->pos + 1] == '*') {
            x->pos += 2;
            while (x->pos < x->len &&
                   !(x->p[x->pos] == '*' && x->pos + 1 < x->len && x->p[x->pos + 1] == '/'))
                x->pos++;
            x->pos = x->pos + 2 < x->len ? x->pos + 2 : x->len;
        } else {
            return;
        }
    }
}

/* A quoted run ending at `q` (doubled `q` is an escape); pos on the opening. */
static void skip_quoted(struct lexer *x, uint8_t q)
{
    x->pos++;
    while (x->pos < x->len) {
        if (x->p[x->pos] == q) {
            if (x->pos + 1 < x->len && x->p[x->pos + 1] == q) {
                x->pos += 2;
                continue;
            }
            x->pos++;
            return;
        }
        x->pos++;
    }
}

static struct token next_token(struct lexer *x)
{
    struct token t = { TOK_END, NULL, 0 };
    skip_blank(x);
    if (x->pos >= x->len)
        return t;
    size_t start = x->pos;
    uint8_t c = x->p[start];
    if (is_word_start(c)) {
        while (x->pos < x->len && is_word_char(x->p[x->pos]))
            x->pos++;
        t.type = TOK_WORD;
    } else if (c == '"') {
        skip_quoted(x, '"');
        t.type = TOK_QUOTED;
    } else if (c == '\'') {
        skip_quoted(x, '\'');
        t.type = TOK_STRING;
    } else if (c == '$' && x->len - start >= 2 && x->p[start + 1] == '$') {
        x->pos += 2;
        while (x->len - x->pos >= 2 && !(x->p[x->pos] == '$' && x->p[x->pos + 1] == '$'))
            x->pos++;
        x->pos = x->len - x->pos >= 2 ? x->pos + 2 : x->len;
        t.type = TOK_STRING;
    } else {
        x->pos++;
        t.type = TOK_PUNCT;
    }
    t.p = x->p + start;
    t.len = x->pos - start;
    return t;
}

static bool word_is(const struct token *t, const char *w)
{
    size_t n = strlen(w);
    if (t->type != TOK_WORD || t->len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = t->p[i];
        if (c >= 'a' && c <= 'z')
            c = (uint8_t)(c - 'a' + 'A');
        if (c != (uint8_t)w[i])
            return false;
    }
    return true;
}

static bool punct_is(const struct token *t, char c)
{
    return t->type == TOK_PUNCT && t->p[0] == (uint8_t)c;
}

/* Appends a word, upper-cased, to the verb ("DROP" + " TABLE"). */
static void verb_append(struct cql_statement *st, const struct token *t)
{
    size_t n = strlen(st->verb);
    if (n > 0 && n + 1 < sizeof(st->verb))
        st->verb[n++] = ' ';
    for (size_t i = 0; i < t->len && n + 1 < sizeof(st->verb); i++) {
        uint8_t c = t->p[i];
        st->verb[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    st->verb[n] = '\0';
}

/* An identifier into dst: unquoted ones fold to lower case (CQL is case-
 * insensitive for them), quoted ones keep their case without the quotes. */
static bool ident_copy(const struct token *t, char *dst, size_t cap, bool *cut)
{
    const uint8_t *p = t->p;
    size_t len = t->len;
    bool quoted = t->type == TOK_QUOTED;
    if (t->type != TOK_WORD && !quoted)
        return false;
    if (quoted) {
        p++;
        len = len >= 2 && p[len - 2] == '"' ? len - 2 : len - 1;
    }
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = p[i];
        if (quoted && c == '"' && i + 1 < len && p[i + 1] == '"')
            i++;
        if (n + 1 >= cap) {
            *cut = true;
            break;
        }
        dst[n++] = (char)(!quoted && c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    dst[n] = '\0';
    return true;
}

/* [keyspace.]name at the lexer: into st->keyspace / st->name. */
static void read_qualified(struct lexer *x, struct cql_statement *st)
{
    struct token a = next_token(x);
    if (!ident_copy(&a, st->name, sizeof(st->name), &st->cut))
        return;
    size_t save = x->pos;
    struct token dot = next_token(x);
    if (!punct_is(&dot, '.')) {
        x->pos = save;
        return;
    }
    struct token b = next_token(x);
    memcpy(st->keyspace, st->name, sizeof(st->name));
    if (!ident_copy(&b, st->name, sizeof(st->name), &st->cut))
        st->name[0] = '\0';
}

/* Skips to the word w at the top level (strings and quoted names are single
 * tokens); false at the end. */
static bool skip_to_word(struct lexer *x, const char *w)
{
    for (;;) {
        struct token t = next_token(x);
        if (t.type == TOK_END)
            return false;
        if (word_is(&t, w))
            return true;
    }
}

/* IF [NOT] EXISTS, when it comes next. */
static void skip_if_exists(struct lexer *x)
{
    size_t save = x->pos;
    struct token t = next_token(x);
    if (!word_is(&t, "IF")) {
        x->pos = save;
        return;
    }
    save = x->pos;
    t = next_token(x);
    if (!word_is(&t, "NOT"))
        x->pos = save;
    next_token(x);      /* EXISTS */
}

static const char *const schema_objects[] = {
    "KEYSPACE", "SCHEMA", "TABLE", "COLUMNFAMILY", "INDEX", "TYPE", "FUNCTION",
    "AGGREGATE", "TRIGGER", "ROLE", "USER", "MATERIALIZED",
};

/* CREATE/ALTER/DROP [OR REPLACE] [CUSTOM] object [IF [NOT] EXISTS] name */
static void scan_schema(struct lexer *x, struct cql_statement *st, uint8_t op_class)
{
    st->op_class = op_class;
    struct token t = next_token(x);
    if (word_is(&t, "OR")) {
        next_token(x);      /* REPLACE */
        t = next_token(x);
    }
    if (word_is(&t, "CUSTOM"))
        t = next_token(x);
    bool known = false;
    for (size_t i = 0; i < sizeof(schema_objects) / sizeof(schema_objects[0]); i++)
        known = known || word_is(&t, schema_objects[i]);
    if (!known)
        return;
    verb_append(st, &t);
    st->names_keyspace = word_is(&t, "KEYSPACE") || word_is(&t, "SCHEMA");
    if (word_is(&t, "MATERIALIZED")) {
        t = next_token(x);
        verb_append(st, &t);    /* VIEW */
    }
    skip_if_exists(x);
    read_qualified(x, st);
}

static void scan_batch(struct lexer *x, struct cql_statement *st)
{
    st->op_class = OP_CLASS_WRITE;
    memcpy(st->verb, "BATCH", 6);
    for (;;) {
        struct token t = next_token(x);
        if (t.type == TOK_END)
            return;
        if (word_is(&t, "INSERT")) {
            if (skip_to_word(x, "INTO"))
                read_qualified(x, st);
            return;
        }
        if (word_is(&t, "UPDATE")) {
            read_qualified(x, st);
            return;
        }
        if (word_is(&t, "DELETE")) {
            if (skip_to_word(x, "FROM"))
                read_qualified(x, st);
            return;
        }
    }
}

void cql_statement_scan(const uint8_t *text, size_t len, struct cql_statement *st)
{
    memset(st, 0, sizeof(*st));
    struct lexer x = { text, len, 0 };
    struct token t = next_token(&x);
    if (t.type != TOK_WORD)
        return;
    verb_append(st, &t);
    if (word_is(&t, "SELECT")) {
        st->op_class = OP_CLASS_READ;
        if (skip_to_word(&x, "FROM")) {
            read_qualified(&x, st);
            st->has_where = skip_to_word(&x, "WHERE");
        }
    } else if (word_is(&t, "INSERT")) {
        st->op_class = OP_CLASS_WRITE;
        if (skip_to_word(&x, "INTO"))
            read_qualified(&x, st);
    } else if (word_is(&t, "UPDATE")) {
        st->op_class = OP_CLASS_WRITE;
        read_qualified(&x, st);
    } else if (word_is(&t, "DELETE")) {
        st->op_class = OP_CLASS_WRITE;
        if (skip_to_word(&x, "FROM"))
            read_qualified(&x, st);
    } else if (word_is(&t, "TRUNCATE")) {
        st->op_class = OP_CLASS_DESTROY;
        size_t save = x.pos;
        struct token u = next_token(&x);
        if (!word_is(&u, "TABLE") && !word_is(&u, "COLUMNFAMILY"))
            x.pos = save;
        read_qualified(&x, st);
    } else if (word_is(&t, "USE")) {
        st->op_class = OP_CLASS_HANDSHAKE;
        st->names_keyspace = true;
        read_qualified(&x, st);
    } else if (word_is(&t, "DROP")) {
        scan_schema(&x, st, OP_CLASS_DESTROY);
    } else if (word_is(&t, "CREATE") || word_is(&t, "ALTER")) {
        scan_schema(&x, st, OP_CLASS_ADMIN);
    } else if (word_is(&t, "GRANT") || word_is(&t, "REVOKE")) {
        st->op_class = OP_CLASS_ADMIN;
    } else if (word_is(&t, "LIST") || word_is(&t, "DESCRIBE") || word_is(&t, "DESC")) {
        st->op_class = OP_CLASS_ENUMERATE;
        struct token u = next_token(&x);
        if (u.type == TOK_WORD)
            verb_append(st, &u);
    } else if (word_is(&t, "BEGIN")) {
        scan_batch(&x, st);
    }
}

uint8_t cql_select_class(const char *keyspace, const char *table)
{
    static const char *const topology_tables[] = { "peers", "peers_v2", "local" };
    static const char *const cluster_tables[] = { "size_estimates", "table_estimates" };
    if (strcmp(keyspace, "system_schema") == 0 || strcmp(keyspace, "system_virtual_schema") == 0)
        return OP_CLASS_ENUMERATE;
    if (strcmp(keyspace, "system") == 0 && strncmp(table, "schema_", 7) == 0)
        return OP_CLASS_ENUMERATE;      /* the schema tables before 3.0 */
    if (strcmp(keyspace, "system") != 0)
        return OP_CLASS_READ;
    for (size_t i = 0; i < sizeof(topology_tables) / sizeof(topology_tables[0]); i++)
        if (strcmp(table, topology_tables[i]) == 0)
            return OP_CLASS_HANDSHAKE;  /* every driver, every connection */
    for (size_t i = 0; i < sizeof(cluster_tables) / sizeof(cluster_tables[0]); i++)
        if (strcmp(table, cluster_tables[i]) == 0)
            return OP_CLASS_ENUMERATE;
    return OP_CLASS_READ;
}
