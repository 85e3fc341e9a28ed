/* bson.h - BSON (bsonspec.org 1.1): a whole-buffer element iterator and a
 * streaming walker.
 *
 * The iterator reads one document that is entirely in memory: every length
 * is checked against its container before anything is read, so a bad length
 * ends the walk as malformed instead of reading past the buffer.
 *
 * The streaming walker reads a document whose bytes arrive in pieces (a
 * 16 MiB MongoDB reply over hundreds of TCP segments) and keeps a few hundred
 * bytes of state, whatever the document's size: it never buffers the
 * document. For each element it tells a callback the element's path (the
 * keys of the enclosing containers, as far as they are kept), key and type,
 * and for scalar values the value itself (strings cut to a cap). The callback
 * may ask that a container be skipped instead of walked: counting the
 * documents of `cursor.firstBatch` costs one length read per document. Depth
 * is bounded: containers deeper than BSON_STREAM_DEPTH_MAX are skipped whole
 * (their lengths still checked against their parent). Neither part
 * allocates. */
#ifndef SW_BSON_H
#define SW_BSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Element types (BSON spec 1.1). */
enum bson_type {
    BSON_DOUBLE = 0x01,
    BSON_STRING = 0x02,
    BSON_DOCUMENT = 0x03,
    BSON_ARRAY = 0x04,
    BSON_BINARY = 0x05,
    BSON_UNDEFINED = 0x06,
    BSON_OBJECTID = 0x07,
    BSON_BOOL = 0x08,
    BSON_DATETIME = 0x09,
    BSON_NULL = 0x0A,
    BSON_REGEX = 0x0B,
    BSON_DBPOINTER = 0x0C,
    BSON_CODE = 0x0D,
    BSON_SYMBOL = 0x0E,
    BSON_CODE_W_SCOPE = 0x0F,
    BSON_INT32 = 0x10,
    BSON_TIMESTAMP = 0x11,
    BSON_INT64 = 0x12,
    BSON_DECIMAL128 = 0x13,
    BSON_MINKEY = 0xFF,
    BSON_MAXKEY = 0x7F,
};

#define BSON_DOC_MIN 5  /* int32 length + terminating NUL */

/* ------------------------------------------------------------ iterator */

struct bson_elem {
    uint8_t type;
    const char *key;        /* NUL-terminated, inside the buffer */
    size_t key_len;
    const uint8_t *value;   /* the value's bytes, inside the buffer */
    size_t value_len;
};

struct bson_iter {
    const uint8_t *doc;
    size_t end;             /* offset of the document's terminating NUL */
    size_t pos;
};

enum bson_status { BSON_OK = 0, BSON_END = 1, BSON_MALFORMED = -1 };

/* Reads the document's length (at most len bytes available). Returns
 * BSON_OK, or BSON_MALFORMED when the length is below 5, above len, or the
 * last byte is not NUL. */
int bson_iter_init(struct bson_iter *it, const uint8_t *doc, size_t len);
/* Next element: BSON_OK (e filled), BSON_END, or BSON_MALFORMED. */
int bson_iter_next(struct bson_iter *it, struct bson_elem *e);
/* Size of a value of `type` starting at p with avail bytes: bytes it takes,
 * or -1 if malformed/unknown type or longer than avail. */
ptrdiff_t bson_value_size(uint8_t type, const uint8_t *p, size_t avail);
/* Checks a whole document: every element, every nested container down to
 * max_depth levels (deeper: malformed). */
int bson_validate(const uint8_t *doc, size_t len, unsigned max_depth);

/* Value readers: false when the element is not of a fitting type. */
bool bson_elem_int64(const struct bson_elem *e, int64_t *out);   /* int32/int64/double */
bool bson_elem_truthy(const struct bson_elem *e, bool *out);     /* bool or number */
bool bson_elem_string(const struct bson_elem *e, const char **s, size_t *len);
bool bson_elem_document(const struct bson_elem *e, const uint8_t **doc, size_t *len); /* doc or array */

