/* json.c - a small JSON writer into a growable buffer.
 *
 * The writer never fails half-way through a call in a way the caller has to
 * undo: on allocation failure or too deep a nesting it sets `failed`, and
 * from then on every call is a no-op until json_reset. The buffer is always
 * NUL-terminated once something has been written, so it can be printed as is.
 *
 * Commas: need_comma[d - 1] says whether the container open at depth d has
 * had a member yet. json_key writes the comma for its member and clears the
 * flag, so that the value after it writes none and sets it again. */
#include "json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_INITIAL_CAP 256

void json_init(struct json_writer *w)
{
    memset(w, 0, sizeof(*w));
}

void json_reset(struct json_writer *w)
{
    w->len = 0;
    w->depth = 0;
    w->failed = false;
    memset(w->need_comma, 0, sizeof(w->need_comma));
    if (w->buf)
        w->buf[0] = '\0';
}

void json_free(struct json_writer *w)
{
    free(w->buf);
    json_init(w);
}

/* Makes room for n more bytes plus the terminating NUL. */
static bool json_reserve(struct json_writer *w, size_t n)
{
    if (w->failed)
        return false;
    if (n > SIZE_MAX - 1 - w->len) {
        w->failed = true;
        return false;
    }
    size_t need = w->len + n + 1;
    if (need <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : JSON_INITIAL_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *buf = realloc(w->buf, cap);
    if (!buf) {
        w->failed = true;
        return false;
    }
    w->buf = buf;
    w->cap = cap;
    return true;
}

/* Where the next n bytes (plus the NUL) go, or NULL once failed. Room is
 * usually there already: that test is all the common case costs. */
static inline char *json_room(struct json_writer *w, size_t n)
{
    if (!w->failed && n < w->cap - w->len)
        return w->buf + w->len;
    return json_reserve(w, n) ? w->buf + w->len : NULL;
}

/* Ends a write that stopped at p: the length and the NUL. */
static inline void json_commit(struct json_writer *w, char *p)
{
    *p = '\0';
    w->len = (size_t)(p - w->buf);
}

static void json_put(struct json_writer *w, const char *s, size_t n)
{
    char *p = json_room(w, n);
    if (!p)
        return;
    memcpy(p, s, n);
    json_commit(w, p + n);
}

static void json_putc(struct json_writer *w, char c)
{
    char *p = json_room(w, 1);
    if (!p)
        return;
    *p = c;
    json_commit(w, p + 1);
}

/* Whether the next member or element needs a comma before it; marks the
 * open container as having one from now on (the caller writes the comma). */
static inline bool json_take_comma(struct json_writer *w)
{
    if (w->depth == 0)
        return false;
    bool comma = w->need_comma[w->depth - 1];
    w->need_comma[w->depth - 1] = true;
    return comma;
}

/* Called before every value and key: the comma between members. */
static void json_separate(struct json_writer *w)
{
    if (!w->failed && json_take_comma(w))
        json_putc(w, ',');
}

static void json_open(struct json_writer *w, char bracket)
{
    if (w->failed)
        return;
    if (w->depth >= JSON_DEPTH_MAX) {
        w->failed = true;
        return;
    }
    json_separate(w);
    json_putc(w, bracket);
    w->need_comma[w->depth] = false;
    w->depth++;
}

static void json_close(struct json_writer *w, char bracket)
{
    if (w->failed)
        return;
    if (w->depth == 0) {   /* more closes than opens: a caller bug */
        w->failed = true;
        return;
    }
    w->depth--;
    json_putc(w, bracket);
}

void json_object_open(struct json_writer *w) { json_open(w, '{'); }
void json_object_close(struct json_writer *w) { json_close(w, '}'); }
void json_array_open(struct json_writer *w) { json_open(w, '['); }
void json_array_close(struct json_writer *w) { json_close(w, ']'); }

/* Length of the valid UTF-8 sequence (RFC 3629) starting at s, 2 to 4, or 0
 * if there is none: bad lead byte, bad or missing continuation, overlong
 * form, UTF-16 surrogate, or a code point above U+10FFFF. */
static size_t utf8_sequence_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;   /* range of the second byte */

    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;              /* overlong below U+0800 */
        else if (c == 0xed)
            hi = 0x9f;              /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;              /* overlong below U+10000 */
        else if (c == 0xf4)
            hi = 0x8f;              /* above U+10FFFF */
    } else {
        return 0;                   /* ASCII, continuation, C0/C1, F5..FF */
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static void json_put_u00(struct json_writer *w, uint8_t c)
{
    static const char hex[] = "0123456789abcdef";
    char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f] };
    json_put(w, esc, sizeof(esc));
}

/* Whether the byte c must be escaped or checked as UTF-8. */
static bool json_byte_special(uint8_t c)
{
    return c < 0x20 || c >= 0x7f || c == '"' || c == '\\';
}

/* Whether any byte of the 8 in x is special (json_byte_special), eight at
 * a time: a byte below 0x20, with the top bit set, or equal to 0x7f, '"'
 * or '\\' (the "has less than" and "has zero byte" word tricks). */
static bool json_word_special(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
#define JSON_HAS_ZERO(v) (((v) - ones) & ~(v) & high)
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), del = x ^ (ones * 0x7f);
    return ((x & high) | ((x - ones * 0x20) & ~x & high)
            | JSON_HAS_ZERO(q) | JSON_HAS_ZERO(b) | JSON_HAS_ZERO(del)) != 0;
#undef JSON_HAS_ZERO
}

/* Whether s[0..len) is printable ASCII without quote or backslash: the
 * common case, written in one copy. */
