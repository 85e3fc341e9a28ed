/* http_apps.c - one HTTP framer, several application observers: picks,
 * per flow, the application the server turns out to be (see http.h, "several
 * applications on one framer"). It names no application itself: the list
 * comes from the decoder that opens the flow.
 *
 * The choice is a small state machine: `current` is the app whose observer
 * runs (0, the default, until another is chosen), `shown` says the server
 * itself showed what it is, which freezes the choice against request
 * claims. A body mark in the body's first HTTP_APPS_SNIFF_BYTES hands the
 * op over at once: the bytes so far, kept while sniffing in a buffer
 * allocated for that time only, are replayed to the new app. Only when that
 * buffer could not be had is the mark kept in `marked` and acted on when
 * the response ends (the op named, uncounted). */
#include "http.h"

#include <stdlib.h>
#include <string.h>

#define NO_APP ((size_t)-1)

struct apps_flow {
    const struct http_app *const *apps;
    size_t count;
    size_t current;           /* index into apps; NO_APP when state allocation failed */
    void *state;              /* the current app's observer state */
    struct membudget *budget; /* where `state` is charged (the flow's) */
    bool shown;               /* the server showed what it is */
    bool sniffing;            /* reading the first bytes of a 2xx body for marks */
    size_t sniffed;           /* body bytes looked at */
    size_t marked;            /* app whose mark was found in this body; NO_APP if none */
    char window[2 * HTTP_APPS_MARK_MAX];   /* the last bytes; shifted when full */
    size_t window_len;
    uint8_t last_chars[32];   /* bit set: the last bytes of the marks */
    uint8_t prev_chars[32];   /* bit set: the bytes before those */
    bool short_mark;          /* a mark of fewer than 2 bytes: check every byte */
    uint8_t *replay;          /* the body's first bytes, as sniffed: allocated
                                 (HTTP_APPS_SNIFF_BYTES) while sniffing only */
};

static const struct http_observer *current_obs(const struct apps_flow *m)
{
    return m->current == NO_APP ? NULL : m->apps[m->current]->obs;
}

/* Sniffing is over for this body: its replay buffer goes. */
static void sniff_stop(struct apps_flow *m)
{
    m->sniffing = false;
    free(m->replay);
    m->replay = NULL;
}

/* Frees the current app's state and allocates the next one's (zeroed). */
static void switch_to(struct apps_flow *m, size_t next)
{
    const struct http_observer *obs = current_obs(m);
    if (obs != NULL && obs->close != NULL && m->state != NULL)
        obs->close(m->state);
    if (m->state != NULL)
        membudget_free(m->budget, m->state, obs->state_size);
    m->state = NULL;
    m->current = next;
    obs = current_obs(m);
    if (obs == NULL || obs->state_size == 0)
        return;
    m->state = membudget_calloc(m->budget, obs->state_size);
    if (m->state == NULL)
        m->current = NO_APP;      /* no memory: the flow goes on as plain HTTP */
}

/* Back to the op the framer made: method as the op, path as the target,
 * nothing read from bodies. Wire facts (bytes, times, status, framing
 * flags, credentials) stay. */
static void op_reset_plain(struct op_record *op)
{
    struct http_span uri = { op->http.uri, strlen(op->http.uri) };
    struct http_span path = http_target_path(uri);
    op->app = APP_HTTP;
    op->op_class = OP_CLASS_UNKNOWN;
    op_set_string(op, op->op, sizeof(op->op), op->http.method, strlen(op->http.method));
    op_set_string(op, op->target, sizeof(op->target), path.ptr, path.len);
    op->continuation[0] = '\0';
    op->cursor_out[0] = '\0';
    op->error_type[0] = '\0';
    op->items = op->page_size = op->offset = op->total = -1;
    op->total_relation = OP_TOTAL_EXACT;
    op->flags &= ~(OP_FLAG_VIA_KIBANA | OP_FLAG_MATCH_ALL | OP_FLAG_CONTINUES |
                   OP_FLAG_SECURITY_OFF | OP_FLAG_PROBE);
    op->authenticated = (op->flags & OP_FLAG_AUTH_HEADER) ? OP_AUTH_YES : OP_AUTH_UNKNOWN;
}

/* The op was read, at request time, by an app that no longer has the flow
 * (a pipelined request queued before the switch). */
static bool read_by_other(const struct apps_flow *m, const struct op_record *op)
{
    if (op->app == APP_HTTP || m->current == NO_APP)
        return false;
    if (m->current != 0)
        return op->app != m->apps[m->current]->app;
    for (size_t i = 1; i < m->count; i++)
        if (op->app == m->apps[i]->app)
            return true;
    return false;
}

