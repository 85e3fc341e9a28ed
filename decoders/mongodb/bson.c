/* bson.c - BSON element iterator and streaming walker (see bson.h).
 *
 * Both read the same grammar (bsonspec.org 1.1):
 *   document ::= int32 e_list "\x00"      (int32 = total bytes, itself included)
 *   element  ::= type-byte cstring value
 * and both hold the same invariant: before any value is read, the bytes it
 * claims are checked to end before the terminating NUL of its container. */
#include "bson.h"

#include <string.h>

/* ------------------------------------------------------------ iterator */

/* Bytes a fixed-size value takes, or -1 when the type's size is not fixed. */
static int fixed_size(uint8_t type)
{
    switch (type) {
    case BSON_DOUBLE: case BSON_DATETIME: case BSON_TIMESTAMP: case BSON_INT64:
        return 8;
    case BSON_OBJECTID:
        return 12;
    case BSON_BOOL:
        return 1;
    case BSON_INT32:
        return 4;
    case BSON_DECIMAL128:
        return 16;
    case BSON_UNDEFINED: case BSON_NULL: case BSON_MINKEY: case BSON_MAXKEY:
        return 0;
    default:
        return -1;
    }
}

static bool type_known(uint8_t type)
{
    return fixed_size(type) >= 0 || (type >= BSON_STRING && type <= BSON_BINARY) ||
           (type >= BSON_REGEX && type <= BSON_CODE_W_SCOPE);
}

/* A cstring at p: its length with the NUL, or -1 if no NUL within avail. */
static ptrdiff_t cstring_size(const uint8_t *p, size_t avail)
{
    const uint8_t *nul = memchr(p, 0, avail);
    return nul ? nul - p + 1 : -1;
}

/* A BSON string (int32 length incl. NUL, bytes, NUL) at p. */
static ptrdiff_t string_size(const uint8_t *p, size_t avail)
{
    if (avail < 4)
        return -1;
    int32_t n = bson_i32(p);
    if (n < 1 || (uint64_t)n > avail - 4 || p[4 + (size_t)n - 1] != 0)
        return -1;
    return 4 + (ptrdiff_t)n;
}

ptrdiff_t bson_value_size(uint8_t type, const uint8_t *p, size_t avail)
{
    int fixed = fixed_size(type);
    if (fixed >= 0)
        return (size_t)fixed <= avail ? fixed : -1;
    switch (type) {
    case BSON_STRING: case BSON_CODE: case BSON_SYMBOL:
        return string_size(p, avail);
    case BSON_DOCUMENT: case BSON_ARRAY: {
        if (avail < 4)
            return -1;
        int32_t n = bson_i32(p);
        if (n < BSON_DOC_MIN || (uint64_t)n > avail || p[n - 1] != 0)
            return -1;
        return n;
    }
    case BSON_BINARY: {
        if (avail < 5)
            return -1;
        int32_t n = bson_i32(p);
        if (n < 0 || (uint64_t)n > avail - 5)
            return -1;
        return 5 + (ptrdiff_t)n;
    }
    case BSON_REGEX: {
        ptrdiff_t a = cstring_size(p, avail);
        if (a < 0)
            return -1;
        ptrdiff_t b = cstring_size(p + a, avail - (size_t)a);
        return b < 0 ? -1 : a + b;
    }
    case BSON_DBPOINTER: {
        ptrdiff_t a = string_size(p, avail);
        if (a < 0 || avail - (size_t)a < 12)
            return -1;
        return a + 12;
    }
    case BSON_CODE_W_SCOPE: {
        if (avail < 4)
            return -1;
        int32_t n = bson_i32(p);
        if (n < 4 + 5 + BSON_DOC_MIN || (uint64_t)n > avail)
            return -1;
        ptrdiff_t code = string_size(p + 4, (size_t)n - 4);
        if (code < 0)
            return -1;
        ptrdiff_t scope = bson_value_size(BSON_DOCUMENT, p + 4 + code, (size_t)n - 4 - (size_t)code);
        if (scope < 0 || 4 + code + scope != n)
            return -1;
        return n;
    }
    default:
        return -1;
    }
}

int bson_iter_init(struct bson_iter *it, const uint8_t *doc, size_t len)
{
    memset(it, 0, sizeof(*it));
    ptrdiff_t n = bson_value_size(BSON_DOCUMENT, doc, len);
    if (n < 0)
        return BSON_MALFORMED;
    it->doc = doc;
    it->end = (size_t)n - 1;
    it->pos = 4;
    return BSON_OK;
}

