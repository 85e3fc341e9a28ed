/* spool.h - an append-only file of records on disk: where the Redis sink
 * keeps events that do not fit in memory or cannot be delivered while Redis
 * is away, and what it leaves behind at shutdown for the next start to
 * replay first.
 *
 * File layout (integers little-endian):
 *
 *   header, 32 bytes:  "SWSPOOL2" | u64 head | u64 0 | u32 crc32(bytes 0..23) | u32 0
 *   records from 32:   u8 magic[4] = FF 53 57 52 ("\xffSWR")
 *                      | u32 length (1..SPOOL_RECORD_MAX)
 *                      | u32 crc32(length field + payload) | payload
 *
 * `head` is the offset of the first record not yet acknowledged by Redis.
 * Records are only ever appended; acknowledging one rewrites the 8-byte head
 * in the header. The magic (0xFF never occurs in UTF-8 text) lets a reader
 * find records again after damage: on open, records from head on are checked
 * one by one; a record with a wrong magic, length or CRC starts a damaged
 * region, and the reader scans forward for the next offset holding the magic
 * and a whole record whose CRC matches. The region in between is skipped
 * (reported with its byte range, counted), the records after it are kept.
 * A damaged region that runs to the end of the file (a torn write: the
 * sensor or the machine died while appending) is cut off, so later appends
 * never follow garbage. A header whose CRC does not match makes every record
 * count as unacknowledged (replayed: at-least-once). A file of the first
 * format ("SWSPOOL1") is refused with a message, never rewritten.
 *
 * The file never grows beyond max_bytes. When the spool empties, the file is
 * cut back to its header. When it is full and at least a quarter of the cap
 * is acknowledged records at its start, the live records are copied to a new
 * file that replaces it (compaction); otherwise the append fails with
 * SPOOL_FULL.
 *
 * Durability (enum spool_fsync): ALWAYS fdatasync()s after every append;
 * BATCH when the caller says a batch of appends is over (spool_sync); NEVER
 * leaves it to the kernel. A process crash loses nothing already appended in
 * any mode (the data is in the page cache); a power loss may lose what was
 * appended since the last sync.
 *
 * Every failed system call is remembered (spool.error_op, error_errno) and
 * counted (io_errors) for the caller to report: this module does not log.
 *
 * Not thread-safe: the caller serialises access. */
#ifndef SW_SPOOL_H
#define SW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_HEADER_SIZE 32
#define SPOOL_RECORD_HEADER 12
#define SPOOL_REPORT_RANGES 8
#define SPOOL_RECORD_MAX ((size_t)16 << 20)

enum spool_fsync { SPOOL_FSYNC_ALWAYS, SPOOL_FSYNC_BATCH, SPOOL_FSYNC_NEVER };

enum spool_status {
    SPOOL_OK = 0,
    SPOOL_FULL = -1,    /* the record does not fit under the cap */
    SPOOL_ERROR = -2,   /* I/O error; the spool is left as it was */
};

struct spool {
    int fd;                   /* -1 when closed */
    char path[512];
    uint64_t max_bytes;       /* file size cap, header included */
    enum spool_fsync fsync_policy;
    uint64_t head;            /* first unacknowledged record */
    uint64_t read;            /* next record spool_read returns */
    uint64_t tail;            /* end of the last record = file size */
    uint64_t records;         /* records in [head, tail) */
    uint64_t unread;          /* records in [read, tail) */
    uint64_t shift;           /* offsets given out = file offset + shift
                                 (stable across compaction, mod 2^64) */
    bool dirty;               /* appended since the last sync */
    uint64_t compactions;
    uint64_t checked_until;   /* damaged regions before this offset were
                                 reported by spool_open */
    /* damage met by spool_read (after open), for the caller to report */
    uint64_t skipped_regions, skipped_bytes;
    uint64_t last_skip_from, last_skip_to;   /* file offsets */
    uint64_t records_lost;    /* records the damage swallowed */
    /* the last failed system call */
    const char *error_op;     /* "write", "fdatasync", "rename", ... */
    int error_errno;
    uint64_t io_errors;
};

/* What spool_open found in an existing file. */
struct spool_open_report {
    uint64_t records;         /* unacknowledged records kept */
    uint64_t truncated_bytes; /* cut off the end (torn or damaged tail) */
    uint64_t truncated_at;    /* where the cut was made */
    bool crc_mismatch;        /* the cut tail started with a whole record whose CRC is bad */
    bool header_reset;        /* header CRC bad: head moved to the first record */
    uint64_t skipped_regions; /* damaged regions skipped between good records */
    uint64_t skipped_bytes;
    /* the first SPOOL_REPORT_RANGES of them: [from, to) file offsets */
    uint64_t skip_from[SPOOL_REPORT_RANGES], skip_to[SPOOL_REPORT_RANGES];
};

/* Opens (creating it if needed) and checks the spool at path. -1 with err
 * set when the file cannot be opened, is not a spool, or is in use by
 * another process (an exclusive flock is held while open). */
int spool_open(struct spool *s, const char *path, uint64_t max_bytes,
               enum spool_fsync policy, struct spool_open_report *report,
               char *err, size_t errlen);
void spool_close(struct spool *s);

/* Appends one record (1..SPOOL_RECORD_MAX bytes). */
enum spool_status spool_append(struct spool *s, const void *data, size_t len);
/* End of a batch of appends: fdatasync under the BATCH policy. */
enum spool_status spool_sync(struct spool *s);

/* The next unread record, in a malloc'd buffer the caller frees; *end is
 * a position after it for spool_ack (it stays valid when the file is
 * compacted meanwhile). 1 got one, 0 none left, -1 error. Damage found on
 * the way (the file changed under us since open) is skipped and counted in
 * skipped_regions / skipped_bytes / records_lost. */
int spool_read(struct spool *s, void **data, size_t *len, uint64_t *end);
/* Reading starts again at the first unacknowledged record. */
void spool_rewind(struct spool *s);
/* Everything before position end (count records) is acknowledged: the head
 * moves there. An empty spool is cut back to its header. */
enum spool_status spool_ack(struct spool *s, uint64_t end, uint64_t count);
/* Puts records in front of every record the spool holds (at shutdown: events
 * that were in flight from memory are older than the spooled ones). Rewrites
 * the file; unread records stay unread. */
enum spool_status spool_prepend(struct spool *s, const void *const *data,
                                const size_t *len, size_t count);

/* Bytes of records not yet acknowledged. */
static inline uint64_t spool_pending_bytes(const struct spool *s)
{
    return s->tail - s->head;
}

const char *spool_fsync_name(enum spool_fsync p);
/* "always" | "batch" | "never"; -1 when unknown. */
int spool_fsync_parse(const char *name, enum spool_fsync *out);

#endif
