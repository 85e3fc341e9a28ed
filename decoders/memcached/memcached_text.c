/* memcached_text.c - the text protocol: a command line becomes an op that
 * waits (first in first out) for its reply; reply lines are counted into the
 * oldest waiting op until its reply is over.
 *
 * Storage commands (set, cas, ms...) announce a data block by length: it is
 * skipped, never read. VALUE and VA reply lines likewise. Commands sent with
 * "noreply" (or a meta command's quiet flag "q") get no reply on success:
 * their op is emitted at once with status unknown. */
#include "memcached_flow.h"

#include <stdio.h>
#include <string.h>

struct mc_command {
    const char *verb;
    enum op_class op_class;
    enum mc_shape shape;
    uint8_t key_token;      /* token of the first key; 0: none */
    uint8_t data_token;     /* token holding the data block's length; 0: none */
    bool multi_key;         /* every token from key_token on is a key */
};

static const struct mc_command mc_commands[] = {
    { "get", OP_CLASS_READ, MC_SHAPE_VALUES, 1, 0, true },
    { "gets", OP_CLASS_READ, MC_SHAPE_VALUES, 1, 0, true },
    { "gat", OP_CLASS_READ, MC_SHAPE_VALUES, 2, 0, true },
    { "gats", OP_CLASS_READ, MC_SHAPE_VALUES, 2, 0, true },
    { "set", OP_CLASS_WRITE, MC_SHAPE_LINE, 1, 4, false },
    { "add", OP_CLASS_WRITE, MC_SHAPE_LINE, 1, 4, false },
    { "replace", OP_CLASS_WRITE, MC_SHAPE_LINE, 1, 4, false },
    { "append", OP_CLASS_WRITE, MC_SHAPE_LINE, 1, 4, false },
    { "prepend", OP_CLASS_WRITE, MC_SHAPE_LINE, 1, 4, false },
    { "cas", OP_CLASS_WRITE, MC_SHAPE_LINE, 1, 4, false },
    { "delete", OP_CLASS_WRITE, MC_SHAPE_LINE, 1, 0, false },
    { "incr", OP_CLASS_WRITE, MC_SHAPE_LINE, 1, 0, false },
    { "decr", OP_CLASS_WRITE, MC_SHAPE_LINE, 1, 0, false },
    { "touch", OP_CLASS_WRITE, MC_SHAPE_LINE, 1, 0, false },
    { "mg", OP_CLASS_READ, MC_SHAPE_META, 1, 0, false },
    { "ms", OP_CLASS_WRITE, MC_SHAPE_META, 1, 2, false },
    { "md", OP_CLASS_WRITE, MC_SHAPE_META, 1, 0, false },
    { "ma", OP_CLASS_WRITE, MC_SHAPE_META, 1, 0, false },
    { "mn", OP_CLASS_HANDSHAKE, MC_SHAPE_META, 0, 0, false },
    { "me", OP_CLASS_READ, MC_SHAPE_LINE, 1, 0, false },
    { "flush_all", OP_CLASS_DESTROY, MC_SHAPE_LINE, 0, 0, false },
    { "shutdown", OP_CLASS_DESTROY, MC_SHAPE_LINE, 0, 0, false },
    { "version", OP_CLASS_HANDSHAKE, MC_SHAPE_LINE, 0, 0, false },
    { "verbosity", OP_CLASS_ADMIN, MC_SHAPE_LINE, 0, 0, false },
    { "quit", OP_CLASS_HANDSHAKE, MC_SHAPE_LINE, 0, 0, false },
    { "stats", OP_CLASS_HANDSHAKE, MC_SHAPE_LIST, 0, 0, false },
    { "lru_crawler", OP_CLASS_ADMIN, MC_SHAPE_LINE, 0, 0, false },
    { "slabs", OP_CLASS_ADMIN, MC_SHAPE_LINE, 0, 0, false },
    { "lru", OP_CLASS_ADMIN, MC_SHAPE_LINE, 0, 0, false },
    { "cache_memlimit", OP_CLASS_ADMIN, MC_SHAPE_LINE, 0, 0, false },
    { "watch", OP_CLASS_ADMIN, MC_SHAPE_LINE, 0, 0, false },
};

#define MC_COMMAND_COUNT (sizeof(mc_commands) / sizeof(mc_commands[0]))

