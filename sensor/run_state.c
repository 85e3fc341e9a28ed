/* run_state.c - the run's progress record (see run_state.h). */
#include "run_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char run_state_magic[8] = {'S', 'W', 'R', 'U', 'N', '0', '0', '1'};

int run_state_open(struct run_state *st, const char *path, uint64_t run_id,
                   struct run_state_record *prev, char *err, size_t errlen)
{
    memset(prev, 0, sizeof(*prev));
    st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    st->rec = NULL;
    if (st->fd < 0) {
        snprintf(err, errlen, "run state %s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct run_state_record old;
    if (pread(st->fd, &old, sizeof(old), 0) == (ssize_t)sizeof(old)
        && memcmp(old.magic, run_state_magic, sizeof(old.magic)) == 0)
        *prev = old;
    if (ftruncate(st->fd, sizeof(struct run_state_record)) != 0) {
        snprintf(err, errlen, "run state %s: cannot size: %s", path, strerror(errno));
        close(st->fd);
        st->fd = -1;
        return -1;
    }
    void *map = mmap(NULL, sizeof(struct run_state_record), PROT_READ | PROT_WRITE, MAP_SHARED,
                     st->fd, 0);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "run state %s: cannot map: %s", path, strerror(errno));
        close(st->fd);
        st->fd = -1;
        return -1;
    }
    st->rec = map;
    memset(st->rec, 0, sizeof(*st->rec));
    st->rec->run_id = run_id;
    memcpy(st->rec->magic, run_state_magic, sizeof(run_state_magic));
    return 0;
}

void run_state_close(struct run_state *st, bool clean)
{
    if (!st->rec)
        return;
    st->rec->clean = clean;
    msync(st->rec, sizeof(*st->rec), MS_SYNC);
    munmap(st->rec, sizeof(*st->rec));
    close(st->fd);
    st->rec = NULL;
    st->fd = -1;
}
