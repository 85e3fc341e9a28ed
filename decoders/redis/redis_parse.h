/* redis_parse.h - a pure, streaming parser of RESP2 and RESP3.
 *
 * A RESP message can be huge (KEYS * with a million keys, a 1 GB bulk), so
 * the parser never holds a message: it walks it and hands the caller one
 * token at a time -- an element's header, a chunk of a bulk's payload where
 * it lies in the caller's buffer, a bulk's end, or an inline command line --
 * each saying its depth, its index in its parent and whether it ended the
 * top-level message. The only bytes it copies are the current header line,
 * up to REDIS_LINE_KEEP bytes (the rest of a long line is counted).
 *
 * Nesting is tracked on a small stack (REDIS_DEPTH_MAX levels); deeper
 * aggregates are still framed exactly, by the number of elements they still
 * owe, but their tokens say `deep` and carry no index.
 *
 * Types: RESP2 + - : $ *, RESP3 _ , # ! = ( % ~ > |, streamed aggregates
 * ("*?" ... ".") and streamed strings ("$?" ";n" chunks ... ";0"). A `|`
 * attribute is not an element of its parent; at top level it is a message of
 * its own (top type '|'). On the request side (`requests`), a top-level byte
 * other than '*' starts an inline command (a line; it must begin with a
 * letter, a blank or its end, so binary such as TLS is malformed at its
 * first byte) and the elements of a
 * request array must be bulk strings, as Redis itself requires.
 *
 * No allocation, no I/O: the state is the struct, so it is unit-tested at
 * every split point and fuzzed alone. */
#ifndef SW_REDIS_PARSE_H
#define SW_REDIS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REDIS_LINE_KEEP 128     /* bytes of a header/inline line kept */
#define REDIS_DEPTH_MAX 8       /* aggregate levels tracked on the stack */
#define REDIS_NUMBER_LINE_MAX 24 /* a length or integer line longer is malformed */
#define REDIS_MALFORMED (-1)

enum redis_token_kind {
    REDIS_TOK_NONE = 0,     /* bytes consumed, no token yet (need more) */
    REDIS_TOK_HEADER,       /* an element's type line */
    REDIS_TOK_DATA,         /* a chunk of a bulk's payload */
    REDIS_TOK_BULK_END,     /* a bulk's payload and its CRLF are over */
    REDIS_TOK_INLINE,       /* a whole inline command line (requests only) */
};

struct redis_token {
    uint8_t kind;           /* enum redis_token_kind */
    uint8_t type;           /* the element's RESP type byte ('$' for bulk tokens) */
    bool deep;              /* nested past REDIS_DEPTH_MAX: depth/index unknown */
    bool null;              /* "$-1", "*-1", "_" */
    bool text_cut;          /* the line was longer than REDIS_LINE_KEEP */
    bool message_end;       /* this token ended the top-level message */
    unsigned depth;         /* 0: the top-level element; 1: its elements ... */
    uint64_t index;         /* index in the parent aggregate (0 at top level) */
    int64_t value;          /* aggregate count (pairs for % and |), bulk length,
                               integer; -1 null, -2 streamed ("?") */
    const uint8_t *text;    /* HEADER of a line type: the line after the type
                               byte; INLINE: the line; DATA: the chunk */
    size_t text_len;
    uint64_t message_bytes; /* wire bytes of the message, when message_end */
};

struct redis_frame {
    int64_t left;           /* elements still owed; -1 streamed */
    uint64_t index;         /* elements seen so far */
    uint8_t type;           /* aggregate type byte */
};

struct redis_parser {
    bool requests;          /* the client's side */
    size_t line_max;        /* longest line accepted */
    uint8_t phase;          /* internal */
    bool in_message;
    bool inline_line;       /* the current line is an inline command */
    bool saw_cr;
    uint8_t line[REDIS_LINE_KEEP];
    size_t line_kept;
    size_t line_len;        /* bytes of the line so far, its end excluded */
    uint64_t bulk_left;     /* payload bytes still to come */
    bool bulk_chunk;        /* a ';' chunk of a streamed string */
    unsigned bulk_depth;
    uint64_t bulk_index;
    bool bulk_deep;
    uint8_t bulk_type;
    uint8_t crlf_seen;
    unsigned depth;                         /* frames on the stack */
    struct redis_frame stack[REDIS_DEPTH_MAX];
    uint64_t deep_owed;     /* elements owed by aggregates past the stack */
    uint64_t message_bytes;
    bool went_deep;         /* this message nested past the stack */
};

void redis_parser_init(struct redis_parser *p, bool requests, size_t line_max);
/* Back to "between messages", keeping the settings (after a gap). */
void redis_parser_reset(struct redis_parser *p);
/* Consumes bytes of buf up to and including the next token, which it writes
 * into *tok (kind NONE when buf ended first). Returns the bytes consumed
 * (> 0 whenever len > 0) or REDIS_MALFORMED (then the parser must be reset).
 * A DATA token's text points into buf. */
ptrdiff_t redis_parse(struct redis_parser *p, const uint8_t *buf, size_t len,
                      struct redis_token *tok);
/* A gap of n bytes: true (and skipped) when it lies inside the current
 * bulk's payload, so the framing holds; false otherwise (reset, resync). */
bool redis_parser_skip_payload(struct redis_parser *p, uint64_t n);
/* True between messages. */
static inline bool redis_parser_idle(const struct redis_parser *p)
{
    return !p->in_message;
}

/* Parses a whole decimal int64 ("-12"); false on anything else. */
bool redis_parse_int(const uint8_t *s, size_t len, int64_t *out);

#endif
