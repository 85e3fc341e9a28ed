/* redis_record.h - the record format of the Redis sink: one event (its
 * flat fields, JSON, health and metrics lines), as queued in memory and
 * written to the spool. Little-endian, length-prefixed fields after a
 * 32-byte fixed part; version 1 records (before F_METRICS) are still read. */
#ifndef SW_REDIS_RECORD_H
#define SW_REDIS_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "output_redis.h"

enum record_field {
    F_SENSOR, F_TYPE, F_APP, F_SRC, F_DEST, F_RULE, F_SEVERITY, F_JSON, F_HEALTH,
    F_METRICS, F_COUNT
};
#define RECORD_V1_FIELDS F_METRICS   /* a version 1 record ends after F_HEALTH */

struct record_view {
    uint64_t run_id, n, ts_us;
    const char *s[F_COUNT];
    size_t len[F_COUNT];
};

/* Bytes the event's record takes. */
size_t redis_record_size(const char *sensor, const struct redis_event *e);
/* Encodes the event; its length, 0 if it does not fit in cap. */
size_t redis_record_encode(uint8_t *out, size_t cap, uint64_t run_id, uint64_t n,
                           const char *sensor, const struct redis_event *e);
/* Bounds-checked view of a record; -1 when it is not one we wrote. The
 * strings are not NUL-terminated (lengths in v->len). */
int redis_record_decode(const uint8_t *p, size_t n, struct record_view *v);

#endif
