/* spool.c - the append-only record file (see spool.h for the format). */
#include "spool.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char spool_magic[8] = {'S', 'W', 'S', 'P', 'O', 'O', 'L', '2'};
static const char spool_magic_v1[8] = {'S', 'W', 'S', 'P', 'O', 'O', 'L', '1'};
static const uint8_t record_magic[4] = {0xFF, 'S', 'W', 'R'};

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static uint32_t record_crc(const uint8_t *len_field, const void *data, size_t len)
{
    uLong c = crc32(0L, len_field, 4);
    return (uint32_t)crc32(c, data, (uInt)len);
}

/* pwrite/pread of exactly n bytes; -1 on error or short transfer at EOF. */
static int write_all(int fd, const void *buf, size_t n, uint64_t off)
{
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n, uint64_t off)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

static void header_encode(uint8_t *h, uint64_t head)
{
    memset(h, 0, SPOOL_HEADER_SIZE);
    memcpy(h, spool_magic, sizeof(spool_magic));
    put_u64(h + 8, head);
    put_u32(h + 24, (uint32_t)crc32(0L, h, 24));
}

static int header_write(int fd, uint64_t head)
{
    uint8_t h[SPOOL_HEADER_SIZE];
    header_encode(h, head);
    return write_all(fd, h, sizeof(h), 0);
}

static int sync_fd(int fd)
{
    return fdatasync(fd) == 0 ? 0 : -1;
}

/* Remembers a failed system call (errno is still its errno); returns -1. */
static int spool_io_error(struct spool *s, const char *op)
{
    s->error_op = op;
    s->error_errno = errno;
    s->io_errors++;
    return -1;
}

static void record_header_encode(uint8_t *rh, const void *data, size_t len)
{
    memcpy(rh, record_magic, sizeof(record_magic));
    put_u32(rh + 4, (uint32_t)len);
    put_u32(rh + 8, record_crc(rh + 4, data, len));
}

const char *spool_fsync_name(enum spool_fsync p)
{
    return p == SPOOL_FSYNC_ALWAYS ? "always" : p == SPOOL_FSYNC_NEVER ? "never" : "batch";
}

int spool_fsync_parse(const char *name, enum spool_fsync *out)
{
    if (strcmp(name, "always") == 0)
        *out = SPOOL_FSYNC_ALWAYS;
    else if (strcmp(name, "batch") == 0)
        *out = SPOOL_FSYNC_BATCH;
    else if (strcmp(name, "never") == 0)
        *out = SPOOL_FSYNC_NEVER;
    else
        return -1;
    return 0;
}

enum record_state { RECORD_OK, RECORD_TORN, RECORD_BAD, RECORD_IO_ERROR };

/* Checks the record at off against a file of `size` bytes: RECORD_OK with
 * its length in *len when whole and intact; RECORD_TORN when its framing is
 * right but the file ends inside it; RECORD_BAD when its magic, length or
 * CRC is wrong. */
static enum record_state record_check(int fd, uint64_t off, uint64_t size, uint8_t **buf,
                                      size_t *cap, size_t *len)
{
    uint8_t rh[SPOOL_RECORD_HEADER];
    uint64_t left = size - off;
    if (left < SPOOL_RECORD_HEADER) {
        if (read_all(fd, rh, (size_t)left, off) != 0)
            return RECORD_IO_ERROR;
        return memcmp(rh, record_magic, left < 4 ? (size_t)left : 4) == 0 ? RECORD_TORN
                                                                           : RECORD_BAD;
    }
    if (read_all(fd, rh, sizeof(rh), off) != 0)
        return RECORD_IO_ERROR;
    uint32_t n = get_u32(rh + 4);
    if (memcmp(rh, record_magic, sizeof(record_magic)) != 0 || n == 0 || n > SPOOL_RECORD_MAX)
        return RECORD_BAD;
    if (left - SPOOL_RECORD_HEADER < n)
        return RECORD_TORN;
    if (*cap < n) {
        uint8_t *p = realloc(*buf, n);
        if (!p)
            return RECORD_IO_ERROR;
        *buf = p;
        *cap = n;
    }
    if (read_all(fd, *buf, n, off + SPOOL_RECORD_HEADER) != 0)
        return RECORD_IO_ERROR;
    if (record_crc(rh + 4, *buf, n) != get_u32(rh + 8))
        return RECORD_BAD;
    *len = n;
    return RECORD_OK;
}

