/* paths.h - where the sensor finds its files, wherever it is started from.
 *
 * A relative path in a configuration file is taken from that file's
 * directory (paths_from_file), never from the current directory.
 *
 * The built-in rule file and lists come from one of two places:
 *
 *   - an uninstalled build: the source tree the binary sits in (the
 *     directory holding the binary, or one or two levels above it, that has
 *     a Makefile and rules/scrapewatch.rules): <tree>/rules/scrapewatch.rules
 *     and <tree>/rules/lists;
 *   - an installed binary: SW_SYSCONFDIR (/etc/scrapewatch) over SW_DATADIR
 *     ($(PREFIX)/share/scrapewatch), file by file: scrapewatch.rules from the
 *     first that has it, and each list file from lists/ of the first that
 *     has it (detect.lists is then "SW_SYSCONFDIR/lists:SW_DATADIR/lists").
 *
 * Without -c, an installed binary reads SW_SYSCONFDIR/scrapewatch.conf when
 * it exists; an uninstalled build uses the built-in defaults. */
#ifndef SW_PATHS_H
#define SW_PATHS_H

#include <stddef.h>

#ifndef SW_SYSCONFDIR
#define SW_SYSCONFDIR "/etc/scrapewatch"
#endif
#ifndef SW_DATADIR
#define SW_DATADIR "/usr/local/share/scrapewatch"
#endif

/* The source tree of an uninstalled build (absolute), or NULL. */
const char *paths_source_tree(void);
/* The built-in rule file and lists directory (search path), into out. */
void paths_default_rules(char *out, size_t cap);
void paths_default_lists(char *out, size_t cap);
/* The configuration file read without -c, or NULL for built-in defaults. */
const char *paths_default_config(void);
/* "user NAME" (or "uid N") for the effective user, for messages about
 * files that cannot be opened. */
void paths_user_name(char *out, size_t cap);
/* value as seen from the directory dir ("" and absolute values as they
 * are). 0, or -1 when it does not fit in cap. */
int paths_from_dir(const char *dir, const char *value, char *out, size_t cap);

#endif
