/* preflight.c - --test-config's file checks (see preflight.h). */
#include "preflight.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../rules/engine.h"
#include "capture.h"
#include "paths.h"
#include "spool_location.h"

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int problem(const char *fmt, ...)
{
    char user[96];
    va_list ap;
    paths_user_name(user, sizeof(user));
    fprintf(stderr, "scrapewatch: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (as %s)\n", user);
    return 1;
}

/* A file the sensor will append to: the file itself when it exists, else
 * its directory, must be writable. */
static int check_writable(const char *what, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return problem("%s '%s' is a directory", what, path);
        if (access(path, W_OK) != 0)
            return problem("%s '%s' cannot be written: %s", what, path, strerror(errno));
        return 0;
    }
    if (errno != ENOENT)
        return problem("%s '%s' cannot be opened: %s", what, path, strerror(errno));
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        *(slash == dir ? slash + 1 : slash) = '\0';
    if (access(dir, W_OK | X_OK) != 0)
        return problem("%s '%s' cannot be created: directory '%s': %s", what, path, dir,
                       strerror(errno));
    return 0;
}

/* At least one of the lists directories exists, and each that does can be
 * read. */
static int check_lists(const char *dirs)
{
    int found = 0, problems = 0;
    for (const char *d = dirs;;) {
        size_t n = strcspn(d, ":");
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", (int)n, d);
        struct stat st;
        if (stat(dir, &st) == 0) {
            found = 1;
            if (!S_ISDIR(st.st_mode))
                problems += problem("lists directory '%s' is not a directory", dir);
            else if (access(dir, R_OK | X_OK) != 0)
                problems += problem("lists directory '%s' cannot be read: %s", dir,
                                    strerror(errno));
        }
        if (!d[n])
            break;
        d += n + 1;
    }
    if (!found)
        problems += problem("lists directory '%s' does not exist", dirs);
    return problems;
}

static int check_rules(const struct sw_config *cfg, size_t *rule_count)
{
    char err[1024];
    *rule_count = 0;
    if (cfg->detect.rules[0] && access(cfg->detect.rules, R_OK) != 0)
        return problem("rule file '%s' cannot be read: %s", cfg->detect.rules,
                       strerror(errno));
    struct rule_engine *engine = rule_engine_load(&cfg->detect, err, sizeof(err));
    if (!engine)
        return problem("%s", err);
    *rule_count = rule_engine_rule_count(engine);
    rule_engine_free(engine);
    return 0;
}

static int check_spool(const struct sw_config *cfg)
{
    char path[PATH_MAX], err[1024];
    if (!cfg->output.redis.enabled || !cfg->output.redis.spool)
        return 0;
    if (spool_location(cfg, path, sizeof(path), err, sizeof(err)) != 0)
        return problem("%s", err);
    return check_writable("Redis spool", path);
}

/* rdns: the cache file readable; the save file's directory writable (it
 * is written beside as NAME.tmp, then renamed). */
static int check_rdns(const struct sw_config *cfg)
{
    const struct config_rdns *r = &cfg->rdns;
    if (!r->enabled)
        return 0;
    if (r->cache_file[0] && access(r->cache_file, R_OK) != 0)
        return problem("rdns cache file '%s' cannot be read: %s", r->cache_file,
                       strerror(errno));
    if (!r->save_file[0] || r->cache_file[0])
        return 0;
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s.tmp", r->save_file);
    return check_writable("rdns save file", tmp);
}

static int check_all(const struct sw_config *cfg, const char *json_path, size_t *rule_count)
{
    int problems = check_rules(cfg, rule_count);
    problems += check_lists(cfg->detect.lists);
    if (json_path && json_path[0] && strcmp(json_path, "-") != 0)
        problems += check_writable("JSON lines file", json_path);
    problems += check_spool(cfg);
    problems += check_rdns(cfg);
    return problems;
}

/* As root with sensor.user: in a child that has become that user. The rule
 * count comes back through a pipe. */
static int check_as_user(const struct sw_config *cfg, const char *json_path,
                         size_t *rule_count)
{
    int fd[2];
    if (pipe(fd) != 0)
        return problem("cannot check as '%s': pipe: %s", cfg->sensor.user, strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return problem("cannot check as '%s': fork: %s", cfg->sensor.user, strerror(errno));
    if (pid == 0) {
        char err[512];
        close(fd[0]);
        size_t count = 0;
        int problems = 0;
        if (capture_drop_privileges(cfg->sensor.user, err, sizeof(err)) != 0)
            problems = problem("%s", err);
        else
            problems = check_all(cfg, json_path, &count);
        if (write(fd[1], &count, sizeof(count)) != (ssize_t)sizeof(count))
            problems++;
        _exit(problems > 100 ? 100 : problems);
    }
    close(fd[1]);
    if (read(fd[0], rule_count, sizeof(*rule_count)) != (ssize_t)sizeof(*rule_count))
        *rule_count = 0;
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int preflight_check(const struct sw_config *cfg, const char *json_path, size_t *rule_count)
{
    if (geteuid() == 0 && cfg->sensor.user[0])
        return check_as_user(cfg, json_path, rule_count);
    return check_all(cfg, json_path, rule_count);
}
