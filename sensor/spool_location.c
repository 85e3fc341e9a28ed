/* spool_location.c - the spool file's path (see spool_location.h). */
#include "spool_location.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The default directory, into dir; -1 when no variable says where. */
static int default_dir(char *dir, size_t cap)
{
    const char *state = getenv("STATE_DIRECTORY");
    if (state && state[0]) {
        size_t n = strcspn(state, ":");   /* several directories: the first */
        return snprintf(dir, cap, "%.*s", (int)n, state) < (int)cap ? 0 : -1;
    }
    if (geteuid() == 0)
        return snprintf(dir, cap, "/var/lib/scrapewatch") < (int)cap ? 0 : -1;
    const char *xdg = getenv("XDG_STATE_HOME");
    if (xdg && xdg[0] == '/')
        return snprintf(dir, cap, "%s/scrapewatch", xdg) < (int)cap ? 0 : -1;
    const char *home = getenv("HOME");
    if (home && home[0] == '/')
        return snprintf(dir, cap, "%s/.local/state/scrapewatch", home) < (int)cap ? 0 : -1;
    return -1;
}

/* mkdir -p: parents 0755, the last 0700. 0, or -1 with errno and the
 * directory that failed in failed. */
static int make_dirs(const char *dir, char *failed, size_t cap)
{
    char path[512];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
        errno = ENAMETOOLONG;
        snprintf(failed, cap, "%s", dir);
        return -1;
    }
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        struct stat st;
        if (stat(path, &st) != 0) {
            if (errno != ENOENT || mkdir(path, c ? 0755 : 0700) != 0) {
                snprintf(failed, cap, "%s", path);
                return -1;
            }
        } else if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            snprintf(failed, cap, "%s", path);
            return -1;
        }
        *p = c;
        if (!c)
            return 0;
    }
}

int spool_location(const struct sw_config *cfg, char *out, size_t outlen, char *err,
                   size_t errlen)
{
    const char *given = cfg->output.redis.spool_path;
    char dir[512];
    int n;
    if (given[0] == '/') {
        n = snprintf(out, outlen, "%s", given);
    } else if (given[0]) {
        const char *slash = strrchr(cfg->source, '/');
        int dlen = slash ? (int)(slash - cfg->source) : 0;
        n = slash ? snprintf(out, outlen, "%.*s/%s", dlen ? dlen : 1,
                             dlen ? cfg->source : "/", given)
                  : snprintf(out, outlen, "%s", given);
    } else {
        if (default_dir(dir, sizeof(dir)) != 0) {
            snprintf(err, errlen, "no place for the Redis spool: neither STATE_DIRECTORY, "
                     "XDG_STATE_HOME nor HOME is set; set output.redis.spool_path");
            return -1;
        }
        char id[sizeof(cfg->sensor.id)];
        size_t i = 0;
        for (; cfg->sensor.id[i] && i + 1 < sizeof(id); i++) {
            char c = cfg->sensor.id[i];
            int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '.' || c == '-' || c == '_';
            id[i] = plain ? c : '_';
        }
        id[i] = '\0';
        if (id[0] == '.')
            id[0] = '_';
        n = snprintf(out, outlen, "%s/%s.spool", dir, id);
    }
    if (n < 0 || (size_t)n >= outlen) {
        snprintf(err, errlen, "spool path too long: '%s'", given[0] ? given : dir);
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s", out);
    char *last = strrchr(dir, '/');
    if (!last || last == dir)
        return 0;   /* the current directory, or / */
    *last = '\0';
    char failed[512];
    if (make_dirs(dir, failed, sizeof(failed)) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot create the spool directory '%s' (for %s): %s (errno %d)",
                 failed, out, strerror(e), e);
        return -1;
    }
    return 0;
}
