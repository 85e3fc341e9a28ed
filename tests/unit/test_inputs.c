/* test_inputs.c - the list of live interfaces (sensor/inputs.h): what makes
 * it wrong, and that without interfaces nothing of theirs shows in stats
 * or events. Opening and merging real interfaces is tests/live/check.py
 * (live/two_taps), which needs root and a network namespace. */
#include "../../sensor/event_json.h"
#include "../../sensor/inputs.h"
#include "../../sensor/stats_names.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static int names_ok(const char *const *names, size_t count, char *err, size_t errlen)
{
    err[0] = '\0';
    return inputs_check_names(names, count, err, errlen);
}

static void test_names_accepted(void)
{
    char err[256];
    const char *two[] = {"eth1", "eth2"};
    CHECK_EQ_INT(names_ok(two, 2, err, sizeof(err)), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(names_ok(two, 0, err, sizeof(err)), 0);
    const char *vlan[] = {"eth0.100", "nflog:5"};
    CHECK_EQ_INT(names_ok(vlan, 2, err, sizeof(err)), 0);
}

static void test_names_rejected(void)
{
    char err[256];
    const char *twice[] = {"eth1", "eth2", "eth1"};
    CHECK_EQ_INT(names_ok(twice, 3, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, "interface 'eth1' is named twice");
    const char *empty[] = {"eth1", ""};
    CHECK_EQ_INT(names_ok(empty, 2, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, "interface 2: the name is empty");
    char longer[INPUT_NAME_MAX + 1];
    memset(longer, 'x', INPUT_NAME_MAX);
    longer[INPUT_NAME_MAX] = '\0';
    const char *too_long[] = {longer};
    CHECK_EQ_INT(names_ok(too_long, 1, err, sizeof(err)), -1);
    CHECK(strstr(err, "the name is longer than 63 bytes") != NULL);
    const char *many[INPUTS_MAX + 1];
    char bufs[INPUTS_MAX + 1][8];
    for (int i = 0; i <= INPUTS_MAX; i++) {
        snprintf(bufs[i], sizeof(bufs[i]), "eth%d", i);
        many[i] = bufs[i];
    }
    CHECK_EQ_INT(names_ok(many, INPUTS_MAX, err, sizeof(err)), 0);
    CHECK_EQ_INT(names_ok(many, INPUTS_MAX + 1, err, sizeof(err)), -1);
    CHECK_EQ_STR(err, "17 interfaces: at most 16 can be captured together");
}

/* Files only: no interface names, so no "interfaces" stats and no
 * in_iface, whatever the slots or the flow say. */
static void test_nothing_without_interfaces(void)
{
    char name[128];
    CHECK(inputs_name(0) == NULL);
    CHECK(inputs_name(1) == NULL);
    CHECK(!stats_slot_name(stats_input_slot(1, INPUT_STAT_PACKETS), name, sizeof(name)));
    CHECK(!stats_slot_name(stats_input_slot(INPUTS_MAX, INPUT_STAT_UNREAD_AT_STOP), name,
                           sizeof(name)));
    CHECK_EQ_INT(stats_input_slot(INPUTS_MAX, INPUT_STAT_UNREAD_AT_STOP), STATS_SLOTS - 1);

    struct rec_flow r;
    memset(&r, 0, sizeof(r));
    r.meta.family = 4;
    r.meta.proto = 6;
    r.meta.in_iface = 1;   /* no interface 1 is open: nothing to name */
    struct json_writer w;
    json_init(&w);
    struct event_json_opts o = {"t", 256, false, NULL, 0};
    event_json_flow(&w, &o, &r);
    char *text = malloc(w.len + 1);
    if (text) {
        memcpy(text, w.buf, w.len);
        text[w.len] = '\0';
    }
    CHECK(text && strstr(text, "\"event_type\":\"flow\"") != NULL);
    CHECK(text && strstr(text, "in_iface") == NULL);
    free(text);
    json_free(&w);
}

int main(void)
{
    check_binary = "test_inputs";
    RUN(test_names_accepted);
    RUN(test_names_rejected);
    RUN(test_nothing_without_interfaces);
    CHECK_EXIT();
}
