/* memcached_binary.c - the binary protocol: requests wait for the response
 * carrying their opaque. Quiet requests get a response only on failure: a
 * quiet op is taken as done (ok) when a later request's response arrives,
 * and a multi-get sent as quiet gets (GETQ/GETKQ...) closed by a NOOP (or
 * a plain GET/GETK) is folded into one op "get": page_size the keys asked,
 * items the hits. STAT answers with one response per statistic and ends
 * with an empty key: one op, items the statistics. */
#include "memcached_flow.h"

#include <stdio.h>
#include <string.h>

enum mc_bin_kind { MC_BIN_OTHER = 0, MC_BIN_GET, MC_BIN_NOOP, MC_BIN_STAT, MC_BIN_SASL };

struct mc_opcode {
    uint8_t code;
    const char *name;       /* the text protocol's name for the action */
    enum op_class op_class;
    bool quiet;
    enum mc_bin_kind kind;
};

static const struct mc_opcode mc_opcodes[] = {
    { 0x00, "get", OP_CLASS_READ, false, MC_BIN_GET },
    { 0x01, "set", OP_CLASS_WRITE, false, MC_BIN_OTHER },
    { 0x02, "add", OP_CLASS_WRITE, false, MC_BIN_OTHER },
    { 0x03, "replace", OP_CLASS_WRITE, false, MC_BIN_OTHER },
    { 0x04, "delete", OP_CLASS_WRITE, false, MC_BIN_OTHER },
    { 0x05, "incr", OP_CLASS_WRITE, false, MC_BIN_OTHER },
    { 0x06, "decr", OP_CLASS_WRITE, false, MC_BIN_OTHER },
    { 0x07, "quit", OP_CLASS_HANDSHAKE, false, MC_BIN_OTHER },
    { 0x08, "flush_all", OP_CLASS_DESTROY, false, MC_BIN_OTHER },
    { 0x09, "get", OP_CLASS_READ, true, MC_BIN_GET },               /* GETQ */
    { 0x0a, "noop", OP_CLASS_HANDSHAKE, false, MC_BIN_NOOP },
    { 0x0b, "version", OP_CLASS_HANDSHAKE, false, MC_BIN_OTHER },
    { 0x0c, "get", OP_CLASS_READ, false, MC_BIN_GET },              /* GETK */
    { 0x0d, "get", OP_CLASS_READ, true, MC_BIN_GET },               /* GETKQ */
    { 0x0e, "append", OP_CLASS_WRITE, false, MC_BIN_OTHER },
    { 0x0f, "prepend", OP_CLASS_WRITE, false, MC_BIN_OTHER },
    { 0x10, "stats", OP_CLASS_HANDSHAKE, false, MC_BIN_STAT },
    { 0x11, "set", OP_CLASS_WRITE, true, MC_BIN_OTHER },
    { 0x12, "add", OP_CLASS_WRITE, true, MC_BIN_OTHER },
    { 0x13, "replace", OP_CLASS_WRITE, true, MC_BIN_OTHER },
    { 0x14, "delete", OP_CLASS_WRITE, true, MC_BIN_OTHER },
    { 0x15, "incr", OP_CLASS_WRITE, true, MC_BIN_OTHER },
    { 0x16, "decr", OP_CLASS_WRITE, true, MC_BIN_OTHER },
    { 0x17, "quit", OP_CLASS_HANDSHAKE, true, MC_BIN_OTHER },
    { 0x18, "flush_all", OP_CLASS_DESTROY, true, MC_BIN_OTHER },
    { 0x19, "append", OP_CLASS_WRITE, true, MC_BIN_OTHER },
    { 0x1a, "prepend", OP_CLASS_WRITE, true, MC_BIN_OTHER },
    { 0x1b, "verbosity", OP_CLASS_ADMIN, false, MC_BIN_OTHER },
    { 0x1c, "touch", OP_CLASS_WRITE, false, MC_BIN_OTHER },
    { 0x1d, "gat", OP_CLASS_READ, false, MC_BIN_GET },
    { 0x1e, "gat", OP_CLASS_READ, true, MC_BIN_GET },               /* GATQ */
    { 0x20, "sasl_list_mechs", OP_CLASS_AUTH, false, MC_BIN_SASL },
    { 0x21, "sasl_auth", OP_CLASS_AUTH, false, MC_BIN_SASL },
    { 0x22, "sasl_step", OP_CLASS_AUTH, false, MC_BIN_SASL },
    { 0x23, "gat", OP_CLASS_READ, false, MC_BIN_GET },              /* GATK */
    { 0x24, "gat", OP_CLASS_READ, true, MC_BIN_GET },               /* GATKQ */
};