static bool json_is_plain(const char *s, size_t len)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, s + i, 8);
        if (json_word_special(x))
            return false;
    }
    for (; i < len; i++)
        if (json_byte_special((uint8_t)s[i]))
            return false;
    return true;
}

/* Writes `head` (0 for none), "s" (plain, see json_is_plain) and then
 * `tail` (0 for none), in one copy. */
static void json_put_plain(struct json_writer *w, char head, const char *s, size_t len,
                           char tail)
{
    char *p = json_room(w, len + 2 + (head != 0) + (tail != 0));
    if (!p)
        return;
    if (head != 0)
        *p++ = head;
    *p++ = '"';
    memcpy(p, s, len);
    p += len;
    *p++ = '"';
    if (tail != 0)
        *p++ = tail;
    json_commit(w, p);
}

/* Writes s[0..len) as a quoted JSON string, at most cap input bytes of it.
 * Printable ASCII and valid UTF-8 pass through; quote, backslash and control
 * characters are escaped; every byte of invalid UTF-8 becomes \u00XX (the
 * byte value as a code point), so the output is valid UTF-8 whatever came in. */
static void json_put_string(struct json_writer *w, const char *str, size_t len, size_t cap)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t limit = len < cap ? len : cap;
    size_t i = 0, run = 0;   /* s[run..i) passes through unchanged */

    if (json_is_plain(str, limit)) {
        json_put_plain(w, 0, str, limit, 0);
        return;
    }
    json_putc(w, '"');
    while (i < limit && !w->failed) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            i++;
            continue;
        }
        if (c >= 0x80) {
            /* Validity is judged on the whole input, so that a sequence cut
             * by the cap is dropped, not turned into escapes. */
            size_t seq = utf8_sequence_len(s + i, len - i);
            if (seq > 0) {
                if (i + seq > limit)
                    break;
                i += seq;
                continue;
            }
        }
        json_put(w, (const char *)s + run, i - run);
        switch (c) {
        case '"': json_put(w, "\\\"", 2); break;
        case '\\': json_put(w, "\\\\", 2); break;
        case '\b': json_put(w, "\\b", 2); break;
        case '\f': json_put(w, "\\f", 2); break;
        case '\n': json_put(w, "\\n", 2); break;
        case '\r': json_put(w, "\\r", 2); break;
        case '\t': json_put(w, "\\t", 2); break;
        default: json_put_u00(w, c); break;
        }
        i++;
        run = i;
    }
    json_put(w, (const char *)s + run, i - run);
    json_putc(w, '"');
}

/* The length of a NUL-terminated key if it is plain (json_is_plain), else
 * SIZE_MAX: one pass, as keys are short and almost always plain. */
static size_t json_plain_key_len(const char *key)
{
    size_t len = 0;
    for (uint8_t c; (c = (uint8_t)key[len]) != 0; len++)
        if (json_byte_special(c))
            return SIZE_MAX;
    return len;
}

void json_key(struct json_writer *w, const char *key)
{
    if (w->failed)
        return;
    size_t len = json_plain_key_len(key);
    if (len != SIZE_MAX) {
        /* The comma, the key and the colon in one copy. */
        json_put_plain(w, json_take_comma(w) ? ',' : 0, key, len, ':');
    } else {
        json_separate(w);
        json_put_string(w, key, strlen(key), SIZE_MAX);
        json_putc(w, ':');
    }
    if (w->depth > 0)
        w->need_comma[w->depth - 1] = false;   /* the value writes no comma */
}

void json_string(struct json_writer *w, const char *s)
{
    json_string_capped(w, s, strlen(s), SIZE_MAX);
}

void json_string_capped(struct json_writer *w, const char *s, size_t len, size_t cap)
{
    if (w->failed)
        return;
    json_separate(w);
    json_put_string(w, s, len, cap);
}

/* Decimal digits of v, without locale or printf. */
static void json_put_decimal(struct json_writer *w, bool negative, uint64_t v)
{
    char digits[21];
    size_t i = sizeof(digits);

    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    if (negative)
        digits[--i] = '-';
    json_put(w, digits + i, sizeof(digits) - i);
}

void json_uint(struct json_writer *w, uint64_t v)
{
    if (w->failed)
        return;
    json_separate(w);
    json_put_decimal(w, false, v);
}

void json_int(struct json_writer *w, int64_t v)
{
    if (w->failed)
        return;
    json_separate(w);
    /* Negate in unsigned arithmetic: -INT64_MIN does not fit an int64_t. */
    json_put_decimal(w, v < 0, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
}

void json_bool(struct json_writer *w, bool v)
{
    json_raw(w, v ? "true" : "false");
}

void json_null(struct json_writer *w)
{
    json_raw(w, "null");
}

void json_raw(struct json_writer *w, const char *text)
{
    if (w->failed)
        return;
    json_separate(w);
    json_put(w, text, strlen(text));
}

void json_kv_string(struct json_writer *w, const char *key, const char *s)
{
    json_key(w, key);
    json_string(w, s);
}

void json_kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
    json_key(w, key);
    json_uint(w, v);
}

void json_kv_int(struct json_writer *w, const char *key, int64_t v)
{
    json_key(w, key);
    json_int(w, v);
}

void json_kv_bool(struct json_writer *w, const char *key, bool v)
{
    json_key(w, key);
    json_bool(w, v);
}

void json_kv_plain(struct json_writer *w, const char *key, const char *s, size_t len)
{
    json_key(w, key);
    if (w->failed)
        return;
    json_put_plain(w, 0, s, len, 0);
    if (w->depth > 0)
        w->need_comma[w->depth - 1] = true;
}
