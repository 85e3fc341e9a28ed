/* memcached_parse.h - pure parsers of the memcached wire formats.
 *
 * In the picohttpparser shape: functions over a buffer that return the bytes
 * they consumed (> 0), MC_NEED_MORE (0: the unit has not ended yet) or
 * MC_MALFORMED (-1); spans they fill point into the buffer. No allocation,
 * no I/O, no state between calls.
 *
 * - the text protocol: one line (command or reply), cut into space-separated
 *   tokens (memcached's own tokenizer splits on ' ' only; a '\r' before the
 *   '\n' belongs to the line end); and the classification of a reply line;
 * - the binary protocol: the 24-byte header, with the extras and key that
 *   follow it (the value is left to the caller, who skips it by length);
 * - the UDP frame header: request id, sequence number, datagram count,
 *   reserved (2 bytes each, big-endian).
 * The protocol is described in README.md next to this file. */
#ifndef SW_MEMCACHED_PARSE_H
#define SW_MEMCACHED_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_NEED_MORE 0
#define MC_MALFORMED (-1)

#define MC_TOKENS_MAX 8         /* tokens of a line kept; the rest counted */
#define MC_KEY_MAX 250          /* memcached's longest key */
#define MC_BIN_HEADER 24
#define MC_BIN_EXTRAS_MAX 64    /* longer extras are not memcached's */
#define MC_UDP_HEADER 8

struct mc_token {
    const uint8_t *p;
    size_t len;
};

/* One text line: its first MC_TOKENS_MAX tokens, how many it has in all,
 * and its last one ("noreply"). */
struct mc_line {
    struct mc_token tok[MC_TOKENS_MAX];
    size_t token_count;     /* tokens on the line (may exceed MC_TOKENS_MAX) */
    struct mc_token last;   /* the last token; empty on a blank line */
    size_t line_len;        /* bytes of the line, its end included */
};

/* Frames one line at buf and tokenizes it. Returns line_len, NEED_MORE when
 * no '\n' came within len bytes (and len < line_max), or MALFORMED: a
 * control byte other than '\r' and '\t' (memcached keys have none), or no
 * '\n' within the first line_max bytes. */
ptrdiff_t mc_parse_line(const uint8_t *buf, size_t len, size_t line_max, struct mc_line *out);

/* True when token i of the line (i < MC_TOKENS_MAX) equals word. */
bool mc_token_is(const struct mc_line *line, size_t i, const char *word);

/* A token as an unsigned decimal (digits only, no overflow). */
bool mc_token_number(const struct mc_token *t, uint64_t *out);

/* What a server reply line is, by its first token. */
enum mc_reply_kind {
    MC_REPLY_OTHER = 0,     /* none of the below (a STAT-like line of a dump) */
    MC_REPLY_VALUE,         /* VALUE <key> <flags> <bytes> [<cas>]: data follows */
    MC_REPLY_END,           /* END: a retrieval or listing is over */
    MC_REPLY_STAT,          /* STAT <name> <value> */
    MC_REPLY_ITEM,          /* ITEM <key> [...] (stats cachedump) */
    MC_REPLY_KEY,           /* key=<key> exp=... (lru_crawler metadump) */
    MC_REPLY_ERROR,         /* ERROR */
    MC_REPLY_CLIENT_ERROR,  /* CLIENT_ERROR <message> */
    MC_REPLY_SERVER_ERROR,  /* SERVER_ERROR <message> */
    MC_REPLY_DONE,          /* STORED DELETED TOUCHED OK RESET: success */
    MC_REPLY_MISS,          /* NOT_FOUND NOT_STORED EXISTS: nothing done */
    MC_REPLY_NUMBER,        /* incr/decr's new value */
    MC_REPLY_VERSION,       /* VERSION <version> */
    MC_REPLY_META_VALUE,    /* VA <size> <flags>*: data follows */
    MC_REPLY_META_HIT,      /* HD (meta success, no value) */
    MC_REPLY_META_MISS,     /* EN NF NS EX */
    MC_REPLY_META_NOOP,     /* MN: the answer to mn */
};

enum mc_reply_kind mc_reply_classify(const struct mc_line *line);

/* The bytes of the data block a VALUE or VA line announces (its "\r\n" not
 * included); false when the line has no valid length. */
bool mc_reply_data_length(const struct mc_line *line, enum mc_reply_kind kind,
                          uint64_t *out);

/* ---- binary protocol ---- */

#define MC_BIN_MAGIC_REQUEST 0x80
#define MC_BIN_MAGIC_RESPONSE 0x81

struct mc_bin_header {
    uint8_t magic;
    uint8_t opcode;
    uint16_t key_len;
    uint8_t extras_len;
    uint8_t data_type;
    uint16_t status;        /* vbucket id in a request */
    uint32_t body_len;      /* extras + key + value */
    uint32_t opaque;
    uint64_t cas;
    const uint8_t *key;     /* key_len bytes, after the extras */
    size_t head_len;        /* header + extras + key: what was consumed */
    uint64_t value_len;     /* bytes of value that follow the head */
};

/* Reads the header at buf and, once they are there too, the extras and key.
 * Returns head_len, NEED_MORE, or MALFORMED: a magic other than 0x80/0x81,
 * a data type other than 0 (raw bytes), extras over MC_BIN_EXTRAS_MAX, a
 * key over MC_KEY_MAX, or extras + key longer than the body. */
ptrdiff_t mc_parse_bin(const uint8_t *buf, size_t len, struct mc_bin_header *out);

/* ---- UDP frame header ---- */

struct mc_udp_header {
    uint16_t request_id;
    uint16_t sequence;
    uint16_t total;         /* datagrams in the message */
    uint16_t reserved;
};

/* 8 when the datagram starts with a plausible frame header, MALFORMED when
 * it is shorter, counts no datagram (total 0) or its sequence is not below
 * total. */
ptrdiff_t mc_parse_udp_header(const uint8_t *buf, size_t len, struct mc_udp_header *out);

#endif
