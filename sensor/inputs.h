/* inputs.h - several live interfaces captured together.
 *
 * One capture thread per interface, all feeding the one dispatch, so the
 * same workers: flows are hashed the same way whatever interface a packet
 * came in on, and a flow seen on two taps (the two directions of a TAP on
 * two ports) is one flow.
 *
 * With one interface its capture thread dispatches itself. With several,
 * each capture thread copies its packets into a queue of its own (a ring),
 * and the thread that called inputs_run merges the queues in packet-time
 * order into the dispatch, its only writer: a TAP's request on one port is
 * dispatched before the answer on the other, as in a capture file, though
 * each kernel ring hands its packets over in blocks (when a block is full,
 * or capture.timeout_ms after its first packet). A packet waits until every
 * other interface has either a later packet queued or said that it holds
 * nothing earlier: an idle capture thread says so ("quiet until T") each
 * time it waits, T being now less the longest a block can be held back
 * (two timeouts and a margin). That hold is the latency several interfaces
 * add; a capture thread that does not report for a second longer (starved)
 * stops holding the others back, its late packets then go out of order.
 *
 * Each interface has an index, 1..count in the order given (0 means no
 * interface: a capture file). It travels with its packets (msg_packet.iface)
 * to the flow that its first packet creates (flow.in_iface, one byte) and
 * so to the flow's events (`in_iface`), and names its counters in stats
 * ("interfaces.<name>.packets", enum input_stat).
 *
 * A full queue drops the packet, counted in the interface's ring_drops and
 * capture.ring_drops, as a full worker ring does. */
#ifndef SW_INPUTS_H
#define SW_INPUTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/limits.h"
#include "capture.h"
#include "dispatch.h"
#include "ring.h"

struct inputs;

struct input {
    struct inputs *set;
    struct capture *capture;
    uint8_t index;              /* 1..INPUTS_MAX */
    bool linktype_shown;        /* its first packet's link type was printed */
    int failed;                 /* its capture broke (the error was printed) */
    pthread_t thread;
    bool started;
    /* Several interfaces: the queue to the merging thread (this thread
     * writes, sleeps on `waiter` when it is full for an end message). */
    struct ring queue;
    struct ring_waiter waiter;
    uint64_t quiet_sent;        /* the last "quiet until" sent */
    uint64_t next_kstats;       /* wall clock of the next kernel counters read */
    _Atomic uint64_t queue_drops;   /* packets the full queue did not take */
    _Atomic uint64_t kernel_drops;  /* capture_kernel_stats, as last read */
    _Atomic uint64_t iface_drops;
};

struct inputs {
    struct input in[INPUTS_MAX];
    size_t count;
    uint64_t hold_us;           /* longest the kernel holds a packet back */
    struct ring_waiter merge_waiter;
    struct dispatch *dispatch;
    uint64_t (*clock_us)(void); /* wall clock: idle ticks, quiet marks */
};

/* Checks a list of interface names: none empty, none too long, none
 * twice, at most INPUTS_MAX. Returns 0, or -1 with one line in err. */
int inputs_check_names(const char *const *names, size_t count, char *err, size_t errlen);

/* Opens every interface, in order, and makes their names known to
 * inputs_name. Prints libpcap's warnings and one start-up line per
 * interface on stderr. Returns 0, or -1 with the first failure in err (the
 * ones opened are closed again). Call before dropping privileges. */
int inputs_open(struct inputs *s, const char *const *names, size_t count,
                const struct capture_options *o, char *err, size_t errlen);

/* Runs one capture thread per interface into d until every one has ended
 * (inputs_break, or an error), merging them when there are several. Live
 * batching: the dispatching thread flushes the workers' rings before it
 * waits. Returns 0, or 1 when a capture failed (its error printed). */
int inputs_run(struct inputs *s, struct dispatch *d, uint64_t (*clock_us)(void));

/* Asks every capture to end (each drains first, capture.h).
 * Async-signal-safe. */
void inputs_break(struct inputs *s);

/* After inputs_run: each interface's kernel counters and what was left
 * unread, into the dispatch's stats (per interface and summed). */
void inputs_final_stats(struct inputs *s, struct stats *st);

/* One line per interface with its packets and drops by cause. */
void inputs_summary(const struct inputs *s, const struct stats *st, FILE *f);

void inputs_close(struct inputs *s);

/* The name of interface `index` (1..), or NULL: read by the threads that
 * write events and stats; set once by inputs_open before they start. */
const char *inputs_name(unsigned index);

#endif