/* An op about to go to a non-default app carries that app's id. */
static void stamp(const struct apps_flow *m, struct op_record *op)
{
    if (m->current != NO_APP && m->current != 0 && op->app == APP_HTTP)
        op->app = (uint8_t)m->apps[m->current]->app;
}

/* The server is app `i`: the choice is final; an op another app read is
 * read again from scratch. */
static void server_is(struct apps_flow *m, size_t i, struct op_record *op)
{
    m->shown = true;
    if (i == m->current)
        return;
    op_reset_plain(op);
    switch_to(m, i);
}

static void apps_request_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                              const struct http_head *head)
{
    struct apps_flow *m = st;
    if (!m->shown) {
        for (size_t i = 1; i < m->count; i++) {
            const struct http_app *a = m->apps[i];
            if (a->claims != NULL && a->claims(head->method, head->target)) {
                if (i != m->current)
                    switch_to(m, i);
                break;
            }
        }
        /* The default app claims its own APIs back from another. */
        const struct http_app *d = m->apps[0];
        if (m->current != 0 && d->claims != NULL && d->claims(head->method, head->target))
            switch_to(m, 0);
    }
    const struct http_observer *obs = current_obs(m);
    stamp(m, op);
    if (obs != NULL && obs->request_head != NULL)
        obs->request_head(m->state, ctx, op, head);
}

static void apps_request_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                              const uint8_t *buf, size_t len)
{
    struct apps_flow *m = st;
    const struct http_observer *obs = current_obs(m);
    if (obs != NULL && obs->request_body != NULL)
        obs->request_body(m->state, ctx, op, buf, len);
}

static void apps_request_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    struct apps_flow *m = st;
    const struct http_observer *obs = current_obs(m);
    if (obs != NULL && obs->request_end != NULL)
        obs->request_end(m->state, ctx, op);
}

static void apps_response_head(void *st, struct decoder_ctx *ctx, struct op_record *op,
                               const struct http_head *head)
{
    struct apps_flow *m = st;
    for (size_t i = 0; i < m->count; i++) {
        const struct http_app *a = m->apps[i];
        if (a->server_head != NULL && a->server_head(head)) {
            server_is(m, i, op);
            break;
        }
    }
    if (read_by_other(m, op))
        op_reset_plain(op);       /* queued before the flow changed hands */
    m->marked = NO_APP;
    sniff_stop(m);
    m->sniffing = !m->shown && op->status_code >= 200 && op->status_code < 300;
    m->sniffed = 0;
    m->window_len = 0;
    const struct http_observer *obs = current_obs(m);
    stamp(m, op);
    if (obs != NULL && obs->response_head != NULL)
        obs->response_head(m->state, ctx, op, head);
}

static bool char_in(const uint8_t *set, char c)
{
    uint8_t b = (uint8_t)c;
    return (set[b >> 3] >> (b & 7)) & 1;
}

static void char_add(uint8_t *set, char c)
{
    uint8_t b = (uint8_t)c;
    set[b >> 3] = (uint8_t)(set[b >> 3] | 1u << (b & 7));
}

/* Notes the last two bytes of every mark, so that sniff_byte compares the
 * marks only where a mark could end. */
static void marks_index(struct apps_flow *m)
{
    for (size_t i = 0; i < m->count; i++) {
        const char *const *mark = m->apps[i]->body_marks;
        for (; mark != NULL && *mark != NULL; mark++) {
            size_t n = strlen(*mark);
            if (n < 2) {
                m->short_mark = true;
                continue;
            }
            char_add(m->last_chars, (*mark)[n - 1]);
            char_add(m->prev_chars, (*mark)[n - 2]);
        }
    }
}

/* Whether a mark ends at the window's last byte: the first one, in app
 * and mark order, is kept in `marked`. Only the last HTTP_APPS_MARK_MAX
 * bytes count. */
static void match_marks(struct apps_flow *m)
{
    size_t avail = m->window_len < HTTP_APPS_MARK_MAX ? m->window_len : HTTP_APPS_MARK_MAX;
    const char *end = m->window + m->window_len;
    for (size_t i = 0; i < m->count; i++) {
        const char *const *mark = m->apps[i]->body_marks;
        for (; mark != NULL && *mark != NULL; mark++) {
            size_t n = strlen(*mark);
            if (n <= avail && memcmp(end - n, *mark, n) == 0) {
                m->marked = i;
                return;
            }
        }
    }
}

/* Slides one byte into the window and looks for a mark ending there. */
static void sniff_byte(struct apps_flow *m, char c)
{
    if (m->window_len == sizeof(m->window)) {
        memmove(m->window, m->window + HTTP_APPS_MARK_MAX, HTTP_APPS_MARK_MAX);
        m->window_len = HTTP_APPS_MARK_MAX;
    }
    m->window[m->window_len++] = c;
    if (m->short_mark || (m->window_len >= 2 && char_in(m->last_chars, c) &&
                          char_in(m->prev_chars, m->window[m->window_len - 2])))
        match_marks(m);
}