/* "stats <group>": the groups named in the op, and their class. */
static const struct {
    const char *group;
    enum op_class op_class;
} mc_stats_groups[] = {
    { "items", OP_CLASS_ENUMERATE },   { "slabs", OP_CLASS_ENUMERATE },
    { "sizes", OP_CLASS_ENUMERATE },   { "cachedump", OP_CLASS_ENUMERATE },
    { "detail", OP_CLASS_ENUMERATE },  { "settings", OP_CLASS_HANDSHAKE },
    { "conns", OP_CLASS_HANDSHAKE },   { "extstore", OP_CLASS_HANDSHAKE },
    { "reset", OP_CLASS_ADMIN },
};

static const struct mc_command *find_command(const struct mc_token *t)
{
    for (size_t i = 0; i < MC_COMMAND_COUNT; i++) {
        size_t n = strlen(mc_commands[i].verb);
        if (t->len == n && memcmp(t->p, mc_commands[i].verb, n) == 0)
            return &mc_commands[i];
    }
    return NULL;
}

bool mc_text_is_command(const struct mc_token *t)
{
    return find_command(t) != NULL;
}

bool mc_text_known(enum decoder_dir dir, const struct mc_line *line)
{
    if (line->token_count == 0)
        return false;
    if (dir == DIR_TO_SERVER)
        return find_command(&line->tok[0]) != NULL;
    enum mc_reply_kind kind = mc_reply_classify(line);
    return kind != MC_REPLY_OTHER && kind != MC_REPLY_NUMBER;
}

static void set_token(struct op_record *op, char *dst, size_t cap, const struct mc_token *t)
{
    op_set_string(op, dst, cap, (const char *)t->p, t->len);
}

/* The target: tokens from `first` to the line's last one, as they lie. */
static void set_rest(struct op_record *op, const struct mc_line *line, size_t first)
{
    if (line->token_count <= first || first >= MC_TOKENS_MAX)
        return;
    const uint8_t *start = line->tok[first].p;
    const uint8_t *end = line->last.p + line->last.len;
    op_set_string(op, op->target, sizeof(op->target), (const char *)start,
                  (size_t)(end - start));
}

/* "stats", "stats <group>" (a known group), else "stats" with the group as
 * target; the arguments after a known group (cachedump's "<slab> <limit>",
 * detail's "dump") are its target. */
static void stats_op(struct op_record *op, const struct mc_line *line)
{
    op_set_string(op, op->op, sizeof(op->op), "stats", 5);
    op->op_class = OP_CLASS_HANDSHAKE;
    if (line->token_count < 2)
        return;
    for (size_t i = 0; i < sizeof(mc_stats_groups) / sizeof(mc_stats_groups[0]); i++) {
        if (!mc_token_is(line, 1, mc_stats_groups[i].group))
            continue;
        char name[OP_NAME_MAX];
        int n = snprintf(name, sizeof(name), "stats %s", mc_stats_groups[i].group);
        op_set_string(op, op->op, sizeof(op->op), name, (size_t)n);
        op->op_class = (uint8_t)mc_stats_groups[i].op_class;
        set_rest(op, line, 2);
        return;
    }
    set_token(op, op->target, sizeof(op->target), &line->tok[1]);
}

/* "lru_crawler metadump|mgdump <all|slabs>" lists keys: enumerate, its
 * target the slab list; any other lru_crawler subcommand is admin. */
static enum mc_shape lru_crawler_op(struct op_record *op, const struct mc_line *line)
{
    if (mc_token_is(line, 1, "metadump") || mc_token_is(line, 1, "mgdump")) {
        char name[OP_NAME_MAX];
        int n = snprintf(name, sizeof(name), "lru_crawler %.*s", (int)line->tok[1].len,
                         (const char *)line->tok[1].p);
        op_set_string(op, op->op, sizeof(op->op), name, (size_t)n);
        op->op_class = OP_CLASS_ENUMERATE;
        set_rest(op, line, 2);
        return MC_SHAPE_LIST;
    }
    op_set_string(op, op->op, sizeof(op->op), "lru_crawler", 11);
    op->op_class = OP_CLASS_ADMIN;
    if (line->token_count >= 2)
        set_token(op, op->target, sizeof(op->target), &line->tok[1]);
    return MC_SHAPE_LINE;
}

/* True when the request asks for no reply: "noreply" last, or a meta
 * command's quiet flag "q". */
static bool asks_no_reply(const struct mc_command *c, const struct mc_line *line)
{
    if (line->token_count > 1 && line->last.len == 7 && memcmp(line->last.p, "noreply", 7) == 0)
        return true;
    if (c->shape == MC_SHAPE_META)
        for (size_t i = 2; i < line->token_count && i < MC_TOKENS_MAX; i++)
            if (mc_token_is(line, i, "q"))
                return true;
    return strcmp(c->verb, "quit") == 0;
}

