/* rdns.c - attribution by forward-confirmed reverse DNS (see rdns.h).
 *
 * Ownership: the cache (entries, hash chains, LRU list) and the queue are
 * shared by the detect thread and the resolver thread under one mutex,
 * which is never held across a DNS query: the detect thread waits at most
 * for a table update. */
#include "rdns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/hash.h"
#include "base/lru.h"
#include "base/text.h"
#include "../rules/rule.h"

#define RDNS_FORWARD_MAX 32   /* forward addresses compared with the source */

/* ENTRY_FAILED answers like ENTRY_NO_NAME until it expires, but a timeout
 * is no answer: it is never saved. */
enum entry_state { ENTRY_PENDING = 0, ENTRY_NAME, ENTRY_NO_NAME, ENTRY_FAILED };

struct rdns_entry {
    struct lru_node lru;
    uint32_t next;            /* next in its hash chain: index + 1, 0 = end */
    uint8_t family;
    uint8_t state;            /* enum entry_state */
    uint8_t addr[16];
    uint64_t expires_s;       /* monotonic seconds; UINT64_MAX = never */
    char name[DOMAINLIST_NAME_MAX + 1];
};

struct rdns_request {
    uint8_t family;
    uint8_t addr[16];
};

struct rdns {
    struct config_rdns cfg;
    struct domainlist *domains;
    struct rdns_resolver resolver;
    bool file_only;                /* rdns.cache_file: no thread, no query */
    pthread_mutex_t lock;
    pthread_cond_t wake;           /* the resolver thread: work or stop */
    pthread_cond_t idle;           /* rdns_stop: a lookup finished */
    struct rdns_entry *entries;    /* cache_max of them */
    size_t used;                   /* entries handed out so far */
    uint32_t *free_slots;          /* entries removed (expired, given up) */
    size_t free_count;
    uint32_t *buckets;             /* index + 1 of a chain's first entry */
    size_t bucket_mask;
    struct lru_list lru;           /* oldest first */
    struct rdns_request *queue;    /* ring of cfg.queue requests */
    size_t q_head, q_count;
    bool busy;                     /* the thread is in a lookup */
    bool stop;
    bool started;
    pthread_t thread;
    struct stats stats;            /* the resolver thread's own counters */
};

static uint64_t monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

static size_t addr_len(uint8_t family)
{
    return family == 4 ? 4 : 16;
}

/* ---- the FCrDNS check ---------------------------------------------------- */

static socklen_t make_sockaddr(uint8_t family, const uint8_t addr[16],
                               struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, addr, 4);
        return sizeof(*sin);
    }
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    memcpy(&sin6->sin6_addr, addr, 16);
    return sizeof(*sin6);
}

static int system_ptr(void *arg, uint8_t family, const uint8_t addr[16], char *name, size_t cap)
{
    (void)arg;
    struct sockaddr_storage ss;
    socklen_t len = make_sockaddr(family, addr, &ss);
    int rc = getnameinfo((struct sockaddr *)&ss, len, name, (socklen_t)cap, NULL, 0,
                         NI_NAMEREQD);
    if (rc == 0)
        return 0;
    return rc == EAI_NONAME ? RDNS_NONE : RDNS_FAILED;
}

