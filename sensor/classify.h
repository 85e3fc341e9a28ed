/* classify.h - protocol detection by payload, through nDPI.
 *
 * nDPI's API changes between versions, so it is used in classify.c and
 * nowhere else; the rest of the sensor sees only this header. A worker owns
 * one classifier; each of its flows owns a classify_flow until nDPI has
 * decided (or given up), and then frees it. */
#ifndef SW_CLASSIFY_H
#define SW_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

/* nDPI's detection module. One per worker thread; never shared. */
struct classifier;

/* nDPI's per-flow detection state (a few kilobytes). */
struct classify_flow;

/* Creates a classifier with every nDPI protocol enabled and nDPI's own
 * logging silenced. Safe to call from several threads at once (nDPI's
 * initialisation is not; classify.c serialises it). NULL on failure. */
struct classifier *classifier_new(void);
void classifier_free(struct classifier *c);

/* Zeroed per-flow state; NULL when out of memory. */
struct classify_flow *classify_flow_new(void);
void classify_flow_free(struct classify_flow *f);

/* What nDPI named: the protocols of its stack, wire protocol first (e.g.
 * "HTTP", then the web service it saw in the Host header); NULL where it
 * named none. The names are nDPI's own ("HTTP_Proxy", "Redis"),
 * valid while the classifier lives. Decoders claim them by name
 * (decoder.ndpi_names), so nDPI's numbering stays in classify.c. */
struct classify_result {
    const char *names[2];
};

/* Feeds one IP packet of the flow, both directions: `ip` points at the IPv4
 * or IPv6 header, `len` is the captured length from there, `time_ms` the
 * packet time in milliseconds. Returns 1 when nDPI has decided (out says
 * what it named; both NULL when it found nothing), 0 when it wants more
 * packets. */
int classify_packet(struct classifier *c, struct classify_flow *f,
                    const uint8_t *ip, size_t len, uint64_t time_ms,
                    struct classify_result *out);

/* Asks for nDPI's final word on a flow that used up the packets it was
 * allowed. Same convention as classify_packet, but always returns 1. No
 * guessing by port: the port map is the caller's, and lives in one place. */
int classify_giveup(struct classifier *c, struct classify_flow *f,
                    struct classify_result *out);

#endif
