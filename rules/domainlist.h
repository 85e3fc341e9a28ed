/* domainlist.h - DNS domain suffix lists with labels (rules/lists/NAME.domains).
 *
 * One "DOMAIN LABEL" per line: a host name matches when it is DOMAIN or
 * ends in "." DOMAIN (label boundary, so "evilshodan.io" is not under
 * "shodan.io"), case-insensitively, with or without the root's trailing
 * dot. The longest matching domain gives the label. Used to name crawlers
 * from their forward-confirmed reverse DNS (sensor/rdns.h). */
#ifndef SW_DOMAINLIST_H
#define SW_DOMAINLIST_H

#include <stddef.h>

#define DOMAINLIST_NAME_MAX 254   /* a DNS name in text, without the root dot */
#define DOMAINLIST_LABEL_MAX 64
#define DOMAINLIST_MAX 4096       /* lines a list may have */

struct domainlist;

/* 1 when s is a host name: letters, digits, '-', '_' and dots, no empty
 * label, at most DOMAINLIST_NAME_MAX bytes (a trailing root dot allowed). */
int domain_name_valid(const char *s);

struct domainlist *domainlist_new(void);
void domainlist_free(struct domainlist *d);
/* Adds one domain (lower-cased, a leading "." or "*." and the trailing "."
 * dropped). Returns 0, -1 when it is not a host name or the list is full. */
int domainlist_add(struct domainlist *d, const char *domain, const char *label);
/* Loads a .domains file. On error returns -1 with "FILE:LINE: message". */
int domainlist_load_file(struct domainlist *d, const char *path, char *err, size_t errlen);
/* The label of the longest listed domain that name is, or is under; NULL
 * when none. */
const char *domainlist_match(const struct domainlist *d, const char *name);
size_t domainlist_size(const struct domainlist *d);

#endif
