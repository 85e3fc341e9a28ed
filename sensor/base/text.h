/* text.h - small text helpers: a capped copy that never cuts a UTF-8
 * character, and the line-by-line reader of the operator's list and cache
 * files (the rules/lists files, the rdns cache file), with the same errors for all. */
#ifndef SW_TEXT_H
#define SW_TEXT_H

#include <stddef.h>

/* Copies src into dst (cap bytes, NUL included), cut on a UTF-8 character
 * boundary when it does not fit. */
void text_copy_capped(char *dst, size_t cap, const char *src);

/* Cuts a '#' comment off line, then splits what is left into its first word
 * (*first) and the rest, trimmed (*rest, "" when none). 0 for a blank line. */
int text_split_first(char *line, char **first, char **rest);

/* One line of a file (its newline kept); 0 to go on, -1 with err set (as
 * "PATH:LINE: ...") to stop. */
typedef int (*text_line_fn)(void *ctx, char *line, const char *path, int lineno,
                            char *err, size_t errlen);

/* Calls fn for each line of path, in order, until it returns non-zero.
 * Lines hold at most line_max - 2 bytes before the newline. Returns 0, or
 * -1 with one line in err: "PATH: cannot read WHAT: why", "PATH:N: line too
 * long", "PATH: read error", or fn's. */
int text_file_lines(const char *path, const char *what, size_t line_max, text_line_fn fn,
                    void *ctx, char *err, size_t errlen);

#endif