#define MC_STATUS_OK 0x0000
#define MC_STATUS_NOT_FOUND 0x0001
#define MC_STATUS_AUTH_ERROR 0x0020
#define MC_STATUS_AUTH_CONTINUE 0x0021

static const struct {
    uint16_t status;
    const char *name;
} mc_status_names[] = {
    { 0x0002, "KEY_EXISTS" },       { 0x0003, "VALUE_TOO_LARGE" },
    { 0x0004, "INVALID_ARGUMENTS" },{ 0x0005, "ITEM_NOT_STORED" },
    { 0x0006, "NON_NUMERIC" },      { 0x0007, "WRONG_VBUCKET" },
    { 0x0008, "AUTH_REQUIRED" },    { 0x0020, "AUTH_ERROR" },
    { 0x0021, "AUTH_CONTINUE" },    { 0x0081, "UNKNOWN_COMMAND" },
    { 0x0082, "OUT_OF_MEMORY" },    { 0x0083, "NOT_SUPPORTED" },
    { 0x0084, "INTERNAL_ERROR" },   { 0x0085, "BUSY" },
    { 0x0086, "TEMPORARY_FAILURE" },
};

static const char *const mc_bin_stats_groups[] = {
    "items", "slabs", "sizes", "settings", "conns", "detail", "reset", "extstore",
};

static const struct mc_opcode *find_opcode(uint8_t code)
{
    for (size_t i = 0; i < sizeof(mc_opcodes) / sizeof(mc_opcodes[0]); i++)
        if (mc_opcodes[i].code == code)
            return &mc_opcodes[i];
    return NULL;
}

bool mc_bin_known_opcode(uint8_t opcode)
{
    return find_opcode(opcode) != NULL;
}

static bool key_is(const struct mc_bin_header *h, const char *word)
{
    size_t n = strlen(word);
    return h->key_len == n && memcmp(h->key, word, n) == 0;
}

/* STAT with a key: "stats <group>" for a known group (enumerate for the
 * listings), else "stats" with the key as target. */
static void stats_op(struct op_record *op, const struct mc_bin_header *h)
{
    for (size_t i = 0; i < sizeof(mc_bin_stats_groups) / sizeof(mc_bin_stats_groups[0]); i++) {
        if (!key_is(h, mc_bin_stats_groups[i]))
            continue;
        char name[OP_NAME_MAX];
        int n = snprintf(name, sizeof(name), "stats %s", mc_bin_stats_groups[i]);
        op_set_string(op, op->op, sizeof(op->op), name, (size_t)n);
        if (i < 3 || i == 5)
            op->op_class = OP_CLASS_ENUMERATE;
        else if (i == 6)
            op->op_class = OP_CLASS_ADMIN;
        return;
    }
    op_set_string(op, op->target, sizeof(op->target), (const char *)h->key, h->key_len);
}

/* SASL: the key is the mechanism (kept, lower-cased, as auth_scheme); the
 * value is the credential: never read, only flagged. */
static void sasl_op(struct mc_flow *f, struct op_record *op, const struct mc_bin_header *h)
{
    if (h->key_len > 0) {
        op_set_string(op, f->mechanism, sizeof(f->mechanism), (const char *)h->key, h->key_len);
        mc_lower(f->mechanism);
    }
    if (h->opcode != 0x20) {
        op_set_string(op, op->auth_scheme, sizeof(op->auth_scheme), f->mechanism,
                      strlen(f->mechanism));
        if (h->value_len > 0)
            op->flags |= OP_FLAG_AUTH_HEADER;
    }
}