/* The offset of the first intact record in [from, size), or size when there
 * is none: a scan for the record magic, each candidate checked in full.
 * UINT64_MAX on a read error. */
static uint64_t record_resync(int fd, uint64_t from, uint64_t size, uint8_t **buf, size_t *cap)
{
    uint8_t chunk[65536];
    size_t len;
    while (from < size) {
        size_t n = size - from < sizeof(chunk) ? (size_t)(size - from) : sizeof(chunk);
        if (read_all(fd, chunk, n, from) != 0)
            return UINT64_MAX;
        for (size_t i = 0; i < n; i++) {
            if (chunk[i] != record_magic[0])
                continue;
            enum record_state st = record_check(fd, from + i, size, buf, cap, &len);
            if (st == RECORD_OK)
                return from + i;
            if (st == RECORD_IO_ERROR)
                return UINT64_MAX;
        }
        from += n;
    }
    return size;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int spool_fail(struct spool *s, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    char msg[400];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (err && errlen)
        snprintf(err, errlen, "spool %s: %s", s->path, msg);
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    return -1;
}

/* Walks the records of [head, size): counts the intact ones, skips damaged
 * regions that good records follow (noted in rep), and returns where the
 * good records end (a damaged tail starts there). UINT64_MAX on error. */
static uint64_t spool_walk(struct spool *s, uint64_t head, uint64_t size,
                           struct spool_open_report *rep)
{
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    uint64_t off = head;
    bool failed = false;
    while (off < size) {
        enum record_state st = record_check(s->fd, off, size, &buf, &cap, &len);
        if (st == RECORD_OK) {
            off += SPOOL_RECORD_HEADER + len;
            rep->records++;
            continue;
        }
        if (st == RECORD_IO_ERROR) {
            failed = true;
            break;
        }
        uint64_t next = record_resync(s->fd, off + 1, size, &buf, &cap);
        if (next == UINT64_MAX) {
            failed = true;
            break;
        }
        if (next == size) {   /* nothing good after it: a torn tail */
            rep->crc_mismatch = st == RECORD_BAD;
            break;
        }
        if (rep->skipped_regions < SPOOL_REPORT_RANGES) {
            rep->skip_from[rep->skipped_regions] = off;
            rep->skip_to[rep->skipped_regions] = next;
        }
        rep->skipped_regions++;
        rep->skipped_bytes += next - off;
        off = next;
    }
    free(buf);
    return failed ? UINT64_MAX : off;
}

int spool_open(struct spool *s, const char *path, uint64_t max_bytes,
               enum spool_fsync policy, struct spool_open_report *report,
               char *err, size_t errlen)
{
    struct spool_open_report rep;
    memset(&rep, 0, sizeof(rep));
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->max_bytes = max_bytes < SPOOL_HEADER_SIZE ? SPOOL_HEADER_SIZE : max_bytes;
    s->fsync_policy = policy;
    if (strlen(path) >= sizeof(s->path)) {
        snprintf(err, errlen, "spool path too long");
        return -1;
    }
    memcpy(s->path, path, strlen(path) + 1);
    s->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->fd < 0)
        return spool_fail(s, err, errlen, "cannot open: %s", strerror(errno));
    if (flock(s->fd, LOCK_EX | LOCK_NB) != 0)
        return spool_fail(s, err, errlen, "in use by another process");
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return spool_fail(s, err, errlen, "cannot stat: %s", strerror(errno));
    uint64_t size = (uint64_t)st.st_size;
    if (size == 0) {
        if (header_write(s->fd, SPOOL_HEADER_SIZE) != 0)
            return spool_fail(s, err, errlen, "cannot write: %s", strerror(errno));
        size = SPOOL_HEADER_SIZE;
    }
    uint8_t h[SPOOL_HEADER_SIZE];
    if (size >= SPOOL_HEADER_SIZE && read_all(s->fd, h, sizeof(h), 0) == 0
        && memcmp(h, spool_magic_v1, sizeof(spool_magic_v1)) == 0)
        return spool_fail(s, err, errlen, "a spool of an older format (SWSPOOL1): replay it "
                          "with the version that wrote it, or move it away");
    if (size < SPOOL_HEADER_SIZE || read_all(s->fd, h, sizeof(h), 0) != 0
        || memcmp(h, spool_magic, sizeof(spool_magic)) != 0)
        return spool_fail(s, err, errlen, "not a scrapewatch spool file");
    uint64_t head = get_u64(h + 8);
    if (get_u32(h + 24) != (uint32_t)crc32(0L, h, 24) || head < SPOOL_HEADER_SIZE) {
        rep.header_reset = true;
        head = SPOOL_HEADER_SIZE;
    }
    if (head > size)   /* everything was acknowledged, then the file was cut */
        head = size;

    uint64_t off = spool_walk(s, head, size, &rep);
    if (off == UINT64_MAX)
        return spool_fail(s, err, errlen, "cannot read: %s", strerror(errno));
    if (off < size) {
        rep.truncated_bytes = size - off;
        rep.truncated_at = off;
        if (ftruncate(s->fd, (off_t)off) != 0)
            return spool_fail(s, err, errlen, "cannot truncate: %s", strerror(errno));
    }
    s->checked_until = off;
    s->head = s->read = head;
    s->tail = off;
    s->records = s->unread = rep.records;
    if (s->records == 0 && s->tail > SPOOL_HEADER_SIZE) {
        /* all acknowledged: start the file afresh */
        if (ftruncate(s->fd, SPOOL_HEADER_SIZE) != 0)
            return spool_fail(s, err, errlen, "cannot truncate: %s", strerror(errno));
        s->head = s->read = s->tail = SPOOL_HEADER_SIZE;
    }
    if (rep.header_reset || s->head == SPOOL_HEADER_SIZE) {
        if (header_write(s->fd, s->head) != 0)
            return spool_fail(s, err, errlen, "cannot write: %s", strerror(errno));
    }
    if (policy != SPOOL_FSYNC_NEVER && (rep.truncated_bytes || rep.header_reset))
        sync_fd(s->fd);
    if (report)
        *report = rep;
    return 0;
}

