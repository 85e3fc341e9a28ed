/* textfmt.c - timestamps and addresses as text (see textfmt.h). */
#include "textfmt.h"

#include <arpa/inet.h>
#include <string.h>

/* Two decimal digits of v (0..99). */
static char *put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

/* v in decimal, at least `width` digits (zero-padded). */
static char *put_decimal(char *p, uint64_t v, int width)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 || n < width);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

/* The proleptic Gregorian date of a day count since 1970-01-01, by whole
 * 400-year eras (146,097 days each) counted from 0000-03-01, so that the
 * leap day ends a year (H. Hinnant's days-to-civil algorithm). */
static void civil_from_days(uint64_t days, uint64_t *year, unsigned *month, unsigned *day)
{
    uint64_t z = days + 719468;               /* days since 0000-03-01 */
    uint64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                          /* 0..146096 */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
    unsigned mp = (5 * doy + 2) / 153;                                    /* 0 = March */
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = era * 400 + yoe + (*month <= 2);
}

size_t textfmt_time(uint64_t ts_us, char out[TEXTFMT_TIME_MAX])
{
    /* Events come in time order: the date and clock of the last second
     * written are kept per thread and reused. */
    static _Thread_local uint64_t cached_sec = UINT64_MAX;
    static _Thread_local char cached[32];
    static _Thread_local size_t cached_len;
    uint64_t sec = ts_us / 1000000;
    if (sec != cached_sec) {
        uint64_t year;
        unsigned month, day, clock = (unsigned)(sec % 86400);
        civil_from_days(sec / 86400, &year, &month, &day);
        char *p = put_decimal(cached, year, 4);
        *p++ = '-';
        p = put2(p, month);
        *p++ = '-';
        p = put2(p, day);
        *p++ = 'T';
        p = put2(p, clock / 3600);
        *p++ = ':';
        p = put2(p, clock / 60 % 60);
        *p++ = ':';
        p = put2(p, clock % 60);
        cached_len = (size_t)(p - cached);
        cached_sec = sec;
    }
    memcpy(out, cached, cached_len);
    char *p = out + cached_len;
    *p++ = '.';
    p = put_decimal(p, ts_us % 1000000, 6);
    memcpy(p, "+0000", 6);
    return (size_t)(p - out) + 5;
}

size_t textfmt_ip(int family, const uint8_t *addr, char out[TEXTFMT_IP_MAX])
{
    if (family != 4) {
        /* IPv6's zero-run compression and embedded IPv4 forms are rare
         * enough on this path to leave to libc. */
        if (!inet_ntop(AF_INET6, addr, out, TEXTFMT_IP_MAX))
            out[0] = '\0';
        return strlen(out);
    }
    char *p = out;
    for (int i = 0; i < 4; i++) {
        if (i)
            *p++ = '.';
        p = put_decimal(p, addr[i], 1);
    }
    *p = '\0';
    return (size_t)(p - out);
}