int bson_iter_next(struct bson_iter *it, struct bson_elem *e)
{
    if (it->doc == NULL)
        return BSON_MALFORMED;
    if (it->pos >= it->end)
        return BSON_END;
    uint8_t type = it->doc[it->pos];
    if (type == 0 || !type_known(type))
        return BSON_MALFORMED;
    size_t p = it->pos + 1;
    ptrdiff_t key = cstring_size(it->doc + p, it->end - p);
    if (key < 0)
        return BSON_MALFORMED;
    size_t v = p + (size_t)key;
    ptrdiff_t vlen = bson_value_size(type, it->doc + v, it->end - v);
    if (vlen < 0)
        return BSON_MALFORMED;
    e->type = type;
    e->key = (const char *)it->doc + p;
    e->key_len = (size_t)key - 1;
    e->value = it->doc + v;
    e->value_len = (size_t)vlen;
    it->pos = v + (size_t)vlen;
    return BSON_OK;
}

int bson_validate(const uint8_t *doc, size_t len, unsigned max_depth)
{
    struct bson_iter it;
    struct bson_elem e;
    int rc;
    if (max_depth == 0 || bson_iter_init(&it, doc, len) != BSON_OK)
        return BSON_MALFORMED;
    while ((rc = bson_iter_next(&it, &e)) == BSON_OK) {
        if ((e.type == BSON_DOCUMENT || e.type == BSON_ARRAY) &&
            bson_validate(e.value, e.value_len, max_depth - 1) != BSON_OK)
            return BSON_MALFORMED;
        if (e.type == BSON_CODE_W_SCOPE) {
            size_t code = 4 + (size_t)bson_i32(e.value + 4);
            if (bson_validate(e.value + 4 + code, e.value_len - 4 - code, max_depth - 1) != BSON_OK)
                return BSON_MALFORMED;
        }
    }
    return rc == BSON_END ? BSON_OK : BSON_MALFORMED;
}

bool bson_elem_int64(const struct bson_elem *e, int64_t *out)
{
    switch (e->type) {
    case BSON_INT32:
        *out = bson_i32(e->value);
        return true;
    case BSON_INT64:
        *out = bson_i64(e->value);
        return true;
    case BSON_DOUBLE: {
        double d;
        uint64_t bits = (uint64_t)bson_i64(e->value);
        memcpy(&d, &bits, sizeof(d));
        if (!(d >= -9.2e18 && d <= 9.2e18))   /* NaN and out of range */
            return false;
        *out = (int64_t)d;
        return true;
    }
    default:
        return false;
    }
}

bool bson_elem_truthy(const struct bson_elem *e, bool *out)
{
    int64_t n;
    if (e->type == BSON_BOOL) {
        *out = e->value[0] != 0;
        return true;
    }
    if (e->type == BSON_DOUBLE) {
        double d;
        uint64_t bits = (uint64_t)bson_i64(e->value);
        memcpy(&d, &bits, sizeof(d));
        *out = d != 0.0;
        return true;
    }
    if (bson_elem_int64(e, &n)) {
        *out = n != 0;
        return true;
    }
    return false;
}

bool bson_elem_string(const struct bson_elem *e, const char **s, size_t *len)
{
    if (e->type != BSON_STRING && e->type != BSON_SYMBOL && e->type != BSON_CODE)
        return false;
    *s = (const char *)e->value + 4;
    *len = e->value_len - 5;
    return true;
}

bool bson_elem_document(const struct bson_elem *e, const uint8_t **doc, size_t *len)
{
    if (e->type != BSON_DOCUMENT && e->type != BSON_ARRAY)
        return false;
    *doc = e->value;
    *len = e->value_len;
    return true;
}

/* ------------------------------------------------------------ streaming */

enum {
    ST_DOC_LEN,     /* top-level length: 4 bytes into buf */
    ST_TYPE,        /* an element's type byte, or a container's NUL */
    ST_KEY,         /* the key's characters up to NUL */
    ST_FIXED,       /* `need` bytes of a fixed-size value into buf */
    ST_LEN,         /* 4 length bytes of a string/container/binary/... */
    ST_STRING,      /* string characters: kept up to the cap, then skipped */
    ST_SKIP,        /* `skip` bytes not looked at */
    ST_CSTRING,     /* skip to a NUL (regex) */
};

void bson_stream_init(struct bson_stream *s, uint64_t limit, bson_stream_cb cb, void *user)
{
    memset(s, 0, sizeof(*s));
    s->cb = cb;
    s->user = user;
    s->limit = limit;
    s->state = ST_DOC_LEN;
    s->need = 4;
}

static int stream_fail(struct bson_stream *s)
{
    s->failed = true;
    return BSON_STREAM_MALFORMED;
}

/* Room left for an element's value in the innermost container: bytes up to
 * (not including) its terminating NUL. */
