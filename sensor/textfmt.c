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

/* "YYYY-MM-DDTHH:MM:SS" of a second since the epoch; returns its length. */
static size_t format_second(uint64_t sec, char *out)
{
    uint64_t year;
    unsigned month, day, clock = (unsigned)(sec % 86400);
    civil_from_days(sec / 86400, &year, &month, &day);
    char *p = put_decimal(out, year, 4);
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
    return (size_t)(p - out);
}

size_t textfmt_time(uint64_t ts_us, char out[TEXTFMT_TIME_MAX])
{
    /* Events come in time order, but a flow event mixes two times (when
     * it is written and when the flow started): each thread keeps the last
     * two seconds it formatted, and replaces the older one on a miss. */
    static _Thread_local struct {
        uint64_t sec;
        size_t len;
        char text[32];
    } cache[2] = { { .sec = UINT64_MAX }, { .sec = UINT64_MAX } };
    static _Thread_local unsigned older;
    uint64_t sec = ts_us / 1000000;
    unsigned i = cache[0].sec == sec ? 0 : cache[1].sec == sec ? 1 : 2;
    if (i == 2) {
        i = older;
        older ^= 1;
        cache[i].len = format_second(sec, cache[i].text);
        cache[i].sec = sec;
    }
    memcpy(out, cache[i].text, cache[i].len);
    char *p = out + cache[i].len;
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
