/* json.h - a small JSON writer into a caller-owned growable buffer.
 *
 * Keeps track of commas and nesting; escapes strings per RFC 8259, replaces
 * invalid UTF-8 with \u00XX of the byte, and caps wire strings to a length
 * (never cutting a UTF-8 sequence). Output is deterministic. */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX 16

struct json_writer {
    char *buf;
    size_t len, cap;
    int depth;
    bool need_comma[JSON_DEPTH_MAX];
    bool failed;              /* allocation failed or depth exceeded */
};

void json_init(struct json_writer *w);
void json_reset(struct json_writer *w);   /* empty, keep the allocation */
void json_free(struct json_writer *w);

void json_object_open(struct json_writer *w);
void json_object_close(struct json_writer *w);
void json_array_open(struct json_writer *w);
void json_array_close(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);

/* Values (inside an array, or after json_key) */
void json_string(struct json_writer *w, const char *s);
/* A string that came off the wire: at most `cap` bytes of it are written. */
void json_string_capped(struct json_writer *w, const char *s, size_t len, size_t cap);
void json_uint(struct json_writer *w, uint64_t v);
void json_int(struct json_writer *w, int64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
/* Appends raw text as a value (already valid JSON). */
void json_raw(struct json_writer *w, const char *text);

/* key + value shorthands */
void json_kv_string(struct json_writer *w, const char *key, const char *s);
void json_kv_uint(struct json_writer *w, const char *key, uint64_t v);
void json_kv_int(struct json_writer *w, const char *key, int64_t v);
void json_kv_bool(struct json_writer *w, const char *key, bool v);
/* A value the caller knows is printable ASCII without quote or backslash
 * (a formatted number, time or address): written without scanning it. */
void json_kv_plain(struct json_writer *w, const char *key, const char *s, size_t len);

#endif