void spool_close(struct spool *s)
{
    if (s->fd < 0)
        return;
    if (s->fsync_policy != SPOOL_FSYNC_NEVER)
        sync_fd(s->fd);
    close(s->fd);
    s->fd = -1;
}

/* Copies the live records [head, tail) of s, after `count` new records,
 * into a new file that replaces the old one. read keeps pointing at the
 * same record (prepended records are unread). */
static enum spool_status spool_rewrite(struct spool *s, const void *const *data,
                                       const size_t *len, size_t count)
{
    char tmp[sizeof(s->path) + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        spool_io_error(s, "open (compaction)");
        return SPOOL_ERROR;
    }
    uint64_t off = SPOOL_HEADER_SIZE;
    const char *op = "write (compaction)";
    int bad = header_write(fd, SPOOL_HEADER_SIZE);
    for (size_t i = 0; !bad && i < count; i++) {
        uint8_t rh[SPOOL_RECORD_HEADER];
        record_header_encode(rh, data[i], len[i]);
        bad = write_all(fd, rh, sizeof(rh), off)
              || write_all(fd, data[i], len[i], off + SPOOL_RECORD_HEADER);
        off += SPOOL_RECORD_HEADER + len[i];
    }
    uint64_t prefix = off - SPOOL_HEADER_SIZE;
    static uint8_t chunk[65536];
    for (uint64_t from = s->head; !bad && from < s->tail;) {
        size_t n = s->tail - from < sizeof(chunk) ? (size_t)(s->tail - from) : sizeof(chunk);
        bad = read_all(s->fd, chunk, n, from) || write_all(fd, chunk, n, off);
        from += n;
        off += n;
    }
    if (!bad && s->fsync_policy != SPOOL_FSYNC_NEVER) {
        op = "fdatasync (compaction)";
        bad = sync_fd(fd);
    }
    if (!bad && rename(tmp, s->path) != 0) {
        op = "rename";
        bad = 1;
    }
    if (bad) {
        spool_io_error(s, op);
        close(fd);
        unlink(tmp);
        return SPOOL_ERROR;
    }
    if (s->fsync_policy != SPOOL_FSYNC_NEVER) {
        char dir[sizeof(s->path)];
        memcpy(dir, s->path, sizeof(dir));
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            if (fsync(dfd) != 0)
                spool_io_error(s, "fsync (directory)");
            close(dfd);
        }
    }
    flock(fd, LOCK_EX | LOCK_NB);
    close(s->fd);
    /* positions given out for records after head stay valid */
    uint64_t moved = (s->head - SPOOL_HEADER_SIZE) - prefix;   /* mod 2^64 */
    s->shift += moved;
    s->checked_until = s->checked_until > s->head ? s->checked_until - moved : SPOOL_HEADER_SIZE;
    s->fd = fd;
    s->read = SPOOL_HEADER_SIZE + (count ? 0 : prefix + (s->read - s->head));
    if (count)
        s->unread = s->records + count;
    s->tail = off;
    s->head = SPOOL_HEADER_SIZE;
    s->records += count;
    s->dirty = false;
    s->compactions++;
    return SPOOL_OK;
}

