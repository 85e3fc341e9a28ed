/* fuzz_spool.c - libFuzzer target for the spool reader: the input, as a
 * whole spool file, opened, read to the end, acknowledged, appended to and
 * reopened. Any bytes must be refused or read; records read back must be
 * within SPOOL_RECORD_MAX; the counts must agree (the spool's own asserts);
 * a record appended after open must be the last one read on reopen.
 *
 * Inputs shorter than a header get a valid header in front, so the fuzzer
 * reaches the record walk quickly. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../sensor/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void write_file(const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        abort();
    if (size < SPOOL_HEADER_SIZE || memcmp(data, "SWSPOOL", 7) != 0) {
        /* a valid empty spool's header, then the input as records */
        static const uint8_t header[SPOOL_HEADER_SIZE] = {
            'S', 'W', 'S', 'P', 'O', 'O', 'L', '2', 32, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0x0f, 0x99, 0xd8, 0x2e, 0, 0, 0, 0};
        if (write(fd, header, sizeof(header)) != (ssize_t)sizeof(header))
            abort();
    }
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);
}

/* Reads every record; returns how many, and the last one's first byte. */
static size_t read_all_records(struct spool *s, int *last)
{
    size_t n = 0;
    void *rec;
    size_t len;
    uint64_t end = 0;
    while (spool_read(s, &rec, &len, &end) == 1) {
        if (len == 0 || len > SPOOL_RECORD_MAX)
            abort();
        *last = ((const uint8_t *)rec)[0];
        free(rec);
        n++;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!path[0])
        snprintf(path, sizeof(path), "/tmp/fuzz_spool_%d", (int)getpid());
    write_file(data, size);
    struct spool s;
    struct spool_open_report rep;
    char err[256];
    if (spool_open(&s, path, 1 << 20, SPOOL_FSYNC_NEVER, &rep, err, sizeof(err)) != 0)
        return 0;
    int last = -1;
    size_t n = read_all_records(&s, &last);
    if (n > rep.records || s.unread != 0)
        abort();
    static const uint8_t mark[] = "\x01" "appended";
    if (spool_append(&s, mark, sizeof(mark)) != SPOOL_OK) {
        spool_close(&s);
        return 0;
    }
    spool_close(&s);
    if (spool_open(&s, path, 1 << 20, SPOOL_FSYNC_NEVER, &rep, err, sizeof(err)) != 0)
        abort();
    last = -1;
    if (read_all_records(&s, &last) < 1 || last != 0x01)
        abort();
    spool_close(&s);
    return 0;
}
