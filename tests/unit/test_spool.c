/* test_spool.c - the Redis sink's disk spool: append, read, acknowledge,
 * torn tails, CRC mismatches, the cap, compaction, prepend, and reopening
 * after a restart. */
#include "../../sensor/spool.h"
#include "../../sensor/output_redis.h"
#include "../../sensor/redis_record.h"
#include "check.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static char path[128];

static void fresh_path(const char *name)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/test_spool_XXXXXX");
        if (!mkdtemp(dir))
            dir[0] = '\0';
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

static off_t file_size(void)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static int open_spool(struct spool *s, uint64_t max, struct spool_open_report *rep)
{
    char err[256] = "";
    int rc = spool_open(s, path, max, SPOOL_FSYNC_BATCH, rep, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "spool_open: %s\n", err);
    return rc;
}

static void append_str(struct spool *s, const char *text)
{
    CHECK_EQ_INT(spool_append(s, text, strlen(text)), SPOOL_OK);
}

/* Reads the next record and checks it is `want`; returns its end. */
static uint64_t expect_next(struct spool *s, const char *want)
{
    void *data = NULL;
    size_t len = 0;
    uint64_t end = 0;
    CHECK_EQ_INT(spool_read(s, &data, &len, &end), 1);
    if (data) {
        CHECK_EQ_INT(len, strlen(want));
        CHECK(len == strlen(want) && memcmp(data, want, len) == 0);
    }
    free(data);
    return end;
}

static void test_append_read_ack(void)
{
    struct spool s;
    fresh_path("basic");
    CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
    CHECK_EQ_INT(file_size(), SPOOL_HEADER_SIZE);
    append_str(&s, "one");
    append_str(&s, "two");
    append_str(&s, "three");
    CHECK_EQ_INT(s.records, 3);
    CHECK_EQ_INT(spool_sync(&s), SPOOL_OK);
    uint64_t e1 = expect_next(&s, "one");
    expect_next(&s, "two");
    CHECK_EQ_INT(s.unread, 1);
    CHECK_EQ_INT(spool_ack(&s, e1, 1), SPOOL_OK);
    CHECK_EQ_INT(s.records, 2);
    uint64_t e3 = expect_next(&s, "three");
    void *data;
    size_t len;
    uint64_t end;
    CHECK_EQ_INT(spool_read(&s, &data, &len, &end), 0);
    CHECK_EQ_INT(spool_ack(&s, e3, 2), SPOOL_OK);
    /* empty: cut back to the header */
    CHECK_EQ_INT(s.records, 0);
    CHECK_EQ_INT(file_size(), SPOOL_HEADER_SIZE);
    append_str(&s, "four");
    expect_next(&s, "four");
    CHECK_EQ_INT(spool_append(&s, "", 0), SPOOL_ERROR);
    spool_close(&s);
}

static void test_reopen_keeps_order(void)
{
    struct spool s;
    struct spool_open_report rep;
    char text[32];
    fresh_path("reopen");
    CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
    for (int i = 0; i < 100; i++) {
        snprintf(text, sizeof(text), "event %d", i);
        append_str(&s, text);
    }
    /* 30 read and acknowledged, 10 read but not acknowledged (in flight) */
    uint64_t end = 0;
    for (int i = 0; i < 40; i++) {
        snprintf(text, sizeof(text), "event %d", i);
        uint64_t e = expect_next(&s, text);
        if (i == 29)
            end = e;
    }
    CHECK_EQ_INT(spool_ack(&s, end, 30), SPOOL_OK);
    spool_close(&s);

    CHECK_EQ_INT(open_spool(&s, 1 << 20, &rep), 0);
    CHECK_EQ_INT(rep.records, 70);
    CHECK_EQ_INT(rep.truncated_bytes, 0);
    CHECK(!rep.header_reset);
    for (int i = 30; i < 100; i++) {
        snprintf(text, sizeof(text), "event %d", i);
        expect_next(&s, text);
    }
    append_str(&s, "after restart");
    expect_next(&s, "after restart");
    spool_close(&s);
}

