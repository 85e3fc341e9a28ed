/* http_parse.c - HTTP/1.x head parsers and span helpers (see http_parse.h).
 *
 * Pure functions over the caller's buffer: they never allocate and never
 * look past `len`. */
#include "http_parse.h"

#include <string.h>

/* ---------------------------------------------------------------- parsers */

/* tchar of RFC 9110 5.6.2: the characters of methods and header names. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A request-target is visible ASCII or obs-text: no blanks, no controls. */
static bool is_target_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

/* Field values and reason phrases: anything but the line end and NUL. */
static bool is_value_char(unsigned char c)
{
    return c != '\r' && c != '\n' && c != 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int http_ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static struct http_span span_of(const char *ptr, size_t len)
{
    struct http_span s = { ptr, len };
    return s;
}

static size_t count_tchars(const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len && is_tchar((unsigned char)buf[i]))
        i++;
    return i;
}

/* A line end at buf: CRLF or LF. Returns its length, 0 if the buffer ends
 * inside it, -1 if there is none here. */
static ptrdiff_t parse_line_end(const char *buf, size_t len)
{
    if (len == 0)
        return HTTP_NEED_MORE;
    if (buf[0] == '\n')
        return 1;
    if (buf[0] != '\r')
        return HTTP_MALFORMED;
    if (len < 2)
        return HTTP_NEED_MORE;
    return buf[1] == '\n' ? 2 : HTTP_MALFORMED;
}

/* "HTTP/1." DIGIT: 8 bytes. */
static ptrdiff_t parse_version(const char *buf, size_t len, int *minor)
{
    static const char prefix[] = "HTTP/1.";
    size_t n = len < 7 ? len : 7;
    if (memcmp(buf, prefix, n) != 0)
        return HTTP_MALFORMED;
    if (len < 8)
        return HTTP_NEED_MORE;
    if (buf[7] < '0' || buf[7] > '9')
        return HTTP_MALFORMED;
    *minor = buf[7] - '0';
    return 8;
}

ptrdiff_t http_parse_request_line(const char *buf, size_t len, struct http_head *head)
{
    size_t i = count_tchars(buf, len);
    if (i == len)
        return HTTP_NEED_MORE;
    if (i == 0 || buf[i] != ' ')
        return HTTP_MALFORMED;
    head->method = span_of(buf, i);

    size_t start = ++i;
    while (i < len && is_target_char((unsigned char)buf[i]))
        i++;
    if (i == len)
        return HTTP_NEED_MORE;
    if (i == start || buf[i] != ' ')
        return HTTP_MALFORMED;
    head->target = span_of(buf + start, i - start);
    i++;

    ptrdiff_t n = parse_version(buf + i, len - i, &head->minor_version);
    if (n <= 0)
        return n;
    i += (size_t)n;
    n = parse_line_end(buf + i, len - i);
    return n <= 0 ? n : (ptrdiff_t)(i + (size_t)n);
}

ptrdiff_t http_parse_status_line(const char *buf, size_t len, struct http_head *head)
{
    ptrdiff_t n = parse_version(buf, len, &head->minor_version);
    if (n <= 0)
        return n;
    size_t i = (size_t)n;
    if (i == len)
        return HTTP_NEED_MORE;
    if (buf[i++] != ' ')
        return HTTP_MALFORMED;

    int status = 0;
    for (int digit = 0; digit < 3; digit++, i++) {
        if (i == len)
            return HTTP_NEED_MORE;
        if (buf[i] < '0' || buf[i] > '9')
            return HTTP_MALFORMED;
        status = status * 10 + (buf[i] - '0');
    }
    if (status < 100)
        return HTTP_MALFORMED;
    head->status = status;

    /* The reason phrase is optional, and so (in practice) is its SP. */
    size_t start = i;
    if (i < len && buf[i] == ' ')
        start = ++i;
    else if (i < len && buf[i] != '\r' && buf[i] != '\n')
        return HTTP_MALFORMED;
    while (i < len && is_value_char((unsigned char)buf[i]))
        i++;
    head->reason = span_of(buf + start, i - start);
    n = parse_line_end(buf + i, len - i);
    return n <= 0 ? n : (ptrdiff_t)(i + (size_t)n);
}

