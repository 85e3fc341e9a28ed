/* test_json.c - the JSON writer: escaping, UTF-8, caps, nesting, limits. */
#include "../../sensor/json.h"
#include "check.h"

#include <stdlib.h>

/* The output of writing s[0..len) capped at cap as a lone string value.
 * Returns a static buffer. */
static const char *capped(const char *s, size_t len, size_t cap)
{
    static char out[1024];
    struct json_writer w;

    json_init(&w);
    json_string_capped(&w, s, len, cap);
    snprintf(out, sizeof(out), "%s", w.failed ? "<failed>" : w.buf);
    json_free(&w);
    return out;
}

static const char *whole(const char *s, size_t len)
{
    return capped(s, len, SIZE_MAX);
}

#define STR(lit) lit, sizeof(lit) - 1

static void test_escapes(void)
{
    CHECK_EQ_STR(whole(STR("plain text")), "\"plain text\"");
    CHECK_EQ_STR(whole(STR("a\"b\\c/d")), "\"a\\\"b\\\\c/d\"");
    CHECK_EQ_STR(whole(STR("\b\f\n\r\t")), "\"\\b\\f\\n\\r\\t\"");
    CHECK_EQ_STR(whole(STR("\x01\x1f\x7f")), "\"\\u0001\\u001f\\u007f\"");
    CHECK_EQ_STR(whole(STR("a\0b")), "\"a\\u0000b\"");
    CHECK_EQ_STR(whole(STR("")), "\"\"");

    struct json_writer w;
    json_init(&w);
    json_string(&w, "tab\there");
    CHECK_EQ_STR(w.buf, "\"tab\\there\"");
    json_free(&w);
}

static void test_utf8_valid_passes(void)
{
    CHECK_EQ_STR(whole(STR("caf\xc3\xa9")), "\"caf\xc3\xa9\"");                 /* U+00E9 */
    CHECK_EQ_STR(whole(STR("\xc2\x80")), "\"\xc2\x80\"");                       /* U+0080 */
    CHECK_EQ_STR(whole(STR("\xe0\xa0\x80")), "\"\xe0\xa0\x80\"");               /* U+0800 */
    CHECK_EQ_STR(whole(STR("\xe2\x82\xac")), "\"\xe2\x82\xac\"");               /* euro */
    CHECK_EQ_STR(whole(STR("\xed\x9f\xbf")), "\"\xed\x9f\xbf\"");               /* U+D7FF */
    CHECK_EQ_STR(whole(STR("\xee\x80\x80")), "\"\xee\x80\x80\"");               /* U+E000 */
    CHECK_EQ_STR(whole(STR("\xef\xbf\xbf")), "\"\xef\xbf\xbf\"");               /* U+FFFF */
    CHECK_EQ_STR(whole(STR("\xf0\x90\x80\x80")), "\"\xf0\x90\x80\x80\"");       /* U+10000 */
    CHECK_EQ_STR(whole(STR("\xf0\x9f\x98\x80")), "\"\xf0\x9f\x98\x80\"");       /* emoji */
    CHECK_EQ_STR(whole(STR("\xf4\x8f\xbf\xbf")), "\"\xf4\x8f\xbf\xbf\"");       /* U+10FFFF */
}

static void test_utf8_invalid_escaped_bytewise(void)
{
    /* lone continuation, lone lead, truncated sequence before ASCII */
    CHECK_EQ_STR(whole(STR("\x80")), "\"\\u0080\"");
    CHECK_EQ_STR(whole(STR("a\xc3")), "\"a\\u00c3\"");
    CHECK_EQ_STR(whole(STR("\xe2\x82z")), "\"\\u00e2\\u0082z\"");
    CHECK_EQ_STR(whole(STR("\xff\xfe")), "\"\\u00ff\\u00fe\"");
    /* C0/C1 leads are always overlong */
    CHECK_EQ_STR(whole(STR("\xc0\xaf")), "\"\\u00c0\\u00af\"");
    CHECK_EQ_STR(whole(STR("\xc1\xbf")), "\"\\u00c1\\u00bf\"");
    /* overlong three- and four-byte forms */
    CHECK_EQ_STR(whole(STR("\xe0\x80\xaf")), "\"\\u00e0\\u0080\\u00af\"");
    CHECK_EQ_STR(whole(STR("\xe0\x9f\xbf")), "\"\\u00e0\\u009f\\u00bf\"");
    CHECK_EQ_STR(whole(STR("\xf0\x8f\xbf\xbf")), "\"\\u00f0\\u008f\\u00bf\\u00bf\"");
    /* surrogates U+D800 and U+DFFF */
    CHECK_EQ_STR(whole(STR("\xed\xa0\x80")), "\"\\u00ed\\u00a0\\u0080\"");
    CHECK_EQ_STR(whole(STR("\xed\xbf\xbf")), "\"\\u00ed\\u00bf\\u00bf\"");
    /* above U+10FFFF, and F5..FF leads */
    CHECK_EQ_STR(whole(STR("\xf4\x90\x80\x80")), "\"\\u00f4\\u0090\\u0080\\u0080\"");
    CHECK_EQ_STR(whole(STR("\xf5\x80\x80\x80")), "\"\\u00f5\\u0080\\u0080\\u0080\"");
    /* a valid character right after garbage is kept */
    CHECK_EQ_STR(whole(STR("\xc3\xc3\xa9")), "\"\\u00c3\xc3\xa9\"");
}

