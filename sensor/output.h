/* output.h - the output thread: serialises each event to JSON once and
 * writes it to the sinks (today: JSON lines to a file or stdout; the Redis
 * sink comes in a later issue). */
#ifndef SW_OUTPUT_H
#define SW_OUTPUT_H

#include <pthread.h>
#include <stdio.h>

#include "config.h"
#include "ring.h"
#include "stats.h"

struct output {
    pthread_t thread;
    struct ring *in;          /* from the detect thread */
    const struct sw_config *cfg;
    FILE *json;               /* JSON lines sink, or NULL */
    int close_json;           /* we opened it */
    struct stats stats;
    int write_failed;
};

/* path: "-" for stdout, a file path, or NULL/"" for no JSON lines.
 * Returns -1 with err set when the file cannot be opened. */
int output_init(struct output *o, const struct sw_config *cfg, struct ring *in,
                const char *path, char *err, size_t errlen);
int output_start(struct output *o);
void output_join(struct output *o);
void output_destroy(struct output *o);

#endif
