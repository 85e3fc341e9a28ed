/* rdns.h - naming outside actors by forward-confirmed reverse DNS (FCrDNS).
 *
 * Crawlers that publish no address ranges (BinaryEdge, Stretchoid, ...)
 * still announce themselves in their PTR records. When `rdns.enabled` is
 * set, the detect thread asks this module about the client of every alert
 * whose client is outside (not in detect.home_nets or trusted_clients):
 *
 *   - a name already known comes back at once (a bounded cache with a TTL
 *     for names and a shorter one for "no name"), matched against the
 *     crawler domain list (rules/lists/NAME.domains);
 *   - an address not known yet is put on a bounded queue for the resolver
 *     thread and the alert goes out as it is: the detect thread never
 *     waits for DNS. A full queue drops the request (rdns.queue_full);
 *     the actor's next alert asks again.
 *
 * The resolver thread uses the system resolver: getnameinfo(NI_NAMEREQD)
 * for the PTR name, then getaddrinfo of that name in the same family; the
 * name counts only if the forward answer contains the address (FCrDNS: a
 * PTR alone is whatever the owner of the reverse zone wrote). Its DNS
 * timeout and retries are set on that thread's own resolver state.
 *
 * Offline determinism: with `rdns.cache_file` the cache is that file
 * ("ADDRESS NAME" lines, "ADDRESS -" for none), read once, and it is the
 * only source: no thread, no query, the same answers on every replay. A
 * live run writes what it learnt to `rdns.save_file` at exit. */
#ifndef SW_RDNS_H
#define SW_RDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/stats.h"
#include "../rules/domainlist.h"

/* The `rdns` group of the configuration. */
struct config_rdns {
    bool enabled;
    char domains[64];          /* list name: NAME.domains under detect.lists */
    char cache_file[512];      /* "" = resolve live; else the only source */
    char save_file[512];       /* "" = none; live answers written here at exit */
    unsigned queue;            /* lookups waiting for the resolver thread */
    unsigned cache_max;        /* addresses remembered (LRU beyond) */
    unsigned ttl;              /* seconds a confirmed name is kept */
    unsigned negative_ttl;     /* seconds "no (confirmed) name" is kept */
    unsigned timeout;          /* seconds per DNS try of the resolver */
};

/* What a lookup gives the alert. */
struct rdns_answer {
    char name[DOMAINLIST_NAME_MAX + 1];   /* the confirmed PTR name */
    char organisation[DOMAINLIST_LABEL_MAX];  /* its label in the crawler list */
};

/* The two questions the resolver thread asks (replaceable by tests). */
struct rdns_resolver {
    /* PTR name of the address: 0 and name; RDNS_NONE when there is none;
     * RDNS_FAILED on a timeout or any other failure. */
    int (*ptr)(void *arg, uint8_t family, const uint8_t addr[16], char *name, size_t cap);
    /* Addresses of name in family: up to max into out (16 bytes each),
     * their count, or RDNS_NONE / RDNS_FAILED. */
    int (*forward)(void *arg, const char *name, uint8_t family, uint8_t (*out)[16],
                   size_t max);
    void *arg;
};

enum { RDNS_NONE = -1, RDNS_FAILED = -2 };

/* The outcome of one FCrDNS check. */
enum rdns_outcome {
    RDNS_CONFIRMED,     /* PTR name whose forward answer has the address */
    RDNS_UNCONFIRMED,   /* a PTR name, but its forward answer does not */
    RDNS_NO_NAME,       /* no PTR record */
    RDNS_LOOKUP_FAILED, /* timeout or resolver error: not cached for long */
};

/* One FCrDNS check with res: the outcome, and the name when confirmed. */
enum rdns_outcome rdns_confirm(const struct rdns_resolver *res, uint8_t family,
                               const uint8_t addr[16], char *name, size_t cap);
/* The system resolver (getnameinfo / getaddrinfo). */
extern const struct rdns_resolver rdns_system_resolver;

struct rdns;

/* Reads the domain list (rdns.domains under the ':'-separated lists
 * directories) and, when set, the cache file. NULL with a one-line
 * "FILE:LINE: message" in err on any error. */
struct rdns *rdns_new(const struct config_rdns *cfg, const char *lists, char *err,
                      size_t errlen);
/* Replaces the resolver (before rdns_start; tests). */
void rdns_set_resolver(struct rdns *r, const struct rdns_resolver *res);
/* Starts the resolver thread (not in cache-file mode). 0 or -1. */
int rdns_start(struct rdns *r);
/* Detect thread: the confirmed crawler name of the address, when one is
 * known now (true, *out filled); else false, after queueing a lookup for
 * an address not asked about yet. Counters go to st (the caller's). */
bool rdns_attribute(struct rdns *r, struct stats *st, uint8_t family, const uint8_t addr[16],
                    struct rdns_answer *out);
/* Waits at most for the lookup in progress (queued ones are dropped), stops
 * the thread and writes rdns.save_file. 0, or -1 with err when the file
 * cannot be written. */
int rdns_stop(struct rdns *r, char *err, size_t errlen);
void rdns_free(struct rdns *r);
/* The resolver thread's counters (rdns.lookups, .confirmed, ...). */
const struct stats *rdns_thread_stats(const struct rdns *r);
/* Lookups not answered yet (queued or in progress); for tests. */
size_t rdns_pending(struct rdns *r);

#endif
