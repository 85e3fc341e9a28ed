/* netlist.h - sets of IPv4/IPv6 networks with labels, longest-prefix lookup.
 *
 * Used for the scanner network lists (rules/lists/NAME.cidr: "CIDR LABEL"
 * per line) and for detect.home_nets / detect.trusted_clients. One binary
 * trie per address family over a flat node array: a lookup walks at most 32
 * or 128 bits and remembers the last labelled node, so the longest prefix
 * wins whatever the order of the file. */
#ifndef SW_NETLIST_H
#define SW_NETLIST_H

#include <stddef.h>
#include <stdint.h>

#define NETLIST_LABEL_MAX 64

struct netlist;

/* Parses "1.2.3.0/24", "2001:db8::/32" or a bare address (full length).
 * Host bits beyond the prefix are allowed and ignored. Returns 0 and fills
 * family (4 or 6), addr (16 bytes, IPv4 in the first 4) and prefix length,
 * or -1. */
int cidr_parse(const char *text, uint8_t *family, uint8_t addr[16], unsigned *prefix);

struct netlist *netlist_new(void);
void netlist_free(struct netlist *n);
/* Adds a network; label may be NULL or "" (stored capped). A network added
 * twice keeps its first label. Returns 0, -1 when out of memory. */
int netlist_add(struct netlist *n, uint8_t family, const uint8_t addr[16], unsigned prefix,
                const char *label);
/* Loads a .cidr file. On error returns -1 with "FILE:LINE: message". */
int netlist_load_file(struct netlist *n, const char *path, char *err, size_t errlen);
/* Longest matching prefix for the address: returns its length plus one
 * (so /0 gives 1) and sets *label (never NULL, "" when the network had
 * none), or 0 when no network contains it. */
int netlist_lookup(const struct netlist *n, uint8_t family, const uint8_t addr[16],
                   const char **label);
size_t netlist_size(const struct netlist *n);
/* A new list of `count` networks given as text (detect.home_nets and the
 * like); NULL with "what: 'x' is not a network" or "out of memory" in err. */
struct netlist *netlist_from_texts(const char *texts, size_t count, size_t stride,
                                   const char *what, char *err, size_t errlen);

#endif