static void test_cap(void)
{
    CHECK_EQ_STR(capped(STR("abcdef"), 3), "\"abc\"");
    CHECK_EQ_STR(capped(STR("abcdef"), 0), "\"\"");
    CHECK_EQ_STR(capped(STR("abc"), 10), "\"abc\"");
    /* len bounds the read even without a NUL */
    CHECK_EQ_STR(capped("abcdef", 2, 10), "\"ab\"");
    /* the cap counts input bytes, not output bytes */
    CHECK_EQ_STR(capped(STR("\n\n\n\n"), 2), "\"\\n\\n\"");
}

static void test_cap_inside_multibyte(void)
{
    /* "a" + euro sign (3 bytes) + "b": a cap of 2, 3 keeps only "a" */
    CHECK_EQ_STR(capped(STR("a\xe2\x82\xac" "b"), 1), "\"a\"");
    CHECK_EQ_STR(capped(STR("a\xe2\x82\xac" "b"), 2), "\"a\"");
    CHECK_EQ_STR(capped(STR("a\xe2\x82\xac" "b"), 3), "\"a\"");
    CHECK_EQ_STR(capped(STR("a\xe2\x82\xac" "b"), 4), "\"a\xe2\x82\xac\"");
    CHECK_EQ_STR(capped(STR("a\xe2\x82\xac" "b"), 5), "\"a\xe2\x82\xac" "b\"");
    /* four-byte sequence cut after 3 of its bytes */
    CHECK_EQ_STR(capped(STR("\xf0\x9f\x98\x80"), 3), "\"\"");
    /* invalid bytes are not a sequence: the cap cuts between them */
    CHECK_EQ_STR(capped(STR("\xe2\x82z"), 1), "\"\\u00e2\"");
    /* a truncated sequence at the end of the input (no cap) is invalid */
    CHECK_EQ_STR(capped(STR("a\xe2\x82"), 3), "\"a\\u00e2\\u0082\"");
}

static void test_object_commas(void)
{
    struct json_writer w;

    json_init(&w);
    json_object_open(&w);
    json_object_close(&w);
    CHECK_EQ_STR(w.buf, "{}");

    json_reset(&w);
    json_object_open(&w);
    json_kv_string(&w, "s", "x");
    json_kv_uint(&w, "u", 18446744073709551615u);
    json_kv_int(&w, "i", INT64_MIN);
    json_kv_int(&w, "j", -1);
    json_kv_int(&w, "z", 0);
    json_kv_bool(&w, "t", true);
    json_kv_bool(&w, "f", false);
    json_key(&w, "n");
    json_null(&w);
    json_key(&w, "r");
    json_raw(&w, "[1,2]");
    json_key(&w, "we\"ird\n");
    json_uint(&w, 7);
    json_object_close(&w);
    CHECK(!w.failed);
    CHECK_EQ_STR(w.buf, "{\"s\":\"x\",\"u\":18446744073709551615,"
                        "\"i\":-9223372036854775808,\"j\":-1,\"z\":0,"
                        "\"t\":true,\"f\":false,\"n\":null,\"r\":[1,2],"
                        "\"we\\\"ird\\n\":7}");
    CHECK_EQ_INT(w.len, strlen(w.buf));
    json_free(&w);
}

static void test_nesting_and_arrays(void)
{
    struct json_writer w;

    json_init(&w);
    json_object_open(&w);
    json_key(&w, "a");
    json_array_open(&w);
    json_uint(&w, 1);
    json_string(&w, "two");
    json_array_open(&w);
    json_array_close(&w);
    json_object_open(&w);
    json_kv_uint(&w, "x", 3);
    json_object_close(&w);
    json_array_open(&w);
    json_bool(&w, false);
    json_null(&w);
    json_array_close(&w);
    json_array_close(&w);
    json_key(&w, "o");
    json_object_open(&w);
    json_key(&w, "p");
    json_object_open(&w);
    json_object_close(&w);
    json_kv_int(&w, "q", -5);
    json_object_close(&w);
    json_kv_string(&w, "end", "");
    json_object_close(&w);
    CHECK(!w.failed);
    CHECK_EQ_INT(w.depth, 0);
    CHECK_EQ_STR(w.buf, "{\"a\":[1,\"two\",[],{\"x\":3},[false,null]],"
                        "\"o\":{\"p\":{},\"q\":-5},\"end\":\"\"}");

    /* json_reset keeps the allocation and forgets the commas */
    char *before = w.buf;
    json_reset(&w);
    CHECK(w.buf == before);
    CHECK_EQ_STR(w.buf, "");
    json_array_open(&w);
    json_uint(&w, 1);
    json_array_close(&w);
    CHECK_EQ_STR(w.buf, "[1]");
    json_free(&w);
    CHECK(w.buf == NULL);
    CHECK_EQ_INT(w.len, 0);
}

