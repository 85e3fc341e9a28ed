/* redis_parse.c - the streaming RESP parser (see redis_parse.h).
 *
 * Three phases: reading a line (a header, or an inline command), skipping a
 * bulk's payload by its length, and reading the CRLF after it. An element is
 * "complete" when its header was a scalar, its bulk ended, or its aggregate's
 * last element completed; completing the top-level element ends the message.
 * Invariants: depth <= REDIS_DEPTH_MAX; deep_owed > 0 only when depth ==
 * REDIS_DEPTH_MAX; line_kept <= REDIS_LINE_KEEP. */
#include "redis_parse.h"

#include <string.h>

enum { PHASE_LINE = 0, PHASE_BULK, PHASE_CRLF };

void redis_parser_init(struct redis_parser *p, bool requests, size_t line_max)
{
    memset(p, 0, sizeof(*p));
    p->requests = requests;
    p->line_max = line_max > 0 ? line_max : 1;
}

void redis_parser_reset(struct redis_parser *p)
{
    redis_parser_init(p, p->requests, p->line_max);
}

bool redis_parser_skip_payload(struct redis_parser *p, uint64_t n)
{
    if (!p->in_message || p->phase != PHASE_BULK || n > p->bulk_left)
        return false;
    p->bulk_left -= n;
    p->message_bytes += n;
    if (p->bulk_left == 0)
        p->phase = PHASE_CRLF;
    return true;
}

bool redis_parse_int(const uint8_t *s, size_t len, int64_t *out)
{
    size_t i = 0;
    bool negative = false;
    if (len > 0 && s[0] == '-') {
        negative = true;
        i = 1;
    }
    if (i == len || len - i > 19)
        return false;
    uint64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    *out = negative ? -(int64_t)v : (int64_t)v;
    return true;
}

static bool is_aggregate(uint8_t t)
{
    return t == '*' || t == '%' || t == '~' || t == '>' || t == '|';
}

static bool is_bulk(uint8_t t)
{
    return t == '$' || t == '=' || t == '!';
}

/* Types whose line is a number (or '?'), short by construction. */
static bool is_number_line(uint8_t t)
{
    return is_aggregate(t) || is_bulk(t) || t == ':' || t == ';';
}

static bool is_line_type(uint8_t t)
{
    return t == '+' || t == '-' || t == ',' || t == '(' || t == '#' || t == '_' || t == '.';
}

/* Where the next element sits: fills depth/index/deep of tok. */
static void place(const struct redis_parser *p, struct redis_token *tok)
{
    if (p->deep_owed > 0) {
        tok->deep = true;
        tok->depth = REDIS_DEPTH_MAX + 1;
        return;
    }
    tok->depth = p->depth;
    tok->index = p->depth > 0 ? p->stack[p->depth - 1].index : 0;
}

/* The current element completed: counts it in its parent and closes every
 * aggregate it completes. Returns true when the top-level message ended. */
static bool complete(struct redis_parser *p)
{
    if (p->deep_owed > 0) {
        p->deep_owed--;
        if (p->deep_owed > 0)
            return false;
        /* the deep region was one element of the stack's top frame */
    }
    for (;;) {
        if (p->depth == 0)
            return true;
        struct redis_frame *f = &p->stack[p->depth - 1];
        f->index++;
        if (f->left < 0)
            return false;           /* streamed: ends with '.' */
        if (--f->left > 0)
            return false;
        bool attribute = f->type == '|';
        p->depth--;
        if (attribute)
            return p->depth == 0;   /* not an element: the next one follows */
    }
}

/* Opens an aggregate of `owed` elements (> 0, or -1 streamed). */
static bool open_aggregate(struct redis_parser *p, uint8_t type, int64_t owed)
{
    bool attribute = type == '|';
    if (p->deep_owed > 0 || p->depth == REDIS_DEPTH_MAX) {
        if (owed < 0)
            return false;           /* a streamed aggregate past the stack */
        uint64_t add = (uint64_t)owed;
        uint64_t base = p->deep_owed;
        if (p->deep_owed == 0)
            base = attribute ? 1 : 0;     /* attribute + its element: one */
        else if (!attribute)
            base -= 1;                    /* this header is replaced by its elements */
        if (add > UINT64_MAX / 2 - base)
            return false;
        p->deep_owed = base + add;
        p->went_deep = true;
        return true;
    }
    p->stack[p->depth].left = owed;
    p->stack[p->depth].index = 0;
    p->stack[p->depth].type = type;
    p->depth++;
    return true;
}