/* A get folds into the open batch of quiet gets before it, if any. */
static bool fold_into_batch(struct mc_flow *f, const struct mc_opcode *c,
                            const struct mc_bin_header *h, uint64_t bytes)
{
    struct mc_pending *back = mc_pending_back(f);
    if (back == NULL || back->shape != MC_SHAPE_BIN_BATCH || !back->batch_open)
        return false;
    if (c->kind == MC_BIN_GET && strcmp(back->op.op, c->name) != 0)
        return false;
    back->op.request_bytes += bytes;
    if (c->kind == MC_BIN_GET)
        back->op.page_size++;
    if (!c->quiet) {
        back->opaque = h->opaque;   /* its response closes the batch */
        back->batch_open = 0;
    }
    return true;
}

void mc_bin_request(struct mc_flow *f, struct decoder_ctx *ctx, const struct mc_bin_header *h,
                    uint64_t ts)
{
    const struct mc_opcode *c = find_opcode(h->opcode);
    uint64_t bytes = MC_BIN_HEADER + (uint64_t)h->body_len;
    if ((c->kind == MC_BIN_GET || c->kind == MC_BIN_NOOP) && fold_into_batch(f, c, h, bytes))
        return;
    struct op_record op;
    mc_request_op(f, ctx, &op, ts);
    op.request_bytes = bytes;
    op_set_string(&op, op.op, sizeof(op.op), c->name, strlen(c->name));
    op.op_class = (uint8_t)c->op_class;
    enum mc_shape shape = c->quiet ? MC_SHAPE_BIN_QUIET : MC_SHAPE_BIN;
    if (c->kind == MC_BIN_STAT) {
        stats_op(&op, h);
        shape = MC_SHAPE_BIN_STAT;
        op.items = 0;
    } else if (c->kind == MC_BIN_SASL) {
        sasl_op(f, &op, h);
    } else {
        op_set_string(&op, op.target, sizeof(op.target), (const char *)h->key, h->key_len);
    }
    if (c->kind == MC_BIN_GET) {
        op.items = 0;
        op.page_size = 1;
        if (c->quiet)
            shape = MC_SHAPE_BIN_BATCH;
    }
    struct mc_pending *e = mc_pending_push(f, ctx, &op, shape);
    e->opaque = h->opaque;
    e->batch_open = shape == MC_SHAPE_BIN_BATCH;
}

/* ---- responses ---- */

static void set_status(struct op_record *op, uint16_t status)
{
    if (status == MC_STATUS_OK || status == MC_STATUS_NOT_FOUND) {
        op->status = OP_STATUS_OK;      /* a miss is an answer, kept as its code */
        op->status_code = status;
        return;
    }
    op->status_code = status;
    op->status = (uint8_t)(status == MC_STATUS_AUTH_ERROR ? OP_STATUS_DENIED
                           : status == MC_STATUS_AUTH_CONTINUE ? OP_STATUS_OK
                           : OP_STATUS_ERROR);
    const char *name = "UNKNOWN_STATUS";
    for (size_t i = 0; i < sizeof(mc_status_names) / sizeof(mc_status_names[0]); i++)
        if (mc_status_names[i].status == status)
            name = mc_status_names[i].name;
    if (status != MC_STATUS_AUTH_CONTINUE)
        op_set_string(op, op->error_type, sizeof(op->error_type), name, strlen(name));
}

/* The waiting binary entry a response answers: by opaque, or for a quiet
 * get's hit, the oldest batch; the count of entries before it, or -1. */
