/* template_parse.h - the pure parser of the template line protocol.
 *
 * In the picohttpparser shape: a function over a buffer that returns the
 * bytes of one line it consumed (> 0), TEMPLATE_NEED_MORE (the line has not
 * ended yet) or TEMPLATE_MALFORMED; the spans it fills point into the buffer.
 * No allocation, no I/O, no state between calls, so it is unit-tested and
 * fuzzed without a network. The protocol is described in README.md next to
 * this file.
 *
 * A line is every byte up to and including the first '\n'; a '\r' just before
 * it is part of the line end. A line is at most `line_max` bytes, its end
 * included. Control bytes other than '\r', '\n' and '\t' (0x00-0x1f, 0x7f)
 * make a line malformed; bytes >= 0x80 are accepted as they are. */
#ifndef SW_TEMPLATE_PARSE_H
#define SW_TEMPLATE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TEMPLATE_NEED_MORE 0
#define TEMPLATE_MALFORMED (-1)

/* One request line "VERB [ARG]": the words are split at the first run of
 * spaces/tabs; leading and trailing spaces/tabs are not part of either. An
 * empty or blank line has verb_len 0. */
struct template_line {
    const uint8_t *verb;
    size_t verb_len;
    const uint8_t *arg;     /* everything after the verb; may hold spaces */
    size_t arg_len;
    size_t line_len;        /* bytes of the line, its end included */
};

/* Frames and splits one line at buf. Returns line_len (> 0), NEED_MORE when
 * no '\n' came within len bytes (and len < line_max), or MALFORMED: a control
 * byte, or no '\n' within the first line_max bytes. */
ptrdiff_t template_parse_line(const uint8_t *buf, size_t len, size_t line_max,
                              struct template_line *out);

/* One server reply line: "+OK" or "+OK N" (N decimal, 0..INT64_MAX), or
 * "-ERR" followed by free text. */
struct template_reply {
    bool ok;                /* "+OK"; false: "-ERR" */
    bool has_count;         /* "+OK N" */
    int64_t count;          /* N when has_count */
    const uint8_t *text;    /* "-ERR": the text after it (may be empty) */
    size_t text_len;
    size_t line_len;        /* bytes of the line, its end included */
};

/* Frames one line as template_parse_line does, then reads it as a reply.
 * MALFORMED also for a whole line that is not a reply: another first word,
 * "+OK" followed by anything but digits, an N that overflows int64. */
ptrdiff_t template_parse_reply(const uint8_t *buf, size_t len, size_t line_max,
                               struct template_reply *out);

#endif
