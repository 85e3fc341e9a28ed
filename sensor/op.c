/* op.c - helpers for op records: init, bounded string copy, enum names. */
#include "op.h"

#include <string.h>

static const char *const app_names[APP_COUNT] = {
    "unknown", "http", "elasticsearch", "opensearch", "kibana", "mongodb",
    "redis", "memcached", "couchdb", "solr", "cassandra",
};

static const char *const class_names[OP_CLASS_COUNT] = {
    "unknown", "handshake", "auth", "enumerate", "read", "write", "admin", "destroy",
};

void op_record_init(struct op_record *op, enum app_id app)
{
    memset(op, 0, sizeof(*op));
    op->app = (uint8_t)app;
    op->items = -1;
    op->page_size = -1;
    op->offset = -1;
    op->total = -1;
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

const char *app_name(enum app_id app)
{
    return (unsigned)app < APP_COUNT ? app_names[app] : "unknown";
}

enum app_id app_from_name(const char *name)
{
    for (int i = 1; i < APP_COUNT; i++)
        if (strcmp(app_names[i], name) == 0)
            return (enum app_id)i;
    return APP_UNKNOWN;
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
