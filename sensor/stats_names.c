/* stats_names.c - names of stats slots (see stats_names.h). */
#include "stats_names.h"

#include <stdio.h>

#include "../decoders/decoder.h"

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
    return slot < STATS_SLOTS && decoder_counter_name(slot, buf, cap);
}
