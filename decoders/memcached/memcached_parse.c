/* memcached_parse.c - the pure memcached parsers (see memcached_parse.h). */
#include "memcached_parse.h"

#include <string.h>

/* Control bytes a text line may not hold; '\n' ends it and is checked first. */
static bool is_forbidden(uint8_t c)
{
    return (c < 0x20 && c != '\r' && c != '\t') || c == 0x7f;
}

/* Splits [0, end) at spaces into out's tokens. */
static void tokenize(const uint8_t *buf, size_t end, struct mc_line *out)
{
    size_t p = 0;
    while (p < end) {
        while (p < end && buf[p] == ' ')
            p++;
        if (p == end)
            break;
        size_t start = p;
        while (p < end && buf[p] != ' ')
            p++;
        struct mc_token t = { buf + start, p - start };
        if (out->token_count < MC_TOKENS_MAX)
            out->tok[out->token_count] = t;
        out->token_count++;
        out->last = t;
    }
}

ptrdiff_t mc_parse_line(const uint8_t *buf, size_t len, size_t line_max, struct mc_line *out)
{
    size_t scan = len < line_max ? len : line_max;
    size_t nl = 0;
    for (; nl < scan; nl++) {
        if (buf[nl] == '\n')
            break;
        if (is_forbidden(buf[nl]))
            return MC_MALFORMED;
    }
    if (nl == scan)
        return len >= line_max ? MC_MALFORMED : MC_NEED_MORE;
    size_t end = nl;
    if (end > 0 && buf[end - 1] == '\r')
        end--;
    memset(out, 0, sizeof(*out));
    tokenize(buf, end, out);
    out->line_len = nl + 1;
    return (ptrdiff_t)out->line_len;
}

bool mc_token_is(const struct mc_line *line, size_t i, const char *word)
{
    if (i >= line->token_count || i >= MC_TOKENS_MAX)
        return false;
    size_t n = strlen(word);
    return line->tok[i].len == n && memcmp(line->tok[i].p, word, n) == 0;
}

bool mc_token_number(const struct mc_token *t, uint64_t *out)
{
    if (t->len == 0 || t->len > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < t->len; i++) {
        uint8_t c = t->p[i];
        if (c < '0' || c > '9')
            return false;
        if (v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(c - '0');
    }
    *out = v;
    return true;
}

static const struct {
    const char *word;
    enum mc_reply_kind kind;
} reply_words[] = {
    { "VALUE", MC_REPLY_VALUE },          { "END", MC_REPLY_END },
    { "STAT", MC_REPLY_STAT },            { "ITEM", MC_REPLY_ITEM },
    { "ERROR", MC_REPLY_ERROR },          { "CLIENT_ERROR", MC_REPLY_CLIENT_ERROR },
    { "SERVER_ERROR", MC_REPLY_SERVER_ERROR },
    { "STORED", MC_REPLY_DONE },          { "DELETED", MC_REPLY_DONE },
    { "TOUCHED", MC_REPLY_DONE },         { "OK", MC_REPLY_DONE },
    { "RESET", MC_REPLY_DONE },           { "NOT_FOUND", MC_REPLY_MISS },
    { "NOT_STORED", MC_REPLY_MISS },      { "EXISTS", MC_REPLY_MISS },
    { "VERSION", MC_REPLY_VERSION },      { "VA", MC_REPLY_META_VALUE },
    { "HD", MC_REPLY_META_HIT },          { "EN", MC_REPLY_META_MISS },
    { "NF", MC_REPLY_META_MISS },         { "NS", MC_REPLY_META_MISS },
    { "EX", MC_REPLY_META_MISS },         { "MN", MC_REPLY_META_NOOP },
};

enum mc_reply_kind mc_reply_classify(const struct mc_line *line)
{
    if (line->token_count == 0)
        return MC_REPLY_OTHER;
    for (size_t i = 0; i < sizeof(reply_words) / sizeof(reply_words[0]); i++)
        if (mc_token_is(line, 0, reply_words[i].word))
            return reply_words[i].kind;
    const struct mc_token *t = &line->tok[0];
    if (t->len >= 4 && memcmp(t->p, "key=", 4) == 0)
        return MC_REPLY_KEY;
    uint64_t n;
    if (line->token_count == 1 && mc_token_number(t, &n))
        return MC_REPLY_NUMBER;
    return MC_REPLY_OTHER;
}

bool mc_reply_data_length(const struct mc_line *line, enum mc_reply_kind kind, uint64_t *out)
{
    if (kind == MC_REPLY_VALUE && line->token_count >= 4)
        return mc_token_number(&line->tok[3], out);
    if (kind == MC_REPLY_META_VALUE && line->token_count >= 2)
        return mc_token_number(&line->tok[1], out);
    return false;
}

/* ---- binary ---- */

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

ptrdiff_t mc_parse_bin(const uint8_t *buf, size_t len, struct mc_bin_header *out)
{
    if (len >= 1 && buf[0] != MC_BIN_MAGIC_REQUEST && buf[0] != MC_BIN_MAGIC_RESPONSE)
        return MC_MALFORMED;
    if (len < MC_BIN_HEADER)
        return MC_NEED_MORE;
    struct mc_bin_header h;
    h.magic = buf[0];
    h.opcode = buf[1];
    h.key_len = be16(buf + 2);
    h.extras_len = buf[4];
    h.data_type = buf[5];
    h.status = be16(buf + 6);
    h.body_len = be32(buf + 8);
    h.opaque = be32(buf + 12);
    h.cas = ((uint64_t)be32(buf + 16) << 32) | be32(buf + 20);
    if (h.data_type != 0 || h.extras_len > MC_BIN_EXTRAS_MAX || h.key_len > MC_KEY_MAX ||
        (uint32_t)h.extras_len + h.key_len > h.body_len)
        return MC_MALFORMED;
    h.head_len = MC_BIN_HEADER + (size_t)h.extras_len + h.key_len;
    if (len < h.head_len)
        return MC_NEED_MORE;
    h.key = buf + MC_BIN_HEADER + h.extras_len;
    h.value_len = (uint64_t)h.body_len - h.extras_len - h.key_len;
    *out = h;
    return (ptrdiff_t)h.head_len;
}

ptrdiff_t mc_parse_udp_header(const uint8_t *buf, size_t len, struct mc_udp_header *out)
{
    if (len < MC_UDP_HEADER)
        return MC_MALFORMED;
    struct mc_udp_header h = {
        be16(buf), be16(buf + 2), be16(buf + 4), be16(buf + 6),
    };
    if (h.total == 0 || h.sequence >= h.total)
        return MC_MALFORMED;
    *out = h;
    return MC_UDP_HEADER;
}
