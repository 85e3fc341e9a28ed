/* mongodb.c - MongoDB wire protocol: framing, bodies, pairing, ops.
 *
 * Each direction runs one small state machine: the 16-byte header, then the
 * body field by field (a "program" per opcode: int32s, cstrings, BSON
 * documents, the rest skipped), then the next header. BSON documents are
 * walked as they stream in (bson.h) with a callback per role (the command
 * of a request, a legacy query or selector, a reply); the callbacks keep
 * only the facts an op needs (command name, $db, collection, filter empty
 * or not, batch sizes, cursor ids, the client document, ok/code/codeName,
 * documents in cursor.firstBatch/nextBatch). Nothing is buffered.
 *
 * OP_COMPRESSED: once its originalOpcode, uncompressedSize and compressorId
 * are read, the direction reads an ordinary message of originalOpcode whose
 * body is uncompressedSize bytes (the wire header's ids, the wire length),
 * and feeds it the bytes as a codec (mongodb_compressed.h) decompresses
 * them: noop, zlib and zstd as the payload streams in, through a 16 KiB
 * chunk; snappy, whose format needs the whole block, from the payload held
 * whole (at most compressed_max). Decompressed bytes are at most
 * decompressed_max; more than uncompressedSize, fewer, or a corrupt stream
 * is a decompress error.
 *
 * A request becomes a pending op keyed by its requestID; the reply whose
 * responseTo names it completes and emits it. Lost framing (a gap of
 * unknown length, a malformed header or document) is recovered by scanning
 * for the next plausible header: a known opcode, a sane length, and on the
 * server side a responseTo naming a pending request. */
#include "mongodb.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bson.h"
#include "mongodb_compressed.h"

#define MONGO_MESSAGE_MAX_DEFAULT ((size_t)48 * 1024 * 1024)
#define MONGO_COMPRESSED_MAX_DEFAULT ((size_t)16 * 1024 * 1024)
#define MONGO_NS_MAX 128          /* fullCollectionName / sequence id kept */
#define MONGO_DB_MAX 64
#define MONGO_FIELD_MAX 64        /* client document strings kept */
#define MONGO_NO_CLIENT "(none)"  /* client_id when the first command had no client document */

/* ------------------------------------------------------------ pure parts */

static bool opcode_known(int32_t op)
{
    switch (op) {
    case MONGO_OP_REPLY: case MONGO_OP_UPDATE: case MONGO_OP_INSERT: case MONGO_OP_QUERY:
    case MONGO_OP_GET_MORE: case MONGO_OP_DELETE: case MONGO_OP_KILL_CURSORS:
    case MONGO_OP_COMPRESSED: case MONGO_OP_MSG:
        return true;
    default:
        return false;
    }
}

int mongo_parse_header(const uint8_t *buf, size_t len, size_t max_length, struct mongo_header *h)
{
    if (len < MONGO_HEADER_LEN)
        return 0;
    h->length = bson_i32(buf);
    h->request_id = bson_i32(buf + 4);
    h->response_to = bson_i32(buf + 8);
    h->opcode = bson_i32(buf + 12);
    if (h->length < MONGO_HEADER_LEN || (uint64_t)h->length > max_length ||
        !opcode_known(h->opcode))
        return -1;
    return MONGO_HEADER_LEN;
}

/* The continuation hash every decoder uses, over the id's decimal text. */
void mongo_cursor_hash(int64_t id, char out[OP_CONT_MAX])
{
    char text[24];
    int n = snprintf(text, sizeof(text), "%" PRId64, id);
    op_continuation_hash(text, n > 0 ? (size_t)n : 0, out);
}

struct command_row {
    const char *name;
    enum op_class op_class;
};

static const struct command_row command_table[] = {
    {"hello", OP_CLASS_HANDSHAKE}, {"isMaster", OP_CLASS_HANDSHAKE},
    {"ismaster", OP_CLASS_HANDSHAKE}, {"buildInfo", OP_CLASS_HANDSHAKE},
    {"buildinfo", OP_CLASS_HANDSHAKE}, {"ping", OP_CLASS_HANDSHAKE},
    {"whatsmyuri", OP_CLASS_HANDSHAKE}, {"endSessions", OP_CLASS_HANDSHAKE},
    {"saslStart", OP_CLASS_AUTH}, {"saslContinue", OP_CLASS_AUTH},
    {"authenticate", OP_CLASS_AUTH}, {"getnonce", OP_CLASS_AUTH}, {"logout", OP_CLASS_AUTH},
    {"listDatabases", OP_CLASS_ENUMERATE}, {"listCollections", OP_CLASS_ENUMERATE},
    {"listIndexes", OP_CLASS_ENUMERATE}, {"collStats", OP_CLASS_ENUMERATE},
    {"dbStats", OP_CLASS_ENUMERATE}, {"dbstats", OP_CLASS_ENUMERATE},
    {"usersInfo", OP_CLASS_ENUMERATE}, {"rolesInfo", OP_CLASS_ENUMERATE},
    {"find", OP_CLASS_READ}, {"getMore", OP_CLASS_READ}, {"aggregate", OP_CLASS_READ},
    {"count", OP_CLASS_READ}, {"distinct", OP_CLASS_READ}, {"mapReduce", OP_CLASS_READ},
    {"insert", OP_CLASS_WRITE}, {"update", OP_CLASS_WRITE}, {"delete", OP_CLASS_WRITE},
    {"findAndModify", OP_CLASS_WRITE}, {"findandmodify", OP_CLASS_WRITE},
    {"create", OP_CLASS_WRITE}, {"createIndexes", OP_CLASS_WRITE},
    {"renameCollection", OP_CLASS_WRITE}, {"bulkWrite", OP_CLASS_WRITE},
    {"getLastError", OP_CLASS_WRITE}, {"getlasterror", OP_CLASS_WRITE},
    {"drop", OP_CLASS_DESTROY}, {"dropDatabase", OP_CLASS_DESTROY},
    {"dropIndexes", OP_CLASS_DESTROY}, {"dropAllUsersFromDatabase", OP_CLASS_DESTROY},
    {"serverStatus", OP_CLASS_ADMIN}, {"getLog", OP_CLASS_ADMIN}, {"currentOp", OP_CLASS_ADMIN},
    {"killOp", OP_CLASS_ADMIN}, {"killCursors", OP_CLASS_ADMIN}, {"shutdown", OP_CLASS_ADMIN},
    {"hostInfo", OP_CLASS_ADMIN}, {"getCmdLineOpts", OP_CLASS_ADMIN},
    {"replSetGetStatus", OP_CLASS_ADMIN}, {"listCommands", OP_CLASS_ADMIN},
    {"connectionStatus", OP_CLASS_ADMIN}, {"getParameter", OP_CLASS_ADMIN},
    {"setParameter", OP_CLASS_ADMIN}, {"top", OP_CLASS_ADMIN}, {"createUser", OP_CLASS_ADMIN},
    {"dropUser", OP_CLASS_ADMIN}, {"updateUser", OP_CLASS_ADMIN}, {"grantRolesToUser", OP_CLASS_ADMIN},
    {"fsync", OP_CLASS_ADMIN}, {"profile", OP_CLASS_ADMIN}, {"getFreeMonitoringStatus", OP_CLASS_ADMIN},
};

enum op_class mongo_command_class(const char *command)
{
    for (size_t i = 0; i < sizeof(command_table) / sizeof(command_table[0]); i++)
        if (strcmp(command_table[i].name, command) == 0)
            return command_table[i].op_class;
    return OP_CLASS_UNKNOWN;
}

static bool is_handshake_command(const char *c)
{
    return strcmp(c, "hello") == 0 || strcmp(c, "isMaster") == 0 || strcmp(c, "ismaster") == 0;
}

/* ------------------------------------------------------------ state */

/* What the body of a request said, as far as an op needs it. */
struct request_facts {
    char command[OP_NAME_MAX + 1];
    bool have_command;
    char db[MONGO_DB_MAX + 1];
    char collection[OP_TARGET_MAX + 1];
    bool filter_seen, filter_empty;
    bool pipeline_empty;
    bool hint_natural;
    int64_t batch_size, limit, skip;
    bool have_limit;
    bool have_cursor_id;
    int64_t cursor_id;
    bool client_doc;
    char app[MONGO_FIELD_MAX + 1], driver[MONGO_FIELD_MAX + 1], driver_version[MONGO_FIELD_MAX + 1];
    char os_type[MONGO_FIELD_MAX + 1];
    char mechanism[OP_SCHEME_MAX + 1];
    bool speculative_auth;
    bool delete_any, delete_empty;
    bool wrapped;            /* OP_QUERY: the command sits under $query */
    unsigned top_elements;   /* legacy query/selector: top-level elements (not $-modifiers) */
    bool truncated;
};

/* What a reply said. */
struct reply_facts {
    bool ok_seen, ok;
    bool code_seen;
    int32_t code;
    char code_name[OP_ERROR_MAX + 1];
    bool errmsg_seen;
    bool cursor_seen;
    int64_t cursor_id;
    int64_t items;
    bool done;
    bool spec_auth, spec_done;
    bool n_seen;
    int64_t n;
    bool signed_cluster_time;   /* $clusterTime.signature.keyId non-zero */
};

/* Which callback reads the document being walked. */
enum doc_role {
    ROLE_NONE = 0,
    ROLE_COMMAND,     /* OP_MSG kind 0 body of a request; OP_QUERY on $cmd */
    ROLE_SEQUENCE,    /* OP_MSG kind 1 document of a request */
    ROLE_LEGACY,      /* OP_QUERY on a collection, OP_UPDATE/OP_DELETE selector */
    ROLE_REPLY,       /* OP_MSG body of a reply; first document of an OP_REPLY */
    ROLE_IGNORE,      /* walked for its framing only */
};

