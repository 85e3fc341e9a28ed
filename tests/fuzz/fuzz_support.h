/* fuzz_support.h - what the decoder fuzz targets share: a schedule of
 * choices drawn from the input, and the checks every emitted op must pass
 * (strings terminated within their fields, cursor hashes that are hashes,
 * enums in range). Header-only: each target is its own program. */
#ifndef SW_FUZZ_SUPPORT_H
#define SW_FUZZ_SUPPORT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sensor/op.h"

/* Choices drawn from the input, cycling when it runs out. */
struct schedule {
    const uint8_t *data;
    size_t size;
    size_t next;
};

static inline uint8_t choose(struct schedule *s)
{
    if (s->size == 0)
        return 0;
    uint8_t c = s->data[s->next % s->size];
    s->next++;
    return c;
}

static inline void check_string(const char *field, size_t cap)
{
    if (memchr(field, '\0', cap) == NULL)
        abort();
}

/* Empty, or 16 lowercase hex digits: never the wire id. */
static inline void check_hash(const char *h)
{
    size_t n = strlen(h);
    if (n != 0 && n != 16)
        abort();
    if (strspn(h, "0123456789abcdef") != n)
        abort();
}

/* Every string field of an op terminated; cursor fields hashes. */
static inline void check_op_strings(const struct op_record *op)
{
    check_string(op->op, sizeof(op->op));
    check_string(op->target, sizeof(op->target));
    check_string(op->client_id, sizeof(op->client_id));
    check_string(op->auth_scheme, sizeof(op->auth_scheme));
    check_string(op->continuation, sizeof(op->continuation));
    check_string(op->cursor_out, sizeof(op->cursor_out));
    check_string(op->error_type, sizeof(op->error_type));
    check_string(op->http.method, sizeof(op->http.method));
    check_string(op->http.uri, sizeof(op->http.uri));
    check_hash(op->continuation);
    check_hash(op->cursor_out);
}

#endif
