/* template_parse.c - the pure line and reply parser (see template_parse.h). */
#include "template_parse.h"

#include <string.h>

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t';
}

/* Control bytes a line may not hold; '\n' ends it and is checked first. */
static bool is_forbidden(uint8_t c)
{
    return (c < 0x20 && c != '\r' && c != '\t') || c == 0x7f;
}

ptrdiff_t template_parse_line(const uint8_t *buf, size_t len, size_t line_max,
                              struct template_line *out)
{
    /* Only the first line_max bytes may hold the end; past them the line is
     * too long whatever follows, so the caller never buffers more. */
    size_t scan = len < line_max ? len : line_max;
    size_t nl = 0;
    for (; nl < scan; nl++) {
        if (buf[nl] == '\n')
            break;
        if (is_forbidden(buf[nl]))
            return TEMPLATE_MALFORMED;
    }
    if (nl == scan)
        return len >= line_max ? TEMPLATE_MALFORMED : TEMPLATE_NEED_MORE;

    size_t end = nl;
    if (end > 0 && buf[end - 1] == '\r')
        end--;
    size_t p = 0;
    while (p < end && is_blank(buf[p]))
        p++;
    size_t verb = p;
    while (p < end && !is_blank(buf[p]))
        p++;
    size_t verb_end = p;
    while (p < end && is_blank(buf[p]))
        p++;
    while (end > p && is_blank(buf[end - 1]))
        end--;

    out->verb = buf + verb;
    out->verb_len = verb_end - verb;
    out->arg = buf + p;
    out->arg_len = end - p;
    out->line_len = nl + 1;
    return (ptrdiff_t)out->line_len;
}

static bool word_is(const struct template_line *line, const char *word)
{
    size_t n = strlen(word);
    return line->verb_len == n && memcmp(line->verb, word, n) == 0;
}

/* Decimal digits only, at least one, at most INT64_MAX. */
static bool parse_count(const uint8_t *p, size_t len, int64_t *out)
{
    if (len == 0)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        int64_t digit = p[i] - '0';
        if (v > (INT64_MAX - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

ptrdiff_t template_parse_reply(const uint8_t *buf, size_t len, size_t line_max,
                               struct template_reply *out)
{
    struct template_line line;
    ptrdiff_t r = template_parse_line(buf, len, line_max, &line);
    if (r <= 0)
        return r;

    memset(out, 0, sizeof(*out));
    out->line_len = line.line_len;
    if (word_is(&line, "+OK")) {
        out->ok = true;
        if (line.arg_len > 0) {
            if (!parse_count(line.arg, line.arg_len, &out->count))
                return TEMPLATE_MALFORMED;
            out->has_count = true;
        }
        return r;
    }
    if (word_is(&line, "-ERR")) {
        out->text = line.arg;
        out->text_len = line.arg_len;
        return r;
    }
    return TEMPLATE_MALFORMED;
}
