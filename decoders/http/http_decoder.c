/* http_decoder.c - the registered "http" decoder: the framer hosting the
 * HTTP-based database apps, one per flow (http_apps.c picks it). The one
 * file of decoders/http that names applications: the list they are tried
 * in. Elasticsearch is the default (first); CouchDB and Solr take a flow
 * by their own paths or by the server's answers.
 *
 * Its default ports are plain HTTP and Kibana's (5601); CouchDB (5984),
 * Solr (8983) and Elasticsearch (9200) have decoders of their own on their
 * ports. nDPI's HTTP and HTTP_Proxy (absolute URIs) select it;
 * HTTP_CONNECT does not: after the CONNECT the bytes are a tunnel,
 * usually TLS. */
#include "http.h"

#include "../couchdb/couchdb.h"
#include "../elasticsearch/elasticsearch.h"
#include "../solr/solr.h"

static const struct http_app *const http_apps[] = {
    &es_http_app, &couchdb_http_app, &solr_http_app,
};

static void *http_apps_open(struct decoder_ctx *ctx)
{
    return http_open_apps(ctx, http_apps, sizeof(http_apps) / sizeof(http_apps[0]));
}

static const uint16_t http_ports[] = { 80, 8080, 5601 };
static const char *const http_ndpi_names[] = { "HTTP", "HTTP_Proxy", NULL };

const struct decoder http_decoder = {
    .name = "http",
    .app = APP_HTTP,
    .ports = http_ports,
    .port_count = sizeof(http_ports) / sizeof(http_ports[0]),
    .ndpi_names = http_ndpi_names,
    .probe = http_probe,
    .settings = &http_settings,
    .counters = &http_counters,
    .open = http_apps_open,
    .data = http_stream_data,
    .gap = http_stream_gap,
    .end = http_stream_end,
    .close = http_stream_close,
};