/* What the reply counts as items. */
enum reply_count { COUNT_CURSOR = 0, COUNT_DATABASES, COUNT_VALUES, COUNT_NONE };

/* Body fields, in the order an opcode's program lists them. */
enum field {
    F_END = 0,     /* the rest of the body is skipped */
    F_I32,
    F_I64,
    F_U8,
    F_CSTRING,
    F_DOC,
    F_SECTIONS,    /* OP_MSG: sections until the checksum */
    F_PAYLOAD,     /* OP_COMPRESSED: the compressed bytes (body_feed stops here) */
};

static const uint8_t prog_msg[] = { F_I32, F_SECTIONS, F_END };
static const uint8_t prog_query[] = { F_I32, F_CSTRING, F_I32, F_I32, F_DOC, F_END };
static const uint8_t prog_reply[] = { F_I32, F_I64, F_I32, F_I32, F_DOC, F_END };
static const uint8_t prog_get_more[] = { F_I32, F_CSTRING, F_I32, F_I64, F_END };
static const uint8_t prog_kill[] = { F_I32, F_I32, F_END };
static const uint8_t prog_insert[] = { F_I32, F_CSTRING, F_END };
static const uint8_t prog_update[] = { F_I32, F_CSTRING, F_I32, F_DOC, F_END };
static const uint8_t prog_compressed[] = { F_I32, F_I32, F_U8, F_PAYLOAD, F_END };
static const uint8_t prog_none[] = { F_END };

enum section_state { SEC_KIND = 0, SEC_BODY, SEC_SEQ_SIZE, SEC_SEQ_ID, SEC_SEQ_DOCS, SEC_DONE };

enum dir_state { D_HEADER = 0, D_BODY, D_RESYNC };

/* What becomes of an OP_COMPRESSED message's payload bytes. */
enum inner_mode {
    INNER_NONE = 0,    /* not in a compressed payload */
    INNER_CODEC,       /* going through d->codec, parsed as it decompresses */
    INNER_STOPPED,     /* rejected, failed or cut: the rest is skipped */
};

struct mongo_dir {
    uint8_t state;               /* enum dir_state */
    uint8_t hbuf[MONGO_HEADER_LEN];
    size_t hlen;
    struct mongo_header hdr;     /* of the message being read (inner, if compressed) */
    uint64_t wire_length;        /* bytes of the message on the wire */
    uint64_t remaining;          /* body bytes not yet read (on the wire) */
    uint64_t body_left;          /* body bytes from the buffer body_feed reads (inner, if compressed) */
    uint64_t ts_first;           /* packet time of its first byte */
    bool skipping;               /* the rest of this message is not parsed */
    bool partial;                /* a gap cut it */
    bool malformed;              /* it could not be parsed to the end */
    bool too_large;
    bool compressed;
    bool seen_message;           /* a message began on this direction */

    const uint8_t *prog;
    size_t field;                /* index into prog */
    unsigned ints_read;
    int64_t ints[4];             /* the message's int32/int64 fields, in order */
    uint8_t fbuf[8];
    size_t flen;
    char cstr[MONGO_NS_MAX + 1];
    size_t cstr_len;
    bool cstr_cut;

    /* OP_MSG */
    uint32_t flag_bits;
    uint8_t sec_state;
    uint64_t checksum_len;
    uint64_t seq_left;           /* kind 1: bytes left in the section */
    char seq_id[MONGO_NS_MAX + 1];

    /* the document being walked */
    bool walking;
    uint8_t role;                /* enum doc_role */
    struct bson_stream walker;

    /* OP_COMPRESSED */
    uint8_t inner;               /* enum inner_mode */
    size_t payload_cap;          /* payload bytes on the wire */
    struct mongo_codec codec;    /* per message, released at its end */

    bool legacy_data;            /* request: a legacy query/getMore; reply: answers one */

    /* what it said */
    struct request_facts req;
    struct reply_facts rep;
    uint8_t count;               /* enum reply_count (replies) */
};

struct mongo_pending {
    int32_t request_id;
    bool legacy_data;        /* a legacy query/getMore: the reply holds data documents */
    struct op_record op;
};

struct mongo_flow {
    struct mongo_dir dirs[2];
    struct mongo_pending *pending;   /* requests waiting for their reply, oldest first */
    size_t pending_count, pending_cap;
    /* the exhaust stream in progress: replies answering `exhaust_id` continue it */
    bool exhaust;
    int32_t exhaust_id, exhaust_first_id;
    struct op_record exhaust_op;
    bool exhaust_legacy_data;
    /* the reply being read pairs with this op (NULL: unpaired) */
    struct op_record reply_op;
    bool reply_paired;
    /* connection */
    bool first_command_seen;
    uint8_t zero_id_requests;    /* requests from the start all with requestID 0
                                    (zgrab2's shape, zgrab2_probe_label) */
    char client_id[OP_CLIENT_MAX];
    bool authenticated;
    bool auth_failed;
    bool midstream;          /* the connection's start was not seen (decoder_ctx.midstream) */
    char mechanism[OP_SCHEME_MAX + 1];
    /* bytes allocated beyond this struct (codecs, chunks, a snappy payload) */
    struct mongo_held held;
};

static const struct mongodb_params *params_of(const struct decoder_ctx *ctx)
{
    return ctx->params;
}

static size_t message_max(const struct decoder_ctx *ctx)
{
    size_t n = ctx->params ? params_of(ctx)->message_max : 0;
    return n >= MONGO_HEADER_LEN ? n : MONGO_MESSAGE_MAX_DEFAULT;
}

static size_t compressed_max(const struct decoder_ctx *ctx)
{
    size_t n = ctx->params ? params_of(ctx)->compressed_max : 0;
    return n > 0 ? n : MONGO_COMPRESSED_MAX_DEFAULT;
}

static size_t decompressed_max(const struct decoder_ctx *ctx)
{
    size_t n = ctx->params ? params_of(ctx)->decompressed_max : 0;
    return n > 0 ? n : MONGO_MESSAGE_MAX_DEFAULT;
}

static size_t pending_limit(const struct decoder_ctx *ctx)
{
    size_t n = ctx->params ? params_of(ctx)->pending_max : 0;
    return n < 1 ? 1 : n;
}

