/* op.c - helpers for op records: init, bounded string copy, enum names. */
#include "op.h"

#include <string.h>

#include "hash.h"

static const char *const class_names[OP_CLASS_COUNT] = {
    "unknown", "handshake", "auth", "enumerate", "read", "write", "admin", "destroy",
};

static const struct { uint32_t bit; const char *name; } flag_names[] = {
    {OP_FLAG_PARTIAL, "partial"},         {OP_FLAG_NO_RESPONSE, "no_response"},
    {OP_FLAG_TRUNCATED, "truncated"},     {OP_FLAG_AUTH_HEADER, "auth_header"},
    {OP_FLAG_HEAD_ONLY, "no_body"},       {OP_FLAG_UNPAIRED, "unpaired"},
    {OP_FLAG_VIA_KIBANA, "via_kibana"},   {OP_FLAG_MATCH_ALL, "match_all"},
    {OP_FLAG_CONTINUES, "continues"},     {OP_FLAG_COMPRESSED, "compressed"},
    {OP_FLAG_BODY_CAPPED, "body_capped"}, {OP_FLAG_SECURITY_OFF, "security_off"},
    {OP_FLAG_LEGACY_OPCODE, "legacy_opcode"}, {OP_FLAG_PROBE, "probe"},
    {OP_FLAG_AMPLIFIED, "amplified"},     {OP_FLAG_MIDSTREAM, "midstream"},
};

void op_continuation_hash(const void *id, size_t len, char out[OP_CONT_MAX])
{
    static const char hex[] = "0123456789abcdef";
    uint64_t h = hash_fnv1a64(id, len);
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[h & 15];
        h >>= 4;
    }
    out[16] = '\0';
}

const char *op_flag_at(size_t i, uint32_t *bit)
{
    if (i >= sizeof(flag_names) / sizeof(flag_names[0]))
        return NULL;
    *bit = flag_names[i].bit;
    return flag_names[i].name;
}

uint32_t op_flag_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
        if (strcmp(flag_names[i].name, name) == 0)
            return flag_names[i].bit;
    return 0;
}

void op_record_init(struct op_record *op, unsigned app)
{
    memset(op, 0, sizeof(*op));
    op->app = (uint8_t)app;
    op->items = -1;
    op->page_size = -1;
    op->offset = -1;
    op->total = -1;
    op->limit = -1;
}

void op_set_string(struct op_record *op, char *dst, size_t cap,
                   const char *src, size_t len)
{
    if (cap == 0)
        return;
    if (len >= cap) {
        len = cap - 1;
        op->flags |= OP_FLAG_TRUNCATED;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

const char *op_class_name(enum op_class c)
{
    return (unsigned)c < OP_CLASS_COUNT ? class_names[c] : "unknown";
}

const char *op_auth_name(enum op_auth a)
{
    switch (a) {
    case OP_AUTH_NO: return "no";
    case OP_AUTH_YES: return "yes";
    default: return "unknown";
    }
}

const char *op_status_name(enum op_status s)
{
    switch (s) {
    case OP_STATUS_OK: return "ok";
    case OP_STATUS_ERROR: return "error";
    case OP_STATUS_DENIED: return "denied";
    default: return "unknown";
    }
}

const char *op_auth_result_name(enum op_auth_result r)
{
    switch (r) {
    case OP_AUTH_RESULT_SUCCESS: return "success";
    case OP_AUTH_RESULT_FAILURE: return "failure";
    default: return NULL;
    }
}

const char *op_server_auth_hint_name(enum op_server_auth_hint h)
{
    return h == OP_SERVER_AUTH_HINT_ACCESS_CONTROL ? "access_control" : NULL;
}
