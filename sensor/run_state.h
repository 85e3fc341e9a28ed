/* run_state.h - a small file beside the spool that says how far the Redis
 * sink of the running sensor got, so that the next start can tell how many
 * events a run that ended without a clean stop (kill -9, a crash, a power
 * cut) lost with its memory.
 *
 * The file holds one record, mapped into memory (MAP_SHARED): every update
 * is a plain store into the page cache, so it costs nothing per event and
 * survives the death of the process (not a power cut: then the count is
 * only as good as the last writeback).
 *
 *   magic "SWRUN001" | u64 run_id | u64 issued | u64 safe | u64 drops_above
 *   | u64 inexact | u64 clean        (host byte order: the file never moves)
 *
 * issued: events of the run handed to the sink (ids 1..issued). safe: every
 * id up to it is in Redis, in the spool or was counted dropped. drops_above:
 * dropped events with ids above safe (inexact when more than the sink keeps
 * track of). clean: the run stopped normally (nothing was in memory). */
#ifndef SW_RUN_STATE_H
#define SW_RUN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct run_state_record {
    char magic[8];
    uint64_t run_id;
    uint64_t issued;
    uint64_t safe;
    uint64_t drops_above;
    uint64_t inexact;
    uint64_t clean;
};

struct run_state {
    int fd;                          /* -1 when not open */
    struct run_state_record *rec;    /* the mapping; NULL when not open */
};

/* Opens (creates) the file at path, copies what the previous run left into
 * *prev (prev->run_id is 0 when there was nothing readable), and starts the
 * record of this run. -1 with err set on failure. */
int run_state_open(struct run_state *st, const char *path, uint64_t run_id,
                   struct run_state_record *prev, char *err, size_t errlen);
/* Marks the run as stopped cleanly (when clean) and unmaps the file. */
void run_state_close(struct run_state *st, bool clean);

#endif