/* Digits only, as RFC 9110 8.6 asks; sizes past 2^62 are malformed rather
 * than a way to overflow a counter. */
static bool parse_content_length(struct http_span v, int64_t *out)
{
    const int64_t cap = INT64_C(1) << 62;
    int64_t n = 0;
    if (v.len == 0)
        return false;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return false;
        int digit = v.ptr[i] - '0';
        if (n > (cap - digit) / 10)
            return false;
        n = n * 10 + digit;
    }
    *out = n;
    return true;
}

/* The last comma-separated element of a list value, blanks trimmed. */
static struct http_span last_list_element(struct http_span v)
{
    size_t end = v.len;
    while (end > 0 && (is_blank(v.ptr[end - 1]) || v.ptr[end - 1] == ','))
        end--;
    size_t start = end;
    while (start > 0 && v.ptr[start - 1] != ',')
        start--;
    while (start < end && is_blank(v.ptr[start]))
        start++;
    return span_of(v.ptr + start, end - start);
}

/* Updates the framing fields from one header line. False if it makes the
 * message length ambiguous. */
static bool note_framing(struct http_head *head, const struct http_header *h)
{
    if (http_span_ieq(h->name, "content-length")) {
        int64_t n;
        if (!parse_content_length(h->value, &n))
            return false;
        if (head->content_length >= 0 && head->content_length != n)
            return false;
        head->content_length = n;
    } else if (http_span_ieq(h->name, "transfer-encoding")) {
        /* Only the last coding decides whether the body is chunked. */
        head->transfer_encoding = true;
        head->chunked = http_span_ieq(last_list_element(h->value), "chunked");
    } else if (http_span_ieq(h->name, "connection")) {
        if (http_value_has_token(h->value, "close"))
            head->connection_close = true;
    }
    return true;
}

/* "name: value" line end. */
static ptrdiff_t parse_header_line(const char *buf, size_t len, struct http_header *h)
{
    size_t i = count_tchars(buf, len);
    if (i == len)
        return HTTP_NEED_MORE;
    if (i == 0 || buf[i] != ':')
        return HTTP_MALFORMED;
    h->name = span_of(buf, i);
    i++;
    while (i < len && is_blank(buf[i]))
        i++;
    size_t start = i;
    while (i < len && is_value_char((unsigned char)buf[i]))
        i++;
    size_t end = i;
    while (end > start && is_blank(buf[end - 1]))
        end--;
    h->value = span_of(buf + start, end - start);
    ptrdiff_t n = parse_line_end(buf + i, len - i);
    return n <= 0 ? n : (ptrdiff_t)(i + (size_t)n);
}

ptrdiff_t http_parse_headers(const char *buf, size_t len, struct http_head *head)
{
    head->header_count = 0;
    head->header_dropped = 0;
    head->content_length = -1;
    head->transfer_encoding = false;
    head->chunked = false;
    head->connection_close = false;

    size_t i = 0;
    for (;;) {
        if (i == len)
            return HTTP_NEED_MORE;
        if (buf[i] == '\r' || buf[i] == '\n') {
            ptrdiff_t n = parse_line_end(buf + i, len - i);
            return n <= 0 ? n : (ptrdiff_t)(i + (size_t)n);
        }
        struct http_header h;
        ptrdiff_t n = parse_header_line(buf + i, len - i, &h);
        if (n <= 0)
            return n;
        if (!note_framing(head, &h))
            return HTTP_MALFORMED;
        if (head->header_count < HTTP_HEADERS_MAX)
            head->headers[head->header_count++] = h;
        else
            head->header_dropped++;
        i += (size_t)n;
    }
}

static ptrdiff_t parse_head(const char *buf, size_t len, struct http_head *head,
                            ptrdiff_t (*first_line)(const char *, size_t,
                                                    struct http_head *))
{
    ptrdiff_t n = first_line(buf, len, head);
    if (n <= 0)
        return n;
    ptrdiff_t m = http_parse_headers(buf + n, len - (size_t)n, head);
    return m <= 0 ? m : n + m;
}

