/* patlist.h - string pattern lists with labels (rules/lists/NAME.patterns).
 *
 * One "KIND PATTERN LABEL" per line, KIND one of substr (case-insensitive
 * substring), prefix, exact, regex (POSIX extended, case-insensitive) or
 * glob (`*` any run, `?` one byte). A PATTERN with spaces is written in
 * double quotes ("Nmap Scripting Engine"); the label is the rest of the line. prefix, exact and glob are
 * case-insensitive too: user agents and ransom-note names vary in case.
 * A lookup returns the label of the first line, in file order, that
 * matches. */
#ifndef SW_PATLIST_H
#define SW_PATLIST_H

#include <stddef.h>

#define PATLIST_LABEL_MAX 64

struct patlist;

struct patlist *patlist_new(void);
void patlist_free(struct patlist *p);
/* Loads a .patterns file. On error returns -1 with "FILE:LINE: message". */
int patlist_load_file(struct patlist *p, const char *path, char *err, size_t errlen);
/* Returns 1 and sets *label ("" when the line had none) for the first
 * pattern that matches s, or 0. */
int patlist_match(const struct patlist *p, const char *s, const char **label);
size_t patlist_size(const struct patlist *p);
/* Case-insensitive glob: `*` any run of bytes, `?` one byte. */
int glob_match(const char *pattern, const char *s);

#endif
