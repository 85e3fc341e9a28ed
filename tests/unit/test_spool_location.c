/* test_spool_location.c - where the spool goes: STATE_DIRECTORY, root's
 * /var/lib/scrapewatch, the XDG state directory, a path relative to the
 * configuration file, and a location that cannot be made. */
#include "../../sensor/spool_location.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char base[64];

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void test_state_directory(void)
{
    struct sw_config cfg;
    char out[512], err[256] = "", want[256];
    config_defaults(&cfg);
    snprintf(want, sizeof(want), "%s/state/a:b", base);
    setenv("STATE_DIRECTORY", want, 1);   /* a list: the first entry */
    snprintf(cfg.sensor.id, sizeof(cfg.sensor.id), "edge/1 x");
    CHECK_EQ_INT(spool_location(&cfg, out, sizeof(out), err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/state/a/edge_1_x.spool", base);
    CHECK_EQ_STR(out, want);
    snprintf(want, sizeof(want), "%s/state/a", base);
    CHECK(is_dir(want));
    struct stat st;
    CHECK(stat(want, &st) == 0 && (st.st_mode & 0777) == 0700);
    unsetenv("STATE_DIRECTORY");
}

static void test_without_state_directory(void)
{
    struct sw_config cfg;
    char out[512], err[256] = "", want[256];
    config_defaults(&cfg);
    unsetenv("STATE_DIRECTORY");
    snprintf(want, sizeof(want), "%s/xdg", base);
    setenv("XDG_STATE_HOME", want, 1);
    if (geteuid() == 0) {
        /* root: the FHS place; not created here, only named */
        snprintf(cfg.output.redis.spool_path, sizeof(cfg.output.redis.spool_path), "%s",
                 "");
        if (is_dir("/var/lib/scrapewatch")) {
            CHECK_EQ_INT(spool_location(&cfg, out, sizeof(out), err, sizeof(err)), 0);
            CHECK_EQ_STR(out, "/var/lib/scrapewatch/scrapewatch.spool");
        }
    } else {
        CHECK_EQ_INT(spool_location(&cfg, out, sizeof(out), err, sizeof(err)), 0);
        snprintf(want, sizeof(want), "%s/xdg/scrapewatch/scrapewatch.spool", base);
        CHECK_EQ_STR(out, want);
    }
    unsetenv("XDG_STATE_HOME");
}

static void test_relative_to_config(void)
{
    struct sw_config cfg;
    char out[512], err[256] = "";
    config_defaults(&cfg);
    snprintf(cfg.source, sizeof(cfg.source), "%s/etc/sw.conf", base);
    snprintf(cfg.output.redis.spool_path, sizeof(cfg.output.redis.spool_path), "spool/r.spool");
    CHECK_EQ_INT(spool_location(&cfg, out, sizeof(out), err, sizeof(err)), 0);
    char want[256];
    snprintf(want, sizeof(want), "%s/etc/spool/r.spool", base);
    CHECK_EQ_STR(out, want);
    snprintf(want, sizeof(want), "%s/etc/spool", base);
    CHECK(is_dir(want));
    /* absolute: as written */
    snprintf(cfg.output.redis.spool_path, sizeof(cfg.output.redis.spool_path), "%s/abs/x", base);
    CHECK_EQ_INT(spool_location(&cfg, out, sizeof(out), err, sizeof(err)), 0);
    CHECK_EQ_STR(out, cfg.output.redis.spool_path);
}

static void test_cannot_be_made(void)
{
    struct sw_config cfg;
    char out[512], err[256] = "", file[256], want[1024];
    config_defaults(&cfg);
    snprintf(file, sizeof(file), "%s/plainfile", base);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    snprintf(cfg.output.redis.spool_path, sizeof(cfg.output.redis.spool_path),
             "%s/plainfile/sub/x.spool", base);
    CHECK_EQ_INT(spool_location(&cfg, out, sizeof(out), err, sizeof(err)), -1);
    snprintf(want, sizeof(want), "cannot create the spool directory '%s' (for %s): Not a directory (errno 20)",
             file, cfg.output.redis.spool_path);
    CHECK_EQ_STR(err, want);
    /* nowhere to go at all */
    cfg.output.redis.spool_path[0] = '\0';
    unsetenv("STATE_DIRECTORY");
    unsetenv("XDG_STATE_HOME");
    unsetenv("HOME");
    if (geteuid() != 0) {
        CHECK_EQ_INT(spool_location(&cfg, out, sizeof(out), err, sizeof(err)), -1);
        CHECK(strstr(err, "set output.redis.spool_path") != NULL);
    }
}

int main(void)
{
    check_binary = "test_spool_location";
    snprintf(base, sizeof(base), "/tmp/test_spool_loc_XXXXXX");
    if (!mkdtemp(base))
        return 1;
    RUN(test_state_directory);
    RUN(test_without_state_directory);
    RUN(test_relative_to_config);
    RUN(test_cannot_be_made);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", base);
    CHECK_EXIT();
}