/* Little-endian readers of wire integers (no bounds: the caller checked). */
static inline uint32_t bson_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline int32_t bson_i32(const uint8_t *p)
{
    return (int32_t)bson_u32(p);
}
static inline int64_t bson_i64(const uint8_t *p)
{
    return (int64_t)((uint64_t)bson_u32(p) | (uint64_t)bson_u32(p + 4) << 32);
}

/* ------------------------------------------------------------ streaming */

#define BSON_STREAM_DEPTH_MAX 32   /* containers walked; deeper ones are skipped */
#define BSON_STREAM_PATH_MAX 6     /* levels whose keys are kept for the path */
#define BSON_STREAM_KEY_MAX 40     /* key bytes kept (longer keys are cut) */
#define BSON_STREAM_STRING_MAX 128 /* string value bytes reported */

/* One element as the walker reports it. */
struct bson_event {
    unsigned depth;          /* 0: an element of the top-level document */
    /* keys of the enclosing containers: path[0..depth-1]; levels at or
     * beyond BSON_STREAM_PATH_MAX are "" */
    const char *const *path;
    const char *key;         /* NUL-terminated, at most BSON_STREAM_KEY_MAX */
    size_t key_len;
    bool key_cut;
    unsigned index;          /* position of the element in its container */
    uint8_t type;
    /* Scalars: the value bytes (fixed-size types whole; strings, code and
     * symbols: the characters without the NUL, cut at
     * BSON_STREAM_STRING_MAX). Containers: NULL, and container_len is the
     * declared length (5 = empty). Binary, regex, dbpointer, code with scope:
     * NULL (skipped). */
    const uint8_t *value;
    size_t value_len;
    bool value_cut;
    uint32_t container_len;
};

enum bson_stream_action { BSON_WALK = 0, BSON_SKIP = 1 };

/* Called once per element; for containers the return value says whether to
 * walk into it (BSON_WALK) or skip it (BSON_SKIP). For strings the event
 * comes when the whole string was read. */
typedef enum bson_stream_action (*bson_stream_cb)(void *user, const struct bson_event *ev);

struct bson_stream_level {
    uint64_t end;            /* offset just past the container */
    unsigned count;          /* elements read so far */
};

struct bson_stream {
    bson_stream_cb cb;
    void *user;
    uint64_t limit;          /* the document may not be longer than this */
    uint64_t pos;            /* bytes of the document consumed */
    uint64_t skip;           /* bytes left to skip */
    uint8_t state;
    uint8_t type;            /* element being read */
    bool skip_nul_last;      /* the last skipped byte must be NUL */
    bool done;
    bool failed;
    uint8_t cstrings_left;   /* regex: two cstrings */
    unsigned depth;          /* open containers, top-level document included */
    struct bson_stream_level level[BSON_STREAM_DEPTH_MAX + 1];
    char keys[BSON_STREAM_PATH_MAX][BSON_STREAM_KEY_MAX + 1];
    const char *path[BSON_STREAM_DEPTH_MAX + 1];
    char key[BSON_STREAM_KEY_MAX + 1];
    size_t key_len;
    bool key_cut;
    uint8_t buf[BSON_STREAM_STRING_MAX + 8];
    size_t buf_len;
    size_t need;             /* bytes wanted in buf */
    uint32_t str_len;        /* string being read: declared length */
};

enum bson_stream_status {
    BSON_STREAM_MORE = 0,       /* all input used, the document goes on */
    BSON_STREAM_DONE = 1,       /* the document ended; *used says where */
    BSON_STREAM_MALFORMED = -1, /* a length or type is wrong: stop */
};

/* Starts a walk of one document at most `limit` bytes long. */
void bson_stream_init(struct bson_stream *s, uint64_t limit, bson_stream_cb cb, void *user);
/* Feeds bytes; *used is how many were consumed (all of them unless the
 * document ended inside buf). After DONE or MALFORMED, feeding again
 * returns the same status and consumes nothing. */
int bson_stream_feed(struct bson_stream *s, const uint8_t *buf, size_t len, size_t *used);

#endif