static void test_torn_tail_truncated(void)
{
    struct spool s;
    struct spool_open_report rep;
    fresh_path("torn");
    CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
    append_str(&s, "whole one");
    append_str(&s, "whole two");
    uint64_t good = s.tail;
    append_str(&s, "this record will be cut short");
    spool_close(&s);
    /* a crash in the middle of the last write */
    CHECK_EQ_INT(truncate(path, (off_t)good + 12), 0);
    CHECK_EQ_INT(open_spool(&s, 1 << 20, &rep), 0);
    CHECK_EQ_INT(rep.records, 2);
    CHECK_EQ_INT(rep.truncated_bytes, 12);
    CHECK(!rep.crc_mismatch);
    CHECK_EQ_INT(file_size(), (off_t)good);
    expect_next(&s, "whole one");
    expect_next(&s, "whole two");
    append_str(&s, "appended after the cut");
    expect_next(&s, "appended after the cut");
    spool_close(&s);

    /* only part of a record header */
    CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
    uint64_t tail = s.tail;
    spool_close(&s);
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(fd >= 0);
    CHECK_EQ_INT(write(fd, "\x05\x00", 2), 2);
    close(fd);
    CHECK_EQ_INT(open_spool(&s, 1 << 20, &rep), 0);
    CHECK_EQ_INT(rep.truncated_bytes, 2);
    CHECK_EQ_INT(rep.records, 3);
    CHECK_EQ_INT(s.tail, tail);
    spool_close(&s);
}

static void test_crc_mismatch_detected(void)
{
    struct spool s;
    struct spool_open_report rep;
    fresh_path("crc");
    CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
    append_str(&s, "first");
    uint64_t second = s.tail;
    append_str(&s, "second");
    append_str(&s, "third");
    spool_close(&s);
    /* flip a payload byte of the second record: it is skipped, the third
     * is found again by its framing */
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    CHECK_EQ_INT(pwrite(fd, "X", 1, (off_t)second + SPOOL_RECORD_HEADER + 2), 1);
    close(fd);
    CHECK_EQ_INT(open_spool(&s, 1 << 20, &rep), 0);
    CHECK(!rep.crc_mismatch);
    CHECK_EQ_INT(rep.records, 2);
    CHECK_EQ_INT(rep.truncated_bytes, 0);
    CHECK_EQ_INT(rep.skipped_regions, 1);
    CHECK_EQ_INT(rep.skip_from[0], second);
    CHECK_EQ_INT(rep.skip_to[0], second + SPOOL_RECORD_HEADER + 6);
    CHECK_EQ_INT(rep.skipped_bytes, SPOOL_RECORD_HEADER + 6);
    expect_next(&s, "first");
    uint64_t e = expect_next(&s, "third");
    void *data;
    size_t len;
    uint64_t end;
    CHECK_EQ_INT(spool_read(&s, &data, &len, &end), 0);
    CHECK_EQ_INT(s.skipped_regions, 0);   /* reported by open, not again */
    CHECK_EQ_INT(spool_ack(&s, e, 2), SPOOL_OK);
    CHECK_EQ_INT(file_size(), SPOOL_HEADER_SIZE);
    spool_close(&s);

    /* the same damage in the last record: a damaged tail, cut */
    CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
    append_str(&s, "first");
    uint64_t last = s.tail;
    append_str(&s, "second");
    spool_close(&s);
    fd = open(path, O_RDWR);
    CHECK_EQ_INT(pwrite(fd, "X", 1, (off_t)last + SPOOL_RECORD_HEADER + 2), 1);
    close(fd);
    CHECK_EQ_INT(open_spool(&s, 1 << 20, &rep), 0);
    CHECK(rep.crc_mismatch);
    CHECK_EQ_INT(rep.records, 1);
    CHECK_EQ_INT(rep.truncated_at, last);
    CHECK_EQ_INT(rep.truncated_bytes, SPOOL_RECORD_HEADER + 6);
    CHECK_EQ_INT(rep.skipped_regions, 0);
    expect_next(&s, "first");
    CHECK_EQ_INT(spool_read(&s, &data, &len, &end), 0);
    spool_close(&s);
    fresh_path("crc");

    /* a damaged header: every record is replayed (at-least-once) */
    CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
    append_str(&s, "first");
    append_str(&s, "again");
    e = expect_next(&s, "first");
    CHECK_EQ_INT(spool_ack(&s, e, 1), SPOOL_OK);
    spool_close(&s);
    fd = open(path, O_RDWR);
    CHECK_EQ_INT(pwrite(fd, "\x7f", 1, 9), 1);
    close(fd);
    CHECK_EQ_INT(open_spool(&s, 1 << 20, &rep), 0);
    CHECK(rep.header_reset);
    CHECK_EQ_INT(rep.records, 2);
    expect_next(&s, "first");
    expect_next(&s, "again");
    spool_close(&s);

    /* not a spool at all: refused, not clobbered */
    fresh_path("notspool");
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    CHECK_EQ_INT(write(fd, "hello, this is not a spool file at all", 38), 38);
    close(fd);
    char err[256] = "";
    CHECK_EQ_INT(spool_open(&s, path, 1 << 20, SPOOL_FSYNC_NEVER, NULL, err, sizeof(err)), -1);
    CHECK(strstr(err, "not a scrapewatch spool file") != NULL);
    CHECK_EQ_INT(file_size(), 38);
}

