/* paths.c - where the sensor finds its files (see paths.h). */
#include "paths.h"

#include <limits.h>
#include <pwd.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char source_tree[PATH_MAX];
static pthread_once_t source_tree_once = PTHREAD_ONCE_INIT;

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/name exists as a regular file. */
static int has_file(const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return is_file(path);
}

/* Looks for the tree at the binary's directory and up to two levels
 * above it (./scrapewatch, build/scrapewatch, build/tests/test_x). */
static void find_source_tree(void)
{
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
    if (n <= 0)
        return;
    dir[n] = '\0';
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return;
        *slash = '\0';
        if (has_file(dir, "Makefile") && has_file(dir, "rules/scrapewatch.rules")) {
            snprintf(source_tree, sizeof(source_tree), "%s", dir);
            return;
        }
    }
}

const char *paths_source_tree(void)
{
    pthread_once(&source_tree_once, find_source_tree);
    return source_tree[0] ? source_tree : NULL;
}

void paths_default_rules(char *out, size_t cap)
{
    const char *tree = paths_source_tree();
    if (tree)
        snprintf(out, cap, "%s/rules/scrapewatch.rules", tree);
    else if (has_file(SW_SYSCONFDIR, "scrapewatch.rules"))
        snprintf(out, cap, "%s/scrapewatch.rules", SW_SYSCONFDIR);
    else
        snprintf(out, cap, "%s/scrapewatch.rules", SW_DATADIR);
}

void paths_default_lists(char *out, size_t cap)
{
    const char *tree = paths_source_tree();
    if (tree)
        snprintf(out, cap, "%s/rules/lists", tree);
    else
        snprintf(out, cap, "%s/lists:%s/lists", SW_SYSCONFDIR, SW_DATADIR);
}

const char *paths_default_config(void)
{
    static const char path[] = SW_SYSCONFDIR "/scrapewatch.conf";
    if (paths_source_tree() || !is_file(path))
        return NULL;
    return path;
}

int paths_from_dir(const char *dir, const char *value, char *out, size_t cap)
{
    int n;
    if (value[0] == '\0' || value[0] == '/' || !dir || !dir[0] || strcmp(dir, ".") == 0)
        n = snprintf(out, cap, "%s", value);
    else
        n = snprintf(out, cap, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", value);
    return n >= 0 && (size_t)n < cap ? 0 : -1;
}

void paths_user_name(char *out, size_t cap)
{
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &found) == 0 && found)
        snprintf(out, cap, "user %s", found->pw_name);
    else
        snprintf(out, cap, "uid %u", (unsigned)geteuid());
}