static void test_depth_limit(void)
{
    struct json_writer w;

    json_init(&w);
    for (int i = 0; i < JSON_DEPTH_MAX; i++)
        json_array_open(&w);
    CHECK(!w.failed);
    CHECK_EQ_INT(w.depth, JSON_DEPTH_MAX);
    size_t len = w.len;
    json_array_open(&w);          /* one too deep */
    CHECK(w.failed);
    json_uint(&w, 1);             /* everything after is a no-op */
    json_array_close(&w);
    json_kv_string(&w, "k", "v");
    CHECK_EQ_INT(w.len, len);

    json_reset(&w);
    CHECK(!w.failed);
    json_array_close(&w);         /* a close without an open is a failure too */
    CHECK(w.failed);
    json_free(&w);
}

static void test_big_output_reallocates(void)
{
    struct json_writer w;
    char piece[] = "0123456789abcdef\xe2\x82\xac\n";

    json_init(&w);
    json_array_open(&w);
    for (int i = 0; i < 20000; i++)
        json_string(&w, piece);
    json_array_close(&w);
    CHECK(!w.failed);
    /* each element: quotes, 16 ASCII, 3-byte euro, \n as 2 bytes, comma */
    size_t element = 2 + 16 + 3 + 2;
    CHECK_EQ_INT(w.len, 2 + 20000 * element + 19999);
    CHECK(w.cap > w.len);
    CHECK_EQ_INT(strlen(w.buf), w.len);
    CHECK(memcmp(w.buf, "[\"0123456789abcdef\xe2\x82\xac\\n\",\"", 26) == 0);
    CHECK_EQ_STR(w.buf + w.len - 3, "n\"]");

    /* one huge string, well over the initial allocation, in one call */
    size_t n = 1 << 20;
    char *big = malloc(n);
    CHECK(big != NULL);
    if (big) {
        memset(big, 'x', n);
        json_reset(&w);
        json_string_capped(&w, big, n, n - 1);
        CHECK(!w.failed);
        CHECK_EQ_INT(w.len, n - 1 + 2);
        free(big);
    }
    json_free(&w);
}

/* One byte's escape when it stands alone between plain bytes. */
static void escape_alone(uint8_t c, char *out)
{
    static const char *const named[256] = {
        ['"'] = "\\\"", ['\\'] = "\\\\", ['\b'] = "\\b", ['\f'] = "\\f",
        ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t",
    };
    if (named[c])
        strcpy(out, named[c]);
    else if (c < 0x20 || c >= 0x7f)
        snprintf(out, 8, "\\u%04x", c);
    else
        snprintf(out, 8, "%c", c);
}

/* Every byte value at every position of strings up to 20 long, so that the
 * word-at-a-time test for plain text sees it in every lane of a word and
 * in the tail; also as a key. */
static void test_every_byte_every_position(void)
{
    for (size_t len = 1; len <= 20; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            for (unsigned c = 0; c < 256; c++) {
                char in[24], esc[8], want[64];
                memset(in, 'a', len);
                in[pos] = (char)c;
                escape_alone((uint8_t)c, esc);
                snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", (int)pos, in, esc,
                         (int)(len - pos - 1), in + pos + 1);
                const char *got = whole(in, len);
                if (strcmp(got, want) != 0) {
                    CHECK_EQ_STR(got, want);
                    return;
                }
            }
        }
    }
    struct json_writer w;
    json_init(&w);
    json_object_open(&w);
    json_kv_uint(&w, "plain_key", 1);
    json_kv_uint(&w, "a\"b", 2);
    json_kv_plain(&w, "t", "2024-01-01T00:00:00.000000+0000", 31);
    json_object_close(&w);
    CHECK_EQ_STR(w.buf, "{\"plain_key\":1,\"a\\\"b\":2,\"t\":\"2024-01-01T00:00:00.000000+0000\"}");
    json_free(&w);
}

int main(void)
{
    check_binary = "test_json";
    RUN(test_escapes);
    RUN(test_utf8_valid_passes);
    RUN(test_utf8_invalid_escaped_bytewise);
    RUN(test_cap);
    RUN(test_cap_inside_multibyte);
    RUN(test_object_commas);
    RUN(test_nesting_and_arrays);
    RUN(test_depth_limit);
    RUN(test_big_output_reallocates);
    RUN(test_every_byte_every_position);
    CHECK_EXIT();
}