/* A mark early in the body: the new app takes the op now, is given a head
 * with the status alone (its body is read by the call's own rules) and the
 * body bytes so far, and reads the rest as it comes. */
static void hand_over_mid_body(struct apps_flow *m, struct decoder_ctx *ctx,
                               struct op_record *op)
{
    size_t to = m->marked;
    m->marked = NO_APP;
    server_is(m, to, op);
    stamp(m, op);
    const struct http_observer *obs = current_obs(m);
    if (obs == NULL)
        return;
    struct http_head head;
    memset(&head, 0, sizeof(head));
    head.status = op->status_code;
    head.content_length = -1;
    if (obs->response_head != NULL)
        obs->response_head(m->state, ctx, op, &head);
    if (obs->response_body != NULL)
        obs->response_body(m->state, ctx, op, m->replay, m->sniffed);
}

/* The first body byte while sniffing: the replay buffer. Without it a mark
 * is still looked for, and acted on at the response's end. */
static void replay_open(struct apps_flow *m)
{
    if (m->sniffed == 0 && m->replay == NULL)
        m->replay = malloc(HTTP_APPS_SNIFF_BYTES);
}

static void apps_response_body(void *st, struct decoder_ctx *ctx, struct op_record *op,
                               const uint8_t *buf, size_t len)
{
    struct apps_flow *m = st;
    size_t i = 0;
    if (m->sniffing && len > 0)
        replay_open(m);
    while (m->sniffing && i < len) {
        if (m->replay != NULL)
            m->replay[m->sniffed] = buf[i];
        sniff_byte(m, (char)buf[i++]);
        m->sniffed++;
        if (m->marked != NO_APP && m->marked != 0 && m->marked != m->current &&
            m->replay != NULL) {
            hand_over_mid_body(m, ctx, op);
            buf += i;
            len -= i;
            sniff_stop(m);
            break;
        }
        if (m->marked != NO_APP || m->sniffed >= HTTP_APPS_SNIFF_BYTES)
            sniff_stop(m);
    }
    const struct http_observer *obs = current_obs(m);
    if (obs != NULL && obs->response_body != NULL && len > 0)
        obs->response_body(m->state, ctx, op, buf, len);
}

static void apps_response_end(void *st, struct decoder_ctx *ctx, struct op_record *op)
{
    struct apps_flow *m = st;
    const struct http_observer *obs = current_obs(m);
    if (m->marked != NO_APP && m->marked != m->current && m->marked != 0) {
        /* Let the app that read the body finish it, then hand the op over. */
        if (obs != NULL && obs->response_end != NULL)
            obs->response_end(m->state, ctx, op);
        server_is(m, m->marked, op);
        obs = current_obs(m);
    } else if (m->marked != NO_APP && m->marked != m->current) {
        /* The default app's own banner after another app took the flow:
         * this op stays as read, the next ones go to the default app. */
        stamp(m, op);
        if (obs != NULL && obs->response_end != NULL)
            obs->response_end(m->state, ctx, op);
        m->shown = true;
        m->marked = NO_APP;
        switch_to(m, 0);
        return;
    } else if (m->marked != NO_APP) {
        m->shown = true;
    }
    m->marked = NO_APP;
    sniff_stop(m);
    stamp(m, op);
    if (obs != NULL && obs->response_end != NULL)
        obs->response_end(m->state, ctx, op);
}

static void apps_close(void *st)
{
    struct apps_flow *m = st;
    sniff_stop(m);
    const struct http_observer *obs = current_obs(m);
    if (obs != NULL && obs->close != NULL && m->state != NULL)
        obs->close(m->state);
    if (m->state != NULL)
        membudget_free(m->budget, m->state, obs->state_size);
    m->state = NULL;
}

static const struct http_observer apps_observer = {
    .state_size = sizeof(struct apps_flow),
    .request_head = apps_request_head,
    .request_body = apps_request_body,
    .request_end = apps_request_end,
    .response_head = apps_response_head,
    .response_body = apps_response_body,
    .response_end = apps_response_end,
    .close = apps_close,
};

void *http_open_apps(struct decoder_ctx *ctx, const struct http_app *const *apps,
                     size_t count)
{
    if (count == 0)
        return http_open_with(ctx, NULL, APP_HTTP);
    void *flow = http_open_with(ctx, &apps_observer, APP_HTTP);
    struct apps_flow *m = http_flow_observer_state(flow);
    if (m == NULL)
        return flow;
    m->apps = apps;
    m->budget = ctx->budget;
    m->count = count;
    m->marked = NO_APP;
    m->current = NO_APP;
    marks_index(m);
    switch_to(m, 0);
    return flow;
}
