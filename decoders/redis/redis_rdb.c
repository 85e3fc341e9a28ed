/* redis_rdb.c - the streaming RDB header reader (see redis_rdb.h). */
#include "redis_rdb.h"

#include <string.h>

enum { RDB_MAGIC = 0, RDB_OPCODE, RDB_FIELD, RDB_SKIP, RDB_DONE };
enum { FIELD_LENGTH = 0, FIELD_STRING };

enum {
    OPCODE_SLOT_INFO = 0xF4,
    OPCODE_FUNCTION2 = 0xF5,
    OPCODE_AUX = 0xFA,
    OPCODE_RESIZEDB = 0xFB,
    OPCODE_SELECTDB = 0xFE,
};

void redis_rdb_init(struct redis_rdb *r)
{
    memset(r, 0, sizeof(*r));
    r->keys = -1;
}

static void stop(struct redis_rdb *r, bool malformed)
{
    r->state = RDB_DONE;
    r->stopped = true;
    r->malformed = malformed;
}

static bool magic_byte(struct redis_rdb *r, uint8_t c)
{
    static const char magic[] = "REDIS";
    if (r->hdr_len < 5 ? c != (uint8_t)magic[r->hdr_len] : (c < '0' || c > '9'))
        return false;
    if (r->hdr_len >= 5)
        r->version = r->version * 10 + (unsigned)(c - '0');
    if (++r->hdr_len == 9) {
        r->hdr_len = 0;
        r->state = RDB_OPCODE;
    }
    return true;
}

static void expect(struct redis_rdb *r, uint8_t a, uint8_t b, uint8_t c, uint8_t count)
{
    r->fields[0] = a;
    r->fields[1] = b;
    r->fields[2] = c;
    r->field_count = count;
    r->field_at = 0;
    r->hdr_len = 0;
    r->lzf_stage = 0;
    r->state = RDB_FIELD;
}

static void opcode_byte(struct redis_rdb *r, uint8_t c)
{
    r->opcode = c;
    switch (c) {
    case OPCODE_AUX:
        expect(r, FIELD_STRING, FIELD_STRING, 0, 2);
        break;
    case OPCODE_FUNCTION2:
        expect(r, FIELD_STRING, 0, 0, 1);
        break;
    case OPCODE_SELECTDB:
        expect(r, FIELD_LENGTH, 0, 0, 1);
        break;
    case OPCODE_RESIZEDB:
        expect(r, FIELD_LENGTH, FIELD_LENGTH, 0, 2);
        break;
    case OPCODE_SLOT_INFO:
        expect(r, FIELD_LENGTH, FIELD_LENGTH, FIELD_LENGTH, 3);
        break;
    default:
        stop(r, false);     /* the first key, an expiry, module data, or EOF */
    }
}

/* Bytes a length field takes, from its first byte; 0: not a plain length.
 * *special is set for the 0b11 "encoded string" forms. */
static unsigned length_size(uint8_t first, bool *special)
{
    *special = false;
    switch (first >> 6) {
    case 0: return 1;
    case 1: return 2;
    case 2: return first == 0x80 ? 5 : first == 0x81 ? 9 : 0;
    default: *special = true; return 1;
    }
}

static uint64_t length_value(const uint8_t *h, unsigned size)
{
    if (size == 1)
        return h[0] & 0x3f;
    if (size == 2)
        return ((uint64_t)(h[0] & 0x3f) << 8) | h[1];
    uint64_t v = 0;
    for (unsigned i = 1; i < size; i++)
        v = (v << 8) | h[i];
    return v;
}

static void next_field(struct redis_rdb *r)
{
    r->hdr_len = 0;
    r->lzf_stage = 0;
    if (++r->field_at == r->field_count)
        r->state = RDB_OPCODE;
}

static void skip_bytes(struct redis_rdb *r, uint64_t n)
{
    if (n == 0) {
        r->state = RDB_FIELD;
        next_field(r);
        return;
    }
    r->skip = n;
    r->state = RDB_SKIP;
}

/* A whole length (or string header) was read: what it means. */
static void field_value(struct redis_rdb *r, uint64_t v, bool special)
{
    bool string = r->fields[r->field_at] == FIELD_STRING;
    if (r->lzf_stage == 1) {            /* the compressed length */
        r->lzf_clen = v;
        r->lzf_stage = 2;
        r->hdr_len = 0;
        return;
    }
    if (r->lzf_stage == 2) {            /* the uncompressed length: skip clen */
        skip_bytes(r, r->lzf_clen);
        return;
    }
    if (special) {
        static const uint8_t int_size[3] = { 1, 2, 4 };
        if (!string || v > 3) {
            stop(r, true);
            return;
        }
        if (v == 3) {
            r->lzf_stage = 1;
            r->hdr_len = 0;
            return;
        }
        skip_bytes(r, int_size[v]);
        return;
    }
    if (string) {
        skip_bytes(r, v);
        return;
    }
    if (r->opcode == OPCODE_RESIZEDB && r->field_at == 0 && v <= (uint64_t)INT64_MAX) {
        int64_t keys = r->keys < 0 ? 0 : r->keys;
        r->keys = (int64_t)v > INT64_MAX - keys ? INT64_MAX : keys + (int64_t)v;
    }
    next_field(r);
}

static void field_byte(struct redis_rdb *r, uint8_t c)
{
    r->hdr[r->hdr_len++] = c;
    bool special;
    unsigned size = length_size(r->hdr[0], &special);
    if (size == 0 || (special && r->lzf_stage != 0)) {
        stop(r, true);
        return;
    }
    if (r->hdr_len < size)
        return;
    field_value(r, special ? (uint64_t)(r->hdr[0] & 0x3f) : length_value(r->hdr, size), special);
}

void redis_rdb_feed(struct redis_rdb *r, const uint8_t *buf, size_t len)
{
    size_t i = 0;
    while (i < len && r->state != RDB_DONE) {
        if (r->state == RDB_SKIP) {
            size_t n = r->skip < len - i ? (size_t)r->skip : len - i;
            r->skip -= n;
            i += n;
            if (r->skip == 0) {
                r->state = RDB_FIELD;
                next_field(r);
            }
            continue;
        }
        uint8_t c = buf[i++];
        if (r->state == RDB_MAGIC) {
            if (!magic_byte(r, c))
                stop(r, true);
        } else if (r->state == RDB_OPCODE) {
            opcode_byte(r, c);
        } else {
            field_byte(r, c);
        }
    }
}
