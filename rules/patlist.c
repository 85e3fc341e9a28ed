/* patlist.c - labelled string patterns (patlist.h). */
#include "patlist.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../sensor/base/text.h"

enum pattern_kind { PAT_SUBSTR, PAT_PREFIX, PAT_EXACT, PAT_REGEX, PAT_GLOB };

struct pattern {
    enum pattern_kind kind;
    char *text;
    regex_t re;
    char label[PATLIST_LABEL_MAX];
};

struct patlist {
    struct pattern *items;
    size_t count, cap;
};

struct patlist *patlist_new(void)
{
    return calloc(1, sizeof(struct patlist));
}

void patlist_free(struct patlist *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->count; i++) {
        if (p->items[i].kind == PAT_REGEX)
            regfree(&p->items[i].re);
        free(p->items[i].text);
    }
    free(p->items);
    free(p);
}

size_t patlist_size(const struct patlist *p)
{
    return p->count;
}

int glob_match(const char *pattern, const char *s)
{
    /* Iterative with one backtrack point: linear-ish, no recursion depth
     * controlled by the input. */
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pattern == '*') {
            star = pattern++;
            resume = s;
        } else if (*pattern == '?' ||
                   (*pattern && tolower((unsigned char)*pattern) == tolower((unsigned char)*s))) {
            pattern++;
            s++;
        } else if (star) {
            pattern = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return 1;
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

int patlist_match(const struct patlist *p, const char *s, const char **label)
{
    for (size_t i = 0; i < p->count; i++) {
        const struct pattern *pt = &p->items[i];
        int hit = 0;
        switch (pt->kind) {
        case PAT_SUBSTR: hit = contains_nocase(s, pt->text); break;
        case PAT_PREFIX: hit = strncasecmp(s, pt->text, strlen(pt->text)) == 0; break;
        case PAT_EXACT: hit = strcasecmp(s, pt->text) == 0; break;
        case PAT_REGEX: hit = regexec(&pt->re, s, 0, NULL, 0) == 0; break;
        case PAT_GLOB: hit = glob_match(pt->text, s); break;
        }
        if (hit) {
            *label = pt->label;
            return 1;
        }
    }
    return 0;
}

/* Next whitespace-separated word of *p (NUL-terminated in place), or NULL. */
static char *next_word(char **p)
{
    char *s = *p;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return NULL;
    char *w = s;
    while (*s && !isspace((unsigned char)*s))
        s++;
    if (*s)
        *s++ = '\0';
    *p = s;
    return w;
}

static int patlist_add_line(struct patlist *p, char *line, const char *path, int lineno,
                            char *err, size_t errlen)
{
    static const char *const kinds[] = {"substr", "prefix", "exact", "regex", "glob"};
    char *cur = line;
    char *kind = next_word(&cur);
    if (!kind)
        return 0;
    char *text;
    while (isspace((unsigned char)*cur))
        cur++;
    if (*cur == '"') {
        /* A quoted pattern may hold spaces: "Nmap Scripting Engine". */
        text = ++cur;
        char *q = strchr(cur, '"');
        if (!q) {
            snprintf(err, errlen, "%s:%d: unterminated quoted pattern", path, lineno);
            return -1;
        }
        *q = '\0';
        cur = q + 1;
    } else {
        text = next_word(&cur);
    }
    if (!text || !*text) {
        snprintf(err, errlen, "%s:%d: '%s' needs a pattern", path, lineno, kind);
        return -1;
    }
    int k = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(kind, kinds[i]) == 0)
            k = i;
    if (k < 0) {
        snprintf(err, errlen, "%s:%d: unknown pattern kind '%s' (substr, prefix, exact, "
                 "regex or glob)", path, lineno, kind);
        return -1;
    }
    while (isspace((unsigned char)*cur))
        cur++;
    char *end = cur + strlen(cur);
    while (end > cur && isspace((unsigned char)end[-1]))
        *--end = '\0';
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        void *n = realloc(p->items, cap * sizeof(*p->items));
        if (!n) {
            snprintf(err, errlen, "%s:%d: out of memory", path, lineno);
            return -1;
        }
        p->items = n;
        p->cap = cap;
    }
    struct pattern *pt = &p->items[p->count];
    memset(pt, 0, sizeof(*pt));
    pt->kind = (enum pattern_kind)k;
    if (pt->kind == PAT_REGEX) {
        int rc = regcomp(&pt->re, text, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &pt->re, msg, sizeof(msg));
            snprintf(err, errlen, "%s:%d: bad regex '%s': %s", path, lineno, text, msg);
            return -1;
        }
    }
    pt->text = strdup(text);
    if (!pt->text) {
        if (pt->kind == PAT_REGEX)
            regfree(&pt->re);
        snprintf(err, errlen, "%s:%d: out of memory", path, lineno);
        return -1;
    }
    snprintf(pt->label, sizeof(pt->label), "%s", cur);
    p->count++;
    return 0;
}

/* One line of a .patterns file. '#' starts a comment only at the start of
 * a line or after a space: patterns themselves may contain '#'. */
static int patlist_file_line(void *ctx, char *line, const char *path, int lineno, char *err,
                             size_t errlen)
{
    for (char *h = line; (h = strchr(h, '#')); h++)
        if (h == line || isspace((unsigned char)h[-1])) {
            *h = '\0';
            break;
        }
    return patlist_add_line(ctx, line, path, lineno, err, errlen);
}

int patlist_load_file(struct patlist *p, const char *path, char *err, size_t errlen)
{
    return text_file_lines(path, "pattern list", 2048, patlist_file_line, p, err, errlen);
}
