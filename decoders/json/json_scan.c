/* json_scan.c - a streaming JSON scanner: one byte-driven state machine.
 *
 * The whole scanner state lives in struct json_scan, so a document may arrive
 * in pieces of any size and the callbacks are the same as if it came whole:
 * every decision depends only on the bytes seen so far, never on where a
 * piece ends. Nothing is allocated; the only buffer is the current token.
 *
 * Grammar is RFC 8259, with these choices:
 * - top level: a sequence of values, each followed by whitespace or the end
 *   of input ("{}\n{}" is two values, "{}{}" and "1 2x" are malformed);
 * - string contents are not checked to be UTF-8 (bytes are copied as they
 *   are); a \u escape of a lone surrogate becomes U+FFFD rather than failing,
 *   so that one odd document does not blind the counting of a whole response;
 * - a string longer than JSON_SCAN_STRING_MAX bytes (after unescaping) is
 *   reported with its first bytes and `truncated`; an escaped character is
 *   never split; a number longer than that is reported the same way, with
 *   `number` parsed from the kept prefix;
 * - paths (json_scan_at): "" is the top-level value only; a key is matched
 *   whole against the path text, so the _cat key "docs.count" is matched by
 *   "[].docs.count" (as is a member count of a member docs: the text cannot
 *   tell them apart).
 *
 * Invariants: 0 <= depth <= JSON_SCAN_DEPTH_MAX; token_len <=
 * JSON_SCAN_STRING_MAX; level[0..depth-1] are the open containers, and for
 * an object level, key/key_len/key_cut hold the key of its current member.
 * While a callback runs, depth is the depth of the reported value: a
 * container is reported before it is pushed (START) and after it is popped
 * (END), so json_scan_at() sees the same path for both. */
#include "json_scan.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

enum json_scan_state {
    ST_TOP = 0,          /* between top-level values: whitespace or a value */
    ST_TOP_SEP,          /* just after a top-level value: whitespace must follow */
    ST_VALUE,            /* a value must come (after ':' or an array's ',') */
    ST_ARRAY_FIRST,      /* after '[': a value or ']' */
    ST_OBJECT_FIRST,     /* after '{': a key or '}' */
    ST_KEY,              /* after an object's ',': a key */
    ST_COLON,            /* after a key: ':' */
    ST_AFTER_VALUE,      /* after a member: ',' or the closing bracket */
    ST_LITERAL,          /* inside true/false/null; progress in s->literal */
    ST_NUM_MINUS,        /* "-" */
    ST_NUM_ZERO,         /* "-0" or "0": no more integer digits allowed */
    ST_NUM_INT,          /* integer digits */
    ST_NUM_DOT,          /* "." : a digit must follow */
    ST_NUM_FRAC,         /* fraction digits */
    ST_NUM_EXP,          /* "e": a sign or a digit must follow */
    ST_NUM_EXP_SIGN,     /* "e+": a digit must follow */
    ST_NUM_EXP_DIGITS,   /* exponent digits */
    /* String states; ST_IN_KEY is or-ed in while the string is an object key. */
    ST_STRING = 32,      /* string contents */
    ST_ESCAPE,           /* after a backslash */
    ST_UNICODE,          /* inside the 4 hex digits of \u */
    ST_AFTER_HIGH,       /* after \u of a high surrogate: a low one may follow */
};
#define ST_IN_KEY 64

/* s->escape while reading \u escapes: the code unit being read (bits 0-15),
 * how many hex digits were read (bits 16-18), and a pending high surrogate
 * waiting for its low half (flag bit 19, its 10 payload bits at 20-29). */
#define ESC_UNIT(e) ((e) & 0xffffu)
#define ESC_DIGITS(e) (((e) >> 16) & 7u)
#define ESC_HAS_HIGH 0x80000u
#define ESC_HIGH_BITS(e) (((e) >> 20) & 0x3ffu)
#define ESC_KEEP_HIGH(e) ((e) & (ESC_HAS_HIGH | (0x3ffu << 20)))

#define REPLACEMENT_CHARACTER 0xfffdu

