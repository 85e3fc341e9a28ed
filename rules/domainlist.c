/* domainlist.c - domain suffix lists (see domainlist.h).
 *
 * Lists are short (a few dozen crawler domains), so a lookup is a linear
 * walk that compares each domain with the tail of the name. */
#include "domainlist.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sensor/base/text.h"

struct domain_entry {
    char domain[DOMAINLIST_NAME_MAX + 1];
    size_t len;
    char label[DOMAINLIST_LABEL_MAX];
};

struct domainlist {
    struct domain_entry *v;
    size_t count, cap;
};

struct domainlist *domainlist_new(void)
{
    return calloc(1, sizeof(struct domainlist));
}

void domainlist_free(struct domainlist *d)
{
    if (!d)
        return;
    free(d->v);
    free(d);
}

size_t domainlist_size(const struct domainlist *d)
{
    return d ? d->count : 0;
}

/* Letters, digits, '-', '_' and dots, no empty label: what a PTR target
 * may hold (underscores appear in some operators' names). */
static int domain_valid(const char *s, size_t len)
{
    if (len == 0 || len > DOMAINLIST_NAME_MAX || s[0] == '.' || s[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || c == '-' || c == '_' || c == '.'))
            return 0;
        if (c == '.' && s[i + 1] == '.')
            return 0;
    }
    return 1;
}

int domain_name_valid(const char *s)
{
    size_t len = strnlen(s, DOMAINLIST_NAME_MAX + 2);
    if (len && s[len - 1] == '.')
        len--;
    return domain_valid(s, len);
}

int domainlist_add(struct domainlist *d, const char *domain, const char *label)
{
    if (strncmp(domain, "*.", 2) == 0)
        domain += 2;
    else if (domain[0] == '.')
        domain++;
    size_t len = strlen(domain);
    if (len && domain[len - 1] == '.')
        len--;
    if (!domain_valid(domain, len) || d->count >= DOMAINLIST_MAX)
        return -1;
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        void *p = realloc(d->v, cap * sizeof(*d->v));
        if (!p)
            return -1;
        d->v = p;
        d->cap = cap;
    }
    struct domain_entry *e = &d->v[d->count++];
    for (size_t i = 0; i < len; i++)
        e->domain[i] = (char)tolower((unsigned char)domain[i]);
    e->domain[len] = '\0';
    e->len = len;
    snprintf(e->label, sizeof(e->label), "%s", label ? label : "");
    return 0;
}

const char *domainlist_match(const struct domainlist *d, const char *name)
{
    if (!d || !name)
        return NULL;
    size_t n = strnlen(name, DOMAINLIST_NAME_MAX + 2);
    if (n && name[n - 1] == '.')
        n--;
    if (n == 0 || n > DOMAINLIST_NAME_MAX)
        return NULL;
    const struct domain_entry *best = NULL;
    for (size_t i = 0; i < d->count; i++) {
        const struct domain_entry *e = &d->v[i];
        if (e->len > n || (best && e->len <= best->len))
            continue;
        const char *tail = name + (n - e->len);
        if (strncasecmp(tail, e->domain, e->len) != 0)
            continue;
        if (e->len == n || tail[-1] == '.')
            best = e;
    }
    return best ? best->label : NULL;
}

/* One line of a .domains file: "DOMAIN LABEL". */
static int domainlist_line(void *ctx, char *line, const char *path, int lineno, char *err,
                           size_t errlen)
{
    struct domainlist *d = ctx;
    char *domain, *label;
    if (!text_split_first(line, &domain, &label))
        return 0;
    if (!*label) {
        snprintf(err, errlen, "%s:%d: '%s' has no label (DOMAIN LABEL)", path, lineno, domain);
        return -1;
    }
    if (d->count >= DOMAINLIST_MAX) {
        snprintf(err, errlen, "%s:%d: more than %d domains", path, lineno, DOMAINLIST_MAX);
        return -1;
    }
    if (domainlist_add(d, domain, label) != 0) {
        snprintf(err, errlen, "%s:%d: '%s' is not a domain name", path, lineno, domain);
        return -1;
    }
    return 0;
}

int domainlist_load_file(struct domainlist *d, const char *path, char *err, size_t errlen)
{
    return text_file_lines(path, "domain list", 1024, domainlist_line, d, err, errlen);
}