enum spool_status spool_append(struct spool *s, const void *data, size_t len)
{
    assert(s->fd >= 0);
    if (len == 0 || len > SPOOL_RECORD_MAX)
        return SPOOL_ERROR;
    uint64_t need = SPOOL_RECORD_HEADER + (uint64_t)len;
    if (s->tail + need > s->max_bytes) {
        /* Compact only when it frees a good part of the file, or every
         * append at the cap would copy the whole spool. */
        if (s->head - SPOOL_HEADER_SIZE >= s->max_bytes / 4
            && spool_rewrite(s, NULL, NULL, 0) != SPOOL_OK)
            return SPOOL_ERROR;
        if (s->tail + need > s->max_bytes)
            return SPOOL_FULL;
    }
    uint8_t rh[SPOOL_RECORD_HEADER];
    record_header_encode(rh, data, len);
    const char *op = NULL;
    if (write_all(s->fd, rh, sizeof(rh), s->tail) != 0
        || write_all(s->fd, data, len, s->tail + sizeof(rh)) != 0)
        op = "write";
    else if (s->fsync_policy == SPOOL_FSYNC_ALWAYS && sync_fd(s->fd) != 0)
        op = "fdatasync";
    if (op) {
        spool_io_error(s, op);
        /* Leave no partial record behind; if even that fails, the next
         * open finds the torn tail and cuts it. */
        int saved = errno;
        if (ftruncate(s->fd, (off_t)s->tail) != 0)
            s->io_errors++;
        errno = saved;
        return SPOOL_ERROR;
    }
    s->tail += need;
    s->records++;
    s->unread++;
    s->dirty = s->fsync_policy != SPOOL_FSYNC_ALWAYS;
    return SPOOL_OK;
}

enum spool_status spool_sync(struct spool *s)
{
    if (!s->dirty || s->fsync_policy != SPOOL_FSYNC_BATCH)
        return SPOOL_OK;
    s->dirty = false;
    if (sync_fd(s->fd) == 0)
        return SPOOL_OK;
    spool_io_error(s, "fdatasync");
    return SPOOL_ERROR;
}