static ptrdiff_t find_entry(struct mc_flow *f, const struct mc_opcode *c,
                            const struct mc_bin_header *h)
{
    bool quiet_get = c->kind == MC_BIN_GET && c->quiet;
    for (size_t i = 0; i < f->pending_count; i++) {
        const struct mc_pending *e = mc_pending_at(f, i);
        if (e->shape < MC_SHAPE_BIN)
            continue;
        if (quiet_get ? e->shape == MC_SHAPE_BIN_BATCH : e->opaque == h->opaque)
            return (ptrdiff_t)i;
    }
    return -1;
}

static void unpaired_response(struct mc_flow *f, struct decoder_ctx *ctx,
                              const struct mc_opcode *c, const struct mc_bin_header *h)
{
    decoder_count(ctx, MEMCACHED_COUNTER_UNPAIRED);
    struct op_record op;
    op_record_init(&op, APP_MEMCACHED);
    op_set_string(&op, op.op, sizeof(op.op), c->name, strlen(c->name));
    op.op_class = (uint8_t)c->op_class;
    op.flags |= OP_FLAG_UNPAIRED;
    op.authenticated = f->auth;
    op.response_bytes = MC_BIN_HEADER + (uint64_t)h->body_len;
    op.ts_request_us = op.ts_response_us = ctx->now_us;
    set_status(&op, h->status);
    mc_emit(f, ctx, &op);
}

/* Entries older than the one answered: a quiet op's silence meant success;
 * any other lost its response. */
static void finish_older(struct mc_flow *f, struct decoder_ctx *ctx, size_t n)
{
    for (; n > 0; n--) {
        struct mc_pending *e = mc_pending_front(f);
        if (e->shape == MC_SHAPE_BIN_QUIET || e->shape == MC_SHAPE_BIN_BATCH) {
            if (e->op.status == OP_STATUS_UNKNOWN)
                e->op.status = OP_STATUS_OK;
        } else {
            e->op.flags |= e->answered ? OP_FLAG_PARTIAL : OP_FLAG_NO_RESPONSE;
        }
        mc_pending_finish(f, ctx, 0);
    }
}

void mc_bin_response(struct mc_flow *f, struct decoder_ctx *ctx, const struct mc_bin_header *h)
{
    const struct mc_opcode *c = find_opcode(h->opcode);
    ptrdiff_t i = find_entry(f, c, h);
    if (i < 0) {
        unpaired_response(f, ctx, c, h);
        return;
    }
    finish_older(f, ctx, (size_t)i);
    struct mc_pending *e = mc_pending_front(f);
    e->answered = 1;
    e->op.response_bytes += MC_BIN_HEADER + (uint64_t)h->body_len;
    e->op.ts_response_us = ctx->now_us;
    if (c->kind == MC_BIN_GET && h->status == MC_STATUS_OK)
        e->op.items++;
    if (e->shape == MC_SHAPE_BIN_STAT && h->key_len > 0 && h->status == MC_STATUS_OK) {
        e->op.items++;
        return;
    }
    if (c->kind == MC_BIN_GET && c->quiet) {
        if (h->status != MC_STATUS_OK && h->status != MC_STATUS_NOT_FOUND)
            set_status(&e->op, h->status);
        return;     /* the batch waits for its NOOP */
    }
    if (e->op.status == OP_STATUS_UNKNOWN || h->status != MC_STATUS_OK)
        set_status(&e->op, h->status);
    if (c->kind == MC_BIN_SASL && h->opcode != 0x20 && h->status == MC_STATUS_OK) {
        f->auth = OP_AUTH_YES;
        e->op.authenticated = OP_AUTH_YES;
        e->op.auth_result = OP_AUTH_RESULT_SUCCESS;
    } else if (c->kind == MC_BIN_SASL && h->status == MC_STATUS_AUTH_ERROR) {
        e->op.auth_result = OP_AUTH_RESULT_FAILURE;   /* AUTH_CONTINUE: a step, no outcome yet */
    }
    struct mc_dir *d = &f->dir[DIR_TO_CLIENT];
    if (d->partial_next) {
        e->op.flags |= OP_FLAG_PARTIAL;
        d->partial_next = false;
    }
    mc_pending_finish(f, ctx, 0);
}
