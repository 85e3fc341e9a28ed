/* http_url.c - request-target helpers for application observers. */
#include "http_url.h"

#include <string.h>

static struct http_span span_make(const char *p, size_t len)
{
    struct http_span s = { p, len };
    return s;
}

bool http_span_is(struct http_span s, const char *text)
{
    size_t n = strlen(text);
    return s.len == n && memcmp(s.ptr, text, n) == 0;
}

bool http_span_contains_ci(struct http_span s, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= s.len && i <= s.len - n; i++) {
        size_t j = 0;
        while (j < n && http_ascii_lower((unsigned char)s.ptr[i + j]) == needle[j])
            j++;
        if (j == n)
            return true;
    }
    return false;
}

size_t http_url_decode(struct http_span src, char *dst, size_t cap, bool plus_space,
                       bool *cut)
{
    size_t out = 0, i = 0;
    while (i < src.len && out < cap) {
        char c = src.ptr[i++];
        if (c == '%' && i + 1 < src.len && http_hex_value(src.ptr[i]) >= 0 &&
            http_hex_value(src.ptr[i + 1]) >= 0) {
            c = (char)(http_hex_value(src.ptr[i]) * 16 + http_hex_value(src.ptr[i + 1]));
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        dst[out++] = c;
    }
    *cut = i < src.len;
    return out;
}

void http_url_split(struct http_span target, struct http_url *url)
{
    struct http_span path = http_target_path(target);
    const char *end = target.ptr + target.len;
    const char *q = path.ptr + path.len;
    url->path = path;
    url->query = span_make(end, 0);
    if (q < end && *q == '?') {
        const char *hash = memchr(q + 1, '#', (size_t)(end - q - 1));
        url->query = span_make(q + 1, (size_t)((hash != NULL ? hash : end) - q - 1));
    }
    size_t i = 0;
    url->count = 0;
    while (i < path.len && url->count < HTTP_URL_SEGMENTS_MAX) {
        while (i < path.len && path.ptr[i] == '/')
            i++;
        size_t start = i;
        while (i < path.len && path.ptr[i] != '/')
            i++;
        if (i == start)
            break;
        struct http_url_segment *s = &url->seg[url->count++];
        s->raw = span_make(path.ptr + start, i - start);
        size_t n = http_url_decode(s->raw, s->text, HTTP_URL_SEGMENT_TEXT, false, &s->cut);
        s->text[n] = '\0';
    }
}

bool http_url_seg_is(const struct http_url *url, size_t i, const char *text)
{
    return i < url->count && !url->seg[i].cut && strcmp(url->seg[i].text, text) == 0;
}

bool http_query_next(struct http_span query, size_t *pos, struct http_span *key,
                     struct http_span *value)
{
    while (*pos < query.len) {
        size_t start = *pos, i = start;
        while (i < query.len && query.ptr[i] != '&')
            i++;
        *pos = i + 1;
        if (i == start)
            continue;
        const char *p = query.ptr + start;
        const char *eq = memchr(p, '=', i - start);
        size_t key_len = eq != NULL ? (size_t)(eq - p) : i - start;
        *key = span_make(p, key_len);
        *value = eq != NULL ? span_make(eq + 1, i - start - key_len - 1) : span_make(p + key_len, 0);
        return true;
    }
    return false;
}

bool http_query_get(struct http_span query, const char *name, char *buf, size_t cap,
                    size_t *len)
{
    size_t pos = 0;
    struct http_span key, value;
    while (http_query_next(query, &pos, &key, &value)) {
        if (!http_span_is(key, name))
            continue;
        bool cut;
        *len = http_url_decode(value, buf, cap, true, &cut);
        return true;
    }
    return false;
}

int64_t http_parse_count(const char *p, size_t len)
{
    if (len == 0 || len > 18)
        return -1;
    int64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        n = n * 10 + (p[i] - '0');
    }
    return n;
}

int64_t http_count_add(int64_t base, int64_t n)
{
    if (base < 0)
        base = 0;
    return n > INT64_MAX - base ? INT64_MAX : base + n;
}