/* A bad length in the first record (once reported as a torn last write,
 * deleting everything) and random damage anywhere: every record untouched
 * by the damage is read back, in order, and nothing else. */
static void test_damage_resynchronised(void)
{
    struct spool s;
    struct spool_open_report rep;
    enum { N = 200 };
    uint64_t start[N + 1];
    char text[N][32];
    fresh_path("damage");
    CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
    for (int i = 0; i < N; i++) {
        snprintf(text[i], sizeof(text[i]), "record %d %s", i, i % 3 ? "xx" : "longer one");
        start[i] = s.tail;
        append_str(&s, text[i]);
    }
    start[N] = s.tail;
    spool_close(&s);
    int fd = open(path, O_RDWR);
    CHECK_EQ_INT(pwrite(fd, "\xff\xff\xff\x7f", 4, (off_t)start[0] + 4), 4);
    close(fd);
    CHECK_EQ_INT(open_spool(&s, 1 << 20, &rep), 0);
    CHECK_EQ_INT(rep.records, N - 1);
    CHECK_EQ_INT(rep.skipped_regions, 1);
    CHECK_EQ_INT(rep.skip_from[0], start[0]);
    CHECK_EQ_INT(rep.skip_to[0], start[1]);
    expect_next(&s, text[1]);
    spool_close(&s);

    for (unsigned round = 0; round < 20; round++) {
        fresh_path("damage");
        CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
        for (int i = 0; i < N; i++)
            append_str(&s, text[i]);
        spool_close(&s);
        bool hit[N] = {false};
        srand(round + 1);
        fd = open(path, O_RDWR);
        for (int k = 0; k < 1 + (int)round % 5; k++) {
            uint64_t at = SPOOL_HEADER_SIZE + (uint64_t)rand() % (start[N] - SPOOL_HEADER_SIZE - 4);
            uint8_t junk[4] = {(uint8_t)rand(), (uint8_t)rand(), (uint8_t)rand(), (uint8_t)rand()};
            CHECK_EQ_INT(pwrite(fd, junk, 4, (off_t)at), 4);
            for (int i = 0; i < N; i++)
                if (at < start[i + 1] && at + 4 > start[i])
                    hit[i] = true;
        }
        close(fd);
        CHECK_EQ_INT(open_spool(&s, 1 << 20, &rep), 0);
        int want = 0;
        for (int i = 0; i < N; i++)
            want += !hit[i];
        /* a hit record may survive when the junk equals what was there */
        CHECK(rep.records >= (uint64_t)want);
        for (int i = 0; i < N; i++) {
            if (hit[i])
                continue;
            void *data = NULL;
            size_t len = 0;
            uint64_t end;
            bool found = false;
            while (!found && spool_read(&s, &data, &len, &end) == 1) {
                found = len == strlen(text[i]) && memcmp(data, text[i], len) == 0;
                free(data);
            }
            CHECK(found);
        }
        spool_close(&s);
    }

    /* the first format is refused, not rewritten */
    fresh_path("v1");
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    uint8_t v1[SPOOL_HEADER_SIZE] = "SWSPOOL1";
    CHECK_EQ_INT(write(fd, v1, sizeof(v1)), (ssize_t)sizeof(v1));
    close(fd);
    char err[256] = "";
    CHECK_EQ_INT(spool_open(&s, path, 1 << 20, SPOOL_FSYNC_NEVER, NULL, err, sizeof(err)), -1);
    CHECK(strstr(err, "older format (SWSPOOL1)") != NULL);
    CHECK_EQ_INT(file_size(), SPOOL_HEADER_SIZE);
}

