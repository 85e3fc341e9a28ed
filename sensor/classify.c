/* classify.c - the one file that talks to nDPI (written against 4.2).
 *
 * When nDPI's API moves (5.x renamed init, prefs and the giveup call), this
 * is the only file to change. */
/* nDPI's headers use the BSD types u_char and u_int, which strict C11
 * hides; the Makefile defines _GNU_SOURCE, this keeps the file standalone. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "classify.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* nDPI 4.2's headers are clean under our warnings but not under -Wpedantic
 * (named variadic macros); keep that from failing a stricter build. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wvariadic-macros"
#include <ndpi_api.h>
#pragma GCC diagnostic pop

struct classifier {
    struct ndpi_detection_module_struct *ndpi;
};

/* struct classify_flow is never defined: a classify_flow pointer is an
 * ndpi_flow_struct pointer under a name that keeps nDPI out of our headers,
 * so a flow costs one allocation, not two. */
static struct ndpi_flow_struct *ndpi_flow_of(struct classify_flow *f)
{
    return (struct ndpi_flow_struct *)(void *)f;
}

/* nDPI says its module initialisation must not run in parallel. */
static pthread_mutex_t classifier_init_lock = PTHREAD_MUTEX_INITIALIZER;

struct classifier *classifier_new(void)
{
    struct classifier *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;

    pthread_mutex_lock(&classifier_init_lock);
    c->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
    if (c->ndpi != NULL) {
        NDPI_PROTOCOL_BITMASK all;
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(c->ndpi, &all);
        ndpi_set_log_level(c->ndpi, 0);
        ndpi_finalize_initialization(c->ndpi);
    }
    pthread_mutex_unlock(&classifier_init_lock);

    if (c->ndpi == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void classifier_free(struct classifier *c)
{
    if (c == NULL)
        return;
    ndpi_exit_detection_module(c->ndpi);
    free(c);
}

struct classify_flow *classify_flow_new(void)
{
    /* The library's own idea of the size, in case the installed headers and
     * library disagree; the larger one is safe for both. */
    size_t size = ndpi_detection_get_sizeof_ndpi_flow_struct();
    if (size < SIZEOF_FLOW_STRUCT)
        size = SIZEOF_FLOW_STRUCT;

    void *flow = ndpi_flow_malloc(size);
    if (flow == NULL)
        return NULL;
    memset(flow, 0, size);
    return (struct classify_flow *)flow;
}

void classify_flow_free(struct classify_flow *f)
{
    /* ndpi_flow_free frees what the flow points to, then the flow. */
    if (f != NULL)
        ndpi_flow_free(f);
}

/* nDPI reports a stack: master (e.g. HTTP) over app (e.g. a web service it
 * recognised by Host). The master is the wire protocol, so it comes first;
 * the caller tries both in that order. */
static int classify_result(struct classifier *c, ndpi_protocol proto,
                           struct classify_result *out)
{
    out->names[0] = out->names[1] = NULL;
    if (proto.master_protocol == NDPI_PROTOCOL_UNKNOWN &&
        proto.app_protocol == NDPI_PROTOCOL_UNKNOWN)
        return 0;
    size_t n = 0;
    if (proto.master_protocol != NDPI_PROTOCOL_UNKNOWN)
        out->names[n++] = ndpi_get_proto_name(c->ndpi, proto.master_protocol);
    if (proto.app_protocol != NDPI_PROTOCOL_UNKNOWN &&
        proto.app_protocol != proto.master_protocol)
        out->names[n++] = ndpi_get_proto_name(c->ndpi, proto.app_protocol);
    return 1;
}

int classify_packet(struct classifier *c, struct classify_flow *f,
                    const uint8_t *ip, size_t len, uint64_t time_ms,
                    struct classify_result *out)
{
    /* nDPI takes an unsigned short length; an IP packet never exceeds it,
     * but a capture of a GRO-merged frame can. The IP header's own length
     * bounds what nDPI reads, so passing a prefix is safe. */
    unsigned short ndpi_len = len > 65535 ? 65535 : (unsigned short)len;
    ndpi_protocol proto = ndpi_detection_process_packet(
        c->ndpi, ndpi_flow_of(f), ip, ndpi_len, time_ms);
    return classify_result(c, proto, out);
}

int classify_giveup(struct classifier *c, struct classify_flow *f,
                    struct classify_result *out)
{
    uint8_t guessed = 0;
    ndpi_protocol proto =
        ndpi_detection_giveup(c->ndpi, ndpi_flow_of(f), 0, &guessed);
    classify_result(c, proto, out);
    return 1;
}