static const char *const json_literal_text[3] = {"true", "false", "null"};
static const uint8_t json_literal_len[3] = {4, 5, 4};
static const enum json_value_type json_literal_type[3] = {JSON_TRUE, JSON_FALSE, JSON_NULL};

static inline bool json_is_space(uint8_t c)
{
    /* ' ', '\t', '\n', '\r' as bits of one mask. */
    return c <= ' ' && ((0x100002600ULL >> c) & 1u) != 0;
}

/* A byte that may stand for itself inside a string. */
static inline bool json_is_plain(uint8_t c)
{
    return c >= 0x20 && c != '"' && c != '\\';
}

static inline bool json_is_digit(uint8_t c)
{
    return (unsigned)(c - '0') < 10u;
}

/* Whether any of the eight bytes in w is '"', '\\' or a control byte: the
 * classic "has zero byte" / "has byte less than" word tricks, exact as
 * yes/no answers (not as to which byte). */
static inline bool json_word_has_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');

    return ((((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) |
             ((w - ones * 0x20) & ~w)) & highs) != 0;
}

/* Returns the first byte in [p, end) that is not plain string content.
 * Eight bytes at a time while none of them is special, then byte by byte. */
static inline const uint8_t *json_string_run(const uint8_t *p, const uint8_t *end)
{
    while ((size_t)(end - p) >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        if (json_word_has_special(w))
            break;
        p += 8;
    }
    while (p < end && json_is_plain(*p))
        p++;
    return p;
}

static void json_scan_report(struct json_scan *s, enum json_value_type type, bool with_token)
{
    struct json_scan_value v;

    if (s->fn == NULL)
        return;
    memset(&v, 0, sizeof(v));
    v.type = type;
    if (with_token) {
        s->token[s->token_len] = '\0';
        v.text = s->token;
        v.len = s->token_len;
        v.truncated = s->token_cut;
    }
    s->fn(s->arg, s, &v);
}

/* Appends one code point, as UTF-8, to the string token; a character that
 * does not fit whole cuts the string there. */
