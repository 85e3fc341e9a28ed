/* stats_names.c - names of stats slots (see stats_names.h). */
#include "stats_names.h"

#include <stdio.h>
#include <string.h>

#include "../decoders/decoder.h"
#include "inputs.h"

/* "interfaces.eth1.packets": live interfaces only; the interface's name
 * carries no dot of its own into the path (a VLAN "eth0.100" is
 * "eth0_100"). */
static bool stats_input_name(unsigned slot, char *buf, size_t cap)
{
    static const char *const names[] = {
#define INPUT_STAT_NAME(id, name) name,
        INPUT_STATS_LIST(INPUT_STAT_NAME)
#undef INPUT_STAT_NAME
    };
    const char *iface = inputs_name((slot - STATS_INPUT_BASE) / INPUT_STATS + 1);
    if (!iface)
        return false;
    char plain[INPUT_NAME_MAX];
    snprintf(plain, sizeof(plain), "%s", iface);
    for (char *p = strchr(plain, '.'); p; p = strchr(p, '.'))
        *p = '_';
    int n = snprintf(buf, cap, "interfaces.%s.%s", plain,
                     names[(slot - STATS_INPUT_BASE) % INPUT_STATS]);
    return n > 0 && (size_t)n < cap;
}

bool stats_slot_name(unsigned slot, char *buf, size_t cap)
{
    if (slot < STAT_COUNT) {
        snprintf(buf, cap, "%s", stats_name(slot));
        return true;
    }
    if (slot < STATS_NO_DECODER_BASE) {
        unsigned app = slot - STATS_OPS_BASE;
        if (app >= APP_COUNT)
            return false;
        /* "ops.unknown" holds ops no app claimed */
        snprintf(buf, cap, "ops.%s", app_name((enum app_id)app));
        return true;
    }
    if (slot < STATS_PROTOCOL_BASE) {
        unsigned app = slot - STATS_NO_DECODER_BASE;
        if (app >= APP_COUNT || !app_is_database((enum app_id)app))
            return false;
        snprintf(buf, cap, "no_decoder.%s", app_name((enum app_id)app));
        return true;
    }
    if (slot < STATS_INPUT_BASE)
        return decoder_counter_name(slot, buf, cap);
    return slot < STATS_SLOTS && stats_input_name(slot, buf, cap);
}
