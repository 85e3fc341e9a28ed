/* fuzz_bson.c - libFuzzer target for the BSON iterator and streaming walker.
 *
 * The input is one document. It is validated whole, iterated, and walked by
 * the streaming walker in pieces whose sizes come from the input itself; the
 * two must agree: a document the whole-buffer validator accepts (within the
 * walker's depth) is walked to its end, consuming exactly its length, and
 * the walker never reads past its limit. */
#include <stdlib.h>
#include <string.h>

#include "../../decoders/mongodb/bson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum bson_stream_action walk_cb(void *user, const struct bson_event *ev)
{
    unsigned *events = user;
    (*events)++;
    if (ev->key[ev->key_len] != '\0' || ev->key_len > BSON_STREAM_KEY_MAX)
        abort();
    if (ev->value && ev->value_len > BSON_STREAM_STRING_MAX + 8)
        abort();
    for (unsigned i = 0; i < ev->depth; i++)
        if (ev->path[i] == NULL)
            abort();
    /* skip every third container to exercise both paths */
    return (*events % 3) == 0 ? BSON_SKIP : BSON_WALK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool valid = bson_validate(data, size, BSON_STREAM_DEPTH_MAX) == BSON_OK;
    struct bson_iter it;
    struct bson_elem e;
    if (bson_iter_init(&it, data, size) == BSON_OK) {
        while (bson_iter_next(&it, &e) == BSON_OK) {
            int64_t n;
            bool b;
            const char *s;
            size_t len;
            const uint8_t *d;
            if (e.value < data || e.value + e.value_len > data + size)
                abort();
            (void)bson_elem_int64(&e, &n);
            (void)bson_elem_truthy(&e, &b);
            (void)bson_elem_string(&e, &s, &len);
            (void)bson_elem_document(&e, &d, &len);
        }
    }
    unsigned events = 0;
    struct bson_stream st;
    bson_stream_init(&st, size, walk_cb, &events);
    size_t at = 0, piece = size > 0 ? 1 + data[size - 1] % 17 : 1;
    int rc = BSON_STREAM_MORE;
    while (at < size && rc == BSON_STREAM_MORE) {
        size_t n = size - at < piece ? size - at : piece;
        size_t used = 0;
        rc = bson_stream_feed(&st, data + at, n, &used);
        if (used > n)
            abort();
        at += used;
    }
    if (valid && (rc != BSON_STREAM_DONE || at != (size_t)bson_i32(data)))
        abort();
    return 0;
}
