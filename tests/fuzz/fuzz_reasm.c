/* fuzz_reasm.c - libFuzzer target for TCP reassembly.
 *
 * The input is a script of operations (push, ack, FIN, flush, RST) on two
 * directions that share one global budget. Every segment carries the bytes
 * of a fixed pattern: the byte at stream offset k is (k*7+3)&0xff. The sink
 * tracks the stream offset it has reached, counting gaps, and aborts if a
 * delivered byte differs from the pattern at its offset: that is "every
 * byte once, in order, the right one". After each operation the sink's
 * offset must match the direction's next_seq and the budget must match the
 * held bytes; at the end everything is freed and the budget is back to 0. */
#include "../../sensor/reasm.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pattern_byte(uint32_t k)
{
    return (uint8_t)((k * 7u + 3u) & 0xffu);
}

/* One direction: the sequence number of stream offset 0, and the offset
 * the sink has reached (valid once `started`). Nothing may be delivered
 * past the first FIN reasm accepted, nor once the direction had ended. */
struct side {
    struct reasm_dir d;
    uint32_t base;
    uint32_t pos;
    int started;
    int has_fin;
    uint32_t fin_off;
    int closed;               /* ended before the current operation */
};

static void side_advance(struct side *s, uint32_t len)
{
    if (!s->started || s->closed)
        abort();
    if (s->has_fin && (int32_t)(s->pos + len - s->fin_off) > 0)
        abort();
}

static void side_data(void *arg, const uint8_t *buf, size_t len)
{
    struct side *s = arg;
    if (len == 0 || len > UINT32_MAX)
        abort();
    side_advance(s, (uint32_t)len);
    for (size_t i = 0; i < len; i++, s->pos++)
        if (buf[i] != pattern_byte(s->pos))
            abort();
}

static void side_gap(void *arg, uint64_t len)
{
    struct side *s = arg;
    if (len == 0 || len > UINT32_MAX)
        abort();
    side_advance(s, (uint32_t)len);
    s->pos += (uint32_t)len;
}

/* Reads the script; runs out as zeros. */
struct script {
    const uint8_t *p;
    size_t left;
};

static uint32_t script_take(struct script *sc, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v = (v << 8) | (sc->left ? *sc->p : 0);
        if (sc->left) {
            sc->p++;
            sc->left--;
        }
    }
    return v;
}

/* Offsets are mostly small so that segments collide; some are far. */
static uint32_t script_offset(struct script *sc)
{
    uint32_t v = script_take(sc, 2);
    if (v >= 0xfff0)
        return script_take(sc, 4);
    return v & 0x3ff;
}

static void side_start_at(struct side *s, uint32_t off)
{
    if (!s->d.seq_known) {
        s->pos = off;
        s->started = 1;
    }
}

static void op_push(struct side *s, const struct reasm_limits *lim,
                    struct stats *st, const struct reasm_sink *sink,
                    struct script *sc)
{
    uint32_t off = script_offset(sc);
    size_t len = script_take(sc, 1);
    uint32_t cut = script_take(sc, 1);
    size_t wire = len + (cut >= 0xc0 ? cut - 0xc0 : 0);
    uint8_t *buf = malloc(len ? len : 1);

    if (!buf)
        abort();
    for (size_t i = 0; i < len; i++)
        buf[i] = pattern_byte(off + (uint32_t)i);
    side_start_at(s, off);
    reasm_push(&s->d, lim, st, s->base + off, len ? buf : NULL, len, wire,
               sink);
    free(buf);   /* reasm must not keep pointers into the caller's data */
}

static void run_op(struct side *s, const struct reasm_limits *lim,
                   struct stats *st, const struct reasm_sink *sink,
                   struct script *sc, uint32_t op)
{
    switch (op % 6) {
    case 0:
    case 1:
        op_push(s, lim, st, sink, sc);
        break;
    case 2:
        reasm_ack(&s->d, lim, st, s->base + script_offset(sc), sink);
        break;
    case 3: {
        uint32_t off = script_offset(sc);
        int was_ended = s->d.ended;
        side_start_at(s, off);
        reasm_fin(&s->d, lim, st, s->base + off, sink);
        if (!s->has_fin && (s->d.fin_pending || (s->d.ended && !was_ended))) {
            s->has_fin = 1;
            s->fin_off = off;
        }
        break;
    }
    case 4:
        reasm_flush(&s->d, lim, st, sink);
        break;
    case 5:
        /* RST, the way the worker handles it. */
        s->d.ended = 1;
        reasm_flush(&s->d, lim, st, sink);
        break;
    }
}

static void check_side(const struct side *s)
{
    if (s->d.seq_known && s->base + s->pos != s->d.next_seq)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct script sc = { data, size };
    _Atomic size_t used;
    struct reasm_limits lim;
    struct stats st;
    struct side sides[2];
    struct reasm_sink sinks[2];

    atomic_init(&used, 0);
    lim.flow_max = script_take(&sc, 2);
    lim.global_max = script_take(&sc, 2);
    lim.global_used = &used;
    stats_clear(&st);
    for (int i = 0; i < 2; i++) {
        struct side *s = &sides[i];
        uint32_t flags = script_take(&sc, 1);
        memset(s, 0, sizeof(*s));
        reasm_init(&s->d);
        /* Sequence numbers near the wrap are the interesting ones. */
        s->base = script_take(&sc, 4);
        if (flags & 1)
            s->base = 0xffffffffu - (s->base & 0x7ff);
        if (flags & 2) {
            reasm_syn(&s->d, s->base - 1);
            s->started = 1;
        }
        sinks[i].data = side_data;
        sinks[i].gap = side_gap;
        sinks[i].arg = s;
    }
    while (sc.left > 0) {
        uint32_t op = script_take(&sc, 1);
        int i = op >> 7;
        sides[i].closed = sides[i].d.ended;
        run_op(&sides[i], &lim, &st, &sinks[i], &sc, op & 0x7f);
        check_side(&sides[0]);
        check_side(&sides[1]);
        if (sides[0].d.held_bytes + sides[1].d.held_bytes != atomic_load(&used))
            abort();
        if (sides[i].d.held_bytes > lim.flow_max || atomic_load(&used) > lim.global_max)
            abort();
    }
    for (int i = 0; i < 2; i++)
        reasm_free(&sides[i].d, &lim);
    if (atomic_load(&used) != 0)
        abort();
    return 0;
}
