/* fuzz_json.c - libFuzzer target: any bytes, written as a capped JSON string,
 * give a well-formed JSON string that decodes back to a prefix of the input.
 *
 * The first two input bytes choose the cap; the rest is the wire string.
 * The checks use their own UTF-8 decoder (code point arithmetic), not the
 * writer's table, so that a shared mistake cannot hide. */
#include "../../sensor/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the valid UTF-8 character at s (2..4), or 0. */
static size_t check_utf8_char(const uint8_t *s, size_t n)
{
    size_t len;
    uint32_t cp;

    if ((s[0] & 0xe0) == 0xc0) {
        len = 2;
        cp = s[0] & 0x1fu;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3;
        cp = s[0] & 0x0fu;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    static const uint32_t min_for_len[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t cap = ((size_t)data[0] << 8 | data[1]);
    if (cap == 0xffff)
        cap = SIZE_MAX;
    const uint8_t *in = data + 2;
    size_t len = size - 2;

    struct json_writer w;
    json_init(&w);
    json_string_capped(&w, (const char *)in, len, cap);
    if (w.failed)
        abort();

    const uint8_t *out = (const uint8_t *)w.buf;
    size_t n = w.len;
    if (n < 2 || out[0] != '"' || out[n - 1] != '"' || strlen(w.buf) != n)
        abort();

    /* Walk the body: escapes decode to one input byte each, raw characters
     * to themselves; the decoded bytes must be the input's prefix. */
    uint8_t *decoded = malloc(n);
    if (!decoded)
        abort();
    size_t dlen = 0;
    for (size_t i = 1; i < n - 1;) {
        uint8_t c = out[i];
        if (c < 0x20 || c == 0x7f || c == '"')
            abort();                     /* raw control or unbalanced quote */
        if (c == '\\') {
            if (i + 1 >= n - 1)
                abort();
            uint8_t e = out[i + 1];
            const char *simple = strchr("\"\\bfnrt", e);
            if (e != 0 && simple) {
                static const uint8_t value[] = { '"', '\\', '\b', '\f', '\n', '\r', '\t' };
                decoded[dlen++] = value[simple - "\"\\bfnrt"];
                i += 2;
                continue;
            }
            if (e != 'u' || i + 6 > n - 1 || out[i + 2] != '0' || out[i + 3] != '0')
                abort();
            int hi = hex_value(out[i + 4]), lo = hex_value(out[i + 5]);
            if (hi < 0 || lo < 0)
                abort();
            /* Only a byte that starts no valid character may be escaped. */
            if (hi >= 8 && dlen < len && check_utf8_char(in + dlen, len - dlen) != 0)
                abort();
            decoded[dlen++] = (uint8_t)(hi << 4 | lo);
            i += 6;
            continue;
        }
        if (c < 0x80) {
            decoded[dlen++] = c;
            i++;
            continue;
        }
        size_t seq = check_utf8_char(out + i, n - 1 - i);
        if (seq == 0)
            abort();                     /* invalid UTF-8 in the output */
        memcpy(decoded + dlen, out + i, seq);
        dlen += seq;
        i += seq;
    }

    size_t limit = len < cap ? len : cap;
    if (dlen > limit || memcmp(decoded, in, dlen) != 0)
        abort();
    /* Stopping early is allowed only in front of a valid character that the
     * cap would cut. */
    if (dlen < limit) {
        size_t seq = check_utf8_char(in + dlen, len - dlen);
        if (seq == 0 || dlen + seq <= limit)
            abort();
    }

    free(decoded);
    json_free(&w);
    return 0;
}
