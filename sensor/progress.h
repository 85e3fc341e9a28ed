/* progress.h - a progress line on stderr while capture files are read.
 *
 * Offline runs of large captures say how far they are: files done, bytes
 * read of the total, packets per second, events written, and the time
 * left. Only for a terminal: the line is redrawn in place at most once a
 * second and erased at the end, so nothing of it stays in a log, and the
 * event stream (stdout or files) never sees it. */
#ifndef SW_PROGRESS_H
#define SW_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture;

struct progress {
    bool on;
    bool shown;              /* a line is on the terminal now */
    size_t file_count;
    uint64_t *sizes;         /* each file's size, 0 = unknown (stdin, pipe) */
    uint64_t total;          /* sum of the known sizes */
    bool total_known;        /* every file has a size */
    uint64_t packets;
    uint64_t start_us;
    uint64_t next_us;        /* next redraw */
};

/* Sets up for these files; `enabled` false (or stderr not a terminal)
 * makes every call below do nothing. */
void progress_init(struct progress *p, char *const *files, size_t count, bool enabled);
/* One packet read; redraws when a second has passed since the last time. */
void progress_packet(struct progress *p, const struct capture *c, uint64_t events);
/* Erases the line and frees what init took. */
void progress_end(struct progress *p);

/* The line itself (for tests): what has been read, and when. */
void progress_format(char *buf, size_t cap, size_t files_done, size_t file_count,
                     uint64_t done, uint64_t total, bool total_known,
                     uint64_t packets, uint64_t events, uint64_t elapsed_us);

#endif