ptrdiff_t http_parse_request_head(const char *buf, size_t len, struct http_head *head)
{
    head->status = 0;
    head->reason = span_of(NULL, 0);
    return parse_head(buf, len, head, http_parse_request_line);
}

ptrdiff_t http_parse_response_head(const char *buf, size_t len, struct http_head *head)
{
    head->method = span_of(NULL, 0);
    head->target = span_of(NULL, 0);
    return parse_head(buf, len, head, http_parse_status_line);
}

int http_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)http_ascii_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

ptrdiff_t http_parse_chunk_size(const char *buf, size_t len, uint64_t *size)
{
    uint64_t n = 0;
    size_t i = 0;
    int digit;
    while (i < len && (digit = http_hex_value(buf[i])) >= 0) {
        if (n > (UINT64_MAX >> 4))
            return HTTP_MALFORMED;
        n = (n << 4) | (uint64_t)digit;
        i++;
    }
    if (i == len)
        return HTTP_NEED_MORE;
    if (i == 0)
        return HTTP_MALFORMED;
    /* Blanks before extensions are tolerated (RFC 9112 7.1.1 BWS). */
    while (i < len && is_blank(buf[i]))
        i++;
    if (i < len && buf[i] == ';') {
        while (i < len && is_value_char((unsigned char)buf[i]))
            i++;
    }
    ptrdiff_t m = parse_line_end(buf + i, len - i);
    if (m <= 0)
        return m;
    *size = n;
    return (ptrdiff_t)(i + (size_t)m);
}

/* ---------------------------------------------------------------- helpers */

bool http_span_ieq(struct http_span s, const char *text)
{
    size_t n = strlen(text);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (http_ascii_lower((unsigned char)s.ptr[i]) != http_ascii_lower((unsigned char)text[i]))
            return false;
    return true;
}

const struct http_header *http_head_find(const struct http_head *head, const char *name)
{
    for (size_t i = 0; i < head->header_count; i++)
        if (http_span_ieq(head->headers[i].name, name))
            return &head->headers[i];
    return NULL;
}

bool http_value_has_token(struct http_span value, const char *token)
{
    size_t i = 0;
    while (i < value.len) {
        size_t start = i;
        while (i < value.len && value.ptr[i] != ',')
            i++;
        size_t end = i;
        while (start < end && is_blank(value.ptr[start]))
            start++;
        while (end > start && is_blank(value.ptr[end - 1]))
            end--;
        if (http_span_ieq(span_of(value.ptr + start, end - start), token))
            return true;
        i++;
    }
    return false;
}

struct http_span http_auth_scheme(struct http_span authorization)
{
    size_t n = count_tchars(authorization.ptr, authorization.len);
    if (n == 0 || n == authorization.len || !is_blank(authorization.ptr[n]))
        return span_of(authorization.ptr, 0);
    return span_of(authorization.ptr, n);
}

struct http_span http_target_path(struct http_span target)
{
    const char *p = target.ptr;
    size_t len = target.len;
    if (len > 0 && p[0] != '/') {
        /* absolute-form: skip "scheme://authority" */
        const char *sep = memmem(p, len, "://", 3);
        if (sep != NULL) {
            size_t i = (size_t)(sep - p) + 3;
            while (i < len && p[i] != '/' && p[i] != '?' && p[i] != '#')
                i++;
            if (i == len || p[i] != '/')
                return span_of("/", 1);
            p += i;
            len -= i;
        }
    }
    size_t end = 0;
    while (end < len && p[end] != '?' && p[end] != '#')
        end++;
    return span_of(p, end);
}

bool http_list_next(struct http_span list, size_t *pos, struct http_span *out)
{
    while (*pos < list.len) {
        size_t start = *pos;
        while (*pos < list.len && list.ptr[*pos] != ',')
            (*pos)++;
        size_t end = *pos;
        if (*pos < list.len)
            (*pos)++;
        while (start < end && is_blank(list.ptr[start]))
            start++;
        while (end > start && is_blank(list.ptr[end - 1]))
            end--;
        if (end > start) {
            *out = span_of(list.ptr + start, end - start);
            return true;
        }
    }
    return false;
}
