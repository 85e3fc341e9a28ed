/* fuzz_redis_parse.c - libFuzzer target for the streaming RESP parser.
 *
 * The input is parsed twice per side (requests, replies): whole, and in
 * pieces whose sizes the input's own bytes choose. Both walks must agree on
 * every message end and its size; every call must make progress; a message's
 * bytes must add up to what was consumed since the previous one. */
#include <stdlib.h>
#include <string.h>

#include "../../decoders/redis/redis_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENDS_MAX 256

struct walk {
    uint64_t ends[ENDS_MAX];
    size_t count;
    size_t used;
    bool malformed;
};

static void walk(bool requests, const uint8_t *data, size_t size, bool pieces, struct walk *w)
{
    struct redis_parser p;
    redis_parser_init(&p, requests, 64);
    memset(w, 0, sizeof(*w));
    uint64_t since = 0;
    size_t off = 0;
    size_t k = 0;
    while (off < size && !w->malformed) {
        size_t n = size - off;
        if (pieces) {
            n = 1 + data[k++ % size] % 7;
            if (n > size - off)
                n = size - off;
        }
        const uint8_t *buf = data + off;
        off += n;
        while (n > 0) {
            struct redis_token t;
            ptrdiff_t r = redis_parse(&p, buf, n, &t);
            if (r < 0) {
                w->malformed = true;
                break;
            }
            if (r == 0 || (size_t)r > n)
                abort();
            if (t.kind == REDIS_TOK_DATA && (t.text < buf || t.text + t.text_len > buf + r))
                abort();
            since += (uint64_t)r;
            if (t.message_end) {
                if (t.message_bytes != since)
                    abort();
                since = 0;
                if (w->count < ENDS_MAX)
                    w->ends[w->count++] = t.message_bytes;
            }
            if (p.depth > REDIS_DEPTH_MAX || p.line_kept > REDIS_LINE_KEEP)
                abort();
            buf += r;
            n -= (size_t)r;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int requests = 0; requests < 2; requests++) {
        struct walk whole, cut;
        walk(requests != 0, data, size, false, &whole);
        walk(requests != 0, data, size, true, &cut);
        /* the same messages, until one walk hits malformed input */
        size_t n = whole.count < cut.count ? whole.count : cut.count;
        if (memcmp(whole.ends, cut.ends, n * sizeof(whole.ends[0])) != 0)
            abort();
        if (whole.malformed != cut.malformed || whole.count != cut.count)
            abort();
    }
    return 0;
}
