/* netlist.c - labelled network sets with longest-prefix lookup (netlist.h). */
#include "netlist.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sensor/base/text.h"

/* A trie node: children by the next address bit (0 = none: node 0 is the
 * root, never a child), and the label of the network ending here (-1 none). */
struct trie_node {
    uint32_t child[2];
    int32_t label;
};

struct trie {
    struct trie_node *nodes;
    size_t count, cap;
};

struct netlist {
    struct trie v4, v6;
    char (*labels)[NETLIST_LABEL_MAX];
    size_t label_count, label_cap;
    size_t networks;
};

int cidr_parse(const char *text, uint8_t *family, uint8_t addr[16], unsigned *prefix)
{
    char buf[64];
    size_t len = strlen(text);
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, text, len + 1);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    memset(addr, 0, 16);
    unsigned max;
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = 6;
        max = 128;
    } else {
        return -1;
    }
    *prefix = max;
    if (slash) {
        const char *p = slash + 1;
        if (!*p || strlen(p) > 3)
            return -1;
        unsigned v = 0;
        for (; *p; p++) {
            if (!isdigit((unsigned char)*p))
                return -1;
            v = v * 10 + (unsigned)(*p - '0');
        }
        if (v > max)
            return -1;
        *prefix = v;
    }
    return 0;
}

static int trie_init(struct trie *t)
{
    t->cap = 64;
    t->nodes = calloc(t->cap, sizeof(*t->nodes));
    if (!t->nodes)
        return -1;
    t->count = 1;
    t->nodes[0].label = -1;
    return 0;
}

struct netlist *netlist_new(void)
{
    struct netlist *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    if (trie_init(&n->v4) != 0 || trie_init(&n->v6) != 0) {
        netlist_free(n);
        return NULL;
    }
    return n;
}

void netlist_free(struct netlist *n)
{
    if (!n)
        return;
    free(n->v4.nodes);
    free(n->v6.nodes);
    free(n->labels);
    free(n);
}

static int bit_at(const uint8_t *addr, unsigned i)
{
    return (addr[i / 8] >> (7 - i % 8)) & 1;
}

static int netlist_label(struct netlist *n, const char *label)
{
    if (n->label_count == n->label_cap) {
        size_t cap = n->label_cap ? n->label_cap * 2 : 16;
        void *p = realloc(n->labels, cap * sizeof(*n->labels));
        if (!p)
            return -1;
        n->labels = p;
        n->label_cap = cap;
    }
    /* Labels repeat (one per organisation): reuse the last one if equal. */
    const char *l = label ? label : "";
    if (n->label_count && strncmp(n->labels[n->label_count - 1], l, NETLIST_LABEL_MAX - 1) == 0)
        return (int)(n->label_count - 1);
    snprintf(n->labels[n->label_count], NETLIST_LABEL_MAX, "%s", l);
    return (int)n->label_count++;
}

int netlist_add(struct netlist *n, uint8_t family, const uint8_t addr[16], unsigned prefix,
                const char *label)
{
    struct trie *t = family == 4 ? &n->v4 : &n->v6;
    uint32_t at = 0;
    for (unsigned i = 0; i < prefix; i++) {
        int b = bit_at(addr, i);
        if (!t->nodes[at].child[b]) {
            if (t->count == t->cap) {
                void *p = realloc(t->nodes, t->cap * 2 * sizeof(*t->nodes));
                if (!p)
                    return -1;
                t->nodes = p;
                t->cap *= 2;
            }
            t->nodes[t->count].child[0] = t->nodes[t->count].child[1] = 0;
            t->nodes[t->count].label = -1;
            t->nodes[at].child[b] = (uint32_t)t->count++;
        }
        at = t->nodes[at].child[b];
    }
    if (t->nodes[at].label >= 0)
        return 0;
    int l = netlist_label(n, label);
    if (l < 0)
        return -1;
    t->nodes[at].label = l;
    n->networks++;
    return 0;
}

int netlist_lookup(const struct netlist *n, uint8_t family, const uint8_t addr[16],
                   const char **label)
{
    const struct trie *t = family == 4 ? &n->v4 : &n->v6;
    unsigned bits = family == 4 ? 32 : 128;
    uint32_t at = 0;
    int32_t best = t->nodes[0].label;
    unsigned best_len = 0;
    for (unsigned i = 0; i < bits; i++) {
        at = t->nodes[at].child[bit_at(addr, i)];
        if (!at)
            break;
        if (t->nodes[at].label >= 0) {
            best = t->nodes[at].label;
            best_len = i + 1;
        }
    }
    if (best < 0)
        return 0;
    *label = n->labels[best];
    return (int)best_len + 1;
}

size_t netlist_size(const struct netlist *n)
{
    return n->networks;
}

/* One line of a .cidr file: "CIDR [LABEL]", '#' starts a comment. */
static int netlist_line(void *ctx, char *line, const char *path, int lineno, char *err,
                        size_t errlen)
{
    struct netlist *n = ctx;
    char *net, *p;
    if (!text_split_first(line, &net, &p))
        return 0;
    uint8_t family, addr[16];
    unsigned prefix;
    if (cidr_parse(net, &family, addr, &prefix) != 0) {
        snprintf(err, errlen, "%s:%d: '%s' is not a network (CIDR)", path, lineno, net);
        return -1;
    }
    if (netlist_add(n, family, addr, prefix, p) != 0) {
        snprintf(err, errlen, "%s:%d: out of memory", path, lineno);
        return -1;
    }
    return 0;
}

int netlist_load_file(struct netlist *n, const char *path, char *err, size_t errlen)
{
    return text_file_lines(path, "network list", 1024, netlist_line, n, err, errlen);
}

struct netlist *netlist_from_texts(const char *texts, size_t count, size_t stride,
                                   const char *what, char *err, size_t errlen)
{
    struct netlist *n = netlist_new();
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        const char *text = texts + i * stride;
        uint8_t family, addr[16];
        unsigned prefix;
        if (cidr_parse(text, &family, addr, &prefix) != 0) {
            snprintf(err, errlen, "%s: '%s' is not a network", what, text);
            netlist_free(n);
            return NULL;
        }
        if (netlist_add(n, family, addr, prefix, "") != 0) {
            snprintf(err, errlen, "out of memory");
            netlist_free(n);
            return NULL;
        }
    }
    return n;
}
