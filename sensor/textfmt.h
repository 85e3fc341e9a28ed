/* textfmt.h - the two texts every event carries, written without libc's
 * locale-aware formatters: packet time as ISO 8601 and IP addresses.
 *
 * Both are on the output thread's hot path (three timestamps and two
 * addresses per event): strftime, gmtime_r and inet_ntop (which formats
 * IPv4 with sprintf) cost more than the rest of a flow event. Output is
 * byte-for-byte what strftime("%Y-%m-%dT%H:%M:%S") + ".ffffff+0000" and
 * inet_ntop write (tests/unit/test_textfmt.c compares them). */
#ifndef SW_TEXTFMT_H
#define SW_TEXTFMT_H

#include <stddef.h>
#include <stdint.h>

/* Longest text textfmt_time writes, NUL included: a six-digit year
 * (2^64 microseconds is the year 586,524) in "YYYY-MM-DDTHH:MM:SS.ffffff+0000". */
#define TEXTFMT_TIME_MAX 40
/* Longest address text, NUL included (INET6_ADDRSTRLEN). */
#define TEXTFMT_IP_MAX 46

/* Packet time (microseconds since the epoch, UTC) as
 * "2024-01-01T00:00:00.000000+0000"; returns its length. */
size_t textfmt_time(uint64_t ts_us, char out[TEXTFMT_TIME_MAX]);

/* An IPv4 (family 4, 4 bytes) or IPv6 (16 bytes) address as inet_ntop
 * writes it; returns its length. */
size_t textfmt_ip(int family, const uint8_t *addr, char out[TEXTFMT_IP_MAX]);

#endif
