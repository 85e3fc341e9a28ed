/* progress.c - the progress line of offline runs (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"

#define PROGRESS_PERIOD_US 1000000
/* The clock is read once per this many packets: cheap at any rate. */
#define PROGRESS_CHECK_EVERY 1024

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void progress_init(struct progress *p, char *const *files, size_t count, bool enabled)
{
    memset(p, 0, sizeof(*p));
    if (!enabled || !isatty(STDERR_FILENO) || count == 0)
        return;
    p->sizes = calloc(count, sizeof(*p->sizes));
    if (!p->sizes)
        return;
    p->file_count = count;
    p->total_known = true;
    for (size_t i = 0; i < count; i++) {
        struct stat st;
        if (strcmp(files[i], "-") != 0 && stat(files[i], &st) == 0 && S_ISREG(st.st_mode))
            p->sizes[i] = (uint64_t)st.st_size;
        else
            p->total_known = false;
        p->total += p->sizes[i];
    }
    p->on = true;
    p->start_us = mono_us();
    p->next_us = p->start_us; /* first drawn after PROGRESS_CHECK_EVERY packets */
}

/* "1.2 GB", "312.4 MB", "17 KB", "12 B" */
static void human_bytes(char *buf, size_t cap, uint64_t n)
{
    static const char *const units[] = { "B", "KB", "MB", "GB", "TB" };
    double v = (double)n;
    unsigned u = 0;
    while (v >= 1000.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1000.0;
        u++;
    }
    snprintf(buf, cap, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
}

static void human_duration(char *buf, size_t cap, uint64_t secs)
{
    if (secs >= 3600)
        snprintf(buf, cap, "%llu:%02llu:%02llu", (unsigned long long)(secs / 3600),
                 (unsigned long long)(secs / 60 % 60), (unsigned long long)(secs % 60));
    else
        snprintf(buf, cap, "%llu:%02llu", (unsigned long long)(secs / 60),
                 (unsigned long long)(secs % 60));
}

void progress_format(char *buf, size_t cap, size_t files_done, size_t file_count,
                     uint64_t done, uint64_t total, bool total_known,
                     uint64_t packets, uint64_t events, uint64_t elapsed_us)
{
    char read[32], all[32], eta[32] = "?";
    double secs = elapsed_us > 0 ? (double)elapsed_us / 1e6 : 1e-6;
    human_bytes(read, sizeof(read), done);
    if (total_known && total > 0) {
        if (done > total)
            done = total;
        human_bytes(all, sizeof(all), total);
        if (done > 0)
            human_duration(eta, sizeof(eta),
                           (uint64_t)((double)(total - done) * secs / (double)done));
        snprintf(buf, cap, "files %zu/%zu  %s / %s (%u%%)  %.0f pkt/s  %llu events  ETA %s",
                 files_done, file_count, read, all, (unsigned)(done * 100 / total),
                 (double)packets / secs, (unsigned long long)events, eta);
    } else {
        snprintf(buf, cap, "files %zu/%zu  %s read  %.0f pkt/s  %llu events",
                 files_done, file_count, read, (double)packets / secs,
                 (unsigned long long)events);
    }
}

static void progress_draw(struct progress *p, const struct capture *c, uint64_t events,
                          uint64_t now)
{
    size_t files_done;
    uint64_t offset, done = 0;
    if (capture_file_position(c, &files_done, &offset) != 0)
        return;
    for (size_t i = 0; i < files_done && i < p->file_count; i++)
        done += p->sizes[i];
    done += offset;
    char line[256];
    progress_format(line, sizeof(line), files_done, p->file_count, done, p->total,
                    p->total_known, p->packets, events, now - p->start_us);
    /* carriage return, the line, erase what a longer line left */
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->shown = true;
}

void progress_packet(struct progress *p, const struct capture *c, uint64_t events)
{
    if (!p->on || ++p->packets % PROGRESS_CHECK_EVERY != 0)
        return;
    uint64_t now = mono_us();
    if (now < p->next_us)
        return;
    p->next_us = now + PROGRESS_PERIOD_US;
    progress_draw(p, c, events, now);
}

void progress_end(struct progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    free(p->sizes);
    memset(p, 0, sizeof(*p));
}