/* A known command: its name, class, keys and data block. */
static enum mc_shape command_op(struct mc_flow *f, struct op_record *op,
                                const struct mc_command *c, const struct mc_line *line)
{
    if (strcmp(c->verb, "stats") == 0) {
        stats_op(op, line);
        return MC_SHAPE_LIST;
    }
    if (strcmp(c->verb, "lru_crawler") == 0)
        return lru_crawler_op(op, line);
    op_set_string(op, op->op, sizeof(op->op), c->verb, strlen(c->verb));
    op->op_class = (uint8_t)c->op_class;
    if (c->key_token > 0 && line->token_count > c->key_token) {
        set_token(op, op->target, sizeof(op->target), &line->tok[c->key_token]);
        if (c->multi_key)
            op->page_size = (int64_t)(line->token_count - c->key_token);
    }
    uint64_t n;
    if (strcmp(c->verb, "flush_all") == 0 && line->token_count >= 2 &&
        mc_token_number(&line->tok[1], &n))
        set_token(op, op->target, sizeof(op->target), &line->tok[1]);
    if (c->data_token > 0 && line->token_count > c->data_token &&
        mc_token_number(&line->tok[c->data_token], &n) && n <= UINT64_MAX - 2) {
        f->dir[DIR_TO_SERVER].skip = n + 2;
        op->request_bytes += n + 2;
    }
    return c->shape;
}

void mc_text_request(struct mc_flow *f, struct decoder_ctx *ctx, const struct mc_line *line,
                     uint64_t ts)
{
    if (line->token_count == 0)
        return;     /* a blank line asks nothing */
    struct op_record op;
    mc_request_op(f, ctx, &op, ts);
    op.request_bytes = line->line_len;
    const struct mc_command *c = find_command(&line->tok[0]);
    if (c == NULL) {
        set_token(&op, op.op, sizeof(op.op), &line->tok[0]);
        mc_lower(op.op);
        mc_pending_push(f, ctx, &op, MC_SHAPE_LINE);
        return;
    }
    enum mc_shape shape = command_op(f, &op, c, line);
    if (shape == MC_SHAPE_VALUES || shape == MC_SHAPE_LIST)
        op.items = 0;   /* counted as the reply comes */
    if (asks_no_reply(c, line)) {
        mc_emit(f, ctx, &op);
        return;
    }
    mc_pending_push(f, ctx, &op, shape);
}

/* ---- replies ---- */

/* The op a reply line answers: the oldest waiting text request, else a new
 * "reply" op flagged unpaired (a listing it starts absorbs lines up to END). */
static struct mc_pending *reply_target(struct mc_flow *f, struct decoder_ctx *ctx,
                                       enum mc_reply_kind kind, uint64_t ts)
{
    struct mc_pending *e = f->udp_orphan ? NULL : mc_pending_front(f);
    if (e != NULL && e->shape <= MC_SHAPE_META)
        return e;
    decoder_count(ctx, MEMCACHED_COUNTER_UNPAIRED);
    struct op_record op;
    op_record_init(&op, APP_MEMCACHED);
    op_set_string(&op, op.op, sizeof(op.op), "reply", 5);
    op.flags |= OP_FLAG_UNPAIRED;
    op.ts_request_us = ts;
    op.authenticated = f->auth;
    enum mc_shape shape = MC_SHAPE_LINE;
    if (kind == MC_REPLY_VALUE)
        shape = MC_SHAPE_VALUES;
    else if (kind == MC_REPLY_STAT || kind == MC_REPLY_ITEM || kind == MC_REPLY_KEY)
        shape = MC_SHAPE_LIST;
    if (shape != MC_SHAPE_LINE)
        op.items = 0;
    mc_pending_push(f, ctx, &op, shape);
    if (f->pending_count > 1)
        mc_pending_to_front(f, f->pending_count - 1);
    f->udp_orphan = false;
    return mc_pending_front(f);
}

static void finish_reply(struct mc_flow *f, struct decoder_ctx *ctx, enum op_status status)
{
    struct mc_pending *e = mc_pending_front(f);
    e->op.status = (uint8_t)status;
    e->op.ts_response_us = ctx->now_us;
    struct mc_dir *d = &f->dir[DIR_TO_CLIENT];
    if (d->partial_next) {
        e->op.flags |= OP_FLAG_PARTIAL;
        d->partial_next = false;
    }
    mc_pending_finish(f, ctx, 0);
}