static void start_bulk(struct redis_parser *p, const struct redis_token *tok, uint8_t type,
                       uint64_t len, bool chunk)
{
    p->phase = PHASE_BULK;
    p->bulk_left = len;
    p->bulk_chunk = chunk;
    p->bulk_depth = tok->depth;
    p->bulk_index = tok->index;
    p->bulk_deep = tok->deep;
    p->bulk_type = type;
    p->crlf_seen = 0;
}

/* A streamed string's ';' chunk header. */
static bool chunk_header(struct redis_parser *p, struct redis_token *tok, int64_t n)
{
    if (p->deep_owed > 0 || p->depth == 0 || p->stack[p->depth - 1].type != '$' || n < 0)
        return false;
    tok->depth = p->depth - 1;
    tok->index = p->depth >= 2 ? p->stack[p->depth - 2].index : 0;
    if (n > 0) {
        start_bulk(p, tok, '$', (uint64_t)n, true);
        return true;
    }
    p->depth--;     /* ";0": the streamed string ended */
    tok->message_end = complete(p);
    return true;
}

/* A complete number-typed header line. */
static bool number_header(struct redis_parser *p, struct redis_token *tok, uint8_t type,
                          const uint8_t *s, size_t n)
{
    int64_t v;
    bool streamed = n == 1 && s[0] == '?';
    if (streamed) {
        if (type != '*' && type != '%' && type != '~' && type != '$')
            return false;
        v = -2;
    } else if (!redis_parse_int(s, n, &v)) {
        return false;
    }
    tok->value = v;
    if (type == ';')
        return chunk_header(p, tok, v);
    if (type == ':') {
        tok->message_end = complete(p);
        return true;
    }
    if (v == -1 && (type == '*' || type == '$')) {
        tok->null = true;
        tok->message_end = complete(p);
        return true;
    }
    if (v < 0 && !streamed)
        return false;
    if (is_bulk(type)) {
        if (streamed)
            return open_aggregate(p, '$', -1);
        start_bulk(p, tok, type, (uint64_t)v, false);
        return true;
    }
    if (v == 0) {
        if (type == '|') {          /* an empty attribute: nothing follows it */
            tok->message_end = !p->went_deep && p->depth == 0 && p->deep_owed == 0;
            return true;
        }
        tok->message_end = complete(p);
        return true;
    }
    int64_t owed = v;
    if (!streamed && (type == '%' || type == '|')) {
        if (v > INT64_MAX / 2)
            return false;
        owed = 2 * v;
    }
    return open_aggregate(p, type, streamed ? -1 : owed);
}

/* The '.' that ends a streamed aggregate. */
static bool stream_end(struct redis_parser *p, struct redis_token *tok)
{
    if (p->deep_owed > 0 || p->depth == 0)
        return false;
    struct redis_frame *f = &p->stack[p->depth - 1];
    if (f->left != -1 || f->type == '$')
        return false;
    p->depth--;
    tok->depth = p->depth;
    tok->index = p->depth > 0 ? p->stack[p->depth - 1].index : 0;
    tok->message_end = complete(p);
    return true;
}

/* A complete line: a header, or an inline command. */
static bool line_done(struct redis_parser *p, struct redis_token *tok)
{
    tok->text_cut = p->line_len > p->line_kept;
    if (p->inline_line) {
        tok->kind = REDIS_TOK_INLINE;
        tok->text = p->line;
        tok->text_len = p->line_kept;
        tok->message_end = true;
        return true;
    }
    uint8_t type = p->line[0];
    tok->kind = REDIS_TOK_HEADER;
    tok->type = type;
    tok->text = p->line + 1;
    tok->text_len = p->line_kept - 1;
    if (type == '.')
        return p->line_len == 1 && stream_end(p, tok);
    if (type == ';')
        return number_header(p, tok, type, tok->text, tok->text_len);
    place(p, tok);
    if (p->requests && (p->depth > 0 || p->deep_owed > 0) && type != '$')
        return false;               /* a request's elements are bulk strings */
    if (is_number_line(type))
        return number_header(p, tok, type, tok->text, tok->text_len);
    if (type == '_') {
        if (p->line_len != 1)
            return false;
        tok->null = true;
    } else if (type == '#') {
        if (p->line_len != 2 || (p->line[1] != 't' && p->line[1] != 'f'))
            return false;
    }
    tok->message_end = complete(p);
    return true;
}