static uint64_t room(const struct bson_stream *s)
{
    uint64_t end = s->level[s->depth - 1].end;
    return s->pos < end ? end - 1 - s->pos : 0;
}

static enum bson_stream_action emit(struct bson_stream *s, const uint8_t *value, size_t len,
                                    bool cut, uint32_t container_len)
{
    struct bson_event ev;
    for (unsigned i = 0; i + 1 < s->depth; i++)
        s->path[i] = i < BSON_STREAM_PATH_MAX ? s->keys[i] : "";
    ev.depth = s->depth - 1;
    ev.path = s->path;
    ev.key = s->key;
    ev.key_len = s->key_len;
    ev.key_cut = s->key_cut;
    ev.index = s->level[s->depth - 1].count++;
    ev.type = s->type;
    ev.value = value;
    ev.value_len = len;
    ev.value_cut = cut;
    ev.container_len = container_len;
    return s->cb ? s->cb(s->user, &ev) : BSON_WALK;
}

static void start_skip(struct bson_stream *s, uint64_t n, bool nul_last)
{
    s->skip = n;
    s->skip_nul_last = nul_last;
    s->state = ST_SKIP;
}

/* The key has been read: set up reading the value of s->type. */
static int value_begin(struct bson_stream *s)
{
    int fixed = fixed_size(s->type);
    if (fixed >= 0) {
        if ((uint64_t)fixed > room(s))
            return stream_fail(s);
        if (fixed == 0) {
            emit(s, s->buf, 0, false, 0);
            s->state = ST_TYPE;
            return BSON_STREAM_MORE;
        }
        s->need = (size_t)fixed;
        s->buf_len = 0;
        s->state = ST_FIXED;
        return BSON_STREAM_MORE;
    }
    if (s->type == BSON_REGEX) {
        emit(s, NULL, 0, false, 0);
        s->cstrings_left = 2;
        s->state = ST_CSTRING;
        return BSON_STREAM_MORE;
    }
    s->need = 4;
    s->buf_len = 0;
    s->state = ST_LEN;
    return BSON_STREAM_MORE;
}

/* The 4 length bytes of the current value are in buf. */
static int value_length(struct bson_stream *s)
{
    int32_t n = bson_i32(s->buf);
    uint64_t avail = room(s);     /* counted from after the length bytes */
    switch (s->type) {
    case BSON_STRING: case BSON_CODE: case BSON_SYMBOL:
        if (n < 1 || (uint64_t)n > avail)
            return stream_fail(s);
        s->str_len = (uint32_t)n;
        s->buf_len = 0;
        s->skip = (uint64_t)n;
        s->state = ST_STRING;
        return BSON_STREAM_MORE;
    case BSON_DOCUMENT: case BSON_ARRAY: {
        if (n < BSON_DOC_MIN || (uint64_t)n - 4 > avail)
            return stream_fail(s);
        enum bson_stream_action a = emit(s, NULL, 0, false, (uint32_t)n);
        if (a == BSON_SKIP || s->depth > BSON_STREAM_DEPTH_MAX) {
            start_skip(s, (uint64_t)n - 4, true);
            return BSON_STREAM_MORE;
        }
        unsigned d = s->depth - 1;     /* this container's key becomes path[d] */
        if (d < BSON_STREAM_PATH_MAX)
            memcpy(s->keys[d], s->key, s->key_len + 1);
        s->level[s->depth].end = s->pos + (uint64_t)n - 4;
        s->level[s->depth].count = 0;
        s->depth++;
        s->state = ST_TYPE;
        return BSON_STREAM_MORE;
    }
    case BSON_BINARY:
        if (n < 0 || (uint64_t)n + 1 > avail)
            return stream_fail(s);
        emit(s, NULL, 0, false, 0);
        start_skip(s, (uint64_t)n + 1, false);
        return BSON_STREAM_MORE;
    case BSON_DBPOINTER:
        if (n < 1 || (uint64_t)n + 12 > avail)
            return stream_fail(s);
        emit(s, NULL, 0, false, 0);
        start_skip(s, (uint64_t)n + 12, false);
        return BSON_STREAM_MORE;
    case BSON_CODE_W_SCOPE:
        if (n < 4 + 5 + BSON_DOC_MIN || (uint64_t)n - 4 > avail)
            return stream_fail(s);
        emit(s, NULL, 0, false, 0);
        start_skip(s, (uint64_t)n - 4, true);
        return BSON_STREAM_MORE;
    default:
        return stream_fail(s);
    }
}