static void json_scan_append_code_point(struct json_scan *s, uint32_t cp)
{
    uint8_t out[4];
    size_t n;

    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        out[0] = (uint8_t)(0xc0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        out[0] = (uint8_t)(0xe0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        out[0] = (uint8_t)(0xf0 | (cp >> 18));
        out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    if (s->token_cut || s->token_len + n > JSON_SCAN_STRING_MAX) {
        s->token_cut = true;
        return;
    }
    memcpy(s->token + s->token_len, out, n);
    s->token_len += n;
}

static inline void json_scan_append_number_byte(struct json_scan *s, uint8_t c)
{
    if (s->token_len < JSON_SCAN_STRING_MAX)
        s->token[s->token_len++] = (char)c;
    else
        s->token_cut = true;
}

/* The value of a validated, whole number token, as strtod gives it, when
 * that is quick to know: at most 15 significant digits and a decimal
 * exponent within +-22. The digits and the power of ten are then exact
 * doubles and one multiplication or division rounds correctly, which is
 * strtod's answer where doubles are evaluated in double precision. Most
 * numbers in a search response (ids, counts, scores) are like that. */
static bool json_number_fast(const char *t, size_t len, double *out)
{
#if FLT_EVAL_METHOD == 0
    /* powers of ten exactly representable in a double */
    static const double json_power_of_ten[] = {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };
    size_t i = 0;
    bool negative = t[0] == '-';
    uint64_t mantissa = 0;
    int digits = 0, exponent = 0;

    if (negative)
        i = 1;
    for (; i < len && json_is_digit((uint8_t)t[i]); i++, digits++)
        mantissa = mantissa * 10 + (uint64_t)(t[i] - '0');
    if (i < len && t[i] == '.') {
        for (i++; i < len && json_is_digit((uint8_t)t[i]); i++, digits++, exponent--)
            mantissa = mantissa * 10 + (uint64_t)(t[i] - '0');
    }
    if (digits > 15)
        return false;
    if (i < len) { /* 'e' or 'E', then an optional sign, then digits */
        bool exponent_negative = false;
        int value = 0, exponent_digits = 0;
        i++;
        if (t[i] == '-' || t[i] == '+')
            exponent_negative = t[i++] == '-';
        for (; i < len; i++, exponent_digits++) {
            if (exponent_digits == 3)
                return false; /* far out of range, and no int overflow */
            value = value * 10 + (t[i] - '0');
        }
        exponent += exponent_negative ? -value : value;
    }
    if (exponent < -22 || exponent > 22)
        return false;
    *out = (double)mantissa;
    if (exponent < 0)
        *out /= json_power_of_ten[-exponent];
    else
        *out *= json_power_of_ten[exponent];
    if (negative)
        *out = -*out;
    return true;
#else
    (void)t;
    (void)len;
    (void)out;
    return false;
#endif
}

static double json_scan_number_value(struct json_scan *s)
{
    double value;

    s->token[s->token_len] = '\0';
    if (!s->token_cut && json_number_fast(s->token, s->token_len, &value))
        return value;
    return strtod(s->token, NULL);
}

/* Completes a value at the current depth: the next state, and the count of
 * top-level values. */
static inline int json_scan_value_done(struct json_scan *s)
{
    if (s->depth == 0) {
        s->values++;
        return ST_TOP_SEP;
    }
    return ST_AFTER_VALUE;
}

static int json_scan_end_number(struct json_scan *s)
{
    struct json_scan_value v;

    memset(&v, 0, sizeof(v));
    v.type = JSON_NUMBER;
    v.number = json_scan_number_value(s);
    v.text = s->token;
    v.len = s->token_len;
    v.truncated = s->token_cut;
    if (s->fn != NULL)
        s->fn(s->arg, s, &v);
    return json_scan_value_done(s);
}

static inline bool json_scan_number_complete(int state)
{
    return state == ST_NUM_ZERO || state == ST_NUM_INT || state == ST_NUM_FRAC ||
           state == ST_NUM_EXP_DIGITS;
}

/* Handles the last hex digit of a \u escape: pairs surrogates, replaces lone
 * ones, appends the character. Returns the next state (without the key bit). */
static int json_scan_end_unicode(struct json_scan *s)
{
    uint32_t unit = ESC_UNIT(s->escape);

    if (s->escape & ESC_HAS_HIGH) {
        uint32_t high = ESC_HIGH_BITS(s->escape);
        s->escape = 0;
        if (unit >= 0xdc00 && unit <= 0xdfff) {
            json_scan_append_code_point(s, 0x10000 + (high << 10) + (unit - 0xdc00));
            return ST_STRING;
        }
        json_scan_append_code_point(s, REPLACEMENT_CHARACTER);
    }
    s->escape = 0;
    if (unit >= 0xd800 && unit <= 0xdbff) {
        s->escape = ESC_HAS_HIGH | ((unit - 0xd800) << 20);
        return ST_AFTER_HIGH;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff)
        unit = REPLACEMENT_CHARACTER;
    json_scan_append_code_point(s, unit);
    return ST_STRING;
}

void json_scan_init(struct json_scan *s, json_scan_fn fn, void *arg)
{
    memset(s, 0, sizeof(*s));
    s->fn = fn;
    s->arg = arg;
    s->state = ST_TOP;
}

/* Moves to state `st` and, if a byte is there, jumps straight to that
 * state's code at `label` rather than through the switch: the common
 * transitions (key, ':', value, ',', key...) then cost one direct jump. */
#define JSON_GOTO_STATE(st, label) \
    do {                           \
        state = (st);              \
        if (p == end)              \
            goto out;              \
        c = *p;                    \
        goto label;                \
    } while (0)

/* Skips whitespace at p; leaves with c == *p, or returns at the end of
 * the piece (the state is unchanged by whitespace). */
#define JSON_SKIP_SPACE()          \
    while (json_is_space(c)) {     \
        if (++p == end)            \
            goto out;              \
        c = *p;                    \
    }

int json_scan_feed(struct json_scan *s, const uint8_t *buf, size_t len)
{
    const uint8_t *p, *end;
    int state;
    uint8_t c;

    if (s->failed)
        return -1;
    if (len == 0)
        return 0;
    p = buf;
    end = buf + len;
    state = s->state;

    while (p < end) {
        c = *p;
        switch (state) {
        case ST_TOP:
            JSON_SKIP_SPACE();
            goto value_start;

        case ST_TOP_SEP:
            if (!json_is_space(c))
                goto fail;
            p++;
            state = ST_TOP;
            continue;

        case ST_VALUE:
        state_value:
            JSON_SKIP_SPACE();
            goto value_start;

        case ST_ARRAY_FIRST:
        state_array_first:
            JSON_SKIP_SPACE();
            if (c == ']')
                goto close_container;
            goto value_start;

        case ST_OBJECT_FIRST:
        case ST_KEY:
        state_key:
            JSON_SKIP_SPACE();
            if (c == '"') {
                p++;
                s->token_len = 0;
                s->token_cut = false;
                s->escape = 0;
                JSON_GOTO_STATE(ST_STRING | ST_IN_KEY, state_string);
            }
            if (c == '}' && state == ST_OBJECT_FIRST)
                goto close_container;
            goto fail;

        case ST_COLON:
        state_colon:
            JSON_SKIP_SPACE();
            if (c != ':')
                goto fail;
            p++;
            JSON_GOTO_STATE(ST_VALUE, state_value);

        case ST_AFTER_VALUE:
        state_after_value:
            JSON_SKIP_SPACE();
            if (c == ',') {
                struct json_scan_level *l = &s->level[s->depth - 1];
                p++;
                if (l->is_array) {
                    l->index++;
                    JSON_GOTO_STATE(ST_VALUE, state_value);
                }
                JSON_GOTO_STATE(ST_KEY, state_key);
            }
            if (c == ']' || c == '}')
                goto close_container;
            goto fail;

        case ST_LITERAL: {
            unsigned kind = s->literal >> 8, pos = s->literal & 0xffu;
            if (c != (uint8_t)json_literal_text[kind][pos])
                goto fail;
            p++;
            pos++;
            if (pos < json_literal_len[kind]) {
                s->literal = (kind << 8) | pos;
                continue;
            }
            json_scan_report(s, json_literal_type[kind], false);
            goto value_done;
        }

        case ST_NUM_MINUS:
            if (!json_is_digit(c))
                goto fail;
            json_scan_append_number_byte(s, c);
            p++;
            state = c == '0' ? ST_NUM_ZERO : ST_NUM_INT;
            continue;

        case ST_NUM_INT:
        case ST_NUM_FRAC:
        case ST_NUM_EXP_DIGITS:
        state_number_digits:
            while (json_is_digit(c)) {
                json_scan_append_number_byte(s, c);
                if (++p == end)
                    goto out;
                c = *p;
            }
            goto number_after_digits;
        case ST_NUM_ZERO:
        number_after_digits:
            if (c == '.' && (state == ST_NUM_INT || state == ST_NUM_ZERO)) {
                json_scan_append_number_byte(s, c);
                p++;
                state = ST_NUM_DOT;
                continue;
            }
            if ((c == 'e' || c == 'E') && state != ST_NUM_EXP_DIGITS) {
                json_scan_append_number_byte(s, c);
                p++;
                state = ST_NUM_EXP;
                continue;
            }
            if (json_is_digit(c)) /* a leading zero followed by digits */
                goto fail;
            /* Any other byte ends the number; it is read again in the
             * state after the value (p is not advanced). */
            state = json_scan_end_number(s);
            if (state == ST_AFTER_VALUE)
                goto state_after_value;
            continue;

        case ST_NUM_DOT:
            if (!json_is_digit(c))
                goto fail;
            json_scan_append_number_byte(s, c);
            p++;
            JSON_GOTO_STATE(ST_NUM_FRAC, state_number_digits);

        case ST_NUM_EXP:
            if (c == '+' || c == '-') {
                json_scan_append_number_byte(s, c);
                p++;
                state = ST_NUM_EXP_SIGN;
                continue;
            }
            goto number_exponent_digit;
        case ST_NUM_EXP_SIGN:
        number_exponent_digit:
            if (!json_is_digit(c))
                goto fail;
            json_scan_append_number_byte(s, c);
            p++;
            JSON_GOTO_STATE(ST_NUM_EXP_DIGITS, state_number_digits);

        case ST_STRING:
        case ST_STRING | ST_IN_KEY:
        state_string:
            if (!s->token_cut) {
                /* Copy while it fits: eight bytes at a time (the token has
                 * room for eight past STRING_MAX), then byte by byte. */
                size_t n = s->token_len;
                while (n + 8 <= JSON_SCAN_STRING_MAX && (size_t)(end - p) >= 8) {
                    uint64_t w;
                    memcpy(&w, p, 8);
                    memcpy(s->token + n, &w, 8);
                    if (json_word_has_special(w))
                        break;
                    p += 8;
                    n += 8;
                }
                while (p < end && n < JSON_SCAN_STRING_MAX && json_is_plain(*p))
                    s->token[n++] = (char)*p++;
                s->token_len = n;
                if (p == end)
                    goto out;
                if (json_is_plain(*p))
                    s->token_cut = true; /* a byte beyond STRING_MAX */
            }
            if (s->token_cut) {
                p = json_string_run(p, end);
                if (p == end)
                    goto out;
            }
            c = *p++;
            if (c == '\\') {
                state = ST_ESCAPE | (state & ST_IN_KEY);
                continue;
            }
            if (c != '"')
                goto fail; /* a control byte */
            if (state & ST_IN_KEY) {
                struct json_scan_level *l = &s->level[s->depth - 1];
                size_t n = s->token_len;
                l->key_cut = s->token_cut || n > JSON_SCAN_KEY_MAX;
                if (n > JSON_SCAN_KEY_MAX)
                    n = JSON_SCAN_KEY_MAX;
                memcpy(l->key, s->token, n);
                l->key_len = (uint8_t)n;
                JSON_GOTO_STATE(ST_COLON, state_colon);
            }
            json_scan_report(s, JSON_STRING, true);
            goto value_done;

        case ST_ESCAPE:
        case ST_ESCAPE | ST_IN_KEY: {
            uint32_t ch;
            p++;
            if (c == 'u') {
                s->escape = ESC_KEEP_HIGH(s->escape);
                state = ST_UNICODE | (state & ST_IN_KEY);
                continue;
            }
            switch (c) {
            case '"': case '\\': case '/': ch = c; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 't': ch = '\t'; break;
            default: goto fail;
            }
            if (s->escape & ESC_HAS_HIGH) {
                /* a high surrogate followed by another escape */
                json_scan_append_code_point(s, REPLACEMENT_CHARACTER);
                s->escape = 0;
            }
            json_scan_append_code_point(s, ch);
            JSON_GOTO_STATE(ST_STRING | (state & ST_IN_KEY), state_string);
        }

        case ST_UNICODE:
        case ST_UNICODE | ST_IN_KEY: {
            uint32_t digit, digits;
            if (json_is_digit(c))
                digit = (uint32_t)(c - '0');
            else if (c >= 'a' && c <= 'f')
                digit = (uint32_t)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                digit = (uint32_t)(c - 'A' + 10);
            else
                goto fail;
            p++;
            digits = ESC_DIGITS(s->escape) + 1;
            s->escape = ESC_KEEP_HIGH(s->escape) | (digits << 16) |
                        (((ESC_UNIT(s->escape) << 4) | digit) & 0xffffu);
            if (digits == 4)
                state = json_scan_end_unicode(s) | (state & ST_IN_KEY);
            continue;
        }

        case ST_AFTER_HIGH:
        case ST_AFTER_HIGH | ST_IN_KEY:
            if (c == '\\') {
                p++;
                state = ST_ESCAPE | (state & ST_IN_KEY);
                continue;
            }
            /* A lone high surrogate; the byte is read again as content. */
            json_scan_append_code_point(s, REPLACEMENT_CHARACTER);
            s->escape = 0;
            JSON_GOTO_STATE(ST_STRING | (state & ST_IN_KEY), state_string);

        default:
            goto fail;
        }

    value_start:
        /* c == *p is the first byte of a value. */
        p++;
        switch (c) {
        case '"':
            s->token_len = 0;
            s->token_cut = false;
            s->escape = 0;
            JSON_GOTO_STATE(ST_STRING, state_string);
        case '{':
        case '[': {
            struct json_scan_level *l;
            bool is_array = c == '[';
            if (s->depth >= JSON_SCAN_DEPTH_MAX)
                goto fail;
            json_scan_report(s, is_array ? JSON_ARRAY_START : JSON_OBJECT_START, false);
            l = &s->level[s->depth++];
            l->is_array = is_array;
            l->key_len = 0;
            l->key_cut = false;
            l->index = 0;
            if (is_array)
                JSON_GOTO_STATE(ST_ARRAY_FIRST, state_array_first);
            JSON_GOTO_STATE(ST_OBJECT_FIRST, state_key);
        }
        case '-':
        case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
            s->token[0] = (char)c;
            s->token_len = 1;
            s->token_cut = false;
            if (c == '-')
                state = ST_NUM_MINUS;
            else if (c == '0')
                state = ST_NUM_ZERO;
            else
                JSON_GOTO_STATE(ST_NUM_INT, state_number_digits);
            continue;
        case 't':
            s->literal = (0u << 8) | 1u;
            state = ST_LITERAL;
            continue;
        case 'f':
            s->literal = (1u << 8) | 1u;
            state = ST_LITERAL;
            continue;
        case 'n':
            s->literal = (2u << 8) | 1u;
            state = ST_LITERAL;
            continue;
        default:
            goto fail;
        }

    close_container:
        /* c == *p is ']' or '}', and a container is open. */
        {
            bool is_array = c == ']';
            if (s->depth == 0 || s->level[s->depth - 1].is_array != is_array)
                goto fail;
            p++;
            s->depth--;
            json_scan_report(s, is_array ? JSON_ARRAY_END : JSON_OBJECT_END, false);
        }

    value_done:
        /* A value was just reported; p is past its last byte. */
        state = json_scan_value_done(s);
        if (state == ST_AFTER_VALUE)
            JSON_GOTO_STATE(ST_AFTER_VALUE, state_after_value);
    }

out:
    s->state = state;
    return 0;

fail:
    s->state = state;
    s->failed = true;
    return -1;
}

#undef JSON_GOTO_STATE
#undef JSON_SKIP_SPACE

int json_scan_finish(struct json_scan *s)
{
    if (s->failed)
        return -1;
    if (s->depth == 0 && json_scan_number_complete(s->state))
        s->state = json_scan_end_number(s);
    return s->state == ST_TOP || s->state == ST_TOP_SEP ? 0 : -1;
}

/* Compares the path of the reported value with `path`, level by level. A
 * key is matched as a whole against the path text, so a key that contains
 * dots ("docs.count" in _cat output) is matched by the same dotted text. */
bool json_scan_at(const struct json_scan *s, const char *path)
{
    const char *p = path;
    int i;

    if (*p == '\0') /* the top-level value, not a member whose key is "" */
        return s->depth == 0;
    for (i = 0; i < s->depth; i++) {
        const struct json_scan_level *l = &s->level[i];
        if (i > 0) {
            if (*p != '.')
                return false;
            p++;
        }
        if (l->is_array) {
            if (p[0] != '[' || p[1] != ']')
                return false;
            p += 2;
        } else if (p[0] == '*' && (p[1] == '.' || p[1] == '\0')) {
            p += 1;                 /* any key */
        } else {
            size_t j;
            if (l->key_cut)
                return false;
            for (j = 0; j < l->key_len; j++)
                if (p[j] == '\0' || p[j] != l->key[j])
                    return false;
            p += l->key_len;
        }
    }
    return *p == '\0';
}

int json_scan_value_depth(const struct json_scan *s)
{
    return s->depth;
}
