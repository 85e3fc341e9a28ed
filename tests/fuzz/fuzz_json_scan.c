/* fuzz_json_scan.c - libFuzzer target for the streaming JSON scanner.
 *
 * The input is scanned three times: whole, in pieces whose sizes are read
 * from the input itself, and (for small inputs) byte by byte. Each run keeps
 * a running hash of the callback sequence (types, depths, texts, numbers,
 * path answers); the three must agree, with the same result and value
 * count. The callback also checks the invariants of every reported value:
 * bounded text, depth within bounds, START/END properly nested, numbers
 * equal to what strtod makes of their text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../decoders/json/json_scan.h"
#include "../../sensor/base/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_run {
    uint64_t hash;
    int open;                                   /* containers open, per callbacks */
    enum json_value_type stack[JSON_SCAN_DEPTH_MAX];
};

static void hash_bytes(struct fuzz_run *r, const void *p, size_t n)
{
    r->hash = hash_fnv1a64_update(r->hash, p, n);
}

static void fuzz_callback(void *arg, const struct json_scan *s, const struct json_scan_value *v)
{
    static const char *const paths[] = {
        "", "[]", "hits.hits", "hits.hits.[]", "hits.total.value", "[].docs.count",
        "a.[].b", "[].[].[]", "a..b", ".", "[", "a.",
    };
    struct fuzz_run *r = arg;
    int depth = json_scan_value_depth(s);
    uint32_t at = 0;
    size_t i;

    if (v->type < JSON_OBJECT_START || v->type > JSON_NULL)
        abort();
    if (v->type == JSON_OBJECT_END || v->type == JSON_ARRAY_END) {
        if (r->open == 0)
            abort();
        r->open--;
    }
    if (depth < 0 || depth > JSON_SCAN_DEPTH_MAX || depth != r->open)
        abort();
    switch (v->type) {
    case JSON_OBJECT_START:
    case JSON_ARRAY_START:
        if (depth >= JSON_SCAN_DEPTH_MAX)
            abort();
        r->stack[r->open++] = v->type;
        break;
    case JSON_OBJECT_END:
    case JSON_ARRAY_END:
        /* reported after the pop: the START was at this same depth */
        if (depth >= JSON_SCAN_DEPTH_MAX || r->stack[depth] != v->type - 1)
            abort();
        break;
    case JSON_STRING:
    case JSON_NUMBER:
        if (v->text == NULL || v->len > JSON_SCAN_STRING_MAX)
            abort();
        if (v->type == JSON_NUMBER && (v->len == 0 || v->number != v->number))
            abort();
        if (v->truncated && v->len + 4 <= JSON_SCAN_STRING_MAX)
            abort();
        if (v->type == JSON_NUMBER && !v->truncated) {
            /* the scanner's own conversion must agree with strtod, bit for bit */
            char copy[JSON_SCAN_STRING_MAX + 1];
            double expect;
            memcpy(copy, v->text, v->len);
            copy[v->len] = '\0';
            expect = strtod(copy, NULL);
            if (memcmp(&expect, &v->number, sizeof(expect)) != 0)
                abort();
        }
        break;
    default:
        if (v->text != NULL || v->len != 0 || v->truncated)
            abort();
        break;
    }
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (json_scan_at(s, paths[i]))
            at |= 1u << i;
    if (json_scan_at(s, "") != (depth == 0))
        abort();

    hash_bytes(r, &v->type, sizeof(v->type));
    hash_bytes(r, &depth, sizeof(depth));
    hash_bytes(r, &at, sizeof(at));
    hash_bytes(r, &v->truncated, sizeof(v->truncated));
    hash_bytes(r, &v->len, sizeof(v->len));
    if (v->text != NULL)
        hash_bytes(r, v->text, v->len);
    if (v->type == JSON_NUMBER)
        hash_bytes(r, &v->number, sizeof(v->number));
}

/* Scans data in pieces: piece sizes come from `sizes` (cycled), or the whole
 * input when nsizes == 0, or single bytes when nsizes == SIZE_MAX. */
static int fuzz_scan(const uint8_t *data, size_t size, const uint8_t *sizes, size_t nsizes,
                     struct fuzz_run *r, uint64_t *values)
{
    struct json_scan s;
    size_t off = 0, k = 0;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    r->hash = HASH_FNV1A64_OFFSET;
    json_scan_init(&s, fuzz_callback, r);
    while (off < size) {
        size_t piece = size - off;
        if (nsizes == SIZE_MAX) {
            piece = 1;
        } else if (nsizes > 0) {
            uint8_t b = sizes[k++ % nsizes];
            /* mostly small pieces, sometimes large ones */
            size_t want = b < 0xf0 ? (size_t)(b % 16) + 1 : (size_t)(b - 0xef) * 97;
            if (want < piece)
                piece = want;
        }
        if (json_scan_feed(&s, data + off, piece) != 0)
            rc = -1;
        off += piece;
    }
    if (json_scan_finish(&s) != 0)
        rc = -1;
    if (rc == 0 && r->open != 0)
        abort(); /* a clean finish leaves no container open */
    if (rc == 0 && s.depth != 0)
        abort();
    *values = s.values;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_run whole, split;
    uint64_t values_whole, values_split;
    int rc_whole, rc_split;

    rc_whole = fuzz_scan(data, size, NULL, 0, &whole, &values_whole);
    rc_split = fuzz_scan(data, size, data, size, &split, &values_split);
    if (rc_split != rc_whole || values_split != values_whole || split.hash != whole.hash)
        abort();
    if (size <= 4096) {
        rc_split = fuzz_scan(data, size, NULL, SIZE_MAX, &split, &values_split);
        if (rc_split != rc_whole || values_split != values_whole || split.hash != whole.hash)
            abort();
    }
    return 0;
}
