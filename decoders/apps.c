/* apps.c - names of the application protocols (see apps.h). */
#include "apps.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    const char *ndpi_name;
    bool database;
} apps[APP_COUNT] = {
#define APP_ROW(id, name, ndpi, db) {name, ndpi, db},
    APP_LIST(APP_ROW)
#undef APP_ROW
};

const char *app_name(enum app_id app)
{
    return (unsigned)app < APP_COUNT ? apps[app].name : "unknown";
}

enum app_id app_from_name(const char *name)
{
    for (int i = 1; i < APP_COUNT; i++)
        if (strcmp(apps[i].name, name) == 0)
            return (enum app_id)i;
    return APP_UNKNOWN;
}

enum app_id app_from_ndpi_name(const char *ndpi_name)
{
    if (ndpi_name == NULL)
        return APP_UNKNOWN;
    for (int i = 1; i < APP_COUNT; i++)
        if (apps[i].ndpi_name && strcasecmp(apps[i].ndpi_name, ndpi_name) == 0)
            return (enum app_id)i;
    return APP_UNKNOWN;
}

bool app_is_database(enum app_id app)
{
    return (unsigned)app < APP_COUNT && apps[app].database;
}
