/* apps.h - the application protocols an op or a flow can name.
 *
 * One list, named once: the id decoders put in op_record.app, the name that
 * events and rules use, and the name nDPI gives the protocol (so a flow that
 * nDPI recognises is named even when no decoder for it is compiled). The
 * list is wider than the decoders: it holds every database the sensor may
 * meet on a mirror port. Ids are small (rules keep a set of them in 32
 * bits; stats keep a counter per app, see STATS_APP_MAX). */
#ifndef SW_APPS_H
#define SW_APPS_H

#include <stdbool.h>

#include "../sensor/base/stats.h"

/* X(ID, "event and rule name", "nDPI name" or NULL, is_database) */
#define APP_LIST(X)                                              \
    X(UNKNOWN, "unknown", NULL, false)                           \
    X(HTTP, "http", "HTTP", false)                               \
    X(ELASTICSEARCH, "elasticsearch", NULL, true)                \
    X(OPENSEARCH, "opensearch", NULL, true)                      \
    X(KIBANA, "kibana", NULL, true)                              \
    X(MONGODB, "mongodb", "MongoDB", true)                       \
    X(REDIS, "redis", "Redis", true)                             \
    X(MEMCACHED, "memcached", "Memcached", true)                 \
    X(COUCHDB, "couchdb", NULL, true)                            \
    X(SOLR, "solr", NULL, true)                                  \
    X(CASSANDRA, "cassandra", "Cassandra", true)                 \
    X(MYSQL, "mysql", "MySQL", true)                             \
    X(POSTGRESQL, "postgresql", "PostgreSQL", true)              \
    X(MSSQL, "mssql", "MsSQL-TDS", true)                         \
    X(ORACLE, "oracle", "Oracle", true)

enum app_id {
#define APP_ENUM(id, name, ndpi, db) APP_##id,
    APP_LIST(APP_ENUM)
#undef APP_ENUM
    APP_COUNT
};

_Static_assert(APP_COUNT <= 32, "rules keep a set of apps in 32 bits");
_Static_assert(APP_COUNT <= STATS_APP_MAX, "stats keep a counter per app");

/* "unknown" for an id out of range. */
const char *app_name(enum app_id app);
/* APP_UNKNOWN when the name is not known. */
enum app_id app_from_name(const char *name);
/* The app nDPI calls `ndpi_name` (case-insensitive), APP_UNKNOWN if none. */
enum app_id app_from_ndpi_name(const char *ndpi_name);
/* True for database servers (what a flow event is worth emitting for). */
bool app_is_database(enum app_id app);

#endif
