/* fuzz_support.h - what the decoder fuzz targets share: a schedule of
 * choices drawn from the input, and the checks every emitted op must pass
 * (strings terminated within their fields, cursor hashes that are hashes,
 * enums in range). Header-only: each target is its own program. */
#ifndef SW_FUZZ_SUPPORT_H
#define SW_FUZZ_SUPPORT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../decoders/decoder.h"
#include "../../sensor/base/op.h"

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

/* What is left of one direction's input. */
struct fuzz_part {
    const uint8_t *p;
    size_t left;
};

/* One step on one direction of decoder d: a piece of data (1-15 bytes or
 * all that is left), a gap (sometimes of unknown length), and the end of
 * the direction once its input is used up (sometimes). */
static inline void fuzz_step(const struct decoder *d, void *state, struct decoder_ctx *ctx,
                             struct schedule *s, enum decoder_dir dir, struct fuzz_part *part)
{
    uint8_t c = choose(s);
    if ((c & 0xf0) == 0xf0) {
        size_t n = 1 + choose(s) % 64;      /* at least 1: progress */
        if (n > part->left)
            n = part->left;
        d->gap(state, ctx, dir, (c & 1) ? n : 0);
        part->p += n;
        part->left -= n;
        return;
    }
    size_t n = (c & 0x0f) == 0x0f ? part->left : (size_t)(c & 0x0f) + 1;
    if (n > part->left)
        n = part->left;
    ctx->now_us += c;
    d->data(state, ctx, dir, part->p, n);
    part->p += n;
    part->left -= n;
    if (part->left == 0 && (c & 0x10) != 0)
        d->end(state, ctx, dir);
}

/* Feeds both directions to decoder d until their input is used up: each
 * step on a direction the schedule picks (the other one when the picked one
 * is done), as fuzz_step cuts it. */
static inline void fuzz_feed(const struct decoder *d, void *state, struct decoder_ctx *ctx,
                             struct schedule *s, struct fuzz_part parts[2])
{
    while (parts[0].left > 0 || parts[1].left > 0) {
        enum decoder_dir dir = (choose(s) & 1) ? DIR_TO_CLIENT : DIR_TO_SERVER;
        if (parts[dir].left == 0)
            dir = dir == DIR_TO_SERVER ? DIR_TO_CLIENT : DIR_TO_SERVER;
        fuzz_step(d, state, ctx, s, dir, &parts[dir]);
    }
}

#endif