int bson_stream_feed(struct bson_stream *s, const uint8_t *buf, size_t len, size_t *used)
{
    size_t i = 0;
    int rc = BSON_STREAM_MORE;

    if (s->failed || s->done) {
        *used = 0;
        return s->failed ? BSON_STREAM_MALFORMED : BSON_STREAM_DONE;
    }
    while (i < len && rc == BSON_STREAM_MORE) {
        switch (s->state) {
        case ST_DOC_LEN: {
            s->buf[s->buf_len++] = buf[i++];
            s->pos++;
            if (s->buf_len < 4)
                break;
            int32_t n = bson_i32(s->buf);
            if (n < BSON_DOC_MIN || (uint64_t)n > s->limit) {
                rc = stream_fail(s);
                break;
            }
            s->level[0].end = (uint64_t)n;
            s->level[0].count = 0;
            s->depth = 1;
            s->state = ST_TYPE;
            break;
        }
        case ST_TYPE: {
            uint8_t t = buf[i++];
            s->pos++;
            if (s->pos == s->level[s->depth - 1].end) {     /* the container's NUL */
                if (t != 0) {
                    rc = stream_fail(s);
                    break;
                }
                if (--s->depth == 0) {
                    s->done = true;
                    rc = BSON_STREAM_DONE;
                }
                break;
            }
            if (t == 0 || !type_known(t)) {
                rc = stream_fail(s);
                break;
            }
            s->type = t;
            s->key_len = 0;
            s->key_cut = false;
            s->state = ST_KEY;
            break;
        }
        case ST_KEY: {
            uint64_t r = room(s);
            size_t avail = len - i;
            if (avail > r)
                avail = (size_t)r;
            const uint8_t *nul = memchr(buf + i, 0, avail);
            size_t n = nul ? (size_t)(nul - (buf + i)) : avail;
            size_t keep = BSON_STREAM_KEY_MAX - s->key_len;
            if (n < keep)
                keep = n;
            else if (n > keep)
                s->key_cut = true;
            memcpy(s->key + s->key_len, buf + i, keep);
            s->key_len += keep;
            s->key[s->key_len] = '\0';
            i += n;
            s->pos += n;
            if (!nul) {
                if (r == (uint64_t)n)      /* no NUL before the container ends */
                    rc = stream_fail(s);
                break;
            }
            i++;
            s->pos++;
            rc = value_begin(s);
            break;
        }
        case ST_FIXED:
        case ST_LEN: {
            size_t n = s->need - s->buf_len;
            if (n > len - i)
                n = len - i;
            memcpy(s->buf + s->buf_len, buf + i, n);
            s->buf_len += n;
            i += n;
            s->pos += n;
            if (s->buf_len < s->need)
                break;
            if (s->state == ST_FIXED) {
                emit(s, s->buf, s->buf_len, false, 0);
                s->state = ST_TYPE;
            } else {
                rc = value_length(s);
            }
            break;
        }
        case ST_STRING: {
            size_t n = len - i;
            if (n > s->skip)
                n = (size_t)s->skip;
            size_t keep = 0;
            if (s->buf_len < BSON_STREAM_STRING_MAX) {
                keep = BSON_STREAM_STRING_MAX - s->buf_len;
                if (keep > n)
                    keep = n;
                memcpy(s->buf + s->buf_len, buf + i, keep);
                s->buf_len += keep;
            }
            i += n;
            s->pos += n;
            s->skip -= n;
            if (s->skip > 0)
                break;
            if (buf[i - 1] != 0) {
                rc = stream_fail(s);
                break;
            }
            /* the string's characters: declared length less its NUL */
            size_t chars = s->str_len - 1;
            size_t have = s->buf_len < chars ? s->buf_len : chars;
            emit(s, s->buf, have, have < chars, 0);
            s->state = ST_TYPE;
            break;
        }
        case ST_SKIP: {
            size_t n = len - i;
            if (n > s->skip)
                n = (size_t)s->skip;
            i += n;
            s->pos += n;
            s->skip -= n;
            if (s->skip > 0)
                break;
            if (s->skip_nul_last && n > 0 && buf[i - 1] != 0) {
                rc = stream_fail(s);
                break;
            }
            s->state = ST_TYPE;
            break;
        }
        case ST_CSTRING: {
            uint64_t r = room(s);
            size_t avail = len - i;
            if (avail > r)
                avail = (size_t)r;
            const uint8_t *nul = memchr(buf + i, 0, avail);
            size_t n = nul ? (size_t)(nul - (buf + i)) + 1 : avail;
            i += n;
            s->pos += n;
            if (!nul) {
                if (r == (uint64_t)n)
                    rc = stream_fail(s);
                break;
            }
            if (--s->cstrings_left == 0)
                s->state = ST_TYPE;
            break;
        }
        default:
            rc = stream_fail(s);
            break;
        }
    }
    *used = i;
    return rc;
}