/* Copies a wire string into a fixed buffer (cap includes the NUL). */
static void copy_text(char *dst, size_t cap, const void *src, size_t len, bool *cut)
{
    if (len >= cap) {
        len = cap - 1;
        if (cut)
            *cut = true;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

static bool key_is(const struct bson_event *ev, const char *k)
{
    return !ev->key_cut && strcmp(ev->key, k) == 0;
}

static bool event_int64(const struct bson_event *ev, int64_t *out)
{
    struct bson_elem e = { ev->type, ev->key, ev->key_len, ev->value, ev->value_len };
    return ev->value != NULL && bson_elem_int64(&e, out);
}

static bool event_truthy(const struct bson_event *ev, bool *out)
{
    struct bson_elem e = { ev->type, ev->key, ev->key_len, ev->value, ev->value_len };
    return ev->value != NULL && bson_elem_truthy(&e, out);
}

static bool event_string(const struct bson_event *ev)
{
    return ev->type == BSON_STRING && ev->value != NULL;
}

static bool is_container(const struct bson_event *ev)
{
    return ev->type == BSON_DOCUMENT || ev->type == BSON_ARRAY;
}

/* ------------------------------------------------------------ document callbacks */

/* A request's command document (OP_MSG body, OP_QUERY on $cmd). `depth`
 * and `path` are relative to the command (a $query wrapper removed). */
static enum bson_stream_action command_elem(struct request_facts *r, const struct bson_event *ev,
                                            unsigned depth, const char *const *path)
{
    if (depth == 0) {
        if (!r->have_command) {
            r->have_command = true;
            copy_text(r->command, sizeof(r->command), ev->key, ev->key_len, &r->truncated);
            if (event_string(ev))
                copy_text(r->collection, sizeof(r->collection), ev->value, ev->value_len,
                          &r->truncated);
            int64_t id;
            if (strcmp(r->command, "getMore") == 0 && event_int64(ev, &id)) {
                r->have_cursor_id = true;
                r->cursor_id = id;
            }
            return is_container(ev) ? BSON_SKIP : BSON_WALK;
        }
        int64_t n;
        if (key_is(ev, "$db") && event_string(ev))
            copy_text(r->db, sizeof(r->db), ev->value, ev->value_len, &r->truncated);
        else if (key_is(ev, "collection") && event_string(ev))
            copy_text(r->collection, sizeof(r->collection), ev->value, ev->value_len,
                      &r->truncated);
        else if ((key_is(ev, "filter") || key_is(ev, "query")) && ev->type == BSON_DOCUMENT) {
            r->filter_seen = true;
            r->filter_empty = ev->container_len == BSON_DOC_MIN;
        } else if (key_is(ev, "pipeline") && ev->type == BSON_ARRAY)
            r->pipeline_empty = ev->container_len == BSON_DOC_MIN;
        else if (key_is(ev, "batchSize") && event_int64(ev, &n))
            r->batch_size = n;
        else if (key_is(ev, "limit") && event_int64(ev, &n)) {
            r->limit = n;
            r->have_limit = true;
        }
        else if (key_is(ev, "skip") && event_int64(ev, &n))
            r->skip = n;
        else if (key_is(ev, "mechanism") && event_string(ev))
            copy_text(r->mechanism, sizeof(r->mechanism), ev->value, ev->value_len, NULL);
        else if (key_is(ev, "hint") || key_is(ev, "cursor") || key_is(ev, "client") ||
                 key_is(ev, "deletes"))
            return BSON_WALK;
        else if (key_is(ev, "speculativeAuthenticate")) {
            r->speculative_auth = true;
            return BSON_WALK;
        }
        return BSON_SKIP;
    }
    const char *p0 = path[0];
    if (depth == 1) {
        int64_t n;
        if (strcmp(p0, "hint") == 0 && key_is(ev, "$natural"))
            r->hint_natural = true;
        else if (strcmp(p0, "cursor") == 0 && key_is(ev, "batchSize") && event_int64(ev, &n))
            r->batch_size = n;
        else if (strcmp(p0, "speculativeAuthenticate") == 0 && key_is(ev, "mechanism") &&
                 event_string(ev))
            copy_text(r->mechanism, sizeof(r->mechanism), ev->value, ev->value_len, NULL);
        else if (strcmp(p0, "client") == 0) {
            r->client_doc = true;
            if (key_is(ev, "application") || key_is(ev, "driver") || key_is(ev, "os"))
                return BSON_WALK;
        } else if (strcmp(p0, "deletes") == 0 && ev->type == BSON_DOCUMENT)
            return BSON_WALK;
        return BSON_SKIP;
    }
    if (depth == 2) {
        const char *p1 = path[1];
        if (strcmp(p0, "client") == 0 && event_string(ev)) {
            if (strcmp(p1, "application") == 0 && key_is(ev, "name"))
                copy_text(r->app, sizeof(r->app), ev->value, ev->value_len, NULL);
            else if (strcmp(p1, "driver") == 0 && key_is(ev, "name"))
                copy_text(r->driver, sizeof(r->driver), ev->value, ev->value_len, NULL);
            else if (strcmp(p1, "driver") == 0 && key_is(ev, "version"))
                copy_text(r->driver_version, sizeof(r->driver_version), ev->value, ev->value_len,
                          NULL);
            else if (strcmp(p1, "os") == 0 && key_is(ev, "type"))
                copy_text(r->os_type, sizeof(r->os_type), ev->value, ev->value_len, NULL);
        } else if (strcmp(p0, "deletes") == 0 && key_is(ev, "q") && ev->type == BSON_DOCUMENT) {
            r->delete_any = true;
            if (ev->container_len == BSON_DOC_MIN)
                r->delete_empty = true;
        }
    }
    return BSON_SKIP;
}

/* One document of an OP_MSG kind 1 section: "deletes" say whether a delete
 * has an empty filter; other sequences (documents, updates) are skipped. */
static enum bson_stream_action sequence_elem(struct mongo_dir *d, const struct bson_event *ev)
{
    if (ev->depth == 0 && strcmp(d->seq_id, "deletes") == 0 && key_is(ev, "q") &&
        ev->type == BSON_DOCUMENT) {
        d->req.delete_any = true;
        if (ev->container_len == BSON_DOC_MIN)
            d->req.delete_empty = true;
    }
    return BSON_SKIP;
}

/* A legacy OP_QUERY on a collection (the query is the filter, maybe under
 * $query) or an OP_UPDATE/OP_DELETE selector. */
static enum bson_stream_action legacy_elem(struct mongo_dir *d, const struct bson_event *ev)
{
    struct request_facts *r = &d->req;
    if (ev->depth == 0) {
        if (key_is(ev, "$query") && ev->type == BSON_DOCUMENT) {
            r->filter_seen = true;
            r->filter_empty = ev->container_len == BSON_DOC_MIN;
        } else if (key_is(ev, "$hint") && ev->type == BSON_DOCUMENT) {
            return BSON_WALK;
        } else if (ev->key_len == 0 || ev->key[0] != '$') {
            r->top_elements++;
        }
        return BSON_SKIP;
    }
    if (ev->depth == 1 && strcmp(ev->path[0], "$hint") == 0 && key_is(ev, "$natural"))
        r->hint_natural = true;
    return BSON_SKIP;
}

/* A reply document: ok, code, codeName, errmsg, cursor.{id,firstBatch,
 * nextBatch}, databases (listDatabases), values (distinct), n, done and
 * speculativeAuthenticate.done (authentication). */
static enum bson_stream_action reply_elem(struct mongo_dir *d, const struct bson_event *ev)
{
    struct reply_facts *r = &d->rep;
    int64_t n;
    if (ev->depth == 0) {
        if (key_is(ev, "ok")) {
            r->ok_seen = event_truthy(ev, &r->ok);
        } else if (key_is(ev, "code") && event_int64(ev, &n)) {
            r->code_seen = true;
            r->code = (int32_t)n;
        } else if (key_is(ev, "codeName") && event_string(ev)) {
            copy_text(r->code_name, sizeof(r->code_name), ev->value, ev->value_len, NULL);
        } else if (key_is(ev, "errmsg") || key_is(ev, "$err")) {
            r->errmsg_seen = true;
        } else if (key_is(ev, "n") && event_int64(ev, &n)) {
            r->n_seen = true;
            r->n = n;
        } else if (key_is(ev, "done") && ev->type == BSON_BOOL) {
            (void)event_truthy(ev, &r->done);
        } else if (key_is(ev, "cursor") && ev->type == BSON_DOCUMENT) {
            return BSON_WALK;
        } else if (key_is(ev, "speculativeAuthenticate") && ev->type == BSON_DOCUMENT) {
            r->spec_auth = true;
            return BSON_WALK;
        } else if (key_is(ev, "$clusterTime") && ev->type == BSON_DOCUMENT) {
            return BSON_WALK;
        } else if ((key_is(ev, "databases") && d->count == COUNT_DATABASES) ||
                   (key_is(ev, "values") && d->count == COUNT_VALUES)) {
            if (ev->type == BSON_ARRAY) {
                r->items = 0;
                return BSON_WALK;
            }
        }
        return BSON_SKIP;
    }
    const char *p0 = ev->path[0];
    if (ev->depth == 1) {
        if (strcmp(p0, "cursor") == 0) {
            if (key_is(ev, "id") && event_int64(ev, &n)) {
                r->cursor_seen = true;
                r->cursor_id = n;
            } else if ((key_is(ev, "firstBatch") || key_is(ev, "nextBatch")) &&
                       ev->type == BSON_ARRAY && d->count == COUNT_CURSOR) {
                r->items = 0;
                return BSON_WALK;
            }
        } else if (strcmp(p0, "speculativeAuthenticate") == 0 && key_is(ev, "done")) {
            (void)event_truthy(ev, &r->spec_done);
        } else if (strcmp(p0, "$clusterTime") == 0 && key_is(ev, "signature") &&
                   ev->type == BSON_DOCUMENT) {
            return BSON_WALK;
        } else if (strcmp(p0, "databases") == 0 || strcmp(p0, "values") == 0) {
            r->items++;
        }
        return BSON_SKIP;
    }
    if (ev->depth == 2 && strcmp(p0, "cursor") == 0)
        r->items++;
    /* A server that signs cluster times holds authentication keys: keyId 0
     * (and a zero hash) is what a replica set without access control sends. */
    if (ev->depth == 2 && strcmp(p0, "$clusterTime") == 0 && strcmp(ev->path[1], "signature") == 0
        && key_is(ev, "keyId") && event_int64(ev, &n) && n != 0)
        r->signed_cluster_time = true;
    return BSON_SKIP;
}

static enum bson_stream_action walk_cb(void *user, const struct bson_event *ev)
{
    struct mongo_dir *d = user;
    switch (d->role) {
    case ROLE_COMMAND:
        if (ev->depth == 0 && !d->req.have_command && key_is(ev, "$query") &&
            ev->type == BSON_DOCUMENT) {
            d->req.wrapped = true;
            return BSON_WALK;
        }
        if (d->req.wrapped) {
            if (ev->depth == 0)
                return BSON_SKIP;   /* $readPreference and the like */
            return command_elem(&d->req, ev, ev->depth - 1, ev->path + 1);
        }
        return command_elem(&d->req, ev, ev->depth, ev->path);
    case ROLE_SEQUENCE:
        return sequence_elem(d, ev);
    case ROLE_LEGACY:
        return legacy_elem(d, ev);
    case ROLE_REPLY:
        return reply_elem(d, ev);
    default:
        return BSON_SKIP;
    }
}

/* ------------------------------------------------------------ ops */

static void set_text(struct op_record *op, char *dst, size_t cap, const char *text)
{
    op_set_string(op, dst, cap, text, strlen(text));
}

/* Appends text to out (cap bytes with the NUL), cutting what does not fit. */
static void append_text(char *out, size_t cap, const char *text)
{
    size_t n = strlen(out), add = strlen(text);
    if (n + 1 >= cap)
        return;
    if (add > cap - 1 - n)
        add = cap - 1 - n;
    memcpy(out + n, text, add);
    out[n + add] = '\0';
}

/* "app (driver version; os)", or "driver version; os" without an app name. */
static void format_client(const struct request_facts *r, char *out, size_t cap)
{
    char driver[OP_CLIENT_MAX] = "";
    append_text(driver, sizeof(driver), r->driver);
    if (r->driver[0] && r->driver_version[0])
        append_text(driver, sizeof(driver), " ");
    append_text(driver, sizeof(driver), r->driver_version);
    if (driver[0] && r->os_type[0])
        append_text(driver, sizeof(driver), "; ");
    append_text(driver, sizeof(driver), r->os_type);
    out[0] = '\0';
    if (r->app[0]) {
        append_text(out, cap, r->app);
        if (driver[0]) {
            append_text(out, cap, " (");
            append_text(out, cap, driver);
            append_text(out, cap, ")");
        }
    } else {
        append_text(out, cap, driver);
    }
}

static void target_of(struct op_record *op, const char *db, const char *collection)
{
    char t[MONGO_DB_MAX + OP_TARGET_MAX + 4];
    snprintf(t, sizeof(t), "%s%s%s", db, db[0] && collection[0] ? "." : "", collection);
    set_text(op, op->target, sizeof(op->target), t);
}

/* "db.coll" -> db part (up to the first '.'). */
static void ns_db(const char *ns, char *db, size_t cap)
{
    const char *dot = strchr(ns, '.');
    size_t n = dot ? (size_t)(dot - ns) : strlen(ns);
    copy_text(db, cap, ns, n, NULL);
}

static void pending_emit(struct decoder_ctx *ctx, struct op_record *op)
{
    decoder_emit(ctx, op);
}

/* Stamps connection state on an op about to be emitted. */
static void stamp_connection(struct mongo_flow *f, struct op_record *op)
{
    if (op->client_id[0] == '\0' && f->client_id[0] != '\0')
        set_text(op, op->client_id, sizeof(op->client_id), f->client_id);
    /* Mid-session, a login before the capture began cannot be ruled out:
     * only a login seen to succeed says anything. */
    if (op->authenticated == OP_AUTH_UNKNOWN && (f->authenticated || !f->midstream))
        op->authenticated = f->authenticated ? OP_AUTH_YES : OP_AUTH_NO;
    if (op->auth_scheme[0] == '\0' && f->authenticated && f->mechanism[0])
        set_text(op, op->auth_scheme, sizeof(op->auth_scheme), f->mechanism);
}

static void lower_text(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* nmap's MongoDB library (nselib/mongodb.lua: MongoData:data() and
 * createQuery(), nmap 7.93) writes every request as an OP_QUERY on
 * "<db>.$cmd" with responseTo -1, numberToReturn -1 and a requestID from a
 * counter that starts at 12345 for the whole nmap run and grows by 2 per
 * message (pcaps/mongo_nmap.pcap: 12346, 12348, 12350). Current drivers send
 * responseTo 0 (pymongo's serverStatus is an OP_MSG); some 2010-era drivers
 * sent -1 too, with random-looking ids (the Wireshark wiki's mongodb.pcap:
 * 0xb3d56504...), so the id range is part of the shape: 2^20 ids is a run of
 * some 170,000 hosts probed by the three scripts. NULL when not the shape. */
#define NMAP_MONGO_FIRST_ID 12345
#define NMAP_MONGO_ID_SPAN (1 << 20)

static const char *nmap_probe_label(const struct mongo_dir *d, const char *command)
{
    if (d->hdr.opcode != MONGO_OP_QUERY || command == NULL || d->hdr.response_to != -1 ||
        d->ints_read < 3 || d->ints[2] != -1 || d->hdr.request_id < NMAP_MONGO_FIRST_ID ||
        d->hdr.request_id >= NMAP_MONGO_FIRST_ID + NMAP_MONGO_ID_SPAN)
        return NULL;
    if (strcmp(command, "listDatabases") == 0)
        return "Nmap NSE mongodb-databases";
    if (strcmp(command, "serverStatus") == 0 || strcmp(command, "buildinfo") == 0)
        return "Nmap NSE mongodb-info";
    return "Nmap NSE mongodb library";
}

/* zgrab2's mongodb module (modules/mongodb/scanner.go in zmap/zgrab2, read
 * through the search index; zgrab2 is not in Debian, so no capture) builds
 * each message in a zeroed buffer and sets only its length and opcode: every
 * request has requestID 0. It sends isMaster and then listDatabases as
 * OP_QUERY on admin.$cmd (numberToReturn 1, no client document), then
 * buildinfo. Drivers count their request ids, so two requests with id 0 in a
 * row from a connection's start are the shape: the second is the probe. */
static const char *zgrab2_probe_label(struct mongo_flow *f, const struct mongo_dir *d)
{
    if (f->zero_id_requests == UINT8_MAX)
        return NULL;                    /* not the shape */
    if (d->hdr.request_id != 0 || d->hdr.response_to != 0 ||
        (f->zero_id_requests == 0 && f->first_command_seen)) {
        f->zero_id_requests = UINT8_MAX;
        return NULL;
    }
    return ++f->zero_id_requests == 2 ? "zgrab2 mongodb module" : NULL;
}

/* A request was read whole: make its op from the facts. */
static void request_op(struct mongo_flow *f, struct mongo_dir *d, struct op_record *op)
{
    struct request_facts *r = &d->req;
    op_record_init(op, APP_MONGODB);
    d->legacy_data = false;
    op->ts_request_us = d->ts_first;
    op->request_bytes = d->wire_length;
    if (d->compressed)
        op->flags |= OP_FLAG_COMPRESSED;
    if (d->partial)
        op->flags |= OP_FLAG_PARTIAL;
    if (d->too_large)
        op->flags |= OP_FLAG_BODY_CAPPED;
    if (r->truncated)
        op->flags |= OP_FLAG_TRUNCATED;

    const char *name = NULL;
    bool command = false;
    char db[MONGO_DB_MAX + 1] = "";
    switch (d->hdr.opcode) {
    case MONGO_OP_MSG:
        command = true;
        snprintf(db, sizeof(db), "%s", r->db);
        break;
    case MONGO_OP_QUERY: {
        size_t n = strlen(d->cstr);
        ns_db(d->cstr, db, sizeof(db));
        if (n >= 5 && strcmp(d->cstr + n - 5, ".$cmd") == 0) {
            command = true;
            if (!r->have_command)
                name = "query";
        } else {
            name = "find";
            d->legacy_data = true;
            op->flags |= OP_FLAG_LEGACY_OPCODE;
            op->op_class = OP_CLASS_READ;
            set_text(op, op->target, sizeof(op->target), d->cstr);
            if (d->ints_read >= 3) {
                if (d->ints[1] > 0)
                    op->offset = d->ints[1];
                /* numberToReturn: 0 = the server's default, negative = one batch of |n| */
                if (d->ints[2] != 0)
                    op->page_size = d->ints[2] < 0 ? -d->ints[2] : d->ints[2];
            }
            bool empty = r->filter_seen ? r->filter_empty : r->top_elements == 0;
            if (empty || r->hint_natural)
                op->flags |= OP_FLAG_MATCH_ALL;
        }
        break;
    }
    case MONGO_OP_GET_MORE:
        name = "getMore";
        d->legacy_data = true;
        op->op_class = OP_CLASS_READ;
        op->flags |= OP_FLAG_LEGACY_OPCODE | OP_FLAG_CONTINUES;
        set_text(op, op->target, sizeof(op->target), d->cstr);
        if (d->ints_read >= 3) {
            if (d->ints[1] != 0)
                op->page_size = d->ints[1] < 0 ? -d->ints[1] : d->ints[1];
            mongo_cursor_hash(d->ints[2], op->continuation);
        }
        break;
    case MONGO_OP_KILL_CURSORS:
        name = "killCursors";
        op->op_class = OP_CLASS_ADMIN;
        op->flags |= OP_FLAG_LEGACY_OPCODE;
        break;
    case MONGO_OP_INSERT:
        name = "insert";
        op->op_class = OP_CLASS_WRITE;
        op->flags |= OP_FLAG_LEGACY_OPCODE;
        set_text(op, op->target, sizeof(op->target), d->cstr);
        break;
    case MONGO_OP_UPDATE:
    case MONGO_OP_DELETE:
        name = d->hdr.opcode == MONGO_OP_UPDATE ? "update" : "delete";
        op->op_class = OP_CLASS_WRITE;
        op->flags |= OP_FLAG_LEGACY_OPCODE;
        set_text(op, op->target, sizeof(op->target), d->cstr);
        if (!d->malformed && r->top_elements == 0 && !(r->filter_seen && !r->filter_empty)) {
            op->flags |= OP_FLAG_MATCH_ALL;
            if (d->hdr.opcode == MONGO_OP_DELETE)
                op->op_class = OP_CLASS_DESTROY;
        }
        break;
    default:
        name = "unknown";
        break;
    }

    if (command && r->have_command) {
        set_text(op, op->op, sizeof(op->op), r->command[0] ? r->command : "unknown");
        op->op_class = (uint8_t)mongo_command_class(r->command);
        target_of(op, db, r->collection);
        if (d->hdr.opcode == MONGO_OP_QUERY && !is_handshake_command(r->command))
            op->flags |= OP_FLAG_LEGACY_OPCODE;
        if (strcmp(r->command, "getMore") == 0) {
            op->flags |= OP_FLAG_CONTINUES;
            if (r->have_cursor_id)
                mongo_cursor_hash(r->cursor_id, op->continuation);
        }
        /* limit < 0 (legacy style): one batch of |limit| */
        int64_t limit = !r->have_limit ? 0
                        : r->limit < 0 && r->limit > INT64_MIN ? -r->limit : r->limit;
        int64_t page = r->batch_size >= 0 ? r->batch_size : -1;
        if (limit > 0 && (page < 0 || limit < page))
            page = limit;
        op->page_size = page;
        if (limit > 0)
            op->limit = limit;
        if (r->skip >= 0)
            op->offset = r->skip;
        bool reads = strcmp(r->command, "find") == 0 || strcmp(r->command, "count") == 0 ||
                     strcmp(r->command, "distinct") == 0;
        if ((reads && (!r->filter_seen || r->filter_empty)) || r->hint_natural ||
            (strcmp(r->command, "aggregate") == 0 && r->pipeline_empty))
            op->flags |= OP_FLAG_MATCH_ALL;
        if (strcmp(r->command, "delete") == 0 && r->delete_empty) {
            op->flags |= OP_FLAG_MATCH_ALL;
            op->op_class = OP_CLASS_DESTROY;
        }
        if (op->op_class == OP_CLASS_AUTH || r->speculative_auth) {
            if (r->mechanism[0]) {
                snprintf(f->mechanism, sizeof(f->mechanism), "%s", r->mechanism);
                lower_text(f->mechanism);
            }
            if (f->mechanism[0])
                set_text(op, op->auth_scheme, sizeof(op->auth_scheme), f->mechanism);
        }
    } else if (name) {
        set_text(op, op->op, sizeof(op->op), name);
    } else {
        set_text(op, op->op, sizeof(op->op), "unknown");
    }

    const char *probe = nmap_probe_label(d, command && r->have_command ? r->command : NULL);
    const char *zgrab = zgrab2_probe_label(f, d);
    if (probe == NULL)
        probe = zgrab;
    if (probe != NULL) {
        op->flags |= OP_FLAG_PROBE;
        set_text(op, op->client_id, sizeof(op->client_id), probe);
    }

    /* The connection's first command says who the client is; mid-session
     * the first command seen is not the connection's first: no client. */
    if (!f->first_command_seen && !f->midstream) {
        f->first_command_seen = true;
        if (command && r->have_command && is_handshake_command(r->command) && r->client_doc)
            format_client(r, f->client_id, sizeof(f->client_id));
        else
            snprintf(f->client_id, sizeof(f->client_id), "%s", MONGO_NO_CLIENT);
    }
}

static struct mongo_pending *pending_find(struct mongo_flow *f, int32_t id, size_t *index)
{
    for (size_t i = 0; i < f->pending_count; i++)
        if (f->pending[i].request_id == id) {
            *index = i;
            return &f->pending[i];
        }
    return NULL;
}

static void pending_remove(struct mongo_flow *f, size_t i)
{
    assert(i < f->pending_count);
    memmove(&f->pending[i], &f->pending[i + 1],
            (f->pending_count - i - 1) * sizeof(f->pending[0]));
    f->pending_count--;
}

/* Gives up the oldest pending request: emitted without a response. */
static void pending_give_up_oldest(struct mongo_flow *f, struct decoder_ctx *ctx)
{
    struct op_record *op = &f->pending[0].op;
    op->flags |= OP_FLAG_NO_RESPONSE;
    stamp_connection(f, op);
    pending_emit(ctx, op);
    pending_remove(f, 0);
}

static void pending_push(struct mongo_flow *f, struct decoder_ctx *ctx, int32_t id,
                         bool legacy_data, const struct op_record *op)
{
    size_t limit = pending_limit(ctx);
    if (f->pending_count == f->pending_cap) {
        size_t cap = f->pending_cap ? f->pending_cap * 2 : 2;
        if (cap > limit)
            cap = limit;
        struct mongo_pending *p = cap > f->pending_cap
                                      ? membudget_realloc(f->held.budget, f->pending,
                                                          f->pending_cap * sizeof(*p),
                                                          cap * sizeof(*p))
                                      : NULL;
        if (p) {
            f->pending = p;
            f->pending_cap = cap;
        }
    }
    if (f->pending_count == f->pending_cap) {
        if (f->pending_count == 0) {   /* no memory at all: emit it now */
            struct op_record copy = *op;
            copy.flags |= OP_FLAG_NO_RESPONSE;
            stamp_connection(f, &copy);
            pending_emit(ctx, &copy);
            return;
        }
        decoder_count(ctx, MONGODB_COUNTER_PENDING_OVERFLOW);
        pending_give_up_oldest(f, ctx);
    }
    f->pending[f->pending_count].request_id = id;
    f->pending[f->pending_count].legacy_data = legacy_data;
    f->pending[f->pending_count].op = *op;
    f->pending_count++;
}

/* A request is complete. */
static void request_done(struct mongo_flow *f, struct mongo_dir *d, struct decoder_ctx *ctx)
{
    struct op_record op;
    request_op(f, d, &op);
    if (op.flags & OP_FLAG_PROBE)
        decoder_count(ctx, MONGODB_COUNTER_PROBES);
    bool no_reply = d->hdr.opcode == MONGO_OP_INSERT || d->hdr.opcode == MONGO_OP_UPDATE ||
                    d->hdr.opcode == MONGO_OP_DELETE || d->hdr.opcode == MONGO_OP_KILL_CURSORS ||
                    (d->hdr.opcode == MONGO_OP_MSG && (d->flag_bits & MONGO_MSG_MORE_TO_COME));
    if (d->hdr.opcode == MONGO_OP_REPLY || no_reply) {
        stamp_connection(f, &op);
        pending_emit(ctx, &op);
        return;
    }
    pending_push(f, ctx, d->hdr.request_id, d->legacy_data, &op);
}

/* A reply's header was read: find the op it answers (before its body is
 * walked, so the walk knows what to count). */
static void reply_begin(struct mongo_flow *f, struct mongo_dir *d, struct decoder_ctx *ctx)
{
    size_t i;
    struct mongo_pending *p = pending_find(f, d->hdr.response_to, &i);
    f->reply_paired = true;
    d->legacy_data = false;
    if (p) {
        f->reply_op = p->op;
        d->legacy_data = p->legacy_data;
        pending_remove(f, i);
        f->exhaust = false;
    } else if (f->exhaust && (d->hdr.response_to == f->exhaust_id ||
                              d->hdr.response_to == f->exhaust_first_id)) {
        f->reply_op = f->exhaust_op;
        d->legacy_data = f->exhaust_legacy_data;
        f->reply_op.flags |= OP_FLAG_CONTINUES;
        f->reply_op.request_bytes = 0;
        f->reply_op.ts_request_us = d->ts_first;
    } else {
        f->reply_paired = false;
        decoder_count(ctx, MONGODB_COUNTER_UNPAIRED);
        op_record_init(&f->reply_op, APP_MONGODB);
        f->reply_op.flags |= OP_FLAG_UNPAIRED;
        f->reply_op.ts_request_us = d->ts_first;
        set_text(&f->reply_op, f->reply_op.op, sizeof(f->reply_op.op), "reply");
    }
    const char *c = f->reply_op.op;
    d->count = strcmp(c, "listDatabases") == 0 ? COUNT_DATABASES
               : strcmp(c, "distinct") == 0   ? COUNT_VALUES
                                              : COUNT_CURSOR;
}

static bool code_denied(int32_t code)
{
    return code == 13 || code == 18;    /* Unauthorized, AuthenticationFailed */
}

/* Authentication: the login outcome on the op (a SASL step that is not the
 * last carries none), the connection's state, the server's hint. */
static void reply_auth(struct mongo_flow *f, struct op_record *op, const struct reply_facts *r)
{
    bool auth_cmd = strcmp(op->op, "saslStart") == 0 || strcmp(op->op, "saslContinue") == 0 ||
                    strcmp(op->op, "authenticate") == 0;
    if (auth_cmd) {
        if (op->status == OP_STATUS_OK && (r->done || strcmp(op->op, "authenticate") == 0)) {
            f->authenticated = true;
            f->auth_failed = false;
            op->auth_result = OP_AUTH_RESULT_SUCCESS;
        } else if (op->status == OP_STATUS_DENIED || op->status == OP_STATUS_ERROR) {
            f->auth_failed = true;
            op->auth_result = OP_AUTH_RESULT_FAILURE;
        }
    } else if (r->spec_auth && r->spec_done && op->status == OP_STATUS_OK) {
        f->authenticated = true;
        op->auth_result = OP_AUTH_RESULT_SUCCESS;
    }
    if (r->signed_cluster_time)
        op->server_auth_hint = OP_SERVER_AUTH_HINT_ACCESS_CONTROL;
}

/* A reply is complete: fill its op, update the connection, emit. */
static void reply_done(struct mongo_flow *f, struct mongo_dir *d, struct decoder_ctx *ctx)
{
    struct op_record *op = &f->reply_op;
    struct reply_facts *r = &d->rep;
    op->ts_response_us = ctx->now_us;
    op->response_bytes += d->wire_length;
    if (d->compressed)
        op->flags |= OP_FLAG_COMPRESSED;
    if (d->partial)
        op->flags |= OP_FLAG_PARTIAL;
    if (d->too_large)
        op->flags |= OP_FLAG_BODY_CAPPED;

    /* a legacy query's reply holds data documents, counted by numberReturned;
     * a command's reply holds one document, the command's answer */
    bool legacy_data = d->hdr.opcode == MONGO_OP_REPLY && d->legacy_data;
    if (d->hdr.opcode == MONGO_OP_REPLY && d->ints_read >= 4) {
        int32_t flags = (int32_t)d->ints[0];
        if (legacy_data) {
            op->items = d->ints[3] < 0 ? 0 : d->ints[3];
            if (d->ints[1] != 0)
                mongo_cursor_hash(d->ints[1], op->cursor_out);
        }
        if (flags & 0x2) {         /* QueryFailure */
            op->status = OP_STATUS_ERROR;
        } else if (flags & 0x1) {  /* CursorNotFound */
            op->status = OP_STATUS_ERROR;
            set_text(op, op->error_type, sizeof(op->error_type), "CursorNotFound");
        }
    }
    if (!legacy_data) {
        if (r->items >= 0)
            op->items = r->items;
        if (r->cursor_seen && r->cursor_id != 0)
            mongo_cursor_hash(r->cursor_id, op->cursor_out);
        if (r->n_seen && r->n >= 0 && strcmp(op->op, "count") == 0)
            op->total = r->n;
    }
    if (r->code_seen)
        op->status_code = r->code;
    if (r->code_name[0])
        set_text(op, op->error_type, sizeof(op->error_type), r->code_name);
    if (op->status == OP_STATUS_UNKNOWN) {
        if (r->ok_seen)
            op->status = r->ok ? OP_STATUS_OK : OP_STATUS_ERROR;
        else if (r->errmsg_seen || r->code_seen)
            op->status = OP_STATUS_ERROR;
        else if (!d->malformed && !d->partial)
            op->status = OP_STATUS_OK;
    }
    if (op->status == OP_STATUS_ERROR && r->code_seen && code_denied(r->code))
        op->status = OP_STATUS_DENIED;

    reply_auth(f, op, r);

    /* an exhaust stream: more replies will answer this one */
    if (d->hdr.opcode == MONGO_OP_MSG && (d->flag_bits & MONGO_MSG_MORE_TO_COME) &&
        f->reply_paired) {
        if (!f->exhaust)
            f->exhaust_first_id = d->hdr.response_to;
        f->exhaust = true;
        f->exhaust_id = d->hdr.request_id;
        f->exhaust_legacy_data = d->legacy_data;
        f->exhaust_op = *op;
        f->exhaust_op.items = -1;
        f->exhaust_op.total = -1;
        f->exhaust_op.response_bytes = 0;
        f->exhaust_op.status = OP_STATUS_UNKNOWN;
        f->exhaust_op.status_code = 0;
        f->exhaust_op.error_type[0] = '\0';
        f->exhaust_op.cursor_out[0] = '\0';
        f->exhaust_op.flags &= ~(uint32_t)(OP_FLAG_PARTIAL | OP_FLAG_COMPRESSED |
                                           OP_FLAG_BODY_CAPPED);
        if (op->cursor_out[0] && strcmp(op->op, "getMore") != 0) {
            /* a find continued by exhaust getMores: they continue its cursor */
            memcpy(f->exhaust_op.continuation, op->cursor_out, OP_CONT_MAX);
        }
    } else if (d->hdr.opcode == MONGO_OP_MSG) {
        f->exhaust = false;
    }
    stamp_connection(f, op);
    pending_emit(ctx, op);
}

/* ------------------------------------------------------------ body reading */

static const uint8_t *program_for(int32_t opcode)
{
    switch (opcode) {
    case MONGO_OP_MSG: return prog_msg;
    case MONGO_OP_QUERY: return prog_query;
    case MONGO_OP_REPLY: return prog_reply;
    case MONGO_OP_GET_MORE: return prog_get_more;
    case MONGO_OP_KILL_CURSORS: return prog_kill;
    case MONGO_OP_INSERT: return prog_insert;
    case MONGO_OP_UPDATE: case MONGO_OP_DELETE: return prog_update;
    case MONGO_OP_COMPRESSED: return prog_compressed;
    default: return prog_none;
    }
}

/* Resets what a direction knows of the message whose body starts now. */
static void body_begin(struct mongo_dir *d, int32_t opcode)
{
    d->hdr.opcode = opcode;
    d->prog = program_for(opcode);
    d->field = 0;
    d->ints_read = 0;
    d->flen = 0;
    d->cstr_len = 0;
    d->cstr[0] = '\0';
    d->cstr_cut = false;
    d->flag_bits = 0;
    d->sec_state = SEC_KIND;
    d->checksum_len = 0;
    d->seq_left = 0;
    d->walking = false;
    d->role = ROLE_NONE;
    memset(&d->req, 0, sizeof(d->req));
    d->req.batch_size = d->req.limit = d->req.skip = -1;
    memset(&d->rep, 0, sizeof(d->rep));
    d->rep.items = -1;
}

static void malformed(struct mongo_dir *d, struct decoder_ctx *ctx)
{
    if (!d->malformed)
        decoder_count(ctx, MONGODB_COUNTER_MALFORMED);
    d->malformed = true;
    d->skipping = true;
    d->walking = false;
}

static void doc_start(struct mongo_dir *d, uint8_t role, uint64_t limit)
{
    d->role = role;
    d->walking = true;
    bson_stream_init(&d->walker, limit, walk_cb, d);
}

/* The role of the document field of a legacy opcode. */
static uint8_t legacy_doc_role(const struct mongo_dir *d, enum decoder_dir dir)
{
    if (dir == DIR_TO_CLIENT) {
        if (d->hdr.opcode != MONGO_OP_REPLY)
            return ROLE_IGNORE;
        /* data documents are not read, except a QueryFailure's $err document */
        return d->legacy_data && !(d->ints[0] & 0x2) ? ROLE_IGNORE : ROLE_REPLY;
    }
    if (d->hdr.opcode == MONGO_OP_QUERY) {
        size_t n = strlen(d->cstr);
        return n >= 5 && strcmp(d->cstr + n - 5, ".$cmd") == 0 ? ROLE_COMMAND : ROLE_LEGACY;
    }
    return ROLE_LEGACY;
}

/* Reads body bytes (at most d->body_left of them, the bytes of the body
 * from buf on). Returns bytes used: less than len only at an OP_COMPRESSED
 * payload. A parse problem marks the message malformed and its rest skipped. */
static size_t body_feed(struct mongo_dir *d, enum decoder_dir dir, struct decoder_ctx *ctx,
                        const uint8_t *buf, size_t len)
{
    size_t i = 0;
    while (i < len && !d->skipping) {
        uint64_t left = d->body_left - i;       /* body bytes after buf[i] incl. */
        if (d->walking) {
            size_t used = 0;
            size_t n = len - i;
            int rc = bson_stream_feed(&d->walker, buf + i, n, &used);
            i += used;
            if (rc == BSON_STREAM_MALFORMED) {
                malformed(d, ctx);
                break;
            }
            if (rc == BSON_STREAM_DONE) {
                d->walking = false;
                if (d->prog[d->field] == F_SECTIONS) {
                    if (d->sec_state == SEC_BODY)
                        d->sec_state = SEC_KIND;
                    else if (d->sec_state == SEC_SEQ_DOCS) {
                        d->seq_left -= d->walker.pos;
                        if (d->seq_left == 0)
                            d->sec_state = SEC_KIND;
                    }
                } else {
                    d->field++;
                }
            }
            continue;
        }
        switch (d->prog[d->field]) {
        case F_END:
            return len;      /* the rest is not looked at */
        case F_I32:
        case F_I64:
        case F_U8: {
            size_t want = d->prog[d->field] == F_I64 ? 8 : d->prog[d->field] == F_U8 ? 1 : 4;
            if (left < want - d->flen) {
                malformed(d, ctx);
                break;
            }
            size_t n = want - d->flen;
            if (n > len - i)
                n = len - i;
            memcpy(d->fbuf + d->flen, buf + i, n);
            d->flen += n;
            i += n;
            if (d->flen < want)
                break;
            d->flen = 0;
            int64_t v = want == 8 ? bson_i64(d->fbuf) : want == 1 ? d->fbuf[0] : bson_i32(d->fbuf);
            if (d->ints_read < 4)
                d->ints[d->ints_read] = v;
            d->ints_read++;
            d->field++;
            if (d->hdr.opcode == MONGO_OP_MSG && d->ints_read == 1) {
                d->flag_bits = (uint32_t)v;
                d->checksum_len = (d->flag_bits & MONGO_MSG_CHECKSUM_PRESENT) ? 4 : 0;
                if (d->body_left < d->checksum_len + 4)
                    malformed(d, ctx);
            }
            if (d->prog[d->field] == F_DOC) {
                uint8_t role = legacy_doc_role(d, dir);
                if (d->hdr.opcode == MONGO_OP_REPLY && (d->ints[3] <= 0 || left - n == 0)) {
                    d->field++;     /* no documents */
                    break;
                }
                doc_start(d, role, left - n);
            }
            break;
        }
        case F_CSTRING: {
            const uint8_t *nul = memchr(buf + i, 0, len - i);
            size_t n = nul ? (size_t)(nul - (buf + i)) : len - i;
            size_t keep = MONGO_NS_MAX - d->cstr_len;
            if (n < keep)
                keep = n;
            else if (n > keep)
                d->cstr_cut = true;
            memcpy(d->cstr + d->cstr_len, buf + i, keep);
            d->cstr_len += keep;
            d->cstr[d->cstr_len] = '\0';
            i += n;
            if (nul) {
                i++;
                d->field++;
            }
            if (i > d->body_left || (!nul && i == d->body_left))
                malformed(d, ctx);
            break;
        }
        case F_DOC:
            /* a document field that was not started: only when no documents */
            d->field++;
            break;
        case F_PAYLOAD:
            return i;        /* the caller decompresses the rest */
        case F_SECTIONS:
            if (d->sec_state == SEC_KIND) {
                if (left == d->checksum_len) {
                    d->field++;     /* the checksum (not verified) is skipped */
                    break;
                }
                uint8_t kind = buf[i++];
                if (kind == 0) {
                    d->sec_state = SEC_BODY;
                    doc_start(d, dir == DIR_TO_SERVER ? ROLE_COMMAND : ROLE_REPLY,
                              left - 1 - d->checksum_len);
                } else if (kind == 1) {
                    d->sec_state = SEC_SEQ_SIZE;
                    d->flen = 0;
                } else {
                    malformed(d, ctx);
                }
            } else if (d->sec_state == SEC_SEQ_SIZE) {
                size_t n = 4 - d->flen;
                if (n > len - i)
                    n = len - i;
                memcpy(d->fbuf + d->flen, buf + i, n);
                d->flen += n;
                i += n;
                if (d->flen < 4)
                    break;
                d->flen = 0;
                int32_t size = bson_i32(d->fbuf);
                /* the size counts itself; at least one identifier byte follows */
                if (size < 5 || (uint64_t)size - 4 > left - n - d->checksum_len) {
                    malformed(d, ctx);
                    break;
                }
                d->seq_left = (uint64_t)size - 4;
                d->seq_id[0] = '\0';
                d->cstr_len = 0;
                d->sec_state = SEC_SEQ_ID;
            } else if (d->sec_state == SEC_SEQ_ID) {
                size_t avail = len - i;
                if (avail > d->seq_left)
                    avail = (size_t)d->seq_left;
                const uint8_t *nul = memchr(buf + i, 0, avail);
                size_t n = nul ? (size_t)(nul - (buf + i)) + 1 : avail;
                size_t keep = nul ? n - 1 : n;
                if (keep > MONGO_NS_MAX - d->cstr_len)
                    keep = MONGO_NS_MAX - d->cstr_len;
                memcpy(d->seq_id + d->cstr_len, buf + i, keep);
                d->cstr_len += keep;
                d->seq_id[d->cstr_len] = '\0';
                i += n;
                d->seq_left -= n;
                if (!nul) {
                    if (d->seq_left == 0)
                        malformed(d, ctx);
                    break;
                }
                d->cstr_len = 0;
                d->sec_state = d->seq_left == 0 ? SEC_KIND : SEC_SEQ_DOCS;
            } else if (d->sec_state == SEC_SEQ_DOCS) {
                doc_start(d, dir == DIR_TO_SERVER ? ROLE_SEQUENCE : ROLE_IGNORE, d->seq_left);
            } else {
                malformed(d, ctx);
            }
            break;
        default:
            malformed(d, ctx);
            break;
        }
    }
    return d->skipping ? len : i;
}

/* ------------------------------------------------------------ messages */

static void message_complete(struct mongo_flow *f, struct mongo_dir *d, enum decoder_dir dir,
                             struct decoder_ctx *ctx)
{
    if (d->walking) {       /* the body ended inside a document */
        malformed(d, ctx);
    } else if (!d->skipping && d->prog && d->prog[d->field] != F_END &&
               !(d->prog[d->field] == F_DOC && d->hdr.opcode == MONGO_OP_REPLY)) {
        /* fields missing (a legacy reply may have no documents) */
        if (!(d->prog[d->field] == F_SECTIONS && d->sec_state == SEC_KIND))
            malformed(d, ctx);
    }
    if (dir == DIR_TO_SERVER) {
        if (d->hdr.opcode == MONGO_OP_REPLY) {
            /* a reply sent to the server: not ours to pair */
            decoder_count(ctx, MONGODB_COUNTER_UNPAIRED);
            return;
        }
        request_done(f, d, ctx);
    } else {
        reply_done(f, d, ctx);
    }
}

/* ------------------------------------------------------------ OP_COMPRESSED */

size_t mongo_held_peak(const void *flow)
{
    const struct mongo_flow *f = flow;
    return f ? f->held.peak : 0;
}

/* The compressed message will not be read: it is emitted as a message of
 * its original opcode (OP_MSG when that is unknown) with nothing known of
 * its body. */
static void compressed_skip_body(struct mongo_flow *f, struct mongo_dir *d, enum decoder_dir dir,
                                 struct decoder_ctx *ctx, int32_t orig)
{
    d->compressed = true;
    d->inner = INNER_STOPPED;
    body_begin(d, opcode_known(orig) && orig != MONGO_OP_COMPRESSED ? orig : MONGO_OP_MSG);
    if (dir == DIR_TO_CLIENT)
        reply_begin(f, d, ctx);
    d->skipping = true;
    d->prog = prog_none;
}

/* Decompression failed (corrupt, of another size than declared, or out of
 * memory): counted; the message is emitted with nothing known of its body. */
static void compressed_fail(struct mongo_dir *d, struct decoder_ctx *ctx)
{
    /* The memory budget refused the payload (counted there): the message
     * is skipped like one cut by a gap and its op is partial. */
    if (d->codec.held != NULL && d->codec.held->refused) {
        d->codec.held->refused = false;
        d->partial = true;
    } else {
        decoder_count(ctx, MONGODB_COUNTER_DECOMPRESS_ERRORS);
    }
    mongo_codec_release(&d->codec);
    d->inner = INNER_STOPPED;
    body_begin(d, d->hdr.opcode);
    d->skipping = true;
    d->prog = prog_none;
}

/* The OP_COMPRESSED fields were read: from here on the direction reads a
 * message of originalOpcode, uncompressedSize bytes of body, which the
 * payload decompresses to. */
static void compressed_begin(struct mongo_flow *f, struct mongo_dir *d, enum decoder_dir dir,
                             struct decoder_ctx *ctx)
{
    assert(d->ints_read == 3 && d->inner == INNER_NONE);
    int32_t orig = (int32_t)d->ints[0];
    uint32_t usize = (uint32_t)d->ints[1];
    uint8_t id = (uint8_t)d->ints[2];
    if (orig == MONGO_OP_COMPRESSED || !opcode_known(orig)) {
        malformed(d, ctx);
        compressed_skip_body(f, d, dir, ctx, orig);
        return;
    }
    if (usize > decompressed_max(ctx) ||
        (id == MONGO_SNAPPY && d->payload_cap > compressed_max(ctx))) {
        decoder_count(ctx, MONGODB_COUNTER_TOO_LARGE);
        d->too_large = true;
        compressed_skip_body(f, d, dir, ctx, orig);
        return;
    }
    d->compressed = true;
    body_begin(d, orig);
    if (dir == DIR_TO_CLIENT)
        reply_begin(f, d, ctx);
    d->inner = INNER_CODEC;
    if (mongo_codec_init(&d->codec, &f->held, id, usize, d->payload_cap) != 0)
        compressed_fail(d, ctx);
}

/* Where the codec's output goes: the body parser of this direction. */
struct inner_reader {
    struct mongo_dir *d;
    enum decoder_dir dir;
    struct decoder_ctx *ctx;
};

/* Decompressed bytes: the next of the inner message's body (`left` of it
 * from buf on). */
static void inner_deliver(void *user, const uint8_t *buf, size_t n, uint64_t left)
{
    struct inner_reader *r = user;
    if (!r->d->skipping) {
        r->d->body_left = left;
        body_feed(r->d, r->dir, r->ctx, buf, n);
    }
}

/* Payload bytes as they arrive: decompressed and parsed, or (snappy) held. */
static void compressed_feed(struct mongo_dir *d, enum decoder_dir dir, struct decoder_ctx *ctx,
                            const uint8_t *buf, size_t len)
{
    if (d->inner != INNER_CODEC)
        return;
    struct inner_reader r = { d, dir, ctx };
    if (mongo_codec_feed(&d->codec, buf, len, inner_deliver, &r) != 0)
        compressed_fail(d, ctx);
}

/* The payload ended: the decompressed body must have been exactly
 * uncompressedSize (snappy: decompress the held payload now). */
static void compressed_finish(struct mongo_dir *d, enum decoder_dir dir, struct decoder_ctx *ctx)
{
    struct inner_reader r = { d, dir, ctx };
    if (mongo_codec_finish(&d->codec, inner_deliver, &r) != 0)
        compressed_fail(d, ctx);
}

/* ------------------------------------------------------------ framing */

static void message_end(struct mongo_flow *f, struct mongo_dir *d, enum decoder_dir dir,
                        struct decoder_ctx *ctx)
{
    if (d->hdr.opcode == MONGO_OP_COMPRESSED && !d->compressed) {
        /* it ended before its payload began */
        if (!d->skipping)
            malformed(d, ctx);
        compressed_skip_body(f, d, dir, ctx, d->ints_read >= 1 ? (int32_t)d->ints[0] : 0);
    } else if (d->inner == INNER_CODEC) {
        compressed_finish(d, dir, ctx);
    }
    message_complete(f, d, dir, ctx);
    mongo_codec_release(&d->codec);
    d->inner = INNER_NONE;
    d->state = D_HEADER;
    d->hlen = 0;
}

/* A header was read (d->hdr): start the message. */
static void message_begin(struct mongo_flow *f, struct mongo_dir *d, enum decoder_dir dir,
                          struct decoder_ctx *ctx, bool too_large)
{
    d->wire_length = (uint64_t)d->hdr.length;
    d->remaining = d->wire_length - MONGO_HEADER_LEN;
    d->skipping = false;
    d->partial = false;
    d->malformed = false;
    d->too_large = too_large;
    d->compressed = false;
    d->seen_message = true;
    assert(!d->codec.zlib && !d->codec.zstd && !d->codec.chunk && !d->codec.payload);
    d->inner = INNER_NONE;
    body_begin(d, d->hdr.opcode);
    if (dir == DIR_TO_CLIENT && d->hdr.opcode != MONGO_OP_COMPRESSED)
        reply_begin(f, d, ctx);
    if (too_large) {
        /* framed, but larger than any real message: skipped whole */
        decoder_count(ctx, MONGODB_COUNTER_TOO_LARGE);
        d->skipping = true;
    } else if (d->hdr.opcode == MONGO_OP_COMPRESSED) {
        /* compressed_max applies to snappy, the payload held (compressed_begin) */
        if (d->remaining < 9)
            malformed(d, ctx);
        else
            d->payload_cap = (size_t)(d->remaining - 9);
    }
    d->state = D_BODY;
    if (d->remaining == 0)
        message_end(f, d, dir, ctx);
}

/* Is this a header we would start reading at, when looking for framing? */
static bool plausible_header(struct mongo_flow *f, const uint8_t *p, enum decoder_dir dir,
                             struct decoder_ctx *ctx, struct mongo_header *h)
{
    if (mongo_parse_header(p, MONGO_HEADER_LEN, message_max(ctx), h) != MONGO_HEADER_LEN)
        return false;
    if (dir == DIR_TO_SERVER)
        return h->response_to == 0 && h->opcode != MONGO_OP_REPLY;
    if (h->opcode != MONGO_OP_REPLY && h->opcode != MONGO_OP_MSG &&
        h->opcode != MONGO_OP_COMPRESSED)
        return false;
    size_t i;
    if (f->pending_count == 0 && !f->exhaust)
        return true;
    return pending_find(f, h->response_to, &i) != NULL ||
           (f->exhaust && h->response_to == f->exhaust_id);
}

static void mongo_data(void *state, struct decoder_ctx *ctx, enum decoder_dir dir,
                       const uint8_t *buf, size_t len)
{
    struct mongo_flow *f = state;
    struct mongo_dir *d = &f->dirs[dir];
    size_t i = 0;
    while (i < len) {
        switch (d->state) {
        case D_HEADER: {
            if (d->hlen == 0)
                d->ts_first = ctx->now_us;
            size_t n = MONGO_HEADER_LEN - d->hlen;
            if (n > len - i)
                n = len - i;
            memcpy(d->hbuf + d->hlen, buf + i, n);
            d->hlen += n;
            i += n;
            if (d->hlen < MONGO_HEADER_LEN)
                break;
            int rc = mongo_parse_header(d->hbuf, MONGO_HEADER_LEN, UINT32_MAX, &d->hdr);
            if (rc == MONGO_HEADER_LEN && (uint64_t)d->hdr.length > message_max(ctx)) {
                message_begin(f, d, dir, ctx, true);
                break;
            }
            if (rc != MONGO_HEADER_LEN) {
                decoder_count(ctx, MONGODB_COUNTER_MALFORMED);
                d->state = D_RESYNC;  /* the window holds the 16 bytes read */
                break;
            }
            message_begin(f, d, dir, ctx, false);
            break;
        }
        case D_BODY: {
            size_t n = len - i;
            if (n > d->remaining)
                n = (size_t)d->remaining;
            if (d->inner != INNER_NONE) {
                compressed_feed(d, dir, ctx, buf + i, n);
            } else if (!d->skipping) {
                d->body_left = d->remaining;
                size_t used = body_feed(d, dir, ctx, buf + i, n);
                if (d->hdr.opcode == MONGO_OP_COMPRESSED && !d->skipping &&
                    d->prog[d->field] == F_PAYLOAD) {
                    compressed_begin(f, d, dir, ctx);
                    if (used < n)
                        compressed_feed(d, dir, ctx, buf + i + used, n - used);
                }
            }
            d->remaining -= n;
            i += n;
            if (d->remaining == 0)
                message_end(f, d, dir, ctx);
            break;
        }
        case D_RESYNC: {
            /* slide the 16-byte window one byte */
            memmove(d->hbuf, d->hbuf + 1, MONGO_HEADER_LEN - 1);
            d->hbuf[MONGO_HEADER_LEN - 1] = buf[i++];
            if (plausible_header(f, d->hbuf, dir, ctx, &d->hdr)) {
                decoder_count(ctx, MONGODB_COUNTER_RESYNC);
                d->ts_first = ctx->now_us;
                message_begin(f, d, dir, ctx, false);
            }
            break;
        }
        }
    }
}

/* The message being read (if any) ends here, cut: emit what it was. */
static void cut_message(struct mongo_flow *f, struct mongo_dir *d, enum decoder_dir dir,
                        struct decoder_ctx *ctx)
{
    if (d->state != D_BODY)
        return;
    d->partial = true;
    d->skipping = true;
    d->walking = false;
    if (d->hdr.opcode == MONGO_OP_COMPRESSED && !d->compressed)
        compressed_skip_body(f, d, dir, ctx, MONGO_OP_MSG);
    mongo_codec_release(&d->codec);   /* a cut payload is not a decompress error */
    d->inner = INNER_NONE;
    message_complete(f, d, dir, ctx);
    d->state = D_HEADER;
    d->hlen = 0;
}

static void mongo_gap(void *state, struct decoder_ctx *ctx, enum decoder_dir dir, uint64_t len)
{
    struct mongo_flow *f = state;
    struct mongo_dir *d = &f->dirs[dir];
    if (d->state == D_BODY && len > 0 && len <= d->remaining && d->inner != INNER_NONE) {
        /* a compressed stream cannot go on after a hole */
        mongo_codec_release(&d->codec);
        d->inner = INNER_STOPPED;
    }
    if (d->state == D_BODY && len > 0 && len < d->remaining) {
        /* inside one message: its framing survives, its content does not */
        d->partial = true;
        d->skipping = true;
        d->walking = false;
        d->remaining -= len;
        return;
    }
    if (d->state == D_BODY && len > 0 && len == d->remaining) {
        d->partial = true;
        d->skipping = true;
        d->walking = false;
        d->remaining = 0;
        message_end(f, d, dir, ctx);
        return;
    }
    cut_message(f, d, dir, ctx);
    d->state = D_RESYNC;
    memset(d->hbuf, 0xff, sizeof(d->hbuf));  /* no header can start in old bytes */
}

static void mongo_end(void *state, struct decoder_ctx *ctx, enum decoder_dir dir)
{
    struct mongo_flow *f = state;
    cut_message(f, &f->dirs[dir], dir, ctx);
}

static void *mongo_open(struct decoder_ctx *ctx)
{
    struct mongo_flow *f = membudget_calloc(ctx->budget, sizeof(*f));
    if (f) {
        f->held.budget = ctx->budget;
        f->midstream = ctx->midstream != 0;
    }
    return f;
}

static void mongo_close(void *state, struct decoder_ctx *ctx)
{
    struct mongo_flow *f = state;
    if (!f)
        return;
    for (int dir = 0; dir < 2; dir++)
        cut_message(f, &f->dirs[dir], (enum decoder_dir)dir, ctx);
    while (f->pending_count > 0)
        pending_give_up_oldest(f, ctx);
    for (int dir = 0; dir < 2; dir++)
        mongo_codec_release(&f->dirs[dir].codec);
    assert(f->held.now == 0);
    struct membudget *budget = f->held.budget;
    membudget_free(budget, f->pending, f->pending_cap * sizeof(*f->pending));
    membudget_free(budget, f, sizeof(*f));
}

/* ---- registration ---- */

static const struct config_key mongodb_keys[] = {
    CONFIG_KEY_SIZE(struct mongodb_params, message_max, "message_max_mb", 1, 2047, CONFIG_MIB,
                    48, "Largest MongoDB message accepted, in MiB; a larger one is framed "
                    "and skipped (mongodb.too_large)."),
    CONFIG_KEY_SIZE(struct mongodb_params, compressed_max, "compressed_max_mb", 1, 2047,
                    CONFIG_MIB, 16, "snappy OP_COMPRESSED payload held per direction to "
                    "decompress whole, in MiB."),
    CONFIG_KEY_SIZE(struct mongodb_params, decompressed_max, "decompressed_max_mb", 1, 2047,
                    CONFIG_MIB, 48, "Largest decompressed size of an OP_COMPRESSED message, "
                    "in MiB."),
    CONFIG_KEY_SIZE(struct mongodb_params, pending_max, "pending_max", 1, 256, 1, 64,
                    "Requests per flow waiting for their reply."),
};

static const struct decoder_settings mongodb_settings = {
    "mongodb", mongodb_keys, sizeof(mongodb_keys) / sizeof(mongodb_keys[0]),
    sizeof(struct mongodb_params),
};

static const char *const mongodb_counter_names[MONGODB_COUNTER_COUNT] = {
#define MONGODB_COUNTER_NAME(id, name) name,
    MONGODB_COUNTERS(MONGODB_COUNTER_NAME)
#undef MONGODB_COUNTER_NAME
};

static const struct decoder_counters mongodb_counters = {
    "mongodb", mongodb_counter_names, MONGODB_COUNTER_COUNT,
};

/* A request header: plausible length, answers nothing, an opcode a client
 * sends. A reply header (picked up mid-stream): answers a request. */
static enum probe_result probe_header(const uint8_t *buf, size_t len, bool request)
{
    struct mongo_header h;
    int r = mongo_parse_header(buf, len, (size_t)48 * 1024 * 1024, &h);
    if (r == 0)
        return PROBE_NEED_MORE;
    if (r < 0)
        return PROBE_NO;
    if (request)
        return h.response_to == 0 && h.opcode != MONGO_OP_REPLY ? PROBE_YES : PROBE_NO;
    return h.response_to != 0 && (h.opcode == MONGO_OP_MSG || h.opcode == MONGO_OP_REPLY
                                  || h.opcode == MONGO_OP_COMPRESSED)
               ? PROBE_YES : PROBE_NO;
}

enum probe_result mongodb_probe(const uint8_t *to_server, size_t to_server_len,
                                const uint8_t *to_client, size_t to_client_len)
{
    if (to_server_len > 0)
        return probe_header(to_server, to_server_len, true);
    if (to_client_len > 0)
        return probe_header(to_client, to_client_len, false);
    return PROBE_NEED_MORE;
}

static const uint16_t mongodb_ports[] = { 27017 };
static const char *const mongodb_ndpi_names[] = { "MongoDB", NULL };

const struct decoder mongodb_decoder = {
    .name = "mongodb",
    .app = APP_MONGODB,
    .ports = mongodb_ports,
    .port_count = sizeof(mongodb_ports) / sizeof(mongodb_ports[0]),
    .ndpi_names = mongodb_ndpi_names,
    .probe = mongodb_probe,
    .settings = &mongodb_settings,
    .counters = &mongodb_counters,
    .open = mongo_open,
    .data = mongo_data,
    .gap = mongo_gap,
    .end = mongo_end,
    .close = mongo_close,
};