static void test_cap_enforced_and_compaction(void)
{
    struct spool s;
    char rec[100];
    memset(rec, 'a', sizeof(rec));
    fresh_path("cap");
    /* room for 10 records of 108 bytes */
    uint64_t cap = SPOOL_HEADER_SIZE + 10 * (SPOOL_RECORD_HEADER + sizeof(rec));
    CHECK_EQ_INT(open_spool(&s, cap, NULL), 0);
    for (int i = 0; i < 10; i++) {
        rec[0] = (char)('0' + i);
        CHECK_EQ_INT(spool_append(&s, rec, sizeof(rec)), SPOOL_OK);
    }
    CHECK_EQ_INT(spool_append(&s, rec, sizeof(rec)), SPOOL_FULL);
    CHECK(file_size() <= (off_t)cap);
    /* one acknowledged: less than a quarter of the cap, still full */
    void *data;
    size_t len;
    uint64_t end;
    CHECK_EQ_INT(spool_read(&s, &data, &len, &end), 1);
    free(data);
    CHECK_EQ_INT(spool_ack(&s, end, 1), SPOOL_OK);
    CHECK_EQ_INT(spool_append(&s, rec, sizeof(rec)), SPOOL_FULL);
    /* three more read, two acknowledged, one in flight: compaction */
    uint64_t ends[3];
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(spool_read(&s, &data, &len, &ends[i]), 1);
        free(data);
    }
    CHECK_EQ_INT(spool_ack(&s, ends[1], 2), SPOOL_OK);
    rec[0] = 'N';
    CHECK_EQ_INT(spool_append(&s, rec, sizeof(rec)), SPOOL_OK);
    CHECK_EQ_INT(s.compactions, 1);
    CHECK(file_size() <= (off_t)cap);
    /* the position of the record in flight survived the compaction */
    CHECK_EQ_INT(spool_ack(&s, ends[2], 1), SPOOL_OK);
    CHECK_EQ_INT(s.records, 7);
    for (int i = 4; i < 10; i++) {
        CHECK_EQ_INT(spool_read(&s, &data, &len, &end), 1);
        CHECK(len == sizeof(rec) && ((char *)data)[0] == (char)('0' + i));
        free(data);
    }
    CHECK_EQ_INT(spool_read(&s, &data, &len, &end), 1);
    CHECK(((char *)data)[0] == 'N');
    free(data);
    spool_close(&s);
}