static int system_forward(void *arg, const char *name, uint8_t family, uint8_t (*out)[16],
                          size_t max)
{
    (void)arg;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family == 4 ? AF_INET : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0)
        return rc == EAI_NONAME || rc == EAI_NODATA ? RDNS_NONE : RDNS_FAILED;
    size_t n = 0;
    for (const struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        memset(out[n], 0, 16);
        if (ai->ai_family == AF_INET && family == 4)
            memcpy(out[n++], &((const struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
        else if (ai->ai_family == AF_INET6 && family == 6)
            memcpy(out[n++], &((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
    }
    freeaddrinfo(res);
    return (int)n;
}

const struct rdns_resolver rdns_system_resolver = { system_ptr, system_forward, NULL };

enum rdns_outcome rdns_confirm(const struct rdns_resolver *res, uint8_t family,
                               const uint8_t addr[16], char *name, size_t cap)
{
    char ptr[DOMAINLIST_NAME_MAX + 2];
    int rc = res->ptr(res->arg, family, addr, ptr, sizeof(ptr));
    if (rc == RDNS_FAILED)
        return RDNS_LOOKUP_FAILED;
    /* A PTR that is no host name, or an address (which would "resolve" to
     * itself), names nobody. */
    uint8_t numeric[16];
    if (rc != 0 || !domain_name_valid(ptr) || inet_pton(AF_INET, ptr, numeric) == 1)
        return RDNS_NO_NAME;
    size_t n = strlen(ptr);
    if (n && ptr[n - 1] == '.')
        ptr[--n] = '\0';
    uint8_t fwd[RDNS_FORWARD_MAX][16];
    rc = res->forward(res->arg, ptr, family, fwd, RDNS_FORWARD_MAX);
    if (rc == RDNS_FAILED)
        return RDNS_LOOKUP_FAILED;
    for (int i = 0; i < rc; i++)
        if (memcmp(fwd[i], addr, addr_len(family)) == 0) {
            snprintf(name, cap, "%s", ptr);
            return RDNS_CONFIRMED;
        }
    return RDNS_UNCONFIRMED;
}

/* ---- the cache ------------------------------------------------------------ */

static size_t bucket_of(const struct rdns *r, uint8_t family, const uint8_t addr[16])
{
    uint64_t h = hash_fnv1a64_update(HASH_FNV1A64_OFFSET, &family, 1);
    h = hash_fnv1a64_update(h, addr, addr_len(family));
    return (size_t)(hash_mix64(h) & r->bucket_mask);
}

static struct rdns_entry *cache_find(struct rdns *r, uint8_t family, const uint8_t addr[16])
{
    for (uint32_t i = r->buckets[bucket_of(r, family, addr)]; i; i = r->entries[i - 1].next) {
        struct rdns_entry *e = &r->entries[i - 1];
        if (e->family == family && memcmp(e->addr, addr, addr_len(family)) == 0)
            return e;
    }
    return NULL;
}

static void cache_unchain(struct rdns *r, struct rdns_entry *e)
{
    uint32_t self = (uint32_t)(e - r->entries) + 1;
    uint32_t *link = &r->buckets[bucket_of(r, e->family, e->addr)];
    while (*link && *link != self)
        link = &r->entries[*link - 1].next;
    if (*link)
        *link = e->next;
    e->next = 0;
}

/* A fresh entry for the address: an unused one, or the least recently
 * used (counted in rdns.cache_evicted when st is given). NULL only when
 * the cache has no room at all (cache-file mode, full). */
static struct rdns_entry *cache_insert(struct rdns *r, struct stats *st, uint8_t family,
                                       const uint8_t addr[16])
{
    struct rdns_entry *e;
    if (r->free_count) {
        e = &r->entries[r->free_slots[--r->free_count]];
    } else if (r->used < r->cfg.cache_max) {
        e = &r->entries[r->used++];
    } else {
        struct lru_node *old = lru_oldest(&r->lru);
        if (!old || !st)
            return NULL;
        e = lru_entry(old, struct rdns_entry, lru);
        lru_unlink(&r->lru, &e->lru);
        cache_unchain(r, e);
        stats_inc(st, STAT_RDNS_CACHE_EVICTED);
    }
    memset(e, 0, sizeof(*e));
    e->family = family;
    memcpy(e->addr, addr, addr_len(family));
    size_t b = bucket_of(r, family, addr);
    e->next = r->buckets[b];
    r->buckets[b] = (uint32_t)(e - r->entries) + 1;
    lru_append(&r->lru, &e->lru);
    return e;
}

static void cache_remove(struct rdns *r, struct rdns_entry *e)
{
    lru_unlink(&r->lru, &e->lru);
    cache_unchain(r, e);
    r->free_slots[r->free_count++] = (uint32_t)(e - r->entries);
}

/* ---- the cache file ------------------------------------------------------- */

static int parse_addr(const char *text, uint8_t *family, uint8_t addr[16])
{
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, text, addr) == 1) {
        *family = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, text, addr) == 1) {
        *family = 6;
        return 0;
    }
    return -1;
}

/* One "ADDRESS NAME" or "ADDRESS -" line into the cache. */
static int cache_file_line(void *ctx, char *line, const char *path, int lineno,
                           char *err, size_t errlen)
{
    struct rdns *r = ctx;
    char a[64], n[DOMAINLIST_NAME_MAX + 2], extra[2];
    int fields = sscanf(line, "%63s %255s %1s", a, n, extra);
    if (fields <= 0 || a[0] == '#')
        return 0;
    uint8_t family, addr[16];
    if (fields != 2 || parse_addr(a, &family, addr) != 0
        || (strcmp(n, "-") != 0 && !domain_name_valid(n))) {
        snprintf(err, errlen, "%s:%d: expected 'ADDRESS NAME' or 'ADDRESS -'", path, lineno);
        return -1;
    }
    struct rdns_entry *e = cache_find(r, family, addr);
    if (!e && !(e = cache_insert(r, NULL, family, addr))) {
        snprintf(err, errlen, "%s:%d: more than rdns.cache_max (%u) addresses", path, lineno,
                 r->cfg.cache_max);
        return -1;
    }
    e->state = strcmp(n, "-") == 0 ? ENTRY_NO_NAME : ENTRY_NAME;
    size_t len = e->state == ENTRY_NAME ? strlen(n) : 0;
    if (len && n[len - 1] == '.')
        len--;   /* domain_name_valid: now at most DOMAINLIST_NAME_MAX */
    memcpy(e->name, n, len);
    e->name[len] = '\0';
    e->expires_s = UINT64_MAX;
    return 0;
}

static int cache_file_load(struct rdns *r, const char *path, char *err, size_t errlen)
{
    return text_file_lines(path, "rdns cache file", 512, cache_file_line, r, err, errlen);
}

/* Answers learnt (names and "none"; not lookups that failed or are still
 * running), oldest first, through a temporary file renamed over path. */
static int cache_file_save(struct rdns *r, const char *path, char *err, size_t errlen)
{
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write rdns save file: %s", tmp, strerror(errno));
        return -1;
    }
    fprintf(f, "# scrapewatch rdns cache: ADDRESS NAME (forward-confirmed) or ADDRESS -\n");
    for (struct lru_node *n = r->lru.head; n; n = n->next) {
        const struct rdns_entry *e = lru_entry(n, struct rdns_entry, lru);
        char a[INET6_ADDRSTRLEN];
        if (e->state == ENTRY_PENDING || e->state == ENTRY_FAILED
            || !inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, a, sizeof(a)))
            continue;
        fprintf(f, "%s %s\n", a, e->state == ENTRY_NAME ? e->name : "-");
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot write rdns save file: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}

/* ---- the resolver thread -------------------------------------------------- */

static void record_outcome(struct rdns *r, const struct rdns_request *q, enum rdns_outcome o,
                           const char *name)
{
    static const unsigned counter[] = {
        [RDNS_CONFIRMED] = STAT_RDNS_CONFIRMED, [RDNS_UNCONFIRMED] = STAT_RDNS_UNCONFIRMED,
        [RDNS_NO_NAME] = STAT_RDNS_NO_NAME, [RDNS_LOOKUP_FAILED] = STAT_RDNS_FAILED,
    };
    stats_inc(&r->stats, STAT_RDNS_LOOKUPS);
    stats_inc(&r->stats, counter[o]);
    pthread_mutex_lock(&r->lock);
    struct rdns_entry *e = cache_find(r, q->family, q->addr);
    if (e && e->state == ENTRY_PENDING) {
        if (o == RDNS_LOOKUP_FAILED) {
            /* A timeout is no answer: forget it, the next alert asks again
             * (after a pause, so a dead resolver is not asked per alert). */
            e->state = ENTRY_FAILED;
            e->expires_s = monotonic_s() + (r->cfg.negative_ttl < 60 ? r->cfg.negative_ttl : 60);
            e->name[0] = '\0';
        } else {
            e->state = o == RDNS_CONFIRMED ? ENTRY_NAME : ENTRY_NO_NAME;
            snprintf(e->name, sizeof(e->name), "%s", o == RDNS_CONFIRMED ? name : "");
            e->expires_s = monotonic_s()
                           + (o == RDNS_CONFIRMED ? r->cfg.ttl : r->cfg.negative_ttl);
        }
    }
    r->busy = false;
    pthread_cond_broadcast(&r->idle);
    pthread_mutex_unlock(&r->lock);
}

static void *rdns_main(void *arg)
{
    struct rdns *r = arg;
    /* This thread's own resolver state (glibc keeps _res per thread): the
     * configured timeout, one try, so a dead server costs `timeout`
     * seconds per question and never more. */
    if (res_init() == 0) {
        _res.retrans = (int)r->cfg.timeout;
        _res.retry = 1;
    }
    for (;;) {
        pthread_mutex_lock(&r->lock);
        while (!r->stop && r->q_count == 0)
            pthread_cond_wait(&r->wake, &r->lock);
        if (r->stop) {
            pthread_mutex_unlock(&r->lock);
            return NULL;
        }
        struct rdns_request q = r->queue[r->q_head];
        r->q_head = (r->q_head + 1) % r->cfg.queue;
        r->q_count--;
        r->busy = true;
        pthread_mutex_unlock(&r->lock);
        char name[DOMAINLIST_NAME_MAX + 1] = "";
        enum rdns_outcome o = rdns_confirm(&r->resolver, q.family, q.addr, name, sizeof(name));
        record_outcome(r, &q, o, name);
    }
}

/* ---- the interface -------------------------------------------------------- */

static int find_domain_list(const char *dirs, const char *name, char *path, size_t cap)
{
    return rule_list_path(dirs, name, "domains", path, cap);
}

struct rdns *rdns_new(const struct config_rdns *cfg, const char *lists, char *err,
                      size_t errlen)
{
    struct rdns *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "rdns: out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    r->resolver = rdns_system_resolver;
    r->file_only = cfg->cache_file[0] != '\0';
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    pthread_cond_init(&r->idle, NULL);
    lru_init(&r->lru);
    size_t buckets = 16;
    while (buckets < (size_t)cfg->cache_max * 2)
        buckets *= 2;
    r->bucket_mask = buckets - 1;
    r->entries = calloc(cfg->cache_max, sizeof(*r->entries));
    r->buckets = calloc(buckets, sizeof(*r->buckets));
    r->queue = calloc(cfg->queue, sizeof(*r->queue));
    r->free_slots = calloc(cfg->cache_max, sizeof(*r->free_slots));
    r->domains = domainlist_new();
    char path[1200];
    if (!r->entries || !r->buckets || !r->queue || !r->free_slots || !r->domains) {
        snprintf(err, errlen, "rdns: out of memory");
    } else if (find_domain_list(lists, cfg->domains, path, sizeof(path)) != 0) {
        snprintf(err, errlen, "rdns.domains: no domain list %s (%s.domains under %s)", path,
                 cfg->domains, lists);
    } else if (domainlist_load_file(r->domains, path, err, errlen) == 0
               && (!r->file_only || cache_file_load(r, cfg->cache_file, err, errlen) == 0)) {
        return r;
    }
    rdns_free(r);
    return NULL;
}

void rdns_set_resolver(struct rdns *r, const struct rdns_resolver *res)
{
    r->resolver = *res;
}

int rdns_start(struct rdns *r)
{
    if (r->file_only || r->started)
        return 0;
    if (pthread_create(&r->thread, NULL, rdns_main, r) != 0)
        return -1;
    r->started = true;
    return 0;
}

/* Queues a lookup for an address the cache does not know (lock held). */
static void request_lookup(struct rdns *r, struct stats *st, uint8_t family,
                           const uint8_t addr[16])
{
    if (r->q_count >= r->cfg.queue) {
        stats_inc(st, STAT_RDNS_QUEUE_FULL);
        return;
    }
    struct rdns_entry *e = cache_insert(r, st, family, addr);
    if (!e)
        return;
    e->state = ENTRY_PENDING;
    struct rdns_request *q = &r->queue[(r->q_head + r->q_count) % r->cfg.queue];
    q->family = family;
    memcpy(q->addr, addr, 16);
    r->q_count++;
    stats_inc(st, STAT_RDNS_REQUESTED);
    pthread_cond_signal(&r->wake);
}

bool rdns_attribute(struct rdns *r, struct stats *st, uint8_t family, const uint8_t addr[16],
                    struct rdns_answer *out)
{
    bool found = false;
    pthread_mutex_lock(&r->lock);
    struct rdns_entry *e = cache_find(r, family, addr);
    if (e && e->state != ENTRY_PENDING && e->expires_s != UINT64_MAX
        && monotonic_s() >= e->expires_s) {
        cache_remove(r, e);
        e = NULL;
    }
    if (!e) {
        if (!r->file_only && !r->stop)
            request_lookup(r, st, family, addr);
    } else if (e->state == ENTRY_NAME) {
        lru_unlink(&r->lru, &e->lru);
        lru_append(&r->lru, &e->lru);
        const char *label = domainlist_match(r->domains, e->name);
        if (label) {
            snprintf(out->name, sizeof(out->name), "%s", e->name);
            snprintf(out->organisation, sizeof(out->organisation), "%s", label);
            found = true;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return found;
}

size_t rdns_pending(struct rdns *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->q_count + (r->busy ? 1 : 0);
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* With a save file, the answers still coming are worth waiting for, but
 * only so long: rdns.timeout + 1 seconds in all, whatever the queue. */
static void drain_for_save(struct rdns *r)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)r->cfg.timeout + 1;
    while (r->q_count || r->busy)
        if (pthread_cond_timedwait(&r->idle, &r->lock, &deadline) == ETIMEDOUT)
            break;
}

int rdns_stop(struct rdns *r, char *err, size_t errlen)
{
    if (!r)
        return 0;
    pthread_mutex_lock(&r->lock);
    if (r->started && r->cfg.save_file[0])
        drain_for_save(r);
    r->stop = true;
    /* Queued lookups are given up: they would only delay the exit. */
    for (size_t i = 0; i < r->q_count; i++) {
        const struct rdns_request *q = &r->queue[(r->q_head + i) % r->cfg.queue];
        struct rdns_entry *e = cache_find(r, q->family, q->addr);
        if (e && e->state == ENTRY_PENDING)
            cache_remove(r, e);
        stats_inc(&r->stats, STAT_RDNS_ABANDONED);
    }
    r->q_count = 0;
    pthread_cond_broadcast(&r->wake);
    pthread_mutex_unlock(&r->lock);
    if (r->started) {
        pthread_join(r->thread, NULL);
        r->started = false;
    }
    if (r->cfg.save_file[0] && !r->file_only)
        return cache_file_save(r, r->cfg.save_file, err, errlen);
    return 0;
}

void rdns_free(struct rdns *r)
{
    if (!r)
        return;
    if (r->started) {
        char err[256];
        rdns_stop(r, err, sizeof(err));
    }
    pthread_cond_destroy(&r->wake);
    pthread_cond_destroy(&r->idle);
    pthread_mutex_destroy(&r->lock);
    domainlist_free(r->domains);
    free(r->entries);
    free(r->buckets);
    free(r->queue);
    free(r->free_slots);
    free(r);
}

const struct stats *rdns_thread_stats(const struct rdns *r)
{
    return &r->stats;
}