/* Checks the first byte of a line as soon as it is known. */
static bool line_first_byte(struct redis_parser *p, uint8_t c)
{
    if (!p->in_message) {
        p->in_message = true;
        p->message_bytes = 0;
        p->went_deep = false;
        p->inline_line = p->requests && c != '*';
        if (p->inline_line)     /* a command name, blanks, or an empty line */
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' ' || c == '\t' ||
                   c == '\r' || c == '\n';
    }
    return is_number_line(c) || is_line_type(c);
}

static ptrdiff_t phase_line(struct redis_parser *p, const uint8_t *buf, size_t len,
                            struct redis_token *tok)
{
    size_t i = 0;
    if (p->line_len == 0 && !p->saw_cr && len > 0) {
        if (!line_first_byte(p, buf[0]))
            return REDIS_MALFORMED;
    }
    bool numeric = !p->inline_line &&
                   (p->line_len > 0 ? is_number_line(p->line[0]) : is_number_line(buf[0]));
    size_t limit = numeric ? REDIS_NUMBER_LINE_MAX : p->line_max;
    for (; i < len; i++) {
        uint8_t c = buf[i];
        if (c == '\n') {
            /* RESP lines end in CRLF; an inline command may end in a bare LF */
            if (!p->saw_cr && !p->inline_line)
                return REDIS_MALFORMED;
            p->message_bytes += i + 1;
            p->saw_cr = false;
            if (!line_done(p, tok))
                return REDIS_MALFORMED;
            p->line_len = 0;
            p->line_kept = 0;
            return (ptrdiff_t)(i + 1);
        }
        if (p->saw_cr) {            /* a '\r' inside the line is data */
            if (p->line_kept < REDIS_LINE_KEEP)
                p->line[p->line_kept++] = '\r';
            p->line_len++;
            p->saw_cr = false;
        }
        if (c == '\r') {
            p->saw_cr = true;
        } else {
            if (p->line_kept < REDIS_LINE_KEEP)
                p->line[p->line_kept++] = c;
            p->line_len++;
        }
        if (p->line_len > limit)
            return REDIS_MALFORMED;
    }
    p->message_bytes += len;
    return (ptrdiff_t)len;
}

static ptrdiff_t phase_bulk(struct redis_parser *p, const uint8_t *buf, size_t len,
                            struct redis_token *tok)
{
    size_t n = p->bulk_left < len ? (size_t)p->bulk_left : len;
    p->bulk_left -= n;
    p->message_bytes += n;
    if (p->bulk_left == 0)
        p->phase = PHASE_CRLF;
    if (n == 0)
        return 0;
    tok->kind = REDIS_TOK_DATA;
    tok->type = p->bulk_type;
    tok->depth = p->bulk_depth;
    tok->index = p->bulk_index;
    tok->deep = p->bulk_deep;
    tok->text = buf;
    tok->text_len = n;
    return (ptrdiff_t)n;
}

static ptrdiff_t phase_crlf(struct redis_parser *p, const uint8_t *buf, size_t len,
                            struct redis_token *tok)
{
    size_t i = 0;
    while (i < len && p->crlf_seen < 2) {
        if (buf[i] != (p->crlf_seen == 0 ? '\r' : '\n'))
            return REDIS_MALFORMED;
        p->crlf_seen++;
        i++;
    }
    p->message_bytes += i;
    if (p->crlf_seen < 2)
        return (ptrdiff_t)i;
    p->phase = PHASE_LINE;
    tok->kind = REDIS_TOK_BULK_END;
    tok->type = p->bulk_type;
    tok->depth = p->bulk_depth;
    tok->index = p->bulk_index;
    tok->deep = p->bulk_deep;
    if (!p->bulk_chunk)
        tok->message_end = complete(p);
    return (ptrdiff_t)i;
}

ptrdiff_t redis_parse(struct redis_parser *p, const uint8_t *buf, size_t len,
                      struct redis_token *tok)
{
    memset(tok, 0, sizeof(*tok));
    ptrdiff_t r;
    if (len == 0)
        return 0;
    if (p->phase == PHASE_BULK && p->bulk_left > 0)
        r = phase_bulk(p, buf, len, tok);
    else if (p->phase == PHASE_BULK || p->phase == PHASE_CRLF)
        r = phase_crlf(p, buf, len, tok);       /* a zero-length bulk goes straight here */
    else
        r = phase_line(p, buf, len, tok);
    if (r < 0)
        return r;
    if (tok->message_end) {
        tok->message_bytes = p->message_bytes;
        p->in_message = false;
        p->depth = 0;
        p->deep_owed = 0;
    }
    return r;
}