/* The records between read and tail were swallowed by damage found after
 * open: they are gone; the counts follow. */
static void spool_forget_unread(struct spool *s)
{
    s->records_lost += s->unread;
    s->records -= s->unread;
    s->unread = 0;
}

int spool_read(struct spool *s, void **data, size_t *len, uint64_t *end)
{
    assert(s->head <= s->read && s->read <= s->tail);
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (s->read >= s->tail) {
            if (s->unread)
                spool_forget_unread(s);
            free(buf);
            return 0;
        }
        enum record_state st = record_check(s->fd, s->read, s->tail, &buf, &cap, &n);
        if (st == RECORD_OK)
            break;
        if (st == RECORD_IO_ERROR) {
            spool_io_error(s, "read");
            free(buf);
            return -1;
        }
        uint64_t next = record_resync(s->fd, s->read + 1, s->tail, &buf, &cap);
        if (next == UINT64_MAX) {
            spool_io_error(s, "read");
            free(buf);
            return -1;
        }
        if (s->read >= s->checked_until) {   /* not seen by spool_open */
            s->skipped_regions++;
            s->skipped_bytes += next - s->read;
            s->last_skip_from = s->read;
            s->last_skip_to = next;
        }
        s->read = next;
    }
    if (s->unread == 0) {
        /* cannot happen unless the file changed: keep the counts sane */
        s->unread = 1;
        s->records++;
    }
    s->read += SPOOL_RECORD_HEADER + n;
    s->unread--;
    *data = buf;
    *len = n;
    *end = s->read + s->shift;
    return 1;
}

void spool_rewind(struct spool *s)
{
    s->read = s->head;
    s->unread = s->records;
}

enum spool_status spool_ack(struct spool *s, uint64_t end, uint64_t count)
{
    end -= s->shift;
    assert(end > s->head && end <= s->read && count <= s->records);
    s->head = end;
    s->records -= count;
    if (s->head == s->tail) {
        assert(s->records == 0 && s->unread == 0);
        /* Empty: cut back to the header. The header is written first, so a
         * crash in between leaves head past the end: "all acknowledged". */
        if (header_write(s->fd, SPOOL_HEADER_SIZE) != 0)
            return spool_io_error(s, "write (header)"), SPOOL_ERROR;
        if (ftruncate(s->fd, SPOOL_HEADER_SIZE) != 0)
            return spool_io_error(s, "ftruncate"), SPOOL_ERROR;
        s->head = s->read = s->tail = s->checked_until = SPOOL_HEADER_SIZE;
        s->dirty = false;
    } else if (header_write(s->fd, s->head) != 0) {
        spool_io_error(s, "write (header)");
        return SPOOL_ERROR;
    }
    if (s->fsync_policy == SPOOL_FSYNC_ALWAYS && sync_fd(s->fd) != 0)
        spool_io_error(s, "fdatasync");
    return SPOOL_OK;
}

enum spool_status spool_prepend(struct spool *s, const void *const *data,
                                const size_t *len, size_t count)
{
    if (count == 0)
        return SPOOL_OK;
    uint64_t need = 0;
    for (size_t i = 0; i < count; i++) {
        if (len[i] == 0 || len[i] > SPOOL_RECORD_MAX)
            return SPOOL_ERROR;
        need += SPOOL_RECORD_HEADER + len[i];
    }
    if (SPOOL_HEADER_SIZE + need + (s->tail - s->head) > s->max_bytes)
        return SPOOL_FULL;
    if (s->records == 0 && s->tail == SPOOL_HEADER_SIZE) {
        /* nothing to keep: plain appends */
        for (size_t i = 0; i < count; i++)
            if (spool_append(s, data[i], len[i]) != SPOOL_OK)
                return SPOOL_ERROR;
        return SPOOL_OK;
    }
    return spool_rewrite(s, data, len, count);
}
