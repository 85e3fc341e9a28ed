/* http_session.h - drives an HTTP-based decoder through a conversation
 * written as text, in pieces of a given size, and collects its ops: the
 * harness of test_couchdb.c and test_solr.c. */
#ifndef SW_TEST_HTTP_SESSION_H
#define SW_TEST_HTTP_SESSION_H

#include <string.h>

#include "../../decoders/http/http.h"

#define SESSION_OPS_MAX 16

struct session {
    struct decoder_ctx ctx;
    struct http_params params;
    struct stats stats;
    struct op_record ops[SESSION_OPS_MAX];
    size_t count;
    const struct decoder *dec;
    void *state;
};

/* One message: its direction and bytes (NUL-terminated text). */
struct session_step {
    enum decoder_dir dir;
    const char *text;
};

static void session_emit(struct decoder_ctx *ctx, const struct op_record *op)
{
    struct session *s = ctx->owner;
    if (s->count < SESSION_OPS_MAX)
        s->ops[s->count++] = *op;
}

static void session_open(struct session *s, const struct decoder *dec)
{
    memset(s, 0, sizeof(*s));
    s->params.header_max = 16384;
    s->params.pending_max = 8;
    s->params.body_max = 1 << 20;
    s->dec = dec;
    decoder_ctx_bind(&s->ctx, dec, &s->params, &s->stats);
    s->ctx.emit = session_emit;
    s->ctx.owner = s;
    s->state = dec->open(&s->ctx);
}

static void session_send(struct session *s, enum decoder_dir dir, const char *text, size_t len,
                         size_t piece)
{
    for (size_t at = 0; at < len && s->state != NULL;) {
        size_t n = len - at < piece ? len - at : piece;
        s->ctx.now_us += 10;
        s->dec->data(s->state, &s->ctx, dir, (const uint8_t *)text + at, n);
        at += n;
    }
}

/* The whole conversation, in pieces of `piece` bytes, then close. */
static void session_run(struct session *s, const struct decoder *dec,
                        const struct session_step *steps, size_t n, size_t piece)
{
    session_open(s, dec);
    for (size_t i = 0; i < n; i++)
        session_send(s, steps[i].dir, steps[i].text, strlen(steps[i].text), piece);
    if (s->state != NULL)
        dec->close(s->state, &s->ctx);
}

#endif
