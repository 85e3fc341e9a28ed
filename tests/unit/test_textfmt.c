/* test_textfmt.c - timestamps and addresses written by hand must be what
 * gmtime_r + strftime and inet_ntop write, over the whole range of input. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "../../sensor/textfmt.h"
#include "check.h"

/* The reference: libc's calendar and strftime, then ".ffffff+0000". */
static void libc_time(uint64_t ts_us, char *out, size_t cap)
{
    time_t sec = (time_t)(ts_us / 1000000);
    struct tm tm;
    char date[32];
    gmtime_r(&sec, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%06u+0000", date, (unsigned)(ts_us % 1000000));
}

static void check_time(uint64_t ts_us)
{
    char want[64], got[TEXTFMT_TIME_MAX];
    libc_time(ts_us, want, sizeof(want));
    size_t n = textfmt_time(ts_us, got);
    CHECK_EQ_STR(got, want);
    CHECK_EQ_INT(n, strlen(want));
    if (strcmp(got, want) != 0)
        fprintf(stderr, "  at %" PRIu64 "\n", ts_us);
}

/* A small deterministic generator (xorshift64*). */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static void test_time_known(void)
{
    char out[TEXTFMT_TIME_MAX];
    textfmt_time(0, out);
    CHECK_EQ_STR(out, "1970-01-01T00:00:00.000000+0000");
    textfmt_time(1700000000123456ull, out);
    CHECK_EQ_STR(out, "2023-11-14T22:13:20.123456+0000");
    textfmt_time(951782400000001ull, out);   /* 2000 is a leap year */
    CHECK_EQ_STR(out, "2000-02-29T00:00:00.000001+0000");
}

/* Leap days, century years (2100 is not leap, 2400 is), year ends, the
 * widest year, and the same second twice and back (the per-thread cache). */
static void test_time_edges(void)
{
    static const uint64_t secs[] = {
        0, 59, 60, 86399, 86400, 951782399, 951868799, 951868800, 978307199,
        1700000000, 1700000000, 1699999999, 4107542399, 4107542400, 4107628800,
        13574563200, 13574649600, 253402300799, 253402300800,
    };
    for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
        check_time(secs[i] * 1000000);
        check_time(secs[i] * 1000000 + 999999);
    }
    check_time(UINT64_MAX);
    check_time(UINT64_MAX - 999999);
}

static void test_time_random(void)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 200000; i++) {
        uint64_t r = next_random(&s);
        /* Mostly near now, some anywhere in the range. */
        check_time(i % 4 ? 1500000000000000ull + r % 4000000000000000ull : r);
    }
}

static void check_ip(int family, const uint8_t *a)
{
    char want[INET6_ADDRSTRLEN], got[TEXTFMT_IP_MAX];
    inet_ntop(family == 4 ? AF_INET : AF_INET6, a, want, sizeof(want));
    size_t n = textfmt_ip(family, a, got);
    CHECK_EQ_STR(got, want);
    CHECK_EQ_INT(n, strlen(want));
}

static void test_ip(void)
{
    static const uint8_t v4[][4] = {
        { 0, 0, 0, 0 }, { 255, 255, 255, 255 }, { 10, 0, 9, 100 }, { 192, 168, 0, 1 },
        { 1, 22, 103, 250 },
    };
    for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
        check_ip(4, v4[i]);
    uint64_t s = 42;
    for (int i = 0; i < 100000; i++) {
        uint8_t a[16];
        uint64_t r = next_random(&s);
        memcpy(a, &r, 4);
        check_ip(4, a);
    }
    uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
    check_ip(6, v6);
    v6[15] = 1;
    check_ip(6, v6);
    uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 };
    check_ip(6, mapped);
}

int main(void)
{
    check_binary = "textfmt";
    RUN(test_time_known);
    RUN(test_time_edges);
    RUN(test_time_random);
    RUN(test_ip);
    CHECK_EXIT();
}