static void test_prepend(void)
{
    struct spool s;
    struct spool_open_report rep;
    fresh_path("prepend");
    CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
    append_str(&s, "c");
    append_str(&s, "d");
    const void *data[] = {"a", "b"};
    size_t len[] = {1, 1};
    CHECK_EQ_INT(spool_prepend(&s, data, len, 2), SPOOL_OK);
    spool_close(&s);
    CHECK_EQ_INT(open_spool(&s, 1 << 20, &rep), 0);
    CHECK_EQ_INT(rep.records, 4);
    expect_next(&s, "a");
    expect_next(&s, "b");
    expect_next(&s, "c");
    expect_next(&s, "d");
    spool_close(&s);
    /* into an empty spool */
    fresh_path("prepend_empty");
    CHECK_EQ_INT(open_spool(&s, 1 << 20, NULL), 0);
    CHECK_EQ_INT(spool_prepend(&s, data, len, 2), SPOOL_OK);
    expect_next(&s, "a");
    expect_next(&s, "b");
    /* beyond the cap */
    CHECK_EQ_INT(spool_prepend(&s, data, len, 0), SPOOL_OK);
    spool_close(&s);
    fresh_path("prepend_full");
    CHECK_EQ_INT(open_spool(&s, SPOOL_HEADER_SIZE + SPOOL_RECORD_HEADER + 4, NULL), 0);
    append_str(&s, "abcd");
    CHECK_EQ_INT(spool_prepend(&s, data, len, 1), SPOOL_FULL);
    spool_close(&s);
}

static void test_second_opener_refused(void)
{
    struct spool a, b;
    char err[256] = "";
    fresh_path("locked");
    CHECK_EQ_INT(open_spool(&a, 1 << 20, NULL), 0);
    CHECK_EQ_INT(spool_open(&b, path, 1 << 20, SPOOL_FSYNC_NEVER, NULL, err, sizeof(err)), -1);
    CHECK(strstr(err, "in use") != NULL);
    spool_close(&a);
}

static void test_fsync_names(void)
{
    enum spool_fsync p;
    CHECK_EQ_INT(spool_fsync_parse("always", &p), 0);
    CHECK_EQ_INT(p, SPOOL_FSYNC_ALWAYS);
    CHECK_EQ_INT(spool_fsync_parse("batch", &p), 0);
    CHECK_EQ_INT(p, SPOOL_FSYNC_BATCH);
    CHECK_EQ_INT(spool_fsync_parse("never", &p), 0);
    CHECK_EQ_INT(p, SPOOL_FSYNC_NEVER);
    CHECK_EQ_INT(spool_fsync_parse("sometimes", &p), -1);
    CHECK_EQ_STR(spool_fsync_name(SPOOL_FSYNC_ALWAYS), "always");
}

/* The sink's record: every field in, bounded. */
static void test_record_encode(void)
{
    struct redis_event e = {
        .type = "op", .app = "http", .src = "10.0.0.1", .dest = "10.0.0.2", .rule = "",
        .severity = "", .ts_us = 1, .json = "{\"a\":1}", .json_len = 7, .health = NULL,
    };
    uint8_t buf[256];
    size_t n = redis_record_encode(buf, sizeof(buf), 42, 7, "edge", &e);
    CHECK(n > 32);
    CHECK_EQ_INT(redis_record_encode(buf, n - 1, 42, 7, "edge", &e), 0);
}

int main(void)
{
    check_binary = "test_spool";
    RUN(test_append_read_ack);
    RUN(test_reopen_keeps_order);
    RUN(test_torn_tail_truncated);
    RUN(test_crc_mismatch_detected);
    RUN(test_damage_resynchronised);
    RUN(test_cap_enforced_and_compaction);
    RUN(test_prepend);
    RUN(test_second_opener_refused);
    RUN(test_fsync_names);
    RUN(test_record_encode);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (dir[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    CHECK_EXIT();
}
