/* preflight.h - --test-config: can the sensor open every file its
 * configuration names, as the user it will run as?
 *
 * Checked: the rule file and every list it uses (by loading the rules), the
 * lists directories, the JSON lines file (or its directory) for appending,
 * and the Redis spool's directory when the spool is on. When started as root
 * with sensor.user set, the checks run in a child process that has dropped
 * privileges to that user first, as the real run does after opening the
 * capture. Each problem is one line on standard error. */
#ifndef SW_PREFLIGHT_H
#define SW_PREFLIGHT_H

#include <stddef.h>

#include "config.h"

/* json_path: where events will go ("-" or "": no file). Returns the number
 * of problems found (0: every file can be opened); *rule_count is set to
 * the number of rules loaded. */
int preflight_check(const struct sw_config *cfg, const char *json_path, size_t *rule_count);

#endif
