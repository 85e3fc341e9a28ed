/* text.c - small text helpers (text.h). */
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_copy_capped(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int text_split_first(char *line, char **first, char **rest)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return 0;
    *first = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (*p)
        *p++ = '\0';
    while (isspace((unsigned char)*p))
        p++;
    char *end = p + strlen(p);
    while (end > p && isspace((unsigned char)end[-1]))
        *--end = '\0';
    *rest = p;
    return 1;
}

int text_file_lines(const char *path, const char *what, size_t line_max, text_line_fn fn,
                    void *ctx, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read %s: %s", path, what, strerror(errno));
        return -1;
    }
    char *line = malloc(line_max);
    int lineno = 0, rc = line ? 0 : -1;
    if (!line)
        snprintf(err, errlen, "%s: out of memory", path);
    while (rc == 0 && fgets(line, (int)line_max, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
        } else {
            rc = fn(ctx, line, path, lineno, err, errlen);
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    free(line);
    fclose(f);
    return rc;
}
