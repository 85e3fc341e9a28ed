/* http_parse.h - HTTP/1.x head parsers: pure functions over a buffer.
 *
 * The parsers are pure functions over a buffer in the picohttpparser shape:
 * no allocation, no I/O. Each returns the number of bytes consumed (> 0),
 * HTTP_NEED_MORE (0) when the buffer is a valid but incomplete prefix, or
 * HTTP_MALFORMED (-1) when no continuation could make it valid. Spans point
 * into the caller's buffer, so they live as long as it does.
 *
 * Line ends are CRLF or a bare LF. Obsolete line folding is malformed (RFC
 * 9112 5.2 lets a recipient reject it, and it is a smuggling tool). */
#ifndef SW_HTTP_PARSE_H
#define SW_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_NEED_MORE 0
#define HTTP_MALFORMED (-1)

/* Header lines kept per head. Framing headers past it still count. */
#define HTTP_HEADERS_MAX 64

/* A run of bytes in the parsed buffer; not NUL-terminated. */
struct http_span {
    const char *ptr;
    size_t len;
};

struct http_header {
    struct http_span name;
    struct http_span value;    /* leading and trailing blanks trimmed */
};

/* One request or response head. The parsers fill the fields they read. */
struct http_head {
    struct http_span method;   /* request line */
    struct http_span target;   /* request-target, as sent */
    int status;                /* status line: 100..999 */
    struct http_span reason;
    int minor_version;         /* HTTP/1.<minor_version> */
    struct http_header headers[HTTP_HEADERS_MAX];
    size_t header_count;       /* lines kept in headers[] */
    size_t header_dropped;     /* lines seen past HTTP_HEADERS_MAX */
    /* Framing, taken from every header line, kept or not: */
    int64_t content_length;    /* -1: no Content-Length */
    bool transfer_encoding;    /* a Transfer-Encoding header was present */
    bool chunked;              /* ... and its last coding is "chunked" */
    bool connection_close;     /* Connection: close */
};

/* "METHOD SP request-target SP HTTP/1.x" line end. Sets method, target,
 * minor_version. */
ptrdiff_t http_parse_request_line(const char *buf, size_t len, struct http_head *head);
/* "HTTP/1.x SP 3DIGIT [SP reason]" line end. Sets status, reason,
 * minor_version. */
ptrdiff_t http_parse_status_line(const char *buf, size_t len, struct http_head *head);
/* Header lines up to and including the empty line that ends them (also a
 * trailer section). Resets and fills headers[] and the framing fields; a
 * Content-Length that is not a number, or two that differ, is malformed. */
ptrdiff_t http_parse_headers(const char *buf, size_t len, struct http_head *head);
/* A whole head: the first line, then http_parse_headers. */
ptrdiff_t http_parse_request_head(const char *buf, size_t len, struct http_head *head);
ptrdiff_t http_parse_response_head(const char *buf, size_t len, struct http_head *head);
/* "HEX [BWS] [; extensions] line end" of chunked coding; *size = chunk size. */
ptrdiff_t http_parse_chunk_size(const char *buf, size_t len, uint64_t *size);

/* Case-insensitive comparison of a span with a C string. */
bool http_span_ieq(struct http_span s, const char *text);
/* The first header of that name (case-insensitive), or NULL. */
const struct http_header *http_head_find(const struct http_head *head, const char *name);
/* True when a comma-separated value holds the token (case-insensitive):
 * Connection: keep-alive, Upgrade. */
bool http_value_has_token(struct http_span value, const char *token);
/* The auth-scheme of an Authorization value ("Basic" in "Basic xyz"); empty
 * when the value does not start with a token followed by a blank, so that a
 * bare credential is never taken for a scheme. */
struct http_span http_auth_scheme(struct http_span authorization);
/* The path of a request-target: before '?' or '#', and without the
 * "scheme://authority" of the absolute form ("/" if it has no path). */
struct http_span http_target_path(struct http_span target);
/* ASCII lower case, locale-independent. */
int http_ascii_lower(int c);
/* The value of a hex digit, or -1. */
int http_hex_value(char c);
/* The next element of a comma-separated list from *pos, blanks trimmed;
 * false when the list is exhausted. Empty elements are skipped. */
bool http_list_next(struct http_span list, size_t *pos, struct http_span *out);

#endif