/* ERROR, CLIENT_ERROR, SERVER_ERROR end any reply; the message is never
 * copied. "CLIENT_ERROR unauthenticated" is a denial. */
static void error_reply(struct mc_flow *f, struct decoder_ctx *ctx, const struct mc_line *line,
                        enum mc_reply_kind kind)
{
    struct mc_pending *e = mc_pending_front(f);
    const char *type = kind == MC_REPLY_ERROR ? "ERROR"
                       : kind == MC_REPLY_CLIENT_ERROR ? "CLIENT_ERROR" : "SERVER_ERROR";
    op_set_string(&e->op, e->op.error_type, sizeof(e->op.error_type), type, strlen(type));
    bool denied = kind == MC_REPLY_CLIENT_ERROR && mc_token_is(line, 1, "unauthenticated");
    finish_reply(f, ctx, denied ? OP_STATUS_DENIED : OP_STATUS_ERROR);
}

/* A VALUE or VA line: its data block is skipped; false when its length is
 * unreadable (framing is lost). */
static bool skip_value(struct mc_flow *f, struct decoder_ctx *ctx, struct mc_pending *e,
                       const struct mc_line *line, enum mc_reply_kind kind)
{
    uint64_t n;
    if (!mc_reply_data_length(line, kind, &n) || n > UINT64_MAX - 2) {
        decoder_count(ctx, MEMCACHED_COUNTER_MALFORMED);
        mc_lose(f, ctx, DIR_TO_CLIENT, 0);
        return false;
    }
    f->dir[DIR_TO_CLIENT].skip = n + 2;
    e->op.response_bytes += n + 2;
    return true;
}

static void meta_reply(struct mc_flow *f, struct decoder_ctx *ctx, struct mc_pending *e,
                       const struct mc_line *line, enum mc_reply_kind kind)
{
    bool read = e->op.op_class == OP_CLASS_READ;
    if (kind == MC_REPLY_META_VALUE && !skip_value(f, ctx, e, line, kind))
        return;
    if (read && (kind == MC_REPLY_META_VALUE || kind == MC_REPLY_META_HIT))
        e->op.items = 1;
    else if (read && kind == MC_REPLY_META_MISS)
        e->op.items = 0;
    finish_reply(f, ctx, OP_STATUS_OK);
}

static void values_reply(struct mc_flow *f, struct decoder_ctx *ctx, struct mc_pending *e,
                         const struct mc_line *line, enum mc_reply_kind kind)
{
    if (kind == MC_REPLY_VALUE) {
        if (skip_value(f, ctx, e, line, kind))
            e->op.items++;
        return;
    }
    if (kind == MC_REPLY_END) {
        finish_reply(f, ctx, OP_STATUS_OK);
        return;
    }
    decoder_count(ctx, MEMCACHED_COUNTER_MALFORMED);
    finish_reply(f, ctx, OP_STATUS_ERROR);
}

/* NOT_FOUND, EXISTS, NOT_STORED: the client's "nothing done", kept as the
 * binary protocol's status for the same outcome (1, 2, 5). */
static uint16_t miss_code(const struct mc_line *line)
{
    if (mc_token_is(line, 0, "NOT_FOUND"))
        return 1;
    return mc_token_is(line, 0, "EXISTS") ? 2 : 5;
}

void mc_text_reply(struct mc_flow *f, struct decoder_ctx *ctx, const struct mc_line *line,
                   uint64_t ts)
{
    if (line->token_count == 0)
        return;
    enum mc_reply_kind kind = mc_reply_classify(line);
    struct mc_pending *e = reply_target(f, ctx, kind, ts);
    e->answered = 1;
    e->op.response_bytes += line->line_len;
    if (kind == MC_REPLY_ERROR || kind == MC_REPLY_CLIENT_ERROR ||
        kind == MC_REPLY_SERVER_ERROR) {
        error_reply(f, ctx, line, kind);
        return;
    }
    switch ((enum mc_shape)e->shape) {
    case MC_SHAPE_VALUES:
        values_reply(f, ctx, e, line, kind);
        return;
    case MC_SHAPE_LIST:
        if (kind == MC_REPLY_END)
            finish_reply(f, ctx, OP_STATUS_OK);
        else
            e->op.items++;
        return;
    case MC_SHAPE_META:
        meta_reply(f, ctx, e, line, kind);
        return;
    default:
        if (kind == MC_REPLY_MISS)
            e->op.status_code = miss_code(line);
        finish_reply(f, ctx, OP_STATUS_OK);
        return;
    }
}
